# Stage: BUCC and Tatoeba (no training data): retrieval straight from each intermediate checkpoint
# (or the base model for `none`), one job per checkpoint for all retrieval targets (the encoder
# loaded once; each target's scores written as soon as it is done).


if RETRIEVAL_TARGETS:

    rule retrieve:
        input:
            data_input,
            encoder_input,
        output:
            scores=[
                xgrid.scores_file("{model}", "{recipe}", t, "{seed}") for t in RETRIEVAL_TARGETS
            ],
            predictions=[
                directory(xgrid.predictions_dir("{model}", "{recipe}", t, "{seed}"))
                for t in RETRIEVAL_TARGETS
            ],
        log:
            "results/logs/retrieve/{model}/{recipe}/seed{seed}.log",
        benchmark:
            "results/benchmarks/retrieve/{model}/{recipe}/seed{seed}.tsv"
        conda:
            CONDA_ENV
        threads: threads_for("retrieve")
        resources:
            **resources_for("retrieve"),
        params:
            spec=lambda w: stage_spec("retrieve", w),
        shell:
            "exec python -m xstilts retrieve --spec {params.spec:q} --threads {threads} "
            "> {log} 2>&1"

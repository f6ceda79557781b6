# Stage: BUCC and Tatoeba (no training data): retrieval straight from each intermediate checkpoint
# (or the base model for `none`), one job per checkpoint and retrieval target (a BUCC failure
# leaves Tatoeba's job alone).


if RETRIEVAL_TARGETS:

    rule retrieve:
        input:
            data_input,
            encoder_input,
        output:
            scores=xgrid.scores_file("{model}", "{recipe}", "{target}", "{seed}"),
            predictions=directory(xgrid.predictions_dir("{model}", "{recipe}", "{target}",
                                                        "{seed}")),
        wildcard_constraints:
            target=_alternatives(RETRIEVAL_TARGETS),
        params:
            spec=lambda w: stage_spec("retrieve", w),
        threads: threads_for("retrieve")
        resources:
            **resources_for("retrieve"),
        conda:
            CONDA_ENV
        benchmark:
            "results/benchmarks/retrieve/{model}/{recipe}/{target}/seed{seed}.tsv"
        log:
            "results/logs/retrieve/{model}/{recipe}/{target}/seed{seed}.log",
        shell:
            "exec python -m xstilts retrieve --spec {params.spec:q} --threads {threads} "
            "> {log} 2>&1"

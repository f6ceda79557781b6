# Stage: BUCC and Tatoeba (no training data): retrieval straight from each intermediate checkpoint
# (or the base model for `none`), one job per checkpoint for all retrieval targets (the encoder
# loaded once; each target's scores written as soon as it is done).


def retrieve_spec(wildcards):
    w = wildcards
    return spec(
        benchmark=benchmark_spec(), tasks=task_overrides(),
        upstream=upstream(w.model, w.recipe),
        encoder=xgrid.encoder_for(config, w.model, w.recipe, w.seed),
        retrieval=dict(config["retrieval"]), model=model_slice(w.model),
        ids=dict(model=w.model, intermediate=w.recipe, seed=int(w.seed)),
        targets=[
            dict(target=t, out=xgrid.scores_file(w.model, w.recipe, t, w.seed),
                 predictions=xgrid.predictions_dir(w.model, w.recipe, t, w.seed))
            for t in RETRIEVAL_TARGETS
        ],
        threads=threads_for("retrieve"),
    )


if RETRIEVAL_TARGETS:

    rule retrieve:
        input:
            data_input,
            encoder_input,
        output:
            scores=[xgrid.scores_file("{model}", "{recipe}", t, "{seed}")
                    for t in RETRIEVAL_TARGETS],
            predictions=[directory(xgrid.predictions_dir("{model}", "{recipe}", t, "{seed}"))
                         for t in RETRIEVAL_TARGETS],
        params:
            spec=retrieve_spec,
        threads: threads_for("retrieve")
        resources:
            **resources_for("retrieve"),
        conda:
            CONDA_ENV
        benchmark:
            "results/benchmarks/retrieve/{model}/{recipe}/seed{seed}.tsv"
        log:
            "results/logs/retrieve/{model}/{recipe}/seed{seed}.log",
        shell:
            "{XSTILTS} retrieve --spec {params.spec:q} > {log} 2>&1"

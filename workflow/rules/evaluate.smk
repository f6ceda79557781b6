# Stage: zero-shot evaluation, one job per fine-tuned checkpoint (all languages, model loaded once).


def finetuned_model(w):
    return xgrid.finetune_dir(w.model, w.recipe, FINETUNE_OF[w.target], w.seed)


def evaluate_spec(wildcards):
    w = wildcards
    return spec(
        target=w.target, benchmark=benchmark_spec(), tasks=task_overrides(),
        upstream={**upstream(w.model, w.recipe),
                  "finetune": xcfg.hparams(config, "target", w.target)},
        model_dir=finetuned_model(w),
        ids=dict(model=w.model, intermediate=w.recipe, seed=int(w.seed)),
        out=xgrid.scores_file(w.model, w.recipe, w.target, w.seed),
        predictions=xgrid.predictions_dir(w.model, w.recipe, w.target, w.seed),
        threads=threads_for("evaluate"),
    )


rule evaluate:
    input:
        data_input,
        finetuned_model,
    output:
        scores=xgrid.scores_file("{model}", "{recipe}", "{target}", "{seed}"),
        predictions=directory(xgrid.predictions_dir("{model}", "{recipe}", "{target}", "{seed}")),
    wildcard_constraints:
        target=_alternatives(TRAINED_TARGETS),
    params:
        spec=evaluate_spec,
    threads: threads_for("evaluate")
    resources:
        **resources_for("evaluate"),
    conda:
        CONDA_ENV
    benchmark:
        "results/benchmarks/evaluate/{model}/{recipe}/{target}/seed{seed}.tsv"
    log:
        "results/logs/evaluate/{model}/{recipe}/{target}/seed{seed}.log",
    shell:
        "{XSTILTS} evaluate --spec {params.spec:q} > {log} 2>&1"

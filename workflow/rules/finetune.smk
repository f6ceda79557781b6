# Stage (iii): fine-tuning on each target's English training data (early stopping on English dev).


def finetune_spec(wildcards):
    w = wildcards
    return spec(
        target=w.target, benchmark=benchmark_spec(), tasks=task_overrides(),
        upstream=upstream(w.model, w.recipe),
        encoder=xgrid.encoder_for(config, w.model, w.recipe, w.seed),
        hparams=xcfg.hparams(config, "target", w.target), seed=int(w.seed),
        out=xgrid.finetune_dir(w.model, w.recipe, w.target, w.seed),
        scratch=xgrid.scratch_dir("finetune", w.model, w.recipe, w.target, w.seed),
        threads=threads_for("finetune"),
    )


rule finetune:
    input:
        data_input,
        encoder_input,
    output:
        directory(xgrid.finetune_dir("{model}", "{recipe}", "{target}", "{seed}")),
    wildcard_constraints:
        target=_alternatives(FINETUNED_TARGETS),
    params:
        spec=finetune_spec,
    threads: threads_for("finetune")
    resources:
        **resources_for("finetune"),
    conda:
        CONDA_ENV
    benchmark:
        "results/benchmarks/finetune/{model}/{recipe}/{target}/seed{seed}.tsv"
    log:
        "results/logs/finetune/{model}/{recipe}/{target}/seed{seed}.log",
    shell:
        "{XSTILTS} finetune --spec {params.spec:q} --runtime-min {resources.runtime:q} > {log} 2>&1"

# Stage (iii): fine-tuning on each target's English training data (early stopping on English dev),
# fused with the zero-shot evaluation of the new checkpoint on its own target (every language):
# one job per checkpoint. Targets that share the checkpoint (MLQA: XQuAD's) are evaluated by the
# evaluate rule.


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
        evaluate=[evaluate_parts(w)],
    )


rule finetune:
    input:
        data_input,
        encoder_input,
    output:
        model=directory(xgrid.finetune_dir("{model}", "{recipe}", "{target}", "{seed}")),
        scores=xgrid.scores_file("{model}", "{recipe}", "{target}", "{seed}"),
        predictions=directory(xgrid.predictions_dir("{model}", "{recipe}", "{target}", "{seed}")),
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

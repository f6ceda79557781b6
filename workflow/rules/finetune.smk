# Stage (iii): fine-tuning on each target's English training data (early stopping on English dev),
# fused with the zero-shot evaluation of the new checkpoint on its own target (every language):
# one job per checkpoint. Targets that share the checkpoint (MLQA: XQuAD's) are evaluated by the
# evaluate rule.


rule finetune:
    input:
        data_input,
        encoder_input,
    output:
        model=directory(xgrid.finetune_dir("{model}", "{recipe}", "{target}", "{seed}")),
        scores=xgrid.scores_file("{model}", "{recipe}", "{target}", "{seed}"),
        predictions=directory(xgrid.predictions_dir("{model}", "{recipe}", "{target}", "{seed}")),
    log:
        "results/logs/finetune/{model}/{recipe}/{target}/seed{seed}.log",
    benchmark:
        "results/benchmarks/finetune/{model}/{recipe}/{target}/seed{seed}.tsv"
    wildcard_constraints:
        target=_alternatives(FINETUNED_TARGETS),
    conda:
        CONDA_ENV
    threads: threads_for("finetune")
    resources:
        **resources_for("finetune"),
    params:
        spec=lambda w: stage_spec("finetune", w),
    shell:
        "exec python -m xstilts finetune --spec {params.spec:q} --threads {threads} "
        "--runtime-min {resources.runtime:q} > {log} 2>&1"

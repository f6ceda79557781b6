# Stage (iii): fine-tuning on each target's English training data (early stopping on English dev).


rule finetune:
    input:
        data_input,
        encoder_input,
    output:
        directory(xgrid.finetune_dir("{model}", "{recipe}", "{target}", "{seed}")),
    wildcard_constraints:
        target=_alternatives(FINETUNED_TARGETS),
    params:
        spec=lambda w: stage_spec("finetune", w),
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
        "exec python -m xstilts finetune --spec {params.spec:q} --threads {threads} "
        "--runtime-min {resources.runtime:q} > {log} 2>&1"

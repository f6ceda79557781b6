# Stage: zero-shot evaluation, one job per fine-tuned checkpoint (all languages, model loaded once).


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
        spec=lambda w: stage_spec("evaluate", w),
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
        "exec python -m xstilts evaluate --spec {params.spec:q} --threads {threads} > {log} 2>&1"

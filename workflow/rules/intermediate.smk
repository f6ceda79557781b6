# Stage (ii): intermediate training, once per model x recipe x seed; reused by every target.


rule intermediate:
    input:
        data_input,
        lambda w: base_input(w.model),
    output:
        directory(xgrid.intermediate_dir("{model}", "{recipe}", "{seed}")),
        xgrid.intermediate_dev_file("{model}", "{recipe}", "{seed}"),
    log:
        "results/logs/intermediate/{model}/{recipe}/seed{seed}.log",
    benchmark:
        "results/benchmarks/intermediate/{model}/{recipe}/seed{seed}.tsv"
    wildcard_constraints:
        recipe=_alternatives(set(RECIPES) - {xcfg.NONE_RECIPE}),
    conda:
        CONDA_ENV
    threads: threads_for("intermediate")
    resources:
        **resources_for("intermediate"),
    params:
        spec=lambda w: stage_spec("intermediate", w),
    shell:
        "exec python -m xstilts intermediate --spec {params.spec:q} --threads {threads} "
        "--runtime-min {resources.runtime:q} > {log} 2>&1"

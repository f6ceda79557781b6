# Stage (i): base models that the workflow builds itself (the embedded default's tiny encoder and
# the no-pretraining control). Models given by path or hub name need no job. `export: true`
# models are copied with their provenance to assets/models/ by `export_models`.


rule pretrain:
    input:
        pretrain_inputs,
    output:
        directory(xgrid.base_model_dir("{model}")),
    wildcard_constraints:
        model=_alternatives(BUILT_MODELS),
    params:
        spec=lambda w: stage_spec("pretrain", w),
    threads: threads_for("pretrain")
    resources:
        **resources_for("pretrain"),
    conda:
        CONDA_ENV
    benchmark:
        "results/benchmarks/pretrain/{model}.tsv"
    log:
        "results/logs/pretrain/{model}.log",
    shell:
        "exec python -m xstilts pretrain --spec {params.spec:q} --threads {threads} "
        "--runtime-min {resources.runtime:q} > {log} 2>&1"


rule export_model:
    input:
        xgrid.base_model_dir("{model}"),
    output:
        directory(xgrid.exported_model_dir("{model}")),
    wildcard_constraints:
        model=_alternatives(EXPORTED_MODELS),
    params:
        spec=lambda w: stage_spec("export", w),
    localrule: True
    conda:
        CONDA_ENV
    log:
        "results/logs/export/{model}.log",
    shell:
        "exec python -m xstilts export --spec {params.spec:q} --threads {threads} > {log} 2>&1"


rule export_models:
    input:
        [xgrid.exported_model_dir(m) for m in EXPORTED_MODELS],

# Stage (i): base models that the workflow builds itself (the embedded default's tiny encoder and
# the no-pretraining control). Models given by path or hub name need no job. `export: true`
# models are copied with their provenance to assets/models/ by `export_models`.


rule pretrain:
    input:
        pretrain_inputs,
    output:
        directory(xgrid.base_model_dir("{model}")),
    log:
        "results/logs/pretrain/{model}.log",
    benchmark:
        "results/benchmarks/pretrain/{model}.tsv"
    wildcard_constraints:
        model=_alternatives(BUILT_MODELS),
    conda:
        CONDA_ENV
    threads: threads_for("pretrain")
    resources:
        **resources_for("pretrain"),
    params:
        spec=lambda w: stage_spec("pretrain", w),
    shell:
        "exec python -m xstilts pretrain --spec {params.spec:q} --threads {threads} "
        "--runtime-min {resources.runtime:q} > {log} 2>&1"


rule export_model:
    input:
        xgrid.base_model_dir("{model}"),
    output:
        directory(xgrid.exported_model_dir("{model}")),
    log:
        "results/logs/export/{model}.log",
    wildcard_constraints:
        model=_alternatives(EXPORTED_MODELS),
    localrule: True
    conda:
        CONDA_ENV
    params:
        spec=lambda w: stage_spec("export", w),
    shell:
        "exec python -m xstilts export --spec {params.spec:q} --threads {threads} > {log} 2>&1"


rule export_models:
    input:
        [xgrid.exported_model_dir(m) for m in EXPORTED_MODELS],

# Stage (i): base models that the workflow builds itself (the embedded default's tiny encoder and
# the no-pretraining control). Models given by path or hub name need no job.


def pretrain_inputs(wildcards):
    entry = config["models"][wildcards.model]
    if entry["init"] == "random":
        return data_input() + base_input(entry["tokenizer_from"])
    return data_input()


def pretrain_spec(wildcards):
    entry = config["models"][wildcards.model]
    parts = dict(model=entry, benchmark=benchmark_spec(), tasks=task_overrides(), seed=0,
                 out=xgrid.base_model_dir(wildcards.model), threads=threads_for("pretrain"),
                 scratch=xgrid.scratch_dir("pretrain", wildcards.model))
    if entry["init"] == "random":
        parts["tokenizer_dir"] = xgrid.base_model_path(config, entry["tokenizer_from"])
    else:
        parts["hparams"] = xcfg.hparams(config, "pretrain")
    return spec(**parts)


rule pretrain:
    input:
        pretrain_inputs,
    output:
        directory(xgrid.base_model_dir("{model}")),
    wildcard_constraints:
        model=_alternatives(BUILT_MODELS),
    params:
        spec=pretrain_spec,
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
        "{XSTILTS} pretrain --spec {params.spec:q} --runtime-min {resources.runtime:q} > {log} 2>&1"


# Shipping a pretrained base model: `export: true` on an `init: pretrain` model copies it, with
# provenance.json (config slice, seed, code version, sha256 of every file), to assets/models/.
# The embedded default's tiny model is regenerated this way (see README).
EXPORTED_MODELS = [m for m, e in config["models"].items() if e.get("export")]
REGENERATE_TINY = (
    "snakemake export_models --forcerun export_model --cores all --configfile config.yaml "
    "config/studies.yaml config/pretrain-tiny.yaml"
)


def export_spec(wildcards):
    entry = config["models"][wildcards.model]
    return spec(model_name=wildcards.model, model=entry, benchmark=config["benchmark"],
                hparams=xcfg.hparams(config, "pretrain"), seed=0,
                threads=threads_for("pretrain"), checkout=workflow.basedir,
                base=xgrid.base_model_dir(wildcards.model),
                out=xgrid.exported_model_dir(wildcards.model),
                command=REGENERATE_TINY)


rule export_model:
    input:
        xgrid.base_model_dir("{model}"),
    output:
        directory(xgrid.exported_model_dir("{model}")),
    wildcard_constraints:
        model=_alternatives(EXPORTED_MODELS),
    params:
        spec=export_spec,
    localrule: True
    conda:
        CONDA_ENV
    log:
        "results/logs/export/{model}.log",
    shell:
        "{XSTILTS} export --spec {params.spec:q} > {log} 2>&1"


rule export_models:
    input:
        [xgrid.exported_model_dir(m) for m in EXPORTED_MODELS],

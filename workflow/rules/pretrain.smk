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
        "{XSTILTS} pretrain --spec {params.spec:q} > {log} 2>&1"

# Stage (ii): intermediate training, once per model x recipe x seed; reused by every target.


def intermediate_spec(wildcards):
    recipe = RECIPES[wildcards.recipe]
    hp = intermediate_hparams(wildcards.recipe)
    return spec(
        model=model_slice(wildcards.model),
        recipe=recipe, benchmark=benchmark_spec(), tasks=task_overrides(),
        targets=config["targets"] if recipe["mlm"] or recipe["translated"] else [],
        base=xgrid.base_model_path(config, wildcards.model), hparams=hp, seed=int(wildcards.seed),
        out=xgrid.intermediate_dir(wildcards.model, wildcards.recipe, wildcards.seed),
        dev_out=xgrid.intermediate_dev_file(wildcards.model, wildcards.recipe, wildcards.seed),
        model_name=wildcards.model, recipe_name=wildcards.recipe,
        scratch=xgrid.scratch_dir("intermediate", wildcards.model, wildcards.recipe, wildcards.seed),
        threads=threads_for("intermediate"),
    )


rule intermediate:
    input:
        data_input,
        lambda w: base_input(w.model),
    output:
        directory(xgrid.intermediate_dir("{model}", "{recipe}", "{seed}")),
        xgrid.intermediate_dev_file("{model}", "{recipe}", "{seed}"),
    wildcard_constraints:
        recipe=_alternatives(set(RECIPES) - {xcfg.NONE_RECIPE}),
    params:
        spec=intermediate_spec,
    threads: threads_for("intermediate")
    resources:
        **resources_for("intermediate"),
    conda:
        CONDA_ENV
    benchmark:
        "results/benchmarks/intermediate/{model}/{recipe}/seed{seed}.tsv"
    log:
        "results/logs/intermediate/{model}/{recipe}/seed{seed}.log",
    shell:
        "{XSTILTS} intermediate --spec {params.spec:q} --runtime-min {resources.runtime:q} > {log} 2>&1"

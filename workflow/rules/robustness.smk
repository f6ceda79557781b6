# Stage: zero-shot evaluation of fine-tuned checkpoints on the perturbed test sets, and the
# robustness tables and figure (clean vs perturbed, adversarial vs clean intermediate training).


rule robustness:
    input:
        data_input,
        finetuned_model,
        lambda w: xgrid.perturbed_dir(w.target),
        lambda w: xgrid.scores_file(w.model, w.recipe, w.target, w.seed),
    output:
        xgrid.robustness_file("{model}", "{recipe}", "{target}", "{seed}"),
    log:
        "results/logs/robustness/{model}/{recipe}/{target}/seed{seed}.log",
    benchmark:
        "results/benchmarks/robustness/{model}/{recipe}/{target}/seed{seed}.tsv"
    conda:
        CONDA_ENV
    threads: threads_for("evaluate")
    resources:
        **resources_for("evaluate"),
    params:
        spec=lambda w: stage_spec("robustness", w),
    shell:
        "exec python -m xstilts robustness --spec {params.spec:q} --threads {threads} "
        "> {log} 2>&1"


ROBUSTNESS_FILES = xgrid.robustness_files(config)
# the studied recipes' entries (adversarial recipes are paired with their clean counterparts)
ROBUSTNESS_RECIPES = {
    r: RECIPES[r] for m in config["models"] for r in xcfg.study_recipes(config, "robustness", m)
}


localrules:
    robustness_tables,


rule robustness_tables:
    input:
        files=ROBUSTNESS_FILES,
    output:
        tables=report(
            directory(f"{xgrid.TABLES}/robustness"),
            patterns=["{name}.csv"],
            category="Robustness",
            subcategory="Tables",
            caption="../report/robustness.rst",
        ),
        figures=report(
            directory(f"{xgrid.FIGURES}/robustness"),
            patterns=["{name}.png"],
            category="Robustness",
            subcategory="Figures",
            caption="../report/robustness.rst",
        ),
    log:
        "results/logs/robustness_tables.log",
    conda:
        CONDA_ENV
    params:
        recipes=lambda w: xcfg.canonical_json(ROBUSTNESS_RECIPES),
    shell:
        "python -m xstilts.studies.robustness --tables {output.tables:q} --figures {output.figures:q} "
        "--recipes {params.recipes:q} {input.files:q} > {log} 2>&1"

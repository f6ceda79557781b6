# Stage: zero-shot evaluation of fine-tuned checkpoints on the perturbed test sets, and the
# robustness tables and figure (clean vs perturbed, adversarial vs clean intermediate training).


def robustness_spec(wildcards):
    w = wildcards
    return spec(
        target=w.target, benchmark=benchmark_spec(), tasks=task_overrides(),
        upstream={**upstream(w.model, w.recipe),
                  "finetune": xcfg.hparams(config, "target", w.target)},
        suite=robustness_settings(),
        model_dir=finetuned_model(w),
        perturbed=f"{xgrid.perturbed_dir(w.target)}/manifest.json",
        clean_scores=xgrid.scores_file(w.model, w.recipe, w.target, w.seed),
        ids=dict(model=w.model, intermediate=w.recipe, seed=int(w.seed)),
        out=xgrid.robustness_file(w.model, w.recipe, w.target, w.seed),
        threads=threads_for("evaluate"),
    )


rule robustness:
    input:
        data_input,
        finetuned_model,
        lambda w: xgrid.perturbed_dir(w.target),
        lambda w: xgrid.scores_file(w.model, w.recipe, w.target, w.seed),
    output:
        xgrid.robustness_file("{model}", "{recipe}", "{target}", "{seed}"),
    params:
        spec=robustness_spec,
    threads: threads_for("evaluate")
    resources:
        **resources_for("evaluate"),
    conda:
        CONDA_ENV
    benchmark:
        "results/benchmarks/robustness/{model}/{recipe}/{target}/seed{seed}.tsv"
    log:
        "results/logs/robustness/{model}/{recipe}/{target}/seed{seed}.log",
    shell:
        "{XSTILTS} robustness --spec {params.spec:q} > {log} 2>&1"


ROBUSTNESS_FILES = xgrid.robustness_files(config)
# the studied recipes' entries (adversarial recipes are paired with their clean counterparts)
ROBUSTNESS_RECIPES = {r: RECIPES[r] for m in config["models"]
                      for r in xcfg.study_recipes(config, "robustness", m)}

localrules:
    robustness_tables,


rule robustness_tables:
    input:
        files=ROBUSTNESS_FILES,
    output:
        tables=report(directory(f"{xgrid.TABLES}/robustness"), patterns=["{name}.csv"],
                      category="Robustness", subcategory="Tables", caption="../report/robustness.rst"),
        figures=report(directory(f"{xgrid.FIGURES}/robustness"), patterns=["{name}.png"],
                       category="Robustness", subcategory="Figures", caption="../report/robustness.rst"),
    params:
        recipes=lambda w: xcfg.canonical_json(ROBUSTNESS_RECIPES),
    conda:
        CONDA_ENV
    log:
        "results/logs/robustness_tables.log",
    shell:
        "{PYTHON} -m xstilts.studies.robustness --tables {output.tables:q} --figures {output.figures:q} "
        "--recipes {params.recipes:q} {input.files:q} > {log} 2>&1"

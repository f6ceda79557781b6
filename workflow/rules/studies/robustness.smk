# Study: robustness (src/xstilts/studies/robustness/, config key `robustness:`). The offline
# perturbation suite, precomputed once per target so that every checkpoint sees identical
# perturbed test sets; zero-shot evaluation of fine-tuned checkpoints on it; the report: tables
# and figures (clean vs perturbed, adversarial vs clean intermediate training).

# the perturbation suite's settings (without the studied recipes and targets)
PERTURB = {k: v for k, v in config["robustness"].items() if k not in ("recipes", "targets")}
# the model whose tokenizer gives sub-word swaps: the configured one, else the first
PERTURB_MODEL = config["robustness"]["tokenizer"] or next(iter(config["models"]))
ROBUSTNESS_FILES = xgrid.robustness_files(config)
# the studied recipes (the report pairs adversarial recipes with their clean counterparts)
ROBUSTNESS_RECIPES = sorted(
    {r for m in config["models"] for r in xcfg.study_recipes(config, "robustness", m)}
)


rule perturb:
    input:
        data_input,
        base_input(PERTURB_MODEL),
    output:
        directory(xgrid.perturbed_dir("{target}")),
    log:
        "results/logs/perturb/{target}.log",
    conda:
        STUDY_CONDA_ENV
    resources:
        **resources_for("perturb"),
    params:
        spec=lambda w: spec_json(
            "perturb",
            dict(
                target=w.target,
                benchmark=benchmark_spec(),
                tasks=task_overrides(),
                operations=PERTURB["operations"],
                severities=PERTURB["severities"],
                seed=PERTURB["seed"],
                max_examples=PERTURB.get("max_examples"),
                tokenizer=xgrid.base_model_path(config, PERTURB_MODEL),
                upstream={"model": model_slice(PERTURB_MODEL)},
                out=xgrid.perturbed_dir(w.target),
            ),
        ),
    shell:
        "exec python -m xstilts perturb --spec {params.spec:q} --threads {threads} > {log} 2>&1"


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
        STUDY_CONDA_ENV
    threads: threads_for("evaluate")
    resources:
        **resources_for("evaluate"),
    params:
        spec=lambda w: spec_json(
            "robustness",
            dict(
                target=w.target,
                benchmark=benchmark_spec(),
                tasks=task_overrides(),
                upstream={**finetuned_upstream(w), "perturb": PERTURB},
                model_path=finetuned_model(w),
                perturbed=f"{xgrid.perturbed_dir(w.target)}/manifest.json",
                clean_scores=xgrid.scores_file(w.model, w.recipe, w.target, w.seed),
                ids=ids(w),
                out=xgrid.robustness_file(w.model, w.recipe, w.target, w.seed),
            ),
        ),
    shell:
        "exec python -m xstilts robustness --spec {params.spec:q} --threads {threads} "
        "> {log} 2>&1"


localrules:
    robustness_report,


rule robustness_report:
    input:
        files=ROBUSTNESS_FILES,
    output:
        tables=report(
            directory(f"{xgrid.TABLES}/robustness"),
            patterns=["{name}.csv"],
            category="Robustness",
            subcategory="Tables",
            caption="../../report/robustness.rst",
        ),
        figures=report(
            directory(f"{xgrid.FIGURES}/robustness"),
            patterns=["{name}.png"],
            category="Robustness",
            subcategory="Figures",
            caption="../../report/robustness.rst",
        ),
    log:
        "results/logs/robustness_report.log",
    conda:
        STUDY_CONDA_ENV
    params:
        spec=lambda w: spec_json(
            "robustness-report",
            dict(
                files=list(ROBUSTNESS_FILES),
                tables=f"{xgrid.TABLES}/robustness",
                figures=f"{xgrid.FIGURES}/robustness",
                recipes={r: RECIPES[r] for r in ROBUSTNESS_RECIPES},
            ),
        ),
    shell:
        "exec python -m xstilts robustness-report --spec {params.spec:q} --threads {threads} "
        "> {log} 2>&1"


if ROBUSTNESS_FILES:
    STUDY_OUTPUTS.append(rules.robustness_report.output)

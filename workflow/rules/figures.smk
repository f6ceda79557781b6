# Stage: the paper's figures, regenerated from the tidy scores table alone.

FIGURE_NAMES = (["improvement_heatmap"] if COMPARISON else []) + ["xtreme_average"] + [
    f"per_language_{t}" for t in config["targets"]
]


def per_language_recipes():
    """The configured recipes that are in the grid (all recipes when none of them is)."""
    wanted = (config.get("figures") or {}).get("per_language_recipes") or []
    in_grid = {r for m in config["models"] for r in xcfg.model_recipes(config, m)}
    return [r for r in wanted if r in in_grid]


localrules:
    figures,


def language_table():
    """Families for grouping languages: mini-XTREME's table ("": URIEL's families)."""
    return f"{xgrid.SYNTHETIC_DIR}/languages.csv" if SYNTHETIC else ""


rule figures:
    input:
        tidy=rules.aggregate.output.tidy,
        data=data_input,
    output:
        [
            report(f"{xgrid.FIGURES}/{name}.png", category="Figures", caption="../report/figures.rst")
            for name in FIGURE_NAMES
        ],
        [f"{xgrid.FIGURES}/{name}.pdf" for name in FIGURE_NAMES],
    conda:
        CONDA_ENV
    params:
        per_language=lambda w: ",".join(per_language_recipes()),
        languages=language_table(),
    log:
        "results/logs/figures.log",
    shell:
        "{PYTHON} -m xstilts.analysis.figures --tidy {input.tidy:q} --out {xgrid.FIGURES} "
        "--per-language-recipes={params.per_language:q} --languages={params.languages:q} "
        "> {log} 2>&1"

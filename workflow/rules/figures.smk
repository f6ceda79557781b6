# Stage: the paper's figures, regenerated from the tidy scores table alone.

FIGURE_NAMES = (["improvement_heatmap"] if COMPARISON else []) + ["xtreme_average"] + [
    f"per_language_{t}" for t in config["targets"]
]


localrules:
    figures,


rule figures:
    input:
        rules.aggregate.output.tidy,
    output:
        [
            report(f"{xgrid.FIGURES}/{name}.png", category="Figures", caption="../report/figures.rst")
            for name in FIGURE_NAMES
        ],
        [f"{xgrid.FIGURES}/{name}.pdf" for name in FIGURE_NAMES],
    conda:
        CONDA_ENV
    log:
        "results/logs/figures.log",
    shell:
        "{PYTHON} -m xstilts.figures --tidy {input} --out {xgrid.FIGURES} > {log} 2>&1"

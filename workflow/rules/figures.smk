# Stage: the paper's figures, regenerated from the tidy scores table alone.

FIGURE_NAMES = (
    (["improvement_heatmap"] if COMPARISON else [])
    + ["xtreme_average"]
    + [f"per_language_{t}" for t in config["targets"]]
)


localrules:
    figures,


rule figures:
    input:
        tidy=rules.aggregate.output.tidy,
        data=data_input,
    output:
        [
            report(
                f"{xgrid.FIGURES}/{name}.png",
                category="Figures",
                caption="../report/figures.rst",
            )
            for name in FIGURE_NAMES
        ],
        [f"{xgrid.FIGURES}/{name}.pdf" for name in FIGURE_NAMES],
    log:
        "results/logs/figures.log",
    conda:
        CONDA_ENV
    params:
        out=lambda w, output: os.path.dirname(output[0]),
        per_language=lambda w: ",".join(per_language_recipes()),
        languages=language_table(),
    shell:
        "python -m xstilts.analysis.figures --tidy {input.tidy:q} --out {params.out:q} "
        "--per-language-recipes={params.per_language:q} --languages={params.languages:q} "
        "> {log} 2>&1"

# Stage: aggregation of every score file into tidy, XTREME, improvement and per-language tables.

TABLE_NAMES = ["xtreme", "improvement"] + [f"per_language_{t}" for t in config["targets"]]
TABLE_FILES = [f"{xgrid.TABLES}/{name}.{ext}" for name in TABLE_NAMES for ext in ("csv", "md", "tex")]


localrules:
    aggregate,


rule aggregate:
    input:
        xgrid.score_files(config),
    output:
        tidy=f"{xgrid.TABLES}/tidy.csv",
        tables=TABLE_FILES,
    conda:
        CONDA_ENV
    log:
        "results/logs/aggregate.log",
    shell:
        "{PYTHON} -m xstilts.aggregate --out {xgrid.TABLES} {input} > {log} 2>&1"

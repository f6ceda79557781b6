# Stage: aggregation of every score file into tidy, XTREME, improvement and per-language tables.

TABLE_NAMES = (
    ["xtreme"]
    + (["improvement"] if COMPARISON else [])
    + [f"per_language_{t}" for t in config["targets"]]
)
TABLE_FILES = [table_file(name, ext) for name in TABLE_NAMES for ext in ("csv", "md", "tex")]


localrules:
    aggregate,


rule aggregate:
    input:
        scores=xgrid.score_files(config),
        dev=xgrid.intermediate_dev_files(config),
    output:
        tidy=f"{xgrid.TABLES}/tidy.csv",
        tables=TABLE_FILES,
        dev=[table_file("intermediate_dev", "csv"), f"{xgrid.TABLES}/intermediate_dev.md"],
    log:
        "results/logs/aggregate.log",
    conda:
        CONDA_ENV
    params:
        out=lambda w, output: os.path.dirname(output.tidy),
    shell:
        "python -m xstilts.analysis.scores --out {params.out:q} {input.scores:q} --intermediate-dev {input.dev:q} > {log} 2>&1"

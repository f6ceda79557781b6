# Stage: aggregation of every score file into tidy, XTREME, improvement and per-language tables.

TABLE_NAMES = (["xtreme"] + (["improvement"] if COMPARISON else [])
               + [f"per_language_{t}" for t in config["targets"]])


def table_file(name, ext):
    path = f"{xgrid.TABLES}/{name}.{ext}"
    if ext != "csv":
        return path
    return report(path, category="Tables", caption="../report/tables.rst")


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
    conda:
        CONDA_ENV
    log:
        "results/logs/aggregate.log",
    shell:
        "{PYTHON} -m xstilts.analysis.scores --out {xgrid.TABLES} {input.scores} --intermediate-dev {input.dev} > {log} 2>&1"

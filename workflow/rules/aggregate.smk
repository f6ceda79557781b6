# Stage: aggregation of every score file into tidy, XTREME, improvement (with paired bootstrap
# intervals over test examples, from the predictions and mini-XTREME's labels), findings and
# per-language tables.

TABLE_NAMES = (
    ["xtreme"]
    + (["improvement"] if COMPARISON else [])
    + [f"per_language_{t}" for t in config["targets"]]
)
TABLE_FILES = [table_file(name, ext) for name in TABLE_NAMES for ext in ("csv", "md", "tex")]
# the intervals resample test examples: they need every run's predictions and the gold labels
BOOTSTRAP = SYNTHETIC and COMPARISON


localrules:
    aggregate,


rule aggregate:
    input:
        scores=xgrid.score_files(config),
        dev=xgrid.intermediate_dev_files(config),
        predictions=(
            [
                xgrid.predictions_dir(m, r, t, s)
                for m, r, s in xgrid.grid(config)
                for t in config["targets"]
            ]
            if BOOTSTRAP
            else []
        ),
        labels=[xgrid.labels_dir(t) for t in config["targets"]] if BOOTSTRAP else [],
    output:
        tidy=f"{xgrid.TABLES}/tidy.csv",
        tables=TABLE_FILES,
        findings=(
            [table_file("findings", "csv"), f"{xgrid.TABLES}/findings.md"] if COMPARISON else []
        ),
        dev=[table_file("intermediate_dev", "csv"), f"{xgrid.TABLES}/intermediate_dev.md"],
    log:
        "results/logs/aggregate.log",
    conda:
        CONDA_ENV
    params:
        out=lambda w, output: os.path.dirname(output.tidy),
        bootstrap=(
            [
                "--predictions",
                f"{xgrid.RESULTS}/predictions",
                "--labels",
                f"{xgrid.RESULTS}/labels",
                "--synthetic",
            ]
            if BOOTSTRAP
            else ["--bootstrap", "0"]
        ),
        recipes=recipe_kinds(),
        tasks=json.dumps(task_overrides(), sort_keys=True),
    shell:
        "python -m xstilts.analysis.scores --out {params.out:q} {params.bootstrap:q} "
        "--recipes {params.recipes:q} --tasks {params.tasks:q} {input.scores:q} "
        "--intermediate-dev {input.dev:q} > {log} 2>&1"

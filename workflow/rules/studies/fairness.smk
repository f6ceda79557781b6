# Study: fairness (src/xstilts/studies/fairness/, config key `fairness:`). The fairness report
# across language families, from the tidy scores (and, for bootstrap intervals over examples,
# the predictions and gold labels).

FAIRNESS = config["fairness"]


localrules:
    fairness_report,


rule fairness_report:
    input:
        tidy=rules.aggregate.output.tidy,
        labels=[xgrid.labels_dir(t) for t in config["targets"]] if SYNTHETIC else [],
    output:
        report(
            directory(f"{xgrid.RESULTS}/fairness"),
            patterns=["{name}.png", "{name}.csv"],
            category="Fairness",
            caption="../../report/fairness.rst",
        ),
    log:
        "results/logs/fairness_report.log",
    conda:
        STUDY_CONDA_ENV
    params:
        spec=lambda w: spec_json(
            "fairness-report",
            dict(
                scores=f"{xgrid.TABLES}/tidy.csv",
                predictions_root=f"{xgrid.RESULTS}/predictions",
                labels_root=f"{xgrid.RESULTS}/labels" if SYNTHETIC else None,
                languages=f"{xgrid.SYNTHETIC_DIR}/languages.csv" if SYNTHETIC else None,
                bootstrap=FAIRNESS["bootstrap"],
                seed=FAIRNESS["seed"],
                out=f"{xgrid.RESULTS}/fairness",
            ),
        ),
    shell:
        "exec python -m xstilts fairness-report --spec {params.spec:q} --threads {threads} > {log} 2>&1"


if FAIRNESS["enabled"]:
    STUDY_OUTPUTS.append(rules.fairness_report.output)

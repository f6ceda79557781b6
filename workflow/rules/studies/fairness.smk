# Stage: the fairness report across language families, from the tidy scores (and, for bootstrap
# intervals over examples, the predictions and gold labels).


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
            caption="../report/fairness.rst",
        ),
    log:
        "results/logs/fairness_report.log",
    conda:
        CONDA_ENV
    params:
        spec=lambda w: stage_spec("fairness-report", w),
    shell:
        "exec python -m xstilts fairness-report --spec {params.spec:q} --threads {threads} > {log} 2>&1"

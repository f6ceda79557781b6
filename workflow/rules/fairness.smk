# Stage: fairness across language families, from the tidy scores (and, for bootstrap intervals
# over examples, the predictions and gold labels).


localrules:
    fairness,


rule fairness:
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
        "results/logs/fairness.log",
    conda:
        CONDA_ENV
    params:
        spec=lambda w: stage_spec("fairness", w),
    shell:
        "exec python -m xstilts fairness --spec {params.spec:q} --threads {threads} > {log} 2>&1"

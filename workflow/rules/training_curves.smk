# Report figure: training loss and dev-score curves per job group, from each training job's
# train_log.json (intermediate: one figure per model, a line per recipe and seed; fine-tuning:
# one per model and target, a line per recipe and seed).

TRAINING_CURVES = training_curve_groups()


localrules:
    training_curves,


rule training_curves:
    input:
        [
            os.path.dirname(p)
            for runs in TRAINING_CURVES.values()
            for logs in runs.values()
            for p in logs
        ],
    output:
        [
            report(
                f"{xgrid.FIGURES}/training/{group}.png",
                category="Training curves",
                caption="../report/training_curves.rst",
            )
            for group in TRAINING_CURVES
        ],
    log:
        "results/logs/training_curves.log",
    conda:
        CONDA_ENV
    params:
        out=lambda w: f"{xgrid.FIGURES}/training",
        groups=lambda w: xcfg.canonical_json(TRAINING_CURVES),
    shell:
        "python -m xstilts.analysis.training_curves --out {params.out:q} "
        "--groups {params.groups:q} > {log} 2>&1"

# Report figure: training loss and dev-score curves per job group, from each training job's
# train_log.json (intermediate: one figure per model, a line per recipe and seed; fine-tuning:
# one per model and target, a line per recipe and seed).


def training_curve_groups():
    """{group: {recipe: [train_log.json per seed]}} of the grid's training jobs."""
    groups = {}
    for model, recipe, seed in xgrid.grid(config):
        if recipe != xcfg.NONE_RECIPE:
            log = os.path.join(xgrid.intermediate_dir(model, recipe, seed), "train_log.json")
            groups.setdefault(f"intermediate_{model}", {}).setdefault(recipe, []).append(log)
        for target in FINETUNED_TARGETS:
            log = os.path.join(xgrid.finetune_dir(model, recipe, target, seed), "train_log.json")
            groups.setdefault(f"finetune_{model}_{target}", {}).setdefault(recipe, []).append(log)
    return groups


TRAINING_CURVES = training_curve_groups()


localrules:
    training_curves,


rule training_curves:
    input:
        [os.path.dirname(p) for runs in TRAINING_CURVES.values() for logs in runs.values()
         for p in logs],
    output:
        [
            report(f"{xgrid.FIGURES}/training/{group}.png", category="Training curves",
                   caption="../report/training_curves.rst")
            for group in TRAINING_CURVES
        ],
    params:
        groups=lambda w: spec(**TRAINING_CURVES),
    conda:
        CONDA_ENV
    log:
        "results/logs/training_curves.log",
    shell:
        "{PYTHON} -m xstilts.analysis.training_curves --out {xgrid.FIGURES}/training "
        "--groups {params.groups:q} > {log} 2>&1"

# Stage: zero-shot evaluation of fine-tuned checkpoints on the perturbed test sets, and the
# robustness report: tables and figures (clean vs perturbed, adversarial vs clean intermediate
# training).


rule robustness:
    input:
        data_input,
        finetuned_model,
        lambda w: xgrid.perturbed_dir(w.target),
        lambda w: xgrid.scores_file(w.model, w.recipe, w.target, w.seed),
    output:
        xgrid.robustness_file("{model}", "{recipe}", "{target}", "{seed}"),
    log:
        "results/logs/robustness/{model}/{recipe}/{target}/seed{seed}.log",
    benchmark:
        "results/benchmarks/robustness/{model}/{recipe}/{target}/seed{seed}.tsv"
    conda:
        CONDA_ENV
    threads: threads_for("evaluate")
    resources:
        **resources_for("evaluate"),
    params:
        spec=lambda w: stage_spec("robustness", w),
    shell:
        "exec python -m xstilts robustness --spec {params.spec:q} --threads {threads} "
        "> {log} 2>&1"


ROBUSTNESS_FILES = xgrid.robustness_files(config)


localrules:
    robustness_report,


rule robustness_report:
    input:
        files=ROBUSTNESS_FILES,
    output:
        tables=report(
            directory(f"{xgrid.TABLES}/robustness"),
            patterns=["{name}.csv"],
            category="Robustness",
            subcategory="Tables",
            caption="../report/robustness.rst",
        ),
        figures=report(
            directory(f"{xgrid.FIGURES}/robustness"),
            patterns=["{name}.png"],
            category="Robustness",
            subcategory="Figures",
            caption="../report/robustness.rst",
        ),
    log:
        "results/logs/robustness_report.log",
    conda:
        CONDA_ENV
    params:
        spec=lambda w: stage_spec("robustness-report", w),
    shell:
        "exec python -m xstilts robustness-report --spec {params.spec:q} --threads {threads} "
        "> {log} 2>&1"

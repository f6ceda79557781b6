# Stage: cross-lingual alignment per layer of the base model and every intermediate checkpoint
# (retrieval accuracy, linear CKA, centred cosine of parallel pairs), clean and perturbed, and
# the alignment report: its tables and figures.


rule alignment:
    input:
        data_input,
        encoder_input,
    output:
        xgrid.alignment_file("{model}", "{recipe}", "{seed}"),
    log:
        "results/logs/alignment/{model}/{recipe}/seed{seed}.log",
    benchmark:
        "results/benchmarks/alignment/{model}/{recipe}/seed{seed}.tsv"
    conda:
        CONDA_ENV
    threads: threads_for("retrieve")
    resources:
        **resources_for("retrieve"),
    params:
        spec=lambda w: stage_spec("alignment", w),
    shell:
        "exec python -m xstilts alignment --spec {params.spec:q} --threads {threads} "
        "> {log} 2>&1"


ALIGNMENT_FILES = xgrid.alignment_files(config)


localrules:
    alignment_report,


rule alignment_report:
    input:
        files=ALIGNMENT_FILES,
        tidy=rules.aggregate.output.tidy,
    output:
        tables=report(
            directory(f"{xgrid.TABLES}/alignment"),
            patterns=["{name}.csv"],
            category="Alignment",
            subcategory="Tables",
            caption="../report/alignment.rst",
        ),
        figures=report(
            directory(f"{xgrid.FIGURES}/alignment"),
            patterns=["{name}.png"],
            category="Alignment",
            subcategory="Figures",
            caption="../report/alignment.rst",
        ),
    log:
        "results/logs/alignment_report.log",
    conda:
        CONDA_ENV
    params:
        spec=lambda w: stage_spec("alignment-report", w),
    shell:
        "exec python -m xstilts alignment-report --spec {params.spec:q} --threads {threads} "
        "> {log} 2>&1"

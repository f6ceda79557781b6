# Stage: cross-lingual alignment per layer of the base model and every intermediate checkpoint
# (retrieval accuracy, linear CKA, centred cosine of parallel pairs), clean and perturbed.


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
    alignment_tables,


rule alignment_tables:
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
        "results/logs/alignment_tables.log",
    conda:
        CONDA_ENV
    shell:
        "python -m xstilts.studies.alignment --tidy {input.tidy:q} "
        "--tables {output.tables:q} --figures {output.figures:q} {input.files:q} > {log} 2>&1"

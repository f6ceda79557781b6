# Study: alignment (src/xstilts/studies/alignment/, config key `alignment:`). Cross-lingual
# alignment per layer of the base model and every intermediate checkpoint (retrieval accuracy,
# linear CKA, centred cosine of parallel pairs), clean and perturbed, and the alignment report:
# its tables and figures.

ALIGNMENT = config["alignment"]
ALIGNMENT_FILES = xgrid.alignment_files(config)


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
        STUDY_CONDA_ENV
    threads: threads_for("retrieve")
    resources:
        **resources_for("retrieve"),
    params:
        spec=lambda w: spec_json(
            "alignment",
            dict(
                benchmark=benchmark_spec(),
                tasks=task_overrides(),
                upstream=upstream(w.model, w.recipe),
                model_path=xgrid.encoder_for(config, w.model, w.recipe, w.seed),
                limit=ALIGNMENT["limit"],
                perturbations=ALIGNMENT["perturbations"],
                tokenizer=xgrid.base_model_path(config, w.model),
                seed=int(w.seed),
                ids=ids(w),
                out=xgrid.alignment_file(w.model, w.recipe, w.seed),
            ),
        ),
    shell:
        "exec python -m xstilts alignment --spec {params.spec:q} --threads {threads} "
        "> {log} 2>&1"


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
            caption="../../report/alignment.rst",
        ),
        figures=report(
            directory(f"{xgrid.FIGURES}/alignment"),
            patterns=["{name}.png"],
            category="Alignment",
            subcategory="Figures",
            caption="../../report/alignment.rst",
        ),
    log:
        "results/logs/alignment_report.log",
    conda:
        STUDY_CONDA_ENV
    params:
        spec=lambda w: spec_json(
            "alignment-report",
            dict(
                files=list(ALIGNMENT_FILES),
                tables=f"{xgrid.TABLES}/alignment",
                figures=f"{xgrid.FIGURES}/alignment",
                scores=f"{xgrid.TABLES}/tidy.csv",
            ),
        ),
    shell:
        "exec python -m xstilts alignment-report --spec {params.spec:q} --threads {threads} "
        "> {log} 2>&1"


if ALIGNMENT_FILES:
    STUDY_OUTPUTS.append(rules.alignment_report.output)

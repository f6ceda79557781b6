# Stage: cross-lingual alignment per layer of the base model and every intermediate checkpoint
# (retrieval accuracy, linear CKA, centred cosine of parallel pairs), clean and perturbed.


def alignment_spec(wildcards):
    w = wildcards
    settings = config["alignment"]
    return spec(
        benchmark=benchmark_spec(), tasks=task_overrides(), upstream=upstream(w.model, w.recipe),
        encoder=xgrid.encoder_for(config, w.model, w.recipe, w.seed),
        limit=settings["limit"], perturbations=settings["perturbations"],
        tokenizer=xgrid.base_model_path(config, w.model), seed=int(w.seed),
        ids=dict(model=w.model, intermediate=w.recipe, seed=int(w.seed)),
        out=xgrid.alignment_file(w.model, w.recipe, w.seed), threads=threads_for("retrieve"),
    )


rule alignment:
    input:
        data_input,
        encoder_input,
    output:
        xgrid.alignment_file("{model}", "{recipe}", "{seed}"),
    params:
        spec=alignment_spec,
    threads: threads_for("retrieve")
    resources:
        **resources_for("retrieve"),
    conda:
        CONDA_ENV
    benchmark:
        "results/benchmarks/alignment/{model}/{recipe}/seed{seed}.tsv"
    log:
        "results/logs/alignment/{model}/{recipe}/seed{seed}.log",
    shell:
        "{XSTILTS} alignment --spec {params.spec:q} > {log} 2>&1"


ALIGNMENT_FILES = xgrid.alignment_files(config)

localrules:
    alignment_tables,


rule alignment_tables:
    input:
        files=ALIGNMENT_FILES,
        tidy=rules.aggregate.output.tidy,
    output:
        tables=report(directory(f"{xgrid.TABLES}/alignment"), patterns=["{name}.csv"],
                      category="Alignment", subcategory="Tables", caption="../report/alignment.rst"),
        figures=report(directory(f"{xgrid.FIGURES}/alignment"), patterns=["{name}.png"],
                       category="Alignment", subcategory="Figures", caption="../report/alignment.rst"),
    conda:
        CONDA_ENV
    log:
        "results/logs/alignment_tables.log",
    shell:
        "{PYTHON} -m xstilts.studies.alignment --tidy {input.tidy:q} "
        "--tables {output.tables:q} --figures {output.figures:q} {input.files:q} > {log} 2>&1"

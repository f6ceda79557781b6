# Stage: the benchmark. mini-XTREME is generated; real data (hub / xtreme_dir) is read in place.


if SYNTHETIC:

    rule generate_benchmark:
        output:
            directory(xgrid.SYNTHETIC_DIR),
        log:
            "results/logs/data/generate_benchmark.log",
        conda:
            CONDA_ENV
        params:
            spec=lambda w: stage_spec("data", w),
        shell:
            "exec python -m xstilts data --spec {params.spec:q} --threads {threads} > {log} 2>&1"

    rule labels:
        input:
            data_input,
        output:
            directory(xgrid.labels_dir("{target}")),
        log:
            "results/logs/labels/{target}.log",
        conda:
            CONDA_ENV
        params:
            spec=lambda w: stage_spec("labels", w),
        shell:
            "exec python -m xstilts labels --spec {params.spec:q} --threads {threads} > {log} 2>&1"

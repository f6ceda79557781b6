# Stage: the benchmark. mini-XTREME is generated; real data (hub / xtreme_dir) is read in place.


if SYNTHETIC:

    rule generate_benchmark:
        output:
            directory(xgrid.SYNTHETIC_DIR),
        params:
            spec=lambda w: spec(out=xgrid.SYNTHETIC_DIR, synthetic=config["benchmark"]["synthetic"]),
        conda:
            CONDA_ENV
        log:
            "results/logs/data/generate_benchmark.log",
        shell:
            "{XSTILTS} data --spec {params.spec:q} > {log} 2>&1"

    rule labels:
        input:
            data_input,
        output:
            directory(xgrid.labels_dir("{target}")),
        params:
            spec=lambda w: spec(target=w.target, benchmark=benchmark_spec(), tasks=task_overrides(),
                                out=xgrid.labels_dir(w.target), threads=1),
        conda:
            CONDA_ENV
        log:
            "results/logs/labels/{target}.log",
        shell:
            "{XSTILTS} labels --spec {params.spec:q} > {log} 2>&1"

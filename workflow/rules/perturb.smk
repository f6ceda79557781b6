# Stage: the offline perturbation suite, precomputed once per target so that every checkpoint
# sees identical perturbed test sets.


rule perturb:
    input:
        data_input,
        lambda w: base_input(perturb_tokenizer_model()),
    output:
        directory(xgrid.perturbed_dir("{target}")),
    log:
        "results/logs/perturb/{target}.log",
    conda:
        CONDA_ENV
    resources:
        **resources_for("perturb"),
    params:
        spec=lambda w: stage_spec("perturb", w),
    shell:
        "exec python -m xstilts perturb --spec {params.spec:q} --threads {threads} > {log} 2>&1"

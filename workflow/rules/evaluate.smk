# Stage: zero-shot evaluation of a fine-tuned checkpoint (all languages, model loaded once). A
# checkpoint's own target is evaluated inside its fine-tuning job (finetune.smk); this rule scores
# the targets that reuse another target's checkpoint (MLQA with XQuAD's SQuAD model).

SHARED_TARGETS = [t for t in TRAINED_TARGETS if FINETUNE_OF[t] != t]


if SHARED_TARGETS:

    rule evaluate:
        input:
            data_input,
            finetuned_model,
        output:
            scores=xgrid.scores_file("{model}", "{recipe}", "{target}", "{seed}"),
            predictions=directory(
                xgrid.predictions_dir("{model}", "{recipe}", "{target}", "{seed}")
            ),
        log:
            "results/logs/evaluate/{model}/{recipe}/{target}/seed{seed}.log",
        benchmark:
            "results/benchmarks/evaluate/{model}/{recipe}/{target}/seed{seed}.tsv"
        wildcard_constraints:
            target=_alternatives(SHARED_TARGETS),
        conda:
            CONDA_ENV
        threads: threads_for("evaluate")
        resources:
            **resources_for("evaluate"),
        params:
            spec=lambda w: stage_spec("evaluate", w),
        shell:
            "exec python -m xstilts evaluate --spec {params.spec:q} --threads {threads} "
            "> {log} 2>&1"

# Stage: zero-shot evaluation of a fine-tuned checkpoint (all languages, model loaded once). A
# checkpoint's own target is evaluated inside its fine-tuning job (finetune.smk); this rule scores
# the targets that reuse another target's checkpoint (MLQA with XQuAD's SQuAD model).

SHARED_TARGETS = [t for t in TRAINED_TARGETS if FINETUNE_OF[t] != t]


def finetuned_model(w):
    return xgrid.finetune_dir(w.model, w.recipe, FINETUNE_OF[w.target], w.seed)


def evaluate_parts(w):
    """The evaluation spec of checkpoint `w` on target `w.target` (a dict, for fused jobs)."""
    return dict(
        target=w.target, benchmark=benchmark_spec(), tasks=task_overrides(),
        upstream={**upstream(w.model, w.recipe),
                  "finetune": xcfg.hparams(config, "target", w.target)},
        model_dir=finetuned_model(w),
        ids=dict(model=w.model, intermediate=w.recipe, seed=int(w.seed)),
        out=xgrid.scores_file(w.model, w.recipe, w.target, w.seed),
        predictions=xgrid.predictions_dir(w.model, w.recipe, w.target, w.seed),
        threads=threads_for("evaluate"),
    )


def evaluate_spec(wildcards):
    return spec(**evaluate_parts(wildcards))


if SHARED_TARGETS:

    rule evaluate:
        input:
            data_input,
            finetuned_model,
        output:
            scores=xgrid.scores_file("{model}", "{recipe}", "{target}", "{seed}"),
            predictions=directory(xgrid.predictions_dir("{model}", "{recipe}", "{target}",
                                                        "{seed}")),
        wildcard_constraints:
            target=_alternatives(SHARED_TARGETS),
        params:
            spec=evaluate_spec,
        threads: threads_for("evaluate")
        resources:
            **resources_for("evaluate"),
        conda:
            CONDA_ENV
        benchmark:
            "results/benchmarks/evaluate/{model}/{recipe}/{target}/seed{seed}.tsv"
        log:
            "results/logs/evaluate/{model}/{recipe}/{target}/seed{seed}.log",
        shell:
            "{XSTILTS} evaluate --spec {params.spec:q} > {log} 2>&1"

"""Stage `alignment`: per-layer cross-lingual alignment of one encoder checkpoint, clean and
perturbed.

spec (`specs.AlignmentSpec`) = {model_path (the encoder), benchmark, tasks?, languages?, limit?
(200), pairs? ("tatoeba" | "bucc2018"), max_length? (128), device? (default the job's GPU, else
the CPU), precision? (default bf16 autocast on a GPU), perturbations? ([{op, severity}]),
tokenizer? (the perturbations' sub-word vocabulary; default the encoder's), seed (of the
perturbations), ids, upstream?, out}.

Writes `out` (JSON, atomically): {**ids, encoder (= model_path), pairs, split, limit, layers
(L: the metric lists have L + 1 entries, 0 = embeddings), retrieval_layer, metrics, num_pairs:
{lang: n}, perturbations: [names], skipped_perturbations: [names], languages: {lang: {clean: {acc,
acc_centered, cka, cosine}, perturbed: {"<op>-<severity>": {...}}}}}. Missing values (a CKA
with no variance) are null.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import xstilts.perturb
from xstilts.stages.common import log, setup, source_of, write_json
from xstilts.stages.specs import DEFAULT_JOB, Job
from xstilts.studies.alignment.measure import METRICS, Perturb
from xstilts.studies.alignment.specs import AlignmentSpec


def perturbation_name(op: str, severity: Any) -> str:
    return f"{op}-{severity}"


def perturb_functions(specs: Sequence[Mapping[str, Any]], source: Mapping[str, Any], seed: int,
                      task: str = "tatoeba", tokenizer_dir: str | None = None,
                      module: Any | None = None) -> dict[str, Perturb]:
    """{"<op>-<severity>": perturb(texts, ids, lang)} through `xstilts.perturb` (or `module`).

    Each text is perturbed with key (seed, task, lang, id, op), as the perturb stage does for
    the task's test sets; a callable returns None for a language where the op does not apply.
    """
    if not specs:
        return {}
    module = module if module is not None else xstilts.perturb
    ops = tuple(module.OPERATIONS)
    contexts: dict[str, Any] = {}

    def context(lang: str, texts: list[str]) -> Any:
        if lang not in contexts:  # the texts fill the alphabet where no MLM text exists
            contexts[lang] = module.PerturbContext.build(lang, dict(source),
                                                         tokenizer_dir=tokenizer_dir,
                                                         texts=list(texts))
        return contexts[lang]

    def make(op: str, severity: Any) -> Perturb:
        def perturb(texts: list[str], ids: list[str], lang: str) -> list[str] | None:
            ctx = context(lang, texts)
            if not module.applicable(op, ctx, "retrieval"):
                return None
            return [module.perturb_text(text, op, severity, ctx, (seed, task, lang, i, op))
                    for text, i in zip(texts, ids, strict=True)]

        return perturb

    out: dict[str, Perturb] = {}
    for k, item in enumerate(specs):
        if not isinstance(item, Mapping) or not {"op", "severity"} <= set(item):
            raise ValueError(f"alignment spec: perturbations[{k}] must be {{op, severity}}, "
                             f"got {item!r}")
        op = str(item["op"])
        if ops and op not in ops:
            raise ValueError(f"alignment spec: perturbations[{k}].op '{op}' is not one of {ops}")
        out[perturbation_name(op, item["severity"])] = make(op, item["severity"])
    return out


def _clean_json(value: Any) -> Any:
    """NaN -> None (strict JSON), recursively."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_json(v) for v in value]
    return value


def run(spec: AlignmentSpec | dict, job: Job = DEFAULT_JOB,
        perturbations: Mapping[str, Perturb] | None = None) -> dict[str, Any]:
    """Run the stage; `perturbations` (name -> callable) replaces spec.perturbations."""
    spec = AlignmentSpec.parse(spec)
    threads = job.threads
    setup(threads)
    from xstilts.engine.retrieval import load_retrieval_encoder
    from xstilts.grid.layers import default_layer
    from xstilts.studies.alignment.measure import alignment_metrics, pairs_split, parallel_pairs
    from xstilts.tasks.registry import get_task

    source = source_of(spec.benchmark)
    task = spec.pairs
    limit = spec.limit
    pairs = parallel_pairs(source, task, spec.languages, limit, tasks=spec.tasks)
    if not pairs:
        raise ValueError("alignment spec: no languages to align with English")
    wanted: list[str] = []
    if perturbations is None:
        wanted = [perturbation_name(p.get("op"), p.get("severity"))
                  for p in spec.perturbations if isinstance(p, Mapping)]
        perturbations = perturb_functions(spec.perturbations, source, spec.seed, task,
                                          tokenizer_dir=spec.tokenizer or spec.model_path)
    encoder = load_retrieval_encoder(spec.model_path, spec.device, spec.precision)
    results = alignment_metrics(pairs, encoder, perturbations, max_length=spec.max_length,
                                threads=threads, log=log.info)
    split = pairs_split(get_task(task, spec.tasks))
    out = {
        **spec.ids,
        "encoder": spec.model_path,
        "pairs": task,
        "split": split,
        "limit": limit,
        "layers": encoder.num_layers,
        "retrieval_layer": default_layer(encoder.num_layers),
        "metrics": list(METRICS),
        "num_pairs": {lang: len(p.texts) for lang, p in pairs.items()},
        "perturbations": sorted(perturbations),
        "skipped_perturbations": sorted(set(wanted) - set(perturbations)),
        "languages": results,
    }
    out = _clean_json(out)
    write_json(spec.out, out)
    mid = out["retrieval_layer"]
    log.info("alignment at layer %d (acc_centered): %s", mid,
             ", ".join(f"{lang} {r['clean']['acc_centered'][mid]:.1f}"
                       for lang, r in results.items()))
    return out

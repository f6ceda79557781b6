"""Stage: BUCC and Tatoeba retrieval straight from an encoder (no training data).

The layer is `retrieval_layer_for(spec["model"], L, spec["retrieval"]["layer"])`: the model
entry's `retrieval_layer` > the global `retrieval.layer` > a known-model default > the middle-ish
`default_layer(L)`. `spec["model"]` (the `models.<model>` entry) is optional.
"""

from __future__ import annotations

import time
from pathlib import Path

from xstilts.provenance import collect as collect_provenance
from xstilts.provenance import format_metrics
from xstilts.stages.common import languages_of, log, setup, source_of, task_of, write_json


def _inputs(task, source):
    from xstilts.data.load import load_split

    by_lang = {}
    for lang in languages_of(task, source):
        if lang == "en":
            continue
        by_lang[lang] = {
            split: load_split(task, split, lang, source)
            for split in ("validation", "test")
            if split in task.splits
        }
    return by_lang


def _retrieve_per_language(task, by_lang: dict, encoder, layer: int, settings: dict,
                           threads: int) -> dict:
    """`run_retrieval` one language at a time (languages are independent), logging each."""
    from xstilts.engine.retrieval import run_retrieval

    merged: dict = {"metrics": {}, "predictions": {}}
    for i, (lang, splits) in enumerate(by_lang.items(), 1):
        started = time.monotonic()
        one = run_retrieval(task.name, {lang: splits}, encoder, layer=layer,
                            pooling=settings["pooling"], max_length=settings["max_length"],
                            threads=threads, sweep_layers=settings["sweep_layers"],
                            metric=task.metric)
        merged["metrics"][lang] = one["metrics"][lang]
        merged["predictions"][lang] = one["predictions"][lang]
        for key in ("layer", "pooling", "num_layers"):
            if key in one:
                merged[key] = one[key]
        for li, per_lang in (one.get("layers") or {}).items():
            merged.setdefault("layers", {}).setdefault(li, {}).update(per_lang)
        log.info("%s [%d/%d] %s: %s (%.1f s)", task.name, i, len(by_lang), lang,
                 format_metrics(one["metrics"][lang]), time.monotonic() - started)
    return merged


def run(spec: dict) -> None:
    setup(spec["threads"])
    from xstilts.data.schema import DataError
    from xstilts.engine.retrieval import load_encoder, retrieval_layer_for
    from xstilts.submission import write_predictions

    source = source_of(spec)
    settings = spec["retrieval"]
    encoder = load_encoder(spec["encoder"])
    layer = retrieval_layer_for(spec.get("model") or {}, encoder.num_layers, settings.get("layer"))
    provenance = collect_provenance(spec["threads"])
    for target in spec["targets"]:
        task = task_of(spec, target)
        by_lang = _inputs(task, source)
        if not by_lang:
            raise DataError(f"task '{task.name}': no languages given")
        log.info("%s: layer %d of %d, %s pooling, %d languages", task.name, layer,
                 encoder.num_layers, settings["pooling"], len(by_lang))
        result = _retrieve_per_language(task, by_lang, encoder, layer, settings,
                                        spec["threads"])
        pred_root = Path(spec["predictions"][target]).parent
        for lang, predictions in result["predictions"].items():
            write_predictions(task.name, lang, predictions, pred_root)
        extra = {k: result[k] for k in ("layer", "pooling", "num_layers", "layers") if k in result}
        write_json(
            spec["out"][target],
            {
                **spec["ids"],
                "target": task.name,
                "task_metric": task.metric,
                "languages": result["metrics"],
                "retrieval": extra,
                "provenance": provenance,
            },
        )
        log.info("%s: done, %d languages", task.name, len(result["metrics"]))

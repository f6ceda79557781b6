"""Stage: one retrieval target (BUCC or Tatoeba) straight from an encoder (no training data).

The layer is `retrieval_layer_for(spec["model"], L, spec["retrieval"]["layer"])`: the model
entry's `retrieval_layer` > the global `retrieval.layer` > a known-model default > the middle-ish
`default_layer(L)`. `spec["model"]` (the `models.<model>` entry) is optional. The encoder runs on
`spec["device"]` (default: the job's GPU if it has one, else the CPU) in `spec["precision"]`
(default bf16 autocast on a GPU, fp32 on the CPU), and only up to the retrieval layer.

Predictions are always written (Tatoeba in XTREME's order, ready for submission). A score is
written only when it can be trusted: Tatoeba without gold (the official download withholds it)
gets a score file with no languages and a `refused` reason; BUCC is scored on test when its gold
is given, else on dev (`split`); BUCC from a source without its distractors is refused.
"""

from __future__ import annotations

import time
from pathlib import Path

from xstilts.data.languages import languages_of
from xstilts.data.schema import DataError
from xstilts.data.withheld import reported_split
from xstilts.io.provenance import collect as collect_provenance
from xstilts.io.provenance import format_metrics
from xstilts.stages.common import log, setup, source_of, task_of, write_json


def mining_source_error(task, source: dict) -> str | None:
    """Why `task` cannot be mined from `source` (None if it can): the hub's BUCC configs
    (`google/xtreme` `bucc18.*`) hold only the gold pairs, none of BUCC's non-parallel
    sentences, so mining them gives inflated F1 that is not comparable with BUCC's."""
    if task.metric == "bucc_f1" and source["kind"] == "hub":
        return (f"task '{task.name}': the hub's BUCC (google/xtreme bucc18.*) has only the "
                "gold pairs, none of BUCC's distractors: its F1 would not be BUCC's; use "
                "benchmark.source: xtreme_dir with download_data.sh's bucc2018/ folder")
    return None


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
                           threads: int, report: str) -> dict:
    """`run_retrieval` one language at a time (languages are independent), logging each;
    `report`: the split scored (one for all languages); languages without gold in `withheld`."""
    from xstilts.engine.retrieval import run_retrieval

    merged: dict = {"metrics": {}, "predictions": {}, "withheld": []}
    for i, (lang, splits) in enumerate(by_lang.items(), 1):
        started = time.monotonic()
        one = run_retrieval(task.name, {lang: splits}, encoder, layer=layer,
                            pooling=settings["pooling"], max_length=settings["max_length"],
                            threads=threads, sweep_layers=settings["sweep_layers"],
                            metric=task.metric, report=report)
        merged["predictions"][lang] = one["predictions"][lang]
        merged["withheld"] += one.get("withheld") or []
        if lang in one["metrics"]:
            merged["metrics"][lang] = one["metrics"][lang]
        for key in ("layer", "pooling", "num_layers"):
            if key in one:
                merged[key] = one[key]
        for li, per_lang in (one.get("layers") or {}).items():
            merged.setdefault("layers", {}).setdefault(li, {}).update(per_lang)
        shown = format_metrics(one["metrics"][lang]) if lang in one["metrics"] else "gold withheld"
        log.info("%s [%d/%d] %s: %s (%.1f s)", task.name, i, len(by_lang), lang, shown,
                 time.monotonic() - started)
    return merged


def run(spec: dict) -> None:
    setup(spec["threads"])
    from xstilts.analysis.submission import write_predictions
    from xstilts.engine.retrieval import bucc_report_split, load_retrieval_encoder
    from xstilts.grid.layers import retrieval_layer_for

    source = source_of(spec)
    task = task_of(spec, spec["target"])
    problem = mining_source_error(task, source)
    if problem:
        raise DataError(problem)
    settings = spec["retrieval"]
    encoder = load_retrieval_encoder(spec["encoder"], spec.get("device"), spec.get("precision"))
    layer = retrieval_layer_for(spec.get("model") or {}, encoder.num_layers, settings.get("layer"))
    inputs = _inputs(task, source)
    # BUCC: one reported split for every language: `benchmark.eval_split` when it is set for
    # BUCC, else test only when every test gold is given (auto)
    report = "test"
    if task.metric == "bucc_f1":
        bench = spec.get("benchmark") or {}
        chosen = reported_split(bench, task.name) if bench.get("eval_split") else "auto"
        report = bucc_report_split(inputs) if chosen == "auto" else chosen
    if not inputs:
        raise DataError(f"task '{task.name}': no languages given")
    log.info("%s: layer %d of %d, %s pooling, %d languages", task.name, layer,
             encoder.num_layers, settings["pooling"], len(inputs))
    result = _retrieve_per_language(task, inputs, encoder, layer, settings, spec["threads"],
                                    report)
    pred_root = Path(spec["predictions"]).parent
    for lang, predictions in result["predictions"].items():
        write_predictions(task.name, lang, predictions, pred_root)
    extra = {k: result[k] for k in ("layer", "pooling", "num_layers", "layers") if k in result}
    scores = {**spec["ids"], "target": task.name, "task_metric": task.metric,
              "split": report, "languages": result["metrics"], "retrieval": extra,
              "provenance": collect_provenance(spec["threads"])}
    if result["withheld"]:
        reason = (f"{task.name}: not scored, no gold for {', '.join(result['withheld'])}: "
                  f"{_withheld_hint(task)}; predictions written to {pred_root / task.name}")
        scores.update(languages={}, refused=reason)
        log.error("%s", reason)
    elif report != "test":
        log.warning("%s: test gold withheld (download_data.sh deletes bucc2018/*test.gold): "
                    "reporting dev F1 at the dev-optimised threshold", task.name)
    write_json(spec["out"], scores)
    log.info("%s: done, %d languages scored on %s", task.name, len(scores["languages"]), report)


def _withheld_hint(task) -> str:
    from xstilts.data.xtreme_dir import TATOEBA_WITHHELD

    return TATOEBA_WITHHELD if task.metric == "retrieval_accuracy" else "gold withheld"

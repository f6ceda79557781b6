"""Stage: zero-shot evaluation of one fine-tuned checkpoint on every language of its target."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from xstilts.data.languages import languages_of
from xstilts.io.provenance import collect as collect_provenance
from xstilts.io.provenance import format_metrics
from xstilts.stages.common import (
    log,
    setup,
    source_of,
    task_of,
    write_json,
)
from xstilts.tasks.registry import TaskSpec


def references(task: TaskSpec, ds: Any) -> Any:
    """Gold values of a canonical test split, in the form `xstilts.metrics.compute` takes."""
    if task.format == "classification":
        return [ds.features["label"].int2str(int(i)) for i in ds["label"]]
    if task.format == "tagging":
        names = ds.features["tags"].feature
        return [[names.int2str(int(i)) for i in row] for row in ds["tags"]]
    if task.format == "qa":
        from xstilts.metrics.qa import records_to_squad

        return records_to_squad(ds)
    if task.format == "multiple_choice":
        return [int(i) for i in ds["label"]]
    if task.format == "retrieval":
        return retrieval_references(task, ds)
    raise ValueError(f"task '{task.name}': format {task.format} is not evaluated by fine-tuning")


def retrieval_references(task: TaskSpec, ds: Any) -> Any:
    """BUCC: gold (source_id, target_id) pairs; Tatoeba: XTREME's labels, the gold source row
    per English sentence in the order of XTREME's sorted English file."""
    from xstilts.data.schema import DataError
    from xstilts.metrics.retrieval import tatoeba_xtreme_order

    pairs = list(zip(ds["gold"]["source_id"], ds["gold"]["target_id"], strict=True))
    if task.metric == "bucc_f1":
        return pairs
    gold = tatoeba_xtreme_order(ds["source"]["id"], ds["target"]["id"], ds["target"]["text"],
                                pairs, f"task '{task.name}'")[1]
    if gold is None:
        raise DataError(f"task '{task.name}': no gold to write labels from")
    return gold


def metric_language(lang: str, source: dict) -> str:
    """MLQA normalisation knows real languages only; synthetic ones use the neutral rules."""
    return lang if source["kind"] != "synthetic" or lang == "en" else "synthetic"


def predict_and_score(task: TaskSpec, predictor: Any, ds: Any, lang: str, source: dict
                      ) -> tuple[Any, Any, dict[str, float]]:
    """(predictions, gold, scores) of a canonical test split (QA predictions keyed by id)."""
    from xstilts.metrics import compute

    preds = predictor.predict(ds)
    if task.format == "qa":
        preds = dict(zip(ds["id"], preds, strict=True))
    gold = references(task, ds)
    return preds, gold, compute(task.metric, preds, gold, metric_language(lang, source))


def reported_split_name(splits: dict[str, str]) -> str:
    """The one split all languages were scored on, or "mixed"."""
    names = set(splits.values())
    return names.pop() if len(names) == 1 else "mixed"


def run(spec: dict) -> None:
    setup(spec["threads"])
    from xstilts.analysis.submission import write_labels, write_predictions
    from xstilts.data.load import load_reported
    from xstilts.data.withheld import reported_split
    from xstilts.engine.predict import Predictor

    source = source_of(spec)
    task = task_of(spec, spec["target"])
    choice = reported_split(spec["benchmark"], task.name)
    langs = languages_of(task, source)
    # every language's gold is checked before the model is loaded: a withheld split costs nothing
    loaded = {lang: load_reported(task, lang, source, choice) for lang in langs}
    predictor = Predictor(task, spec["model_dir"], threads=spec["threads"])
    pred_root = Path(spec["predictions"]).parent
    scores: dict[str, dict[str, float]] = {}
    splits = {lang: split for lang, (_, split) in loaded.items()}
    for i, lang in enumerate(langs, 1):
        started = time.monotonic()
        ds = loaded[lang][0]
        preds, gold, scores[lang] = predict_and_score(task, predictor, ds, lang, source)
        write_predictions(task.name, lang, preds, pred_root)
        if spec.get("labels"):
            write_labels(task.name, lang, gold, Path(spec["labels"]).parent)
        log.info("%s [%d/%d] %s: %s (%d examples, %.1f s)", task.name, i, len(langs), lang,
                 format_metrics(scores[lang]), len(ds), time.monotonic() - started)
    write_json(
        spec["out"],
        {**spec["ids"], "target": task.name, "task_metric": task.metric, "languages": scores,
         "split": reported_split_name(splits), "splits": splits,
         "provenance": collect_provenance(spec.get("threads"))},
    )


def run_labels(spec: dict) -> None:
    """Write a target's gold test labels in the XTREME layout (synthetic data: anyone can score)."""
    from xstilts.analysis.submission import write_labels
    from xstilts.data.load import load_split

    source = source_of(spec)
    task = task_of(spec, spec["target"])
    out = Path(spec["out"])
    for lang in languages_of(task, source):
        if task.format == "retrieval" and lang == "en":
            continue
        ds = load_split(task, "test", lang, source)
        write_labels(task.name, lang, references(task, ds), out.parent)

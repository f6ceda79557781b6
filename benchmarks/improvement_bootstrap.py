"""CPU cost of the improvement table's paired bootstrap (the aggregate stage's intervals).

    python benchmarks/improvement_bootstrap.py                    (a synthetic run at the
        default grid's scale: 13 recipes + none x XTREME's 9 targets, 13 languages, 500 test
        examples per language; predictions and labels written by this script)
    python benchmarks/improvement_bootstrap.py --results DIR      (a finished run's results/)

Prints one row per number of replicates: runs, (target, language) test sets, examples, and the
CPU seconds of `analysis.scores.improvement_replicates` (reading predictions and labels,
per-example statistics, resampling).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from xstilts.analysis.scores import collect, improvement_replicates
from xstilts.analysis.scoring import synthetic_metric_language
from xstilts.analysis.submission import write_labels, write_predictions
from xstilts.metrics import compute, task_score
from xstilts.tasks.registry import get_task

TARGETS = ("xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa", "bucc2018", "tatoeba")
RECIPES = ("none", "anli_plus", "mnli", "qqp", "squad_v2", "squad_v1", "hellaswag", "ccg",
           "cosmosqa", "commonsenseqa", "multitask", "anli_plus_mlm", "anli_plus_translated")


def _gold(fmt: str, n: int, rng: np.random.Generator):
    if fmt == "qa":
        return [{"id": f"q{i}", "title": "t", "context": "a b c d e", "question": "q",
                 "answers": {"text": [str(rng.choice(["a b", "c", "d e"]))],
                             "answer_start": [0]}} for i in range(n)]
    if fmt == "tagging":
        return [list(rng.choice(["O", "B-PER", "I-PER", "B-LOC"], 12)) for _ in range(n)]
    if fmt == "retrieval":
        return list(range(n))
    return list(rng.choice(["0", "1", "2"], n))


def _pred(task, gold, rng: np.random.Generator):
    if task.metric == "bucc_f1":
        return [p if rng.random() < 0.6 else (p[0], f"x{i}") for i, p in enumerate(gold)]
    if task.format == "qa":
        return {g["id"]: str(rng.choice(["a b", "c", "e"])) for g in gold}
    if task.format == "tagging":
        return [[t if rng.random() < 0.8 else "O" for t in s] for s in gold]
    if task.format == "retrieval":
        return [int(g) if rng.random() < 0.4 else int(rng.integers(len(gold))) for g in gold]
    return [g if rng.random() < 0.6 else str(rng.choice(["0", "1", "2"])) for g in gold]


def synthetic_run(root: Path, langs: int, n: int) -> list[Path]:
    """Predictions, labels and score files of a default-sized grid under `root`."""
    rng = np.random.default_rng(0)
    files = []
    for target in TARGETS:
        task = get_task(target)
        for li in range(langs):
            lang = "en" if li == 0 else f"l{li:02d}"
            gold = _gold(task.format, n, rng)
            if task.metric == "bucc_f1":
                gold = [(f"s{i}", f"t{i}") for i in range(n // 20)]  # ~5% gold density
            write_labels(task, lang, gold, root / "labels")
            for recipe in RECIPES:
                pred = _pred(task, gold, rng)
                write_predictions(task, lang, pred, root / "predictions" / "tiny" / recipe /
                                  "seed1")
                labels = json.loads((root / "labels" / target / f"test-{lang}.json")
                                    .read_text()) if task.format == "qa" else gold
                scores = compute(task.metric, pred, labels, synthetic_metric_language(lang))
                path = root / "scores" / recipe / target / "scores.json"
                old = json.loads(path.read_text()) if path.is_file() else {
                    "model": "tiny", "recipe": recipe, "seed": 1, "target": target,
                    "task_metric": task.metric, "languages": {}}
                old["languages"][lang] = {k: float(v) for k, v in scores.items()}
                assert 0 <= task_score(task.metric, scores) <= 100
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(old))
                files.append(path)
    return sorted(set(files))


def measure(results: Path, files: list[Path], boots: list[int]) -> pd.DataFrame:
    tidy = collect(files)
    tasks = {t: get_task(t) for t in set(tidy["target"])}
    scores = tidy[tidy["metric"] == "score"]
    rows = []
    for n_boot in boots:
        start = time.process_time()
        reps = improvement_replicates(tidy, results / "predictions", results / "labels", tasks,
                                      n_boot, synthetic=True)
        rows.append({"replicates": n_boot,
                     "runs": scores.groupby(["model", "recipe", "seed"]).ngroups,
                     "test sets": scores.groupby(["target", "language"]).ngroups,
                     "cells": len(reps), "CPU s": round(time.process_time() - start, 1)})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=None, help="a finished run's results/")
    parser.add_argument("--languages", type=int, default=13)
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--replicates", type=int, nargs="+", default=[200, 1000])
    args = parser.parse_args(argv)
    if args.results:
        files = sorted((args.results / "scores").rglob("scores.json"))
        table = measure(args.results, files, args.replicates)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            files = synthetic_run(Path(tmp), args.languages, args.examples)
            table = measure(Path(tmp), files, args.replicates)
    print(table.to_markdown(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Bootstrap over test examples, from predictions and gold labels: the one home of the
per-example machinery that the improvement intervals (`analysis.intervals`) and the fairness
study (`studies.fairness`) share.

A language's task score is recomputed from per-example sufficient statistics whose full-sample
value is checked against `xstilts.metrics.compute` (accuracy: correct/count; seqeval and BUCC
F1: true positives, predicted and gold entities/pairs, F1 = 2 tp / (pred + gold), one row per
sentence or per BUCC source sentence; QA: per-question EM and F1 from `compute` on that question
alone). Every row has a key (the example's position, the question id, the BUCC source id) so
that two runs on the same test set can be resampled with the same draws (`align`).

Resampling indices come from a numpy Generator seeded by (seed, key, n): the same draws for every
run of a (target, language), so differences between runs are paired.
"""

from __future__ import annotations

import hashlib
import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from xstilts.io.errors import DataError
from xstilts.metrics import QA_METRICS, compute, task_score
from xstilts.tasks.registry import TaskSpec

LEVEL = 0.95
_CHUNK = 64  # bootstrap replicates summed at once (bounds memory: chunk x n x k floats)


def _tag_counts(pred: Sequence[str], gold: Sequence[str]) -> tuple[int, int, int]:
    from seqeval.metrics.sequence_labeling import get_entities

    p = set(get_entities([str(t) for t in pred]))
    g = set(get_entities([str(t) for t in gold]))
    return len(p & g), len(p), len(g)


def _single_question(qa_id: str, golds: list[str]) -> dict[str, Any]:
    qas = [{"id": qa_id, "answers": [{"text": t, "answer_start": 0} for t in golds]}]
    return {"version": "1.1", "data": [{"title": "", "paragraphs": [{"context": "",
                                                                       "qas": qas}]}]}


def example_stats(metric: str, predictions: Any, references: Any, lang: str,
                  check: bool = True) -> np.ndarray:
    """Per-example sufficient statistics (n, k) of `metric` (see the module docstring).

    With `check`, the full-sample score from the statistics must equal
    `task_score(metric, compute(metric, ...))`, else ValueError.
    """
    return keyed_stats(metric, predictions, references, lang, check)[1]


def keyed_stats(metric: str, predictions: Any, references: Any, lang: str,
                check: bool = True) -> tuple[list[str], np.ndarray]:
    """`example_stats` with each row's key: its position, its question id (QA) or its source
    sentence id (BUCC: every source in a predicted or gold pair)."""
    keys: list[str] | None = None
    if metric in ("accuracy", "retrieval_accuracy"):
        if len(predictions) != len(references):
            raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
        rows = []
        for p, r in zip(predictions, references, strict=True):
            if isinstance(p, list | tuple):  # token accuracy of tag lists
                rows.append((sum(int(a == b) for a, b in zip(p, r, strict=True)), len(r)))
            else:
                rows.append((int(p == r), 1))
        stats = np.array(rows, dtype="float64").reshape(-1, 2)
    elif metric == "seqeval_f1":
        if len(predictions) != len(references):
            raise ValueError(f"{len(predictions)} predicted but {len(references)} gold sentences")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stats = np.array([_tag_counts(p, r) for p, r in
                              zip(predictions, references, strict=True)],
                             dtype="float64").reshape(-1, 3)
    elif metric == "bucc_f1":
        pred = {tuple(p) for p in predictions}
        gold = {tuple(g) for g in references}
        units = sorted({s for s, _ in pred} | {s for s, _ in gold})
        by_pred: dict[str, set] = {u: set() for u in units}
        by_gold: dict[str, set] = {u: set() for u in units}
        for s, t in pred:
            by_pred[s].add(t)
        for s, t in gold:
            by_gold[s].add(t)
        stats = np.array([(len(by_pred[u] & by_gold[u]), len(by_pred[u]), len(by_gold[u]))
                          for u in units], dtype="float64").reshape(-1, 3)
        keys = [str(u) for u in units]
    elif metric in QA_METRICS:
        from xstilts.metrics.qa import iter_questions

        rows, keys = [], []
        for qid, golds in iter_questions(references):
            keys.append(str(qid))
            if qid not in predictions:
                rows.append((0.0, 0.0, 1.0))
                continue
            one = compute(metric, {qid: predictions[qid]}, _single_question(qid, golds), lang)
            rows.append((one["exact_match"], one["f1"], 1.0))
        stats = np.array(rows, dtype="float64").reshape(-1, 3)
    else:
        raise ValueError(f"no bootstrap for metric '{metric}'")
    if len(stats) == 0:
        raise ValueError(f"metric '{metric}': no examples to resample")
    if check:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logging.disable(logging.WARNING)
            try:
                want = task_score(metric, compute(metric, predictions, references, lang))
            finally:
                logging.disable(logging.NOTSET)
        got = float(score_from_sums(metric, stats.sum(axis=0)))
        if not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9):
            raise ValueError(f"metric '{metric}': per-example statistics give {got}, "
                             f"compute() gives {want}")
    return (keys if keys is not None else [str(i) for i in range(len(stats))]), stats


def score_from_sums(metric: str, sums: Any) -> Any:
    """Task score (percent) from summed statistics (..., k) of `example_stats`."""
    s = np.asarray(sums, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        if metric in ("accuracy", "retrieval_accuracy"):
            out = 100.0 * s[..., 0] / s[..., 1]
        elif metric in ("seqeval_f1", "bucc_f1"):
            denom = s[..., 1] + s[..., 2]
            out = np.where(s[..., 0] > 0, 200.0 * s[..., 0] / np.where(denom > 0, denom, 1), 0.0)
        elif metric in QA_METRICS:
            out = (s[..., 0] + s[..., 1]) / (2.0 * s[..., 2])
        else:
            raise ValueError(f"no bootstrap for metric '{metric}'")
    return out if np.ndim(out) else float(out)


def stable_seed(*key: Any) -> int:
    """A 63-bit integer from `key` via sha256 (never Python's salted hash())."""
    digest = hashlib.sha256("\x1f".join(map(str, key)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def resample_indices(n: int, n_boot: int, seed: int, key: Sequence[Any] = ()) -> np.ndarray:
    """(n_boot, n) example indices drawn with replacement, seeded by (seed, key, n)."""
    if n < 1 or n_boot < 1:
        raise ValueError(f"need n >= 1 and n_boot >= 1, got n={n}, n_boot={n_boot}")
    rng = np.random.default_rng([int(seed), stable_seed(*key, n)])
    return rng.integers(0, n, size=(n_boot, n))


def bootstrap_replicates(metric: str, stats: np.ndarray, n_boot: int, seed: int,
                         key: Sequence[Any] = ()) -> np.ndarray:
    """(n_boot,) task scores of resampled examples (indices from `resample_indices`)."""
    idx = resample_indices(len(stats), n_boot, seed, key)
    sums = np.concatenate([stats[idx[i:i + _CHUNK]].sum(axis=1)
                           for i in range(0, n_boot, _CHUNK)])
    return np.asarray(score_from_sums(metric, sums))


def percentile_ci(replicates: Any, level: float = LEVEL) -> tuple[float, float]:
    """Percentile interval of the finite replicates (NaN if none is finite)."""
    r = np.asarray(replicates, dtype="float64")
    r = r[np.isfinite(r)]
    if r.size == 0:
        return math.nan, math.nan
    lo, hi = np.percentile(r, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)


@dataclass(frozen=True)
class BootstrapCI:
    score: float
    lo: float
    hi: float
    n: int
    replicates: np.ndarray


def bootstrap_ci(metric: str, predictions: Any, references: Any, lang: str, n_boot: int = 200,
                 seed: int = 0, level: float = LEVEL, key: Sequence[Any] = ()) -> BootstrapCI:
    """Score of one (target, language) with its percentile bootstrap CI over examples."""
    stats = example_stats(metric, predictions, references, lang)
    reps = bootstrap_replicates(metric, stats, n_boot, seed, key or (lang,))
    lo, hi = percentile_ci(reps, level)
    return BootstrapCI(float(score_from_sums(metric, stats.sum(axis=0))), lo, hi, len(stats),
                       reps)


def run_stats(task: TaskSpec, lang: str, predictions_root: Path, labels_root: Path,
              metric_lang: str | None = None) -> np.ndarray:
    """`example_stats` of one language from submission-layout prediction and label folders."""
    return run_keyed_stats(task, lang, predictions_root, labels_root, metric_lang)[1]


def run_keyed_stats(task: TaskSpec, lang: str, predictions_root: Path, labels_root: Path,
                    metric_lang: str | None = None,
                    check: bool = True) -> tuple[list[str], np.ndarray]:
    """`keyed_stats` of one language from submission-layout prediction and label folders
    (`check`: as keyed_stats'; a caller that compares the score with a recorded one may skip
    it)."""
    from xstilts.analysis.submission import read_labels, read_predictions, submission_path

    preds = read_predictions(task, lang, predictions_root)
    gold = read_labels(task, lang, labels_root)
    pred_file = submission_path(task, lang, predictions_root)
    label_file = submission_path(task, lang, labels_root)
    if isinstance(preds, list) and task.metric != "bucc_f1" and len(preds) != len(gold):
        raise DataError(f"{pred_file} has {len(preds)} items but {label_file} has {len(gold)}")
    try:
        return keyed_stats(task.metric, preds, gold, metric_lang or lang, check)
    except ValueError as err:
        raise DataError(f"{pred_file} vs {label_file}: {err}") from None


def align(metric: str, runs: Sequence[tuple[list[str], np.ndarray]], where: str) -> np.ndarray:
    """Stack runs' keyed statistics of one test set as (runs, n, k) on common rows, so that one
    set of resampling indices draws the same examples from every run. BUCC rows are the union of
    the runs' source sentences (a source a run neither predicts nor has gold for adds zeros);
    every other metric must have the same keys in every run, else DataError naming `where`."""
    if not runs:
        raise ValueError("no runs to align")
    if metric == "bucc_f1":
        keys = sorted(set().union(*(k for k, _ in runs)))
        pos = {k: i for i, k in enumerate(keys)}
        out = np.zeros((len(runs), len(keys), runs[0][1].shape[1]))
        for r, (k, s) in enumerate(runs):
            out[r, [pos[x] for x in k]] = s
        return out
    first = runs[0][0]
    for k, _ in runs[1:]:
        if k != first:
            raise DataError(f"{where}: the runs' predictions cover different examples "
                            f"({len(k)} vs {len(first)}); cannot pair them")
    return np.stack([s for _, s in runs])


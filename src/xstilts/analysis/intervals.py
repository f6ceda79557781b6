"""Paired bootstrap intervals of the improvement over the baseline recipe, over test examples.

Every (model, recipe, seed) of a target is scored on the same test set, so a replicate draws
one set of example indices per (target, language) (`bootstrap.resample_indices`, keyed by the
target and language) and applies it to every run: the recipe's and the baseline's replicate
scores are paired. A replicate's task score is the table's: each language's score recomputed
from the resampled examples (the task's own metric, `bootstrap.score_from_sums`), averaged over
the languages, then over seeds; the "avg" target averages the replicate task scores over the
average's targets. The improvement replicate is recipe - baseline, and its interval the
percentile interval of those replicates (a difference of means: smooth, where the percentile
interval is fine; the caption says so). With >= 3 paired seeds the table also gives a t
interval over the per-seed differences (seed variation, which the example bootstrap of a fixed
set of checkpoints does not see).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from xstilts.analysis.bootstrap import (
    LEVEL,
    align,
    resample_indices,
    run_keyed_stats,
    score_from_sums,
)
from xstilts.io.errors import DataError
from xstilts.tasks.registry import TaskSpec

log = logging.getLogger(__name__)

SCORE = "score"
AVG = "avg"
MIN_SEEDS_FOR_SEED_CI = 3
_CHUNK = 32  # replicates summed at once (bounds memory: chunk x runs x n x k floats)

Key = tuple[str, str, str]  # model, recipe, target
RunDir = Callable[[str, str, int], Path]  # (model, recipe, seed) -> submission folder


def _replicates(metric: str, stacked: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """(runs, B) task scores of the runs' aligned statistics (runs, n, k) under indices (B, n)."""
    parts = [stacked[:, idx[i:i + _CHUNK]].sum(axis=2) for i in range(0, len(idx), _CHUNK)]
    return np.asarray(score_from_sums(metric, np.concatenate(parts, axis=1)))


def language_replicates(tidy: pd.DataFrame, run_dir: RunDir, labels_root: Path,
                        tasks: Mapping[str, TaskSpec], n_boot: int, seed: int = 0,
                        metric_language: Callable[[str], str] | None = None
                        ) -> dict[tuple[str, str, int, str, str], np.ndarray]:
    """(n_boot,) replicate scores per (model, recipe, seed, target, language) of the tidy
    table's runs, every run of a (target, language) resampled with the same examples. Targets
    without a task spec are left out (with a warning). A run whose predictions do not give the
    score the tidy table recorded is a DataError: its predictions are not the ones scored."""
    scores = tidy[tidy["metric"] == SCORE]
    recorded = scores.set_index(["model", "recipe", "seed", "target", "language"])["value"]
    out: dict[tuple[str, str, int, str, str], np.ndarray] = {}
    for (target, lang), grp in scores.groupby(["target", "language"], sort=True):
        if target not in tasks:
            continue
        task = tasks[target]
        runs = sorted({(str(m), str(r), int(s)) for m, r, s in
                       zip(grp["model"], grp["recipe"], grp["seed"], strict=True)})
        mlang = metric_language(lang) if metric_language else lang
        # each run's full-sample score is checked against the recorded one below
        keyed = [run_keyed_stats(task, lang, Path(run_dir(*run)), Path(labels_root), mlang,
                                 check=False) for run in runs]
        stacked = align(task.metric, keyed, f"{target}/test-{lang}")
        for run, (_, st) in zip(runs, keyed, strict=True):
            full = float(score_from_sums(task.metric, st.sum(axis=0)))
            want = float(recorded[(*run, target, lang)])
            if not math.isclose(full, want, abs_tol=1e-6):
                raise DataError(f"{run_dir(*run)}/{target}: predictions for '{lang}' score "
                                f"{full:.4f} but the scores table has {want:.4f}")
        idx = resample_indices(stacked.shape[1], n_boot, seed, (target, lang))
        for run, rep in zip(runs, _replicates(task.metric, stacked, idx), strict=True):
            out[(*run, str(target), str(lang))] = rep
    for target in sorted(set(scores["target"]) - set(tasks)):
        log.warning("no task spec for target '%s': no intervals", target)
    return out


def task_replicates(tidy: pd.DataFrame, run_dir: RunDir, labels_root: Path,
                    tasks: Mapping[str, TaskSpec], n_boot: int, seed: int = 0,
                    metric_language: Callable[[str], str] | None = None
                    ) -> dict[Key, np.ndarray]:
    """(n_boot,) replicate task scores per (model, recipe, target): the mean over the target's
    languages of `language_replicates`, then over seeds. Every run of a target must have the
    same languages, else DataError."""
    per_lang = language_replicates(tidy, run_dir, labels_root, tasks, n_boot, seed,
                                   metric_language)
    by_run: dict[tuple[str, str, int, str], dict[str, np.ndarray]] = {}
    for (model, recipe, s, target, lang), rep in per_lang.items():
        by_run.setdefault((model, recipe, s, target), {})[lang] = rep
    langs = {}
    by_cell: dict[Key, list[np.ndarray]] = {}
    for (model, recipe, s, target), reps in sorted(by_run.items()):
        have = langs.setdefault(target, sorted(reps))
        if sorted(reps) != have:
            raise DataError(f"target '{target}': {model}/{recipe}/seed{s} is scored in "
                            f"{sorted(reps)}, other runs in {have}; cannot pair them")
        by_cell.setdefault((model, recipe, target), []).append(np.mean(list(reps.values()),
                                                                       axis=0))
    return {k: np.mean(v, axis=0) for k, v in by_cell.items()}


def with_average(reps: Mapping[Key, np.ndarray], targets: Sequence[str]) -> dict[Key, np.ndarray]:
    """`reps` plus target "avg": the mean over `targets` (for cells that have all of them)."""
    out = dict(reps)
    for model, recipe in sorted({(m, r) for m, r, _ in reps}):
        parts = [reps.get((model, recipe, t)) for t in targets]
        if targets and all(p is not None for p in parts):
            out[(model, recipe, AVG)] = np.mean(parts, axis=0)
    return out


def improvement_replicates(reps: Mapping[Key, np.ndarray],
                           baseline: str = "none") -> dict[Key, np.ndarray]:
    """Paired improvement replicates: recipe - baseline, per (model, recipe != baseline,
    target) that both have."""
    return {(m, r, t): rep - reps[(m, baseline, t)] for (m, r, t), rep in reps.items()
            if r != baseline and (m, baseline, t) in reps}


def seed_interval(differences: Sequence[float], level: float = LEVEL) -> tuple[float, float]:
    """t interval of the mean of per-seed paired differences; NaN with fewer than
    MIN_SEEDS_FOR_SEED_CI of them."""
    d = np.asarray(differences, dtype="float64")
    if len(d) < MIN_SEEDS_FOR_SEED_CI:
        return math.nan, math.nan
    sem = float(d.std(ddof=1) / math.sqrt(len(d)))
    if sem == 0:
        return float(d.mean()), float(d.mean())
    lo, hi = stats.t.interval(level, len(d) - 1, loc=float(d.mean()), scale=sem)
    return float(lo), float(hi)

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


def task_replicates(tidy: pd.DataFrame, run_dir: RunDir, labels_root: Path,
                    tasks: Mapping[str, TaskSpec], n_boot: int, seed: int = 0,
                    metric_language: Callable[[str], str] | None = None
                    ) -> dict[Key, np.ndarray]:
    """(n_boot,) replicate task scores per (model, recipe, target): mean over the target's
    languages of the resampled score, mean over seeds. Targets without a task spec are left out
    (with a warning). A run whose predictions do not give the score the tidy table recorded is
    a DataError: its predictions are not the ones that were scored."""
    scores = tidy[tidy["metric"] == SCORE]
    recorded = scores.set_index(["model", "intermediate", "seed", "target", "language"])["value"]
    out: dict[Key, np.ndarray] = {}
    for target, grp in scores.groupby("target", sort=True):
        if target not in tasks:
            log.warning("no task spec for target '%s': no intervals", target)
            continue
        task = tasks[target]
        runs = sorted({(str(m), str(r), int(s)) for m, r, s in
                       zip(grp["model"], grp["intermediate"], grp["seed"], strict=True)})
        per_lang = []
        for lang in sorted(set(grp["language"])):
            have = set(zip(grp.loc[grp["language"] == lang, "model"],
                           grp.loc[grp["language"] == lang, "intermediate"],
                           grp.loc[grp["language"] == lang, "seed"], strict=True))
            if len(have) != len(runs):
                raise DataError(f"target '{target}' language '{lang}': scored by {len(have)} of "
                                f"{len(runs)} runs; cannot pair them")
            mlang = metric_language(lang) if metric_language else lang
            # each run's full-sample score is checked against the recorded one below
            keyed = [run_keyed_stats(task, lang, Path(run_dir(*run)), Path(labels_root), mlang,
                                     check=False) for run in runs]
            stacked = align(task.metric, keyed, f"{target}/test-{lang}")
            for run, (_, st) in zip(runs, keyed, strict=True):
                full = float(score_from_sums(task.metric, st.sum(axis=0)))
                want = float(recorded[(*run[:2], run[2], target, lang)])
                if not math.isclose(full, want, abs_tol=1e-6):
                    raise DataError(f"{run_dir(*run)}/{target}: predictions for '{lang}' score "
                                    f"{full:.4f} but the scores table has {want:.4f}")
            idx = resample_indices(stacked.shape[1], n_boot, seed, (target, lang))
            per_lang.append(_replicates(task.metric, stacked, idx))
        reps = np.mean(per_lang, axis=0)  # (runs, B): mean over languages
        by_cell: dict[Key, list[np.ndarray]] = {}
        for run, rep in zip(runs, reps, strict=True):
            by_cell.setdefault((run[0], run[1], str(target)), []).append(rep)
        out.update({k: np.mean(v, axis=0) for k, v in by_cell.items()})
    return out


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


def percentile_interval(replicates: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Percentile interval of finite replicates (NaN when none is finite)."""
    r = np.asarray(replicates, dtype="float64")
    r = r[np.isfinite(r)]
    if r.size == 0:
        return math.nan, math.nan
    lo, hi = np.percentile(r, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)


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

"""Fairness of zero-shot transfer across languages and language families.

Per-language task scores (aggregate.py's "score" rows: mean(EM, F1) for QA, else F1, else
accuracy; in percent) are summarised per (model, recipe, target) by:

| metric | definition |
| --- | --- |
| mean | mean over the transfer languages (non-English unless `include_english`) |
| worst_language_score | min over those languages (`worst_language`: which one) |
| family means | mean over each family's languages, with the family size `n` |
| worst_family_score | min over the family means (`worst_family`, `worst_family_size`) |
| best_worst_gap | max - min over the languages |
| sd | population standard deviation (ddof=0) over the languages |
| gini | G = sum_i sum_j abs(x_i - x_j) / (2 n^2 mean(x)): the mean absolute difference over all |
| | ordered pairs (i = j included) over twice the mean; 0 = all equal, (n-1)/n = all in one |
| english_gap | English score - mean of the non-English scores (NaN without English) |
| speaker_weighted | sum_l w_l x_l / sum_l w_l, w = speaker population (unknown ones dropped) |

Confidence intervals are percentile bootstrap intervals over test examples: each (target,
language)'s examples are resampled with replacement `n_boot` times from a numpy Generator
seeded by (seed, target, language, n); the same draws serve every model, recipe and seed, so
recipe - baseline differences are paired. A language's replicate score is recomputed from
per-example sufficient statistics (`xstilts.analysis.bootstrap`, shared with the improvement
intervals). Aggregate metrics get their CI by resampling every
language's examples in the same replicate and recomputing the metric on the replicate's
per-language scores (seeds: the mean over seeds of the replicate scores).

Caveat: min, max - min, sd and Gini are not smooth in the per-language scores; sampling noise
in each language inflates them in every replicate, so their percentile interval is shifted up
and can exclude the point estimate (e.g. a gap of 0 between equal languages). Read those CIs as
"the statistic's spread under test-set resampling", not as coverage intervals.

The "avg" target averages each language's score over the targets every run has
(`aggregate.average_targets`) that include the language.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xstilts.analysis.bootstrap import LEVEL, percentile_ci
from xstilts.analysis.intervals import language_replicates
from xstilts.analysis.scores import AVG, SCORE
from xstilts.analysis.tables import MISSING
from xstilts.data.schema import DataError
from xstilts.tasks.registry import TaskSpec

log = logging.getLogger(__name__)

NUMERIC = ("mean", "worst_language_score", "worst_family_score", "best_worst_gap", "sd", "gini",
           "english_gap", "speaker_weighted")
__all__ = ["LEVEL", "percentile_ci"]  # re-exported for the study's tables


# ---------------------------------------------------------------------------- pure metrics

def _arr(scores: Any) -> np.ndarray:
    return np.asarray(scores, dtype="float64")


def gini(scores: Any) -> Any:
    """Gini coefficient along the last axis: sum|x_i - x_j| / (2 n^2 mean); NaN if mean is 0."""
    x = _arr(scores)
    mad = np.abs(x[..., :, None] - x[..., None, :]).mean(axis=(-2, -1))
    mean = x.mean(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(mean != 0, mad / (2 * np.where(mean != 0, mean, 1.0)), np.nan)
    return out if out.ndim else float(out)


def best_worst_gap(scores: Any) -> Any:
    """max - min along the last axis."""
    x = _arr(scores)
    out = x.max(axis=-1) - x.min(axis=-1)
    return out if out.ndim else float(out)


def std(scores: Any) -> Any:
    """Population standard deviation (ddof=0) along the last axis."""
    out = _arr(scores).std(axis=-1)
    return out if out.ndim else float(out)


def english_gap(scores: Any, is_english: Sequence[bool]) -> Any:
    """English score minus the mean of the other languages (NaN without English or others)."""
    x = _arr(scores)
    mask = np.asarray(is_english, dtype=bool)
    if mask.sum() != 1 or mask.all():
        out = np.full(x.shape[:-1], np.nan)
    else:
        out = x[..., mask][..., 0] - x[..., ~mask].mean(axis=-1)
    return out if out.ndim else float(out)


def weighted_mean(scores: Any, weights: Sequence[float]) -> Any:
    """sum w x / sum w over the entries with a finite positive weight; NaN if there is none."""
    x = _arr(scores)
    w = np.asarray(weights, dtype="float64")
    ok = np.isfinite(w) & (w > 0)
    if not ok.any():
        out = np.full(x.shape[:-1], np.nan)
    else:
        out = (x[..., ok] * w[ok]).sum(axis=-1) / w[ok].sum()
    return out if out.ndim else float(out)


def family_means(scores: Any, families: Sequence[str]) -> dict[str, tuple[Any, int]]:
    """{family: (mean along the last axis over its languages, family size)}, sorted by name."""
    x = _arr(scores)
    fams = np.asarray(families, dtype=object)
    out = {}
    for fam in sorted(set(fams)):
        m = x[..., fams == fam].mean(axis=-1)
        out[str(fam)] = (m if m.ndim else float(m), int((fams == fam).sum()))
    return out


def meta_rows(meta: pd.DataFrame, langs: Sequence[str]) -> pd.DataFrame:
    table = meta.drop_duplicates("lang").set_index("lang")
    missing = [lang for lang in langs if lang not in table.index]
    if missing:
        raise DataError(f"language metadata has no row for language(s) {missing}")
    return table.loc[list(langs)]


def summary_values(matrix: Any, langs: Sequence[str], meta: pd.DataFrame,
                   include_english: bool = False) -> dict[str, np.ndarray]:
    """The NUMERIC metrics of per-language scores `matrix` (..., L) in the order of `langs`."""
    x = _arr(matrix)
    rows = meta_rows(meta, langs)
    english = rows["is_english"].to_numpy(dtype=bool)
    keep = np.ones(len(langs), bool) if include_english else ~english
    if not keep.any():
        nan = np.full(x.shape[:-1], np.nan)
        return {k: nan for k in NUMERIC} | {"english_gap": np.asarray(english_gap(x, english))}
    sub = x[..., keep]
    fams = family_means(sub, rows["family"].to_numpy()[keep])
    fam_stack = np.stack([np.asarray(m) for m, _ in fams.values()], axis=-1)
    return {
        "mean": sub.mean(axis=-1),
        "worst_language_score": sub.min(axis=-1),
        "worst_family_score": fam_stack.min(axis=-1),
        "best_worst_gap": np.asarray(best_worst_gap(sub)),
        "sd": np.asarray(std(sub)),
        "gini": np.asarray(gini(sub)),
        "english_gap": np.asarray(english_gap(x, english)),
        "speaker_weighted": np.asarray(weighted_mean(sub, rows["speakers"].to_numpy()[keep])),
    }


def fairness_summary(scores: Mapping[str, float], meta: pd.DataFrame,
                     include_english: bool = False) -> dict[str, Any]:
    """Every metric of one set of per-language scores, with the worst language / family names."""
    langs = sorted(scores)
    x = np.array([scores[lang] for lang in langs], dtype="float64")
    out: dict[str, Any] = {k: float(v) for k, v in
                           summary_values(x, langs, meta, include_english).items()}
    rows = meta_rows(meta, langs)
    keep = [lang for lang, e in zip(langs, rows["is_english"], strict=True)
            if include_english or not e]
    out["n_languages"] = len(keep)
    if keep:
        worst = min(keep, key=lambda lang: (scores[lang], lang))
        fams = family_means([scores[lang] for lang in keep], rows.loc[keep, "family"].tolist())
        fam = min(fams, key=lambda f: (fams[f][0], f))
        out.update(worst_language=worst, worst_family=fam, worst_family_size=fams[fam][1])
    else:
        out.update(worst_language=MISSING, worst_family=MISSING, worst_family_size=0)
    return out


# ---------------------------------------------------------------------------- grid scores

@dataclass
class LangScores:
    """Per-language scores of one (model, recipe, target): point (L,), replicates (B, L)."""
    langs: list[str]
    point: np.ndarray
    reps: np.ndarray | None
    n_seeds: int


Key = tuple[str, str, str]  # model, recipe, target


def point_scores(tidy: pd.DataFrame) -> dict[Key, LangScores]:
    """Mean over seeds of each language's task score, per (model, recipe, target)."""
    sub = tidy[tidy["metric"] == SCORE]
    if sub.empty:
        raise DataError(f"scores table has no '{SCORE}' rows")
    out: dict[Key, LangScores] = {}
    for (model, recipe, target), grp in sub.groupby(["model", "recipe", "target"]):
        means = grp.groupby("language")["value"].mean().sort_index()
        out[(str(model), str(recipe), str(target))] = LangScores(
            [str(x) for x in means.index], means.to_numpy(dtype="float64"), None,
            int(grp["seed"].nunique()))
    return out


def attach_replicates(scores: dict[Key, LangScores], tidy: pd.DataFrame,
                      run_dir: Any, labels_root: Path, tasks: Mapping[str, TaskSpec],
                      n_boot: int, seed: int, metric_language: Any = None) -> None:
    """Fill `reps` from the predictions: `run_dir(model, recipe, seed)` is the folder
    holding `<target>/test-<lang>.<ext>`; labels are `<labels_root>/<target>/test-<lang>...`.
    The replicate of a language is the mean over seeds of its per-seed replicate scores, every
    run resampled with the same examples (`analysis.intervals.language_replicates`)."""
    reps = language_replicates(tidy, run_dir, labels_root, tasks, n_boot, seed, metric_language)
    seeds = tidy[tidy["metric"] == SCORE].groupby(["model", "recipe", "target"])["seed"]
    seeds = seeds.unique()
    for key, ls in scores.items():
        if key[2] not in tasks:
            log.warning("no task spec for target '%s': no confidence intervals", key[2])
            continue
        ls.reps = np.stack([np.mean([reps[(*key[:2], int(s), key[2], lang)]
                                     for s in sorted(seeds[key])], axis=0)
                            for lang in ls.langs], axis=-1)


def with_average(scores: dict[Key, LangScores], targets: Sequence[str]) -> dict[Key, LangScores]:
    """`scores` plus target "avg": each language's mean over `targets` that include it."""
    out = dict(scores)
    for model, recipe in sorted({(m, r) for m, r, _ in scores}):
        parts = [scores[(model, recipe, t)] for t in targets if (model, recipe, t) in scores]
        if not parts or len(parts) < len(targets):
            continue
        langs = sorted({lang for p in parts for lang in p.langs})
        point = np.array([np.mean([p.point[p.langs.index(lang)] for p in parts
                                   if lang in p.langs]) for lang in langs])
        reps = None
        if all(p.reps is not None for p in parts):
            reps = np.stack([np.mean([p.reps[:, p.langs.index(lang)] for p in parts
                                      if lang in p.langs], axis=0) for lang in langs], axis=-1)
        out[(model, recipe, AVG)] = LangScores(langs, point, reps,
                                               min(p.n_seeds for p in parts))
    return out

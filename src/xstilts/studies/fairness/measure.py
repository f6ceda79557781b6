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
per-example sufficient statistics whose full-sample value is checked against
`xstilts.metrics.compute` (accuracy: correct/count; seqeval and BUCC F1: true positives,
predicted and gold entities/pairs, F1 = 2 tp / (pred + gold); QA: per-question EM and F1 from
`compute` on that question alone). Aggregate metrics get their CI by resampling every
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

import hashlib
import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xstilts.analysis.scores import AVG, SCORE
from xstilts.analysis.tables import MISSING
from xstilts.data.schema import DataError
from xstilts.metrics import QA_METRICS, compute, task_score
from xstilts.tasks.registry import TaskSpec

log = logging.getLogger(__name__)

NUMERIC = ("mean", "worst_language_score", "worst_family_score", "best_worst_gap", "sd", "gini",
           "english_gap", "speaker_weighted")
LEVEL = 0.95
_CHUNK = 64  # bootstrap replicates summed at once (bounds memory: chunk x n x k floats)


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


# ---------------------------------------------------------------------------- bootstrap

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
    elif metric in QA_METRICS:
        from xstilts.metrics.qa import iter_questions

        rows = []
        for qid, golds in iter_questions(references):
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
    return stats


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
    """Percentile interval of the replicates (NaN-aware; NaN if none is finite)."""
    r = np.asarray(replicates, dtype="float64")
    if not np.isfinite(r).any():
        return math.nan, math.nan
    lo, hi = np.nanpercentile(r, [50 * (1 - level), 50 * (1 + level)])
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
    from xstilts.analysis.submission import read_labels, read_predictions, submission_path

    preds = read_predictions(task, lang, predictions_root)
    gold = read_labels(task, lang, labels_root)
    pred_file = submission_path(task, lang, predictions_root)
    label_file = submission_path(task, lang, labels_root)
    if isinstance(preds, list) and task.metric != "bucc_f1" and len(preds) != len(gold):
        raise DataError(f"{pred_file} has {len(preds)} items but {label_file} has {len(gold)}")
    try:
        return example_stats(task.metric, preds, gold, metric_lang or lang)
    except ValueError as err:
        raise DataError(f"{pred_file} vs {label_file}: {err}") from None


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
    The replicate of a language is the mean over seeds of its per-seed replicate scores."""
    sub = tidy[tidy["metric"] == SCORE]
    seeds = sub.groupby(["model", "recipe", "target"])["seed"].unique()
    recorded = sub.set_index(["model", "recipe", "seed", "target", "language"])["value"]
    for key, ls in scores.items():
        if key[2] not in tasks:
            log.warning("no task spec for target '%s': no confidence intervals", key[2])
            continue
        task = tasks[key[2]]
        cols = []
        for lang in ls.langs:
            per_seed = []
            for s in sorted(seeds[key]):
                stats = run_stats(task, lang, Path(run_dir(key[0], key[1], int(s))),
                                  Path(labels_root),
                                  metric_language(lang) if metric_language else lang)
                full = float(score_from_sums(task.metric, stats.sum(axis=0)))
                want = recorded.get((key[0], key[1], s, key[2], lang), math.nan)
                if not math.isclose(full, want, abs_tol=1e-6):
                    log.warning("%s seed %s %s: predictions score %.4f but the scores table "
                                "has %.4f", "/".join(key), s, lang, full, want)
                per_seed.append(bootstrap_replicates(task.metric, stats, n_boot, seed,
                                                     (key[2], lang)))
            cols.append(np.mean(per_seed, axis=0))
        ls.reps = np.stack(cols, axis=-1)


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

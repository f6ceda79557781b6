"""Aggregate per-job `scores.json` files into tidy data and the paper's tables.

A score file is `{"model", "recipe", "seed", "target", "task_metric",
"languages": {lang: {metric: value}}}` with values in percent (a job that refused to score, e.g.
Tatoeba with withheld gold, writes `"languages": {}` and a `"refused"` reason: it is skipped with
that reason printed). A language's task score is
mean(exact_match, f1) for QA metrics (squad, mlqa), else f1 if present, else accuracy; a task's
score is the mean over its languages; the XTREME average is the mean of the task scores over the
targets that every (model, recipe, seed) has (all 9 XTREME tasks on a full grid).

With a predictions and a labels root, the improvement table gets paired bootstrap intervals over
test examples (`analysis.intervals`) and the findings table its verdicts (`analysis.findings`).

    python -m xstilts.analysis.scores --out DIR [--baseline none]
        [--predictions DIR --labels DIR [--bootstrap 1000] [--synthetic]]
        [--recipes JSON] scores.json...
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from scipy import stats

from xstilts.analysis import findings as FD
from xstilts.analysis import intervals as IV
from xstilts.analysis.bootstrap import LEVEL, percentile_ci
from xstilts.analysis.tables import MISSING, fmt_mean_sd, fmt_num, to_latex, to_markdown
from xstilts.data.schema import DataError
from xstilts.io.atomic import write_atomic
from xstilts.io.jsonio import check_run_header, read_json_object, run_rows
from xstilts.metrics import METRICS, task_score
from xstilts.tasks.registry import benchmark_languages, benchmark_tasks, target_tasks

log = logging.getLogger(__name__)

TIDY_COLUMNS = ["model", "recipe", "seed", "target", "language", "metric", "value"]
KEYS = ("model", "recipe", "seed", "target", "task_metric", "languages")
SCORE = "score"
AVG = "avg"
AVG_R = "avg_xtreme_r"  # XTREME-R's average (its implemented tasks that the grid has)
SIGNIFICANCE = 0.05
MIN_SEEDS_FOR_STARS = 3  # significance marks (tables, figures) need this many paired seeds


# ---------------------------------------------------------------------------- task score rule

def language_score(metric: str, scores: Mapping[str, float]) -> float:
    """Task score of one language (`xstilts.metrics.task_score`)."""
    return float(task_score(metric, dict(scores)))


# ---------------------------------------------------------------------------- ordering

def target_order(names: Iterable[str]) -> list[str]:
    """XTREME's task order (registry order) first, then any other targets sorted."""
    names = set(names)
    known = [t for t in target_tasks() if t in names]
    return known + sorted(names - set(known))


def recipe_order(names: Iterable[str], baseline: str = "none") -> list[str]:
    """The baseline first, then the other intermediate recipes sorted."""
    names = set(names)
    return ([baseline] if baseline in names else []) + sorted(names - {baseline})


# ---------------------------------------------------------------------------- collect

def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _read_one(path: Path) -> list[dict[str, Any]]:
    raw = read_json_object(path, "score file")
    check_run_header(raw, path, KEYS, tuple(METRICS))
    langs = raw["languages"]
    refused = raw.get("refused")
    if langs == {} and isinstance(refused, str) and refused:
        print(f"xstilts: {path}: {refused}", file=sys.stderr)  # a job that refused to score
        return []
    if not isinstance(langs, dict) or not langs:
        raise DataError(f"{path}: key 'languages' must be a non-empty object of languages")
    head = {k: raw[k] for k in ("model", "recipe", "seed", "target")}
    rows: list[dict[str, Any]] = []
    for lang, metrics in langs.items():
        where = f"{path}: languages.{lang}"
        if not isinstance(metrics, dict) or not metrics:
            raise DataError(f"{where}: expected a non-empty object of metric values")
        if SCORE in metrics:
            raise DataError(f"{where}: metric name '{SCORE}' is reserved for the task score")
        for name, value in metrics.items():
            if not _is_number(value) or not math.isfinite(value):
                raise DataError(f"{where}.{name}: expected a finite number, got {value!r}")
            rows.append({**head, "language": lang, "metric": name, "value": float(value)})
        try:
            score = language_score(raw["task_metric"], metrics)
        except (KeyError, ValueError, TypeError) as err:
            raise DataError(f"{where}: cannot compute the task score: {err}") from err
        if not 0.0 <= score <= 100.0:
            raise DataError(f"{where}: task score {score} is not a percentage in [0, 100]")
        rows.append({**head, "language": lang, "metric": SCORE, "value": score})
    return rows


def collect(score_files: Sequence[Path]) -> pd.DataFrame:
    """Tidy frame (TIDY_COLUMNS), one row per metric plus a "score" row per language."""
    if not score_files:
        raise ValueError("no score files given")
    rows = run_rows(score_files, _read_one)
    tidy = pd.DataFrame(rows, columns=TIDY_COLUMNS)
    tidy["seed"] = tidy["seed"].astype("int64")
    tidy["value"] = tidy["value"].astype("float64")
    return tidy.sort_values(TIDY_COLUMNS[:6], kind="stable").reset_index(drop=True)


def _check_tidy(tidy: pd.DataFrame) -> None:
    missing = [c for c in TIDY_COLUMNS if c not in tidy.columns]
    if missing:
        raise ValueError(f"tidy frame lacks column(s) {missing}")
    if not (tidy["metric"] == SCORE).any():
        raise ValueError(f"tidy frame has no '{SCORE}' rows (build it with collect())")


# ---------------------------------------------------------------------------- per-seed scores

def task_scores(tidy: pd.DataFrame) -> pd.DataFrame:
    """Per-seed task scores: model, recipe, seed, target, score (mean over languages)."""
    _check_tidy(tidy)
    keys = ["model", "recipe", "seed", "target"]
    scores = tidy[tidy["metric"] == SCORE]
    out = scores.groupby(keys, sort=True)["value"].mean().rename(SCORE).reset_index()
    return out


def _common_targets(tidy: pd.DataFrame) -> frozenset[str]:
    ts = task_scores(tidy)
    sets = ts.groupby(["model", "recipe", "seed"])["target"].agg(frozenset)
    return frozenset.intersection(*sets) if len(sets) else frozenset()


def average_targets(tidy: pd.DataFrame, benchmark: str = "xtreme") -> list[str]:
    """The average's task set: the `benchmark`'s tasks that every (model, recipe, seed)
    has (all 9 XTREME tasks on a full grid); all common targets when none is a benchmark task
    (a custom target set)."""
    common = _common_targets(tidy)
    suite = [t for t in benchmark_tasks(benchmark) if t in common]
    return suite if benchmark != "xtreme" else target_order(suite or common)


def describe_targets(targets: Sequence[str]) -> str:
    """"XTREME (all 9)" for the full benchmark, else the task names."""
    xtreme = benchmark_tasks("xtreme")
    if set(targets) == set(xtreme) and len(targets) == len(xtreme):
        return "XTREME (all 9)"
    return ", ".join(targets) if targets else "none"


def _benchmark_task_scores(tidy: pd.DataFrame, benchmark: str) -> pd.DataFrame:
    """Per-seed task scores over each task's languages in `benchmark` (all evaluated languages
    when none of them is one of the benchmark's, as on mini-XTREME)."""
    scores = tidy[tidy["metric"] == SCORE]
    parts = []
    for target, grp in scores.groupby("target"):
        if target not in benchmark_tasks(benchmark):
            continue
        langs = set(benchmark_languages(target, benchmark))
        keep = grp[grp["language"].isin(langs)]
        # English is in every list: a synthetic benchmark shares no other language with it
        parts.append(keep if (keep["language"] != "en").any() else grp)
    return task_scores(pd.concat(parts)) if parts else task_scores(scores.iloc[:0])


def seed_averages(tidy: pd.DataFrame, benchmark: str = "xtreme") -> pd.DataFrame:
    """Per-seed benchmark average: model, recipe, seed, avg (over `average_targets`)."""
    targets = average_targets(tidy, benchmark)
    ts = task_scores(tidy) if benchmark == "xtreme" else _benchmark_task_scores(tidy, benchmark)
    sub = ts[ts["target"].isin(targets)]
    out = sub.groupby(["model", "recipe", "seed"], sort=True)[SCORE].mean()
    return out.rename(AVG).reset_index()


def _seed_long(tidy: pd.DataFrame) -> pd.DataFrame:
    """Per-seed task scores with the XTREME average appended as target "avg" and, when the grid
    has an XTREME-R task that XTREME lacks (XCOPA), XTREME-R's as "avg_xtreme_r"."""
    ts = task_scores(tidy)
    parts = [ts, seed_averages(tidy).rename(columns={AVG: SCORE}).assign(target=AVG)[ts.columns]]
    only_r = set(benchmark_tasks("xtreme_r")) - set(benchmark_tasks("xtreme"))
    if only_r & _common_targets(tidy):
        avg_r = seed_averages(tidy, "xtreme_r").rename(columns={AVG: SCORE})
        parts.append(avg_r.assign(target=AVG_R)[ts.columns])
    return pd.concat(parts, ignore_index=True)


def _row_keys(frame: pd.DataFrame, baseline: str) -> list[tuple[str, str]]:
    pairs = set(zip(frame["model"], frame["recipe"], strict=True))
    return [(m, r) for m in sorted({m for m, _ in pairs})
            for r in recipe_order({r for mm, r in pairs if mm == m}, baseline)]


# ---------------------------------------------------------------------------- tables

def xtreme_table(tidy: pd.DataFrame, baseline: str = "none") -> pd.DataFrame:
    """Mean and sd over seeds of each task score and the XTREME average, per model x recipe.

    Columns: model, recipe, n_seeds, <target>, <target>_sd ..., avg, avg_sd, avg_over.
    sd is the sample sd (ddof=1; NaN with one seed).
    """
    long = _seed_long(tidy)
    averages = [a for a in (AVG, AVG_R) if a in set(long["target"])]
    targets = target_order(set(long["target"]) - {AVG, AVG_R})
    stats_ = long.groupby(["model", "recipe", "target"])[SCORE].agg(["mean", "std"])
    seeds = long.groupby(["model", "recipe"])["seed"].nunique()
    over = describe_targets(average_targets(tidy))
    rows = []
    for model, recipe in _row_keys(long, baseline):
        row: dict[str, Any] = {"model": model, "recipe": recipe,
                               "n_seeds": int(seeds[(model, recipe)])}
        for target in [*targets, *averages]:
            key = (model, recipe, target)
            found = key in stats_.index
            row[target] = float(stats_.loc[key, "mean"]) if found else math.nan
            row[f"{target}_sd"] = float(stats_.loc[key, "std"]) if found else math.nan
        row["avg_over"] = over
        rows.append(row)
    return pd.DataFrame(rows)


def _paired(rec: pd.Series, base: pd.Series) -> tuple[float, float, int]:
    """(delta of means, paired t-test p-value over common seeds, number of pairs)."""
    if rec.empty or base.empty:
        return math.nan, math.nan, 0
    delta = float(rec.mean() - base.mean())
    common = sorted(set(rec.index) & set(base.index))
    if len(common) < 2:
        return delta, math.nan, len(common)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(stats.ttest_rel(rec.loc[common].to_numpy(), base.loc[common].to_numpy()).pvalue)
    return delta, p, len(common)


def improvement_long(tidy: pd.DataFrame, baseline: str = "none",
                     replicates: Mapping[IV.Key, Any] | None = None,
                     level: float = LEVEL) -> pd.DataFrame:
    """Long improvement table: model, recipe, target (incl. "avg"), delta, p_value,
    n_pairs, mean, baseline_mean, lo, hi, seed_lo, seed_hi. delta = recipe mean - baseline mean
    over seeds; p_value from scipy.stats.ttest_rel on per-seed scores paired by seed (NaN with
    < 2 pairs); lo, hi: the percentile interval of the paired example-bootstrap `replicates`
    (`intervals.improvement_replicates`; NaN without); seed_lo, seed_hi: the t interval over
    the per-seed differences (NaN with < 3 pairs)."""
    long = _seed_long(tidy)
    if baseline not in set(long["recipe"]):
        raise ValueError(f"baseline recipe '{baseline}' not in the scores; have "
                         f"{sorted(set(long['recipe']))}")
    averages = [a for a in (AVG, AVG_R) if a in set(long["target"])]
    targets = [*target_order(set(long["target"]) - {AVG, AVG_R}), *averages]
    series = {key: grp.set_index("seed")[SCORE].sort_index()
              for key, grp in long.groupby(["model", "recipe", "target"])}
    empty = pd.Series(dtype="float64")
    rows = []
    for model, recipe in _row_keys(long, baseline):
        if recipe == baseline:
            continue
        for target in targets:
            rec = series.get((model, recipe, target), empty)
            base = series.get((model, baseline, target), empty)
            delta, p, n = _paired(rec, base)
            common = sorted(set(rec.index) & set(base.index))
            seed_lo, seed_hi = IV.seed_interval(
                (rec.loc[common] - base.loc[common]).to_numpy(), level)
            reps = (replicates or {}).get((model, recipe, target))
            lo, hi = (percentile_ci(reps, level) if reps is not None
                      else (math.nan, math.nan))
            rows.append({"model": model, "recipe": recipe, "target": target,
                         "delta": delta, "p_value": p, "n_pairs": n,
                         "mean": float(rec.mean()) if len(rec) else math.nan,
                         "baseline_mean": float(base.mean()) if len(base) else math.nan,
                         "lo": lo, "hi": hi, "seed_lo": seed_lo, "seed_hi": seed_hi})
    cols = ["model", "recipe", "target", "delta", "p_value", "n_pairs", "mean",
            "baseline_mean", "lo", "hi", "seed_lo", "seed_hi"]
    return pd.DataFrame(rows, columns=cols)


def improvement_table(tidy: pd.DataFrame, baseline: str = "none",
                      replicates: Mapping[IV.Key, Any] | None = None,
                      level: float = LEVEL) -> pd.DataFrame:
    """Table-1-style improvements over `baseline`, one row per model x recipe.

    Columns: model, recipe, then per target <target>, <target>_p, <target>_lo,
    <target>_hi (example-bootstrap interval), <target>_seed_lo, <target>_seed_hi (seed
    interval) ..., avg and its columns, n_pairs (min over columns of the number of seeds
    paired with the baseline).
    """
    imp = improvement_long(tidy, baseline, replicates, level)
    targets = list(dict.fromkeys(imp["target"]))
    fields = {"": "delta", "_p": "p_value", "_lo": "lo", "_hi": "hi", "_seed_lo": "seed_lo",
              "_seed_hi": "seed_hi"}
    rows = []
    for (model, recipe), grp in imp.groupby(["model", "recipe"], sort=False):
        row: dict[str, Any] = {"model": model, "recipe": recipe}
        by = grp.set_index("target")
        for target in targets:
            for suffix, col in fields.items():
                row[f"{target}{suffix}"] = float(by.loc[target, col])
        row["n_pairs"] = int(grp["n_pairs"].min())
        rows.append(row)
    cols = (["model", "recipe"] + [f"{t}{s}" for t in targets for s in fields]
            + ["n_pairs"])
    return pd.DataFrame(rows, columns=cols)


def per_language_table(tidy: pd.DataFrame, target: str, baseline: str = "none") -> pd.DataFrame:
    """Mean over seeds of each language's score for `target`; languages as columns + "avg"."""
    _check_tidy(tidy)
    sub = tidy[(tidy["metric"] == SCORE) & (tidy["target"] == target)]
    if sub.empty:
        raise ValueError(f"target '{target}' not in the scores; have "
                         f"{target_order(set(tidy['target']))}")
    langs = sorted(set(sub["language"]))
    means = sub.groupby(["model", "recipe", "language"])["value"].mean()
    ts = task_scores(sub)
    task_mean = ts.groupby(["model", "recipe"])[SCORE].mean()
    seeds = ts.groupby(["model", "recipe"])["seed"].nunique()
    rows = []
    for model, recipe in _row_keys(sub, baseline):
        row: dict[str, Any] = {"model": model, "recipe": recipe,
                               "n_seeds": int(seeds[(model, recipe)])}
        for lang in langs:
            key = (model, recipe, lang)
            row[lang] = float(means[key]) if key in means.index else math.nan
        row[AVG] = float(task_mean[(model, recipe)])
        rows.append(row)
    return pd.DataFrame(rows, columns=["model", "recipe", "n_seeds", *langs, AVG])


# ---------------------------------------------------------------------------- rendering

def _label_cols(df: pd.DataFrame) -> pd.DataFrame:
    """model (only when there are several) and recipe, as display strings."""
    cols = ["recipe"] if df["model"].nunique() <= 1 else ["model", "recipe"]
    return df[cols].astype(str).reset_index(drop=True)


def display_xtreme(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Display frame ("mean ± sd") and its numeric columns."""
    out = _label_cols(table)
    out["seeds"] = table["n_seeds"].astype(int).astype(str).to_numpy()
    targets = [c for c in table.columns if f"{c}_sd" in table.columns]
    for t in targets:
        out[t] = [fmt_mean_sd(m, s) for m, s in zip(table[t], table[f"{t}_sd"], strict=True)]
    return out, ["seeds", *targets]


def _interval(row: pd.Series, target: str) -> str:
    """" [lo, hi]" (example bootstrap) and " {lo, hi}" (seeds) where the table has them."""
    out = ""
    for lo, hi, fmt in (("_lo", "_hi", " [{}, {}]"), ("_seed_lo", "_seed_hi", " {{{}, {}}}")):
        a, b = row.get(f"{target}{lo}", math.nan), row.get(f"{target}{hi}", math.nan)
        if not (math.isnan(a) or math.isnan(b)):
            out += fmt.format(fmt_num(a, 1, signed=True), fmt_num(b, 1, signed=True))
    return out


def display_improvement(table: pd.DataFrame, xtreme: pd.DataFrame,
                        baseline: str) -> tuple[pd.DataFrame, list[str]]:
    """Per model: the baseline row with absolute scores, then signed deltas ("*": p < 0.05)."""
    targets = [c for c in table.columns if f"{c}_seed_lo" in table.columns]
    rows: list[dict[str, str]] = []
    for model in sorted(set(table["model"])):
        for _, b in xtreme[(xtreme["model"] == model)
                           & (xtreme["recipe"] == baseline)].iterrows():
            rows.append({"model": model, "recipe": f"{baseline} (absolute)",
                         **{t: fmt_num(b.get(t, math.nan)) for t in targets}})
        for _, r in table[table["model"] == model].iterrows():
            cells = {}
            marks = r["n_pairs"] >= MIN_SEEDS_FOR_STARS
            for t in targets:
                d, p = r[t], r[f"{t}_p"]
                star = "*" if (marks and not math.isnan(p) and p < SIGNIFICANCE) else ""
                cells[t] = MISSING if math.isnan(d) else (fmt_num(d, signed=True) + star
                                                          + _interval(r, t))
            rows.append({"model": model, "recipe": r["recipe"], **cells})
    out = pd.DataFrame(rows, columns=["model", "recipe", *targets])
    if table["model"].nunique() <= 1:
        out = out.drop(columns="model")
    return out, targets


def display_per_language(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    out = _label_cols(table)
    numeric = [c for c in table.columns if c not in ("model", "recipe", "n_seeds")]
    for c in numeric:
        out[c] = [fmt_num(v) for v in table[c]]
    return out, numeric


def _write_formats(stem: Path, table: pd.DataFrame, display: pd.DataFrame,
                   numeric: list[str], caption: str, note: str = "") -> list[Path]:
    """CSV, Markdown and LaTeX; `note` (e.g. the reported split) ends the caption and follows
    the Markdown table."""
    csv = table.to_csv(index=False, lineterminator="\n")
    label = f"tab:{stem.name}"
    markdown = to_markdown(display, numeric) + (f"\n{note.strip()}\n" if note else "")
    return [write_atomic(stem.with_suffix(".csv"), csv),
            write_atomic(stem.with_suffix(".md"), markdown),
            write_atomic(stem.with_suffix(".tex"),
                         to_latex(display, numeric, caption + note, label))]


def reported_splits(score_files: Sequence[Path]) -> pd.DataFrame:
    """target, language, split: the split each score was computed on (score files' "splits",
    written by the evaluate stage; "test" when a file has none, e.g. retrieval). A language
    scored on different splits by different runs is "mixed"."""
    seen: dict[tuple[str, str], str] = {}
    for path in score_files:
        raw = read_json_object(Path(path), "score file")
        per_lang = raw.get("splits") if isinstance(raw.get("splits"), dict) else {}
        langs = raw.get("languages") if isinstance(raw.get("languages"), dict) else {}
        for lang in langs:
            split = str(per_lang.get(lang, raw.get("split", "test")))
            key = (str(raw["target"]), str(lang))
            seen[key] = split if seen.get(key, split) == split else "mixed"
    rows = [(t, lang, s) for (t, lang), s in sorted(seen.items())]
    return pd.DataFrame(rows, columns=["target", "language", "split"])


def _split_note(splits: pd.DataFrame | None, target: str | None = None) -> str:
    """Caption text naming the splits that are not "test" (empty when everything is test)."""
    if splits is None or splits.empty:
        return ""
    frame = splits if target is None else splits[splits["target"] == target]
    other = frame[frame["split"] != "test"]
    if other.empty:
        return ""
    if target is not None:
        names = sorted(set(other["split"]))
        return f" Reported on the {'/'.join(names)} split (test gold withheld)."
    parts = [f"{t} ({'/'.join(sorted(set(g['split'])))})" for t, g in other.groupby("target")]
    return f" Not on the test split (its gold withheld): {', '.join(parts)}."


def _improvement_caption(baseline: str, over: str, n_boot: int, level: float) -> str:
    pct = f"{100 * level:.0f}%"
    boot = (f"[lo, hi]: {pct} paired bootstrap interval over test examples ({n_boot} "
            "replicates; the recipe and the baseline resampled with the same examples per "
            "language; percentile interval of the difference of means)"
            if n_boot else "no example-bootstrap intervals (no predictions and labels given)")
    return (f"Improvement over '{baseline}' (rows marked 'absolute': scores). {boot}; "
            f"{{lo, hi}}: {pct} t interval over the per-seed differences (only with >= "
            f"{IV.MIN_SEEDS_FOR_SEED_CI} paired seeds). * marks p < {SIGNIFICANCE} in a paired "
            f"t-test over seeds (only rows with >= {MIN_SEEDS_FOR_STARS} paired seeds). "
            f"avg over {over}.")


def write_tables(tidy: pd.DataFrame, out_dir: Path, baseline: str = "none",
                 splits: pd.DataFrame | None = None,
                 replicates: Mapping[IV.Key, Any] | None = None,
                 recipes: Mapping[str, FD.Recipe] | None = None,
                 formats: Mapping[str, str] | None = None, n_boot: int = 0,
                 level: float = LEVEL) -> list[Path]:
    """Write tidy.csv and the xtreme, improvement and findings (if `baseline` is present) and
    per-language tables as CSV (full precision), Markdown and LaTeX (2 decimals), atomically;
    with `splits` (`reported_splits`) also splits.csv, and captions name any split other than
    test. `replicates` (`intervals.improvement_replicates`, `n_boot` each) give the
    improvements' example-bootstrap intervals and the findings' verdicts; `recipes` and
    `formats` (task -> format) tell the findings which recipe and target is which."""
    _check_tidy(tidy)
    out_dir = Path(out_dir)
    ordered = tidy.sort_values(TIDY_COLUMNS[:6], kind="stable")[TIDY_COLUMNS]
    written = [write_atomic(out_dir / "tidy.csv", ordered.to_csv(index=False, lineterminator="\n"))]
    if splits is not None:
        written.append(write_atomic(out_dir / "splits.csv",
                                    splits.to_csv(index=False, lineterminator="\n")))
    xt = xtreme_table(tidy, baseline)
    over = xt["avg_over"].iloc[0] if len(xt) else "none"
    disp, num = display_xtreme(xt)
    written += _write_formats(out_dir / "xtreme", xt, disp, num,
                              f"Task scores and average over {over}: mean ± sd over seeds.",
                              _split_note(splits))
    recipe_names = set(tidy["recipe"])
    if baseline in recipe_names and len(recipe_names) > 1:
        imp = improvement_table(tidy, baseline, replicates, level)
        disp, num = display_improvement(imp, xt, baseline)
        caption = _improvement_caption(baseline, over, n_boot if replicates else 0, level)
        written += _write_formats(out_dir / "improvement", imp, disp, num, caption,
                                  caption if replicates is not None else "")
        found = FD.findings_table(improvement_long(tidy, baseline), recipes or {}, formats or {},
                                  replicates, level)
        written += [write_atomic(out_dir / "findings.csv",
                                 found.to_csv(index=False, lineterminator="\n")),
                    write_atomic(out_dir / "findings.md", FD.findings_markdown(found))]
    else:
        log.warning("need baseline '%s' and another recipe for the improvement table; have %s",
                    baseline, sorted(recipe_names))
    for target in target_order(set(tidy["target"])):
        pl = per_language_table(tidy, target, baseline)
        disp, num = display_per_language(pl)
        written += _write_formats(out_dir / f"per_language_{target}", pl, disp, num,
                                  f"{target}: score per language, mean over seeds.",
                                  _split_note(splits, target))
    return written


def improvement_replicates(tidy: pd.DataFrame, predictions: Path, labels: Path,
                           tasks: Mapping[str, Any], n_boot: int, seed: int = 0,
                           synthetic: bool = False, baseline: str = "none"
                           ) -> dict[IV.Key, Any]:
    """Paired example-bootstrap improvement replicates of every (model, recipe, target) and
    "avg", from `predictions/<model>/<recipe>/seed<N>/<target>/` and `labels/<target>/`."""
    from xstilts.analysis.scoring import synthetic_metric_language

    reps = IV.task_replicates(
        tidy, lambda m, r, s: Path(predictions) / m / r / f"seed{s}", Path(labels), tasks,
        n_boot, seed, synthetic_metric_language if synthetic else None)
    reps = IV.with_average(reps, average_targets(tidy))
    return IV.improvement_replicates(reps, baseline)


# ---------------------------------------------------------------------------- intermediate dev

DEV_COLUMNS = ["model", "recipe", "seed", "task", "metric", "steps", "max_steps", "dev",
               "chance", "above_chance", "train_loss", "chance_loss"]


def intermediate_dev_table(files: Sequence[Path]) -> pd.DataFrame:
    """One row per (model, recipe, seed, task) from the intermediate stage's dev score files
    (`stages.intermediate.dev_report`): dev and chance score in percent, the run's steps, its
    final training loss and the task's chance loss."""
    rows = []
    for path in files:
        raw = read_json_object(path, "intermediate dev score file")
        try:
            for task, entry in raw["tasks"].items():
                rows.append({"model": raw["model"], "recipe": raw["recipe"], "seed": raw["seed"],
                             "task": task, "metric": entry["metric"], "steps": raw["steps"],
                             "max_steps": raw["max_steps"], "dev": 100 * entry["dev"],
                             "chance": 100 * entry["chance"],
                             "above_chance": entry["above_chance"],
                             "train_loss": raw["train_loss"],
                             "chance_loss": entry["chance_loss"]})
        except (KeyError, TypeError, AttributeError) as err:
            raise DataError(f"{path}: intermediate dev score file lacks {err}") from err
    return pd.DataFrame(rows, columns=DEV_COLUMNS).sort_values(DEV_COLUMNS[:4], kind="stable")


def write_intermediate_dev(files: Sequence[Path], out_dir: Path) -> list[Path]:
    """intermediate_dev.csv (full precision) and .md (2 decimals)."""
    table = intermediate_dev_table(files)
    display = table.map(lambda v: fmt_num(v) if v is None or isinstance(v, float) else str(v))
    numeric = ["seed", "steps", "max_steps", "dev", "chance", "train_loss", "chance_loss"]
    return [write_atomic(Path(out_dir) / "intermediate_dev.csv",
                         table.to_csv(index=False, lineterminator="\n")),
            write_atomic(Path(out_dir) / "intermediate_dev.md", to_markdown(display, numeric))]


# ---------------------------------------------------------------------------- CLI

def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xstilts.analysis.scores", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--baseline", default="none", help="baseline intermediate recipe")
    parser.add_argument("files", nargs="+", type=Path, help="scores.json files")
    parser.add_argument("--intermediate-dev", nargs="*", type=Path, default=None,
                        help="the intermediate stage's dev score files: writes the "
                             "intermediate_dev table (empty without files)")
    parser.add_argument("--predictions", type=Path, default=None,
                        help="predictions root (<model>/<recipe>/seed<N>/<target>/): with "
                             "--labels, paired bootstrap intervals of the improvements")
    parser.add_argument("--labels", type=Path, default=None, help="labels root (<target>/)")
    parser.add_argument("--bootstrap", type=int, default=1000,
                        help="bootstrap replicates (0: no example intervals)")
    parser.add_argument("--bootstrap-seed", type=int, default=0)
    parser.add_argument("--synthetic", action="store_true",
                        help="mini-XTREME: score non-English QA with MLQA's neutral rules")
    parser.add_argument("--recipes", type=json.loads, default={},
                        help="the config's recipes as JSON (for the findings)")
    parser.add_argument("--tasks", type=json.loads, default={},
                        help="the config's task entries as JSON (tasks outside the registry)")
    args = parser.parse_args(argv)
    from xstilts.io.provenance import start_tool_log
    from xstilts.tasks.registry import get_task

    start_tool_log("aggregate")
    tidy = collect(args.files)
    recipes = FD.recipes_from_config(args.recipes)
    names = set(tidy["target"]) | {t for r in recipes.values() for t in r.tasks}
    specs = {n: get_task(n, args.tasks) for n in sorted(names)}
    replicates = None
    if args.predictions and args.labels and args.bootstrap > 0 \
            and args.baseline in set(tidy["recipe"]):
        started = time.process_time()
        replicates = improvement_replicates(
            tidy, args.predictions, args.labels, specs, args.bootstrap, args.bootstrap_seed,
            args.synthetic, args.baseline)
        log.info("bootstrap: %d replicates in %.1f CPU seconds", args.bootstrap,
                 time.process_time() - started)
    formats = {n: s.format for n, s in specs.items()}
    for path in write_tables(tidy, args.out, args.baseline, reported_splits(args.files),
                             replicates, recipes, formats, args.bootstrap, LEVEL):
        print(path)
    if args.intermediate_dev is not None:
        for path in write_intermediate_dev(args.intermediate_dev, args.out):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

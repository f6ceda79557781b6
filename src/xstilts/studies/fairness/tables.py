"""Fairness tables: summary per (model, recipe, target), family scores and family improvement
over the baseline, with bootstrap intervals (`xstilts.studies.fairness.measure`)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xstilts.analysis.scores import AVG, recipe_order, target_order
from xstilts.analysis.tables import MISSING, fmt_num, to_latex, to_markdown
from xstilts.io.atomic import write_atomic
from xstilts.studies.fairness.measure import (
    LEVEL,
    NUMERIC,
    Key,
    LangScores,
    fairness_summary,
    meta_rows,
    percentile_ci,
    summary_values,
)


def _order(keys: Iterable[Key], baseline: str) -> list[Key]:
    keys = list(keys)
    out = []
    for model in sorted({k[0] for k in keys}):
        recipes = recipe_order({k[1] for k in keys if k[0] == model}, baseline)
        for recipe in recipes:
            targets = {k[2] for k in keys if k[:2] == (model, recipe)}
            ordered = target_order(targets - {AVG}) + ([AVG] if AVG in targets else [])
            out += [(model, recipe, t) for t in ordered]
    return out


# ---------------------------------------------------------------------------- tables

def summary_table(scores: Mapping[Key, LangScores], meta: pd.DataFrame, baseline: str = "none",
                  include_english: bool = False, level: float = LEVEL) -> pd.DataFrame:
    """One row per (model, recipe, target): NUMERIC metrics with `<m>_lo`/`<m>_hi` CIs,
    the worst language and family (with its size) and the numbers of languages and seeds."""
    rows = []
    for key in _order(scores, baseline):
        ls = scores[key]
        point = fairness_summary(dict(zip(ls.langs, ls.point, strict=True)), meta,
                                 include_english)
        reps = (summary_values(ls.reps, ls.langs, meta, include_english)
                if ls.reps is not None else {})
        row: dict[str, Any] = {"model": key[0], "recipe": key[1], "target": key[2],
                               "n_languages": point["n_languages"], "n_seeds": ls.n_seeds,
                               "worst_language": point["worst_language"],
                               "worst_family": point["worst_family"],
                               "worst_family_size": point["worst_family_size"]}
        for m in NUMERIC:
            lo, hi = percentile_ci(reps[m], level) if m in reps else (math.nan, math.nan)
            row.update({m: point[m], f"{m}_lo": lo, f"{m}_hi": hi})
        rows.append(row)
    return pd.DataFrame(rows)


def _family_values(ls: LangScores, meta: pd.DataFrame, include_english: bool
                   ) -> dict[str, tuple[float, np.ndarray | None, int, list[str]]]:
    rows = meta_rows(meta, ls.langs)
    keep = [i for i, e in enumerate(rows["is_english"]) if include_english or not e]
    out = {}
    fams = rows["family"].to_numpy()
    for fam in sorted({str(fams[i]) for i in keep}):
        idx = [i for i in keep if fams[i] == fam]
        reps = ls.reps[:, idx].mean(axis=1) if ls.reps is not None else None
        out[fam] = (float(ls.point[idx].mean()), reps, len(idx), [ls.langs[i] for i in idx])
    return out


def family_table(scores: Mapping[Key, LangScores], meta: pd.DataFrame, baseline: str = "none",
                 include_english: bool = False, level: float = LEVEL) -> pd.DataFrame:
    """Family means: model, recipe, target, family, n, languages, mean, lo, hi."""
    rows = []
    for key in _order(scores, baseline):
        for fam, (mean, reps, n, langs) in _family_values(scores[key], meta,
                                                           include_english).items():
            lo, hi = percentile_ci(reps, level) if reps is not None else (math.nan, math.nan)
            rows.append({"model": key[0], "recipe": key[1], "target": key[2],
                         "family": fam, "n": n, "languages": " ".join(langs),
                         "mean": mean, "lo": lo, "hi": hi})
    return pd.DataFrame(rows, columns=["model", "recipe", "target", "family", "n",
                                       "languages", "mean", "lo", "hi"])


def family_improvement_table(scores: Mapping[Key, LangScores], meta: pd.DataFrame,
                             baseline: str = "none", include_english: bool = False,
                             level: float = LEVEL) -> pd.DataFrame:
    """Recipe minus `baseline` per family (over the languages both have), with a paired
    bootstrap CI: model, recipe, target, family, n, delta, lo, hi."""
    cols = ["model", "recipe", "target", "family", "n", "delta", "lo", "hi"]
    rows = []
    for key in _order(scores, baseline):
        base_key = (key[0], baseline, key[2])
        if key[1] == baseline or base_key not in scores:
            continue
        rec, base = scores[key], scores[base_key]
        common = [lang for lang in rec.langs if lang in base.langs]
        if not common:
            continue
        ri = [rec.langs.index(lang) for lang in common]
        bi = [base.langs.index(lang) for lang in common]
        reps = (rec.reps[:, ri] - base.reps[:, bi]
                if rec.reps is not None and base.reps is not None else None)
        diff = LangScores(common, rec.point[ri] - base.point[bi], reps, rec.n_seeds)
        for fam, (delta, freps, n, _) in _family_values(diff, meta, include_english).items():
            lo, hi = percentile_ci(freps, level) if freps is not None else (math.nan, math.nan)
            rows.append(dict(zip(cols, [*key, fam, n, delta, lo, hi], strict=True)))
    return pd.DataFrame(rows, columns=cols)


# ---------------------------------------------------------------------------- rendering

def fmt_ci(value: float, lo: float, hi: float, digits: int = 2, signed: bool = False) -> str:
    """"v [lo, hi]" (just "v" without a CI)."""
    text = fmt_num(value, digits, signed)
    if text == MISSING or math.isnan(lo) or math.isnan(hi):
        return text
    return f"{text} [{fmt_num(lo, digits, signed)}, {fmt_num(hi, digits, signed)}]"


def _excludes_zero(lo: float, hi: float) -> bool:
    return not (math.isnan(lo) or math.isnan(hi)) and (lo > 0 or hi < 0)


# statistics that are not smooth in the per-language scores: their percentile intervals are
# biased (minima down, spreads up) and can exclude the point estimate; marked with a dagger
BIASED_CI = ("worst_language_score", "worst_family_score", "best_worst_gap", "sd", "gini")
BIASED_CI_NOTE = ("† Percentile bootstrap interval of a statistic that is not smooth in the "
                  "per-language scores (minimum, best-worst gap, sd, Gini): sampling noise in "
                  "every language shifts it (minima down, spreads up), so it can exclude the "
                  "point estimate. Read it as the statistic's spread under test-set resampling, "
                  "not as a coverage interval.")


def display_summary(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    labels = {"mean": "mean", "worst_language_score": "worst lang.",
              "worst_family_score": "worst family", "best_worst_gap": "best-worst",
              "sd": "sd", "gini": "Gini", "english_gap": "en - rest",
              "speaker_weighted": "speaker-wtd."}
    labels = {m: f"{label} †" if m in BIASED_CI else label for m, label in labels.items()}
    out = pd.DataFrame()
    if table["model"].nunique() > 1:
        out["model"] = table["model"]
    out["recipe"] = table["recipe"]
    out["target"] = table["target"]
    out["langs"] = table["n_languages"].astype(str)
    for m in NUMERIC:
        digits = 3 if m == "gini" else 2
        cells = [fmt_ci(v, lo, hi, digits) for v, lo, hi in
                 zip(table[m], table[f"{m}_lo"], table[f"{m}_hi"], strict=True)]
        if m == "worst_language_score":
            cells = [f"{c} ({w})" for c, w in zip(cells, table["worst_language"], strict=True)]
        if m == "worst_family_score":
            cells = [f"{c} ({f}, n={n})" for c, f, n in
                     zip(cells, table["worst_family"], table["worst_family_size"], strict=True)]
        out[labels[m]] = cells
    return out.reset_index(drop=True), ["langs", *labels.values()]


def _pivot_display(table: pd.DataFrame, value: str, signed: bool) -> dict[str, pd.DataFrame]:
    """Per target: rows recipe (model / recipe), columns "family (n=k)", cells "v [lo, hi]"."""
    out = {}
    several = table["model"].nunique() > 1
    for target in dict.fromkeys(table["target"]):
        sub = table[table["target"] == target]
        sizes = sub.groupby("family")["n"].max()
        fam_cols = {f: f"{f} (n={sizes[f]})" for f in sorted(sizes.index)}
        rows = []
        for (model, recipe), grp in sub.groupby(["model", "recipe"], sort=False):
            row = {"model": model} if several else {}
            row["recipe"] = recipe
            for fam, col in fam_cols.items():
                hit = grp[grp["family"] == fam]
                if hit.empty:
                    row[col] = MISSING
                    continue
                r = hit.iloc[0]
                star = "*" if signed and _excludes_zero(r["lo"], r["hi"]) else ""
                row[col] = fmt_ci(r[value], r["lo"], r["hi"], signed=signed) + star
            rows.append(row)
        out[str(target)] = pd.DataFrame(rows)
    return out


def _write_sections(stem: Path, table: pd.DataFrame, sections: Mapping[str, pd.DataFrame],
                    caption: str) -> list[Path]:
    md = [f"{caption}\n"]
    tex = []
    for target, disp in sections.items():
        numeric = [c for c in disp.columns if c not in ("model", "recipe")]
        md.append(f"\n## {target}\n\n{to_markdown(disp, numeric)}")
        tex.append(to_latex(disp, numeric, f"{caption} Target: {target}.",
                            f"tab:{stem.name}_{target}"))
    return [write_atomic(stem.with_suffix(".csv"), table.to_csv(index=False, lineterminator="\n")),
            write_atomic(stem.with_suffix(".md"), "".join(md)),
            write_atomic(stem.with_suffix(".tex"), "\n".join(tex))]


def write_fairness_tables(out_dir: Path, summary: pd.DataFrame, families: pd.DataFrame,
                          improvement: pd.DataFrame, level: float = LEVEL,
                          baseline: str = "none") -> list[Path]:
    """fairness_summary, family_scores and (if any) family_improvement as CSV (full
    precision), Markdown and LaTeX (CIs in brackets)."""
    out_dir = Path(out_dir)
    pct = f"{round(level * 100)}%"
    disp, numeric = display_summary(summary)
    cap = (f"Fairness across languages per recipe and target ({pct} percentile bootstrap CIs "
           "over test examples in brackets; Gini on a 0-1 scale; worst family with its size n). "
           + BIASED_CI_NOTE)
    md = f"{cap}\n\n{to_markdown(disp, numeric)}"
    written = [write_atomic(out_dir / "fairness_summary.csv",
                            summary.to_csv(index=False, lineterminator="\n")),
               write_atomic(out_dir / "fairness_summary.md", md),
               write_atomic(out_dir / "fairness_summary.tex",
                            to_latex(disp, numeric, cap, "tab:fairness_summary"))]
    written += _write_sections(out_dir / "family_scores", families,
                               _pivot_display(families, "mean", signed=False),
                               f"Mean score per language family (n languages; {pct} CI).")
    if not improvement.empty:
        written += _write_sections(
            out_dir / "family_improvement", improvement,
            _pivot_display(improvement, "delta", signed=True),
            f"Improvement over '{baseline}' per language family (paired {pct} bootstrap CI; "
            "* the CI excludes 0).")
    return written

"""Fairness figures from `xstilts.studies.fairness.measure.family_improvement_table` (PNG + PDF,
Agg canvases, deterministic metadata, atomic writes: the helpers of `xstilts.analysis.figures`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import rc_context

from xstilts.analysis.figures import (
    RC,
    distinct_colors,
    diverging_heatmap,
    figure_style,
    new_figure,
    save_figure,
)
from xstilts.analysis.scores import AVG
from xstilts.analysis.tables import fmt_num

COLUMNS = ("model", "recipe", "target", "family", "n", "delta", "lo", "hi")


def _select(improvement: pd.DataFrame, target: str,
            recipes: Sequence[str] | None) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in improvement.columns]
    if missing:
        raise ValueError(f"family improvement table lacks column(s) {missing}")
    sub = improvement[improvement["target"] == target]
    if recipes is not None:
        sub = sub[sub["recipe"].isin(recipes)]
    if sub.empty:
        raise ValueError(f"no family improvements for target '{target}' (recipes {recipes})")
    several = sub["model"].nunique() > 1
    label = (sub["model"].astype(str) + " / " + sub["recipe"].astype(str) if several
             else sub["recipe"].astype(str))
    sizes = sub.groupby("family")["n"].max()
    fam_label = sub["family"].map(lambda f: f"{f} (n={sizes[f]})")
    return sub.assign(label=label.to_numpy(), fam_label=fam_label.to_numpy())


def _significant(lo: float, hi: float) -> bool:
    return not (math.isnan(lo) or math.isnan(hi)) and (lo > 0 or hi < 0)


def family_improvement_bars(improvement: pd.DataFrame, stem: Path, target: str = AVG,
                            recipes: Sequence[str] | None = None,
                            baseline: str = "none") -> list[Path]:
    """Grouped bars: improvement over `baseline` per family (x) and recipe (hue), with the
    bootstrap CI as error bars (none when the table has no CIs)."""
    sub = _select(improvement, target, recipes)
    fams = sorted(dict.fromkeys(sub["fam_label"]))
    labels = list(dict.fromkeys(sub["label"]))
    colors = distinct_colors(len(labels))
    width = 0.8 / len(labels)
    x = np.arange(len(fams))
    with rc_context(RC), figure_style():
        fig = new_figure(min(max(5.0, 0.35 * len(fams) * max(1, len(labels) / 2) + 2.5), 30),
                          4.0)
        ax = fig.add_subplot()
        for k, label in enumerate(labels):
            part = sub[sub["label"] == label].set_index("fam_label").reindex(fams)
            delta = part["delta"].to_numpy(dtype=float)
            lo, hi = part["lo"].to_numpy(dtype=float), part["hi"].to_numpy(dtype=float)
            err = None
            if np.isfinite(lo).any():
                err = np.vstack([np.nan_to_num(delta - lo), np.nan_to_num(hi - delta)])
                err = np.clip(err, 0, None)
            ax.bar(x - 0.4 + width * (k + 0.5), delta, width, yerr=err, color=colors[k],
                   label=label, capsize=1.5, error_kw={"linewidth": 0.8})
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xticks(x, fams, rotation=30, ha="right")
        ax.set_xlim(-0.6, len(fams) - 0.4)
        ax.set_xlabel("language family")
        ax.set_ylabel(f"improvement over '{baseline}' (points)")
        ax.set_title(f"{target}: improvement by language family\n(error bars: bootstrap CI over "
                     "test examples, where computed)", fontsize="medium")
        ax.legend(title="recipe", fontsize="small", loc="upper left",
                  bbox_to_anchor=(1.0, 1.0))
        return save_figure(fig, stem)


def family_improvement_heatmap(improvement: pd.DataFrame, stem: Path, target: str = AVG,
                               recipes: Sequence[str] | None = None,
                               baseline: str = "none") -> list[Path]:
    """Heatmap recipe x family of the improvement over `baseline` ("*": the CI excludes 0)."""
    sub = _select(improvement, target, recipes)
    rows = list(dict.fromkeys(sub["label"]))
    cols = sorted(dict.fromkeys(sub["fam_label"]))
    delta = sub.pivot(index="label", columns="fam_label", values="delta").reindex(rows)[cols]
    lo = sub.pivot(index="label", columns="fam_label", values="lo").reindex(rows)[cols]
    hi = sub.pivot(index="label", columns="fam_label", values="hi").reindex(rows)[cols]
    annot = np.empty(delta.shape, dtype=object)
    for i in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            d = delta.iat[i, j]
            star = "*" if _significant(lo.iat[i, j], hi.iat[i, j]) else ""
            annot[i, j] = "" if math.isnan(d) else fmt_num(d, 1, signed=True) + star
    with rc_context(RC), figure_style():
        fig = new_figure(1.5 + 0.9 * len(cols), 1.8 + 0.45 * len(rows))
        ax = fig.add_subplot()
        vmax = diverging_heatmap(ax, delta.astype(float), annot, "improvement (points)")
        ax.set_xlabel("language family")
        ax.set_ylabel("intermediate recipe")
        ax.set_title(f"{target}: improvement by family (* bootstrap CI excludes 0)\n"
                     f"colour scale capped at ±{fmt_num(vmax, 1)}; cells show the values",
                     fontsize="medium")
        return save_figure(fig, stem)


def make_fairness_figures(improvement: pd.DataFrame, out_dir: Path, target: str = AVG,
                          recipes: Sequence[str] | None = None,
                          baseline: str = "none") -> list[Path]:
    """family_improvement (bars) and family_heatmap for `target`; nothing without rows."""
    if improvement.empty or not (improvement["target"] == target).any():
        return []
    out_dir = Path(out_dir)
    return [*family_improvement_bars(improvement, out_dir / "family_improvement", target,
                                     recipes, baseline),
            *family_improvement_heatmap(improvement, out_dir / "family_heatmap", target,
                                        recipes, baseline)]

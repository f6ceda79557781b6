"""Robustness figures: score vs perturbation severity per recipe (severity 0 = clean).

The scores are `xstilts.studies.robustness.tables.run_averages` (per-set non-English languages,
then targets), mean ± sd over seeds; drawn with xstilts.analysis.figures' helpers (Agg canvases,
deterministic PNG + PDF). The `robustness-report` stage draws them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import rc_context

from xstilts.analysis.figures import (
    MARKERS,
    RC,
    distinct_colors,
    figure_style,
    new_figure,
    ordered_labels,
    row_labels,
    save_figure,
    seed_note,
)
from xstilts.studies.robustness.tables import (
    ALL_OPS,
    RUN,
    op_order,
    run_averages,
)

log = logging.getLogger(__name__)


def severity_curves(frame: pd.DataFrame, recipes: Sequence[str] | None = None) -> pd.DataFrame:
    """Points of the curves: model, recipe, op, severity (0 = clean), mean, sd, n_seeds.

    The clean point of an op is, per run, the mean over its severities of the clean average
    (the same number when every severity covers the same languages and targets); that of "all"
    is the mean of the ops' clean points (ops that every run has)."""
    avg = run_averages(frame)
    if recipes is not None:
        avg = avg[avg["recipe"].isin(recipes)]
    if avg.empty:
        raise ValueError(f"no robustness scores to plot (recipes {recipes})")
    ops = avg[avg["op"] != ALL_OPS]
    clean = ops.groupby([*RUN, "op"])["clean"].mean().reset_index()
    common = frozenset.intersection(*clean.groupby(RUN)["op"].agg(frozenset))
    overall = (clean[clean["op"].isin(common)].groupby(RUN)["clean"].mean().reset_index()
               .assign(op=ALL_OPS))
    clean = (pd.concat([clean, overall], ignore_index=True)
             .rename(columns={"clean": "perturbed"}).assign(severity=0.0))
    clean = clean[clean["op"].isin(set(avg["op"]))]
    runs = pd.concat([clean, avg[[*RUN, "op", "severity", "perturbed"]]], ignore_index=True)
    keys = ["model", "recipe", "op", "severity"]
    out = runs.groupby(keys)["perturbed"].agg(["mean", "std", "count"]).reset_index()
    return out.rename(columns={"std": "sd", "count": "n_seeds"})


def severity_plot(frame: pd.DataFrame, stem: Path, ops: Sequence[str] | None = None,
                  recipes: Sequence[str] | None = None, baseline: str = "none") -> list[Path]:
    """One panel per op (default: every op and "all"); a line per recipe with sd error bars."""
    curves = severity_curves(frame, recipes)
    have = op_order(set(curves["op"]))
    ops = list(ops) if ops is not None else have
    unknown = sorted(set(ops) - set(have))
    if unknown:
        raise ValueError(f"unknown op(s) {unknown}; have {have}")
    curves = curves[curves["op"].isin(ops)].assign(label=lambda d: row_labels(d).to_numpy())
    order = ordered_labels(curves, baseline)
    colors = dict(zip(order, distinct_colors(len(order)), strict=True))
    markers = {label: MARKERS[k % len(MARKERS)] for k, label in enumerate(order)}
    ncols = min(3, len(ops))
    nrows = math.ceil(len(ops) / ncols)
    with rc_context(RC), figure_style():
        fig = new_figure(1.0 + 3.4 * ncols, 0.6 + 2.8 * nrows)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=True, squeeze=False)).ravel()
        span = float(curves["severity"].max()) or 1.0
        dodge = {label: 0.012 * span * (k - (len(order) - 1) / 2) for k, label in
                 enumerate(order)}  # error bars side by side, not on top of each other
        for ax, op in zip(axes, ops, strict=False):
            part = curves[curves["op"] == op]
            for label in order:
                line = part[part["label"] == label].sort_values("severity")
                if line.empty:
                    continue
                ax.errorbar(line["severity"] + dodge[label], line["mean"],
                            yerr=line["sd"].fillna(0.0),
                            color=colors[label], label=label, marker=markers[label], markersize=3,
                            capsize=2, linewidth=1.2)
            ax.set_xticks(sorted(set(part["severity"])))
            ax.set_title("mean over ops" if op == ALL_OPS else op)
            ax.set_xlabel("severity (0 = clean)")
            ax.set_ylabel("average score")
        for ax in axes[len(ops):]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, title="recipe", fontsize="small", loc="outside right")
        sep = " " if ncols > 1 else "\n"
        fig.suptitle(f"Score under perturbation{sep}(non-English languages; "
                     f"{seed_note(curves['n_seeds'])})")
        return save_figure(fig, stem)


def make_robustness_figures(frame: pd.DataFrame, out_dir: Path,
                            recipes: Sequence[str] | None = None,
                            baseline: str = "none") -> list[Path]:
    """robustness_by_op (a panel per op and the mean over ops) and robustness_mean (the mean
    over ops alone), PNG + PDF; returns the files."""
    out_dir = Path(out_dir)
    avg = run_averages(frame)
    if recipes is not None:
        avg = avg[avg["recipe"].isin(recipes)]
    if avg.empty:
        log.warning("no non-English perturbed scores: no robustness figures")
        return []
    written = severity_plot(frame, out_dir / "robustness_by_op", None, recipes, baseline)
    written += severity_plot(frame, out_dir / "robustness_mean", [ALL_OPS], recipes, baseline)
    return written

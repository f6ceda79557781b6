"""Alignment figures: metric by layer per recipe, and alignment change vs transfer gain."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import seaborn as sns
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
from xstilts.analysis.tables import fmt_num
from xstilts.studies.alignment.tables import METRIC_LABELS, Layer, describe_layer

# ---------------------------------------------------------------------------- figures


def layer_plot(frame: pd.DataFrame, stem: Path, value: str = "value", baseline: str = "none",
               title: str = "Alignment by layer", zero_line: bool = False) -> list[Path]:
    """One panel per metric, x = layer, a line per recipe: the mean over languages, averaged
    over seeds (band: sd over seeds, when there are several)."""
    data = frame.dropna(subset=[value])
    if data.empty:
        raise ValueError(f"nothing to plot for {stem.name}")
    keys = [c for c in ("model", "recipe", "seed", "metric", "layer") if c in data.columns]
    data = data.groupby(keys, sort=True)[value].mean().reset_index()
    data = data.assign(label=row_labels(data).to_numpy())
    order = ordered_labels(data, baseline)
    metrics = [m for m in METRIC_LABELS if m in set(data["metric"])]
    metrics += sorted(set(data["metric"]) - set(metrics))
    palette = dict(zip(order, distinct_colors(len(order)), strict=True))
    markers = {label: MARKERS[k % len(MARKERS)] for k, label in enumerate(order)}
    n_seeds = data.groupby("label")["seed"].nunique() if "seed" in data.columns else [1]
    with rc_context(RC), figure_style():
        fig = new_figure(3.2 * len(metrics) + 1.8, 3.4)
        axes = fig.subplots(1, len(metrics), squeeze=False)[0]
        for ax, metric in zip(axes, metrics, strict=True):
            part = data[data["metric"] == metric]
            sns.lineplot(data=part, x="layer", y=value, hue="label", hue_order=order,
                         palette=palette, estimator="mean", errorbar="sd", style="label",
                         style_order=order, markers=markers, dashes=False, ax=ax,
                         legend=metric == metrics[-1])
            if zero_line:
                ax.axhline(0.0, color="black", linewidth=0.8)
            ax.set_xticks(sorted(set(part["layer"])))
            ax.set_xlabel("layer (0 = embeddings)")
            label = METRIC_LABELS.get(metric, metric)
            ax.set_ylabel(f"change of {label}" if value == "change" else label)
            ax.set_title(metric)
        if axes[-1].get_legend() is not None:
            sns.move_legend(axes[-1], "upper left", bbox_to_anchor=(1.0, 1.0),
                            title="recipe", fontsize="small")
        fig.suptitle(f"{title}\n(lines: mean; band: {seed_note(n_seeds, 'sd')})",
                     fontsize="medium")
        return save_figure(fig, stem)


def gain_plot(joined: pd.DataFrame, corr: pd.DataFrame, stem: Path, metric: str, layer: Layer,
              baseline: str = "none") -> list[Path]:
    """Scatter of alignment change vs transfer gain per language, colour = recipe."""
    if joined.empty:
        raise ValueError("no (alignment change, transfer gain) pairs to plot")
    data = joined.assign(label=row_labels(joined).to_numpy())
    order = ordered_labels(data, baseline)
    total = corr.iloc[-1]
    with rc_context(RC), figure_style():
        fig = new_figure(6.4, 4.2)
        ax = fig.add_subplot()
        sns.scatterplot(data=data, x="change", y="gain", hue="label", hue_order=order,
                        palette=distinct_colors(len(order)), style="label", style_order=order,
                        markers=dict(zip(order, (MARKERS * len(order))[:len(order)],
                                         strict=True)), ax=ax)
        for _, row in data.iterrows():
            ax.annotate(row["language"], (row["change"], row["gain"]), fontsize=6,
                        xytext=(2, 2), textcoords="offset points")
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.axvline(0.0, color="grey", linewidth=0.8)
        ax.set_xlabel(f"change of {metric} {describe_layer(layer)} vs '{baseline}'")
        ax.set_ylabel(f"transfer gain vs '{baseline}' (points)")
        ax.set_title(f"Alignment change vs gain: Pearson r = {fmt_num(total['pearson_r'])}, "
                     f"Spearman ρ = {fmt_num(total['spearman_rho'])} (n = {int(total['n'])})",
                     fontsize="medium")
        if ax.get_legend() is not None:
            sns.move_legend(ax, "upper left", bbox_to_anchor=(1.0, 1.0), title="recipe",
                            fontsize="small")
        return save_figure(fig, stem)

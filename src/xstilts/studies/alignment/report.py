"""Alignment tables and figures from the alignment stage's JSONs (the study's report, run by
the `alignment-report` stage)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from xstilts.io.atomic import write_atomic
from xstilts.io.errors import DataError
from xstilts.studies.alignment.figures import gain_plot, layer_plot
from xstilts.studies.alignment.tables import (
    ALIGN_COLUMNS,
    CLEAN,
    METRIC_LABELS,
    Layer,
    alignment_change,
    at_layer,
    by_layer_wide,
    change_vs_gain,
    correlation_table,
    layer_means,
    read_alignment,
    stability_table,
    write_table,
)


def make_alignment_outputs(frame: pd.DataFrame, out_dir: Path,
                           scores: pd.DataFrame | None = None, baseline: str = "none",
                           metric: str = "acc_centered", layer: Layer = "retrieval",
                           targets: Sequence[str] | None = None,
                           figures_dir: Path | None = None) -> list[Path]:
    """Write every alignment table (CSV + Markdown) to `out_dir` and figure (PNG + PDF) to
    `figures_dir` (default `out_dir`)."""
    out_dir = Path(out_dir)
    fig_dir = Path(figures_dir) if figures_dir is not None else out_dir
    written = [write_atomic(out_dir / "alignment_tidy.csv",
                            frame[ALIGN_COLUMNS].to_csv(index=False, lineterminator="\n"))]
    wide = by_layer_wide(layer_means(frame))
    written += write_table(out_dir / "alignment_by_layer", wide,
                            [c for c in wide.columns if c.startswith("L")])
    stab = stability_table(frame, layer)
    if not stab.empty:
        written += write_table(out_dir / "alignment_stability", stab,
                                ["clean", "perturbed", "delta"])
    written += layer_plot(frame[frame["condition"] == CLEAN], fig_dir / "alignment_by_layer",
                          baseline=baseline, title="Alignment of parallel pairs by layer "
                          "(mean over languages)")
    has_base = baseline in set(frame["recipe"]) and frame["recipe"].nunique() > 1
    if not has_base:
        return written
    change = alignment_change(frame, baseline)
    clean_change = change[change["condition"] == CLEAN]
    per_lang = at_layer(clean_change, layer, value="change").pivot_table(
        index=["model", "recipe", "language"], columns="metric", values="change",
        sort=True).reset_index()
    written += write_table(out_dir / "alignment_change",
                            per_lang, [c for c in per_lang.columns
                                       if c not in ("model", "recipe", "language")])
    written += layer_plot(clean_change, fig_dir / "alignment_change_by_layer", value="change",
                          baseline=baseline, zero_line=True,
                          title=f"Alignment change vs '{baseline}' by layer "
                                "(mean over languages)")
    if scores is None:
        return written
    joined = change_vs_gain(frame, scores, metric, layer, CLEAN, baseline, targets)
    if joined.empty:
        return written
    corr = correlation_table(joined)
    written += write_table(out_dir / "alignment_vs_gain", joined, ["change", "gain"])
    written += write_table(out_dir / "alignment_vs_gain_correlation", corr,
                            ["pearson_r", "pearson_p", "spearman_rho", "spearman_p"], digits=3)
    written += gain_plot(joined, corr, fig_dir / "alignment_vs_gain", metric, layer, baseline)
    return written


def make_report(files: Sequence[str | Path], tables: str | Path, figures: str | Path,
                scores: str | Path | None = None, baseline: str = "none",
                metric: str = "acc_centered", layer: Layer = "retrieval") -> list[Path]:
    """Read the alignment JSON `files` (and the tidy `scores`, for the change against the
    transfer gain) and write the tables to `tables` and the figures to `figures`."""
    if metric not in METRIC_LABELS:
        raise DataError(f"alignment report: unknown metric '{metric}'; "
                        f"known: {sorted(METRIC_LABELS)}")
    tidy = None
    if scores is not None:
        from xstilts.analysis.tables import read_tidy

        tidy = read_tidy(scores)
    frame = read_alignment([Path(f) for f in files])
    return make_alignment_outputs(frame, Path(tables), tidy, baseline, metric, layer,
                                  figures_dir=Path(figures))

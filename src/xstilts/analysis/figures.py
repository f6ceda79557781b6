"""The paper's figures from the tidy score frame (see xstilts.analysis.scores.collect).

Figures are drawn on Agg canvases without pyplot (no global state) and saved as PNG and PDF with
deterministic metadata, atomically.

    python -m xstilts.analysis.figures --out DIR [--targets t1,t2] [--recipes r1,r2] scores.json...
"""

from __future__ import annotations

import argparse
import io
import logging
import math
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from xstilts.analysis.scores import (
    AVG,
    AVG_R,
    MIN_SEEDS_FOR_STARS,
    SCORE,
    SIGNIFICANCE,
    average_targets,
    collect,
    describe_targets,
    improvement_long,
    recipe_order,
    seed_averages,
    target_order,
)
from xstilts.analysis.tables import fmt_num, read_tidy
from xstilts.io.atomic import write_atomic

log = logging.getLogger(__name__)

DPI = 150
RC = {"svg.hashsalt": "xstilts", "pdf.fonttype": 42, "figure.dpi": DPI}
METADATA = {"png": {"Software": None}, "pdf": {"CreationDate": None, "Producer": None}}


def new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, stem: Path, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Save `fig` as `<stem>.<fmt>` for each format, deterministically and atomically."""
    paths = []
    for fmt in formats:
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=DPI, metadata=METADATA.get(fmt, {}))
        paths.append(write_atomic(Path(stem).with_suffix(f".{fmt}"), buf.getvalue()))
    return paths


def row_labels(frame: pd.DataFrame) -> pd.Series:
    """Row labels: the recipe, prefixed with the model when there are several models."""
    if frame["model"].nunique() <= 1:
        return frame["recipe"].astype(str)
    return frame["model"].astype(str) + " / " + frame["recipe"].astype(str)


def ordered_labels(frame: pd.DataFrame, baseline: str) -> list[str]:
    """Labels of `frame` (which has a "label" column): by model, baseline first, then sorted."""
    out = []
    for model in sorted(set(frame["model"])):
        mine = frame[frame["model"] == model]
        for recipe in recipe_order(set(mine["recipe"]), baseline):
            out.append(str(mine.loc[mine["recipe"] == recipe, "label"].iloc[0]))
    return out


def figure_style():
    return sns.axes_style("whitegrid")


# ---------------------------------------------------------------------------- shared conventions
CAP_QUANTILE = 0.9  # diverging colour scales end at this quantile of |value| (values annotated)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "*", "p")


def distinct_colors(n: int) -> list:
    """`n` pairwise different colours: colour-blind safe up to 10, tab20 up to 20, then HUSL."""
    if n <= 10:
        return sns.color_palette("colorblind", max(n, 1))[:n]
    if n <= 20:
        return sns.color_palette("tab20", n)
    return sns.color_palette("husl", n)


def seed_note(n_seeds: Sequence[int] | pd.Series, what: str = "mean ± sd",
              bars: bool = True) -> str:
    """What is drawn: "mean ± sd over 3 seeds", "1 seed: no error bars" (`bars`: the figure
    has error bars), "mean over 1-3 seeds; runs with 1 seed have no bar"."""
    counts = sorted({int(n) for n in n_seeds if not pd.isna(n)}) or [0]
    lo, hi = counts[0], counts[-1]
    if hi <= 1:
        return "1 seed: no error bars" if bars else "1 seed"
    seeds = f"{lo} seeds" if lo == hi else f"{lo}-{hi} seeds"
    return f"{what} over {seeds}" + ("; runs with 1 seed have no bar" if lo == 1 and bars else "")


def capped_scale(values: np.ndarray, cap_quantile: float = CAP_QUANTILE) -> tuple[float, bool]:
    """Symmetric limit of a diverging colour scale: the `cap_quantile` quantile of |values|
    (at least 1 point, at most their maximum); True when some value lies beyond it."""
    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite)]
    if not finite.size or finite.max() == 0:
        return 1.0, False
    top = float(finite.max())
    vmax = min(max(float(np.quantile(finite, cap_quantile)), 1.0), max(top, 1.0))
    return vmax, top > vmax


def diverging_heatmap(ax, values: pd.DataFrame, annot: np.ndarray, label: str) -> float:
    """A recipe x column heatmap centred at 0 with a symmetric, capped colour scale (cells
    beyond the cap get the end colour; the colour bar shows arrows) and every value written in
    its cell. Returns the cap."""
    vmax, capped = capped_scale(values.to_numpy(dtype=float))
    with warnings.catch_warnings():  # seaborn 0.13 calls the deprecated cmap.set_bad
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        sns.heatmap(values.astype(float), ax=ax, annot=annot, fmt="", cmap="RdBu", center=0.0,
                    vmin=-vmax, vmax=vmax, linewidths=0.5, linecolor="white",
                    annot_kws={"fontsize": "small"},
                    cbar_kws={"label": label, "extend": "both" if capped else "neither"})
    return vmax


def stars_allowed(n_pairs: Sequence[float] | pd.Series) -> bool:
    counts = [n for n in n_pairs if not pd.isna(n)]
    return bool(counts) and min(counts) >= MIN_SEEDS_FOR_STARS


def family_order(langs: Sequence[str], families: Mapping[str, str] | None
                 ) -> tuple[list[str], list[tuple[str, int, int]]]:
    """Languages grouped by family (English's family first, then by name; English first within
    it, the rest in the order of `families`, e.g. the language table's) and the groups as
    (family, first index, last index)."""
    langs = list(dict.fromkeys(langs))
    if not families:
        return sorted(langs), []
    fam = {lang: str(families.get(lang, "unknown")) for lang in langs}
    first = fam.get("en")
    names = sorted(set(fam.values()), key=lambda f: (f != first, f))
    rank = {lang: i for i, lang in enumerate([*families, *langs])}  # the table's order
    ordered = [lang for f in names for lang in sorted(
        (x for x in langs if fam[x] == f), key=lambda x: (x != "en", rank[x]))]
    groups, start = [], 0
    for f in names:
        size = sum(1 for x in langs if fam[x] == f)
        groups.append((f, start, start + size - 1))
        start += size
    return ordered, groups


def language_families(languages: Path | None, langs: Sequence[str]) -> dict[str, str]:
    """lang -> family from a language table (mini-XTREME's languages.csv), else URIEL's."""
    from xstilts.data.languages import language_metadata

    meta = language_metadata(list(langs), languages)
    return dict(zip(meta["lang"].astype(str), meta["family"].astype(str), strict=True))


def draw_family_groups(ax, groups: Sequence[tuple[str, int, int]]) -> None:
    """Family names above their languages and a thin line between families (x axis)."""
    for k, (name, lo, hi) in enumerate(groups):
        ax.annotate(name, xy=((lo + hi) / 2, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(0, 2), textcoords="offset points", ha="center", va="bottom",
                    fontsize="small", color="dimgray")
        if k:
            ax.axvline(lo - 0.5, color="dimgray", linewidth=0.8, linestyle=":")


def _improvements(tidy: pd.DataFrame, baseline: str, recipes: Sequence[str] | None,
                  targets: Sequence[str] | None) -> pd.DataFrame:
    if baseline not in set(tidy["recipe"]):
        return pd.DataFrame(columns=["model", "recipe", "target", "delta", "p_value"])
    imp = improvement_long(tidy, baseline)
    if recipes is not None:
        imp = imp[imp["recipe"].isin(recipes)]
    if targets is not None:
        imp = imp[imp["target"].isin([*targets, AVG])]
    return imp


def improvement_heatmap(tidy: pd.DataFrame, stem: Path, baseline: str = "none",
                        recipes: Sequence[str] | None = None,
                        targets: Sequence[str] | None = None) -> list[Path]:
    """Heatmap of improvements over `baseline` (recipe x target, plus the averages), every delta
    written in its cell, a symmetric colour scale capped at the 90th percentile of |delta|;
    "*" (p < 0.05, paired t-test over seeds) only when every cell has >= 3 paired seeds."""
    imp = _improvements(tidy, baseline, recipes, targets)
    if imp["delta"].isna().all():
        raise ValueError(f"no improvement over the baseline '{baseline}' to plot")
    imp = imp.assign(row=row_labels(imp).to_numpy())
    rows = list(dict.fromkeys(imp["row"]))
    averages = [a for a in dict.fromkeys(imp["target"]) if a in (AVG, AVG_R)]
    cols = [*target_order(set(imp["target"]) - {AVG, AVG_R}), *averages]
    delta = imp.pivot(index="row", columns="target", values="delta").reindex(rows)[cols]
    pval = imp.pivot(index="row", columns="target", values="p_value").reindex(rows)[cols]
    stars = stars_allowed(imp["n_pairs"])
    annot = np.empty(delta.shape, dtype=object)
    for i in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            d, p = delta.iat[i, j], pval.iat[i, j]
            star = "*" if stars and not math.isnan(p) and p < SIGNIFICANCE else ""
            annot[i, j] = "" if math.isnan(d) else fmt_num(d, 1, signed=True) + star
    seeds = seed_note(imp["n_pairs"], "mean", bars=False)
    with rc_context(RC), figure_style():
        fig = new_figure(2.0 + 0.85 * len(cols), 1.8 + 0.45 * len(rows))
        ax = fig.add_subplot()
        vmax = diverging_heatmap(ax, delta, annot, f"improvement over '{baseline}' (points)")
        ax.axvline(len(cols) - len(averages), color="black", linewidth=1.5)
        ax.set_xlabel("target task")
        ax.set_ylabel("intermediate recipe")
        marks = (f"* p < {SIGNIFICANCE}, paired t-test" if stars
                 else f"no significance marks: < {MIN_SEEDS_FOR_STARS} seeds")
        ax.set_title(f"Improvement over '{baseline}' ({seeds})\n{marks}\n"
                     f"colour scale capped at ±{fmt_num(vmax, 1)}; cells show the values",
                     fontsize="medium")
        return save_figure(fig, stem)


def per_language_plot(tidy: pd.DataFrame, target: str, stem: Path,
                      recipes: Sequence[str] | None = None, baseline: str = "none",
                      families: Mapping[str, str] | None = None) -> list[Path]:
    """Grouped bars: each language's score on `target` per recipe (mean, sd over seeds as error
    bars when there are several), languages grouped by `families` (lang -> family)."""
    sub = tidy[(tidy["metric"] == SCORE) & (tidy["target"] == target)]
    if recipes is not None:
        sub = sub[sub["recipe"].isin(recipes)]
    if sub.empty:
        raise ValueError(f"no scores for target '{target}' (recipes {recipes})")
    stats = (sub.groupby(["model", "recipe", "language"])["value"]
             .agg(["mean", "std", "count"]).reset_index())
    stats["label"] = row_labels(stats).to_numpy()
    order = ordered_labels(stats, baseline)
    langs, groups = family_order(list(stats["language"]), families)
    colors = distinct_colors(len(order))
    width = 0.8 / len(order)
    x = np.arange(len(langs))
    with rc_context(RC), figure_style():
        fig = new_figure(min(max(6.0, 0.3 * len(langs) * max(1, len(order) / 2) + 2), 30), 4.2)
        ax = fig.add_subplot()
        for k, label in enumerate(order):
            part = stats[stats["label"] == label].set_index("language").reindex(langs)
            err = part["std"].fillna(0.0).to_numpy() if part["std"].notna().any() else None
            ax.bar(x - 0.4 + width * (k + 0.5), part["mean"].to_numpy(), width, yerr=err,
                   color=colors[k], label=label, capsize=1.5, error_kw={"linewidth": 0.8})
        turn = len(langs) * max(1, len(order)) > 24 or len(langs) > 8
        ax.set_xticks(x, langs, rotation=45 if turn else 0, ha="right" if turn else "center")
        ax.set_xlim(-0.6, len(langs) - 0.4)
        draw_family_groups(ax, groups)
        ax.set_xlabel("language" + (" (grouped by family)" if groups else ""))
        ax.set_ylabel(f"{target} score")
        ax.set_title(f"{target}: zero-shot score per language ({seed_note(stats['count'])})",
                     pad=14 if groups else 6)
        ax.legend(title="recipe", fontsize="small", loc="upper left",
                  bbox_to_anchor=(1.0, 1.0))
        return save_figure(fig, stem)


def xtreme_average_plot(tidy: pd.DataFrame, stem: Path, recipes: Sequence[str] | None = None,
                        baseline: str = "none") -> list[Path]:
    """Bars: XTREME average per recipe, mean with sd error bars over seeds (seeds as dots)."""
    avg = seed_averages(tidy)
    if recipes is not None:
        avg = avg[avg["recipe"].isin(recipes)]
    avg = avg.dropna(subset=[AVG])
    if avg.empty:
        raise ValueError("no XTREME averages to plot (no target common to all runs?)")
    avg = avg.assign(label=row_labels(avg).to_numpy())
    labels = ordered_labels(avg, baseline)
    stats = avg.groupby("label")[AVG].agg(["mean", "std"]).reindex(labels)
    colors = distinct_colors(len(labels))
    n_seeds = avg.groupby("label")[AVG].count().reindex(labels)
    x = np.arange(len(labels))
    with rc_context(RC), figure_style():
        fig = new_figure(max(4.0, 0.8 * len(labels) + 1.5), 4.0)
        ax = fig.add_subplot()
        err = stats["std"].fillna(0.0).to_numpy() if stats["std"].notna().any() else None
        ax.bar(x, stats["mean"].to_numpy(), 0.7, yerr=err,
               color=colors, capsize=3)
        for k, label in enumerate(labels):
            vals = np.sort(avg.loc[avg["label"] == label, AVG].to_numpy())
            ax.scatter(np.full(len(vals), x[k]), vals, color="black", s=8, zorder=3)
        ax.set_xticks(x, labels, rotation=30, ha="right")
        ax.set_ylabel("average score")
        ax.set_title(f"Average over {describe_targets(average_targets(tidy))}\n"
                     f"({seed_note(n_seeds, 'bars: mean ± sd')}; dots: seeds)",
                     fontsize="medium")
        return save_figure(fig, stem)


def make_figures(tidy: pd.DataFrame, out_dir: Path, targets: Sequence[str] | None = None,
                 recipes: Sequence[str] | None = None, baseline: str = "none",
                 per_language_recipes: Sequence[str] | None = None,
                 languages: Path | None = None) -> list[Path]:
    """All figures: improvement heatmap (when the baseline and another recipe exist), one
    per-language plot per target (of `per_language_recipes`, default `recipes`: a dozen bars
    per language is unreadable), and the XTREME average per recipe (when some target is common
    to all runs). Languages are grouped by family: from `languages` (mini-XTREME's
    languages.csv), else from URIEL. Returns the files."""
    out_dir = Path(out_dir)
    have_targets = set(tidy["target"])
    have_recipes = set(tidy["recipe"])
    for name, want, have in (("target", targets, have_targets),
                             ("recipe", recipes, have_recipes),
                             ("recipe", per_language_recipes, have_recipes)):
        unknown = sorted(set(want or ()) - have)
        if unknown:
            raise ValueError(f"unknown {name}(s) {unknown}; have {sorted(have)}")
    chosen = target_order(targets if targets is not None else have_targets)
    written: list[Path] = []
    if _improvements(tidy, baseline, recipes, targets)["delta"].notna().any():
        written += improvement_heatmap(tidy, out_dir / "improvement_heatmap", baseline,
                                       recipes, targets)
    else:
        log.warning("no recipe with targets in common with baseline '%s': no heatmap", baseline)
    families = language_families(languages, sorted(set(tidy["language"])))
    for target in chosen:
        written += per_language_plot(tidy, target, out_dir / f"per_language_{target}",
                                     per_language_recipes or recipes, baseline, families)
    if average_targets(tidy):
        written += xtreme_average_plot(tidy, out_dir / "xtreme_average", recipes, baseline)
    else:
        log.warning("no target is common to all runs: no XTREME average figure")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xstilts.analysis.figures", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--baseline", default="none")
    parser.add_argument("--targets", default=None, help="comma-separated targets (default all)")
    parser.add_argument("--recipes", default=None, help="comma-separated recipes (default all)")
    parser.add_argument("--per-language-recipes", default=None,
                        help="comma-separated recipes of the per-language plots "
                             "(default: --recipes)")
    parser.add_argument("--tidy", type=Path, default=None,
                        help="the tidy scores table (tidy.csv) written by xstilts.analysis.scores")
    parser.add_argument("--languages", default="",
                        help="language table (mini-XTREME's languages.csv) for the families; "
                             "default (or empty): URIEL's families of real language codes")
    parser.add_argument("files", nargs="*", type=Path, help="scores.json files")
    args = parser.parse_args(argv)
    from xstilts.io.provenance import start_tool_log

    start_tool_log("figures")
    if (args.tidy is None) == (not args.files):
        parser.error("give either --tidy TABLE or scores.json files")
    tidy = read_tidy(args.tidy) if args.tidy else collect(args.files)
    targets, recipes, per_language = (v.split(",") if v else None for v in
                                      (args.targets, args.recipes, args.per_language_recipes))
    for path in make_figures(tidy, args.out, targets, recipes, args.baseline, per_language,
                             Path(args.languages) if args.languages else None):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

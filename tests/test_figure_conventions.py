"""Figures as a careful reader wants them: a distinct colour per line/bar series, captions that
say how many seeds and what the bars are, capped symmetric colour scales with values in the
cells, significance marks only with >= 3 seeds, languages grouped by family; the fairness
tables flag the biased percentile intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from xstilts.analysis import figures
from xstilts.analysis.scores import SCORE, display_improvement, improvement_table, xtreme_table
from xstilts.studies.fairness.tables import BIASED_CI_NOTE, display_summary
from xstilts.studies.robustness import figures as figures_robustness

RECIPES = ["none", *[f"r{k:02d}" for k in range(1, 12)]]  # 12 recipes: more than 10 colours
FAMILIES = {"en": "westic", "xa": "westic", "xb": "helic", "xc": "helic", "xd": "taic"}


def tidy_frame(recipes=RECIPES, seeds=(1,), targets=("xnli", "panx"), spread=None):
    rng = np.random.default_rng(0)
    rows = []
    for r, recipe in enumerate(recipes):
        for seed in seeds:
            for t, target in enumerate(targets):
                for lang in ("xd", "xc", "en", "xb", "xa"):  # not in family order
                    v = 30 + r + 5 * t + (spread or {}).get(recipe, 0) + rng.normal(0, 0.5)
                    rows.append({"model": "tiny", "recipe": recipe, "seed": seed,
                                 "target": target, "language": lang, "metric": SCORE,
                                 "value": v})
    return pd.DataFrame(rows)


@pytest.fixture
def captured(monkeypatch):
    figs = []
    monkeypatch.setattr(figures, "save_figure", lambda fig, stem: figs.append(fig) or [])
    monkeypatch.setattr(figures_robustness, "save_figure",
                        lambda fig, stem: figs.append(fig) or [])
    return figs


@pytest.mark.parametrize("n", [1, 3, 10, 11, 12, 20, 21, 30])
def test_distinct_colors_never_repeat(n):
    assert len({to_hex(c) for c in figures.distinct_colors(n)}) == n


def test_per_language_bars_have_a_colour_each_and_say_one_seed(captured, tmp_path):
    figures.per_language_plot(tidy_frame(), "xnli", tmp_path / "x", families=FAMILIES)
    ax = captured[0].axes[0]
    colours = {to_hex(c.patches[0].get_facecolor()) for c in ax.containers
               if hasattr(c, "patches")}
    assert len(colours) == len(RECIPES)
    assert "1 seed: no error bars" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["en", "xa", "xb", "xc", "xd"]
    assert {t.get_text() for t in ax.texts} >= {"westic", "helic", "taic"}


def test_per_language_caption_counts_seeds(captured, tmp_path):
    figures.per_language_plot(tidy_frame(RECIPES[:3], seeds=(1, 2, 3)), "xnli", tmp_path / "x")
    assert "mean ± sd over 3 seeds" in captured[0].axes[0].get_title()


def _heatmap_texts(fig):
    return [t.get_text() for t in fig.axes[0].texts]


def test_no_stars_with_two_seeds(captured, tmp_path):
    tidy = tidy_frame(["none", "big"], seeds=(1, 2), spread={"big": 20})
    figures.improvement_heatmap(tidy, tmp_path / "h")
    texts = _heatmap_texts(captured[0])
    assert texts and not any("*" in t for t in texts)
    assert "no significance marks" in captured[0].axes[0].get_title()
    display, _ = display_improvement(improvement_table(tidy), xtreme_table(tidy), "none")
    assert not display.astype(str).apply(lambda col: col.str.contains(r"\*")).any().any()


def test_stars_with_three_seeds(captured, tmp_path):
    tidy = tidy_frame(["none", "big"], seeds=(1, 2, 3), spread={"big": 20})
    figures.improvement_heatmap(tidy, tmp_path / "h")
    assert any(t.endswith("*") for t in _heatmap_texts(captured[0]))
    assert "3 seeds" in captured[0].axes[0].get_title()


def test_heatmap_scale_is_symmetric_capped_and_annotated(captured, tmp_path):
    spread = {r: (12.5 if r == "r01" else 0.4 * k) for k, r in enumerate(RECIPES)}
    tidy = tidy_frame(RECIPES, spread=spread)
    figures.improvement_heatmap(tidy, tmp_path / "h")
    mesh = captured[0].axes[0].collections[0]
    lo, hi = mesh.get_clim()
    deltas = figures.improvement_long(tidy)["delta"].abs()
    assert lo == -hi and hi < deltas.max()  # capped below the outlier, symmetric
    assert hi >= 1.0
    assert "capped at ±" in captured[0].axes[0].get_title()
    assert len([t for t in _heatmap_texts(captured[0]) if t]) == deltas.notna().sum()


def test_robustness_lines_have_a_colour_each(captured, tmp_path):
    rows = [{"model": "tiny", "recipe": recipe, "seed": 1, "target": "xnli",
             "language": "xa", "op": "char", "severity": 0.3, "metric": SCORE,
             "value": 35.0 + k, "clean": 40.0 + k, "drop": 5.0}
            for k, recipe in enumerate(RECIPES)]
    figures_robustness.severity_plot(pd.DataFrame(rows), tmp_path / "r", ["char"])
    ax = captured[0].axes[0]
    colours = {to_hex(c.lines[0].get_color()) for c in ax.containers}
    assert len(ax.containers) == len(colours) == len(RECIPES)
    assert "1 seed: no error bars" in captured[0].get_suptitle()


def test_fairness_summary_flags_biased_intervals():
    table = pd.DataFrame([{"model": "m", "recipe": "none", "target": "xnli",
                           "n_languages": 3, "worst_language": "xa", "worst_family": "helic",
                           "worst_family_size": 2,
                           **{m: 1.0 for m in ("mean", "worst_language_score",
                                               "worst_family_score", "best_worst_gap", "sd",
                                               "gini", "english_gap", "speaker_weighted")},
                           **{f"{m}_{b}": 2.0 for m in ("mean", "worst_language_score",
                                                        "worst_family_score", "best_worst_gap",
                                                        "sd", "gini", "english_gap",
                                                        "speaker_weighted")
                              for b in ("lo", "hi")}}])
    display, _ = display_summary(table)
    assert {"best-worst †", "sd †", "Gini †", "mean", "en - rest"} <= set(display.columns)
    assert "can exclude the point estimate" in BIASED_CI_NOTE

"""Figures: written as non-empty PNG + PDF, deterministic, honouring target/recipe filters."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from xstilts.analysis.figures import improvement_heatmap, main, make_figures, xtreme_average_plot
from xstilts.analysis.scores import collect

RECIPES = {"none": 0.0, "mnli": 2.0, "squad_v2": -1.0}
TARGETS = {"pawsx": ("accuracy", 0.0), "panx": ("seqeval_f1", 10.0), "xquad": ("squad", 20.0)}
LANGS = {"en": 30.0, "de": 20.0, "es": 25.0}


def write_grid(root: Path, seeds=(1, 2)) -> list[Path]:
    files = []
    for ri, (recipe, r_off) in enumerate(RECIPES.items()):
        for target, (metric, t_off) in TARGETS.items():
            for seed in seeds:
                langs = {}
                for lang, l_off in LANGS.items():
                    v = l_off + t_off + r_off + 0.5 * ri * seed + 0.1 * seed
                    langs[lang] = ({"exact_match": v - 5, "f1": v + 5} if metric == "squad"
                                   else {"f1": v} if metric == "seqeval_f1" else {"accuracy": v})
                path = root / recipe / target / str(seed) / "scores.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps({"model": "tiny", "recipe": recipe,
                                            "seed": seed, "target": target,
                                            "task_metric": metric, "languages": langs}))
                files.append(path)
    return files


@pytest.fixture(scope="module")
def tidy(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    return collect(write_grid(tmp_path_factory.mktemp("scores")))


def _check_image(path: Path) -> None:
    data = path.read_bytes()
    assert len(data) > 1000, path
    magic = b"\x89PNG\r\n\x1a\n" if path.suffix == ".png" else b"%PDF-"
    assert data.startswith(magic), path


def test_make_figures_writes_everything(tidy: pd.DataFrame, tmp_path: Path) -> None:
    written = make_figures(tidy, tmp_path)
    stems = ["improvement_heatmap", "per_language_pawsx", "per_language_panx",
             "per_language_xquad", "xtreme_average"]
    assert sorted(p.name for p in written) == sorted(f"{s}.{e}" for s in stems
                                                     for e in ("png", "pdf"))
    for path in written:
        assert path.parent == tmp_path
        _check_image(path)
    assert not list(tmp_path.glob(".*"))  # no temporary files left


def test_figures_are_deterministic(tidy: pd.DataFrame, tmp_path: Path) -> None:
    for out in ("a", "b"):
        improvement_heatmap(tidy, tmp_path / out / "heat")
        xtreme_average_plot(tidy, tmp_path / out / "avg")
    for name in ("heat.png", "heat.pdf", "avg.png", "avg.pdf"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert b"CreationDate" not in (tmp_path / "a" / "heat.pdf").read_bytes()


def test_filters_and_errors(tidy: pd.DataFrame, tmp_path: Path) -> None:
    written = make_figures(tidy, tmp_path, targets=["xquad"], recipes=["mnli"])
    names = sorted(p.name for p in written)
    assert names == sorted(["improvement_heatmap.png", "improvement_heatmap.pdf",
                            "per_language_xquad.png", "per_language_xquad.pdf",
                            "xtreme_average.png", "xtreme_average.pdf"])
    with pytest.raises(ValueError, match="unknown target"):
        make_figures(tidy, tmp_path, targets=["udpos"])
    with pytest.raises(ValueError, match="unknown recipe"):
        make_figures(tidy, tmp_path, recipes=["qqp"])


def test_no_heatmap_without_baseline(tidy: pd.DataFrame, tmp_path: Path) -> None:
    only = tidy[tidy["recipe"] == "none"]
    names = {p.name for p in make_figures(only, tmp_path, targets=["pawsx"])}
    assert names == {"per_language_pawsx.png", "per_language_pawsx.pdf", "xtreme_average.png",
                     "xtreme_average.pdf"}


def test_main_cli(tmp_path: Path) -> None:
    files = write_grid(tmp_path / "in", seeds=(1,))
    out = tmp_path / "figs"
    assert main(["--out", str(out), "--targets", "pawsx", "--recipes", "none,mnli",
                 *map(str, files)]) == 0
    _check_image(out / "improvement_heatmap.pdf")


def test_no_average_figure_without_common_target(tidy: pd.DataFrame, tmp_path: Path) -> None:
    disjoint = tidy[((tidy["recipe"] == "none") & (tidy["target"] == "pawsx"))
                    | ((tidy["recipe"] == "mnli") & (tidy["target"] == "panx"))]
    names = {p.name for p in make_figures(disjoint, tmp_path)}
    assert names == {f"per_language_{t}.{e}" for t in ("pawsx", "panx") for e in ("png", "pdf")}


def test_per_language_recipes_narrow_only_the_per_language_plots(tidy: pd.DataFrame,
                                                                  tmp_path: Path) -> None:
    recipes = sorted(set(tidy["recipe"]))
    chosen = [r for r in recipes if r != "none"][:1]
    written = {p.name for p in make_figures(tidy, tmp_path, per_language_recipes=chosen)}
    assert "improvement_heatmap.png" in written  # the heatmap still compares every recipe
    with pytest.raises(ValueError, match="unknown recipe"):
        make_figures(tidy, tmp_path, per_language_recipes=["qqp"])

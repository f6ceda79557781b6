"""Aggregation tables: numbers checked by hand on a small synthetic grid."""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from xstilts.analysis import scores as aggregate
from xstilts.analysis.scores import (
    collect,
    improvement_table,
    language_score,
    main,
    per_language_table,
    task_scores,
    write_tables,
    xtreme_table,
)
from xstilts.analysis.tables import fmt_mean_sd, fmt_num, fmt_pvalue, latex_escape
from xstilts.data.schema import DataError

RECIPES = {"none": 0.0, "mnli": 2.0, "squad_v2": -1.0}
TARGETS = {"pawsx": 0.0, "panx": 10.0, "xquad": 20.0}
METRIC = {"pawsx": "accuracy", "panx": "seqeval_f1", "xquad": "squad"}
LANGS = {"en": 30.0, "de": 20.0, "es": 25.0}
NOISE = {("none", 1): 0.0, ("none", 2): 1.0, ("mnli", 1): 1.5, ("mnli", 2): 4.0,
         ("squad_v2", 1): -0.5, ("squad_v2", 2): 2.5}


def true_score(recipe: str, target: str, lang: str, seed: int) -> float:
    ri, ti, si = list(RECIPES).index(recipe), list(TARGETS).index(target), seed - 1
    return (LANGS[lang] + TARGETS[target] + RECIPES[recipe] + NOISE[(recipe, seed)]
            + 0.25 * ri * ti * si)


def lang_metrics(target: str, v: float) -> dict[str, float]:
    if target == "xquad":  # score = mean(EM, F1) = v
        return {"exact_match": v - 5.0, "f1": v + 5.0}
    if target == "panx":  # score = f1
        return {"f1": v, "precision": v + 1.0, "recall": v - 1.0}
    return {"accuracy": v}


def write_grid(root: Path, seeds=(1, 2), recipes=tuple(RECIPES), targets=tuple(TARGETS),
               model: str = "tiny") -> list[Path]:
    files = []
    for recipe in recipes:
        for target in targets:
            for seed in seeds:
                langs = {lg: lang_metrics(target, true_score(recipe, target, lg, seed))
                         for lg in LANGS}
                path = root / model / recipe / target / str(seed) / "scores.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps({
                    "model": model, "recipe": recipe, "seed": seed, "target": target,
                    "task_metric": METRIC[target], "languages": langs}))
                files.append(path)
    return files


@pytest.fixture
def tidy(tmp_path: Path) -> pd.DataFrame:
    return collect(write_grid(tmp_path / "in"))


def per_seed_task(recipe: str, target: str, seed: int) -> float:
    return sum(true_score(recipe, target, lg, seed) for lg in LANGS) / len(LANGS)


def per_seed_avg(recipe: str, seed: int) -> float:
    return sum(per_seed_task(recipe, t, seed) for t in TARGETS) / len(TARGETS)


# ---------------------------------------------------------------------------- collect

def test_collect_rows_and_scores(tidy: pd.DataFrame) -> None:
    assert list(tidy.columns) == aggregate.TIDY_COLUMNS
    # per run and language: metrics + 1 score row; 3 recipes x 2 seeds x 3 languages
    assert len(tidy) == 3 * 2 * 3 * ((1 + 1) + (3 + 1) + (2 + 1))
    score = tidy[tidy["metric"] == "score"].set_index(
        ["recipe", "target", "language", "seed"])["value"]
    assert score[("mnli", "xquad", "de", 2)] == pytest.approx(20 + 20 + 2 + 4 + 0.25 * 2)
    assert score[("none", "panx", "en", 1)] == pytest.approx(40.0)  # f1, not precision (41)
    assert score[("squad_v2", "pawsx", "es", 1)] == pytest.approx(23.5)  # 25 - 1 - 0.5
    prec = tidy[(tidy["metric"] == "precision") & (tidy["target"] == "panx")]
    assert len(prec) == 3 * 2 * 3
    assert tidy["seed"].dtype == "int64"


def test_language_score_is_the_metrics_task_score() -> None:
    assert language_score("squad", {"exact_match": 40, "f1": 60}) == 50
    assert language_score("mlqa", {"exact_match": 40, "f1": 60, "accuracy": 1}) == 50
    assert language_score("seqeval_f1", {"f1": 70, "precision": 1}) == 70
    assert language_score("accuracy", {"accuracy": 33}) == 33
    with pytest.raises(ValueError):
        language_score("squad", {"f1": 60})


@pytest.mark.parametrize("content, needle", [
    ("{not json", "malformed JSON"),
    ("[1, 2]", "must be a JSON object"),
    (json.dumps({"model": "m"}), "missing key(s)"),
    (json.dumps({"model": "m", "recipe": "none", "seed": True, "target": "pawsx",
                 "task_metric": "accuracy", "languages": {"en": {"accuracy": 1}}}), "'seed'"),
    (json.dumps({"model": "m", "recipe": "none", "seed": 1, "target": "pawsx",
                 "task_metric": "bleu", "languages": {"en": {"accuracy": 1}}}), "task_metric"),
    (json.dumps({"model": "m", "recipe": "none", "seed": 1, "target": "pawsx",
                 "task_metric": "accuracy", "languages": {}}), "'languages'"),
    (json.dumps({"model": "m", "recipe": "none", "seed": 1, "target": "pawsx",
                 "task_metric": "accuracy", "languages": {"en": {"accuracy": "x"}}}),
     "languages.en.accuracy"),
    (json.dumps({"model": "m", "recipe": "none", "seed": 1, "target": "xquad",
                 "task_metric": "squad", "languages": {"de": {"f1": 3}}}), "languages.de"),
    (json.dumps({"model": "m", "recipe": "none", "seed": 1, "target": "pawsx",
                 "task_metric": "accuracy", "languages": {"en": {"accuracy": 0.9, "f1": 180}}}),
     "not a percentage"),
])
def test_collect_errors_name_the_file(tmp_path: Path, content: str, needle: str) -> None:
    bad = tmp_path / "bad" / "scores.json"
    bad.parent.mkdir()
    bad.write_text(content)
    good = write_grid(tmp_path / "in", seeds=(1,), recipes=("none",), targets=("pawsx",))
    with pytest.raises(DataError) as info:
        collect([*good, bad])
    assert str(bad) in str(info.value)
    assert needle in str(info.value)


def test_collect_rejects_duplicates_and_empty(tmp_path: Path) -> None:
    files = write_grid(tmp_path / "a", seeds=(1,), recipes=("none",), targets=("pawsx",))
    again = write_grid(tmp_path / "b", seeds=(1,), recipes=("none",), targets=("pawsx",))
    with pytest.raises(DataError, match="duplicate run"):
        collect(files + again)
    with pytest.raises(ValueError, match="no score files"):
        collect([])


def test_results_of_an_older_run_name_the_renamed_field(tmp_path: Path) -> None:
    """A score file or tidy table of an older xstilts (the recipe was called `intermediate`)
    is refused in one line naming the old and new name, never read as a missing field."""
    from xstilts.analysis.tables import read_tidy
    from xstilts.stages.robustness import read_clean

    (path,) = write_grid(tmp_path / "in", seeds=(1,), recipes=("mnli",), targets=("pawsx",))
    raw = json.loads(path.read_text())
    raw["intermediate"] = raw.pop("recipe")
    path.write_text(json.dumps(raw))
    with pytest.raises(DataError, match=r"scores\.json: key 'intermediate' was renamed 'recipe'"):
        collect([path])
    with pytest.raises(DataError, match="key 'intermediate' was renamed 'recipe'"):
        read_clean(path, {"model": "tiny", "recipe": "none", "seed": 1}, "pawsx")
    table = tmp_path / "tidy.csv"
    collect(write_grid(tmp_path / "new", seeds=(1,))).rename(
        columns={"recipe": "intermediate"}).to_csv(table, index=False)
    with pytest.raises(DataError, match=r"tidy\.csv: column 'intermediate' was renamed 'recipe'"):
        read_tidy(table)


# ---------------------------------------------------------------------------- tables

def test_xtreme_table_by_hand(tidy: pd.DataFrame) -> None:
    table = xtreme_table(tidy)
    assert list(table["recipe"]) == ["none", "mnli", "squad_v2"]  # baseline first
    row = table.set_index("recipe").loc["mnli"]
    # pawsx: languages average 25, +2 (recipe), + noise 1.5 / 4.0 -> 28.5, 31.0
    assert row["pawsx"] == pytest.approx(29.75)
    assert row["pawsx_sd"] == pytest.approx(stats.tstd([28.5, 31.0]))
    # seed 1: 28.5, 38.5, 48.5 -> 38.5; seed 2: 31, 41.25, 51.5 -> 41.25
    assert row["avg"] == pytest.approx((38.5 + 41.25) / 2)
    assert row["avg_sd"] == pytest.approx(abs(41.25 - 38.5) / math.sqrt(2))
    assert row["avg"] == pytest.approx(sum(row[t] for t in TARGETS) / 3)  # mean of task scores
    assert row["n_seeds"] == 2
    assert row["avg_over"] == "pawsx, panx, xquad"
    for recipe in RECIPES:
        r = table.set_index("recipe").loc[recipe]
        for target in TARGETS:
            vals = [per_seed_task(recipe, target, s) for s in (1, 2)]
            assert r[target] == pytest.approx(sum(vals) / 2)
            assert r[f"{target}_sd"] == pytest.approx(stats.tstd(vals))


def test_improvement_table_by_hand(tidy: pd.DataFrame) -> None:
    imp = improvement_table(tidy).set_index("recipe")
    assert list(imp.index) == ["mnli", "squad_v2"]
    # pawsx: mnli 28.5, 31.0 vs none 25, 26
    assert imp.loc["mnli", "pawsx"] == pytest.approx(29.75 - 25.5)
    assert imp.loc["mnli", "pawsx_p"] == pytest.approx(
        stats.ttest_rel([28.5, 31.0], [25.0, 26.0]).pvalue)
    xt = xtreme_table(tidy).set_index("recipe")
    for recipe in ("mnli", "squad_v2"):
        for target in [*TARGETS, "avg"]:
            assert imp.loc[recipe, target] == pytest.approx(
                xt.loc[recipe, target] - xt.loc["none", target])
        rec = [per_seed_avg(recipe, s) for s in (1, 2)]
        base = [per_seed_avg("none", s) for s in (1, 2)]
        assert imp.loc[recipe, "avg_p"] == pytest.approx(stats.ttest_rel(rec, base).pvalue)
        assert imp.loc[recipe, "n_pairs"] == 2


def test_improvement_single_seed_has_nan_p(tmp_path: Path) -> None:
    tidy = collect(write_grid(tmp_path, seeds=(1,)))
    imp = improvement_table(tidy).set_index("recipe")
    assert imp.loc["mnli", "pawsx"] == pytest.approx(28.5 - 25.0)
    assert math.isnan(imp.loc["mnli", "pawsx_p"]) and math.isnan(imp.loc["mnli", "avg_p"])
    assert math.isnan(xtreme_table(tidy).loc[0, "avg_sd"])


def test_improvement_needs_baseline(tidy: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="baseline recipe 'nope'"):
        improvement_table(tidy, baseline="nope")


def test_per_language_table(tidy: pd.DataFrame) -> None:
    table = per_language_table(tidy, "xquad").set_index("recipe")
    assert list(table.columns) == ["model", "n_seeds", "de", "en", "es", "avg"]
    # squad_v2 xquad en: 30 + 20 - 1 + noise(-0.5 | 2.5) + 0.25*2*2*(0|1) -> 48.5, 52.5
    assert table.loc["squad_v2", "en"] == pytest.approx(50.5)
    assert table.loc["squad_v2", "avg"] == pytest.approx(
        (table.loc["squad_v2", "de"] + table.loc["squad_v2", "en"] + table.loc["squad_v2", "es"])
        / 3)
    with pytest.raises(ValueError, match="target 'udpos' not in the scores"):
        per_language_table(tidy, "udpos")


def test_average_over_common_targets(tmp_path: Path) -> None:
    files = write_grid(tmp_path)
    dropped = [f for f in files if "squad_v2/xquad/2" not in str(f)]
    tidy = collect(dropped)
    table = xtreme_table(tidy).set_index("recipe")
    assert table.loc["none", "avg_over"] == "pawsx, panx"
    expect = [(per_seed_task("none", "pawsx", s) + per_seed_task("none", "panx", s)) / 2
              for s in (1, 2)]
    assert table.loc["none", "avg"] == pytest.approx(sum(expect) / 2)
    assert table.loc["squad_v2", "xquad"] == pytest.approx(per_seed_task("squad_v2", "xquad", 1))


def test_two_models_are_separate_rows(tmp_path: Path) -> None:
    files = write_grid(tmp_path, model="a") + write_grid(tmp_path, model="b")
    table = improvement_table(collect(files))
    assert list(zip(table["model"], table["recipe"], strict=True)) == [
        ("a", "mnli"), ("a", "squad_v2"), ("b", "mnli"), ("b", "squad_v2")]


def test_xtreme_mock_reproduces_official_scores(tmp_path: Path, xtreme_mock: Path) -> None:
    """The task-score rule on the official mock submission's scores gives evaluate.py's numbers."""
    from xstilts.tasks.registry import get_task

    langs: dict = defaultdict(lambda: defaultdict(dict))
    with open(xtreme_mock / "expected_scores.csv") as fh:
        for row in csv.DictReader(fh):
            langs[row["task"]][row["language"]][row["metric"]] = float(row["value"])
    files = []
    for task, per_lang in langs.items():
        path = tmp_path / f"{task}.json"
        path.write_text(json.dumps({"model": "m", "recipe": "none", "seed": 0,
                                    "target": task, "task_metric": get_task(task).metric,
                                    "languages": per_lang}))
        files.append(path)
    row = xtreme_table(collect(files)).iloc[0]
    with open(xtreme_mock / "expected_overall.csv") as fh:
        expected = {(r["scope"], r["name"]): float(r["value"]) for r in csv.DictReader(fh)}
    for (scope, name), value in expected.items():
        if scope == "task_score":
            assert row[name] == pytest.approx(value, abs=1e-9)
    assert row["avg"] == pytest.approx(expected[("xtreme", "all_task")], abs=1e-9)
    assert row["avg_over"] == "XTREME (all 9)"


# ---------------------------------------------------------------------------- writing

def test_write_tables_formats(tidy: pd.DataFrame, tmp_path: Path) -> None:
    written = write_tables(tidy, tmp_path / "out")
    names = sorted(p.name for p in written)
    stems = ["improvement", "per_language_panx", "per_language_pawsx", "per_language_xquad",
             "xtreme"]
    assert names == sorted(["tidy.csv"] + [f"{s}.{e}" for s in stems for e in ("csv", "md", "tex")])
    out = tmp_path / "out"
    assert not list(out.glob(".*"))  # no temporary files left behind
    # CSV: full precision, reads back to the same numbers
    back = pd.read_csv(out / "xtreme.csv")
    assert back["avg_sd"].tolist() == pytest.approx(xtreme_table(tidy)["avg_sd"].tolist(),
                                                    rel=1e-15)
    md = (out / "xtreme.md").read_text()
    assert "39.88 ± 1.94" in md
    tex = (out / "xtreme.tex").read_text()
    assert r"39.88 $\pm$ 1.94" in tex and r"squad\_v2" in tex and "\\toprule" in tex
    imp_md = (out / "improvement.md").read_text()
    assert "none (absolute)" in imp_md and "+4.25" in imp_md
    assert "+4.25" in (out / "improvement.tex").read_text()
    tidy_back = pd.read_csv(out / "tidy.csv")
    assert len(tidy_back) == len(tidy)


def test_write_tables_is_deterministic(tmp_path: Path) -> None:
    files = write_grid(tmp_path / "in")
    a = write_tables(collect(files), tmp_path / "a")
    b = write_tables(collect(list(reversed(files))), tmp_path / "b")
    assert [p.name for p in a] == [p.name for p in b]
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.name


def test_write_tables_without_baseline_skips_improvement(tmp_path: Path) -> None:
    tidy = collect(write_grid(tmp_path / "in", recipes=("mnli",)))
    names = {p.name for p in write_tables(tidy, tmp_path / "out")}
    assert "xtreme.csv" in names and not any(n.startswith("improvement") for n in names)


def test_main_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = write_grid(tmp_path / "in", seeds=(1,))
    assert main(["--out", str(tmp_path / "out"), *map(str, files)]) == 0
    assert (tmp_path / "out" / "improvement.tex").exists()
    assert str(tmp_path / "out" / "xtreme.md") in capsys.readouterr().out


def test_task_scores_frame(tidy: pd.DataFrame) -> None:
    ts = task_scores(tidy)
    assert len(ts) == 3 * 3 * 2
    got = ts.set_index(["recipe", "target", "seed"])["score"]
    assert got[("squad_v2", "panx", 2)] == pytest.approx(per_seed_task("squad_v2", "panx", 2))


def test_formatting_helpers() -> None:
    assert fmt_num(1.005, 2) in ("1.00", "1.01")
    assert fmt_num(-0.001, 2, signed=True) == "0.00"
    assert fmt_num(3.14159, 2, signed=True) == "+3.14"
    assert fmt_num(float("nan")) == "n/a"
    assert fmt_mean_sd(1.0, float("nan")) == "1.00"
    assert fmt_pvalue(0.0001) == "<0.001" and fmt_pvalue(0.04567) == "0.046"
    assert latex_escape("a_b & 50%") == r"a\_b \& 50\%"


def _score_rows(rows):
    return pd.DataFrame([{"model": "m", "recipe": r, "seed": 1, "target": t,
                          "language": lang, "metric": "score", "value": v}
                         for r, t, lang, v in rows])


def test_xtreme_average_stays_over_xtreme_tasks_and_xtreme_r_gets_its_own():
    from xstilts.analysis.scores import AVG_R, xtreme_table

    # synthetic languages: every evaluated language counts (English is in every real list)
    tidy = _score_rows([("none", "xnli", "en", 80.0), ("none", "xnli", "dano", 40.0),
                        ("none", "pawsx", "en", 70.0), ("none", "pawsx", "dano", 50.0),
                        ("none", "xcopa", "en", 60.0), ("none", "xcopa", "dano", 50.0)])
    row = xtreme_table(tidy).iloc[0]
    assert row["avg"] == pytest.approx((60.0 + 60.0) / 2)  # xnli, pawsx: XTREME's tasks
    assert row[AVG_R] == pytest.approx((60.0 + 55.0) / 2)  # xnli, xcopa: XTREME-R's


def test_xtreme_r_average_uses_xtreme_r_languages_on_real_data():
    from xstilts.analysis.scores import AVG_R, xtreme_table

    # "ro" is an XTREME-R language for XQuAD only; XCOPA has no "de"
    tidy = _score_rows([("none", "xcopa", "et", 60.0), ("none", "xcopa", "de", 0.0),
                        ("none", "xnli", "en", 80.0), ("none", "xnli", "de", 60.0)])
    row = xtreme_table(tidy).iloc[0]
    assert row[AVG_R] == pytest.approx((70.0 + 60.0) / 2)

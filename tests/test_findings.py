"""Paired bootstrap intervals of the improvement table and the paper-findings verdicts."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xstilts.analysis import bootstrap as BS
from xstilts.analysis import findings as FD
from xstilts.analysis import intervals as IV
from xstilts.analysis.scores import improvement_long, main, write_tables
from xstilts.analysis.submission import write_labels, write_predictions
from xstilts.data.schema import DataError
from xstilts.metrics import compute, task_score
from xstilts.tasks.registry import get_task

RNG = np.random.default_rng(7)
LABELS = ["entailment", "neutral", "contradiction"]


# ---------------------------------------------------------------------------- a small run

def _write_run(root: Path, preds: dict[tuple[str, str], dict[str, list]],
               gold: dict[str, list], target: str = "xnli") -> pd.DataFrame:
    """Predictions of runs {(model, recipe): {lang: predictions}} (seed 1) and the labels under
    `root`; the tidy score rows that the predictions give."""
    task = get_task(target)
    for lang, values in gold.items():
        write_labels(task, lang, values, root / "labels")
    rows = []
    for (model, recipe), by_lang in preds.items():
        for lang, values in by_lang.items():
            write_predictions(task, lang, values, root / "predictions" / model / recipe / "seed1")
            score = task_score(task.metric, compute(task.metric, values, gold[lang], lang))
            rows.append({"model": model, "recipe": recipe, "seed": 1, "target": target,
                         "language": lang, "metric": "score", "value": float(score)})
    return pd.DataFrame(rows)


def _flip(values: list[str], share: float) -> list[str]:
    """`values` with a random `share` of them replaced by another label."""
    out = list(values)
    for i in np.flatnonzero(RNG.random(len(out)) < share):
        out[i] = LABELS[(LABELS.index(out[i]) + 1) % 3]
    return out


def _replicates(root: Path, tidy: pd.DataFrame, n_boot: int = 300) -> dict:
    reps = IV.task_replicates(tidy, lambda m, r, s: root / "predictions" / m / r / f"seed{s}",
                              root / "labels", {"xnli": get_task("xnli")}, n_boot, seed=0)
    return IV.improvement_replicates(reps)


def test_identical_predictions_give_a_zero_width_interval(tmp_path):
    """Recipe and baseline resampled with the same examples: equal runs differ by exactly 0 in
    every replicate (independent draws would spread around 0)."""
    gold = {lang: list(RNG.choice(LABELS, 120)) for lang in ("en", "de")}
    pred = {lang: _flip(g, 0.4) for lang, g in gold.items()}
    tidy = _write_run(tmp_path, {("m", "none"): pred, ("m", "mnli"): pred}, gold)
    delta = _replicates(tmp_path, tidy)[("m", "mnli", "xnli")]
    assert delta.shape == (300,) and np.all(delta == 0)


def test_paired_interval_covers_the_point_delta_and_is_narrower_than_unpaired(tmp_path):
    gold = {lang: list(RNG.choice(LABELS, 200)) for lang in ("en", "de", "sw")}
    base = {lang: _flip(g, 0.5) for lang, g in gold.items()}
    better = {lang: [g if RNG.random() < 0.3 else p for p, g in zip(base[lang], gold[lang],
                                                                    strict=True)]
              for lang in gold}
    tidy = _write_run(tmp_path, {("m", "none"): base, ("m", "mnli"): better}, gold)
    delta = _replicates(tmp_path, tidy, 500)[("m", "mnli", "xnli")]
    point = improvement_long(tidy).set_index("target").loc["xnli", "delta"]
    lo, hi = BS.percentile_ci(delta)
    assert lo < point < hi and lo > 0
    # the same replicates drawn independently for the two runs: a wider interval
    stats = {lang: [BS.example_stats("accuracy", p[lang], gold[lang], lang)
                    for p in (better, base)] for lang in gold}
    unpaired = np.mean([BS.bootstrap_replicates("accuracy", s[0], 500, 1, ("a", lang))
                        - BS.bootstrap_replicates("accuracy", s[1], 500, 2, ("b", lang))
                        for lang, s in stats.items()], axis=0)
    assert np.std(delta) < 0.8 * np.std(unpaired)


def test_bucc_runs_are_paired_over_the_union_of_source_sentences(tmp_path):
    gold = {"de": [(f"de-{i}", f"en-{i}") for i in range(30)]}
    none = {"de": [(f"de-{i}", f"en-{i}") for i in range(10)] + [("de-90", "en-91")]}
    mnli = {"de": [(f"de-{i}", f"en-{i}") for i in range(20)] + [("de-95", "en-3")]}
    tidy = _write_run(tmp_path, {("m", "none"): none, ("m", "mnli"): mnli}, gold, "bucc2018")
    reps = IV.task_replicates(tidy, lambda m, r, s: tmp_path / "predictions" / m / r / f"seed{s}",
                              tmp_path / "labels", {"bucc2018": get_task("bucc2018")}, 200)
    delta = IV.improvement_replicates(reps)[("m", "mnli", "bucc2018")]
    point = improvement_long(tidy).set_index("target").loc["bucc2018", "delta"]
    assert point > 0 and BS.percentile_ci(delta)[0] > 0
    keyed = [BS.keyed_stats("bucc_f1", p["de"], gold["de"], "de") for p in (none, mnli)]
    assert BS.align("bucc_f1", keyed, "x").shape == (2, 32, 3)  # 30 gold + 2 false sources


def test_predictions_that_do_not_give_the_recorded_score_are_refused(tmp_path):
    gold = {"en": list(RNG.choice(LABELS, 50))}
    tidy = _write_run(tmp_path, {("m", "none"): {"en": gold["en"]},
                                 ("m", "mnli"): {"en": _flip(gold["en"], 0.5)}}, gold)
    tidy.loc[tidy["recipe"] == "mnli", "value"] += 5.0
    with pytest.raises(DataError, match=r"mnli/seed1/xnli: predictions for 'en' score"):
        _replicates(tmp_path, tidy)


def test_runs_on_different_test_sets_are_refused():
    a = BS.keyed_stats("accuracy", ["a", "b"], ["a", "b"], "en")
    b = BS.keyed_stats("accuracy", ["a", "b", "c"], ["a", "b", "c"], "en")
    with pytest.raises(DataError, match="xnli/test-en: the runs' predictions cover different"):
        BS.align("accuracy", [a, b], "xnli/test-en")


def test_seed_interval_needs_three_seeds():
    assert all(math.isnan(x) for x in IV.seed_interval([1.0, 2.0]))
    lo, hi = IV.seed_interval([1.0, 2.0, 3.0])
    assert lo < 2.0 < hi and hi - 2.0 == pytest.approx(2.0 - lo)


def test_aggregate_cli_writes_intervals_and_findings(tmp_path):
    """The aggregate stage end to end from score files and predictions."""
    import json

    gold = {lang: list(RNG.choice(LABELS, 80)) for lang in ("en", "de")}
    runs = {("m", "none"): {lang: _flip(g, 0.5) for lang, g in gold.items()},
            ("m", "mnli"): {lang: _flip(g, 0.2) for lang, g in gold.items()}}
    tidy = _write_run(tmp_path, runs, gold)
    files = []
    for (model, recipe), grp in tidy.groupby(["model", "recipe"]):
        path = tmp_path / "scores" / model / recipe / "scores.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({
            "model": model, "recipe": recipe, "seed": 1, "target": "xnli",
            "task_metric": "accuracy",
            "languages": {r.language: {"accuracy": r.value} for r in grp.itertuples()}}))
        files.append(str(path))
    out = tmp_path / "tables"
    assert main(["--out", str(out), "--predictions", str(tmp_path / "predictions"),
                 "--labels", str(tmp_path / "labels"), "--bootstrap", "200",
                 "--recipes", json.dumps({"mnli": {"tasks": ["mnli"]}}), *files]) == 0
    imp = pd.read_csv(out / "improvement.csv")
    assert imp.loc[0, "xnli_lo"] < imp.loc[0, "xnli"] < imp.loc[0, "xnli_hi"]
    assert "paired bootstrap interval over test examples (200 replicates" in \
        (out / "improvement.md").read_text()
    found = pd.read_csv(out / "findings.csv").set_index("finding")
    assert found.loc["xnli", "verdict"] == FD.NOT_SHOWN  # a clear gain of ~25 points
    assert found.loc["qa", "verdict"] == FD.NOT_ASSESSED


# ---------------------------------------------------------------------------- verdicts

RECIPES = FD.recipes_from_config({
    "mnli": {"tasks": ["mnli"]}, "squad_v1": {"tasks": ["squad_v1"]},
    "multitask": {"tasks": ["mnli", "squad_v1"]},
    "mnli_mlm": {"tasks": ["mnli"], "mlm": True},
    "mnli_translated": {"tasks": ["mnli"], "translated": True}})
FORMATS = {"xnli": "classification", "tydiqa": "qa", "tatoeba": "retrieval", "mnli":
           "classification", "squad_v1": "qa"}
TARGETS = ["xnli", "tydiqa", "tatoeba", "avg"]


def _synthetic(means: dict[tuple[str, str], float], sd: float, n_boot: int = 400):
    """An improvement table and replicates N(mean, sd) per (recipe, target) of model m."""
    rng = np.random.default_rng(0)
    reps = {("m", r, t): mean + sd * rng.standard_normal(n_boot) for (r, t), mean in
            means.items()}
    imp = pd.DataFrame([{"model": "m", "recipe": r, "target": t, "delta": mean}
                        for (r, t), mean in means.items()])
    return imp, reps


def _grid(values: dict[str, dict[str, float]]) -> dict[tuple[str, str], float]:
    return {(r, t): values.get(r, {}).get(t, 0.0) for r in RECIPES for t in TARGETS}


def _verdicts(means, sd):
    imp, reps = _synthetic(means, sd)
    table = FD.findings_table(imp, RECIPES, FORMATS, reps)
    return dict(zip(table["finding"], table["verdict"], strict=True)), table


def test_the_paper_pattern_is_shown():
    means = _grid({"mnli": {"tatoeba": 12, "tydiqa": 2, "avg": 4},
                   "squad_v1": {"tatoeba": 10, "tydiqa": 6, "avg": 5},
                   "multitask": {"avg": 6.5}, "mnli_mlm": {"avg": 4}, "mnli_translated":
                   {"avg": 3.5}})
    verdicts, table = _verdicts(means, sd=0.2)
    assert verdicts == dict.fromkeys(FD.CLAIMS, FD.SHOWN)
    sentence = table.set_index("finding").loc["qa", "sentence"]
    assert "QA-target gain of squad_v1 +6.0 [+5.6, +6.4]" in sentence
    assert "shown" in FD.findings_summary(table)


def test_the_opposite_pattern_is_not_shown():
    means = _grid({"mnli": {"xnli": 5, "tatoeba": -3, "avg": 4},
                   "squad_v1": {"xnli": 5, "tatoeba": -3, "tydiqa": -4, "avg": 5},
                   "multitask": {"avg": 2}, "mnli_mlm": {"avg": 8}, "mnli_translated":
                   {"avg": 8}})
    verdicts, _ = _verdicts(means, sd=0.2)
    assert verdicts == dict.fromkeys(FD.CLAIMS, FD.NOT_SHOWN)


def test_a_large_loss_on_xnli_is_not_little_change():
    verdicts, table = _verdicts(_grid({"mnli": {"xnli": -7}, "squad_v1": {"xnli": -7}}), sd=0.2)
    assert verdicts["xnli"] == FD.NOT_SHOWN
    assert "XNLI gain -7.0" in table.set_index("finding").loc["xnli", "sentence"]


def test_noise_around_zero_is_inconclusive():
    verdicts, _ = _verdicts(_grid({}), sd=3.0)
    assert verdicts == dict.fromkeys(FD.CLAIMS, FD.INCONCLUSIVE)


def test_without_replicates_or_recipes_nothing_is_assessed():
    imp, _ = _synthetic(_grid({}), sd=1.0)
    table = FD.findings_table(imp, RECIPES, FORMATS, None)
    assert set(table["verdict"]) == {FD.NOT_ASSESSED}
    only_mnli = imp[imp["recipe"] == "mnli"]
    table = FD.findings_table(only_mnli, RECIPES, FORMATS, None).set_index("finding")
    assert "needs a SQuAD" in table.loc["qa", "sentence"]


def test_write_tables_puts_intervals_in_the_markdown(tmp_path):
    gold = {"en": list(RNG.choice(LABELS, 60))}
    tidy = _write_run(tmp_path, {("m", "none"): {"en": _flip(gold["en"], 0.6)},
                                 ("m", "mnli"): {"en": _flip(gold["en"], 0.1)}}, gold)
    reps = IV.improvement_replicates(IV.with_average(IV.task_replicates(
        tidy, lambda m, r, s: tmp_path / "predictions" / m / r / f"seed{s}", tmp_path / "labels",
        {"xnli": get_task("xnli")}, 100), ["xnli"]))
    write_tables(tidy, tmp_path / "out", replicates=reps, recipes=RECIPES, formats=FORMATS,
                 n_boot=100)
    imp = pd.read_csv(tmp_path / "out" / "improvement.csv").iloc[0]
    md = (tmp_path / "out" / "improvement.md").read_text()
    assert f"[{imp['xnli_lo']:+.1f}, {imp['xnli_hi']:+.1f}]" in md


def test_three_seeds_add_a_seed_interval_to_the_table(tmp_path):
    values = {("none", 1): 40.0, ("none", 2): 42.0, ("none", 3): 41.0,
              ("mnli", 1): 44.0, ("mnli", 2): 47.0, ("mnli", 3): 44.5}
    tidy = pd.DataFrame([{"model": "m", "recipe": r, "seed": s, "target": "xnli",
                          "language": lang, "metric": "score", "value": v + (lang == "de")}
                         for (r, s), v in values.items() for lang in ("en", "de")])
    write_tables(tidy, tmp_path / "out")
    imp = pd.read_csv(tmp_path / "out" / "improvement.csv").iloc[0]
    assert imp["avg"] == pytest.approx(135.5 / 3 - 41) and math.isnan(imp["avg_lo"])
    assert imp["avg_seed_lo"] < imp["avg"] < imp["avg_seed_hi"]
    md = (tmp_path / "out" / "improvement.md").read_text()
    assert f"{{{imp['avg_seed_lo']:+.1f}, {imp['avg_seed_hi']:+.1f}}}" in md
    assert "no example-bootstrap intervals" in (tmp_path / "out" / "improvement.tex").read_text()


def test_example_statistics_reproduce_evaluate_py_on_the_official_mock(xtreme_mock):
    """The intervals resample per-example statistics read from submission files: summed over
    every example of google-research/xtreme's mock submission they give, for every task and
    language, the task score of the scores the official evaluate.py computed from it."""
    from xstilts.metrics import task_score
    from xstilts.tasks.registry import get_task

    expected = pd.read_csv(xtreme_mock / "expected_scores.csv", keep_default_na=False)
    checked = 0
    for (target, lang), rows in expected.groupby(["task", "language"]):
        task = get_task(target)
        _, stats = BS.run_keyed_stats(task, lang, xtreme_mock / "predictions",
                                      xtreme_mock / "labels")
        want = task_score(task.metric, dict(zip(rows["metric"], rows["value"], strict=True)))
        got = float(BS.score_from_sums(task.metric, stats.sum(axis=0)))
        assert math.isclose(got, want, abs_tol=1e-6), (target, lang, got, want)
        checked += 1
    assert checked == expected.groupby(["task", "language"]).ngroups > 100

"""Fairness metrics, example bootstrap, tables, figures and the fairness-report stage."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from xstilts.analysis.submission import write_labels, write_predictions
from xstilts.data.schema import DataError
from xstilts.metrics import compute, task_score
from xstilts.studies.fairness import measure as F
from xstilts.studies.fairness import tables as FT
from xstilts.tasks.registry import get_task

META = pd.DataFrame({
    "lang": ["en", "aa", "bb", "cc", "dd"],
    "name": ["English", "A", "B", "C", "D"],
    "family": ["F1", "F1", "F2", "F2", "F3"],
    "script": ["Latn"] * 5,
    "speakers": [100.0, 10.0, 30.0, math.nan, 60.0],
    "is_english": [True, False, False, False, False],
})


# ---------------------------------------------------------------------------- pure metrics

@pytest.mark.parametrize("scores,want", [
    ([1, 2, 3, 4], 0.25),          # sum|xi-xj| = 20, n^2 = 16, mean 2.5: 20 / (2*16*2.5)
    ([5, 5, 5], 0.0),
    ([0, 0, 0, 4], 0.75),          # all in one language: (n-1)/n
    ([10, 30], 0.25),              # 2*20 / (2*4*20)
])
def test_gini_hand_computed(scores, want):
    assert F.gini(scores) == pytest.approx(want)


def test_gini_of_zero_mean_is_nan_and_vectorised():
    assert math.isnan(F.gini([0, 0]))
    out = F.gini(np.array([[1, 2, 3, 4], [5, 5, 5, 5]]))
    np.testing.assert_allclose(out, [0.25, 0.0])


def test_gap_sd_english_gap_weighted():
    assert F.best_worst_gap([3, 9, 4]) == 6
    assert F.std([2, 4, 4, 4, 5, 5, 7, 9]) == pytest.approx(2.0)  # population sd
    assert F.english_gap([80, 60, 70], [True, False, False]) == pytest.approx(15.0)
    assert math.isnan(F.english_gap([60, 70], [False, False]))
    # (10*1 + 30*3) / 40 = 2.5; the NaN weight is dropped
    assert F.weighted_mean([1, 3, 100], [10, 30, math.nan]) == pytest.approx(2.5)
    assert math.isnan(F.weighted_mean([1, 2], [math.nan, 0]))


def test_family_means_with_sizes():
    fams = F.family_means([10, 20, 40, 70], ["x", "y", "y", "x"])
    assert fams == {"x": (40.0, 2), "y": (30.0, 2)}


def test_fairness_summary_hand_computed():
    scores = {"en": 90.0, "aa": 50.0, "bb": 70.0, "cc": 30.0, "dd": 60.0}
    s = F.fairness_summary(scores, META)
    # transfer languages aa, bb, cc, dd = 50, 70, 30, 60
    assert s["n_languages"] == 4
    assert s["mean"] == pytest.approx(52.5)
    assert (s["worst_language"], s["worst_language_score"]) == ("cc", 30.0)
    # family means (English excluded): F1 = 50 (n=1), F2 = 50 (n=2), F3 = 60: tie -> by name
    assert (s["worst_family"], s["worst_family_score"], s["worst_family_size"]) == ("F1", 50, 1)
    assert s["best_worst_gap"] == 40.0
    assert s["sd"] == pytest.approx(np.std([50, 70, 30, 60]))
    # ordered pairs: |diffs| of (50,70,30,60) = 2*(20+20+10+40+10+30) = 260; 260/(2*16*52.5)
    assert s["gini"] == pytest.approx(260 / (2 * 16 * 52.5))
    assert s["english_gap"] == pytest.approx(90 - 52.5)
    # speakers 10, 30, NaN, 60: (500 + 2100 + 3600) / 100
    assert s["speaker_weighted"] == pytest.approx(62.0)


def test_fairness_summary_including_english():
    scores = {"en": 90.0, "aa": 50.0, "bb": 70.0, "cc": 30.0, "dd": 60.0}
    s = F.fairness_summary(scores, META, include_english=True)
    assert s["n_languages"] == 5 and s["mean"] == pytest.approx(60.0)
    assert s["worst_family"] == "F2" and s["worst_family_score"] == 50.0
    assert s["best_worst_gap"] == 60.0


def test_summary_values_vectorised_equals_rows():
    rng = np.random.default_rng(0)
    mat = rng.uniform(0, 100, size=(7, 5))
    langs = ["aa", "bb", "cc", "dd", "en"]
    vec = F.summary_values(mat, langs, META)
    for i in range(7):
        one = F.fairness_summary(dict(zip(langs, mat[i], strict=True)), META)
        for key in F.NUMERIC:
            assert vec[key][i] == pytest.approx(one[key], nan_ok=True), key


def test_missing_metadata_row_is_a_data_error():
    with pytest.raises(DataError, match=r"no row for language\(s\) \['zz'\]"):
        F.fairness_summary({"aa": 1.0, "zz": 2.0}, META)


# ---------------------------------------------------------------------------- bootstrap

def _resample(metric, preds, gold, idx):
    """The explicit resample of `idx`, for xstilts.metrics.compute."""
    if metric in ("squad", "mlqa"):
        qas = [q for a in gold["data"] for p in a["paragraphs"] for q in p["qas"]]
        new_qas, new_preds = [], {}
        for k, i in enumerate(idx):
            qid = f"{qas[i]['id']}#{k}"
            new_qas.append({**qas[i], "id": qid})
            if qas[i]["id"] in preds:
                new_preds[qid] = preds[qas[i]["id"]]
        return new_preds, {"data": [{"paragraphs": [{"context": "", "qas": new_qas}]}]}
    if metric == "bucc_f1":
        units = sorted({s for s, _ in preds} | {s for s, _ in gold})
        pick = [(units[i], k) for k, i in enumerate(idx)]
        return ([(f"{u}#{k}", t) for u, k in pick for s, t in preds if s == u],
                [(f"{u}#{k}", t) for u, k in pick for s, t in gold if s == u])
    return [preds[i] for i in idx], [gold[i] for i in idx]


def _squad(answers):
    qas = [{"id": f"q{i}", "answers": [{"text": t, "answer_start": 0} for t in golds]}
           for i, golds in enumerate(answers)]
    return {"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": "c",
                                                                       "qas": qas}]}]}


CASES = {
    "accuracy": (["a", "b", "a", "c", "b", "a"], ["a", "b", "b", "c", "a", "a"]),
    "retrieval_accuracy": ([0, 1, 2, 0, 4], [0, 1, 1, 3, 4]),
    "seqeval_f1": (
        [["B-PER", "I-PER", "O"], ["O", "B-LOC"], ["B-ORG", "O", "B-PER"], ["O"]],
        [["B-PER", "I-PER", "O"], ["B-LOC", "I-LOC"], ["B-ORG", "O", "O"], ["B-PER"]]),
    "squad": ({"q0": "the cat", "q1": "a dog", "q3": "blue sky", "q2": "red"},
              _squad([["The cat"], ["dog"], ["green"], ["blue sky", "sky"]])),
    "bucc_f1": ([("s1", "t1"), ("s2", "t9"), ("s4", "t4"), ("s5", "t5")],
                [("s1", "t1"), ("s2", "t2"), ("s3", "t3"), ("s4", "t4")]),
}


@pytest.mark.parametrize("metric", sorted(CASES))
def test_replicates_equal_compute_on_explicit_resamples(metric):
    preds, gold = CASES[metric]
    stats = F.example_stats(metric, preds, gold, "en")
    want_full = task_score(metric, compute(metric, preds, gold, "en"))
    assert float(F.score_from_sums(metric, stats.sum(axis=0))) == pytest.approx(want_full)
    reps = F.bootstrap_replicates(metric, stats, 6, seed=3, key=("t", "en"))
    idx = F.resample_indices(len(stats), 6, 3, ("t", "en"))
    for b in range(6):
        p, g = _resample(metric, preds, gold, idx[b])
        want = task_score(metric, compute(metric, p, g, "en"))
        assert reps[b] == pytest.approx(want), (metric, b, idx[b])


def test_example_stats_mlqa_uses_language():
    preds, gold = CASES["squad"]
    stats = F.example_stats("mlqa", preds, gold, "en")
    assert stats.shape == (4, 3)


def test_token_accuracy_stats():
    preds, gold = [["A", "B"], ["C"]], [["A", "C"], ["C"]]
    stats = F.example_stats("accuracy", preds, gold, "en")
    assert stats.tolist() == [[1, 2], [1, 1]]
    assert F.score_from_sums("accuracy", stats.sum(axis=0)) == pytest.approx(200 / 3)


def test_bootstrap_ci_deterministic_and_seeded():
    preds, gold = CASES["accuracy"]
    a = F.bootstrap_ci("accuracy", preds, gold, "en", n_boot=50, seed=1)
    b = F.bootstrap_ci("accuracy", preds, gold, "en", n_boot=50, seed=1)
    c = F.bootstrap_ci("accuracy", preds, gold, "en", n_boot=50, seed=2)
    assert a.score == pytest.approx(400 / 6) and a.n == 6
    assert (a.lo, a.hi) == (b.lo, b.hi)
    np.testing.assert_array_equal(a.replicates, b.replicates)
    assert not np.array_equal(a.replicates, c.replicates)
    assert 0 <= a.lo <= a.score <= a.hi <= 100 and a.lo < a.hi
    perfect = F.bootstrap_ci("accuracy", gold, gold, "en", n_boot=20)
    assert (perfect.lo, perfect.hi) == (100.0, 100.0)


def test_indices_paired_by_key_and_differ_across_keys():
    a = F.resample_indices(10, 5, 0, ("xnli", "de"))
    np.testing.assert_array_equal(a, F.resample_indices(10, 5, 0, ("xnli", "de")))
    assert not np.array_equal(a, F.resample_indices(10, 5, 0, ("xnli", "fr")))
    assert a.min() >= 0 and a.max() < 10
    with pytest.raises(ValueError, match="n >= 1"):
        F.resample_indices(0, 5, 0)


def test_percentile_ci():
    assert F.percentile_ci(np.arange(101.0), 0.9) == pytest.approx((5.0, 95.0))
    lo, hi = F.percentile_ci([math.nan, math.nan])
    assert math.isnan(lo) and math.isnan(hi)


def test_example_stats_rejects_length_mismatch_and_unknown_metric():
    with pytest.raises(ValueError, match="2 predictions but 1"):
        F.example_stats("accuracy", ["a", "b"], ["a"], "en")
    with pytest.raises(ValueError, match="no bootstrap for metric 'mlm_loss'"):
        F.example_stats("mlm_loss", [], [], "en")


# ---------------------------------------------------------------------------- grid + stage

LANGS = ["aa", "bb", "cc", "dd", "en"]
GOLD = ["0", "1"] * 10  # 20 examples per language


def _predictions(recipe: str, lang: str) -> list[str]:
    """Deterministic predictions: `none` gets k wrong, `mnli` k - 2 (floored at 0)."""
    k = {"en": 2, "aa": 10, "bb": 6, "cc": 8, "dd": 4}[lang]
    k = max(0, k - 2) if recipe == "mnli" else k
    return [("1" if g == "0" else "0") if i < k else g for i, g in enumerate(GOLD)]


@pytest.fixture
def grid(tmp_path):
    rows = []
    for recipe in ("none", "mnli"):
        for lang in LANGS:
            preds = _predictions(recipe, lang)
            write_predictions("pawsx", lang, preds, tmp_path / "pred" / "m" / recipe / "seed1")
            write_labels("pawsx", lang, GOLD, tmp_path / "labels")
            acc = 100.0 * sum(p == g for p, g in zip(preds, GOLD, strict=True)) / len(GOLD)
            rows += [{"model": "m", "recipe": recipe, "seed": 1, "target": "pawsx",
                      "language": lang, "metric": m, "value": acc}
                     for m in ("accuracy", "score")]
    tidy = pd.DataFrame(rows)
    tidy.to_csv(tmp_path / "tidy.csv", index=False)
    META[["lang", "name", "family", "script"]].assign(
        word_order="SVO", resource_level="high", mlm_sentences=[100, 10, 30, 20, 60]
    ).to_csv(tmp_path / "languages.csv", index=False)
    return tmp_path, tidy


def test_grid_tables_point_values_and_paired_improvement(grid, tmp_path):
    root, tidy = grid
    scores = F.point_scores(tidy)
    np.testing.assert_allclose(scores[("m", "none", "pawsx")].point, [50, 70, 60, 80, 90])
    F.attach_replicates(scores, tidy, lambda m, r, s: root / "pred" / m / r / f"seed{s}",
                        root / "labels", {"pawsx": get_task("pawsx")}, 40, 0)
    # paired draws: mnli fixes two of none's errors per language, so no replicate is worse
    diff = scores[("m", "mnli", "pawsx")].reps - scores[("m", "none", "pawsx")].reps
    assert diff.shape == (40, 5) and (diff >= 0).all() and (diff > 0).any()
    scores = F.with_average(scores, ["pawsx"])
    summary = FT.summary_table(scores, META)
    none = summary[(summary["recipe"] == "none") & (summary["target"] == "pawsx")].iloc[0]
    assert none["mean"] == pytest.approx(65.0) and none["worst_language"] == "aa"
    assert none["mean_lo"] <= none["mean"] <= none["mean_hi"]
    assert list(summary["target"]) == ["pawsx", "avg", "pawsx", "avg"]
    imp = FT.family_improvement_table(scores, META)
    f2 = imp[(imp["target"] == "pawsx") & (imp["family"] == "F2")].iloc[0]
    assert (f2["n"], f2["delta"]) == (2, pytest.approx(10.0))
    assert 0 <= f2["lo"] < f2["delta"] < f2["hi"]
    fam = FT.family_table(scores, META)
    assert set(fam["family"]) == {"F1", "F2", "F3"}
    written = FT.write_fairness_tables(tmp_path / "out", summary, fam, imp)
    md = (tmp_path / "out" / "family_improvement.md").read_text()
    assert "F2 (n=2)" in md and "+10.00 [" in md and "## avg" in md
    assert len(written) == 9


def test_stage_writes_tables_and_figures(grid):
    from xstilts.stages.fairness_report import run

    root, _ = grid
    out = root / "fair"
    run({"scores": str(root / "tidy.csv"), "out": str(out),
         "languages": str(root / "languages.csv"), "predictions_root": str(root / "pred"),
         "labels_root": str(root / "labels"), "bootstrap": 20, "seed": 0})
    names = sorted(p.name for p in out.iterdir())
    for stem in ("fairness_summary", "family_scores", "family_improvement"):
        assert {f"{stem}.csv", f"{stem}.md", f"{stem}.tex"} <= set(names)
    assert {"family_improvement.png", "family_improvement.pdf", "family_heatmap.png",
            "family_heatmap.pdf", "languages.csv"} <= set(names)
    summary = pd.read_csv(out / "fairness_summary.csv")
    assert summary["mean_lo"].notna().all()
    meta = pd.read_csv(out / "languages.csv")
    assert meta.set_index("lang").loc["dd", "speakers"] == 60  # mlm_sentences stands in


def test_stage_without_predictions_has_no_cis(grid):
    from xstilts.stages.fairness_report import run

    root, _ = grid
    out = root / "fair"
    run({"scores": str(root / "tidy.csv"), "out": str(out),
         "languages": str(root / "languages.csv")})
    summary = pd.read_csv(out / "fairness_summary.csv")
    assert summary["mean_lo"].isna().all() and summary["mean"].notna().all()


def test_stage_missing_prediction_file_names_it(grid):
    from xstilts.stages.fairness_report import run

    root, _ = grid
    (root / "pred" / "m" / "mnli" / "seed1" / "pawsx" / "test-cc.tsv").unlink()
    with pytest.raises(DataError, match=r"test-cc\.tsv: file not found"):
        run({"scores": str(root / "tidy.csv"), "out": str(root / "fair"),
             "languages": str(root / "languages.csv"), "predictions_root": str(root / "pred"),
             "labels_root": str(root / "labels"), "bootstrap": 5})
    assert not (root / "fair").exists()

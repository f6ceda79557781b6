"""Robustness evaluation: the stage on perturbed test sets, the tables and the figures."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pandas as pd
import pytest

from xstilts.analysis.tables import read_tidy
from xstilts.data.schema import DataError
from xstilts.studies.robustness.tables import (
    adversarial_pairs,
    adversarial_table,
    collect,
    robustness_table,
    run_averages,
    write_robustness_tables,
)

# ------------------------------------------------------------------ synthetic score files

# clean and perturbed per language; xquad values are (EM, F1), task score = their mean
CLEAN = {"xnli": {"en": 80, "de": 60, "fr": 50},
         "xquad": {"en": (60, 80), "de": (40, 60), "fr": (20, 40)}}
PERTURBED = {
    ("char", 1): {"xnli": {"en": 70, "de": 40, "fr": 30},
                  "xquad": {"de": (30, 50), "fr": (10, 30)}},
    ("char", 2): {"xnli": {"en": 60, "de": 20, "fr": 10},
                  "xquad": {"de": (10, 30), "fr": (0, 20)}},
    ("whitespace", 1): {"xnli": {"de": 55}},
}


def _scores(value, clean_off: float, pert_off: float, clean: bool) -> dict[str, float]:
    off = clean_off if clean else pert_off
    if isinstance(value, tuple):
        return {"exact_match": value[0] + off, "f1": value[1] + off}
    return {"accuracy": value + off}


def _write_run(root: Path, recipe: str, seed: int, target: str, clean_off: float = 0.0,
               pert_off: float = 0.0) -> Path:
    sets = []
    for (op, sev), by_target in PERTURBED.items():
        if target in by_target:
            sets.append({"op": op, "severity": sev, "languages": {
                lang: _scores(v, clean_off, pert_off, False)
                for lang, v in by_target[target].items()}})
    raw = {"model": "tiny", "recipe": recipe, "seed": seed, "target": target,
           "task_metric": "accuracy" if target == "xnli" else "squad", "perturb_seed": 0,
           "clean": {lang: _scores(v, clean_off, pert_off, True)
                     for lang, v in CLEAN[target].items()},
           "sets": sets}
    path = root / f"{recipe}-{seed}-{target}.json"
    path.write_text(json.dumps(raw), "utf-8")
    return path


# recipe -> seed -> (clean offset, perturbed offset)
OFFSETS = {"none": {1: (0, 0), 2: (0, 2)},
           "anli_plus": {1: (1, 1), 2: (1, 1)},
           "anli_plus_adv": {1: (0, 4), 2: (0, 6)}}


@pytest.fixture
def frame(tmp_path: Path) -> pd.DataFrame:
    files = [_write_run(tmp_path, recipe, seed, target, *off)
             for recipe, seeds in OFFSETS.items() for seed, off in seeds.items()
             for target in ("xnli", "xquad")]
    return collect(files)


def _one(df: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for k, v in where.items():
        mask &= df[k] == v
    assert mask.sum() == 1, (where, mask.sum())
    return df[mask].iloc[0]


def test_tidy_rows_task_score_and_drop(frame):
    row = _one(frame, recipe="none", seed=1, target="xquad", language="de", op="char",
               severity=1.0, metric="score")
    assert row["value"] == 40 and row["clean"] == 50 and row["drop"] == 10  # mean(EM, F1)
    row = _one(frame, recipe="none", seed=2, target="xquad", language="fr", op="char",
               severity=2.0, metric="exact_match")
    assert (row["value"], row["clean"], row["drop"]) == (2, 20, 18)
    assert not ((frame["target"] == "xquad") & (frame["language"] == "en")).any()


def test_run_averages_by_hand(frame):
    avg = run_averages(frame)
    r = _one(avg, recipe="none", seed=1, op="char", severity=1.0)
    # xnli non-English: pert (40+30)/2 = 35, clean 55; xquad: pert (40+20)/2 = 30, clean 40
    assert r["perturbed"] == pytest.approx(32.5) and r["clean"] == pytest.approx(47.5)
    assert r["drop"] == pytest.approx(15.0) and r["targets"] == "xnli, xquad"
    r = _one(avg, recipe="none", seed=1, op="whitespace", severity=1.0)
    assert (r["perturbed"], r["clean"], r["drop"], r["targets"]) == (55, 60, 5, "xnli")
    r = _one(avg, recipe="none", seed=1, op="all", severity=1.0)
    assert r["perturbed"] == pytest.approx((32.5 + 55) / 2)
    assert r["clean"] == pytest.approx((47.5 + 60) / 2) and r["drop"] == pytest.approx(10.0)
    r = _one(avg, recipe="none", seed=1, op="all", severity=2.0)  # only char has sev 2
    assert r["perturbed"] == pytest.approx((15 + 15) / 2)


def test_table_mean_sd_over_seeds(frame):
    table = robustness_table(frame)
    assert list(table["recipe"].drop_duplicates()) == ["none", "anli_plus",
                                                               "anli_plus_adv"]
    r = _one(table, recipe="none", op="char", severity=1.0)
    assert r["n_seeds"] == 2
    assert r["perturbed"] == pytest.approx(33.5) and r["perturbed_sd"] == pytest.approx(2**0.5)
    assert r["clean"] == pytest.approx(47.5) and r["clean_sd"] == pytest.approx(0.0)
    assert r["drop"] == pytest.approx(14.0) and r["drop_sd"] == pytest.approx(2**0.5)


def test_adversarial_pairs_from_recipes():
    from xstilts.grid.config import recipes

    config = {"recipes": {
        "anli_plus": {"tasks": ["anli_plus"]},
        "anli_plus_mlm": {"tasks": ["anli_plus"], "mlm": True},
        "anli_plus_adv": {"tasks": ["anli_plus"], "adversarial": {"op": "char"}},
        "anli_plus_mlm_adv": {"tasks": ["anli_plus"], "mlm": True, "adversarial": True},
        "none_adv": {"tasks": [], "adversarial": True},
        "mnli_adv": {"tasks": ["mnli"], "adversarial": True}}}
    assert adversarial_pairs(recipes(config)) == {
        "anli_plus_adv": "anli_plus", "anli_plus_mlm_adv": "anli_plus_mlm", "none_adv": "none"}


def test_adversarial_differences_paired_by_seed(frame):
    adv = adversarial_table(frame, {"anli_plus_adv": "anli_plus"})
    assert set(adv["adversarial"]) == {"anli_plus_adv"}
    r = _one(adv, op="char", severity=1.0)
    # per seed: clean 0 - 1 = -1; perturbed (4 - 1, 6 - 1) = (3, 5); drop (-4, -6)
    assert r["n_pairs"] == 2
    assert r["d_clean"] == pytest.approx(-1) and r["d_clean_sd"] == pytest.approx(0)
    assert r["d_perturbed"] == pytest.approx(4) and r["d_perturbed_sd"] == pytest.approx(2**0.5)
    assert r["d_drop"] == pytest.approx(-5) and r["d_drop_sd"] == pytest.approx(2**0.5)
    assert adversarial_table(frame, {}).empty


def test_written_tables_round_trip(frame, tmp_path):
    out = tmp_path / "tables"
    paths = write_robustness_tables(frame, out, {"anli_plus_adv": "anli_plus"})
    names = {p.name for p in paths}
    assert {"robustness_tidy.csv", "robustness.csv", "robustness.md", "robustness.tex",
            "adversarial.csv", "adversarial.md", "adversarial.tex"} == names
    md = (out / "robustness.md").read_text("utf-8")
    assert "33.50 ± 1.41" in md and "47.50 ± 0.00" in md
    assert r"33.50 $\pm$ 1.41" in (out / "robustness.tex").read_text("utf-8")
    assert "+4.00 ± 1.41" in (out / "adversarial.md").read_text("utf-8")
    again = read_tidy(out / "robustness_tidy.csv")
    pd.testing.assert_frame_equal(robustness_table(again), robustness_table(frame))


def test_bad_files_name_the_key(tmp_path):
    path = _write_run(tmp_path, "none", 1, "xnli")
    raw = json.loads(path.read_text("utf-8"))
    raw["sets"][0]["languages"]["de"]["accuracy"] = "high"
    path.write_text(json.dumps(raw), "utf-8")
    with pytest.raises(DataError, match=r"sets\[0\]\.languages\.de\.accuracy"):
        collect([path])
    raw["sets"][0]["languages"] = {"xx": {"accuracy": 1.0}}
    path.write_text(json.dumps(raw), "utf-8")
    with pytest.raises(DataError, match="no clean scores for language 'xx'"):
        collect([path])


def test_figures_write_png_and_pdf(frame, tmp_path):
    from xstilts.studies.robustness.figures import make_robustness_figures, severity_curves

    curves = severity_curves(frame)
    clean = _one(curves, recipe="none", op="char", severity=0.0)
    assert clean["mean"] == pytest.approx(47.5)  # severity 0 = the clean score
    overall = _one(curves, recipe="none", op="all", severity=0.0)
    assert overall["mean"] == pytest.approx((47.5 + 60) / 2)  # mean of the ops' clean points
    paths = make_robustness_figures(frame, tmp_path / "fig")
    assert {p.name for p in paths} == {"robustness_by_op.png", "robustness_by_op.pdf",
                                       "robustness_mean.png", "robustness_mean.pdf"}
    for p in paths:
        head = p.read_bytes()[:4]
        assert p.stat().st_size > 1000 and head in (b"\x89PNG", b"%PDF")


def _report(**spec) -> int:
    from xstilts.cli import main

    return main(["robustness-report", "--spec", json.dumps(spec)], allow_worker=False)


def test_report_stage_writes_tables_and_figures(frame, tmp_path):
    files = sorted(str(p) for p in tmp_path.glob("*.json"))
    recipes = {"anli_plus": {"tasks": ["anli_plus"]},
               "anli_plus_adv": {"tasks": ["anli_plus"], "adversarial": True}}
    assert _report(files=files, tables=str(tmp_path / "t"), figures=str(tmp_path / "f"),
                   recipes=recipes) == 0
    assert (tmp_path / "t" / "adversarial.md").is_file()
    assert (tmp_path / "f" / "robustness_mean.pdf").stat().st_size > 1000
    # only English perturbed: tables without rows, no figures, no crash
    only_en = _write_run(tmp_path / "t", "none", 1, "xnli")
    raw = json.loads(only_en.read_text("utf-8"))
    raw["sets"] = [{"op": "char", "severity": 1, "languages": {"en": {"accuracy": 1.0}}}]
    only_en.write_text(json.dumps(raw), "utf-8")
    assert _report(files=[str(only_en)], tables=str(tmp_path / "e"),
                   figures=str(tmp_path / "ef")) == 0
    assert (tmp_path / "e" / "robustness.md").is_file()
    assert not list((tmp_path / "ef").iterdir())


# ------------------------------------------------------------------ the stage

def _records(rng: random.Random, n: int) -> list[dict]:
    from test_engine_common import MARK, sentence

    rows = []
    for i in range(n):
        words = sentence(rng)
        if i % 2:
            words.insert(rng.randint(0, len(words)), MARK)
        rows.append({"id": str(i), "text_a": " ".join(words),
                     "text_b": " ".join(sentence(rng, 2, 5)), "label": str(i % 2)})
    return rows


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny benchmark (en, xa) with PAWS-X data and a tiny model fine-tuned on it."""
    from test_engine_common import tiny_encoder
    from test_languages import SYNTH

    from xstilts.data.languages import write_language_table
    from xstilts.data.layout import write_canonical
    from xstilts.data.load import load_split
    from xstilts.engine.training import TrainTask, train
    from xstilts.tasks.registry import get_task

    root = tmp_path_factory.mktemp("robust")
    bench = root / "bench"
    write_language_table(SYNTH, bench / "languages.csv")
    rng = random.Random(3)
    tests = {lang: _records(rng, 16) for lang in ("en", "xa")}
    for lang, rows in tests.items():
        write_canonical("pawsx", "test", lang, rows, bench)
    write_canonical("pawsx", "train", "en", _records(rng, 48), bench)
    task = get_task("pawsx")
    source = {"kind": "synthetic", "path": str(bench), "ccg_path": None}
    hp = {"lr": 5e-3, "batch_size": 8, "max_length": 64, "warmup_ratio": 0.0, "logging": 10,
          "save_every": 1000, "max_steps": 6}
    train([TrainTask("pawsx", task, load_split(task, "train", "en", source))], tiny_encoder(),
          root / "model", root / "scratch", hp, seed=0, threads=1, eval_task=None)
    return root, bench, tests


def test_stage_scores_each_perturbed_set_like_a_direct_evaluation(checkpoint):
    from xstilts.data.layout import write_canonical
    from xstilts.data.load import load_split
    from xstilts.engine.predict import Predictor
    from xstilts.metrics import compute
    from xstilts.stages import evaluate, robustness
    from xstilts.tasks.registry import get_task

    root, bench, tests = checkpoint
    ids = {"model": "tiny", "recipe": "none", "seed": 1}
    spec = {"target": "pawsx", "model_path": str(root / "model"), "ids": ids,
            "benchmark": {"source": "synthetic", "path": str(bench)}}
    evaluate.run({**spec, "out": str(root / "scores.json"),
                  "predictions": str(root / "pred" / "pawsx" / "x")})
    # a hand-made perturbed set: xa only, marker word removed, half the examples
    pert = [{**r, "text_a": r["text_a"].replace("学校", "").strip() or "ka"}
            for r in tests["xa"][:8]]
    set_dir = root / "perturbed" / "char-1"
    write_canonical("pawsx", "test", "xa", pert, set_dir)
    manifest = root / "perturbed" / "manifest.json"
    manifest.write_text(json.dumps({"target": "pawsx", "seed": 0, "sets": [
        {"op": "char", "severity": 1, "path": "char-1", "languages": ["xa"]}]}), "utf-8")
    out = root / "robustness.json"
    robustness.run({**spec, "perturbed": str(manifest), "clean_scores": str(root / "scores.json"),
                    "out": str(out)})
    got = json.loads(out.read_text("utf-8"))
    clean = json.loads((root / "scores.json").read_text("utf-8"))["languages"]
    assert {k: got[k] for k in ids} == ids and got["target"] == "pawsx"
    assert got["task_metric"] == "accuracy" and got["clean"] == clean
    assert [(s["op"], s["severity"], list(s["languages"])) for s in got["sets"]] == [
        ("char", 1, ["xa"])]
    task = get_task("pawsx")
    ds = load_split(task, "test", "xa", robustness.perturbed_source(set_dir, evaluate.source_of(
        spec["benchmark"])))
    assert len(ds) == 8 and "学校" not in "".join(ds["text_a"])
    preds = Predictor(task, root / "model", threads=1).predict(ds)
    gold = [ds.features["label"].int2str(int(i)) for i in ds["label"]]
    assert got["sets"][0]["languages"]["xa"] == compute("accuracy", preds, gold, "synthetic")
    frame = collect([out])
    score = frame[frame["metric"] == "score"].iloc[0]
    assert math.isclose(score["drop"], clean["xa"]["accuracy"] - score["value"])


def test_manifest_set_paths_relative_to_the_working_directory(tmp_path, monkeypatch):
    from xstilts.stages.robustness import read_manifest

    (tmp_path / "res" / "pert" / "char-1").mkdir(parents=True)
    manifest = tmp_path / "res" / "pert" / "manifest.json"
    sets = [{"op": "char", "severity": 1.0, "path": "res/pert/char-1", "languages": ["xa"]}]
    manifest.write_text(json.dumps({"target": "pawsx", "seed": 0, "sets": sets}), "utf-8")
    monkeypatch.chdir(tmp_path)  # as the perturb stage writes it: relative to the workdir
    got = read_manifest(manifest, "pawsx", ["en", "xa"])["sets"][0]["path"]
    assert got.resolve() == (tmp_path / "res" / "pert" / "char-1").resolve()


def test_stage_rejects_a_mismatched_manifest(tmp_path):
    from xstilts.stages.robustness import read_clean, read_manifest

    bad = tmp_path / "manifest.json"
    bad.write_text(json.dumps({"target": "xnli", "seed": 0, "sets": []}), "utf-8")
    with pytest.raises(DataError, match="key 'target' is 'xnli'"):
        read_manifest(bad, "pawsx", ["en", "xa"])
    bad.write_text(json.dumps({"target": "pawsx", "seed": 0, "sets": [
        {"op": "char", "severity": 1, "path": "x", "languages": ["zz"]}]}), "utf-8")
    with pytest.raises(DataError, match=r"sets\[0\]\.languages: \['zz'\]"):
        read_manifest(bad, "pawsx", ["en", "xa"])
    bad.write_text(json.dumps({"target": "pawsx", "seed": 0, "sets": [
        {"op": "char", "severity": 1, "path": "nowhere", "languages": ["xa"]}]}), "utf-8")
    with pytest.raises(DataError, match=r"sets\[0\]\.path: perturbed set folder 'nowhere'"):
        read_manifest(bad, "pawsx", ["en", "xa"])
    scores = tmp_path / "scores.json"
    scores.write_text(json.dumps({"model": "tiny", "recipe": "mnli", "seed": 1,
                                  "languages": {"en": {"accuracy": 50.0}}}), "utf-8")
    with pytest.raises(DataError, match="key 'recipe' is 'mnli'"):
        read_clean(scores, {"model": "tiny", "recipe": "none", "seed": 1}, "pawsx")

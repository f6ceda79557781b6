"""Tatoeba and BUCC as google-research/xtreme's download leaves them.

The files come from our samples in LASER's and BUCC's own layouts (tests/data/retrieval/laser,
bucc_raw) put through our re-implementation of the official steps (tests/xtreme_official.py):
Tatoeba's English side sorted, BUCC's test gold deleted. A perfect ("oracle") encoder must
score 100 where gold is given, its exported predictions must score 100 with the official scorer
logic against XTREME's own (sorted-order) labels, and withheld gold must be refused, not scored.
"""

from __future__ import annotations

import filecmp
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from xtreme_official import FIXTURES, LANG3_TO_2, build_download, laser_languages

from xstilts.analysis.scoring import score_folder
from xstilts.data.load import load_split
from xstilts.data.schema import DataError
from xstilts.engine import retrieval
from xstilts.metrics.retrieval import tatoeba_xtreme_order
from xstilts.tasks.registry import get_task

DOWNLOAD = FIXTURES / "download"
LABELS = FIXTURES / "labels"
LASER = FIXTURES / "laser"
TATOEBA_LANGS = sorted(LANG3_TO_2[l3] for l3 in laser_languages(LASER))
BUCC_LANGS = ["de", "zh"]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _bucc_rows(path: Path) -> list[tuple[str, str]]:
    return [tuple(x.split("\t")) for x in _lines(path)]


# ------------------------------------------------------------------ a perfect encoder


def _meanings() -> dict[str, set[tuple]]:
    """Every sample sentence -> its meaning(s): the LASER line / BUCC gold pair it belongs to."""
    out: dict[str, set[tuple]] = {}
    for l3 in laser_languages(LASER):
        src = _lines(LASER / f"tatoeba.{l3}-eng.{l3}")
        eng = _lines(LASER / f"tatoeba.{l3}-eng.eng")
        for i, (s, e) in enumerate(zip(src, eng, strict=True)):
            for text in (s, e):
                out.setdefault(text.strip(), set()).add(("tatoeba", l3, i))
    for gold in sorted((FIXTURES / "bucc_raw" / "bucc2018").glob("*/*.gold")):
        stem, lang = gold.with_suffix(""), gold.name.split("-")[0]
        pair_of = {}
        for s, t in _bucc_rows(gold):
            pair_of[s] = pair_of[t] = (stem.name, s)
        for side in (lang, "en"):
            for i, text in _bucc_rows(Path(f"{stem}.{side}")):
                out.setdefault(text.strip(), set()).add(pair_of.get(i, (stem.name, i)))
    return out


@pytest.fixture()
def oracle(monkeypatch):
    """Patch the encoder: a sentence's vector is the one-hot of its meaning plus a small shared
    part (so non-parallel sentences have a defined, equal similarity)."""
    meanings = _meanings()
    index = {m: k for k, m in enumerate(sorted({m for ms in meanings.values() for m in ms}))}

    def embed_all_layers(texts, enc, pooling, max_length, batch_size, threads, layers, *_, **__):
        out = np.full((len(layers), len(texts), len(index)), 0.05, dtype=np.float32)
        for row, text in enumerate(texts):
            for m in meanings[str(text).strip()]:
                out[:, row, index[m]] += 1.0
        return out

    model = SimpleNamespace(config=SimpleNamespace(num_hidden_layers=1))
    monkeypatch.setattr(retrieval, "load_retrieval_encoder",
                        lambda *_, **__: retrieval.Encoder(model, None, "oracle"))
    monkeypatch.setattr(retrieval, "embed_all_layers", embed_all_layers)


def _run_stage(tmp_path: Path, target: str, langs: list[str], benchmark: dict) -> dict:
    from xstilts.stages import retrieve

    spec = {"benchmark": benchmark, "tasks": {target: {"languages": langs}},
            "model_path": "oracle",
            "retrieval": {"layer": None, "pooling": "mean", "max_length": 32,
                          "sweep_layers": False},
            "ids": {"model": "m", "recipe": "none", "seed": 1},
            "targets": [{"target": target,
                         "out": str(tmp_path / "scores" / target / "scores.json"),
                         "predictions": str(tmp_path / "pred" / target)}]}
    retrieve.run(spec)
    return json.loads((tmp_path / "scores" / target / "scores.json").read_text())


# ------------------------------------------------------------------ fixtures are official


def test_committed_download_is_the_official_preprocessing_of_our_samples(tmp_path):
    gold = build_download(tmp_path)
    for sub in ("download/tatoeba", "download/bucc2018", "labels/tatoeba"):
        fresh, committed = tmp_path / sub, FIXTURES / sub
        names = sorted(p.name for p in fresh.iterdir())
        assert names == sorted(p.name for p in committed.iterdir())
        match, mismatch, errors = filecmp.cmpfiles(fresh, committed, names, shallow=False)
        assert not mismatch and not errors, (sub, mismatch, errors)
    assert sorted(gold) == TATOEBA_LANGS
    # the sorting hides the gold: it is not the identity for any language
    assert all(rows != sorted(rows) for rows in gold.values())
    # download_bucc18 deletes the test gold
    assert not list((FIXTURES / "download" / "bucc2018").glob("*test.gold"))


# ------------------------------------------------------------------ Tatoeba


def test_official_tatoeba_layout_reads_sorted_english_and_no_gold():
    task = get_task("tatoeba")
    for lang in TATOEBA_LANGS:
        dd = load_split(task, "test", lang, {"kind": "xtreme_dir", "path": str(DOWNLOAD)})
        folder = DOWNLOAD / "tatoeba"
        assert dd["source"]["text"] == _lines(folder / f"{lang}-en.{lang}")
        assert dd["target"]["text"] == _lines(folder / f"{lang}-en.en")
        assert len(dd["gold"]) == 0


@pytest.mark.parametrize("gold_dir", ["laser", "parent", "checkout"])
def test_laser_gold_gives_xtreme_labels(tmp_path, gold_dir):
    """benchmark.gold_path: LASER's data/tatoeba/v1 itself, a folder with it as tatoeba/, or
    a LASER checkout."""
    from xstilts.stages.evaluate import retrieval_references

    gold = LASER
    if gold_dir == "parent":
        shutil.copytree(LASER, tmp_path / "tatoeba")
        gold = tmp_path
    elif gold_dir == "checkout":
        shutil.copytree(LASER, tmp_path / "LASER-main" / "data" / "tatoeba" / "v1")
        gold = tmp_path / "LASER-main"
    task = get_task("tatoeba")
    for lang in TATOEBA_LANGS:
        source = {"kind": "xtreme_dir", "path": str(DOWNLOAD), "gold_path": str(gold)}
        dd = load_split(task, "test", lang, source)
        expected = [int(x) for x in _lines(LABELS / "tatoeba" / f"test-{lang}.tsv")]
        assert retrieval_references(task, dd) == expected


def test_perfect_model_scores_100_with_the_official_scorer_in_xtreme_order(tmp_path, oracle):
    bench = {"source": "xtreme_dir", "path": str(DOWNLOAD), "gold_path": str(LASER)}
    scores = _run_stage(tmp_path, "tatoeba", TATOEBA_LANGS, bench)
    assert scores["split"] == "test" and "refused" not in scores
    assert {lang: m["accuracy"] for lang, m in scores["languages"].items()} == \
        dict.fromkeys(TATOEBA_LANGS, 100.0)
    # the exported submission, scored as evaluate.py scores it, against XTREME's own labels
    per_language, _ = score_folder(tmp_path / "pred", LABELS, tasks=["tatoeba"],
                                   languages={"tatoeba": TATOEBA_LANGS})
    assert per_language["value"].tolist() == [100.0] * len(TATOEBA_LANGS)
    # LASER's order (what the old export wrote) is wrong against XTREME's labels
    lang = "de"
    n = len(_lines(LABELS / "tatoeba" / f"test-{lang}.tsv"))
    (tmp_path / "pred" / "tatoeba" / f"test-{lang}.tsv").write_text(
        "".join(f"{i}\n" for i in range(n)))
    per_language, _ = score_folder(tmp_path / "pred", LABELS, tasks=["tatoeba"],
                                   languages={"tatoeba": [lang]})
    assert per_language["value"].tolist()[0] < 50.0


def test_withheld_tatoeba_gold_is_refused_but_predictions_are_written(tmp_path, oracle, capsys):
    from xstilts.analysis.scores import collect

    bench = {"source": "xtreme_dir", "path": str(DOWNLOAD)}
    scores = _run_stage(tmp_path, "tatoeba", TATOEBA_LANGS, bench)
    assert scores["languages"] == {}
    assert "withholds Tatoeba's gold" in scores["refused"]
    assert "benchmark.gold_path" in scores["refused"] and "\n" not in scores["refused"]
    for lang in TATOEBA_LANGS:  # the submission is there, in XTREME's order: it scores 100
        assert (tmp_path / "pred" / "tatoeba" / f"test-{lang}.tsv").is_file()
    per_language, _ = score_folder(tmp_path / "pred", LABELS, tasks=["tatoeba"],
                                   languages={"tatoeba": TATOEBA_LANGS})
    assert per_language["value"].tolist() == [100.0] * len(TATOEBA_LANGS)
    # aggregation skips the refused target and says why
    assert collect([tmp_path / "scores" / "tatoeba" / "scores.json"]).empty
    assert "withholds Tatoeba's gold" in capsys.readouterr().err


def test_laser_layout_in_the_download_folder_is_scored_in_xtreme_order(tmp_path, oracle):
    """LASER's files copied into tatoeba/ (as mini-XTREME writes them): gold known."""
    folder = tmp_path / "download" / "tatoeba"
    shutil.copytree(LASER, folder)
    bench = {"source": "xtreme_dir", "path": str(tmp_path / "download")}
    scores = _run_stage(tmp_path, "tatoeba", TATOEBA_LANGS, bench)
    assert all(m["accuracy"] == 100.0 for m in scores["languages"].values())
    for lang in TATOEBA_LANGS:
        assert _lines(tmp_path / "pred" / "tatoeba" / f"test-{lang}.tsv") == \
            _lines(LABELS / "tatoeba" / f"test-{lang}.tsv")


def _tatoeba_case(tmp_path: Path, case: str) -> tuple[dict, str]:
    root = tmp_path / "download"
    shutil.copytree(DOWNLOAD / "tatoeba", root / "tatoeba")
    folder = root / "tatoeba"
    source = {"kind": "xtreme_dir", "path": str(root)}
    if case == "missing-english":
        (folder / "de-en.en").unlink()
        return source, r"de-en\.en: file not found"
    if case == "missing-source":
        (folder / "de-en.de").unlink()
        return source, r"de-en\.de: file not found"
    if case == "line-counts":
        (folder / "de-en.en").write_text("".join(_lines(folder / "de-en.en")[:-1]) + "\n")
        return source, r"de-en\.de: 8 lines but .*de-en\.en has 1"
    if case == "empty":
        (folder / "de-en.de").write_text("")
        return source, r"de-en\.de: empty file"
    if case == "nothing":
        for p in folder.glob("de-en.*"):
            p.unlink()
        return source, r"tatoeba: no Tatoeba files for 'de'"
    gold = tmp_path / "gold"
    shutil.copytree(LASER, gold)
    source["gold_path"] = str(gold)
    if case == "other-laser-version":
        lines = _lines(gold / "tatoeba.deu-eng.eng")
        lines[2] = "I left my key at the office."
        (gold / "tatoeba.deu-eng.eng").write_text("".join(x + "\n" for x in lines))
        return source, r"de-en\.en: line \d+ is not line 3 of .*tatoeba\.deu-eng\.eng"
    if case == "laser-line-counts":
        (gold / "tatoeba.deu-eng.deu").write_text("Nur eine Zeile.\n")
        return source, r"tatoeba\.deu-eng\.deu: 1 lines but .*tatoeba\.deu-eng\.eng has 8"
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["missing-english", "missing-source", "line-counts", "empty",
                                  "nothing", "other-laser-version", "laser-line-counts"])
def test_tatoeba_reader_errors_name_the_file(tmp_path, case):
    source, pattern = _tatoeba_case(tmp_path, case)
    with pytest.raises(DataError, match=pattern) as info:
        load_split(get_task("tatoeba"), "test", "de", source)
    assert "\n" not in str(info.value)


def test_unsorted_english_without_gold_is_refused(tmp_path):
    """LASER's unsorted English under XTREME's name, no gold: not XTREME's file, and
    predictions could not be put in XTREME's order: refused (by the reader, and by the engine
    for data from any other source)."""
    folder = tmp_path / "download" / "tatoeba"
    folder.mkdir(parents=True)
    shutil.copy(LASER / "tatoeba.deu-eng.deu", folder / "de-en.de")
    shutil.copy(LASER / "tatoeba.deu-eng.eng", folder / "de-en.en")
    with pytest.raises(DataError, match=r"de-en\.en: line 2 breaks the sorted order .* "
                                        r"tatoeba\.deu-eng\.deu and tatoeba\.deu-eng\.eng"):
        load_split(get_task("tatoeba"), "test", "de",
                   {"kind": "xtreme_dir", "path": str(tmp_path / "download")})
    with pytest.raises(DataError, match="breaks the sorted order of XTREME's <l>-en.en"):
        tatoeba_xtreme_order(["0", "1"], ["0", "1"], ["b", "a"], [], "here")


# ------------------------------------------------------------------ BUCC


def test_bucc_official_layout_scores_dev_and_refuses_withheld_test(tmp_path, oracle):
    bench = {"source": "xtreme_dir", "path": str(DOWNLOAD)}
    scores = _run_stage(tmp_path, "bucc2018", BUCC_LANGS, bench)
    assert scores["split"] == "validation"
    for lang in BUCC_LANGS:
        m = scores["languages"][lang]
        assert m["f1"] == m["dev_oracle_f1"] == 100.0 and "test_oracle_f1" not in m
        # the test pairs are mined and written for submission
        mined = _bucc_rows(tmp_path / "pred" / "bucc2018" / f"test-{lang}.tsv")
        gold = _bucc_rows(FIXTURES / "bucc_raw" / "bucc2018" / f"{lang}-en" /
                          f"{lang}-en.training.gold")
        assert sorted(mined) == sorted(gold)


def test_bucc_test_gold_from_gold_path_is_scored(tmp_path, oracle):
    gold = tmp_path / "gold" / "bucc2018"
    gold.mkdir(parents=True)
    for lang in BUCC_LANGS:
        shutil.copy(FIXTURES / "bucc_raw" / "bucc2018" / f"{lang}-en" / f"{lang}-en.training.gold",
                    gold / f"{lang}-en.test.gold")
    bench = {"source": "xtreme_dir", "path": str(DOWNLOAD), "gold_path": str(tmp_path / "gold")}
    scores = _run_stage(tmp_path, "bucc2018", BUCC_LANGS, bench)
    assert scores["split"] == "test"
    assert all(m["f1"] == m["test_oracle_f1"] == 100.0 for m in scores["languages"].values())


def test_bucc_from_the_hub_is_refused(tmp_path, oracle):
    with pytest.raises(DataError, match="only the gold pairs, none of BUCC's distractors"):
        _run_stage(tmp_path, "bucc2018", BUCC_LANGS, {"source": "hub"})
    assert not (tmp_path / "scores").exists()


def _bucc_case(tmp_path: Path, case: str) -> tuple[dict, str, str]:
    root = tmp_path / "download"
    shutil.copytree(DOWNLOAD / "bucc2018", root / "bucc2018")
    folder = root / "bucc2018"
    source = {"kind": "xtreme_dir", "path": str(root)}
    if case == "missing-side":
        (folder / "de-en.dev.en").unlink()
        return source, "validation", r"de-en\.dev\.en: file not found"
    if case == "empty-gold":
        (folder / "de-en.dev.gold").write_text("")
        return source, "validation", r"de-en\.dev\.gold: empty file \(no pairs\)"
    if case == "unknown-id":
        (folder / "de-en.dev.gold").write_text("de-000000002\ten-000000099\n")
        return source, "validation", r"de-en\.dev\.gold: pair 1 .*en-000000099"
    if case == "duplicate-id":
        text = (folder / "de-en.test.de").read_text()
        (folder / "de-en.test.de").write_text(text + text.splitlines()[0] + "\n")
        return source, "test", r"de-en\.test\.de: line 9: duplicate id 'de-000000001'"
    if case == "bad-line":
        (folder / "de-en.test.en").write_text("en-000000001 no tab here\n")
        return source, "test", r"de-en\.test\.en: line 1: expected 'id<TAB>text'"
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["missing-side", "empty-gold", "unknown-id", "duplicate-id",
                                  "bad-line"])
def test_bucc_reader_errors_name_the_file(tmp_path, case):
    source, split, pattern = _bucc_case(tmp_path, case)
    with pytest.raises(DataError, match=pattern) as info:
        load_split(get_task("bucc2018"), split, "de", source)
    assert "\n" not in str(info.value)


def test_labels_stage_writes_xtreme_labels(tmp_path):
    """The gold the labels stage exports (mini-XTREME's, from LASER-layout files) is XTREME's:
    per English line of the sorted side, the line of its translation."""
    from xstilts.stages.evaluate import run_labels

    shutil.copytree(LASER, tmp_path / "download" / "tatoeba")
    run_labels({"target": "tatoeba", "tasks": {"tatoeba": {"languages": TATOEBA_LANGS}},
                "benchmark": {"source": "xtreme_dir", "path": str(tmp_path / "download")},
                "out": str(tmp_path / "labels" / "tatoeba")})
    for lang in TATOEBA_LANGS:
        assert _lines(tmp_path / "labels" / "tatoeba" / f"test-{lang}.tsv") == \
            _lines(LABELS / "tatoeba" / f"test-{lang}.tsv")


def test_bucc_report_split_can_be_forced(oracle):
    source = {"kind": "xtreme_dir", "path": str(DOWNLOAD)}
    task = get_task("bucc2018")
    data = {lang: {s: load_split(task, s, lang, source) for s in ("validation", "test")}
            for lang in BUCC_LANGS}
    with pytest.raises(DataError, match="test gold withheld"):
        retrieval.run_retrieval("bucc2018", data, "oracle", report="test")
    out = retrieval.run_retrieval("bucc2018", data, "oracle", report="validation")
    assert out["split"] == "validation" and out["metrics"]["de"]["f1"] == 100.0

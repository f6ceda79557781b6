"""Scorer conformance on google-research/xtreme's mock submission, and submission round trips."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from xstilts.analysis.scoring import main, score_folder, synthetic_metric_language
from xstilts.analysis.submission import (
    read_labels,
    read_predictions,
    submission_kind,
    submission_path,
    write_labels,
    write_predictions,
)
from xstilts.data.schema import DataError
from xstilts.tasks.benchmark import XTREME_TASKS
from xstilts.tasks.registry import get_task


@pytest.fixture(scope="module")
def mock(xtreme_mock: Path) -> Path:
    """The vendored mock submission (tests/data/xtreme_mock), present in every clone."""
    return xtreme_mock


@pytest.fixture(scope="module")
def scored(mock: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return score_folder(mock / "predictions", mock / "labels")


# ------------------------------------------------------------------ conformance
def test_every_per_language_score_matches_evaluate_py(mock, scored):
    per_language, _ = scored
    expected = pd.read_csv(mock / "expected_scores.csv", keep_default_na=False)
    assert list(per_language.columns) == ["task", "language", "metric", "value"]
    keys = ["task", "language", "metric"]
    assert not per_language.duplicated(keys).any()
    merged = expected.merge(per_language, on=keys, how="outer", suffixes=("_exp", "_got"),
                            indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    diff = (merged["value_exp"] - merged["value_got"]).abs()
    assert diff.max() < 1e-6, merged[diff >= 1e-6]
    assert len(per_language) == len(expected)


def test_every_overall_score_matches_evaluate_py(mock, scored):
    _, overall = scored
    expected = pd.read_csv(mock / "expected_overall.csv")
    assert list(overall.columns) == ["scope", "name", "value"]
    got = {(r.scope, r.name): r.value for r in overall.itertuples()}
    for row in expected.itertuples():
        assert (row.scope, row.name) in got, (row.scope, row.name)
        assert got[(row.scope, row.name)] == pytest.approx(row.value, abs=1e-6), row
    official = overall[overall["scope"].isin(["xtreme", "group", "task_score"])]
    assert len(official) == len(expected)


def test_task_metric_rows_are_language_averages(scored):
    per_language, overall = scored
    got = overall.set_index("name")["value"]
    udpos = per_language[(per_language.task == "udpos") & (per_language.metric == "recall")]
    assert got["udpos/recall"] == pytest.approx(udpos["value"].mean())


def test_partial_task_selection_has_no_xtreme_score(mock):
    _, overall = score_folder(mock / "predictions", mock / "labels", tasks=["pawsx", "xnli"])
    assert set(overall["scope"]) == {"group", "task_score", "task_metric"}
    groups = overall[overall.scope == "group"]
    assert list(groups["name"]) == ["classification"]
    assert groups["value"].iloc[0] == pytest.approx(41.04761904761905)


def test_missing_task_folder_is_skipped_or_an_error(mock, tmp_path):
    pred = tmp_path / "pred"
    shutil.copytree(mock / "predictions" / "pawsx", pred / "pawsx")
    per_language, overall = score_folder(pred, mock / "labels")
    assert set(per_language["task"]) == {"pawsx"}
    assert "xtreme" not in set(overall["scope"])
    with pytest.raises(DataError, match="xnli"):
        score_folder(pred, mock / "labels", tasks=["pawsx", "xnli"])


def test_missing_language_file_names_the_file(mock, tmp_path):
    pred = tmp_path / "pred"
    shutil.copytree(mock / "predictions" / "xnli", pred / "xnli")
    (pred / "xnli" / "test-sw.tsv").unlink()
    with pytest.raises(DataError, match=r"xnli/test-sw\.tsv: file not found"):
        score_folder(pred, mock / "labels")


def test_line_count_mismatch_names_both_files(mock, tmp_path):
    pred = tmp_path / "pred"
    shutil.copytree(mock / "predictions" / "udpos", pred / "udpos")
    path = pred / "udpos" / "test-en.tsv"
    path.write_text(path.read_text() + "\nNOUN\n")
    with pytest.raises(DataError, match=r"pred/udpos/test-en\.tsv has 3 sentences but .*labels"):
        score_folder(pred, mock / "labels")


def test_tag_length_mismatch_is_a_clear_error(mock, tmp_path):
    pred = tmp_path / "pred"
    shutil.copytree(mock / "predictions" / "panx", pred / "panx")
    path = pred / "panx" / "test-de.tsv"
    path.write_text("O\n" + path.read_text())
    with pytest.raises(DataError, match=r"panx/test-de\.tsv vs .*sentence 0 has"):
        score_folder(pred, mock / "labels")


def test_cli_writes_csvs(mock, tmp_path, capsys):
    rc = main(["--predictions_folder", str(mock / "predictions"),
               "--gold_folder", str(mock / "labels"), "--tasks", "tatoeba,bucc2018",
               "--out_dir", str(tmp_path)])
    assert rc == 0
    overall = pd.read_csv(tmp_path / "overall.csv")
    row = overall[(overall.scope == "group") & (overall.name == "retrieval")]
    assert row["value"].iloc[0] == pytest.approx(54.30555555555556)
    assert (tmp_path / "per_language.csv").is_file()
    assert "tatoeba accuracy:" in capsys.readouterr().out


def test_cli_reports_bad_folder(tmp_path, capsys):
    rc = main(["--predictions_folder", str(tmp_path / "nope"), "--gold_folder", str(tmp_path)])
    assert rc == 2
    assert "predictions folder not found" in capsys.readouterr().err


# ------------------------------------------------------------------ submission files
def test_mock_files_read_and_rewrite_identically(mock, tmp_path):
    """Every mock file reads, writes back (tsv files byte for byte) and reads back equal."""
    for task in XTREME_TASKS:
        spec = get_task(task)
        for lang in spec.languages:
            for role, read, write in (("predictions", read_predictions, write_predictions),
                                      ("labels", read_labels, write_labels)):
                values = read(task, lang, mock / role)
                out = write(task, lang, values, tmp_path / role)
                assert out == submission_path(task, lang, tmp_path / role)
                assert read(task, lang, tmp_path / role) == values
                if submission_kind(task) != "qa":
                    assert out.read_bytes() == submission_path(task, lang, mock / role).read_bytes()


QA_RECORDS = [
    {"id": "q1", "title": "T", "context": "北京是首都", "question": "哪里?",
     "answers": {"text": ["北京"], "answer_start": [0]}},
    {"id": "q2", "title": "T", "context": "北京是首都", "question": "什么?",
     "answers": {"text": ["首都"], "answer_start": [3]}},
]


@pytest.mark.parametrize(("task", "predictions", "labels"), [
    ("xnli", ["entailment", "neutral", "contradiction"], ["neutral"] * 3),
    ("pawsx", ["0", "1"], ["1", "1"]),
    ("udpos", [["NOUN", "VERB"], ["PUNCT"], ["X", "ADJ", "NOUN"]],
     [["NOUN", "NOUN"], ["PUNCT"], ["X", "ADJ", "NOUN"]]),
    ("panx", [["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]]),
    ("bucc2018", [("de-1", "en-7"), ("de-2", "en-3")], [("de-1", "en-7")]),
    ("tatoeba", [3, 0, 12], [3, 1, 12]),
    ("mlqa", {"q1": "北京", "q2": "首都 \"ok\"\n"}, QA_RECORDS),
])
def test_round_trip_each_format(tmp_path, task, predictions, labels):
    write_predictions(task, "zh", predictions, tmp_path / "p")
    path = write_labels(task, "zh", labels, tmp_path / "l")
    got_p = read_predictions(task, "zh", tmp_path / "p")
    got_l = read_labels(task, "zh", tmp_path / "l")
    if task == "mlqa":
        assert got_p == predictions
        assert [q["id"] for q in got_l["data"][0]["paragraphs"][0]["qas"]] == ["q1", "q2"]
        assert path.suffix == ".json"
    else:
        assert got_p == predictions
        assert got_l == labels
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp file


def test_writes_replace_existing_files(tmp_path):
    write_predictions("xnli", "en", ["neutral"] * 5, tmp_path)
    write_predictions("xnli", "en", ["entailment"], tmp_path)
    assert read_predictions("xnli", "en", tmp_path) == ["entailment"]


@pytest.mark.parametrize(("task", "values", "match"), [
    ("xnli", ["ok", "two\nlines"], "item 1"),
    ("xnli", ["ok", " padded"], "item 1"),
    ("udpos", [["NOUN"], []], "sentence 1"),
    ("bucc2018", [("a\tb", "c")], "item 0"),
    ("bucc2018", [("a", "b", "c")], "not a"),
    ("tatoeba", [1, "x"], "item 1"),
    ("xquad", {"q1": 3}, "str -> str"),
])
def test_writing_bad_values_is_refused(tmp_path, task, values, match):
    with pytest.raises(ValueError, match=match):
        write_predictions(task, "en", values, tmp_path)
    assert not (tmp_path / task / "test-en.tsv").exists()


@pytest.mark.parametrize(("task", "text", "match"), [
    ("tatoeba", "1\n2\nabc\n", r"line 3: 'abc' is not an integer"),
    ("bucc2018", "a\tb\nc\n", r"line 2: expected 'src_id<TAB>tgt_id'"),
    ("xnli", "neutral\n\nneutral\n", r"line 2: empty line"),
    ("xquad", "{\"q1\": \"a\",}", r"line 1 column \d+: bad JSON"),
    ("xquad", "{\"q1\": [\"a\"]}", r"key 'q1': answer must be a string"),
])
def test_reading_bad_rows_names_file_and_line(tmp_path, task, text, match):
    path = submission_path(task, "en", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=match) as err:
        read_predictions(task, "en", tmp_path)
    assert str(path) in str(err.value)


def test_bad_squad_labels_name_the_file_and_question(tmp_path):
    path = submission_path("tydiqa", "en", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text('{"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "q9"}]}]}]}')
    with pytest.raises(DataError, match=r"test-en\.json: .*qas\[0\] \(id q9\)"):
        read_labels("tydiqa", "en", tmp_path)


def test_tag_reader_follows_evaluate_py(tmp_path):
    path = submission_path("panx", "en", tmp_path)
    path.parent.mkdir(parents=True)
    # CRLF line ends, surrounding spaces, a trailing blank line, two blank lines in a row
    path.write_bytes(b"B-PER\r\n I-PER \r\n\r\nO\n\n\nO\n\n")
    assert read_predictions("panx", "en", tmp_path) == [["B-PER", "I-PER"], ["O"], [], ["O"]]


def test_synthetic_languages_are_discovered_and_scored(tmp_path):
    preds, golds = tmp_path / "p", tmp_path / "g"
    write_predictions("mlqa", "dano", {"q1": "北京市", "q2": "Kato!"}, preds)
    write_labels("mlqa", "dano", QA_RECORDS[:1] + [{**QA_RECORDS[1], "answers": {
        "text": ["kato"], "answer_start": [0]}}], golds)
    write_predictions("mlqa", "en", {"q1": "the cat"}, preds)
    write_labels("mlqa", "en", [{**QA_RECORDS[0], "answers": {"text": ["cat"],
                                                             "answer_start": [0]}}], golds)
    with pytest.raises(DataError, match="no rules for language 'dano'"):
        score_folder(preds, golds, languages="discover")
    per_language, overall = score_folder(preds, golds, languages="discover",
                                         metric_language=synthetic_metric_language)
    assert sorted(set(per_language["language"])) == ["dano", "en"]
    values = per_language.set_index(["language", "metric"])["value"]
    assert values[("en", "exact_match")] == 100.0
    # q1: [北 京 市] vs [北 京] -> EM 0, F1 0.8; q2: "Kato!" == "kato" after normalization
    assert values[("dano", "exact_match")] == pytest.approx(50.0)
    assert values[("dano", "f1")] == pytest.approx(90.0)
    assert "all_task" not in set(overall["name"])

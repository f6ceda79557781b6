"""Bad input data -> DataError naming the file and the row/line/column."""

from __future__ import annotations

import json
import re
from pathlib import Path

import datasets
import pytest
from fixtures_real import HUB, fake_load_dataset, hub_file, squad_json, write_hub_parquet

from xstilts.data import load
from xstilts.data.layout import write_canonical
from xstilts.data.load import load_split
from xstilts.data.schema import DataError
from xstilts.tasks.registry import get_task


@pytest.fixture(autouse=True)
def _fresh_cache():
    load.clear_cache()
    yield
    load.clear_cache()


def _put(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _mnli_jsonl(root: Path, rows: list[dict] | bytes) -> Path:
    data = rows if isinstance(rows, bytes) else b"".join(
        json.dumps(r).encode() + b"\n" for r in rows)
    return _put(root / "hub" / "mnli" / "train.jsonl", data)


GOOD_MNLI = {"premise": "p", "hypothesis": "h", "label": 0, "idx": 0}


def _case_files(root: Path, case: str) -> tuple[str, str, str]:
    """Write the bad file(s) of `case`; return (task, split, lang) to load."""
    x = root / "xtreme"
    if case == "missing-column-jsonl":
        _mnli_jsonl(root, [GOOD_MNLI, {"hypothesis": "h", "label": 0, "idx": 1}])
        return "mnli", "train", "en"
    if case == "missing-column-squad":
        bad = json.loads(squad_json([("q1", "Q?", [("Paris", 0)])]))
        del bad["data"][0]["paragraphs"][0]["qas"][0]["question"]
        _put(x / "xquad" / "xquad.de.json", json.dumps(bad).encode())
        return "xquad", "test", "de"
    if case == "missing-column-tsv":
        _put(x / "xnli" / "test-de.tsv", b"a\tb\tneutral\nonly one column\n")
        return "xnli", "test", "de"
    if case == "label-outside-tsv":
        _put(x / "xnli" / "test-de.tsv", b"a\tb\tneutral\nc\td\tmaybe\n")
        return "xnli", "test", "de"
    if case == "label-outside-hub-id":
        _mnli_jsonl(root, [GOOD_MNLI, {**GOOD_MNLI, "label": 7}])
        return "mnli", "train", "en"
    if case == "label-outside-conll":
        _put(x / "udpos" / "test-de.tsv", b"Das\tDET\nHaus\tFOO\n")
        return "udpos", "test", "de"
    if case == "label-outside-choices":
        row = {"id": "a", "question": "q", "question_concept": "c", "answerKey": "Z",
               "choices": {"label": list("ABCDE"), "text": list("abcde")}}
        _put(root / "hub" / "commonsenseqa" / "train.jsonl", json.dumps(row).encode() + b"\n")
        return "commonsenseqa", "train", "en"
    if case == "empty-tsv":
        _put(x / "pawsx" / "test-de.tsv", b"")
        return "pawsx", "test", "de"
    if case == "empty-jsonl":
        _mnli_jsonl(root, b"\n")
        return "mnli", "train", "en"
    if case == "empty-tatoeba":
        _put(x / "tatoeba" / "tatoeba.deu-eng.deu", b"")
        _put(x / "tatoeba" / "tatoeba.deu-eng.eng", b"")
        return "tatoeba", "test", "de"
    if case == "bad-utf8-tsv":
        _put(x / "xnli" / "test-de.tsv", b"a\tb\tneutral\nc\xff\td\tneutral\n")
        return "xnli", "test", "de"
    if case == "bad-utf8-jsonl":
        _mnli_jsonl(root, json.dumps(GOOD_MNLI).encode() + b"\n{\"premise\": \"\xc3\x28\"}\n")
        return "mnli", "train", "en"
    if case == "bad-utf8-conll":
        _put(x / "panx" / "test-de.tsv", b"Berlin\tB-LOC\n\xfe\tO\n")
        return "panx", "test", "de"
    if case == "truncated-json-squad":
        text = squad_json([("q1", "Q?", [("Paris", 0)])]).encode()
        _put(x / "mlqa" / "MLQA_V1" / "test" / "test-context-de-question-de.json", text[:-7])
        return "mlqa", "test", "de"
    if case == "truncated-jsonl":
        line = json.dumps(GOOD_MNLI).encode()
        _mnli_jsonl(root, line + b"\n" + line[:-5] + b"\n")
        return "mnli", "train", "en"
    if case == "truncated-parquet-local":
        ds = datasets.Dataset.from_list([GOOD_MNLI] * 50)
        path = root / "hub" / "mnli" / "train.parquet"
        path.parent.mkdir(parents=True)
        ds.to_parquet(str(path))
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        return "mnli", "train", "en"
    if case == "stray-quote-tsv":
        _put(x / "xnli" / "test-de.tsv", b'a\tb\tneutral\n"c\td\tneutral\ne\tf\tneutral\n')
        return "xnli", "test", "de"
    if case == "huge-field-tsv":
        _put(x / "xnli" / "test-de.tsv", b"a\tb\tneutral\n" + b"c" * 10_000_000 + b"\td\tneutral\n")
        return "xnli", "test", "de"
    if case == "directory-not-file":
        (x / "xnli" / "test-de.tsv").mkdir(parents=True)
        return "xnli", "test", "de"
    if case == "directory-not-jsonl":
        (root / "hub" / "mnli" / "train.jsonl").mkdir(parents=True)
        return "mnli", "train", "en"
    if case == "space-for-tab-conll":
        _put(x / "udpos" / "test-de.tsv", b"Das\tDET\nTopa PROPN\n\nHaus\tNOUN\n")
        return "udpos", "test", "de"
    if case.startswith("squad-answer"):
        answer = {"squad-answer-start-abc": [{"text": "Paris", "answer_start": "abc"}],
                  "squad-answers-null": None,
                  "squad-answer-start-negative": [{"text": "Paris", "answer_start": -9}],
                  "squad-answer-text-null": [{"text": None, "answer_start": 4}]}[case]
        data = {"data": [{"title": "t", "paragraphs": [{"context": "abc Paris xyz", "qas": [
            {"id": "q1", "question": "Where?", "answers": answer}]}]}], "version": "1.1"}
        _put(x / "xquad" / "xquad.de.json", json.dumps(data).encode())
        return "xquad", "test", "de"
    if case == "squad-context-null":
        data = {"data": [{"title": "t", "paragraphs": [{"context": None, "qas": []}]}]}
        _put(x / "xquad" / "xquad.de.json", json.dumps(data).encode())
        return "xquad", "test", "de"
    if case.startswith("hub-qa-"):
        answers = {"hub-qa-answer-start-abc": {"text": ["Paris"], "answer_start": ["abc"]},
                   "hub-qa-answer-start-negative": {"text": ["Paris"], "answer_start": [-9]},
                   }[case]
        row = {"id": "q1", "title": "t", "context": "abc Paris xyz", "question": "Where?",
               "answers": answers}
        _put(root / "hub" / "squad_v2" / "train.jsonl", json.dumps(row).encode() + b"\n")
        return "squad_v2", "train", "en"
    if case in ("squad-qas-null", "squad-article-string"):
        data = {"data": ["an article"]} if case == "squad-article-string" else \
            {"data": [{"title": "t", "paragraphs": [{"context": "abc", "qas": None}]}]}
        _put(x / "xquad" / "xquad.de.json", json.dumps(data).encode())
        return "xquad", "test", "de"
    if case == "null-text-jsonl":
        _mnli_jsonl(root, [GOOD_MNLI, {**GOOD_MNLI, "premise": None, "idx": 1}])
        return "mnli", "train", "en"
    raise AssertionError(case)


CASES = [
    ("missing-column-jsonl", [r"train\.jsonl", r"row 1", r"missing column 'premise'"]),
    ("missing-column-squad", [r"xquad\.de\.json", r"qas\[0\]", r"missing key 'question'"]),
    ("missing-column-tsv", [r"test-de\.tsv", r"row 1", r"expected 2 or 3"]),
    ("label-outside-tsv", [r"test-de\.tsv", r"row 1", r"'maybe' not in the label set"]),
    ("label-outside-hub-id", [r"train\.jsonl", r"row 1", r"value 7 outside"]),
    ("label-outside-conll", [r"udpos", r"row 0", r"tag 'FOO' not in the label set"]),
    ("label-outside-choices", [r"train\.jsonl", r"row 0", r"'Z' not among choices\.label"]),
    ("empty-tsv", [r"pawsx", r"empty split"]),
    ("empty-jsonl", [r"mnli", r"empty split"]),
    ("empty-tatoeba", [r"tatoeba\.deu-eng\.deu", r"empty file"]),
    ("bad-utf8-tsv", [r"test-de\.tsv", r"line 2", r"invalid UTF-8"]),
    ("bad-utf8-jsonl", [r"train\.jsonl", r"line 2", r"invalid UTF-8"]),
    ("bad-utf8-conll", [r"panx.test-de\.tsv", r"line 2", r"invalid UTF-8"]),
    ("truncated-json-squad", [r"test-context-de-question-de\.json", r"line 1",
                              r"invalid JSON"]),
    ("truncated-jsonl", [r"train\.jsonl", r"line 2", r"invalid JSON"]),
    ("truncated-parquet-local", [r"train\.parquet", r"invalid or truncated parquet"]),
    # each of these was a traceback or a silent load before
    ("stray-quote-tsv", [r"test-de\.tsv", r"lines? 2", r"stray '\"'"]),
    ("huge-field-tsv", [r"test-de\.tsv", r"line 2", r"longer than \d+ characters"]),
    ("directory-not-file", [r"test-de\.tsv", r"is a directory"]),
    ("directory-not-jsonl", [r"train\.jsonl", r"is a directory"]),
    ("space-for-tab-conll", [r"udpos.test-de\.tsv", r"line 2", r"'Topa PROPN' has no tab"]),
    ("squad-answer-start-abc", [r"xquad\.de\.json", r"qas\[0\]\.answers\[0\]\.answer_start",
                                r'"abc" is not a non-negative integer']),
    ("squad-answers-null", [r"xquad\.de\.json", r"qas\[0\]\.answers", r"got null"]),
    ("squad-answer-start-negative", [r"xquad\.de\.json", r"answer_start: -9 is not"]),
    ("squad-answer-text-null", [r"xquad\.de\.json", r"answers\[0\]\.text", r"got null"]),
    ("squad-context-null", [r"xquad\.de\.json", r"paragraphs\[0\]\.context", r"got null"]),
    ("hub-qa-answer-start-abc", [r"train\.jsonl", r"row 0", r"answer_start\[0\] \"abc\""]),
    ("hub-qa-answer-start-negative", [r"train\.jsonl", r"row 0", r"-9 is not a non-negative"]),
    ("null-text-jsonl", [r"train\.jsonl", r"row 1", r"column 'premise' is null"]),
    ("squad-qas-null", [r"xquad\.de\.json", r"paragraphs\[0\]\.qas: expected a list"]),
    ("squad-article-string", [r"xquad\.de\.json", r"data\[0\]: expected an object"]),
]


@pytest.mark.parametrize("case,patterns", CASES, ids=[c for c, _ in CASES])
def test_bad_data_raises_data_error(tmp_path, case, patterns):
    name, split, lang = _case_files(tmp_path, case)
    with pytest.raises(DataError) as info:
        load_split(get_task(name), split, lang, {"kind": "synthetic", "path": str(tmp_path)})
    for pattern in patterns:
        assert re.search(pattern, str(info.value)), (pattern, str(info.value))


@pytest.mark.parametrize("mutation", ["truncate", "drop-column"])
def test_bad_hub_parquet_raises_data_error(tmp_path, monkeypatch, mutation):
    files = write_hub_parquet(tmp_path / "hub")
    key = ("google-research-datasets/paws-x", "de", "test")
    path = hub_file(tmp_path / "hub", key)
    if mutation == "truncate":
        path.write_bytes(path.read_bytes()[:100])
        expect = r"paws-x config de split test: could not load"
    else:
        features, rows = HUB[key]
        rows = [{k: v for k, v in r.items() if k != "sentence2"} for r in rows]
        feats = datasets.Features({k: v for k, v in features.items() if k != "sentence2"})
        datasets.Dataset.from_list(rows, features=feats).to_parquet(str(path))
        expect = r"paws-x config de split test, row 0: missing column 'sentence2'"
    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset(files, tmp_path / "cache"))
    with pytest.raises(DataError, match=expect):
        load_split(get_task("pawsx"), "test", "de", {"kind": "hub"})


def test_write_rejects_unwritable_records(tmp_path):
    task = get_task("udpos")
    with pytest.raises(DataError, match=r"row 0: needs as many tags as tokens"):
        write_canonical(task, "test", "de", [{"id": "0", "tokens": ["a", "b"], "tags": [0]}],
                        tmp_path)
    with pytest.raises(DataError, match=r"row 0: column 'text_a' contains a tab"):
        write_canonical(get_task("xnli"), "test", "de",
                        [{"id": "0", "text_a": "a\tb", "text_b": "", "label": 0}], tmp_path)


def test_unknown_source_kind():
    with pytest.raises(DataError, match="kind 'web'"):
        load_split(get_task("xnli"), "test", "de", {"kind": "web"})


BOM = "\ufeff".encode()


@pytest.mark.parametrize("case", ["tsv", "conll", "tatoeba", "jsonl", "squad"])
def test_utf8_byte_order_mark_is_stripped(tmp_path, case):
    """Files saved by Windows tools start with a BOM; it must not become part of a text."""
    x = tmp_path / "xtreme"
    if case == "tsv":
        _put(x / "xnli" / "test-de.tsv", BOM + b"Hallo\tWelt\tneutral\n")
        first = load_split(get_task("xnli"), "test", "de", _SYN(tmp_path))[0]["text_a"]
    elif case == "conll":
        _put(x / "udpos" / "test-de.tsv", BOM + b"Das\tDET\nHaus\tNOUN\n")
        first = load_split(get_task("udpos"), "test", "de", _SYN(tmp_path))[0]["tokens"][0]
    elif case == "tatoeba":
        _put(x / "tatoeba" / "tatoeba.deu-eng.deu", BOM + b"Hallo\n")
        _put(x / "tatoeba" / "tatoeba.deu-eng.eng", BOM + b"Hello\n")
        data = load_split(get_task("tatoeba"), "test", "de", _SYN(tmp_path))
        first = data["source"][0]["text"] + data["target"][0]["text"]
    elif case == "jsonl":
        _mnli_jsonl(tmp_path, BOM + json.dumps({**GOOD_MNLI, "premise": "Hallo"}).encode())
        first = load_split(get_task("mnli"), "train", "en", _SYN(tmp_path))[0]["text_a"]
    else:
        _put(x / "xquad" / "xquad.de.json", BOM + squad_json([("q1", "Q?", [("Hallo", 0)])],
                                                             context="Hallo Welt").encode())
        first = load_split(get_task("xquad"), "test", "de", _SYN(tmp_path))[0]["context"]
    assert not first.startswith("\ufeff") and first.startswith(("Hallo", "Das")), first


def _SYN(root: Path) -> dict:  # noqa: N802
    return {"kind": "synthetic", "path": str(root)}


def test_quoted_tsv_fields_as_csv_writer_writes_them_still_load(tmp_path):
    """The strict TSV reading keeps what xtreme's csv.writer writes: quotes doubled inside a
    quoted field, CRLF line ends."""
    _put(tmp_path / "xtreme" / "xnli" / "test-de.tsv",
         b'"Er sagte ""hi"""\tEr sprach\tentailment\r\nA "b" c\tD\tneutral\r\n')
    rows = load_split(get_task("xnli"), "test", "de", _SYN(tmp_path))
    assert [r["text_a"] for r in rows] == ['Er sagte "hi"', 'A "b" c']


def test_tokens_with_spaces_keep_their_tab(tmp_path):
    """A token with a space (Vietnamese UD) has its tab and tag: not mistaken for a missing tab."""
    _put(tmp_path / "xtreme" / "udpos" / "test-de.tsv", "Hà Nội\tPROPN\nđẹp\tADJ\n".encode())
    rows = load_split(get_task("udpos"), "test", "de", _SYN(tmp_path))
    assert rows[0]["tokens"] == ["Hà Nội", "đẹp"]

"""Adapters on real-schema fixtures, and write_canonical -> load_split round trips."""

from __future__ import annotations

import datasets
import pytest
from fixtures_real import HUB_SRC, hub_requests, named_row, write_ccgbank, write_xtreme_download

from xstilts.data import hub, load
from xstilts.data.layout import write_canonical
from xstilts.data.load import CCG_UNK, load_split, task_labels
from xstilts.data.schema import features_for
from xstilts.tasks.registry import builtin_tasks, get_task

pytestmark = pytest.mark.usefixtures("fresh_load_cache")


HUB_CASES = [
    # task, split, lang, rows, {field: value of row 0} (then optional {field: value of last row})
    ("anli_plus", "train", "en", 8,
     {"id": "r1a", "text_a": "premise r1a", "text_b": "hyp r1a", "label": "entailment"},
     {"id": "mnli-1", "label": "contradiction"}),
    ("anli_plus", "validation", "en", 3, {"id": "d1"}, {"id": "d3", "label": "contradiction"}),
    ("mnli", "train", "en", 2, {"id": "0", "text_a": "p0", "label": "neutral"}, None),
    ("mnli", "validation", "en", 1, {"text_b": "vh0", "label": "entailment"}, None),
    ("qqp", "train", "en", 2, {"text_a": "How?", "label": "not_duplicate"},
     {"label": "duplicate"}),
    ("squad_v1", "train", "en", 2,
     {"id": "5733be", "title": "Paris", "answers": {"text": ["Paris"], "answer_start": [0]}},
     {"answers": {"text": ["France"], "answer_start": [24]}}),
    ("squad_v2", "train", "en", 2, {"id": "s2a"},
     {"id": "s2b", "answers": {"text": [], "answer_start": []}}),
    ("hellaswag", "train", "en", 2,
     {"id": "4", "context": "A man 4", "question": "then he", "label": 3,
      "choices": ["cooks.", "sleeps.", "runs.", "sings."]}, {"label": 0}),
    ("cosmosqa", "train", "en", 1,
     {"id": "3Q9", "context": "I woke up late.", "label": 2,
      "choices": ["Tired", "Happy", "Alarm broke", "None of the above"]}, None),
    ("commonsenseqa", "validation", "en", 1,
     {"id": "1afa", "context": "", "question": "Q?", "label": 4}, None),
    ("xnli", "train", "en", 1, {"id": "train-0", "label": "neutral"}, None),
    ("xnli", "test", "de", 2, {"text_a": "Er sagte", "label": "entailment"},
     {"label": "contradiction"}),
    ("pawsx", "test", "de", 1, {"id": "1", "text_b": "Satz zwei", "label": "1"}, None),
    ("udpos", "test", "de", 1, {"tokens": ["Das", "Haus", "."], "tags": ["DET", "NOUN", "PUNCT"]},
     None),
    ("panx", "test", "de", 1, {"tags": ["B-PER", "I-PER", "O"]}, None),
    ("xquad", "test", "de", 1, {"id": "56be", "title": "", "question": "Was ist groß?"}, None),
    ("xquad", "train", "en", 2, {"id": "5733be"}, None),  # SQuAD v1.1 via train_task
    ("mlqa", "test", "de", 1, {"answers": {"text": ["groß"], "answer_start": [11]}}, None),
    ("tydiqa", "test", "ar", 1, {"id": "arabic-111-0", "context": "abc"}, None),
    ("tydiqa", "validation", "en", 1, {"id": "english-222-0"}, None),
]


def _check_rows(ds: datasets.Dataset, task, n: int, first: dict | None, last: dict | None) -> None:
    """Canonical features, the row count, and the given values of the first and last rows."""
    assert ds.features == features_for(task)
    assert len(ds) == n
    for want, row in ((first, 0), (last, n - 1)):
        got = named_row(ds, row) if want else {}
        for key, value in (want or {}).items():
            assert got[key] == value, (key, got)


@pytest.mark.parametrize("name,split,lang,n,first,last", HUB_CASES)
@pytest.mark.usefixtures("fake_hub")
def test_hub_adapter(name, split, lang, n, first, last):
    task = get_task(name)
    ds = load_split(task, split, lang, HUB_SRC)
    _check_rows(ds, task, n, first, last)


@pytest.mark.parametrize("name,lang", [("bucc2018", "de"), ("tatoeba", "de")])
@pytest.mark.usefixtures("fake_hub")
def test_hub_retrieval(name, lang):
    task = get_task(name)
    dd = load_split(task, "test", lang, HUB_SRC)
    assert set(dd) == {"source", "target", "gold"}
    assert dd["source"].features == features_for(task)["source"]
    assert dd["source"][0]["text"] in ("Hallo Welt", "Ich bin hier.")
    assert dd["target"][0]["text"] in ("Hello world", "I am here.")
    assert dd["gold"][0] == {"source_id": dd["source"][0]["id"],
                             "target_id": dd["target"][0]["id"]}


def test_hub_uses_real_ids(monkeypatch):
    reads = [("udpos", "test", "eu"), ("tatoeba", "test", "zh"), ("mlqa", "test", "hi"),
             ("anli_plus", "train", "en")]
    assert hub_requests(monkeypatch, reads) == [("google/xtreme", "udpos.Basque", "test"),
                     ("google/xtreme", "tatoeba.cmn", "validation"),
                     ("google/xtreme", "MLQA.hi.hi", "test"),
                     ("facebook/anli", "plain_text", "train_r1")]


# ---------------------------------------------------------------- xtreme download/ layout

XTREME_CASES = [
    ("xnli", "train", "en", 2, {"id": "0", "text_a": "Conceptually cream skimming",
                                "label": "neutral"}, {"text_a": 'He said "hi"'}),
    ("xnli", "test", "de", 2, {"label": "entailment"},
     {"text_a": 'Sie sagte "nein"', "label": "contradiction"}),
    ("pawsx", "train", "en", 1, {"text_a": "Sentence one .", "label": "1"}, None),
    ("pawsx", "test", "de", 2, {"label": "0"}, {"text_a": "Satz drei", "label": "1"}),
    ("udpos", "train", "en", 2, {"tokens": ["The", "dog", "barks"],
                                 "tags": ["DET", "NOUN", "VERB"]}, {"tokens": ["Hi"]}),
    ("udpos", "test", "de", 1, {"tags": ["DET", "NOUN", "PUNCT"]}, None),
    ("panx", "train", "en", 1, {"tags": ["B-PER", "I-PER", "O"]}, None),
    ("panx", "test", "de", 2, {"tokens": ["Berlin", "ist"]}, {"tags": ["B-ORG"]}),
    ("xquad", "train", "en", 2, {"id": "5733be", "title": "Paris"},
     {"answers": {"text": ["France", "France"], "answer_start": [24, 24]}}),
    ("xquad", "validation", "en", 1, {"id": "v1"}, None),
    ("xquad", "test", "de", 1, {"id": "56be", "title": "", "context": "Berlin ist groß."}, None),
    ("mlqa", "test", "de", 1, {"id": "m1", "title": "Berlin"}, None),
    ("mlqa", "validation", "de", 1, {"id": "m0"}, None),
    ("mlqa", "train", "en", 2, {"id": "5733be"}, None),
    ("tydiqa", "train", "en", 1, {"id": "222", "answers": {"text": ["z"], "answer_start": [2]}},
     None),
    ("tydiqa", "test", "ar", 2, {"answers": {"text": ["b"], "answer_start": [1]}},
     {"answers": {"text": ["c"], "answer_start": [2]}}),
    ("squad_v1", "train", "en", 2, {"id": "5733be"}, None),
]


@pytest.fixture(scope="module")
def xtreme_root(tmp_path_factory):
    return write_xtreme_download(tmp_path_factory.mktemp("download"))


@pytest.mark.parametrize("name,split,lang,n,first,last", XTREME_CASES)
def test_xtreme_dir_adapter(xtreme_root, name, split, lang, n, first, last):
    task = get_task(name)
    ds = load_split(task, split, lang, {"kind": "xtreme_dir", "path": str(xtreme_root)})
    _check_rows(ds, task, n, first, last)


def test_xtreme_dir_bucc(xtreme_root):
    dd = load_split(get_task("bucc2018"), "test", "de",
                    {"kind": "xtreme_dir", "path": str(xtreme_root)})
    assert len(dd["source"]) == 2 and len(dd["target"]) == 3
    assert dd["source"][0] == {"id": "de-000001", "text": "Hallo Welt"}
    assert dd["gold"].to_list() == [{"source_id": "de-000001", "target_id": "en-000002"},
                                    {"source_id": "de-000002", "target_id": "en-000001"}]


def test_xtreme_dir_tatoeba(xtreme_root):
    dd = load_split(get_task("tatoeba"), "test", "de",
                    {"kind": "xtreme_dir", "path": str(xtreme_root)})
    assert dd["source"]["text"] == ["Ich bin hier.", "Danke."]
    assert dd["target"]["text"] == ["I am here.", "Thanks."]
    assert dd["gold"].to_list() == [{"source_id": "0", "target_id": "0"},
                                    {"source_id": "1", "target_id": "1"}]


def test_ccgbank(tmp_path):
    root = write_ccgbank(tmp_path / "ccgbank")
    task = get_task("ccg")
    src = {"kind": "xtreme_dir", "path": str(tmp_path), "ccg_path": str(root)}
    labels = task_labels(task, src)
    assert labels == sorted(["N", "(S[dcl]\\NP)/NP", "NP"]) + [CCG_UNK]
    train = load_split(task, "train", "en", src)
    assert train.features == features_for(task, labels)
    assert named_row(train, 0) == {"id": "wsj_0201.1", "tokens": ["Pierre", "likes", "it"],
                                 "tags": ["N", "(S[dcl]\\NP)/NP", "NP"]}
    dev = load_split(task, "validation", "en", src)
    assert named_row(dev, 0)["tags"] == ["N", CCG_UNK]  # S\N never seen in training


def test_ccg_needs_a_path():
    with pytest.raises(load.DataError, match="ccg_path"):
        load_split(get_task("ccg"), "train", "en", HUB_SRC)


# ---------------------------------------------------------------- round trips


def _records(task, split: str, lang: str, labels: list[str]):
    """Small canonical records of `task` (label ids), ids "0".."n-1"."""
    n = 3
    if task.format == "classification":
        return [{"id": str(i), "text_a": f"{lang} a {split} {i}",
                 "text_b": "" if task.single_sentence else f"b \"{i}\"",
                 "label": i % len(labels)} for i in range(n)]
    if task.format == "multiple_choice":
        k = task.num_choices
        return [{"id": str(i), "context": f"ctx {i}" if task.name != "commonsenseqa" else "",
                 "question": f"q {i}?", "choices": [f"c{j} {i}" for j in range(k)],
                 "label": i % k} for i in range(n)]
    if task.format == "qa":
        ctx = f"In {lang} the city {split} is big."
        recs = [{"id": f"q{i}", "title": "T" if i < 2 else "U", "context": ctx,
                 "question": f"where {i}?", "answers": {"text": ["city"],
                                                       "answer_start": [ctx.index("city")]}}
                for i in range(n)]
        if task.unanswerable:
            recs[1]["answers"] = {"text": [], "answer_start": []}
        return recs
    if task.format == "tagging":
        return [{"id": str(i) if task.name != "ccg" else f"wsj_0200.{i + 1}",
                 "tokens": [f"w{i}", "x", "y"], "tags": [i % 2, 0, 1]}
                for i in range(n)]
    if task.format == "mlm":
        return [{"id": f"{lang}-{i}", "lang": lang, "text": f"sentence {i} in {lang}"}
                for i in range(n)]
    src = [{"id": f"{lang}-{i}", "text": f"{lang} s{i}"} for i in range(n)]
    tgt = [{"id": f"en-{i}", "text": f"en s{i}"} for i in range(n)]
    if task.name == "tatoeba":
        src = [{"id": str(i), "text": r["text"]} for i, r in enumerate(src)]
        tgt = [{"id": str(i), "text": r["text"]} for i, r in enumerate(tgt)]
    gold = [{"source_id": s["id"], "target_id": t["id"]} for s, t in zip(src, tgt, strict=True)]
    if task.name == "bucc2018":
        tgt.append({"id": "en-99", "text": "distractor"})
    return {"source": src, "target": tgt, "gold": gold}


ALL_TASKS = sorted(builtin_tasks())


@pytest.mark.parametrize("name", ALL_TASKS)
def test_round_trip(tmp_path, name):
    task = get_task(name)
    langs = ["en", "de"] if task.role == "target" or task.name in ("ccg", "qqp") else ["en"]
    if task.format == "mlm":
        langs = ["en", "sw"]
    if task.format == "retrieval":
        langs = ["de"]  # BUCC/Tatoeba pair a language with English
    labels = list(task.labels) or ["A", "B/C", CCG_UNK]
    src = {"kind": "synthetic", "path": str(tmp_path), "ccg_path": None}
    written = {}
    for split in task.splits:
        for lang in langs:
            if lang != "en" and (split == "train") == (task.role == "target"):
                continue  # targets: English train; intermediate: translated train copies
            recs = _records(task, split, lang, labels)
            write_canonical(task, split, lang, recs, tmp_path, labels=labels)
            written[split, lang] = recs
    if not task.labels and task.format == "tagging":
        assert task_labels(task, src) == labels
    for (split, lang), recs in written.items():
        ds = load_split(task, split, lang, src)
        if task.format == "retrieval":
            assert {k: ds[k].to_list() for k in ds} == recs
        else:
            assert ds.to_list() == recs, (split, lang)


def test_round_trip_translated_copy(tmp_path):
    task = get_task("mnli")
    recs = _records(task, "train", "de", list(task.labels))
    paths = write_canonical(task, "train", "de", recs, tmp_path)
    assert paths == [tmp_path / "hub" / "mnli" / "train-de.jsonl"]
    ds = load_split(task, "train", "de", {"kind": "synthetic", "path": str(tmp_path)})
    assert ds.to_list() == recs


def test_writes_are_deterministic(tmp_path):
    for name in ("xnli", "squad_v1", "udpos", "commonsenseqa", "bucc2018"):
        task = get_task(name)
        split = task.splits[-1]
        recs = _records(task, split, "en", list(task.labels))
        a = write_canonical(task, split, "en", recs, tmp_path / "a")
        b = write_canonical(task, split, "en", recs, tmp_path / "b")
        assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
        assert all(b"\r" not in p.read_bytes() for p in a)


def test_hub_jsonl_uses_hub_column_names(tmp_path):
    task = get_task("commonsenseqa")
    recs = _records(task, "train", "en", [])
    (path,) = write_canonical(task, "train", "en", recs, tmp_path)
    row = hub.read_jsonl(path)[0]
    assert row["choices"]["label"] == ["A", "B", "C", "D", "E"]
    assert row["answerKey"] == "A" and "label" not in row


def test_cached_reload_and_invalidation(tmp_path):
    task = get_task("xnli")
    src = {"kind": "synthetic", "path": str(tmp_path)}
    recs = _records(task, "test", "de", list(task.labels))
    write_canonical(task, "test", "de", recs, tmp_path)
    first = load_split(task, "test", "de", src)
    assert load_split(task, "test", "de", src) is first
    write_canonical(task, "test", "de", recs[:2], tmp_path)
    again = load_split(task, "test", "de", src)
    assert len(again) == 2


def test_tatoeba_newer_xtreme_layout(tmp_path):
    """download_data.sh now writes <l>-en.<l> / <l>-en.en with the English side sorted."""
    (tmp_path / "tatoeba").mkdir()
    (tmp_path / "tatoeba" / "de-en.de").write_text("Ich bin hier.\nDanke.\n")
    (tmp_path / "tatoeba" / "de-en.en").write_text("I am here.\nThanks.\n")
    dd = load_split(get_task("tatoeba"), "test", "de",
                    {"kind": "xtreme_dir", "path": str(tmp_path)})
    assert dd["source"]["text"] == ["Ich bin hier.", "Danke."]
    assert len(dd["target"]) == 2 and len(dd["gold"]) == 0

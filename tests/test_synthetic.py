"""mini-XTREME generator: determinism, language table, task formats, label consistency."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from xstilts.data.synthetic import DEFAULT_CONFIG, generate, generate_records, language_rows
from xstilts.data.synthetic.generator import INTERMEDIATE
from xstilts.data.synthetic.grammar import CCG_TAGS
from xstilts.data.synthetic.languages import build_languages, english_vocabulary
from xstilts.tasks.registry import builtin_tasks, get_task


def small_config(seed: int = 13) -> dict:
    sizes: dict = {}
    for task, splits in DEFAULT_CONFIG["sizes"].items():
        if task == "bucc2018":
            sizes[task] = {s: {"gold": 4, "distractors": 5} for s in splits}
        else:
            sizes[task] = {s: (24 if s == "train" else 8) for s in splits}
    return {"seed": seed, "world": {"people": 60, "cities": 10, "orgs": 8},
            "translated_train": 6, "parallel": 8,
            "mlm": {"high": 40, "mid": 12, "low": 4, "validation": 4}, "sizes": sizes}


SMALL = small_config()


@pytest.fixture(scope="module")
def records() -> dict:
    return {(t, s, lang): r for t, s, lang, r in generate_records(SMALL)}


@pytest.fixture(scope="module")
def codes() -> list[str]:
    return [row["lang"] for row in language_rows(SMALL)]


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------------- determinism
def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    m1 = generate(tmp_path / "a", SMALL)
    m2 = generate(tmp_path / "b", SMALL)
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert a == b
    assert m1 == m2
    manifest = json.loads(a["manifest.json"])
    assert manifest["seed"] == 13
    assert set(manifest["files"]) == set(a) - {"manifest.json"}
    for required in ("languages.csv", "mlm/en.txt", "mlm/hano.txt", "parallel/dano.tsv",
                     "hub/mnli/train.jsonl", "hub/mnli/train-sinu.jsonl"):
        assert required in a


def test_other_seed_gives_different_data(records: dict) -> None:
    other = {(t, s, lang): r for t, s, lang, r in generate_records(small_config(14))}
    assert other.keys() == records.keys()
    assert other[("xnli", "test", "en")] != records[("xnli", "test", "en")]
    assert other[("mlm", "train", "dano")] != records[("mlm", "train", "dano")]
    lex13 = build_languages(13)[5].lexicon
    lex14 = build_languages(14)[5].lexicon
    assert lex13 != lex14


@pytest.mark.slow
def test_independent_of_python_hash_seed(tmp_path: Path) -> None:
    code = ("import sys; from pathlib import Path; from xstilts.data.synthetic import generate; "
            f"generate(Path(sys.argv[1]), {SMALL!r})")
    outs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", code, str(out)], check=True, env=env)
        outs.append((out / "manifest.json").read_bytes())
    assert outs[0] == outs[1]


# ---------------------------------------------------------------------------- languages
def test_language_table() -> None:
    rows = language_rows(None)
    assert rows[0]["lang"] == "en"
    assert all(re.fullmatch(r"[a-z]{2,8}", r["lang"]) for r in rows)
    assert len({r["lang"] for r in rows}) == len(rows)
    synthetic = [r for r in rows if r["lang"] != "en"]
    assert len(synthetic) >= 10
    assert len({r["family"] for r in synthetic}) >= 4
    assert len({r["script"] for r in rows}) >= 3
    assert {r["spaces"] for r in rows} == {"true", "false"}
    assert len({r["word_order"] for r in rows}) >= 3
    sizes = [int(r["mlm_sentences"]) for r in rows]
    assert max(sizes) >= 10 * min(sizes)


def test_languages_csv_matches_table(tmp_path: Path) -> None:
    generate(tmp_path, SMALL)
    with (tmp_path / "languages.csv").open(encoding="utf-8") as fh:
        assert list(csv.DictReader(fh)) == language_rows(SMALL)


def test_a_family_shares_no_vocabulary_with_english() -> None:
    english = english_vocabulary()
    langs = build_languages(13)
    disjoint = {lang.spec.family for lang in langs if lang.code != "en"}
    for lang in langs:
        if lang.code != "en" and (set(lang.lexicon.values()) & english
                                  or {lang.surface(w) for w in lang.lexicon.values()} & english):
            disjoint.discard(lang.spec.family)
    assert disjoint, "every family shares words with English"
    # ... while the English-derived family shares cognates
    dano = next(lang for lang in langs if lang.code == "dano")
    same_initial = sum(dano.lexicon[k][:1] == k[:1] for k in ("doctor", "book", "red", "work"))
    assert same_initial >= 3


def test_unknown_config_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="bogus"):
        next(generate_records({"bogus": 1}))
    with pytest.raises(ValueError, match="languages"):
        next(generate_records({"languages": ["en", "xx"]}))


def test_language_subset(records: dict) -> None:
    sub = {(t, s, lang) for t, s, lang, _ in generate_records({**SMALL,
                                                               "languages": ["en", "kora"]})}
    assert {lang for _, _, lang in sub} == {"en", "kora"}


# ---------------------------------------------------------------------------- tasks and splits
def test_every_task_split_and_language_present(records: dict, codes: list[str]) -> None:
    others = [c for c in codes if c != "en"]
    for task in INTERMEDIATE:
        assert (task, "train", "en") in records and (task, "validation", "en") in records
        for lang in others:
            assert (task, "train", lang) in records  # translated training data
    for name, spec in builtin_tasks().items():
        if spec.role != "target":
            continue
        for lang in (others if spec.format == "retrieval" else codes):
            for split in ("validation", "test"):
                if split in spec.splits:
                    assert (name, split, lang) in records, (name, split, lang)
        if spec.has_training_data and not spec.train_task:
            assert (name, "train", "en") in records
    for lang in codes:
        assert ("mlm", "train", lang) in records and ("mlm", "validation", lang) in records


SINGLE_SENTENCE = {"tweet_sentiment", "sib200"}
_FIELDS = {"classification": {"id", "text_a", "text_b", "label"},
           "multiple_choice": {"id", "context", "question", "choices", "label"},
           "qa": {"id", "title", "context", "question", "answers"},
           "tagging": {"id", "tokens", "tags"}, "mlm": {"id", "lang", "text"}}


def test_canonical_fields_and_labels(records: dict) -> None:
    for (task, split, lang), recs in records.items():
        spec = get_task(task)
        where = f"{task}/{split}/{lang}"
        if spec.format == "retrieval":
            assert set(recs) == {"source", "target", "gold"}, where
            continue
        assert recs, where
        ids = [r["id"] for r in recs]
        assert len(set(ids)) == len(ids), where
        for r in recs:
            assert set(r) == _FIELDS[spec.format], where
            if spec.format == "classification":
                assert r["label"] in spec.labels and r["text_a"], where
                # single-sentence tasks (their hub mapping has no text_b) have text_b == ""
                assert bool(r["text_b"]) == (task not in SINGLE_SENTENCE), where
            elif spec.format == "multiple_choice":
                assert len(r["choices"]) == spec.num_choices, where
                assert len(set(r["choices"])) == spec.num_choices, (where, r)
                assert 0 <= r["label"] < spec.num_choices, where
            elif spec.format == "tagging":
                assert len(r["tokens"]) == len(r["tags"]) > 0, where
                assert all(t and not t.isspace() for t in r["tokens"]), where
                allowed = spec.labels or CCG_TAGS
                assert set(r["tags"]) <= set(allowed), (where, set(r["tags"]) - set(allowed))
            elif spec.format == "mlm":
                assert r["lang"] == lang and "\n" not in r["text"] and r["text"].strip()


def test_qa_answers_point_at_their_text(records: dict) -> None:
    unanswerable = Counter()
    for (task, _split, lang), recs in records.items():
        if get_task(task).format != "qa":
            continue
        for r in recs:
            ans = r["answers"]
            assert len(ans["text"]) == len(ans["answer_start"]) <= 1
            if not ans["text"]:
                unanswerable[task] += 1
                continue
            start, text = ans["answer_start"][0], ans["text"][0]
            assert text and r["context"][start:start + len(text)] == text, (task, lang, r)
    assert unanswerable["squad_v2"] > 0
    assert set(unanswerable) == {"squad_v2"}


def test_panx_tags_are_valid_bio(records: dict) -> None:
    entities = 0
    for (task, _split, _lang), recs in records.items():
        if task != "panx":
            continue
        for r in recs:
            prev = "O"
            for tag in r["tags"]:
                if tag.startswith("I-"):
                    assert prev[2:] == tag[2:], r
                entities += tag.startswith("B-")
                prev = tag
    assert entities > 0


def test_retrieval_gold(records: dict) -> None:
    for (task, _split, lang), data in records.items():
        if task not in ("tatoeba", "bucc2018"):
            continue
        src = {r["id"] for r in data["source"]}
        trg = {r["id"] for r in data["target"]}
        gold = data["gold"]
        assert gold and all(g["source_id"] in src and g["target_id"] in trg for g in gold)
        assert len({g["source_id"] for g in gold}) == len({g["target_id"] for g in gold}) \
            == len(gold)
        if task == "tatoeba":
            assert len(gold) == len(src) == len(trg)
            assert [g["source_id"] for g in gold] == [r["id"] for r in data["source"]]
            assert [g["target_id"] for g in gold] == [r["id"] for r in data["target"]]
        else:
            assert len(src) > len(gold) and len(trg) > len(gold)  # distractors
            assert all(i.startswith(f"{lang}-") for i in src)


def _bag(text: str, spaces: bool) -> Counter:
    text = re.sub(r"[.?。？]", " ", text.lower())
    return Counter(text.split()) if spaces else Counter(text.replace(" ", ""))


def test_paws_pairs_share_bag_of_words(records: dict) -> None:
    spaces = {r["lang"]: r["spaces"] == "true" for r in language_rows(SMALL)}
    labels = Counter()
    for (task, _split, lang), recs in records.items():
        if task != "pawsx":
            continue
        for r in recs:
            assert _bag(r["text_a"], spaces[lang]) == _bag(r["text_b"], spaces[lang]), (lang, r)
            assert r["text_a"] != r["text_b"] or r["label"] == "1"
            labels[r["label"]] += 1
    assert labels["0"] > 0 and labels["1"] > 0


def test_translations_are_label_preserving(records: dict, codes: list[str]) -> None:
    en = records[("xnli", "test", "en")]
    for lang in codes:
        other = records[("xnli", "test", lang)]
        assert [(r["id"], r["label"]) for r in other] == [(r["id"], r["label"]) for r in en]
        if lang != "en":
            assert [r["text_a"] for r in other] != [r["text_a"] for r in en]
    en_train = records[("anli_plus", "train", "en")]
    hano = records[("anli_plus", "train", "hano")]
    assert len(hano) == SMALL["translated_train"]
    assert [r["label"] for r in hano] == [r["label"] for r in en_train[: len(hano)]]
    assert all(" " not in r["text_a"] for r in hano)  # written without spaces


def test_xnli_trains_on_mnli_training_set(records: dict) -> None:
    """As XTREME's download: XNLI's English training data is MultiNLI's training set."""
    def strip(recs: list[dict]) -> list[dict]:
        return [{k: v for k, v in r.items() if k != "id"} for r in recs]

    mnli, xnli = records[("mnli", "train", "en")], records[("xnli", "train", "en")]
    assert SMALL["sizes"]["xnli"]["train"] == SMALL["sizes"]["mnli"]["train"]
    assert strip(xnli) == strip(mnli)
    train = {r["text_a"] + r["text_b"] for r in xnli}
    assert not train & {r["text_a"] + r["text_b"] for r in records[("xnli", "test", "en")]}
    larger = {(t, s): r for t, s, lang, r in generate_records(
        {**SMALL, "sizes": {**SMALL["sizes"], "xnli": {"train": 30, "validation": 2, "test": 2}}})
              if lang == "en" and t in ("mnli", "xnli")}
    assert strip(larger[("xnli", "train")])[:24] == strip(mnli)  # mnli's stream, extended


def test_mlm_sizes_follow_resource_level(records: dict) -> None:
    rows = {r["lang"]: int(r["mlm_sentences"]) for r in language_rows(SMALL)}
    for lang, n in rows.items():
        assert len(records[("mlm", "train", lang)]) == n


def test_parallel_alignments(tmp_path: Path) -> None:
    generate(tmp_path, SMALL)
    with (tmp_path / "parallel" / "vely.tsv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    sents = [r for r in rows if r["type"] == "sent"]
    assert len(sents) == SMALL["parallel"]
    for r in sents:
        en, xx = r["en"].split(" "), r["vely"].split(" ")
        for pair in r["alignment"].split():
            i, j = map(int, pair.split("-"))
            assert i < len(en) and j < len(xx)
    assert any(r["type"] == "word" for r in rows)


def test_written_files_read_back_as_the_records(tmp_path: Path, records: dict) -> None:
    """End to end through data/layout.py (writer) and data/load.py (reader)."""
    from xstilts.data.load import read_records

    generate(tmp_path, SMALL)
    source = {"kind": "synthetic", "path": str(tmp_path)}
    picks = [("xnli", "test", "hano"), ("pawsx", "validation", "vely"), ("udpos", "test", "sinu"),
             ("panx", "train", "en"), ("xquad", "test", "tayo"), ("tydiqa", "train", "en"),
             ("mnli", "train", "kora"), ("squad_v2", "validation", "en"),
             ("hellaswag", "train", "en"), ("commonsenseqa", "train", "maru"),
             ("tatoeba", "test", "heli"), ("bucc2018", "test", "rusko"), ("mlm", "train", "viko"),
             ("xcopa", "test", "sinu"), ("tweet_sentiment", "validation", "tayo"),
             ("sib200", "train", "tamo"), ("masakhaner", "train", "en")]
    for key in picks:
        got, want = read_records(*key, source), records[key]
        if isinstance(want, dict):
            assert {k: len(v) for k, v in got.items()} == {k: len(v) for k, v in want.items()}
            continue
        strip = [{k: v for k, v in r.items() if k != "id"} for r in want]
        assert [{k: v for k, v in r.items() if k != "id"} for r in got] == strip, key


# ---------------------------------------------------------------------------- provenance pin
# sha256 of files of the DEFAULT benchmark (seed 13), mini-XTREME v2 (names adapted to each
# language, XNLI trained on MNLI): the shipped tiny model is pretrained on this corpus. The
# extension tasks (extension_tasks.py) use their own random streams and extension words, so
# these bytes never change.
PINNED = {
    "xtreme/xnli/train-en.tsv": "032f3989f1396e4765de30b8253b7b8be6011b798ee310021159cf43f592dd9a",
    "xtreme/xnli/test-hano.tsv": "a7cd0076193957eb48753a90fbdd81a50a093d9c9276a4475324a20881968c8a",
    "hub/mnli/train-sinu.jsonl":
        "1c476c47aa1fedee8e65709cc48222fee5ce1244ba50d8c1e04789b314f978cf",
    "mlm/en.validation.txt": "d9a62db8af9d23921c747946adc33d9e3201e5c2620ff4cbc52536d27519b448",
    "mlm/vely.txt": "636252c99bca4261125566236770f6fba89353d7f9ae3e6e4dc4074cfe674b10",
}


def test_default_benchmark_files_are_pinned(tmp_path: Path) -> None:
    """Each pinned file depends only on its own task's sizes, the world and the lexicons, so a
    config that shrinks every other task writes it byte-identically to the default config."""
    keep = ("xnli", "mnli")
    sizes = {t: (sp if t in keep else {s: ({k: 2 for k in v} if isinstance(v, dict) else 2)
                                       for s, v in sp.items()})
             for t, sp in DEFAULT_CONFIG["sizes"].items()}
    assert DEFAULT_CONFIG["seed"] == 13 and DEFAULT_CONFIG["mlm"]["low"] == 250
    assert DEFAULT_CONFIG["mlm"]["validation"] == 50 and DEFAULT_CONFIG["translated_train"] == 300
    cfg = {"sizes": sizes, "parallel": 0, "multilingual_train": 0,
           "mlm": {"high": 1, "mid": 1, "low": 250}}
    files = generate(tmp_path, cfg)["files"]
    assert {k: files[k] for k in PINNED} == PINNED

"""mini-XTREME's extension tasks (own random streams, extension lexicon): XCOPA, tweet
sentiment (targets), SIB-200 and MasakhaNER (multilingual intermediate tasks with native
low-resource data)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

from xstilts.data.synthetic import DEFAULT_CONFIG, generate, generate_records, language_rows
from xstilts.data.synthetic.generator import (
    EXTENSION_TARGETS,
    MULTILINGUAL_INTERMEDIATE,
    multilingual_train_languages,
)
from xstilts.data.synthetic.languages import build_languages, english_vocabulary, extend_lexicons
from xstilts.data.synthetic.lexicon import (
    all_concepts,
    extension_concepts,
    extension_english_forms,
)
from xstilts.tasks.registry import get_task

EXTENSION = EXTENSION_TARGETS + MULTILINGUAL_INTERMEDIATE


def _tiny(sizes: dict[str, dict[str, int]], **extra) -> dict:
    """A config with `sizes` for the extension tasks and 2 examples of everything else."""
    out = {t: ({s: ({k: 2 for k in v} if isinstance(v, dict) else 2) for s, v in sp.items()})
           for t, sp in DEFAULT_CONFIG["sizes"].items()}
    out.update(sizes)
    return {"world": {"people": 80, "cities": 12, "orgs": 10}, "translated_train": 2,
            "parallel": 2, "mlm": {"high": 4, "mid": 2, "low": 1, "validation": 2},
            "multilingual_train": 12, "sizes": out, **extra}


SMALL = _tiny({t: ({"train": 20, "validation": 6, "test": 6} if t in EXTENSION_TARGETS
                   else {"train": 20, "validation": 6}) for t in EXTENSION})
# English only, larger: for label balance and baselines
EN = _tiny({t: ({"train": 600, "validation": 2, "test": 400} if t in EXTENSION_TARGETS
                else {"train": 600, "validation": 2}) for t in EXTENSION},
           languages=["en"], multilingual_train=0)


def _extension_records(cfg: dict) -> dict:
    return {(t, s, lang): r for t, s, lang, r in generate_records(cfg)
            if t in EXTENSION or t == "copa"}


@pytest.fixture(scope="module")
def small() -> dict:
    return _extension_records(SMALL)


@pytest.fixture(scope="module")
def english() -> dict:
    return _extension_records(EN)


LOW = [r["lang"] for r in language_rows(None) if r["resource_level"] == "low"]


# ---------------------------------------------------------------------------- presence
def test_extension_tasks_splits_and_languages(small: dict) -> None:
    codes = [r["lang"] for r in language_rows(SMALL)]
    assert LOW == ["vely", "maru", "tamo", "viko"]
    for task in EXTENSION_TARGETS:
        assert (task, "train", "en") in small
        for lang in codes:
            assert (task, "validation", lang) in small and (task, "test", lang) in small
        assert not any(k[0] == task and k[1] == "train" and k[2] != "en" for k in small)
    assert small[("copa", "validation", "en")] is not None
    for task in MULTILINGUAL_INTERMEDIATE:
        langs = sorted(lang for t, s, lang in small if t == task and s == "train")
        assert langs == sorted(["en", *LOW])  # native data only in the low-resource languages
        assert (task, "validation", "en") in small
        for lang in LOW:
            assert len(small[(task, "train", lang)]) == SMALL["multilingual_train"]
    assert multilingual_train_languages(SMALL) == ["en", *LOW]
    assert multilingual_train_languages({**SMALL, "multilingual_train": 0}) == ["en"]


def test_native_data_is_not_a_translation(small: dict) -> None:
    en = small[("sib200", "train", "en")]
    vely = small[("sib200", "train", "vely")]
    maru = small[("sib200", "train", "maru")]
    labels = [[r["label"] for r in recs[:12]] for recs in (en, vely, maru)]
    assert labels[0] != labels[1] and labels[1] != labels[2]  # independent draws
    ids = {r["id"] for recs in (en, vely, maru) for r in recs}
    assert len(ids) == len(en) + len(vely) + len(maru)


def test_targets_are_translations(small: dict) -> None:
    for task in EXTENSION_TARGETS:
        en = small[(task, "test", "en")]
        hano = small[(task, "test", "hano")]
        assert [(r["id"], r["label"]) for r in en] == [(r["id"], r["label"]) for r in hano]
    en = small[("xcopa", "validation", "en")]
    assert [r["question"] for r in small[("xcopa", "validation", "vely")]] == \
        [r["question"] for r in en]  # "cause"/"effect" stays English, as in XCOPA
    assert {r["question"] for r in en} <= {"cause", "effect"}
    copa = small[("copa", "validation", "en")]
    assert [{k: v for k, v in r.items() if k != "id"} for r in copa] == \
        [{k: v for k, v in r.items() if k != "id"} for r in en]


# ---------------------------------------------------------------------------- files + loading
def test_written_files_load_with_the_canonical_schema(tmp_path: Path, small: dict) -> None:
    from xstilts.data.load import load_split
    from xstilts.data.schema import features_for

    manifest = generate(tmp_path, SMALL)
    for f in ("hub/copa/train.jsonl", "hub/copa/validation.jsonl", "xtreme/xcopa/test-vely.jsonl",
              "xtreme/xcopa/val-en.jsonl", "hub/tweet_sentiment/test-hano.jsonl",
              "hub/sib200/train.jsonl", "hub/sib200/train-viko.jsonl",
              "hub/masakhaner/train-maru.jsonl", "hub/masakhaner/validation.jsonl"):
        assert f in manifest["files"], f
    assert not any(f.startswith("hub/sib200/train-dano") for f in manifest["files"])
    assert manifest["train_languages"] == {t: ["en", *LOW] for t in MULTILINGUAL_INTERMEDIATE}
    source = {"kind": "synthetic", "path": str(tmp_path)}
    picks = [("xcopa", "train", "en"), ("xcopa", "validation", "en"), ("xcopa", "test", "maru"),
             ("xcopa", "validation", "hano"), ("copa", "validation", "en"),
             ("tweet_sentiment", "train", "en"), ("tweet_sentiment", "test", "tayo"),
             ("sib200", "train", "en"), ("sib200", "train", "vely"),
             ("sib200", "validation", "en"), ("masakhaner", "train", "tamo"),
             ("masakhaner", "train", "en")]
    for task, split, lang in picks:
        spec = get_task(task)
        ds = load_split(spec, split, lang, source)
        want = small[("xcopa" if task == "copa" else task, split, lang)]
        assert ds.features == features_for(spec, list(spec.labels)), (task, split, lang)
        assert ds.num_rows == len(want), (task, split, lang)
        if spec.format == "classification":
            names = ds.features["label"].names
            assert [names[i] for i in ds["label"]] == [r["label"] for r in want]
            assert ds["text_a"] == [r["text_a"] for r in want] and set(ds["text_b"]) == {""}
        elif spec.format == "tagging":
            names = ds.features["tags"].feature.names
            assert [[names[i] for i in t] for t in ds["tags"]] == [r["tags"] for r in want]
        else:
            assert ds["label"] == [r["label"] for r in want]
            assert ds["choices"] == [r["choices"] for r in want]
            assert ds["question"] == [r["question"] for r in want]


def test_deterministic_and_seeded(small: dict) -> None:
    again = _extension_records(SMALL)
    assert again == small
    other = _extension_records({**SMALL, "seed": 14})
    for key in (("xcopa", "test", "en"), ("tweet_sentiment", "train", "en"),
                ("sib200", "train", "viko"), ("masakhaner", "train", "en")):
        assert other[key] != small[key], key


def test_extension_tasks_do_not_change_other_outputs() -> None:
    """Sizes of the extension tasks do not affect any other task (own random streams)."""
    def rest(cfg: dict) -> dict:
        return {(t, s, lang): r for t, s, lang, r in generate_records(cfg)
                if t not in EXTENSION and t != "copa"}

    big = _tiny({"xcopa": {"train": 9, "validation": 3, "test": 4},
                 "sib200": {"train": 7, "validation": 3}}, multilingual_train=5)
    assert rest(SMALL) == rest(big)


# ---------------------------------------------------------------------------- lexicon extension
def test_extension_lexicon() -> None:
    base = build_languages(13)
    ext = build_languages(13)
    extend_lexicons(ext, 13, {"tomo"})
    concepts = extension_concepts()
    assert not set(concepts) & set(all_concepts())
    english = english_vocabulary() | extension_english_forms()
    for b, e in zip(base, ext, strict=True):
        assert {k: e.lexicon[k] for k in b.lexicon} == b.lexicon  # base words unchanged
        assert set(concepts) <= set(e.lexicon)
        words = list(e.lexicon.values())
        content = [e.lexicon[k] for k in concepts]
        assert len(set(content)) == len(content) and not set(content) & set(b.lexicon.values())
        assert "tomo" not in content or e.code == "en"
        if e.spec.family != "westic":
            assert not set(words) & english
    again = build_languages(13)
    extend_lexicons(again, 13, {"tomo"})
    assert [lang.lexicon for lang in again] == [lang.lexicon for lang in ext]


# ---------------------------------------------------------------------------- labels
def test_label_balance(english: dict) -> None:
    for task, labels in (("tweet_sentiment", ("negative", "neutral", "positive")),
                         ("sib200", tuple(get_task("sib200").labels))):
        counts = Counter(r["label"] for r in english[(task, "train", "en")])
        assert set(counts) == set(labels), task
        share = np.array([counts[lab] for lab in labels]) / sum(counts.values())
        assert share.min() > 0.6 / len(labels) and share.max() < 1.5 / len(labels), (task, share)
    labels = [r["label"] for r in english[("xcopa", "train", "en")]]
    assert 0.4 < np.mean(labels) < 0.6
    questions = Counter(r["question"] for r in english[("xcopa", "train", "en")])
    assert min(questions.values()) > 0.35 * sum(questions.values())


def test_masakhaner_tags_bio_with_dates(english: dict, small: dict) -> None:
    allowed = set(get_task("masakhaner").labels)
    types = Counter()
    for recs in (english[("masakhaner", "train", "en")], small[("masakhaner", "train", "viko")]):
        for r in recs:
            assert set(r["tags"]) <= allowed
            prev = "O"
            for tag in r["tags"]:
                if tag.startswith("I-"):
                    assert prev[2:] == tag[2:], r
                if tag.startswith("B-"):
                    types[tag[2:]] += 1
                prev = tag
    assert set(types) == {"PER", "ORG", "LOC", "DATE"}
    assert any("I-DATE" in r["tags"] for r in english[("masakhaner", "train", "en")])


# ---------------------------------------------------------------------------- no trivial solution
def _words(text: str) -> set[str]:
    return set(text.lower().replace(".", " ").split())


def _xcopa_feats(r: dict, full: bool) -> dict[str, float]:
    """Features of alternative 0 minus those of alternative 1; `full` adds premise x
    alternative word pairs, also crossed with the question word."""
    out: dict[str, float] = {}
    for sign, choice in ((1.0, r["choices"][0]), (-1.0, r["choices"][1])):
        for w in _words(choice):
            out[w] = out.get(w, 0.0) + sign
            if full:
                for p in _words(r["context"]):
                    for key in (f"{p}|{w}", f"{r['question']}|{p}|{w}"):
                        out[key] = out.get(key, 0.0) + sign
    return out


def test_xcopa_is_not_trivial_but_learnable(english: dict) -> None:
    train, test = english[("xcopa", "train", "en")], english[("xcopa", "test", "en")]
    first = np.mean([r["label"] == 0 for r in test])
    assert 0.4 < first < 0.6
    y_tr, y_te = [r["label"] for r in train], np.array([r["label"] for r in test])
    # alternatives alone (which one "looks right") are at chance; with the premise and the
    # question word the causal relation is learnable
    for full, lo, hi in ((False, 0.0, 0.6), (True, 0.9, 1.0)):
        vec = DictVectorizer()
        x_tr = vec.fit_transform([_xcopa_feats(r, full) for r in train])
        clf = LogisticRegression(max_iter=3000).fit(x_tr, y_tr)
        pred = clf.predict(vec.transform([_xcopa_feats(r, full) for r in test]))
        acc = float(np.mean(pred == y_te))
        assert lo <= acc <= hi, (full, acc)
    # word overlap between premise and alternative does not find the answer
    overlap = np.mean([int(np.argmax([len(_words(c) & _words(r["context"]))
                                      for c in r["choices"]])) == r["label"] for r in test])
    assert overlap < 0.6


def test_tweet_sentiment_is_not_trivial_but_learnable(english: dict) -> None:
    train = english[("tweet_sentiment", "train", "en")]
    test = english[("tweet_sentiment", "test", "en")]
    majority = max(np.mean([r["label"] == lab for r in test])
                   for lab in ("negative", "neutral", "positive"))
    assert majority < 0.6
    accs = []
    for ngrams in ((1, 1), (1, 2)):
        vec = CountVectorizer(token_pattern=r"[^\s]+", ngram_range=ngrams)
        vec.fit([r["text_a"] for r in train])
        clf = LogisticRegression(max_iter=3000).fit(vec.transform([r["text_a"] for r in train]),
                                                    [r["label"] for r in train])
        pred = clf.predict(vec.transform([r["text_a"] for r in test]))
        accs.append(float(np.mean(pred == np.array([r["label"] for r in test]))))
    # unigrams miss negation ("not bad" is positive); bigrams see it
    assert accs[0] < 0.9 and accs[1] > accs[0] + 0.05 and accs[1] > 0.85, accs

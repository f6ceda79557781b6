"""mini-XTREME is learnable where it should be, and PAWS-X is not a bag-of-words task."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import hstack
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

from xstilts.data.synthetic import DEFAULT_CONFIG, generate_records

# XNLI's training examples come from MNLI's training stream (mini-XTREME v2, as XTREME)
SIZES = {"xnli": {"train": 800, "validation": 2, "test": 300},
         "pawsx": {"train": 800, "validation": 2, "test": 300},
         "panx": {"train": 300, "validation": 2, "test": 150}}
CFG = {"languages": ["en"], "translated_train": 0, "parallel": 0,
       "mlm": {"high": 10, "mid": 5, "low": 1, "validation": 1},
       "sizes": {task: SIZES.get(task, {s: (v if isinstance(v, dict) else 2)
                                        for s, v in splits.items()})
                 for task, splits in DEFAULT_CONFIG["sizes"].items()}}
WANTED = {("xnli", "train"), ("xnli", "test"), ("pawsx", "train"), ("pawsx", "test"),
          ("panx", "train"), ("panx", "test")}


@pytest.fixture(scope="module")
def data() -> dict:
    out = {}
    for task, split, lang, recs in generate_records(CFG):
        if lang == "en" and (task, split) in WANTED:
            out[(task, split)] = recs
        if len(out) == len(WANTED):
            break
    return out


def _pair_bow_accuracy(train: list[dict], test: list[dict]) -> float:
    vec = CountVectorizer(token_pattern=r"[^\s.?]+", binary=True, lowercase=True)
    vec.fit([r["text_a"] for r in train] + [r["text_b"] for r in train])

    def feats(rows: list[dict]):  # premise words, hypothesis words, shared words
        a = vec.transform([r["text_a"] for r in rows])
        b = vec.transform([r["text_b"] for r in rows])
        return hstack([a, b, a.multiply(b)]).tocsr()

    clf = LogisticRegression(max_iter=3000).fit(feats(train), [r["label"] for r in train])
    return float(np.mean(clf.predict(feats(test)) == np.array([r["label"] for r in test])))


def test_xnli_is_learnable_from_words(data: dict) -> None:
    acc = _pair_bow_accuracy(data[("xnli", "train")], data[("xnli", "test")])
    assert acc > 0.55, acc  # chance = 1/3


def test_pawsx_is_not_solvable_from_bag_of_words(data: dict) -> None:
    test = data[("pawsx", "test")]
    majority = max(np.mean([r["label"] == lab for r in test]) for lab in ("0", "1"))
    acc = _pair_bow_accuracy(data[("pawsx", "train")], test)
    assert acc < 0.62, acc
    assert majority < 0.6


def test_pawsx_is_solvable_from_word_order(data: dict) -> None:
    """Order-aware features (which words precede the verb) do carry the label."""

    def feats(rows: list[dict]) -> list[dict]:
        out = []
        for r in rows:
            a, b = r["text_a"].lower().split(), r["text_b"].lower().split()
            same_start = a[:2] == b[:2]
            pairs_a, pairs_b = set(zip(a, a[1:], strict=False)), set(zip(b, b[1:], strict=False))
            same_bigrams = len(pairs_a & pairs_b) / max(1, len(a) - 1)
            out.append({"same_start": same_start, "bigrams": same_bigrams,
                        "first_is_in": b[0] == "in" or a[0] == "in"})
        return out

    vec = DictVectorizer()
    train, test = data[("pawsx", "train")], data[("pawsx", "test")]
    clf = LogisticRegression(max_iter=2000).fit(vec.fit_transform(feats(train)),
                                                [r["label"] for r in train])
    acc = np.mean(clf.predict(vec.transform(feats(test))) == np.array([r["label"] for r in test]))
    assert acc > 0.7, acc


def _token_features(tokens: list[str], i: int) -> dict:
    tok = tokens[i]
    return {"w=" + tok.lower(): 1, "cap": tok[:1].isupper(),
            "prev=" + (tokens[i - 1].lower() if i else "<s>"): 1,
            "next=" + (tokens[i + 1].lower() if i + 1 < len(tokens) else "</s>"): 1,
            "prevcap": i > 0 and tokens[i - 1][:1].isupper(), "first": i == 0}


def test_panx_is_learnable_per_token(data: dict) -> None:
    from seqeval.metrics import f1_score

    def xy(rows: list[dict]):
        feats = [_token_features(r["tokens"], i) for r in rows for i in range(len(r["tokens"]))]
        return feats, [t for r in rows for t in r["tags"]]

    vec = DictVectorizer()
    x_train, y_train = xy(data[("panx", "train")])
    clf = LogisticRegression(max_iter=3000).fit(vec.fit_transform(x_train), y_train)
    test = data[("panx", "test")]
    x_test, _ = xy(test)
    pred = list(clf.predict(vec.transform(x_test)))
    pred_seqs, k = [], 0
    for r in test:
        pred_seqs.append(pred[k:k + len(r["tags"])])
        k += len(r["tags"])
    f1 = f1_score([r["tags"] for r in test], pred_seqs)
    assert f1 > 0.6, f1

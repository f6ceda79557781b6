"""Featurization per format: no padding, QA windows and labels, tagging alignment."""

from __future__ import annotations

import pytest
from test_engine_common import MARK, SPECS, dataset, tokenizer

from xstilts.data.schema import DataError
from xstilts.engine.featurize import featurize, qa_stride


def test_classification_pairs_unpadded():
    ds = dataset("cls", 16)
    feats = featurize(SPECS["cls"], ds, tokenizer(), max_length=64)
    lengths = [len(x) for x in feats["input_ids"]]
    assert len(set(lengths)) > 1  # no padding
    assert lengths == feats["length"]
    assert feats["labels"] == ds["label"]
    ids = feats[0]["input_ids"]
    assert ids.count(tokenizer().sep_token_id) == 3  # a pair: <s> A </s></s> B </s>


def test_classification_truncates_to_max_length():
    feats = featurize(SPECS["cls"], dataset("cls", 16), tokenizer(), max_length=12)
    assert max(len(x) for x in feats["input_ids"]) == 12


def test_multiple_choice_shape():
    ds = dataset("mc", 6)
    feats = featurize(SPECS["mc"], ds, tokenizer(), max_length=64)
    row = feats[0]
    assert len(row["input_ids"]) == 3 and len(row["attention_mask"]) == 3
    assert feats["labels"] == ds["label"]
    text = tokenizer().decode(row["input_ids"][ds[0]["label"]], skip_special_tokens=True)
    assert MARK in text and ds[0]["context"] in text


def test_multiple_choice_wrong_number_of_choices():
    ds = dataset("mc", 4).map(lambda r: {"choices": r["choices"][:2]})
    with pytest.raises(DataError, match="expected num_choices=3"):
        featurize(SPECS["mc"], ds, tokenizer(), max_length=64)


def test_qa_train_positions_decode_to_answer():
    tok = tokenizer()
    ds = dataset("qa2", 12)
    feats = featurize(SPECS["qa2"], ds, tok, max_length=48, doc_stride=16)
    assert len(feats) > len(ds)  # long contexts overflow into several windows
    by_id = {r["id"]: r for r in ds}
    # windows follow examples in order; find the windows of each example by re-featurizing
    eval_feats = featurize(SPECS["qa2"], ds, tok, max_length=48, doc_stride=16,
                           for_training=False)
    assert len(eval_feats) == len(feats)
    found = set()
    for train_row, eval_row in zip(feats, eval_feats, strict=True):
        row = by_id[eval_row["example_id"]]
        s, e = train_row["start_positions"], train_row["end_positions"]
        if s == 0 and e == 0:  # CLS: unanswerable or answer outside the window
            continue
        offsets = eval_row["offset_mapping"]
        assert row["context"][offsets[s][0]:offsets[e][1]] == row["answers"]["text"][0]
        found.add(row["id"])
    answerable = {r["id"] for r in ds if r["answers"]["text"]}
    assert found == answerable
    unanswerable = {r["id"] for r in ds if not r["answers"]["text"]}
    assert unanswerable  # qa2 has null answers; all their windows point at CLS


def test_qa_eval_windows_cover_the_context_with_overlap():
    tok = tokenizer()
    ds = dataset("qa", 3)
    feats = featurize(SPECS["qa"], ds, tok, max_length=40, doc_stride=32, for_training=False)
    stride = qa_stride(tok, 40, 32)
    assert 0 < stride < 32  # clamped to half the context budget
    for row in ds:
        windows = [f["offset_mapping"] for f in feats if f["example_id"] == row["id"]]
        assert len(windows) >= 2
        spans = [[o for o in w if o is not None] for w in windows]
        assert spans[0][0][0] == 0
        assert spans[-1][-1][1] == len(row["context"].rstrip())
        for prev, nxt in zip(spans, spans[1:], strict=False):
            assert nxt[0][0] < prev[-1][1]  # consecutive windows overlap
        for w in windows:  # question tokens and specials carry no offsets
            assert w[0] is None


def test_tagging_first_subword_alignment():
    tok = tokenizer()
    ds = dataset("tag", 8)
    feats = featurize(SPECS["tag"], ds, tok, max_length=128)
    for row, feat in zip(ds, feats, strict=True):
        word_ids, labels = feat["word_ids"], feat["labels"]
        assert len(word_ids) == len(labels) == len(feat["input_ids"])
        firsts = [i for i, w in enumerate(word_ids) if w >= 0 and (i == 0 or word_ids[i - 1] != w)]
        assert [word_ids[i] for i in firsts] == list(range(len(row["tokens"])))
        assert [labels[i] for i in firsts] == row["tags"]
        assert all(lab == -100 for i, lab in enumerate(labels) if i not in firsts)
    # at least one word is split into several sub-words, so -100 continuation labels exist
    assert any(lab == -100 and w >= 0 for f in feats for lab, w in zip(f["labels"], f["word_ids"],
                                                                          strict=True))


def test_mlm_special_tokens_mask():
    feats = featurize(SPECS["mlm"], dataset("mlm", 4), tokenizer(), max_length=64)
    row = feats[0]
    assert row["special_tokens_mask"][0] == 1 and row["special_tokens_mask"][-1] == 1
    assert sum(row["special_tokens_mask"]) == 2


def test_empty_dataset_is_an_error():
    with pytest.raises(DataError, match="empty"):
        featurize(SPECS["cls"], dataset("cls", 4).select([]), tokenizer(), max_length=64)

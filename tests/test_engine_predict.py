"""Predictions from fine-tuned models: one per row, per format; tagging fallback."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from test_engine_common import SPECS, _tmpdir, dataset, tiny_encoder

from xstilts.engine.predict import Predictor, dev_score, predict
from xstilts.engine.training import TrainTask, train

HP = {"lr": 5e-3, "batch_size": 8, "max_length": 64, "doc_stride": 16, "warmup_ratio": 0.0,
      "logging": 10, "save_every": 1000}


@cache
def finetuned(name: str, steps: int = 8) -> Path:
    root = _tmpdir()
    t = TrainTask(name, SPECS[name], dataset(name, 48))
    train([t], tiny_encoder(), root / "out", root / "scratch", {**HP, "max_steps": steps},
          seed=0, threads=1, **({"eval_task": None}))
    return root / "out"


@pytest.mark.parametrize("name", ["cls", "mc", "qa", "qa2", "tag"])
def test_one_prediction_per_row_of_the_right_kind(name):
    ds = dataset(name, 10, seed=7)
    spec = SPECS[name]
    if name in ("mc", "qa2"):  # intermediate tasks: ask for the full model explicitly
        root = _tmpdir()
        train([TrainTask(name, spec, dataset(name, 24))], tiny_encoder(), root / "o",
              root / "s", {**HP, "max_steps": 4, "output": "model"}, seed=0, threads=1)
        model_dir = root / "o"
    else:
        model_dir = finetuned(name)
    preds = Predictor(spec, model_dir, threads=1).predict(ds)
    assert len(preds) == len(ds)
    if name == "cls":
        assert set(preds) <= {"no", "yes"}
    elif name == "mc":
        assert all(isinstance(p, int) and 0 <= p < 3 for p in preds)
    elif name.startswith("qa"):
        for p, row in zip(preds, ds, strict=True):
            assert isinstance(p, str) and p in row["context"]
    else:
        for p, row in zip(preds, ds, strict=True):
            assert len(p) == len(row["tokens"]) and set(p) <= {"O", "B-X", "I-X"}
    assert 0.0 <= dev_score(spec, ds, preds) <= 1.0


def test_predictor_is_reusable_and_matches_one_shot_predict():
    predictor = Predictor(SPECS["cls"], finetuned("cls"), threads=1)
    a, b = dataset("cls", 12, seed=8), dataset("cls", 7, seed=9)
    assert predictor.predict(a) == predict(SPECS["cls"], finetuned("cls"), a)
    assert len(predictor.predict(b)) == 7  # same loaded model, another "language"


def test_tagging_words_beyond_the_model_length_get_the_fallback_tag():
    ds = dataset("tag", 2, seed=5)
    long_row = {"id": "long", "tokens": ["kato"] * 300, "tags": [1] * 300}
    ds = ds.add_item(long_row)
    preds = Predictor(SPECS["tag"], finetuned("tag"), threads=1).predict(ds)
    assert len(preds[-1]) == 300
    assert preds[-1][-50:] == ["O"] * 50  # beyond 128 positions: deterministic fallback
    short = preds[0]
    assert len(short) == len(ds[0]["tokens"])


def test_classifier_learns_the_marker_word():
    model_dir = finetuned("cls", steps=48)
    dev = dataset("cls", 40, seed=11)
    preds = Predictor(SPECS["cls"], model_dir, threads=1).predict(dev)
    assert dev_score(SPECS["cls"], dev, preds) >= 0.8


def test_any_hf_encoder_works_through_the_auto_classes(tmp_path):
    """A tiny BERT (WordPiece, token_type_ids, pooler-based classifier) end to end."""
    import torch
    from test_engine_common import CJK, SYL
    from transformers import BertConfig, BertModel, BertTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *SYL, *("##" + s for s in SYL),
             *CJK]
    (tmp_path / "vocab.txt").write_text("\n".join(vocab))
    enc = tmp_path / "bert"
    BertTokenizerFast(vocab_file=str(tmp_path / "vocab.txt")).save_pretrained(str(enc))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
    BertModel(config).save_pretrained(str(enc))
    for name in ("cls", "tag"):
        train([TrainTask(name, SPECS[name], dataset(name, 16))], enc, tmp_path / name,
              tmp_path / f"s-{name}", {**HP, "max_steps": 2}, seed=0, threads=1)
        preds = Predictor(SPECS[name], tmp_path / name).predict(dataset(name, 3, seed=4))
        assert len(preds) == 3
    summary = train([TrainTask("mlm", SPECS["mlm"], dataset("mlm", 16)),
                     TrainTask("mc", SPECS["mc"], dataset("mc", 16))], enc, tmp_path / "mt",
                    tmp_path / "s-mt", {**HP, "max_steps": 2}, seed=0, threads=1)
    assert summary["steps"] == 2

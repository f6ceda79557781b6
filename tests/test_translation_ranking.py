"""Translation ranking (engine.translation_ranking): in-batch contrastive alignment of a sentence
and its translation, run after MLM by the pretrain stage (`objectives.translation_ranking`)."""

from __future__ import annotations

import random

import pytest

SIZE = {"hidden": 32, "layers": 2, "heads": 2, "intermediate": 64, "max_position": 64}
EN = ["ka", "to", "mi", "ra", "su", "ne", "po", "li", "ga", "de", "bo", "fu"]
XX = ["κα", "το", "μι", "ρα", "συ", "νε", "πο", "λι", "γα", "δε", "βο", "φυ"]


def _pairs(n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        idx = [rng.randrange(len(EN)) for _ in range(rng.randint(3, 6))]
        out.append((" ".join(EN[i] for i in idx), " ".join(XX[i] for i in idx)))
    return out


@pytest.fixture()
def encoder(tmp_path):
    from xstilts.engine.tiny_model import init_encoder
    from xstilts.engine.tokenizer import train_tokenizer

    texts = [t for pair in _pairs(300, 0) for t in pair]
    tok = train_tokenizer(texts, 80, tmp_path / "tok")
    return init_encoder(SIZE, tok, tmp_path / "enc", seed=0)


def _accuracy(model_dir, pairs) -> float:
    from xstilts.engine.retrieval import embed, tatoeba_accuracy

    xs, ys = [p[1] for p in pairs], [p[0] for p in pairs]
    return tatoeba_accuracy(embed(xs, model_dir, layer=2, threads=1),
                            embed(ys, model_dir, layer=2, threads=1))[0]


def test_translation_ranking_aligns_translations_and_is_deterministic(encoder, tmp_path):
    import shutil

    import torch

    from xstilts.engine.translation_ranking import train_translation_ranking

    torch.set_num_threads(1)
    held_out = _pairs(60, 1)
    before = _accuracy(encoder, held_out)
    twin = tmp_path / "twin"
    shutil.copytree(encoder, twin)
    summary = train_translation_ranking(encoder, _pairs(400, 2), steps=60, layer=2, seed=0,
                                        batch_size=16, lr=1e-3)
    assert summary["last_loss"] < summary["first_loss"]
    after = _accuracy(encoder, held_out)
    assert after >= before + 30, (before, after)
    again = train_translation_ranking(twin, _pairs(400, 2), steps=60, layer=2, seed=0,
                                      batch_size=16, lr=1e-3)
    assert again["last_loss"] == summary["last_loss"]
    assert (encoder / "model.safetensors").read_bytes() == (twin / "model.safetensors").read_bytes()


def test_translation_ranking_refuses_too_few_pairs(encoder):
    from xstilts.engine.translation_ranking import train_translation_ranking

    with pytest.raises(ValueError, match="fewer than one batch"):
        train_translation_ranking(encoder, _pairs(5, 0), steps=3, layer=1, seed=0, batch_size=8)
    with pytest.raises(ValueError, match="layer 9 out of range"):
        train_translation_ranking(encoder, _pairs(40, 0), steps=3, layer=9, seed=0, batch_size=8)


def test_pretrain_stage_runs_translation_ranking_after_mlm(tmp_path):
    """`objectives.translation_ranking` runs after MLM and is recorded in the base summary; the
    vocabulary of the unspaced languages comes from their word-segmented parallel text."""
    import json

    from test_synthetic import small_config
    from transformers import AutoTokenizer

    from xstilts.data.synthetic import generate
    from xstilts.stages import pretrain

    cfg = small_config()
    cfg["parallel"] = 24
    root = tmp_path / "mini"
    generate(root, cfg)
    entry = {"init": "pretrain", "size": SIZE, "vocab_size": 400,
             "objectives": {"tlm": True, "code_switch": 0.5,
                            "translation_ranking": {"steps": 3, "batch_size": 4}}}
    hp = {"lr": 1e-3, "batch_size": 8, "max_steps": 4, "max_length": 32, "warmup_ratio": 0.0}
    out = tmp_path / "base"
    pretrain.run({"model": entry, "benchmark": {"source": "synthetic", "path": str(root)},
                  "tasks": {}, "seed": 0, "out": str(out),
                  "scratch": str(tmp_path / "scratch"), "hparams": hp})
    summary = json.loads((out / "xstilts_base.json").read_text("utf-8"))["summary"]
    assert summary["translation_ranking"]["steps"] == 3
    assert summary["translation_ranking"]["layer"] == 2
    vocab = AutoTokenizer.from_pretrained(str(out)).get_vocab()
    han = [p for p in vocab if any("\u4e00" <= c <= "\u9fff" for c in p)]
    assert han and max(len(p.lstrip("\u2581")) for p in han) <= 4  # words, not phrases

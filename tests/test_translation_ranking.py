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


def test_similar_batches_hold_one_group_sharing_rare_words():
    """`batching: similar` (hard negatives): every batch is one group (language), and batch
    mates share their rarest English word far more often than random batches do."""
    from xstilts.engine.translation_ranking import _batches, _words

    rng = random.Random(0)
    names = [f"name{i}" for i in range(40)]
    pairs, groups = [], []
    for k in range(640):
        en = f"{rng.choice(names)} {' '.join(rng.choice(EN) for _ in range(4))}"
        pairs.append((en, en.upper()))
        groups.append("ab"[k % 2])

    def shared(batches):
        same = total = 0
        for batch in batches:
            firsts = [min(_words(pairs[i][0]), key=lambda w: w in EN) for i in batch]
            same += sum(a == b for a, b in zip(firsts, firsts[1:], strict=False))
            total += len(batch) - 1
        return same / total

    similar = _batches(pairs, groups, 16, "similar", random.Random(1))
    assert sorted(i for b in similar for i in b) == list(range(640))
    assert all(len({groups[i] for i in b}) == 1 for b in similar)
    assert shared(similar) > 0.8 > 0.2 > shared(_batches(pairs, groups, 16, "random",
                                                          random.Random(1)))


def test_word_alignment_maps_tokens_to_words_and_needs_alignments(encoder):
    from transformers import AutoTokenizer

    from xstilts.engine.translation_ranking import _word_of_token, train_translation_ranking

    tok = AutoTokenizer.from_pretrained(str(encoder))
    text = "κα το μι"
    enc = tok(text, return_offsets_mapping=True)
    ids = _word_of_token(text, ["κα", "το", "μι"], enc["offset_mapping"])
    assert ids[0] == ids[-1] == -1 and sorted(set(ids[1:-1])) == [0, 1, 2]
    assert _word_of_token(text, ["κα", "xx"], enc["offset_mapping"]) is None
    with pytest.raises(ValueError, match="word alignments"):
        train_translation_ranking(encoder, _pairs(40, 0), steps=3, layer=2, seed=0,
                                  batch_size=8, word_alignment=1.0)


def test_word_alignment_aligns_words(encoder, tmp_path):
    """With only the word-alignment loss weighted in, aligned words' vectors end nearer to
    each other than to the sentence's other words (and training is deterministic)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from xstilts.engine.translation_ranking import _pooled, train_translation_ranking

    torch.set_num_threads(1)
    pairs = _pairs(400, 2)
    words = [(tuple(en.split()), tuple(xx.split()), tuple((i, i) for i in range(len(en.split()))))
             for en, xx in pairs]
    train_translation_ranking(encoder, pairs, steps=60, layer=2, seed=0, batch_size=16,
                              lr=1e-3, word_alignment=5.0, words=words)
    tok = AutoTokenizer.from_pretrained(str(encoder))
    model = AutoModel.from_pretrained(str(encoder)).eval()
    hits = total = 0
    with torch.no_grad():
        for i in range(len(EN)):
            _, en = _pooled(model, dict(tok([EN[i]], return_tensors="pt")), 2)
            _, xx = _pooled(model, dict(tok([XX[i]], return_tensors="pt")), 2)
            sims = [torch.cosine_similarity(xx[0, 1:-1].mean(0), _pooled(
                model, dict(tok([EN[j]], return_tensors="pt")), 2)[1][0, 1:-1].mean(0), dim=0)
                for j in range(len(EN))]
            hits += int(max(range(len(EN)), key=lambda j: sims[j]) == i)
            total += 1
            del en
    assert hits / total >= 0.5, hits

"""Zero-training retrieval: Tatoeba top-1, BUCC margin mining and threshold, embeddings."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
from datasets import Dataset, DatasetDict

from xstilts.data.schema import DataError
from xstilts.engine.retrieval import (
    bucc_candidates,
    bucc_f1,
    bucc_optimize_threshold,
    embed,
    embed_all_layers,
    knn,
    load_retrieval_encoder,
    margin_scores,
    mine_max,
    run_retrieval,
    tatoeba_accuracy,
)
from xstilts.grid.layers import default_layer

# ----------------------------------------------------------------------------- hand-made cases


def test_default_layer_matches_xtreme():
    assert default_layer(24) == 14  # XLM-R large: specific_layer 13 of hidden_states[1:]
    assert default_layer(12) == 8  # mBERT / XLM-R base: specific_layer 7
    assert default_layer(6) == 5
    assert default_layer(2) == 2  # tiny models: the last layer
    with pytest.raises(ValueError):
        default_layer(0)


def test_tatoeba_known_neighbours():
    src = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 10]], dtype=np.float32)  # scale is irrelevant
    tgt = np.array([[0.9, 0.1, 0], [0.1, 0.9, 0.2], [0.8, 0, 0.5]], dtype=np.float32)
    # XTREME direction: each target queries the sources; target 2 is closest to source 0
    acc, pred = tatoeba_accuracy(src, tgt)
    assert pred == [0, 1, 0]
    assert acc == pytest.approx(200 / 3)
    # source-side queries: source 2 = e2 is closest to target 2 (0.53 vs 0.22)
    acc, pred = tatoeba_accuracy(src, tgt, query="source")
    assert pred == [0, 1, 2]
    assert acc == 100.0
    with pytest.raises(ValueError, match="aligned"):
        tatoeba_accuracy(src, tgt[:2])


def test_knn_chunked_equals_full():
    rng = np.random.default_rng(0)
    q, db = rng.normal(size=(37, 8)).astype(np.float32), rng.normal(size=(23, 8)).astype(np.float32)
    full = q @ db.T
    sims, inds = knn(q, db, 4, chunk_size=5)
    assert np.array_equal(inds, np.argsort(-full, axis=1, kind="stable")[:, :4])
    assert np.allclose(sims, np.sort(full, axis=1)[:, ::-1][:, :4])
    sims_all, inds_all = knn(q, db, 23, chunk_size=1000)
    assert np.array_equal(inds_all, np.argsort(-full, axis=1, kind="stable"))
    # ties go to the lower index
    assert knn(np.ones((1, 2)), np.ones((3, 2)), 2)[1].tolist() == [[0, 1]]


# x = e0..e3, so cos(x_i, y_j) = y_j[i]; every y_j has unit norm.
Y_4x4 = np.array([[0.8, 0.36, 0.48, 0.0],
                  [0.0, 0.6, 0.0, 0.8],
                  [0.28, 0.0, 0.96, 0.0],
                  [0.0, 0.48, 0.6, 0.64]])


def test_margin_scores_by_hand():
    # cos matrix S[i, j] = Y[j, i]; with k = 2:
    #   fwd means (rows)    f = [0.54, 0.54, 0.78, 0.72]
    #   bwd means (columns) b = [0.64, 0.70, 0.62, 0.62]
    #   score(i, j) = S[i, j] / ((f_i + b_j) / 2)
    fwd_ind, fwd, bwd_ind, bwd = margin_scores(np.eye(4), Y_4x4, k=2)
    assert fwd_ind.tolist() == [[0, 2], [1, 3], [2, 3], [1, 3]]
    assert np.allclose(fwd, [[0.8 / 0.59, 0.28 / 0.58],
                             [0.6 / 0.62, 0.48 / 0.58],
                             [0.96 / 0.70, 0.6 / 0.70],
                             [0.8 / 0.71, 0.64 / 0.67]])
    assert bwd_ind.tolist() == [[0, 2], [3, 1], [2, 0], [3, 2]]
    assert np.allclose(bwd, [[0.8 / 0.59, 0.48 / 0.71],
                             [0.8 / 0.71, 0.6 / 0.62],
                             [0.96 / 0.70, 0.28 / 0.58],
                             [0.64 / 0.67, 0.6 / 0.70]])


def test_mine_max_by_hand():
    # best pairs by score: (2,2) 1.371, (0,0) 1.356, (3,1) 1.127 [fwd and bwd];
    # then (1,1) 0.968 loses target 1 and (3,3) 0.955 loses source 3.
    pairs = mine_max(np.eye(4), Y_4x4, k=2)
    assert [(s, t) for s, t, _ in pairs] == [(2, 2), (0, 0), (3, 1)]
    assert [v for _, _, v in pairs] == pytest.approx([0.96 / 0.70, 0.8 / 0.59, 0.8 / 0.71])
    assert mine_max(np.eye(4), Y_4x4, k=2, threshold=1.2) == pairs[:2]


def test_margin_scores_match_naive_loop():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(9, 5)), rng.normal(size=(7, 5))
    fwd_ind, fwd, bwd_ind, bwd = margin_scores(x, y, k=4, chunk_size=2)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    yn = y / np.linalg.norm(y, axis=1, keepdims=True)
    sim = xn @ yn.T
    f = np.sort(sim, axis=1)[:, -4:].mean(axis=1)
    b = np.sort(sim, axis=0)[-4:, :].mean(axis=0)
    for i in range(9):
        for c, j in enumerate(fwd_ind[i]):
            assert fwd[i, c] == pytest.approx(sim[i, j] / ((f[i] + b[j]) / 2), rel=1e-5)
    for j in range(7):
        for c, i in enumerate(bwd_ind[j]):
            assert bwd[j, c] == pytest.approx(sim[i, j] / ((b[j] + f[i]) / 2), rel=1e-5)


def test_bucc_candidates_unify_and_drop_repeated():
    # source rows 0 and 2 share a text: mined once, then dropped (XTREME's read_sent2id)
    src_texts = ["a", "b", "a"]
    tgt_texts = ["A", "B"]
    src = np.array([[1, 0], [0, 1], [1, 0]], dtype=np.float32)
    tgt = np.array([[1, 0.05], [0.05, 1]], dtype=np.float32)
    cands = bucc_candidates(["s0", "s1", "s2"], src_texts, src, ["t0", "t1"], tgt_texts, tgt)
    assert [(s, t) for s, t, _ in cands] == [("s1", "t1")]


def test_threshold_picks_f1_optimal_cut():
    cands = [("a", "1", 1.9), ("b", "2", 1.8), ("c", "9", 1.7),
             ("d", "4", 1.6), ("e", "9", 1.5), ("f", "9", 1.4)]
    gold = [("a", "1"), ("b", "2"), ("d", "4"), ("g", "7")]
    # prefix F1: .40 .667 .571 .75 .667 .60 -> best after "d"
    random.Random(0).shuffle(cands)
    threshold = bucc_optimize_threshold(cands, gold)
    assert threshold == pytest.approx(1.55)
    assert bucc_f1(cands, gold, threshold) == pytest.approx(
        {"precision": 75.0, "recall": 75.0, "f1": 75.0})
    assert bucc_f1(cands, gold, 1.75)["f1"] == pytest.approx(100 * 2 / 3)
    assert bucc_f1(cands, gold, 5.0) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_threshold_with_ties_and_best_at_end():
    cands = [("x", "1", 2.0), ("y", "9", 1.0), ("z", "3", 1.0)]
    gold = [("x", "1"), ("z", "3"), ("g", "7")]
    # cuts: after x -> F1 .5; after the tied pair -> P = R = 2/3
    threshold = bucc_optimize_threshold(cands, gold)
    assert threshold == 1.0
    assert bucc_f1(cands, gold, threshold)["f1"] == pytest.approx(200 / 3)
    assert bucc_optimize_threshold([("q", "q", 1.0)], gold) == 0.0  # nothing correct
    with pytest.raises(ValueError, match="empty gold"):
        bucc_optimize_threshold(cands, [])


# ----------------------------------------------------------------------------- tiny XLM-R

WORDS = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "very", "fast", "hello", "world",
         "red", "blue", "green", "house", "tree", "river", "small", "big", "old", "new", "sun",
         "moon", "star"]


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel

    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for w in WORDS:
        vocab[w] = len(vocab)
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                   pad_token="<pad>", unk_token="<unk>", cls_token="<s>",
                                   sep_token="</s>")
    config = XLMRobertaConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                              num_attention_heads=2, intermediate_size=64,
                              max_position_embeddings=64, pad_token_id=1)
    torch.manual_seed(0)
    model = XLMRobertaModel(config)
    path = tmp_path_factory.mktemp("tiny_xlmr")
    fast.save_pretrained(path)
    model.save_pretrained(path)
    assert (path / "model.safetensors").exists()
    return path


def _sentences(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n:
        s = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 9)))
        if s not in out:
            out.append(s)
    return out


def test_embed_shapes_layers_and_manual_pooling(tiny_encoder):
    texts = ["the cat sat on a mat", "hello world", "red"]
    enc = load_retrieval_encoder(tiny_encoder)
    vecs = embed(texts, tiny_encoder, batch_size=2, threads=1)
    assert vecs.shape == (3, 32) and vecs.dtype == np.float32
    every = embed_all_layers(texts, enc, batch_size=2)
    assert every.shape == (3, 3, 32)
    assert np.allclose(every[2], vecs, atol=1e-5)  # default layer of 2 = last
    assert np.allclose(embed(texts, enc, layer=1), every[1], atol=1e-5)
    assert embed_all_layers(texts, enc, layers=[0, 2]).shape == (2, 3, 32)
    # mean over all non-pad tokens, <s> and </s> included (XTREME)
    ids = enc.tokenizer("hello world", return_tensors="pt")
    with torch.no_grad():
        hidden = enc.model(**ids, output_hidden_states=True).hidden_states
    assert np.allclose(every[1, 1], hidden[1][0].mean(0).numpy(), atol=1e-5)
    assert np.allclose(embed(texts, enc, layer=2, pooling="cls")[1], hidden[2][0, 0].numpy(),
                       atol=1e-5)
    assert np.allclose(embed(texts, enc, layer=2, pooling="max")[1],
                       hidden[2][0].max(0).values.numpy(), atol=1e-5)
    # truncation: max_length is capped by the position embeddings (64 - pad 1 - 1 = 62)
    long_text = " ".join(WORDS * 5)
    capped = embed([long_text], enc, max_length=512)
    assert np.allclose(capped, embed([long_text], enc, max_length=62), atol=1e-6)
    assert not np.allclose(capped, embed([long_text], enc, max_length=20), atol=1e-3)
    with pytest.raises(ValueError, match="out of range"):
        embed(texts, enc, layer=3)
    with pytest.raises(ValueError, match="pooling"):
        embed(texts, enc, pooling="sum")


@pytest.mark.parametrize("pooling", ["mean", "max", "cls"])
def test_pooling_is_pad_invariant(tiny_encoder, pooling):
    enc = load_retrieval_encoder(tiny_encoder)
    alone = embed_all_layers(["hello world"], enc, pooling=pooling)[:, 0]
    batch = ["the cat sat on a mat and the dog ran very fast", "hello world", "sun"]
    padded = embed_all_layers(batch, enc, pooling=pooling, batch_size=8)[:, 1]
    assert np.abs(alone - padded).max() < 1e-5


def test_identical_sentences_retrieve_each_other(tiny_encoder):
    enc = load_retrieval_encoder(tiny_encoder)
    texts = _sentences(12, seed=1)
    shuffled = texts[::-1]
    src, tgt = embed(texts, enc, batch_size=5), embed(shuffled, enc, batch_size=3)
    sims, inds = knn(src / np.linalg.norm(src, axis=1, keepdims=True),
                     tgt / np.linalg.norm(tgt, axis=1, keepdims=True), 1)
    assert inds[:, 0].tolist() == [len(texts) - 1 - i for i in range(len(texts))]
    assert np.allclose(sims, 1.0, atol=1e-5)


def _retrieval_dict(src: list[str], tgt: list[str], gold: list[tuple[int, int]],
                    prefix: str) -> DatasetDict:
    return DatasetDict({
        "source": Dataset.from_dict({"id": [f"{prefix}s{i}" for i in range(len(src))],
                                     "text": src}),
        "target": Dataset.from_dict({"id": [f"{prefix}t{i}" for i in range(len(tgt))],
                                     "text": tgt}),
        "gold": Dataset.from_dict({"source_id": [f"{prefix}s{i}" for i, _ in gold],
                                   "target_id": [f"{prefix}t{j}" for _, j in gold]}),
    })


def test_run_retrieval_tatoeba_identical_texts(tiny_encoder):
    texts = _sentences(10, seed=2)
    data = {"xx": _retrieval_dict(texts, texts, [(i, i) for i in range(10)], "")}
    out = run_retrieval("tatoeba", data, tiny_encoder, layer=None, pooling="mean",
                        max_length=32, threads=1, sweep_layers=True)
    assert out["metric"] == "retrieval_accuracy" and out["layer"] == 2
    assert out["metrics"]["xx"]["accuracy"] == 100.0
    # XTREME's order: one prediction per English sentence of the sorted English side
    xtreme_order = sorted(range(10), key=lambda i: texts[i])
    assert out["predictions"]["xx"] == xtreme_order != list(range(10))
    assert sorted(out["layers"]) == [0, 1, 2] and out["withheld"] == []
    assert json.loads(json.dumps(out))["predictions"]["xx"] == xtreme_order
    assert all(out["layers"][li]["xx"]["accuracy"] == 100.0 for li in (0, 1, 2))
    partial = {"xx": _retrieval_dict(texts, texts, [(0, 1), (1, 0)], "")}
    with pytest.raises(DataError, match="2 pairs for 10 sentences"):
        run_retrieval("tatoeba", partial, tiny_encoder, max_length=32)
    twice = {"xx": _retrieval_dict(texts[:2], texts[:2], [(0, 1), (1, 1)], "")}
    with pytest.raises(DataError, match="row 1 .* not a one-to-one pair"):
        run_retrieval("tatoeba", twice, tiny_encoder, max_length=32)


def test_run_retrieval_bucc_end_to_end(tiny_encoder):
    def split(seed: int, prefix: str) -> DatasetDict:
        texts = _sentences(16, seed)
        src = texts[:8]
        tgt = texts[4:8][::-1] + texts[8:]  # 4 true pairs, 8 distractors
        gold = [(4 + k, 3 - k) for k in range(4)]
        return _retrieval_dict(src, tgt, gold, prefix)

    data = {"xx": {"validation": split(3, "d"), "test": split(4, "t")}}
    out = run_retrieval("bucc2018", data, tiny_encoder, layer=1, pooling="mean", max_length=32,
                        threads=1)
    m = out["metrics"]["xx"]
    assert out["metric"] == "bucc_f1" and out["layer"] == 1 and "layers" not in out
    for key in ("f1", "precision", "recall", "dev_oracle_f1", "test_oracle_f1"):
        assert 0.0 <= m[key] <= 100.0
    assert m["dev_oracle_f1"] > 0.0  # the identical pairs are mined with the top margins
    assert m["test_oracle_f1"] >= m["f1"] and m["test_oracle_f1"] > 0.0
    json.dumps(out)  # plain Python types only
    pairs = out["predictions"]["xx"]
    assert all(s.startswith("ts") and t.startswith("tt") for s, t in pairs)
    gold = {(f"ts{4 + k}", f"tt{3 - k}") for k in range(4)}
    correct = len(gold & {tuple(p) for p in pairs})
    if pairs:
        assert m["precision"] == pytest.approx(100 * correct / len(pairs))
    with pytest.raises(DataError, match="missing split 'validation' or 'dev'"):
        run_retrieval("bucc2018", {"xx": {"test": split(4, "t")}}, tiny_encoder, max_length=32)


def test_run_retrieval_rejects_bad_input(tiny_encoder):
    texts = _sentences(3, seed=5)
    good = _retrieval_dict(texts, texts, [(i, i) for i in range(3)], "")
    with pytest.raises(ValueError, match="not a retrieval metric"):
        run_retrieval("xnli", {"xx": good}, tiny_encoder)
    bad_gold = DatasetDict({**good, "gold": Dataset.from_dict({"source_id": ["s0"],
                                                              "target_id": ["nope"]})})
    with pytest.raises(DataError, match="gold: row 0 pairs unknown id"):
        run_retrieval("tatoeba", {"xx": bad_gold}, tiny_encoder)
    no_gold = DatasetDict({"source": good["source"], "target": good["target"]})
    with pytest.raises(DataError, match="no 'gold'"):
        run_retrieval("tatoeba", {"xx": no_gold}, tiny_encoder)
    with pytest.raises(ValueError, match="layer 7 out of range"):
        run_retrieval("tatoeba", {"xx": good}, tiny_encoder, layer=7)

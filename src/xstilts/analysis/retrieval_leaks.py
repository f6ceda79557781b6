"""Superficial leaks of mini-XTREME's retrieval tasks: what scores without word meanings.

Three retrievers, scored per language as the real pipeline scores (Tatoeba: top-1 accuracy of
the English queries; BUCC: F1 of each source sentence's best candidate at the F1-optimal
threshold on the gold itself, an upper bound of what the retriever can reach):

- `surface`: no model. score(s, t) = shared word tokens + shared digit strings + closeness of
  the two sentences' length ranks (in [0, 1], so it only breaks ties). Ties count as a random
  pick among the tied candidates (expected accuracy).
- an encoder's mean-pooled sentence vectors (`xstilts.engine.retrieval`, as the workflow
  computes them): the shipped tiny model, or the same architecture with random weights and the
  shipped tokenizer (`random_encoder`), which only sees shared sub-words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

_WORD = re.compile(r"[^\W\d_]+")
_DIGITS = re.compile(r"\d+")


def _rank(values: Sequence[int]) -> np.ndarray:
    """Length ranks scaled to [0, 1] (ties share their mean rank)."""
    v = np.asarray(values, dtype=np.float64)
    order = v.argsort(kind="stable")
    ranks = np.empty(len(v))
    ranks[order] = np.arange(len(v))
    for value in np.unique(v):
        idx = v == value
        ranks[idx] = ranks[idx].mean()
    return ranks / max(1, len(v) - 1)


def _bags(texts: Sequence[str], pattern: re.Pattern[str], vocab: dict[str, int]) -> np.ndarray:
    sets = [set(pattern.findall(t.lower())) for t in texts]
    for s in sets:
        for w in s:
            vocab.setdefault(w, len(vocab))
    rows = np.zeros((len(texts), len(vocab)), dtype=np.float32)
    for i, s in enumerate(sets):
        rows[i, [vocab[w] for w in s]] = 1.0
    return rows


def surface_scores(source: Sequence[str], target: Sequence[str]) -> np.ndarray:
    """The no-model score matrix (len(source), len(target))."""
    scores = np.zeros((len(source), len(target)))
    for pattern in (_WORD, _DIGITS):
        vocab: dict[str, int] = {}
        a = _bags(source, pattern, vocab)
        b = _bags(target, pattern, vocab)
        a = np.pad(a, ((0, 0), (0, len(vocab) - a.shape[1])))
        scores += a @ b.T
    rs, rt = _rank([len(t) for t in source]), _rank([len(t) for t in target])
    return scores + 1.0 - np.abs(rs[:, None] - rt[None, :])


def tatoeba_from_scores(scores: np.ndarray) -> float:
    """Accuracy (%) of the English queries (columns) retrieving their row (row i = column i),
    ties broken at random (expected value)."""
    cols = scores.T
    best = cols.max(axis=1, keepdims=True)
    tied = np.isclose(cols, best, rtol=0, atol=1e-9)
    hit = tied[np.arange(len(cols)), np.arange(len(cols))]
    return 100.0 * float(np.mean(hit / tied.sum(axis=1)))


def bucc_from_scores(scores: np.ndarray, source_ids: Sequence[str], target_ids: Sequence[str],
                     gold: Iterable[tuple[str, str]], seed: int = 0) -> float:
    """Oracle-threshold F1 (%) of each source sentence's best target (random tie-break)."""
    from xstilts.engine.retrieval import bucc_f1, bucc_optimize_threshold  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    jittered = scores + rng.uniform(0, 1e-6, scores.shape)
    best = jittered.argmax(axis=1)
    candidates = sorted(((source_ids[i], target_ids[j], float(jittered[i, j]))
                         for i, j in enumerate(best)), key=lambda c: -c[2])
    gold = list(gold)
    return bucc_f1(candidates, gold, bucc_optimize_threshold(candidates, gold))["f1"]


def random_encoder(model_dir: str | Path, out_dir: str | Path, seed: int = 0) -> Path:
    """A randomly initialised copy of the model in `model_dir` (same shape and tokenizer)."""
    from transformers import AutoConfig, AutoTokenizer  # noqa: PLC0415

    from xstilts.engine.tiny_model import init_encoder  # noqa: PLC0415

    config = AutoConfig.from_pretrained(str(model_dir))
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    offset = (config.pad_token_id + 1) if config.model_type == "xlm-roberta" else 0
    size = {"hidden": config.hidden_size, "layers": config.num_hidden_layers,
            "heads": config.num_attention_heads, "intermediate": config.intermediate_size,
            "max_position": config.max_position_embeddings - offset}
    arch = "bert" if config.model_type == "bert" else "xlm-roberta"
    return init_encoder(size, tokenizer, out_dir, seed, arch)


def encoder_scores(encoder: Any, task: str, data: dict[str, list[dict[str, str]]]) -> float:
    """Tatoeba accuracy or BUCC oracle-threshold F1 (%) of an `engine.retrieval.Encoder`."""
    from xstilts.engine import retrieval as r  # noqa: PLC0415

    layer = r.default_layer(encoder.num_layers)
    src = [x["text"] for x in data["source"]]
    trg = [x["text"] for x in data["target"]]
    emb = r.embed(src + trg, encoder, layer=layer, max_length=128, threads=1)
    a, b = emb[:len(src)], emb[len(src):]
    if task == "tatoeba":
        return r.tatoeba_accuracy(a, b)[0]
    gold = [(g["source_id"], g["target_id"]) for g in data["gold"]]
    cands = r.bucc_candidates([x["id"] for x in data["source"]], src, a,
                              [x["id"] for x in data["target"]], trg, b)
    return r.bucc_f1(cands, gold, r.bucc_optimize_threshold(cands, gold))["f1"]


def surface_score(task: str, data: dict[str, list[dict[str, str]]]) -> float:
    """The no-model retriever's Tatoeba accuracy or BUCC F1 (%) on one language's data."""
    scores = surface_scores([x["text"] for x in data["source"]],
                            [x["text"] for x in data["target"]])
    if task == "tatoeba":
        return tatoeba_from_scores(scores)
    gold = [(g["source_id"], g["target_id"]) for g in data["gold"]]
    return bucc_from_scores(scores, [x["id"] for x in data["source"]],
                            [x["id"] for x in data["target"]], gold)

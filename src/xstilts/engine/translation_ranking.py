"""Sentence-level cross-lingual alignment from parallel data: translation ranking.

A tiny encoder pretrained for minutes with MLM + TLM + code-switching aligns words only weakly
(on mini-XTREME, dictionary induction at the embedding layer stayed at 3-10% P@1 outside the
English-cognate family), and sentence retrieval without superficial cues stays at chance: the
alignment XLM-R gets from scale does not emerge at this size and budget. InfoXLM (Chi et al.
2021, cross-lingual contrastive learning) and LaBSE (Feng et al. 2022, translation ranking)
train it directly: a sentence and its translation must be nearer to each other than to the
other translations in the batch. This module runs that objective after MLM on the
benchmark's parallel pairs (never its retrieval test sentences): mean-pooled `hidden_states`
of the layer retrieval uses (`engine.retrieval`: every non-pad token, specials included),
cosine similarity / `temperature`, symmetric in-batch softmax cross-entropy (both directions).
With `batching: similar` the in-batch negatives are hard (pairs of one language sharing their
rarest English words, so names alone no longer identify a translation; LaBSE mines hard
negatives for the same reason); `word_alignment` adds a within-pair word-alignment loss on the
corpus's word alignments (Cao et al. 2020). docs/models.md has what each gave.
Deterministic for a seed on one thread; not resumable (it is a short phase).
"""

from __future__ import annotations

import collections
import logging
import random
import re
import time
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger("xstilts")
DEFAULTS = {"batch_size": 32, "lr": 1.0e-4, "temperature": 0.05, "max_length": 64,
            "batching": "random"}
BATCHING = ("random", "similar")


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"\w+", text.lower()) if not w.isdigit()]


def _batches(pairs: Sequence[tuple[str, str]], groups: Sequence[str], batch_size: int,
             batching: str, rng: random.Random) -> list[list[int]]:
    """One epoch of batches (indices into `pairs`), in random order.

    "random": shuffled pairs. "similar" (hard in-batch negatives): each batch holds pairs of
    one group (language) whose English sides share their rarest words, so a translation must be
    told from sentences about the same people and places by the rest of its content.
    """
    if batching == "random":
        order = list(range(len(pairs)))
        rng.shuffle(order)
        return [order[i:i + batch_size] for i in range(0, len(order) - batch_size + 1,
                                                       batch_size)]
    freq = collections.Counter(w for en, _ in pairs for w in set(_words(en)))
    by_group: dict[str, list[int]] = collections.defaultdict(list)
    for i, group in enumerate(groups):
        by_group[group].append(i)
    batches = []
    for members in by_group.values():
        noise = {i: rng.random() for i in members}
        members = sorted(members, key=lambda i: (
            sorted(_words(pairs[i][0]), key=lambda w: (freq[w], w))[:3], noise[i]))
        batches += [members[i:i + batch_size]
                    for i in range(0, len(members) - batch_size + 1, batch_size)]
    rng.shuffle(batches)
    return batches


def _pooled(model, batch, layer: int):
    """(normalised mean-pooled sentence vectors, the layer's hidden states)."""
    import torch

    out = model(**batch, output_hidden_states=True)
    hidden = out.hidden_states[layer]
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
    return torch.nn.functional.normalize(pooled, dim=-1), hidden


def _word_of_token(text: str, words: Sequence[str], offsets) -> list[int] | None:
    """The index of the word (in `words`, found in order in `text`) each token's character
    offsets fall in (-1: special or padding); None if a word is not found in `text`."""
    spans, at = [], 0
    for word in words:
        start = text.find(word, at)
        if start < 0:
            return None
        spans.append((start, start + len(word)))
        at = start + len(word)
    out = []
    for start, end in offsets:
        index = -1
        if end > start:
            for k, (ws, we) in enumerate(spans):
                if start < we and end > ws:
                    index = k
                    break
        out.append(index)
    return out


def _word_vectors(hidden, word_ids: list[int] | None, n_words: int):
    """Mean of the hidden states of each word's tokens (rows of zeros for words without)."""
    import torch

    if word_ids is None:
        return None
    ids = torch.tensor([w if w >= 0 else n_words for w in word_ids][:hidden.shape[0]])
    sums = torch.zeros(n_words + 1, hidden.shape[-1]).index_add_(0, ids, hidden[:len(ids)])
    counts = torch.zeros(n_words + 1).index_add_(0, ids, torch.ones(len(ids)))
    return sums[:n_words] / counts[:n_words].clamp(min=1.0).unsqueeze(-1), counts[:n_words] > 0


def _word_loss(hidden_en, hidden_xx, rows, maps, temperature: float):
    """Word alignment within each pair: an aligned foreign word's vector must be nearer to its
    English word's than to the sentence's other English words, and vice versa (mean CE)."""
    import torch

    losses = []
    for k, (en_words, xx_words, links) in enumerate(rows):
        en = _word_vectors(hidden_en[k], maps[0][k], len(en_words))
        xx = _word_vectors(hidden_xx[k], maps[1][k], len(xx_words))
        if en is None or xx is None:
            continue
        links = [(i, j) for i, j in links if en[1][i] and xx[1][j]]
        if len(links) < 2:
            continue
        e = torch.nn.functional.normalize(en[0], dim=-1)
        x = torch.nn.functional.normalize(xx[0], dim=-1)
        sim = x @ e.T / temperature
        src = torch.tensor([j for _, j in links])
        tgt = torch.tensor([i for i, _ in links])
        valid_en, valid_xx = en[1], xx[1]
        losses.append(torch.nn.functional.cross_entropy(
            sim[src].masked_fill(~valid_en, -1e4), tgt))
        losses.append(torch.nn.functional.cross_entropy(
            sim.T[tgt].masked_fill(~valid_xx, -1e4), src))
    return torch.stack(losses).mean() if losses else None


def train_translation_ranking(encoder_dir: str | Path, pairs: Sequence[tuple[str, str]],
                              steps: int, layer: int, seed: int,
                              batch_size: int = DEFAULTS["batch_size"],
                              lr: float = DEFAULTS["lr"],
                              temperature: float = DEFAULTS["temperature"],
                              max_length: int = DEFAULTS["max_length"],
                              batching: str = DEFAULTS["batching"],
                              groups: Sequence[str] | None = None,
                              word_alignment: float = 0.0,
                              words: Sequence[tuple] | None = None) -> dict:
    """Train the encoder saved at `encoder_dir` for `steps` batches of (English, translation)
    `pairs` and save it back there; return a summary (steps, first/last mean loss, seconds).
    `groups` (one per pair, e.g. its language) bounds "similar" batches (see `_batches`).
    `word_alignment` > 0 adds that weight times `_word_loss` on `words` (per pair: English
    words, foreign words, (English index, foreign index) links), as in Cao et al. (2020)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    if steps < 1 or batch_size < 2:
        raise ValueError(f"translation ranking needs steps >= 1 and batch_size >= 2, got "
                         f"{steps}, {batch_size}")
    if batching not in BATCHING:
        raise ValueError(f"translation ranking: batching {batching!r} is not one of "
                         f"{list(BATCHING)}")
    if word_alignment and (words is None or len(words) != len(pairs)):
        raise ValueError("translation ranking: word_alignment needs the pairs' word alignments")
    if len(pairs) < batch_size:
        raise ValueError(f"translation ranking: {len(pairs)} parallel pairs, fewer than one "
                         f"batch of {batch_size}")
    torch.manual_seed(seed)
    rng = random.Random(seed)
    tokenizer = AutoTokenizer.from_pretrained(str(encoder_dir))
    model = AutoModel.from_pretrained(str(encoder_dir), use_safetensors=True)
    if not 0 <= layer <= model.config.num_hidden_layers:
        raise ValueError(f"translation ranking: layer {layer} out of range "
                         f"0..{model.config.num_hidden_layers}")
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    groups = list(groups) if groups is not None else [""] * len(pairs)
    queue: list[list[int]] = []
    losses: list[float] = []
    t0 = time.time()
    for step in range(steps):
        if not queue:
            queue = _batches(pairs, groups, batch_size, batching, rng)
        batch = queue.pop()
        rows = [pairs[i] for i in batch]
        enc = [tokenizer([r[k] for r in rows], truncation=True, max_length=max_length,
                         padding=True, return_tensors="pt",
                         return_offsets_mapping=bool(word_alignment)) for k in (0, 1)]
        offsets = [e.pop("offset_mapping", None) for e in enc]
        (a, hidden_a), (b, hidden_b) = (_pooled(model, dict(e), layer) for e in enc)
        logits = a @ b.T / temperature
        target = torch.arange(len(rows))
        loss = (torch.nn.functional.cross_entropy(logits, target)
                + torch.nn.functional.cross_entropy(logits.T, target)) / 2
        if word_alignment:
            wrows = [words[i] for i in batch]
            maps = [[_word_of_token(r[k], w[k], o.tolist())
                     for r, w, o in zip(rows, wrows, offsets[k], strict=True)] for k in (0, 1)]
            extra = _word_loss(hidden_a, hidden_b, wrows, maps, temperature)
            if extra is not None:
                loss = loss + word_alignment * extra
        if not torch.isfinite(loss):
            raise RuntimeError(f"translation ranking: non-finite loss at step {step + 1}")
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        if (step + 1) % 50 == 0 or step + 1 == steps:
            log.info("translation ranking step %d/%d loss %.4f elapsed %.0fs", step + 1, steps,
                     sum(losses[-50:]) / len(losses[-50:]), time.time() - t0)
    model.eval()
    model.save_pretrained(str(encoder_dir))
    window = min(50, len(losses))
    return {"steps": steps, "batch_size": batch_size, "lr": lr, "temperature": temperature,
            "batching": batching, "word_alignment": word_alignment,
            "layer": layer, "first_loss": sum(losses[:window]) / window,
            "last_loss": sum(losses[-window:]) / window, "seconds": round(time.time() - t0, 1)}

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
Deterministic for a seed on one thread; not resumable (it is a short phase).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger("xstilts")
DEFAULTS = {"batch_size": 32, "lr": 1.0e-4, "temperature": 0.05, "max_length": 64}


def _pooled(model, batch, layer: int):
    import torch

    out = model(**batch, output_hidden_states=True)
    hidden = out.hidden_states[layer]
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
    return torch.nn.functional.normalize(pooled, dim=-1)


def train_translation_ranking(encoder_dir: str | Path, pairs: Sequence[tuple[str, str]],
                              steps: int, layer: int, seed: int,
                              batch_size: int = DEFAULTS["batch_size"],
                              lr: float = DEFAULTS["lr"],
                              temperature: float = DEFAULTS["temperature"],
                              max_length: int = DEFAULTS["max_length"]) -> dict:
    """Train the encoder saved at `encoder_dir` for `steps` batches of (English, translation)
    `pairs` and save it back there; return a summary (steps, first/last mean loss, seconds)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    if steps < 1 or batch_size < 2:
        raise ValueError(f"translation ranking needs steps >= 1 and batch_size >= 2, got "
                         f"{steps}, {batch_size}")
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
    order: list[int] = []
    losses: list[float] = []
    t0 = time.time()
    for step in range(steps):
        if len(order) < batch_size:
            fresh = list(range(len(pairs)))
            rng.shuffle(fresh)
            order.extend(fresh)
        rows = [pairs[i] for i in order[:batch_size]]
        del order[:batch_size]
        enc = [tokenizer([r[k] for r in rows], truncation=True, max_length=max_length,
                         padding=True, return_tensors="pt") for k in (0, 1)]
        a, b = (_pooled(model, dict(e), layer) for e in enc)
        logits = a @ b.T / temperature
        target = torch.arange(len(rows))
        loss = (torch.nn.functional.cross_entropy(logits, target)
                + torch.nn.functional.cross_entropy(logits.T, target)) / 2
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
            "layer": layer, "first_loss": sum(losses[:window]) / window,
            "last_loss": sum(losses[-window:]) / window, "seconds": round(time.time() - t0, 1)}

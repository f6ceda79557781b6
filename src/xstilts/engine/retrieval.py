"""Zero-training sentence retrieval (XTREME's BUCC 2018 and Tatoeba) from an encoder checkpoint.

Follows google-research/xtreme `third_party/run_retrieval.py`, `evaluate_retrieval.py` and
`utils_retrieve.py` (itself from LASER's mine_bitexts):

- sentence vectors: one hidden layer, mean-pooled over every non-pad token (<s> and </s>
  included, XTREME's default `pool_skip_special_token=False`), inputs truncated to `max_length`
  sub-words including the special tokens;
- layer: an index into HF `hidden_states` (0 = embeddings, L = last layer). The default is
  `default_layer(L) = min(L // 2 + 2, L)`: XTREME's `run_tatoeba.sh` uses `specific_layer` 7 of
  the last 12 outputs for mBERT and 13 of the last 24 for XLM-R (`all_layer_outputs[-L:]`), i.e.
  `hidden_states[8]` of 12 and `hidden_states[14]` of 24. (XTREME's `run_bucc2018.sh` does not pass
  `--num_layers`, so for 24-layer models it picks `hidden_states[20]`; we use the same default
  for both tasks.) Tiny models with L < 4 get the last layer. Per model, `retrieval_layer_for`
  resolves the layer: the model entry's `retrieval_layer`, else the global `retrieval.layer`,
  else a known-model default (xlm-roberta-large 14, bert-base-multilingual-cased 6), else
  `default_layer`;
- Tatoeba: cosine top-1 (XTREME's `similarity_search`: the source sentences are indexed and
  queried with the English target sentences, in the order of XTREME's sorted English file),
  accuracy in % (none when the gold is withheld, as in XTREME's download);
- BUCC: ratio margin (Artetxe & Schwenk 2019) over k=4 neighbours in both directions, "max"
  mining, sentences unified by text and repeated sentences dropped when mapping to ids, threshold
  optimised on dev gold, F1 in % (on test when its gold is given, else on dev).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from xstilts.data.schema import DataError
from xstilts.engine.device import (
    Precision,
    autocast,
    enable_tf32,
    resolve_device,
    resolve_precision,
)
from xstilts.grid.layers import default_layer
from xstilts.metrics.retrieval import bucc_scores

Pooling = Literal["mean", "cls", "max"]
POOLINGS: tuple[str, ...] = ("mean", "cls", "max")
# Sentences per batch and padded tokens per batch on an accelerator (length-sorted batches; the
# token budget keeps long batches from running out of memory, short ones fill the device).
ACCELERATOR_BATCH_SIZE = 256
ACCELERATOR_MAX_TOKENS = 65_536
NEIGHBOURHOOD = 4
Candidate = tuple[str, str, float]


# --------------------------------------------------------------------------- embeddings


@dataclass
class Encoder:
    """A loaded encoder, its tokenizer, the device it sits on and its inference precision."""

    model: Any
    tokenizer: Any
    name: str
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    precision: Precision = "fp32"

    @property
    def num_layers(self) -> int:
        return int(self.model.config.num_hidden_layers)

    @property
    def max_positions(self) -> int | None:
        """Longest input the position embeddings allow (RoBERTa-type models offset by pad+1)."""
        config = self.model.config
        limit = getattr(config, "max_position_embeddings", None)
        if limit is None:
            return None
        if "roberta" in str(getattr(config, "model_type", "")):
            limit -= int(config.pad_token_id or 0) + 1
        return int(limit)


def load_retrieval_encoder(model_dir_or_name: str | Path | Encoder,
                 device: str | torch.device | None = None,
                 precision: str | None = None) -> Encoder:
    """Load AutoModel + AutoTokenizer (safetensors only, no remote code) in eval mode, on
    `device` (`resolve_device`: default the job's accelerator, else the CPU) with inference
    `precision` (`resolve_precision`). An `Encoder` is returned as it is, unless a different
    device or precision is asked for (then a copy on that device)."""
    if isinstance(model_dir_or_name, Encoder):
        enc = model_dir_or_name
        if device is None and precision is None:
            return enc
        dev = resolve_device(device) if device is not None else enc.device
        prec = resolve_precision(dev, precision) if precision is not None or dev != enc.device \
            else enc.precision
        return Encoder(enc.model.to(dev), enc.tokenizer, enc.name, dev, prec)
    from transformers import AutoTokenizer

    from xstilts.engine.modeling import load_encoder
    from xstilts.grid.config import ConfigError, model_path_problem

    name = str(model_dir_or_name)
    if model_path_problem(name):
        raise ConfigError(f"encoder: {model_path_problem(name)}")
    dev = resolve_device(device)
    if dev.type == "cuda":
        enable_tf32()
    tokenizer = AutoTokenizer.from_pretrained(name, trust_remote_code=False)
    model = load_encoder(name)
    model.to(dev)
    model.eval()
    if tokenizer.pad_token_id is None:
        raise ValueError(f"encoder '{name}': tokenizer has no pad token")
    return Encoder(model=model, tokenizer=tokenizer, name=name, device=dev,
                   precision=resolve_precision(dev, precision))


@contextlib.contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    if threads is None:
        yield
        return
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _layer_list(model: Any) -> torch.nn.ModuleList:
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    if not isinstance(layers, torch.nn.ModuleList) or not hasattr(model, "embeddings"):
        raise ValueError(f"encoder {type(model).__name__}: expected BERT/XLM-R modules "
                         "(embeddings, encoder.layer)")
    return layers


@contextlib.contextmanager
def truncated(model: Any, num_layers: int) -> Iterator[int]:
    """Run only the first `num_layers` transformer layers of a BERT/XLM-R `model` inside the
    block (its `encoder.layer` list is cut, and restored afterwards); yields that number.
    Layers above the one retrieval reads are never computed."""
    layers = _layer_list(model)
    keep = max(0, min(num_layers, len(layers)))
    model.encoder.layer = torch.nn.ModuleList(list(layers)[:keep])
    try:
        yield keep
    finally:
        model.encoder.layer = layers


def hidden_states(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                  upto: int, keep: Sequence[int] | None = None) -> list[torch.Tensor | None]:
    """`hidden_states[0..upto]` as HF numbers them (0 = embeddings, i = output of layer i),
    computing only layers 1..upto; with `keep`, the other entries are None (not held in
    memory). Read by forward hooks on the embeddings and the layers that run, not through
    `output_hidden_states` (whose hooks transformers installs once, on the layers present at
    the first call)."""
    states: list[torch.Tensor | None] = []
    wanted = None if keep is None else set(keep)

    def record(module: Any, args: Any, output: Any) -> None:
        keep_it = wanted is None or len(states) in wanted
        states.append((output[0] if isinstance(output, tuple) else output) if keep_it else None)

    with truncated(model, upto) as depth:
        modules = [model.embeddings, *model.encoder.layer]
        hooks = [m.register_forward_hook(record) for m in modules]
        try:
            model(input_ids=input_ids, attention_mask=attention_mask)
        finally:
            for hook in hooks:
                hook.remove()
    if len(states) != depth + 1:
        raise RuntimeError(f"expected {depth + 1} hidden states, recorded {len(states)}")
    return states


def _pool(hidden: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """(B, T, D) hidden states, (B, T) 0/1 mask -> (B, D)."""
    if pooling == "cls":
        return hidden[:, 0]
    m = mask.unsqueeze(-1).to(hidden.dtype)
    if pooling == "mean":
        return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
    return hidden.masked_fill(m == 0, float("-inf")).max(dim=1).values


def length_batches(lengths: Sequence[int], batch_size: int,
                   max_tokens: int | None = None) -> list[list[int]]:
    """Row indices in batches of similar length: longest first (a batch that runs out of
    memory does so at once), at most `batch_size` rows and, with `max_tokens`, at most that
    many padded tokens (rows x longest row) per batch; a single longer row is a batch alone."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    for i in order:
        if batches:
            rows = batches[-1]
            width = lengths[rows[0]]  # the longest row comes first
            if len(rows) < batch_size and (max_tokens is None
                                           or (len(rows) + 1) * width <= max_tokens):
                rows.append(i)
                continue
        batches.append([i])
    return batches


def embed_all_layers(
    texts: Sequence[str],
    model_dir_or_name: str | Path | Encoder,
    pooling: Pooling = "mean",
    max_length: int = 512,
    batch_size: int | None = None,
    threads: int | None = None,
    layers: Sequence[int] | None = None,
    max_tokens: int | None = None,
) -> np.ndarray:
    """Pooled sentence vectors of every `hidden_states` entry: array (num_layers + 1, n, dim).

    With `layers`, only those `hidden_states` indices are kept (in that order), and the model
    stops at the highest of them (`hidden_states`). The model runs on the encoder's device with
    its precision (bf16 autocast on a GPU), on batches of similar length (`length_batches`:
    `batch_size` rows, default 32 on the CPU and `ACCELERATOR_BATCH_SIZE` on an accelerator;
    `max_tokens` padded tokens, default none on the CPU and `ACCELERATOR_MAX_TOKENS` on an
    accelerator); vectors are pooled in fp32 and the output keeps input order. Inputs are
    truncated to `max_length` sub-words (specials included), capped at what the model's
    position embeddings allow.
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got '{pooling}'")
    enc = load_retrieval_encoder(model_dir_or_name)
    accelerator = enc.device.type != "cpu"
    if batch_size is None:
        batch_size = ACCELERATOR_BATCH_SIZE if accelerator else 32
    if max_tokens is None and accelerator:
        max_tokens = ACCELERATOR_MAX_TOKENS
    if batch_size < 1 or max_length < 2:
        raise ValueError(f"need batch_size >= 1 and max_length >= 2 (got {batch_size}, "
                         f"{max_length})")
    n_states = enc.num_layers + 1
    keep = list(range(n_states)) if layers is None else [int(i) for i in layers]
    bad = [i for i in keep if not 0 <= i < n_states]
    if bad:
        raise ValueError(f"encoder '{enc.name}': layer(s) {bad} out of range 0..{n_states - 1} "
                         "(0 = embeddings)")
    texts = [str(t) for t in texts]
    dim = int(enc.model.config.hidden_size)
    out = np.zeros((len(keep), len(texts), dim), dtype=np.float32)
    if not texts or not keep:
        return out
    if enc.max_positions is not None:
        max_length = min(max_length, enc.max_positions)
    ids = enc.tokenizer(texts, truncation=True, max_length=max_length,
                        add_special_tokens=True)["input_ids"]
    pad = int(enc.tokenizer.pad_token_id)
    with _torch_threads(threads), torch.inference_mode():
        for rows in length_batches([len(x) for x in ids], batch_size, max_tokens):
            width = max(len(ids[i]) for i in rows)
            input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for r, i in enumerate(rows):
                input_ids[r, :len(ids[i])] = torch.tensor(ids[i], dtype=torch.long)
                mask[r, :len(ids[i])] = 1
            input_ids = input_ids.to(enc.device, non_blocking=True)
            mask = mask.to(enc.device, non_blocking=True)
            with autocast(enc.device, enc.precision):
                hidden = hidden_states(enc.model, input_ids, mask, max(keep), keep)
            pooled = torch.stack([_pool(hidden[layer].float(), mask, pooling) for layer in keep])
            out[:, rows] = pooled.cpu().numpy()
    return out


def embed(
    texts: Sequence[str],
    model_dir_or_name: str | Path | Encoder,
    layer: int | None = None,
    pooling: Pooling = "mean",
    max_length: int = 512,
    batch_size: int | None = None,
    threads: int | None = None,
    max_tokens: int | None = None,
) -> np.ndarray:
    """Pooled sentence vectors (n, dim) of `hidden_states[layer]` (default `default_layer`)."""
    enc = load_retrieval_encoder(model_dir_or_name)
    layer = default_layer(enc.num_layers) if layer is None else layer
    return embed_all_layers(texts, enc, pooling, max_length, batch_size, threads, [layer],
                            max_tokens)[0]


# --------------------------------------------------------------------------- nearest neighbours


def normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (float32); all-zero rows stay zero."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"embeddings must be 2-D (n, dim), got shape {x.shape}")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def knn(
    queries: np.ndarray, database: np.ndarray, k: int, chunk_size: int = 1024,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-`k` inner products: (sims (nq, k) descending, indices (nq, k)).

    Computed in blocks of `chunk_size` query rows, so memory is chunk_size x len(database).
    Ties go to the lower database index.
    """
    if queries.shape[1] != database.shape[1]:
        raise ValueError(f"dimension mismatch: {queries.shape} vs {database.shape}")
    m = database.shape[0]
    if not 1 <= k <= m:
        raise ValueError(f"k must be in 1..{m} (database size), got {k}")
    sims = np.empty((queries.shape[0], k), dtype=np.float32)
    inds = np.empty((queries.shape[0], k), dtype=np.int64)
    for start in range(0, queries.shape[0], max(1, chunk_size)):
        block = queries[start:start + chunk_size] @ database.T
        if k < m:
            part = np.argpartition(-block, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(m), block.shape)
        part_sims = np.take_along_axis(block, part, axis=1)
        order = np.lexsort((part, -part_sims), axis=1)
        inds[start:start + len(block)] = np.take_along_axis(part, order, axis=1)
        sims[start:start + len(block)] = np.take_along_axis(part_sims, order, axis=1)
    return sims, inds


def tatoeba_predict(src_emb: np.ndarray, tgt_emb: np.ndarray, chunk_size: int = 1024
                    ) -> list[int]:
    """XTREME's `similarity_search(x=src, y=tgt)`: for each target (English) sentence, the
    index of the nearest source sentence by cosine."""
    x, y = normalize(src_emb), normalize(tgt_emb)
    if len(x) == 0 or len(y) == 0:
        raise ValueError("Tatoeba: no sentences")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"Tatoeba: dimension mismatch {x.shape} vs {y.shape}")
    return [int(p) for p in knn(y, x, 1, chunk_size)[1][:, 0]]


def tatoeba_accuracy(
    src_emb: np.ndarray,
    tgt_emb: np.ndarray,
    query: Literal["target", "source"] = "target",
    chunk_size: int = 1024,
    gold: Sequence[int] | None = None,
) -> tuple[float, list[int]]:
    """Top-1 cosine retrieval accuracy (%) and the predicted index per query.

    `query="target"` is XTREME's `similarity_search(x=src, y=tgt)`: for each target sentence,
    the index of the nearest source sentence. `gold[q]` is the correct index for query q
    (default: row i of source and target are translations).
    """
    x, y = normalize(src_emb), normalize(tgt_emb)
    if x.shape != y.shape:
        raise ValueError(f"Tatoeba needs aligned source/target rows, got {x.shape} vs {y.shape}")
    if query not in ("target", "source"):
        raise ValueError(f"query must be 'target' or 'source', got '{query}'")
    pred = tatoeba_predict(x, y, chunk_size) if query == "target" else \
        tatoeba_predict(y, x, chunk_size)
    truth = np.arange(len(pred)) if gold is None else np.asarray(gold)
    if truth.shape != (len(pred),):
        raise ValueError(f"Tatoeba: {len(truth)} gold indices for {len(pred)} queries")
    return 100.0 * float(np.mean(np.asarray(pred) == truth)), pred


# --------------------------------------------------------------------------- BUCC mining


def margin_scores(
    x: np.ndarray, y: np.ndarray, k: int = NEIGHBOURHOOD, chunk_size: int = 1024,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ratio-margin scores of each side's k nearest neighbours in the other side.

    score(x_i, y_j) = cos(x_i, y_j) / ((fwd_mean_i + bwd_mean_j) / 2), with fwd_mean_i the mean
    cosine of x_i's k nearest y and bwd_mean_j that of y_j's k nearest x (k capped at the other
    side's size). Returns (fwd_ind (n, k), fwd_scores, bwd_ind (m, k), bwd_scores).
    """
    x, y = normalize(x), normalize(y)
    if len(x) == 0 or len(y) == 0:
        raise ValueError(f"margin scoring needs non-empty sides, got {len(x)} and {len(y)}")
    fwd_sim, fwd_ind = knn(x, y, min(len(y), k), chunk_size)
    bwd_sim, bwd_ind = knn(y, x, min(len(x), k), chunk_size)
    fwd_sim, bwd_sim = fwd_sim.astype(np.float64), bwd_sim.astype(np.float64)
    fwd_mean, bwd_mean = fwd_sim.mean(axis=1), bwd_sim.mean(axis=1)
    fwd_scores = fwd_sim / ((fwd_mean[:, None] + bwd_mean[fwd_ind]) / 2)
    bwd_scores = bwd_sim / ((bwd_mean[:, None] + fwd_mean[bwd_ind]) / 2)
    return fwd_ind, fwd_scores, bwd_ind, bwd_scores


def mine_max(
    x: np.ndarray, y: np.ndarray, k: int = NEIGHBOURHOOD, threshold: float = 0.0,
    chunk_size: int = 1024,
) -> list[tuple[int, int, float]]:
    """LASER/XTREME "max" mining: each side's best margin match, greedily made one-to-one.

    Forward and backward best pairs are visited by descending score; a pair is kept if neither
    sentence was used by a better pair and its score exceeds `threshold`.
    """
    fwd_ind, fwd_scores, bwd_ind, bwd_scores = margin_scores(x, y, k, chunk_size)
    n, m = len(fwd_ind), len(bwd_ind)
    fwd_best = fwd_ind[np.arange(n), fwd_scores.argmax(axis=1)]
    bwd_best = bwd_ind[np.arange(m), bwd_scores.argmax(axis=1)]
    src = np.concatenate((np.arange(n), bwd_best))
    tgt = np.concatenate((fwd_best, np.arange(m)))
    scores = np.concatenate((fwd_scores.max(axis=1), bwd_scores.max(axis=1)))
    seen_src: set[int] = set()
    seen_tgt: set[int] = set()
    pairs: list[tuple[int, int, float]] = []
    for i in np.argsort(-scores, kind="stable"):
        s, t = int(src[i]), int(tgt[i])
        if s in seen_src or t in seen_tgt:
            continue
        seen_src.add(s)
        seen_tgt.add(t)
        if scores[i] > threshold:
            pairs.append((s, t, float(scores[i])))
    return pairs


def _unify(ids: Sequence[str], texts: Sequence[str]) -> tuple[list[int], list[str | None]]:
    """First row of each distinct text, and its id (None if the text occurs more than once)."""
    first: dict[str, int] = {}
    count: dict[str, int] = {}
    for row, text in enumerate(texts):
        key = text.strip()
        first.setdefault(key, row)
        count[key] = count.get(key, 0) + 1
    rows = list(first.values())
    unique_ids = [ids[r] if count[texts[r].strip()] == 1 else None for r in rows]
    return rows, unique_ids


def bucc_candidates(
    src_ids: Sequence[str], src_texts: Sequence[str], src_emb: np.ndarray,
    tgt_ids: Sequence[str], tgt_texts: Sequence[str], tgt_emb: np.ndarray,
    k: int = NEIGHBOURHOOD, chunk_size: int = 1024,
) -> list[Candidate]:
    """Candidate pairs (source_id, target_id, margin score), best first, as XTREME's pipeline.

    Sentences are unified by text before mining (first occurrence's vector); mined pairs whose
    source or target text occurs more than once in its file are dropped (XTREME's read_sent2id).
    """
    for side, ids, texts, emb in (("source", src_ids, src_texts, src_emb),
                                  ("target", tgt_ids, tgt_texts, tgt_emb)):
        if not len(ids) == len(texts) == len(emb):
            raise ValueError(f"BUCC {side}: {len(ids)} ids, {len(texts)} texts, {len(emb)} vectors")
    src_rows, src_uid = _unify(src_ids, src_texts)
    tgt_rows, tgt_uid = _unify(tgt_ids, tgt_texts)
    mined = mine_max(np.asarray(src_emb)[src_rows], np.asarray(tgt_emb)[tgt_rows], k,
                     chunk_size=chunk_size)
    best: dict[tuple[str, str], float] = {}
    for s, t, score in mined:
        sid, tid = src_uid[s], tgt_uid[t]
        if sid is not None and tid is not None:
            best[(sid, tid)] = max(score, best.get((sid, tid), score))
    return sorted(((s, t, v) for (s, t), v in best.items()), key=lambda c: -c[2])


def _gold_set(gold: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(str(s), str(t)) for s, t in gold}


def bucc_optimize_threshold(
    candidates: Sequence[Candidate], gold: Iterable[tuple[str, str]],
) -> float:
    """Score threshold with the best F1 against `gold` (XTREME's bucc_optimize).

    Candidates are cut after each prefix by descending score; the threshold is the midpoint
    between the last kept and the first dropped score (the last score if all are kept). Unlike
    XTREME, only cuts between distinct scores are considered, so the F1 found is the F1 that
    `bucc_f1(..., threshold)` reports. Returns 0.0 (keep everything) if no candidate is correct.
    """
    gold_set = _gold_set(gold)
    if not gold_set:
        raise ValueError("BUCC threshold: empty gold set")
    items = sorted(candidates, key=lambda c: -c[2])
    threshold, best_f1, ncorrect = 0.0, 0.0, 0
    for i, (s, t, score) in enumerate(items):
        ncorrect += (str(s), str(t)) in gold_set
        last = i + 1 == len(items)
        if not last and items[i + 1][2] == score:
            continue
        if ncorrect > 0:
            precision, recall = ncorrect / (i + 1), ncorrect / len(gold_set)
            f1 = 2 * precision * recall / (precision + recall)
            if f1 > best_f1:
                best_f1 = f1
                threshold = score if last else (score + items[i + 1][2]) / 2
    return float(threshold)


def bucc_extract(candidates: Sequence[Candidate], threshold: float) -> list[tuple[str, str]]:
    """Pairs with score >= threshold, in candidate order."""
    return [(s, t) for s, t, score in candidates if score >= threshold]


def bucc_f1(
    candidates: Sequence[Candidate], gold: Iterable[tuple[str, str]], threshold: float,
) -> dict[str, float]:
    """Precision, recall and F1 (in %) of the pairs scoring >= threshold (XTREME's bucc_f1)."""
    gold_set = _gold_set(gold)
    if not gold_set:
        raise ValueError("BUCC F1: empty gold set")
    return bucc_scores(bucc_extract(candidates, threshold), gold_set)


# --------------------------------------------------------------------------- whole task


@dataclass
class _Side:
    ids: list[str]
    texts: list[str]


@dataclass
class _Split:
    source: _Side
    target: _Side
    gold: list[tuple[str, str]]


def _column(ds: Any, name: str) -> list[Any]:
    """One column as a list, read in one go (iterating a Dataset column decodes row by row)."""
    if hasattr(ds, "select_columns"):
        return ds.select_columns([name])[:][name]
    return list(ds[name])


def _read_split(ds: Any, where: str) -> _Split:
    for key in ("source", "target", "gold"):
        if key not in ds:
            raise DataError(f"{where}: retrieval DatasetDict has no '{key}' (has {list(ds)})")
    sides = {}
    for key in ("source", "target"):
        cols = set(ds[key].column_names)
        if not {"id", "text"} <= cols:
            raise DataError(f"{where}/{key}: needs columns id, text; has {sorted(cols)}")
        ids = [str(v) for v in _column(ds[key], "id")]
        seen: set[str] = set()
        for row, i in enumerate(ids):
            if i in seen:
                raise DataError(f"{where}/{key}: duplicate id '{i}' at row {row}")
            seen.add(i)
        sides[key] = _Side(ids, [str(v) for v in _column(ds[key], "text")])
    cols = set(ds["gold"].column_names)
    if not {"source_id", "target_id"} <= cols:
        raise DataError(f"{where}/gold: needs columns source_id, target_id; has {sorted(cols)}")
    gold = list(zip((str(v) for v in _column(ds["gold"], "source_id")),
                    (str(v) for v in _column(ds["gold"], "target_id")), strict=True))
    src_ids, tgt_ids = set(sides["source"].ids), set(sides["target"].ids)
    for row, (s, t) in enumerate(gold):
        if s not in src_ids or t not in tgt_ids:
            raise DataError(f"{where}/gold: row {row} pairs unknown id(s) ('{s}', '{t}')")
    return _Split(sides["source"], sides["target"], gold)


def _task_metric(task_name: str, metric: str | None) -> str:
    if metric is None:
        from xstilts.tasks.registry import get_task

        metric = get_task(task_name).metric
    if metric not in ("bucc_f1", "retrieval_accuracy"):
        raise ValueError(f"task '{task_name}': metric '{metric}' is not a retrieval metric "
                         "(bucc_f1 | retrieval_accuracy)")
    return metric


def _pick(splits: Any, names: tuple[str, ...], where: str) -> Any:
    for name in names:
        if name in splits:
            return splits[name]
    raise DataError(f"{where}: missing split {' or '.join(repr(n) for n in names)} "
                    f"(has {list(splits)})")


def _tatoeba_lang(src: np.ndarray, tgt: np.ndarray, gold: list[int] | None, chunk_size: int
                  ) -> tuple[dict, list[int]]:
    """Metrics ({} of accuracy when gold is withheld) and predictions in the rows' order."""
    pred = tatoeba_predict(src, tgt, chunk_size)
    metrics: dict[str, Any] = {"num_sentences": len(pred)}
    if gold is not None:
        metrics["accuracy"] = 100.0 * float(np.mean(np.asarray(pred) == np.asarray(gold)))
    return metrics, pred


def _bucc_lang(dev: _Split, test: _Split, embs: dict[str, np.ndarray], report: str,
               chunk_size: int) -> tuple[dict, list[list[str]]]:
    """Metrics of the `report` split ("test": at the dev-optimised threshold; "validation":
    dev F1 at that same threshold, optimised on it) and the test pairs mined at it."""
    cands = {}
    for name, split in (("dev", dev), ("test", test)):
        cands[name] = bucc_candidates(split.source.ids, split.source.texts, embs[f"{name}_src"],
                                      split.target.ids, split.target.texts, embs[f"{name}_tgt"],
                                      chunk_size=chunk_size)
    threshold = bucc_optimize_threshold(cands["dev"], dev.gold)
    dev_scores = bucc_f1(cands["dev"], dev.gold, threshold)
    metrics: dict[str, Any] = {"threshold": threshold,
                               **{f"dev_oracle_{k}": v for k, v in dev_scores.items()},
                               "num_candidates": len(cands["test"])}
    if report == "test":
        metrics.update(bucc_f1(cands["test"], test.gold, threshold))
        oracle = bucc_optimize_threshold(cands["test"], test.gold)
        metrics["test_oracle_f1"] = bucc_f1(cands["test"], test.gold, oracle)["f1"]
    else:
        metrics.update(dev_scores)
    pairs = [[s, t] for s, t in bucc_extract(cands["test"], threshold)]
    return metrics, pairs


def bucc_report_split(splits_by_lang: Mapping[str, Any]) -> str:
    """"test" when every language's test split has gold, else "validation" (the official
    download deletes BUCC's test gold: dev F1 is reported instead, for every language)."""
    for splits in splits_by_lang.values():
        test = splits.get("test") if isinstance(splits, Mapping) else None
        if test is None or "gold" not in test or len(test["gold"]) == 0:
            return "validation"
    return "test"


def run_retrieval(
    task_name: str,
    datasets_by_lang: Mapping[str, Any],
    encoder: str | Path | Encoder,
    layer: int | None = None,
    pooling: Pooling = "mean",
    max_length: int = 512,
    threads: int | None = None,
    sweep_layers: bool = False,
    batch_size: int | None = None,
    metric: str | None = None,
    chunk_size: int = 1024,
    max_tokens: int | None = None,
    report: Literal["auto", "test", "validation"] = "auto",
) -> dict[str, Any]:
    """Evaluate a retrieval task straight from an encoder, per language.

    `datasets_by_lang[lang]`: for Tatoeba (metric retrieval_accuracy) a retrieval DatasetDict
    (or {"test": DatasetDict}); for BUCC (metric bucc_f1) {"validation"|"dev": DatasetDict,
    "test": DatasetDict}. `metric` defaults to the registry's metric for `task_name`.
    The encoder runs on its device and precision (`load_retrieval_encoder`); `batch_size` and
    `max_tokens` as in `embed_all_layers`.

    Returns {"task", "metric", "layer", "pooling", "num_layers", "split", "metrics": {lang:
    {...}}, "predictions": {lang: ...}, "withheld": [lang, ...]} and, with `sweep_layers`,
    "layers": {hidden_states index: {lang: metrics}} for every layer 0..L.

    Tatoeba: the English (target) sentences are put in XTREME's order
    (`xstilts.metrics.retrieval.tatoeba_xtreme_order`) and each retrieves a source sentence;
    predictions: the retrieved source row per English sentence in that order (XTREME's
    submission); metrics: accuracy (%) unless gold is withheld (languages listed in
    "withheld", metrics without accuracy). BUCC: "split" is `report` ("auto":
    `bucc_report_split`; "test" with a test gold missing is a DataError); metrics:
    precision/recall/f1 (%) of that split at the dev-optimised threshold (test_oracle_f1 with
    test gold), dev_oracle_{precision,recall,f1}, threshold; predictions: [source_id,
    target_id] pairs mined from test at the dev threshold.
    """
    from xstilts.metrics.retrieval import tatoeba_xtreme_order

    metric = _task_metric(task_name, metric)
    if not datasets_by_lang:
        raise DataError(f"task '{task_name}': no languages given")
    enc = load_retrieval_encoder(encoder)
    chosen = default_layer(enc.num_layers) if layer is None else int(layer)
    if not 0 <= chosen <= enc.num_layers:
        raise ValueError(f"layer {chosen} out of range 0..{enc.num_layers} (0 = embeddings)")
    keep = list(range(enc.num_layers + 1)) if sweep_layers else [chosen]

    def vectors(texts: list[str]) -> np.ndarray:
        return embed_all_layers(texts, enc, pooling, max_length, batch_size, threads, keep,
                                max_tokens)

    per_layer: dict[int, dict[str, Any]] = {li: {} for li in keep}
    predictions: dict[str, Any] = {}
    withheld: list[str] = []
    if report not in ("auto", "test", "validation"):
        raise ValueError(f"report must be auto, test or validation, got {report!r}")
    if metric == "retrieval_accuracy":
        report = "test"
    elif report == "auto":
        report = bucc_report_split(datasets_by_lang)
    elif report == "test" and bucc_report_split(datasets_by_lang) != "test":
        raise DataError(f"task '{task_name}': test gold withheld (download_data.sh deletes "
                        "bucc2018/*test.gold); score dev or give <benchmark.gold_path>/bucc2018/"
                        "<l>-en.test.gold")
    for lang, splits in datasets_by_lang.items():
        where = f"task '{task_name}' language '{lang}'"
        if metric == "retrieval_accuracy":
            ds = splits if "source" in splits else _pick(splits, ("test",), where)
            split = _read_split(ds, where)
            order, gold = tatoeba_xtreme_order(split.source.ids, split.target.ids,
                                               split.target.texts, split.gold, where)
            if gold is None:
                withheld.append(lang)
            src = vectors(split.source.texts)
            tgt = vectors([split.target.texts[j] for j in order])
            for j, li in enumerate(keep):
                per_layer[li][lang], pred = _tatoeba_lang(src[j], tgt[j], gold, chunk_size)
                if li == chosen:
                    predictions[lang] = pred
        else:
            dev = _read_split(_pick(splits, ("validation", "dev"), where), f"{where} dev")
            test = _read_split(_pick(splits, ("test",), where), f"{where} test")
            if not dev.gold:
                raise DataError(f"{where} dev/gold: empty; the BUCC threshold needs dev gold")
            embs = {"dev_src": vectors(dev.source.texts), "dev_tgt": vectors(dev.target.texts),
                    "test_src": vectors(test.source.texts),
                    "test_tgt": vectors(test.target.texts)}
            for j, li in enumerate(keep):
                per_layer[li][lang], pairs = _bucc_lang(
                    dev, test, {k: v[j] for k, v in embs.items()}, report, chunk_size)
                if li == chosen:
                    predictions[lang] = pairs
    result: dict[str, Any] = {
        "task": task_name, "metric": metric, "layer": chosen, "pooling": pooling,
        "num_layers": enc.num_layers, "split": report, "metrics": per_layer[chosen],
        "predictions": predictions, "withheld": withheld,
    }
    if sweep_layers:
        result["layers"] = per_layer
    return result

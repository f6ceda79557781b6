"""Cross-lingual alignment of an encoder, per layer, without any fine-tuning.

Parallel sentences (Tatoeba-style or BUCC gold pairs with English) are embedded by mean-pooling
every layer (`hidden_states` 0 = embeddings .. L). Per layer and language:

- `acc`: retrieval accuracy@1 (%) of the translation by cosine similarity, mean of both
  directions (lang -> en, en -> lang);
- `acc_centered`: the same after per-language mean-centering (which removes the
  language-identity offset that otherwise dominates small models' sentence vectors);
- `cka`: linear CKA (Kornblith et al. 2019) of the two sides' representations;
- `cosine`: mean cosine similarity of parallel pairs after per-language mean-centering.

`alignment_metrics` also reports these with the non-English side perturbed (a callable
`perturb(texts, ids, lang) -> list[str]`, or None when it does not apply to `lang`), and
`alignment_change` the difference between two encoders (e.g. base model -> intermediate
checkpoint). Used to compare pretraining recipes and to track what intermediate training does
to alignment.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

METRICS: tuple[str, ...] = ("acc", "acc_centered", "cka", "cosine")
CLEAN = "clean"
Perturb = Callable[[list[str], list[str], str], "list[str] | None"]


class ParallelPairs(NamedTuple):
    """Row i of `texts` (language L) translates row i of `english`; `ids` name the L side."""

    texts: list[str]
    english: list[str]
    ids: list[str]


# --------------------------------------------------------------------------- pure metrics


def _as_2d(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"{name}: expected a non-empty (n, dim) array, got shape {x.shape}")
    return x


def _pair_check(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = _as_2d(x, "x"), _as_2d(y, "y")
    if len(x) != len(y):
        raise ValueError(f"parallel rows differ: {len(x)} vs {len(y)}")
    return x, y


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def center(x: np.ndarray) -> np.ndarray:
    """Rows minus their mean (per-language mean-centering)."""
    x = np.asarray(x, dtype=np.float64)
    return x - x.mean(axis=0, keepdims=True)


def _accuracy(src: np.ndarray, tgt: np.ndarray) -> float:
    """Top-1 retrieval accuracy (%) of row i of `tgt` for row i of `src`, cosine similarity.

    Ties go to the lower index (np.argmax).
    """
    sims = _unit(np.asarray(src, dtype=np.float64)) @ _unit(np.asarray(tgt, dtype=np.float64)).T
    best = np.argmax(sims, axis=1)
    return float(np.mean(best == np.arange(len(sims))) * 100)


def retrieval_accuracy(x: np.ndarray, y: np.ndarray, centered: bool = False) -> float:
    """Accuracy@1 (%) of parallel rows by cosine, mean of both directions (x->y, y->x)."""
    x, y = _pair_check(x, y)
    if centered:
        x, y = center(x), center(y)
    return (_accuracy(x, y) + _accuracy(y, x)) / 2


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA (Kornblith et al. 2019, eq. 5) of (n, d1) and (n, d2) with centred features:
    ||Y'X||_F^2 / (||X'X||_F ||Y'Y||_F). NaN if a side has no variance."""
    x, y = _pair_check(x, y)
    x, y = center(x), center(y)
    if len(x) <= min(x.shape[1], y.shape[1]):  # Gram form: n x n products
        kx, ky = x @ x.T, y @ y.T
        hsic, nx, ny = float(np.sum(kx * ky)), np.linalg.norm(kx), np.linalg.norm(ky)
    else:
        hsic = float(np.linalg.norm(y.T @ x) ** 2)
        nx, ny = np.linalg.norm(x.T @ x), np.linalg.norm(y.T @ y)
    denom = float(nx * ny)
    if denom <= 1e-300:
        return math.nan
    return hsic / denom


def mean_parallel_cosine(x: np.ndarray, y: np.ndarray, centered: bool = True) -> float:
    """Mean cosine similarity of row i of x and row i of y (each side mean-centred first)."""
    x, y = _pair_check(x, y)
    if centered:
        x, y = center(x), center(y)
    return float(np.mean(np.sum(_unit(x) * _unit(y), axis=1)))


def layer_metrics(src: np.ndarray, tgt: np.ndarray) -> dict[str, list[float]]:
    """Every metric per layer of (layers, n, dim) arrays of parallel sentence vectors."""
    if np.ndim(src) != 3 or np.shape(src)[:2] != np.shape(tgt)[:2]:
        raise ValueError(f"expected (layers, n, dim) arrays with equal layers and n, got "
                         f"{np.shape(src)} and {np.shape(tgt)}")
    out: dict[str, list[float]] = {m: [] for m in METRICS}
    for s, t in zip(src, tgt, strict=True):
        out["acc"].append(retrieval_accuracy(s, t))
        out["acc_centered"].append(retrieval_accuracy(s, t, centered=True))
        out["cka"].append(linear_cka(s, t))
        out["cosine"].append(mean_parallel_cosine(s, t))
    return out


def alignment_change(base: Mapping[str, Any], other: Mapping[str, Any]) -> dict[str, Any]:
    """`other - base` per language, condition, metric and layer, for two `alignment_metrics`
    results (or the "languages" of two stage outputs); only what both have is compared."""
    out: dict[str, Any] = {}
    for lang in sorted(set(base) & set(other)):
        b, o = base[lang], other[lang]
        conds = {CLEAN: (b[CLEAN], o[CLEAN])}
        for name in sorted(set(b.get("perturbed", {})) & set(o.get("perturbed", {}))):
            conds[name] = (b["perturbed"][name], o["perturbed"][name])
        entry: dict[str, Any] = {"perturbed": {}}
        for name, (bm, om) in conds.items():
            diff = {}
            for metric in sorted(set(bm) & set(om)):
                if len(bm[metric]) != len(om[metric]):
                    raise ValueError(f"language '{lang}' {name}/{metric}: {len(bm[metric])} vs "
                                     f"{len(om[metric])} layers")
                diff[metric] = [_difference(u, v)
                                for u, v in zip(bm[metric], om[metric], strict=True)]
            if name == CLEAN:
                entry[CLEAN] = diff
            else:
                entry["perturbed"][name] = diff
        out[lang] = entry
    return out


def _difference(u: float | None, v: float | None) -> float | None:
    """v - u; None if either is missing (None or NaN)."""
    if u is None or v is None or math.isnan(u) or math.isnan(v):
        return None
    return float(v) - float(u)


# --------------------------------------------------------------------------- with an encoder


def _pairs_of(value: Any, lang: str) -> ParallelPairs:
    if isinstance(value, ParallelPairs):
        pairs = value
    else:
        texts, english = value
        pairs = ParallelPairs(list(texts), list(english), [str(i) for i in range(len(texts))])
    if not len(pairs.texts) == len(pairs.english) == len(pairs.ids) or not pairs.texts:
        raise ValueError(f"alignment: language '{lang}' needs equally many (>0) texts, "
                         f"translations and ids")
    return pairs


def alignment_metrics(
    pairs: Mapping[str, ParallelPairs | tuple[Sequence[str], Sequence[str]]],
    encoder: Any,
    perturbations: Mapping[str, Perturb] | None = None,
    max_length: int = 128,
    batch_size: int | None = None,
    threads: int | None = 1,
    log: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """{lang: {"clean": {metric: [per layer]}, "perturbed": {name: {metric: [...]}}}}.

    English sides are embedded once per language; each perturbation re-embeds only the
    language-L side. A perturbation returning None (not applicable to the language) is left
    out for that language. The encoder runs on its device and precision
    (`load_retrieval_encoder`), in length-sorted batches (`batch_size` as in `embed_all_layers`).
    """
    from xstilts.engine.retrieval import embed_all_layers, load_retrieval_encoder

    enc = load_retrieval_encoder(encoder)

    def vectors(texts: Sequence[str]) -> np.ndarray:
        return embed_all_layers(list(texts), enc, max_length=max_length, batch_size=batch_size,
                                threads=threads)

    result: dict[str, dict[str, Any]] = {}
    for lang, value in pairs.items():
        p = _pairs_of(value, lang)
        tgt = vectors(p.english)
        entry: dict[str, Any] = {CLEAN: layer_metrics(vectors(p.texts), tgt), "perturbed": {}}
        for name, perturb in (perturbations or {}).items():
            noisy = perturb(list(p.texts), list(p.ids), lang)
            if noisy is None:
                if log:
                    log(f"alignment: perturbation '{name}' does not apply to '{lang}'")
                continue
            if len(noisy) != len(p.texts):
                raise ValueError(f"perturbation '{name}' returned {len(noisy)} texts for "
                                 f"{len(p.texts)} in language '{lang}'")
            entry["perturbed"][name] = layer_metrics(vectors(noisy), tgt)
        result[lang] = entry
    return result


def layer_alignment(pairs: Mapping[str, tuple[Sequence[str], Sequence[str]]], encoder: Any,
                    center: bool = True, max_length: int = 128, threads: int = 1
                    ) -> dict[str, list[float]]:
    """{lang: [accuracy@1 per hidden-state layer]} for `pairs` = {lang: (texts, english)}.

    Accuracy is the mean of both directions (lang -> en, en -> lang), after per-language
    mean-centering if `center`.
    """
    metric = "acc_centered" if center else "acc"
    res = alignment_metrics(pairs, encoder, max_length=max_length, threads=threads)
    return {lang: entry[CLEAN][metric] for lang, entry in res.items()}


# --------------------------------------------------------------------------- parallel pairs


def pairs_split(task: Any) -> str:
    """Split whose gold pairs are used: Tatoeba-style tasks "test", BUCC-style "validation"."""
    return "test" if task.metric == "retrieval_accuracy" else "validation"


def parallel_pairs(source: Mapping[str, Any], task: str = "tatoeba",
                   languages: Sequence[str] | None = None, limit: int | None = 200,
                   split: str | None = None, tasks: Mapping[str, Any] | None = None
                   ) -> dict[str, ParallelPairs]:
    """The first `limit` parallel pairs with English per language of a retrieval task.

    Tatoeba: source row i and target (English) row i of the test split. BUCC: the gold pairs
    of `split` (default "validation", whose gold is public), in gold order. `source` is a
    `load_split` source dict; languages default to the task's (every non-English language on
    mini-XTREME).
    """
    from xstilts.data.languages import languages_of
    from xstilts.data.load import load_split
    from xstilts.data.schema import DataError
    from xstilts.tasks.registry import get_task

    spec = get_task(task, dict(tasks or {}))
    if spec.format != "retrieval":
        raise ValueError(f"alignment pairs: task '{task}' is {spec.format}, not retrieval")
    split = split or pairs_split(spec)
    if languages is None:
        languages = [lang for lang in languages_of(spec, dict(source)) if lang != "en"]
    if limit is not None and limit < 1:
        raise ValueError(f"alignment pairs: limit must be >= 1, got {limit}")
    pairs: dict[str, ParallelPairs] = {}
    for lang in languages:
        ds = load_split(spec, split, lang, dict(source))
        src_text = dict(zip(ds["source"]["id"], ds["source"]["text"], strict=True))
        tgt_text = dict(zip(ds["target"]["id"], ds["target"]["text"], strict=True))
        gold = list(zip(ds["gold"]["source_id"], ds["gold"]["target_id"], strict=True))
        if not gold:
            raise DataError(f"alignment pairs: task '{task}' {split} '{lang}' has no gold pairs")
        gold = gold[:limit] if limit is not None else gold
        pairs[lang] = ParallelPairs([str(src_text[s]) for s, _ in gold],
                                    [str(tgt_text[t]) for _, t in gold],
                                    [str(s) for s, _ in gold])
    return pairs


def tatoeba_pairs(root: str | Path, languages: Sequence[str] | None = None, limit: int = 200
                  ) -> dict[str, tuple[list[str], list[str]]]:
    """(texts, english) pairs from a mini-XTREME folder's Tatoeba task (every non-English
    language by default)."""
    source = {"kind": "synthetic", "path": str(root), "ccg_path": None}
    pairs = parallel_pairs(source, "tatoeba", languages, limit)
    return {lang: (p.texts, p.english) for lang, p in pairs.items()}

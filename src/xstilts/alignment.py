"""Cross-lingual alignment of an encoder, per layer, without any fine-tuning.

Parallel sentences (Tatoeba-style pairs with English) are embedded by mean-pooling each layer;
alignment is retrieval accuracy@1 of the English translation by cosine similarity, in both
directions, after per-language mean-centering (which removes the language-identity offset that
otherwise dominates small models' sentence vectors). Used to compare pretraining recipes and to
track what intermediate training does to alignment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _accuracy(src: np.ndarray, tgt: np.ndarray) -> float:
    """Top-1 retrieval accuracy (%) of row i of `tgt` for row i of `src`, cosine similarity."""
    src = src / np.maximum(np.linalg.norm(src, axis=1, keepdims=True), 1e-12)
    tgt = tgt / np.maximum(np.linalg.norm(tgt, axis=1, keepdims=True), 1e-12)
    best = np.argmax(src @ tgt.T, axis=1)
    return float(np.mean(best == np.arange(len(src))) * 100)


def layer_alignment(pairs: Mapping[str, tuple[Sequence[str], Sequence[str]]], encoder: Any,
                    center: bool = True, max_length: int = 128, threads: int = 1
                    ) -> dict[str, list[float]]:
    """{lang: [accuracy@1 per hidden-state layer]} for `pairs` = {lang: (texts, english)}.

    Accuracy is the mean of both directions (lang -> en, en -> lang).
    """
    from xstilts.engine.retrieval import embed_all_layers, load_encoder

    enc = load_encoder(encoder)
    result: dict[str, list[float]] = {}
    for lang, (texts, english) in pairs.items():
        if len(texts) != len(english) or not texts:
            raise ValueError(f"alignment: language '{lang}' needs equally many (>0) pairs")
        src = embed_all_layers(list(texts), enc, max_length=max_length, threads=threads)
        tgt = embed_all_layers(list(english), enc, max_length=max_length, threads=threads)
        if center:
            src = src - src.mean(axis=1, keepdims=True)
            tgt = tgt - tgt.mean(axis=1, keepdims=True)
        result[lang] = [(_accuracy(s, t) + _accuracy(t, s)) / 2 for s, t in zip(src, tgt,
                                                                                   strict=True)]
    return result


def tatoeba_pairs(root: str | Path, languages: Sequence[str] | None = None, limit: int = 200
                  ) -> dict[str, tuple[list[str], list[str]]]:
    """Parallel pairs with English from a mini-XTREME (or xtreme_dir) folder's Tatoeba task."""
    from xstilts.data.languages import read_language_table
    from xstilts.data.load import load_split
    from xstilts.registry import get_task

    root = Path(root)
    source = {"kind": "synthetic", "path": str(root), "ccg_path": None}
    if languages is None:
        languages = [lang for lang in read_language_table(root / "languages.csv")["lang"]
                     if lang != "en"]
    task = get_task("tatoeba")
    pairs = {}
    for lang in languages:
        split = load_split(task, "test", lang, source)
        pairs[lang] = (list(split["source"]["text"][:limit]), list(split["target"]["text"][:limit]))
    return pairs

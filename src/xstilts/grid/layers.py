"""The hidden layer retrieval reads, per model: a fact of the config, used by the engine and cost.

`default_layer(L) = min(L // 2 + 2, L)` is XTREME's middle layer as a `hidden_states` index
(see `xstilts.engine.retrieval`); `retrieval_layer_for` resolves a model's layer from its config.
"""

from __future__ import annotations

from typing import Any


def default_layer(num_hidden_layers: int) -> int:
    """XTREME's middle layer as a `hidden_states` index: 8 of 12 (mBERT), 14 of 24 (XLM-R L)."""
    if num_hidden_layers < 1:
        raise ValueError(f"num_hidden_layers must be >= 1, got {num_hidden_layers}")
    return min(num_hidden_layers // 2 + 2, num_hidden_layers)


# `hidden_states` indices for known hub models: XLM-R large as in XTREME / the paper (14 of 24),
# mBERT at the middle of its 12 layers. Matched on the last component of the model's
# path or hub name, case-insensitively (so "google-bert/bert-base-multilingual-cased" matches).
KNOWN_RETRIEVAL_LAYERS: dict[str, int] = {
    "xlm-roberta-large": 14,
    "bert-base-multilingual-cased": 6,
}


def retrieval_layer_for(model_entry: dict[str, Any], num_layers: int,
                        configured: int | None) -> int:
    """The `hidden_states` index retrieval uses for a model (0 = embeddings, L = last layer).

    Precedence: the model entry's `retrieval_layer` > the global `retrieval.layer`
    (`configured`, None when unset) > the known-model table `KNOWN_RETRIEVAL_LAYERS` (by the
    entry's `path` for `init: path` models) > `default_layer(num_layers)`. The result is checked
    against 0..num_layers; an error names where the out-of-range value came from.
    """
    if num_layers < 1:
        raise ValueError(f"num_layers must be >= 1, got {num_layers}")
    entry = model_entry or {}
    name = str(entry.get("path") or "").rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
    candidates = (
        (entry.get("retrieval_layer"), "models.<model>.retrieval_layer"),
        (configured, "retrieval.layer"),
        (KNOWN_RETRIEVAL_LAYERS.get(name.lower()) if entry.get("init", "path") == "path"
         else None, f"the default for '{name}'"),
    )
    for value, where in candidates:
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where}: expected an integer layer, got {value!r}")
        if not 0 <= value <= num_layers:
            raise ValueError(f"{where}: layer {value} out of range 0..{num_layers} "
                             "(hidden_states index, 0 = embeddings)")
        return int(value)
    return default_layer(num_layers)

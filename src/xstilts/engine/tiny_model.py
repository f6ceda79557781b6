"""A randomly initialised XLM-R-architecture encoder (the workflow's "tiny" model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SIZE_KEYS: dict[str, str] = {
    "hidden": "hidden_size",
    "layers": "num_hidden_layers",
    "heads": "num_attention_heads",
    "intermediate": "intermediate_size",
    "max_position": "max_position_embeddings",
}


def encoder_config(size: dict[str, int], tokenizer: Any) -> Any:
    """`XLMRobertaConfig` for `size` (keys: hidden, layers, heads, intermediate, max_position)."""
    from transformers import XLMRobertaConfig

    unknown = set(size) - set(SIZE_KEYS)
    missing = set(SIZE_KEYS) - set(size)
    if unknown or missing:
        raise ValueError(f"model size: unknown keys {sorted(unknown)}, missing keys "
                         f"{sorted(missing)}; expected {sorted(SIZE_KEYS)}")
    kwargs = {SIZE_KEYS[k]: int(v) for k, v in size.items()}
    if kwargs["hidden_size"] % kwargs["num_attention_heads"]:
        raise ValueError(f"model size: hidden {kwargs['hidden_size']} is not a multiple of "
                         f"heads {kwargs['num_attention_heads']}")
    # XLM-R offsets positions by padding_idx + 1, so the table needs 2 extra rows.
    kwargs["max_position_embeddings"] += tokenizer.pad_token_id + 1
    return XLMRobertaConfig(
        vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        type_vocab_size=1, layer_norm_eps=1e-5,
        # no dropout on attention probabilities: on CPU, sampling that mask costs a quarter of
        # a tiny model's step; hidden dropout (0.1) stays
        attention_probs_dropout_prob=0.0, **kwargs)


def init_encoder(size: dict[str, int], tokenizer: Any, out_dir: str | Path, seed: int) -> Path:
    """Save a randomly initialised `XLMRobertaModel` plus `tokenizer` to `out_dir`.

    `AutoModel.from_pretrained(out_dir)` / `AutoTokenizer.from_pretrained(out_dir)` then work
    as for `xlm-roberta-large`. `size["max_position"]` is the usable sequence length.
    """
    import torch
    from transformers import XLMRobertaModel

    config = encoder_config(size, tokenizer)
    torch.manual_seed(seed)
    model = XLMRobertaModel(config)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    tokenizer.model_max_length = int(size["max_position"])
    tokenizer.save_pretrained(str(out))
    return out

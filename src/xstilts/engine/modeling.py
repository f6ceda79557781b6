"""Heads per task format, the multi-task model and encoder-only save/load.

Only the encoder transfers between phases: `build_model` loads the encoder with `AutoModel` and
attaches a freshly initialised head built with the matching `AutoModelFor*` class, whatever else
the checkpoint at `encoder_path` holds. Works for any HF encoder (local dir or hub name).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from xstilts.tasks.registry import TaskSpec

HEAD_CLASSES: dict[str, str] = {
    "classification": "AutoModelForSequenceClassification",
    "multiple_choice": "AutoModelForMultipleChoice",
    "qa": "AutoModelForQuestionAnswering",
    "tagging": "AutoModelForTokenClassification",
    "mlm": "AutoModelForMaskedLM",
}


def head_class(fmt: str) -> Any:
    import transformers

    if fmt not in HEAD_CLASSES:
        raise ValueError(f"no model head for format '{fmt}'; heads exist for "
                         f"{sorted(HEAD_CLASSES)}")
    return getattr(transformers, HEAD_CLASSES[fmt])


def label_names(task: TaskSpec, ds: Any = None) -> list[str]:
    """Label names of `task`: the registry's, else the dataset's ClassLabel names (open sets)."""
    if task.labels:
        return list(task.labels)
    if ds is not None:
        feature = {"classification": "label", "tagging": "tags"}.get(task.format)
        if feature and feature in ds.features:
            f = ds.features[feature]
            f = getattr(f, "feature", f)
            if hasattr(f, "names"):
                return list(f.names)
    if task.format in ("classification", "tagging"):
        raise ValueError(f"task '{task.name}': no label names in the registry or the data")
    return []


def load_encoder(encoder_path: str | Path) -> Any:
    """The encoder (`AutoModel`) stored at `encoder_path` (local dir or hub name)."""
    from transformers import AutoModel

    return AutoModel.from_pretrained(str(encoder_path), use_safetensors=True,
                                     trust_remote_code=False)


def attach_head(task: TaskSpec, encoder: Any, labels: list[str] | None = None) -> Any:
    """A fresh `AutoModelFor*` head model for `task` whose base model IS `encoder` (shared)."""
    config = encoder.config.__class__.from_dict(encoder.config.to_dict())
    if task.format in ("classification", "tagging"):
        if not labels:
            raise ValueError(f"task '{task.name}': a {task.format} head needs label names")
        config.num_labels = len(labels)
        config.id2label = dict(enumerate(labels))
        config.label2id = {name: i for i, name in enumerate(labels)}
    model = head_class(task.format).from_config(config)
    prefix = model.base_model_prefix
    fresh_base = getattr(model, prefix)
    # The shared encoder keeps its pooler (BERT's classifier and XLM-R's multiple-choice head use
    # it); a head class built without one gets it dropped only when saved (`save_full_model`).
    model._xstilts_drop_pooler = getattr(fresh_base, "pooler", "absent") is None
    setattr(model, prefix, encoder)
    del fresh_base
    model.tie_weights()
    return model


def build_model(task: TaskSpec, encoder_path: str | Path, num_labels: int | None = None,
                labels: list[str] | None = None) -> Any:
    """Encoder from `encoder_path` + a fresh head for `task` (an HF `PreTrainedModel`)."""
    if labels is None and task.format in ("classification", "tagging"):
        labels = list(task.labels) or ([str(i) for i in range(num_labels)] if num_labels else None)
    if labels is not None and num_labels is not None and len(labels) != num_labels:
        raise ValueError(f"task '{task.name}': {len(labels)} label names but num_labels="
                         f"{num_labels}")
    encoder = load_encoder(encoder_path)
    return attach_head(task, encoder, labels)


class MultiTaskModel(nn.Module):
    """One shared encoder, one HF head model per task (all sharing the same encoder object)."""

    def __init__(self, encoder: Any, heads: dict[str, Any]):
        super().__init__()
        self.encoder = encoder
        self.heads = nn.ModuleDict(heads)
        for name, head in heads.items():
            if getattr(head, head.base_model_prefix) is not encoder:
                raise ValueError(f"head '{name}' does not share the encoder")
        self.config = encoder.config

    @classmethod
    def build(cls, tasks: dict[str, tuple[TaskSpec, list[str] | None]],
              encoder_path: str | Path) -> MultiTaskModel:
        """`tasks`: name -> (spec, label names)."""
        encoder = load_encoder(encoder_path)
        heads = {name: attach_head(spec, encoder, labels) for name, (spec, labels) in tasks.items()}
        return cls(encoder, heads)

    def forward(self, task_name: str, **batch: Any) -> Any:
        if task_name not in self.heads:
            raise KeyError(f"unknown task '{task_name}'; heads: {sorted(self.heads)}")
        return self.heads[task_name](**batch)

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """State dict without aliases of shared tensors (first name wins), safetensors-safe."""
        full = super().state_dict(*args, **kwargs)
        seen: set[tuple[int, int, tuple[int, ...]]] = set()
        out = {}
        for key, tensor in full.items():
            ident = (tensor.data_ptr(), tensor.storage_offset(), tuple(tensor.shape))
            if tensor.numel() and ident in seen:
                continue
            seen.add(ident)
            out[key] = tensor
        return out

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        result = super().load_state_dict(state_dict, strict=False, assign=assign)
        expected = set(self.state_dict())
        missing = sorted(expected - set(state_dict))
        if strict and (missing or result.unexpected_keys):
            raise RuntimeError(f"MultiTaskModel.load_state_dict: missing {missing[:5]}, "
                               f"unexpected {result.unexpected_keys[:5]}")
        return type(result)(missing, list(result.unexpected_keys))


def encoder_of(model: Any) -> Any:
    """The encoder of a head model, a MultiTaskModel or a base model."""
    if isinstance(model, MultiTaskModel):
        return model.encoder
    base = getattr(model, "base_model", None)
    return base if base is not None else model


def save_encoder(model: Any, out_dir: str | Path, tokenizer: Any = None) -> Path:
    """Write only the encoder (AutoModel layout, safetensors, config) and the tokenizer."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    encoder = encoder_of(model)
    encoder.save_pretrained(str(out))
    if tokenizer is not None:
        tokenizer.save_pretrained(str(out))
    return out


def save_full_model(model: Any, out_dir: str | Path, tokenizer: Any = None) -> Path:
    """Write a fine-tuned head model (encoder + head, safetensors) loadable by its Auto class."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    base = getattr(model, model.base_model_prefix)
    pooler = getattr(base, "pooler", None)
    drop = getattr(model, "_xstilts_drop_pooler", False) and pooler is not None
    if drop:
        base.pooler = None
    try:
        model.save_pretrained(str(out))
    finally:
        if drop:
            base.pooler = pooler
    if tokenizer is not None:
        tokenizer.save_pretrained(str(out))
    return out


def load_for_inference(task: TaskSpec, model_dir: str | Path) -> Any:
    """A full fine-tuned model (encoder + head) saved with `save_pretrained`."""
    return head_class(task.format).from_pretrained(str(model_dir), use_safetensors=True,
                                                   trust_remote_code=False)

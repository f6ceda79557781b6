"""Per-format collators: the model's keys of each feature, padded per batch (or to a length);
multiple choice, tagging, QA and MLM (masks seeded per batch number); multi-task batches."""

from __future__ import annotations

from typing import Any

MODEL_KEYS = ("input_ids", "attention_mask", "token_type_ids")
LABEL_KEYS = {"classification": ("labels",), "multiple_choice": ("labels",),
              "qa": ("start_positions", "end_positions"), "tagging": ("labels",), "mlm": ()}


class FormatCollator:
    """Keeps the model's keys of each feature and pads per batch (or to `pad_to_length`)."""

    def __init__(self, fmt: str, tokenizer: Any, for_training: bool = True,
                 pad_to_length: int | None = None, mlm_probability: float = 0.15,
                 mask_seed: int = 0):
        import transformers as tf

        self.fmt = fmt
        self.mask_seed = mask_seed
        self.keys = MODEL_KEYS + (LABEL_KEYS[fmt] if for_training else ())
        padding: Any = "max_length" if pad_to_length else True
        if fmt in ("classification", "qa"):
            self.inner = tf.DataCollatorWithPadding(tokenizer, padding=padding,
                                                    max_length=pad_to_length)
        elif fmt == "tagging":
            self.inner = tf.DataCollatorForTokenClassification(tokenizer, padding=padding,
                                                               max_length=pad_to_length)
        elif fmt == "multiple_choice":
            self.inner = tf.DataCollatorForMultipleChoice(tokenizer, padding=padding,
                                                          max_length=pad_to_length)
        elif fmt == "mlm":
            if pad_to_length:
                raise ValueError("fixed-length padding is not supported for mlm")
            self.keys = MODEL_KEYS + ("special_tokens_mask",)
            self.inner = tf.DataCollatorForLanguageModeling(tokenizer,
                                                            mlm_probability=mlm_probability)
        else:
            raise ValueError(f"no collator for format '{fmt}'")

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        if self.fmt == "mlm" and "__draw__" in features[0]:
            # Masks depend only on (seed, batch number), not on the global RNG: a resumed run
            # (or a prefetching dataloader) masks every batch exactly as an uninterrupted run.
            import torch

            draw = int(features[0]["__draw__"])
            self.inner.generator = torch.Generator().manual_seed(
                (self.mask_seed * 1_000_003 + draw) % (2**63))
        feats = [{k: f[k] for k in self.keys if k in f} for f in features]
        dummy = self.fmt == "multiple_choice" and "labels" not in feats[0]
        if dummy:
            for f in feats:
                f["labels"] = 0
        batch = dict(self.inner(feats))
        if dummy:
            batch.pop("labels", None)
        return batch


def make_collator(fmt: str, tokenizer: Any, for_training: bool = True,
                  pad_to_length: int | None = None, mlm_probability: float = 0.15,
                  mask_seed: int = 0) -> Any:
    return FormatCollator(fmt, tokenizer, for_training, pad_to_length, mlm_probability,
                          mask_seed)


class MultiTaskCollator:
    """Collates a single-task batch of a task stream; adds `task_name` for a MultiTaskModel."""

    def __init__(self, collators: dict[str, FormatCollator], add_task_name: bool = True):
        self.collators = collators
        self.add_task_name = add_task_name

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        task = features[0]["__task__"]
        batch = self.collators[task](features)
        if self.add_task_name:
            batch["task_name"] = task
        return batch

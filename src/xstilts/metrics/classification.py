"""Accuracy as in XTREME's evaluate.py (XNLI, PAWS-X, Tatoeba), in percent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _is_sequence_of_sequences(values: Sequence[Any]) -> bool:
    return bool(values) and all(
        isinstance(v, (list, tuple)) for v in values
    )


def accuracy(predictions: Sequence[Any], references: Sequence[Any]) -> dict[str, float]:
    """Share of predictions equal to their reference, in percent.

    Flat inputs compare item by item (evaluate.py's `accuracy`). Nested inputs (one list of
    tags per sentence, e.g. CCG supertagging) are compared token by token.
    """
    if len(predictions) != len(references):
        raise ValueError(
            f"accuracy: {len(predictions)} predictions but {len(references)} references"
        )
    if _is_sequence_of_sequences(predictions) or _is_sequence_of_sequences(references):
        flat_pred: list[Any] = []
        flat_ref: list[Any] = []
        for i, (p, r) in enumerate(zip(predictions, references, strict=True)):
            if len(p) != len(r):
                raise ValueError(
                    f"accuracy: sequence {i} has {len(p)} predicted and {len(r)} gold items"
                )
            flat_pred.extend(p)
            flat_ref.extend(r)
        predictions, references = flat_pred, flat_ref
    if not predictions:
        raise ValueError("accuracy: no predictions to score")
    correct = sum(int(p == r) for p, r in zip(predictions, references, strict=True))
    return {"accuracy": float(correct) / len(predictions) * 100}

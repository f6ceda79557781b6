"""BUCC pair F1 and Tatoeba accuracy as in XTREME's evaluate.py, in percent."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from xstilts.metrics.classification import accuracy


def bucc_scores(
    predictions: Iterable[Sequence[str]], references: Iterable[Sequence[str]]
) -> dict[str, float]:
    """Precision / recall / F1 of predicted (src_id, tgt_id) pairs against gold pairs (as sets).

    No correct pair (including no prediction at all) gives 0 for all three, as evaluate.py does.
    """
    pred = {tuple(p) for p in predictions}
    gold = {tuple(g) for g in references}
    correct = len(pred & gold)
    if correct == 0:
        return {"f1": 0.0, "precision": 0.0, "recall": 0.0}
    precision = correct / len(pred)
    recall = correct / len(gold)
    f1 = 2 * precision * recall / (precision + recall)
    return {"f1": f1 * 100, "precision": precision * 100, "recall": recall * 100}


def retrieval_accuracy(predictions: Sequence[int], references: Sequence[int]) -> dict[str, float]:
    """Tatoeba: share of sources whose retrieved target index is the gold index (percent)."""
    return accuracy(list(predictions), list(references))

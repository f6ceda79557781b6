"""Official-equivalent metrics of XTREME's evaluate.py (scores in percent, 0-100).

`compute(metric, predictions, references, lang)` dispatches on the registry's metric name:

| metric | predictions / references | keys |
| --- | --- | --- |
| accuracy | label per example (or tag lists: token accuracy) | accuracy |
| seqeval_f1 | list of tag lists | f1, precision, recall |
| squad | {id: answer text} / SQuAD-format dict | exact_match, f1 |
| mlqa | {id: answer text} / SQuAD-format dict (language-aware) | exact_match, f1 |
| bucc_f1 | (src_id, tgt_id) pairs | f1, precision, recall |
| retrieval_accuracy | retrieved target index per source | accuracy |

MLQA knows en, es, de, ar, hi, vi, zh and, outside the official script, `lang="synthetic"`
(neutral rules for mini-XTREME's synthetic languages); any other language raises ValueError.
"""

from __future__ import annotations

from typing import Any

from xstilts.metrics.benchmark import (
    QA_METRICS,
    XTREME_R_IMPLEMENTED,
    XTREME_R_TASKS,
    XTREME_TASKS,
    group_scores,
    overall_scores,
    task_score,
    xtreme_r_group_scores,
    xtreme_r_overall_scores,
    xtreme_r_score,
    xtreme_r_task_score,
    xtreme_score,
)
from xstilts.metrics.classification import accuracy
from xstilts.metrics.qa import (
    MLQA_LANGUAGES,
    SYNTHETIC_LANGUAGE,
    mlqa_scores,
    normalize_mlqa,
    normalize_squad,
    records_to_squad,
    squad_scores,
)
from xstilts.metrics.retrieval import bucc_scores, retrieval_accuracy
from xstilts.metrics.tagging import SEQEVAL_VERSION, seqeval_scores

METRIC_KEYS: dict[str, tuple[str, ...]] = {
    "accuracy": ("accuracy",),
    "seqeval_f1": ("f1", "precision", "recall"),
    "squad": ("exact_match", "f1"),
    "mlqa": ("exact_match", "f1"),
    "bucc_f1": ("f1", "precision", "recall"),
    "retrieval_accuracy": ("accuracy",),
}


def compute(metric: str, predictions: Any, references: Any, lang: str) -> dict[str, float]:
    """Score `predictions` against `references` with the registry metric `metric`."""
    if metric == "accuracy":
        return accuracy(predictions, references)
    if metric == "seqeval_f1":
        return seqeval_scores(predictions, references)
    if metric == "squad":
        return squad_scores(predictions, references)
    if metric == "mlqa":
        return mlqa_scores(predictions, references, lang)
    if metric == "bucc_f1":
        return bucc_scores(predictions, references)
    if metric == "retrieval_accuracy":
        return retrieval_accuracy(predictions, references)
    raise ValueError(
        f"metric '{metric}' is not computed from predictions; known: {sorted(METRIC_KEYS)}"
    )


__all__ = [
    "METRIC_KEYS", "MLQA_LANGUAGES", "QA_METRICS", "SEQEVAL_VERSION", "SYNTHETIC_LANGUAGE",
    "XTREME_R_IMPLEMENTED", "XTREME_R_TASKS", "XTREME_TASKS",
    "accuracy", "bucc_scores", "compute", "group_scores", "mlqa_scores", "normalize_mlqa",
    "normalize_squad", "overall_scores", "records_to_squad", "retrieval_accuracy",
    "seqeval_scores", "squad_scores", "task_score", "xtreme_r_group_scores",
    "xtreme_r_overall_scores", "xtreme_r_score", "xtreme_r_task_score", "xtreme_score",
]

"""Official-equivalent metrics of XTREME's evaluate.py (scores in percent, 0-100).

One `Metric` object per metric (`METRICS`, by the name tasks.yaml uses): how predictions are
scored (`compute`), the numbers it returns (`keys`) and which of them make the task score
(`task_score`: mean(EM, F1) for QA metrics, else F1 if present, else accuracy, as XTREME's
evaluate.py). Scoring, aggregation, fairness, submission scoring and the task registry read
metrics from here; `compute(metric, predictions, references, lang)` dispatches on the name:

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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class Metric:
    """A metric: `compute(predictions, references, lang)` -> {key: percent} (None: not scored
    from predictions, e.g. the MLM loss), its `keys`, and whether it is a QA metric (task score
    mean(EM, F1))."""

    name: str
    compute: Callable[[Any, Any, str], dict[str, float]] | None
    keys: tuple[str, ...]
    qa: bool = False

    def task_score(self, scores: Mapping[str, float]) -> float:
        """One number per task: mean(EM, F1) for QA metrics, else F1 if present, else accuracy."""
        if self.qa:
            missing = {"exact_match", "f1"} - set(scores)
            if missing:
                raise ValueError(f"task_score({self.name}): scores lack {sorted(missing)}")
            return (scores["exact_match"] + scores["f1"]) / 2
        if "f1" in scores:
            return float(scores["f1"])
        if "accuracy" in scores:
            return float(scores["accuracy"])
        raise ValueError(
            f"task_score({self.name}): scores have neither 'f1' nor 'accuracy': {sorted(scores)}"
        )


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("accuracy", lambda p, r, lang: accuracy(p, r), ("accuracy",)),
    Metric("seqeval_f1", lambda p, r, lang: seqeval_scores(p, r), ("f1", "precision", "recall")),
    Metric("squad", lambda p, r, lang: squad_scores(p, r), ("exact_match", "f1"), qa=True),
    Metric("mlqa", mlqa_scores, ("exact_match", "f1"), qa=True),
    Metric("bucc_f1", lambda p, r, lang: bucc_scores(p, r), ("f1", "precision", "recall")),
    Metric("retrieval_accuracy", lambda p, r, lang: retrieval_accuracy(p, r), ("accuracy",)),
    Metric("mlm_loss", None, ("loss",)),
)}
METRIC_KEYS: dict[str, tuple[str, ...]] = {name: m.keys for name, m in METRICS.items()
                                           if m.compute is not None}
QA_METRICS: frozenset[str] = frozenset(name for name, m in METRICS.items() if m.qa)


def compute(metric: str, predictions: Any, references: Any, lang: str) -> dict[str, float]:
    """Score `predictions` against `references` with the registry metric `metric`."""
    scorer = METRICS[metric].compute if metric in METRICS else None
    if scorer is None:
        known = sorted(name for name, m in METRICS.items() if m.compute is not None)
        raise ValueError(f"metric '{metric}' is not computed from predictions; known: {known}")
    return scorer(predictions, references, lang)


def task_score(metric_name: str, scores: Mapping[str, float]) -> float:
    """The task score of `scores` under the metric named `metric_name` (`Metric.task_score`;
    a name outside METRICS is scored by the non-QA rule)."""
    metric = METRICS.get(metric_name) or Metric(metric_name, None, ())
    return metric.task_score(scores)


__all__ = [
    "METRICS", "METRIC_KEYS", "MLQA_LANGUAGES", "QA_METRICS", "SEQEVAL_VERSION",
    "SYNTHETIC_LANGUAGE", "Metric", "accuracy", "bucc_scores", "compute", "mlqa_scores",
    "normalize_mlqa", "normalize_squad", "records_to_squad", "retrieval_accuracy",
    "seqeval_scores", "squad_scores", "task_score",
]

"""Convergence checks: how far a training run got beyond chance.

- `chance_score`: the dev score (`engine.predict.dev_score`, the metric early stopping uses) of
  the best *constant* predictor: the training set's most frequent label (classification), answer
  position (multiple choice) or tag (tagging, every word), and the empty answer (QA).
- `chance_loss`: the training loss of the best constant predictor, i.e. the entropy of the
  training labels' marginal (classification, multiple choice, tagging per token; QA: the mean of
  the start and end positions' entropies); ln k for k balanced classes.
- `dev_scores`: dev scores of an in-memory (multi-task) model on each of its tasks.
- `above_chance`: a dev score clearly above the chance score (`MARGIN` of the metric's range).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

from xstilts.tasks.registry import TaskSpec

# "clearly above chance": at least this much of the metric's [0, 1] range above the chance score
MARGIN = 0.05


def _majority(values: Iterable[Any]) -> Any:
    counts = Counter(values)
    if not counts:
        raise ValueError("no training labels to take the majority of")
    return min(counts, key=lambda v: (-counts[v], str(v)))  # ties: the smallest, deterministic


def constant_predictions(spec: TaskSpec, train: Any, dev: Any) -> list:
    """The best constant predictor's predictions for `dev` (canonical Datasets)."""
    fmt = spec.format
    if fmt == "classification":
        names = train.features["label"].names
        return [names[_majority(train["label"])]] * len(dev)
    if fmt == "multiple_choice":
        return [int(_majority(train["label"]))] * len(dev)
    if fmt == "tagging":
        names = train.features["tags"].feature.names
        tag = names[_majority(t for tags in train["tags"] for t in tags)]
        return [[tag] * len(tokens) for tokens in dev["tokens"]]
    if fmt == "qa":
        return [""] * len(dev)
    raise ValueError(f"task '{spec.name}': no chance level for format '{fmt}'")


def chance_score(spec: TaskSpec, train: Any, dev: Any) -> float:
    """The dev score of `constant_predictions` (see the module docstring)."""
    from xstilts.engine.predict import dev_score

    return dev_score(spec, dev, constant_predictions(spec, train, dev))


def entropy(values: Iterable[Any]) -> float:
    """Entropy (nats) of the empirical distribution of `values`."""
    counts = Counter(values)
    total = sum(counts.values())
    return -sum(c / total * math.log(c / total) for c in counts.values()) if total else 0.0


def chance_loss(fmt: str, features: Any) -> float | None:
    """Loss of the best constant predictor on featurized training data (`engine.featurize`);
    None for MLM (no labels)."""
    if fmt in ("classification", "multiple_choice"):
        return entropy(features["labels"])
    if fmt == "tagging":
        return entropy(t for tags in features["labels"] for t in tags if t != -100)
    if fmt == "qa":
        return (entropy(features["start_positions"]) + entropy(features["end_positions"])) / 2
    return None


def dev_scores(model: Any, tasks: list[Any], tokenizer: Any, hparams: dict[str, Any]
               ) -> dict[str, float]:
    """The dev score of `model` (a head model, or a `MultiTaskModel` with `heads`) on every
    task of `tasks` (`engine.training.TrainTask`) that has a dev set."""
    from xstilts.engine.predict import dev_score, predict_with_model

    out = {}
    for task in tasks:
        if task.dev is None or task.spec.format == "mlm":
            continue
        head = model.heads[task.name] if hasattr(model, "heads") else model
        preds = predict_with_model(task.spec, head, tokenizer, task.dev, hparams)
        out[task.name] = dev_score(task.spec, task.dev, preds)
    return out


def above_chance(score: float, chance: float, margin: float = MARGIN) -> bool:
    return score >= chance + margin

"""Task, group and XTREME scores as XTREME's evaluate.py computes them."""

from __future__ import annotations

from collections.abc import Mapping

from xstilts.registry import XTREME_GROUPS

# evaluate.py's TASK2LANGS order
XTREME_TASKS: tuple[str, ...] = (
    "pawsx", "xnli", "panx", "udpos", "bucc2018", "tatoeba", "xquad", "mlqa", "tydiqa",
)
QA_METRICS: frozenset[str] = frozenset({"squad", "mlqa"})


def task_score(metric_name: str, scores: Mapping[str, float]) -> float:
    """One number per task: mean(EM, F1) for QA metrics, else F1 if present, else accuracy."""
    if metric_name in QA_METRICS:
        missing = {"exact_match", "f1"} - set(scores)
        if missing:
            raise ValueError(f"task_score({metric_name}): scores lack {sorted(missing)}")
        return (scores["exact_match"] + scores["f1"]) / 2
    if "f1" in scores:
        return float(scores["f1"])
    if "accuracy" in scores:
        return float(scores["accuracy"])
    raise ValueError(
        f"task_score({metric_name}): scores have neither 'f1' nor 'accuracy': {sorted(scores)}"
    )


def xtreme_score(task_scores: Mapping[str, float]) -> float:
    """Plain mean of the 9 XTREME task scores; raises if any of them is missing."""
    missing = [t for t in XTREME_TASKS if t not in task_scores]
    if missing:
        raise ValueError(f"XTREME score needs all 9 tasks; missing {missing}")
    return sum(task_scores[t] for t in XTREME_TASKS) / len(XTREME_TASKS)


def group_scores(task_scores: Mapping[str, float]) -> dict[str, float]:
    """Mean task score of every XTREME group whose tasks are all present (as evaluate.py)."""
    return {
        group: sum(task_scores[t] for t in tasks) / len(tasks)
        for group, tasks in XTREME_GROUPS.items()
        if all(t in task_scores for t in tasks)
    }


def overall_scores(task_scores: Mapping[str, float]) -> dict[str, float]:
    """evaluate.py's overall table: 'all_task' when all 9 tasks are present, plus group scores."""
    out: dict[str, float] = {}
    if all(t in task_scores for t in XTREME_TASKS):
        out["all_task"] = xtreme_score(task_scores)
    out.update(group_scores(task_scores))
    return out

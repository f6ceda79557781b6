"""Task, group, XTREME and XTREME-R scores as XTREME's evaluate.py computes them.

XTREME-R follows google-research/xtreme evaluate.py at commit da430dd (`--xtreme_version
xtreme-r`): a task's score (`avg_metric`) is mean(avg EM, avg F1) for the QA group (XQuAD, MLQA,
TyDiQA), else avg F1, else avg accuracy, each averaged over XTREME_R_TASK2LANGS' languages;
`all_task` is the plain mean of the task scores of all 10 tasks (only shown when every task is
scored); a group's score is the plain mean over XTREME_R_GROUP2TASK's tasks (XCOPA counts in
both "classification" and "multi_choice").
"""

from __future__ import annotations

from collections.abc import Mapping

from xstilts.tasks.registry import BENCHMARK_TASKS, XTREME_GROUPS, XTREME_R_GROUPS, benchmark_tasks

# evaluate.py's TASK2LANGS order
XTREME_TASKS: tuple[str, ...] = BENCHMARK_TASKS["xtreme"]
# evaluate.py's XTREME_R_TASK2LANGS order: all 10 tasks (the official `all_task` needs them all)
XTREME_R_TASKS: tuple[str, ...] = BENCHMARK_TASKS["xtreme_r"]
# the 8 that xstilts implements (no LAReQA, no Mewsli-X)
XTREME_R_IMPLEMENTED: tuple[str, ...] = tuple(benchmark_tasks("xtreme_r"))


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


# ---------------------------------------------------------------- XTREME-R


def xtreme_r_task_score(task: str, avg_scores: Mapping[str, float]) -> float:
    """evaluate.py's (xtreme-r) `avg_metric` of a task from its language-averaged metrics.

    QA tasks by group membership: mean(exact_match, f1); otherwise f1 if present, else accuracy.
    Anything else (Mewsli-X's and LAReQA's map@20) gets no score in the script: ValueError.
    """
    if task in XTREME_R_GROUPS["qa"]:
        missing = {"exact_match", "f1"} - set(avg_scores)
        if missing:
            raise ValueError(f"xtreme_r_task_score({task}): scores lack {sorted(missing)}")
        return (float(avg_scores["exact_match"]) + float(avg_scores["f1"])) / 2
    for key in ("f1", "accuracy"):
        if key in avg_scores:
            return float(avg_scores[key])
    raise ValueError(f"xtreme_r_task_score({task}): scores have neither 'f1' nor 'accuracy': "
                     f"{sorted(avg_scores)}")


def xtreme_r_score(task_scores: Mapping[str, float],
                   tasks: tuple[str, ...] | list[str] = XTREME_R_TASKS) -> float:
    """evaluate.py's XTREME-R `all_task`: plain mean of the task scores of `tasks`.

    The official score needs all 10 tasks (default); pass `tasks=XTREME_R_IMPLEMENTED` for the
    8-task variant without LAReQA and Mewsli-X. Raises if any of `tasks` is missing.
    """
    unknown = [t for t in tasks if t not in XTREME_R_TASKS]
    if unknown:
        raise ValueError(f"XTREME-R score: {unknown} are not XTREME-R tasks ({XTREME_R_TASKS})")
    missing = [t for t in tasks if t not in task_scores]
    if missing or not tasks:
        raise ValueError(f"XTREME-R score needs {list(tasks)}; missing {missing}")
    return sum(float(task_scores[t]) for t in tasks) / len(tasks)


def xtreme_r_group_scores(task_scores: Mapping[str, float]) -> dict[str, float]:
    """Mean task score of every XTREME-R group whose tasks are all present."""
    return {
        group: sum(task_scores[t] for t in tasks) / len(tasks)
        for group, tasks in XTREME_R_GROUPS.items()
        if all(t in task_scores for t in tasks)
    }


def xtreme_r_overall_scores(task_scores: Mapping[str, float]) -> dict[str, float]:
    """evaluate.py's (xtreme-r) overall table: 'all_task' when all 10 tasks are present, plus
    group scores."""
    out: dict[str, float] = {}
    if all(t in task_scores for t in XTREME_R_TASKS):
        out["all_task"] = xtreme_r_score(task_scores)
    out.update(xtreme_r_group_scores(task_scores))
    return out

"""`train_check`: train one task with early stopping and report how far it got beyond chance
(`engine.convergence`); used by benchmarks/convergence.py and the default-schedule test."""

from __future__ import annotations

from typing import Any

from xstilts.engine.convergence import above_chance, chance_score


def train_check(task: Any, encoder: str, hparams: dict[str, Any], work: Any, seed: int = 1
                ) -> dict[str, Any]:
    """Train `task` (an `engine.training.TrainTask` with a dev set) from `encoder` with
    `hparams`, early-stopping on its dev set, at 1 thread; the convergence record: steps run
    and allowed, best step, CPU seconds, best dev score vs chance score, final training loss vs
    chance loss."""
    import time
    from pathlib import Path

    from xstilts.engine.training import train

    work = Path(work)
    cpu = time.process_time()
    summary = train([task], encoder, work / task.name / "out", work / task.name / "scratch",
                    {**hparams, "output": "encoder"}, seed=seed, threads=1, eval_task=task)
    cpu = time.process_time() - cpu
    chance = chance_score(task.spec, task.train, task.dev)
    best = summary["best_dev_metric"]
    return {"task": task.name, "format": task.spec.format, "train": len(task.train),
            "steps": summary["steps"], "max_steps": summary["max_steps"],
            "best_step": summary["best_step"], "cpu_s": cpu,
            "steps_per_s": summary["steps"] / cpu if cpu else float("nan"),
            "dev": best, "chance": chance, "above_chance": above_chance(best, chance),
            "train_loss": summary["final_loss"],
            "chance_loss": summary["chance_loss"][task.name]}

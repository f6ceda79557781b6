"""Helpers shared by the stages: sources, languages, atomic writes, threads."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from xstilts.io.atomic import atomic_dir, write_json  # noqa: F401  (the stages' writers)
from xstilts.tasks.registry import TaskSpec, get_task

if TYPE_CHECKING:
    from xstilts.engine.training import TrainTask
    from xstilts.stages.specs import Job, TrainingSpec

log = logging.getLogger("xstilts")


def setup(threads: int) -> None:
    """Logging to stderr and a fixed number of torch threads (no oversubscription)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    torch.set_num_threads(max(1, int(threads)))


def task_of(spec: Any, name: str) -> TaskSpec:
    """Task `name` with the spec's registry overrides (`tasks`)."""
    return get_task(name, spec.tasks or {})


def source_of(bench: dict[str, Any]) -> dict[str, Any]:
    """The data-source dict of `xstilts.data.load.load_split` of a spec's `benchmark`."""
    source = {"kind": bench["source"], "path": bench.get("path"),
              "ccg_path": bench.get("ccg_path")}
    if bench.get("gold_path"):
        source["gold_path"] = bench["gold_path"]
    return source


def train_stage(spec: TrainingSpec, job: Job, tasks: list[TrainTask],
                **options: Any) -> dict[str, Any]:
    """`engine.training.train` of a training stage: the spec's model, output, scratch, hparams
    and seed, the job's threads and time budget; `options`: train's other keywords."""
    from xstilts.engine.training import train

    return train(tasks, encoder_path=spec.model_path, out_dir=spec.out,
                 scratch_dir=spec.scratch, hparams=spec.hparams, seed=spec.seed,
                 threads=job.threads, time_budget=job.time_budget, **options)

"""Helpers shared by the stages: sources, languages, atomic writes, threads."""

from __future__ import annotations

import logging
import os
from typing import Any

from xstilts.io.atomic import atomic_dir, write_json  # noqa: F401  (the stages' writers)
from xstilts.tasks.registry import TaskSpec, get_task

log = logging.getLogger("xstilts")


def setup(threads: int) -> None:
    """Logging to stderr and a fixed number of torch threads (no oversubscription)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    torch.set_num_threads(max(1, int(threads)))


def task_of(spec: dict, name: str) -> TaskSpec:
    return get_task(name, spec.get("tasks") or {})


def source_of(spec: dict) -> dict[str, Any]:
    """The data-source dict of `xstilts.data.load.load_split`."""
    bench = spec["benchmark"]
    source = {"kind": bench["source"], "path": bench.get("path"),
              "ccg_path": bench.get("ccg_path")}
    if bench.get("gold_path"):
        source["gold_path"] = bench["gold_path"]
    return source

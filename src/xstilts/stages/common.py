"""Helpers shared by the stages: sources, languages, atomic writes, threads."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from xstilts.registry import TaskSpec, get_task

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
    return {"kind": bench["source"], "path": bench.get("path"), "ccg_path": bench.get("ccg_path")}


def benchmark_languages(source: dict) -> list[str]:
    """Every language of the synthetic benchmark (from its languages.csv)."""
    from xstilts.data.languages import read_language_table

    table = read_language_table(Path(source["path"]) / "languages.csv")
    return [str(lang) for lang in table["lang"]]


def languages_of(task: TaskSpec, source: dict) -> list[str]:
    """Evaluation languages: XTREME's lists on real data, every language on mini-XTREME."""
    if source["kind"] == "synthetic":
        return benchmark_languages(source)
    return list(task.languages)


def write_json(path: str | Path, obj: Any) -> None:
    """Write JSON atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(obj, handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.write("\n")
    os.replace(tmp, path)


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temp folder next to `path`; on success it replaces `path` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.tmp"))
    try:
        yield tmp
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)

"""Scratch checkpoints that heal themselves.

A scratch folder holds the run's fingerprint (`xstilts_run.json`) and Trainer checkpoints
(`checkpoint-<step>/`). Every checkpoint is sealed after Trainer wrote it: `xstilts_checkpoint.json`
(written atomically, last) lists the size of every file. On resume (`prepare`):

- a missing, unreadable or different fingerprint means "start fresh": old checkpoints are removed;
- the newest checkpoint that is sealed, has every listed file at its size and whose files parse
  (JSON, safetensors header, torch zip archives) is resumed; broken newer ones are removed;
- no usable checkpoint: start fresh.

Each decision is one log line saying which and why. Nothing is unpickled to check a file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import struct
import zipfile
from pathlib import Path
from typing import Any

from xstilts.io.atomic import write_json

log = logging.getLogger("xstilts.engine.training")

RUN_CONFIG = "xstilts_run.json"
SEAL = "xstilts_checkpoint.json"
_STEP = re.compile(r"checkpoint-(\d+)")


def checkpoints(scratch: Path) -> list[Path]:
    """Checkpoint folders of `scratch`, newest (highest step) first."""
    found = [(int(m.group(1)), p) for p in Path(scratch).glob("checkpoint-*")
             if p.is_dir() and (m := _STEP.fullmatch(p.name))]
    return [p for _, p in sorted(found, reverse=True)]


def seal(folder: Path) -> None:
    """Mark a checkpoint complete: the size of each of its files, written atomically, last."""
    folder = Path(folder)
    files = {p.relative_to(folder).as_posix(): p.stat().st_size
             for p in sorted(folder.rglob("*")) if p.is_file() and p.name != SEAL
             and not p.name.startswith(".")}
    write_json(folder / SEAL, {"files": files})


def problem(folder: Path) -> str | None:
    """Why checkpoint `folder` cannot be resumed from (None: it can)."""
    folder = Path(folder)
    try:
        files = json.loads((folder / SEAL).read_text("utf-8"))["files"]
    except FileNotFoundError:
        return "not sealed: interrupted while it was written"
    except (OSError, ValueError, KeyError, TypeError) as err:
        return f"{SEAL} unreadable ({type(err).__name__})"
    if "trainer_state.json" not in files:
        return "no trainer_state.json"
    for name, size in sorted(files.items()):
        path = folder / name
        try:
            actual = path.stat().st_size
        except OSError:
            return f"{name} is missing"
        if actual != size:
            return f"{name} has {actual} bytes, {size} were written"
        issue = _file_problem(path)
        if issue:
            return f"{name}: {issue}"
    return None


def _file_problem(path: Path) -> str | None:
    """A structural check of one checkpoint file by its kind (None: looks intact)."""
    try:
        if path.suffix == ".json":
            data = json.loads(path.read_text("utf-8"))
            if path.name == "trainer_state.json" and not isinstance(data.get("global_step"), int):
                return "no global_step"
        elif path.suffix == ".safetensors":
            return _safetensors_problem(path)
        elif path.suffix in (".pt", ".pth", ".bin"):  # torch.save's zip archives
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
            if bad is not None:
                return f"corrupt member {bad}"
    except (OSError, ValueError, AttributeError, zipfile.BadZipFile, EOFError) as err:
        return f"unreadable ({type(err).__name__}: {err})"[:200]
    return None


def _safetensors_problem(path: Path) -> str | None:
    with path.open("rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return "truncated header"
        (size,) = struct.unpack("<Q", head)
        header = json.loads(handle.read(size)) if size < (100 << 20) else None
    if not isinstance(header, dict):
        return "invalid header"
    end = max((int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"),
              default=0)
    if path.stat().st_size != 8 + size + end:
        return "truncated tensor data"
    return None


def _digest(fingerprint: dict) -> str:
    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True, default=str).encode()
                          ).hexdigest()


def _remove(paths: list[Path]) -> None:
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


def prepare(scratch: Path, fingerprint: dict[str, Any]) -> str | None:
    """The checkpoint to resume from (None: start fresh), after healing `scratch` (see module)."""
    scratch = Path(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    current = {"digest": _digest(fingerprint), "config": fingerprint}
    marker = scratch / RUN_CONFIG
    found = checkpoints(scratch)
    stale = None
    try:
        previous = json.loads(marker.read_text("utf-8"))
        if not isinstance(previous, dict) or previous.get("digest") != current["digest"]:
            stale = "they are from a different run (other data, model or hyper-parameters)"
    except FileNotFoundError:
        stale = f"the run fingerprint {RUN_CONFIG} is missing"
    except (OSError, ValueError) as err:
        stale = f"the run fingerprint {RUN_CONFIG} is unreadable ({type(err).__name__})"
    if stale and found:
        log.warning("starting fresh in %s: removing %d checkpoint(s), %s", scratch, len(found),
                    stale)
        _remove(found)
        found = []
    write_json(marker, current)
    broken: list[str] = []
    for folder in found:
        issue = problem(folder)
        if issue is None:
            if broken:
                log.warning("resuming from %s: skipped %s", folder.name, "; ".join(broken))
            return str(folder)
        broken.append(f"{folder.name} ({issue})")
        _remove([folder])
    if broken:
        log.warning("starting fresh in %s: no usable checkpoint: %s", scratch, "; ".join(broken))
    return None


def early_stopped(checkpoint: str | Path) -> bool:
    """True when training had stopped early at `checkpoint` (the early-stopping counter of
    `cadence.BestWeights` had reached the patience): a resume must not train further."""
    state = json.loads((Path(checkpoint) / "trainer_state.json").read_text("utf-8"))
    early = (state.get("stateful_callbacks") or {}).get("BestWeights") or {}
    if isinstance(early, list):  # (Trainer stores a list when there are several)
        early = early[0] if early else {}
    patience = (early.get("args") or {}).get("patience")
    counter = (early.get("attributes") or {}).get("patience_counter", 0)
    return bool(patience) and counter >= patience

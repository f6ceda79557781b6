"""Reading result JSON files with errors that name the file (and the key)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from xstilts.data.schema import DataError

RUN_KEYS = ("model", "intermediate", "seed", "target")


def read_json_object(path: str | Path, what: str) -> dict[str, Any]:
    """The JSON object in `path`; DataError naming the file (`what` says which kind it is)."""
    try:
        raw = json.loads(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot read {what}: {err}") from err
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: malformed JSON ({what}): {err}") from err
    if not isinstance(raw, dict):
        raise DataError(f"{path}: {what} must be a JSON object, got {type(raw).__name__}")
    return raw


def check_run_header(raw: dict[str, Any], path: str | Path, keys: tuple[str, ...],
                     metrics: tuple[str, ...]) -> None:
    """A per-job result's `keys` are present, its ids (model, intermediate, target,
    task_metric) non-empty strings, its seed an integer and its task metric known."""
    missing = [k for k in keys if k not in raw]
    if missing:
        raise DataError(f"{path}: missing key(s) {missing}")
    for key in ("model", "intermediate", "target", "task_metric"):
        if not isinstance(raw[key], str) or not raw[key]:
            raise DataError(f"{path}: key '{key}' must be a non-empty string, got {raw[key]!r}")
    if not isinstance(raw["seed"], int) or isinstance(raw["seed"], bool):
        raise DataError(f"{path}: key 'seed' must be an integer, got {raw['seed']!r}")
    if raw["task_metric"] not in metrics:
        raise DataError(f"{path}: key 'task_metric' is {raw['task_metric']!r}, "
                        f"not one of {metrics}")

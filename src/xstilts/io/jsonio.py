"""Reading result JSON files with errors that name the file (and the key)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from xstilts.io.errors import DataError

RUN_KEYS = ("model", "recipe", "seed", "target")
# Result fields renamed since older runs, old -> new: a file or table that still has the old
# name is refused by `check_renamed_fields` (never read as if the field were missing).
RENAMED_FIELDS = {"intermediate": "recipe"}


def check_renamed_fields(fields: Any, path: str | Path, what: str = "key") -> None:
    """DataError naming the field when `fields` (a result's keys or a table's columns) has a
    field's old name (`RENAMED_FIELDS`) and not its new one: a result of an older xstilts."""
    for old, new in RENAMED_FIELDS.items():
        if old in fields and new not in fields:
            raise DataError(f"{path}: {what} '{old}' was renamed '{new}' (written by an older "
                            f"xstilts); rerun the jobs that write it or rename the {what}")


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
    """A per-job result's `keys` are present, its ids (model, recipe, target,
    task_metric) non-empty strings, its seed an integer and its task metric known."""
    check_renamed_fields(raw, path)
    missing = [k for k in keys if k not in raw]
    if missing:
        raise DataError(f"{path}: missing key(s) {missing}")
    for key in ("model", "recipe", "target", "task_metric"):
        if not isinstance(raw[key], str) or not raw[key]:
            raise DataError(f"{path}: key '{key}' must be a non-empty string, got {raw[key]!r}")
    if not isinstance(raw["seed"], int) or isinstance(raw["seed"], bool):
        raise DataError(f"{path}: key 'seed' must be an integer, got {raw['seed']!r}")
    if raw["task_metric"] not in metrics:
        raise DataError(f"{path}: key 'task_metric' is {raw['task_metric']!r}, "
                        f"not one of {metrics}")


RUN_KEY = ("model", "recipe", "seed", "target")


def run_rows(files: Sequence[Path], read_one: Callable[[Path], list[dict[str, Any]]],
             on_empty: Callable[[Path], None] | None = None) -> list[dict[str, Any]]:
    """The rows of per-run result files (`read_one(path)`: a run's rows, each with RUN_KEY's
    fields); a run found in two files raises DataError naming both."""
    rows: list[dict[str, Any]] = []
    seen: dict[tuple, Path] = {}
    for path in files:
        one = read_one(Path(path))
        if not one:
            if on_empty is not None:
                on_empty(Path(path))
            continue
        key = tuple(one[0][k] for k in RUN_KEY)
        if key in seen:
            raise DataError(f"{path}: duplicate run {key} (also in {seen[key]})")
        seen[key] = Path(path)
        rows.extend(one)
    return rows

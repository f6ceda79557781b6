"""Task registry: one declarative entry per task (see resources/tasks.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

Format = Literal["classification", "multiple_choice", "qa", "tagging", "mlm", "retrieval"]
Role = Literal["intermediate", "target", "pretrain"]

FORMATS: tuple[str, ...] = (
    "classification",
    "multiple_choice",
    "qa",
    "tagging",
    "mlm",
    "retrieval",
)
ROLES: tuple[str, ...] = ("intermediate", "target", "pretrain")
METRICS: tuple[str, ...] = (
    "accuracy",
    "seqeval_f1",
    "squad",
    "mlqa",
    "bucc_f1",
    "retrieval_accuracy",
    "mlm_loss",
)
XTREME_GROUPS: dict[str, tuple[str, ...]] = {
    "classification": ("pawsx", "xnli"),
    "tagging": ("udpos", "panx"),
    "qa": ("xquad", "mlqa", "tydiqa"),
    "retrieval": ("bucc2018", "tatoeba"),
}
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
LANG_RE = re.compile(r"^[a-z]{2,8}$")  # ISO 639-1/3 codes and mini-XTREME's synthetic codes


class RegistryError(ValueError):
    """A task entry is malformed or a task name is unknown."""


@dataclass(frozen=True)
class TaskSpec:
    """A task: its format, labels, languages, metric and data sources."""

    name: str
    format: Format
    role: Role
    metric: str
    languages: tuple[str, ...] = ("en",)
    labels: tuple[str, ...] = ()
    num_choices: int | None = None
    unanswerable: bool = False
    group: str | None = None
    train_task: str | None = None
    splits: tuple[str, ...] = ("train", "validation")
    sources: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def has_training_data(self) -> bool:
        return self.format != "retrieval" and "train" in self.splits

    @property
    def num_labels(self) -> int:
        return len(self.labels)


def _build(name: str, entry: dict[str, Any], origin: str) -> TaskSpec:
    where = f"tasks.{name}" if origin == "config" else f"{origin}: tasks.{name}"
    if not NAME_RE.match(name):
        raise RegistryError(f"{where}: name must match {NAME_RE.pattern}")
    if not isinstance(entry, dict):
        raise RegistryError(f"{where}: entry must be a mapping, got {type(entry).__name__}")
    known = set(TaskSpec.__dataclass_fields__) - {"name"}
    unknown = set(entry) - known
    if unknown:
        raise RegistryError(f"{where}: unknown key(s) {sorted(unknown)}; allowed {sorted(known)}")
    for key in ("format", "role", "metric"):
        if key not in entry:
            raise RegistryError(f"{where}: missing key '{key}'")
    if entry["format"] not in FORMATS:
        raise RegistryError(f"{where}: format '{entry['format']}' not one of {FORMATS}")
    if entry["role"] not in ROLES:
        raise RegistryError(f"{where}: role '{entry['role']}' not one of {ROLES}")
    if entry["metric"] not in METRICS:
        raise RegistryError(f"{where}: metric '{entry['metric']}' not one of {METRICS}")
    if entry["format"] == "multiple_choice" and not isinstance(entry.get("num_choices"), int):
        raise RegistryError(f"{where}: multiple_choice needs an integer 'num_choices'")
    bad = [lang for lang in entry.get("languages") or [] if not LANG_RE.match(str(lang))]
    if bad:
        raise RegistryError(f"{where}.languages: invalid code(s) {bad}; a language code is 2-8 "
                            "lowercase letters (e.g. 'de', 'yor')")
    kwargs = dict(entry)
    for key in ("languages", "labels", "splits"):
        if key in kwargs:
            kwargs[key] = tuple(str(v) for v in kwargs[key])
    kwargs["sources"] = dict(entry.get("sources") or {})
    return TaskSpec(name=name, **kwargs)


@cache
def builtin_tasks() -> dict[str, TaskSpec]:
    """The tasks shipped with xstilts."""
    text = resources.files("xstilts.resources").joinpath("tasks.yaml").read_text("utf-8")
    raw = yaml.safe_load(text) or {}
    return {name: _build(name, entry, "tasks.yaml") for name, entry in raw.items()}


def registry(extra: dict[str, dict[str, Any]] | None = None) -> dict[str, TaskSpec]:
    """Built-in tasks plus `extra` entries (e.g. config `tasks:`), which may override them."""
    tasks = dict(builtin_tasks())
    for name, entry in (extra or {}).items():
        base = {}
        if name in tasks:
            spec = tasks[name]
            base = {k: getattr(spec, k) for k in TaskSpec.__dataclass_fields__ if k != "name"}
        tasks[name] = _build(name, {**base, **entry}, "config")
    return tasks


def get_task(name: str, extra: dict[str, dict[str, Any]] | None = None) -> TaskSpec:
    tasks = registry(extra)
    if name not in tasks:
        raise RegistryError(f"unknown task '{name}'; known tasks: {sorted(tasks)}")
    return tasks[name]


def intermediate_tasks() -> list[str]:
    return [n for n, t in builtin_tasks().items() if t.role == "intermediate"]


def target_tasks() -> list[str]:
    return [n for n, t in builtin_tasks().items() if t.role == "target"]

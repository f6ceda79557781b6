"""Task registry: one declarative entry per task (see resources/tasks.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from xstilts import metrics

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
XTREME_GROUPS: dict[str, tuple[str, ...]] = {
    "classification": ("pawsx", "xnli"),
    "tagging": ("udpos", "panx"),
    "qa": ("xquad", "mlqa", "tydiqa"),
    "retrieval": ("bucc2018", "tatoeba"),
}
# google-research/xtreme evaluate.py (commit da430dd, `--xtreme_version xtreme-r`):
# XTREME_R_GROUP2TASK and the task order of XTREME_R_TASK2LANGS. XTREME-R drops PAWS-X and BUCC
# and adds XCOPA, LAReQA and Mewsli-X (the last two are not implemented by xstilts).
XTREME_R_GROUPS: dict[str, tuple[str, ...]] = {
    "classification": ("xnli", "xcopa"),
    "tagging": ("udpos", "panx"),
    "qa": ("xquad", "mlqa", "tydiqa"),
    "retrieval": ("tatoeba", "mewslix"),
    "multi_choice": ("xcopa",),
}
BENCHMARK_TASKS: dict[str, tuple[str, ...]] = {
    # evaluate.py's TASK2LANGS order
    "xtreme": ("pawsx", "xnli", "panx", "udpos", "bucc2018", "tatoeba", "xquad", "mlqa",
               "tydiqa"),
    "xtreme_r": ("xnli", "panx", "udpos", "tatoeba", "xcopa", "lareqa", "mewslix", "xquad",
                 "mlqa", "tydiqa"),
}
NOT_IMPLEMENTED: frozenset[str] = frozenset({"lareqa", "mewslix"})
NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")  # always fullmatch: "$" accepts a final "\n"
LANGUAGE_KEYS: tuple[str, ...] = ("languages", "train_languages", "languages_xtreme_r")
LANG_RE = re.compile(r"[a-z]{2,8}")  # ISO 639-1/3 codes and mini-XTREME's synthetic codes
# `size:` of a task on the real benchmark (for `xstilts cost`): training examples per training
# language, English dev examples, test examples over all evaluation languages (retrieval: the
# sentences of both sides of dev and test), mean sub-word tokens per example (per choice).
SIZE_KEYS: tuple[str, ...] = ("train", "dev", "test", "tokens")


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
    train_languages: tuple[str, ...] = ()
    languages_xtreme_r: tuple[str, ...] = ()
    splits: tuple[str, ...] = ("train", "validation")
    sources: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    size: dict[str, int] = field(default_factory=dict, compare=False, hash=False)

    @property
    def has_training_data(self) -> bool:
        return self.format != "retrieval" and "train" in self.splits

    @property
    def single_sentence(self) -> bool:
        """Classification without a second text (text_b is always ""): no hub column maps it."""
        parts = (self.sources.get("hub") or {}).get("parts") or []
        return self.format == "classification" and bool(parts) and not any(
            "text_b" in (p.get("columns") or {}) or "text_b" in (p.get("defaults") or {})
            for p in parts)

    @property
    def training_languages(self) -> tuple[str, ...]:
        """Languages whose training data an intermediate task trains on (default English)."""
        return self.train_languages or ("en",)

    @property
    def multilingual(self) -> bool:
        """True for intermediate tasks trained on more than English (SIB-200, MasakhaNER)."""
        return self.training_languages != ("en",)

    @property
    def num_labels(self) -> int:
        return len(self.labels)


def _build(name: str, entry: dict[str, Any], origin: str) -> TaskSpec:
    where = f"tasks.{name}" if origin == "config" else f"{origin}: tasks.{name}"
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
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
    if entry["metric"] not in metrics.METRICS:
        raise RegistryError(f"{where}: metric '{entry['metric']}' not one of "
                            f"{tuple(metrics.METRICS)}")
    if entry["format"] == "multiple_choice" and not isinstance(entry.get("num_choices"), int):
        raise RegistryError(f"{where}: multiple_choice needs an integer 'num_choices'")
    for key in LANGUAGE_KEYS:
        bad = [lang for lang in entry.get(key) or [] if not LANG_RE.fullmatch(str(lang))]
        if bad:
            raise RegistryError(f"{where}.{key}: invalid code(s) {bad}; a language code is 2-8 "
                                "lowercase letters (e.g. 'de', 'yor')")
    size = entry.get("size") or {}
    if not isinstance(size, dict) or set(size) - set(SIZE_KEYS) or any(
            isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in size.values()):
        raise RegistryError(f"{where}.size: expected {{{', '.join(SIZE_KEYS)}}} with "
                            f"non-negative integers, got {size!r}")
    kwargs = dict(entry)
    kwargs["size"] = dict(size)
    for key in ("labels", "splits", *LANGUAGE_KEYS):
        if key in kwargs:
            kwargs[key] = tuple(str(v) for v in kwargs[key])
    kwargs["sources"] = dict(entry.get("sources") or {})
    return TaskSpec(name=name, **kwargs)


@cache
def builtin_tasks() -> dict[str, TaskSpec]:
    """The tasks shipped with xstilts."""
    text = resources.files("xstilts.tasks").joinpath("tasks.yaml").read_text("utf-8")
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


def benchmark_tasks(benchmark: str, implemented: bool = True) -> list[str]:
    """Tasks of "xtreme" or "xtreme_r" in evaluate.py's order (without LAReQA/Mewsli-X unless
    `implemented=False`)."""
    if benchmark not in BENCHMARK_TASKS:
        raise RegistryError(f"unknown benchmark '{benchmark}'; known: {sorted(BENCHMARK_TASKS)}")
    tasks = BENCHMARK_TASKS[benchmark]
    return [t for t in tasks if not (implemented and t in NOT_IMPLEMENTED)]


def benchmark_languages(task: TaskSpec | str, benchmark: str) -> tuple[str, ...]:
    """The evaluation languages of `task` in `benchmark` (XTREME: `languages`)."""
    spec = get_task(task) if isinstance(task, str) else task
    if spec.name not in benchmark_tasks(benchmark):
        raise RegistryError(f"task '{spec.name}' is not part of benchmark '{benchmark}'")
    if benchmark == "xtreme_r":
        if not spec.languages_xtreme_r:
            raise RegistryError(f"task '{spec.name}' has no 'languages_xtreme_r' list")
        return spec.languages_xtreme_r
    return spec.languages

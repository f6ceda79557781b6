"""Semantic checks of a workflow config and the views the stages need of it.

The JSON schema (workflow/schemas/config.schema.yaml) checks types and fills defaults; this module
checks what a schema cannot: task names against the registry, recipe and model references, safe
names, a non-empty grid. Every error names the offending key.
"""

from __future__ import annotations

import json
import re
from typing import Any

from xstilts.registry import RegistryError, TaskSpec, registry

SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")
NONE_RECIPE = "none"
MODEL_INITS = ("path", "pretrain", "random")
SOURCES = ("synthetic", "hub", "xtreme_dir")


class ConfigError(ValueError):
    """The config is invalid; the message names the key."""


def canonical_json(obj: Any) -> str:
    """Sorted-key compact JSON: the form in which config slices become rule params."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def tasks(config: dict) -> dict[str, TaskSpec]:
    """The registry with the config's `tasks:` additions/overrides."""
    try:
        return registry(config.get("tasks") or {})
    except RegistryError as err:
        raise ConfigError(str(err)) from err


def _check_name(name: Any, key: str) -> None:
    if not isinstance(name, str) or not SAFE_NAME.match(name):
        raise ConfigError(
            f"{key}: name {name!r} is not allowed; use lowercase letters, digits and '_' "
            f"(pattern {SAFE_NAME.pattern})"
        )


def recipes(config: dict) -> dict[str, dict]:
    """Intermediate recipes by name, `none` included, each with defaults filled in."""
    out: dict[str, dict] = {NONE_RECIPE: {"tasks": [], "mlm": False, "translated": False}}
    for name, recipe in (config.get("intermediate") or {}).items():
        out[name] = {
            "mlm": False,
            "translated": False,
            "translated_only": False,
            "sampler": {"kind": "proportional"},
            **recipe,
        }
    return out


def model_recipes(config: dict, model: str) -> list[str]:
    """The recipes that `model` runs (`recipes: all` = every recipe, none included)."""
    wanted = config["models"][model].get("recipes", "all")
    return list(recipes(config)) if wanted == "all" else list(wanted)


def study_recipes(config: dict, study: str, model: str) -> list[str]:
    """The recipes of `model` that a study (`robustness`, `alignment`) covers."""
    wanted = (config.get(study) or {}).get("recipes") or []
    mine = model_recipes(config, model)
    return mine if wanted == "all" else [r for r in mine if r in wanted]


def robustness_targets(config: dict) -> list[str]:
    """Targets evaluated under perturbation: configured ones that are trained targets here."""
    wanted = (config.get("robustness") or {}).get("targets") or []
    return [t for t in trained_targets(config) if t in wanted]


def trained_targets(config: dict) -> list[str]:
    registry_ = tasks(config)
    return [t for t in config["targets"] if registry_[t].has_training_data]


def finetune_target(config: dict, target: str) -> str:
    """The target whose fine-tuned checkpoint `target` is evaluated with.

    Targets that train on the same task's data (XQuAD and MLQA both train on SQuAD v1.1) with
    the same hyper-parameters share one checkpoint, as in XTREME and X-STILTs: the first such
    target in `targets` is fine-tuned (early-stopping on its English dev set); the others are
    only evaluated.
    """
    registry_ = tasks(config)

    def key(name: str) -> tuple[str, str]:
        train = registry_[name].train_task or name
        return train, canonical_json(hparams(config, "target", name))

    wanted = key(target)
    return next(t for t in trained_targets(config) if key(t) == wanted)


def finetuned_targets(config: dict) -> list[str]:
    """Trained targets that get their own fine-tuning job (see `finetune_target`)."""
    return [t for t in trained_targets(config) if finetune_target(config, t) == t]


def retrieval_targets(config: dict) -> list[str]:
    registry_ = tasks(config)
    return [t for t in config["targets"] if registry_[t].format == "retrieval"]


def hparams(config: dict, phase: str, task: str | None = None) -> dict:
    """Hyper-parameters of a phase (pretrain | intermediate | target), default < phase < task.

    The target phase's own entry is `finetune` (every target), then `targets.<task>`.
    """
    table = config.get("hparams") or {}
    merged = dict(table.get("default") or {})
    if phase == "target":
        merged.update(table.get("finetune") or {})
        merged.update((table.get("targets") or {}).get(task, {}) if task else {})
    else:
        merged.update(table.get(phase) or {})
        if phase == "intermediate" and task:
            merged.update((table.get("intermediate_tasks") or {}).get(task, {}))
    return merged


def check(config: dict) -> None:
    """Raise ConfigError naming the key for anything the schema cannot catch."""
    registry_ = tasks(config)
    source = config["benchmark"]["source"]
    if source == "xtreme_dir" and not config["benchmark"].get("path"):
        raise ConfigError("benchmark.path: required when benchmark.source is xtreme_dir")
    _check_eval_split(config["benchmark"].get("eval_split"), registry_)
    if not config.get("models"):
        raise ConfigError("models: at least one base model is needed")
    if not config.get("targets"):
        raise ConfigError("targets: the grid is empty (no target task)")
    if not config.get("seeds"):
        raise ConfigError("seeds: the grid is empty (no seed)")
    for i, target in enumerate(config["targets"]):
        key = f"targets[{i}]"
        if target not in registry_:
            raise ConfigError(
                f"{key}: unknown task {target!r}; known targets: "
                f"{sorted(n for n, t in registry_.items() if t.role == 'target')}"
            )
        if registry_[target].role != "target":
            raise ConfigError(
                f"{key}: {target!r} is an {registry_[target].role} task, not a target"
            )
    all_recipes = recipes(config)
    for name, recipe in all_recipes.items():
        _check_name(name, f"intermediate.{name}")
        for j, task in enumerate(recipe.get("tasks", [])):
            key = f"intermediate.{name}.tasks[{j}]"
            if task not in registry_:
                raise ConfigError(
                    f"{key}: unknown task {task!r}; known intermediate tasks: "
                    f"{sorted(n for n, t in registry_.items() if t.role != 'pretrain')}"
                )
            if registry_[task].format == "retrieval":
                raise ConfigError(f"{key}: {task!r} has no training data")
        if name != NONE_RECIPE and not recipe.get("tasks"):
            raise ConfigError(f"intermediate.{name}.tasks: a recipe needs at least one task")
    for model, entry in config["models"].items():
        _check_name(model, f"models.{model}")
        init = entry.get("init")
        if init not in MODEL_INITS:
            raise ConfigError(f"models.{model}.init: {init!r} not one of {MODEL_INITS}")
        if init == "path" and not entry.get("path"):
            raise ConfigError(f"models.{model}.path: required when init is 'path'")
        if init == "pretrain" and source != "synthetic" and not entry.get("corpus"):
            raise ConfigError(
                f"models.{model}.init: pretraining needs the synthetic benchmark's "
                f"corpus (or models.{model}.corpus)"
            )
        if entry.get("export") and init != "pretrain":
            raise ConfigError(f"models.{model}.export: only a model with init: pretrain can be "
                              f"exported (init is {init!r})")
        if init == "random":
            ref = entry.get("tokenizer_from")
            if ref not in config["models"] and not entry.get("path"):
                raise ConfigError(
                    f"models.{model}.tokenizer_from: {ref!r} is not a model in models"
                )
        wanted = entry.get("recipes", "all")
        if wanted != "all":
            if not wanted:
                raise ConfigError(f"models.{model}.recipes: empty list (the grid would be empty)")
            for j, recipe in enumerate(wanted):
                if recipe not in all_recipes:
                    raise ConfigError(
                        f"models.{model}.recipes[{j}]: unknown recipe {recipe!r}; "
                        f"known: {sorted(all_recipes)}"
                    )
    _check_studies(config, all_recipes)
    for phase in ("default", "pretrain", "intermediate", "finetune"):
        _check_hparams((config.get("hparams") or {}).get(phase) or {}, f"hparams.{phase}")
    for task, values in ((config.get("hparams") or {}).get("targets") or {}).items():
        if task not in registry_:
            raise ConfigError(f"hparams.targets.{task}: unknown task {task!r}")
        _check_hparams(values, f"hparams.targets.{task}")


EVAL_SPLITS = ("test", "validation", "auto")


def _check_eval_split(value: Any, registry_: dict[str, TaskSpec]) -> None:
    """benchmark.eval_split: test | validation | auto, or {task | default: one of them}."""
    items = value.items() if isinstance(value, dict) else [("", value)]
    for task, split in items:
        key = "benchmark.eval_split" + (f".{task}" if task else "")
        if task and task != "default" and task not in registry_:
            raise ConfigError(f"{key}: unknown task {task!r}")
        if split is not None and split not in EVAL_SPLITS:
            raise ConfigError(f"{key}: {split!r} is not one of {list(EVAL_SPLITS)}")


def _check_hparams(values: dict, key: str) -> None:
    for name, value in values.items():
        if isinstance(value, str):
            raise ConfigError(
                f"{key}.{name}: {value!r} is a string; write numbers with a decimal "
                "point and exponent sign (e.g. 2.0e-5) so YAML reads a number"
            )
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            raise ConfigError(f"{key}.{name}: must not be negative (got {value})")


def _check_studies(config: dict, all_recipes: dict[str, dict]) -> None:
    """The studies' recipe and target lists select from the grid (like
    `figures.per_language_recipes`: removing a recipe from the grid needs no study edit), but a
    name that is no task at all, the tokenizer model and per-task languages must exist."""
    registry_ = tasks(config)
    robustness = config.get("robustness") or {}
    for j, target in enumerate(robustness.get("targets") or []):
        if target not in registry_:
            raise ConfigError(f"robustness.targets[{j}]: unknown task {target!r}")
    tokenizer = robustness.get("tokenizer")
    if tokenizer is not None and tokenizer not in config["models"]:
        raise ConfigError(f"robustness.tokenizer: {tokenizer!r} is not a model in models")
    for name, recipe in all_recipes.items():
        for task in recipe.get("languages") or {}:
            if task not in recipe.get("tasks", []):
                raise ConfigError(f"intermediate.{name}.languages.{task}: {task!r} is not one "
                                  f"of the recipe's tasks {recipe.get('tasks')}")

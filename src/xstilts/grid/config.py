"""Semantic checks of a workflow config and the views the stages need of it.

The JSON schema (workflow/schemas/config.schema.yaml) checks types and fills defaults; this module
checks what a schema cannot: task names against the registry, recipe and model references, safe
names, a non-empty grid, finite numbers, a bounded size. `load_file` reads a config file
strictly (duplicate keys are errors). Every error names the offending key.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import yaml

from xstilts.tasks.registry import RegistryError, TaskSpec, registry

SAFE_NAME = re.compile(r"[a-z0-9][a-z0-9_]{0,63}")  # always fullmatch ("$" accepts a final \n)
NONE_RECIPE = "none"
# Top-level keys renamed since older configs: old -> new (`check_renamed` names them).
RENAMED_KEYS = {"intermediate": "recipes"}
MODEL_INITS = ("path", "pretrain", "random")
SOURCES = ("synthetic", "hub", "xtreme_dir")
MAX_SEED = 2**32 - 1  # numpy's and torch's seeds are 32-bit
# Stages with a `resources:` entry (the rules' `resources_for`/`threads_for` names).
RESOURCE_STAGES = ("default", "pretrain", "intermediate", "finetune", "evaluate", "retrieve",
                   "perturb")
# Engine hparams whose values are strings (engine.training.HPARAM_DEFAULTS; a test keeps the
# two in step); every other hparam given as a string is a number YAML did not read as one.
STRING_HPARAMS = ("lr_scheduler", "optim", "output")
# Engine hparams that are not config keys: set by the engine's callers (output, group_by_length,
# keep_checkpoints) or test hooks. Every other engine hparam is in the config schema's
# `hparams` (a test keeps the two sets equal).
ENGINE_ONLY_HPARAMS = frozenset({"output", "group_by_length", "keep_checkpoints",
                                 "inject_nan_at_step", "kill_at_step"})
# A config is a few hundred nodes; YAML aliases can make a 1 kB file expand to 10^8.
MAX_CONFIG_NODES = 100_000
MAX_CONFIG_BYTES = 1 << 20


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


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict:
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:  # unhashable: SafeLoader reports it
                    continue
                if duplicate:
                    mark = key_node.start_mark
                    raise ConfigError(f"{mark.name}: line {mark.line + 1}: duplicate key "
                                      f"{key!r} (YAML would silently keep the last one)")
        return super().construct_mapping(node, deep)


def load_file(path: str | Path) -> dict:
    """A YAML/JSON config file, strictly: size cap, no duplicate keys, a mapping at the top,
    no expansion beyond `MAX_CONFIG_NODES` (see `check_size`)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: {size} bytes; a config file may have at most "
                              f"{MAX_CONFIG_BYTES}")
        with path.open(encoding="utf-8") as handle:  # (its name goes into the messages)
            loader = _StrictLoader(handle)  # (what yaml.load does, with a SafeLoader)
            try:
                data = loader.get_single_data()
            finally:
                loader.dispose()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read the config file ({err})") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: invalid YAML ({' '.join(str(err).split())})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config must be a mapping at the top level")
    check_renamed(data, str(path))
    check_size(data, str(path))
    return data


def typed_overrides(value: Any) -> Any:
    """`--config key=value` overrides with numbers and booleans inside lists and mappings typed.

    Snakemake types a top-level value (int, float, True/False) but reads nested ones with
    YAML's BaseLoader, as strings: `seeds=[1,2]` arrives as ['1', '2']. The same parsers are
    applied to the nested strings here."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: typed_overrides(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [typed_overrides(v) for v in value]
    if isinstance(value, str):
        for parse in (int, float):
            try:
                return parse(value)
            except ValueError:
                pass
        return {"True": True, "true": True, "False": False, "false": False}.get(value, value)
    return value


def check_size(config: Any, where: str = "config") -> None:
    """Refuse configs that expand (YAML aliases) beyond `MAX_CONFIG_NODES` nodes and
    non-finite numbers (`.nan`, `.inf`), naming the key; stops early on a huge config."""
    count = 0
    stack: list[tuple[str, Any]] = [("", config)]
    while stack:
        key, value = stack.pop()
        count += 1
        if count > MAX_CONFIG_NODES:
            raise ConfigError(f"{where}: more than {MAX_CONFIG_NODES} values (YAML aliases "
                              f"expanding?); near key {key or '<top>'}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{key}: {value} is not a finite number")
        if isinstance(value, dict):
            stack.extend((f"{key}.{k}" if key else str(k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{key}[{i}]", v) for i, v in enumerate(value))


def model_path_problem(path: str | Path) -> str | None:
    """Why `path` cannot be a base model (None: a folder, or a hub id like 'org/name').

    Hub ids have at most one '/' and no leading '.', '/' or '~': anything else is a local path,
    and a missing one is reported as such (not as the hub's "Repo id must be in the form")."""
    text = str(path)
    local = text.startswith((".", "/", "~", "\\")) or text.count("/") > 1 or "\\" in text
    if Path(text).is_file():
        return f"{text!r} is a file; a model is a folder (config.json, weights, tokenizer)"
    if local and not Path(text).expanduser().is_dir():
        return f"local model folder {text!r} does not exist"
    return None


def _check_name(name: Any, key: str) -> None:
    if not isinstance(name, str) or not SAFE_NAME.fullmatch(name):
        raise ConfigError(
            f"{key}: name {name!r} is not allowed; use lowercase letters, digits and '_' "
            f"(pattern {SAFE_NAME.pattern})"
        )


def recipes(config: dict) -> dict[str, dict]:
    """Intermediate recipes by name, `none` included, each with defaults filled in."""
    out: dict[str, dict] = {NONE_RECIPE: {"tasks": [], "mlm": False, "translated": False}}
    for name, recipe in (config.get("recipes") or {}).items():
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

    The target phase's own entry is `finetune` (every target), then `targets.<task>`. A level
    that sets `epochs` but not `max_steps` replaces an inherited `max_steps` (the most specific
    training length wins; within one level `max_steps` wins, as in the engine).
    """
    table = config.get("hparams") or {}
    levels = [table.get("default") or {}]
    if phase == "target":
        levels += [table.get("finetune") or {},
                   (table.get("targets") or {}).get(task, {}) if task else {}]
    else:
        levels.append(table.get(phase) or {})
        if phase == "intermediate" and task:
            levels.append((table.get("intermediate_tasks") or {}).get(task, {}))
    merged: dict = {}
    for level in levels:
        _override(merged, level)
    return merged


def _override(merged: dict, level: dict) -> None:
    if "epochs" in level and "max_steps" not in level:
        merged.pop("max_steps", None)
    merged.update(level)


def recipe_hparams(config: dict, recipe: str) -> dict:
    """Hyper-parameters of an intermediate recipe: its tasks' `hparams(config, "intermediate",
    task)` merged in task order, then `hparams.recipes.<recipe>` (e.g. the steps of a multi-task
    or +MLM recipe, whose steps the tasks share)."""
    merged: dict = {}
    for task in recipes(config)[recipe].get("tasks", []):
        merged.update(hparams(config, "intermediate", task))
    _override(merged, ((config.get("hparams") or {}).get("recipes") or {}).get(recipe) or {})
    return merged


def check_renamed(config: dict, where: str = "config") -> None:
    """Refuse a top-level key that was renamed (`RENAMED_KEYS`), naming the new one."""
    for old, new in RENAMED_KEYS.items():
        if old in config:
            raise ConfigError(f"{where}: key '{old}:' was renamed '{new}:' (the intermediate "
                              f"recipes); rename it")


def check(config: dict) -> None:
    """Raise ConfigError naming the key for anything the schema cannot catch."""
    check_renamed(config)
    check_size(config)
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
    for i, seed in enumerate(config["seeds"]):
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise ConfigError(f"seeds[{i}]: {seed!r} is not an integer in 0..{MAX_SEED}")
    if NONE_RECIPE in (config.get("recipes") or {}):
        raise ConfigError(f"recipes.{NONE_RECIPE}: '{NONE_RECIPE}' is the built-in "
                          "no-intermediate-training baseline; choose another name")
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
        _check_name(name, f"recipes.{name}")
        for j, task in enumerate(recipe.get("tasks", [])):
            key = f"recipes.{name}.tasks[{j}]"
            if task not in registry_:
                raise ConfigError(
                    f"{key}: unknown task {task!r}; known intermediate tasks: "
                    f"{sorted(n for n, t in registry_.items() if t.role != 'pretrain')}"
                )
            if registry_[task].format == "retrieval":
                raise ConfigError(f"{key}: {task!r} has no training data")
            if task in recipe["tasks"][:j]:
                raise ConfigError(f"{key}: {task!r} is listed twice")
        if name != NONE_RECIPE and not recipe.get("tasks"):
            raise ConfigError(f"recipes.{name}.tasks: a recipe needs at least one task")
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
    _check_unique(config)
    for phase in ("default", "pretrain", "intermediate", "finetune"):
        _check_hparams((config.get("hparams") or {}).get(phase) or {}, f"hparams.{phase}")
    for task, values in ((config.get("hparams") or {}).get("targets") or {}).items():
        if task not in registry_ or registry_[task].role != "target":
            raise ConfigError(f"hparams.targets.{task}: unknown target {task!r}; known targets: "
                              f"{sorted(n for n, t in registry_.items() if t.role == 'target')}")
        _check_hparams(values, f"hparams.targets.{task}")
    for task, values in ((config.get("hparams") or {}).get("intermediate_tasks") or {}).items():
        if task not in registry_ or registry_[task].role == "pretrain":
            raise ConfigError(
                f"hparams.intermediate_tasks.{task}: unknown task {task!r}; known intermediate "
                f"tasks: {sorted(n for n, t in registry_.items() if t.role != 'pretrain')}")
        _check_hparams(values, f"hparams.intermediate_tasks.{task}")
    for recipe, values in ((config.get("hparams") or {}).get("recipes") or {}).items():
        if recipe not in all_recipes or recipe == NONE_RECIPE:
            raise ConfigError(f"hparams.recipes.{recipe}: unknown intermediate recipe "
                              f"{recipe!r}; known: {sorted(set(all_recipes) - {NONE_RECIPE})}")
        _check_hparams(values, f"hparams.recipes.{recipe}")
    for stage in config.get("resources") or {}:
        if stage not in RESOURCE_STAGES:
            raise ConfigError(f"resources.{stage}: unknown stage {stage!r}; known: "
                              f"{list(RESOURCE_STAGES)}")


def _check_unique(config: dict) -> None:
    """Lists of names select: a name listed twice is a typo (or doubles jobs)."""
    lists = {f"models.{m}.recipes": e.get("recipes") for m, e in config["models"].items()}
    lists.update({"figures.per_language_recipes":
                  (config.get("figures") or {}).get("per_language_recipes"),
                  "robustness.recipes": (config.get("robustness") or {}).get("recipes"),
                  "robustness.targets": (config.get("robustness") or {}).get("targets"),
                  "alignment.recipes": (config.get("alignment") or {}).get("recipes")})
    for key, values in lists.items():
        if isinstance(values, list):
            for j, value in enumerate(values):
                if value in values[:j]:
                    raise ConfigError(f"{key}[{j}]: {value!r} is listed twice")


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
        if isinstance(value, str) and name not in STRING_HPARAMS:
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
                raise ConfigError(f"recipes.{name}.languages.{task}: {task!r} is not one "
                                  f"of the recipe's tasks {recipe.get('tasks')}")

"""Bad configs are rejected before any job is planned, with a message naming the key."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate
from workflow_utils import REPO, default_config, snakemake, write_config

from xstilts.grid import config as cfg
from xstilts.grid.cost import estimate

SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")


def _validated(config: dict) -> dict:
    config = copy.deepcopy(config)
    validate(config, SCHEMA)
    cfg.check(config)
    return config


def _set(config: dict, dotted: str, value) -> dict:
    node = config
    *parents, last = dotted.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    return config


BAD = [
    ("targets", ["xnli", "nosuchtask"], "targets[1]"),
    ("targets", ["mnli"], "targets[0]"),
    ("targets", [], "targets"),
    ("seeds", [], "seeds"),
    ("recipes.mnli.tasks", ["mnli", "nosuchtask"], "recipes.mnli.tasks[1]"),
    ("recipes.mnli.tasks", ["tatoeba"], "recipes.mnli.tasks[0]"),
    ("models.tiny.init", "magic", "init"),
    ("models.tiny_random.tokenizer_from", "nosuchmodel", "models.tiny_random.tokenizer_from"),
    ("models.tiny_random.recipes", ["nosuchrecipe"], "models.tiny_random.recipes[0]"),
    ("hparams.default.lr", "2e-5", "lr"),
    ("hparams.targets.xnli", {"epochs": -1}, "epochs"),
    ("hparams.targets.nosuchtask", {"epochs": 1}, "hparams.targets.nosuchtask"),
    ("benchmark.source", "xtreme_dir", "benchmark.path"),
    ("retrieval.pooling", "median", "pooling"),
]


@pytest.mark.parametrize(("key", "value", "named"), BAD, ids=[b[0] + "=" + str(b[1]) for b in BAD])
def test_bad_values_are_rejected_naming_the_key(key, value, named):
    config = _set(default_config(), key, value)
    with pytest.raises(Exception) as info:
        _validated(config)
    message = str(info.value) + repr(getattr(info.value, "args", ""))
    assert named.split(".")[-1].split("[")[0] in message


@pytest.mark.parametrize("name", ["a/b", "..", "x;rm -rf", "$(id)", "Upper", "a b"])
def test_unsafe_names_are_rejected(name):
    config = default_config()
    config["recipes"][name] = {"tasks": ["mnli"]}
    with pytest.raises(Exception) as info:
        _validated(config)
    assert "recipes" in str(info.value) + repr(info.value.args)


def test_unsafe_model_name_is_rejected():
    config = default_config()
    config["models"]["../evil"] = {"init": "path", "path": "xlm-roberta-large"}
    with pytest.raises(Exception, match="models|does not match"):
        _validated(config)


def test_shipped_configs_are_valid():
    _validated(default_config())
    _validated(yaml.safe_load((REPO / "config" / "paper.yaml").read_text()))


def test_canonical_json_ignores_key_order():
    assert cfg.canonical_json({"b": 1, "a": {"d": 2, "c": 3}}) == '{"a":{"c":3,"d":2},"b":1}'


def test_hparams_precedence():
    config = _validated(default_config())
    config["hparams"]["targets"]["xnli"] = {"lr": 3.0e-4}
    assert cfg.hparams(config, "target", "xnli")["lr"] == 3.0e-4
    assert cfg.hparams(config, "target", "pawsx")["lr"] == config["hparams"]["default"]["lr"]


def test_recipe_hparams_merge_tasks_then_recipe():
    config = _validated(default_config())
    config["recipes"]["pair"] = {"tasks": ["mnli", "qqp"]}
    config["hparams"]["intermediate_tasks"] = {"mnli": {"max_steps": 10, "lr": 1.0e-4},
                                               "qqp": {"max_steps": 20}}
    config["hparams"]["recipes"] = {"pair": {"max_steps": 30}}
    assert cfg.recipe_hparams(config, "pair")["max_steps"] == 30
    assert cfg.recipe_hparams(config, "pair")["lr"] == config["hparams"]["default"]["lr"]
    del config["hparams"]["recipes"]
    assert cfg.recipe_hparams(config, "pair")["max_steps"] == 20  # the last task's


def test_epochs_of_a_more_specific_level_replace_inherited_steps():
    config = _validated(default_config())
    config["hparams"]["default"]["max_steps"] = 150
    config["hparams"]["targets"]["xnli"] = {"epochs": 2}
    assert "max_steps" not in cfg.hparams(config, "target", "xnli")
    assert cfg.hparams(config, "target", "tydiqa")["max_steps"] == 150
    config["hparams"]["targets"]["xnli"] = {"epochs": 2, "max_steps": 7}
    assert cfg.hparams(config, "target", "xnli")["max_steps"] == 7


def test_cost_estimate_grows_with_seeds():
    paper = _validated(yaml.safe_load((REPO / "config" / "paper.yaml").read_text()))
    one_seed = {**paper, "seeds": [1]}
    assert estimate(paper)["total"] == pytest.approx(3 * estimate(one_seed)["total"])
    assert all(v > 0 for v in estimate(paper).values())


def test_snakemake_rejects_bad_config_before_planning(tmp_path):
    config = _set(default_config(), "targets", ["xnli", "nosuchtask"])
    write_config(tmp_path, config)
    proc = snakemake(tmp_path, "--dry-run", check=False)
    assert proc.returncode != 0
    assert "targets[1]: unknown task 'nosuchtask'" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()


# ---------------------------------------------------------------- hostile configs
HOSTILE = [
    ("recipe-name-newline", lambda c: c["recipes"].update({"mnlix\n": {"tasks": ["mnli"]}}),
     "recipes"),
    ("model-name-newline", lambda c: c["models"].update(
        {"tiny\n": {"init": "path", "path": "assets/models/tiny"}}), "models"),
    ("language-newline", lambda c: c.update(tasks={"xnli": {"languages": ["de\n"]}}),
     "tasks.xnli.languages"),
    ("lr-nan", lambda c: c["hparams"]["default"].update(lr=float("nan")), "hparams.default.lr"),
    ("epochs-inf", lambda c: c["hparams"]["targets"]["xnli"].update(epochs=float("inf")),
     "hparams.targets.xnli.epochs"),
    ("warmup-nan", lambda c: c["hparams"]["finetune"].update(warmup_ratio=float("nan")),
     "warmup_ratio"),
    ("seed-2^32", lambda c: c.update(seeds=[2**32]), "seeds"),
    ("duplicate-task", lambda c: c["recipes"]["mnli"].update(tasks=["mnli", "mnli"]),
     "recipes.mnli.tasks"),
    ("none-redefined", lambda c: c["recipes"].update(none={"tasks": ["mnli"]}),
     "recipes.none"),
    ("unknown-intermediate-task-hparams",
     lambda c: c["hparams"].update(intermediate_tasks={"mnlli": {"lr": 1.0e-5}}),
     "hparams.intermediate_tasks.mnlli"),
    ("unknown-recipe-hparams",
     lambda c: c["hparams"].update(recipes={"mnlli": {"max_steps": 5}}), "hparams.recipes.mnlli"),
    ("non-target-under-targets", lambda c: c["hparams"]["targets"].update(mnli={"epochs": 1}),
     "hparams.targets.mnli"),
    ("misspelt-resource-stage", lambda c: c["resources"].update(finetuen={"runtime": 5}),
     "finetuen"),
    ("recipe-listed-twice", lambda c: c["models"]["tiny_random"].update(
        recipes=["none", "none"]), "models.tiny_random.recipes[1]"),
    ("unknown-optimizer", lambda c: c["hparams"]["default"].update(optim="adamw_bogus"),
     "optim"),
]


@pytest.mark.parametrize(("mutate", "named"), [h[1:] for h in HOSTILE],
                         ids=[h[0] for h in HOSTILE])
def test_hostile_values_are_rejected_naming_the_key(mutate, named):
    config = default_config()
    config["hparams"].setdefault("finetune", {})
    config["recipes"].setdefault("mnli", {"tasks": ["mnli"]})
    mutate(config)
    with pytest.raises(Exception) as info:
        _validated(config)
    message = str(info.value)
    assert named in message or named.replace(".", "']['") in message, message


@pytest.mark.parametrize(("key", "value"), [("optim", "adamw_torch"), ("optim", "sgd"),
                                            ("lr_scheduler", "cosine"), ("max_grad_norm", 0.5)])
def test_engine_string_hparams_are_accepted(key, value):
    config = default_config()
    config["hparams"]["default"][key] = value
    assert _validated(config)["hparams"]["default"][key] == value


def test_schema_hparams_agree_with_the_engine():
    """The schema's hparams are the engine's, with the engine default's type; enumerated
    strings are names transformers accepts."""
    from transformers.trainer_utils import SchedulerType
    from transformers.training_args import OptimizerNames

    from xstilts.engine.training import HPARAM_DEFAULTS

    props = yaml.safe_load(Path(SCHEMA).read_text("utf-8"))["definitions"]["hparams"]["properties"]
    types = {bool: "boolean", int: ("integer", "number"), float: "number", str: "string"}
    for name, prop in props.items():
        default = HPARAM_DEFAULTS[name]
        if default is not None:
            assert prop["type"] in types[type(default)], (name, prop, default)
    assert set(props["optim"]["enum"]) <= {o.value for o in OptimizerNames}
    assert set(props["lr_scheduler"]["enum"]) <= {s.value for s in SchedulerType}
    assert HPARAM_DEFAULTS["optim"] in props["optim"]["enum"]
    assert sorted(cfg.STRING_HPARAMS) == sorted(
        k for k, v in HPARAM_DEFAULTS.items() if isinstance(v, str) or k == "output")


def test_schema_hparams_are_the_engines_config_hparams():
    """Every hparam the engine accepts is a config key, except the few its callers set."""
    from xstilts.engine.training import HPARAM_DEFAULTS

    props = yaml.safe_load(Path(SCHEMA).read_text("utf-8"))["definitions"]["hparams"]["properties"]
    assert set(HPARAM_DEFAULTS) >= cfg.ENGINE_ONLY_HPARAMS
    assert set(props) == set(HPARAM_DEFAULTS) - cfg.ENGINE_ONLY_HPARAMS


def test_resource_stages_are_the_rules_stages():
    import re

    used = {m for path in (REPO / "workflow" / "rules").glob("*.smk")
            for m in re.findall(r'_for\("(\w+)"\)', path.read_text("utf-8"))}
    schema = yaml.safe_load(Path(SCHEMA).read_text("utf-8"))
    assert set(cfg.RESOURCE_STAGES) == used | {"default"}
    assert schema["properties"]["resources"]["propertyNames"]["enum"] == list(cfg.RESOURCE_STAGES)


def test_duplicate_yaml_keys_are_rejected(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("seeds: [1]\ntargets: [xnli]\nseeds: [2]\n", encoding="utf-8")
    with pytest.raises(cfg.ConfigError, match=r"config\.yaml: line 3: duplicate key 'seeds'"):
        cfg.load_file(path)
    path.write_text("hparams:\n  default: {lr: 1.0e-5, lr: 2.0e-5}\n", encoding="utf-8")
    with pytest.raises(cfg.ConfigError, match=r"line 2: duplicate key 'lr'"):
        cfg.load_file(path)


def test_yaml_alias_bomb_is_refused_quickly(tmp_path):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    text = "models: {}\ntargets: [xnli]\nseeds: [1]\nbenchmark:\n  source: synthetic\n" \
        "  synthetic:\n" + "".join(f"    {x}\n" for x in lines)
    path = tmp_path / "bomb.yaml"
    path.write_text(text, encoding="utf-8")
    assert len(text) < 1000  # 10^8 strings once expanded
    with pytest.raises(cfg.ConfigError, match=r"more than \d+ values"):
        cfg.load_file(path)
    with pytest.raises(cfg.ConfigError, match=r"more than \d+ values"):
        cfg.check(yaml.safe_load(text))  # the same config already loaded (as Snakemake does)


def test_config_file_size_is_capped(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("seeds: [1]\n" + "#" * cfg.MAX_CONFIG_BYTES + "\n", encoding="utf-8")
    with pytest.raises(cfg.ConfigError, match="at most"):
        cfg.load_file(path)


def test_shipped_configs_load_strictly():
    for path in [REPO / "config.yaml", *sorted((REPO / "config").glob("*.yaml"))]:
        cfg.load_file(path)


def test_typed_overrides():
    assert cfg.typed_overrides({"seeds": ["1", "2"], "x": {"lr": "1e-5", "on": "True",
                                                            "name": "mnli"}}) == \
        {"seeds": [1, 2], "x": {"lr": 1e-5, "on": True, "name": "mnli"}}


def test_command_line_config_merges_onto_config_yaml(tmp_path):
    """`--config seeds=[1,2]` changes the seeds of config.yaml, not the whole config."""
    import subprocess
    import sys

    write_config(tmp_path, default_config())
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(tmp_path), "--cores", "1", "--dry-run", "--quiet", "rules",
           "--config", "seeds=[1,2]"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text
    one = snakemake(tmp_path, "--dry-run", "--quiet", "rules")
    finetunes = [int(re.search(r"^finetune\s+(\d+)$", t, re.M).group(1))
                 for t in (text, one.stdout + one.stderr)]
    assert finetunes[0] == 2 * finetunes[1], finetunes


def test_old_intermediate_key_is_refused_in_one_line(tmp_path):
    """The recipes' old top-level key `intermediate:` (renamed `recipes:`) fails the config
    check with one line naming both keys, from a file, a loaded config and Snakemake."""
    config = default_config()
    config["intermediate"] = config.pop("recipes")
    path = write_config(tmp_path, config)
    line = "key 'intermediate:' was renamed 'recipes:'"
    with pytest.raises(cfg.ConfigError, match=rf"config\.yaml: {line}"):
        cfg.load_file(path)
    with pytest.raises(cfg.ConfigError, match=line):
        cfg.check(config)
    proc = snakemake(tmp_path, "--dry-run", check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    errors = [x for x in text.splitlines() if "invalid config" in x]
    assert len(errors) == 1 and line in errors[0], text
    assert "Traceback" not in text and not (tmp_path / "results").exists()


def test_snakemake_rejects_duplicate_keys_before_planning(tmp_path):
    write_config(tmp_path, default_config())
    path = tmp_path / "config.yaml"
    path.write_text(path.read_text("utf-8") + "seeds: [7]\n", encoding="utf-8")
    proc = snakemake(tmp_path, "--dry-run", check=False)
    assert proc.returncode != 0
    assert "duplicate key 'seeds'" in proc.stdout + proc.stderr



def test_cost_reads_the_config_strictly(tmp_path, capsys):
    from xstilts.grid.cost import main

    path = tmp_path / "config.yaml"
    path.write_text((REPO / "config.yaml").read_text("utf-8") + "seeds: [1, 2, 3]\n", "utf-8")
    assert main(["--config", str(path)]) == 1
    assert "duplicate key 'seeds'" in capsys.readouterr().err

"""Bad configs are rejected before any job is planned, with a message naming the key."""

from __future__ import annotations

import copy

import pytest
import yaml
from snakemake.utils import validate
from workflow_utils import REPO, default_config, snakemake, write_config

from xstilts import config as cfg
from xstilts.cost import estimate

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
    ("intermediate.mnli.tasks", ["mnli", "nosuchtask"], "intermediate.mnli.tasks[1]"),
    ("intermediate.mnli.tasks", ["tatoeba"], "intermediate.mnli.tasks[0]"),
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
    config["intermediate"][name] = {"tasks": ["mnli"]}
    with pytest.raises(Exception) as info:
        _validated(config)
    assert "intermediate" in str(info.value) + repr(info.value.args)


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

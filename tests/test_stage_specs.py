"""Typed stage specs: one checked place per stage, one line naming the key for a bad spec."""

from __future__ import annotations

import dataclasses
import json

import pytest

from xstilts.grid.config import ConfigError
from xstilts.registry import stages
from xstilts.stages import specs
from xstilts.stages.specs import SPECS, FinetuneSpec, RetrieveSpec

BENCH = {"source": "synthetic", "path": "mini"}
FINETUNE = {"target": "xnli", "benchmark": BENCH, "model_path": "m", "hparams": {}, "seed": 1,
            "out": "o", "scratch": "s"}


ALL_SPECS = {name: stage.spec for name, stage in stages().items()}


def test_every_cli_stage_has_a_frozen_spec():
    assert set(SPECS) < set(ALL_SPECS)  # the core's, then the studies'
    assert {"robustness", "alignment", "robustness-report", "alignment-report",
            "fairness-report"} <= set(ALL_SPECS)
    for name, cls in ALL_SPECS.items():
        assert cls.stage == name and dataclasses.is_dataclass(cls)
        assert cls.__dataclass_params__.frozen, name


def test_no_spec_has_compute_settings():
    """Threads and the time budget are the job's (`specs.Job`), not rerun triggers; only the
    export spec records the pretraining's threads, as provenance of the shipped model."""
    for name, cls in ALL_SPECS.items():
        fields = {f.name for f in dataclasses.fields(cls)}
        assert not fields & {"runtime", "time_budget", "_time_budget"}, name
        assert "threads" not in fields or name == "export", name


@pytest.mark.parametrize(("change", "message"), [
    ({"seed": None}, "finetune spec: missing key 'seed'"),
    ({"threads": 1}, "finetune spec: unknown key(s) ['threads']"),
    ({"encoder": "m"}, "finetune spec: unknown key(s) ['encoder']"),
    ({"seed": "1"}, "finetune spec: key 'seed' must be int, got '1'"),
    ({"seed": True}, "finetune spec: key 'seed' must be int, got True"),
    ({"hparams": []}, "finetune spec: key 'hparams' must be dict, got []"),
    ({"benchmark": {"path": "x"}}, "finetune spec: key 'benchmark' has no 'source'"),
    ({"evaluate": [{"target": "xnli"}]}, "finetune spec: key 'evaluate[0]': evaluate spec: "
                                         "missing key 'benchmark'"),
])
def test_a_bad_spec_is_one_line_naming_the_key(change, message):
    data = {k: v for k, v in {**FINETUNE, **change}.items() if v is not None}
    with pytest.raises(ConfigError) as info:
        FinetuneSpec.from_json(data)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_a_good_spec_round_trips():
    spec = FinetuneSpec.from_json(FINETUNE)
    assert spec.model_path == "m" and spec.upstream == {} and spec.evaluations() == []
    assert FinetuneSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec
    assert FinetuneSpec.parse(spec) is spec
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.seed = 2  # type: ignore[misc]


def test_retrieval_targets_are_checked():
    base = {"benchmark": BENCH, "model_path": "m", "ids": {},
            "retrieval": {"layer": None, "pooling": "mean", "max_length": 32,
                          "sweep_layers": False}}
    with pytest.raises(ConfigError, match=r"key 'targets' lists no targets"):
        RetrieveSpec.from_json({**base, "targets": []})
    with pytest.raises(ConfigError, match=r"key 'targets\[0\]'.*\['predictions'\]"):
        RetrieveSpec.from_json({**base, "targets": [{"target": "tatoeba", "out": "o"}]})


def test_pretrain_needs_what_its_init_reads():
    base = {"benchmark": BENCH, "out": "o", "scratch": "s"}
    with pytest.raises(ConfigError, match="key 'tokenizer' is needed for init: random"):
        specs.PretrainSpec.from_json({**base, "model": {"init": "random"}})
    with pytest.raises(ConfigError, match="key 'hparams' is needed for init: pretrain"):
        specs.PretrainSpec.from_json({**base, "model": {"init": "pretrain"}})


def test_the_cli_refuses_a_bad_spec_with_one_line(capsys):
    from xstilts import cli

    status = cli.main(["finetune", "--spec", json.dumps({**FINETUNE, "threads": 2})],
                      allow_worker=False)
    err = capsys.readouterr().err.strip()
    assert status == 1
    assert err.startswith("xstilts finetune: error: finetune spec: unknown key(s) ['threads']")
    assert "\n" not in err


def test_the_cli_takes_threads_as_an_option(capsys):
    from xstilts import cli

    with pytest.raises(SystemExit) as info:
        cli.main(["finetune", "--spec", json.dumps(FINETUNE), "--threads", "0"],
                 allow_worker=False)
    assert info.value.code == 2 and "--threads: must be at least 1" in capsys.readouterr().err

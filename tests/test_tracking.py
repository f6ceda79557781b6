"""Experiment tracking: the `tracking:` config section, run names, TensorBoard from training."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import yaml
from test_engine_common import SPECS, dataset, tiny_encoder

from xstilts.engine.tracking import ENV_VAR, TrackingError, run_name, settings, trainer_arguments
from xstilts.engine.training import TrainTask, train

REPO = Path(__file__).resolve().parents[1]


def test_settings_come_from_the_spec_then_the_environment(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert settings()["report_to"] == "none"
    monkeypatch.setenv(ENV_VAR, json.dumps({"report_to": "tensorboard", "dir": "tb"}))
    assert settings() == {"report_to": "tensorboard", "offline": False, "project": "xstilts",
                          "dir": "tb"}
    assert settings({"tracking": {"report_to": "none"}})["report_to"] == "none"
    with pytest.raises(TrackingError, match="report_to: 'mlflow' not one of"):
        settings({"tracking": {"report_to": "mlflow"}})


def test_run_names_come_from_the_wildcards_in_the_output_path():
    assert run_name("results/finetune/xlmr_large/anli_plus/xnli/seed1/model") == \
        "finetune/xlmr_large/anli_plus/xnli/seed1"
    assert run_name("/abs/results/intermediate/tiny/mnli/seed3/encoder") == \
        "intermediate/tiny/mnli/seed3"


@pytest.mark.skipif(importlib.util.find_spec("wandb") is not None, reason="wandb is installed")
def test_a_missing_reporter_package_is_one_clear_error():
    with pytest.raises(TrackingError, match="wandb needs the 'wandb' package"):
        trainer_arguments({"report_to": "wandb"}, "x")


def test_schema_accepts_the_tracking_section():
    from snakemake.utils import validate

    schema = str(REPO / "workflow" / "schemas" / "config.schema.yaml")
    config = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    config["tracking"] = {"report_to": "wandb", "offline": True}
    validate(config, schema)
    assert config["tracking"]["dir"] == "results/tracking"
    config["tracking"] = {"report_to": "mlflow"}
    with pytest.raises(Exception, match="validating"):
        validate(config, schema)


def _train(tmp_path: Path, tracking):
    task = TrainTask("cls", SPECS["cls"], dataset("cls", 32))
    out = tmp_path / "results" / "finetune" / "tiny" / "none" / "cls" / "seed1" / "model"
    return train([task], tiny_encoder(), out, tmp_path / "scratch",
                 {"max_steps": 4, "batch_size": 8, "max_length": 32, "logging": 2}, seed=0,
                 threads=1, tracking=tracking)


def test_no_tracking_writes_no_tracking_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    _train(tmp_path, None)
    assert not (tmp_path / "results" / "tracking").exists()
    assert not list(tmp_path.rglob("events.out.tfevents*"))


def test_tensorboard_gets_the_training_curves_under_the_run_name(tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TENSORBOARD_LOGGING_DIR", raising=False)
    monkeypatch.setenv(ENV_VAR, json.dumps({"report_to": "tensorboard",
                                            "dir": str(tmp_path / "tb")}))
    _train(tmp_path, None)  # from the environment, as the workflow hands it over
    events = list((tmp_path / "tb" / "finetune" / "tiny" / "none" / "cls" / "seed1").glob(
        "events.out.tfevents*"))
    assert events
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(events[0].parent))
    acc.Reload()
    assert "train/loss" in acc.Tags()["scalars"]
    assert [e.step for e in acc.Scalars("train/loss")] == [2, 4]

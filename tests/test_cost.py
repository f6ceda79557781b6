"""`xstilts cost`: real task sizes from the registry, per-stage table, retrieval and I/O."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import yaml

from xstilts.cli import main
from xstilts.grid import config as cfg
from xstilts.grid.cost import PEAK_FLOPS, describe_model, estimate, stage_totals, table
from xstilts.tasks.registry import registry

REPO = Path(__file__).resolve().parents[1]


def _paper() -> dict:
    return yaml.safe_load((REPO / "config" / "paper.yaml").read_text())


def _one_job(paper: dict, recipe: dict | None = None, targets=("xnli",)) -> dict:
    config = copy.deepcopy(paper)
    config["models"] = {"xlmr_large": config["models"]["xlmr_large"]}
    config["recipes"] = {"r": recipe} if recipe else {}
    config["models"]["xlmr_large"]["recipes"] = ["r"] if recipe else ["none"]
    config["seeds"] = [1]
    config["targets"] = list(targets)
    return config


def test_every_task_the_grid_can_use_has_a_real_size():
    for name, spec in registry().items():
        if spec.role == "pretrain":
            continue
        if spec.format != "retrieval":
            assert spec.size.get("train", 0) > 0 or spec.train_task, name
            assert spec.size.get("tokens", 0) > 0, name
        if spec.role == "target":
            assert spec.size.get("test", 0) > 0, name


@pytest.mark.parametrize("recipe,targets", [
    ({"tasks": ["sib200"], "languages": {"sib200": "all"}}, ["xcopa"]),
    ({"tasks": ["masakhaner"]}, ["tweet_sentiment"]),
])
def test_the_later_tasks_cost_gpu_hours(recipe, targets):
    hours = estimate(_one_job(_paper(), recipe, targets))
    assert hours["intermediate"] > 0 and hours["finetune"] > 0 and hours["evaluate"] > 0


def test_multilingual_intermediate_data_costs_per_language():
    one = estimate(_one_job(_paper(), {"tasks": ["sib200"]}))["intermediate"]
    every = estimate(_one_job(_paper(), {"tasks": ["sib200"],
                                         "languages": {"sib200": "all"}}))["intermediate"]
    assert every == pytest.approx(one * len(registry()["sib200"].training_languages))


def test_retrieval_counts_the_layers_up_to_the_retrieval_layer():
    config = _one_job(_paper(), None, ["tatoeba"])
    st = stage_totals(config)["retrieve"]
    model = describe_model(config["models"]["xlmr_large"])
    size = registry()["tatoeba"].size
    assert st.flops == pytest.approx(2 * model.params * 14 / 24 * size["test"] * size["tokens"])
    config["retrieval"]["layer"] = 24
    assert stage_totals(config)["retrieve"].flops == pytest.approx(st.flops * 24 / 14)


def test_checkpoint_bytes_follow_the_time_cadence():
    config = _one_job(_paper(), {"tasks": ["mnli"]}, [])
    config["targets"] = ["tatoeba"]  # no fine-tuning: the intermediate job alone writes
    st = stage_totals(config)["intermediate"]
    model = describe_model(config["models"]["xlmr_large"])
    seconds = st.flops / (PEAK_FLOPS * 0.10)
    resumable = math.floor(seconds / 60 / 30)
    assert resumable >= 1
    assert st.saves == resumable + 1  # + the output
    assert st.bytes == pytest.approx(resumable * 12 * model.total + 4 * model.total)
    config["hparams"]["default"]["save_every_minutes"] = 60
    assert stage_totals(config)["intermediate"].saves == math.floor(seconds / 60 / 60) + 1
    assert estimate(config)["checkpoint_io"] > 0


def test_the_table_lists_stages_io_and_assumptions(capsys):
    text = table(cfg_checked(_paper()))
    for word in ("| intermediate |", "| finetune |", "| evaluate |", "| retrieve |",
                 "| **total** |", "written (TB)", "resumable every 30 min",
                 "retrieval layer only", "xlm-roberta-large: N = 302M", "1 GB/s"):
        assert word in text, word
    assert main(["cost", "--config", str(REPO / "config" / "paper.yaml"),
                 "--write-gbs", "0.5"]) == 0
    assert "0.5 GB/s" in capsys.readouterr().out


def cfg_checked(config: dict) -> dict:
    cfg.check(config)
    return config

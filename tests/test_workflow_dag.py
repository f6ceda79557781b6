"""The grid's DAG: job counts, partial reruns after config edits, figures-only regeneration."""

from __future__ import annotations

import copy
import shutil

import pytest
from workflow_utils import default_config, fake_finished_run, planned_jobs, write_config


@pytest.fixture(scope="module")
def finished_template(tmp_path_factory):
    """A working directory whose default grid (minus tydiqa and the qqp recipe) is complete."""
    workdir = tmp_path_factory.mktemp("finished")
    config = default_config()
    config["targets"].remove("tydiqa")
    del config["intermediate"]["qqp"]
    write_config(workdir, config)
    fake_finished_run(workdir)
    assert planned_jobs(workdir) == {}, "a finished grid must say: nothing to be done"
    return workdir, config


@pytest.fixture()
def finished(finished_template, tmp_path):
    """A fresh copy (mtimes kept) of the finished working directory."""
    template, config = finished_template
    workdir = tmp_path / "work"
    shutil.copytree(template, workdir, symlinks=True)
    return workdir, {
        **config,
        "targets": list(config["targets"]),
        "intermediate": dict(config["intermediate"]),
    }


def test_default_grid_is_whole(tmp_path):
    write_config(tmp_path, default_config())
    jobs = planned_jobs(tmp_path)
    recipes = len(default_config()["intermediate"]) + 1  # + none
    # tiny runs every recipe, the no-pretraining control only `none`
    checkpoints = recipes + 1
    assert jobs["intermediate"] == recipes - 1
    # XQuAD and MLQA are evaluated with one SQuAD v1.1 checkpoint
    assert jobs["finetune"] == 6 * checkpoints
    assert jobs["evaluate"] == 7 * checkpoints
    assert jobs["retrieve"] == checkpoints
    assert jobs["pretrain"] == 1  # the control; tiny is the shipped assets/models/tiny
    assert jobs["aggregate"] == jobs["figures"] == 1


def test_adding_a_target_runs_only_its_jobs(finished):
    workdir, config = finished
    config["targets"].append("tydiqa")
    write_config(workdir, config)
    jobs = planned_jobs(workdir)
    checkpoints = len(config["intermediate"]) + 1 + 1
    assert jobs == {
        "finetune": checkpoints,
        "evaluate": checkpoints,
        "labels": 1,
        "aggregate": 1,
        "figures": 1,
        "all": 1,
    }


def test_mlqa_shares_the_xquad_checkpoint_unless_its_hparams_differ(finished):
    workdir, config = finished
    finetuned = {p.name for p in (workdir / "results" / "finetune").glob("*/*/*")}
    assert "xquad" in finetuned and "mlqa" not in finetuned
    assert list((workdir / "results" / "scores").glob("*/*/mlqa/seed1/scores.json"))
    checkpoints = len(config["intermediate"]) + 1 + 1
    shared = planned_jobs(workdir, "--forceall")
    config = copy.deepcopy(config)
    config["hparams"]["targets"]["mlqa"] = {"max_length": 128}
    write_config(workdir, config)
    own = planned_jobs(workdir, "--forceall")
    assert own["finetune"] == shared["finetune"] + checkpoints
    assert own["evaluate"] == shared["evaluate"]


def test_adding_an_intermediate_task_runs_only_its_jobs(finished):
    workdir, config = finished
    config["intermediate"]["qqp"] = {"tasks": ["qqp"]}
    write_config(workdir, config)
    jobs = planned_jobs(workdir)
    assert jobs == {
        "intermediate": 1,
        "finetune": 5,
        "evaluate": 6,
        "retrieve": 1,
        "aggregate": 1,
        "figures": 1,
        "all": 1,
    }


def test_deleting_figures_redoes_only_figures(finished):
    workdir, _ = finished
    (workdir / "results" / "figures" / "improvement_heatmap.png").unlink()
    assert planned_jobs(workdir) == {"figures": 1, "all": 1}

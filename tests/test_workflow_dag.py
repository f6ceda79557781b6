"""The grid's DAG: job counts, partial reruns after config edits, figures-only regeneration."""

from __future__ import annotations

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
    assert jobs["finetune"] == jobs["evaluate"] == 7 * checkpoints
    assert jobs["retrieve"] == checkpoints
    assert jobs["pretrain"] == 2
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


def test_adding_an_intermediate_task_runs_only_its_jobs(finished):
    workdir, config = finished
    config["intermediate"]["qqp"] = {"tasks": ["qqp"]}
    write_config(workdir, config)
    jobs = planned_jobs(workdir)
    assert jobs == {
        "intermediate": 1,
        "finetune": 6,
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

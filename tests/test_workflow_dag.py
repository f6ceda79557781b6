"""The grid's DAG: job counts, partial reruns after config edits, figures-only regeneration."""

from __future__ import annotations

import copy
import os
import shutil

import pytest
from workflow_utils import (
    default_config,
    fake_finished_run,
    planned_jobs,
    snakemake,
    studies_config,
    write_config,
)


@pytest.fixture(scope="module")
def finished_template(tmp_path_factory):
    """A working directory whose default grid (minus tydiqa and the qqp recipe) is complete."""
    workdir = tmp_path_factory.mktemp("finished")
    config = default_config()
    config["targets"].remove("tydiqa")
    del config["recipes"]["qqp"]
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
        "recipes": dict(config["recipes"]),
    }


def _checkpoints(config: dict) -> int:
    """(model, recipe) pairs of the grid: tiny runs every recipe (none included), tiny_bert
    (config/studies.yaml) its listed ones, the no-pretraining control only `none`."""
    recipes = len(config["recipes"]) + 1
    bert = config["models"].get("tiny_bert", {}).get("recipes", [])
    return recipes + len(bert) + 1


PAPER_RECIPES = {"anli_plus", "mnli", "qqp", "squad_v2", "squad_v1", "hellaswag", "ccg",
                 "cosmosqa", "commonsenseqa", "multitask", "anli_plus_mlm",
                 "anli_plus_translated"}
XTREME = ["xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa", "bucc2018", "tatoeba"]


def test_default_grid_is_the_papers_grid_in_miniature(tmp_path):
    """The 9 intermediate tasks + multi-task + MLM + translated (+ none) x XTREME's 9 targets
    for the shipped model, the no-pretraining control on `none`; no study. Fused jobs: one
    fine-tuning job per checkpoint and trained target evaluates it (MLQA reuses XQuAD's
    checkpoint in an evaluate job), one retrieval job per checkpoint for BUCC and Tatoeba."""
    config = default_config()
    assert set(config["recipes"]) == PAPER_RECIPES and config["targets"] == XTREME
    assert {m: e["recipes"] for m, e in config["models"].items()} == {
        "tiny": "all", "tiny_random": ["none"]}
    write_config(tmp_path, config)
    jobs = planned_jobs(tmp_path)
    checkpoints = _checkpoints(config)
    assert checkpoints == 14
    assert jobs == {
        "generate_benchmark": 1, "pretrain": 1, "labels": 9, "intermediate": 12,
        "finetune": 6 * checkpoints, "evaluate": checkpoints, "retrieve": checkpoints,
        "aggregate": 1, "figures": 1, "training_curves": 1, "all": 1}


def test_studies_overlay_adds_the_second_model_targets_recipes_and_studies(tmp_path):
    config = studies_config()
    write_config(tmp_path, config)
    jobs = planned_jobs(tmp_path)
    checkpoints = _checkpoints(config)
    bert = config["models"]["tiny_bert"]["recipes"]
    assert jobs["intermediate"] == len(config["recipes"]) + len(bert) - 1
    # 8 fine-tuned targets (XTREME's 7 trained ones, XCOPA, sentiment; MLQA shares XQuAD's)
    assert jobs["finetune"] == 8 * checkpoints
    assert jobs["evaluate"] == checkpoints
    assert jobs["retrieve"] == checkpoints
    assert jobs["alignment"] == checkpoints
    assert jobs["pretrain"] == 1  # the control; tiny and tiny_bert are shipped in assets/models
    # the perturbation suite once per robustness target; robustness per listed checkpoint
    targets = config["robustness"]["targets"]
    studied = config["robustness"]["recipes"]
    assert jobs["perturb"] == len(targets)
    per_model = [len(studied), len(set(bert) & set(studied)), 1]
    assert jobs["robustness"] == sum(per_model) * len(targets)
    for rule in ("aggregate", "figures", "training_curves", "robustness_report",
                 "alignment_report", "fairness_report"):
        assert jobs[rule] == 1, rule


def test_adding_a_target_runs_only_its_jobs(finished):
    workdir, config = finished
    config["targets"].append("tydiqa")
    write_config(workdir, config)
    jobs = planned_jobs(workdir)
    checkpoints = _checkpoints(config)
    assert jobs == {
        "finetune": checkpoints,  # fine-tuning and evaluation in one job
        "labels": 1,
        "aggregate": 1,
        "figures": 1,
        "training_curves": 1,
        "all": 1,
    }


def test_mlqa_shares_the_xquad_checkpoint_unless_its_hparams_differ(finished):
    workdir, config = finished
    finetuned = {p.name for p in (workdir / "results" / "finetune").glob("*/*/*")}
    assert "xquad" in finetuned and "mlqa" not in finetuned
    assert list((workdir / "results" / "scores").glob("*/*/mlqa/seed1/scores.json"))
    checkpoints = _checkpoints(config)
    shared = planned_jobs(workdir, "--forceall")
    config = copy.deepcopy(config)
    config["hparams"]["targets"]["mlqa"] = {"max_length": 128}
    write_config(workdir, config)
    own = planned_jobs(workdir, "--forceall")
    assert own["finetune"] == shared["finetune"] + checkpoints
    assert shared["evaluate"] == checkpoints
    assert "evaluate" not in own  # MLQA's own fine-tuning job evaluates it


def test_adding_an_intermediate_task_runs_only_its_jobs(finished):
    workdir, config = finished
    config["recipes"]["qqp"] = {"tasks": ["qqp"]}
    write_config(workdir, config)
    jobs = planned_jobs(workdir)
    assert jobs == {
        "intermediate": 1,
        "finetune": 5,  # XTREME's fine-tuned targets but TyDiQA (each job evaluates too)
        "evaluate": 1,  # MLQA with XQuAD's checkpoint
        "retrieve": 1,  # BUCC and Tatoeba
        "aggregate": 1,
        "figures": 1,
        "training_curves": 1,
        "all": 1,
    }


def test_deleting_figures_redoes_only_figures(finished):
    workdir, _ = finished
    (workdir / "results" / "figures" / "improvement_heatmap.png").unlink()
    assert planned_jobs(workdir) == {"figures": 1, "all": 1}


STUB_PYTHON = """#!{python}
import json, os, pathlib, sys
args = sys.argv[1:]
if "--spec" in args:  # a stage: make its outputs, as if it had run
    spec = json.loads(args[args.index("--spec") + 1])
    # fused evaluations and retrieval targets have outputs of their own
    parts = [spec, *spec.get("evaluate", []), *spec.get("targets", [])]
    for part in [p for p in parts if isinstance(p, dict)]:
        for key in ("out", "predictions"):
            path = pathlib.Path(part.get(key) or "")
            if path.suffix:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("{{}}")
            elif part.get(key):
                path.mkdir(parents=True, exist_ok=True)
"""


def test_changing_threads_reruns_nothing(tmp_path, monkeypatch):
    """Threads are a compute setting, not a rerun trigger: after a run (here with a stub
    `python` that makes each stage's outputs, so that Snakemake records every job's params),
    a changed `resources.default.threads` plans nothing, even with the params trigger alone."""
    import sys

    from xstilts.grid import paths as grid

    stub = tmp_path / "bin" / "python"
    stub.parent.mkdir()
    stub.write_text(STUB_PYTHON.format(python=sys.executable))
    stub.chmod(0o755)
    monkeypatch.setenv("PATH", f"{stub.parent}:{os.environ['PATH']}")
    monkeypatch.setenv("XSTILTS_WORKER", "0")
    monkeypatch.setenv("XSTILTS_DATA_CHECK", "0")
    workdir = tmp_path / "work"
    workdir.mkdir()
    config = default_config()
    config["resources"] = {"default": {"threads": 1}}
    write_config(workdir, config)
    # pretraining (the no-pretraining control), fine-tuning (+ its fused evaluation) and the
    # evaluation of a shared checkpoint (MLQA: XQuAD's): threads were in their specs
    targets = [grid.base_model_dir("tiny_random"), grid.scores_file("tiny", "none", "xnli", 1),
               grid.scores_file("tiny", "none", "mlqa", 1)]
    snakemake(workdir, *targets)
    # (the flag before the targets ends the option lists that would take them as values)
    params_only = ("--rerun-triggers", "params", "--dry-run", *targets)
    assert planned_jobs(workdir, "--dry-run", *targets) == {}
    config["resources"]["default"]["threads"] = 2
    write_config(workdir, config)
    assert planned_jobs(workdir, *params_only) == {}
    config["hparams"]["finetune"] = {**config["hparams"].get("finetune", {}), "lr": 1.0e-3}
    write_config(workdir, config)  # while a changed spec still reruns its jobs
    assert planned_jobs(workdir, *params_only) == {"finetune": 2, "evaluate": 1}

"""The workflow end to end on a small slice of the default grid, run for real on CPU, and the
studies overlay on it.

One tiny model pretrained for a few steps, recipes `none` and `mnli`, targets XNLI (classification),
PAN-X (tagging), TyDiQA (QA) and Tatoeba (retrieval), on a small mini-XTREME. Checks every stage's
outputs, that a finished run has nothing to do, that figures are regenerated from the tables
alone, and that the score table is identical when the run is repeated from scratch; then that
the small studies overlay (.test/config/studies.yaml) on the finished slice runs only the
studies' jobs and writes their outputs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from workflow_utils import merged_config, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.slow

TARGETS = ["xnli", "panx", "tydiqa", "tatoeba"]
TEST_CONFIG = Path(__file__).resolve().parents[1] / ".test" / "config" / "config.yaml"
TEST_STUDIES = TEST_CONFIG.with_name("studies.yaml")
STUDY_JOBS = {"perturb": 2, "robustness": 4, "alignment": 2, "robustness_report": 1,
              "alignment_report": 1, "fairness_report": 1, "all": 1}


def small_config() -> dict:
    """The workflow catalog's test configuration, .test/config/config.yaml (a fresh copy)."""
    return yaml.safe_load(TEST_CONFIG.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("run")
    write_config(workdir, small_config())
    snakemake(workdir, "--cores", "2", timeout=900)
    return workdir


@pytest.fixture(scope="module")
def studies_run(finished_run, tmp_path_factory):
    """The finished slice with the studies overlay: only the studies' jobs are planned."""
    workdir = tmp_path_factory.mktemp("studies") / "run"
    shutil.copytree(finished_run, workdir, symlinks=True)
    write_config(workdir, merged_config(TEST_CONFIG, TEST_STUDIES))
    planned = planned_jobs(workdir)
    snakemake(workdir, "--cores", "2", timeout=900)
    return workdir, planned


def test_every_stage_wrote_its_outputs(finished_run):
    results = finished_run / "results"
    for target in TARGETS:
        for recipe in ("none", "mnli"):
            scores = json.loads((results / "scores" / "tiny" / recipe / target / "seed1" /
                                 "scores.json").read_text())
            assert scores["target"] == target and scores["recipe"] == recipe
            assert len(scores["languages"]) >= 12
            pred_dir = results / "predictions" / "tiny" / recipe / "seed1" / target
            assert sorted(p.name for p in pred_dir.iterdir())
        assert (results / "labels" / target).is_dir()
    tidy = pd.read_csv(results / "tables" / "tidy.csv")
    assert set(tidy["target"]) == set(TARGETS)
    assert set(tidy["recipe"]) == {"none", "mnli"}
    for name in ("xtreme", "improvement", "per_language_xnli"):
        for ext in ("csv", "md", "tex"):
            assert (results / "tables" / f"{name}.{ext}").stat().st_size > 0
    for name in ("improvement_heatmap", "xtreme_average", "per_language_tydiqa"):
        assert (results / "figures" / f"{name}.png").stat().st_size > 1000


def test_default_slice_runs_no_study(finished_run):
    results = finished_run / "results"
    for folder in ("perturbed", "robustness", "alignment", "fairness"):
        assert not (results / folder).exists(), folder


def test_research_studies_wrote_their_outputs(studies_run):
    workdir, planned = studies_run
    assert planned == STUDY_JOBS  # the grid's checkpoints and scores are reused
    results = workdir / "results"
    manifest = json.loads((results / "perturbed" / "xnli" / "manifest.json").read_text())
    assert {(s["op"], s["severity"]) for s in manifest["sets"]} == {("char", 0.3),
                                                                    ("code_switch", 0.3)}
    for recipe in ("none", "mnli"):
        for target in ("xnli", "panx"):
            rob = json.loads((results / "robustness" / "tiny" / recipe / target / "seed1" /
                              "robustness.json").read_text())
            assert rob["clean"] and len(rob["sets"]) == 2
        ali = json.loads((results / "alignment" / "tiny" / recipe / "seed1" /
                          "alignment.json").read_text())
        assert ali["languages"]
    for folder in ("tables/robustness", "figures/robustness", "tables/alignment",
                   "figures/alignment", "fairness"):
        assert any((results / folder).iterdir()), folder


def test_training_curves_and_the_forked_jobs_benchmarks(finished_run):
    figures = finished_run / "results" / "figures" / "training"
    assert {p.name for p in figures.glob("*.png")} == {
        "intermediate_tiny.png", "finetune_tiny_xnli.png", "finetune_tiny_panx.png",
        "finetune_tiny_tydiqa.png"}
    bench = finished_run / "results" / "benchmarks" / "finetune" / "tiny" / "mnli" / "xnli"
    header, row = (bench / "seed1.tsv").read_text().splitlines()
    values = dict(zip(header.split("\t"), row.split("\t"), strict=True))
    # the forked job's own numbers (it imported torch and trained), not the thin client's
    assert values["max_vms"] == "NA" and float(values["max_rss"]) > 100
    assert float(values["cpu_time"]) > 0.5


def test_rerun_has_nothing_to_do_and_figures_regenerate_alone(finished_run):
    assert planned_jobs(finished_run) == {}
    (finished_run / "results" / "figures" / "xtreme_average.png").unlink()
    assert planned_jobs(finished_run) == {"figures": 1, "all": 1}
    snakemake(finished_run, "--cores", "1")
    assert (finished_run / "results" / "figures" / "xtreme_average.png").exists()
    assert planned_jobs(finished_run) == {}


def test_hparam_change_reruns_only_its_target(finished_run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(finished_run, workdir, symlinks=True)
    config = small_config()
    config["hparams"]["targets"]["xnli"] = {"lr": 1.0e-3}
    write_config(workdir, config)
    # one job per recipe fine-tunes XNLI and evaluates the checkpoint
    assert planned_jobs(workdir) == {"finetune": 2, "aggregate": 1, "figures": 1,
                                     "training_curves": 1, "all": 1}


def test_repeated_run_gives_identical_scores(finished_run, tmp_path):
    workdir = tmp_path / "again"
    workdir.mkdir()
    write_config(workdir, small_config())
    snakemake(workdir, "--cores", "2", timeout=900)
    first = (finished_run / "results" / "tables" / "tidy.csv").read_text()
    assert (workdir / "results" / "tables" / "tidy.csv").read_text() == first


def test_html_report_has_figures_and_tables(studies_run):
    workdir, _ = studies_run
    snakemake(workdir, "--report", "report.html")
    report = (workdir / "report.html").read_text(encoding="utf-8", errors="replace")
    for name in ("improvement_heatmap.png", "xtreme_average.png", "xtreme.csv",
                 "robustness_mean.png", "fairness", "finetune_tiny_xnli.png"):
        assert name in report

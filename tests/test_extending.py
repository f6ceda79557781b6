"""The documented routes of docs/ARCHITECTURE.md ("How to add ..."), each on its own files only:

- a task: one entry in tasks.yaml (here: a config's `tasks:`, the same fields) -> the registry,
  the data reader of its layout, the config check and the GPU-hour estimate all see it;
- a metric: a function and one `Metric` entry in `xstilts.metrics.METRICS` -> the registry accepts
  it for a task, `compute`, the task score, the tidy scores table and scoring use it;
- a study: its package `src/xstilts/studies/<name>/` (typed spec, `run`, `STAGES`) and its rule file
  `workflow/rules/studies/<name>.smk` -> `xstilts <stage>` runs it, `snakemake` plans it under
  `all` and runs it; no existing file changes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from workflow_utils import REPO, default_config

from xstilts import metrics
from xstilts.analysis.scores import collect
from xstilts.data.load import load_split
from xstilts.grid import config as cfg
from xstilts.grid.cost import estimate
from xstilts.metrics import Metric
from xstilts.tasks.registry import RegistryError, get_task

# A PAWS-X-like target in XTREME's download layout: what a tasks.yaml entry declares.
NEW_TASK = {
    "format": "classification", "role": "target", "labels": ["no", "yes"],
    "languages": ["en", "de"], "metric": "accuracy",
    "size": {"train": 5000, "dev": 500, "test": 800, "tokens": 40},
    "splits": ["train", "validation", "test"],
    "sources": {"xtreme_dir": {"layout": "pair_tsv", "files": {
        "train": "para/train-{lang}.tsv", "validation": "para/dev-{lang}.tsv",
        "test": "para/test-{lang}.tsv"}}},
}


def test_a_task_is_one_registry_entry(tmp_path):
    extra = {"para": NEW_TASK}
    task = get_task("para", extra)
    assert (task.format, task.role, task.metric) == ("classification", "target", "accuracy")

    (tmp_path / "para").mkdir()
    (tmp_path / "para" / "train-en.tsv").write_text("a cat\tthe cat\tyes\nrain\tsun\tno\n")
    data = load_split(task, "train", "en", {"kind": "xtreme_dir", "path": str(tmp_path)})
    assert data["text_a"] == ["a cat", "rain"]
    assert [data.features["label"].int2str(x) for x in data["label"]] == ["yes", "no"]

    config = default_config()
    config["tasks"] = extra
    config["targets"] = [*config["targets"], "para"]
    cfg.check(config)
    with_task = estimate(config)
    config["targets"] = config["targets"][:-1]
    assert with_task["finetune"] > estimate(config)["finetune"]


def _exact_words(predictions, references, lang):
    """A toy metric: share of predictions equal to the reference up to case (percent)."""
    hits = [p.lower() == r.lower() for p, r in zip(predictions, references, strict=True)]
    return {"accuracy": 100.0 * sum(hits) / len(hits)}


def test_a_metric_is_one_metric_entry(tmp_path, monkeypatch):
    # the edit the docs describe: `Metric("exact_words", ...)` in xstilts.metrics.METRICS
    monkeypatch.setitem(metrics.METRICS, "exact_words",
                        Metric("exact_words", _exact_words, ("accuracy",)))
    task = get_task("para", {"para": {**NEW_TASK, "metric": "exact_words"}})
    assert task.metric == "exact_words"
    scores = metrics.compute(task.metric, ["Yes", "no"], ["yes", "yes"], "en")
    assert scores == {"accuracy": 50.0}
    assert metrics.task_score(task.metric, scores) == 50.0

    path = tmp_path / "scores.json"
    path.write_text(json.dumps({"model": "tiny", "recipe": "none", "seed": 1,
                                "target": "para", "task_metric": "exact_words",
                                "languages": {"de": scores}}))
    tidy = collect([path])
    assert tidy[tidy["metric"] == "score"]["value"].tolist() == [50.0]


def test_an_unknown_metric_is_refused_by_name():
    with pytest.raises(RegistryError, match="metric 'exact_words' not one of"):
        get_task("para", {"para": {**NEW_TASK, "metric": "exact_words"}})


# A toy study, the two files the docs describe: how many languages each target is evaluated in.
STUDY_PACKAGE = '''"""Coverage study: the evaluation languages of every target."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from xstilts.io.atomic import write_json
from xstilts.stages.registry import Stage
from xstilts.stages.specs import DEFAULT_JOB, Job, StageSpec
from xstilts.tasks.registry import get_task


@dataclass(frozen=True)
class CoverageSpec(StageSpec):
    """The targets' language counts into `out` (JSON)."""

    stage: ClassVar[str] = "language-coverage"
    targets: list[str]
    out: str
    include_english: bool = True
    tasks: dict = field(default_factory=dict)


def run(spec: CoverageSpec | dict, job: Job = DEFAULT_JOB) -> None:
    spec = CoverageSpec.parse(spec)
    counts = {}
    for name in spec.targets:
        languages = get_task(name, spec.tasks).languages
        counts[name] = len([x for x in languages if spec.include_english or x != "en"])
    write_json(spec.out, counts)


STAGES = (Stage(CoverageSpec, __name__),)
'''

STUDY_RULES = '''# Study: coverage (src/xstilts/studies/coverage/, config key `coverage:`).

COVERAGE = {"include_english": True, **config.get("coverage", {})}


localrules:
    language_coverage,


rule language_coverage:
    output:
        f"{xgrid.RESULTS}/coverage.json",
    log:
        "results/logs/language_coverage.log",
    params:
        spec=lambda w: spec_json(
            "language-coverage",
            dict(
                targets=config["targets"],
                tasks=task_overrides(),
                include_english=COVERAGE["include_english"],
                out=f"{xgrid.RESULTS}/coverage.json",
            ),
        ),
    shell:
        "exec python -m xstilts language-coverage --spec {params.spec:q} > {log} 2>&1"


STUDY_OUTPUTS.append(rules.language_coverage.output)
'''


def _git(repo, *args):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True,
                          check=True).stdout


def _copy_of_the_repo(dest):
    """The checkout's files (tracked and new, not ignored) in a fresh git repository."""
    files = _git(REPO, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for name in filter(None, files.split("\0")):
        if (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "copy")


def test_a_study_is_its_package_and_its_rule_file(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _copy_of_the_repo(repo)
    package = repo / "src" / "xstilts" / "studies" / "coverage"
    package.mkdir()
    (package / "__init__.py").write_text(STUDY_PACKAGE, encoding="utf-8")
    (repo / "workflow" / "rules" / "studies" / "coverage.smk").write_text(STUDY_RULES,
                                                                         encoding="utf-8")
    assert _git(repo, "status", "--porcelain", "--untracked-files=all").splitlines() == [
        "?? src/xstilts/studies/coverage/__init__.py", "?? workflow/rules/studies/coverage.smk"]

    env = {**os.environ, "PYTHONPATH": str(repo / "src"), "XSTILTS_DATA_CHECK": "0",
           "XSTILTS_WORKER": "0"}
    # the stage: `xstilts language-coverage`, its spec checked by its class
    out = tmp_path / "direct.json"
    spec = {"targets": ["xnli", "pawsx"], "include_english": False, "out": str(out)}
    cmd = [sys.executable, "-m", "xstilts", "language-coverage"]
    proc = subprocess.run([*cmd, "--spec", json.dumps(spec)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text()) == {"xnli": 14, "pawsx": 6}
    proc = subprocess.run([*cmd, "--spec", json.dumps({**spec, "include_english": "no"})],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "xstilts language-coverage: error: language-coverage spec: key 'include_english' must "
        "be bool, got 'no'")

    # the workflow: planned under `all` with the default config, then run
    workdir = tmp_path / "work"
    workdir.mkdir()
    snakemake = [sys.executable, "-m", "snakemake", "--snakefile", str(repo / "Snakefile"),
                 "--directory", str(workdir), "--configfile", str(repo / "config.yaml"),
                 "--cores", "1"]
    proc = subprocess.run([*snakemake, "--dry-run", "--printshellcmds"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "rule language_coverage:" in proc.stdout
    assert "exec python -m xstilts language-coverage --spec" in proc.stdout
    proc = subprocess.run([*snakemake, "language_coverage"], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    targets = default_config()["targets"]
    counts = json.loads((workdir / "results" / "coverage.json").read_text())
    assert counts == {t: len(get_task(t).languages) for t in targets}


def test_a_study_stage_takes_a_new_name(tmp_path, monkeypatch):
    """Two declarations of one stage name: an error naming both places, not a silent choice."""
    import xstilts.studies
    from xstilts import registry

    (tmp_path / "shadow").mkdir()
    (tmp_path / "shadow" / "__init__.py").write_text(
        "from xstilts.stages.registry import Stage\n"
        "from xstilts.stages.specs import EvaluateSpec\n"
        "STAGES = (Stage(EvaluateSpec, __name__),)\n", encoding="utf-8")
    monkeypatch.setattr(xstilts.studies, "__path__", [*xstilts.studies.__path__, str(tmp_path)])
    registry.stages.cache_clear()
    try:
        assert "shadow" in registry.studies()
        with pytest.raises(ValueError, match=r"xstilts\.studies\.shadow\.STAGES: stage "
                                             r"'evaluate' is already declared by "
                                             r"xstilts\.stages\.registry\.CORE"):
            registry.stages()
    finally:
        monkeypatch.undo()
        sys.modules.pop("xstilts.studies.shadow", None)
        registry.stages.cache_clear()
    assert "evaluate" in registry.stages()

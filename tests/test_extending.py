"""The documented routes of docs/ARCHITECTURE.md ("How to add ..."), each on its own files only:

- a task: one entry in tasks.yaml (here: a config's `tasks:`, the same fields) -> the registry,
  the data reader of its layout, the config check and the GPU-hour estimate all see it;
- a metric: a function and one `Metric` entry in `xstilts.metrics.METRICS` -> the registry accepts
  it for a task, `compute`, the task score, the tidy scores table and scoring use it.
"""

from __future__ import annotations

import json

import pytest
from workflow_utils import default_config

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

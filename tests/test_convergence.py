"""Convergence checks: chance levels, the per-task dev report of (multi-task) training, the
intermediate stage's dev score file and the intermediate_dev table."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pytest
from test_engine_common import SPECS, dataset, tiny_encoder
from test_multilingual_intermediate import mini  # noqa: F401  (fixture)

from xstilts.engine.convergence import (
    above_chance,
    chance_loss,
    chance_score,
    constant_predictions,
    entropy,
)
from xstilts.engine.training import TrainTask, train

FAST = {"lr": 5e-3, "batch_size": 8, "max_length": 48, "doc_stride": 16, "warmup_ratio": 0.0,
        "logging": 2, "save_every": 1000}


def test_chance_of_balanced_and_skewed_labels() -> None:
    train, dev = dataset("cls", 40), dataset("cls", 20, seed=1)  # labels alternate: balanced
    assert chance_score(SPECS["cls"], train, dev) == pytest.approx(0.5)
    skewed = train.select([i for i in range(40) if i % 4])  # 2/3 "yes"
    assert constant_predictions(SPECS["cls"], skewed, dev) == ["yes"] * 20
    assert entropy([0, 1, 2] * 5) == pytest.approx(math.log(3))
    assert entropy([1] * 7) == 0.0


def test_chance_of_multiple_choice_tagging_and_qa() -> None:
    mc_train, mc_dev = dataset("mc", 30), dataset("mc", 30, seed=1)
    assert chance_score(SPECS["mc"], mc_train, mc_dev) == pytest.approx(1 / 3)
    tag_train, tag_dev = dataset("tag", 30), dataset("tag", 10, seed=1)
    preds = constant_predictions(SPECS["tag"], tag_train, tag_dev)
    assert all(set(p) == {"O"} and len(p) == len(t) for p, t in zip(preds, tag_dev["tokens"],
                                                                   strict=True))
    assert chance_score(SPECS["tag"], tag_train, tag_dev) == 0.0  # seqeval: no entity found
    qa2 = dataset("qa2", 30)  # every third question is unanswerable: "" is right for those
    assert chance_score(SPECS["qa2"], qa2, qa2) == pytest.approx(1 / 3)


def test_chance_loss_of_features() -> None:
    assert chance_loss("classification", {"labels": [0, 1, 0, 1]}) == pytest.approx(math.log(2))
    assert chance_loss("tagging", {"labels": [[-100, 0, 1, -100], [2, -100]]}) == \
        pytest.approx(math.log(3))
    assert chance_loss("qa", {"start_positions": [3, 3], "end_positions": [4, 5]}) == \
        pytest.approx(math.log(2) / 2)
    assert chance_loss("mlm", {}) is None
    assert above_chance(0.40, 1 / 3) and not above_chance(0.35, 1 / 3)


def test_multitask_summary_reports_every_tasks_dev_score(tmp_path) -> None:
    tasks = [TrainTask("cls", SPECS["cls"], dataset("cls", 64), dataset("cls", 24, seed=1)),
             TrainTask("tag", SPECS["tag"], dataset("tag", 64), dataset("tag", 24, seed=1)),
             TrainTask("mlm", SPECS["mlm"], dataset("mlm", 32))]
    summary = train(tasks, tiny_encoder(), tmp_path / "out", tmp_path / "scratch",
                    {**FAST, "max_steps": 6}, seed=0, threads=1)
    assert set(summary["dev_scores"]) == {"cls", "tag"}  # MLM has no dev score
    assert summary["chance_loss"]["cls"] == pytest.approx(math.log(2), rel=0.05)
    assert all(0.0 <= v <= 1.0 for v in summary["dev_scores"].values())
    written = json.loads((tmp_path / "out" / "train_summary.json").read_text())
    assert written["dev_scores"] == summary["dev_scores"]


def test_single_task_dev_score_is_the_early_stopping_score(tmp_path) -> None:
    task = TrainTask("cls", SPECS["cls"], dataset("cls", 64), dataset("cls", 24, seed=1))
    summary = train([task], tiny_encoder(), tmp_path / "out", tmp_path / "scratch",
                    {**FAST, "max_steps": 16, "eval_every": 8}, seed=0, threads=1,
                    eval_task=task)
    assert summary["dev_scores"] == {"cls": summary["best_dev_metric"]}


def _report(tasks: dict, recipe: str = "mnli") -> dict:
    return {"model": "tiny", "recipe": recipe, "seed": 1, "steps": 90, "max_steps": 120,
            "best_step": 60, "train_loss": 0.5, "tasks": tasks}


def test_dev_report_marks_chance(monkeypatch) -> None:
    from xstilts.stages import intermediate

    train, dev = dataset("cls", 40), dataset("cls", 20, seed=1)
    tasks = [TrainTask("cls", SPECS["cls"], train, dev),
             TrainTask("mlm", SPECS["mlm"], dataset("mlm", 8))]
    summary = {"steps": 90, "max_steps": 120, "best_step": 60, "final_loss": 0.69,
               "dev_scores": {"cls": 0.52}, "chance_loss": {"cls": math.log(2)}}
    spec = SimpleNamespace(seed=1, model_name="tiny", recipe_name="cls_mlm")
    report = intermediate.dev_report(spec, tasks, summary)
    assert report["recipe"] == "cls_mlm" and set(report["tasks"]) == {"cls"}
    entry = report["tasks"]["cls"]
    assert entry["chance"] == pytest.approx(0.5) and entry["above_chance"] is False
    summary["dev_scores"]["cls"] = 0.9
    assert intermediate.dev_report(spec, tasks, summary)["tasks"]["cls"]["above_chance"]
    assert intermediate.early_stopping_task(tasks).name == "cls"  # MLM mixed in: still one
    assert intermediate.early_stopping_task(tasks[:1] * 2) is None  # multi-task: max_steps


def test_intermediate_dev_table(tmp_path) -> None:
    from xstilts.analysis.scores import intermediate_dev_table, write_intermediate_dev

    entry = {"metric": "accuracy", "dev": 0.8, "chance": 1 / 3, "above_chance": True,
             "chance_loss": math.log(3)}
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(_report({"mnli": entry})))
    b.write_text(json.dumps(_report({"mnli": {**entry, "dev": 0.34, "above_chance": False},
                                     "qqp": entry}, "multitask")))
    table = intermediate_dev_table([a, b])
    assert list(table["recipe"]) == ["mnli", "multitask", "multitask"]
    assert table["dev"].iloc[0] == pytest.approx(80.0)
    assert table["chance"].iloc[0] == pytest.approx(100 / 3)
    assert list(table["above_chance"]) == [True, False, True]
    paths = write_intermediate_dev([a, b], tmp_path / "tables")
    assert [p.name for p in paths] == ["intermediate_dev.csv", "intermediate_dev.md"]
    assert "33.33" in paths[1].read_text()


def test_intermediate_dev_table_names_a_bad_file(tmp_path) -> None:
    from xstilts.analysis.scores import intermediate_dev_table
    from xstilts.data.schema import DataError

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"model": "tiny", "tasks": {"mnli": {}}}))
    with pytest.raises(DataError, match="bad.json"):
        intermediate_dev_table([bad])


def test_intermediate_stage_writes_its_dev_scores(mini, tmp_path) -> None:  # noqa: F811
    """The stage early-stops a single-task recipe on its dev set and writes the dev score file
    last, next to the encoder."""
    from test_engine_common import tiny_encoder
    from test_multilingual_intermediate import _spec

    from xstilts.stages import intermediate

    dev_out = tmp_path / "dev_scores.json"
    spec = _spec(mini, model_path=str(tiny_encoder()), out=str(tmp_path / "out"),
                 scratch=str(tmp_path / "scratch"), dev_out=str(dev_out), model_name="tiny",
                 recipe_name="sib", hparams={**FAST, "max_steps": 4, "eval_every": 2},
                 recipe={"tasks": ["sib200"], "mlm": False})
    intermediate.run(spec)
    report = json.loads(dev_out.read_text())
    assert (report["model"], report["recipe"], report["seed"]) == ("tiny", "sib", 1)
    entry = report["tasks"]["sib200"]
    assert entry["metric"] == "accuracy" and entry["chance"] == pytest.approx(2 / 8)
    summary = json.loads((tmp_path / "out" / "train_summary.json").read_text())
    assert summary["best_step"] is not None  # evaluated on dev: early stopping was on
    assert entry["dev"] == summary["best_dev_metric"]

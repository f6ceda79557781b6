"""Training: loss decreases, determinism, resume, NaN guard, time budget, multi-task, output
layout."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file
from test_engine_common import SPECS, dataset, tiny_encoder

from xstilts.engine.multitask import length_grouped_batches
from xstilts.engine.stops import NonFiniteLossError, SimulatedKill, TimeBudget, TimeBudgetExceeded
from xstilts.engine.training import TrainTask, train

FAST = {"lr": 5e-3, "batch_size": 8, "max_length": 48, "doc_stride": 16, "warmup_ratio": 0.0,
        "logging": 2, "save_every": 1000}


def task(name: str, n: int = 64, dev: int = 0) -> TrainTask:
    return TrainTask(name, SPECS[name], dataset(name, n), dataset(name, dev, seed=1) if dev
                     else None)


def weights(path) -> dict[str, torch.Tensor]:
    return load_file(str(path / "model.safetensors"))


def run(tmp_path, tag: str, tasks, hparams, seed=0, **kw):
    out, scratch = tmp_path / f"out-{tag}", tmp_path / f"scratch-{tag}"
    summary = train(tasks, tiny_encoder(), out, scratch, {**FAST, **hparams}, seed=seed,
                    threads=1, **kw)
    return out, scratch, summary


def test_short_training_decreases_loss_and_writes_output(tmp_path):
    out, scratch, summary = run(tmp_path, "a", [task("cls")], {"max_steps": 24})
    losses = [h["loss"] for h in json.loads((out / "train_log.json").read_text()) if "loss" in h]
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3
    assert summary["steps"] == 24 and summary["output"] == "model"
    files = {p.name for p in out.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "train_summary.json",
            "engine_config.json"} <= files
    assert json.loads((out / "train_summary.json").read_text())["steps"] == 24
    assert not list(tmp_path.glob(".out-a.tmp*"))  # temp dir renamed away
    assert not list(scratch.glob("checkpoint-*"))  # scratch freed after success
    assert any(k.startswith("classifier.") for k in weights(out))


def test_same_seed_same_weights(tmp_path):
    a, _, _ = run(tmp_path, "a", [task("tag")], {"max_steps": 6}, seed=3)
    b, _, _ = run(tmp_path, "b", [task("tag")], {"max_steps": 6}, seed=3)
    c, _, _ = run(tmp_path, "c", [task("tag")], {"max_steps": 6}, seed=4)
    wa, wb, wc = weights(a), weights(b), weights(c)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)


@pytest.mark.parametrize("names", [["cls"], ["mlm"], ["cls", "mlm"]],
                         ids=["single", "mlm", "multi+mlm"])
def test_resume_after_kill_matches_uninterrupted_run(tmp_path, names, caplog):
    hp = {"max_steps": 12, "save_every": 3}
    tasks = [task(n, 48) for n in names]  # 6 batches per epoch: the run crosses an epoch
    full, _, s_full = run(tmp_path, "full", tasks, hp)
    with pytest.raises(SimulatedKill):
        run(tmp_path, "res", tasks, {**hp, "kill_at_step": 7})
    assert not (tmp_path / "out-res").exists()  # nothing written by the killed job
    caplog.set_level("INFO", logger="xstilts.engine.training")
    res, _, s_res = run(tmp_path, "res", tasks, hp)
    assert "resuming from step 6" in caplog.text
    assert s_res["resumed_from_step"] == 6 and s_res["steps"] == 12
    assert s_res["final_loss"] == pytest.approx(s_full["final_loss"], abs=0, rel=1e-6)
    wf, wr = weights(full), weights(res)
    assert wf.keys() == wr.keys()
    assert all(torch.equal(wf[k], wr[k]) for k in wf)


def test_rerun_after_final_checkpoint_rewrites_the_same_output(tmp_path, caplog):
    t = task("cls", 32, dev=8)
    hp = {"max_steps": 8, "eval_every": 4, "keep_checkpoints": True}
    out, _, first = run(tmp_path, "a", [t], hp, eval_task=t)
    before = weights(out)
    shutil.rmtree(out)  # as if the job died while writing its output
    caplog.set_level("INFO", logger="xstilts.engine.training")
    _, _, second = run(tmp_path, "a", [t], hp, eval_task=t)
    assert "resuming from step 8" in caplog.text
    assert second["best_dev_metric"] == first["best_dev_metric"]
    after = weights(out)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_stale_scratch_from_another_run_is_not_resumed(tmp_path):
    run(tmp_path, "a", [task("cls")], {"max_steps": 4, "save_every": 2})
    _, _, summary = run(tmp_path, "a", [task("cls")], {"max_steps": 4, "save_every": 2,
                                                        "lr": 1e-3})
    assert summary["resumed_from_step"] is None


def test_nan_loss_stops_with_a_clear_error(tmp_path, monkeypatch):
    # checked on the loss accumulated since the last log (logging every 2 steps)
    with pytest.raises(NonFiniteLossError, match="non-finite training loss .* in steps 3-4"):
        run(tmp_path, "nan", [task("cls")], {"max_steps": 6, "inject_nan_at_step": 3})
    monkeypatch.setenv("XSTILTS_INJECT_NAN_AT_STEP", "2")
    with pytest.raises(NonFiniteLossError, match="in steps 1-2"):
        run(tmp_path, "nan2", [task("qa")], {"max_steps": 6})
    assert not (tmp_path / "out-nan").exists()


class AfterSteps(TimeBudget):
    """A budget used up after `n` steps: a deterministic stand-in for the clock."""

    def __init__(self, n: int):
        super().__init__(seconds=0.0)
        object.__setattr__(self, "left", n)

    def exhausted(self) -> bool:
        object.__setattr__(self, "left", self.left - 1)
        return self.left <= 0


def test_used_up_time_budget_saves_the_step_raises_and_resumes_exactly(tmp_path, caplog):
    """A run with dev eval every 6 steps, best-model selection, early stopping and 8 batches
    per epoch stops at step 1 (mid-epoch 0), at 8 (an epoch's end) and at 11 (mid-epoch 1,
    after an eval): resumed three times, it ends exactly as the uninterrupted run."""
    t = task("cls", 64, dev=16)
    hp = {"max_steps": 20, "eval_every": 6, "early_stopping_patience": 2}
    full, _, s_full = run(tmp_path, "full", [t], hp, eval_task=t)
    with pytest.raises(TimeBudgetExceeded, match=r"time budget of 0s used up at step 1 of 20; "
                       r"progress is saved in .*scratch-b; a rerun resumes from step 1 "):
        run(tmp_path, "b", [t], hp, eval_task=t, time_budget=0)
    assert not (tmp_path / "out-b").exists()
    assert (tmp_path / "scratch-b" / "checkpoint-1" / "trainer_state.json").is_file()
    caplog.set_level("INFO", logger="xstilts.engine.training")
    for budget, stop in ((AfterSteps(7), 8), (AfterSteps(3), 11)):
        with pytest.raises(TimeBudgetExceeded, match=f"at step {stop} of 20"):
            run(tmp_path, "b", [t], hp, eval_task=t, time_budget=budget)
        assert not (tmp_path / "out-b").exists()
    assert "resuming from step 1 (" in caplog.text and "resuming from step 8 (" in caplog.text
    res, _, s_res = run(tmp_path, "b", [t], hp, eval_task=t, time_budget=60.0)
    assert s_res["resumed_from_step"] == 11
    same = ("steps", "best_dev_metric", "best_step", "final_dev_metric", "final_loss")
    assert {k: s_res[k] for k in same} == {k: s_full[k] for k in same}
    assert s_res["train_loss"] == pytest.approx(s_full["train_loss"], rel=1e-6)
    wf, wr = weights(full), weights(res)
    assert all(torch.equal(wf[k], wr[k]) for k in wf)


def test_time_budget_from_runtime(monkeypatch):
    monkeypatch.delenv("XSTILTS_RUNTIME_MINUTE_S", raising=False)
    assert TimeBudget.from_runtime(10, start=5.0) == TimeBudget(540.0, 5.0)
    monkeypatch.setenv("XSTILTS_RUNTIME_MINUTE_S", "2")
    assert TimeBudget.from_runtime(3).seconds == pytest.approx(5.4)
    assert not TimeBudget.from_runtime(3).exhausted()
    assert TimeBudget(1.0, start=0.0).exhausted()
    for bad in ("0", "x", "nan"):
        monkeypatch.setenv("XSTILTS_RUNTIME_MINUTE_S", bad)
        with pytest.raises(ValueError, match="XSTILTS_RUNTIME_MINUTE_S must be a positive"):
            TimeBudget.from_runtime(3)
    with pytest.raises(ValueError, match="positive number of minutes"):
        TimeBudget.from_runtime(0)


def test_multitask_with_mlm_writes_encoder_only(tmp_path):
    out, _, summary = run(tmp_path, "mt", [task("mc", 24), task("mlm", 48)], {"max_steps": 6},
                          sampler={"kind": "uniform"})
    assert summary["output"] == "encoder" and summary["steps"] == 6
    keys = weights(out)
    assert "embeddings.word_embeddings.weight" in keys
    assert not any(k.startswith(("heads.", "lm_head", "classifier")) for k in keys)
    from transformers import AutoModel

    AutoModel.from_pretrained(str(out))  # AutoModel layout


def test_eval_keeps_best_checkpoint_and_stops_early(tmp_path):
    t = task("cls", 64, dev=16)
    out, _, summary = run(tmp_path, "ev", [t], {"epochs": 50, "eval_every": 4,
                                                "early_stopping_patience": 2, "lr": 1e-6},
                          eval_task=t)
    assert summary["steps"] < 50 * 8  # stopped early (no improvement at lr 1e-6)
    assert summary["best_dev_metric"] is not None
    assert summary["best_step"] <= summary["steps"]


def test_unknown_hparam_and_scratch_inside_out(tmp_path):
    with pytest.raises(ValueError, match="unknown hparams"):
        train([task("cls")], tiny_encoder(), tmp_path / "o", tmp_path / "s", {"lrate": 1},
              seed=0, threads=1)
    with pytest.raises(ValueError, match="outside out_dir"):
        train([task("cls")], tiny_encoder(), tmp_path / "o", tmp_path / "o" / "s", {}, seed=0,
              threads=1)


def test_length_grouped_batches_cover_all_indices_once():
    import numpy as np

    lengths = list(np.random.default_rng(0).integers(5, 100, size=203))
    batches = length_grouped_batches(lengths, 8, np.random.default_rng(1), mega=4)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(203))
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches])
    random_batches = length_grouped_batches(lengths, 8, np.random.default_rng(1), group=False)
    spread_random = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b)
                             for b in random_batches])
    assert spread < spread_random / 2

"""Fault injection on real processes: a fine-tuning job SIGKILLed mid-training resumes exactly;
Snakemake SIGKILLed mid-grid redoes only unfinished jobs; a diverging job fails with one clear
line while `--keep-going` finishes the others; a job that runs out of its runtime on its first
attempt checkpoints, and succeeds under `--retries` (more runtime) with the uninterrupted result.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from test_bad_inputs import tiny_sizes
from test_engine_common import tiny_encoder
from workflow_utils import REPO, default_config, planned_jobs, snakemake, write_config

from xstilts.engine.stops import RUNTIME_BUDGET_FRACTION

pytestmark = pytest.mark.slow

SRC = str(REPO / "src")
TARGETS = ["xnli", "panx"]
LANGS = ["en", "dano"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("XSTILTS_INJECT_NAN_AT_STEP", "XSTILTS_RUNTIME_MINUTE_S", "SLURM_JOB_ID")}
    return {**env, "PYTHONPATH": SRC, **extra}


def _wait_for(condition, proc: subprocess.Popen, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"process ended (status {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


# ------------------------------------------------------------------ 1. SIGKILL + resume
HPARAMS = {"max_steps": 60, "save_every": 4, "batch_size": 8, "max_length": 48, "lr": 5e-4,
           "logging": 4}


@pytest.fixture(scope="module")
def finetune_inputs(tmp_path_factory) -> dict:
    from xstilts.data.synthetic import generate

    root = tmp_path_factory.mktemp("ft-bench") / "mini"
    generate(root, {"seed": 2, "languages": ["en", "dano"],
                    "sizes": {**tiny_sizes(), "xnli": {"train": 160, "validation": 16, "test": 8}},
                    "translated_train": 4, "parallel": 4,
                    "mlm": {"high": 20, "mid": 10, "low": 5, "validation": 2}})
    return {"target": "xnli", "benchmark": {"source": "synthetic", "path": str(root)},
            "tasks": {}, "model_path": str(tiny_encoder()), "hparams": HPARAMS, "seed": 1}


def _finetune(spec: dict, where: Path, log: Path) -> subprocess.Popen:
    spec = {**spec, "out": str(where / "out"), "scratch": str(where / "scratch")}
    with open(log, "w") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "xstilts", "finetune", "--spec", json.dumps(spec),
             "--threads", "1"],
            stdout=handle, stderr=subprocess.STDOUT, env=_env(XSTILTS_WORKER="0"))


def _complete_checkpoints(scratch: Path) -> list[int]:
    """Steps of the checkpoints whose trainer_state.json (written last) is complete."""
    steps = []
    for state in scratch.glob("checkpoint-*/trainer_state.json"):
        try:
            steps.append(json.loads(state.read_text())["global_step"])
        except (OSError, ValueError, KeyError):
            continue
    return sorted(steps)


@pytest.fixture(scope="module")
def resumed_finetune(finetune_inputs, tmp_path_factory) -> dict:
    """An uninterrupted run, and a run SIGKILLed after its first checkpoint and rerun (the two
    first ones run side by side)."""
    tmp = tmp_path_factory.mktemp("finetune")
    full, killed = tmp / "full", tmp / "killed"
    reference = _finetune(finetune_inputs, full, tmp / "full.log")
    victim = _finetune(finetune_inputs, killed, tmp / "killed.log")
    try:
        _wait_for(lambda: _complete_checkpoints(killed / "scratch"), victim, 240,
                  "the first checkpoint")
        victim.send_signal(signal.SIGKILL)
        status = victim.wait(timeout=30)
    finally:
        if victim.poll() is None:
            victim.kill()
    assert reference.wait(timeout=300) == 0, (tmp / "full.log").read_text()
    written = (killed / "out").exists()
    steps = _complete_checkpoints(killed / "scratch")
    rerun = _finetune(finetune_inputs, killed, tmp / "rerun.log")
    assert rerun.wait(timeout=300) == 0, (tmp / "rerun.log").read_text()
    return {"full": full / "out", "resumed": killed / "out", "status": status,
            "written_by_killed": written, "checkpoints": steps, "scratch": killed / "scratch",
            "log": (tmp / "rerun.log").read_text()}


def _summary(out: Path) -> dict:
    return json.loads((out / "train_summary.json").read_text())


def test_sigkilled_finetune_resumes_to_the_uninterrupted_result(resumed_finetune):
    run = resumed_finetune
    assert run["status"] == -signal.SIGKILL
    assert not run["written_by_killed"]  # no output from the killed job
    step = run["checkpoints"][-1]
    assert 0 < step < HPARAMS["max_steps"]
    assert f"resuming from step {step} (" in run["log"], run["log"]
    assert "Traceback" not in run["log"]
    a, b = _summary(run["full"]), _summary(run["resumed"])
    assert b["resumed_from_step"] == step and a["resumed_from_step"] is None
    volatile = {"resumed_from_step", "wall_time_s", "train_loss"}  # train_loss: see below
    assert {k: v for k, v in a.items() if k not in volatile} == \
        {k: v for k, v in b.items() if k not in volatile}

    def curve(out: Path) -> list[dict]:
        log = json.loads((out / "train_log.json").read_text())
        return [h for h in log if "loss" in h]

    assert curve(run["full"]) == curve(run["resumed"])  # every logged loss, both halves
    wa, wb = (load_file(str(out / "model.safetensors")) for out in (run["full"], run["resumed"]))
    assert wa.keys() == wb.keys()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not list(run["scratch"].glob("checkpoint-*"))  # freed after success


def test_resumed_train_loss_is_the_mean_over_the_whole_run(resumed_finetune):
    a, b = _summary(resumed_finetune["full"]), _summary(resumed_finetune["resumed"])
    assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-6)


# ------------------------------------------------------------------ 2. Snakemake killed mid-grid
def small_config() -> dict:
    """tests/test_workflow_run.py's slice, smaller: 2 languages, recipe `none`, 2 targets."""
    config = default_config()
    sizes = {**tiny_sizes(), **{t: {"train": 160, "validation": 40, "test": 40}
                                for t in ("xnli", "panx")}}
    config["benchmark"]["synthetic"] = {
        "seed": 5, "languages": LANGS, "sizes": sizes, "translated_train": 20, "parallel": 20,
        "mlm": {"high": 300, "mid": 120, "low": 40, "validation": 10}}
    config["models"] = {"tiny": {"init": "pretrain", "recipes": ["none"],  # pretrained here
                                 "size": {"hidden": 32, "layers": 2, "heads": 2,
                                          "intermediate": 64, "max_position": 128},
                                 "vocab_size": 600}}
    config["recipes"] = {}
    config["hparams"].pop("recipes", None)  # per-recipe hparams name the grid's recipes
    config["targets"] = TARGETS
    config["hparams"]["targets"] = {}
    config["hparams"]["pretrain"] = {"max_steps": 10, "batch_size": 16, "max_length": 32}
    config["hparams"]["default"].update({"epochs": 1, "eval_every": 4, "batch_size": 16})
    config["hparams"]["default"].pop("max_steps", None)  # 1 epoch of the small sizes
    # the research studies are covered by tests/test_workflow_run.py
    config["robustness"] = {"recipes": []}
    config["alignment"] = {"recipes": []}
    config["fairness"] = {"enabled": False}
    return config


def _snakemake_popen(workdir: Path, log: Path, *args: str, **env: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--configfile", str(workdir / "config.yaml"), *args]
    with open(log, "w") as handle:
        return subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, env=_env(**env),
                                start_new_session=True)


def _finished_jobs(log: str) -> dict[str, list[list[str]]]:
    """rule -> the outputs of each job that Snakemake's log reports finished."""
    outputs, rules = {}, {}
    for block in re.split(r"\n(?=\[[A-Z][a-z]{2} )", log):
        job = re.search(r"^\s+jobid: (\d+)$", block, re.M)
        rule = re.search(r"^(?:local)?rule (\w+):$", block, re.M)
        out = re.search(r"^\s+output: (.+)$", block, re.M)
        if job and rule:
            rules[job.group(1)] = rule.group(1)
            outputs[job.group(1)] = out.group(1).split(", ") if out else []
    finished: dict[str, list[list[str]]] = {}
    for jobid in re.findall(r"Finished jobid: (\d+)", log):
        finished.setdefault(rules[jobid], []).append(outputs[jobid])
    return finished


def _job_table(text: str) -> dict[str, int]:
    """The first "job count" table of a Snakemake log (the jobs it planned)."""
    table = re.search(r"^job\s+count\n[-\s]+\n(.*?)^total", text, re.S | re.M)
    assert table, text
    return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", table.group(1), re.M)}


def _mtimes(workdir: Path, paths: list[str]) -> dict[str, int]:
    stamps = {}
    for rel in paths:
        path = workdir / rel
        for p in [path, *(sorted(path.rglob("*")) if path.is_dir() else [])]:
            stamps[str(p.relative_to(workdir))] = p.stat().st_mtime_ns
    return stamps


@pytest.fixture(scope="module")
def interrupted_run(tmp_path_factory) -> dict:
    """The small grid, SIGKILLed (Snakemake, its jobs and the warm worker: the whole process
    group) once the base model is pretrained and fine-tuning has started; then resumed."""
    workdir = tmp_path_factory.mktemp("killed")
    write_config(workdir, small_config())
    first = workdir / "first.log"
    proc = _snakemake_popen(workdir, first, "--cores", "2")
    base = workdir / "results" / "models" / "tiny" / "base"
    logs = workdir / "results" / "logs" / "finetune"
    try:
        _wait_for(lambda: base.is_dir() and any(logs.rglob("*.log")), proc, 600,
                  "fine-tuning to start")
        running = [_cmdline(pid) for pid in _group_members(proc.pid)]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _group_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    leftovers = _group_members(proc.pid)
    finished = _finished_jobs(first.read_text())
    outputs = [p for jobs in finished.values() for paths in jobs for p in paths]
    stamps = _mtimes(workdir, outputs)
    # Snakemake cannot tell a SIGKILLed run from a running one: its lock stays until --unlock.
    locked = snakemake(workdir, "--cores", "2", "--rerun-incomplete", check=False)
    if locked.returncode != 0:
        (workdir / "locked.log").write_text(locked.stdout + locked.stderr)
        snakemake(workdir, "--unlock")
    rerun = locked if locked.returncode == 0 else snakemake(
        workdir, "--cores", "2", "--rerun-incomplete", timeout=600)
    planned = _job_table(rerun.stdout + rerun.stderr)  # what the rerun planned
    return {"workdir": workdir, "running": running, "leftovers": leftovers,
            "finished": finished, "outputs": outputs, "stamps": stamps,
            "planned": planned, "rerun": rerun.stdout + rerun.stderr,
            "locked": locked.stdout + locked.stderr if locked.returncode else ""}


def test_sigkill_leaves_no_process_behind(interrupted_run):
    running = interrupted_run["running"]
    assert any("xstilts.worker" in c for c in running), running  # the warm worker was up
    assert sum("xstilts finetune" in c for c in running) >= 1, running
    assert interrupted_run["leftovers"] == []


def test_stale_lock_after_sigkill_names_the_fix(interrupted_run):
    """What the user sees when rerunning after the kill: Snakemake's own lock message."""
    text = interrupted_run["locked"]
    print(text)
    if text:  # locked: the message must say how to recover
        assert "--unlock" in text and "cannot be locked" in text


def test_resume_redoes_only_unfinished_jobs(interrupted_run):
    run = interrupted_run
    finished, planned = run["finished"], run["planned"]
    assert {"generate_benchmark", "pretrain"} <= set(finished)
    assert "finetune" not in finished  # killed while fine-tuning
    grid = {"generate_benchmark": 1, "pretrain": 1, "labels": 2, "finetune": 2,
            "aggregate": 1, "figures": 1, "training_curves": 1, "all": 1}
    assert planned == {rule: n - len(finished.get(rule, [])) for rule, n in grid.items()
                       if n > len(finished.get(rule, []))}
    assert not re.search(r"rule (generate_benchmark|pretrain):", run["rerun"])
    assert _mtimes(run["workdir"], run["outputs"]) == run["stamps"]  # finished: not redone
    assert (run["workdir"] / "results" / "tables" / "tidy.csv").is_file()


# ------------------------------------------------------------------ 3. NaN + --keep-going
@pytest.fixture(scope="module")
def nan_run(interrupted_run, tmp_path_factory) -> dict:
    """The finished grid with new hparams for both targets, rerun with --keep-going and
    XSTILTS_INJECT_NAN_AT_STEP=11 (the schema does not accept the hook in the config): only
    xnli, given 2 epochs (20 steps), reaches step 11; panx has 10 steps."""
    workdir = tmp_path_factory.mktemp("nan") / "run"
    shutil.copytree(interrupted_run["workdir"], workdir, symlinks=True)
    config = small_config()
    config["hparams"]["targets"] = {"xnli": {"epochs": 2}, "panx": {"lr": 1.0e-3}}
    write_config(workdir, config)
    started = time.time()
    log = workdir / "snakemake.log"
    proc = _snakemake_popen(workdir, log, "--cores", "2", "--keep-going",
                            XSTILTS_INJECT_NAN_AT_STEP="11")
    status = proc.wait(timeout=600)
    return {"workdir": workdir, "status": status, "log": log.read_text(), "started": started,
            "planned_after": planned_jobs(workdir)}


def test_diverging_job_fails_clearly_and_keep_going_finishes_the_rest(nan_run):
    assert nan_run["status"] != 0
    text = nan_run["log"]
    assert re.search(r"Error in rule finetune:.*?jobid: \d+.*?results/logs/finetune/tiny/none/"
                     r"xnli/seed1\.log", text, re.S), text
    results = nan_run["workdir"] / "results"
    job_log = (results / "logs/finetune/tiny/none/xnli/seed1.log").read_text()
    assert "Traceback" not in job_log, job_log
    errors = [x for x in job_log.splitlines() if "error" in x.lower()]
    assert len(errors) == 1, job_log
    print(errors[0])
    found = re.fullmatch(r"xstilts finetune: error: non-finite training loss \(nan\) in steps "
                         r"(\d+)-(\d+) \(task 'xnli'\); training stopped\..*", errors[0])
    assert found and int(found[1]) <= 11 <= int(found[2]), errors[0]  # checked at log steps
    assert not (results / "finetune/tiny/none/xnli/seed1/model").exists()
    panx_scores = results / "scores/tiny/none/panx/seed1/scores.json"
    assert panx_scores.stat().st_mtime > nan_run["started"]  # finished despite the failure
    assert json.loads(panx_scores.read_text())["target"] == "panx"
    assert (results / "finetune/tiny/none/panx/seed1/model/train_summary.json").is_file()


def test_failed_finetune_leaves_no_stale_scores_for_the_next_run(nan_run):
    planned = nan_run["planned_after"]
    # fine-tuning and its evaluation are one job: the failed one is planned again, whole
    assert planned.get("finetune") == 1 and "evaluate" not in planned, planned
    assert not (nan_run["workdir"] / "results/scores/tiny/none/xnli/seed1/scores.json").exists()


# ------------------------------------------------------------------ 4. time budget + --retries
BUDGET_XNLI = {"epochs": 15, "eval_every": 10, "early_stopping_patience": 0, "lr": 2.0e-3}
XNLI = "tiny/none/xnli/seed1"


def _training_seconds(job_log: str) -> float:
    """Wall time of the training loop in a job's log: from the "time budget" line (written just
    before Trainer.train) to the "trained" line (after the output is written)."""
    stamps = {}
    for line in job_log.splitlines():
        match = re.match(r"(\S+ \S+) \S+ (time budget:|trained )", line)
        if match:
            stamps[match.group(2)] = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")
    return (stamps["trained "] - stamps["time budget:"]).total_seconds()


@pytest.fixture(scope="module")
def budget_run(interrupted_run, tmp_path_factory) -> dict:
    """xnli with 150 steps (dev eval every 10, the best model late): an uninterrupted run whose
    training loop time T is measured, then the same job forced to rerun with `runtime: 1` and
    a "minute" (XSTILTS_RUNTIME_MINUTE_S) such that attempt k may use 0.4*k*T s counted from
    its start (so with its startup: about a quarter of the job for attempt 1, which cannot
    finish unless 2.5x faster; attempts 1-3 have 2.4 T), under `--retries 3`."""
    started = time.monotonic()
    base = tmp_path_factory.mktemp("budget")
    ref, run = base / "ref", base / "run"
    shutil.copytree(interrupted_run["workdir"], ref, symlinks=True)
    config = small_config()
    config["hparams"]["targets"] = {"xnli": BUDGET_XNLI}
    write_config(ref, config)
    scores = f"results/scores/{XNLI}/scores.json"  # the target (no aggregation: faster)
    snakemake(ref, scores, "--cores", "2", timeout=600)
    train_s = _training_seconds((ref / "results/logs/finetune" / f"{XNLI}.log").read_text())
    shutil.copytree(ref, run, symlinks=True)
    config["resources"]["finetune"] = {"runtime": 1}
    write_config(run, config)
    minute = 0.4 * train_s / RUNTIME_BUDGET_FRACTION
    log = run / "snakemake.log"
    proc = _snakemake_popen(run, log, "--cores", "2", scores, "--retries", "3",
                            "--show-failed-logs", "--forcerun", f"results/finetune/{XNLI}/model",
                            XSTILTS_RUNTIME_MINUTE_S=f"{minute:.3f}")
    status = proc.wait(timeout=600)
    print(f"reference training loop {train_s:.1f}s; one runtime minute = {minute:.2f}s; "
          f"both runs {time.monotonic() - started:.0f}s")
    return {"ref": ref / "results", "run": run / "results", "status": status,
            "log": log.read_text()}


def test_job_out_of_runtime_succeeds_under_retries_with_the_uninterrupted_result(budget_run):
    run = budget_run
    assert run["status"] == 0, run["log"]
    text = run["log"]
    stops = [int(m) for m in re.findall(
        r"xstilts finetune: error: time budget of \d+s used up at step (\d+) of 150; progress "
        r"is saved in \S+/results/\.scratch/finetune/tiny/none/xnli/1; a rerun resumes from "
        r"step \1 \(with --retries, Snakemake gives the next attempt more runtime\)", text)]
    print("attempts stopped at steps", stops)
    assert stops and stops == sorted(set(stops)) and 0 < stops[0] < 150, text  # attempt 1
    assert text.count("Trying to restart job") == len(stops)
    job_log = (run["run"] / "logs/finetune" / f"{XNLI}.log").read_text()  # the last attempt
    assert f"resuming from step {stops[-1]} (" in job_log, job_log
    assert "Traceback" not in text + job_log and "error:" not in job_log
    assert not list((run["run"] / ".scratch/finetune/tiny/none/xnli/1").glob("checkpoint-*"))

    ref_dir, out_dir = (r / "finetune" / XNLI / "model" for r in (run["ref"], run["run"]))
    a, b = _summary(ref_dir), _summary(out_dir)
    assert a["resumed_from_step"] is None and b["resumed_from_step"] == stops[-1]
    same = ("steps", "best_dev_metric", "best_step", "final_dev_metric")
    assert {k: b[k] for k in same} == {k: a[k] for k in same}
    # the best model comes from training after the first interruption (where it lies after
    # the later ones depends on the model); the dev curves and weights below match exactly
    assert a["best_step"] > stops[0] and a["steps"] == 150
    assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-6)

    def dev_curve(out: Path) -> list[tuple[int, float]]:
        log = json.loads((out / "train_log.json").read_text())
        return [(h["step"], h["eval_score"]) for h in log if "eval_score" in h]

    assert dev_curve(ref_dir) == dev_curve(out_dir) and len(dev_curve(ref_dir)) == 15
    wa, wb = (load_file(str(out / "model.safetensors")) for out in (ref_dir, out_dir))
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    scores = [json.loads((r / "scores" / XNLI / "scores.json").read_text())
              for r in (run["ref"], run["run"])]
    assert scores[0] == scores[1]


# ------------------------------------------------------------------ 5. self-healing scratch (#16)
def _train(tmp: Path, tag: str, hparams: dict, names=("cls",), n: int = 48, **kw
           ) -> tuple[Path, Path, dict]:
    from test_engine_training import run, task

    return run(tmp, tag, [task(name, n) for name in names], hparams, **kw)


HEAL = {"max_steps": 12, "save_every": 3}


@pytest.fixture(scope="module")
def full_run(tmp_path_factory) -> dict:
    """The uninterrupted reference of the healing tests."""
    from test_engine_training import weights

    out, _, summary = _train(tmp_path_factory.mktemp("full"), "full", HEAL)
    return {"weights": weights(out), "summary": summary}


def _killed(tmp: Path, at: int = 10) -> Path:
    """A run SIGKILLed (simulated) before step `at` + 1: scratch holds checkpoints 6 and 9."""
    from xstilts.engine.stops import SimulatedKill

    with pytest.raises(SimulatedKill):
        _train(tmp, "a", {**HEAL, "kill_at_step": at})
    return tmp / "scratch-a"


def _same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_two_newest_checkpoints_are_kept(tmp_path):
    scratch = _killed(tmp_path)
    assert sorted(p.name for p in scratch.glob("checkpoint-*")) == ["checkpoint-6",
                                                                     "checkpoint-9"]


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: max(0, path.stat().st_size // 2)])


BROKEN = {  # what breaks the newest checkpoint -> the reason the log line gives
    "trainer_state.json": "trainer_state.json has",
    "xstilts_epoch_order.json": "xstilts_epoch_order.json has",
    "model.safetensors": "model.safetensors has",
    "optimizer.pt": "optimizer.pt has",
    "rng_state.pth": "rng_state.pth has",
    "unsealed": "not sealed",
    # same size, damaged content (a bad disk block, a copy broken midway)
    "optimizer.pt:damaged": "optimizer.pt: corrupt member",
    "model.safetensors:damaged": "model.safetensors: ",
    "trainer_state.json:damaged": "trainer_state.json: unreadable",
}


@pytest.mark.parametrize("broken", list(BROKEN))
def test_broken_newest_checkpoint_falls_back_to_the_previous_one(tmp_path, full_run, caplog,
                                                                 broken):
    from test_engine_training import weights

    scratch = _killed(tmp_path)
    newest = scratch / "checkpoint-9"
    if broken == "unsealed":
        (newest / "xstilts_checkpoint.json").unlink()  # killed while Trainer wrote it
    elif broken.endswith(":damaged"):
        path = newest / broken.split(":")[0]
        data = bytearray(path.read_bytes())
        start = 0 if path.suffix != ".pt" else len(data) // 2
        data[start:start + 256] = b"\xa5" * 256
        path.write_bytes(bytes(data))
    else:
        _truncate(newest / broken)
    caplog.set_level("INFO", logger="xstilts.engine.training")
    out, _, summary = _train(tmp_path, "a", HEAL)
    lines = [r.getMessage() for r in caplog.records if "skipped checkpoint-9" in r.getMessage()]
    assert len(lines) == 1 and BROKEN[broken] in lines[0], caplog.text
    print(lines[0])
    assert summary["resumed_from_step"] == 6
    assert _same_weights(weights(out), full_run["weights"])


def test_no_usable_checkpoint_starts_fresh(tmp_path, full_run, caplog):
    from test_engine_training import weights

    scratch = _killed(tmp_path)
    for folder in scratch.glob("checkpoint-*"):
        _truncate(folder / "model.safetensors")
    caplog.set_level("INFO", logger="xstilts.engine.training")
    out, _, summary = _train(tmp_path, "a", HEAL)
    assert "starting fresh" in caplog.text and "no usable checkpoint" in caplog.text
    assert summary["resumed_from_step"] is None
    assert _same_weights(weights(out), full_run["weights"])


@pytest.mark.parametrize("fingerprint", ["empty", "garbage", "missing"])
def test_unreadable_or_missing_run_fingerprint_starts_fresh(tmp_path, caplog, fingerprint):
    """Disk full at job start left xstilts_run.json at 0 bytes (or it is gone): never resume,
    even less a checkpoint of another configuration (here: another learning rate)."""
    from xstilts.engine.stops import SimulatedKill

    with pytest.raises(SimulatedKill):
        _train(tmp_path, "a", {**HEAL, "lr": 1e-3, "kill_at_step": 7})
    marker = tmp_path / "scratch-a" / "xstilts_run.json"
    if fingerprint == "missing":
        marker.unlink()
    else:
        marker.write_bytes(b"" if fingerprint == "empty" else b"\x00{not json")
    caplog.set_level("INFO", logger="xstilts.engine.training")
    _, _, summary = _train(tmp_path, "a", HEAL)
    assert summary["resumed_from_step"] is None
    assert "starting fresh" in caplog.text and "xstilts_run.json" in caplog.text
    assert json.loads(marker.read_text())["digest"]  # rewritten (atomically)


def test_resume_from_the_final_checkpoint_trains_no_extra_step(tmp_path, caplog):
    """1.5 epochs of 8 batches = 12 steps; the job died while writing its output."""
    from test_engine_training import weights

    hp = {"epochs": 1.5, "save_every": 3, "keep_checkpoints": True, "logging": 1}
    out, _, first = _train(tmp_path, "a", hp, n=64)
    before = weights(out)
    shutil.rmtree(out)
    caplog.set_level("INFO", logger="xstilts.engine.training")
    out, _, second = _train(tmp_path, "a", hp, n=64)
    assert first["steps"] == first["max_steps"] == 12
    assert "resuming from step 12" in caplog.text
    assert (second["steps"], second["max_steps"]) == (12, 12), second
    assert not re.search(r"step 13/12", caplog.text)
    assert second["final_loss"] == first["final_loss"]
    assert _same_weights(weights(out), before)


def test_resume_after_an_early_stop_trains_no_further(tmp_path):
    """Early stopping ended training at step 4 of 40; the job died while writing its output.
    The rerun must give the same result, not train (and maybe pick another best model) on."""
    from test_engine_training import run, task, weights

    t = task("cls", 48, dev=8)
    hp = {"max_steps": 40, "eval_every": 2, "early_stopping_patience": 1,
          "keep_checkpoints": True, "lr": 5e-2}
    out, _, first = run(tmp_path, "a", [t], hp, eval_task=t)
    assert first["steps"] < 40  # stopped early
    before = weights(out)
    shutil.rmtree(out)
    out, _, second = run(tmp_path, "a", [t], hp, eval_task=t)
    assert second["resumed_from_step"] == first["steps"]
    assert (second["steps"], second["best_step"]) == (first["steps"], first["best_step"])
    assert _same_weights(weights(out), before)


# ------------------------------------------------------------------ 6. SIGTERM / SIGUSR1
def _signal_at_batch(monkeypatch, signum: int, batch: int) -> None:
    """Send `signum` to this process while the `batch`-th training batch is collated."""
    from xstilts.engine.collate import FormatCollator

    calls = {"n": 0}
    inner = FormatCollator.__call__

    def collate(self, features):
        calls["n"] += 1
        if calls["n"] == batch:
            os.kill(os.getpid(), signum)
        return inner(self, features)

    monkeypatch.setattr(FormatCollator, "__call__", collate)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGUSR1], ids=["TERM", "USR1"])
def test_stop_signal_saves_the_step_and_a_rerun_resumes_exactly(tmp_path, full_run,
                                                                monkeypatch, signum):
    from test_engine_training import weights

    from xstilts.engine.signals import Preempted

    before = signal.getsignal(signum)
    _signal_at_batch(monkeypatch, signum, 5)
    with pytest.raises(Preempted) as info:
        _train(tmp_path, "a", HEAL)
    print(info.value)
    assert signal.getsignal(signum) == before  # handler restored
    match = re.fullmatch(rf"received {signal.Signals(signum).name}: stopped at step (\d+) of 12 "
                         r"after saving it in \S+; a rerun resumes from step \1", str(info.value))
    assert match, str(info.value)
    step = int(match.group(1))  # the step during which the batch (collated ahead) was drawn
    assert step in (4, 5)
    assert not (tmp_path / "out-a").exists()
    assert (tmp_path / "scratch-a" / f"checkpoint-{step}" / "xstilts_checkpoint.json").is_file()
    monkeypatch.undo()
    out, _, summary = _train(tmp_path, "a", HEAL)
    assert summary["resumed_from_step"] == step
    assert _same_weights(weights(out), full_run["weights"])


def test_sigterm_outside_training_ends_the_stage_with_one_line(tmp_path, capsys, monkeypatch):
    """SIGTERM while a stage writes its output: one line, 128 + 15, no temp folder left."""
    from xstilts import cli
    from xstilts.io.atomic import atomic_dir
    from xstilts.stages import labels

    out = tmp_path / "labels" / "xnli"

    def run(spec, job):
        with atomic_dir(out) as tmp:
            (tmp / "test-en.json").write_text("{}")
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # (the handler raises first)

    monkeypatch.setattr(labels, "run", run)
    spec = {"target": "xnli", "benchmark": {"source": "synthetic"}, "out": str(out)}
    status = cli.main(["labels", "--spec", json.dumps(spec)], allow_worker=False)
    err = capsys.readouterr().err
    assert status == 128 + signal.SIGTERM
    assert err.strip() == "xstilts labels: error: received SIGTERM; stopped (nothing written)"
    assert not out.exists() and list((tmp_path / "labels").iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_sigterm_to_a_finetune_process_checkpoints_and_the_rerun_finishes(
        finetune_inputs, resumed_finetune, tmp_path):
    """A real `xstilts finetune` process, SIGTERMed as SLURM does before SIGKILL."""
    proc = _finetune(finetune_inputs, tmp_path, tmp_path / "term.log")
    try:
        _wait_for(lambda: re.search(r"step \d+/60 loss", (tmp_path / "term.log").read_text()),
                  proc, 240, "the first logged step")
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    log = (tmp_path / "term.log").read_text()
    assert status == 1, log
    assert "Traceback" not in log
    errors = [x for x in log.splitlines() if x.startswith("xstilts finetune: error:")]
    assert len(errors) == 1, log
    print(errors[0])
    step = int(re.search(r"stopped at step (\d+) of 60", errors[0]).group(1))
    assert _complete_checkpoints(tmp_path / "scratch")[-1] == step
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.tmp*"))
    rerun = _finetune(finetune_inputs, tmp_path, tmp_path / "rerun.log")
    assert rerun.wait(timeout=300) == 0, (tmp_path / "rerun.log").read_text()
    assert f"resuming from step {step} (" in (tmp_path / "rerun.log").read_text()
    wa, wb = (load_file(str(p / "model.safetensors"))
              for p in (resumed_finetune["full"], tmp_path / "out"))
    assert _same_weights(wa, wb)


# ------------------------------------------------------------------ 7. a clean workspace
def test_temp_folders_of_a_killed_writer_are_removed_by_the_next(tmp_path):
    from xstilts.io.atomic import atomic_dir

    out = tmp_path / "out"
    stale = tmp_path / ".out.tmpk1ll3d"  # SIGKILL during the final write
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"partial")
    other = tmp_path / ".outer.tmpxyz"  # another output's: not touched
    other.mkdir()
    with atomic_dir(out) as tmp:
        (tmp / "done").write_text("1")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".outer.tmpxyz", "out"]


def test_worker_removes_its_socket_folder(tmp_path, monkeypatch):
    from xstilts import worker

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    folder = worker.socket_dir()
    assert folder.parent == tmp_path and folder.name.startswith("xstilts-worker-")
    proc = subprocess.Popen([sys.executable, "-m", "xstilts.worker", str(folder / "worker.sock"),
                             "--cold"], env=_env())
    try:
        _wait_for(lambda: (folder / "worker.sock").exists(), proc, 60, "the worker socket")
        proc.terminate()
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not folder.exists()


def test_stale_worker_folders_are_removed(tmp_path):
    from xstilts import worker

    dead, fresh = tmp_path / "xstilts-worker-dead", tmp_path / "xstilts-worker-starting"
    other = tmp_path / "xstilts-engine-test-x"  # e.g. a test session's: never touched
    for folder in (dead, fresh, other):
        folder.mkdir()
    (dead / "worker.sock").touch()  # no one listens
    old = time.time() - 2 * worker.STALE_S
    for folder in (dead, other):
        os.utime(folder, (old, old))
    assert worker.remove_stale(tmp_path) == [dead]
    assert fresh.exists() and other.exists() and not dead.exists()


def test_missing_local_model_path_is_named(tmp_path):
    from test_engine_training import FAST, task

    from xstilts.engine.training import train
    from xstilts.grid.config import ConfigError

    for path, message in [("assets/models/tinyy", "local model folder 'assets/models/tinyy' "
                                                  "does not exist"),
                          (str(tmp_path / "nope"), "does not exist")]:
        with pytest.raises(ConfigError, match=message):
            train([task("cls")], path, tmp_path / "out", tmp_path / "scratch",
                  {**FAST, "max_steps": 2}, seed=0, threads=1)


def test_slurm_profile_asks_for_a_signal_before_the_time_limit():
    """The executor plugin passes `slurm_extra` to sbatch and accepts `--signal` there; the
    signal (no `B:`) goes to the job step (srun: Snakemake, which waits for its job on SIGTERM,
    and the stage, which `exec` put in place of the shell)."""
    from types import SimpleNamespace

    import yaml
    from snakemake_executor_plugin_slurm.validation import validate_slurm_extra

    from xstilts.engine.signals import SIGNALS

    profile = yaml.safe_load((REPO / "slurm" / "config.yaml").read_text("utf-8"))
    extra = profile["default-resources"]["slurm_extra"]
    match = re.fullmatch(r"'--signal=(\w+)@(\d+)'", extra)
    assert match, extra
    assert getattr(signal, f"SIG{match.group(1)}") in SIGNALS
    assert int(match.group(2)) >= 60
    assert match.group(1) == "TERM"  # USR1 would end the job step's Snakemake (default action)
    # every stage command `exec`s (`python -m xstilts <stage>`, not the tools' `xstilts.<tool>`)
    rules = "".join(p.read_text("utf-8") for p in (REPO / "workflow" / "rules").glob("*.smk"))
    stage_commands = re.findall(r'"(?:exec )?python -m xstilts [^"]*"', rules)
    assert len(stage_commands) >= 9
    assert all(shell.startswith('"exec python -m xstilts ') for shell in stage_commands)
    validate_slurm_extra(SimpleNamespace(resources=SimpleNamespace(slurm_extra=extra[1:-1])))


def test_a_finished_run_leaves_no_worker_folder(tmp_path):
    """Each local run used to leave an empty `/tmp/xstilts-*` folder (the worker's socket)."""
    from xstilts.grid import paths as grid

    workdir, tmp = tmp_path / "run", tmp_path / "tmp"
    workdir.mkdir()
    tmp.mkdir()
    write_config(workdir, small_config())
    log = workdir / "snakemake.log"
    env = {k: v for k, v in os.environ.items() if k != "XSTILTS_WORKER"}
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
         str(workdir), "--configfile", str(workdir / "config.yaml"), "--cores", "1",
         grid.SYNTHETIC_DIR], capture_output=True, text=True, timeout=600,
        env={**env, "PYTHONPATH": SRC, "TMPDIR": str(tmp)})
    log.write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert list(tmp.iterdir()) == []

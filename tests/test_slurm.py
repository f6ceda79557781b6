"""The workflow on a real one-node SLURM cluster, through the project's profile (slurm/config.yaml).

    XSTILTS_SYSTEM_TESTS=1 python -m pytest -m slurm tests/test_slurm.py   (add -s for timings)

A system test (marker `system`): it runs only with XSTILTS_SYSTEM_TESTS=1 (.ci/run sets it), needs
root on Debian (installs `slurm-wlm` and `munge` with apt-get when missing) and skips otherwise.
tests/slurm/cluster.py starts munged, slurmctld and slurmd by hand under a temporary directory
(own ports, munge socket and pid files; stopped by those pid files only), with two fake
GPUs as countable GRES. Snakemake then runs from the repository root exactly as the README says,
`snakemake --cores all --profile slurm`, plus `--directory`/`--configfile` for a temporary working
directory and these overrides for a cluster without accounting (slurmdbd):
`--slurm-status-command squeue` (the plugin trusts it since MinJobAge >= 3 x
--slurm-init-seconds-before-status-checks), fast status checks, kept SLURM logs, no retries.

The slice of the grid is chosen with XSTILTS_SLURM_SLICE:
- `grid` (default): a reduced config (the default config's tiny model, recipe `none`, target xnli,
  20 pretraining steps, 1 epoch, `gpu: 1` for every stage with a `resources:` entry) up to the
  scores: generate_benchmark, labels, pretrain, finetune, evaluate, all as SLURM jobs; ~3 min on
  2 cores;
- `all-mnli`: the same with recipes none + mnli and the default target `all` (+ intermediate, a
  second finetune/evaluate, and the local rules aggregate and figures); ~4.5 min;
- `labels`: only mini-XTREME and the gold labels of two targets, with `--set-resources
  labels:gpu=1` (3 jobs, ~70 s), for debugging the cluster while the engine is broken.

Checks: Snakemake succeeds and a dry run has nothing left to do; every planned job was submitted
with sbatch (Snakemake's log, squeue, slurmctld's submit RPCs, the job completion log) and ran
its rule through srun (a step per job in slurmd's log); GPU jobs held a GPU; the warm worker was
not started.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from workflow_utils import default_config, planned_jobs, write_config

from xstilts.grid import paths as xgrid

REPO = Path(__file__).resolve().parents[1]
RUN_TIMEOUT = 900  # seconds for the whole Snakemake run (the default slice takes ~170 s)

_spec = importlib.util.spec_from_file_location("xstilts_slurm_cluster",
                                               REPO / "tests" / "slurm" / "cluster.py")
cluster_mod = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = cluster_mod  # dataclasses look their module up there
_spec.loader.exec_module(cluster_mod)


def _base_config(targets: list[str], recipes: list[str]) -> dict:
    config = default_config()
    # pretrained from scratch (briefly) so that the pretrain rule also goes through sbatch
    config["models"] = {"tiny": {**config["models"]["tiny"], "init": "pretrain",
                                 "recipes": recipes}}
    config["recipes"] = {"mnli": {"tasks": ["mnli"]}}
    config["hparams"].pop("recipes", None)  # per-recipe hparams name the grid's recipes
    config["targets"] = targets
    config["seeds"] = [1]
    return config


def labels_slice() -> dict:
    config = _base_config(["xnli", "udpos"], ["none"])
    targets = [xgrid.labels_dir("xnli"), xgrid.labels_dir("udpos")]
    return {"config": config, "targets": targets, "outputs": targets,
            "extra": ["--set-resources=labels:gpu=1"], "gpu_rules": {"labels"}}


def grid_slice(recipes: tuple[str, ...] = ("none",), everything: bool = False) -> dict:
    """The reduced grid: every stage up to the scores (`everything`: the default target `all`,
    i.e. also aggregate and figures, which are local rules and need a recipe besides `none`)."""
    config = _base_config(["xnli"], list(recipes))
    config["hparams"]["default"].update(epochs=1, max_length=64)
    config["hparams"]["pretrain"].update(max_steps=20)
    config["hparams"]["intermediate"] = {"epochs": 1}
    config["hparams"]["targets"] = {}
    config["resources"] = {"default": {"threads": 1, "runtime": 20, "mem_mb": 2000, "gpu": 1}}
    scores = [xgrid.scores_file("tiny", recipe, "xnli", 1) for recipe in recipes]
    outputs = [xgrid.labels_dir("xnli"), *scores]
    if everything:
        outputs.append(f"{xgrid.TABLES}/tidy.csv")
    return {"config": config, "targets": [] if everything else outputs, "outputs": outputs,
            "extra": [], "gpu_rules": {"pretrain", "intermediate", "finetune", "evaluate"}}


SLICES = {"labels": labels_slice, "grid": grid_slice,
          "all-mnli": lambda: grid_slice(("none", "mnli"), everything=True)}
DEFAULT_SLICE = "grid"


@pytest.fixture(scope="module")
def local_slurm(tmp_path_factory):
    reason = cluster_mod.unavailable_reason()
    if reason:
        pytest.skip(f"no local SLURM cluster: {reason}")
    start = time.monotonic()
    try:
        cluster_mod.install()
    except (cluster_mod.ClusterError, subprocess.TimeoutExpired, OSError) as err:
        pytest.skip(f"Debian packages slurm-wlm/munge unavailable: {err}")
    installed = time.monotonic()
    cluster = cluster_mod.LocalCluster(tmp_path_factory.mktemp("slurm"), gpus=2)
    try:
        cluster.start()
        print(f"slurm: install {installed - start:.1f} s, start {time.monotonic() - installed:.1f}"
              f" s, conf {cluster.conf}")
        yield cluster
    finally:
        print("slurm: stopped", " ".join(cluster.stop()) or "nothing")


def _profile_overrides(cluster) -> list[str]:
    """What a cluster without accounting (and maybe little memory) needs on top of the profile."""
    args = ["--slurm-status-command", "squeue",
            "--slurm-init-seconds-before-status-checks", "2",
            "--seconds-between-status-checks", "2",
            "--slurm-keep-successful-logs", "--retries", "0", "--latency-wait", "10"]
    profile = yaml.safe_load((REPO / "slurm" / "config.yaml").read_text(encoding="utf-8"))
    defaults = dict(profile.get("default-resources") or {})
    node_mem = int(cluster_mod.node_hardware()["RealMemory"])
    if int(defaults.get("mem_mb", 0)) > node_mem // 2:  # --default-resources replaces the list
        defaults["mem_mb"] = node_mem // 4
        args += ["--default-resources", *(f"{k}={v}" for k, v in defaults.items())]
    return args


def _run(cmd: list[str], env: dict[str, str], timeout: float) -> tuple[int, str]:
    """Run from the repository root in its own process group (killed as a whole on timeout)."""
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return -1, f"{out}\n*** timed out after {timeout} s: {' '.join(cmd)}"
    return proc.returncode, out


def _slurm_job_logs(workdir: Path, tail: int = 40) -> str:
    parts = []
    for path in sorted((workdir / ".snakemake" / "slurm_logs").rglob("*.log")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        parts += [f"==> {path} <==", *lines[-tail:]]
    for path in sorted((workdir / "results" / "logs").rglob("*.log")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        parts += [f"==> {path} <==", *lines[-tail:]]
    return "\n".join(parts)


@pytest.mark.system
@pytest.mark.slurm
@pytest.mark.slow
def test_profile_runs_the_workflow_through_sbatch(local_slurm, tmp_path_factory):
    cluster = local_slurm
    name = os.environ.get("XSTILTS_SLURM_SLICE", DEFAULT_SLICE)
    if name not in SLICES:
        pytest.fail(f"XSTILTS_SLURM_SLICE={name!r}: expected one of {sorted(SLICES)}")
    chosen = SLICES[name]()
    workdir = tmp_path_factory.mktemp(f"slurm-{name}")
    write_config(workdir, chosen["config"])
    planned = planned_jobs(workdir, "--", *chosen["targets"])
    assert planned, "the slice plans no job"

    tmpdir = workdir / "tmp"  # where a warm worker would put its socket (tempfile.mkdtemp)
    tmpdir.mkdir()
    env = {**cluster.env, "TMPDIR": str(tmpdir)}
    env.pop("XSTILTS_WORKER", None)
    snakemake = [sys.executable, "-m", "snakemake", "--cores", "all", "--profile", "slurm",
                 "--directory", str(workdir), "--configfile", str(workdir / "config.yaml")]
    start = time.monotonic()
    targets = ["--", *chosen["targets"]] if chosen["targets"] else []
    rc, out = _run([*snakemake, *_profile_overrides(cluster), *chosen["extra"], *targets], env,
                   RUN_TIMEOUT)
    elapsed = time.monotonic() - start
    print(f"slurm: slice {name!r} ({dict(planned)}) ran in {elapsed:.1f} s")
    try:
        _check_run(cluster, workdir, chosen, planned, rc, out, tmpdir)
        rc_dry, dry = _run([*snakemake, "--dry-run", *targets], env, 300)
        assert rc_dry == 0 and "Nothing to be done" in dry, f"a dry run still plans jobs:\n{dry}"
    except BaseException:
        print(f"===== snakemake output =====\n{out}")
        print(f"===== job logs =====\n{_slurm_job_logs(workdir)}")
        print(f"===== cluster logs =====\n{cluster.logs()}")
        raise


def _check_run(cluster, workdir: Path, chosen: dict, planned: dict[str, int], rc: int, out: str,
               tmpdir: Path) -> None:
    assert rc == 0, f"snakemake --profile slurm failed ({rc}); output below"
    for output in chosen["outputs"]:
        path = workdir / output
        assert path.is_dir() and any(path.iterdir()) or path.is_file() and path.stat().st_size, (
            f"{output} is missing or empty")

    # Every planned job was submitted with sbatch, under this run's job name.
    match = re.search(r"SLURM run ID: (\S+)", out)
    assert match, "no 'SLURM run ID' in Snakemake's output: not the SLURM executor?"
    run_id = match.group(1)
    submitted = re.findall(r"Job \d+ has been submitted with SLURM jobid (\d+)", out)
    local = set(re.findall(r"^localrule (\w+):", out, re.M))  # e.g. `all` (no command)
    remote = Counter({rule: n for rule, n in planned.items() if rule not in local})
    assert remote and len(submitted) == remote.total(), (
        f"planned {planned} ({sorted(local)} local), submitted SLURM jobs {submitted}")

    # squeue (MinJobAge keeps finished jobs): each job completed; its comment names its rule.
    proc = subprocess.run(["squeue", "--states=all", "--noheader", "--name", run_id,
                           "--format=%i|%T|%k"], env=cluster.env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("|", 2) for line in proc.stdout.splitlines() if line.strip()]
    states = {jobid: state for jobid, state, _ in rows}
    assert set(states) == set(submitted), f"squeue shows {states}, submitted {submitted}"
    assert set(states.values()) == {"COMPLETED"}, states
    rules = Counter(re.match(r"rule_([A-Za-z0-9_]+?)(?:_wildcards_.*)?$", comment).group(1)
                    for *_, comment in rows)
    assert rules == remote, f"jobs per rule: squeue {dict(rules)}, planned {dict(remote)}"

    # The controller received batch submissions; slurmd ran each rule as a step (srun).
    ctld = cluster.log_file("slurmctld").read_text(encoding="utf-8", errors="replace")
    slurmd = cluster.log_file("slurmd").read_text(encoding="utf-8", errors="replace")
    jobcomp = (cluster.root / "log" / "jobcomp.txt").read_text(encoding="utf-8")
    for jobid in submitted:
        assert f"_slurm_rpc_submit_batch_job: JobId={jobid} " in ctld, f"job {jobid}: no sbatch"
        assert f"launch task StepId={jobid}.0 " in slurmd, f"job {jobid}: no srun step"
        assert re.search(rf"^JobId={jobid} .*Name={re.escape(run_id)} JobState=COMPLETED ",
                         jobcomp, re.M), f"job {jobid} not COMPLETED in the job completion log"

    # GPU requests (resources `gpu`) went through sbatch --gpus.
    gpu_jobs = [jobid for jobid, _, comment in rows
                if any(comment.startswith(f"rule_{r}") for r in chosen["gpu_rules"])]
    assert gpu_jobs or not set(remote) & chosen["gpu_rules"]
    for jobid in gpu_jobs:
        show = subprocess.run(["scontrol", "show", "job", jobid], env=cluster.env,
                              capture_output=True, text=True, timeout=60).stdout
        assert re.search(r"TresPerJob=\S*gpu[:=]1\b", show), f"job {jobid} without a GPU:\n{show}"

    # No warm worker under SLURM (workflow.local_exec is False): no socket dir was made.
    assert not list(tmpdir.glob("xstilts-*")), "the warm worker was started under SLURM"


def test_cluster_stop_leaves_foreign_processes_alone(tmp_path):
    """stop() signals only a pid whose command line names this cluster's root."""
    cluster = cluster_mod.LocalCluster(tmp_path / "cluster")
    (cluster.root / "run").mkdir(parents=True)
    other = subprocess.Popen(["sleep", "60"])  # e.g. someone else's slurmctld, or a reused pid
    try:
        cluster.pid_file("slurmctld").write_text(f"{other.pid}\n")
        assert cluster.stop() == []
        assert other.poll() is None, "stop() killed a process that is not this cluster's"
    finally:
        other.kill()
        other.wait()

"""The warm worker runs jobs exactly as in-process runs would, and dies with its client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture()
def worker(tmp_path):
    sock = tmp_path / "w.sock"
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.Popen([sys.executable, "-m", "xstilts.worker", str(sock), "--cold"], env=env)
    for _ in range(200):
        if sock.exists():
            break
        time.sleep(0.05)
    assert sock.exists(), "worker did not start"
    yield sock, proc.pid
    proc.terminate()
    proc.wait(timeout=10)
    assert not sock.exists(), "worker must remove its socket on exit"


def _client(sock: Path, *argv: str, extra_env: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC, "XSTILTS_WORKER": str(sock), **(extra_env or {})}
    env.pop("SLURM_JOB_ID", None)
    return subprocess.Popen([sys.executable, "-m", "xstilts", *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_status_and_stderr_come_back_through_the_worker(worker):
    proc = _client(worker[0], "data", "--spec", "{not json")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "--spec is not valid JSON" in err


def test_same_result_without_worker(tmp_path):
    proc = _client(tmp_path / "absent.sock", "data", "--spec", "{not json")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "--spec is not valid JSON" in err


def test_killing_the_client_kills_the_job(worker, tmp_path):
    sock, worker_pid = worker
    fifo = tmp_path / "spec.fifo"
    os.mkfifo(fifo)  # the job blocks reading its spec: a job that is still running
    proc = _client(sock, "data", "--spec", f"@{fifo}")
    for _ in range(200):
        jobs = _children(worker_pid)
        if jobs:
            break
        time.sleep(0.05)
    assert jobs, "the job did not start in the worker"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    for _ in range(100):
        if not _children(worker_pid):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the job outlived its killed client")


def test_another_runs_liveness_probe_leaves_running_jobs_alone(worker, tmp_path):
    """`remove_stale` in a second run connects to an old live worker's socket and hangs up:
    the worker must keep serving, and the job it is running must finish normally."""
    from xstilts import worker as worker_mod

    sock, worker_pid = worker
    fifo = tmp_path / "spec.fifo"
    os.mkfifo(fifo)
    proc = _client(sock, "data", "--spec", f"@{fifo}")
    for _ in range(200):
        if _children(worker_pid):
            break
        time.sleep(0.05)
    folder = tmp_path / "xstilts-worker-old"
    folder.mkdir()
    (folder / "worker.sock").symlink_to(sock)
    os.utime(folder, (time.time() - 2 * worker_mod.STALE_S,) * 2)
    assert worker_mod.remove_stale(tmp_path) == []  # alive: kept
    time.sleep(0.5)
    assert _children(worker_pid), "the probe killed the running job"
    spec = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # ENXIO if the job is gone
    os.write(spec, b"{not json")
    os.close(spec)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "--spec is not valid JSON" in err, err
    again = _client(sock, "data", "--spec", "{not json")
    assert again.wait(timeout=60) == 2

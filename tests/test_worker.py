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

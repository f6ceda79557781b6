"""The client side of the warm worker (`xstilts.worker`): hand a job to it over its socket.

`xstilts <stage>` calls `run_via_worker(argv)` first; with `XSTILTS_WORKER=<socket>` in the
environment (and not under SLURM) the job runs in a child forked by the worker, else in-process.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import sys
import time
import types
from pathlib import Path
from typing import Any

ENV_VAR = "XSTILTS_WORKER"
RECORDS = "records.jsonl"  # next to the socket: one resource record per finished job
HEADER = struct.Struct("!I")  # the length prefix of each JSON message


def send(sock: socket.socket, obj: dict, fds: list[int] | None = None) -> None:
    """One length-prefixed JSON message, with file descriptors when given."""
    data = json.dumps(obj).encode()
    payload = HEADER.pack(len(data)) + data
    if fds:
        socket.send_fds(sock, [payload], fds)
    else:
        sock.sendall(payload)


def recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = b""
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("worker connection closed")
        chunks += chunk
    return chunks


def run_via_worker(argv: list[str]) -> int | None:
    """Run `argv` in the warm worker; None when no worker is usable (run in-process then)."""
    path = os.environ.get(ENV_VAR)
    if not path or os.environ.get("SLURM_JOB_ID") or not Path(path).exists():
        return None
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
    except OSError:
        return None
    with sock:
        env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
        send(sock, {"argv": argv, "cwd": os.getcwd(), "env": env}, fds=[0, 1, 2])
        try:
            (size,) = HEADER.unpack(recv_exact(sock, HEADER.size))
            return int(json.loads(recv_exact(sock, size))["status"])
        except (ConnectionError, ValueError, KeyError):
            print("xstilts: the warm worker went away; job status unknown", file=sys.stderr)
            return 1


def fd_path(fd: int) -> str | None:
    """The file a descriptor is open on (a job's log), or None (a pipe, a tty)."""
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None
    return target if target.startswith("/") else None


def write_record(records: Path, job: dict, usage: Any) -> None:
    """Append a finished job's resources (`usage`: rusage fields; Linux: ru_maxrss in KiB,
    blocks of 512 B) to the worker's records."""
    entry = {"log": job["log"], "cwd": job["cwd"], "stage": (job["argv"] or [None])[0],
             "wall_s": round(time.time() - job["start"], 4),
             "cpu_s": round(usage.ru_utime + usage.ru_stime, 4),
             "max_rss_mb": round(usage.ru_maxrss / 1024, 2),
             "io_in_mb": round(usage.ru_inblock * 512 / 2**20, 2),
             "io_out_mb": round(usage.ru_oublock * 512 / 2**20, 2)}
    try:
        with open(records, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
    except OSError:
        pass


def record_in_process(argv: list[str], started: float) -> None:
    """A job that asked for the worker (`XSTILTS_WORKER` set) but ran in-process, e.g. because
    the worker was still importing torch: its own resources (this process and its children)
    go into the worker's records like a forked job's, so that no job is missing from them."""
    import resource

    path = os.environ.get(ENV_VAR)  # "0" = no worker (off); the workflow's is absolute
    if not path or not os.path.isabs(path) or os.environ.get("SLURM_JOB_ID") \
            or not Path(path).parent.is_dir():
        return
    mine, kids = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                      resource.RUSAGE_CHILDREN))
    usage = types.SimpleNamespace(
        ru_utime=mine.ru_utime + kids.ru_utime, ru_stime=mine.ru_stime + kids.ru_stime,
        ru_maxrss=max(mine.ru_maxrss, kids.ru_maxrss),
        ru_inblock=mine.ru_inblock + kids.ru_inblock,
        ru_oublock=mine.ru_oublock + kids.ru_oublock)
    job = {"log": fd_path(1), "cwd": os.getcwd(), "argv": argv[:1], "start": started}
    write_record(Path(path).with_name(RECORDS), job, usage)

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
from pathlib import Path

ENV_VAR = "XSTILTS_WORKER"
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

"""A warm worker for local runs: fork stage processes from a process that has imported torch.

Each workflow job is a separate `python -m xstilts <stage>` process, and importing torch,
transformers and datasets costs seconds per process, which on a laptop grid of ~200 small jobs
is most of the wall time. `serve()` imports them once; a job's client (`xstilts` with
`XSTILTS_WORKER=<socket>` in its environment) hands its argv, working directory, environment and
stdin/stdout/stderr to the worker, which forks a child that runs the very same stage code, and the
client exits with the child's status. If the client dies (e.g. Snakemake kills the job), the
child is killed too. Any failure to reach the worker falls back to running in-process, and jobs
under SLURM never use it.

Snakemake's `benchmark:` measures the thin client only; the worker therefore records each
child's wall time, CPU time (user + system, its own children included), max RSS and block I/O
(`os.wait4`) with the job's log path (the client's stdout) in `records.jsonl` next to the
socket, and `merge_benchmarks` writes them into the jobs' benchmark files once Snakemake has
written those (the workflow calls it when it stops the worker).
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

from xstilts.cli import main as cli_main
from xstilts.worker_client import HEADER, recv_exact, send

DIR_PREFIX = "xstilts-worker-"  # socket folders made by `socket_dir`
STALE_S = 600  # a socket folder this old without a live worker is a killed run's
RECORDS = "records.jsonl"  # next to the socket: one resource record per finished job


def _child(request: dict, fds: list[int]) -> None:
    """In the forked child: adopt the client's stdio, cwd and environment, run the stage."""
    status = 1
    try:
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", closefd=False, buffering=1)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False, buffering=1)  # noqa: SIM115
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        status = cli_main(request["argv"], allow_worker=False)
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:  # noqa: BLE001 - report any failure as the job's own
        import traceback

        traceback.print_exc()
        status = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def preload() -> None:
    """Import what every stage needs (not run anything: no threads before fork)."""
    import datasets  # noqa: F401
    import seqeval.metrics  # noqa: F401
    import torch  # noqa: F401
    import transformers  # noqa: F401
    from transformers import (  # noqa: F401  (transformers imports these lazily)
        AutoModel,
        AutoModelForMaskedLM,
        AutoModelForMultipleChoice,
        AutoModelForQuestionAnswering,
        AutoModelForSequenceClassification,
        AutoModelForTokenClassification,
        AutoTokenizer,
        BertModel,
        Trainer,
        TrainingArguments,
        XLMRobertaModel,
        XLMRobertaTokenizer,
    )

    import xstilts.analysis.submission  # noqa: F401
    import xstilts.cli  # noqa: F401
    import xstilts.data.load  # noqa: F401
    import xstilts.engine.featurize  # noqa: F401
    import xstilts.engine.predict  # noqa: F401
    import xstilts.engine.retrieval  # noqa: F401
    import xstilts.engine.training  # noqa: F401
    import xstilts.metrics  # noqa: F401


def serve(path: str | Path, warm: bool = True) -> None:
    """Serve on the unix socket `path` until SIGTERM or until the parent process exits."""
    path = Path(path)
    if warm:
        preload()
    path.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(64)
    sel = selectors.DefaultSelector()
    sel.register(server, selectors.EVENT_READ, "accept")
    children: dict[int, tuple[socket.socket, int, dict]] = {}  # pidfd -> (client, pid, job)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    parent = os.getppid()
    try:
        while not stopping and os.getppid() == parent:  # the workflow died: stop too
            for key, _ in sel.select(timeout=1.0):
                if key.data == "accept":
                    _accept(server, sel, children)
                elif key.data[0] == "child":
                    _reap(key.data[1], sel, children, path.with_name(RECORDS))
                else:
                    _client_gone(key.data[1], sel, children)
    finally:
        for client, pid, _ in children.values():
            _kill(pid)
            client.close()
        server.close()
        path.unlink(missing_ok=True)
        if path.parent.name.startswith(DIR_PREFIX):  # the folder start_worker made for it
            with contextlib.suppress(OSError):
                path.parent.rmdir()


def socket_dir() -> Path:
    """A fresh private folder for the worker's socket (`<tmp>/xstilts-worker-*`), after
    removing those of workers that are gone (a SIGKILLed run cannot clean up after itself)."""
    import tempfile

    remove_stale(Path(tempfile.gettempdir()))
    return Path(tempfile.mkdtemp(prefix=DIR_PREFIX))


def remove_stale(tmp: Path) -> list[Path]:
    """Remove this user's `xstilts-worker-*` socket folders under `tmp` whose worker no longer
    answers (older than `STALE_S`: a worker that is still starting has no socket yet)."""
    import shutil
    import time

    removed = []
    for folder in Path(tmp).glob(f"{DIR_PREFIX}*"):
        try:
            info = folder.lstat()
            if not folder.is_dir() or folder.is_symlink() or info.st_uid != os.getuid() \
                    or time.time() - info.st_mtime < STALE_S:
                continue
        except OSError:
            continue
        sock = folder / "worker.sock"
        if sock.exists():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                try:
                    probe.connect(str(sock))
                    continue  # a live worker
                except OSError:
                    pass
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _accept(server: socket.socket, sel: selectors.BaseSelector, children: dict) -> None:
    client, _ = server.accept()
    try:
        msg, fds, _, _ = socket.recv_fds(client, 1 << 20, 3)
        (size,) = HEADER.unpack(msg[: HEADER.size])
        body = msg[HEADER.size :]
        if len(body) < size:
            body += recv_exact(client, size - len(body))
        request = json.loads(body)
    except (OSError, ValueError, ConnectionError):
        client.close()
        return
    job = {"log": _fd_path(fds[1]) if len(fds) > 1 else None, "cwd": request.get("cwd"),
           "argv": list(request.get("argv", []))[:1], "start": time.time()}
    pid = os.fork()
    if pid == 0:
        server.close()
        client.close()
        _child(request, fds)
    for fd in fds:
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    children[pidfd] = (client, pid, job)
    sel.register(pidfd, selectors.EVENT_READ, ("child", pidfd))
    sel.register(client, selectors.EVENT_READ, ("client", pidfd))


def _fd_path(fd: int) -> str | None:
    """The file a received descriptor is open on (a job's log), or None (a pipe, a tty)."""
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None
    return target if target.startswith("/") else None


def _reap(pidfd: int, sel: selectors.BaseSelector, children: dict,
          records: Path | None = None) -> None:
    client, pid, job = children.pop(pidfd)
    _, wait_status, usage = os.wait4(pid, 0)
    if records is not None:
        _record(records, job, usage)
    status = os.waitstatus_to_exitcode(wait_status)
    status = 128 - status if status < 0 else status  # killed by a signal: shell convention
    sel.unregister(pidfd)
    os.close(pidfd)
    with contextlib.suppress(KeyError, ValueError):
        sel.unregister(client)
    with contextlib.suppress(OSError):
        send(client, {"status": status})
    client.close()


def _client_gone(pidfd: int, sel: selectors.BaseSelector, children: dict) -> None:
    """The client socket became readable: it closed (the job was killed); kill the child."""
    client, pid, _ = children[pidfd]
    try:
        if client.recv(1, socket.MSG_PEEK):
            return
    except OSError:
        pass
    _kill(pid)
    sel.unregister(client)


def _record(records: Path, job: dict, usage: os.struct_rusage) -> None:
    """Append the finished child's resources (Linux: ru_maxrss in KiB, blocks of 512 B)."""
    entry = {"log": job["log"], "cwd": job["cwd"], "stage": (job["argv"] or [None])[0],
             "wall_s": round(time.time() - job["start"], 4),
             "cpu_s": round(usage.ru_utime + usage.ru_stime, 4),
             "max_rss_mb": round(usage.ru_maxrss / 1024, 2),
             "io_in_mb": round(usage.ru_inblock * 512 / 2**20, 2),
             "io_out_mb": round(usage.ru_oublock * 512 / 2**20, 2)}
    with contextlib.suppress(OSError), open(records, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")


def read_records(records: str | Path) -> list[dict]:
    """The worker's resource records (none if it wrote none)."""
    path = Path(records)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def merge_benchmarks(records: str | Path,
                     benchmark_for: Callable[[str], str | None]) -> list[str]:
    """Replace the thin client's numbers in each job's benchmark TSV (Snakemake's columns)
    by its forked child's: s, h:m:s, max_rss, io_in, io_out, mean_load (CPU %, as
    Snakemake's) and cpu_time; max_vms/uss/pss become NA (not measured). `benchmark_for`
    maps a job's log path (relative to the workflow directory) to its benchmark file, or
    None. Returns the files rewritten."""
    import datetime

    done = []
    for rec in read_records(records):
        log = rec.get("log")
        if not log:
            continue
        rel = os.path.relpath(log, rec["cwd"]) if rec.get("cwd") else log
        bench = benchmark_for(rel)
        if not bench:
            continue
        path = Path(rec["cwd"] or ".") / bench
        if not path.is_file():
            continue
        lines = path.read_text("utf-8").splitlines()
        if len(lines) < 2:
            continue
        header = lines[0].split("\t")
        wall = float(rec["wall_s"])
        values = {"s": f"{wall:.4f}", "h:m:s": str(datetime.timedelta(seconds=round(wall))),
                  "max_rss": f"{rec['max_rss_mb']:.2f}", "max_vms": "NA", "max_uss": "NA",
                  "max_pss": "NA", "io_in": f"{rec['io_in_mb']:.2f}",
                  "io_out": f"{rec['io_out_mb']:.2f}",
                  "mean_load": f"{100 * rec['cpu_s'] / wall:.2f}" if wall > 0 else "NA",
                  "cpu_time": f"{rec['cpu_s']:.2f}"}
        rows = []
        for line in lines[1:]:
            cells = line.split("\t")
            rows.append("\t".join(values.get(h, c) for h, c in zip(header, cells, strict=True)))
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("\n".join([lines[0], *rows]) + "\n", "utf-8")
        tmp.replace(path)
        done.append(str(path))
    return done


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    serve(sys.argv[1], warm="--cold" not in sys.argv[2:])

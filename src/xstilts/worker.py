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
written those (the workflow calls it when it stops the worker, and keeps every record, jobs
without a `benchmark:` file included, in `results/benchmarks/jobs.jsonl` via `keep_records`).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path

from xstilts.cli import main as cli_main
from xstilts.worker_client import (  # noqa: F401  (RECORDS: part of this module's API)
    ENV_VAR,
    HEADER,
    RECORDS,
    fd_path,
    recv_exact,
    send,
    write_record,
)

DIR_PREFIX = "xstilts-worker-"  # socket folders made by `socket_dir`
STALE_S = 600  # a socket folder this old without a live worker is a killed run's


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
    # the imported modules' objects go to the permanent generation: a forked job's garbage
    # collections (accelerate's release_memory runs a full one) no longer walk them (~0.3 CPU s
    # each) nor touch their pages (copy-on-write)
    gc.freeze()
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
    """Fork a child for the job a client sends; a connection that sends no job (e.g. the
    liveness probe of `remove_stale` in another run) is closed and changes nothing else."""
    client, _ = server.accept()
    fds: list[int] = []
    try:
        msg, fds, _, _ = socket.recv_fds(client, 1 << 20, 3)
        (size,) = HEADER.unpack(msg[: HEADER.size])
        body = msg[HEADER.size :]
        if len(body) < size:
            body += recv_exact(client, size - len(body))
        request = json.loads(body)
        if len(fds) != 3:
            raise ValueError("a job request carries stdin, stdout and stderr")
    except (OSError, ValueError, ConnectionError, struct.error):
        for fd in fds:
            os.close(fd)
        client.close()
        return
    job = {"log": fd_path(fds[1]) if len(fds) > 1 else None, "cwd": request.get("cwd"),
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


def _reap(pidfd: int, sel: selectors.BaseSelector, children: dict,
          records: Path | None = None) -> None:
    client, pid, job = children.pop(pidfd)
    _, wait_status, usage = os.wait4(pid, 0)
    if records is not None:
        write_record(records, job, usage)
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


def read_records(records: str | Path) -> list[dict]:
    """The worker's resource records (none if it wrote none)."""
    path = Path(records)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def keep_records(records: str | Path, dest: str | Path) -> int:
    """Append the worker's records to `dest` (e.g. results/benchmarks/jobs.jsonl, which
    `benchmarks/default_grid.py` sums per stage); returns how many."""
    entries = read_records(records)
    if entries:
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "a", encoding="utf-8") as handle:
            handle.writelines(json.dumps(entry) + "\n" for entry in entries)
    return len(entries)


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


def start_local(src: str | Path) -> dict | None:
    """Start a worker for a local workflow run (the library in `src` first on its path) and
    point the jobs at it (`XSTILTS_WORKER`); None when switched off (`XSTILTS_WORKER=0`)."""
    import subprocess

    if os.environ.get(ENV_VAR) == "0":
        return None
    folder = socket_dir()
    sock = folder / "worker.sock"
    path = os.pathsep.join(p for p in (str(src), os.environ.get("PYTHONPATH")) if p)
    proc = subprocess.Popen([sys.executable, "-m", "xstilts.worker", str(sock)],
                            env={**os.environ, "PYTHONPATH": path}, stdin=subprocess.DEVNULL)
    os.environ[ENV_VAR] = str(sock)
    return {"proc": proc, "dir": folder}


def stop_local(handle: dict | None, benchmark_for: Callable[[str], str | None],
               keep: str | Path | None = None) -> None:
    """Stop a worker of `start_local`, write its jobs' numbers into their benchmark files (the
    thin clients were benchmarked: see `merge_benchmarks`), append every job's record to `keep`
    (`keep_records`) and remove its socket folder."""
    import shutil

    if not handle:
        return
    proc = handle.pop("proc", None)
    if proc is not None:
        proc.terminate()
        proc.wait(timeout=30)
        records = Path(handle["dir"]) / RECORDS
        merge_benchmarks(records, benchmark_for)
        if keep is not None:
            keep_records(records, keep)
    shutil.rmtree(handle["dir"], ignore_errors=True)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    serve(sys.argv[1], warm="--cold" not in sys.argv[2:])

"""Where and with what a job ran: the header of every job log and the `provenance` of scores.json.

`configure_job_logging()` sets up line-based logging on stderr (the job's log file) and turns off
the carriage-return progress bars of transformers/datasets/huggingface_hub when stderr is not a
terminal; `log_header(stage, spec)` then writes one header line per fact:

    2026-12-03 10:31:08,441 INFO xstilts 0.1.0, commit 00fe129 (clean), stage evaluate
    2026-12-03 10:31:08,441 INFO host node7 (Linux-6.1-x86_64), python 3.11.9, pid 4242
    2026-12-03 10:31:08,441 INFO device cpu, threads 1 (torch 1), slurm job -
    2026-12-03 10:31:08,441 INFO torch 2.13.0+cpu, transformers 5.24.0, datasets 4.1.0, ...
"""

from __future__ import annotations

import functools
import logging
import os
import platform
import socket
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

log = logging.getLogger("xstilts")

LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"
LIBRARIES = ("torch", "transformers", "tokenizers", "datasets", "accelerate", "numpy")
CHECKOUT = Path(__file__).resolve().parents[3]  # src/xstilts/io -> the checkout (or site-packages)
# progress bars draw with '\r'; a log file gets none of them (these libraries read the variables)
QUIET_PROGRESS_ENV = {"HF_HUB_DISABLE_PROGRESS_BARS": "1", "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
                      "TQDM_DISABLE": "1"}


def configure_job_logging(stream: Any = None) -> None:
    """INFO lines with timestamps on stderr; no progress bars unless stderr is a terminal."""
    stream = sys.stderr if stream is None else stream
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    if not _is_tty(stream):
        quiet_progress_bars()


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def quiet_progress_bars() -> None:
    """Turn off tqdm progress bars of the HF libraries (also those already imported)."""
    for key, value in QUIET_PROGRESS_ENV.items():
        os.environ.setdefault(key, value)
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    if "datasets" in sys.modules:
        import datasets

        datasets.disable_progress_bars()


@functools.cache
def _code() -> dict[str, Any]:
    from xstilts.io.artifact import code_version

    info = code_version(CHECKOUT)
    return {"xstilts": info["xstilts"], "git_commit": info.get("git_commit"),
            "git_dirty": info.get("git_dirty")}


def library_versions() -> dict[str, str | None]:
    """Installed versions (from package metadata: nothing is imported)."""
    out: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def device() -> str:
    """`cuda:0 (<name>)` when torch sees a GPU, else `cpu` (what the stages use)."""
    import torch

    if torch.cuda.is_available():
        return f"cuda:0 ({torch.cuda.get_device_name(0)}) of {torch.cuda.device_count()}"
    return "cpu"


def collect(threads: int | None = None, torch_info: bool = True) -> dict[str, Any]:
    """The provenance record: code, host, device, threads, library versions (no timestamps, so
    that a rerun on the same machine writes the same record). Without `torch_info` (jobs that
    do not use torch: tables, figures) torch is not imported and device/torch threads are None."""
    torch = None
    if torch_info:
        import torch

    return {
        **_code(),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "device": device() if torch else None,
        "threads": threads,
        "torch_threads": torch.get_num_threads() if torch else None,
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "libraries": library_versions(),
    }


def header_lines(stage: str, record: dict[str, Any]) -> list[str]:
    commit = record.get("git_commit")
    state = "dirty" if record.get("git_dirty") else "clean"
    code = f"commit {commit[:12]} ({state})" if commit else "no git checkout"
    libs = ", ".join(f"{k} {v}" for k, v in record["libraries"].items() if v)
    return [
        f"xstilts {record['xstilts']}, {code}, stage {stage}",
        f"host {record['host']} ({record['platform']}), python {record['python']}, "
        f"pid {os.getpid()}",
        f"device {record['device'] or '- (no torch)'}, threads {record['threads'] or '-'} "
        f"(torch {record['torch_threads'] or '-'}), slurm job {record['slurm_job_id'] or '-'}",
        libs,
    ]


def log_header(stage: str, spec: dict[str, Any], torch_info: bool = True) -> dict[str, Any]:
    """Write the job header to the log (after `configure_job_logging`); returns the record."""
    threads = spec.get("threads")
    record = collect(int(threads) if isinstance(threads, int | float) else None, torch_info)
    for line in header_lines(stage, record):
        log.info("%s", line)
    return record


def start_tool_log(tool: str) -> None:
    """Logging and the header for the table/figure tools (`python -m xstilts.<tool>`), which
    the workflow's local rules run without torch."""
    configure_job_logging()
    log_header(tool, {}, torch_info=False)


def format_metrics(metrics: dict[str, Any], digits: int = 2) -> str:
    """`accuracy 35.00, f1 41.20` for one language's metrics (a log line, not a dict dump)."""
    return ", ".join(f"{k} {v:.{digits}f}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in metrics.items())

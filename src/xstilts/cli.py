"""`xstilts <stage> --spec JSON`: the entry points that the workflow's rules call.

Known failures (bad config, bad data, diverging training, a used-up time budget, a stop signal
during training) end with a one-line error naming the file/key and exit status 1, never a bare
traceback. SIGTERM/SIGUSR1 outside training end the stage at once, with one line, status 143/138
(128 + the signal), and no partial output.

The stages are `xstilts.registry.stages()`: the core stages and those every study package
declares (found by looking, see docs/ARCHITECTURE.md). The spec is parsed and checked by the
stage's spec class (a wrong key: one line naming it). Compute settings are options, not spec
keys, so that changing them reruns nothing: `--threads N` (the job's threads), and for training
stages `--runtime-min M` (the job's SLURM runtime; a retry's larger runtime does not change the
job's params), a wall-clock budget of
`RUNTIME_BUDGET_FRACTION` of M minutes counted from the start of this command. The stage gets
both as a `xstilts.stages.specs.Job`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def _known_errors() -> tuple[type[BaseException], ...]:
    from xstilts.data.schema import DataError
    from xstilts.grid.config import ConfigError
    from xstilts.io.artifact import ArtifactError
    from xstilts.tasks.registry import RegistryError

    errors: list[type[BaseException]] = [ArtifactError, ConfigError, DataError, RegistryError]
    from xstilts.engine.signals import Preempted
    from xstilts.engine.stops import NonFiniteLossError, TimeBudgetExceeded

    errors += [NonFiniteLossError, TimeBudgetExceeded, Preempted]
    errors.append(OSError)  # disk full, permissions, a file where a folder should be: names it
    from xstilts.engine.tracking import TrackingError

    errors.append(TrackingError)
    return tuple(errors)


def _start_log(stage: str, threads: int | None) -> None:
    """Line-based logging on stderr (the job's log), the job's threads, then the header."""
    from xstilts.io.provenance import configure_job_logging, log_header

    configure_job_logging()
    if threads is not None:
        from xstilts.stages.common import setup

        setup(threads)
    log_header(stage, {"threads": threads})


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: list[str] | None = None, allow_worker: bool = True) -> int:
    started = time.time()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["check-data"]:
        from xstilts.data.preflight import main as check_main

        return check_main(argv[1:])
    if allow_worker:
        from xstilts.worker_client import record_in_process, run_via_worker

        status = run_via_worker(argv)
        if status is not None:
            return status
        try:  # no worker up (yet): this process is the job; record it as the worker would
            return _run(argv, started)
        finally:
            record_in_process(argv, started)
    return _run(argv, started)


def _run(argv: list[str], started: float) -> int:
    if argv[:1] == ["cost"]:
        from xstilts.grid.cost import main as cost_main

        return cost_main(argv[1:])
    parser = argparse.ArgumentParser(prog="xstilts", description=__doc__)
    sub = parser.add_subparsers(dest="stage", required=True)
    sub.add_parser("cost", help="print the GPU-hours a config needs (xstilts cost --config FILE)")
    sub.add_parser("check-data", help="check the data every planned job will read "
                   "(xstilts check-data --config FILE)")
    from xstilts.registry import stages

    registry = stages()
    for stage, entry in registry.items():
        p = sub.add_parser(stage, help=f"run the {stage} stage")
        p.add_argument("--spec", required=True, help="the job's spec as JSON (or @file.json)")
        p.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                       help="the job's CPU threads (default 1)")
        if entry.training:
            p.add_argument("--runtime-min", type=float, default=None, metavar="M",
                           help="the job's runtime in minutes: training checkpoints and stops "
                                "(exit 1) before it runs out; a rerun resumes")
    args = parser.parse_args(argv)
    text = args.spec
    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as err:
            print(f"xstilts {args.stage}: error: cannot read --spec file {text[1:]}: {err}",
                  file=sys.stderr)
            return 2
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as err:
        print(f"xstilts {args.stage}: error: --spec is not valid JSON: {err}", file=sys.stderr)
        return 2
    if not isinstance(spec, dict):
        print(f"xstilts {args.stage}: error: --spec must be a JSON object, got "
              f"{type(spec).__name__}", file=sys.stderr)
        return 2
    budget = None
    if getattr(args, "runtime_min", None) is not None:
        from xstilts.engine.stops import TimeBudget

        try:
            budget = TimeBudget.from_runtime(args.runtime_min, start=started)
        except ValueError as err:
            print(f"xstilts {args.stage}: error: --runtime-min: {err}", file=sys.stderr)
            return 2
    from xstilts.engine.signals import Terminated, terminate_on_signals
    from xstilts.stages.specs import Job

    job = Job(threads=args.threads or 1, time_budget=budget)
    stage = registry[args.stage]
    try:
        with terminate_on_signals():
            typed = stage.spec.from_json(spec)
            _start_log(args.stage, args.threads)
            stage.run(typed, job)
    except _known_errors() as err:
        print(f"xstilts {args.stage}: error: {err}", file=sys.stderr)
        return 1
    except Terminated as err:
        print(f"xstilts {args.stage}: error: {err}", file=sys.stderr)
        return 128 + err.signum
    return 0


if __name__ == "__main__":
    sys.exit(main())

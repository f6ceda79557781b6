"""`xstilts <stage> --spec JSON`: the entry points that the workflow's rules call.

Known failures (bad config, bad data, diverging training, a used-up time budget, a stop signal
during training) end with a one-line error naming the file/key and exit status 1, never a bare
traceback. SIGTERM/SIGUSR1 outside training end the stage at once, with one line, status 143/138
(128 + the signal), and no partial output.

`--runtime-min M` (the job's SLURM runtime, passed by the rules outside the spec so that a retry's
larger runtime does not change the job's params) gives training stages a wall-clock budget of
`RUNTIME_BUDGET_FRACTION` of M minutes, counted from the start of this command; the stage gets it
as `spec["_time_budget"]` (an `xstilts.engine.stops.TimeBudget`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time

STAGES = ("data", "pretrain", "intermediate", "finetune", "evaluate", "retrieve", "labels",
          "export", "perturb", "robustness", "alignment", "fairness")
TRAINING_STAGES = ("pretrain", "intermediate", "finetune")


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


def _start_log(stage: str, spec: dict) -> None:
    """Line-based logging on stderr (the job's log), the job's threads, then the header."""
    from xstilts.io.provenance import configure_job_logging, log_header

    configure_job_logging()
    if isinstance(spec.get("threads"), int):
        from xstilts.stages.common import setup

        setup(spec["threads"])
    log_header(stage, spec)


def main(argv: list[str] | None = None, allow_worker: bool = True) -> int:
    started = time.time()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["check-data"]:
        from xstilts.data.preflight import main as check_main

        return check_main(argv[1:])
    if allow_worker:
        from xstilts.worker_client import run_via_worker

        status = run_via_worker(argv)
        if status is not None:
            return status
    if argv[:1] == ["cost"]:
        from xstilts.grid.cost import main as cost_main

        return cost_main(argv[1:])
    parser = argparse.ArgumentParser(prog="xstilts", description=__doc__)
    sub = parser.add_subparsers(dest="stage", required=True)
    sub.add_parser("cost", help="print the GPU-hours a config needs (xstilts cost --config FILE)")
    sub.add_parser("check-data", help="check the data every planned job will read "
                   "(xstilts check-data --config FILE)")
    for stage in STAGES:
        p = sub.add_parser(stage, help=f"run the {stage} stage")
        p.add_argument("--spec", required=True, help="the job's spec as JSON (or @file.json)")
        if stage in TRAINING_STAGES:
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
    if getattr(args, "runtime_min", None) is not None:
        from xstilts.engine.stops import TimeBudget

        try:
            spec["_time_budget"] = TimeBudget.from_runtime(args.runtime_min, start=started)
        except ValueError as err:
            print(f"xstilts {args.stage}: error: --runtime-min: {err}", file=sys.stderr)
            return 2
    from xstilts.engine.signals import Terminated, terminate_on_signals

    try:
        with terminate_on_signals():
            module = importlib.import_module(f"xstilts.stages.{args.stage}")
            _start_log(args.stage, spec)
            module.run(spec)
    except _known_errors() as err:
        print(f"xstilts {args.stage}: error: {err}", file=sys.stderr)
        return 1
    except Terminated as err:
        print(f"xstilts {args.stage}: error: {err}", file=sys.stderr)
        return 128 + err.signum
    return 0


if __name__ == "__main__":
    sys.exit(main())

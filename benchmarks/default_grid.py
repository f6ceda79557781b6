"""Wall time and CPU seconds of the default grid and of the studies overlay, from scratch.

Runs `snakemake --cores N` on config.yaml in a fresh working directory, then on config.yaml +
config/studies.yaml in another (each from scratch: mini-XTREME generated, no warm caches), and
prints per config and stage the number of jobs and the sum of the jobs' CPU seconds as measured
in each forked job process by the warm worker (`os.wait4` of the job, its own children
included; `results/benchmarks/jobs.jsonl`), not Snakemake's thin client. "all processes" is
the CPU time of everything the run started (Snakemake, the worker, local rules such as the
tables and figures), from `getrusage(RUSAGE_CHILDREN)` of this script.

    python benchmarks/default_grid.py [--cores 2] [--workdir DIR] [--only default|studies]
        [--config FILE ...] [--overlay FILE] [--records JOBS.jsonl ...]

A second table gives the CPU seconds per job class (stage and task: the fine-tuning target,
the evaluated target, the intermediate recipe), where a profile (benchmarks/job_profile.py)
starts. `--records` prints both tables for existing runs' job records (no run; a partial run
counts the jobs it finished).

`--config` replaces config.yaml (several files merge in order, e.g. a slice for a quick check:
`--config .test/config/config.yaml --overlay .test/config/studies.yaml`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_grid(workdir: Path, configfiles: list[Path], cores: str) -> dict:
    """Run the grid in `workdir`; its wall time, all processes' CPU and the job records."""
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--configfile", *map(str, configfiles),
           "--cores", cores]
    cpu0, start = children_cpu(), time.perf_counter()
    with open(workdir / "snakemake.out", "w", encoding="utf-8") as out:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT)
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu0
    if proc.returncode:
        sys.exit(f"the grid failed: see {workdir}/snakemake.out")
    jobs = workdir / "results" / "benchmarks" / "jobs.jsonl"
    if not jobs.is_file():
        sys.exit(f"{jobs}: no job records (was the warm worker off? XSTILTS_WORKER=0)")
    return {"wall": wall, "cpu": cpu, "records": read_records(jobs)}


def stage_rows(records: list[dict]) -> dict[str, tuple[int, float, float]]:
    """stage -> (jobs, CPU s sum, wall s sum) of the forked jobs."""
    by_stage: dict[str, list[dict]] = defaultdict(list)
    for rec in records:
        by_stage[rec.get("stage") or "?"].append(rec)
    return {stage: (len(recs), sum(r["cpu_s"] for r in recs), sum(r["wall_s"] for r in recs))
            for stage, recs in sorted(by_stage.items())}


def job_class(rec: dict) -> str:
    """stage/task of a job from its log path: finetune/xnli, evaluate/mlqa, intermediate/mnli,
    retrieve (one job per checkpoint), data, ..."""
    parts = Path(rec.get("log", "")).parts
    stage = rec.get("stage") or "?"
    if "logs" not in parts:
        return stage
    rest = parts[parts.index("logs") + 2:]  # after logs/<stage>/
    if stage in ("finetune", "evaluate") and len(rest) >= 4:
        return f"{stage}/{rest[2]}" + ("" if rest[0] == "tiny" else f" ({rest[0]})")
    if stage == "intermediate" and len(rest) >= 3:
        return f"{stage}/{rest[1]}"
    return stage


def class_table(runs: dict[str, dict]) -> str:
    lines = ["| config | job class | jobs | CPU s (sum) | CPU s / job | share |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for name, run in runs.items():
        by: dict[str, list[float]] = defaultdict(list)
        for rec in run["records"]:
            by[job_class(rec)].append(rec["cpu_s"])
        total = sum(sum(v) for v in by.values()) or 1.0
        for cls, cpus in sorted(by.items(), key=lambda kv: -sum(kv[1])):
            lines.append(f"| {name} | {cls} | {len(cpus)} | {sum(cpus):.0f} | "
                         f"{sum(cpus) / len(cpus):.1f} | {sum(cpus) / total:.0%} |")
    return "\n".join(lines)


def read_records(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]


def table(runs: dict[str, dict], cores: str) -> str:
    lines = ["| config | stage | jobs | CPU s (sum) | CPU s / job | job wall s (sum) |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for name, run in runs.items():
        rows = stage_rows(run["records"])
        for stage, (n, cpu, wall) in rows.items():
            lines.append(f"| {name} | {stage} | {n} | {cpu:.0f} | {cpu / n:.1f} | {wall:.0f} |")
        n = sum(r[0] for r in rows.values())
        cpu = sum(r[1] for r in rows.values())
        lines.append(f"| {name} | **all jobs** | {n} | {cpu:.0f} | {cpu / max(n, 1):.1f} | |")
        lines.append(f"| {name} | **all processes** | | {run['cpu']:.0f} | | |")
    lines.append("")
    lines.append("| config | wall s | wall min | cores | CPU s, all processes | CPU use |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    ncores = os.cpu_count() if cores == "all" else int(cores)
    for name, run in runs.items():
        use = run["cpu"] / (run["wall"] * ncores)
        lines.append(f"| {name} | {run['wall']:.0f} | {run['wall'] / 60:.1f} | {ncores} | "
                     f"{run['cpu']:.0f} | {use:.0%} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cores", default="all")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--config", type=Path, nargs="+", default=[REPO / "config.yaml"])
    parser.add_argument("--overlay", type=Path, default=REPO / "config" / "studies.yaml")
    parser.add_argument("--only", choices=("default", "studies"), default=None)
    parser.add_argument("--records", type=Path, nargs="+", default=None,
                        help="summarize existing results/benchmarks/jobs.jsonl files (no run)")
    args = parser.parse_args(argv)
    if args.records:
        recs = {str(p): {"records": read_records(p)} for p in args.records}
        print(class_table(recs))
        return 0
    if os.environ.get("XSTILTS_WORKER") == "0":
        sys.exit("XSTILTS_WORKER=0: the per-job CPU seconds come from the warm worker")
    root = args.workdir or Path(tempfile.mkdtemp(prefix="xstilts-grid-"))
    configs = {"default": [p.resolve() for p in args.config],
               "studies": [p.resolve() for p in [*args.config, args.overlay]]}
    runs = {}
    for name, files in configs.items():
        if args.only in (None, name):
            runs[name] = run_grid(root / name, files, args.cores)
    print(f"grids run from scratch in {root} (--cores {args.cores}; configs: "
          + "; ".join(f"{n} = {' + '.join(str(p) for p in configs[n])}" for n in runs) + ")")
    print()
    print(table(runs, args.cores))
    print()
    print(class_table(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Wall time of the whole default grid (`snakemake --cores all` on config.yaml), from scratch.

Runs in a fresh temporary working directory (or --workdir), then prints the wall time and, from
the rules' `benchmark:` files, the number of jobs and their summed and mean seconds per stage.

    python benchmarks/default_grid.py [--cores 2] [--workdir DIR] [--no-worker]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def stage_times(results: Path) -> dict[str, list[float]]:
    times: dict[str, list[float]] = defaultdict(list)
    for tsv in (results / "benchmarks").rglob("*.tsv"):
        stage = tsv.relative_to(results / "benchmarks").parts[0]
        with open(tsv, encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        times[stage] += [float(row["s"]) for row in rows]
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cores", default="all")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml")
    parser.add_argument("--no-worker", action="store_true", help="XSTILTS_WORKER=0")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="xstilts-grid-"))
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(args.config, workdir / "config.yaml")
    env = dict(os.environ)
    if args.no_worker:
        env["XSTILTS_WORKER"] = "0"
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--configfile", str(workdir / "config.yaml"),
           "--cores", args.cores]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"the grid failed (see {workdir}/.snakemake/log):\n{proc.stderr[-3000:]}")
    times = stage_times(workdir / "results")
    print(f"default grid: {wall:.0f} s wall ({wall / 60:.1f} min) on --cores {args.cores}, "
          f"warm worker {'off' if args.no_worker else 'on'}; workdir {workdir}")
    print()
    print("| stage | jobs | job seconds (sum) | mean s/job |")
    print("| --- | --- | --- | --- |")
    for stage, values in sorted(times.items()):
        print(f"| {stage} | {len(values)} | {sum(values):.0f} | {sum(values) / len(values):.1f} |")


if __name__ == "__main__":
    main()

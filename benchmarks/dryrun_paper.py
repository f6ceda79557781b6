"""Dry-run time and job count of the paper config (goal: <= 3 s, <= 700 jobs).

    python benchmarks/dryrun_paper.py [--config config/paper.yaml] [--repeat 3]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def dry_run(config: Path, workdir: Path) -> tuple[float, dict[str, int]]:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--configfile", str(config), "--cores", "1",
           "--dry-run", "--quiet", "rules"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    counts = {m.group(1): int(m.group(2))
              for m in re.finditer(r"^(\w+)\s+(\d+)$", proc.stdout, re.MULTILINE)}
    return elapsed, counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, default=REPO / "config" / "paper.yaml")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [dry_run(args.config.resolve(), Path(tmp)) for _ in range(args.repeat)]
    times = sorted(t for t, _ in runs)
    counts = runs[-1][1]
    print(f"| config | dry-run s (median of {args.repeat}) | min s | jobs |")
    print("| --- | --- | --- | --- |")
    print(f"| {args.config.name} | {times[len(times) // 2]:.2f} | {times[0]:.2f} | "
          f"{counts.get('total', 0)} |")
    print()
    print("| rule | jobs |")
    print("| --- | --- |")
    for rule, n in counts.items():
        if rule != "total":
            print(f"| {rule} | {n} |")


if __name__ == "__main__":
    main()

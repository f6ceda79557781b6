"""Where a grid job's CPU time goes: run one stage spec in-process under cProfile.

Takes a job as the workflow runs it (`{"stage": ..., "spec": {...}}`, e.g. extracted from
`snakemake -n -p`), runs it in the current directory (a grid's workdir with its inputs) with
1 thread, and prints the job's CPU seconds and the functions with the largest cumulative time
(training loop, dev evaluation, test evaluation, featurizing, model load, saving).

    python benchmarks/job_profile.py JOB.json [JOB.json ...] [--top 25] [--threads 1]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from pathlib import Path

# the phases named in the breakdown: (label, function-name substring in pstats keys)
PHASES = [
    ("train total", "training.py", "train"),
    ("optimizer steps (HF inner loop)", "trainer.py", "_inner_training_loop"),
    ("dev evaluation", "trainer.py", "evaluate"),
    ("featurize", "featurize.py", "featurize"),
    ("test prediction (run_model)", "predict.py", "run_model"),
    ("QA postprocess", "qa.py", "postprocess_qa"),
    ("metrics", "metrics/__init__.py", "compute"),
    ("model load (from_pretrained)", "modeling_utils.py", "from_pretrained"),
    ("tokenizer load", "tokenization_utils_base.py", "from_pretrained"),
    ("save", "checkpoints.py", "save_full_model"),
    ("save encoder", "checkpoints.py", "save_encoder"),
    ("load_split", "load.py", "load_split"),
    ("evaluate stage", "stages/evaluate.py", "run"),
    ("retrieval", "engine/retrieval.py", "encode"),
]


def phase_table(stats: pstats.Stats) -> list[tuple[str, float]]:
    rows = []
    for label, path, func in PHASES:
        best = 0.0
        for (filename, _, name), (_, _, _, cum, _) in stats.stats.items():  # type: ignore[attr-defined]
            if name == func and filename.endswith(path):
                best = max(best, cum)
        if best:
            rows.append((label, best))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("jobs", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    import importlib

    from xstilts.stages.specs import Job

    for path in args.jobs:
        job = json.loads(path.read_text("utf-8"))
        stage = job["stage"]
        module = importlib.import_module(f"xstilts.stages.{stage}")
        prof = cProfile.Profile()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        prof.enable()
        module.run(job["spec"], Job(threads=args.threads))
        prof.disable()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        stats = pstats.Stats(prof)
        print(f"## {path.name}: stage {stage}, CPU {cpu:.1f} s, wall {wall:.1f} s")
        print("| phase | cumulative s |\n| --- | ---: |")
        for label, secs in phase_table(stats):
            print(f"| {label} | {secs:.2f} |")
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(args.top)
        print(buf.getvalue()[-6000:])
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

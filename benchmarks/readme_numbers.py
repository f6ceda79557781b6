"""Write every number of README.md and docs/*.md from a finished run, so that none can drift.

The documents hold generated blocks between markers

    <!-- BEGIN numbers:NAME (benchmarks/readme_numbers.py; do not edit) -->
    ...
    <!-- END numbers:NAME -->

and this script rewrites each block it knows from a run's `results/` folder (any folder: the
default grid's, a test workflow's, a cluster run's); blocks whose inputs the run lacks say so.
The `dag` block is the job count of `snakemake -n` for the repository's config.yaml and with
config/studies.yaml (no run needed). Prints a table of the blocks it wrote.

    python benchmarks/readme_numbers.py --results results            (rewrite README and docs)
    python benchmarks/readme_numbers.py --results results --check    (exit 1 if out of date)
    python benchmarks/readme_numbers.py --results DIR --docs OUTDIR  (write copies elsewhere)
    python benchmarks/readme_numbers.py                              (only the `dag` block)

With a run, the figures that the documents show (docs/*.png) are copied from it too.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd

from xstilts.io.jsonio import check_renamed_fields

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = ("README.md", "docs/results.md", "docs/models.md", "docs/studies.md")
BLOCK = re.compile(r"(<!-- BEGIN numbers:(?P<name>[\w-]+) [^>]*-->\n)(?P<body>.*?)"
                   r"(<!-- END numbers:(?P=name) -->)", re.S)
TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ ", re.M)
SCORE = "score"
RUN_FREE = ("dag",)  # blocks that need no run
FIGURES = {"docs/improvement_heatmap.png": "figures/improvement_heatmap.png",
           "docs/robustness_mean.png": "figures/robustness/robustness_mean.png"}
RETRIEVAL = ("bucc2018", "tatoeba")


class Run:
    """The files of one run's results/ folder (read lazily; None when absent)."""

    def __init__(self, results: Path):
        self.root = Path(results)
        if not (self.root / "tables" / "tidy.csv").is_file():
            raise SystemExit(f"{self.root}: no tables/tidy.csv (not a finished run's results/)")

    def copy_figures(self, repo: Path) -> list[str]:
        """The run's figures that the documents show (docs/*.png), copied over."""
        done = []
        for doc, rel in FIGURES.items():
            if (self.root / rel).is_file():
                (repo / doc).parent.mkdir(parents=True, exist_ok=True)
                (repo / doc).write_bytes((self.root / rel).read_bytes())
                done.append(doc)
        return done

    def csv(self, rel: str) -> pd.DataFrame | None:
        path = self.root / rel
        if not path.is_file():
            return None
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
        check_renamed_fields(frame.columns, path, "column")  # a table of an older run
        return frame

    def text(self, rel: str) -> str | None:
        path = self.root / rel
        return path.read_text(encoding="utf-8") if path.is_file() else None

    @property
    def tidy(self) -> pd.DataFrame:
        return self.csv("tables/tidy.csv")

    def provenance(self) -> tuple[dict | None, list[str]]:
        """The first job's provenance record and every commit that the jobs ran."""
        records = [json.loads(p.read_text(encoding="utf-8")).get("provenance")
                   for p in sorted((self.root / "scores").rglob("scores.json"))]
        records = [r for r in records if r]
        commits = sorted({(r.get("git_commit") or "unknown")[:12] for r in records})
        return (records[0] if records else None), commits


# ---------------------------------------------------------------------------- blocks

def planned_total(*configfiles: Path) -> int:
    """Jobs of `snakemake -n` with these config files (merged in order) in an empty directory."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
             "--directory", tmp, "--configfile", *map(str, configfiles), "--cores", "1",
             "--dry-run", "--quiet", "rules"], capture_output=True, text=True, timeout=600)
    match = re.search(r"^total\s+(\d+)$", proc.stdout + proc.stderr, re.M)
    if proc.returncode or not match:
        raise SystemExit(f"snakemake -n failed:\n{proc.stdout}\n{proc.stderr}")
    return int(match.group(1))


def dag_block(_: Run) -> str:
    """Jobs of the default grid (config.yaml) and with the studies overlay."""
    default = planned_total(REPO / "config.yaml")
    studies = planned_total(REPO / "config.yaml", REPO / "config" / "studies.yaml")
    return (f"The default grid is **{default} jobs** (`snakemake -n`); with the studies "
            f"overlay `config/studies.yaml` it is **{studies} jobs**.\n")


def _wall_minutes(run: Run) -> float | None:
    stamps = []
    for path in (run.root / "logs").rglob("*.log"):
        found = TIMESTAMP.findall(path.read_text(encoding="utf-8", errors="replace"))
        stamps += [datetime.fromisoformat(s) for s in (found[:1] + found[-1:])]
    return (max(stamps) - min(stamps)).total_seconds() / 60 if stamps else None


def _job_seconds(run: Run) -> tuple[int, float]:
    files = sorted((run.root / "benchmarks").rglob("*.tsv"))
    total = sum(float(pd.read_csv(f, sep="\t")["s"].iloc[-1]) for f in files)
    return len(files), total


def run_block(run: Run) -> str:
    """Where the numbers come from: code, machine, jobs, time."""
    record, commits = run.provenance()
    logs = len(list((run.root / "logs").rglob("*.log")))
    timed, seconds = _job_seconds(run)
    wall = _wall_minutes(run)
    seeds = sorted(set(run.tidy["seed"]))
    lines = [f"Run: {logs} job logs; the {timed} timed jobs (training, evaluation, retrieval, "
             f"studies: Snakemake `benchmark:`) took {seconds:,.0f} job-seconds of wall time"
             + (f"; {wall:.0f} minutes from the first to the last log line" if wall is not None
                else "")
             + f"; seeds {', '.join(map(str, seeds))}."]
    if record:
        libs = record.get("libraries") or {}
        commit = (f"commit {commits[0]}" if len(commits) == 1 else
                  f"commits {', '.join(commits)} (the code changed during the run)")
        lines.append(f"Code {record.get('xstilts')} at {commit}"
                     f"{' (uncommitted changes)' if record.get('git_dirty') else ''}; "
                     f"device {record.get('device')}, {record.get('threads')} thread(s) per job; "
                     f"torch {libs.get('torch')}, transformers {libs.get('transformers')}.")
    else:
        lines.append("The run's scores.json files record no provenance (a run before the "
                     "provenance header).")
    return "\n".join(lines) + "\n"


def headline_block(run: Run) -> str:
    """Per model: the baseline's average and the range of recipe improvements over it."""
    xt, imp = run.csv("tables/xtreme.csv"), run.csv("tables/improvement.csv")
    if xt is None:
        return "(this run has no tables/xtreme.csv)\n"
    lines = []
    for model, rows in xt.groupby("model", sort=True):
        base = rows[rows["recipe"] == "none"]
        text = f"- `{model}`"
        if len(base):
            b = base.iloc[0]
            n = int(b["n_seeds"])
            text += (f": `none` averages {b['avg']:.1f} over {b['avg_over']} "
                     f"({n} seed{'s' if n != 1 else ''})")
        deltas = imp[imp["model"] == model] if imp is not None else pd.DataFrame()
        if len(deltas) == 1:
            one = deltas.iloc[0]
            text += f"; `{one['recipe']}` changes it by {one['avg']:+.1f}"
        elif len(deltas):
            best = deltas.loc[deltas["avg"].idxmax()]
            worst = deltas.loc[deltas["avg"].idxmin()]
            text += (f"; the {len(deltas)} intermediate recipes change it by {worst['avg']:+.1f} "
                     f"(`{worst['recipe']}`) to {best['avg']:+.1f} "
                     f"(`{best['recipe']}`)")
        lines.append(text + ".")
    return "\n".join(lines) + "\n"


def _copy_table(run: Run, rel: str) -> str:
    text = run.text(rel)
    return text if text is not None else f"(this run has no {rel})\n"


def xtreme_block(run: Run) -> str:
    return _copy_table(run, "tables/xtreme.md")


def improvement_block(run: Run) -> str:
    return _copy_table(run, "tables/improvement.md")


def family_block(run: Run, pretrained: str = "tiny", control: str = "tiny_random") -> str:
    """Pretrained model vs the no-pretraining control (recipe `none`), per family, averaged over
    the trained (non-retrieval) targets."""
    tidy = run.tidy
    langs = run.csv("data/mini-xtreme/languages.csv")
    models = set(tidy["model"])
    if langs is None or not {pretrained, control} <= models:
        return (f"(this run lacks `{pretrained}` and `{control}` or mini-XTREME's "
                "languages.csv)\n")
    family = dict(zip(langs["lang"], langs["family"], strict=True))
    s = tidy[(tidy["metric"] == SCORE) & (tidy["recipe"] == "none")
             & ~tidy["target"].isin(RETRIEVAL) & tidy["model"].isin([pretrained, control])]
    s = s.assign(family=["English" if x == "en" else family.get(x, "unknown")
                         for x in s["language"]])
    per_target = s.groupby(["model", "target", "family"])["value"].mean()
    table = per_target.groupby(["family", "model"]).mean().unstack("model")
    table = table[[pretrained, control]].assign(difference=lambda t: t[pretrained] - t[control])
    n = s["target"].nunique()
    return (f"Recipe `none`, mean over {n} trained targets:\n\n"
            + table.round(1).to_markdown() + "\n")


def robustness_block(run: Run) -> str:
    rob = run.csv("tables/robustness/robustness.csv")
    if rob is None:
        return "(this run has no tables/robustness/robustness.csv)\n"
    top = rob[rob["severity"] == rob["severity"].max()]
    table = top.pivot_table(index=["model", "recipe"], columns="op", values="drop")
    table = table.rename(columns={"all": "mean over ops"}).round(1).reset_index()
    return (f"Drop (clean - perturbed score, non-English test sets, mean over seeds) at "
            f"severity {top['severity'].max():g}:\n\n" + table.to_markdown(index=False) + "\n")


def fairness_block(run: Run) -> str:
    summary = run.csv("fairness/fairness_summary.csv")
    if summary is None:
        return "(this run has no fairness/fairness_summary.csv)\n"
    avg = summary[summary["target"] == "avg"]
    cols = ["model", "recipe", "mean", "worst_family", "worst_family_score", "sd", "gini"]
    return ("Target `avg` (languages' scores averaged over targets); the intervals are in "
            "`results/fairness/`:\n\n"
            + avg[cols].round(3).to_markdown(index=False) + "\n")


def alignment_block(run: Run) -> str:
    stab = run.csv("tables/alignment/alignment_stability.csv")
    if stab is None:
        return "(this run has no tables/alignment/alignment_stability.csv)\n"
    sub = stab[stab["metric"] == "acc_centered"]
    clean = sub.groupby(["model", "recipe"])["clean"].first().rename("clean")
    delta = sub.pivot_table(index=["model", "recipe"], columns="condition", values="delta")
    table = pd.concat([clean, delta.add_prefix("change under ")], axis=1).round(1)
    return ("Centred retrieval accuracy@1 at the retrieval layer, clean and its change under "
            "each perturbation:\n\n" + table.reset_index().to_markdown(index=False) + "\n")


BLOCKS: dict[str, Callable[[Run], str]] = {
    "dag": dag_block, "run": run_block, "headline": headline_block, "xtreme": xtreme_block,
    "improvement": improvement_block, "family": family_block, "robustness": robustness_block,
    "fairness": fairness_block, "alignment": alignment_block,
}


# ---------------------------------------------------------------------------- documents

def fill(text: str, run: Run | None, cache: dict[str, str]) -> tuple[str, list[str]]:
    """`text` with every known block regenerated (without a run: only the run-free ones); the
    names of the blocks filled."""
    filled = []

    def replace(match: re.Match) -> str:
        name = match.group("name")
        if name not in BLOCKS:
            raise SystemExit(f"unknown generated block 'numbers:{name}'; known: {sorted(BLOCKS)}")
        if run is None and name not in RUN_FREE:
            return match.group(0)
        if name not in cache:
            cache[name] = BLOCKS[name](run)
        filled.append(name)
        return match.group(1) + cache[name] + match.group(4)

    return BLOCK.sub(replace, text), filled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=None,
                        help="a run's results/ folder (without it: only the run-free blocks)")
    parser.add_argument("--repo", type=Path, default=REPO, help="where the documents are")
    parser.add_argument("--docs", type=Path, default=None,
                        help="write the filled documents here instead of in place")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 when a document is out of date")
    args = parser.parse_args(argv)
    run = Run(args.results) if args.results else None
    cache: dict[str, str] = {}
    stale, rows = [], []
    for rel in DOCUMENTS:
        path = args.repo / rel
        if not path.is_file():
            continue
        old = path.read_text(encoding="utf-8")
        new, names = fill(old, run, cache)
        rows.append((rel, ", ".join(names) or "-", "changed" if new != old else "same"))
        if new != old:
            stale.append(rel)
        if not args.check and names:
            out = (args.docs / rel) if args.docs else path
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(new, encoding="utf-8")
    if run is not None and not args.check:
        for doc in run.copy_figures(args.docs or args.repo):
            rows.append((doc, "figure", "copied"))
    print(pd.DataFrame(rows, columns=["document", "blocks", "status"]).to_markdown(index=False))
    if args.check and stale:
        print(f"out of date: {', '.join(stale)} (rerun without --check)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

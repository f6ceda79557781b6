"""Convergence of the default config's training schedules, one task at a time.

Trains every intermediate task of the config's recipes and every fine-tuned target from the
config's base model, with the config's hyper-parameters (steps, learning rate, early stopping on
English dev) at 1 thread, and prints per task: steps run (of max_steps), CPU seconds and steps
per CPU second, the best English dev score, the chance score (best constant predictor,
`xstilts.engine.convergence`), the final training loss vs the chance loss, and for QA the
"answer = title" baseline's F1. A task whose dev score is not clearly above chance is marked.

    python benchmarks/convergence.py [--config config.yaml] [--data DIR] [--model tiny]
                                     [--tasks anli_plus,xnli,...]

Without --data, mini-XTREME is generated (the config's `benchmark.synthetic`) in a temp dir.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def default_tasks(config: dict, model: str) -> list[tuple[str, str]]:
    """(phase, task): the model's recipes' intermediate tasks, then its fine-tuned targets."""
    from xstilts.grid import config as xcfg

    recipes = xcfg.recipes(config)
    tasks = dict.fromkeys(t for r in xcfg.model_recipes(config, model)
                          for t in recipes[r].get("tasks", []))
    return ([("intermediate", t) for t in tasks]
            + [("target", t) for t in xcfg.finetuned_targets(config)])


def title_baseline(spec, dev) -> float:
    """F1 of answering every question with its title (QA)."""
    from xstilts.engine.predict import dev_score

    return dev_score(spec, dev, list(dev["title"]))


def run_task(config: dict, phase: str, name: str, source: dict, encoder: str, seed: int,
             work: Path) -> dict:
    from xstilts.data.load import load_split, task_labels
    from xstilts.engine.train_check import train_check
    from xstilts.engine.training import TrainTask
    from xstilts.grid import config as xcfg

    spec = xcfg.tasks(config)[name]
    train_ds = load_split(spec, "train", "en", source)
    dev_ds = load_split(spec, "validation", "en", source)
    labels = task_labels(spec, source) if spec.format == "tagging" and not spec.labels else None
    task = TrainTask(name=name, spec=spec, train=train_ds, dev=dev_ds, labels=labels)
    hp = {**xcfg.hparams(config, phase, name), "logging": 4}
    row = train_check(task, encoder, hp, work, seed)
    return {"phase": phase, **row,
            "title_f1": title_baseline(spec, dev_ds) if spec.format == "qa" else None}


def fmt(row: dict) -> str:
    def pct(x):
        return "-" if x is None else f"{100 * x:.1f}"

    mark = "" if row["above_chance"] else " **at chance**"
    return (f"| {row['phase']} | {row['task']} | {row['format']} | {row['train']} | "
            f"{row['steps']}/{row['max_steps']} | {row['best_step']} | {row['cpu_s']:.1f} | "
            f"{row['steps_per_s']:.2f} | {pct(row['dev'])}{mark} | {pct(row['chance'])} | "
            f"{pct(row['title_f1'])} | {row['train_loss']:.3f} | {row['chance_loss']:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml")
    parser.add_argument("--data", type=Path, default=None, help="a mini-XTREME folder")
    parser.add_argument("--model", default=None, help="a model of the config (default: first)")
    parser.add_argument("--tasks", default=None, help="comma-separated (default: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import yaml

    from xstilts.grid import paths as grid

    config = yaml.safe_load(args.config.read_text("utf-8"))
    model = args.model or next(iter(config["models"]))
    if config["models"][model]["init"] != "path":
        sys.exit(f"model {model!r}: give a model with init: path (a trained encoder)")
    encoder = grid.base_model_path(config, model)
    encoder = str(REPO / encoder) if not Path(encoder).is_absolute() else encoder
    work = Path(tempfile.mkdtemp(prefix="xstilts-convergence-"))
    data = args.data
    if data is None:
        from xstilts.data.synthetic import generate

        data = work / "mini-xtreme"
        generate(data, (config["benchmark"].get("synthetic") or {}))
    source = {"kind": "synthetic", "path": str(data)}
    wanted = args.tasks.split(",") if args.tasks else None
    todo = [(p, t) for p, t in default_tasks(config, model) if wanted is None or t in wanted]
    print(f"model {model} ({encoder}), data {data}, 1 thread, seed {args.seed}")
    print()
    print("| phase | task | format | train | steps/max | best step | CPU s | steps/s | "
          "best dev | chance | title F1 | final train loss | chance loss |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = []
    for phase, name in todo:
        row = run_task(config, phase, name, source, encoder, args.seed, work)
        rows.append(row)
        print(fmt(row), flush=True)
    total = sum(r["cpu_s"] for r in rows)
    inter = sum(r["cpu_s"] for r in rows if r["phase"] == "intermediate")
    targets = sum(r["cpu_s"] for r in rows if r["phase"] == "target")
    from xstilts.grid import config as xcfg

    n_recipes = len(xcfg.model_recipes(config, model))
    print()
    print(f"{len(rows)} tasks, {total:.0f} CPU-seconds; at chance: "
          f"{[r['task'] for r in rows if not r['above_chance']] or 'none'}")
    print(f"training CPU-seconds of the model's grid, roughly: intermediate tasks {inter:.0f} "
          f"(once each) + {n_recipes} recipes x targets {targets:.0f} = "
          f"{inter + n_recipes * targets:.0f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), "utf-8")


if __name__ == "__main__":
    main()

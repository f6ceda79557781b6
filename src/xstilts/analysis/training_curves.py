"""Training curves per job group, from the `train_log.json` each training job writes (HF
`TrainerState.log_history`): training loss over steps and, for fine-tuning, the dev score.

Groups: one figure per model for intermediate training (a line per recipe, seeds as separate
lines of the recipe's colour) and one per model and fine-tuned target (a line per recipe).

    python -m xstilts.analysis.training_curves --out DIR --groups JSON
    (JSON: {group: {label: [train_log.json, ...]}})
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from matplotlib import rc_context

from xstilts.analysis.figures import RC, new_figure, save_figure

PANELS = (("loss", "training loss"), ("eval_score", "dev score"))


def read_log(path: str | Path) -> dict[str, list[tuple[int, float]]]:
    """{"loss": [(step, value)], "eval_score": [...]} of one train_log.json."""
    out: dict[str, list[tuple[int, float]]] = {key: [] for key, _ in PANELS}
    for entry in json.loads(Path(path).read_text("utf-8")):
        for key in out:
            if key in entry and "step" in entry:
                out[key].append((int(entry["step"]), float(entry[key])))
    return out


def draw(runs: dict[str, list[str | Path]], title: str):
    """A figure for one group: `runs` = {label: [train_log.json per seed]}."""
    curves = {label: [read_log(p) for p in paths] for label, paths in runs.items()}
    panels = [(k, name) for k, name in PANELS
              if any(log[k] for logs in curves.values() for log in logs)]
    fig = new_figure(5.0 * max(1, len(panels)), 3.6)
    axes = fig.subplots(1, max(1, len(panels)), squeeze=False)[0]
    colours = {label: f"C{i % 10}" for i, label in enumerate(curves)}
    for ax, (key, name) in zip(axes, panels, strict=False):
        for label, logs in curves.items():
            for i, log in enumerate(logs):
                if log[key]:
                    steps, values = zip(*log[key], strict=True)
                    ax.plot(steps, values, color=colours[label], lw=1.2, alpha=0.85,
                            label=label if i == 0 else None,
                            marker="o" if key == "eval_score" else None, ms=3)
        ax.set_xlabel("step")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    if panels:
        axes[0].legend(fontsize=7, ncol=2 if len(curves) > 6 else 1)
    fig.suptitle(title, fontsize=10)
    return fig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xstilts.analysis.training_curves", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--groups", required=True, help="JSON {group: {label: [log, ...]}}")
    args = parser.parse_args(argv)
    groups = json.loads(args.groups)
    for group, runs in groups.items():
        missing = [p for paths in runs.values() for p in paths if not Path(p).is_file()]
        if missing:
            print(f"xstilts.analysis.training_curves: error: {missing[0]}: no training log",
                  file=sys.stderr)
            return 1
        with rc_context(RC):
            save_figure(draw(runs, group.replace("_", " ")), args.out / group, ("png",))
    return 0


if __name__ == "__main__":
    sys.exit(main())

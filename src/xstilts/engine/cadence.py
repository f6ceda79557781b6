"""Checkpoint cadence and best-weights keeping for `engine.training` (HF Trainer callbacks).

What a training job writes to its scratch dir:

- one *resumable* checkpoint (`checkpoint-<step>`: weights, optimizer and scheduler state, RNG,
  trainer state), the two newest kept (`engine.checkpoints` falls back to the older one),
  written every `save_every_minutes` of wall-clock time
  (`Cadence`) or, without it, every `save_every` steps; a job that stops on its time budget
  writes one too;
- with dev evaluation, the *best* weights (`best-<step>/model.safetensors`, no optimizer
  state) whenever the dev score improves (`BestWeights`, which also stops early after
  `patience` evaluations without improvement). Best weights older than the newest resumable
  checkpoint's best are removed at each save: at most the newest plus the best survive.

The final output is written from the best (or last) weights alone. `checkpoint_bytes` gives
the sizes that the cost estimate counts.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback
from transformers.trainer_callback import ExportableState

BEST_PREFIX = "best-"
BEST_FILE = "model.safetensors"
BEST_META = "best.json"
# bytes per parameter: fp32 weights; AdamW's two fp32 moments (the resumable checkpoint)
WEIGHT_BYTES = 4
OPTIMIZER_BYTES = 8


def checkpoint_bytes(parameters: int) -> dict[str, int]:
    """Bytes of one save for a model of `parameters` (all of them, embeddings included):
    "resumable" (weights + AdamW moments), "weights" (a best-weights save or a final output)."""
    return {"resumable": parameters * (WEIGHT_BYTES + OPTIMIZER_BYTES),
            "weights": parameters * WEIGHT_BYTES}


class Cadence(TrainerCallback):
    """Ask for a resumable checkpoint every `minutes` of wall-clock time (counted from the
    start of this process's training and from each save) or, without `minutes`, every `steps`
    optimizer steps."""

    def __init__(self, minutes: float | None = None, steps: int | None = None,
                 clock: Any = time.monotonic):
        if minutes is not None and not minutes > 0:
            raise ValueError(f"save_every_minutes must be positive, got {minutes}")
        if minutes is None and not (steps and steps > 0):
            raise ValueError(f"save_every must be a positive number of steps, got {steps}")
        self.seconds = None if minutes is None else float(minutes) * 60.0
        self.steps = None if minutes is not None else int(steps)
        self.clock = clock
        self.last = clock()

    def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self.last = self.clock()

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> Any:
        if self.seconds is not None:
            due = self.clock() - self.last >= self.seconds
        else:
            due = state.global_step % self.steps == 0
        if due:
            control.should_save = True
        return control

    def on_save(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self.last = self.clock()


def _best_dirs(root: Path) -> dict[int, Path]:
    out = {}
    for child in root.glob(f"{BEST_PREFIX}*"):
        match = re.fullmatch(rf"{BEST_PREFIX}(\d+)", child.name)
        if match and child.is_dir():
            out[int(match.group(1))] = child
    return out


class BestWeights(TrainerCallback, ExportableState):
    """Keep the weights of the best dev evaluation (`eval_score`, higher is better) in
    `directory/best-<step>` and stop after `patience` evaluations without improvement.

    Sets `state.best_metric` / `state.best_global_step`; its counter is saved with each
    resumable checkpoint (HF `ExportableState`), so a resumed run stops where the whole run
    would have."""

    def __init__(self, directory: str, patience: int | None = None, save_on_stop: bool = False):
        self.directory = str(directory)
        self.patience = patience
        self.patience_counter = 0
        self.save_on_stop = save_on_stop  # a resumable checkpoint of the early-stopped step

    def state(self) -> dict:
        return {"args": {"directory": self.directory, "patience": self.patience,
                         "save_on_stop": self.save_on_stop},
                "attributes": {"patience_counter": self.patience_counter}}

    @property
    def stopped_early(self) -> bool:
        return bool(self.patience) and self.patience_counter >= int(self.patience)

    def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        # Best weights from steps after the resumed one (or of another run, when starting
        # fresh) are stale: the replayed evaluations write them again.
        for step, path in _best_dirs(Path(self.directory)).items():
            if step > state.global_step or step != (state.best_global_step or step):
                shutil.rmtree(path, ignore_errors=True)

    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Any = None,
                    model: Any = None, **kw: Any) -> Any:
        score = (metrics or {}).get("eval_score")
        if score is None:
            return control
        if state.best_metric is None or score > state.best_metric:
            save_weights(model, Path(self.directory), state.global_step, float(score))
            state.best_metric, state.best_global_step = float(score), state.global_step
            self.patience_counter = 0
        else:
            self.patience_counter += 1
            if self.stopped_early:
                control.should_training_stop = True
                control.should_save = control.should_save or self.save_on_stop
        return control

    def on_save(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        """A resumable checkpoint was written: only its best weights (and newer) are needed."""
        for step, path in _best_dirs(Path(self.directory)).items():
            if step != state.best_global_step and step <= state.global_step:
                shutil.rmtree(path, ignore_errors=True)


def save_weights(model: Any, root: Path, step: int, score: float) -> Path:
    """The model's weights (safetensors, shared tensors once) as `root/best-<step>`, written
    to a temp dir and renamed."""
    from safetensors.torch import save_model

    root.mkdir(parents=True, exist_ok=True)
    final = root / f"{BEST_PREFIX}{step}"
    tmp = root / f".{BEST_PREFIX}{step}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_model(model, str(tmp / BEST_FILE))
    (tmp / BEST_META).write_text(json.dumps({"step": step, "score": score}), "utf-8")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    return final


def restore_best(model: Any, root: Path, step: int) -> None:
    """Load the best weights of `step` into `model` (they must exist: one clear error)."""
    from safetensors.torch import load_model

    path = Path(root) / f"{BEST_PREFIX}{step}" / BEST_FILE
    if not path.is_file():
        raise FileNotFoundError(f"best weights of step {step} are missing: {path}")
    load_model(model, str(path))


def remove_all(root: Path) -> None:
    """Delete every best-weights dir (the output is complete)."""
    for path in _best_dirs(Path(root)).values():
        shutil.rmtree(path, ignore_errors=True)

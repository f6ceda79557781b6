"""Experiment tracking of training jobs: the config's `tracking:` section -> HF Trainer.

`tracking: {report_to: none | tensorboard | wandb, offline: false, project: xstilts,
dir: results/tracking}`. The workflow hands the section to every training job in the
environment (`XSTILTS_TRACKING`, canonical JSON) rather than in its params, so switching
tracking on or off reruns nothing. Run names come from the job's output path, i.e. its
wildcards (`finetune/xlmr_large/anli_plus/xnli/seed1`). TensorBoard writes to
`<dir>/<run name>`; W&B runs in offline mode when `offline` (nodes without internet; sync
later with `wandb sync <dir>/wandb`). tensorboard and wandb are optional extras
(`pip install 'xstilts[tracking]'`), checked when a job starts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ENV_VAR = "XSTILTS_TRACKING"
REPORTERS = ("none", "tensorboard", "wandb")
DEFAULTS: dict[str, Any] = {"report_to": "none", "offline": False, "project": "xstilts",
                            "dir": "results/tracking"}
STAGES = ("pretrain", "intermediate", "finetune")


class TrackingError(ValueError):
    """The tracking settings cannot be honoured (unknown reporter, package missing)."""


def settings(spec: dict | None = None) -> dict[str, Any]:
    """The job's tracking settings: `spec["tracking"]`, else `$XSTILTS_TRACKING`, else none."""
    raw = (spec or {}).get("tracking")
    if raw is None and os.environ.get(ENV_VAR):
        try:
            raw = json.loads(os.environ[ENV_VAR])
        except json.JSONDecodeError as err:
            raise TrackingError(f"{ENV_VAR} is not valid JSON: {err}") from err
    merged = {**DEFAULTS, **(raw or {})}
    if merged["report_to"] not in REPORTERS:
        raise TrackingError(f"tracking.report_to: {merged['report_to']!r} not one of "
                            f"{REPORTERS}")
    return merged


def run_name(out_dir: str | Path) -> str:
    """`<stage>/<wildcards...>` from a training output path such as
    results/finetune/<model>/<recipe>/<target>/seed<N>/model (the last part dropped)."""
    parts = Path(out_dir).parts
    for i, part in enumerate(parts):
        if part in STAGES:
            return "/".join(parts[i:-1]) or part
    return Path(out_dir).name


def trainer_arguments(tracking: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """`TrainingArguments` keywords (report_to, run_name) for `tracking`; sets the
    reporter's environment (TensorBoard log dir; W&B project, dir and offline mode)."""
    cfg = settings({"tracking": tracking})
    reporter = cfg["report_to"]
    if reporter == "none":
        return {"report_to": "none", "run_name": name}
    from transformers.integrations import is_tensorboard_available, is_wandb_available

    available = is_tensorboard_available() if reporter == "tensorboard" else is_wandb_available()
    if not available:
        raise TrackingError(f"tracking.report_to: {reporter} needs the '{reporter}' package "
                            "(pip install 'xstilts[tracking]')")
    root = Path(cfg["dir"])
    if reporter == "tensorboard":
        os.environ["TENSORBOARD_LOGGING_DIR"] = str(root / name)
    else:
        os.environ["WANDB_PROJECT"] = str(cfg["project"])
        os.environ["WANDB_DIR"] = str(root)
        os.environ["WANDB_MODE"] = "offline" if cfg["offline"] else "online"
        root.mkdir(parents=True, exist_ok=True)
    return {"report_to": reporter, "run_name": name}

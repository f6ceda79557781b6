"""Training on HF `Trainer`: single-task and multi-task (one head per task, shared encoder).

- Dynamic padding per batch (format collators) and length-grouped batches.
- Single task: Trainer's `group_by_length` sampler. Multi-task: a deterministic batch sampler
  draws the task of every batch from `samplers.TaskSampler` and takes the task's next
  length-grouped batch; `mlm` in the mix gets masked-LM collation for its batches only.
- Checkpoints in `scratch_dir` (outside `out_dir`) with automatic resume from the newest usable
  one (`engine.checkpoints`: sealed, validated, broken ones skipped; the two newest are kept),
  exact from any step (mid-epoch too: `XTrainer._get_train_sampler`); one resumable checkpoint
  every `save_every_minutes` (else `save_every` steps) (`engine.cadence`);
  a non-finite loss stops the job (`NonFiniteLossError`), checked on the loss accumulated since
  the last log at logging, saving and evaluation steps (no host sync per step);
  `inject_nan_at_step` (hparam) or `XSTILTS_INJECT_NAN_AT_STEP` (env) tests that.
- Optional wall-clock budget (`TimeBudget`, e.g. from a SLURM job's runtime): when it is used up,
  training saves a checkpoint of the current step and raises `TimeBudgetExceeded` (no output);
  a rerun resumes from that step. `XSTILTS_RUNTIME_MINUTE_S` (env; seconds per runtime minute,
  default 60) shrinks budgets for tests. SIGTERM/SIGUSR1 (`engine.signals`) do the same at the
  next step boundary and raise `Preempted`.
- With `eval_task`: dev evaluation every `eval_every` steps, the best weights kept (without
  optimizer state), early stopping after `early_stopping_patience` evaluations.
- Output, written atomically (temp dir + rename) and last: the best full model with head
  (target fine-tuning) or the encoder only (intermediate / pretraining), the tokenizer,
  `engine_config.json` and `train_summary.json`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xstilts.engine import checkpoints
from xstilts.engine.collate import MultiTaskCollator, make_collator
from xstilts.engine.multitask import MultiTaskBatchSampler, MultiTaskRows
from xstilts.engine.signals import Preempted, StopRequest, stop_callback
from xstilts.engine.stops import TimeBudget, TimeBudgetExceeded
from xstilts.engine.trainer import (
    EPOCH_ORDER,
    Budget,
    EndOfTraining,
    Kill,
    LossLog,
    XTrainer,
    checkpoint_callbacks,
)
from xstilts.tasks.registry import TaskSpec

log = logging.getLogger("xstilts.engine.training")

HPARAM_DEFAULTS: dict[str, Any] = {
    "lr": 2e-5, "weight_decay": 0.0, "warmup_ratio": 0.1, "epochs": 3, "max_steps": None,
    "batch_size": 32, "grad_accum": 1, "max_length": 128, "doc_stride": 128,
    "eval_every": 0, "early_stopping_patience": None, "save_every": 500,
    "save_every_minutes": None, "logging": 50,
    "eval_batch_size": 64, "mlm_probability": 0.15, "max_grad_norm": 1.0,
    "lr_scheduler": "linear", "group_by_length": True, "output": None,
    "inject_nan_at_step": None, "kill_at_step": None, "keep_checkpoints": False,
    "optim": "adamw_torch_fused", "freeze_embeddings": False,
}
# Hparams that do not change the result (excluded from the scratch-dir fingerprint).
NON_RESULT_HPARAMS = {"logging", "eval_batch_size", "inject_nan_at_step", "kill_at_step",
                      "save_every", "save_every_minutes", "keep_checkpoints"}


@dataclass
class TrainTask:
    """A task to train on: canonical train Dataset, optional dev Dataset, label names."""

    name: str
    spec: TaskSpec
    train: Any
    dev: Any = None
    labels: list[str] | None = None


# ------------------------------------------------------------------ helpers
def _fingerprint(tasks: list[TrainTask], encoder_path: str, hparams: dict, seed: int,
                 sampler: dict | None, eval_task: TrainTask | None,
                 adversarial: dict | None = None) -> dict[str, Any]:
    def ds_fp(ds: Any) -> str | None:
        return None if ds is None else getattr(ds, "_fingerprint", str(len(ds)))

    # (only when set: clean runs keep the fingerprint, and the checkpoints, they had before)
    extra = {} if adversarial is None else {"adversarial": adversarial}
    return {
        **extra,
        "tasks": [[t.name, t.spec.format, ds_fp(t.train), t.labels] for t in tasks],
        "encoder": _encoder_digest(encoder_path), "seed": seed, "sampler": sampler,
        "hparams": {k: v for k, v in sorted(hparams.items()) if k not in NON_RESULT_HPARAMS},
        "eval": None if eval_task is None else [eval_task.name, ds_fp(eval_task.dev)],
    }


def _encoder_digest(encoder_path: str) -> str:
    """Content hash of a local encoder folder (its path may be a fresh temp dir on every
    attempt, as in pretraining; and a rebuilt upstream encoder must not resume old
    checkpoints); the name itself for anything else (a hub id)."""
    path = Path(encoder_path)
    if not path.is_dir():
        return str(encoder_path)
    digest = hashlib.sha256()
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(item.relative_to(path)).encode() + b"\0")
        with open(item, "rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return "sha256:" + digest.hexdigest()


def _prepare_scratch(scratch: Path, fingerprint: dict) -> str | None:
    """Checkpoint to resume from (None: fresh start); see `engine.checkpoints.prepare`."""
    return checkpoints.prepare(scratch, fingerprint)


def _labels_for(task: TrainTask) -> list[str] | None:
    from xstilts.engine.modeling import label_names

    if task.labels is not None:
        return list(task.labels)
    if task.spec.format in ("classification", "tagging"):
        return label_names(task.spec, task.train)
    return None


def _convergence_report(model: Any, tasks: list[TrainTask], feats: dict[str, Any],
                        tokenizer: Any, eval_task: str | None, best: float | None,
                        eval_hparams: dict[str, Any]) -> dict[str, Any]:
    """Per task: the chance loss (`engine.convergence`) and the output model's dev score (the
    early-stopping task's is its best evaluation; other tasks with a dev set are evaluated)."""
    from xstilts.engine.convergence import chance_loss, dev_scores

    evaluated = eval_task if best is not None else None
    scores = dev_scores(model, [t for t in tasks if t.name != evaluated], tokenizer,
                        eval_hparams)
    if evaluated:
        scores[evaluated] = float(best)
    return {"chance_loss": {t.name: chance_loss(t.spec.format, feats[t.name]) for t in tasks
                            if t.spec.format != "mlm"},
            "dev_scores": {t.name: scores[t.name] for t in tasks if t.name in scores}}


def _mean_logged_loss(history: list[dict[str, Any]], fallback: float) -> float:
    """Step-weighted mean of the logged interval losses: unlike HF's `training_loss`, which
    averages only the steps of the last process, it is the same for a resumed run."""
    total = steps = 0.0
    previous = 0
    for entry in history:
        if "loss" in entry and "step" in entry:
            width = int(entry["step"]) - previous
            total, steps, previous = total + float(entry["loss"]) * width, steps + width, \
                int(entry["step"])
    return total / steps if steps else fallback


def _atomic_write(out_dir: Path, write: Any) -> None:
    from xstilts.io.atomic import atomic_dir

    with atomic_dir(out_dir) as tmp:
        write(tmp)


def _ensure_log_handler() -> None:
    if not logging.getLogger().handlers and not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


# ------------------------------------------------------------------ entry point
def train(tasks: list[TrainTask], encoder_path: str | Path, out_dir: str | Path,
          scratch_dir: str | Path, hparams: dict[str, Any], seed: int, threads: int,
          sampler: dict[str, Any] | None = None, eval_task: TrainTask | None = None,
          time_budget: TimeBudget | float | None = None,
          adversarial: dict[str, Any] | None = None,
          tracking: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train `tasks` from the encoder at `encoder_path`; write the result to `out_dir`.

    hparams: lr, weight_decay, warmup_ratio, epochs or max_steps, batch_size, grad_accum,
    max_length, doc_stride, eval_every, early_stopping_patience, save_every, logging (steps),
    output ("model" = full model with head, "encoder"; default: "model" for a single target
    task, else "encoder"), keep_checkpoints (default False: scratch checkpoints are removed
    once the output is written), plus the test hooks inject_nan_at_step / kill_at_step.
    `sampler`: {"kind": ..., "temperature": ..., "cap": ...} for multi-task (default
    proportional). `time_budget`: a `TimeBudget`, or seconds counted from this call; once it
    is used up (checked after every step) the current step is checkpointed in `scratch_dir` and
    `TimeBudgetExceeded` is raised without writing `out_dir` (a rerun resumes from that step).
    `adversarial`: {"method": "freelb"|"fgm", "steps", "step_size", "init_mag", "max_norm",
    "norm", "epsilon"} (see `engine.adversarial`); MLM tasks are always trained clean.
    `tracking`: the config's `tracking:` section (default: `$XSTILTS_TRACKING`, else none;
    see `xstilts.engine.tracking`), the run named after `out_dir`.
    Returns the training summary (also written as train_summary.json).
    """
    from transformers import AutoTokenizer

    from xstilts.engine.cadence import restore_best

    run = _checked_run(tasks, encoder_path, out_dir, scratch_dir, hparams, seed, threads,
                       time_budget, adversarial)
    tokenizer = AutoTokenizer.from_pretrained(str(encoder_path))
    feats, labels = _features(tasks, tokenizer, run.hp)
    model = _build_model(tasks, encoder_path, labels, run.hp)
    batches = _batches(tasks, feats, tokenizer, run, sampler)
    dev = _dev_evaluation(eval_task, tasks, run.hp)
    trainer, watch = _build_trainer(run, model, tokenizer, batches, dev, tasks, tracking)
    fingerprint = _fingerprint(tasks, str(encoder_path), run.hp, seed, batches.task_sampler,
                               eval_task, run.adv.as_dict() if run.adv is not None else None)
    resume, resumed_step = _resume(trainer, run.scratch, fingerprint)
    result = _fit(trainer, resume, watch, run)
    if dev and trainer.state.best_global_step is not None:  # the output is the best model
        restore_best(model, run.scratch, trainer.state.best_global_step)
    summary = _summary(run, trainer, result, tasks, resumed_step,
                       _convergence_report(model, tasks, feats, tokenizer,
                                           dev["name"] if dev else None,
                                           trainer.state.best_metric, _eval_hparams(run.hp)))
    _write_output(run, model, tokenizer, _engine_config(tasks, labels, run.hp), summary,
                  trainer.state.log_history)
    if not run.hp["keep_checkpoints"]:  # the output is complete: free the scratch space
        _free_scratch(run.scratch)
    log.info("trained %s: %d steps in %.1fs -> %s", "+".join(summary["tasks"]),
             summary["steps"], summary["wall_time_s"], run.out)
    return summary


# ------------------------------------------------------------------ settings
@dataclass
class _Run:
    """A training run's checked settings (see `train`)."""

    hp: dict[str, Any]
    out: Path
    scratch: Path
    output: str  # "model" (with head) or "encoder"
    multi: bool
    seed: int
    threads: int
    t0: float
    use_cuda: bool
    bf16: bool
    adv: Any = None  # an `engine.adversarial.AdversarialConfig`, or None: clean training
    time_budget: TimeBudget | None = None


def _checked_run(tasks: list[TrainTask], encoder_path: str | Path, out_dir: str | Path,
                 scratch_dir: str | Path, hparams: dict[str, Any], seed: int, threads: int,
                 time_budget: TimeBudget | float | None,
                 adversarial: dict[str, Any] | None) -> _Run:
    """Check the arguments (a ValueError or ConfigError naming what is wrong), set up logging,
    threads and the seed."""
    import torch
    import transformers

    from xstilts.engine.adversarial import AdversarialConfig
    from xstilts.engine.predict import limit_threads, quiet_progress_bars
    from xstilts.grid.config import ConfigError, model_path_problem

    if model_path_problem(encoder_path):
        raise ConfigError(f"encoder: {model_path_problem(encoder_path)}")
    _ensure_log_handler()
    quiet_progress_bars()
    t0 = time.time()
    if time_budget is not None and not isinstance(time_budget, TimeBudget):
        time_budget = TimeBudget(float(time_budget), t0)
    _check_tasks(tasks)
    adv = AdversarialConfig.parse(adversarial)
    hp = _hparams(hparams)
    out, scratch = Path(out_dir).resolve(), Path(scratch_dir).resolve()
    if scratch == out or out in scratch.parents:
        raise ValueError(f"scratch_dir {scratch} must be outside out_dir {out}")
    multi = len(tasks) > 1
    output = _output_kind(hp, tasks)
    if not hp["max_steps"] and not hp["epochs"]:
        raise ValueError("train: set hparam 'epochs' or 'max_steps'")
    limit_threads(threads)
    use_cuda = torch.cuda.is_available()
    bf16 = bool(use_cuda and torch.cuda.is_bf16_supported())
    transformers.set_seed(seed)
    return _Run(hp=hp, out=out, scratch=scratch, output=output, multi=multi, seed=seed,
                threads=threads, t0=t0, use_cuda=use_cuda, bf16=bf16, adv=adv,
                time_budget=time_budget)


def _check_tasks(tasks: list[TrainTask]) -> None:
    if not tasks:
        raise ValueError("train: no tasks given")
    names = [t.name for t in tasks]
    if len(set(names)) != len(names):
        raise ValueError(f"train: duplicate task names {names}")


def _hparams(hparams: dict[str, Any]) -> dict[str, Any]:
    """`hparams` over `HPARAM_DEFAULTS` (unknown keys refused); the NaN test hook may come
    from `XSTILTS_INJECT_NAN_AT_STEP`."""
    unknown = set(hparams) - set(HPARAM_DEFAULTS)
    if unknown:
        raise ValueError(f"train: unknown hparams {sorted(unknown)}; known "
                         f"{sorted(HPARAM_DEFAULTS)}")
    hp = {**HPARAM_DEFAULTS, **hparams}
    env_nan = os.environ.get("XSTILTS_INJECT_NAN_AT_STEP")
    if hp["inject_nan_at_step"] is None and env_nan:
        hp["inject_nan_at_step"] = int(env_nan)
    return hp


def _output_kind(hp: dict[str, Any], tasks: list[TrainTask]) -> str:
    """"model" (the full model with head: a single target task by default) or "encoder"."""
    multi = len(tasks) > 1
    output = hp["output"] or ("model" if not multi and tasks[0].spec.role == "target"
                              else "encoder")
    if output not in ("model", "encoder"):
        raise ValueError(f"hparam output must be 'model' or 'encoder', got {output!r}")
    if output == "model" and multi:
        raise ValueError("output='model' needs a single task (multi-task saves the encoder)")
    return output


def _eval_hparams(hp: dict[str, Any]) -> dict[str, Any]:
    """The hparams of dev evaluation (`engine.predict`)."""
    return {"max_length": int(hp["max_length"]), "doc_stride": int(hp["doc_stride"]),
            "eval_batch_size": int(hp["eval_batch_size"])}


# ------------------------------------------------------------------ data and model
def _features(tasks: list[TrainTask], tokenizer: Any,
              hp: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str] | None]]:
    """Per task: its featurized training data and its label names."""
    from xstilts.engine.featurize import featurize

    max_length, stride = int(hp["max_length"]), int(hp["doc_stride"])
    feats = {t.name: featurize(t.spec, t.train, tokenizer, max_length, stride, True)
             for t in tasks}
    return feats, {t.name: _labels_for(t) for t in tasks}


def _build_model(tasks: list[TrainTask], encoder_path: str | Path,
                 labels: dict[str, list[str] | None], hp: dict[str, Any]) -> Any:
    """The encoder with a head per task (a `MultiTaskModel` for several tasks)."""
    from xstilts.engine.modeling import MultiTaskModel, attach_head, load_encoder

    encoder = load_encoder(encoder_path)
    heads = {t.name: attach_head(t.spec, encoder, labels[t.name]) for t in tasks}
    model = MultiTaskModel(encoder, heads) if len(tasks) > 1 else heads[tasks[0].name]
    if hp["freeze_embeddings"]:
        # Keeps the word embeddings of languages the task never shows where pretraining put
        # them (English-only fine-tuning would otherwise move English words away from them).
        encoder.get_input_embeddings().weight.requires_grad_(False)
    return model


@dataclass
class _Batches:
    """What the Trainer iterates: the training rows, their collator and, for multi-task and
    MLM, our own batch sampler (else None: Trainer's sampler)."""

    rows: Any
    collator: Any
    batch_sampler: Any
    max_steps: int | None
    task_sampler: dict[str, Any] | None  # the task-sampling settings (fingerprinted)


def _batches(tasks: list[TrainTask], feats: dict[str, Any], tokenizer: Any, run: _Run,
             sampler: dict[str, Any] | None) -> _Batches:
    """Multi-task and MLM batches come from our own deterministic batch sampler (MLM masks are
    seeded per batch number, so resume is exact); other single tasks use Trainer's
    group_by_length sampler."""
    hp = run.hp
    collators = {t.name: make_collator(t.spec.format, tokenizer, True,
                                       mlm_probability=float(hp["mlm_probability"]),
                                       mask_seed=run.seed)
                 for t in tasks}
    first = tasks[0].name
    if not run.multi and tasks[0].spec.format != "mlm":
        return _Batches(feats[first], collators[first], None, hp["max_steps"], sampler)
    if run.multi:
        from xstilts.engine.samplers import task_probabilities

        sampler = dict(sampler or {"kind": "proportional"})
        probs = task_probabilities({t.name: len(t.train) for t in tasks},
                                   sampler.get("kind", "proportional"),
                                   sampler.get("temperature", 1.0), sampler.get("cap"))
    else:
        probs = {first: 1.0}
    bs, accum = int(hp["batch_size"]), int(hp["grad_accum"])
    rows = MultiTaskRows(feats)
    per_epoch = sum(math.ceil(len(f) / bs) for f in feats.values())
    max_steps = hp["max_steps"] or math.ceil(float(hp["epochs"]) * per_epoch / accum)
    batch_sampler = MultiTaskBatchSampler(
        {n: list(f["length"]) for n, f in feats.items()}, rows.offsets, bs, probs,
        run.seed, int(max_steps) * accum, bool(hp["group_by_length"]))
    return _Batches(rows, MultiTaskCollator(collators, add_task_name=run.multi), batch_sampler,
                    max_steps, sampler)


def _dev_evaluation(eval_task: TrainTask | None, tasks: list[TrainTask],
                    hp: dict[str, Any]) -> dict[str, Any] | None:
    """What `XTrainer.evaluate` scores every `eval_every` steps (None: no dev evaluation)."""
    if eval_task is None or int(hp["eval_every"] or 0) <= 0:
        return None
    if eval_task.dev is None:
        raise ValueError(f"eval_task '{eval_task.name}' has no dev dataset")
    names = [t.name for t in tasks]
    if eval_task.name not in names:
        raise ValueError(f"eval_task '{eval_task.name}' is not one of the trained tasks "
                         f"{names}")
    return {"name": eval_task.name, "spec": eval_task.spec, "data": eval_task.dev,
            "hparams": _eval_hparams(hp)}


# ------------------------------------------------------------------ the Trainer
def _training_arguments(run: _Run, max_steps: int | None, dev: bool,
                        tracking: dict[str, Any] | None) -> Any:
    from transformers import TrainingArguments

    from xstilts.engine.tracking import run_name, trainer_arguments

    hp, use_cuda = run.hp, run.use_cuda
    if use_cuda:
        from xstilts.engine.device import enable_tf32

        enable_tf32()
    eval_every = int(hp["eval_every"] or 0)
    return TrainingArguments(
        output_dir=str(run.scratch), per_device_train_batch_size=int(hp["batch_size"]),
        per_device_eval_batch_size=int(hp["eval_batch_size"]),
        gradient_accumulation_steps=int(hp["grad_accum"]), learning_rate=float(hp["lr"]),
        weight_decay=float(hp["weight_decay"]), warmup_steps=float(hp["warmup_ratio"]),
        num_train_epochs=float(hp["epochs"] or 1), max_steps=int(max_steps or -1),
        lr_scheduler_type=hp["lr_scheduler"], max_grad_norm=float(hp["max_grad_norm"]),
        logging_strategy="steps", logging_steps=int(hp["logging"]),
        logging_nan_inf_filter=False,  # a per-step host sync; the NaN guard checks at logs
        # saves come from cadence.Cadence (resumable) and cadence.BestWeights (best);
        # a broken newest checkpoint falls back to the one before (engine.checkpoints)
        save_strategy="no", save_total_limit=2,
        eval_strategy="steps" if dev else "no", eval_steps=eval_every if dev else None,
        restore_callback_states_from_checkpoint=True,
        seed=run.seed, data_seed=run.seed, full_determinism=not use_cuda, use_cpu=not use_cuda,
        bf16=run.bf16, **trainer_arguments(tracking, run_name(run.out)),
        disable_tqdm=not sys.stderr.isatty(),
        remove_unused_columns=False, dataloader_num_workers=0,
        train_sampling_strategy="group_by_length" if hp["group_by_length"] else "random",
        optim=hp["optim"],
    )


@dataclass
class _Watch:
    """The stops a run is watched for: the time budget and SIGTERM/SIGUSR1."""

    stop: StopRequest
    budget: Budget | None


def _build_trainer(run: _Run, model: Any, tokenizer: Any, batches: _Batches,
                   dev: dict[str, Any] | None, tasks: list[TrainTask],
                   tracking: dict[str, Any] | None) -> tuple[XTrainer, _Watch]:
    """`XTrainer` with its callbacks: end of training, loss lines, checkpoint cadence and
    best weights, the time budget, the kill test hook, the stop signals."""
    hp = run.hp
    args = _training_arguments(run, batches.max_steps, bool(dev), tracking)
    callbacks: list[Any] = [EndOfTraining(save=bool(hp["keep_checkpoints"])), LossLog(),
                            *checkpoint_callbacks(hp, run.scratch, bool(dev))]
    watch = _Watch(StopRequest(),
                   None if run.time_budget is None else Budget(run.time_budget))
    if watch.budget is not None:
        callbacks.append(watch.budget)
    if hp["kill_at_step"]:
        callbacks.append(Kill(int(hp["kill_at_step"])))
    callbacks.append(stop_callback(watch.stop))
    trainer = XTrainer(
        model=model, args=args, train_dataset=batches.rows, data_collator=batches.collator,
        eval_dataset=dev["data"] if dev else None, processing_class=tokenizer,
        callbacks=callbacks, batch_sampler=batches.batch_sampler,
        dev=dev, inject_nan_at=hp["inject_nan_at_step"], task_name=tasks[0].name,
        adversarial=run.adv, clean_tasks=tuple(t.name for t in tasks if t.spec.format == "mlm"))
    if args.disable_tqdm:  # LossLog writes the loss lines; drop Trainer's raw dict printer
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    return trainer, watch


# ------------------------------------------------------------------ resume and run
def _resume(trainer: XTrainer, scratch: Path, fingerprint: dict) -> tuple[str | None, int | None]:
    """The checkpoint to resume from and its step (None, None: a fresh start); the trainer
    learns whether training had stopped there and the epoch order to replay."""
    resume = _prepare_scratch(scratch, fingerprint)
    if not resume:
        return None, None
    step = json.loads((Path(resume) / "trainer_state.json").read_text())["global_step"]
    log.info("resuming from step %d (%s)", step, resume)
    trainer.xs_finished = checkpoints.early_stopped(resume)
    order = Path(resume) / EPOCH_ORDER
    if order.is_file():
        trainer.xs_replay = json.loads(order.read_text("utf-8"))
    return resume, step


def _fit(trainer: XTrainer, resume: str | None, watch: _Watch, run: _Run) -> Any:
    """`trainer.train()`; `Preempted` after a stop signal, `TimeBudgetExceeded` when the time
    budget ran out first (progress saved in scratch either way)."""
    from xstilts.engine.cadence import BestWeights

    budget = run.time_budget
    if budget is not None:
        log.info("time budget: %.0fs, %.0fs left", budget.seconds,
                 budget.seconds - budget.elapsed())
    stop = watch.stop
    with stop.installed():
        result = trainer.train(resume_from_checkpoint=resume)
    state = trainer.state
    if stop.stopped_at is not None:
        raise Preempted(
            f"received {stop.name}: stopped at step {stop.stopped_at} of {state.max_steps} "
            f"after saving it in {run.scratch}; a rerun resumes from step {stop.stopped_at}")
    early_stopped = any(  # (a resumed Trainer replaces stateful callbacks by restored copies)
        isinstance(cb, BestWeights) and cb.stopped_early
        for cb in trainer.callback_handler.callbacks)
    stopped_at = watch.budget.stopped_at if watch.budget is not None else None
    if stopped_at is not None and not early_stopped:
        raise TimeBudgetExceeded(
            f"time budget of {budget.seconds:.0f}s used up at step {stopped_at} of "
            f"{state.max_steps}; progress is saved in {run.scratch}; a rerun resumes from step "
            f"{stopped_at} (with --retries, Snakemake gives the next attempt more "
            f"runtime)")
    return result


# ------------------------------------------------------------------ output
def _summary(run: _Run, trainer: XTrainer, result: Any, tasks: list[TrainTask],
             resumed_step: int | None, convergence: dict[str, Any]) -> dict[str, Any]:
    """The training record (train_summary.json)."""
    state = trainer.state
    summary = {
        "tasks": [t.name for t in tasks], "output": run.output, "seed": run.seed,
        "steps": state.global_step, "max_steps": state.max_steps, "epochs": state.epoch,
        "train_loss": _mean_logged_loss(state.log_history, result.training_loss),
        "final_loss": next((h["loss"] for h in reversed(state.log_history) if "loss" in h),
                           None),
        "best_dev_metric": state.best_metric, "best_step": state.best_global_step,
        "final_dev_metric": trainer.xs_last_eval.get("eval_score"),
        "dev_metric": "score" if trainer.xs_dev else None,
        **convergence,
        "resumed_from_step": resumed_step, "wall_time_s": round(time.time() - run.t0, 3),
        "threads": int(run.threads), "bf16": run.bf16,
    }
    if run.adv is not None:
        summary["adversarial"] = run.adv.as_dict()
    return summary


def _engine_config(tasks: list[TrainTask], labels: dict[str, list[str] | None],
                   hp: dict[str, Any]) -> dict[str, Any]:
    """What prediction needs to know of the output model (`engine_config.json`)."""
    single = len(tasks) == 1
    return {"task": tasks[0].name if single else None, "format": tasks[0].spec.format,
            "max_length": int(hp["max_length"]), "doc_stride": int(hp["doc_stride"]),
            "labels": labels[tasks[0].name] if single else None}


def _write_output(run: _Run, model: Any, tokenizer: Any, engine_cfg: dict[str, Any],
                  summary: dict[str, Any], log_history: list[dict[str, Any]]) -> None:
    """The model (with head) or encoder, the tokenizer, engine config, training summary and
    log, written atomically to `run.out`."""
    from xstilts.engine.modeling import save_encoder, save_full_model
    from xstilts.engine.predict import ENGINE_CONFIG

    def write(tmp: Path) -> None:
        if run.output == "model":
            save_full_model(model, tmp, tokenizer)
        else:
            save_encoder(model, tmp, tokenizer)
        (tmp / ENGINE_CONFIG).write_text(json.dumps(engine_cfg, indent=1), "utf-8")
        (tmp / "train_summary.json").write_text(json.dumps(summary, indent=1), "utf-8")
        (tmp / "train_log.json").write_text(json.dumps(log_history, indent=1), "utf-8")

    _atomic_write(run.out, write)


def _free_scratch(scratch: Path) -> None:
    """Remove the resumable checkpoints and best weights of a finished run."""
    from xstilts.engine.cadence import remove_all as remove_best

    for child in scratch.glob("checkpoint-*"):
        shutil.rmtree(child, ignore_errors=True)
    remove_best(scratch)

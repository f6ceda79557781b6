"""`XTrainer` (HF `Trainer` with a NaN guard, a multi-task dataloader, task-metric dev
evaluation, adversarial steps and exact resume from any step) and its callbacks: evaluation at
the last step, loss lines with ETA, the time budget, the kill test hook, checkpoint cadence."""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import torch
from transformers import Trainer, TrainerCallback

from xstilts.engine import checkpoints
from xstilts.engine.stops import NonFiniteLossError, SimulatedKill, TimeBudget

log = logging.getLogger("xstilts.engine.training")

EPOCH_ORDER = "xstilts_epoch_order.json"  # in each checkpoint: see XTrainer._get_train_sampler


class XTrainer(Trainer):
    """Trainer with a NaN guard, a custom multi-task dataloader, task-metric eval and
    exact resume from any step."""

    def __init__(self, *args: Any, batch_sampler: Any = None, dev: dict | None = None,
                 inject_nan_at: int | None = None, task_name: str = "",
                 adversarial: Any = None, clean_tasks: tuple[str, ...] = (),
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.model_accepts_loss_kwargs = False  # HF heads ignore num_items_in_batch
        self.xs_batch_sampler = batch_sampler
        self.xs_dev = dev
        self.xs_inject_nan_at = inject_nan_at
        self.xs_task_name = task_name
        self.xs_adversarial = adversarial  # an AdversarialConfig, or None: clean training
        self.xs_clean_tasks = set(clean_tasks)  # tasks never perturbed (MLM)
        self.xs_last_eval: dict[str, float] = {}
        self.xs_epoch_rng: dict[str, Any] | None = None  # this epoch's order: its RNG state
        self.xs_replay: dict[str, Any] | None = None  # the same, read from a checkpoint
        self.xs_finished = False  # resumed from a checkpoint where training had stopped
        self.xs_task_seen: str | None = None  # the task of the last batch (multi-task)

    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        """Exact resume in the middle of an epoch after the first: the length-grouped
        sampler draws each epoch's order from the global torch RNG when the epoch starts,
        and a resumed Trainer restores that RNG only at epoch boundaries. The RNG state the
        current epoch's order came from is saved with each checkpoint (EPOCH_ORDER) and,
        when resuming within that epoch, the order is drawn from it again."""
        from transformers.trainer_pt_utils import LengthGroupedSampler

        inner = super()._get_train_sampler(train_dataset)
        return EpochOrder(inner, self) if isinstance(inner, LengthGroupedSampler) else inner

    def xs_epoch_order(self, inner: Any) -> list[int]:
        import base64

        epoch = math.floor((self.state.epoch or 0) + 1e-9)  # k.3 mid-epoch k; k.0 at start
        replay, self.xs_replay = self.xs_replay, None
        if not replay or replay["epoch"] != epoch:  # a new epoch (or resumed at its start)
            rng = torch.random.get_rng_state()
            self.xs_epoch_rng = {"epoch": epoch,
                                 "rng": base64.b64encode(rng.numpy().tobytes()).decode()}
            return list(inner)
        # Resumed within the epoch: its order again (Trainer then restores the
        # checkpoint's RNG state before the next step).
        self.xs_epoch_rng = replay
        torch.random.set_rng_state(torch.frombuffer(
            bytearray(base64.b64decode(replay["rng"])), dtype=torch.uint8))
        return list(inner)

    def _save_checkpoint(self, model: Any, trial: Any) -> None:
        from xstilts.io.atomic import write_atomic

        folder = Path(self.args.output_dir) / f"checkpoint-{self.state.global_step}"
        if self.xs_epoch_rng is not None:
            write_atomic(folder / EPOCH_ORDER, json.dumps(self.xs_epoch_rng))
        super()._save_checkpoint(model, trial)
        if folder.is_dir():
            checkpoints.seal(folder)  # complete: what a resume may use

    def _run_epoch(self, *args: Any, **kwargs: Any) -> Any:
        # Resumed from the final checkpoint: no further step (Trainer would run one more
        # when the epochs are fractional: "step 13/12", and go on after an early stop).
        if self.state.global_step >= self.state.max_steps > 0 or self.xs_finished:
            self.control.should_training_stop = True
            return None
        return super()._run_epoch(*args, **kwargs)

    def get_train_dataloader(self) -> Any:
        if self.xs_batch_sampler is None:
            return super().get_train_dataloader()
        from torch.utils.data import DataLoader

        loader = DataLoader(self.train_dataset, batch_sampler=self.xs_batch_sampler,
                            collate_fn=self.data_collator, num_workers=0)
        return self.accelerator.prepare(loader)

    def training_step(self, model: Any, inputs: dict, num_items_in_batch: Any = None) -> Any:
        adv = self.xs_adversarial
        if adv is None or not adv.active \
                or inputs.get("task_name", self.xs_task_name) in self.xs_clean_tasks:
            return super().training_step(model, inputs, num_items_in_batch)
        from xstilts.engine import adversarial

        return adversarial.training_step(self, model, inputs, num_items_in_batch, adv)

    def compute_loss(self, model: Any, inputs: dict, return_outputs: bool = False,
                     num_items_in_batch: Any = None) -> Any:
        task = inputs.get("task_name", self.xs_task_name)
        result = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        loss = result[0] if return_outputs else result
        step = self.state.global_step + 1
        if model.training and self.xs_inject_nan_at == step:
            loss = loss * float("nan")
            result = (loss, result[1]) if return_outputs else loss
        self.xs_task_seen = task
        return result

    def _maybe_log_save_evaluate(self, tr_loss: Any, grad_norm: Any, *args: Any,
                                 **kwargs: Any) -> None:
        """The NaN guard, on the loss accumulated since the last log (one host sync per
        logging, saving or evaluation step, none per micro-batch): a non-finite loss
        stops training before it is logged or checkpointed."""
        control = self.control
        if control.should_log or control.should_save or control.should_evaluate:
            check_finite(tr_loss, grad_norm, self._globalstep_last_logged + 1,
                         self.state.global_step, self.xs_task_seen or self.xs_task_name,
                         self.args.output_dir)
        super()._maybe_log_save_evaluate(tr_loss, grad_norm, *args, **kwargs)

    def evaluate(self, eval_dataset: Any = None, ignore_keys: Any = None,
                 metric_key_prefix: str = "eval") -> dict[str, float]:
        if self.xs_dev is None:
            return super().evaluate(eval_dataset, ignore_keys, metric_key_prefix)
        from xstilts.engine.predict import dev_score, eval_features, predict_with_model

        dev = self.xs_dev
        model = self.model
        if hasattr(model, "heads"):
            model = model.heads[dev["name"]]
        if dev.get("features") is None:
            dev["features"] = eval_features(dev["spec"], model, self.processing_class,
                                            dev["data"], dev["hparams"])
        preds = predict_with_model(dev["spec"], model, self.processing_class, dev["data"],
                                   dev["hparams"], features=dev["features"])
        score = dev_score(dev["spec"], dev["data"], preds)
        metrics = {f"{metric_key_prefix}_score": score}
        self.xs_last_eval = metrics
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state,
                                                         self.control, metrics)
        return metrics

class EpochOrder(torch.utils.data.Sampler):
    """Wraps Trainer's length-grouped sampler; see XTrainer._get_train_sampler."""

    def __init__(self, inner: Any, trainer: Any):
        self.inner, self.trainer = inner, trainer

    def __len__(self) -> int:
        return len(self.inner)

    def __iter__(self):
        return iter(self.trainer.xs_epoch_order(self.inner))

class EndOfTraining(TrainerCallback):
    """Evaluate at the last step too (so the final model can be the best); save a last
    resumable checkpoint only when `save` (keep_checkpoints: the output is written next,
    and the scratch dir would be emptied right after it otherwise)."""

    def __init__(self, save: bool = False):
        self.save = save

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if state.global_step >= state.max_steps:
            if args.eval_strategy != "no":
                control.should_evaluate = True
            control.should_save = control.should_save or self.save
        return control

class LossLog(TrainerCallback):
    """Loss lines with ETA in the log (the tqdm bar is off when stderr is not a tty)."""

    def __init__(self) -> None:
        self.start = time.time()
        self.first_step: int | None = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self.start = time.time()
        self.first_step = state.global_step

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None,
               **kw: Any) -> None:
        if not logs or "loss" not in logs:
            if logs and "eval_score" in logs:
                log.info("step %d/%d dev score %.4f", state.global_step, state.max_steps,
                         logs["eval_score"])
            return
        done = state.global_step - (self.first_step or 0)
        elapsed = time.time() - self.start
        eta = elapsed / done * (state.max_steps - state.global_step) if done else float("nan")
        log.info("step %d/%d loss %.4f lr %.3g elapsed %.0fs eta %.0fs", state.global_step,
                 state.max_steps, logs["loss"], logs.get("learning_rate", float("nan")),
                 elapsed, eta)

class Budget(TrainerCallback):
    """Stop (saving a checkpoint, logging the loss) once `budget` is used up."""

    def __init__(self, budget: TimeBudget):
        self.budget = budget
        self.stopped_at: int | None = None

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> Any:
        if state.global_step < state.max_steps and self.budget.exhausted():
            # The loss log makes the resumed run's logged losses (and train_loss) exact.
            control.should_log = control.should_save = True
            control.should_training_stop = True
            self.stopped_at = state.global_step
        return control

class Kill(TrainerCallback):
    """Test hook: raise before step `at` + 1 (after checkpoint `at` was written)."""

    def __init__(self, at: int):
        self.at = at

    def on_step_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if state.global_step >= self.at:
            raise SimulatedKill(f"simulated kill at step {state.global_step}")


def check_finite(tr_loss: Any, grad_norm: Any, first: int, last: int, task: str,
                 scratch: str) -> None:
    """Raise `NonFiniteLossError` if the accumulated training loss (or the last gradient
    norm) of steps `first`..`last` is NaN or infinite (one host sync)."""
    import torch

    values = [tr_loss.detach().reshape(-1)] if torch.is_tensor(tr_loss) else []
    if torch.is_tensor(grad_norm):
        values.append(grad_norm.detach().reshape(-1).to(values[0].device if values else "cpu"))
    if not values or bool(torch.isfinite(torch.cat([v.float() for v in values])).all()):
        return
    span = f"step {last}" if first >= last else f"steps {first}-{last}"
    raise NonFiniteLossError(
        f"non-finite training loss ({float(tr_loss)}) in {span} (task '{task}'); training "
        f"stopped. Lower the learning rate or check the data. Checkpoints so far are kept "
        f"in {scratch}")


def checkpoint_callbacks(hp: dict[str, Any], scratch: Path, dev: bool) -> list[Any]:
    """The checkpointing callbacks (see `engine.cadence`): a resumable checkpoint every
    `save_every_minutes` (else every `save_every` steps) and, with dev evaluation, the best
    weights and early stopping after `early_stopping_patience` evaluations."""
    from xstilts.engine.cadence import BestWeights, Cadence

    minutes = hp.get("save_every_minutes")
    out: list[Any] = [Cadence(float(minutes) if minutes else None, int(hp["save_every"]))]
    if dev:
        patience = hp.get("early_stopping_patience")
        out.append(BestWeights(str(scratch), int(patience) if patience else None,
                               save_on_stop=bool(hp.get("keep_checkpoints"))))
    return out

"""SIGTERM/SIGUSR1 (SLURM preemption, or `sbatch --signal` before the time limit).

- `terminate_on_signals()` (the CLI, around a stage): the signal raises `Terminated`, so that
  temp folders are removed (`finally` blocks run) and the job ends with one line.
- `StopRequest` (training, around `Trainer.train`): the signal is only recorded; the
  `stop_callback` saves a checkpoint at the next step boundary and stops training, and `train`
  raises `Preempted`. A rerun resumes from that step.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("xstilts.engine.training")

SIGNALS = (signal.SIGTERM, signal.SIGUSR1)


class Terminated(BaseException):  # noqa: N818 - like KeyboardInterrupt: not caught by Exception
    """A stop signal arrived outside a training loop; the job stops at once (no output)."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"received {signal.Signals(signum).name}; stopped (nothing written)")


class Preempted(RuntimeError):
    """Training stopped on a signal after saving a checkpoint of the step it reached."""


@contextmanager
def _handlers(handler: Any) -> Iterator[None]:
    """Install `handler` for SIGNALS (main thread only), restoring the previous ones after."""
    try:
        previous = {s: signal.signal(s, handler) for s in SIGNALS}
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


@contextmanager
def terminate_on_signals() -> Iterator[None]:
    def handler(signum: int, frame: Any) -> None:
        raise Terminated(signum)

    with _handlers(handler):
        yield


class StopRequest:
    """Records the first stop signal while installed (`with request.installed(): ...`)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.stopped_at: int | None = None  # the step checkpointed because of it

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else ""

    def _record(self, signum: int, frame: Any) -> None:
        if self.signum is None:
            self.signum = signum
            log.warning("received %s: saving a checkpoint at the end of this step, then "
                        "stopping", signal.Signals(signum).name)

    @contextmanager
    def installed(self) -> Iterator[StopRequest]:
        with _handlers(self._record):
            yield self


def stop_callback(request: StopRequest) -> Any:
    """A TrainerCallback: at the first step end after a signal, save, log and stop."""
    from transformers import TrainerCallback

    class StopOnSignal(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> Any:
            if request.signum is not None and request.stopped_at is None \
                    and state.global_step < state.max_steps:
                control.should_log = control.should_save = True
                control.should_training_stop = True
                request.stopped_at = state.global_step
            return control

    return StopOnSignal()

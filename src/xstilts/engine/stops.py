"""Why a training run stops before its end: a used-up wall-clock budget (`TimeBudget`), a
non-finite loss, the `kill_at_step` test hook. Light: the CLI names these errors in one line."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

# Share of a job's runtime that training may use; the rest is for loading, evaluating, saving.
RUNTIME_BUDGET_FRACTION = 0.9
RUNTIME_MINUTE_ENV = "XSTILTS_RUNTIME_MINUTE_S"  # test hook: seconds per runtime minute


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite."""


class SimulatedKill(RuntimeError):
    """Raised by the `kill_at_step` test hook (simulates a job killed mid-training)."""


class TimeBudgetExceeded(RuntimeError):
    """Training used up its wall-clock budget; a checkpoint of the step reached was saved."""


@dataclass(frozen=True)
class TimeBudget:
    """`seconds` of wall-clock time, counted from `start` (a `time.time()` value)."""

    seconds: float
    start: float = field(default_factory=time.time)

    @classmethod
    def from_runtime(cls, runtime_min: float, start: float | None = None) -> TimeBudget:
        """The budget of a job allowed `runtime_min` minutes: `RUNTIME_BUDGET_FRACTION` of it,
        in minutes of `XSTILTS_RUNTIME_MINUTE_S` seconds (default 60)."""
        if not runtime_min > 0:
            raise ValueError(f"runtime must be a positive number of minutes, got {runtime_min}")
        raw = os.environ.get(RUNTIME_MINUTE_ENV) or "60"
        try:
            minute = float(raw)
        except ValueError:
            minute = float("nan")
        if not minute > 0:
            raise ValueError(f"{RUNTIME_MINUTE_ENV} must be a positive number of seconds, "
                             f"got {raw!r}")
        return cls(float(runtime_min) * minute * RUNTIME_BUDGET_FRACTION,
                   time.time() if start is None else start)

    def elapsed(self) -> float:
        return time.time() - self.start

    def exhausted(self) -> bool:
        return self.elapsed() >= self.seconds

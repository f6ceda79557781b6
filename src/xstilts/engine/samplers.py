"""Multi-task samplers with jiant's formulas (jiant/proj/main/components/task_sampler.py).

- uniform:             p_t = 1 / n                               (UniformMultiTaskSampler)
- proportional:        p_t = N_t / sum N                         (ProportionalMultiTaskSampler)
- capped_proportional: p_t = min(N_t, cap) / sum min(N, cap)     (TemperatureMultiTaskSampler, T=1)
- temperature:         p_t = min(N_t, cap) ** (1/T) / sum(...)   (TemperatureMultiTaskSampler;
                       `cap` optional, as jiant's `examples_cap`)

`TaskSampler` draws task names from such a distribution with a seeded numpy Generator and can
save/restore its state so that a resumed run continues the same sequence of tasks.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

SAMPLER_KINDS: tuple[str, ...] = ("uniform", "proportional", "capped_proportional", "temperature")


def _check_sizes(sizes: dict[str, int]) -> None:
    if not sizes:
        raise ValueError("task sampler: no tasks given (sizes is empty)")
    for name, size in sizes.items():
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
            raise ValueError(f"task sampler: size of task '{name}' must be an integer, "
                             f"got {size!r}")
        if size <= 0:
            raise ValueError(f"task sampler: size of task '{name}' must be positive, got {size}")


def task_probabilities(
    sizes: dict[str, int],
    kind: str,
    temperature: float | None = 1.0,
    cap: int | None = None,
) -> dict[str, float]:
    """Sampling probability per task (same key order as `sizes`), following jiant.

    `cap` is required for capped_proportional and optional for temperature; it is an error for
    uniform and proportional, which ignore it. `temperature` must be positive (used by
    temperature only).
    """
    if kind not in SAMPLER_KINDS:
        raise ValueError(f"task sampler: unknown kind '{kind}'; expected one of {SAMPLER_KINDS}")
    _check_sizes(sizes)
    if cap is not None:
        if kind in ("uniform", "proportional"):
            raise ValueError(f"task sampler: 'cap' is not used by kind '{kind}' (got cap={cap}); "
                             "use capped_proportional or temperature")
        if isinstance(cap, bool) or not isinstance(cap, (int, np.integer)) or cap <= 0:
            raise ValueError(f"task sampler: 'cap' must be a positive integer, got {cap!r}")
    names = list(sizes)
    counts = np.array([sizes[n] for n in names], dtype=np.float64)
    if kind == "uniform":
        raw = np.ones_like(counts)
    elif kind == "proportional":
        raw = counts
    elif kind == "capped_proportional":
        if cap is None:
            raise ValueError("task sampler: kind 'capped_proportional' needs 'cap'")
        raw = counts.clip(max=cap)
    else:
        if temperature is None:
            raise ValueError("task sampler: kind 'temperature' needs 'temperature'")
        t = float(temperature)
        if not math.isfinite(t) or t <= 0:
            raise ValueError(f"task sampler: 'temperature' must be positive, got {temperature!r}")
        clipped = counts.clip(max=cap) if cap is not None else counts
        raw = clipped ** (1.0 / t)
    total = raw.sum()
    if not math.isfinite(total) or total <= 0:
        raise ValueError(f"task sampler: kind '{kind}' gives no valid distribution for {sizes}")
    return {n: float(v) for n, v in zip(names, raw / total, strict=True)}


class TaskSampler:
    """Deterministic draws of task names from fixed probabilities.

    Tasks are ordered by name internally, so the sequence depends only on the probabilities and
    the seed, not on dict order. Each draw consumes exactly one uniform variate.
    """

    def __init__(self, probabilities: dict[str, float], seed: int) -> None:
        if not probabilities:
            raise ValueError("task sampler: no tasks given (probabilities is empty)")
        names = sorted(probabilities)
        p = np.array([float(probabilities[n]) for n in names], dtype=np.float64)
        bad = [n for n, v in zip(names, p, strict=True) if not math.isfinite(v) or v < 0]
        if bad:
            raise ValueError(f"task sampler: invalid probability for task(s) {bad}")
        if p.sum() <= 0:
            raise ValueError("task sampler: probabilities sum to zero")
        self.tasks: list[str] = names
        self.probabilities: np.ndarray = p / p.sum()
        self._cdf = np.cumsum(self.probabilities)
        self.seed = int(seed)
        self._rng = np.random.default_rng(self.seed)
        self.num_samples = 0

    def sample(self) -> str:
        """Draw the next task name."""
        u = self._rng.random()
        idx = int(np.searchsorted(self._cdf, u * self._cdf[-1], side="right"))
        idx = min(idx, len(self.tasks) - 1)
        while self.probabilities[idx] == 0:  # float edge: never return a zero-probability task
            idx -= 1
        self.num_samples += 1
        return self.tasks[idx]

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state (tasks, probabilities, seed, draws so far, generator state)."""
        return {
            "tasks": list(self.tasks),
            "probabilities": [float(v) for v in self.probabilities],
            "seed": self.seed,
            "num_samples": self.num_samples,
            "bit_generator": self._rng.bit_generator.state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state saved by `state_dict` from a sampler over the same tasks."""
        for key in ("tasks", "probabilities", "num_samples", "bit_generator"):
            if key not in state:
                raise ValueError(f"task sampler state: missing key '{key}'")
        if list(state["tasks"]) != self.tasks:
            raise ValueError(f"task sampler state: tasks {state['tasks']} differ from {self.tasks}")
        if not np.allclose(state["probabilities"], self.probabilities, rtol=0, atol=1e-12):
            raise ValueError("task sampler state: probabilities differ from this sampler's")
        self._rng.bit_generator.state = state["bit_generator"]
        self.num_samples = int(state["num_samples"])

"""Multi-task data: rows of several featurized datasets, and the deterministic batch sampler
that draws each batch's task (`samplers.TaskSampler`) and takes its next length-grouped batch."""

from __future__ import annotations

from typing import Any

import numpy as np


class MultiTaskRows:
    """Map-style dataset over several featurized datasets; item = row + `__task__`."""

    def __init__(self, datasets: dict[str, Any]):
        self.names = list(datasets)
        self.datasets = datasets
        self.offsets: dict[str, int] = {}
        total = 0
        for name in self.names:
            self.offsets[name] = total
            total += len(datasets[name])
        self.total = total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, Any]:
        """`key`: a global index, or (batch number, global index) from the batch sampler."""
        draw, index = key if isinstance(key, tuple) else (None, key)
        for name in reversed(self.names):
            if index >= self.offsets[name]:
                row = dict(self.datasets[name][index - self.offsets[name]])
                row["__task__"] = name
                if draw is not None:
                    row["__draw__"] = draw
                return row
        raise IndexError(index)


def length_grouped_batches(lengths: list[int], batch_size: int, rng: np.random.Generator,
                           group: bool = True, mega: int = 50) -> list[list[int]]:
    """Shuffled batches; with `group`, within megabatches of `mega` batches sorted by length
    (HF `LengthGroupedSampler`), with the batch order shuffled."""
    perm = rng.permutation(len(lengths)).tolist()
    if not group:
        return [perm[i:i + batch_size] for i in range(0, len(perm), batch_size)]
    size = batch_size * mega
    batches = []
    for start in range(0, len(perm), size):
        chunk = sorted(perm[start:start + size], key=lambda i: -lengths[i])
        batches.extend(chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size))
    order = rng.permutation(len(batches)).tolist()
    return [batches[i] for i in order]


class MultiTaskBatchSampler:
    """`num_batches` single-task batches: the task of each from `TaskSampler`, then its next
    length-grouped batch (each task's stream reshuffles when exhausted). Deterministic in
    `seed`: iterating again replays the same sequence (what resume relies on). Yields
    (batch number, global index) keys for `MultiTaskRows`."""

    def __init__(self, lengths: dict[str, list[int]], offsets: dict[str, int], batch_size: int,
                 probabilities: dict[str, float], seed: int, num_batches: int,
                 group_by_length: bool = True):
        self.lengths, self.offsets = lengths, offsets
        self.batch_size, self.probabilities = batch_size, probabilities
        self.seed, self.num_batches, self.group = seed, num_batches, group_by_length

    def __len__(self) -> int:
        return self.num_batches

    def __iter__(self):
        from xstilts.engine.samplers import TaskSampler

        sampler = TaskSampler(self.probabilities, seed=self.seed)
        names = sorted(self.lengths)
        rngs = {n: np.random.default_rng([self.seed, i]) for i, n in enumerate(names)}
        streams: dict[str, list[list[int]]] = {n: [] for n in names}
        for draw in range(self.num_batches):
            task = sampler.sample()
            if not streams[task]:
                streams[task] = length_grouped_batches(self.lengths[task], self.batch_size,
                                                       rngs[task], self.group)[::-1]
            batch = streams[task].pop()
            yield [(draw, self.offsets[task] + i) for i in batch]

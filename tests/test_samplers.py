"""Task samplers: jiant's formulas, empirical proportions, determinism and resume."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from xstilts.engine.samplers import TaskSampler, task_probabilities

SIZES = {"mnli": 4000, "squad": 1000, "cosmosqa": 250, "ccg": 50}


def test_formulas_match_jiant():
    n = np.array(list(SIZES.values()), dtype=float)
    uni = task_probabilities(SIZES, "uniform")
    assert list(uni) == list(SIZES)
    assert np.allclose(list(uni.values()), 0.25)
    prop = task_probabilities(SIZES, "proportional")
    assert np.allclose(list(prop.values()), n / n.sum())
    capped = task_probabilities(SIZES, "capped_proportional", cap=500)
    assert np.allclose(list(capped.values()), np.array([500, 500, 250, 50]) / 1300)
    temp = task_probabilities(SIZES, "temperature", temperature=2.0)
    assert np.allclose(list(temp.values()), np.sqrt(n) / np.sqrt(n).sum())
    temp_cap = task_probabilities(SIZES, "temperature", temperature=2.0, cap=500)
    raw = np.sqrt(np.array([500, 500, 250, 50.0]))
    assert np.allclose(list(temp_cap.values()), raw / raw.sum())
    # T = 1 is proportional; T -> infinity tends to uniform
    assert np.allclose(list(task_probabilities(SIZES, "temperature").values()), n / n.sum())
    hot = task_probabilities(SIZES, "temperature", temperature=1e6)
    assert np.allclose(list(hot.values()), 0.25, atol=1e-4)


@pytest.mark.parametrize(
    ("kind", "kwargs"),
    [("uniform", {}), ("proportional", {}), ("capped_proportional", {"cap": 600}),
     ("temperature", {"temperature": 3.0}), ("temperature", {"temperature": 0.5, "cap": 2000})],
)
def test_empirical_proportions(kind, kwargs):
    probs = task_probabilities(SIZES, kind, **kwargs)
    sampler = TaskSampler(probs, seed=13)
    draws = 40_000
    counts = Counter(sampler.sample() for _ in range(draws))
    assert set(counts) <= set(SIZES)
    for task, p in probs.items():
        # 5 standard deviations of a binomial proportion
        tol = 5 * np.sqrt(p * (1 - p) / draws) + 1e-9
        assert abs(counts[task] / draws - p) <= tol, (task, counts[task] / draws, p)


def test_zero_probability_task_never_drawn():
    sampler = TaskSampler({"a": 0.0, "b": 1.0, "c": 0.0}, seed=0)
    assert {sampler.sample() for _ in range(2000)} == {"b"}


def test_deterministic_and_order_independent():
    probs = task_probabilities(SIZES, "proportional")
    s1, s2 = TaskSampler(probs, seed=5), TaskSampler(dict(reversed(probs.items())), seed=5)
    seq1 = [s1.sample() for _ in range(500)]
    seq2 = [s2.sample() for _ in range(500)]
    assert seq1 == seq2
    assert len(set(seq1)) == len(SIZES)
    s3 = TaskSampler(probs, seed=6)
    assert [s3.sample() for _ in range(500)] != seq1


def test_resume_continues_sequence():
    probs = task_probabilities(SIZES, "temperature", temperature=2.0)
    full = TaskSampler(probs, seed=42)
    expected = [full.sample() for _ in range(300)]

    first = TaskSampler(probs, seed=42)
    head = [first.sample() for _ in range(120)]
    state = json.loads(json.dumps(first.state_dict()))  # survives a JSON round trip
    assert state["num_samples"] == 120

    resumed = TaskSampler(probs, seed=42)
    resumed.load_state_dict(state)
    tail = [resumed.sample() for _ in range(180)]
    assert head + tail == expected
    assert resumed.num_samples == 300


def test_load_state_rejects_other_tasks():
    state = TaskSampler({"a": 0.5, "b": 0.5}, seed=1).state_dict()
    with pytest.raises(ValueError, match="tasks"):
        TaskSampler({"a": 0.5, "c": 0.5}, seed=1).load_state_dict(state)
    with pytest.raises(ValueError, match="probabilities"):
        TaskSampler({"a": 0.2, "b": 0.8}, seed=1).load_state_dict(state)
    with pytest.raises(ValueError, match="missing key 'bit_generator'"):
        TaskSampler({"a": 0.5, "b": 0.5}, seed=1).load_state_dict({k: v for k, v in state.items()
                                                                  if k != "bit_generator"})


@pytest.mark.parametrize(
    ("sizes", "kind", "kwargs", "match"),
    [
        (SIZES, "annealed", {}, "unknown kind 'annealed'"),
        ({}, "uniform", {}, "no tasks"),
        ({"a": 10, "b": 0}, "proportional", {}, "task 'b' must be positive"),
        ({"a": 10, "b": -3}, "uniform", {}, "task 'b' must be positive"),
        ({"a": 1.5}, "proportional", {}, "task 'a' must be an integer"),
        (SIZES, "capped_proportional", {}, "needs 'cap'"),
        (SIZES, "temperature", {"temperature": None}, "needs 'temperature'"),
        (SIZES, "temperature", {"temperature": 0.0}, "must be positive"),
        (SIZES, "temperature", {"temperature": 2.0, "cap": 0}, "'cap' must be a positive"),
        (SIZES, "proportional", {"cap": 100}, "'cap' is not used"),
    ],
)
def test_errors(sizes, kind, kwargs, match):
    with pytest.raises(ValueError, match=match):
        task_probabilities(sizes, kind, **kwargs)


def test_sampler_errors():
    with pytest.raises(ValueError, match="no tasks"):
        TaskSampler({}, seed=0)
    with pytest.raises(ValueError, match="invalid probability"):
        TaskSampler({"a": -0.1, "b": 1.1}, seed=0)
    with pytest.raises(ValueError, match="sum to zero"):
        TaskSampler({"a": 0.0}, seed=0)

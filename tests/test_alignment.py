"""Layer-wise alignment: accuracy@1 of parallel pairs on hand-made embeddings and a tiny model."""

from __future__ import annotations

import numpy as np

from xstilts.alignment import _accuracy


def test_accuracy_on_a_known_case():
    src = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert _accuracy(src, src) == 100.0
    swapped = src[[1, 0, 2]]
    assert abs(_accuracy(src, swapped) - 100 / 3) < 1e-9


def test_centering_removes_a_language_offset():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(20, 8))
    shifted = base + 50.0  # a large "language" offset on every vector
    noisy = shifted + rng.normal(scale=0.01, size=base.shape)
    assert _accuracy(noisy - noisy.mean(0), base - base.mean(0)) == 100.0

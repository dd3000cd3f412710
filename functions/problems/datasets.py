"""Small data sets made from a seed inside the package (nothing is downloaded).

Each maker returns ``(inputs, labels)`` as float64 NumPy arrays: inputs ``(m, 2)`` and labels
``(m,)`` in ``{0, 1}``, drawn by ``numpy.random.default_rng(seed)``. A problem draws its training
and test sets with two different seeds, so the split is fixed and the sets do not overlap.

- :func:`two_moons`: two interleaved half circles with Gaussian jitter (the shape of
  scikit-learn's ``make_moons``: upper arc centred at (0, 0), lower at (1, 0.5)).
- :func:`two_spirals`: two interleaved Archimedean spirals (Lang & Witbrock, "Learning to tell
  two spirals apart", 1988), one turn and a half, with jitter.
- :func:`two_blobs`: two overlapping Gaussian classes (the logistic-regression set: not
  separable, so the loss has a finite minimum).
"""

from __future__ import annotations

import numpy as np

Data = tuple[np.ndarray, np.ndarray]


def _labels(m: int) -> np.ndarray:
    """First half 0, second half 1 (``m // 2`` of class 0)."""
    y = np.zeros(m)
    y[m // 2:] = 1.0
    return y


def _readonly(*arrays: np.ndarray) -> Data:
    for a in arrays:
        a.setflags(write=False)
    return arrays  # type: ignore[return-value]


def two_moons(m: int, seed: int, jitter: float = 0.15) -> Data:
    """Two moons: class 0 on the upper arc, class 1 on the lower, each with ``N(0, jitter²)`` noise."""
    rng = np.random.default_rng(seed)
    y = _labels(m)
    t = rng.uniform(0.0, np.pi, m)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    x = np.where(y[:, None] == 0, upper, lower) + jitter * rng.standard_normal((m, 2))
    x = (x - np.array([0.5, 0.25])) / np.array([0.85, 0.5])  # about unit scale, centred
    return _readonly(x, y)


def two_spirals(m: int, seed: int, jitter: float = 0.08, turns: float = 1.5) -> Data:
    """Two spirals: ``r = θ / (2π turns)``, class 1 the class-0 arm turned by π."""
    rng = np.random.default_rng(seed)
    y = _labels(m)
    u = np.sqrt(rng.uniform(0.05, 1.0, m))  # denser near the outside: even spacing along the arm
    theta = 2.0 * np.pi * turns * u
    sign = np.where(y == 0, 1.0, -1.0)[:, None]
    x = sign * np.stack([u * np.cos(theta), u * np.sin(theta)], axis=1)
    x = 1.5 * x + jitter * rng.standard_normal((m, 2))
    return _readonly(x, y)


def two_blobs(m: int, seed: int, separation: float = 1.5) -> Data:
    """Two unit Gaussian classes centred at ``±separation/2 · (1, 0.5)/|(1, 0.5)|``."""
    rng = np.random.default_rng(seed)
    y = _labels(m)
    d = np.array([1.0, 0.5]) / np.hypot(1.0, 0.5) * separation / 2
    x = np.where(y[:, None] == 0, -d, d) + rng.standard_normal((m, 2))
    return _readonly(x, y)

"""Ways to choose starting points inside a function's box: grid, random, ring, or typed.

All return NumPy arrays of shape ``(n_points, dim)``; they are inputs to ``optviz.run``.
"""

from __future__ import annotations

import math

import numpy as np

from optviz.scene.text import points as text_points


def _box(box) -> np.ndarray:
    b = np.asarray(box, dtype=float)
    if b.ndim != 2 or b.shape[1] != 2 or not np.all(b[:, 0] < b[:, 1]):
        raise ValueError(f"box must have shape (dim, 2) with lo < hi, got {b.tolist()}")
    return b


def _count(n: int, name: str = "n") -> int:
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {n!r}")
    return int(n)


def grid(box, n: int, margin: float = 0.1) -> np.ndarray:
    """An ``n``-per-axis grid (``n**dim`` points) inside the box, ``margin`` of each side in."""
    b = _box(box)
    n = _count(n)
    span = b[:, 1] - b[:, 0]
    lo, hi = b[:, 0] + margin * span, b[:, 1] - margin * span
    axes = [np.linspace(lo[i], hi[i], n) if n > 1 else np.array([(lo[i] + hi[i]) / 2])
            for i in range(len(b))]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


def random(box, n: int, seed: int = 0, margin: float = 0.05) -> np.ndarray:
    """``n`` points drawn uniformly in the box (shrunk by ``margin``), from ``seed``."""
    b = _box(box)
    n = _count(n)
    span = b[:, 1] - b[:, 0]
    rng = np.random.default_rng(seed)
    return b[:, 0] + margin * span + rng.random((n, len(b))) * span * (1 - 2 * margin)


def ring(center, radius: float, n: int) -> np.ndarray:
    """``n`` points evenly on a circle (2-D) around ``center``; in 1-D, the two points ±radius."""
    c = np.asarray(center, dtype=float).ravel()
    n = _count(n)
    if not math.isfinite(radius) or radius <= 0:
        raise ValueError(f"radius must be > 0, got {radius!r}")
    if c.size == 1:
        return (c + radius * np.array([-1.0, 1.0]))[:, None]
    angles = 2 * np.pi * np.arange(n) / n
    pts = np.repeat(c[None, :], n, axis=0)
    pts[:, 0] += radius * np.cos(angles)
    pts[:, 1] += radius * np.sin(angles)
    return pts


def parse(text: str, dim: int) -> list[list[float]]:
    """Points typed as ``x, y`` per line (or separated by ``;``): :func:`optviz.scene.text.points`,
    the one reader of typed points (this name is kept for callers)."""
    return text_points(text, dim)

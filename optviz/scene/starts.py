"""Ways to choose starting points inside a function's box: grid, random, ring, or typed.

All return NumPy arrays of shape ``(n_points, dim)``; they are inputs to ``optviz.run``.
"""

from __future__ import annotations

import math
import re

import numpy as np

from optviz.scene.text import NumberError, quote, read_number


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


def _number(tok: str, i: int) -> float:
    try:
        return read_number(tok)
    except NumberError as exc:
        raise ValueError(f"point {i}: {exc}") from None


def parse(text: str, dim: int) -> list[list[float]]:
    """Points typed as ``x, y`` per line (or separated by ``;``). Brackets are ignored and "−"
    reads as a minus sign. Numbers go through :func:`float` only (never ``eval``); errors say
    which point and what was expected, quoting at most the first characters of what was typed.

    In 1-D each start is one number: either all on one line (``-1, 2, 1.5``, commas or spaces)
    or one per line. Several lines that each hold several numbers (``-1, 2`` then ``1.5, 1.5``)
    read like 2-D points and are refused rather than taken as four starts.
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise ValueError(f"starting points are typed as text, e.g. '-1.5, 2'; got {quote(text)}")
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise ValueError(f"dim must be a whole number >= 1, got {quote(dim)}")
    cleaned = re.sub(r"[()\[\]]", " ", text).replace("−", "-")
    groups = [g.strip() for g in re.split(r"[;\n]", cleaned) if g.strip()]
    numbers = [[_number(tok, i) for tok in re.split(r"[,\s]+", g) if tok] for i, g in enumerate(groups, 1)]
    if not numbers:
        raise ValueError("type at least one starting point")
    if dim == 1:
        wide = [i for i, row in enumerate(numbers, 1) if len(row) > 1]
        if len(numbers) > 1 and wide:
            raise ValueError(
                f"this function is 1-D: each start is one number, typed all on one line (-1, 2, 1.5) "
                f"or one per line; line {wide[0]} holds {len(numbers[wide[0] - 1])} numbers, as a "
                f"{len(numbers[wide[0] - 1])}-D point would"
            )
        return [[v] for row in numbers for v in row]
    for i, row in enumerate(numbers, 1):
        if len(row) != dim:
            raise ValueError(f"point {i} has {len(row)} number(s); this function is {dim}-D, so type "
                             f"{dim} numbers per point, e.g. `-1.5, 2`")
    return numbers

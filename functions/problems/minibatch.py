"""Minibatch indices as a pure function of (seed, step): the same batch for every optimizer and start.

A minibatch run draws, at each step ``t``, ``B`` of the ``N`` training samples without
replacement. The draw depends on nothing but the run's ``seed`` and the step, so every optimizer
(and every start with the same seed) sees the same batch at the same step: differences between
optimizers are theirs, not the data's. It does not depend on the other starts, on threads or on
which path (readable NumPy or a compiled kernel) steps the run, so the engine may compute a
``(steps, B)`` table of indices up front and hand it to a kernel.

The draw: each sample ``i`` gets a 64-bit key ``mix(mix(seed ⊕ salt) + step·φ + i)`` from
SplitMix64's finaliser (Steele, Lea & Flood, "Fast splittable pseudorandom number generators",
OOPSLA 2014); the batch is the ``B`` samples of smallest key (ties cannot happen: the mix is a
bijection of distinct inputs), returned sorted. That is a uniformly random ``B``-subset for a
good mix, is written in integer NumPy only (no generator whose algorithm may change between
NumPy versions), and ``B = N`` gives ``arange(N)``: exactly the full batch, in the full batch's
order.
"""

from __future__ import annotations

import numpy as np

__all__ = ["batch_indices", "batch_table", "check_batch", "check_problem_batch"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SALT = np.uint64(0x6D696E6962617463)  # "minibatc"
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijective mix of 64-bit words (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def check_batch(batch: object, n: int) -> int | None:
    """``None`` for the full batch, else the batch size as an int in ``1..n``.

    ``batch == n`` is returned as ``None``: it *is* the full batch (same samples, same order).

    Raises:
        ValueError: not a whole number in ``1..n`` (one line naming the limit).
    """
    if batch is None:
        return None
    if isinstance(batch, bool) or not isinstance(batch, int | np.integer) or not 1 <= int(batch) <= n:
        raise ValueError(f"batch must be a whole number from 1 to {n} (the training samples), "
                         f"got {str(batch)[:40]!s}")
    return None if int(batch) == n else int(batch)


def batch_indices(seed: int, step: int, n: int, B: int) -> np.ndarray:
    """The ``B`` sample indices (sorted, int64) of step ``step`` of a run seeded ``seed``.

    A pure function of its arguments: no state, no global generator. ``B = n`` gives
    ``arange(n)``.
    """
    if not 1 <= B <= n:
        raise ValueError(f"batch must be from 1 to {n}, got {B}")
    if B == n:
        return np.arange(n, dtype=np.int64)
    with np.errstate(over="ignore"):
        base = _mix64(np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF) ^ _SALT)
        keys = _mix64(base + np.uint64(int(step) & 0xFFFFFFFFFFFFFFFF) * _GOLDEN
                      + np.arange(n, dtype=np.uint64))
    chosen = np.argpartition(keys, B - 1)[:B]
    return np.sort(chosen).astype(np.int64)


def batch_table(seed: int, steps: int, n: int, B: int) -> np.ndarray:
    """``(steps, B)`` int64: row ``t - 1`` is :func:`batch_indices` ``(seed, t, n, B)`` (steps 1..steps)."""
    out = np.empty((steps, B), dtype=np.int64)
    for t in range(1, steps + 1):
        out[t - 1] = batch_indices(seed, t, n, B)
    return out


def check_problem_batch(fn: object, batch: object) -> int | None:
    """The batch size of a run on ``fn``: ``None`` (full batch, also for ``B = N``) or ``1 ≤ B < N``.

    Raises:
        ValueError: ``batch`` is given for a function that has no training data, or is out of range.
    """
    if batch is None:
        return None
    n = getattr(fn, "n_samples", None)
    if n is None:
        raise ValueError(f"batch needs a learning problem (least-squares, logistic, moons-mlp, spirals-mlp); "
                         f"{getattr(fn, 'name', 'this function')} has no training data")
    return check_batch(batch, int(n))

"""Pick each optimizer's learning rate for a scene, with one engine run.

The article's defaults are tiny step sizes meant for neural networks: on Rosenbrock most
optimizers barely move in 300 steps. :func:`tune_learning_rates` tries every value of a log
grid (1, 2, 5 per decade) for an optimizer's main learning rate at once: the starts are
repeated once per grid value and the rate is given one value per point, so each optimizer's
sweep is a single :func:`optviz.run`. It keeps the value whose starts diverge least; among
those, the one with the most starts converged (final error at or below ``tol``); among those,
the one whose median final error is lowest.

Every random draw is keyed by (seed, optimizer, start, step), so each copy of a start in the
sweep sees the noise the scene itself would: the chosen rate's error is the scene's error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from optviz.engine.run import run
from optviz.engine.validate import plan_optimizers, resolve_function, validate_starts
from optviz.optimizers import rates as rate_policy


@dataclass(frozen=True)
class Tuned:
    """The outcome for one optimizer: the chosen value and how every grid value did."""

    optimizer: str
    hyperparam: str
    value: float
    grid: np.ndarray  # the values tried
    median_error: np.ndarray  # per grid value, median final error over the non-diverged starts
    diverged: np.ndarray  # per grid value, how many starts diverged
    converged: np.ndarray | None = None  # per grid value, how many starts ended within tol


def lr_grid(low: float, high: float) -> np.ndarray:
    """1, 2, 5 × 10^k between ``low`` and ``high`` (both included when they are such values)."""
    if not (0 < low <= high):
        raise ValueError(f"need 0 < low <= high, got {low!r}, {high!r}")
    ks = range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
    vals = [m * 10.0**k for k in ks for m in (1.0, 2.0, 5.0)]
    return np.array([float(f"{v:.12g}") for v in vals if low * (1 - 1e-12) <= v <= high * (1 + 1e-12)])


def tune_learning_rates(
    function: Any,
    optimizers: Any,
    starts: Any,
    steps: int = 300,
    *,
    low: float = 1e-5,
    high: float = 5.0,
    kind: str = "auto",
    tol: float | None = 1e-3,
    rates: str = "tuned",
    **run_kwargs: Any,
) -> dict[str, Tuned]:
    """For each optimizer, the value of its main learning rate that does best on this scene.

    Args:
        function, optimizers, starts, steps: the scene, as for :func:`optviz.run`. Other
            hyperparameters given in ``optimizers`` are kept fixed.
        low, high: the grid's range (clipped to each hyperparameter's valid range).
        kind: the error measure (see :meth:`Result.errors`).
        tol: a start whose final error is at or below this has converged; ``None`` (and the
            loss, which has no target) ranks by divergence and median error only.
        rates: the values of the other hyperparameters not given, as for :func:`optviz.run`
            (``"tuned"`` or ``"article"``; the tuned table sets only learning rates, so this
            changes nothing but the result's label today).
        run_kwargs: passed to :func:`optviz.run` (seed, schedule, hooks, backend, ...).

    Returns:
        optimizer name -> :class:`Tuned`. Optimizers without a learning rate are left out.
    """
    if tol is not None and not (isinstance(tol, int | float) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a number > 0 or None, got {tol!r}")
    fn = resolve_function(function, starts)
    s = validate_starts(starts, fn.dim, getattr(fn, "name", "the function"))
    n = s.shape[0]
    out: dict[str, Tuned] = {}
    policy = rate_policy.check_rates(rates)
    fname, fdim, fparams = rate_policy.function_key(fn)
    for p in plan_optimizers(optimizers, n, defaults=lambda opt: rate_policy.defaults(
            opt, fname, fdim, policy, params=fparams)):
        rate = next((h for h in p.spec.hyperparams if h.lr), None)
        if rate is None:
            continue
        grid = lr_grid(max(low, rate.low), min(high, rate.high))
        size = len(grid)
        hp = {k: (np.tile(np.broadcast_to(v, n), size) if np.ndim(v) else v)
              for k, v in p.hyperparams.items()}
        hp[rate.name] = np.repeat(grid, n)  # grid value i for copy i of the starts
        res = run(fn, {p.name: hp}, np.tile(s, (size, 1)), steps, record_every=max(steps, 1), rates=policy,
                  **run_kwargs)
        final = res.errors(kind)[p.name][-1].reshape(size, n)
        dead = res.diverged[p.name].reshape(size, n)
        med = np.array([np.median(f[~d]) if (~d).any() else np.inf for f, d in zip(final, dead, strict=True)])
        n_dead = dead.sum(axis=1)
        if tol is None or res.error_kind(kind) == "loss":
            n_conv = np.zeros(size, dtype=np.int64)
        else:
            n_conv = ((final <= tol) & ~dead).sum(axis=1)
        best = min(range(size), key=lambda i: (n_dead[i], -n_conv[i], med[i]))
        out[p.name] = Tuned(p.name, rate.name, float(grid[best]), grid, med, n_dead, n_conv)
    return out

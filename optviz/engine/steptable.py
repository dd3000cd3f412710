"""A run's per-step values, computed once for all its steps: the one table both paths read.

What a rule computes once per step (bias corrections, Santa's annealing, AdaBound's bounds; see
``Maths.per_step``) depends only on the hyperparameters and the step. :func:`step_table` computes
it for every step in one call of the rule's per-step stages (arrays over (sets of
hyperparameters) × (steps)), and both the readable loop (:mod:`optviz.engine.reference`) and the
compiled kernels (:mod:`optviz.engine.fast`) read their per-step values from it.

Sharing it is what makes the two paths agree to the last bit. The same formula evaluated on a
Python float, a 0-d array or a row of an array need not give the same bits: NumPy's SIMD
``power`` (AVX-512 builds) differs from libm's ``pow`` by an ulp for ~5 % of arguments, and takes
``x*x`` for an exponent that is the scalar 2. An ulp in Adam's step size, amplified by 30 steps of
Rosenbrock, is a 1e-10 difference in the path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optviz.optimizers.base import step_env

#: Tables larger than this (bytes) are not built whole (the fast path splits them by points;
#: the readable loop then computes each step's values at that step).
TABLE_BYTES = 256 * 2**20


def step_table(p: Any, factors: np.ndarray, steps: int, columns: tuple[str, ...] | list[str],
               idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The per-step values of optimizer ``p`` (a job's plan entry) for the points ``idx``.

    Returns ``(table, uniq, combo)``: ``table[c, t - 1, j]`` is column ``columns[j]`` (a
    hyperparameter, learning rates times the schedule's ``factors[t - 1]``, or a per-step
    output) at step ``t`` for the ``c``-th distinct set of hyperparameters ``uniq[c]``;
    ``combo[i]`` is the set of point ``idx[i]`` (one set, ``combo == [0]``, without a sweep).
    """
    specs = p.spec.hyperparams
    lr = {h.name for h in specs if h.lr and h.scheduled}
    n = idx.size
    per_point = [h.name for h in specs if isinstance(p.hyperparams[h.name], np.ndarray)]
    if per_point:
        M = np.column_stack([np.broadcast_to(np.asarray(p.hyperparams[h.name], dtype=float)[idx]
                                             if h.name in per_point else float(p.hyperparams[h.name]), (n,))
                             for h in specs])
        uniq, combo = np.unique(M, axis=0, return_inverse=True)
        combo = combo.reshape(-1).astype(np.int64)
    else:
        uniq = np.array([[float(p.hyperparams[h.name]) for h in specs]])
        combo = np.zeros(1, dtype=np.int64)
    names = [h.name for h in specs]
    tab = np.empty((uniq.shape[0], steps, len(columns)))
    t = np.arange(1, steps + 1, dtype=float)[None, :]
    f = np.asarray(factors, dtype=float)[None, :]
    hp = {name: uniq[:, i][:, None] * (f if name in lr else 1.0) for i, name in enumerate(names)}
    env = step_env(p.spec.maths, hp, t, steps)
    for c, name in enumerate(columns):
        tab[:, :, c] = env[name]
    return tab, uniq, combo


def fits(p: Any, n: int, steps: int, columns: int) -> bool:
    """Whether the whole table of ``p`` for ``n`` points stays under :data:`TABLE_BYTES`."""
    distinct = n if any(isinstance(v, np.ndarray) for v in p.hyperparams.values()) else 1
    return distinct * steps * columns * 8 <= TABLE_BYTES

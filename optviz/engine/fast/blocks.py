"""Kernel pieces that do not depend on the rule or the function: compiled once, shared.

Every generated kernel calls these for the parts of a step that are the same for all of them
(the hooks, gathering the per-step values, recording), so each kernel compiles only what is
its own. Importing this module imports numba; functions are compiled on first use and cached
on disk.
"""

from __future__ import annotations

import math

import numba

from optviz.engine import hooks as _hooks

_JIT = {"nogil": True, "cache": True, "error_model": "numpy", "boundscheck": False}

_INLINE = {"nogil": True, "error_model": "numpy", "boundscheck": False}  # (no disk cache: tiny)
lars = numba.njit(**_INLINE)(_hooks.lars_factors)
clip = numba.njit(**_INLINE)(_hooks.clip_factors)
decay = numba.njit(**_INLINE)(_hooks.weight_decay_factors)


@numba.njit(**_JIT)
def apply_hooks(G, Q, nb, hkind, hoff, hset):  # pragma: no cover - compiled
    """The run's hooks in order, each ``g ← scale · (g + decay · q)`` per point (kinds: 0 LARS,
    1 clip, 2 weight decay; ``hset[hoff[h]:]`` the settings of hook ``h``)."""
    d = G.shape[0]
    for h in range(hkind.shape[0]):
        kind = hkind[h]
        o = hoff[h]
        for i in range(nb):
            gg = 0.0
            ww = 0.0
            for j in range(d):
                gg += G[j, i] * G[j, i]
                ww += Q[j, i] * Q[j, i]
            gn = math.sqrt(gg)
            wn = math.sqrt(ww)
            if kind == 0:
                sc, dc = lars(gn, wn, hset[o], hset[o + 1], hset[o + 2])
            elif kind == 1:
                sc, dc = clip(gn, wn, hset[o])
            else:
                sc, dc = decay(gn, wn, hset[o])
            for j in range(d):
                G[j, i] = (G[j, i] + dc * Q[j, i]) * sc


@numba.njit(**_JIT)
def gather(K, tab, combo, cstride, cols, b0, nb, t):  # pragma: no cover - compiled
    """``K[k, i]``: column ``cols[k]`` of step ``t``'s table row of point ``b0 + i``'s set of
    hyperparameters (one set for all when ``cstride`` is 0)."""
    if cstride == 0:
        c = combo[0]
        for k in range(cols.shape[0]):
            v = tab[c, t - 1, cols[k]]
            for i in range(nb):
                K[k, i] = v
    else:
        for i in range(nb):
            c = combo[b0 + i]
            for k in range(cols.shape[0]):
                K[k, i] = tab[c, t - 1, cols[k]]


@numba.njit(**_JIT)
def record(o_traj, o_loss, W, FL, r, b0, nb):  # pragma: no cover - compiled
    """Row ``r`` of the trajectories and losses for the block's points."""
    d = W.shape[0]
    for i in range(nb):
        for j in range(d):
            o_traj[r, b0 + i, j] = W[j, i]
        o_loss[r, b0 + i] = FL[i]

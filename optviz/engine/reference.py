"""The readable step loop: every optimizer's rule applied to whole arrays, one step at a time.

This is the path anyone can read beside the papers, and the one every other path is held
equal to. All optimizers' points live in one array ``W`` of shape ``(n_optimizers, n_points,
dim)``: the function's value and gradient, the noise, the hooks, the divergence test and
recording run once per step over all of it; only the update rules run per optimizer (their
readable ``update``, see :mod:`optviz.optimizers.base`). There is no Python loop over points.
It runs on any array library (NumPy, CuPy, any array-API namespace).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from functions.base import namespace
from functions.problems.minibatch import batch_indices
from optviz.engine import backends
from optviz.engine import hooks as _hooks
from optviz.engine import noise as _noise
from optviz.engine.job import Cancelled, Job, Outcome
from optviz.engine.steptable import fits, step_table
from optviz.optimizers import StepContext


def step_loop(job: Job, xp: Any, cancel: Any = None, tick: Callable[[int], None] | None = None) -> Outcome:
    """Step ``job`` on the array namespace ``xp``; returns NumPy arrays.

    ``cancel`` (an object with ``is_set()``) is polled every step: when set, :class:`Cancelled`
    is raised. ``tick(k)`` is told each time ``k`` more point-steps are done. Floating-point
    warnings are silenced here (``np.errstate`` is per thread): diverging points are expected.
    """
    with np.errstate(all="ignore"):
        return _loop(job, xp, cancel, tick)


def minibatch_grad(fn: Any, X: Any, t: int, seeds: Any, batch: int) -> Any:
    """The gradient of a learning problem at the points ``X`` on step ``t``'s minibatch.

    The samples are :func:`functions.problems.batch_indices` ``(seed, t, N, B)``: one batch for
    every optimizer and start of a seed. With a seed per start (``seeds`` of shape ``(n,)``, the
    rows of ``X`` being ``K`` stacked copies of the ``n`` starts) the points are grouped by seed.
    """
    N = fn.n_samples
    if np.ndim(seeds) == 0:
        return fn.grad_batch(X, batch_indices(int(seeds), t, N, batch))
    xp = namespace(X)
    per_row = np.tile(np.asarray(seeds), X.shape[0] // len(seeds))
    order, parts = [], []
    for s in np.unique(per_row):
        rows = np.nonzero(per_row == s)[0]
        order.append(rows)
        parts.append(fn.grad_batch(xp.take(X, xp.asarray(rows), axis=0), batch_indices(int(s), t, N, batch)))
    inverse = np.argsort(np.concatenate(order))
    return xp.take(xp.concat(parts, axis=0), xp.asarray(inverse), axis=0)


def inside(xp: Any, W: Any, bound: float) -> Any:
    """Per point: every coordinate finite and within ``[-bound, bound]``.

    ``|w| <= bound`` is False for NaN and ±inf as well, so one test covers every way to
    diverge. One comparison per coordinate: much faster than ``all(axis=-1)`` on a short axis.
    """
    ok = xp.abs(W[..., 0]) <= bound
    for j in range(1, W.shape[-1]):
        ok = ok & (xp.abs(W[..., j]) <= bound)
    return ok


def _all_inside(xp: Any, W: Any, bound: float) -> bool:
    """True if every coordinate of every point is finite and within ``[-bound, bound]``: two
    whole-array reductions (NaN fails them), much cheaper than the per-point test."""
    if type(W) is np.ndarray:  # the array's own methods skip the namespace's wrappers
        return bool(W.max() <= bound) and bool(W.min() >= -bound)
    return bool(xp.max(W) <= bound) and bool(xp.min(W) >= -bound)


def nearest_distance(xp: Any, W: Any, minimizers: Any) -> Any:
    """Distance from each point of ``W`` (..., dim) to the nearest of ``minimizers`` (k, dim)."""
    best = None
    for k in range(minimizers.shape[0]):
        d = W - minimizers[k]
        r = xp.sqrt(xp.sum(d * d, axis=-1))
        best = r if best is None else xp.minimum(best, r)
    return best


def _loop(job: Job, xp: Any, cancel: Any, tick: Callable[[int], None] | None) -> Outcome:
    fn, plan = job.fn, job.plan
    K, n, dim = len(plan), job.n, job.dim
    dt = getattr(xp, job.dtype)
    hook = _hooks.chain(job.hooks)
    maths = [p.spec.maths for p in plan]
    hps = [{k: v if isinstance(v, float) else xp.asarray(np.reshape(v, (n, 1)), dtype=dt)
            for k, v in p.hyperparams.items()} for p in plan]
    lr_names = [[h.name for h in p.spec.hyperparams if h.lr and h.scheduled] for p in plan]
    fstar = None if fn.fmin is None else float(fn.fmin)
    grad_words = job.seed_words(_noise.GRADIENT_STREAM) if job.noise else None
    own_words = [job.seed_words(_noise.stream_of(p.name)) for p in plan]
    need_grad = any(m.grad_at is None for m in maths)
    track = job.tol is not None
    gap = track and job.tol_kind == "gap"
    need_loss = gap or any("loss" in p.spec.needs for p in plan)
    mins = xp.asarray(np.asarray(fn.minimizers, dtype=float), dtype=dt) if track and not gap else None

    def flat(A):
        if A.ndim != 3:
            return A
        if type(A) is np.ndarray:
            return A.reshape((A.shape[0] * A.shape[1], dim))
        return xp.reshape(A, (A.shape[0] * A.shape[1], dim))

    def per_opt(v):
        """(K·n,) values as (K, n)."""
        return v.reshape((K, n)) if type(v) is np.ndarray else xp.reshape(v, (K, n))

    def noisy_grad(X, t: int):
        """The gradient at the points X ((K·n, dim) or (n, dim)), with noise and hooks."""
        g = minibatch_grad(fn, X, t, job.seeds, job.batch) if getattr(job, "batch", None) else fn.grad(X)
        if job.noise:
            z = xp.asarray(_noise.draws(t, 0, dim, job.keys, grad_words), dtype=dt)
            if X.shape[0] != n:
                z = xp.concat([z] * (X.shape[0] // n), axis=0)
            g = g + (job.noise * z if job.noise_mode == "absolute" else job.noise * xp.abs(g) * z)
        return hook(g, X) if job.hooks else g

    # Under a delay the gradient of step t is taken at the query point of step max(1, t − τ).
    history = [deque(maxlen=job.delay + 1) for _ in plan] if job.delay else None

    def stale(k: int, Q):
        if history is None:
            return Q
        history[k].append(Q)
        return history[k][0]

    # each rule's per-step values, for all steps at once: the table the fast path reads too
    tables = [_step_values(p, job, n) for p in plan]

    def values(k: int, t: int) -> dict[str, Any] | None:
        if tables[k] is None:
            return None
        outs, tab, combo = tables[k]
        if combo.size == 1:  # (Python floats: a float32 run stays float32)
            return {o: float(tab[0, t - 1, j]) for j, o in enumerate(outs)}
        rows = tab[combo, t - 1, :]
        return {o: xp.asarray(rows[:, j : j + 1], dtype=dt) for j, o in enumerate(outs)}

    W = xp.stack([xp.asarray(job.starts, dtype=dt)] * K)
    L = per_opt(fn.value(flat(W)))
    states = [p.spec.rule.init(W[k, ...], hps[k]) for k, p in enumerate(plan)]
    D = xp.zeros((K, n, dim), dtype=dt)
    alive = xp.ones((K, n), dtype=xp.bool)
    all_alive = True
    div = xp.full((K, n), -1, dtype=xp.int64)

    rec = job.rec
    traj = xp.empty((len(rec), K, n, dim), dtype=dt)
    losses = xp.empty((len(rec), K, n), dtype=dt)
    traj[0, ...] = W
    losses[0, ...] = L
    stt = None
    if track:
        err0 = (L - fstar) if gap else nearest_distance(xp, W, mins)
        stt = xp.where(err0 <= job.tol, xp.asarray(0, dtype=xp.int64), xp.asarray(-1, dtype=xp.int64))
        first = stt  # the first step within tolerance; stt: the step from which it stays there
    rec_states = None
    G_used = [None] * K
    if job.record_state:
        rec_states = [_empty_state_rows(xp, maths[k], len(rec), n, dim, dt) for k in range(K)]
        for k in range(K):
            _store_state(rec_states[k], 0, states[k], None, None)
    r = 1

    for t in range(1, job.steps + 1):
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        factor = float(job.factors[t - 1])
        if need_grad:
            # (look-ahead rules take their gradient, and keep their history, in grad_fn)
            Q = xp.stack([W[k, ...] if maths[k].grad_at is not None else stale(k, W[k, ...])
                          for k in range(K)]) if history else W
            G = noisy_grad(flat(Q), t)
            G = G.reshape((K, n, dim)) if type(G) is np.ndarray else xp.reshape(G, (K, n, dim))
        for k, p in enumerate(plan):
            hp = hps[k]
            if factor != 1.0 and lr_names[k]:
                hp = {**hp, **{name: hp[name] * factor for name in lr_names[k]}}
            lookahead = maths[k].grad_at is not None

            def grad_fn(q, k=k, t=t):
                g = noisy_grad(stale(k, q), t)
                G_used[k] = g
                return g

            def draw(name: str, when: Any, k=k, t=t):
                if isinstance(when, bool | np.bool_) and not when:
                    return 0.0
                z = xp.asarray(_noise.draws(t, list(maths[k].noise).index(name), dim, job.keys,
                                            own_words[k]), dtype=dt)
                return z if isinstance(when, bool | np.bool_) else xp.where(when, z, 0.0)

            w_grad = None if (lookahead or history is None) else Q[k, ...]
            ctx = StepContext(t, job.steps, L[k, ...], fstar, grad_fn, draw, w_grad, job.delay, values(k, t))
            g = None if lookahead else G[k, ...]
            D[k, ...], states[k] = p.spec.rule.update(g, states[k], W[k, ...], hp, ctx)
            if not lookahead:
                G_used[k] = g
        W_new = W + D
        record = r < len(rec) and rec[r] == t
        if need_loss or record:
            L_new = per_opt(fn.value(flat(W_new)))
        # One pass says every point is fine; otherwise the exact per-point test.
        fine = all_alive and _all_inside(xp, W_new, job.bound)
        if fine and (need_loss or record):
            fine = bool(xp.all(xp.isfinite(L_new)))
        if fine:
            W = W_new
            if need_loss or record:
                L = L_new
        else:
            ok = inside(xp, W_new, job.bound)
            if need_loss or record:
                ok = ok & xp.isfinite(L_new)
            div = xp.where(alive & ~ok, xp.asarray(t, dtype=xp.int64), div)
            alive = alive & ok
            all_alive = all_alive and bool(xp.all(ok))
            W = xp.where(alive[..., None], W_new, W)
            if need_loss or record:  # frozen points: f at the position they keep
                L = xp.where(alive, L_new, per_opt(fn.value(flat(W))))
        if track:
            err = (L - fstar) if gap else nearest_distance(xp, W, mins)
            within = alive & (err <= job.tol)
            now = xp.asarray(t, dtype=xp.int64)
            first = xp.where((first < 0) & within, now, first)
            stt = xp.where(within, xp.where(stt < 0, now, stt), xp.asarray(-1, dtype=xp.int64))
        if record:
            traj[r, ...] = W
            losses[r, ...] = L
            if rec_states is not None:
                for k in range(K):
                    _store_state(rec_states[k], r, states[k], G_used[k], D[k, ...])
            r += 1
        if tick is not None:
            tick(K * n)

    to_np = backends.to_numpy
    div_np = to_np(div)
    stt_np = first_np = None
    if stt is not None:  # a point that diverged did not converge
        stt_np = np.where(div_np >= 0, -1, to_np(stt))
        first_np = np.where(div_np >= 0, -1, to_np(first))
    states_np = None
    if rec_states is not None:
        states_np = [{f: to_np(a) for f, a in rs.items()} for rs in rec_states]
    return Outcome(to_np(traj), to_np(losses), div_np, stt_np, states_np, first_np)


def _step_values(p: Any, job: Job, n: int) -> tuple[tuple[str, ...], np.ndarray, np.ndarray] | None:
    """(outputs, table, combo per point) of the rule's per-step values; None when it has none or
    the table would be too big (each step then computes its own, in the rule's ``update``)."""
    outs = tuple(o for s in p.spec.maths.per_step for o in s.outputs)
    if not outs or not fits(p, n, job.steps, len(outs)):
        return None
    tab, _, combo = step_table(p, job.factors, job.steps, outs, np.arange(n))
    return outs, tab, combo


def _empty_state_rows(xp: Any, maths: Any, n_rec: int, n: int, dim: int, dt: Any) -> dict[str, Any]:
    """NaN-filled rows for every state field ((n_rec, n) for per-point fields), the gradient and
    the update (row 0, before any step, keeps NaN for those two)."""
    rows = {}
    for f in maths.fields:
        shape = (n_rec, n) if f in maths.point_fields else (n_rec, n, dim)
        rows[f] = xp.full(shape, float("nan"), dtype=dt)
    rows["grad"] = xp.full((n_rec, n, dim), float("nan"), dtype=dt)
    rows["update"] = xp.full((n_rec, n, dim), float("nan"), dtype=dt)
    return rows


def _store_state(rows: dict[str, Any], r: int, state: Any, g: Any, delta: Any) -> None:
    for f, a in state._asdict().items():
        rows[f][r, ...] = a[:, 0] if rows[f].ndim == 2 else a
    if g is not None:
        rows["grad"][r, ...] = g
        rows["update"][r, ...] = delta

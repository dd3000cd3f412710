"""The engine: validate once, then step every optimizer over every start at once.

Data flows one way: user input → :func:`run` (validation and conversion, once) → the step
loop on the chosen backend → a :class:`~optviz.result.Result` of NumPy arrays.

All optimizers' points live in one array ``W`` of shape ``(n_optimizers, n_points, dim)``:
the function's value and gradient, the hooks, divergence checks and recording each run once
per step over all of it; only the update rules run per optimizer, on views of ``W``.
There is no Python loop over points.
"""

from __future__ import annotations

import math
import os
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

import numpy as np

from . import backends
from . import hooks as _hooks
from .optimizers import StepContext
from .optimizers.base import ufuncs
from .result import Result
from .validate import (
    OptimizerChoice,
    Planned,
    _as_hooks,
    _as_schedule,
    _check_memory,
    _whole,
    plan_optimizers,
    recorded_steps,
    resolve_function,
    validate_starts,
)

#: Recording more than this many bytes (trajectories + losses) is refused with advice.
DEFAULT_MAX_RECORD_BYTES = 2 * 2**30
#: Large runs are stepped in chunks of about this many points, spread over a thread per core
#: (measured on 2 cores, Adam at 1e6 points: 4.5e7 point-steps/s unchunked, 1.1e8 chunked on
#: 2 threads; smaller chunks lose to per-step Python overhead and GIL hand-offs).
CHUNK_POINTS = 65_536
#: More steps than this are refused: nothing should hang.
MAX_STEPS = 1_000_000
DTYPES = ("float64", "float32")

def _inside(xp, W, bound: float):
    """Per point: every coordinate finite and within ``[-bound, bound]``.

    ``|w| <= bound`` is False for NaN and ±inf as well, so one test covers every way to
    diverge. One comparison per coordinate: much faster than ``all(axis=-1)`` on a short axis.
    """
    ok = xp.abs(W[..., 0]) <= bound
    for j in range(1, W.shape[-1]):
        ok = ok & (xp.abs(W[..., j]) <= bound)
    return ok


def _all_inside(xp, mod, W, bound: float) -> bool:
    """True if every coordinate of every point is finite and within ``[-bound, bound]``.

    Two whole-array reductions (NaN propagates through max and min, so it fails the test);
    much cheaper than the per-point test, which runs only when this says no.
    """
    if mod is not None:  # NumPy/CuPy: the array methods skip the namespace's wrappers
        return bool(W.max() <= bound) and bool(W.min() >= -bound)
    return bool(xp.max(W) <= bound) and bool(xp.min(W) >= -bound)


def _noise_source(xp, seed: int, name: str, shape: tuple[int, int], dtype):
    """Standard-normal draws for one optimizer, from (seed, optimizer name): independent of
    which other optimizers share the run, and the same on every backend."""
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])

    def draw():
        return xp.asarray(rng.standard_normal(shape), dtype=dtype)

    return draw


# ---------------------------------------------------------------------- the run
def run(
    function: Any,
    optimizers: OptimizerChoice = "all",
    starts: Any = None,
    steps: int = 100,
    *,
    seed: int = 0,
    backend: str | ModuleType = "numpy",
    dtype: str = "float64",
    schedule: Any = None,
    hooks: Any = (),
    record_every: int = 1,
    bound: float | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    fused: bool | None = None,
    threads: int | None = None,
) -> Result:
    """Run every chosen optimizer from every start on ``function``, all at once.

    Args:
        function: a name from ``functions.names()`` or a test-function object.
        optimizers: ``"all"``, a group name (``optviz.optimizers.GROUPS``), a list of names,
            or a mapping ``name -> {hyperparameter: value}`` where each value is a scalar or
            one value per start (a sweep in one run). Unnamed hyperparameters take defaults.
        starts: array-like ``(n_points, dim)``; a 1-D function also takes ``(n_points,)``.
            Default: the function's box centre.
        steps: number of update steps.
        seed: seeds every random draw (Santa's noise).
        backend: ``"numpy"``, ``"cupy"``, ``"auto"``, or an array-API namespace module.
        dtype: ``"float64"`` or ``"float32"``.
        schedule: a learning-rate schedule (``optviz.schedules``) or text such as
            ``"warmup:steps=10+cosine"``; it scales every learning-rate hyperparameter.
        hooks: gradient hooks (``optviz.hooks``) or their text, applied in order before each
            optimizer's update, e.g. ``[hooks.lars()]`` or ``"clip:max_norm=1"``.
        record_every: record every k-th step (and the last).
        bound: a point whose coordinates leave ``[-bound, bound]`` or become non-finite, or
            whose loss becomes non-finite, is frozen at its last position and marked diverged.
            Default: 10⁶ times the box's largest coordinate. (With ``record_every > 1`` the
            loss is tested on recorded steps only, unless a rule needs it every step.)
        max_record_bytes: refuse runs whose recording would exceed this.
        fused: use rules' fused in-place paths (``None``: whenever the backend is NumPy or
            CuPy; ``False``: always the readable reference path).
        threads: split the points into this many chunks, each stepped by its own thread
            (NumPy releases the GIL inside its loops; points never interact, so the numbers
            are the same). ``None``: one per core for NumPy runs of at least
            :data:`CHUNK_POINTS` points, which are then stepped in chunks of about that size.
            Santa's noise is drawn for the whole batch, so runs with it use one thread.

    Returns:
        A :class:`~optviz.result.Result` of NumPy arrays.
    """
    fn = resolve_function(function, starts)
    if starts is None:
        starts = np.mean(np.asarray(fn.box, dtype=float), axis=1)[None, :]
    s = validate_starts(starts, fn.dim, getattr(fn, "name", "the function"))
    steps = _whole(steps, "steps", 0)
    if steps > MAX_STEPS:
        raise ValueError(f"steps must be at most {MAX_STEPS:,}, got {steps:,}")
    record_every = _whole(record_every, "record_every", 1)
    seed = _whole(seed, "seed", 0)
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    plan = plan_optimizers(optimizers, s.shape[0])
    sched = _as_schedule(schedule)
    hook_list = _as_hooks(hooks)
    if bound is None:
        bound = 1e6 * max(1.0, float(np.max(np.abs(np.asarray(fn.box, dtype=float)))))
    elif not (isinstance(bound, int | float) and math.isfinite(bound) and bound > 0):
        raise ValueError(f"bound must be a finite number > 0, got {bound!r}")
    rec = recorded_steps(steps, record_every)
    itemsize = 8 if dtype == "float64" else 4
    _check_memory(len(rec), len(plan), s.shape[0], fn.dim, itemsize, max_record_bytes)
    xp, backend_name = backends.resolve(backend)

    n_threads, n_chunks = _chunking(threads, s.shape[0], plan, backend_name)
    loop_args = (xp, fn, steps, seed, dtype, sched, hook_list, rec, float(bound), fused is not False)
    start = time.perf_counter()
    if n_chunks == 1:
        traj, loss, div = _step_loop(plan, s, *loop_args)
    else:
        chunks = np.array_split(np.arange(s.shape[0]), n_chunks)
        with ThreadPoolExecutor(n_threads) as pool:
            parts = list(pool.map(lambda idx: _step_loop(_take(plan, idx), s[idx], *loop_args), chunks))
        traj = np.concatenate([p[0] for p in parts], axis=2)
        loss = np.concatenate([p[1] for p in parts], axis=2)
        div = np.concatenate([p[2] for p in parts], axis=1)
    elapsed = time.perf_counter() - start

    names = tuple(p.name for p in plan)
    return Result(
        function=fn,
        names=names,
        hyperparams={p.name: p.hyperparams for p in plan},
        starts=s,
        steps=steps,
        recorded_steps=rec,
        trajectories={n: traj[:, k] for k, n in enumerate(names)},
        losses={n: loss[:, k] for k, n in enumerate(names)},
        diverged_step={n: div[k] for k, n in enumerate(names)},
        seed=seed,
        backend=backend_name,
        dtype=dtype,
        schedule=sched.label,
        hooks=tuple(h.label for h in hook_list),
        elapsed=elapsed,
        lr_factors=np.asarray(sched.factors(steps)),
    )


def _chunking(threads: int | None, n: int, plan: list[Planned], backend: str) -> tuple[int, int]:
    """(threads, chunks): large NumPy runs are cut into cache-sized chunks of points, each
    stepped through the whole run by one of a pool of threads (one per core by default)."""
    if any("noise" in p.spec.needs for p in plan) or backend != "numpy":
        if threads not in (None, 1):
            raise ValueError("threads > 1 needs the numpy backend and no Santa optimizer "
                             "(its noise is drawn for the whole batch)")
        return 1, 1
    if threads is None:
        if n < CHUNK_POINTS:
            return 1, 1
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    threads = min(_whole(threads, "threads", 1), n)
    if threads == 1 and n < 2 * CHUNK_POINTS:
        return 1, 1  # one chunk: no pool
    return threads, max(threads, math.ceil(n / CHUNK_POINTS))


def _take(plan: list[Planned], idx: np.ndarray) -> list[Planned]:
    """The plan for a subset of the points: per-point hyperparameters sliced to it."""
    return [Planned(p.spec, {k: v[idx] if isinstance(v, np.ndarray) else v
                             for k, v in p.hyperparams.items()}) for p in plan]


def _step_loop(plan: list[Planned], s: np.ndarray, xp, fn, steps: int, seed: int, dtype: str,
               sched, hook_list, rec: np.ndarray, bound: float, allow_fused: bool):
    """The loop itself, on the backend ``xp``. Returns NumPy (trajectories, losses, div steps).

    Floating-point warnings are silenced here (``np.errstate`` is per thread): diverging
    points are expected and handled.
    """
    with np.errstate(all="ignore"):
        return _steps(plan, s, xp, fn, steps, seed, dtype, sched, hook_list, rec, bound, allow_fused)


def _steps(plan: list[Planned], s: np.ndarray, xp, fn, steps: int, seed: int, dtype: str,
           sched, hook_list, rec: np.ndarray, bound: float, allow_fused: bool):
    K, (n, dim) = len(plan), s.shape
    dt = getattr(xp, dtype)
    hook = _hooks.chain(hook_list)

    def grad(X):
        g = fn.grad(X)
        return hook(g, X) if hook_list else g

    def flat(A):
        return A.reshape((K * n, dim)) if mod is not None else xp.reshape(A, (K * n, dim))

    hps = [
        {k: v if isinstance(v, float) else xp.asarray(v.reshape(n, 1), dtype=dt)
         for k, v in p.hyperparams.items()}
        for p in plan
    ]
    lr_names = [[h.name for h in p.spec.hyperparams if h.lr] for p in plan]
    rules = [p.spec.rule for p in plan]
    noises = [_noise_source(xp, seed, p.name, (n, dim), dt) for p in plan]
    need_grad = any("lookahead" not in p.spec.needs for p in plan)
    fstar = None if fn.fmin is None else float(fn.fmin)

    W0 = xp.asarray(s, dtype=dt)
    W = xp.stack([W0] * K)
    mod = ufuncs(W)  # numpy or cupy (their ufuncs take out=), or None for other namespaces
    use_fused = allow_fused and mod is not None
    fused = [p.spec.rule.fused if use_fused else None for p in plan]
    D = xp.empty((K, n, dim), dtype=dt)  # this step's updates, one slab per optimizer
    # f is evaluated every step a rule needs it (Eve) and every recorded step; a non-finite f
    # then marks the point diverged too. Between recorded steps only the coordinates are tested.
    need_loss = any("loss" in p.spec.needs for p in plan)
    L = xp.reshape(fn.value(flat(W)), (K, n))
    states = [rule.init(W[k, ...], hps[k]) for k, rule in enumerate(rules)]
    alive = xp.ones((K, n), dtype=xp.bool)
    all_alive = True
    div = xp.full((K, n), -1, dtype=xp.int64)

    traj = xp.empty((len(rec), K, n, dim), dtype=dt)
    losses = xp.empty((len(rec), K, n), dtype=dt)
    traj[0, ...] = W
    losses[0, ...] = L
    r = 1

    factors = sched.factors(steps)
    for t in range(1, steps + 1):
        factor = factors[t - 1]
        G = xp.reshape(grad(flat(W)), (K, n, dim)) if need_grad else None
        for k, rule in enumerate(rules):
            hp = hps[k]
            if factor != 1.0 and lr_names[k]:
                hp = {**hp, **{name: hp[name] * factor for name in lr_names[k]}}
            ctx = StepContext(t, steps, L[k, ...], fstar, grad, noises[k])
            g = None if G is None else G[k, ...]
            if fused[k] is not None:
                _, states[k] = fused[k](g, states[k], W[k, ...], hp, ctx, D[k, ...])
            else:
                D[k, ...], states[k] = rule.update(g, states[k], W[k, ...], hp, ctx)
        W_new = W + D
        record = r < len(rec) and rec[r] == t
        if need_loss or record:
            L_new = xp.reshape(fn.value(flat(W_new)), (K, n))
        # Fast path: one pass says every point is fine; otherwise the exact per-point test.
        fine = all_alive and _all_inside(xp, mod, W_new, bound)
        if fine and (need_loss or record):
            fine = bool(xp.all(xp.isfinite(L_new)))
        if fine:
            W = W_new
            if need_loss or record:
                L = L_new
        else:
            ok = _inside(xp, W_new, bound)
            if need_loss or record:
                ok = ok & xp.isfinite(L_new)
            div = xp.where(alive & ~ok, xp.asarray(t, dtype=xp.int64), div)
            alive = alive & ok
            all_alive = all_alive and bool(xp.all(ok))
            W = xp.where(alive[..., None], W_new, W)
            if need_loss or record:  # frozen points: f at the position they keep
                L = xp.where(alive, L_new, xp.reshape(fn.value(flat(W)), (K, n)))
        if record:
            traj[r, ...] = W
            losses[r, ...] = L
            r += 1

    return backends.to_numpy(traj), backends.to_numpy(losses), backends.to_numpy(div)

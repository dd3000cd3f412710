"""The engine: validate once, then step every optimizer over every start at once.

Data flows one way: user input → :func:`run` (validation and conversion, once, into a
:class:`~optviz.engine.job.Job`) → a path that steps it → a :class:`~optviz.engine.result.Result` of NumPy
arrays. Two paths compute the same numbers:

- the **fast path** (:mod:`optviz.engine.fast`): one compiled kernel per (function, rule, hooks) that
  keeps a block of points in registers for all their steps, on a thread per core;
- the **readable path** (:mod:`optviz.engine.reference`): the rules applied to whole arrays, a step at a
  time, on any array library.

``fused=None`` picks the fast path whenever it can run and pays (see :func:`optviz.engine.fast.choose`);
``fused=False`` forces the readable one, ``fused=True`` the compiled one. Big runs are split into
chunks of points stepped by a pool of threads; the caller's thread watches them, reports progress
and stops them within a step on Ctrl-C, SIGTERM (when handled as an exception) or an exception
raised by ``progress``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from types import ModuleType
from typing import Any

import numpy as np

from optviz.engine.backends import cores
from optviz.engine.job import (
    DEFAULT_MAX_RECORD_BYTES,
    DTYPES,
    MAX_STEPS,
    NOISE_MODES,
    TOL_KINDS,
    Cancelled,
    Job,
    Outcome,
    join,
    make_job,
    raise_if_stopped,
)
from optviz.engine.reference import step_loop
from optviz.engine.result import Result
from optviz.engine.validate import (
    OptimizerChoice,
    Planned,
    check_count,
    check_max_seconds,
    plan_optimizers,
    quote,
    recorded_steps,
    resolve_function,
    validate_starts,
)
from optviz.optimizers.rates import check_rates

# (the job's limits and choices and its builders are defined in optviz.engine.job and .validate,
# and importable from here too)
__all__ = [
    "DEFAULT_MAX_RECORD_BYTES", "DTYPES", "MAX_STEPS", "NOISE_MODES", "TOL_KINDS", "Cancelled", "Planned",
    "cores", "duration_text", "estimate_seconds", "make_job", "plan_optimizers", "recorded_steps",
    "resolve_function", "run", "validate_starts",
]  # fmt: skip

#: The readable path steps large NumPy runs in chunks of about this many points, spread over a
#: thread per core (measured on 2 cores, Adam at 1e6 points: 4.5e7 point-steps/s unchunked,
#: 1.1e8 chunked on 2 threads; smaller chunks lose to per-step Python overhead and GIL hand-offs).
CHUNK_POINTS = 65_536
#: A run estimated to take longer than this many seconds is refused up front (``max_seconds``).
MAX_SECONDS = 3600.0
#: Throughput assumed for the up-front estimate (point-steps per second per core) and the
#: Python overhead of one readable step per optimizer (seconds): conservative figures of this
#: project's 2-core machine (benchmarks/results-cpu.md).
RATE_FAST_PER_CORE = 1.0e8
#: The same for the CUDA kernels (``backend="cupy"``), per card: conservative for a card weak in
#: float64 (1/64 rate, ~1 TFLOP/s) at ~40 operations per point-step and a fifth of its limit.
RATE_FAST_GPU = 5.0e9
RATE_READABLE = 4.0e7
STEP_OVERHEAD = 3e-5
#: The fast path splits a run over threads only when each gets at least this many point-steps
#: (about 0.1 ms of Adam on 2-D Rosenbrock per core: a hand-off to the pool costs ~20 µs).
MIN_WORK_PER_THREAD = 50_000
#: The most threads a run may ask for (each steps its own chunk: beyond the cores, only overhead).
MAX_THREADS = 256
#: How often the watching thread wakes to report progress and check for Ctrl-C (seconds).
POLL = 0.05

ProgressFn = Callable[[int, int], Any]


# ---------------------------------------------------------------------- the run
def run(
    function: Any,
    optimizers: OptimizerChoice = "all",
    starts: Any = None,
    steps: int = 100,
    *,
    seed: int | Any = 0,
    backend: str | ModuleType = "numpy",
    dtype: str = "float64",
    schedule: Any = None,
    hooks: Any = (),
    record_every: int = 1,
    bound: float | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    fused: bool | None = None,
    threads: int | None = None,
    noise: float = 0.0,
    noise_mode: str = "absolute",
    delay: int = 0,
    tol: float | None = None,
    tol_kind: str = "auto",
    record_state: bool = False,
    progress: ProgressFn | None = None,
    max_seconds: float | None = MAX_SECONDS,
    rates: str = "tuned",
    batch: int | None = None,
) -> Result:
    """Run every chosen optimizer from every start on ``function``, all at once.

    Args:
        function: a name from ``functions.names()`` or a test-function object.
        optimizers: ``"all"``, a group (``"group:adam"``, see ``optviz.optimizers.GROUPS``), a name, a list,
            or a mapping ``name -> {hyperparameter: value}`` where each value is a scalar or
            one value per start (a sweep in one run). Unnamed hyperparameters take the
            ``rates`` policy's values. A bare name is one optimizer (``"adam"`` is Adam).
        starts: array-like ``(n_points, dim)``; a 1-D function also takes ``(n_points,)``.
            Default: the function's box centre.
        steps: number of update steps.
        seed: seeds every random draw (Santa's noise, gradient noise): a whole number, or one
            per start (several seeds of the same scene in one run). Draws are keyed by (seed,
            optimizer, start, step), so a point's draws never depend on its company.
        backend: ``"numpy"``, ``"cupy"``, ``"auto"``, or an array-API namespace module.
        dtype: ``"float64"`` or ``"float32"``.
        schedule: a learning-rate schedule (``optviz.engine.schedules``) or text such as
            ``"warmup:steps=10+cosine"``; it scales every learning-rate hyperparameter.
        hooks: gradient hooks (``optviz.engine.hooks``) or their text, applied in order before each
            optimizer's update, e.g. ``[hooks.lars()]`` or ``"clip:max_norm=1"``.
        record_every: record every k-th step (and the last); ``record_every=steps`` records
            only the starts and the final state (basin maps, sweeps).
        bound: a point whose coordinates leave ``[-bound, bound]`` or become non-finite, or
            whose loss becomes non-finite, is frozen at its last position and marked diverged.
            Default: 10⁶ times the box's largest coordinate. (With ``record_every > 1`` the
            loss is tested on recorded steps only, unless a rule or ``tol_kind="gap"`` needs
            it every step.)
        max_record_bytes: refuse runs whose recording would exceed this.
        fused: ``None`` picks the compiled fast path when it can run and pays, ``True``
            requires it (``ValueError`` saying why when it cannot), ``False`` the readable path.
        threads: step the points in this many parallel parts (``None``: one per core when the
            run is big enough to pay). Points never interact, so the numbers are the same.
        noise: σ of Gaussian noise added to every gradient coordinate (stochastic gradients);
            every optimizer at the same start and step sees the same draw. 0: exact gradients.
        noise_mode: ``"absolute"`` (g + σz) or ``"relative"`` (g + σ|g|z).
        delay: the step that makes ``w_t`` uses the gradient taken at ``w_{t−1−delay}`` (at
            ``w_0`` while that is before the start), as in asynchronous training.
        tol: also record, per point, the step from which its error stays at most ``tol`` to the
            end (:attr:`Result.steps_to_tol`) and the first step it was (:attr:`Result.first_entry`),
            -1 for never or diverged, checked at every step whatever ``record_every`` is.
        tol_kind: the error ``tol`` bounds: ``"distance"`` to the nearest global minimizer,
            ``"gap"`` f − f*, or ``"auto"`` (distance).
        record_state: record every rule's state (its NamedTuple fields), the gradient it was
            given and its update at the recorded steps (:attr:`Result.states`).
        progress: called as ``progress(done, total)`` (point-steps) while the run goes on; an
            exception it raises stops the run (and is raised from here).
        max_seconds: refuse, before starting, a run estimated to take longer (None: no limit).
        rates: the values of hyperparameters not given (:mod:`optviz.optimizers.rates`):
            ``"tuned"``, the function's tuned learning rates (the registry's values where the
            table has none), or ``"article"`` (alias ``"registry"``), the registry's. The
            result's :attr:`~optviz.engine.result.Result.rates` says which.
        batch: minibatch size B of a learning problem's gradient (None or N: full batch); the samples
            of step t are ``functions.problems.batch_indices(seed, t, N, B)``, shared by every
            optimizer and start of that seed. The recorded loss is the full training loss.

    Returns:
        A :class:`~optviz.engine.result.Result` of NumPy arrays.
    """
    job, xp, backend_name, sched = make_job(
        function, optimizers, starts, steps, seed=seed, backend=backend, dtype=dtype, schedule=schedule,
        hooks=hooks, record_every=record_every, bound=bound, max_record_bytes=max_record_bytes, noise=noise,
        noise_mode=noise_mode, delay=delay, tol=tol, tol_kind=tol_kind, record_state=record_state,
        rates=rates, batch=batch)
    if progress is not None and not callable(progress):
        raise ValueError(f"progress must be a function progress(done, total), got {quote(progress)}")
    if fused is not None and not isinstance(fused, bool):
        raise ValueError(f"fused must be True, False or None (automatic), got {quote(fused)}")
    max_seconds = check_max_seconds(max_seconds)
    from optviz.engine import fast

    path = fast.choose(job, backend_name, fused)
    n_threads = _threads(threads, job, path, backend_name)
    _check_time(job, path, n_threads, max_seconds, backend_name)

    out, elapsed = _execute(job, xp, path, n_threads, progress, backend_name)
    result = _result(job, out, backend_name, sched, elapsed, path, seed)
    result.rates = check_rates(rates)
    return result


def _threads(threads: int | None, job: Job, path: str, backend: str) -> int:
    if backend != "numpy":
        if threads not in (None, 1):
            raise ValueError("threads > 1 needs the numpy backend")
        return 1
    if threads is not None:  # (more threads than MAX_THREADS only add per-chunk overhead)
        return min(check_count(threads, "threads", 1, MAX_THREADS), job.n)
    if path == "fast":
        from optviz.engine.fast import MIN_POINTS_PER_THREAD

        per_thread = 1 if job.step_cost > 1 else MIN_POINTS_PER_THREAD  # (a point a thread, when dear)
        return max(1, min(cores(), job.n // per_thread, math.ceil(job.cost / MIN_WORK_PER_THREAD)))
    return cores() if job.n >= 2 * CHUNK_POINTS else 1


def estimate_seconds(job: Job, path: str, n_threads: int, backend: str = "numpy") -> float:
    """A conservative estimate of the run's time on this machine (for the up-front refusal)."""
    if path == "fast" and backend != "numpy":
        return job.cost / RATE_FAST_GPU
    if path == "fast":
        return job.cost / (RATE_FAST_PER_CORE * max(1, min(n_threads, cores())))
    chunks = max(1, math.ceil(job.n / CHUNK_POINTS), n_threads)
    overhead = job.steps * len(job.plan) * chunks * STEP_OVERHEAD
    return job.cost / (RATE_READABLE * max(1, min(n_threads, cores()))) + overhead


def _check_time(job: Job, path: str, n_threads: int, max_seconds: float | None,
                backend: str = "numpy") -> None:
    if max_seconds is None:
        return
    est = estimate_seconds(job, path, n_threads, backend)
    if est <= max_seconds:
        return
    k = len(job.plan)
    fit_steps = max(1, int(job.steps * max_seconds / est))
    fit_points = max(1, int(job.n * max_seconds / est))
    raise ValueError(
        f"this run is {job.work:.3g} point-steps ({k} optimizer(s) x {job.n:,} points x "
        f"{job.steps:,} steps), about {duration_text(est)} on this machine, over the "
        f"{duration_text(max_seconds)} limit. To shrink it: fewer steps (~{fit_steps:,} would fit), "
        f"fewer starts (~{fit_points:,}) or fewer optimizers; or raise max_seconds."
    )


def duration_text(seconds: float) -> str:
    """A duration for a message: ``45 s``, ``12 min``, ``3.5 h``, ``9 days``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


# ---------------------------------------------------------------------- stepping, watched
class _Watch:
    """A run's shared progress counter and cancel flag (threads add, the caller reads)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.flag = np.zeros(1, dtype=np.int64)  # what compiled kernels poll
        self._lock = threading.Lock()
        self._done = 0
        self.meters: list[np.ndarray] = []  # per-thread point-step counters written by kernels

    def is_set(self) -> bool:
        return self.event.is_set()

    def set(self) -> None:
        self.flag[0] = 1
        self.event.set()

    def tick(self, k: int) -> None:
        with self._lock:
            self._done += k

    @property
    def done(self) -> int:
        return self._done + sum(int(m.sum()) for m in self.meters)


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max(2, cores()), thread_name_prefix="optviz")
        return _POOL


def _parts(job: Job, n_threads: int) -> list[np.ndarray]:
    """The readable path's parts: contiguous, about equal, at most about CHUNK_POINTS each."""
    k = max(n_threads, math.ceil(job.n / CHUNK_POINTS)) if n_threads > 1 else 1
    return [idx for idx in np.array_split(np.arange(job.n), max(1, min(k, job.n))) if idx.size]


def _execute(job: Job, xp: Any, path: str, n_threads: int, progress: ProgressFn | None,
             backend: str = "numpy") -> tuple[Outcome, float]:
    """Step ``job`` in parts on the pool (or in this thread when small), watching them; returns the
    outcome and the seconds the stepping took (the compile and the set-up before it excluded)."""
    from optviz.engine import fast

    watch = _Watch()
    total = job.work
    if path == "fast":
        runner = fast.prepare(job, backend)
        raise_if_stopped()  # (a signal during the compile can be lost inside numba: see job)
        start = time.perf_counter()
        ranges = fast.ranges(job.n, n_threads)
        tasks = [(lambda lo=lo, hi=hi: runner.run(lo, hi, watch)) for lo, hi in ranges]

        def finish(_: list[Any]) -> Outcome:
            return runner.outcome()

        small = job.cost < fast.INLINE_WORK  # (short: Ctrl-C waits for it at most a few ms)
        inline = len(tasks) == 1 and small
        if len(tasks) > 1 and small and progress is None:
            # short and split: this thread steps the first part while the pool steps the others
            return finish(_share(tasks, watch)), time.perf_counter() - start
    else:
        start = time.perf_counter()
        parts = _parts(job, n_threads)
        jobs = [job.take(idx) for idx in parts] if len(parts) > 1 else [job]
        tasks = [(lambda j=j: step_loop(j, xp, watch, watch.tick)) for j in jobs]
        finish = join
        inline = len(tasks) == 1
    if inline and (progress is None or path == "fast"):
        # Small, or readable and single: step in this thread (Ctrl-C interrupts it directly).
        out = finish([tasks[0]()])
        if progress is not None:
            progress(total, total)
        return out, time.perf_counter() - start
    if inline:  # the readable loop in this thread, reporting as it goes
        last = [0.0]

        def tick(k: int) -> None:
            watch.tick(k)
            now = time.perf_counter()
            if now - last[0] >= POLL:
                last[0] = now
                progress(watch.done, total)

        out = step_loop(job, xp, watch, tick)
        progress(total, total)
        return out, time.perf_counter() - start
    futures = [_pool().submit(task) for task in tasks]
    try:
        for f in futures:
            while True:
                try:
                    f.result(timeout=POLL)
                    break
                except FutureTimeout:
                    raise_if_stopped()
                    if progress is not None:
                        progress(watch.done, total)
    except BaseException:
        watch.set()  # every part stops at its next step
        for f in futures:
            try:
                f.result()
            except BaseException:  # Cancelled, or the same error: the first one is raised
                pass
        raise
    if progress is not None:
        progress(total, total)
    return finish([f.result() for f in futures]), time.perf_counter() - start


def _share(tasks: list[Callable[[], Any]], watch: _Watch) -> list[Any]:
    """Run ``tasks[0]`` in this thread and the others on the pool (a short run: no thread waits
    for a hand-off it could do itself); an error or interrupt stops them all and is raised."""
    futures = [_pool().submit(task) for task in tasks[1:]]
    try:
        first = tasks[0]()
        return [first, *(f.result() for f in futures)]
    except BaseException:
        watch.set()
        for f in futures:
            try:
                f.result()
            except BaseException:
                pass
        raise


# ---------------------------------------------------------------------- the result
def _result(job: Job, out: Outcome, backend: str, sched: Any, elapsed: float, path: str, seed: Any) -> Result:
    names = tuple(p.name for p in job.plan)
    states = None
    if out.states is not None:
        states = {name: out.states[k] for k, name in enumerate(names)}
    return Result(
        function=job.fn,
        names=names,
        hyperparams={p.name: p.hyperparams for p in job.plan},
        # (the first recorded row holds the starts, bit for bit: the result keeps no reference to
        # the caller's array, and makes no copy of it)
        starts=out.traj[0, 0] if out.traj.dtype == np.float64 else np.array(job.starts),
        steps=job.steps,
        recorded_steps=job.rec,
        trajectories={name: out.traj[:, k] for k, name in enumerate(names)},
        losses={name: out.loss[:, k] for k, name in enumerate(names)},
        diverged_step={name: out.div[k] for k, name in enumerate(names)},
        seed=seed if np.ndim(seed) == 0 else np.asarray(seed),
        backend=backend,
        dtype=job.dtype,
        schedule=sched.label,
        hooks=tuple(h.label for h in job.hooks),
        elapsed=elapsed,
        lr_factors=job.factors,
        noise=job.noise,
        noise_mode=job.noise_mode,
        delay=job.delay,
        tol=job.tol,
        tol_kind=job.tol_kind,
        steps_to_tol=None if out.steps_to_tol is None else {
            name: out.steps_to_tol[k] for k, name in enumerate(names)},
        first_entry=None if out.first_entry is None else {
            name: out.first_entry[k] for k, name in enumerate(names)},
        states=states,
        path=path,
    )

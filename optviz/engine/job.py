"""A validated run, ready to step: what both paths (readable and compiled) take as input.

:func:`make_job` validates what the user gave :func:`optviz.run` once and builds a :class:`Job`;
the readable step loop (:mod:`optviz.engine.reference`) and the compiled kernels
(:mod:`optviz.engine.fast`) both step a job, or a slice of its points, and return an
:class:`Outcome` of NumPy arrays. Everything that builds jobs (the run, compiling kernels ahead
in :mod:`optviz.engine.fast.warm`, the explore layers) builds them here.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np

from functions.base import TestFunction
from optviz.engine import backends
from optviz.engine import noise as _noise
from optviz.engine.hooks import Hook, as_hooks
from optviz.engine.schedules import Schedule, as_schedule
from optviz.engine.validate import (
    OptimizerChoice,
    Planned,
    check_count,
    check_record_size,
    check_starts_inside,
    plan_optimizers,
    recorded_steps,
    resolve_function,
    validate_starts,
)
from optviz.optimizers import rates as rate_policy
from optviz.scene.text import quote

#: Recording more than this many bytes (trajectories + losses) is refused with advice.
DEFAULT_MAX_RECORD_BYTES = 2 * 2**30
#: More steps than this are refused: nothing should hang.
MAX_STEPS = 1_000_000
DTYPES = ("float64", "float32")
NOISE_MODES = ("absolute", "relative")
TOL_KINDS = ("auto", "distance", "gap")

#: The stop signals (SIGINT, SIGTERM, SIGHUP) received while a command runs, recorded by
#: :func:`optviz.cli.terminate_as_interrupt`'s handler before it raises ``KeyboardInterrupt``.
#: An exception raised inside a callback from C into Python is printed and dropped (numba's
#: compiler calls Python through ctypes for seconds at a time), so an interrupt that lands there
#: is lost; the engine's checkpoints (:func:`raise_if_stopped`) raise it again.
STOP_SIGNALS: list[str] = []


def raise_if_stopped() -> None:
    """Raise the ``KeyboardInterrupt`` of a stop signal received since the command began."""
    if STOP_SIGNALS:
        raise KeyboardInterrupt(STOP_SIGNALS[-1])


class Cancelled(Exception):
    """A run was stopped before its end (the loops saw the cancel flag)."""


@dataclass(frozen=True)
class Job:
    """Everything one run steps, validated and converted (NumPy; hyperparameters per point).

    Attributes:
        fn: the test function.
        plan: the optimizers, each with its validated hyperparameters (floats or ``(n,)``).
        starts: ``(n, dim)`` float64 (the caller's own array when it gave one: read, never written).
        steps: number of steps.
        rec: the recorded step numbers (0, k, 2k, …, steps).
        dtype: ``"float64"`` or ``"float32"``.
        factors: the schedule's multiplier at steps 1..steps.
        hooks: the gradient hooks, in order.
        bound: the divergence bound on every coordinate.
        seeds: the seed, or one per point (``(n,)`` uint64).
        keys: the starts' noise counter words (:func:`optviz.engine.noise.start_keys`), computed
            when first asked for (only runs that draw noise need them).
        noise, noise_mode: gradient noise σ and ``"absolute"`` or ``"relative"``.
        delay: gradient delay τ (steps).
        tol, tol_kind: track the first step whose error (``"distance"`` or ``"gap"``) is ≤ tol.
        record_state: record every rule's state (and the gradient and update) at recorded steps.
        batch: the minibatch size B of a learning problem's gradients (None: full batch).
    """

    fn: Any
    plan: tuple[Planned, ...]
    starts: np.ndarray
    steps: int
    rec: np.ndarray
    dtype: str
    factors: np.ndarray
    hooks: tuple
    bound: float
    seeds: Any
    noise: float = 0.0
    noise_mode: str = "absolute"
    delay: int = 0
    tol: float | None = None
    tol_kind: str = "distance"
    record_state: bool = False
    batch: int | None = None

    @functools.cached_property
    def keys(self) -> tuple[np.ndarray, np.ndarray]:
        """The starts' noise counter words (a hash of each start: the same start, the same draws)."""
        return _noise.start_keys(self.starts)

    @property
    def draws_noise(self) -> bool:
        """Whether any draw is made (gradient noise, or a rule's own): only then are keys needed."""
        return bool(self.noise) or any(p.spec.maths.noise for p in self.plan)

    @property
    def n(self) -> int:
        return self.starts.shape[0]

    @property
    def dim(self) -> int:
        return self.starts.shape[1]

    @property
    def work(self) -> int:
        """Point-steps: optimizers × points × steps."""
        return len(self.plan) * self.n * self.steps

    @property
    def step_cost(self) -> float:
        """A point-step's cost relative to one on a test function of a few coordinates (for the
        up-front time estimate and the choice of threads): a learning problem's gradient loops
        over the rows of its batch and its parameters; a test function of many coordinates costs
        in proportion to them."""
        form = getattr(self.fn, "data_form", None)
        if form is not None:  # (~4 operations per row and parameter: the 2-16-1 MLP's gradient)
            return 4.0 * (self.batch or form.data.shape[0]) * self.dim
        return 1.0 if self.dim <= 16 else self.dim / 2

    @property
    def cost(self) -> float:
        """The work weighted by :attr:`step_cost`: about point-steps of a 2-D test function."""
        return self.work * self.step_cost

    def take(self, idx: np.ndarray | slice) -> Job:
        """The same job on a subset of the points (per-point values sliced to it)."""
        plan = tuple(Planned(p.spec, {k: v[idx] if isinstance(v, np.ndarray) else v
                                      for k, v in p.hyperparams.items()}) for p in self.plan)
        seeds = self.seeds[idx] if isinstance(self.seeds, np.ndarray) else self.seeds
        return replace(self, plan=plan, starts=self.starts[idx], seeds=seeds)

    def seed_words(self, stream: int) -> tuple[Any, Any]:
        return _noise.seed_words(self.seeds, stream)


class Outcome(NamedTuple):
    """What stepping a job gives: NumPy arrays, optimizers on axis 1 (0 for the last three).

    ``traj`` ``(n_rec, K, n, dim)``, ``loss`` ``(n_rec, K, n)``, ``div`` ``(K, n)`` (step or
    -1), ``steps_to_tol`` ``(K, n)`` (the step from which the point stays within tolerance, or -1;
    None unless tracked), ``states`` per optimizer index a dict of field -> ``(n_rec, n, dim)`` or
    ``(n_rec, n)`` (None unless asked), ``first_entry`` ``(K, n)`` (the first step within
    tolerance, or -1; None unless tracked).
    """

    traj: np.ndarray
    loss: np.ndarray
    div: np.ndarray
    steps_to_tol: np.ndarray | None
    states: list[dict[str, np.ndarray]] | None
    first_entry: np.ndarray | None = None


def join(parts: list[Outcome]) -> Outcome:
    """One outcome from outcomes of consecutive slices of the points."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    states = None
    if first.states is not None:
        states = [{f: np.concatenate([p.states[k][f] for p in parts], axis=1) for f in first.states[k]}
                  for k in range(len(first.states))]
    return Outcome(
        np.concatenate([p.traj for p in parts], axis=2),
        np.concatenate([p.loss for p in parts], axis=2),
        np.concatenate([p.div for p in parts], axis=1),
        None if first.steps_to_tol is None else np.concatenate([p.steps_to_tol for p in parts], axis=1),
        states,
        None if first.first_entry is None else np.concatenate([p.first_entry for p in parts], axis=1),
    )


# ---------------------------------------------------------------------- building a job
def make_job(
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
    noise: float = 0.0,
    noise_mode: str = "absolute",
    delay: int = 0,
    tol: float | None = None,
    tol_kind: str = "auto",
    record_state: bool = False,
    rates: str = "tuned",
    batch: int | None = None,
) -> tuple[Job, Any, str, Any]:
    """Validate a run's inputs (as :func:`optviz.run` takes them) into a :class:`~optviz.engine.job.Job`.

    Returns ``(job, array namespace, backend name, schedule)``; raises what :func:`optviz.run` raises
    for bad input. Nothing is stepped.
    """
    key = _memo_key(function, optimizers, starts, steps, backend, dtype, schedule, hooks, record_every, bound,
                    max_record_bytes, noise, noise_mode, delay, tol, tol_kind, record_state, rates, batch)
    with _MEMO_LOCK:
        hit = _MEMO.get(key) if key is not None else None
        if hit is not None:
            _MEMO.move_to_end(key)
    if hit is not None:  # the same settings as a recent run: only the starts and seeds are new
        name = getattr(hit.fn, "name", "the function")
        s = validate_starts(_default_starts(hit.fn) if starts is None else starts, hit.fn.dim, name,
                            copy=False, finite=False)
        if not (s.max() <= hit.bound and s.min() >= -hit.bound):  # (NaN fails: then the messages, in order)
            validate_starts(s, hit.fn.dim, name, copy=False)
            check_starts_inside(s, hit.bound, name, given=bound is not None)
        seeds = _seeds(seed, s.shape[0])
        return hit.job(s, seeds), hit.xp, hit.backend, hit.sched
    fn = resolve_function(function, starts)
    if starts is None:
        starts = _default_starts(fn)
    # (the caller's float64 array is read, not copied: the run reads it once, into its first recorded
    # row, and the result's starts are that row)
    s = validate_starts(starts, fn.dim, getattr(fn, "name", "the function"), copy=False)
    n = s.shape[0]
    steps = check_count(steps, "steps", 0)
    if steps > MAX_STEPS:
        raise ValueError(f"steps must be at most {MAX_STEPS:,}, got {steps:,}")
    record_every = check_count(record_every, "record_every", 1)
    seeds = _seeds(seed, n)
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {quote(dtype)}")
    policy = rate_policy.check_rates(rates)
    fname, fdim, fparams = rate_policy.function_key(fn)
    plan = plan_optimizers(optimizers, n, defaults=lambda opt: rate_policy.defaults(
        opt, fname, fdim, policy, params=fparams))
    sched = as_schedule(schedule)
    hook_list = as_hooks(hooks)
    given = bound is not None
    if bound is None:
        bound = 1e6 * max(1.0, float(np.max(np.abs(np.asarray(fn.box, dtype=float)))))
    elif isinstance(bound, bool) or not (
            isinstance(bound, int | float) and math.isfinite(bound) and bound > 0):
        raise ValueError(f"bound must be a finite number > 0, got {quote(bound)}")
    check_starts_inside(s, float(bound), getattr(fn, "name", "the function"), given=given)
    noise, noise_mode, delay = _noise_options(noise, noise_mode, delay)
    tol, tol_kind = _tol_options(tol, tol_kind, fn)
    if batch is not None:
        from functions.problems import check_problem_batch

        batch = check_problem_batch(fn, batch)  # (None for B = N: the full batch)
    if not isinstance(record_state, bool):
        raise ValueError(f"record_state must be True or False, got {quote(record_state)}")
    rec = recorded_steps(steps, record_every)
    itemsize = 8 if dtype == "float64" else 4
    # recorded state: every field, the gradient and the update (at most a coordinate each)
    per_row = fn.dim + (max(len(p.spec.maths.fields) for p in plan) + 2) * fn.dim * record_state
    check_record_size(len(rec), len(plan), n, per_row, itemsize, max_record_bytes)
    xp, backend_name = backends.resolve(backend)
    factors = sched.factor_array(steps)
    _check_factors(factors, sched.label)

    rec.setflags(write=False)  # (shared by the runs of the same settings)
    factors.setflags(write=False)
    settings = _Settings(fn=fn, plan=tuple(plan), steps=steps, rec=rec, dtype=dtype, factors=factors,
                         hooks=hook_list, bound=float(bound), noise=noise, noise_mode=noise_mode, delay=delay,
                         tol=tol, tol_kind=tol_kind, record_state=record_state, xp=xp, backend=backend_name,
                         sched=sched, batch=batch)
    if key is not None:
        with _MEMO_LOCK:
            _MEMO[key] = settings
            while len(_MEMO) > MEMO_SIZE:
                _MEMO.popitem(last=False)
    return settings.job(s, seeds), xp, backend_name, sched


#: Validated settings of this many recent runs are kept (:func:`make_job` then checks only the new
#: starts and seeds): a dashboard or a notebook reruns the same settings from other starts.
MEMO_SIZE = 64


class _Settings(NamedTuple):
    """Everything :func:`make_job` validates but the starts and seeds (the same for a run again)."""

    fn: Any
    plan: tuple[Planned, ...]
    steps: int
    rec: np.ndarray
    dtype: str
    factors: np.ndarray
    hooks: tuple
    bound: float
    noise: float
    noise_mode: str
    delay: int
    tol: float | None
    tol_kind: str
    record_state: bool
    xp: Any
    backend: str
    sched: Any
    batch: int | None

    def job(self, starts: np.ndarray, seeds: Any) -> Job:
        return Job(fn=self.fn, plan=self.plan, starts=starts, steps=self.steps, rec=self.rec,
                   dtype=self.dtype,
                   factors=self.factors, hooks=self.hooks, bound=self.bound, seeds=seeds, noise=self.noise,
                   noise_mode=self.noise_mode, delay=self.delay, tol=self.tol, tol_kind=self.tol_kind,
                   record_state=self.record_state, batch=self.batch)


_MEMO: OrderedDict[tuple, _Settings] = OrderedDict()
_MEMO_LOCK = threading.Lock()


def _default_starts(fn: Any) -> np.ndarray:
    return np.mean(np.asarray(fn.box, dtype=float), axis=1)[None, :]


def _frozen(value: Any) -> Any:
    """``value`` as a key of the memo (plain numbers, text, and tuples, lists and mappings of them;
    frozen engine and function objects by identity), or raise ``TypeError`` (not memoized)."""
    kind = type(value)
    if kind in _SCALARS:
        return kind, value
    if kind is dict:
        return "map", tuple((_frozen(k), _frozen(v)) for k, v in value.items())
    if kind is tuple or kind is list:
        return "seq", tuple(map(_frozen, value))
    if isinstance(value, float):  # (NumPy's float64 is a float: keyed as the same number)
        return float, float(value)
    if isinstance(value, _FROZEN_TYPES):
        hash(value)
        return "obj", value
    raise TypeError(kind.__name__)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _memo_key(function: Any, optimizers: Any, starts: Any, *settings: Any) -> tuple | None:
    """The memo's key for these arguments: the function, the optimizers, the other settings and the
    starts' shape; None when some argument is not plain data (an array of hyperparameters, a
    user's own object): such runs are validated in full every time."""
    if starts is None:
        shape: tuple = ()
    elif type(starts) is np.ndarray:
        shape = starts.shape
    else:
        return None
    try:
        return (_frozen(function), _frozen(optimizers), shape, *(_frozen(v) for v in settings))
    except TypeError:
        return None


_FROZEN_TYPES = (TestFunction, Schedule, Hook)


def _seeds(seed: Any, n: int) -> Any:
    if np.ndim(seed) == 0:
        return check_count(seed, "seed", 0, 2**64 - 1)
    try:
        arr = np.asarray(seed)
    except (TypeError, ValueError):
        raise ValueError("seed must be a whole number >= 0 or one per start") from None
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer) or (arr < 0).any():
        raise ValueError(f"seed must be a whole number >= 0, or {n} of them (one per start); "
                         f"got shape {arr.shape} of {arr.dtype}")
    return arr.astype(np.uint64)


def _noise_options(noise: Any, mode: Any, delay: Any) -> tuple[float, str, int]:
    if isinstance(noise, bool) or not isinstance(noise, int | float | np.integer | np.floating) or not (
            math.isfinite(float(noise)) and float(noise) >= 0):
        raise ValueError(f"noise must be a finite number >= 0 (the σ of the gradient noise), "
                         f"got {quote(noise)}")
    if mode not in NOISE_MODES:
        raise ValueError(f"noise_mode must be one of {', '.join(NOISE_MODES)}, got {quote(mode)}")
    delay = check_count(delay, "delay", 0)
    if delay > MAX_STEPS:
        raise ValueError(f"delay must be at most {MAX_STEPS:,} steps, got {delay:,}")
    return float(noise), mode, delay


def _tol_options(tol: Any, kind: Any, fn: Any) -> tuple[float | None, str]:
    if kind not in TOL_KINDS:
        raise ValueError(f"tol_kind must be one of {', '.join(TOL_KINDS)}, got {quote(kind)}")
    kind = "distance" if kind == "auto" else kind
    if tol is None:
        return None, kind
    if isinstance(tol, bool) or not isinstance(tol, int | float | np.integer | np.floating) or not (
            math.isfinite(float(tol)) and float(tol) > 0):
        raise ValueError(f"tol must be a finite number > 0, got {quote(tol)}")
    if kind == "distance" and len(np.asarray(fn.minimizers)) == 0:
        raise ValueError(f"{getattr(fn, 'name', 'this function')} has no minimizer: "
                         "steps to a tolerance need one (there is no error to measure)")
    if kind == "gap" and fn.fmin is None:
        raise ValueError(f"{getattr(fn, 'name', 'this function')} has no minimum value: "
                         "use tol_kind='distance'")
    return float(tol), kind


def _check_factors(factors: np.ndarray, label: str) -> None:
    """A schedule may only scale the rates by finite, non-negative factors."""
    bad = ~np.isfinite(factors) | (factors < 0)
    if bad.any():
        t = int(np.argmax(bad)) + 1
        raise ValueError(f"schedule {label} gives a factor of {factors[t - 1]:g} at step {t}: "
                         "choose settings whose factor stays finite over the run")

"""Sweeps: how sensitive is each optimizer to one setting?

:func:`sweep` runs one setting over a list of values × starts × seeds and reports, per value,
the median final error with its 25/75 % quantiles, the share of points converged and the share
diverged, and each optimizer's best value (by the objective of :mod:`optviz.explore.measures`).

The setting is a hyperparameter (``"alpha"``, ``"mu"``, ...), ``"lr"`` (each optimizer's own
learning rate, whatever it is called: ``eta`` for SGD, ``alpha`` for Adam), or a run option:
``"noise"`` (σ of the gradient noise, "which optimizers tolerate noise?"), ``"batch"`` (a learning
problem's minibatch size B, "which optimizers tolerate minibatch noise?") or ``"delay"`` (τ
steps of gradient delay, "what does delay compensation buy?"). A hyperparameter sweep is a
single engine run (one value per point); a run option takes one run per value. Every copy of a
start sees the same gradient noise at every value (draws are keyed by seed, start and step),
so values are compared on common random numbers; seeds give independent repeats.

How sure a sweep is (:mod:`optviz.explore.uncertainty`): each value's share converged and median
steps carry bootstrap 90 % intervals over the seeds and starts; the optimizers are ranked at
their best values with ties where the intervals overlap, and the headline says "no clear winner"
when that is the truth; :meth:`Sweep.as_good_as_best` lists the values the intervals cannot tell
from the best.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from functions.problems import check_problem_batch
from optviz.engine.run import MAX_SECONDS, MAX_STEPS, resolve_function, validate_starts
from optviz.explore.measures import (
    OBJECTIVE,
    Stats,
    best_index,
    check_count,
    check_options,
    check_tol,
    choose_optimizers,
    fill_rates,
    function_label,
    lr_name,
    options_json,
    planned_hyperparams,
    resolve_kind,
    stats,
    to_json,
    with_target,
)
from optviz.explore.scale import Batch, Finals, ProgressFn, run_batches
from optviz.explore.uncertainty import (
    LEVEL,
    REPLICATES,
    Estimate,
    clearly_ahead,
    estimate,
    headline,
    resample,
)
from optviz.explore.uncertainty import ranks as tied_ranks
from optviz.optimizers import REGISTRY
from optviz.scene.text import NumberError, quote, read_number

#: Settings that are not hyperparameters: each optimizer's learning rate, and three run options.
SPECIAL = ("lr", "noise", "delay", "batch")
#: The run options a sweep can vary (one run per value).
RUN_SETTINGS = ("noise", "delay", "batch")
#: At most this many values in one sweep.
MAX_VALUES = 1000
SPACINGS = ("log", "linear")


def parse_values(text: str, spacing: str = "log") -> np.ndarray:
    """Values from text: ``LOW:HIGH:N`` (``N`` values from LOW to HIGH, log-spaced by default,
    evenly with ``spacing="linear"``) or a comma list (``1e-3,1e-2,1e-1``). Numbers are read
    with :func:`float` only (never ``eval``)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"values must be LOW:HIGH:N or a comma list such as 1e-3,1e-2; got {quote(text)}")
    if spacing not in SPACINGS:
        raise ValueError(f"spacing must be one of {', '.join(SPACINGS)}, got {quote(spacing)}")
    t = text.strip()

    def number(tok: str) -> float:
        try:
            return read_number(tok.strip())
        except NumberError as exc:
            raise ValueError(f"values {quote(t)}: {exc}") from None

    if ":" in t:
        parts = t.split(":")
        if len(parts) != 3:
            raise ValueError(f"values as a range are LOW:HIGH:N (e.g. 1e-4:1:25), got {quote(t)}")
        lo, hi = number(parts[0]), number(parts[1])
        try:
            n = int(parts[2].strip())
        except ValueError:
            raise ValueError(f"values {quote(t)}: N must be a whole number, got {quote(parts[2])}") from None
        if not 1 <= n <= MAX_VALUES:
            raise ValueError(f"values {quote(t)}: N must be in [1, {MAX_VALUES}], got {n}")
        if n > 1 and lo == hi:
            raise ValueError(f"values {quote(t)}: LOW and HIGH are equal; use one value or two ends")
        if spacing == "log":
            if lo <= 0 or hi <= 0:
                raise ValueError(f"values {quote(t)}: log-spaced values need LOW and HIGH > 0 "
                                 "(use linear spacing, or a comma list)")
            return np.geomspace(lo, hi, n) if n > 1 else np.array([lo])
        return np.linspace(lo, hi, n) if n > 1 else np.array([lo])
    vals = [number(tok) for tok in t.split(",") if tok.strip()]
    if not vals:
        raise ValueError(f"values must be LOW:HIGH:N or a comma list such as 1e-3,1e-2; got {quote(t)}")
    return _checked_values(vals)


def _checked_values(values: Any) -> np.ndarray:
    try:
        v = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"values must be numbers, got {quote(values)}") from None
    if v.size == 0 or v.size > MAX_VALUES:
        raise ValueError(f"give between 1 and {MAX_VALUES} values, got {v.size}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"values must be finite numbers, got {quote(values)}")
    if np.unique(v).size != v.size:
        raise ValueError(f"values must be distinct, got {quote(v.tolist())}")
    return v


#: How a sweep's intervals are made (for the JSON).
SWEEP_METHOD = ("bootstrap percentile intervals: the seeds resampled with replacement, then the starts "
                "of each drawn seed; every value and optimizer on the same resamples")


@dataclass
class Sweep:
    """The outcome of :func:`sweep`.

    Attributes:
        function, names: the test function and the optimizers.
        param: the setting swept (as given: a hyperparameter, ``"lr"``, ``"noise"``, ``"delay"``,
            ``"batch"``).
        params: per optimizer, the hyperparameter actually swept (``"alpha"`` for Adam under
            ``"lr"``; the run option's name for noise and delay).
        values: the values, in order.
        stats: per optimizer, a :class:`~optviz.explore.measures.Stats` per value.
        best: per optimizer, the index of its best value.
        error, steps_to_tol, converged, diverged: per optimizer, ``(n_values, n_points)`` arrays
            of every point (seed-major: seed ``s`` holds points ``s*n_starts`` to ``(s+1)*n_starts``).
        steps, tol, kind, seeds, starts: how it was made (``starts`` ``(n_seeds, n_starts, dim)``).
        hyperparams: per optimizer, the fixed hyperparameters (all but the swept one).
        options: the run options (noise, delay, schedule, hooks, ...), fixed over the sweep.
    """

    function: Any
    names: tuple[str, ...]
    param: str
    params: dict[str, str]
    values: np.ndarray
    stats: dict[str, list[Stats]]
    best: dict[str, int]
    error: dict[str, np.ndarray]
    steps_to_tol: dict[str, np.ndarray]
    converged: dict[str, np.ndarray]
    diverged: dict[str, np.ndarray]
    steps: int
    tol: float
    kind: str
    seeds: np.ndarray
    starts: np.ndarray
    hyperparams: dict[str, dict[str, Any]]
    options: dict[str, Any] = field(default_factory=dict)
    spacing: str = "list"
    elapsed: float = 0.0
    path: str = "reference"

    def column(self, name: str, what: str) -> np.ndarray:
        """One statistic over the values: ``"median"``, ``"q25"``, ``"q75"``,
        ``"share_converged"``, ``"share_diverged"`` or ``"median_steps"`` (NaN for None)."""
        return np.array([np.nan if getattr(s, what) is None else getattr(s, what) for s in self.stats[name]],
                        dtype=float)

    def best_value(self, name: str) -> float:
        return float(self.values[self.best[name]])

    @cached_property
    def estimates(self) -> dict[str, list[Estimate]]:
        """Per optimizer and value, the share converged and median steps with bootstrap 90 %
        intervals over the seeds and starts (:mod:`optviz.explore.uncertainty`; every value and
        optimizer on the same resamples, seeded by the first seed); for a network (kind
        ``"loss"``) also the median final training loss with its interval, which ranks and picks
        the values as good as the best where nothing converges."""
        n_s, n = self.starts.shape[:2]
        idx = resample([[np.arange(s * n, (s + 1) * n) for s in range(n_s)]], int(self.seeds[0]))
        errors = self.kind == "loss"  # a network: nothing may converge, its final losses still rank
        return {name: [estimate(self.converged[name][i], self.steps_to_tol[name][i], idx,
                                error=self.error[name][i] if errors else None)
                       for i in range(self.values.size)] for name in self.names}

    def at_best(self) -> dict[str, Estimate]:
        """Each optimizer's estimate at its best value."""
        return {name: self.estimates[name][self.best[name]] for name in self.names}

    def ranks(self) -> dict[str, int]:
        """The optimizers ranked at their best values, shared where the intervals overlap."""
        return tied_ranks(self.at_best())

    def order(self) -> list[str]:
        """The optimizers by the objective at their best values (best first)."""
        return sorted(self.names, key=lambda n: (self.stats[n][self.best[n]].key(), self.names.index(n)))

    def ranked(self) -> list[str]:
        """The optimizers by their shared rank, then by :meth:`order`."""
        rank, order = self.ranks(), self.order()
        return sorted(self.names, key=lambda n: (rank[n], order.index(n)))

    def headline(self) -> str:
        """Who converges most at its best value, or "No clear winner: ..." (see :func:`headline`)."""
        return headline(self.at_best(), self.order(), what="converges from", noun="converged")

    def as_good_as_best(self, name: str) -> np.ndarray:
        """The indices of the values no worse than the best one within the intervals (the best
        value is not clearly ahead of them)."""
        e = self.estimates[name]
        b = e[self.best[name]]
        return np.array([i for i in range(self.values.size) if not clearly_ahead(b, e[i])], dtype=np.int64)

    def to_json(self) -> dict[str, Any]:
        """Per optimizer and value: median final error, its 25 % and 75 % quantiles, the share
        converged and diverged, the median steps to tolerance; and the best value."""
        opts = {}
        rank = self.ranks()
        for name in self.names:
            st = self.stats[name]
            b = self.best[name]
            est = self.estimates[name]
            opts[name] = {
                "param": self.params[name],
                "hyperparams": self.hyperparams[name],
                "median_final_error": [s.median for s in st],
                "q25_final_error": [s.q25 for s in st],
                "q75_final_error": [s.q75 for s in st],
                "share_converged": [s.share_converged for s in st],
                "share_diverged": [s.share_diverged for s in st],
                "median_steps_to_tol": [s.median_steps for s in st],
                "share_converged_interval": [[e.success_low, e.success_high] for e in est],
                "median_steps_interval": [None if e.steps_low is None else [e.steps_low, e.steps_high]
                                          for e in est],
                **({"median_final_error_interval": [[e.error_low, e.error_high] for e in est]}
                   if self.kind == "loss" else {}),
                "best": {"index": b, "value": float(self.values[b]), **st[b].as_dict(),
                         "share_converged_interval": [est[b].success_low, est[b].success_high],
                         "as_good": self.values[self.as_good_as_best(name)]},
                "rank": rank[name],
            }
        n_s, n = self.starts.shape[:2]
        doc = {
            **function_label(self.function), "param": self.param, "values": self.values,
            "spacing": self.spacing, "steps": self.steps, "tol": self.tol, "kind": self.kind,
            "seeds": self.seeds, "n_starts": int(n), "n_points_per_value": int(n_s * n),
            "options": options_json(self.options), "elapsed_s": self.elapsed, "path": self.path,
            "objective": OBJECTIVE,
            "headline": self.headline(),
            "uncertainty": {"level": LEVEL, "replicates": REPLICATES, "seed": int(self.seeds[0]),
                            "method": SWEEP_METHOD},
            "optimizers": opts,
        }
        return to_json(doc)


def _seeds(seeds: Any, seed: int) -> np.ndarray:
    if np.ndim(seeds) == 0:
        k = check_count(seeds, "seeds", 1, 10_000)
        base = check_count(seed, "seed", 0)
        return np.arange(base, base + k, dtype=np.uint64)
    arr = np.asarray(seeds)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer) or (arr < 0).any():
        raise ValueError(f"seeds must be a count or a list of whole numbers >= 0, got {quote(seeds)}")
    if np.unique(arr).size != arr.size:
        raise ValueError(f"seeds must be distinct, got {quote(arr.tolist())}")
    return arr.astype(np.uint64)


def starts_per_seed(fn: Any, starts: Any, n_seeds: int, seed: int = 0) -> np.ndarray:
    """Starts as ``(n_seeds, n, dim)``: one set shared by every seed (``(n, dim)``), or one set
    per seed (``(n_seeds, n, dim)``); default: the dashboard's default starts of ``fn`` (a grid in
    1-D and 2-D; in more dimensions, as a learning problem, 16 random starts in the box drawn from
    ``seed``)."""
    from optviz.scene import starts as _starts
    from optviz.scene.lessons import DEFAULT_GRID, default_starts

    if starts is None:
        starts = default_starts(fn) if fn.dim <= 2 else _starts.random(fn.box, DEFAULT_GRID ** 2, seed=seed)
    arr = np.asarray(starts, dtype=float) if not isinstance(starts, str) else starts
    if isinstance(arr, np.ndarray) and arr.ndim == 3:
        if arr.shape[0] != n_seeds:
            raise ValueError(f"starts per seed must have shape ({n_seeds}, n, {fn.dim}); got {arr.shape}")
        return np.stack([validate_starts(a, fn.dim, getattr(fn, "name", "the function")) for a in arr])
    s = validate_starts(starts, fn.dim, getattr(fn, "name", "the function"))
    return np.broadcast_to(s, (n_seeds, *s.shape)).copy()


def sweep(
    function: Any,
    optimizers: Any,
    param: str,
    values: Any,
    *,
    starts: Any = None,
    steps: int = 300,
    seeds: Any = 1,
    seed: int = 0,
    tol: float = 1e-3,
    kind: str = "auto",
    spacing: str = "log",
    rates: str = "tuned",
    client: Any = None,
    scheduler: str | None = None,
    progress: ProgressFn | None = None,
    fused: bool | None = None,
    max_seconds: float | None = MAX_SECONDS,
    **options: Any,
) -> Sweep:
    """Sweep one setting of each optimizer over ``values`` × starts × seeds.

    Args:
        function: a registry name or a test-function object.
        optimizers: names, a group, ``"all"``, or a mapping name -> fixed hyperparameters.
        param: a hyperparameter every chosen optimizer has (``"alpha"``), ``"lr"`` (each one's
            learning rate), ``"noise"`` (gradient-noise σ), ``"delay"`` (gradient delay τ) or
            ``"batch"`` (a learning problem's minibatch size B; B = N is the full batch).
        values: the values (array-like), or text: ``LOW:HIGH:N`` (``spacing``) or a comma list.
        starts: ``(n, dim)`` shared by every seed, or ``(n_seeds, n, dim)`` one set per seed
            (default: the dashboard's default grid of the function).
        steps: steps per start.
        seeds: how many seeds (``seed``, ``seed + 1``, ...) or a list of them; every start runs
            once per seed (gradient noise and Santa's draws differ between seeds).
        tol, kind: convergence (see :func:`optviz.explore.basins`).
        spacing: ``"log"`` or ``"linear"``, for ``LOW:HIGH:N`` text.
        rates: the values of hyperparameters neither given nor swept (as for :func:`optviz.run`):
            ``"tuned"``, the function's tuned learning rates, or ``"article"`` (alias
            ``"registry"``), the registry's.
        client, scheduler, progress, fused, max_seconds: as for :func:`optviz.explore.basins`.
        options: further :func:`optviz.run` keywords (``noise``, ``delay``, ``schedule``, ...),
            fixed over the sweep.
    """
    fn = resolve_function(function)
    check_options(options, "sweep")
    if not isinstance(param, str) or not param.strip():
        raise ValueError(f"param must be a hyperparameter name, 'lr', 'noise', 'delay' or 'batch'; "
                         f"got {quote(param)}")
    param = param.strip()
    if param in options:
        raise ValueError(f"{param} is swept: do not also give it as a fixed option")
    vals = parse_values(values, spacing) if isinstance(values, str) else _checked_values(values)
    shown_spacing = spacing if isinstance(values, str) and ":" in values else "list"
    tol = check_tol(tol)
    kind = resolve_kind(fn, kind)
    seed_list = _seeds(seeds, seed)
    per_seed = starts_per_seed(fn, starts, seed_list.size, int(seed_list[0]))
    n_s, n = per_seed.shape[:2]
    steps = check_count(steps, "steps", 1, MAX_STEPS)
    given = choose_optimizers(optimizers)
    names = tuple(given)

    if param in RUN_SETTINGS:
        params = dict.fromkeys(names, param)
        if param == "batch":
            vals = _batch_sizes(fn, vals)
        elif param == "delay":
            if not np.all(vals == np.round(vals)) or (vals < 0).any():
                raise ValueError("delay values must be whole numbers of steps >= 0, "
                                 f"got {quote(vals.tolist())}")
        elif (vals < 0).any():
            raise ValueError("noise values must be >= 0 (σ of the gradient noise), "
                             f"got {quote(vals.tolist())}")
        chosen = fill_rates(fn, given, rates)
    else:
        params = {name: _hyperparam(name, param) for name in names}
        for name, hp in given.items():
            if params[name] in hp:
                raise ValueError(f"{name}.{params[name]} is swept: do not also set it")
        chosen = fill_rates(fn, given, rates, skip=[params[name] for name in names])
    # a network without a known minimum: its error is its training loss (a gap to 0, every loss here ≥ 0)
    run_fn, gauge = (with_target(fn, 0.0), "gap") if kind == "loss" else (fn, kind)
    pts = per_seed.reshape(n_s * n, fn.dim)
    point_seeds = np.repeat(seed_list, n)  # seed-major: seed s holds points s*n .. (s+1)*n
    if param in RUN_SETTINGS:  # a run option: one run per value
        batches = [Batch(run_fn, chosen, pts, steps, seed=point_seeds, tol=tol, kind=gauge,
                         options={**options, param: float(v) if param == "noise" else int(v)}) for v in vals]
    else:  # a hyperparameter: one run, one value per point (value-major)
        hp = {name: {**chosen[name], params[name]: np.repeat(vals, n_s * n)} for name in names}
        batches = [Batch(run_fn, hp, np.tile(pts, (vals.size, 1)), steps,
                         seed=np.tile(point_seeds, vals.size), tol=tol, kind=gauge, options=dict(options))]
    parts = run_batches(batches, client=client, scheduler=scheduler, fused=fused, progress=progress,
                        max_seconds=max_seconds)
    fin = Finals.concat(parts)
    if len(parts) > 1:
        fin.elapsed = max(p.elapsed for p in parts) if client or scheduler else sum(p.elapsed for p in parts)

    size = n_s * n
    out_stats, best, err, stt, conv, div = {}, {}, {}, {}, {}, {}
    for name in names:
        e = fin.error[name].reshape(vals.size, size)
        t = fin.steps_to_tol[name].reshape(vals.size, size)
        c = fin.converged(name).reshape(vals.size, size)
        d = fin.diverged(name).reshape(vals.size, size)
        out_stats[name] = [stats(e[i], t[i], c[i], d[i]) for i in range(vals.size)]
        best[name] = best_index(out_stats[name])
        err[name], stt[name], conv[name], div[name] = e, t, c, d
    swept_hp = param not in SPECIAL[1:]
    hyper = planned_hyperparams({name: {**chosen[name], params[name]: float(vals[0])} if swept_hp
                                 else chosen[name] for name in names}, 1)
    for name in names:  # the fixed hyperparameters only
        hyper[name].pop(params[name], None)
    return Sweep(fn, names, param, params, vals, out_stats, best, err, stt, conv, div, steps, tol, kind,
                 seed_list, per_seed, hyper, dict(options), shown_spacing, fin.elapsed, fin.path)


def _batch_sizes(fn: Any, vals: np.ndarray) -> np.ndarray:
    """Minibatch sizes: whole numbers from 1 to the problem's N (log-spaced text such as ``8:256:6``
    gives 8, 16, ..., 256 up to rounding, which is undone); a function without data refuses."""
    near = np.round(vals)
    vals = np.where(np.abs(vals - near) <= 1e-9 * np.maximum(near, 1), near, vals)
    n = getattr(fn, "n_samples", None)
    if n is None:
        check_problem_batch(fn, 1)  # (raises: no training data)
    if not np.all(vals == np.round(vals)) or (vals < 1).any() or (vals > n).any():
        raise ValueError(f"batch values must be whole numbers from 1 to {n} (the training samples), "
                         f"got {quote(vals.tolist())}")
    return vals


def _hyperparam(optimizer: str, param: str) -> str:
    if param == "lr":
        return lr_name(optimizer)
    spec = REGISTRY[optimizer]
    valid = [h.name for h in spec.hyperparams]
    if param not in valid:
        raise ValueError(f"{optimizer} has no hyperparameter {quote(param)}; valid: {', '.join(valid)}; or "
                         "'lr' (each optimizer's learning rate), 'noise', 'delay' or 'batch'")
    return param

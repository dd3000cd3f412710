"""Basin maps: from which starts does each optimizer converge, how fast, and to which minimum?

:func:`basins` starts every chosen optimizer from every cell of a grid over the function's box
(the cells' centres) and keeps, per optimizer and cell, the final error, the steps to reach
the tolerance and which listed global minimizer was reached; per optimizer, the share of the
box that converges. It is one batch of starts (:mod:`optviz.explore.scale`): final state only,
the tolerance checked at every step, in this process (compiled kernels, threads, or the GPU)
or on Dask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optviz.engine.backends import cores
from optviz.engine.run import MAX_SECONDS, MAX_STEPS, RATE_FAST_PER_CORE, resolve_function
from optviz.explore.measures import (
    check_count,
    check_options,
    check_tol,
    choose_optimizers,
    fill_rates,
    function_label,
    options_json,
    planned_hyperparams,
    resolve_kind,
    to_json,
)
from optviz.explore.scale import Batch, Finals, ProgressFn, check_time, run_batch
from optviz.scene.text import quote

#: The largest grid (cells per axis).
MAX_GRID = 4000
#: What a map can show.
LAYERS = ("minimum", "error", "steps")


@dataclass
class BasinMap:
    """The outcome of :func:`basins`.

    Arrays are indexed like an image: ``[iy, ix]`` in 2-D (row ``iy`` is ``y[iy]``), ``[ix]`` in
    1-D.

    Attributes:
        function: the test function.
        names: the optimizers, in order.
        hyperparams: per optimizer, the hyperparameters given to the engine.
        x, y: the cells' centres along each axis (``y`` is None in 1-D).
        steps, tol, kind, seed: how the map was made (``kind``: ``"distance"`` or ``"gap"``).
        minimizers: the function's listed global minimizers, ``(k, dim)``.
        final_error: per optimizer, the final error (+∞ where the point diverged).
        steps_to_tol: per optimizer, the step from which the point stays within ``tol`` to the
            end (-1: not within it at the end).
        minimum: per optimizer, the index into ``minimizers`` of the minimum reached (-1: none,
            i.e. the point did not converge).
        diverged: per optimizer, whether the point diverged.
        share_converged: per optimizer, the share of cells that converge.
        elapsed, path: seconds of stepping, and the engine's path.
        options: the other run options (noise, delay, schedule, hooks, ...).
        first_entry: per optimizer, the first step within ``tol`` (-1: never).
    """

    function: Any
    names: tuple[str, ...]
    hyperparams: dict[str, dict[str, Any]]
    x: np.ndarray
    y: np.ndarray | None
    steps: int
    tol: float
    kind: str
    seed: int
    minimizers: np.ndarray
    final_error: dict[str, np.ndarray]
    steps_to_tol: dict[str, np.ndarray]
    minimum: dict[str, np.ndarray]
    diverged: dict[str, np.ndarray]
    share_converged: dict[str, float]
    elapsed: float = 0.0
    path: str = "reference"
    options: dict[str, Any] = field(default_factory=dict)
    first_entry: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.x.size,) if self.y is None else (self.y.size, self.x.size)

    @property
    def starts(self) -> np.ndarray:
        """The cells' centres as starts, ``(cells, dim)``, in the arrays' (row-major) order."""
        return grid_starts(self.x, self.y)

    def converged(self, name: str) -> np.ndarray:
        return self.minimum[name] >= 0

    def difference(self, a: str, b: str) -> np.ndarray:
        """Per cell: 0 neither converges, 1 only ``a``, 2 only ``b``, 3 both."""
        return self.converged(a).astype(np.int64) + 2 * self.converged(b).astype(np.int64)

    def agreement(self, a: str, b: str) -> np.ndarray:
        """Per cell, how ``a`` and ``b`` compare: 0 neither converges, 1 only ``a``, 2 only ``b``,
        3 both to the same minimum, 4 both to different minima (:data:`optviz.explore.look.AGREEMENT`)."""
        ca, cb = self.converged(a), self.converged(b)
        same = self.minimum[a] == self.minimum[b]
        return np.select([ca & cb & same, ca & cb, ca, cb], [3, 4, 1, 2], 0).astype(np.int64)

    def only(self, a: str, b: str) -> float:
        """The share of the box from which ``a`` converges and ``b`` does not."""
        return float(np.mean(self.converged(a) & ~self.converged(b)))

    def share_by_minimum(self, name: str) -> list[float]:
        """The share of cells that reach each listed minimizer."""
        m = self.minimum[name]
        return [float(np.mean(m == k)) for k in range(len(self.minimizers))]

    def to_json(self) -> dict[str, Any]:
        """The map as JSON: the grid axes and, per optimizer, ``final_error``, ``steps_to_tol``
        (the step from which the point stays within tol), ``first_entry``, ``minimum`` (grid arrays,
        null for none: diverged, never within tol, no minimum reached) and ``share_converged``."""
        def steps_or_null(a: np.ndarray) -> np.ndarray:
            out = a.astype(object)
            out[a < 0] = None
            return out

        opts = {}
        for name in self.names:
            steps = steps_or_null(self.steps_to_tol[name])
            minimum = self.minimum[name].astype(object)
            minimum[self.minimum[name] < 0] = None
            opts[name] = {
                "hyperparams": self.hyperparams[name],
                "final_error": self.final_error[name],
                "steps_to_tol": steps,
                **({"first_entry": steps_or_null(self.first_entry[name])}
                   if name in self.first_entry else {}),
                "minimum": minimum,
                "share_converged": self.share_converged[name],
                "share_diverged": float(np.mean(self.diverged[name])),
                "share_by_minimum": self.share_by_minimum(name),
            }
        doc = {
            **function_label(self.function),
            "grid": list(self.shape[::-1]), "x": self.x, "y": self.y,
            "layout": "[iy][ix]" if self.y is not None else "[ix]",
            "steps": self.steps, "tol": self.tol, "kind": self.kind, "seed": self.seed,
            "options": options_json(self.options), "elapsed_s": self.elapsed, "path": self.path,
            "optimizers": opts,
        }
        return to_json(doc)


def axes(box: Any, grid: int | tuple[int, ...]) -> list[np.ndarray]:
    """The cells' centres along each axis of ``box`` for ``grid`` cells per axis (one number, or
    one per axis)."""
    b = np.asarray(box, dtype=float)
    counts = (grid,) * len(b) if np.ndim(grid) == 0 else tuple(grid)
    if len(counts) != len(b):
        raise ValueError(f"grid must be one count or {len(b)} (one per axis), got {quote(grid)}")
    out = []
    for (lo, hi), n in zip(b, counts, strict=True):
        n = check_count(n, "grid", 1, MAX_GRID)
        out.append(lo + (np.arange(n) + 0.5) * (hi - lo) / n)
    return out


def _region(fn: Any, box: Any) -> np.ndarray:
    """The box to map: the function's, or ``box`` checked as ``(dim, 2)`` finite rows low < high."""
    if box is None:
        return np.asarray(fn.box, dtype=float)
    try:
        region = np.asarray(box, dtype=float).reshape(-1, 2) if not isinstance(box, str) else None
    except (TypeError, ValueError):
        region = None
    if region is None or region.shape != (fn.dim, 2) or not (
            np.all(np.isfinite(region)) and np.all(region[:, 0] < region[:, 1])):
        raise ValueError(f"box must be {fn.dim} finite [low, high] rows with low < high, got {quote(box)}")
    with np.errstate(over="ignore"):
        if not np.all(np.isfinite(region[:, 1] - region[:, 0])):
            raise ValueError(f"box: each row's width (high - low) must be a finite number, got {quote(box)}")
    return region


def grid_starts(x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
    """Starts at every cell, row-major: ``(x[ix], y[iy])`` at row ``iy * len(x) + ix``."""
    if y is None:
        return np.asarray(x, dtype=float)[:, None]
    X, Y = np.meshgrid(x, y)
    return np.stack([X.ravel(), Y.ravel()], axis=1)


def basins(
    function: Any,
    optimizers: Any = ("Adam", "SGD"),
    *,
    grid: int | tuple[int, int] = 100,
    steps: int = 300,
    tol: float = 1e-3,
    kind: str = "auto",
    seed: int = 0,
    box: Any = None,
    rates: str = "tuned",
    client: Any = None,
    scheduler: str | None = None,
    progress: ProgressFn | None = None,
    fused: bool | None = None,
    max_seconds: float | None = MAX_SECONDS,
    **options: Any,
) -> BasinMap:
    """A basin map of each optimizer over the function's box.

    Args:
        function: a registry name or a test-function object (1-D or 2-D).
        optimizers: names, a group, ``"all"``, or a mapping name -> hyperparameters.
        grid: cells per axis (one number, or ``(nx, ny)``); the starts are the cells' centres.
        steps: steps per start.
        tol: a cell converges when its error reaches this and stays within it to the end.
        kind: ``"distance"`` to the nearest listed global minimizer, ``"gap"`` f − f*, or
            ``"auto"`` (distance when minimizers are listed).
        seed: seeds the random draws (gradient noise, Santa's noise).
        box: the region to map (default: the function's box), ``(dim, 2)``.
        rates: the values of hyperparameters not given (:mod:`optviz.optimizers.rates`, as for
            :func:`optviz.run`): ``"tuned"`` (default), the function's tuned learning rates, or
            ``"article"`` (alias ``"registry"``), the registry's.
        client, scheduler: run on Dask (see :func:`optviz.explore.scale.run_batch`).
        progress: ``progress(done, total)`` in point-steps; an exception it raises cancels.
        fused: the engine's path (None: chosen for the whole grid).
        max_seconds: refuse up front a map estimated to take longer here (None: no limit).
        options: further :func:`optviz.run` keywords: ``noise``, ``noise_mode``, ``delay``,
            ``schedule``, ``hooks``, ``backend``, ``dtype``, ``bound``.
    """
    fn = resolve_function(function)
    if fn.dim not in (1, 2):
        raise ValueError(f"basin maps are drawn over a 1-D or 2-D box; {getattr(fn, 'name', 'this function')}"
                         f" has {fn.dim} coordinates (build it with dim=2)")
    check_options(options, "basins")
    tol = check_tol(tol)
    kind = resolve_kind(fn, kind)
    ax = axes(_region(fn, box), grid)
    x, y = ax[0], (ax[1] if fn.dim == 2 else None)
    chosen = fill_rates(fn, choose_optimizers(optimizers), rates)
    # before the grid's starts are made (16 million cells take seconds and a gigabyte): the job
    # at the compiled kernels' rate on every core, a lower bound of run_batch's own estimate
    cells, steps = int(np.prod([a.size for a in ax])), check_count(steps, "steps", 1, MAX_STEPS)
    work = cells * len(chosen) * steps
    check_time(work, len(chosen), cells, steps, work / (RATE_FAST_PER_CORE * cores()), max_seconds)
    batch = Batch(fn, chosen, grid_starts(x, y), steps, seed=seed, tol=tol, kind=kind, options=options)
    fin = run_batch(batch, client=client, scheduler=scheduler, fused=fused, progress=progress,
                    max_seconds=max_seconds)
    return _assemble(fn, chosen, fin, x, y, batch, seed, options)


def _assemble(fn: Any, chosen: dict[str, dict[str, Any]], fin: Finals, x: np.ndarray, y: np.ndarray | None,
              batch: Batch, seed: int, options: dict[str, Any]) -> BasinMap:
    shape = (x.size,) if y is None else (y.size, x.size)
    final_error, steps_to_tol, minimum, diverged, share, entry = {}, {}, {}, {}, {}, {}
    for name in fin.names:
        conv = fin.converged(name)
        final_error[name] = fin.error[name].reshape(shape)
        steps_to_tol[name] = fin.steps_to_tol[name].reshape(shape)
        if name in fin.first_entry:
            entry[name] = fin.first_entry[name].reshape(shape)
        minimum[name] = np.where(conv, fin.nearest[name], -1).reshape(shape)
        diverged[name] = fin.diverged(name).reshape(shape)
        share[name] = float(conv.mean())
    hyper = planned_hyperparams(chosen, batch.n)
    return BasinMap(fn, fin.names, hyper, x, y, batch.steps, float(batch.tol), batch.kind, seed,
                    np.asarray(fn.minimizers, dtype=float).reshape(-1, fn.dim), final_error, steps_to_tol,
                    minimum, diverged, share, fin.elapsed, fin.path, dict(options), entry)

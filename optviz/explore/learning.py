"""Learning curves of a race on a learning problem: training and test loss and accuracy over steps.

For a run of :func:`optviz.run` on a :mod:`functions.problems` problem, :func:`learning_curves`
evaluates, at up to :data:`ROWS` of the recorded steps, every path's training loss (the run's),
test loss and, for a classifier, training and test accuracy; the median and the interquartile band
over the starts (and seeds) are what the dashboard draws. It also says which optimizer first
reaches a test accuracy (95 % by default): per start the first drawn step at or above it, and per
optimizer the share of starts that reach it and their median step, each with a 90 % bootstrap
interval over seeds and starts, ranked with ties (:mod:`optviz.explore.uncertainty`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from optviz.explore import uncertainty

#: Recorded steps evaluated at most (evenly spread; the first and the last always).
ROWS = 61
TARGET = 0.95
METRICS = ("train_loss", "test_loss", "train_accuracy", "test_accuracy")


@dataclass(frozen=True)
class LearningCurves:
    """Per optimizer name: ``metrics[name][metric]`` ``(rows, n)`` at ``steps`` ``(rows,)``;
    ``reached[name]`` ``(n,)``: the first step whose test accuracy is at least ``target`` (-1:
    never), with ``estimates``, ``ranks`` and ``headline`` (classifiers; empty otherwise)."""

    steps: np.ndarray
    metrics: dict[str, dict[str, np.ndarray]]
    target: float
    reached: dict[str, np.ndarray]
    estimates: dict[str, uncertainty.Estimate]
    ranks: dict[str, int]
    headline: str

    def band(self, name: str, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(25th percentile, median, 75th percentile) over the starts, per step."""
        q = np.nanpercentile(self.metrics[name][metric], [25, 50, 75], axis=1)
        return q[0], q[1], q[2]


def rows_of(n_recorded: int, most: int = ROWS) -> np.ndarray:
    """Indices of at most ``most`` recorded rows, evenly spread, first and last included."""
    return np.unique(np.round(np.linspace(0, n_recorded - 1, min(most, n_recorded))).astype(int))


def learning_curves(result: Any, target: float = TARGET, rows: int = ROWS, seed: int = 0) -> LearningCurves:
    """The curves of ``result`` (a run on a learning problem); ValueError for any other function."""
    fn = result.function
    if not hasattr(fn, "test_loss"):
        raise ValueError(f"{getattr(fn, 'name', 'this function')} is not a learning problem: it has no "
                         "training and test data")
    if not 0 < target <= 1:
        raise ValueError(f"target accuracy must be in (0, 1], got {target!r}")
    idx = rows_of(len(result.recorded_steps), rows)
    steps = np.asarray(result.recorded_steps)[idx]
    metrics: dict[str, dict[str, np.ndarray]] = {}
    reached: dict[str, np.ndarray] = {}
    for name in result.names:
        W = np.asarray(result.trajectories[name], dtype=float)[idx]
        shape = W.shape[:2]
        flat = W.reshape(-1, W.shape[-1])
        m = {"train_loss": np.asarray(result.losses[name], dtype=float)[idx],
             "test_loss": np.asarray(fn.test_loss(flat), dtype=float).reshape(shape)}
        if fn.classifier:
            m["train_accuracy"] = np.asarray(fn.accuracy(flat, "train"), dtype=float).reshape(shape)
            m["test_accuracy"] = np.asarray(fn.accuracy(flat, "test"), dtype=float).reshape(shape)
            hit = m["test_accuracy"] >= target
            first = np.argmax(hit, axis=0)
            reached[name] = np.where(hit.any(axis=0), steps[first], -1)
        metrics[name] = m
    estimates: dict[str, uncertainty.Estimate] = {}
    ranks: dict[str, int] = {}
    headline = ""
    if reached:
        n = len(next(iter(reached.values())))
        seeds = np.broadcast_to(np.asarray(result.seed), (n,))
        draws = uncertainty.resample([uncertainty.seed_groups(seeds)], seed)
        estimates = {k: uncertainty.estimate(r >= 0, r, draws) for k, r in reached.items()}
        ranks = uncertainty.ranks(estimates)
        order = sorted(estimates, key=lambda k: (-estimates[k].success, estimates[k].steps or np.inf))
        headline = (f"Reaching {100 * target:.0f} % test accuracy (share of the starts): "
                    + uncertainty.headline(estimates, order, what="reaches it from", noun="reached"))
    return LearningCurves(steps, metrics, float(target), reached, estimates, ranks, headline)

"""A validated run, ready to step: what both paths (readable and compiled) take as input.

:func:`optviz.run` validates what the user gave once and builds a :class:`Job`; the readable
step loop (:mod:`optviz.engine.reference`) and the compiled kernels (:mod:`optviz.engine.fast`) both step a
job, or a slice of its points, and return an :class:`Outcome` of NumPy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np

from optviz.engine import noise as _noise
from optviz.engine.validate import Planned

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
        starts: ``(n, dim)`` float64.
        steps: number of steps.
        rec: the recorded step numbers (0, k, 2k, …, steps).
        dtype: ``"float64"`` or ``"float32"``.
        factors: the schedule's multiplier at steps 1..steps.
        hooks: the gradient hooks, in order.
        bound: the divergence bound on every coordinate.
        seeds: the seed, or one per point (``(n,)`` uint64).
        keys: the starts' noise counter words (:func:`optviz.engine.noise.start_keys`).
        noise, noise_mode: gradient noise σ and ``"absolute"`` or ``"relative"``.
        delay: gradient delay τ (steps).
        tol, tol_kind: track the first step whose error (``"distance"`` or ``"gap"``) is ≤ tol.
        record_state: record every rule's state (and the gradient and update) at recorded steps.
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
    keys: tuple[np.ndarray, np.ndarray]
    noise: float = 0.0
    noise_mode: str = "absolute"
    delay: int = 0
    tol: float | None = None
    tol_kind: str = "distance"
    record_state: bool = False

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

    def take(self, idx: np.ndarray | slice) -> Job:
        """The same job on a subset of the points (per-point values sliced to it)."""
        plan = tuple(Planned(p.spec, {k: v[idx] if isinstance(v, np.ndarray) else v
                                      for k, v in p.hyperparams.items()}) for p in self.plan)
        seeds = self.seeds[idx] if isinstance(self.seeds, np.ndarray) else self.seeds
        return replace(self, plan=plan, starts=self.starts[idx], seeds=seeds,
                       keys=(self.keys[0][idx], self.keys[1][idx]))

    def seed_words(self, stream: int) -> tuple[Any, Any]:
        return _noise.seed_words(self.seeds, stream)


class Outcome(NamedTuple):
    """What stepping a job gives: NumPy arrays, optimizers on axis 1 (0 for the last three).

    ``traj`` ``(n_rec, K, n, dim)``, ``loss`` ``(n_rec, K, n)``, ``div`` ``(K, n)`` (step or
    -1), ``steps_to_tol`` ``(K, n)`` (step or -1; None unless tracked), ``states`` per
    optimizer index a dict of field -> ``(n_rec, n, dim)`` or ``(n_rec, n)`` (None unless asked).
    """

    traj: np.ndarray
    loss: np.ndarray
    div: np.ndarray
    steps_to_tol: np.ndarray | None
    states: list[dict[str, np.ndarray]] | None


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
    )

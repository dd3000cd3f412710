"""What a run returns: trajectories and losses as NumPy arrays, and the measures drawn from them.

A :class:`Result` holds nothing of the backend: plots, the dashboard and the CLI read it
without knowing whether the run used NumPy or a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

#: Error measures: distance to the nearest global minimizer, f − f*, or the loss itself.
ERROR_KINDS = ("distance", "gap", "loss")


@dataclass
class Result:
    """The outcome of :func:`optviz.run`.

    Attributes:
        function: the test function that was minimized.
        names: the optimizers, in the order given.
        hyperparams: per optimizer, every hyperparameter's value (a float, or one per point).
        starts: the starting points, shape ``(n_points, dim)``.
        steps: the number of steps run.
        recorded_steps: the step number of each recorded row (0, k, 2k, …, steps).
        trajectories: per optimizer, positions of shape ``(n_recorded, n_points, dim)``; row 0
            is the starts. Diverged points stay frozen at their last finite position.
        losses: per optimizer, ``f`` at those positions, shape ``(n_recorded, n_points)``.
        diverged_step: per optimizer, the step at which each point diverged, or -1.
        seed, backend, dtype: how the run was made.
        schedule: the learning-rate schedule's label (e.g. ``"cosine(floor=0)"``).
        hooks: the gradient hooks' labels, in order.
        lr_factors: the schedule's multiplier at each step 1..steps.
        elapsed: seconds the step loop took (including the copy back to NumPy).
        noise, noise_mode, delay: the gradient noise σ (and whether it is relative to |g|) and
            the gradient delay of the run.
        tol, tol_kind: the tolerance tracked at every step, and its error (distance or gap).
        steps_to_tol: per optimizer, the step from which each point's error stays ≤ ``tol`` to the
            end of the run (-1: it is not within ``tol`` at the end, or the point diverged); None
            unless the run was asked for ``tol``.
        first_entry: per optimizer, the first step each point's error was ≤ ``tol`` (-1: never,
            or the point diverged); None unless the run was asked for ``tol``.
        states: per optimizer, the rule's state at the recorded steps: field ->
            ``(n_recorded, n_points, dim)`` (``(n_recorded, n_points)`` for per-point fields such
            as Eve's ``d``), plus ``"grad"`` (the gradient the rule was given) and ``"update"``
            (its step), NaN in row 0; None unless the run was asked to ``record_state``.
        path: ``"fast"`` (compiled kernels) or ``"reference"`` (the readable loop).
        rates: the default-rate policy that filled the hyperparameters nobody set: ``"tuned"``
            or ``"article"`` (:mod:`optviz.optimizers.rates`).
    """

    function: Any
    names: tuple[str, ...]
    hyperparams: dict[str, dict[str, Any]]
    starts: np.ndarray
    steps: int
    recorded_steps: np.ndarray
    trajectories: dict[str, np.ndarray]
    losses: dict[str, np.ndarray]
    diverged_step: dict[str, np.ndarray]
    seed: int = 0
    backend: str = "numpy"
    dtype: str = "float64"
    schedule: str = "constant"
    hooks: tuple[str, ...] = ()
    elapsed: float = 0.0
    lr_factors: np.ndarray = field(default_factory=lambda: np.ones(0))
    noise: float = 0.0
    noise_mode: str = "absolute"
    delay: int = 0
    tol: float | None = None
    tol_kind: str = "distance"
    steps_to_tol: dict[str, np.ndarray] | None = None
    first_entry: dict[str, np.ndarray] | None = None
    states: dict[str, dict[str, np.ndarray]] | None = None
    path: str = "reference"
    rates: str = "tuned"

    # ------------------------------------------------------------------ basics
    @property
    def n_points(self) -> int:
        return self.starts.shape[0]

    @property
    def dim(self) -> int:
        return self.starts.shape[1]

    @property
    def diverged(self) -> dict[str, np.ndarray]:
        """Per optimizer, a boolean per point: did it diverge?"""
        return {k: v >= 0 for k, v in self.diverged_step.items()}

    def final(self, name: str) -> np.ndarray:
        """Last recorded positions of ``name``'s points, shape ``(n_points, dim)``."""
        return self.trajectories[name][-1]

    @property
    def has_minimum(self) -> bool:
        return self.function.fmin is not None

    # ------------------------------------------------------------------ errors
    @cached_property
    def distances(self) -> dict[str, np.ndarray] | None:
        """Distance to the nearest global minimizer, ``(n_recorded, n_points)``; None if none."""
        mins = np.asarray(self.function.minimizers, dtype=float)
        if mins.size == 0:
            return None
        out = {}
        with np.errstate(over="ignore", invalid="ignore"):  # huge starts: inf, not a warning
            for name, traj in self.trajectories.items():
                diff = traj[:, :, None, :] - mins[None, None, :, :]
                out[name] = np.sqrt(np.min(np.sum(diff * diff, axis=-1), axis=-1))
        return out

    @cached_property
    def gaps(self) -> dict[str, np.ndarray] | None:
        """``f − f*`` at every recorded position (clipped at 0); None without a minimum."""
        if self.function.fmin is None:
            return None
        fmin = float(self.function.fmin)
        return {k: np.maximum(v - fmin, 0.0) for k, v in self.losses.items()}

    def error_kind(self, kind: str = "auto") -> str:
        """Resolve ``"auto"`` (distance when the function has minimizers, else the loss)."""
        if kind not in (*ERROR_KINDS, "auto"):
            raise ValueError(f"unknown error kind {kind!r}; valid: auto, {', '.join(ERROR_KINDS)}")
        if kind == "auto" or (kind != "loss" and not self.has_minimum):
            return "distance" if self.has_minimum else "loss"
        return kind

    def errors(self, kind: str = "auto") -> dict[str, np.ndarray]:
        """Per optimizer, the chosen error measure, ``(n_recorded, n_points)``.

        Functions without a minimum fall back to the loss whatever ``kind`` asks.
        """
        kind = self.error_kind(kind)
        if kind == "distance":
            return self.distances  # type: ignore[return-value]
        if kind == "gap":
            return self.gaps  # type: ignore[return-value]
        return self.losses

    def errors_until_divergence(self, kind: str = "auto") -> dict[str, np.ndarray]:
        """:meth:`errors` as float arrays with each diverged point's error set to +inf from its
        divergence step on: medians and bands over the starts then count it as infinitely bad."""
        out = {}
        for name, e in self.errors(kind).items():
            d = np.asarray(self.diverged_step[name])
            dead = (d[None, :] >= 0) & (self.recorded_steps[:, None] >= d[None, :])
            out[name] = np.where(dead, np.inf, np.asarray(e, dtype=float))
        return out

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        """In a notebook with ``optviz[notebook]`` installed, a small result shows as the live race
        (:func:`optviz.notebook.result_bundle`); otherwise (None) its plain display."""
        import importlib  # the notebook room sits above this one: reached by name, not imported

        try:
            notebook = importlib.import_module("optviz.notebook")
            return notebook.result_bundle(self, include, exclude)
        except ImportError:  # anywidget not installed
            return None

    # ------------------------------------------------------------------ summary
    def summary(self, kind: str = "auto", tol: float = 1e-3) -> list[dict[str, Any]]:
        """A ranked table: per optimizer, final error, steps to ``tol``, converged share, diverged.

        "converged" is the share of points whose error is at most ``tol`` at the last recorded
        step (and that did not diverge); ``steps_to_tol`` is the median, over those points, of
        the step from which they stay within ``tol`` (:attr:`steps_to_tol` when the run tracked
        this ``tol`` and kind at every step, else the first recorded step of the last stretch
        within it; None when none converged).
        For the loss (no minimum) "converged" has no meaning: rows rank by median final loss
        and ``steps_to_tol`` / ``converged`` are None. Ranking: largest share converged (at the
        last step) first; among optimizers that converge, fewest steps to tolerance; then the
        lowest median final error; optimizers whose every point diverged rank last.
        """
        if isinstance(tol, bool) or not isinstance(tol, int | float | np.integer | np.floating) or not (
                np.isfinite(tol) and tol > 0):
            raise ValueError(f"tol must be a finite number > 0, got {tol!r}")
        kind = self.error_kind(kind)
        errs = self.errors(kind)
        rows = []
        for name in self.names:
            e = errs[name]
            dead = self.diverged_step[name] >= 0
            final = np.where(dead, np.nan, e[-1])
            alive_final = final[~dead]
            row: dict[str, Any] = {
                "optimizer": name,
                "final_median": float(np.median(alive_final)) if alive_final.size else None,
                "final_best": float(np.min(alive_final)) if alive_final.size else None,
                "diverged": int(dead.sum()),
                "n_points": self.n_points,
                "steps_to_tol": None,
                "converged": None,
            }
            if kind != "loss":
                below = (e <= tol) & ~dead[None, :]
                conv = below[-1]
                if self.steps_to_tol is not None and self.tol == tol and self.tol_kind == kind:
                    first = self.steps_to_tol[name]  # tracked at every step
                else:  # the first recorded row after the last one outside tol: from there it stays
                    stays = below.shape[0] - np.argmax(~below[::-1], axis=0)
                    stays = np.where(below.all(axis=0), 0, stays)
                    first = self.recorded_steps[np.minimum(stays, below.shape[0] - 1)]
                row["converged"] = float(np.mean(conv))
                row["steps_to_tol"] = int(np.median(first[conv])) if conv.any() else None
            rows.append(row)

        def key(r: dict[str, Any]):
            conv = r["converged"] or 0.0
            med = r["final_median"]
            return (
                -conv,
                # steps to tolerance only separates optimizers that do converge
                r["steps_to_tol"] if conv > 0 and r["steps_to_tol"] is not None else np.inf,
                med if med is not None else np.inf,
                r["diverged"],
            )

        rows.sort(key=key)
        for i, r in enumerate(rows, 1):
            r["rank"] = i
        return rows

    # ------------------------------------------------------------------ combining
    @classmethod
    def merge(cls, results: list[Result]) -> Result:
        """One result from runs of different optimizers on the same function, starts and steps.

        The dashboard caches one run per optimizer and merges them, so that moving one
        optimizer's slider recomputes only that optimizer.
        """
        if not results:
            raise ValueError("merge needs at least one result")
        first = results[0]
        for r in results[1:]:
            if (
                r.function.name != first.function.name
                or r.steps != first.steps
                or not np.array_equal(r.recorded_steps, first.recorded_steps)
                or not np.array_equal(r.starts, first.starts)
            ):
                raise ValueError("merge needs runs of the same function, starts and steps")
        names: list[str] = []
        for r in results:
            dup = set(names) & set(r.names)
            if dup:
                raise ValueError(f"optimizer(s) {sorted(dup)} appear in more than one result")
            names.extend(r.names)

        def union(attr: str) -> dict:
            out: dict = {}
            for r in results:
                out.update(getattr(r, attr))
            return out

        return cls(
            function=first.function,
            names=tuple(names),
            hyperparams=union("hyperparams"),
            starts=first.starts,
            steps=first.steps,
            recorded_steps=first.recorded_steps,
            trajectories=union("trajectories"),
            losses=union("losses"),
            diverged_step=union("diverged_step"),
            seed=first.seed,
            backend=first.backend,
            dtype=first.dtype,
            schedule=first.schedule,
            hooks=first.hooks,
            elapsed=sum(r.elapsed for r in results),
            lr_factors=first.lr_factors,
            noise=first.noise,
            noise_mode=first.noise_mode,
            delay=first.delay,
            tol=first.tol,
            tol_kind=first.tol_kind,
            steps_to_tol=None if any(r.steps_to_tol is None for r in results) else union("steps_to_tol"),
            first_entry=None if any(r.first_entry is None for r in results) else union("first_entry"),
            states=None if any(r.states is None for r in results) else union("states"),
            path=first.path if all(r.path == first.path for r in results) else "mixed",
            rates=first.rates if all(r.rates == first.rates for r in results) else "mixed",
        )

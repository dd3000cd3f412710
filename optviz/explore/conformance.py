"""Do two rules compute the same steps? :func:`conformance`, teacher-forced from the same starts.

The check a researcher runs on a new implementation: rule A steps from every start; at each step
rule B is given the very position (and gradient) A was at, and the two updates are compared
coordinate by coordinate. Each rule keeps its own state; positions follow A, so one difference
does not grow into a different trajectory and hide where it began. The first step (then start,
then coordinate) where ``|a - b| > atol + rtol·|a|`` is reported; ``optviz conformance A B``
exits 0 when the rules agree and 1 at the first difference.

Either rule may be a registered name (a built-in, ``optviz.rule``, a typed rule, an adapter) or
an :class:`~optviz.optimizers.base.OptimizerSpec`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from optviz.engine.validate import resolve_function
from optviz.optimizers import get as get_optimizer
from optviz.optimizers.base import OptimizerSpec, StepContext

#: Default tolerances: relative, and absolute (for updates near 0).
RTOL = 1e-9
ATOL = 1e-12
MAX_POINT_STEPS = 10_000_000


@dataclass(frozen=True)
class Conformance:
    """What :func:`conformance` found.

    Attributes:
        a, b: the two rules' names.
        agree: no difference beyond the tolerance at any step, start and coordinate.
        step, start, coordinate: where the first difference is (1-based step; None if they agree).
        a_update, b_update: the two updates there.
        position: where start ``start`` was at that step (A's position).
        max_difference: the largest ``|a - b|`` over the steps checked.
        steps: steps checked (up to the first difference, or all); starts: their number.
        rtol, atol: the tolerance.
    """

    a: str
    b: str
    agree: bool
    step: int | None
    start: int | None
    coordinate: int | None
    a_update: float | None
    b_update: float | None
    position: tuple[float, ...] | None
    max_difference: float
    steps: int
    starts: int
    rtol: float
    atol: float

    def text(self) -> str:
        """One line for a terminal."""
        if self.agree:
            return (f"{self.a} and {self.b} agree: {self.steps} steps x {self.starts} starts, largest "
                    f"difference {self.max_difference:.3g} (tolerance {self.atol:g} + "
                    f"{self.rtol:g}·|update|)")
        return (f"{self.a} and {self.b} differ first at step {self.step}, start {self.start}, coordinate "
                f"{self.coordinate}: {self.a_update!r} vs {self.b_update!r} (position "
                f"{list(self.position or ())}; tolerance {self.atol:g} + {self.rtol:g}·|update|)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _spec(rule: Any, what: str) -> OptimizerSpec:
    if isinstance(rule, OptimizerSpec):
        return rule
    if isinstance(rule, str):
        return get_optimizer(rule)
    raise ValueError(f"{what}: expected an optimizer name or spec, got {type(rule).__name__}")


def _hp(spec: OptimizerSpec, given: Mapping[str, Any] | None, what: str) -> dict[str, float]:
    values = dict(spec.defaults)
    for key, value in (given or {}).items():
        try:
            values[key] = spec.hyperparam(key).check(value, spec.name)
        except KeyError as exc:
            raise ValueError(f"{what}: {exc.args[0]}") from None
    return values


def conformance(a: Any, b: Any, function: Any = "rosenbrock", starts: Any = None, steps: int = 100, *,
                a_hyperparams: Mapping[str, Any] | None = None,
                b_hyperparams: Mapping[str, Any] | None = None,
                rtol: float = RTOL, atol: float = ATOL) -> Conformance:
    """Step rule ``a`` from ``starts`` on ``function``; at every step, give rule ``b`` the same
    position and gradient and compare the updates (see the module docstring).

    Args:
        a, b: optimizer names or specs. Each uses its registry defaults unless
            ``a_hyperparams``/``b_hyperparams`` give values.
        function: a test-function name or object.
        starts: ``(n, dim)`` points; default: a 4 x 4 grid over the function's box (2-D), or 8
            points along it.
        steps: steps to check.
        rtol, atol: the tolerance: ``|a - b| <= atol + rtol·|a|``.

    Raises:
        ValueError: an unknown rule, function or hyperparameter, or a bad tolerance.
    """
    spec_a, spec_b = _spec(a, "a"), _spec(b, "b")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a whole number >= 1, got {steps!r}")
    fn = resolve_function(function, starts)
    W = _starts(fn, starts)
    if W.shape[0] * steps > MAX_POINT_STEPS:
        raise ValueError(f"conformance checks at most {MAX_POINT_STEPS:,} point-steps; "
                         f"got {W.shape[0]:,} starts x {steps:,} steps")
    hp_a = _hp(spec_a, a_hyperparams, spec_a.name)
    hp_b = _hp(spec_b, b_hyperparams, spec_b.name)
    state_a = spec_a.rule.init(W, hp_a)
    state_b = spec_b.rule.init(W, hp_b)
    fstar = fn.fmin
    worst = 0.0
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            g = np.asarray(fn.grad(W), dtype=float)
            ctx = _context(fn, W, t, steps, fstar)
            da, state_a = spec_a.rule.update(None if spec_a.maths.grad_at else g, state_a, W, hp_a, ctx)
            db, state_b = spec_b.rule.update(None if spec_b.maths.grad_at else g, state_b, W, hp_b, ctx)
            da, db = np.asarray(da, dtype=float), np.asarray(db, dtype=float)
            diff = np.abs(da - db)
            bad = ~(diff <= atol + rtol * np.abs(da))  # (NaN on one side only is a difference)
            bad &= ~((np.isnan(da) & np.isnan(db)) | (da == db))
            finite = diff[np.isfinite(diff)]
            if finite.size:
                worst = max(worst, float(finite.max()))
            if bad.any():
                i, j = (int(v) for v in np.argwhere(bad)[0])
                return Conformance(spec_a.name, spec_b.name, False, t, i, j, float(da[i, j]), float(db[i, j]),
                                   tuple(float(v) for v in W[i]), worst, t, W.shape[0], rtol, atol)
            W = W + da
    return Conformance(spec_a.name, spec_b.name, True, None, None, None, None, None, None, worst, steps,
                       W.shape[0], rtol, atol)


def _context(fn: Any, W: np.ndarray, t: int, steps: int, fstar: float | None) -> StepContext:
    """What the engine tells a rule at step ``t`` (exact gradients, no noise, no delay)."""
    zeros = np.zeros_like(W)
    return StepContext(t, steps, np.asarray(fn.value(W), dtype=float), fstar,
                       lambda q: np.asarray(fn.grad(q), dtype=float), lambda _n, _w: zeros, None, 0, None)


def _starts(fn: Any, starts: Any) -> np.ndarray:
    if starts is not None:
        from optviz.engine.validate import validate_starts

        return np.array(validate_starts(starts, fn.dim), dtype=float)
    from optviz.scene import starts as grids

    box = np.asarray(fn.box, dtype=float)
    return grids.grid(box, 4 if fn.dim == 2 else (8 if fn.dim == 1 else 2))


__all__ = ["ATOL", "RTOL", "Conformance", "conformance"]

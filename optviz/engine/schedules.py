"""Learning-rate schedules: a multiplier of every learning-rate hyperparameter at step t.

A schedule is called as ``schedule(t, total)`` with ``t = 1, 2, …`` and the run's number of
steps, and returns a factor (1 means the optimizer's own rate). They compose:
``warmup(10, then=cosine())`` warms up linearly for 10 steps and then follows a cosine decay
over the remaining steps, as in Goyal et al. (2017).

Factors saturate: a growing schedule (``exponential:gamma=10``, ``step:every=1,gamma=2``) is
allowed, and its factor stops at :data:`MAX_FACTOR` instead of overflowing. Growth is a real
use (a learning-rate range test raises the rate until the points diverge), and long before
the cap every point has diverged and been frozen, which is what the race then shows.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optviz.scene.text import quote

#: The largest factor a schedule gives: any learning rate (at most 10) times this is still a
#: finite float, and far beyond any rate that does not diverge at once.
MAX_FACTOR = 1e100


@dataclass(frozen=True)
class Schedule:
    """A named multiplier ``(t, total) -> float`` with its settings (for labels and caches)."""

    name: str
    settings: tuple[tuple[str, object], ...]
    fn: Callable[[int, int], float] = field(compare=False, repr=False)

    def __call__(self, t: int, total: int) -> float:
        """The factor at step ``t`` of ``total``: a float in ``[0, MAX_FACTOR]`` (an overflow or
        anything larger saturates; NaN or a negative factor is an error naming the step)."""
        try:
            v = float(self.fn(t, total))
        except OverflowError:
            return MAX_FACTOR
        except (TypeError, ValueError) as exc:
            raise ValueError(f"schedule {self.label} at step {t}: expected a number, "
                             f"got {exc}") from None
        if v >= 0:
            return min(v, MAX_FACTOR)
        raise ValueError(f"schedule {self.label} gave {v} at step {t}; a learning-rate factor must be "
                         "a number >= 0")

    @property
    def label(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.settings)
        return f"{self.name}({args})" if args else self.name

    def factors(self, total: int) -> list[float]:
        """The multiplier at every step 1..total."""
        return self.factor_array(total).tolist()

    def factor_array(self, total: int) -> np.ndarray:
        """The multiplier at every step 1..total, as an array (what the engine reads)."""
        if isinstance(total, bool) or not isinstance(total, numbers.Integral) or total < 0:
            raise ValueError(f"total must be a whole number of steps >= 0, got {quote(total)}")
        if self.fn is _one:  # (a million steps of a constant rate: no Python call per step)
            return np.ones(int(total))
        fn, steps = self.fn, range(1, int(total) + 1)
        try:  # the common case in one pass; any trouble is sorted out step by step below
            raw = np.asarray([fn(t, total) for t in steps], dtype=float)
        except (OverflowError, TypeError, ValueError):
            raw = None
        if raw is not None and raw.shape == (len(steps),) and bool(np.all((raw >= 0) & (raw <= MAX_FACTOR))):
            return raw
        return np.array([self(t, total) for t in steps], dtype=float)


def _check(where: str, name: str, value: float, low: float, high: float = math.inf) -> float:
    """``value`` as a float in ``[low, high]``; errors say which schedule and setting."""
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        v = math.nan
    if not math.isfinite(v) or not (low <= v <= high):
        raise ValueError(f"{where} schedule: {name} must be in [{low:g}, {high:g}], got {_shown(value)}")
    return v


def _whole(where: str, name: str, value: float, low: int) -> int:
    """A count of steps: a whole number (``50`` or ``50.0``) >= ``low``, never silently truncated."""
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        v = math.nan
    if not math.isfinite(v) or v < low or v != int(v):
        raise ValueError(f"{where} schedule: {name} must be a whole number >= {low}, got {_shown(value)}")
    return int(v)


def _shown(value: object) -> str:
    """A setting's value for a message: numbers as typed (``-1``, not ``-1.0``), the rest quoted."""
    return f"{value:g}" if isinstance(value, float) else quote(value)


def _power(base: float, n: int) -> float:
    """``base ** n``, saturating at :data:`MAX_FACTOR` instead of raising ``OverflowError``."""
    try:
        return min(base**n, MAX_FACTOR)
    except OverflowError:
        return MAX_FACTOR


def _one(t: int, total: int) -> float:
    return 1.0


def constant() -> Schedule:
    """Factor 1 at every step."""
    return Schedule("constant", (), _one)


def step_decay(every: int = 100, gamma: float = 0.1) -> Schedule:
    r"""Multiply by ``gamma`` every ``every`` steps: :math:`\gamma^{\lfloor (t-1)/k \rfloor}`."""
    k = _whole("step", "every", every, 1)
    g = _check("step", "gamma", gamma, 0.0, 10.0)
    return Schedule("step", (("every", k), ("gamma", g)), lambda t, total: _power(g, (t - 1) // k))


def exponential(gamma: float = 0.99) -> Schedule:
    r"""Decay by ``gamma`` each step: :math:`\gamma^{t-1}`."""
    g = _check("exponential", "gamma", gamma, 0.0, 10.0)
    return Schedule("exponential", (("gamma", g),), lambda t, total: _power(g, t - 1))


def cosine(floor: float = 0.0) -> Schedule:
    r"""Cosine decay from 1 to ``floor`` over the run (Loshchilov & Hutter, 2017, without restarts).

    .. math:: \text{floor} + (1-\text{floor})\,\tfrac12\bigl(1 + \cos(\pi (t-1)/(T-1))\bigr)
    """
    f = _check("cosine", "floor", floor, 0.0, 1.0)

    def fn(t: int, total: int) -> float:
        frac = 0.0 if total <= 1 else (t - 1) / (total - 1)
        return f + (1 - f) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))

    return Schedule("cosine", (("floor", f),), fn)


def warmup(steps: int = 10, then: Schedule | None = None, start: float = 0.0) -> Schedule:
    r"""Linear warm-up from ``start`` to 1 over ``steps`` steps, then ``then`` (Goyal et al., 2017).

    During warm-up the factor is :math:`\text{start} + (1-\text{start})\, t/\text{steps}`;
    afterwards ``then`` runs on its own clock, ``then(t - steps, total - steps)``.
    """
    k = _whole("warm-up", "steps", steps, 1)
    s = _check("warm-up", "start", start, 0.0, 1.0)
    if then is not None and not isinstance(then, Schedule):
        raise ValueError(f"warm-up schedule: then must be a Schedule such as cosine(), got {quote(then)}")
    after = then or constant()

    def fn(t: int, total: int) -> float:
        if t <= k:
            return s + (1 - s) * t / k
        return after(t - k, max(total - k, 1))

    settings: tuple[tuple[str, object], ...] = (("steps", k),)
    if s:
        settings += (("start", s),)
    return Schedule(f"warmup+{after.name}" if then else "warmup", settings + after.settings, fn)


FACTORIES: dict[str, Callable[..., Schedule]] = {
    "constant": constant,
    "step": step_decay,
    "exponential": exponential,
    "cosine": cosine,
    "warmup": warmup,
}


#: A "+" that chains two schedules: followed by a name, unlike the sign in "1e+3" or "+0.5".
_CHAIN = re.compile(r"\+(?=\s*[A-Za-z_])")


def parse(text: str) -> Schedule:
    """A schedule from text: ``"cosine"``, ``"step:every=50,gamma=0.5"``, ``"warmup:steps=20+cosine"``.

    ``a+b`` means warm-up ``a`` followed by ``b``. Parsed safely (no ``eval``). Only a ``+``
    followed by a name chains: the one in a number such as ``1e+3`` does not.
    """
    from optviz.scene.text import parse_call

    if not isinstance(text, str):
        raise ValueError(f"a schedule is given as text such as 'cosine' or 'warmup:steps=20+cosine'; "
                         f"got {quote(text)}; valid: {', '.join(FACTORIES)}")
    parts = [p.strip() for p in _CHAIN.split(text)]
    if len(parts) > 2:
        raise ValueError(f"a schedule chains at most a warm-up and one schedule, got {quote(text)}")
    if len(parts) == 2:
        _, head_kwargs = parse_call(parts[0], {"warmup": warmup}, what="first schedule of a chain")
        return warmup(**head_kwargs, then=parse(parts[1]))
    name, kwargs = parse_call(parts[0], FACTORIES, what="schedule")
    return FACTORIES[name](**kwargs)


def as_schedule(schedule: Any) -> Schedule:
    """What ``optviz.run(schedule=...)`` takes (None for constant rates, a :class:`Schedule`, or
    its text such as ``"warmup:steps=10+cosine"``) as a schedule; ``ValueError`` otherwise."""
    if schedule is None:
        return constant()
    if isinstance(schedule, str):
        return parse(schedule)
    if isinstance(schedule, Schedule):
        return schedule
    raise ValueError("schedule must be None, a Schedule from optviz.engine.schedules, or text like 'cosine'; "
                     f"got {quote(schedule)}")

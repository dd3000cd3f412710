"""Learning-rate schedules: a multiplier of every learning-rate hyperparameter at step t.

A schedule is called as ``schedule(t, total)`` with ``t = 1, 2, …`` and the run's number of
steps, and returns a factor (1 means the optimizer's own rate). They compose:
``warmup(10, then=cosine())`` warms up linearly for 10 steps and then follows a cosine decay
over the remaining steps, as in Goyal et al. (2017).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Schedule:
    """A named multiplier ``(t, total) -> float`` with its settings (for labels and caches)."""

    name: str
    settings: tuple[tuple[str, object], ...]
    fn: Callable[[int, int], float] = field(compare=False, repr=False)

    def __call__(self, t: int, total: int) -> float:
        return self.fn(t, total)

    @property
    def label(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.settings)
        return f"{self.name}({args})" if args else self.name

    def factors(self, total: int) -> list[float]:
        """The multiplier at every step 1..total."""
        return [self(t, total) for t in range(1, total + 1)]


def _check(name: str, value: float, low: float, high: float = math.inf) -> float:
    v = float(value)
    if not math.isfinite(v) or not (low <= v <= high):
        raise ValueError(f"{name} must be in [{low:g}, {high:g}], got {value!r}")
    return v


def _whole(name: str, value: float, low: int) -> int:
    """A count of steps: a whole number (``50`` or ``50.0``) >= ``low``, never silently truncated."""
    v = _check(name, value, low)
    if v != int(v):
        raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
    return int(v)


def constant() -> Schedule:
    """Factor 1 at every step."""
    return Schedule("constant", (), lambda t, total: 1.0)


def step_decay(every: int = 100, gamma: float = 0.1) -> Schedule:
    r"""Multiply by ``gamma`` every ``every`` steps: :math:`\gamma^{\lfloor (t-1)/k \rfloor}`."""
    k = _whole("every", every, 1)
    g = _check("gamma", gamma, 0.0, 10.0)
    return Schedule("step", (("every", k), ("gamma", g)), lambda t, total: g ** ((t - 1) // k))


def exponential(gamma: float = 0.99) -> Schedule:
    r"""Decay by ``gamma`` each step: :math:`\gamma^{t-1}`."""
    g = _check("gamma", gamma, 0.0, 10.0)
    return Schedule("exponential", (("gamma", g),), lambda t, total: g ** (t - 1))


def cosine(floor: float = 0.0) -> Schedule:
    r"""Cosine decay from 1 to ``floor`` over the run (Loshchilov & Hutter, 2017, without restarts).

    .. math:: \text{floor} + (1-\text{floor})\,\tfrac12\bigl(1 + \cos(\pi (t-1)/(T-1))\bigr)
    """
    f = _check("floor", floor, 0.0, 1.0)

    def fn(t: int, total: int) -> float:
        frac = 0.0 if total <= 1 else (t - 1) / (total - 1)
        return f + (1 - f) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))

    return Schedule("cosine", (("floor", f),), fn)


def warmup(steps: int = 10, then: Schedule | None = None, start: float = 0.0) -> Schedule:
    r"""Linear warm-up from ``start`` to 1 over ``steps`` steps, then ``then`` (Goyal et al., 2017).

    During warm-up the factor is :math:`\text{start} + (1-\text{start})\, t/\text{steps}`;
    afterwards ``then`` runs on its own clock, ``then(t - steps, total - steps)``.
    """
    k = _whole("steps", steps, 1)
    s = _check("start", start, 0.0, 1.0)
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
    from .specs import parse_call

    parts = [p.strip() for p in _CHAIN.split(text)]
    if len(parts) > 2:
        raise ValueError(f"a schedule chains at most a warm-up and one schedule, got {text!r}")
    if len(parts) == 2:
        _, head_kwargs = parse_call(parts[0], {"warmup": warmup}, what="first schedule of a chain")
        return warmup(**head_kwargs, then=parse(parts[1]))
    name, kwargs = parse_call(parts[0], FACTORIES, what="schedule")
    return FACTORIES[name](**kwargs)

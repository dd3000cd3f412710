"""The positions of every hyperparameter slider: a short, fixed list of values per hyperparameter.

A slider in the race moves between these positions, and the race view computes every position
of every slider in advance (one engine run per optimizer, :mod:`optviz.live.sweeps`), so
that the browser can redraw the race from a key press without asking the server. That is why
the lists are short (about 10-30 positions): each position costs a block of numbers on the page.

- learning rates and other log-scaled values: 1, 2, 5 per decade over the registry's range
  (ε-like values that may be 0: 0 and every even decade);
- averaging coefficients in [0, 1): finer and finer towards 1 (0.9, 0.95, 0.99, 0.995, 0.999…);
- integers: 1, 2, 5 per decade from 0;
- other linear values: about 20 evenly spaced nice numbers.

The registry's default, the value now set and any ``extra`` values (a preset's, a tuned
default) are always positions too, so no chosen value is ever rounded away.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from optviz.optimizers import REGISTRY, HyperParam

#: Averaging coefficients offered (those below the registry's high end).
DECAY_POSITIONS = (0.0, 0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999,
                   0.9995, 0.9999)  # fmt: skip


def kind_of(hp: HyperParam) -> str:
    """``"int"``, ``"log"``, ``"decay"`` or ``"linear"``: how the slider spaces its positions."""
    if hp.integer:
        return "int"
    if hp.log:
        return "log"
    if hp.low == 0.0 and hp.high < 1.0:
        return "decay"
    return "linear"


def _clean(v: float) -> float:
    return float(f"{v:.12g}")


def _log_positions(low: float, high: float) -> list[float]:
    lo = low if low > 0 else 1e-12
    out = []
    for k in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(high)) + 1):
        for m in (1.0, 2.0, 5.0):
            v = _clean(m * 10.0**k)
            if lo * (1 - 1e-12) <= v <= high * (1 + 1e-12):
                out.append(v)
    if low == 0:  # ε-like: 0 and one value per two decades below 1e-3, then 1-2-5
        out = [0.0] + [v for v in out if v >= 1e-3 or (v == 10.0 ** round(math.log10(v))
                                                        and round(math.log10(v)) % 2 == 0)]
    return out


def _int_positions(hp: HyperParam) -> list[float]:
    high = min(hp.high, max(1000.0, 10 * hp.default))
    vals = [0.0] + [_clean(m * 10.0**k) for k in range(0, 7) for m in (1, 2, 5)]
    return [v for v in vals if hp.low <= v <= high]


def _linear_positions(hp: HyperParam) -> list[float]:
    span = hp.high - hp.low
    raw = span / 20
    mag = 10.0 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    n = math.floor(span / step + 1e-9)
    return [_clean(hp.low + i * step) for i in range(n + 1)]


def positions(hp: HyperParam, extra: Iterable[float] = ()) -> tuple[float, ...]:
    """The sorted values a slider for ``hp`` offers: its kind's list, plus the default and the
    ``extra`` values that lie in its range."""
    kind = kind_of(hp)
    if kind == "log":
        vals = _log_positions(hp.low, hp.high)
    elif kind == "decay":
        vals = [v for v in DECAY_POSITIONS if hp.low <= v <= hp.high]
    elif kind == "int":
        vals = _int_positions(hp)
    else:
        vals = _linear_positions(hp)
    more = [hp.default, *extra]
    if hp.integer:
        more = [float(round(v)) for v in more]
    keep = {_clean(float(v)) for v in more if hp.low <= float(v) <= hp.high}
    return tuple(sorted(keep | set(_thin(vals, keep, kind, hp))))


def _gap(a: float, b: float, kind: str) -> float:
    """How far apart two positions look on a slider of this kind, in that kind's own unit."""
    if kind == "log":
        return abs(math.log10(max(a, 1e-300)) - math.log10(max(b, 1e-300))) if a > 0 and b > 0 else math.inf
    if kind == "decay":
        return abs(math.log10(max(1 - a, 1e-12)) - math.log10(max(1 - b, 1e-12)))
    return abs(a - b)


def _thin(grid: list[float], keep: set[float], kind: str, hp: HyperParam) -> list[float]:
    """The grid without the positions that crowd a value that must stay (the default, a tuned
    or a chosen value): 0.01 → 0.018 → 0.05, not 0.01 → 0.018 → 0.02, so that one key press is
    always about one grid step."""
    if kind == "int":
        return grid
    if kind == "linear":
        close = (hp.high - hp.low) / 40
    else:  # a quarter of a decade on a log slider, of a decade of 1 - β on a decay slider
        close = 0.25 if kind == "log" else 0.15
    return [v for v in grid if v in keep or all(_gap(v, k, kind) >= close for k in keep)]


def fmt(v: float) -> str:
    """A slider value as text: ``0.001``, ``1e-08``, ``0.999``, ``100``."""
    return f"{v:g}"


@dataclass(frozen=True)
class Slider:
    """One hyperparameter slider: its optimizer, name, positions and where it stands."""

    optimizer: str
    name: str
    values: tuple[float, ...]
    index: int
    lr: bool
    kind: str
    help: str

    @property
    def value(self) -> float:
        return self.values[self.index]

    @property
    def label(self) -> str:
        """The accessible label: the hyperparameter's name, and what it is."""
        return f"{self.name} (learning rate)" if self.lr else self.name


def slider(optimizer: str, name: str, current: float, extra: Iterable[float] = ()) -> Slider:
    """The slider for ``optimizer``'s hyperparameter ``name`` standing at ``current`` (which
    becomes a position, exactly, if it is not one)."""
    hp = REGISTRY[optimizer].hyperparam(name)
    cur = float(round(current)) if hp.integer else float(current)
    # the value now set is a position exactly as it is (not rounded to a nicer neighbour): the
    # slider, the link and the race all read this very number
    vals = tuple(sorted({*positions(hp, (*extra, cur)), cur}))
    index = vals.index(cur)
    return Slider(optimizer, name, vals, index, hp.lr, kind_of(hp),
                  f"{hp.help}. Range [{hp.low:g}, {hp.high:g}], default {hp.default:g}.")


def priority(s: Slider) -> int:
    """Which sliders are computed in advance first when a scene is too big for all: learning
    rates, then averaging coefficients, then the rest."""
    return 0 if s.lr else 1 if s.kind == "decay" else 2

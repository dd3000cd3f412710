"""One look for every picture: the page (Plotly), the exported GIF/MP4 and the stills (matplotlib).

**Each optimizer shown gets one of eight slots**, and a slot is a colour, a marker shape and a line
dash together (:data:`PALETTE`, :data:`SYMBOLS`, :data:`DASHES`; matplotlib's :data:`MPL_MARKERS`,
:data:`MPL_LINESTYLES`). :func:`look_of` assigns the slots of a selection, in the order the
optimizers are given: the default field SGD, MSGD, NAG, RMSprop and Adam (:data:`OWNERS`) always
take their *home* slots 0-4 (:func:`home`), every other optimizer its home slot when no optimizer
before it has taken it, else the first free one. So any eight optimizers on screen have eight
different colours, eight shapes and eight dashes (colour is never the only cue), and an optimizer
keeps its colour from a lesson to the full field as long as nothing before it claims its slot (the
default five always keep theirs). Beyond eight, colours repeat; slot ``k`` ≥ 8 takes colour ``k mod
8`` with the shape and dash of ``(k + k // 8) mod 8``, so that optimizers sharing a colour differ in
shape and dash. Colours are therefore a property of the *selection*: code that colours one
optimizer's name beside a chart asks :func:`look_of` for the chart's names (or :func:`colors`);
:func:`color` is the home colour (the optimizer alone or in the default field).

The palette was searched (sRGB in steps of 15, then a local search) under these rules, which
``tests/test_style.py`` checks with its own CIEDE2000 and sRGB → linear → XYZ → CIELAB (D65)
code and Machado, Oliveira & Fernandes' (2009) matrices at severity 1.0:

- the first five (the default field): every pair CIEDE2000 ΔE ≥ 20 in normal vision and under
  simulated deuteranopia and protanopia;
- all eight: every pair ΔE ≥ 11 in the same three, hence any eight optimizers on screen;
- as a bonus, tritanopia too (not required).

It reaches ΔE ≥ 25.5 for the five and ≥ 13.8 for the eight in the three visions (12.2 for both
under tritanopia); Okabe & Ito's best subsets reach about 21 and 12, with lighter colours.
- a contrast of at least 3:1 on white (WCAG's rule for graphics: it reads on a washed-out
  projector), 1.5:1 on the landscape's darkest colour, ΔE ≥ 10 from every landscape colour;
- a colour, not a grey or a near-black (CIELAB L* 30-78, chroma ≥ 28), ΔE ≥ 18 from the black of
  the diverged crosses and the start rings.

The other shared constants: the landscape colour map (:data:`LANDSCAPE`, pale grey-blue so
that every optimizer reads on it) and how f is mapped to it (:func:`landscape_scale`), the
contour band count, the error panel's band opacity, and the markers for starts, minima and
diverged points (:data:`START`, :data:`MINIMUM`, :data:`LOCAL_MINIMUM`, :data:`DIVERGED_MARK`),
drawn in the order of :data:`DRAW_ORDER`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from optviz.optimizers import NAMES

# ---------------------------------------------------------------------- optimizer looks
#: The eight slot colours; the first five go to the default field.
PALETTE: tuple[str, ...] = (
    "#4B1ED2",  # 0 indigo (SGD)
    "#69A500",  # 1 green (MSGD)
    "#0F8778",  # 2 teal (NAG)
    "#8787FF",  # 3 periwinkle (RMSprop)
    "#960000",  # 4 dark red (Adam)
    "#871E69",  # 5 plum
    "#D22D5A",  # 6 rose
    "#E16996",  # 7 pink
)
#: A word for each colour of :data:`PALETTE`, for text that names them ("Adam, in dark red").
COLOR_NAMES: tuple[str, ...] = ("indigo", "green", "teal", "periwinkle", "dark red", "plum", "rose", "pink")
#: The slots' marker shapes (Plotly symbols) and the same shapes in matplotlib.
SYMBOLS: tuple[str, ...] = ("circle", "square", "diamond", "triangle-up", "triangle-down", "pentagon",
                            "hexagon", "cross")
MPL_MARKERS: tuple[str, ...] = ("o", "s", "D", "^", "v", "p", "h", "P")
#: The slots' line dashes (Plotly: a name or on/off lengths in px) and the same in matplotlib (on/off
#: lengths in line widths, as Plotly draws them at the page's widths).
DASHES: tuple[str, ...] = ("solid", "dot", "dash", "longdash", "dashdot", "longdashdot",
                           "12px,3px,3px,3px,3px,3px", "8px,3px,8px,3px,2px,3px")
MPL_LINESTYLES: tuple[Any, ...] = ("-", (0, (1.0, 1.0)), (0, (3.0, 3.0)), (0, (5.0, 5.0)),
                                   (0, (3.0, 1.0, 1.0, 1.0)), (0, (5.0, 2.0, 1.0, 2.0)),
                                   (0, (4.0, 1.0, 1.0, 1.0, 1.0, 1.0)),
                                   (0, (2.7, 1.0, 2.7, 1.0, 0.7, 1.0)))
SLOTS = len(PALETTE)

#: optimizer name -> its home slot. The default field owns 0-4; optimizers that are often
#: compared (RMSprop/RMSpropGraves, Adam/AMSGrad/AdaMax/Nadam, AdaBound/AMSBound, SantaE/SantaSSS,
#: MSGD/CorrectedMomentumSGD) have different homes.
HOMES: dict[str, int] = {
    "SGD": 0, "MSGD": 1, "NAG": 2, "RMSprop": 3, "Adam": 4,
    "AdaGrad": 5, "AdaDelta": 6, "AMSGrad": 7,
    "AdaMax": 0, "Nadam": 1, "AMSBound": 2, "CorrectedMomentumSGD": 5,
    "SantaE": 6, "Eve": 7, "AdaBound": 3, "DCASGD": 4,
    "SantaSSS": 0, "RMSpropGraves": 1, "SMORMS3": 2,
    # today's optimizers: each apart from the one it is raced against (AdamW/Lion/RAdam vs Adam,
    # the schedule-free pair vs SGD and AdamW)
    "AdamW": 2, "Lion": 6, "RAdam": 5, "AdaBelief": 3, "Yogi": 7, "Adan": 1, "Rprop": 0,
    "ScheduleFreeSGD": 3, "ScheduleFreeAdamW": 7, "Prodigy": 5,
}  # fmt: skip
assert set(NAMES) <= set(HOMES), "every optimizer needs a home slot"


def home(name: str) -> int:
    """``name``'s home slot (unknown labels: a stable slot from a hash of the name)."""
    if name in HOMES:
        return HOMES[name]
    return zlib.crc32(name.encode("utf-8")) % SLOTS


#: The optimizers that own their home slot in every selection: the default field
#: (:data:`optviz.scene.lessons.DEFAULT_FIELD`; ``tests/test_style.py`` checks they agree).
OWNERS: tuple[str, ...] = ("SGD", "MSGD", "NAG", "RMSprop", "Adam")


def slots(names: Iterable[str]) -> dict[str, int]:
    """The slot of each optimizer of a selection, in the given order: the :data:`OWNERS` their home
    slots; every other its home slot when free, else the first free one of the eight; past eight,
    8, 9, ... (colours then repeat)."""
    names = list(dict.fromkeys(names))
    out: dict[str, int] = {n: HOMES[n] for n in names if n in OWNERS}
    taken: set[int] = set(out.values())
    extra = SLOTS
    for n in names:
        if n in out:
            continue
        want = home(n)
        if want not in taken:
            out[n] = want
        else:
            free = [k for k in range(SLOTS) if k not in taken]
            if free:
                out[n] = free[0]
            else:
                out[n], extra = extra, extra + 1
        taken.add(out[n])
    return {n: out[n] for n in names}


def _cue(slot: int) -> int:
    """The shape and dash index of a slot (optimizers sharing a colour, past eight, differ in both)."""
    return (slot + slot // SLOTS) % len(SYMBOLS)


@dataclass(frozen=True)
class OptimizerLook:
    """How one optimizer is drawn, in both libraries."""

    color: str
    symbol: str  # Plotly marker symbol
    dash: str  # Plotly line dash
    mpl_marker: str
    mpl_linestyle: Any

    @classmethod
    def of_slot(cls, slot: int) -> OptimizerLook:
        """The look of slot ``slot``."""
        c = _cue(slot)
        return cls(PALETTE[slot % SLOTS], SYMBOLS[c], DASHES[c], MPL_MARKERS[c], MPL_LINESTYLES[c])

    @property
    def marker_edge(self) -> str:
        """Marker outline: white, so that a marker reads on the landscape and on a path."""
        return "#ffffff"

    def plotly_marker(self, size: float) -> dict[str, Any]:
        """A Plotly ``marker`` dict: this colour and shape, a white outline."""
        return {"color": self.color, "symbol": self.symbol, "size": size,
                "line": {"color": self.marker_edge, "width": 1}}

    def plotly_line(self, width: float) -> dict[str, Any]:
        """A Plotly ``line`` dict: this colour and dash."""
        return {"color": self.color, "dash": self.dash, "width": width}


def look_of(names: Iterable[str]) -> dict[str, OptimizerLook]:
    """The look of each optimizer of a selection (:func:`slots`), in the given order."""
    return {n: OptimizerLook.of_slot(k) for n, k in slots(names).items()}


def colors(names: Iterable[str]) -> dict[str, str]:
    """The colour of each optimizer of a selection (as :func:`look_of` draws them)."""
    return {n: lk.color for n, lk in look_of(names).items()}


def color(name: str) -> str:
    """``name``'s home colour: its colour alone, and in any selection where no optimizer before it
    takes its slot (the default field's always)."""
    return PALETTE[home(name)]


def symbol(name: str) -> str:
    """``name``'s home marker shape (Plotly)."""
    return SYMBOLS[home(name)]


def mpl_marker(name: str) -> str:
    """``name``'s home marker shape in matplotlib: the same shape as :func:`symbol`."""
    return MPL_MARKERS[home(name)]


def dash(name: str) -> str:
    """``name``'s home line dash (Plotly)."""
    return DASHES[home(name)]


def mpl_linestyle(name: str) -> Any:
    """``name``'s home matplotlib linestyle: the same dash as :func:`dash`."""
    return MPL_LINESTYLES[home(name)]


#: optimizer name -> home colour (:func:`color`)
COLORS: dict[str, str] = {name: color(name) for name in NAMES}


def rgba(hex_color: str, alpha: float) -> str:
    """``"#rrggbb"`` as a CSS ``rgba(r,g,b,alpha)`` string."""
    r, g, b = hex_rgb(hex_color)
    return f"rgba({round(255 * r)},{round(255 * g)},{round(255 * b)},{alpha:g})"


def hex_rgb(hex_color: str) -> tuple[float, float, float]:
    """``"#rrggbb"`` as three floats in [0, 1]."""
    h = hex_color.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"expected a colour as #rrggbb, got {hex_color!r}")
    r, g, b = (int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return r, g, b


# ---------------------------------------------------------------------- landscape
#: The landscape's colour map (Plotly colorscale form; matplotlib: :func:`landscape_cmap`): white
#: at low f to a light grey-blue at high f. Light and nearly neutral, so that every optimizer's
#: colour keeps at least 1.5:1 contrast on its darkest end.
LANDSCAPE: list[list[Any]] = [
    [0.0, "#ffffff"], [0.25, "#f1f3f6"], [0.55, "#dde2e9"], [0.8, "#c6cdd7"], [1.0, "#b3bcc9"],
]  # fmt: skip
#: Filled contour bands of the landscape (linear in the scale of :func:`landscape_scale`).
CONTOUR_BANDS = 24
#: The lines between bands: colour (r, g, b in 0-255), opacity, width in pixels at 100 dpi.
CONTOUR_LINE_RGB = (60, 75, 100)
CONTOUR_LINE_OPACITY = 0.45
CONTOUR_LINE_WIDTH = 0.7
#: Grid points per side where f is evaluated for the landscape.
LANDSCAPE_GRID = 240
#: The 1-D curve f(x).
CURVE_COLOR = "#555555"
#: Axis frame colour.
FRAME_COLOR = "#888888"


def landscape_cmap():
    """:data:`LANDSCAPE` as a matplotlib colormap (NaN shows white)."""
    from matplotlib.colors import LinearSegmentedColormap

    cmap = LinearSegmentedColormap.from_list("optviz-landscape", [(s, c) for s, c in LANDSCAPE])
    return cmap.with_extremes(bad="white")


@dataclass(frozen=True)
class LandscapeScale:
    """How f is coloured: raw, or ``log10(f − f* + floor)`` for functions spanning decades."""

    log: bool
    fmin: float
    floor: float

    def transform(self, f: Any) -> np.ndarray:
        """The coloured value of ``f`` (same shape)."""
        f = np.asarray(f, dtype=float)
        if not self.log:
            return f
        with np.errstate(all="ignore"):
            return np.log10(np.maximum(f - self.fmin, 0.0) + self.floor)

    def limits(self, z: np.ndarray) -> tuple[float, float]:
        """The colour range of transformed values ``z``: all of them on a log scale; on a
        linear one the 0.5-99.5 % percentiles, so that a few extreme values do not wash out
        the colours."""
        zf = np.asarray(z, dtype=float)
        zf = zf[np.isfinite(zf)]
        if not zf.size:
            return 0.0, 1.0
        lo, hi = float(zf.min()), float(zf.max())
        if not self.log:
            lo, hi = (float(v) for v in np.percentile(zf, [0.5, 99.5]))
        return lo, max(hi, lo + 1e-12)

    def levels(self, z: np.ndarray) -> np.ndarray:
        """The :data:`CONTOUR_BANDS` + 1 band edges over :meth:`limits`."""
        lo, hi = self.limits(z)
        return np.linspace(lo, hi, CONTOUR_BANDS + 1)

    @property
    def label(self) -> str:
        """The colour bar's title."""
        return "f − f*" if self.log else "f"


def landscape_scale(fn: Any, values: np.ndarray) -> LandscapeScale:
    """The scale for ``fn`` given its ``values`` over the box: logarithmic (in f − f*, floored at
    a millionth of the span) when ``fn.log_levels``, else linear."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if not getattr(fn, "log_levels", False) or finite.size == 0:
        return LandscapeScale(False, 0.0, 1.0)
    fmin = float(fn.fmin) if fn.fmin is not None else float(finite.min())
    span = float(finite.max() - fmin)
    return LandscapeScale(True, fmin, max(span * 1e-6, 1e-12))


def decade_label(k: int) -> str:
    """A colour-bar tick for 10**k: ``0.01`` … ``1000``, else ``1e-5``, ``1e6``."""
    if -2 <= k <= 3:
        return f"{10.0 ** k:g}"
    return f"1e{k}"


def decade_ticks(lo: float, hi: float, most: int = 8) -> np.ndarray:
    """Whole decades within [lo, hi] (log10 units), thinned to at most ``most``."""
    ticks = np.arange(np.ceil(lo), np.floor(hi) + 1)
    if len(ticks) > most:
        ticks = ticks[:: int(np.ceil(len(ticks) / most))]
    return ticks


# ---------------------------------------------------------------------- markers
@dataclass(frozen=True)
class Mark:
    """A fixed marker: Plotly symbol and matplotlib marker, fill, outline and sizes.

    ``size`` is Plotly's marker size in pixels on the normal page; ``scale`` it for the
    projector or an export. ``fill`` ``None`` means an open marker.
    """

    symbol: str
    mpl_marker: str
    fill: str | None
    edge: str
    size: float
    edge_width: float
    label: str

    def plotly(self, scale: float = 1.0) -> dict[str, Any]:
        """A Plotly ``marker`` dict, sized ``scale`` × :attr:`size` (e.g. 1.4 for projector mode)."""
        if self.fill is None:  # an open symbol is drawn in its line colour
            return {"symbol": self.symbol, "size": self.size * scale, "color": self.edge,
                    "line": {"width": self.edge_width * scale}}
        return {"symbol": self.symbol, "size": self.size * scale, "color": self.fill,
                "line": {"color": self.edge, "width": self.edge_width * scale}}


#: Where a point started: an open dark ring, drawn *above* the optimizers' markers. At step 0
#: every optimizer sits on its start, so their markers are not drawn then (the last one drawn
#: would cover the others and the start would look like one optimizer's); the ring shows it.
START = Mark("circle-open", "o", None, "#222222", 12, 1.8, "start")
#: A global minimizer: a gold star with a black outline, drawn above the paths.
MINIMUM = Mark("star", "*", "#ffd400", "#000000", 19, 1.2, "global minimum")
#: A local minimizer: a light grey diamond with a black outline.
LOCAL_MINIMUM = Mark("diamond", "D", "#bbbbbb", "#000000", 10, 1.0, "local minimum")
#: Colour of the diverged marker.
DIVERGED = "#000000"
#: A diverged point: a black cross where it was last seen.
DIVERGED_MARK = Mark("x", "X", DIVERGED, "#ffffff", 9, 1.0, "diverged")

#: Drawing order, bottom to top, of a race picture: the star above the paths, the moving
#: markers above the star (a converged point shows on it), the start rings above the markers,
#: the crosses on top.
DRAW_ORDER: tuple[str, ...] = ("landscape", "paths", "minima", "markers", "starts", "diverged")

#: Opacity of the error panel's 25-75 % band.
BAND_OPACITY = 0.12
#: Paths: opacity and width factor with few starts (≤ 3) and with many.
PATH_OPACITY_FEW = 0.85
PATH_OPACITY_MANY = 0.35
#: The font stack of every picture.
FONT_FAMILY = "Inter, Segoe UI, Helvetica, Arial, sans-serif"
#: Fonts matplotlib can find, in the same spirit.
MPL_FONTS = ["Inter", "Segoe UI", "Helvetica", "Arial", "DejaVu Sans"]


__all__ = [
    "BAND_OPACITY", "COLORS", "COLOR_NAMES", "CONTOUR_BANDS", "CONTOUR_LINE_OPACITY",
    "CONTOUR_LINE_RGB", "CONTOUR_LINE_WIDTH", "CURVE_COLOR", "DASHES", "DIVERGED", "DIVERGED_MARK",
    "DRAW_ORDER", "FONT_FAMILY", "FRAME_COLOR", "HOMES", "LANDSCAPE", "LANDSCAPE_GRID", "LOCAL_MINIMUM",
    "MINIMUM", "MPL_FONTS", "MPL_LINESTYLES", "MPL_MARKERS", "OWNERS", "PALETTE", "PATH_OPACITY_FEW",
    "PATH_OPACITY_MANY", "SLOTS", "START", "SYMBOLS", "LandscapeScale", "Mark", "OptimizerLook",
    "color", "colors", "dash", "decade_label", "decade_ticks", "hex_rgb", "home", "landscape_cmap",
    "landscape_scale", "look_of", "mpl_linestyle", "mpl_marker", "rgba", "slots", "symbol",
]  # fmt: skip

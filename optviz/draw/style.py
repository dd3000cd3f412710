"""One look for every picture: the page (Plotly), the exported GIF/MP4 and the stills (matplotlib).

**Colours are fixed by the optimizer's name**, not assigned among those shown: Adam is the same
colour in a lesson, in the full field, in the export and in last week's screenshot, and adding
an optimizer mid-lecture never repaints the others. The price is that there are only
:data:`PALETTE`'s eight colours (more cannot stay apart for colour-blind viewers; see below),
so some optimizers share one. Each optimizer therefore also has a fixed **second cue**, a
marker shape and a line dash (:func:`symbol`, :func:`dash`, :func:`mpl_marker`,
:func:`mpl_linestyle`), and no two optimizers share both colour and cue. :func:`look_of`
gives the look of a selection: plain circles and solid lines while every colour shown is
unique (always true for up to eight well-chosen optimizers, and for the default field and every
group of :data:`optviz.optimizers.GROUPS`), shapes and dashes as soon as two shown optimizers
share a colour (always the case beyond eight).

The palette: eight colours picked, from Okabe & Ito's and Paul Tol's qualitative schemes and a
search of CIELAB, so that every pair stays apart under normal vision (CIEDE2000 ΔE ≥ 20) and
under simulated protanopia, deuteranopia and tritanopia (Machado et al. 2009, severity 1:
ΔE ≥ 11.6); the first five, given to the default field SGD, MSGD, NAG, RMSprop and Adam, by
ΔE ≥ 13.4. Every colour has a contrast of at least 3:1 on white (WCAG's rule for graphics),
so it reads on a washed-out projector, and stays apart from every colour of the landscape.
``tests/test_style.py`` checks all of this.

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

# ---------------------------------------------------------------------- optimizer colours
#: The eight optimizer colours, strongest first (the first five go to the default field).
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue (Okabe-Ito)
    "#E87400",  # orange (darkened to 3:1 on white)
    "#41A393",  # teal (Tol's muted teal, darkened)
    "#CC3311",  # red (Tol's vibrant red)
    "#882255",  # wine (Tol's muted wine)
    "#587C45",  # leaf green
    "#332288",  # indigo (Tol's muted indigo)
    "#8E81F4",  # lavender
)
#: A word for each colour of :data:`PALETTE`, for text that names them ("Adam, in red").
COLOR_NAMES: tuple[str, ...] = ("blue", "orange", "teal", "red", "wine", "green", "indigo", "lavender")

#: The second cue, by tier: tier 0 is a circle and a solid line (the look of every optimizer
#: while the colours shown are unique); tiers 1 and 2 tell apart optimizers sharing a colour.
SYMBOLS: tuple[str, ...] = ("circle", "square", "diamond")  # Plotly marker symbols
MPL_MARKERS: tuple[str, ...] = ("o", "s", "D")  # the same shapes in matplotlib
DASHES: tuple[str, ...] = ("solid", "dash", "dot")  # Plotly line dashes
#: The same dashes in matplotlib (on/off lengths in line widths, as Plotly draws them).
MPL_LINESTYLES: tuple[Any, ...] = ("-", (0, (3.0, 3.0)), (0, (1.0, 1.5)))

#: optimizer name -> (colour index, cue tier). Every group of optimizers.GROUPS and the default
#: field get distinct colours; optimizers that are often compared (RMSprop/RMSpropGraves,
#: Adam/AMSGrad, AdaBound/AMSBound, SantaE/SantaSSS, MSGD/CorrectedMomentumSGD) differ in colour.
_ASSIGNED: dict[str, tuple[int, int]] = {
    "SGD": (0, 0), "MSGD": (1, 0), "NAG": (2, 0), "RMSprop": (4, 0), "Adam": (3, 0),
    "AdaGrad": (5, 0), "AdaDelta": (6, 0), "AMSGrad": (7, 0),
    "AdaMax": (0, 1), "Nadam": (1, 1), "AMSBound": (2, 1), "CorrectedMomentumSGD": (3, 1),
    "SantaE": (4, 1), "Eve": (5, 1), "AdaBound": (6, 1), "DCASGD": (7, 1),
    "SantaSSS": (0, 2), "RMSpropGraves": (1, 2), "SMORMS3": (2, 2),
}  # fmt: skip
assert set(_ASSIGNED) == set(NAMES), "every optimizer needs a colour and a cue"
assert len(set(_ASSIGNED.values())) == len(_ASSIGNED), "colour and cue together must be unique"


def _slot(name: str) -> tuple[int, int]:
    """(colour index, tier) of ``name``; unknown labels get a stable slot from a hash of the name."""
    if name in _ASSIGNED:
        return _ASSIGNED[name]
    h = zlib.crc32(name.encode("utf-8"))
    return h % len(PALETTE), (h // len(PALETTE)) % len(SYMBOLS)


#: optimizer name -> hex colour
COLORS: dict[str, str] = {name: PALETTE[_slot(name)[0]] for name in NAMES}


def color(name: str) -> str:
    """The colour of optimizer ``name`` (a stable colour for unknown labels)."""
    return PALETTE[_slot(name)[0]]


def symbol(name: str) -> str:
    """``name``'s Plotly marker symbol (its second cue)."""
    return SYMBOLS[_slot(name)[1]]


def mpl_marker(name: str) -> str:
    """``name``'s matplotlib marker: the same shape as :func:`symbol`."""
    return MPL_MARKERS[_slot(name)[1]]


def dash(name: str) -> str:
    """``name``'s Plotly line dash (its second cue on lines)."""
    return DASHES[_slot(name)[1]]


def mpl_linestyle(name: str) -> Any:
    """``name``'s matplotlib linestyle: the same dash as :func:`dash`."""
    return MPL_LINESTYLES[_slot(name)[1]]


@dataclass(frozen=True)
class OptimizerLook:
    """How one optimizer is drawn, in both libraries."""

    color: str
    symbol: str  # Plotly marker symbol
    dash: str  # Plotly line dash
    mpl_marker: str
    mpl_linestyle: Any

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


def needs_second_cue(names: Iterable[str]) -> bool:
    """True when two of ``names`` share a colour (always when more than eight are shown)."""
    cols = [color(n) for n in names]
    return len(set(cols)) < len(cols)


def look_of(names: Iterable[str]) -> dict[str, OptimizerLook]:
    """The look of each optimizer of a selection, in the given order.

    Colours are always :func:`color`'s. Shapes and dashes are each optimizer's own
    (:func:`symbol`, :func:`dash`) when :func:`needs_second_cue`; otherwise every optimizer
    is a circle with a solid line, the calmest picture.
    """
    names = list(names)
    cue = needs_second_cue(names)
    out = {}
    for n in names:
        tier = _slot(n)[1] if cue else 0
        out[n] = OptimizerLook(color(n), SYMBOLS[tier], DASHES[tier], MPL_MARKERS[tier], MPL_LINESTYLES[tier])
    return out


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
    "BAND_OPACITY", "COLORS", "COLOR_NAMES", "CONTOUR_BANDS", "CONTOUR_LINE_OPACITY", "CONTOUR_LINE_RGB",
    "CONTOUR_LINE_WIDTH", "CURVE_COLOR", "DASHES", "DIVERGED", "DIVERGED_MARK", "DRAW_ORDER", "FONT_FAMILY",
    "FRAME_COLOR", "LANDSCAPE", "LANDSCAPE_GRID", "LOCAL_MINIMUM", "MINIMUM", "MPL_FONTS", "MPL_LINESTYLES",
    "MPL_MARKERS", "PALETTE", "PATH_OPACITY_FEW", "PATH_OPACITY_MANY", "START", "SYMBOLS", "LandscapeScale",
    "Mark", "OptimizerLook", "color", "dash", "decade_label", "decade_ticks", "hex_rgb", "landscape_cmap",
    "landscape_scale", "look_of", "mpl_linestyle", "mpl_marker", "needs_second_cue", "rgba", "symbol",
]  # fmt: skip

"""The dashboard's pictures as Plotly JSON, and its tables, drawn from a test function and results.

The live race is drawn in the browser (``optviz/live/assets/race.js``) from packed
numbers (:mod:`optviz.live.sweeps`); what it looks like is decided here, once, in Python:

- :func:`race_base`: the race's layout (axes on the function's box, the landscape picture under
  them, fonts) and its fixed traces (colour bar, minima, start rings; the curve in 1-D);
- :func:`optimizer_traces`: how each optimizer's path, marker and error curve are drawn (the
  page fills in the numbers);
- :func:`error_base`: the error chart's layout (log axis, tolerance line);
- :func:`surface_figure`: the animated 3-D view;
- :func:`results_table`, :func:`style_table`, :func:`diverged_notes`: the numbers under the race.

Colours, marker shapes, the landscape's colour map and the fixed markers come from
:mod:`optviz.draw.style`, which the exported GIF/MP4 (:mod:`optviz.draw.render`) uses too.
Everything here is pure: inputs in, plain dicts (Plotly's JSON form) or DataFrames out.
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from optviz.draw import style
from optviz.draw.style import CONTOUR_BANDS, LANDSCAPE

if TYPE_CHECKING:
    import pandas as pd

    from optviz.engine.result import Result

#: Pixels per side of the landscape picture under 2-D races.
IMAGE_PIXELS = 720
#: The floor of log-scaled error axes (distances and gaps can reach exactly 0).
LOG_FLOOR = 1e-16
#: Points of the 1-D curve f(x).
CURVE_POINTS = 600

KIND_SHORT = {"distance": "distance", "gap": "f − f*", "loss": "f(x)"}
#: Axis titles short enough for a small chart on a projector.
KIND_AXIS = {"distance": "distance to x*", "gap": "f(x) − f*", "loss": "f(x)"}


# ---------------------------------------------------------------------- look
@dataclass(frozen=True)
class Look:
    """Font sizes (pixels), line widths and marker sizes: normal screen or projector.

    On the projector every text is at least 18 px.
    """

    font: int
    tick: int
    path_width: float
    line_width: float
    marker: float
    scale: float  # for the fixed marks of :mod:`optviz.draw.style`

    @classmethod
    def of(cls, large_font: bool) -> Look:
        if large_font:
            return cls(font=20, tick=18, path_width=2.0, line_width=3.4, marker=14, scale=1.35)
        return cls(font=14, tick=12, path_width=1.4, line_width=2.4, marker=10, scale=1.0)


def font_of(look: Look) -> dict[str, Any]:
    """The figures' text font at ``look``'s size, as a Plotly font dict."""
    return {"size": look.font, "family": style.FONT_FAMILY, "color": "#222"}


def _axis(look: Look, title: str, rng: Any, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": title, "font": {"size": look.font}, "standoff": 4},
            "tickfont": {"size": look.tick}, "range": [float(rng[0]), float(rng[1])],
            "showgrid": False, "zeroline": False, "showline": True, "mirror": True,
            "linecolor": style.FRAME_COLOR, "ticks": "outside", "ticklen": 4, "fixedrange": True,
            "automargin": True, **extra}


def marker_of(mark: style.Mark, look: Look, **extra: Any) -> dict[str, Any]:
    """A fixed marker of :mod:`optviz.draw.style` as a Plotly marker dict."""
    m: dict[str, Any] = {"symbol": mark.symbol, "size": mark.size * look.scale,
                         "line": {"color": mark.edge, "width": mark.edge_width}}
    m["color"] = mark.fill if mark.fill is not None else mark.edge
    m.update(extra)
    return m


# ---------------------------------------------------------------------- landscape
def _box(fn: Any) -> np.ndarray:
    return np.asarray(fn.box, dtype=float)


def _fn_key(fn: Any) -> tuple:
    params = tuple(sorted(getattr(fn, "params", {}).items()))
    return getattr(fn, "name", id(fn)), getattr(fn, "dim", None), params, _box(fn).tobytes()


def _grid_values(fn: Any, box: np.ndarray, n: int) -> np.ndarray:
    """f on an ``n × n`` grid over the box; row 0 is the *top* (largest x₂), as in a picture."""
    xs = np.linspace(box[0, 0], box[0, 1], n)
    ys = np.linspace(box[1, 1], box[1, 0], n)
    X, Y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        return np.asarray(fn.value(np.stack([X.ravel(), Y.ravel()], axis=1)), dtype=float).reshape(n, n)


def _colormap(t: np.ndarray) -> np.ndarray:
    """:data:`optviz.draw.style.LANDSCAPE` at ``t`` in [0, 1] → RGB floats in [0, 1]."""
    stops = np.array([s for s, _ in LANDSCAPE])
    rgb = np.array([style.hex_rgb(c) for _, c in LANDSCAPE])
    return np.stack([np.interp(t, stops, rgb[:, i]) for i in range(3)], axis=-1)


@dataclass(frozen=True)
class Landscape:
    """The 2-D landscape: its picture (a JPEG data URI), colour scale and colour-bar range."""

    image: str
    scale: style.LandscapeScale
    zmin: float
    zmax: float


_LANDSCAPES: dict[tuple, Landscape] = {}


def landscape(fn: Any, pixels: int = IMAGE_PIXELS) -> Landscape:
    """The landscape of a 2-D ``fn`` over its box: :data:`CONTOUR_BANDS` filled bands of the
    shared colour map (log-spaced in f − f* where the function spans decades) with thin lines
    between them, as one picture. Drawn with NumPy (no matplotlib: the page's first chart does
    not wait for it) and cached per function."""
    key = (*_fn_key(fn), pixels)
    if key in _LANDSCAPES:
        return _LANDSCAPES[key]
    box = _box(fn)
    Z = _grid_values(fn, box, pixels)
    scale = style.landscape_scale(fn, Z)
    z = scale.transform(Z)
    levels = scale.levels(z)
    lo, hi = float(levels[0]), float(levels[-1])
    finite = np.isfinite(z)
    band = np.clip(np.digitize(np.where(finite, z, lo), levels[1:-1]), 0, CONTOUR_BANDS - 1)
    centres = (np.arange(CONTOUR_BANDS) + 0.5) / CONTOUR_BANDS
    rgb = _colormap(centres)[band]
    edge = np.zeros(band.shape, bool)
    edge[:, :-1] |= band[:, :-1] != band[:, 1:]
    edge[:-1, :] |= band[:-1, :] != band[1:, :]
    edge &= finite
    line = np.array(style.CONTOUR_LINE_RGB) / 255
    a = style.CONTOUR_LINE_OPACITY
    rgb = np.where(edge[..., None], (1 - a) * rgb + a * line, rgb)
    rgb = np.where(finite[..., None], rgb, 1.0)  # NaN (outside the domain) shows white
    from PIL import Image

    out = io.BytesIO()  # JPEG: a quarter of a PNG's bytes for these soft pictures
    Image.fromarray(np.round(255 * rgb).astype(np.uint8)).save(out, format="JPEG", quality=88)
    uri = "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")
    if len(_LANDSCAPES) >= 32:
        _LANDSCAPES.pop(next(iter(_LANDSCAPES)))
    _LANDSCAPES[key] = result = Landscape(uri, scale, lo, hi)
    return result


def colorbar(land: Landscape) -> dict[str, Any]:
    """The landscape's colour bar for the page to draw beside the race (HTML is cheaper to
    redraw than a Plotly colour bar): the label, the colour stops, and ticks at fractions of
    the range (whole decades on a log scale)."""
    lo, hi = land.zmin, land.zmax
    span = (hi - lo) or 1.0
    if land.scale.log:
        vals = style.decade_ticks(lo, hi, most=3)  # the bar is ~120 px wide: "0.010.1" ran together
        ticks = [[float((v - lo) / span), style.decade_label(int(v))] for v in vals]
    else:
        vals = np.linspace(lo, hi, 4)
        ticks = [[float((v - lo) / span), f"{v:.3g}"] for v in vals]
    return {"label": land.scale.label, "stops": [[float(t), c] for t, c in LANDSCAPE], "ticks": ticks}


def curve_1d(fn: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 1-D curve ``(xs, f(xs))`` over the box and the view ``[[x0, x1], [y0, y1]]`` around it."""
    box = _box(fn)
    xs = np.linspace(box[0, 0], box[0, 1], CURVE_POINTS)
    with np.errstate(all="ignore"):
        ys = np.asarray(fn.value(xs[:, None]), dtype=float)
    finite = ys[np.isfinite(ys)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    pad = 0.07 * (hi - lo or 1.0)
    return xs, ys, np.array([box[0], [lo - pad, hi + pad]])


def view_of(fn: Any) -> np.ndarray:
    """The drawn range ``[[x0, x1], [y0, y1]]``: the box in 2-D; x's box and f's range in 1-D."""
    return curve_1d(fn)[2] if fn.dim == 1 else _box(fn)


def _minima_traces(fn: Any, look: Look) -> list[dict[str, Any]]:
    out = []
    for attr, mark in (("local_minima", style.LOCAL_MINIMUM), ("minimizers", style.MINIMUM)):
        pts = np.asarray(getattr(fn, attr, ()), dtype=float).reshape(-1, fn.dim)
        if not pts.size:
            continue
        if fn.dim == 1:
            with np.errstate(all="ignore"):
                x, y = pts[:, 0], np.asarray(fn.value(pts), dtype=float)
            hover = f"{mark.label}<br>x = %{{x:.4g}}<br>f = %{{y:.4g}}<extra></extra>"
        else:
            x, y = pts[:, 0], pts[:, 1]
            hover = f"{mark.label}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>"
        out.append({"type": "scatter", "x": x.tolist(), "y": y.tolist(), "mode": "markers",
                    "name": mark.label, "marker": marker_of(mark, look), "hovertemplate": hover,
                    "meta": "minima"})
    return out


def _starts_trace(fn: Any, starts: np.ndarray, look: Look) -> dict[str, Any]:
    s = np.asarray(starts, dtype=float)
    if fn.dim == 1:
        with np.errstate(all="ignore"):
            y = np.asarray(fn.value(s[:, :1]), dtype=float)
        x = s[:, 0]
        hover = "start<br>x = %{x:.4g}<extra></extra>"
    else:
        x, y = s[:, 0], s[:, 1]
        hover = "start<br>(%{x:.4g}, %{y:.4g})<extra></extra>"
    ok = np.isfinite(x) & np.isfinite(y)
    return {"type": "scatter", "x": np.where(ok, x, np.nan).tolist(), "y": np.where(ok, y, np.nan).tolist(),
            "mode": "markers", "name": "start", "marker": marker_of(style.START, look),
            "hovertemplate": hover, "meta": "starts"}


def lane_domain(n_optimizers: int) -> list[float]:
    """In 1-D, the bottom strip where each optimizer has its own lane (a share of the height)."""
    return [0.0, float(min(0.34, 0.06 + 0.02 * n_optimizers))]


def race_base(fn: Any, starts: np.ndarray, names: list[str], *, large_font: bool = False) -> dict[str, Any]:
    """The race's fixed part: ``{"data": fixed traces, "layout": layout, "order": ...}``.

    ``data`` holds, bottom to top, what does not move (1-D: the curve), ``above`` the minima and
    the start rings, ``colorbar`` the landscape's colour bar (2-D, :func:`colorbar`); the page inserts the
    optimizers' paths below the minima and their markers above them, and the diverged crosses
    on top (:data:`optviz.draw.style.DRAW_ORDER`). 2-D: the landscape is a picture under the axes,
    exactly over the box. 1-D: the curve f(x) as in the article, and below it a strip of lanes,
    one per optimizer, where every optimizer's point stays visible when several sit at the same x.
    """
    look = Look.of(large_font)
    layout: dict[str, Any] = {
        "font": font_of(look), "paper_bgcolor": "white", "plot_bgcolor": "white",
        "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
        "showlegend": False, "dragmode": False, "hovermode": "closest",
        "hoverlabel": {"font": {"size": look.font}},
    }
    below: list[dict[str, Any]] = []
    if fn.dim == 2:
        land = landscape(fn)
        box = _box(fn)
        layout["images"] = [{
            "source": land.image, "xref": "x", "yref": "y", "x": float(box[0, 0]), "y": float(box[1, 1]),
            "sizex": float(box[0, 1] - box[0, 0]), "sizey": float(box[1, 1] - box[1, 0]),
            "sizing": "stretch", "layer": "below", "xanchor": "left", "yanchor": "top",
        }]
        layout["xaxis"] = _axis(look, "x₁", box[0])
        layout["yaxis"] = _axis(look, "x₂", box[1])
    else:
        xs, ys, view = curve_1d(fn)
        lanes = lane_domain(len(names))
        ys = np.where(np.isfinite(ys), ys, np.nan)
        below.append({"type": "scatter", "x": xs.tolist(), "y": ys.tolist(),
                      "mode": "lines", "name": "f(x)", "hoverinfo": "skip", "meta": "curve",
                      "line": {"color": style.CURVE_COLOR, "width": look.line_width}})
        layout["xaxis"] = _axis(look, "x", view[0], anchor="y2")
        layout["yaxis"] = _axis(look, "f(x)", view[1], domain=[lanes[1] + 0.06, 1.0])
        # lane k at y = k, the first optimizer on top; named while the lanes are tall enough
        named = len(names) <= 8
        layout["yaxis2"] = _axis(look, "", [max(len(names), 1) - 0.4, -0.6], domain=lanes, ticks="",
                                 showticklabels=named, tickvals=list(range(len(names))), ticktext=names,
                                 tickfont={"size": look.tick - 2})
        layout["annotations"] = [{"xref": "paper", "yref": "paper", "x": 0.0, "y": lanes[1],
                                  "xanchor": "left", "yanchor": "bottom", "showarrow": False,
                                  "text": "where each optimizer is, one lane each",
                                  "font": {"size": look.tick, "color": "#666"}}]
    above = [*_minima_traces(fn, look), _starts_trace(fn, starts, look)]
    return {"data": below, "above": above, "layout": layout,
            "colorbar": colorbar(landscape(fn)) if fn.dim == 2 else None}


def optimizer_traces(names: list[str], n_points: int, *,
                     large_font: bool = False) -> dict[str, dict[str, Any]]:
    """How each optimizer is drawn: ``{name: {"color", "path", "marker", "lane", "median", "band"}}``,
    trace templates without their numbers, in the colour, marker shape and dash of each one's slot
    among ``names`` (:func:`optviz.draw.style.look_of`)."""
    look = Look.of(large_font)
    looks = style.look_of(names)
    many = n_points > 3
    out = {}
    for name in names:
        lk = looks[name]
        out[name] = {
            "color": lk.color, "symbol": lk.symbol, "dash": lk.dash,
            "path": {"type": "scatter", "mode": "lines", "name": name, "hoverinfo": "skip",
                     "line": {"color": lk.color, "width": look.path_width * (0.9 if many else 1.6),
                              "dash": lk.dash},
                     "opacity": style.PATH_OPACITY_MANY if many else style.PATH_OPACITY_FEW},
            "marker": {"type": "scatter", "mode": "markers", "name": name,
                       "marker": {"color": lk.color, "symbol": lk.symbol, "size": look.marker,
                                  "line": {"color": lk.marker_edge, "width": 1}},
                       "hovertemplate": f"<b>{name}</b><br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>"},
            "median": {"type": "scatter", "mode": "lines", "name": name,
                       "line": {"color": lk.color, "width": look.line_width * 0.8, "dash": lk.dash},
                       "hovertemplate": f"<b>{name}</b><br>step %{{x}}<br>%{{y:.3g}}<extra></extra>"},
            "band": {"type": "scatter", "mode": "lines", "name": name, "fill": "toself", "hoverinfo": "skip",
                     "fillcolor": style.rgba(lk.color, style.BAND_OPACITY), "line": {"width": 0}},
        }
    return out


def cross_trace(*, large_font: bool = False) -> dict[str, Any]:
    """The diverged crosses (all optimizers): where each diverged point was last seen."""
    look = Look.of(large_font)
    return {"type": "scatter", "mode": "markers", "name": "diverged", "x": [], "y": [], "text": [],
            "marker": marker_of(style.DIVERGED_MARK, look), "hovertemplate": "%{text}<extra></extra>",
            "meta": "diverged"}


def error_base(kind: str, steps: int, tol: float | None, n_points: int, *, large_font: bool = False,
               log: bool = True) -> dict[str, Any]:
    """The error chart's layout: the error (``kind``) against step, log-scaled, with the
    tolerance as a dashed line; the page adds each optimizer's median and 25–75 % band."""
    look = Look.of(large_font)
    if n_points > 1:
        what = "median, 25–75 %" if large_font else f"median of {n_points} starts, band 25–75 %"
    else:
        what = "one start"
    layout: dict[str, Any] = {
        "font": font_of(look), "paper_bgcolor": "white", "plot_bgcolor": "white", "showlegend": False,
        "margin": {"l": 8, "r": 8, "t": look.font + 14, "b": 8}, "dragmode": False, "hovermode": "closest",
        "hoverlabel": {"font": {"size": look.font}},
        "title": {"text": f"Error per step: {what}" if large_font else f"Error per step ({what})",
                  "font": {"size": look.font}, "x": 0.0, "xanchor": "left",
                  "y": 1.0, "yanchor": "top", "pad": {"t": 4, "l": 4}},
        "xaxis": _axis(look, "step", [0, max(int(steps), 1)], showgrid=True, gridcolor="#eee"),
        "yaxis": {**_axis(look, KIND_AXIS[kind], [0, 1], showgrid=True, gridcolor="#eee"),
                  "type": "log" if log else "linear", "exponentformat": "power", "autorange": True},
    }
    layout["yaxis"].pop("range")
    # shape 0: the step now shown (the page moves it while the race plays)
    layout["shapes"] = [{"type": "line", "xref": "x", "x0": 0, "x1": 0, "yref": "paper", "y0": 0, "y1": 1,
                         "line": {"color": "rgba(40,40,40,0.35)", "width": 1.5}}]
    if tol is not None and kind != "loss":
        layout["shapes"].append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": tol,
                                 "y1": tol, "line": {"color": "#444", "dash": "dash", "width": 1}})
        layout["annotations"] = [{"xref": "paper", "x": 1, "xanchor": "right", "yref": "y",
                                  "y": float(np.log10(tol)) if log else tol, "yanchor": "bottom",
                                  "text": f"tol = {tol:g}", "showarrow": False,
                                  "font": {"size": look.tick, "color": "#444"}}]
    return {"layout": layout, "floor": LOG_FLOOR if log else None}


# ---------------------------------------------------------------------- error curves
#: At most this many rows per error curve (strided beyond).
MAX_CURVE_POINTS = 1000


def error_curves(result: Result, kind: str = "auto", rows: np.ndarray | None = None):
    """Per optimizer, the 25/50/75 % quantiles ("nearest") of the error over the starts at the
    recorded ``rows`` (default: all, strided to at most :data:`MAX_CURVE_POINTS`): the page's
    median line and band. A diverged point counts as an infinite error from its divergence step
    on, so a median stops (NaN) once half the points have diverged.

    Returns ``(kind, steps, {name: (q25, q50, q75)})``.
    """
    kind = result.error_kind(kind)
    rec = np.asarray(result.recorded_steps)
    if rows is None:
        n = len(rec)
        rows = np.arange(n) if n <= MAX_CURVE_POINTS else np.unique(
            np.round(np.linspace(0, n - 1, MAX_CURVE_POINTS)).astype(int))
    errs = result.errors_until_divergence(kind)
    out = {}
    for name in result.names:
        q = error_quantiles(np.asarray(errs[name], dtype=float)[rows])
        out[name] = (q[0], q[1], q[2])
    return kind, rec[rows], out


def error_quantiles(errors: np.ndarray) -> np.ndarray:
    """``(3, rows)``: the 25, 50 and 75 % quantiles ("nearest") over the starts of ``errors``
    ``(rows, n_points)``, where a non-finite error (a diverged point) counts as infinitely bad
    and a quantile that is infinite shows as NaN (the line stops)."""
    e = np.where(np.isfinite(errors), errors, np.inf)
    with np.errstate(all="ignore"):
        q = np.quantile(e, [0.25, 0.5, 0.75], axis=1, method="nearest")
    return np.where(np.isfinite(q), q, np.nan)


# ---------------------------------------------------------------------- 3-D surface
def surface_figure(result: Result, *, large_font: bool = False, resolution: int = 80,
                   height: int | None = None, max_frames: int = 60) -> dict[str, Any]:
    """The 3-D view: f over the box as a surface (log10(f − f*) where it spans decades) with
    every path on it and a marker per start, animated like the 2-D race (Play, Pause and a
    step slider). Returns the figure as a dict for ``st.plotly_chart``."""
    if result.dim != 2:
        raise ValueError("the 3-D view needs a 2-D function")
    look = Look.of(large_font)
    fn = result.function
    box = _box(fn)
    xs = np.linspace(box[0, 0], box[0, 1], resolution)
    ys = np.linspace(box[1, 0], box[1, 1], resolution)
    X, Y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        Z = np.asarray(fn.value(np.stack([X.ravel(), Y.ravel()], axis=1)), dtype=float).reshape(X.shape)
    scale = style.landscape_scale(fn, Z)
    z = scale.transform(Z)
    zf = z[np.isfinite(z)]
    lift = 0.012 * float(np.ptp(zf)) if zf.size else 0.0
    data: list[dict[str, Any]] = [{
        "type": "surface", "x": xs.tolist(), "y": ys.tolist(),
        "z": np.where(np.isfinite(z), z, None).tolist(),
        "colorscale": LANDSCAPE, "showscale": False, "opacity": 0.92, "hoverinfo": "skip",
        "contours": {"z": {"show": True, "color": "rgba(60,75,100,0.35)", "width": 1}},
    }]
    rec = np.asarray(result.recorded_steps)
    rows = np.unique(np.round(np.linspace(0, len(rec) - 1, min(max_frames, len(rec)))).astype(int))
    looks = style.look_of(result.names)

    def lifted(name: str, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        traj = np.asarray(result.trajectories[name], dtype=float)[sel]
        loss = np.asarray(result.losses[name], dtype=float)[sel]
        inside = np.all((traj >= box[:, 0]) & (traj <= box[:, 1]), axis=-1)
        d = np.asarray(result.diverged_step[name])
        gone = (d[None, :] >= 0) & (rec[sel][:, None] >= d[None, :])
        keep = inside & ~gone
        with np.errstate(all="ignore"):
            zz = np.where(keep, scale.transform(loss) + lift, np.nan)
        return np.where(keep, traj[..., 0], np.nan), np.where(keep, traj[..., 1], np.nan), zz

    def nan_list(a: np.ndarray) -> list:
        return [None if not np.isfinite(v) else round(float(v), 6) for v in np.ravel(a)]

    path_rows = np.unique(np.round(np.linspace(0, len(rec) - 1, min(300, len(rec)))).astype(int))
    for name in result.names:
        px, py, pz = lifted(name, path_rows)
        sep = np.full((1, px.shape[1]), np.nan)
        data.append({"type": "scatter3d", "mode": "lines", "name": name, "showlegend": False,
                     "x": nan_list(np.concatenate([px, sep]).T), "y": nan_list(np.concatenate([py, sep]).T),
                     "z": nan_list(np.concatenate([pz, sep]).T), "hoverinfo": "skip",
                     "line": {"color": looks[name].color, "width": look.line_width * 1.4}})
    moving = []
    last = {name: lifted(name, rows) for name in result.names}
    for name in result.names:
        mx, my, mz = (a[-1] for a in last[name])
        moving.append(len(data))
        data.append({"type": "scatter3d", "mode": "markers", "name": name,
                     "x": nan_list(mx), "y": nan_list(my), "z": nan_list(mz),
                     "marker": {"color": looks[name].color, "size": look.marker * 0.5,
                                "line": {"color": "white", "width": 1}},
                     "hovertemplate": f"<b>{name}</b><extra></extra>"})
    frames = []
    for i, row in enumerate(rows):
        frames.append({"name": str(int(rec[row])), "traces": moving,
                       "data": [{"type": "scatter3d", "x": nan_list(last[n][0][i]),
                                 "y": nan_list(last[n][1][i]), "z": nan_list(last[n][2][i])}
                                for n in result.names]})
    still = {"frame": {"duration": 0, "redraw": True}, "mode": "immediate", "transition": {"duration": 0}}
    layout = {
        "font": font_of(look), "height": height, "margin": {"l": 0, "r": 0, "t": 40, "b": 0},
        "paper_bgcolor": "white", "uirevision": f"surface-{fn.name}",
        "legend": {"font": {"size": look.font}, "x": 0.0, "y": 1.0},
        "scene": {"xaxis": {"title": {"text": "x₁"}, "range": box[0].tolist()},
                  "yaxis": {"title": {"text": "x₂"}, "range": box[1].tolist()},
                  "zaxis": {"title": {"text": "log₁₀(f − f*)" if scale.log else "f"}}, "aspectmode": "cube"},
        "updatemenus": [{"type": "buttons", "direction": "left", "x": 0.0, "xanchor": "left", "y": 1.06,
                         "yanchor": "bottom", "showactive": False, "font": {"size": look.font},
                         "buttons": [{"label": "▶ Play", "method": "animate",
                                      "args": [None, {"frame": {"duration": 80, "redraw": True},
                                                      "transition": {"duration": 0}, "fromcurrent": True,
                                                      "mode": "immediate"}]},
                                     {"label": "❚❚ Pause", "method": "animate", "args": [[None], still]}]}],
        "sliders": [{"active": len(frames) - 1, "x": 0.0, "len": 1.0, "y": 0.0, "yanchor": "top",
                     "currentvalue": {"prefix": "step ", "font": {"size": look.font}},
                     "font": {"size": look.tick, "color": "rgba(0,0,0,0)"}, "ticklen": 0, "minorticklen": 0,
                     "transition": {"duration": 0},
                     "steps": [{"label": f["name"], "method": "animate", "args": [[f["name"]], still]}
                               for f in frames]}],
    }
    return {"data": data, "layout": layout, "frames": frames}


# ---------------------------------------------------------------------- table and notes
def results_table(result: Result, kind: str = "auto", tol: float = 1e-3) -> pd.DataFrame:
    """The ranked summary of :meth:`Result.summary` as a DataFrame ready for ``st.dataframe``."""
    import pandas as pd  # only the dashboard needs tables (pandas comes with streamlit)

    kind = result.error_kind(kind)
    short = KIND_SHORT[kind]
    data = []
    for r in result.summary(kind, tol):
        data.append({
            "rank": r["rank"],
            "optimizer": r["optimizer"],
            "converged %": np.nan if r["converged"] is None else round(100.0 * r["converged"], 1),
            "median steps to tol": np.nan if r["steps_to_tol"] is None else float(r["steps_to_tol"]),
            f"median final {short}": np.nan if r["final_median"] is None else r["final_median"],
            f"best final {short}": np.nan if r["final_best"] is None else r["final_best"],
            "diverged": f"{r['diverged']}/{r['n_points']}",
        })
    df = pd.DataFrame(data)
    if kind == "loss":
        df = df.drop(columns=["converged %", "median steps to tol"])
    return df.set_index("rank")


def style_table(df: pd.DataFrame, large_font: bool = False):
    """The table for display: numbers as short text ("—" where there is none), optimizer names
    in their colour. Returns a pandas Styler."""
    import pandas as pd

    def fmt(col: str, v: Any) -> str:
        if v is None or pd.isna(v):
            return "—"
        if col == "converged %":
            return f"{v:g} %"
        if col == "median steps to tol":
            return f"{v:.0f}"
        return f"{v:.3g}"

    shown = df.copy()
    for col in df.columns:
        if col in ("converged %", "median steps to tol") or col.startswith(("median final", "best final")):
            shown[col] = [fmt(col, v) for v in df[col]]
    colors = style.colors(shown["optimizer"])  # as the charts of these optimizers draw them
    styler = shown.style.map(lambda v: f"color: {colors.get(v, style.color(v))}; font-weight: 600",
                             subset=["optimizer"])
    if large_font:
        styler = styler.set_properties(**{"font-size": "1.2em"})
    return styler


def diverged_notes(result: Result) -> list[str]:
    """One sentence per optimizer with diverged points (empty when none diverged)."""
    notes = []
    for name in result.names:
        d = np.asarray(result.diverged_step[name])
        k = int((d >= 0).sum())
        if k:
            first = int(d[d >= 0].min())
            lr_names = [h for h in result.hyperparams[name] if _is_lr(name, h)]
            hint = f" Try a smaller {' / '.join(lr_names)}." if lr_names else ""
            notes.append(f"**{name}**: {k} of {result.n_points} point{'s' * (result.n_points != 1)} "
                         f"diverged (first at step {first}).{hint}")
    return notes


@functools.lru_cache(maxsize=256)
def _is_lr(name: str, hp: str) -> bool:
    from optviz.optimizers import REGISTRY

    spec = REGISTRY.get(name)
    if spec is None:
        return False
    try:
        return spec.hyperparam(hp).lr
    except KeyError:
        return False


def all_diverged(result: Result) -> bool:
    """True when every point of every optimizer diverged."""
    return all(bool(np.all(np.asarray(v) >= 0)) for v in result.diverged_step.values())


__all__ = [
    "CONTOUR_BANDS", "LANDSCAPE", "Landscape", "Look", "all_diverged", "colorbar", "cross_trace", "curve_1d",
    "diverged_notes", "error_base", "error_curves", "error_quantiles", "landscape", "optimizer_traces",
    "race_base", "results_table", "style_table", "surface_figure", "view_of",
]  # fmt: skip


# ---------------------------------------------------------------------- a Plotly player
def player(labels: Iterable[Any], *, frame_ms: int, redraw: bool) -> dict[str, Any]:
    """A ▶ Play button and a step slider under a figure's plot (layout keys ``updatemenus`` and
    ``sliders``) for frames named ``str(label)``, standing at the last. The figure leaves its
    bottom margin for them (about 120 px below the axis title); ``redraw`` for traces Plotly
    cannot animate in place (contours, heat maps)."""
    names = [str(v) for v in labels]
    play = {"frame": {"duration": frame_ms, "redraw": redraw}, "fromcurrent": True,
            "transition": {"duration": 0}}
    jump = {"mode": "immediate", "frame": {"duration": 0, "redraw": redraw}}
    return {
        "updatemenus": [{"type": "buttons", "x": 0.0, "y": 0.0, "xanchor": "left", "yanchor": "top",
                         "pad": {"t": 70}, "showactive": False,
                         "buttons": [{"label": "▶ Play", "method": "animate", "args": [None, play]}]}],
        "sliders": [{"currentvalue": {"prefix": "step "}, "x": 0.12, "len": 0.88, "y": 0.0, "yanchor": "top",
                     "pad": {"t": 50}, "active": len(names) - 1,
                     "steps": [{"label": n, "method": "animate", "args": [[n], jump]} for n in names]}],
    }

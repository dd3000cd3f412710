"""Plotly figures (and the results table) drawn from a :class:`~optviz.result.Result`.

Everything here is pure: a ``Result`` in, a ``plotly.graph_objects.Figure`` (or a pandas
``DataFrame``) out. No optimizer step is computed here; the only evaluations are of the test
function itself, to draw its landscape.

>>> import optviz, optviz.plots as P
>>> res = optviz.run("rosenbrock", ["Adam", "NAG"], starts=[[-1.5, 2.0]], steps=50)
>>> fig = P.trajectory_figure(res)          # contour + paths + animation frames
>>> len(fig.frame_dicts) == len(P.frame_rows(res))
True
"""

from __future__ import annotations

import base64
import functools
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go

from .result import Result
from .style import CONTOUR_BANDS, DIVERGED, LANDSCAPE, color

if TYPE_CHECKING:
    import pandas as pd

#: At most this many animation frames (recorded rows are strided to fit): the starts and up to 100
#: steps, so a 100-step run shows every step and a 300-step run every third. More frames and slider
#: steps make every redraw in the browser slower.
MAX_FRAMES = 101
#: Moving points over all frames (frames are cut below ``MAX_FRAMES`` past this) and recorded
#: rows over all drawn paths, so that big scenes stay responsive in a browser.
FRAME_BUDGET = 200_000
PATH_BUDGET = 200_000
#: At most this many points per drawn path / error curve (strided beyond).
MAX_PATH_POINTS = 1000
#: The floor of log-scaled plots (distances and gaps can reach exactly 0).
LOG_FLOOR = 1e-16

#: Pixels per side of the landscape picture under 2-D races, and its contour bands.
IMAGE_PIXELS = 800
#: Grid points per side where f is evaluated for the landscape.
GRID_POINTS = 240

KIND_LABELS = {
    "distance": "distance to the nearest minimizer  ‖x − x*‖",
    "gap": "f(x) − f*",
    "loss": "f(x)",
}
KIND_SHORT = {"distance": "distance", "gap": "f − f*", "loss": "f(x)"}


# ---------------------------------------------------------------------- look
@dataclass(frozen=True)
class Look:
    """Font sizes, line widths and marker sizes: normal screen or projector."""

    font: int
    title: int
    tick: int
    path_width: float
    line_width: float
    marker: int
    star: int
    local: int
    cross: int

    @classmethod
    def of(cls, large_font: bool) -> Look:
        if large_font:
            return cls(font=20, title=26, tick=18, path_width=2.2, line_width=4.0, marker=15,
                       star=26, local=14, cross=14)
        return cls(font=14, title=18, tick=12, path_width=1.4, line_width=2.4, marker=10, star=19,
                   local=10, cross=9)


@functools.lru_cache(maxsize=1)
def _template_json() -> str:
    import json

    import plotly.io as pio

    return json.dumps(pio.templates["plotly_white"].to_plotly_json())


def _template() -> dict[str, Any]:
    """The ``plotly_white`` template as a plain dict (figures here skip graph_objects validation)."""
    import json

    return json.loads(_template_json())


def _base_layout(look: Look, title: str | None, height: int | None) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "template": _template(),
        "font": {"size": look.font, "family": "Inter, Segoe UI, Helvetica, Arial, sans-serif"},
        "margin": {"l": 10, "r": 10, "t": 60 if title else 20, "b": 10},
        "legend": {"font": {"size": look.font}, "itemsizing": "constant",
                   "bgcolor": "rgba(255,255,255,0.85)", "tracegroupgap": 0},
        "hoverlabel": {"font": {"size": look.font}},
    }
    if title:
        layout["title"] = {"text": title, "font": {"size": look.title}, "x": 0.01, "xanchor": "left"}
    if height:
        layout["height"] = height
    return layout


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _f32(a: np.ndarray) -> np.ndarray:
    """Float32 copy: halves the JSON the browser receives; NaN stays NaN (a gap in lines)."""
    return np.ascontiguousarray(a, dtype=np.float32)


def _b64(a: np.ndarray) -> dict[str, str]:
    """Plotly's typed-array JSON form ``{"dtype", "bdata"}`` of a float32 copy of ``a``."""
    arr = _f32(a).astype("<f4", copy=False)
    return {"dtype": "f4", "bdata": base64.b64encode(arr.tobytes()).decode("ascii")}


class AnimatedFigure(go.Figure):
    """A ``go.Figure`` whose animation frames are kept as ready-to-send dicts.

    Building a few thousand small frame traces through ``graph_objects`` validation costs
    seconds; these frames are already in Plotly's JSON form (typed arrays in base64), so they
    are added only when the figure is serialised (:meth:`to_dict`, hence ``to_json``,
    ``write_html``, ``st.plotly_chart``). Read them with :attr:`frame_dicts`.
    """

    def __init__(self, *args: Any, raw_frames: list[dict[str, Any]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._raw_frames = list(raw_frames or [])

    @property
    def frame_dicts(self) -> list[dict[str, Any]]:
        """The animation frames: ``{"name", "data", "traces"}`` each."""
        return self._raw_frames

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self._raw_frames:
            out["frames"] = [{**f, "data": [dict(d) for d in f["data"]]} for f in self._raw_frames]
        return out


# ---------------------------------------------------------------------- rows shown
def frame_rows(result: Result, max_frames: int = MAX_FRAMES) -> np.ndarray:
    """Indices of the recorded rows that become animation frames: all, or strided to ``max_frames``.

    The first (the starts) and the last row are always included.
    """
    n = len(result.recorded_steps)
    if max_frames < 2:
        raise ValueError(f"max_frames must be >= 2, got {max_frames}")
    if n <= max_frames:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max_frames)).astype(int))


def _path_rows(result: Result, max_points: int = MAX_PATH_POINTS) -> np.ndarray:
    return frame_rows(result, max_points)


def _div_steps(result: Result, name: str) -> np.ndarray:
    return np.asarray(result.diverged_step[name])


def _box(result: Result) -> np.ndarray:
    return np.asarray(result.function.box, dtype=float)


# ---------------------------------------------------------------------- landscape
def _grid(box: np.ndarray, fn: Any, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs = np.linspace(box[0, 0], box[0, 1], n)
    ys = np.linspace(box[1, 0], box[1, 1], n)
    X, Y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        Z = np.asarray(fn.value(np.stack([X.ravel(), Y.ravel()], axis=1)), dtype=float).reshape(n, n)
    return xs, ys, Z


def _fn_key(fn: Any, box: np.ndarray, n: int) -> tuple:
    params = tuple(sorted(getattr(fn, "params", {}).items()))
    return (getattr(fn, "name", id(fn)), getattr(fn, "dim", None), params, box.tobytes(), n)


_LANDSCAPES: dict[tuple, Any] = {}


def _cached(key: tuple, make):
    """A small FIFO cache of landscapes (test functions are rebuilt per run, so key by value)."""
    if key not in _LANDSCAPES:
        if len(_LANDSCAPES) >= 32:
            _LANDSCAPES.pop(next(iter(_LANDSCAPES)))
        _LANDSCAPES[key] = make()
    return _LANDSCAPES[key]


def _landscape_values(fn: Any, box: np.ndarray, n: int):
    """Grid, transformed values (log10(f − f*) where the function spans decades), levels, colour range."""

    def make():
        xs, ys, Z = _grid(box, fn, n)
        levels = _levels(fn, Z)
        z = levels.transform(Z)
        zf = z[np.isfinite(z)]
        zmin, zmax = (float(zf.min()), float(zf.max())) if zf.size else (0.0, 1.0)
        if not levels.log and zf.size:
            # Keep a few extreme values from washing out the colours.
            zmin, zmax = (float(v) for v in np.percentile(zf, [0.5, 99.5]))
        return xs, ys, z, levels, (zmin, max(zmax, zmin + 1e-12))

    return _cached(("values", *_fn_key(fn, box, n)), make)


def _landscape_png(fn: Any, box: np.ndarray, n: int) -> str:
    """The landscape as a JPEG data URI: filled contours with their lines (matplotlib, anti-aliased),
    exactly covering the box (NaN shows white). Cached per function and box."""

    def make() -> str:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.colors import LinearSegmentedColormap
        from matplotlib.figure import Figure

        xs, ys, z, _, (zmin, zmax) = _landscape_values(fn, box, n)
        cmap = LinearSegmentedColormap.from_list("landscape", [(s, c) for s, c in LANDSCAPE]).with_extremes(
            bad="white")
        levels = np.linspace(zmin, zmax, CONTOUR_BANDS + 1)
        fig = Figure(figsize=(IMAGE_PIXELS / 100, IMAGE_PIXELS / 100), dpi=100)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        zz = np.ma.masked_invalid(np.clip(z, zmin, zmax))
        ax.contourf(xs, ys, zz, levels=levels, cmap=cmap, extend="both", antialiased=True)
        ax.contour(xs, ys, zz, levels=levels[1:-1], colors=[(60 / 255, 75 / 255, 100 / 255, 0.45)],
                   linewidths=0.7, negative_linestyles="solid")
        ax.set_xlim(box[0])
        ax.set_ylim(box[1])
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        from PIL import Image

        out = io.BytesIO()  # JPEG: a quarter of the PNG's bytes for these soft anti-aliased pictures
        Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3]).save(out, format="JPEG", quality=85)
        return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")

    return _cached(("png", *_fn_key(fn, box, n)), make)


@dataclass(frozen=True)
class Levels:
    """How f is coloured: raw, or log10(f − f* + floor) for functions spanning decades."""

    log: bool
    fmin: float
    floor: float

    def transform(self, f: np.ndarray) -> np.ndarray:
        f = np.asarray(f, dtype=float)
        if not self.log:
            return f
        with np.errstate(all="ignore"):
            return np.log10(np.maximum(f - self.fmin, 0.0) + self.floor)

    def colorbar(self, lo: float, hi: float, look: Look) -> dict[str, Any]:
        # Horizontal, above the plot on the right: the legend keeps the right-hand side.
        bar: dict[str, Any] = {"orientation": "h", "thickness": 8 + look.tick // 2, "len": 0.5,
                               "x": 1.0, "xanchor": "right", "y": 1.005, "yanchor": "bottom",
                               "tickfont": {"size": look.tick}, "outlinewidth": 0,
                               "ticks": "outside", "ticklen": 3, "ticklabelposition": "outside top"}
        if not self.log:
            bar["title"] = {"text": "f  ", "font": {"size": look.font}}
            return bar
        ticks = np.arange(np.ceil(lo), np.floor(hi) + 1)
        if len(ticks) > 8:
            ticks = ticks[:: int(np.ceil(len(ticks) / 8))]
        bar["tickvals"] = ticks.tolist()
        bar["ticktext"] = [_decade(int(t)) for t in ticks]
        bar["title"] = {"text": "f − f*  ", "font": {"size": look.font}}
        return bar


def _decade(k: int) -> str:
    if -2 <= k <= 3:
        return f"{10.0 ** k:g}"
    return f"1e{k}"


def _levels(fn: Any, Z: np.ndarray) -> Levels:
    finite = Z[np.isfinite(Z)]
    if not getattr(fn, "log_levels", False) or finite.size == 0:
        return Levels(False, 0.0, 1.0)
    fmin = float(fn.fmin) if fn.fmin is not None else float(finite.min())
    span = float(finite.max() - fmin)
    floor = max(span * 1e-6, 1e-12)
    return Levels(True, fmin, floor)


# ---------------------------------------------------------------------- trajectory figure
def trajectory_figure(
    result: Result,
    *,
    large_font: bool = False,
    max_frames: int = MAX_FRAMES,
    resolution: int | None = None,
    height: int | None = None,
    title: str | None = None,
    frame_ms: int = 70,
    landscape: str = "image",
) -> AnimatedFigure:
    """The race: the function's landscape with every optimizer's path and an animated marker.

    1-D functions: the curve f(x) over the box with a dot per optimizer and start, as in the
    source article. 2-D functions: filled contours (log-spaced where the function spans decades),
    every path drawn (thin and faint when there are many starts), global minima as stars and
    local minima as small diamonds. Play/pause buttons and a step slider drive Plotly frames, one
    per shown step (:func:`frame_rows`); each frame updates only the moving markers and the
    diverged crosses. A diverged point's marker disappears at its divergence step and a black
    cross stays where it was last seen inside the box. Axes stay on the function's box.
    """
    if result.dim not in (1, 2):
        raise ValueError(f"trajectory plots need a 1-D or 2-D function; this one is {result.dim}-D")
    look = Look.of(large_font)
    # Big scenes (many optimizers × starts) get fewer frames, to keep the page responsive.
    n_paths = max(1, len(result.names) * result.n_points)
    rows = frame_rows(result, max(2, min(max_frames, FRAME_BUDGET // n_paths)))
    fn = result.function
    if result.dim == 1:
        traces, view, axes = _landscape_1d(result, look, resolution or 400)
    else:
        traces, view, axes = _landscape_2d(result, look, resolution, landscape)

    pos = {name: _positions(result, name) for name in result.names}
    marks = _divergence_marks(result, pos, view)

    moving: list[int] = []
    for name in result.names:
        p = pos[name][rows[0]]
        moving.append(len(traces))
        hover = "x=%{x:.4g}<br>f=%{y:.4g}" if result.dim == 1 else "(%{x:.4g}, %{y:.4g})"
        traces.append({
            "type": "scatter", "x": _f32(p[:, 0]), "y": _f32(p[:, 1]), "mode": "markers",
            "name": name, "legendgroup": name,
            "marker": {"color": color(name), "size": look.marker + 2 * (result.dim == 1),
                       "line": {"color": "white", "width": 1}},
            "hovertemplate": f"<b>{name}</b><br>{hover}<extra></extra>",
        })
    cross = len(traces)
    traces.append({
        "type": "scatter", "x": _f32(marks.frame(0)[0]), "y": _f32(marks.frame(0)[1]), "mode": "markers",
        "name": "diverged", "text": marks.text, "hovertemplate": "%{text}<extra></extra>",
        "marker": {"symbol": "x", "size": look.cross, "color": DIVERGED, "line": {"width": 1}},
        "showlegend": bool(marks.text),
    })

    frames = []
    for row in rows:
        step = int(result.recorded_steps[row])
        data = []
        for name in result.names:
            d = _div_steps(result, name)
            gone = (d >= 0) & (d <= step)
            p = pos[name][row]
            q = np.where(gone[:, None], np.nan, p)
            data.append({"x": _b64(q[:, 0]), "y": _b64(q[:, 1])})
        cx, cy = marks.frame(step)
        data.append({"x": _b64(cx), "y": _b64(cy)})
        frames.append({"name": str(step), "data": data, "traces": [*moving, cross]})

    if title is None:
        title = (f"{fn.title}: {len(result.names)} optimizer{'s' * (len(result.names) != 1)} × "
                 f"{result.n_points} start{'s' * (result.n_points != 1)}, {result.steps} steps")
    layout = _base_layout(look, title, height)
    layout["uirevision"] = f"{fn.name}-{result.dim}"
    layout["legend"].update({"x": 1.01, "xanchor": "left", "y": 1.0, "yanchor": "top",
                             "font": {"size": look.font - (3 if large_font else 1)}})
    top = 2 * look.font + 24  # the play buttons and the colour bar sit above the plot
    layout["margin"] = {"l": 10, "r": 10, "t": top + (look.title + 24 if title else 0),
                        "b": 70 + 2 * look.tick}
    layout.update(axes)
    layout.update(_player([f["name"] for f in frames], look, frame_ms))
    return AnimatedFigure(data=traces, layout=layout, raw_frames=frames, _validate=False)


def _positions(result: Result, name: str) -> np.ndarray:
    """Drawn positions per recorded row, ``(n_recorded, n_points, 2)``: (x, f(x)) in 1-D, x in 2-D."""
    traj = np.asarray(result.trajectories[name], dtype=float)
    if result.dim == 2:
        return traj
    return np.stack([traj[..., 0], np.asarray(result.losses[name], dtype=float)], axis=-1)


@dataclass(frozen=True)
class _Marks:
    """Where and when to draw a cross for each diverged point (all optimizers together)."""

    xy: np.ndarray  # (m, 2)
    steps: np.ndarray  # (m,)
    text: list[str]

    def frame(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        shown = self.steps <= step
        return np.where(shown, self.xy[:, 0], np.nan), np.where(shown, self.xy[:, 1], np.nan)


def _divergence_marks(result: Result, pos: dict[str, np.ndarray], view: np.ndarray) -> _Marks:
    """A cross per diverged point where it was last seen: the last recorded position before it
    first left the view (or before it diverged), shown from its divergence step on."""
    xy, steps, text = [], [], []
    rec = np.asarray(result.recorded_steps)
    for name in result.names:
        d = _div_steps(result, name)
        for j in np.flatnonzero(d >= 0):
            path = pos[name][:, j]  # (n_recorded, 2)
            seen = np.cumsum(~_inside(path, view, margin=0.02) | (rec >= d[j])) == 0
            if seen.any():
                k = int(np.flatnonzero(seen)[-1])
                where = path[k]
                left = "" if rec[k] == d[j] - 1 else f" (left the view after step {rec[k]})"
            else:
                where = np.clip(np.nan_to_num(path[0]), view[:, 0], view[:, 1])
                left = " (started outside the view)"
            xy.append(where)
            steps.append(int(d[j]))
            text.append(f"{name}: start {j} diverged at step {int(d[j])}{left}")
    return _Marks(np.reshape(np.asarray(xy, dtype=float), (-1, 2)), np.asarray(steps, dtype=int), text)


def _polyline(traj: np.ndarray, box: np.ndarray, cells: int = 800) -> np.ndarray:
    """All points' paths as one ``(m, 2)`` polyline, NaN between points.

    Consecutive positions in the same cell of a ``cells × cells`` grid over the box (less than a
    pixel apart) are dropped: a slowly crawling optimizer then costs a few points, not hundreds,
    while every visible zig-zag is kept.
    """
    cell = (box[:, 1] - box[:, 0]) / cells
    with np.errstate(invalid="ignore"):
        q = np.floor((traj - box[:, 0]) / cell)
    moved = np.any(q[1:] != q[:-1], axis=-1) | np.any(np.isnan(q[1:]), axis=-1)  # (r-1, n)
    keep = np.concatenate([np.ones((1, traj.shape[1]), bool), moved], axis=0)
    keep[-1] = True
    sep = np.full((1, 2), np.nan)
    parts = []
    for j in range(traj.shape[1]):
        parts += [traj[keep[:, j], j], sep]
    return np.concatenate(parts, axis=0)


def _after_first_exit(result: Result, name: str, rows: np.ndarray, traj: np.ndarray,
                      box: np.ndarray) -> np.ndarray:
    """``(r, n)``: True from the first row where a point that will diverge is outside the box."""
    d = _div_steps(result, name)
    out = ~_inside(traj, box, margin=0.02) & (d >= 0)[None, :]
    return np.cumsum(out, axis=0) > 0


def _inside(traj: np.ndarray, box: np.ndarray, margin: float) -> np.ndarray:
    span = box[:, 1] - box[:, 0]
    lo, hi = box[:, 0] - margin * span, box[:, 1] + margin * span
    with np.errstate(invalid="ignore"):
        return np.all((traj >= lo) & (traj <= hi), axis=-1)


def _axis(look: Look, title: str, rng: Any, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": title, "font": {"size": look.font}}, "tickfont": {"size": look.tick},
            "range": [float(rng[0]), float(rng[1])], "showgrid": False, "zeroline": False,
            "showline": True, "mirror": True, "linecolor": "#888", **extra}


def _minima_traces(fn: Any, look: Look, dim: int) -> list[dict[str, Any]]:
    out = []
    for attr, label, marker in (
        ("minimizers", "global minimum", {"symbol": "star", "size": look.star, "color": "#ffd400",
                                          "line": {"color": "black", "width": 1.2}}),
        ("local_minima", "local minimum", {"symbol": "diamond", "size": look.local, "color": "#bbbbbb",
                                           "line": {"color": "black", "width": 1}}),
    ):
        pts = np.asarray(getattr(fn, attr, ()), dtype=float).reshape(-1, dim)
        if not pts.size:
            continue
        if dim == 1:
            with np.errstate(all="ignore"):
                x, y = pts[:, 0], np.asarray(fn.value(pts), dtype=float)
            hover = f"{label}<br>x=%{{x:.4g}}<br>f=%{{y:.4g}}<extra></extra>"
        else:
            x, y = pts[:, 0], pts[:, 1]
            hover = f"{label}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>"
        out.append({"type": "scatter", "x": x, "y": y, "mode": "markers", "name": label, "marker": marker,
                    "hovertemplate": hover})
    return out


def _landscape_1d(result: Result, look: Look, n: int):
    fn = result.function
    box = _box(result)
    xs = np.linspace(box[0, 0], box[0, 1], max(n * 3, 400))
    with np.errstate(all="ignore"):
        ys = np.asarray(fn.value(xs[:, None]), dtype=float)
    finite = ys[np.isfinite(ys)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    pad = 0.06 * (hi - lo or 1.0)
    view = np.array([box[0], [lo - pad, hi + pad]])
    traces = [{"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "f(x)", "hoverinfo": "skip",
               "line": {"color": "#555", "width": look.line_width}, "showlegend": False}]
    traces += _minima_traces(fn, look, 1)
    axes = {"xaxis": _axis(look, "x", view[0]), "yaxis": _axis(look, "f(x)", view[1])}
    return traces, view, axes


def _landscape_2d(result: Result, look: Look, n: int | None, landscape: str = "image"):
    fn = result.function
    box = _box(result)
    if landscape not in ("image", "contour"):
        raise ValueError(f"landscape must be 'image' or 'contour', got {landscape!r}")
    n = n or (GRID_POINTS if landscape == "image" else 100)
    xs, ys, z, levels, (zmin, zmax) = _landscape_values(fn, box, n)
    zf = z[np.isfinite(z)]
    colorbar = levels.colorbar(float(zf.min()) if zf.size else 0.0, float(zf.max()) if zf.size else 1.0, look)
    if landscape == "contour":
        traces: list[dict[str, Any]] = [{
            "type": "contour", "x": xs, "y": ys, "z": _f32(z), "zmin": zmin, "zmax": zmax,
            "ncontours": CONTOUR_BANDS, "name": "f", "hoverinfo": "skip", "colorscale": LANDSCAPE,
            "contours": {"coloring": "heatmap", "showlines": True},
            "line": {"color": "rgba(60,75,100,0.35)", "width": 0.7}, "colorbar": colorbar,
        }]
        images: list[dict[str, Any]] = []
    else:
        # The landscape as one picture under the axes: drawn once here (and cached), it costs the
        # browser nothing on each redraw, unlike contour tracing. A marker-less trace carries
        # the colour bar.
        traces = [{
            "type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": "f", "showlegend": False,
            "hoverinfo": "skip",
            "marker": {"color": [zmin], "cmin": zmin, "cmax": zmax, "colorscale": LANDSCAPE,
                       "showscale": True, "colorbar": colorbar, "size": 0, "opacity": 0},
        }]
        images = [{
            "source": _landscape_png(fn, box, n), "xref": "x", "yref": "y", "x": float(box[0, 0]),
            "y": float(box[1, 1]), "sizex": float(box[0, 1] - box[0, 0]),
            "sizey": float(box[1, 1] - box[1, 0]),
            "sizing": "stretch", "layer": "below", "xanchor": "left", "yanchor": "top",
        }]

    many = result.n_points > 3
    n_paths = max(1, len(result.names) * result.n_points)
    path_rows = _path_rows(result, max(30, min(MAX_PATH_POINTS, PATH_BUDGET // n_paths)))
    for name in result.names:
        traj = np.asarray(result.trajectories[name], dtype=float)[path_rows]  # (r, n, 2)
        keep = _inside(traj, box, margin=0.5)
        # A diverged point's path stops where it first leaves the box: no wild lines.
        keep &= ~_after_first_exit(result, name, path_rows, traj, box)
        seg = _polyline(np.where(keep[..., None], traj, np.nan), box)
        traces.append({
            "type": "scatter", "x": _f32(seg[:, 0]), "y": _f32(seg[:, 1]), "mode": "lines", "name": name,
            "legendgroup": name, "showlegend": False, "hoverinfo": "skip",
            "line": {"color": color(name), "width": look.path_width * (0.8 if many else 1.5)},
            "opacity": 0.35 if many else 0.85,
        })
    traces += _minima_traces(fn, look, 2)
    traces.append({
        "type": "scatter", "x": result.starts[:, 0], "y": result.starts[:, 1], "mode": "markers",
        "name": "start", "hovertemplate": "start<br>(%{x:.3g}, %{y:.3g})<extra></extra>",
        "marker": {"symbol": "circle-open", "size": look.local, "color": "#333", "line": {"width": 1.5}},
    })
    axes = {"xaxis": _axis(look, "x₁", box[0]), "yaxis": _axis(look, "x₂", box[1]), "images": images}
    return traces, box, axes


def _player(labels: list[str], look: Look, frame_ms: int) -> dict[str, Any]:
    """Play/pause buttons and a step slider over the named frames."""
    many = len(labels) > 25
    still = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}
    return {
        "updatemenus": [{
            "type": "buttons", "direction": "left", "showactive": False,
            "x": 0.0, "xanchor": "left", "y": 1.0, "yanchor": "bottom", "pad": {"b": 6, "l": 0},
            "font": {"size": look.font}, "bgcolor": "#f4f6f9", "bordercolor": "#b8c2cf",
            "buttons": [
                {"label": label, "method": "animate",
                 "args": [None, {"frame": {"duration": ms, "redraw": False},
                                 "transition": {"duration": 0}, "fromcurrent": True, "mode": "immediate"}]}
                for label, ms in (("▶ Play", frame_ms), ("▶ Slow", 4 * frame_ms))
            ] + [{"label": "❚❚ Pause", "method": "animate", "args": [[None], still]}],
        }],
        "sliders": [{
            "active": 0, "x": 0.0, "len": 1.0, "xanchor": "left", "y": 0.0, "yanchor": "top",
            "pad": {"t": 36 + look.tick, "b": 0, "l": 0, "r": 0},
            "currentvalue": {"prefix": "step ", "font": {"size": look.font, "color": "#222"},
                             "xanchor": "left"},
            "font": {"size": look.tick, "color": "rgba(0,0,0,0)" if many else "#444"},
            "ticklen": 0 if many else 4, "minorticklen": 0,
            "transition": {"duration": 0},
            "steps": [{"label": lab, "method": "animate", "args": [[lab], still]} for lab in labels],
        }],
    }


# ---------------------------------------------------------------------- 3-D surface
def surface_figure(result: Result, *, large_font: bool = False, resolution: int = 80,
                   height: int | None = None) -> go.Figure:
    """A 3-D surface of f over the box (log10(f − f*) where it spans decades) with every path on it."""
    if result.dim != 2:
        raise ValueError("the 3-D view needs a 2-D function")
    look = Look.of(large_font)
    fn = result.function
    box = _box(result)
    xs, ys, Z = _grid(box, fn, resolution)
    levels = _levels(fn, Z)
    z = levels.transform(Z)
    fig = go.Figure(go.Surface(
        x=xs, y=ys, z=_f32(z), colorscale="Blues", reversescale=True, opacity=0.85, showscale=False,
        hoverinfo="skip", contours={"z": {"show": True, "usecolormap": True, "width": 1}},
    ))
    path_rows = _path_rows(result, 300)
    zfin = z[np.isfinite(z)]
    lift = 0.01 * float(np.ptp(zfin)) if zfin.size else 0.0
    for name in result.names:
        traj = result.trajectories[name][path_rows].astype(float)
        loss = result.losses[name][path_rows].astype(float)
        keep = _inside(traj, box, margin=0.0) & ~_after_first_exit(result, name, path_rows, traj, box)
        # Lifted a hair above the surface so that it does not hide the paths.
        zz = np.where(keep, levels.transform(loss) + lift, np.nan)
        traj = np.where(keep[..., None], traj, np.nan)
        sep = np.full((1, traj.shape[1]), np.nan)
        x = np.concatenate([traj[..., 0], sep]).T.ravel()
        y = np.concatenate([traj[..., 1], sep]).T.ravel()
        zs = np.concatenate([zz, sep]).T.ravel()
        fig.add_trace(go.Scatter3d(x=_f32(x), y=_f32(y), z=_f32(zs), mode="lines", name=name,
                                   line={"color": color(name), "width": look.line_width * 1.5},
                                   hovertemplate=f"{name}<extra></extra>"))
    ztitle = "log₁₀(f − f*)" if levels.log else "f"
    layout = _base_layout(look, f"{fn.title}: surface", height)
    layout["scene"] = {"xaxis": {"title": "x₁", "range": list(box[0])},
                       "yaxis": {"title": "x₂", "range": list(box[1])},
                       "zaxis": {"title": ztitle}, "aspectmode": "cube"}
    layout["uirevision"] = f"surface-{fn.name}"
    fig.update_layout(**layout)
    return fig


# ---------------------------------------------------------------------- error curves
def error_curves(result: Result, kind: str = "auto", max_points: int = MAX_PATH_POINTS):
    """Per optimizer: recorded steps and the 25/50/75 % quantiles of the error over starts.

    A diverged point counts as an infinite error from its divergence step on, so a median line
    stops (NaN) once half the points have diverged. Returns ``(kind, steps, {name: (q25, q50, q75)})``.
    """
    kind = result.error_kind(kind)
    errs = result.errors_until_divergence(kind)
    rows = _path_rows(result, max_points)
    steps = np.asarray(result.recorded_steps)[rows]
    out = {}
    for name in result.names:
        e = errs[name][rows]
        e = np.where(np.isfinite(e), e, np.inf)
        with np.errstate(all="ignore"):
            q = np.quantile(e, [0.25, 0.5, 0.75], axis=1, method="nearest")
        q = np.where(np.isfinite(q), q, np.nan)
        out[name] = (q[0], q[1], q[2])
    return kind, steps, out


def error_figure(result: Result, kind: str = "auto", *, tol: float | None = None, large_font: bool = False,
                 height: int | None = None, title: str | None = None, show_legend: bool = True) -> go.Figure:
    """Error against step, log-scaled: the median over starts with an interquartile band.

    With one start, one line per optimizer. A line stops (black cross) where half the points
    have diverged (a diverged point counts as an infinite error). ``tol`` draws a dashed line.
    """
    look = Look.of(large_font)
    kind, steps, curves = error_curves(result, kind)
    allv = np.concatenate([np.ravel(c) for c in curves.values()]) if curves else np.array([])
    allv = allv[np.isfinite(allv)]
    log = kind != "loss" or (allv.size > 0 and allv.min() > 0)
    floor = LOG_FLOOR if kind != "loss" else 0.0
    many = result.n_points > 1
    x = steps.astype(np.int32)
    traces: list[dict[str, Any]] = []
    for name in result.names:
        q25, q50, q75 = curves[name]
        c = color(name)
        if log and floor:
            q25, q50, q75 = (np.where(np.isnan(a), np.nan, np.maximum(a, floor)) for a in (q25, q50, q75))
        common = {"type": "scatter", "x": x, "mode": "lines", "name": name, "legendgroup": name}
        if many:
            # The interquartile band as one closed polygon (one trace, not two).
            both = np.isfinite(q25) & np.isfinite(q75)
            bx, lo, hi = x[both], q25[both], q75[both]
            traces.append({**common, "x": np.concatenate([bx, bx[::-1]]),
                           "y": _f32(np.concatenate([hi, lo[::-1]])), "fill": "toself",
                           "fillcolor": _rgba(c, 0.12), "line": {"width": 0},
                           "showlegend": False, "hoverinfo": "skip"})
        traces.append({
            **common, "y": _f32(q50), "line": {"color": c, "width": look.line_width * 0.8},
            "hovertemplate": f"<b>{name}</b><br>step %{{x}}<br>{KIND_SHORT[kind]} %{{y:.3g}}<extra></extra>",
        })
        # Where the line stops because points diverged, a black cross.
        ok = np.isfinite(q50)
        if not ok.all() and ok.any():
            last = int(np.flatnonzero(ok)[-1])
            traces.append({
                "type": "scatter", "x": [int(steps[last])], "y": [float(q50[last])], "mode": "markers",
                "name": name, "legendgroup": name, "showlegend": False,
                "marker": {"symbol": "x", "size": look.cross, "color": DIVERGED},
                "hovertemplate": f"{name}: diverged after step %{{x}}<extra></extra>",
            })
    what = f"median of {result.n_points} starts, band 25–75 %" if many else "one start"
    layout = _base_layout(look, title if title is not None else f"Error per step: {what}", height)
    if "title" in layout:
        layout["title"].update({"font": {"size": look.font}, "y": 0.995, "yanchor": "top"})
    layout["margin"].update({"t": 2 * look.font + 24, "b": 10})
    layout["legend"].update({"x": 1.01, "xanchor": "left", "y": 1.0, "yanchor": "top"})
    layout["uirevision"] = f"err-{result.function.name}-{kind}"
    layout["showlegend"] = show_legend
    layout["xaxis"] = {"title": {"text": "step", "font": {"size": look.font}},
                       "tickfont": {"size": look.tick}, "range": [0, int(result.steps)]}
    yaxis: dict[str, Any] = {"type": "log" if log else "linear", "exponentformat": "power",
                             "title": {"text": KIND_LABELS[kind], "font": {"size": look.font}},
                             "tickfont": {"size": look.tick}}
    if log and allv.size:
        pos = allv[allv > 0]
        if pos.size and np.log10(max(pos.max(), tol or 0) / max(pos.min(), LOG_FLOOR)) >= 2:
            yaxis["dtick"] = 1  # one label per decade, no "2, 5" clutter
    layout["yaxis"] = yaxis
    if tol is not None and kind != "loss":
        layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": tol,
                             "y1": tol, "line": {"color": "#444", "dash": "dash", "width": 1}}]
        layout["annotations"] = [{"xref": "paper", "x": 1, "xanchor": "right", "yref": "y", "y": np.log10(tol)
                                  if log else tol, "yanchor": "bottom", "text": f"tol = {tol:g}",
                                  "showarrow": False, "font": {"size": look.tick, "color": "#444"}}]
    return go.Figure(data=traces, layout=layout, _validate=False)


# ---------------------------------------------------------------------- table and notes
def results_table(result: Result, kind: str = "auto", tol: float = 1e-3) -> pd.DataFrame:
    """The ranked summary of :meth:`Result.summary` as a DataFrame ready for ``st.dataframe``."""
    import pandas as pd  # only the dashboard needs tables (pandas comes with streamlit)

    kind = result.error_kind(kind)
    rows = result.summary(kind, tol)
    short = KIND_SHORT[kind]
    data = []
    for r in rows:
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
    """The table for display: numbers as short text ("—" where there is none, which data grids
    would show as "None"), optimizer names in their colour. Returns a pandas Styler."""
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
    styler = shown.style.map(lambda v: f"color: {color(v)}; font-weight: 600", subset=["optimizer"])
    if large_font:
        styler = styler.set_properties(**{"font-size": "1.25em"})
    return styler


def diverged_notes(result: Result) -> list[str]:
    """One sentence per optimizer with diverged points (empty when none diverged)."""
    notes = []
    for name in result.names:
        d = _div_steps(result, name)
        k = int((d >= 0).sum())
        if k:
            first = int(d[d >= 0].min())
            lr_names = [h for h, v in result.hyperparams[name].items() if _is_lr(name, h)]
            hint = f" Try a smaller {' / '.join(lr_names)}." if lr_names else ""
            notes.append(f"**{name}**: {k} of {result.n_points} point{'s' * (result.n_points != 1)} "
                         f"diverged (first at step {first}).{hint}")
    return notes


def _is_lr(name: str, hp: str) -> bool:
    from .optimizers import REGISTRY

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
    "MAX_FRAMES", "Look", "all_diverged", "diverged_notes", "error_curves", "error_figure",
    "frame_rows", "results_table", "style_table", "surface_figure", "trajectory_figure",
]  # fmt: skip

"""Frames: the matplotlib pictures of a race, drawn from a :class:`~optviz.engine.result.Result`.

:class:`Drawing` holds what every frame needs, computed once from the result (NumPy only);
:class:`Frame` is the figure (the landscape with the paths, 1-D: the curve with a dot per
optimizer, beside the error per step), redrawn for each recorded row. The type sizes
(:class:`Typography`), the figure (:func:`new_figure`), the axes' frame (:func:`frame_axes`)
and the fonts (:func:`font_family`) are shared with the explore figures. The look is
:mod:`optviz.draw.style`'s, the page's. Everything uses matplotlib's object API (``Figure`` +
``FigureCanvasAgg``): no pyplot state and no change to ``rcParams``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from optviz.draw import style
from optviz.engine.result import Result

#: Paths of longer runs are drawn through about this many recorded rows per start (all the
#: early ones, then spread out) and the current one: a frame's cost stays bounded.
PATH_VERTICES = 2000
#: Errors at or below this are drawn at this value on the log scale (exact zeros happen).
ERROR_FLOOR = 1e-16

#: The error axis, as on the page.
KIND_LABELS = {
    "distance": "distance to the nearest\nminimizer  ‖x − x*‖",
    "gap": "f(x) − f*",
    "loss": "f(x)",
}


@functools.lru_cache(maxsize=1)
def font_family() -> list[str]:
    """The first font of the page's stack that matplotlib has (Liberation Sans is Arial's metric
    twin), then DejaVu Sans for the glyphs it lacks (x₁, ‖)."""
    from matplotlib import font_manager

    for family in (*style.MPL_FONTS[:-1], "Liberation Sans"):
        try:
            font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        except ValueError:
            continue
        return [family, "DejaVu Sans"]
    return ["DejaVu Sans"]


@dataclass(frozen=True)
class Typography:
    """Font sizes (points) and line/marker sizes (points) of one figure.

    At the 12.8×7.2-inch frame of 720p and 1080p, text is 13-17 pt: at least 18 px at 720p
    (27 px at 1080p), readable on a projector. Smaller figures scale everything down (never
    below 55 %), larger ones up.
    """

    k: float

    @classmethod
    def of(cls, size: tuple[float, float]) -> Typography:
        w, h = size
        return cls(min(2.5, max(0.55, min(w / 12.8, h / 7.2))))

    def __getattr__(self, name: str) -> float:
        try:
            return _TYPE_720P[name] * self.k
        except KeyError:
            raise AttributeError(name) from None


#: Sizes in points at the 720p frame (100 dpi: 1 pt = 1.39 px).
_TYPE_720P = {
    "tick": 13.0, "label": 14.0, "legend": 13.0, "title": 17.0, "counter": 14.0,
    "marker": 8.6, "star": 15.8, "local": 7.2, "start": 10.0, "start_width": 1.3, "cross": 8.6,
    "path_few": 1.7, "path_many": 0.95, "error_line": 1.9, "curve": 1.7, "edge": 0.7, "contour": 0.5,
}  # fmt: skip
#: Stacking of the race's layers (see style.DRAW_ORDER): the star above the paths, the markers
#: above the star, the start rings above the markers, the crosses on top.
_Z = {layer: 1 + i for i, layer in enumerate(style.DRAW_ORDER)}


def new_figure(size: tuple[float, float], dpi: float = 100) -> Figure:
    fig = Figure(figsize=size, dpi=dpi, facecolor="white", layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def wrap_to_width(text: Any) -> None:
    """Break a figure title's lines at spaces where they would run past the frame's right edge
    (a long title, or a font wider than the page's, is never cut)."""
    fig = text.figure
    renderer, limit = fig.canvas.get_renderer(), fig.bbox.width - 2
    lines = []
    for line in text.get_text().split("\n"):
        kept = ""
        for word in line.split(" "):
            trial = f"{kept} {word}" if kept else word
            text.set_text(trial)
            if kept and text.get_window_extent(renderer).x1 > limit:
                lines.append(kept)
                kept = word
            else:
                kept = trial
        lines.append(kept)
    text.set_text("\n".join(lines))


def _fit_title(text: Any, ax: Any, options: list[str]) -> None:
    """Give an axes title (laid out, left-aligned) the first of ``options``, longest first, that
    ends before the frame's right edge and any figure legend right of its axes; else the last."""
    fig = text.figure
    renderer = fig.canvas.get_renderer()
    right = ax.get_window_extent(renderer).x1
    lefts = [leg.get_window_extent(renderer).x0 for leg in fig.legends]
    limit = min([fig.bbox.width - 2] + [x - 4 for x in lefts if x >= right - 1])
    for option in options:
        text.set_text(option)
        if text.get_window_extent(renderer).x1 <= limit:
            return


def _freeze_layout(fig: Figure) -> None:
    """Run the constrained layout once, then keep it: frames must not jitter, and it is slow."""
    fig.draw_without_rendering()
    fig.set_layout_engine("none")


def frame_axes(ax, t: Typography, grid: bool) -> None:
    """The page's plot box: a grey frame on all four sides, ticks outside, no grid over the landscape."""
    for spine in ax.spines.values():
        spine.set_color(style.FRAME_COLOR)
    ax.tick_params(which="both", labelsize=t.tick, labelfontfamily=font_family(), color=style.FRAME_COLOR)
    if grid:
        ax.grid(alpha=0.3, which="major")


# ====================================================================== data prepared once
def _inside(xy: np.ndarray, view: np.ndarray, margin: float) -> np.ndarray:
    """``xy[..., :2]`` inside ``view`` widened by ``margin`` of its span (NaN: outside)."""
    span = view[:, 1] - view[:, 0]
    lo, hi = view[:, 0] - margin * span, view[:, 1] + margin * span
    with np.errstate(invalid="ignore"):
        return np.all((xy >= lo) & (xy <= hi), axis=-1)


class Drawing:
    """Everything a frame needs, computed once from the Result (NumPy only)."""

    def __init__(self, result: Result, kind: str):
        self.result = result
        self.fn = result.function
        self.kind = result.error_kind(kind)
        self.names = result.names
        self.looks = style.look_of(self.names)
        self.steps = np.asarray(result.recorded_steps)
        self.dim = result.dim
        self.n_points = result.n_points
        self.div_step = {n: np.asarray(result.diverged_step[n]) for n in self.names}
        #: per optimizer, (R, n) error with diverged points as +inf from their divergence on
        self.err = result.errors_until_divergence(self.kind)
        #: per optimizer, the 25/50/75 % quantiles over the starts, as on the page: a diverged
        #: point counts as infinitely bad, so the median stops (NaN) once half have diverged.
        self.quantiles = {}
        for n in self.names:
            e = np.where(np.isfinite(self.err[n]), self.err[n], np.inf)
            with np.errstate(all="ignore"):
                q = np.quantile(e, [0.25, 0.5, 0.75], axis=1, method="nearest")
            self.quantiles[n] = np.where(np.isfinite(q), q, np.nan)
        finite = np.concatenate([q[np.isfinite(q)] for q in self.quantiles.values()] or [np.zeros(0)])
        self.log_errors = self.kind != "loss" or (finite.size > 0 and finite.min() > 0)
        if self.log_errors:
            self.quantiles = {n: np.where(np.isnan(q), np.nan, np.maximum(q, ERROR_FLOOR))
                              for n, q in self.quantiles.items()}
            finite = np.maximum(finite, ERROR_FLOOR)
        self.median = {n: q[1] for n, q in self.quantiles.items()}
        self.err_range = (float(finite.min()), float(finite.max())) if finite.size else (1e-3, 1.0)
        box = np.array(self.fn.box, dtype=float)
        if self.dim == 1:
            self.curve_x = np.linspace(box[0, 0], box[0, 1], 600)
            with np.errstate(all="ignore"):
                self.curve_y = np.asarray(self.fn.value(self.curve_x[:, None]), dtype=float)
            fin = self.curve_y[np.isfinite(self.curve_y)]
            lo, hi = (float(fin.min()), float(fin.max())) if fin.size else (0.0, 1.0)
            pad = 0.06 * (hi - lo or 1.0)
            #: the plot box: the function's box (1-D: f's range over it, padded), as on the page
            self.view = np.array([box[0], [lo - pad, hi + pad]])
        else:
            self.view = box[:2]
        self.pos = {n: self._positions(n) for n in self.names}
        self.drawn = {n: self._drawn(n) for n in self.names}
        self.marks = {n: self._marks(n) for n in self.names}

    def alive_at(self, name: str, row: int) -> np.ndarray:
        d = self.div_step[name]
        return (d < 0) | (self.steps[row] < d)

    def _positions(self, name: str) -> np.ndarray:
        """Drawn positions, ``(R, n, 2)``: (x, f(x)) in 1-D, (x₁, x₂) otherwise."""
        traj = np.asarray(self.result.trajectories[name], dtype=float)
        if self.dim == 1:
            return np.stack([traj[..., 0], np.asarray(self.result.losses[name], dtype=float)], axis=-1)
        return traj[..., :2]

    def _drawn(self, name: str) -> np.ndarray:
        """Positions for the paths: NaN far outside the box and, for a point that will diverge,
        from where it first leaves the box (no wild lines), as on the page."""
        pos = self.pos[name]
        keep = _inside(pos, self.view, 0.5)
        leaves = ~_inside(pos, self.view, 0.02) & (self.div_step[name] >= 0)[None, :]
        keep &= np.cumsum(leaves, axis=0) == 0
        return np.where(keep[..., None], pos, np.nan)

    def _marks(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Per diverged point, where its cross goes and from which step: the last recorded
        position inside the view before it left it (or diverged), as on the page."""
        d = self.div_step[name]
        xy, when = [], []
        for j in np.flatnonzero(d >= 0):
            path = self.pos[name][:, j]
            seen = np.cumsum(~_inside(path, self.view, 0.02) | (self.steps >= d[j])) == 0
            if seen.any():
                xy.append(path[int(np.flatnonzero(seen)[-1])])
            else:
                xy.append(np.clip(np.nan_to_num(path[0]), self.view[:, 0], self.view[:, 1]))
            when.append(int(d[j]))
        return np.reshape(np.asarray(xy, dtype=float), (-1, 2)), np.asarray(when, dtype=np.int64)


def _legend_metrics(handles: list, fontsize: float) -> tuple[float, float]:
    """Width of a legend column and height of a row, in inches, for ``handles``."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(family=font_family(), size=fontsize)
    measure = TextToPath().get_text_width_height_descent
    longest = max(measure(h.get_label(), prop, ismath=False)[0] for h in handles)  # points
    col_w = (longest + fontsize * (1.6 + 0.8 + 1.0)) / 72  # text + handle + pad + spacing
    return col_w, fontsize * 1.62 / 72


def _default_title(result: Result) -> str:
    """The page's title: function, optimizers × starts, steps (and schedule, hooks)."""
    fn = result.function
    n_opt, n_pts = len(result.names), result.n_points
    dim = f" ({fn.dim}-D)" if fn.dim > 2 else ""
    title = (f"{fn.title}{dim}: {n_opt} optimizer{'s' * (n_opt != 1)} × "
             f"{n_pts} start{'s' * (n_pts != 1)}, {result.steps} steps")
    extras = []
    if result.schedule and result.schedule != "constant":
        extras.append(f"schedule {result.schedule}")
    if result.hooks:
        extras.append("hooks " + " → ".join(result.hooks))
    return title + ("\n" + " · ".join(extras) if extras else "")


def error_spread(n_points: int) -> str:
    """What an error curve shows: the median and its band over the starts, or the one start."""
    return f"median of {n_points} starts, band 25–75 %" if n_points > 1 else "one start"


def _error_titles(n_points: int) -> list[str]:
    """The error panel's title, longest first (the first that fits the frame is shown)."""
    if n_points == 1:
        return [f"Error per step: {error_spread(1)}", "Error per step"]
    return [f"Error per step: {error_spread(n_points)}",
            f"Error per step: median of {n_points} starts, 25–75 %", "Error per step: median, 25–75 %",
            "Median error, 25–75 %"]


def mark_style(mark: style.Mark, size: float, edge_width: float) -> dict[str, Any]:
    """matplotlib keywords of a fixed :class:`~optviz.draw.style.Mark`."""
    return {"ls": "none", "marker": mark.mpl_marker, "ms": size, "mew": edge_width, "mec": mark.edge,
            "mfc": "none" if mark.fill is None else mark.fill}


# ====================================================================== the figure
class Frame:
    """A figure with every artist created once; :meth:`show` moves them to a recorded row."""

    def __init__(self, scene: Drawing, size, dpi: float, *, error_panel: bool, title: str | None,
                 counter: bool = True):
        self.s = scene
        t = self.t = Typography.of(size)
        n_pts = scene.n_points
        many = n_pts > 3
        self.lw = t.path_many if many else t.path_few
        self.path_alpha = style.PATH_OPACITY_MANY if many else style.PATH_OPACITY_FEW
        self.ms = t.marker * (0.75 if n_pts > 25 else 1.0)
        self.background = None
        self.bands: dict[str, Any] = {}
        n_rows = len(scene.steps)
        self.path_rows = None
        if n_rows > PATH_VERTICES:  # every early row (paths move fastest there), then spread out
            k = PATH_VERTICES // 4
            self.path_rows = np.unique(np.concatenate([
                np.arange(k),
                np.geomspace(k, n_rows - 1, k + k // 2),
                np.linspace(0, n_rows - 1, k + k // 2),
            ]).round().astype(np.int64))
        fig = self.fig = new_figure(size, dpi)
        self.has_global = np.size(scene.fn.minimizers) > 0
        self.has_local = np.size(scene.fn.local_minima) > 0
        handles = self._extra_handles(before=True) + [
            Line2D([], [], color=lk.color, lw=t.error_line, ls=lk.mpl_linestyle, marker=lk.mpl_marker,
                   ms=t.marker * 0.8, mec=lk.marker_edge, mew=t.edge, label=name)
            for name, lk in scene.looks.items()
        ] + self._extra_handles(before=False)
        self._layout(size, handles, error_panel)
        wrap_to_width(fig.suptitle(_default_title(scene.result) if title is None else title,
                                    fontsize=t.title, family=font_family(), x=0.01, ha="left"))
        if scene.dim == 1:
            self._setup_1d()
        else:
            self._setup_2d()
        if self.ax_err is not None:
            self._setup_errors()
        total = int(scene.steps[-1])
        # Above the trajectory panel, left: never over a path, the legend or the title.
        self.counter = self.ax.text(
            0.0, 1.015, "", transform=self.ax.transAxes, ha="left", va="bottom",
            family="monospace", fontsize=t.counter, color="#222222",
        )
        self.counter_fmt = f"step {{:>{len(str(total))}d}} / {total}"
        self.counter.set_visible(counter)
        # Moving artists never take part in the layout: an empty line without clipping would
        # otherwise stretch the layout to the figure's origin.
        for artist in (*self.paths.values(), *self.dots.values(), *self.crosses.values(),
                       *self.bands.values()):
            artist.set_in_layout(False)
        self.show(len(scene.steps) - 1)
        _freeze_layout(fig)
        if self.ax_err is not None:
            _fit_title(self.err_title, self.ax_err, _error_titles(scene.n_points))

    # -------------------------------------------------------------- fast frames (blitting)
    def _moving(self) -> list:
        """The artists redrawn each frame, in drawing order: every line of the trajectory
        panel (so the minima and start rings stay in their layer), the error bands and curves,
        the counter."""
        arts = sorted(self.ax.lines, key=lambda a: a.get_zorder())
        if self.ax_err is not None:
            arts += list(self.bands.values()) + sorted(self.ax_err.lines, key=lambda a: a.get_zorder())
        return [*arts, self.counter]

    def draw(self, row: int) -> memoryview:
        """Move to ``row`` and render: the static background (contours, axes, legend) is drawn
        once and restored; only the moving artists are drawn again. Returns the RGBA buffer."""
        canvas = self.fig.canvas
        moving = self._moving()
        if self.background is None:
            for a in moving:
                a.set_animated(True)
            canvas.draw()
            self.background = canvas.copy_from_bbox(self.fig.bbox)
        self.show(row)
        canvas.restore_region(self.background)
        for a in moving:
            if isinstance(a, Line2D) and not len(a.get_xdata(orig=False)):
                continue  # nothing to draw (no diverged point yet, ...): skip its setup cost
            self.fig.draw_artist(a)
        return canvas.buffer_rgba()

    # -------------------------------------------------------------- panels
    def _optimizer_artists(self, with_paths: bool) -> None:
        ax, t = self.ax, self.t
        self.paths, self.dots, self.crosses = {}, {}, {}
        for name, lk in self.s.looks.items():
            if with_paths:
                self.paths[name], = ax.plot([], [], color=lk.color, ls=lk.mpl_linestyle, lw=self.lw,
                                            alpha=self.path_alpha, zorder=_Z["paths"], solid_capstyle="round")
            self.dots[name], = ax.plot([], [], ls="none", marker=lk.mpl_marker, color=lk.color, ms=self.ms,
                                       mec=lk.marker_edge, mew=t.edge, zorder=_Z["markers"])
            self.crosses[name], = ax.plot([], [], **mark_style(style.DIVERGED_MARK, t.cross, t.edge),
                                          zorder=_Z["diverged"])
        starts = self.s.pos[self.s.names[0]][0] if self.s.names else np.zeros((0, 2))
        ax.plot(starts[:, 0], starts[:, 1], **mark_style(style.START, t.start, t.start_width),
                zorder=_Z["starts"])

    def _setup_1d(self) -> None:
        s, ax, t = self.s, self.ax, self.t
        ax.plot(s.curve_x, s.curve_y, color=style.CURVE_COLOR, lw=t.curve, zorder=_Z["landscape"])
        ax.set_xlim(*s.view[0])
        ax.set_ylim(*s.view[1])
        self._labels(ax, "x", "f(x)")
        frame_axes(ax, t, grid=True)
        self._mark_minima(lambda p: (p[:, 0], np.asarray(s.fn.value(p), dtype=float)))
        self._optimizer_artists(with_paths=False)

    def _setup_2d(self) -> None:
        s, ax, t = self.s, self.ax, self.t
        (x0, x1), (y0, y1) = s.view
        if s.dim == 2:
            gx = np.linspace(x0, x1, style.LANDSCAPE_GRID)
            gy = np.linspace(y0, y1, style.LANDSCAPE_GRID)
            X, Y = np.meshgrid(gx, gy)
            with np.errstate(all="ignore"):
                Z = np.asarray(s.fn.value(np.stack([X.ravel(), Y.ravel()], axis=1)), dtype=float)
            Z = Z.reshape(X.shape)
            scale = style.landscape_scale(s.fn, Z)
            z = scale.transform(Z)
            levels = scale.levels(z)
            zz = np.ma.masked_invalid(np.clip(z, levels[0], levels[-1]))
            cs = ax.contourf(X, Y, zz, levels=levels, cmap=style.landscape_cmap(), zorder=_Z["landscape"])
            r, g, b = (v / 255 for v in style.CONTOUR_LINE_RGB)
            ax.contour(X, Y, zz, levels=levels[1:-1], colors=[(r, g, b, style.CONTOUR_LINE_OPACITY)],
                       linewidths=t.contour, negative_linestyles="solid", zorder=_Z["landscape"])
            self._colorbar(cs, scale, levels)
            self._labels(ax, "x₁", "x₂")
            frame_axes(ax, t, grid=False)
        else:
            self._labels(ax, "x₁ (projection)", "x₂ (projection)")
            frame_axes(ax, t, grid=True)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ratio = (y1 - y0) / (x1 - x0)
        if 1 / 3 <= ratio <= 3:
            ax.set_aspect("equal", adjustable="box")
        self._mark_minima(lambda p: (p[:, 0], p[:, 1]))
        self._optimizer_artists(with_paths=True)

    def _colorbar(self, cs, scale: style.LandscapeScale, levels: np.ndarray) -> None:
        """A horizontal colour bar above the plot on the right, as on the page."""
        t = self.t
        from matplotlib.ticker import MaxNLocator

        cb = self.fig.colorbar(cs, ax=self.ax, location="top", shrink=0.5, anchor=(1.0, 0.0),
                               panchor=(1.0, 0.0), aspect=28, pad=0.02)
        cb.outline.set_visible(False)
        if scale.log:
            ticks = style.decade_ticks(float(levels[0]), float(levels[-1]))
            cb.set_ticks(ticks, labels=[style.decade_label(int(k)) for k in ticks])
        else:
            cb.locator = MaxNLocator(5)
            cb.update_ticks()
        cb.ax.tick_params(which="both", labelsize=t.tick, labelfontfamily=font_family(), length=3)
        cb.ax.text(-0.02, 0.5, scale.label, transform=cb.ax.transAxes, ha="right", va="center",
                   fontsize=t.label, family=font_family())

    def _labels(self, ax, xlabel: str, ylabel: str) -> None:
        ax.set_xlabel(xlabel, fontsize=self.t.label, family=font_family())
        ax.set_ylabel(ylabel, fontsize=self.t.label, family=font_family())

    def _mark_minima(self, to_xy) -> None:
        fn, ax, t = self.s.fn, self.ax, self.t
        if self.has_global:
            x, y = to_xy(np.asarray(fn.minimizers, dtype=float).reshape(-1, fn.dim))
            ax.plot(x, y, **mark_style(style.MINIMUM, t.star, t.edge * 1.4), zorder=_Z["minima"])
        if self.has_local:
            x, y = to_xy(np.asarray(fn.local_minima, dtype=float).reshape(-1, fn.dim))
            ax.plot(x, y, **mark_style(style.LOCAL_MINIMUM, t.local, t.edge), zorder=_Z["minima"])

    def _setup_errors(self) -> None:
        s, ax, t = self.s, self.ax_err, self.t
        ax.set_xlim(0, max(int(s.steps[-1]), 1))
        lo, hi = s.err_range
        if s.log_errors:
            ax.set_yscale("log")
            lo, hi = lo / 3, hi * 3
            if hi / lo < 100:  # at least two decades, so that major ticks are labelled
                mid = math.sqrt(lo * hi)
                lo, hi = mid / 10, mid * 10
            ax.set_ylim(lo, hi)
        else:
            pad = 0.05 * (hi - lo or 1.0)
            ax.set_ylim(lo - pad, hi + pad)
        self._labels(ax, "step", KIND_LABELS[s.kind])
        many = s.n_points > 1
        self.err_title = ax.set_title(_error_titles(s.n_points)[0], fontsize=t.label, family=font_family(),
                                      loc="left")
        frame_axes(ax, t, grid=True)
        ax.grid(alpha=0.12, which="minor", axis="y")
        self.err_lines, self.err_ends, self.bands = {}, {}, {}
        for name, lk in s.looks.items():
            if many:
                self.bands[name] = ax.fill_between([], [], [], color=lk.color, alpha=style.BAND_OPACITY, lw=0,
                                                   zorder=1)
            self.err_lines[name], = ax.plot([], [], color=lk.color, ls=lk.mpl_linestyle, lw=t.error_line,
                                            zorder=2)
            # where a curve stops because half its points diverged: a black cross, as on the page
            self.err_ends[name], = ax.plot([], [], **mark_style(style.DIVERGED_MARK, t.cross, t.edge),
                                           zorder=3)

    def _extra_handles(self, before: bool) -> list:
        """Legend entries around the optimizers', in the page's order: minima and start before,
        diverged after."""
        t = self.t
        out = []
        if before:
            if self.has_global:
                out.append(Line2D([], [], **mark_style(style.MINIMUM, t.star * 0.8, t.edge * 1.4),
                                  label=style.MINIMUM.label))
            if self.has_local:
                out.append(Line2D([], [], **mark_style(style.LOCAL_MINIMUM, t.local, t.edge),
                                  label=style.LOCAL_MINIMUM.label))
            out.append(Line2D([], [], **mark_style(style.START, t.start * 0.8, t.start_width),
                              label=style.START.label))
        elif any((d >= 0).any() for d in self.s.div_step.values()):
            out.append(Line2D([], [], **mark_style(style.DIVERGED_MARK, t.cross, t.edge),
                              label=style.DIVERGED_MARK.label))
        return out

    def _layout(self, size, handles: list, error_panel: bool) -> None:
        """Create the axes and the legend, beside the plots, never over them.

        Three places are tried for the legend: under the error panel (right column), in
        columns outside on the right, or in rows along the bottom; the one that leaves the
        trajectory panel the most room wins (the panel is square-ish in 2-D, so its shorter
        side counts there; its area in 1-D).
        """
        fig, t = self.fig, self.t
        width, height = size
        two_d = self.s.dim >= 2
        fs = t.legend
        col_w, row_h = _legend_metrics(handles, fs)
        n = len(handles)
        # inches under the title (and, in 2-D, the colour bar above the plot)
        body = height - t.k * (0.75 + (0.55 if self.s.dim == 2 else 0.0))
        over = t.k * (0.9 + (1.2 if error_panel else 0.0))  # axis labels and ticks

        def room(w_all: float, h: float, ratio: float) -> float:
            w = w_all * (ratio / (ratio + 1) if error_panel else 1.0)
            if w <= 0 or h <= 0:
                return 0.0
            return min(w, h) ** 2 if two_d else w * h

        ratio = 1.6 if two_d else 1.38
        options = []
        if error_panel:
            cols = max(1, min(n, int((width - over) / (ratio + 1) / col_w)))
            leg_h = math.ceil(n / cols) * row_h + 0.15
            if leg_h <= 0.6 * body:
                options.append((room(width - over, body, ratio), "under", cols, leg_h, ratio))
        cols = math.ceil(n / max(1, int(body / row_h)))
        wide = 2.0 if two_d else ratio  # the legend takes width: favour the paths
        options.append((room(width - over - cols * col_w, body, wide), "right", cols, 0.0, wide))
        cols = max(1, min(n, int((width - 0.2) / col_w)))
        leg_h = math.ceil(n / cols) * row_h + 0.15
        options.append((room(width - over, body - leg_h, ratio), "bottom", cols, leg_h, ratio))
        _, where, cols, leg_h, ratio = max(options, key=lambda o: o[0])

        legend_style = {"prop": {"size": fs, "family": font_family()}, "ncols": cols, "frameon": False,
                        "handlelength": 1.6, "columnspacing": 1.0, "labelspacing": 0.4}
        if where == "right":
            if error_panel:
                self.ax, self.ax_err = fig.subplots(1, 2, width_ratios=[ratio, 1])
            else:
                self.ax, self.ax_err = fig.subplots(1, 1), None
            fig.legend(handles=handles, loc="outside right upper", **legend_style)
            return
        # "under" and "bottom": the legend gets its own row of the grid (an axes without axis).
        n_cols = 2 if error_panel else 1
        gs = fig.add_gridspec(2, n_cols, width_ratios=[ratio, 1][:n_cols],
                              height_ratios=[body - leg_h, leg_h])
        self.ax = fig.add_subplot(gs[:, 0] if where == "under" else gs[0, 0])
        self.ax_err = fig.add_subplot(gs[0, 1]) if error_panel else None
        leg_ax = fig.add_subplot(gs[1, 1] if where == "under" else gs[1, :])
        leg_ax.axis("off")
        leg = leg_ax.legend(handles=handles, loc="upper left" if where == "under" else "upper center",
                            borderaxespad=0.0, **legend_style)
        leg.set_in_layout(False)  # its row is sized for it; as a decoration it would upset the grid

    # -------------------------------------------------------------- a frame
    def show(self, row: int) -> None:
        """Move every artist to recorded row ``row``. At step 0 the optimizers' markers are not
        drawn: they all sit on their starts, which the start rings show."""
        s = self.s
        step = int(s.steps[row])
        for name in s.names:
            pos = s.pos[name][row]
            shown = s.alive_at(name, row) & (step > 0)
            if s.dim >= 2:
                drawn = s.drawn[name]
                if self.path_rows is None:
                    idx = slice(0, row + 1)
                    m = row + 1
                else:  # a long run: an even subset of the rows, ending exactly at this one
                    idx = np.append(self.path_rows[self.path_rows < row], row)
                    m = len(idx)
                seg = np.full((m + 1, s.n_points, 2), np.nan)
                seg[:m] = drawn[idx]
                seg = seg.transpose(1, 0, 2).reshape(-1, 2)
                self.paths[name].set_data(seg[:, 0], seg[:, 1])
            self.dots[name].set_data(pos[shown, 0], pos[shown, 1])
            xy, when = s.marks[name]
            vis = when <= step
            self.crosses[name].set_data(xy[vis, 0], xy[vis, 1])
            if self.ax_err is not None:
                q25, q50, q75 = s.quantiles[name]
                x = s.steps[: row + 1]
                self.err_lines[name].set_data(x, q50[: row + 1])
                if name in self.bands:
                    lo, hi = q25[: row + 1], q75[: row + 1]
                    ok = np.isfinite(lo) & np.isfinite(hi)
                    self.bands[name].set_data(x, np.where(ok, lo, np.nan), np.where(ok, hi, np.nan))
                fin = np.isfinite(q50[: row + 1])
                if fin.any() and not fin[-1]:
                    last = int(np.flatnonzero(fin)[-1])
                    self.err_ends[name].set_data([x[last]], [q50[last]])
                else:
                    self.err_ends[name].set_data([], [])
        self.counter.set_text(self.counter_fmt.format(step))



"""Export: turn a :class:`~optviz.result.Result` into a GIF or MP4 animation, or a still picture.

>>> import optviz
>>> from optviz import render
>>> res = optviz.run("rosenbrock", ["Adam", "NAG"], starts=[[-1.5, 2.0]], steps=200)
>>> render.animate(res, "race.gif")        # or "race.mp4"; ".png"/".svg" give the last frame
>>> render.error_plot(res, "errors.png")   # log-scale error curves (median + IQR band)

Everything is drawn with matplotlib's object API (``Figure`` + ``FigureCanvasAgg``): no
pyplot state and no change to ``rcParams``, so it is safe to call from the dashboard's threads.
No optimizer step is computed here: the pictures come from the arrays in the ``Result``.

Files are written atomically: into a temporary file in the same directory, then
``os.replace``-d onto the final path. On any error the temporary file is removed, so a
half-written animation never appears under the final name.

MP4 is H.264 in yuv420p (plays in browsers and on phones) through the ffmpeg binary that the
``imageio-ffmpeg`` wheel ships; yuv420p needs even pixel sizes, so the frame is trimmed by a
pixel when ``size * dpi`` is odd.
"""

from __future__ import annotations

import math
import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import animation as _animation
from matplotlib import patheffects
from matplotlib.animation import FFMpegWriter, PillowWriter
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import LogFormatterSciNotation, LogLocator

from .result import Result
from .style import color

#: Animation formats (by file extension).
ANIMATION_FORMATS = (".gif", ".mp4")
#: Still formats: :func:`animate` writes the last frame, :func:`error_plot` the error curves.
STILL_FORMATS = (".png", ".svg")
#: Every extension the exporters accept.
FORMATS = ANIMATION_FORMATS + STILL_FORMATS

#: Frames are at most this many pixels on a side (a guard against typos such as dpi=10000).
MAX_PIXELS = 8000
#: Paths of longer runs are drawn through about this many recorded rows per start (all the
#: early ones, then spread out) and the current one: a frame's cost stays bounded.
PATH_VERTICES = 2000
#: Errors at or below this are drawn at this value on the log scale (exact zeros happen).
ERROR_FLOOR = 1e-16

Progress = Callable[[int, int], Any]

_KIND_LABELS = {
    "distance": "distance to minimizer",
    "gap": "f(x) − f*",
    "loss": "f(x)",
}


# ====================================================================== helpers: checks and files
def output_format(path: str | os.PathLike, allowed: tuple[str, ...] = FORMATS) -> str:
    """The format of ``path`` from its extension (``".gif"``, ...); ``ValueError`` names the valid ones."""
    ext = Path(path).suffix.lower()
    if ext not in allowed:
        shown = f"{ext!r}" if ext else "no extension"
        raise ValueError(
            f"cannot tell the format of {os.fspath(path)!r} ({shown}); valid extensions: "
            + ", ".join(allowed)
        )
    return ext


def check_output(path: str | os.PathLike, allowed: tuple[str, ...] = FORMATS) -> Path:
    """Check, before any work, that ``path`` has a known extension and can be written.

    The directory must exist and accept a new file (tested by creating and removing a
    temporary file there, which also catches read-only file systems). Returns the path;
    raises ``ValueError`` saying what is wrong.
    """
    p = Path(path)
    output_format(p, allowed)
    parent = p.parent
    if not parent.exists():
        raise ValueError(f"cannot write {os.fspath(p)!r}: directory {os.fspath(parent)!r} does not exist")
    if not parent.is_dir():
        raise ValueError(f"cannot write {os.fspath(p)!r}: {os.fspath(parent)!r} is not a directory")
    if p.is_dir():
        raise ValueError(f"cannot write {os.fspath(p)!r}: it is a directory; give a file name")
    try:
        probe = _reserve_temp(p)
    except OSError as exc:
        raise ValueError(
            f"cannot write {os.fspath(p)!r}: directory {os.fspath(parent)!r} is not writable "
            f"({exc.strerror or exc})"
        ) from None
    with suppress(OSError):
        os.unlink(probe)
    return p


def _reserve_temp(path: Path) -> Path:
    """Create an empty, uniquely named hidden file next to ``path``, with the same extension."""
    for _ in range(100):
        tmp = path.parent / f".{path.stem}.{secrets.token_hex(4)}.part{path.suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # honours the umask
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"could not create a temporary file next to {os.fspath(path)!r}")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it onto ``path``, else delete it."""
    final = Path(path)
    tmp = _reserve_temp(final)
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def frame_rows(n_rows: int, max_frames: int = 200, stride: int | None = None) -> np.ndarray:
    """Indices of the recorded rows to draw: ``0, s, 2s, …`` and always the last row.

    ``stride`` counts recorded rows (steps, when every step is recorded). Without it the
    smallest stride is chosen that keeps the count at or below ``max_frames``.
    """
    if n_rows < 1:
        raise ValueError("the result has no recorded rows")
    if stride is None:
        if isinstance(max_frames, bool) or int(max_frames) != max_frames or max_frames < 2:
            raise ValueError(f"max_frames must be a whole number >= 2, got {max_frames!r}")
        stride = max(1, math.ceil((n_rows - 1) / (int(max_frames) - 1)))
    elif isinstance(stride, bool) or int(stride) != stride or stride < 1:
        raise ValueError(f"stride must be a whole number >= 1, got {stride!r}")
    rows = np.arange(0, n_rows, int(stride))
    if rows[-1] != n_rows - 1:
        rows = np.append(rows, n_rows - 1)
    return rows


def check_options(
    fmt: str = ".gif",
    *,
    fps: float = 20,
    max_frames: int = 200,
    stride: int | None = None,
    size: tuple[float, float] = (10, 5.6),
    dpi: float = 100,
) -> None:
    """Raise ``ValueError`` for export options :func:`animate` would refuse (before any work)."""
    if not (isinstance(fps, int | float) and not isinstance(fps, bool) and 0 < fps <= 120):
        raise ValueError(f"fps must be a number in (0, 120], got {fps!r}")
    frame_rows(2, max_frames, stride)
    _figsize(size, dpi, even=fmt == ".mp4")


def _figsize(size: tuple[float, float], dpi: float, even: bool) -> tuple[float, float]:
    """Figure inches whose pixel size (as matplotlib truncates it) is ``round(size*dpi)``,
    made even when ``even`` (yuv420p)."""
    try:
        w, h = (float(v) for v in size)
        dpi = float(dpi)
    except (TypeError, ValueError):
        raise ValueError(
            f"size must be (width, height) in inches and dpi a number; got {size!r}, {dpi!r}"
        ) from None
    if not all(math.isfinite(v) and v > 0 for v in (w, h, dpi)):
        raise ValueError(f"size and dpi must be positive, got size={size!r}, dpi={dpi!r}")
    out = []
    for inches in (w, h):
        px = round(inches * dpi)
        if even:
            px -= px % 2
        if not 64 <= px <= MAX_PIXELS:
            raise ValueError(
                f"size x dpi gives {round(w * dpi)}x{round(h * dpi)} pixels; each side must be "
                f"between 64 and {MAX_PIXELS}"
            )
        x = px / dpi
        while int(x * dpi + 1e-8) < px:
            x = float(np.nextafter(x, np.inf))
        out.append(x)
    return out[0], out[1]


def _new_figure(size: tuple[float, float], dpi: float = 100) -> Figure:
    fig = Figure(figsize=size, dpi=dpi, facecolor="white", layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _freeze_layout(fig: Figure) -> None:
    """Run the constrained layout once, then keep it: frames must not jitter, and it is slow."""
    fig.draw_without_rendering()
    fig.set_layout_engine("none")


# ====================================================================== data prepared once
class _Scene:
    """Everything a frame needs, computed once from the Result (NumPy only)."""

    def __init__(self, result: Result, kind: str):
        self.result = result
        self.fn = result.function
        self.kind = result.error_kind(kind)
        self.names = result.names
        self.steps = np.asarray(result.recorded_steps)
        self.dim = result.dim
        self.n_points = result.n_points
        self.div_step = {n: np.asarray(result.diverged_step[n]) for n in self.names}
        #: per optimizer, (R, n) error with diverged points as +inf from their divergence on
        self.err = result.errors_until_divergence(self.kind)
        with np.errstate(all="ignore"):
            # Diverged points count as infinitely bad: the median is +inf (and not drawn)
            # once half the starts have diverged.
            self.median = {n: np.median(self.err[n], axis=1) for n in self.names}
        finite = np.concatenate([e[np.isfinite(e)] for e in self.err.values()] or [np.zeros(0)])
        self.log_errors = self.kind != "loss" or (finite.size > 0 and finite.min() > 0)
        if self.log_errors:
            self.median = {n: np.maximum(m, ERROR_FLOOR) for n, m in self.median.items()}
            finite = np.maximum(finite, ERROR_FLOOR)
        self.err_range = (float(finite.min()), float(finite.max())) if finite.size else (1e-3, 1.0)
        self.view = self._view()

    def alive_at(self, name: str, row: int) -> np.ndarray:
        d = self.div_step[name]
        return (d < 0) | (self.steps[row] < d)

    def _view(self) -> np.ndarray:
        """The box to draw, (min(dim, 2), 2): the function's box, widened to show overshoots
        (at most a fifth of the box's span on each side, so a diverged point cannot zoom it out)."""
        k = min(self.dim, 2)
        box = np.array(self.fn.box, dtype=float)[:k]
        span = box[:, 1] - box[:, 0]
        lo, hi = box[:, 0].copy(), box[:, 1].copy()
        for n in self.names:
            tr = self.result.trajectories[n][..., :k]
            alive = self.div_step[n] < 0
            if alive.any():
                pts = tr[:, alive].reshape(-1, k)
                pts = pts[np.all(np.isfinite(pts), axis=1)]
                if pts.size:
                    lo = np.minimum(lo, pts.min(axis=0))
                    hi = np.maximum(hi, pts.max(axis=0))
        lo = np.maximum(lo, box[:, 0] - 0.2 * span)
        hi = np.minimum(hi, box[:, 1] + 0.2 * span)
        pad = 0.02 * (hi - lo)
        return np.stack([lo - pad * (lo < box[:, 0]), hi + pad * (hi > box[:, 1])], axis=1)


def _legend_metrics(handles: list, fontsize: float) -> tuple[float, float]:
    """Width of a legend column and height of a row, in inches, for ``handles``."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(size=fontsize)
    measure = TextToPath().get_text_width_height_descent
    longest = max(measure(h.get_label(), prop, ismath=False)[0] for h in handles)  # points
    col_w = (longest + fontsize * (1.6 + 0.8 + 1.0)) / 72  # text + handle + pad + spacing
    return col_w, fontsize * 1.62 / 72


def _default_title(result: Result) -> str:
    fn = result.function
    n_opt, n_pts = len(result.names), result.n_points
    dim = f" ({fn.dim}-D)" if fn.dim > 2 else ""
    title = (f"{fn.title}{dim}: {n_opt} optimizer{'s' * (n_opt != 1)}, "
             f"{n_pts} start{'s' * (n_pts != 1)}")
    extras = []
    if result.schedule and result.schedule != "constant":
        extras.append(f"schedule {result.schedule}")
    if result.hooks:
        extras.append("hooks " + " → ".join(result.hooks))
    return title + ("\n" + " · ".join(extras) if extras else "")


# ====================================================================== the figure
class _Frame:
    """A figure with every artist created once; :meth:`show` moves them to a recorded row."""

    def __init__(self, scene: _Scene, size, dpi: float, *, error_panel: bool, title: str | None,
                 counter: bool = True):
        self.s = scene
        n_pts = scene.n_points
        self.lw = 1.8 if n_pts <= 4 else 1.1 if n_pts <= 25 else 0.6
        self.ms = 8 if n_pts <= 4 else 6 if n_pts <= 25 else 4
        self.background = None
        n_rows = len(scene.steps)
        self.path_rows = None
        if n_rows > PATH_VERTICES:  # every early row (paths move fastest there), then spread out
            k = PATH_VERTICES // 4
            self.path_rows = np.unique(np.concatenate([
                np.arange(k),
                np.geomspace(k, n_rows - 1, k + k // 2),
                np.linspace(0, n_rows - 1, k + k // 2),
            ]).round().astype(np.int64))
        fig = self.fig = _new_figure(size, dpi)
        self.has_global = np.size(scene.fn.minimizers) > 0
        self.has_local = np.size(scene.fn.local_minima) > 0
        handles = [
            Line2D([], [], color=color(name), lw=2, marker="o", ms=6, mec="white", label=name)
            for name in scene.names
        ] + self._extra_handles()
        self._layout(size, handles, error_panel)
        fig.suptitle(_default_title(scene.result) if title is None else title, fontsize=13)
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
            family="monospace", fontsize=11, color="#333333",
        )
        self.counter_fmt = f"step {{:>{len(str(total))}d}} / {total}"
        self.counter.set_visible(counter)
        # Moving artists never take part in the layout: an empty line without clipping would
        # otherwise stretch the layout to the figure's origin.
        for artist in (*self.paths.values(), *self.dots.values(), *self.crosses.values()):
            artist.set_in_layout(False)
        self.show(len(scene.steps) - 1)
        _freeze_layout(fig)

    # -------------------------------------------------------------- fast frames (blitting)
    def _moving(self) -> list:
        """The artists redrawn each frame, in drawing order: every line of the trajectory
        panel (so the minima markers stay on top of the paths), the error curves, the counter."""
        arts = sorted(self.ax.lines, key=lambda a: a.get_zorder())
        if self.ax_err is not None:
            arts += list(self.err_lines.values())
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
            self.fig.draw_artist(a)
        return canvas.buffer_rgba()

    # -------------------------------------------------------------- panels
    def _setup_1d(self) -> None:
        s, ax = self.s, self.ax
        lo, hi = s.view[0]
        xs = np.linspace(lo, hi, 600)
        ys = np.asarray(s.fn.value(xs[:, None]), dtype=float)
        ax.plot(xs, ys, color="#222222", lw=1.6, zorder=1)
        ymin, ymax = float(np.nanmin(ys)), float(np.nanmax(ys))
        pad = 0.06 * (ymax - ymin or 1.0)
        self.ylim = (ymin - pad, ymax + pad)
        ax.set_xlim(lo, hi)
        ax.set_ylim(*self.ylim)
        ax.set_xlabel("x")
        ax.set_ylabel("f(x)")
        ax.grid(alpha=0.3)
        self._mark_minima(lambda p: (p[:, 0], np.asarray(s.fn.value(p), dtype=float)))
        self.paths = {}
        self.dots = {}
        self.crosses = {}
        for name in s.names:
            c = color(name)
            self.dots[name], = ax.plot([], [], "o", color=c, ms=self.ms + 1, mec="white", mew=0.8,
                                       zorder=4, alpha=0.9, clip_on=False)
            self.crosses[name], = ax.plot([], [], "x", color=c, ms=self.ms + 3, mew=2.5, zorder=5,
                                          path_effects=_OUTLINE, clip_on=False)

    def _setup_2d(self) -> None:
        s, ax = self.s, self.ax
        (x0, x1), (y0, y1) = s.view
        if s.dim == 2:
            gx, gy = np.linspace(x0, x1, 220), np.linspace(y0, y1, 220)
            X, Y = np.meshgrid(gx, gy)
            Z = np.asarray(s.fn.value(np.stack([X.ravel(), Y.ravel()], axis=1)), dtype=float)
            Z = Z.reshape(X.shape)
            finite = Z[np.isfinite(Z)]
            if s.fn.log_levels and finite.size:
                base = float(s.fn.fmin) if s.fn.fmin is not None else float(finite.min())
                Zs = Z - base
                top = float(np.nanmax(Zs[np.isfinite(Zs)]))
                pos = Zs[np.isfinite(Zs) & (Zs > 0)]
                bottom = max(float(pos.min()) if pos.size else top * 1e-6, top * 1e-9, 1e-300)
                Zs = np.clip(np.nan_to_num(Zs, nan=top, posinf=top), bottom, top)
                levels = np.geomspace(bottom, top, 28)
                cs = ax.contourf(X, Y, Zs, levels=levels, norm=LogNorm(bottom, top), cmap=_CMAP)
                ax.contour(X, Y, Zs, levels=levels[::3], norm=LogNorm(bottom, top), colors="white",
                           linewidths=0.4, alpha=0.5)
                label = "f − f* (log scale)" if s.fn.fmin is not None else "f − min f (log scale)"
            else:
                Zc = np.nan_to_num(Z, nan=float(np.nanmax(finite)) if finite.size else 0.0)
                cs = ax.contourf(X, Y, Zc, levels=28, cmap=_CMAP)
                ax.contour(X, Y, Zc, levels=cs.levels[::3], colors="white", linewidths=0.4, alpha=0.5)
                label = "f(x)"
            cb = self.fig.colorbar(cs, ax=ax, shrink=0.8, pad=0.01, aspect=30)
            if isinstance(cs.norm, LogNorm):
                cb.locator = LogLocator(numticks=8)
                cb.formatter = LogFormatterSciNotation()
            cb.set_label(label, fontsize=9)
            cb.ax.tick_params(labelsize=8)
            ax.set_xlabel("x₁")
            ax.set_ylabel("x₂")
        else:
            ax.grid(alpha=0.3)
            ax.set_xlabel("x₁ (projection)")
            ax.set_ylabel("x₂ (projection)")
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ratio = (y1 - y0) / (x1 - x0)
        if 1 / 3 <= ratio <= 3:
            ax.set_aspect("equal", adjustable="box")
        self._mark_minima(lambda p: (p[:, 0], p[:, 1]))
        starts = s.result.starts
        ax.plot(starts[:, 0], starts[:, 1], "o", mfc="none", mec="#222222", ms=self.ms - 1, mew=1,
                zorder=3)
        self.paths, self.dots, self.crosses = {}, {}, {}
        for name in s.names:
            c = color(name)
            self.paths[name], = ax.plot([], [], "-", color=c, lw=self.lw, alpha=0.9, zorder=3,
                                        solid_capstyle="round")
            self.dots[name], = ax.plot([], [], "o", color=c, ms=self.ms, mec="white", mew=0.8, zorder=4,
                                       clip_on=False)
            self.crosses[name], = ax.plot([], [], "x", color=c, ms=self.ms + 3, mew=2.5, zorder=5,
                                          path_effects=_OUTLINE, clip_on=False)

    def _mark_minima(self, to_xy) -> None:
        fn, ax = self.s.fn, self.ax
        if self.has_global:
            x, y = to_xy(np.asarray(fn.minimizers, dtype=float).reshape(-1, fn.dim))
            ax.plot(x, y, "*", color="white", mec="black", ms=16, mew=1.2, zorder=2)
        if self.has_local:
            x, y = to_xy(np.asarray(fn.local_minima, dtype=float).reshape(-1, fn.dim))
            ax.plot(x, y, "D", color="#dddddd", mec="black", ms=7, mew=1, zorder=2)

    def _setup_errors(self) -> None:
        s, ax = self.s, self.ax_err
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
        ax.set_xlabel("step")
        what = _KIND_LABELS[s.kind]
        ax.set_ylabel(f"{what}\n(median of {s.n_points} starts)" if s.n_points > 1 else what)
        ax.grid(alpha=0.3, which="major")
        ax.grid(alpha=0.12, which="minor", axis="y")
        self.err_lines = {}
        for name in s.names:
            self.err_lines[name], = ax.plot([], [], "-", color=color(name), lw=1.8, marker="o", ms=4,
                                            markevery=[-1])

    def _extra_handles(self) -> list:
        out = []
        if self.has_global:
            out.append(Line2D([], [], ls="none", marker="*", color="white", mec="black", ms=13,
                              label="global minimum"))
        if self.has_local:
            out.append(Line2D([], [], ls="none", marker="D", color="#dddddd", mec="black", ms=6,
                              label="local minimum"))
        if self.s.dim >= 2:
            out.append(Line2D([], [], ls="none", marker="o", mfc="none", mec="#222222", ms=6,
                              label="start"))
        if any((d >= 0).any() for d in self.s.div_step.values()):
            out.append(Line2D([], [], ls="none", marker="x", color="#444444", ms=8, mew=2.5,
                              label="diverged"))
        return out

    def _layout(self, size, handles: list, error_panel: bool) -> None:
        """Create the axes and the legend, beside the plots, never over them.

        Three places are tried for the legend: under the error panel (right column), in
        columns outside on the right, or in rows along the bottom; the one that leaves the
        trajectory panel the most room wins (the panel is square-ish in 2-D, so its shorter
        side counts there; its area in 1-D).
        """
        fig = self.fig
        width, height = size
        two_d = self.s.dim >= 2
        fs = 9 if width >= 8 else 8
        col_w, row_h = _legend_metrics(handles, fs)
        n = len(handles)
        body = height - 0.7  # inches under the title
        over = 0.7 + (0.9 if self.s.dim == 2 else 0.0) + (1.1 if error_panel else 0.0)

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

        style = {"fontsize": fs, "ncols": cols, "frameon": False, "handlelength": 1.6,
                 "columnspacing": 1.0, "labelspacing": 0.4}
        if where == "right":
            if error_panel:
                self.ax, self.ax_err = fig.subplots(1, 2, width_ratios=[ratio, 1])
            else:
                self.ax, self.ax_err = fig.subplots(1, 1), None
            fig.legend(handles=handles, loc="outside right upper", **style)
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
                            borderaxespad=0.0, **style)
        leg.set_in_layout(False)  # its row is sized for it; as a decoration it would upset the grid

    # -------------------------------------------------------------- a frame
    def show(self, row: int) -> None:
        s = self.s
        for name in s.names:
            traj = s.result.trajectories[name]
            alive = s.alive_at(name, row)
            pos = traj[row]
            if s.dim == 1:
                xy = np.stack([pos[:, 0], s.result.losses[name][row]], axis=1)
                lims = np.array([s.view[0], self.ylim])
            else:
                xy = pos[:, :2]
                lims = s.view
                if self.path_rows is None:
                    idx = slice(0, row + 1)
                    m = row + 1
                else:  # a long run: an even subset of the rows, ending exactly at this one
                    idx = np.append(self.path_rows[self.path_rows < row], row)
                    m = len(idx)
                seg = np.full((m + 1, s.n_points, 2), np.nan)
                seg[:m] = traj[idx, :, :2]
                seg = seg.transpose(1, 0, 2).reshape(-1, 2)
                self.paths[name].set_data(seg[:, 0], seg[:, 1])
            # Keep markers on the canvas: an overshoot or a diverged point sits at the edge.
            xy = np.clip(np.nan_to_num(xy, nan=0.0), lims[:, 0], lims[:, 1])
            self.dots[name].set_data(xy[alive, 0], xy[alive, 1])
            self.crosses[name].set_data(xy[~alive, 0], xy[~alive, 1])
            if self.ax_err is not None:
                self.err_lines[name].set_data(s.steps[: row + 1], s.median[name][: row + 1])
        self.counter.set_text(self.counter_fmt.format(int(s.steps[row])))


_CMAP = "YlGnBu_r"
_OUTLINE = [patheffects.withStroke(linewidth=4, foreground="white")]


# ====================================================================== writers
class _GifWriter(PillowWriter):
    """Matplotlib's PillowWriter, but every frame is reduced as it is grabbed to one 256-colour
    palette, made from a key frame (the last one: every path drawn) plus swatches of the
    optimizers' exact colours. A third of the memory, no palette flicker, true colours."""

    def setup(self, fig, outfile, dpi=None):
        super().setup(fig, outfile, dpi=dpi)
        self._palette = None

    def _rgb(self):
        from PIL import Image

        w, h = self.frame_size
        return Image.frombuffer("RGBA", (w, h), self.fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1
                                ).convert("RGB")

    def make_palette(self, colors: list[str]) -> None:
        """Build the palette from the canvas as last drawn and the given colours."""
        from matplotlib.colors import to_rgb
        from PIL import Image

        key = self._rgb()
        w, h = key.size
        swatch = 48  # px per side: enough weight for median cut to keep each colour
        rows = max(1, math.ceil(len(colors) * swatch / w))
        sheet = Image.new("RGB", (w, h + rows * swatch), "white")
        sheet.paste(key, (0, 0))
        for i, c in enumerate(colors):
            x, y = (i * swatch) % w, h + (i * swatch) // w * swatch
            rgb = tuple(round(255 * v) for v in to_rgb(c))
            sheet.paste(Image.new("RGB", (swatch, swatch), rgb), (x, y))
        self._palette = sheet.quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                       dither=Image.Dither.NONE)

    def grab_frame(self, **savefig_kwargs):
        """Take the canvas as last drawn (see ``_Frame.draw``): no second draw of the figure."""
        from PIL import Image

        im = self._rgb()
        if self._palette is None:
            self.make_palette([])
        self._frames.append(im.quantize(palette=self._palette, dither=Image.Dither.NONE))


class _Mp4Writer(FFMpegWriter):
    """FFMpegWriter using imageio-ffmpeg's binary (no global rcParams change)."""

    @classmethod
    def bin_path(cls):
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()

    @classmethod
    def isAvailable(cls):
        return True

    def _run(self):
        """Start ffmpeg as matplotlib does, but in a session of its own (POSIX): a Ctrl-C at the
        terminal or a SIGTERM sent to the process group reaches optviz only, which then kills
        ffmpeg and removes the temporary file (see :func:`_abort`). Otherwise ffmpeg would
        finish the file on its own and race optviz's cleanup."""
        pipe = subprocess.PIPE
        self._proc = subprocess.Popen(
            self._args(), stdin=pipe, stdout=pipe, stderr=pipe,
            creationflags=_animation.subprocess_creation_flags, start_new_session=os.name == "posix",
        )

    def grab_frame(self, **savefig_kwargs):
        """Send the canvas as last drawn (see ``_Frame.draw``) to ffmpeg's pipe."""
        self._proc.stdin.write(self.fig.canvas.buffer_rgba())


def _writer(ext: str, fps: float):
    if ext == ".gif":
        return _GifWriter(fps=fps)
    return _Mp4Writer(
        fps=fps, codec="libx264",
        extra_args=["-pix_fmt", "yuv420p", "-crf", "20", "-movflags", "+faststart"],
    )


def _abort(writer) -> None:
    """Stop an unfinished writer (kill ffmpeg and reap it) so that its temporary file can be
    removed and no ffmpeg is left running."""
    proc = getattr(writer, "_proc", None)
    if proc is None:
        return
    if proc.poll() is None:
        with suppress(OSError):
            proc.kill()
    with suppress(Exception):
        proc.communicate(timeout=10)


# ====================================================================== public API
def animate(
    result: Result,
    path: str | os.PathLike,
    *,
    fps: float = 20,
    max_frames: int = 200,
    stride: int | None = None,
    size: tuple[float, float] = (10, 5.6),
    dpi: float = 100,
    error_panel: bool = True,
    kind: str = "auto",
    title: str | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write an animation of ``result`` to ``path`` (``.gif`` or ``.mp4``) and return the path.

    1-D functions: the curve with a moving dot per optimizer (as in the source article);
    2-D: a filled contour of f (log-spaced levels when ``function.log_levels``) with growing
    paths and moving markers, minima marked; n-D: paths projected on (x₁, x₂). Beside it,
    when ``error_panel``, the error (``kind``: auto, distance, gap, loss; median over the
    starts) grows on a log scale. Diverged points show as an "x" at their last finite point.

    Args:
        fps: frames per second.
        max_frames: without ``stride``, the stride is the smallest that keeps the frame count
            at or below this; the last recorded step is always a frame.
        stride: draw every ``stride``-th recorded row (a step, when every step is recorded).
        size, dpi: figure size in inches and dots per inch; the video is ``size*dpi`` pixels
            (rounded down to even numbers for MP4).
        title: the figure title (default: function, optimizer and start counts).
        progress: called as ``progress(done, total)`` after each frame.

    ``.png`` / ``.svg`` write the last frame as a still (see :func:`still`). Other extensions
    raise ``ValueError``. The file appears only when complete.
    """
    ext = output_format(path)
    if ext in STILL_FORMATS:
        return still(result, path, size=size, dpi=dpi, error_panel=error_panel, kind=kind, title=title)
    check_options(ext, fps=fps, max_frames=max_frames, stride=stride, size=size, dpi=dpi)
    figsize = _figsize(size, dpi, even=ext == ".mp4")
    rows = frame_rows(len(result.recorded_steps), max_frames, stride)
    scene = _Scene(result, kind)
    frame = _Frame(scene, figsize, dpi, error_panel=error_panel, title=title)
    total = len(rows)
    final = Path(path)
    with atomic_path(final) as tmp:
        writer = _writer(ext, fps)
        try:  # from ffmpeg's start to its end: an interrupt anywhere kills it (then tmp goes)
            writer.setup(frame.fig, os.fspath(tmp), dpi=dpi)
            if isinstance(writer, _GifWriter):
                frame.draw(int(rows[-1]))
                writer.make_palette([color(n) for n in result.names])
            for i, row in enumerate(rows, 1):
                frame.draw(int(row))
                writer.grab_frame()
                if progress is not None:
                    progress(i, total)
            writer.finish()
        except BaseException:
            _abort(writer)
            raise
    return final


def still(
    result: Result,
    path: str | os.PathLike,
    *,
    size: tuple[float, float] = (10, 5.6),
    dpi: float = 100,
    error_panel: bool = True,
    kind: str = "auto",
    title: str | None = None,
    row: int = -1,
) -> Path:
    """The animation's frame at recorded row ``row`` (default: the last) as a ``.png``/``.svg``."""
    ext = output_format(path, STILL_FORMATS)
    figsize = _figsize(size, dpi, even=False)
    scene = _Scene(result, kind)
    frame = _Frame(scene, figsize, dpi, error_panel=error_panel, title=title, counter=row != -1)
    n = len(scene.steps)
    if not -n <= row < n:
        raise ValueError(f"row must be in [-{n}, {n - 1}], got {row}")
    frame.show(row % n)
    with atomic_path(path) as tmp:
        frame.fig.savefig(tmp, format=ext[1:], dpi=dpi)
    return Path(path)


def error_plot(
    result: Result,
    path: str | os.PathLike,
    *,
    kind: str = "auto",
    size: tuple[float, float] = (8, 5),
    dpi: float = 120,
    title: str | None = None,
) -> Path:
    """Static log-scale error curves to ``.png``/``.svg``: per optimizer the median over the
    starts, with the interquartile band when there are several; an "x" where a curve ends
    because its points diverged."""
    ext = output_format(path, STILL_FORMATS)
    figsize = _figsize(size, dpi, even=False)
    s = _Scene(result, kind)
    fig = _new_figure(figsize, dpi)
    ax = fig.subplots()
    steps = s.steps
    for name in s.names:
        c = color(name)
        med = s.median[name]
        ax.plot(steps, med, color=c, lw=1.8, label=name)
        if s.n_points > 1:
            with np.errstate(all="ignore"):
                q1, q3 = np.percentile(s.err[name], [25, 75], axis=1, method="nearest")
            if s.log_errors:
                q1, q3 = np.maximum(q1, ERROR_FLOOR), np.maximum(q3, ERROR_FLOOR)
            ok = np.isfinite(q1) & np.isfinite(q3)
            ax.fill_between(steps, np.where(ok, q1, np.nan), np.where(ok, q3, np.nan), color=c,
                            alpha=0.15, lw=0)
        fin = np.isfinite(med)
        if fin.any() and not fin[-1]:
            last = int(np.flatnonzero(fin)[-1])
            ax.plot(steps[last], med[last], "x", color=c, ms=9, mew=2.5, path_effects=_OUTLINE)
    if s.log_errors:
        ax.set_yscale("log")
    ax.set_xlim(0, max(int(steps[-1]), 1))
    ax.set_xlabel("step")
    what = _KIND_LABELS[s.kind]
    ax.set_ylabel(f"{what} (median over {s.n_points} starts, IQR band)" if s.n_points > 1 else what)
    ax.grid(alpha=0.3, which="major")
    ax.grid(alpha=0.12, which="minor", axis="y")
    fn = result.function
    fig.suptitle(title if title is not None else f"{fn.title}: error per step", fontsize=13)
    handles, _ = ax.get_legend_handles_labels()
    rows_fit = max(4, int((figsize[1] - 0.9) * 72 / (9 * 1.75)))
    fig.legend(handles=handles, loc="outside right upper", fontsize=9, frameon=False,
               ncols=max(1, math.ceil(len(handles) / rows_fit)))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=ext[1:], dpi=dpi)
    return Path(path)


__all__ = [
    "ANIMATION_FORMATS", "FORMATS", "STILL_FORMATS", "animate", "atomic_path", "check_options",
    "check_output",
    "error_plot", "frame_rows", "output_format", "still",
]  # fmt: skip

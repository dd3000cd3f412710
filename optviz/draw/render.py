"""Export: turn a :class:`~optviz.engine.result.Result` into a GIF or MP4 animation, or a still picture.

>>> import optviz
>>> from optviz import render
>>> res = optviz.run("rosenbrock", ["Adam", "NAG"], starts=[[-1.5, 2.0]], steps=200)
>>> render.animate(res, "race.gif")        # or "race.mp4"; ".png"/".svg" give the last frame
>>> render.animate(res, "race.mp4", resolution="1080p")   # exactly 1920x1080, for a projector
>>> render.error_plot(res, "errors.png")   # log-scale error curves (median + IQR band)

The pictures look like the dashboard's (:mod:`optviz.draw.style` holds the one look both use):
the same optimizer colours and second cues, landscape colour map and bands, plot box (the
function's box), start rings, minimum star above the paths, diverged crosses and error band.
Sizes are ``size`` (inches) × ``dpi``, or a named ``resolution`` (``"720p"``, ``"1080p"``:
pixel-exact, text at least 18 px at 720p).

Everything is drawn with matplotlib's object API (``Figure`` + ``FigureCanvasAgg``): no
pyplot state and no change to ``rcParams``, so it is safe to call from the dashboard's threads.
No optimizer step is computed here: the pictures come from the arrays in the ``Result``.

Files are written atomically (:mod:`optviz.draw.files`): into a temporary file in the same
directory, then ``os.replace``-d onto the final path. On any error the temporary file is
removed, so a half-written animation never appears under the final name.

MP4 is H.264 in yuv420p (plays in browsers and on phones) through the ffmpeg binary that the
``imageio-ffmpeg`` wheel ships; yuv420p needs even pixel sizes, so the frame is trimmed by a
pixel when ``size * dpi`` is odd.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from optviz.draw import encoders, files, frames, style
from optviz.draw.files import atomic_path
from optviz.draw.style import color
from optviz.engine.result import Result

#: Animation formats (by file extension).
ANIMATION_FORMATS = (".gif", ".mp4")
#: Still formats: :func:`animate` writes the last frame, :func:`error_plot` the error curves.
STILL_FORMATS = (".png", ".svg")
#: Every extension the exporters accept.
FORMATS = ANIMATION_FORMATS + STILL_FORMATS

#: Frames are at most this many pixels on a side (a guard against typos such as dpi=10000).
MAX_PIXELS = 8000
#: Named frame sizes, in pixels (exact): see :func:`frame_size`.
RESOLUTIONS: dict[str, tuple[int, int]] = {"720p": (1280, 720), "1080p": (1920, 1080)}
_RESOLUTION_DPI = {"720p": 100, "1080p": 150}
#: The frame without a resolution: inches and dots per inch (1000×560 pixels).
DEFAULT_SIZE = (10.0, 5.6)
DEFAULT_DPI = 100

Progress = Callable[[int, int], Any]

# ====================================================================== helpers: checks and files
def output_format(path: str | os.PathLike, allowed: tuple[str, ...] = FORMATS) -> str:
    """The format of ``path`` from its extension (``".gif"``, ...); ``ValueError`` names the valid ones."""
    return files.output_format(path, allowed)


def check_output(path: str | os.PathLike, allowed: tuple[str, ...] = FORMATS) -> Path:
    """Check, before any work, that ``path`` has a known extension and can be written
    (:func:`optviz.draw.files.check_output`); raises ``ValueError`` saying what is wrong."""
    return files.check_output(path, allowed)


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
    size: tuple[float, float] | None = None,
    dpi: float | None = None,
    resolution: str | None = None,
) -> None:
    """Raise ``ValueError`` for export options :func:`animate` would refuse (before any work)."""
    if not (isinstance(fps, int | float) and not isinstance(fps, bool) and 0 < fps <= 120):
        raise ValueError(f"fps must be a number in (0, 120], got {fps!r}")
    frame_rows(2, max_frames, stride)
    size, dpi = frame_size(resolution, size, dpi)
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


# ====================================================================== sizes and type
def frame_size(
    resolution: str | None = None,
    size: tuple[float, float] | None = None,
    dpi: float | None = None,
) -> tuple[tuple[float, float], float]:
    """``(size in inches, dpi)`` for a frame: a named ``resolution`` (``"720p"``: 1280×720 at
    100 dpi, ``"1080p"``: 1920×1080 at 150 dpi, the same picture with every font and line 1.5×
    as many pixels), or ``size`` and ``dpi`` (defaults 10×5.6 in at 100 dpi). Giving both a
    resolution and a size or dpi raises ``ValueError``."""
    if resolution is None:
        return (DEFAULT_SIZE if size is None else size), (DEFAULT_DPI if dpi is None else dpi)
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {', '.join(RESOLUTIONS)}, got {resolution!r}")
    if size is not None or dpi is not None:
        raise ValueError(f"give either resolution={resolution!r} or size/dpi, not both")
    (w, h), d = RESOLUTIONS[resolution], _RESOLUTION_DPI[resolution]
    return (w / d, h / d), float(d)


# ====================================================================== public API
def animate(
    result: Result,
    path: str | os.PathLike,
    *,
    fps: float = 20,
    max_frames: int = 200,
    stride: int | None = None,
    size: tuple[float, float] | None = None,
    dpi: float | None = None,
    resolution: str | None = None,
    error_panel: bool = True,
    kind: str = "auto",
    title: str | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write an animation of ``result`` to ``path`` (``.gif`` or ``.mp4``) and return the path.

    It looks like the dashboard's race (one style, :mod:`optviz.draw.style`): the same colours and
    second cues, colour map, plot box (the function's box), markers and error band.
    1-D functions: the curve with a moving dot per optimizer (as in the source article);
    2-D: the landscape's filled contours (log-scaled in f − f* when ``function.log_levels``)
    with growing paths and moving markers, the global minimum as a star above the paths;
    n-D: paths projected on (x₁, x₂). Start rings mark the starts (at step 0 they stand for
    every optimizer). Beside it, when ``error_panel``, the error (``kind``: auto, distance,
    gap, loss) grows on a log scale: the median over the starts and its 25-75 % band. A
    diverged point shows as a black cross where it was last seen in the box.

    Args:
        fps: frames per second.
        max_frames: without ``stride``, the stride is the smallest that keeps the frame count
            at or below this; the last recorded step is always a frame.
        stride: draw every ``stride``-th recorded row (a step, when every step is recorded).
        size, dpi: figure size in inches and dots per inch (default 10×5.6 at 100); the video is
            ``size*dpi`` pixels (rounded down to even numbers for MP4).
        resolution: ``"720p"`` (1280×720) or ``"1080p"`` (1920×1080) instead of size and dpi:
            exactly that many pixels, fonts sized to read on a projector.
        title: the figure title (default: function, optimizer and start counts).
        progress: called as ``progress(done, total)`` after each frame.

    ``.png`` / ``.svg`` write the last frame as a still (see :func:`still`). Other extensions
    raise ``ValueError``. The file appears only when complete.
    """
    ext = output_format(path)
    if ext in STILL_FORMATS:
        return still(result, path, size=size, dpi=dpi, resolution=resolution, error_panel=error_panel,
                     kind=kind, title=title)
    check_options(ext, fps=fps, max_frames=max_frames, stride=stride, size=size, dpi=dpi,
                  resolution=resolution)
    size, dpi = frame_size(resolution, size, dpi)
    figsize = _figsize(size, dpi, even=ext == ".mp4")
    rows = frame_rows(len(result.recorded_steps), max_frames, stride)
    scene = frames.Drawing(result, kind)
    frame = frames.Frame(scene, figsize, dpi, error_panel=error_panel, title=title)
    total = len(rows)
    final = Path(path)
    with atomic_path(final) as tmp:
        writer = encoders.writer(ext, fps)
        try:  # from ffmpeg's start to its end: an interrupt anywhere kills it (then tmp goes)
            writer.setup(frame.fig, os.fspath(tmp), dpi=dpi)
            if isinstance(writer, encoders.GifWriter):
                frame.draw(int(rows[-1]))
                writer.make_palette([color(n) for n in result.names])
            for i, row in enumerate(rows, 1):
                frame.draw(int(row))
                writer.grab_frame()
                if progress is not None:
                    progress(i, total)
            writer.finish()
        except BaseException:
            encoders.abort(writer)
            raise
    return final


def still(
    result: Result,
    path: str | os.PathLike,
    *,
    size: tuple[float, float] | None = None,
    dpi: float | None = None,
    resolution: str | None = None,
    error_panel: bool = True,
    kind: str = "auto",
    title: str | None = None,
    row: int = -1,
) -> Path:
    """The animation's frame at recorded row ``row`` (default: the last) as a ``.png``/``.svg``
    (``size``/``dpi`` or ``resolution`` as for :func:`animate`)."""
    ext = output_format(path, STILL_FORMATS)
    size, dpi = frame_size(resolution, size, dpi)
    figsize = _figsize(size, dpi, even=False)
    scene = frames.Drawing(result, kind)
    frame = frames.Frame(scene, figsize, dpi, error_panel=error_panel, title=title, counter=row != -1)
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
    size: tuple[float, float] | None = (8, 5),
    dpi: float | None = 120,
    resolution: str | None = None,
    title: str | None = None,
) -> Path:
    """Static log-scale error curves to ``.png``/``.svg``, as the page's error chart: per
    optimizer the median over the starts, with the 25-75 % band when there are several; a black
    cross where a curve ends because half its points diverged. ``resolution`` (``"720p"``,
    ``"1080p"``) replaces ``size`` and ``dpi``."""
    ext = output_format(path, STILL_FORMATS)
    if resolution is not None:
        size, dpi = frame_size(resolution)
    size, dpi = frame_size(None, size, dpi)
    figsize = _figsize(size, dpi, even=False)
    t = frames.Typography.of(figsize)
    s = frames.Drawing(result, kind)
    fig = frames.new_figure(figsize, dpi)
    ax = fig.subplots()
    steps = s.steps
    for name, lk in s.looks.items():
        q25, med, q75 = s.quantiles[name]
        ax.plot(steps, med, color=lk.color, ls=lk.mpl_linestyle, lw=t.error_line, label=name)
        if s.n_points > 1:
            ok = np.isfinite(q25) & np.isfinite(q75)
            ax.fill_between(steps, np.where(ok, q25, np.nan), np.where(ok, q75, np.nan), color=lk.color,
                            alpha=style.BAND_OPACITY, lw=0)
        fin = np.isfinite(med)
        if fin.any() and not fin[-1]:
            last = int(np.flatnonzero(fin)[-1])
            ax.plot(steps[last], med[last], **frames.mark_style(style.DIVERGED_MARK, t.cross, t.edge),
                    zorder=3)
    if s.log_errors:
        ax.set_yscale("log")
    ax.set_xlim(0, max(int(steps[-1]), 1))
    ax.set_xlabel("step", fontsize=t.label, family=frames.font_family())
    ax.set_ylabel(frames.KIND_LABELS[s.kind], fontsize=t.label, family=frames.font_family())
    frames.frame_axes(ax, t, grid=True)
    ax.grid(alpha=0.12, which="minor", axis="y")
    fn = result.function
    what = frames.error_spread(s.n_points)
    frames.wrap_to_width(fig.suptitle(title if title is not None else f"{fn.title}: error per step ({what})",
                                fontsize=t.title, family=frames.font_family(), x=0.01, ha="left"))
    handles, _ = ax.get_legend_handles_labels()
    rows_fit = max(4, int((figsize[1] - 0.9) * 72 / (t.legend * 1.75)))
    fig.legend(handles=handles, loc="outside right upper",
               prop={"size": t.legend, "family": frames.font_family()}, frameon=False,
               ncols=max(1, math.ceil(len(handles) / rows_fit)))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=ext[1:], dpi=dpi)
    return Path(path)


__all__ = [
    "ANIMATION_FORMATS", "DEFAULT_DPI", "DEFAULT_SIZE", "FORMATS", "RESOLUTIONS", "STILL_FORMATS", "animate",
    "atomic_path", "check_options", "check_output", "error_plot", "frame_rows", "frame_size", "output_format",
    "still",
]  # fmt: skip

"""The explore views as pictures (PNG/SVG, matplotlib), in the page's style.

- :func:`basin_figure`: side-by-side maps, one per optimizer: which minimum each cell reaches
  (in the minimizers' colours), its final error, or its steps to the tolerance.
- :func:`sweep_figure`: per optimizer, the median final error over the values with its
  25-75 % band and its best value starred; below, the shares converged and diverged.
- :func:`compare_figure`: the performance profiles and the ranked table.

Optimizer colours and cues come from :mod:`optviz.draw.style`, fonts, frames and the minimizer
star from :mod:`optviz.draw.render` (so a file looks like the dashboard); the areas' colours from
:mod:`optviz.explore.look`. Files are written atomically (:func:`save`).
"""

from __future__ import annotations

import math
import os
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.colors import LogNorm, Normalize, to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from optviz.draw import frames, render, style
from optviz.explore import look
from optviz.explore.basins import LAYERS, BasinMap
from optviz.explore.compare import Comparison
from optviz.explore.sweep import Sweep

FORMATS = render.STILL_FORMATS
#: The dotted line of "diverged" shares.
DOTTED = (0, (1.0, 1.5))


def _fonts() -> dict[str, Any]:
    return {"family": frames.font_family()}


def _figure(size: tuple[float, float], dpi: float) -> tuple[Figure, Any]:
    fig = frames.new_figure(size, dpi)
    return fig, frames.Typography.of(size)


def save(fig: Figure, path: str | os.PathLike) -> Path:
    """Write ``fig`` to ``path`` (``.png`` or ``.svg``) atomically: nothing half-written is left."""
    ext = render.output_format(path, FORMATS)
    with render.atomic_path(path) as tmp:
        fig.savefig(tmp, format=ext[1:], dpi=fig.dpi)
    return Path(path)


# ---------------------------------------------------------------------- basins
def basin_rgba(m: BasinMap, name: str, layer: str = "minimum") -> tuple[np.ndarray, Any]:
    """The map of ``name`` as RGBA pixels ``(rows, cols, 4)`` (row 0 at the bottom) and the
    colour scale (a matplotlib ScalarMappable, None for the minimum layer)."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable

    if layer not in LAYERS:
        raise ValueError(f"layer must be one of {', '.join(LAYERS)}, got {layer!r}")
    div = np.atleast_2d(m.diverged[name])
    if layer == "minimum":
        idx = np.atleast_2d(m.minimum[name])
        table = np.array([to_rgba(look.minimum_color(k)) for k in range(max(1, len(m.minimizers)))])
        rgba = np.where((idx >= 0)[..., None], table[np.maximum(idx, 0) % len(table)],
                        to_rgba(look.NOT_CONVERGED))
        rgba[div] = to_rgba(look.DIVERGED)
        return rgba, None
    cmap = colormaps[look.MPL_CMAP]
    if layer == "error":
        v = np.atleast_2d(m.final_error[name]).astype(float)
        floor = max(1e-16, m.tol * 1e-6)
        lo, hi = error_limits(m, floor)
        norm = LogNorm(lo, hi)
        rgba = cmap(norm(np.clip(np.where(np.isfinite(v), v, hi), lo, hi)))
    else:
        v = np.atleast_2d(m.steps_to_tol[name]).astype(float)
        norm = Normalize(0, max(1, m.steps))
        rgba = cmap(norm(np.where(v >= 0, v, 0)))
        rgba[v < 0] = to_rgba(look.NOT_CONVERGED)
    rgba[div] = to_rgba(look.DIVERGED)
    return rgba, ScalarMappable(norm=norm, cmap=cmap)


def error_limits(m: BasinMap, floor: float) -> tuple[float, float]:
    """The colour range of error maps: the finite errors of every optimizer (at least a decade)."""
    vals = np.concatenate([np.ravel(v) for v in m.final_error.values()])
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return floor, 1.0
    lo = max(floor, float(vals.min()))
    hi = max(float(vals.max()), lo * 10)
    return lo, hi


def basin_figure(m: BasinMap, layer: str = "minimum", *, size: tuple[float, float] | None = None,
                 dpi: float = 100, title: str | None = None) -> Figure:
    """Side-by-side maps of ``m``, one per optimizer (``layer``: ``"minimum"``, ``"error"``,
    ``"steps"``)."""
    n = len(m.names)
    ncols = min(n, 4)
    nrows = math.ceil(n / ncols)
    one_d = m.y is None
    panel = (3.4, 1.2 if one_d else 3.2)
    size = size or (panel[0] * ncols + 1.6, panel[1] * nrows + 1.3)
    fig, t = _figure(size, dpi)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    dx = (m.x[-1] - m.x[0]) / max(len(m.x) - 1, 1) if len(m.x) > 1 else 1.0
    extent = [m.x[0] - dx / 2, m.x[-1] + dx / 2]
    if one_d:
        extent += [0, 1]
    else:
        dy = (m.y[-1] - m.y[0]) / max(len(m.y) - 1, 1) if len(m.y) > 1 else 1.0
        extent += [m.y[0] - dy / 2, m.y[-1] + dy / 2]
    mappable = None
    for ax, name in zip(axes, m.names, strict=False):
        rgba, mappable = basin_rgba(m, name, layer)
        ax.imshow(rgba, origin="lower", extent=extent, aspect="auto" if one_d else "equal",
                  interpolation="nearest")
        if len(m.minimizers):
            mk = style.MINIMUM
            xs = m.minimizers[:, 0]
            ys = m.minimizers[:, 1] if not one_d else np.full(len(xs), 0.5)
            ax.scatter(xs, ys, marker=mk.mpl_marker, s=(t.star * 0.8) ** 2, c=mk.fill, edgecolors=mk.edge,
                       linewidths=mk.edge_width * 0.8, zorder=5)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        if one_d:
            ax.set_yticks([])
        share = m.share_converged[name]
        ax.set_title(f"{name}: {100 * share:.1f} % converge", fontsize=t.label, color=style.color(name),
                     **_fonts())
        frames.frame_axes(ax, t, grid=False)
    for ax in axes[n:]:
        ax.set_visible(False)
    if layer == "minimum":
        handles = [Patch(facecolor=look.minimum_color(k), edgecolor="none",
                         label=f"minimum {k}: ({', '.join(f'{c:.3g}' for c in mn)})")
                   for k, mn in enumerate(m.minimizers)]
        handles += [Patch(facecolor=look.NOT_CONVERGED, label="does not converge"),
                    Patch(facecolor=look.DIVERGED, label="diverges")]
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4),
                   prop={"size": t.legend * 0.85, **_fonts()}, frameon=False)
    elif mappable is not None:
        cb = fig.colorbar(mappable, ax=list(axes[:n]), shrink=0.8, pad=0.02)
        cb.set_label("final error" if layer == "error" else "steps to tolerance", fontsize=t.label * 0.9,
                     **_fonts())
        cb.ax.tick_params(labelsize=t.tick * 0.85)
        keys = [Patch(facecolor=look.NOT_CONVERGED, label="never within tol")] * (layer == "steps")
        keys += [Patch(facecolor=look.DIVERGED, label="diverges")]
        fig.legend(handles=keys, loc="outside lower center", ncols=2, frameon=False,
                   prop={"size": t.legend * 0.85, **_fonts()})
    fn = m.function
    what = {"minimum": "which minimum each start reaches", "error": "final error",
            "steps": "steps to tolerance"}[layer]
    cells = "×".join(map(str, m.shape[::-1]))
    fig.suptitle(title if title is not None else
                 f"{fn.title}: {what} ({m.steps} steps, tol {m.tol:g}, {cells} starts)", fontsize=t.title,
                 x=0.01, ha="left", **_fonts())
    return fig


# ---------------------------------------------------------------------- sweeps
def _log_axis(values: np.ndarray, spacing: str) -> bool:
    v = np.asarray(values, dtype=float)
    if spacing == "log":
        return True
    return bool(np.all(v > 0) and v.max() / v.min() >= 100) if spacing == "list" else False


def sweep_figure(s: Sweep, *, size: tuple[float, float] = (9, 6.4), dpi: float = 100,
                 title: str | None = None) -> Figure:
    """Median final error (25-75 % band, best value starred) and shares converged/diverged."""
    fig, t = _figure(size, dpi)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(2.2, 1))
    looks = style.look_of(s.names)
    x = s.values.astype(float)
    log_x = _log_axis(x, s.spacing)
    any_err = False
    for name, lk in looks.items():
        med, q25, q75 = (s.column(name, k) for k in ("median", "q25", "q75"))
        shown = np.where(np.isfinite(med), np.maximum(med, 1e-16), np.nan)
        top.plot(x, shown, color=lk.color, ls=lk.mpl_linestyle, marker=lk.mpl_marker, ms=t.marker * 0.55,
                 lw=t.error_line, label=f"{name} ({s.params[name]})")
        ok = np.isfinite(q25) & np.isfinite(q75)
        top.fill_between(x, np.where(ok, np.maximum(q25, 1e-16), np.nan), np.where(ok, np.maximum(q75, 1e-16),
                         np.nan), color=lk.color, alpha=style.BAND_OPACITY, lw=0)
        b = s.best[name]
        if np.isfinite(med[b]):
            mk = style.MINIMUM
            top.scatter([x[b]], [max(med[b], 1e-16)], marker=mk.mpl_marker, s=(t.star * 0.9) ** 2, c=lk.color,
                        edgecolors=mk.edge, linewidths=mk.edge_width, zorder=5)
        any_err = any_err or bool(np.isfinite(med).any())
        bottom.plot(x, s.column(name, "share_converged"), color=lk.color, ls="-", lw=t.error_line)
        bottom.plot(x, s.column(name, "share_diverged"), color=lk.color, ls=DOTTED, lw=t.error_line * 0.8)
    if any_err:
        top.set_yscale("log")
    if log_x:
        top.set_xscale("log")
    top.axhline(s.tol, color=style.FRAME_COLOR, lw=0.8, ls="--")
    top.set_ylabel("final error (median,\nband 25–75 %)", fontsize=t.label, **_fonts())
    bottom.set_ylabel("share", fontsize=t.label, **_fonts())
    bottom.set_ylim(-0.03, 1.03)
    label = {"lr": "learning rate", "noise": "gradient noise σ", "delay": "gradient delay τ (steps)"}
    bottom.set_xlabel(label.get(s.param, s.param), fontsize=t.label, **_fonts())
    for ax in (top, bottom):
        frames.frame_axes(ax, t, grid=True)
    handles, _ = top.get_legend_handles_labels()
    from matplotlib.lines import Line2D

    grey = "#444444"
    handles += [Line2D([], [], color=grey, ls="-", label="converged"),
                Line2D([], [], color=grey, ls=DOTTED, label="diverged"),
                Line2D([], [], marker=style.MINIMUM.mpl_marker, ls="none", color=grey, label="best value")]
    fig.legend(handles=handles, loc="outside right upper", prop={"size": t.legend * 0.85, **_fonts()},
               frameon=False)
    fn = s.function
    n_pts = s.starts.shape[0] * s.starts.shape[1]
    fig.suptitle(title if title is not None else
                 f"{fn.title}: sweep of {s.param} ({n_pts} points per value, {s.steps} steps, tol {s.tol:g})",
                 fontsize=t.title, x=0.01, ha="left", **_fonts())
    return fig


# ---------------------------------------------------------------------- comparison
def compare_figure(c: Comparison, *, size: tuple[float, float] = (16, 5.6), dpi: float = 100,
                   title: str | None = None) -> Figure:
    """The performance profiles and the data profiles (left, middle) and the ranked table with
    90 % intervals and shared ranks (right), under the comparison's headline."""
    fig, t = _figure(size, dpi)
    left, middle, right = fig.subplots(1, 3, width_ratios=(1, 1, 1.1))
    looks = style.look_of(c.names)
    taus, rho = c.profile()
    finite = taus[np.isfinite(taus)]
    top = max(2.0, float(finite.max()) * 1.5 if finite.size else 2.0)
    kappas, share = c.data_profile()
    k_top = max(float(c.steps) / (float(c.problem_dims.min()) + 1.0), float(kappas.max()) * 1.05, 1.0)
    for ax, xs, curves, end in ((left, taus, rho, top), (middle, kappas, share, k_top)):
        for name in c.ranking:
            lk = looks[name]
            ax.step(np.concatenate([xs, [end]]), np.concatenate([curves[name], [curves[name][-1]]]),
                    where="post", color=lk.color, ls=lk.mpl_linestyle, lw=t.error_line, label=name)
        ax.set_ylim(-0.02, 1.02)
        frames.frame_axes(ax, t, grid=True)
    left.set_xscale("log")
    left.set_xlim(1, top)
    left.set_xlabel("τ: within this factor of the fewest steps", fontsize=t.label, **_fonts())
    left.set_ylabel("share of problems solved", fontsize=t.label, **_fonts())
    left.set_title("Performance profiles", fontsize=t.label, loc="left", **_fonts())
    middle.set_xlim(0, k_top)
    middle.set_xlabel("κ: gradient evaluations ÷ (dimension + 1)", fontsize=t.label, **_fonts())
    middle.set_title("Data profiles", fontsize=t.label, loc="left", **_fonts())
    left.legend(prop={"size": t.legend * 0.85, **_fonts()}, frameon=False, loc="lower right")
    right.axis("off")
    rows = c.table()
    shared = {r["rank"] for r in rows if sum(x["rank"] == r["rank"] for x in rows) > 1}
    cells = [[f"{r['rank']}{'=' if r['rank'] in shared else ''}", r["optimizer"],
              f"{100 * r['solved']:.0f} % ({_span(r['solved_interval'])})",
              f"{100 * r['wins']:.0f} %",
              "-" if r["median_steps_to_tol"] is None else f"{r['median_steps_to_tol']:.0f}"] for r in rows]
    n_rows = len(rows) + 1
    h1 = min(0.48, 0.075 * n_rows)
    header = ["rank", "optimizer", "solved (90 %)", "fastest", "median steps"]
    _table(right, cells, header, [0, 1 - h1, 1, h1], t,
           {(i + 1, 1): style.color(r["optimizer"]) for i, r in enumerate(rows)})
    # per function: the held-out share converged of each optimizer (ranked order)
    per = [[lab] + [f"{100 * c.held_out[lab][n].share_converged:.0f} %" for n in c.ranking]
           for lab in c.labels]
    h2 = min(1 - h1 - 0.08, 0.075 * (len(per) + 1))
    _table(right, per, ["solved on", *c.ranking], [0, 1 - h1 - 0.08 - h2, 1, h2], t,
           {(0, j + 1): style.color(n) for j, n in enumerate(c.ranking)})
    # a network without a known minimum: what 'solved' meant there (its target loss)
    notes = [f"{lab}: solved = training loss ≤ {c.targets[lab]:.4g} + {c.tol:g} (the target the tuned "
             "optimizers set; no known minimum)" for lab in c.labels if lab in c.targets]
    if notes:
        right.text(0, 1 - h1 - 0.12 - h2, "\n".join(textwrap.fill(n, 70) for n in notes), va="top",
                   ha="left", transform=right.transAxes, fontsize=t.legend * 0.8, **_fonts())
    n_p = len(c.problems)
    head = (title if title is not None else
            f"Tuned on a budget of {c.budget} per optimizer, {n_p} held-out problems "
            f"({len(c.labels)} functions): {c.headline()}")
    fig.suptitle(textwrap.fill(head, 150), fontsize=t.title, x=0.01, ha="left", **_fonts())
    return fig


def _span(interval: list[float]) -> str:
    return f"{100 * interval[0]:.0f}–{100 * interval[1]:.0f}"


def _table(ax: Any, cells: list[list[str]], header: list[str], bbox: list[float], t: Any,
           colours: dict[tuple[int, int], str]) -> None:
    tab = ax.table(cellText=cells, colLabels=header, bbox=bbox, cellLoc="center")
    tab.auto_set_font_size(False)
    tab.set_fontsize(t.legend * 0.8)
    for (i, j), cell in tab.get_celld().items():
        cell.set_edgecolor("#dddddd")
        cell.get_text().set_fontfamily(frames.font_family())
        if (i, j) in colours:
            cell.get_text().set_color(colours[(i, j)])

"""The explore views as Plotly figures for the page, in the race's look.

- :func:`basin_chart`: side-by-side heat maps per optimizer (which minimum, final error, or
  steps to tolerance), the minimizers as the race's gold stars;
- :func:`agreement_chart`: where one optimizer converges and another does not;
- :func:`sweep_chart`: median final error over the values (band 25–75 %, best value starred)
  above the shares converged and diverged;
- :func:`profile_chart`, :func:`data_profile_chart`: Dolan & Moré's performance profiles and Moré
  & Wild's data profiles, of any subset of the optimizers compared;
- :func:`curves_chart`: error per step (median and band) of a run, as the race's error chart;
- :func:`step_length_chart`: each optimizer's median step length per step (with the schedule's
  factor), for the lesson on momentum through a learning-rate change.

Colours and cues come from :mod:`optviz.draw.style`, fonts and axes from :mod:`optviz.draw.plots`, the
areas' colours from :mod:`optviz.explore.look` (the PNG/SVG of :mod:`.figures` use the same).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from optviz.draw import plots, style
from optviz.explore import look
from optviz.explore.basins import LAYERS, BasinMap
from optviz.explore.compare import Comparison
from optviz.explore.sweep import Sweep

#: Maps per row.
PER_ROW = 3
#: The converged share's interval in a sweep's hover text.
INTERVAL_HOVER = " (90 %: %{customdata[0]:.0%}–%{customdata[1]:.0%})"


def _layout(large: bool, height: int, **extra: Any) -> dict[str, Any]:
    lk = plots.Look.of(large)
    return {
        "font": plots.font_of(lk),
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "height": height,
        "margin": {"l": 8, "r": 8, "t": lk.font * 2 + 16, "b": 8},
        "hoverlabel": {"font": {"size": lk.font}},
        **extra,
    }


def _frame(fig: go.Figure, large: bool) -> None:
    lk = plots.Look.of(large)
    axis = {
        "showline": True,
        "mirror": True,
        "linecolor": style.FRAME_COLOR,
        "ticks": "outside",
        "tickfont": {"size": lk.tick},
        "zeroline": False,
        "automargin": True,
    }
    fig.update_xaxes(**axis)
    fig.update_yaxes(**axis)


def _categorical(colors: list[str]) -> list[list[Any]]:
    """A Plotly colour scale of ``len(colors)`` flat bands (for integer codes 0..n-1)."""
    n = len(colors)
    scale = []
    for i, c in enumerate(colors):
        scale += [[i / n, c], [(i + 1) / n, c]]
    return scale


def minimum_codes(m: BasinMap, name: str) -> np.ndarray:
    """Per cell: 0 diverged, 1 does not converge, 2 + k reaches listed minimizer k."""
    return np.where(m.diverged[name], 0, np.where(m.minimum[name] >= 0, m.minimum[name] + 2, 1))


def _grid(m: BasinMap) -> tuple[np.ndarray, np.ndarray]:
    y = m.y if m.y is not None else np.array([0.0])
    return m.x, y


def _stars(m: BasinMap, large: bool, row: int, col: int, fig: go.Figure, show: bool) -> None:
    if not len(m.minimizers):
        return
    lk = plots.Look.of(large)
    ys = m.minimizers[:, 1] if m.y is not None else np.zeros(len(m.minimizers))
    fig.add_trace(
        go.Scatter(
            x=m.minimizers[:, 0],
            y=ys,
            mode="markers",
            name="global minimum",
            showlegend=show,
            marker=plots.marker_of(style.MINIMUM, lk),
            text=[f"minimum {k}" for k in range(len(m.minimizers))],
            hovertemplate="%{text}: (%{x:.4g}, %{y:.4g})<extra></extra>",
        ),
        row=row,
        col=col,
    )


def _extent(v: np.ndarray) -> list[float]:
    """The range covering cells centred at ``v`` (evenly spaced)."""
    half = (v[-1] - v[0]) / (2 * (len(v) - 1)) if len(v) > 1 else 0.5
    return [float(v[0] - half), float(v[-1] + half)]


def _square(fig: go.Figure, m: BasinMap, panels: list[tuple[int, int, int]]) -> None:
    """Each map exactly over the box; in 2-D at the box's aspect ratio (the panel shrinks to fit)."""
    for r, c, i in panels:
        fig.update_xaxes(range=_extent(m.x), constrain="domain", row=r, col=c)
        if m.y is None:
            fig.update_yaxes(range=[-0.5, 0.5], showticklabels=False, ticks="", row=r, col=c)
        else:
            fig.update_yaxes(
                range=_extent(m.y),
                scaleanchor=f"x{i if i > 1 else ''}",
                scaleratio=1,
                constrain="domain",
                row=r,
                col=c,
            )


def _subplots(m: BasinMap, titles: list[str], large: bool) -> tuple[go.Figure, int, int]:
    n = len(titles)
    cols = min(n, PER_ROW)
    rows = math.ceil(n / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles,
        horizontal_spacing=0.04,
        vertical_spacing=0.12 if m.y is not None else 0.3,
    )
    return fig, rows, cols


def basin_chart(m: BasinMap, layer: str = "minimum", *, large: bool = False) -> go.Figure:
    """One heat map per optimizer of ``m``: ``layer`` ``"minimum"``, ``"error"`` or ``"steps"``."""
    if layer not in LAYERS:
        raise ValueError(f"layer must be one of {', '.join(LAYERS)}, got {layer!r}")
    titles = [f"{name}: {100 * m.share_converged[name]:.1f} % converge" for name in m.names]
    fig, rows, cols = _subplots(m, titles, large)
    x, y = _grid(m)
    k = len(m.minimizers)
    for i, name in enumerate(m.names):
        r, c = i // cols + 1, i % cols + 1
        hover = "x=%{x:.3g}" + (", y=%{y:.3g}" if m.y is not None else "")
        if layer == "minimum":
            z = np.atleast_2d(minimum_codes(m, name))
            names = ["diverges", "does not converge", *(f"minimum {j}" for j in range(k))]
            colors = [look.DIVERGED, look.NOT_CONVERGED, *(look.minimum_color(j) for j in range(k))]
            text = np.array(names, dtype=object)[z]
            fig.add_trace(
                go.Heatmap(
                    x=x,
                    y=y,
                    z=z,
                    zmin=-0.5,
                    zmax=len(colors) - 0.5,
                    colorscale=_categorical(colors),
                    showscale=False,
                    text=text,
                    hovertemplate=hover + "<br>%{text}<extra>" + name + "</extra>",
                ),
                row=r,
                col=c,
            )
        else:
            if layer == "error":
                v = np.atleast_2d(m.final_error[name]).astype(float)
                z = np.where(np.isfinite(v), np.log10(np.maximum(v, 1e-16)), np.nan)
                title, fmt = "log₁₀ final error", "%{z:.2f}"
            else:
                v = np.atleast_2d(m.steps_to_tol[name]).astype(float)
                z = np.where(v >= 0, v, np.nan)
                title, fmt = "steps to tol", "%{z:.0f}"
            fig.add_trace(
                go.Heatmap(
                    x=x,
                    y=y,
                    z=z,
                    colorscale=look.PLOTLY_CMAP,
                    coloraxis="coloraxis",
                    hovertemplate=hover + "<br>" + fmt + "<extra>" + name + "</extra>",
                ),
                row=r,
                col=c,
            )
            grey = np.where(np.isnan(z) & ~np.atleast_2d(m.diverged[name]), 1.0, np.nan)
            black = np.where(np.atleast_2d(m.diverged[name]), 1.0, np.nan)
            for mask, color, what in (
                (grey, look.NOT_CONVERGED, "never within tol"),
                (black, look.DIVERGED, "diverges"),
            ):
                if np.isfinite(mask).any():
                    fig.add_trace(
                        go.Heatmap(
                            x=x,
                            y=y,
                            z=mask,
                            colorscale=[[0, color], [1, color]],
                            showscale=False,
                            hovertemplate=hover + f"<br>{what}<extra>" + name + "</extra>",
                        ),
                        row=r,
                        col=c,
                    )
            fig.update_layout(
                coloraxis={"colorscale": look.PLOTLY_CMAP, "colorbar": {"title": {"text": title}}}
            )
        _stars(m, large, r, c, fig, show=False)
    _frame(fig, large)
    _square(fig, m, [(i // cols + 1, i % cols + 1, i + 1) for i in range(len(m.names))])
    keys = (
        [
            (f"minimum {j} ({', '.join(f'{v:.3g}' for v in m.minimizers[j])})", look.minimum_color(j))
            for j in range(k)
        ]
        if layer == "minimum"
        else []
    )
    keys += [
        ("does not converge" if layer == "minimum" else "never within tol", look.NOT_CONVERGED),
        ("diverges", look.DIVERGED),
    ]
    for label, color in keys:
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=label,
                showlegend=True,
                marker={
                    "symbol": "square",
                    "size": 13,
                    "color": color,
                    "line": {"color": "#999", "width": 1},
                },
            )
        )
    height = (340 if m.y is not None else 150) * rows + 110
    fig.update_layout(
        **_layout(large, height),
        showlegend=True,
        legend={
            "orientation": "h",
            "x": 0,
            "y": -0.06 if rows == 1 else -0.03,
            "yanchor": "top",
            "traceorder": "normal",
        },
    )
    return fig


def agreement_chart(m: BasinMap, a: str, b: str, *, large: bool = False) -> go.Figure:
    """Where ``a`` converges and ``b`` does not (and the other way round; both to the same
    minimum, or to different ones; neither)."""
    codes = np.atleast_2d(m.agreement(a, b))
    names = [t.replace("the first", a).replace("the second", b) for t, _ in look.AGREEMENT]
    colors = [c for _, c in look.AGREEMENT]
    x, y = _grid(m)
    fig = make_subplots(rows=1, cols=1)
    fig.add_trace(
        go.Heatmap(
            x=x,
            y=y,
            z=codes,
            zmin=-0.5,
            zmax=len(colors) - 0.5,
            colorscale=_categorical(colors),
            text=np.array(names, dtype=object)[codes],
            hovertemplate="(%{x:.3g}, %{y:.3g})<br>%{text}<extra></extra>",
            colorbar={"tickvals": list(range(len(names))), "ticktext": names},
        ),
        row=1,
        col=1,
    )
    _stars(m, large, 1, 1, fig, show=False)
    _frame(fig, large)
    _square(fig, m, [(1, 1, 1)])
    fig.update_layout(
        **_layout(large, 460 if m.y is not None else 200),
        showlegend=False,
        title={"text": f"{a} against {b}: where each converges, and to which minimum", "x": 0},
    )
    return fig


def sweep_chart(s: Sweep, *, large: bool = False) -> go.Figure:
    """Median final error over the values (25–75 % band, best value starred), and below it the
    shares converged (solid) and diverged (dotted)."""
    lk = plots.Look.of(large)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.06)
    x = s.values.astype(float)
    looks = style.look_of(s.names)
    for name in s.names:
        o = looks[name]
        med, q25, q75 = (s.column(name, k) for k in ("median", "q25", "q75"))
        finite = np.isfinite(med)
        show = np.where(finite, np.maximum(med, 1e-16), None)
        ok = np.isfinite(q25) & np.isfinite(q75)
        if ok.any():
            bx = np.concatenate([x[ok], x[ok][::-1]])
            by = np.concatenate([np.maximum(q75[ok], 1e-16), np.maximum(q25[ok], 1e-16)[::-1]])
            fig.add_trace(
                go.Scatter(
                    x=bx,
                    y=by,
                    mode="lines",
                    fill="toself",
                    line={"width": 0},
                    fillcolor=style.rgba(o.color, style.BAND_OPACITY),
                    hoverinfo="skip",
                    showlegend=False,
                ),
                row=1,
                col=1,
            )
        label = name if s.param in ("noise", "delay") else f"{name} ({s.params[name]})"
        fig.add_trace(
            go.Scatter(
                x=x,
                y=show,
                mode="lines+markers",
                name=label,
                line={"color": o.color, "dash": o.dash, "width": lk.line_width * 0.8},
                marker={"color": o.color, "symbol": o.symbol, "size": lk.marker * 0.6},
                hovertemplate=f"<b>{name}</b> {s.params[name]}=%{{x:.4g}}<br>median "
                "%{y:.3g}<extra></extra>",
            ),
            row=1,
            col=1,
        )
        b = s.best[name]
        if finite[b]:
            fig.add_trace(
                go.Scatter(
                    x=[x[b]],
                    y=[max(med[b], 1e-16)],
                    mode="markers",
                    showlegend=False,
                    marker=plots.marker_of(style.MINIMUM, lk, color=o.color),
                    hovertemplate=f"<b>{name}</b>: best {s.params[name]} = %{{x:.4g}}<extra></extra>",
                ),
                row=1,
                col=1,
            )
        est = s.estimates[name]
        lo = np.array([e.success_low for e in est])
        hi = np.array([e.success_high for e in est])
        fig.add_trace(  # the converged share's 90 % interval, a band under its line
            go.Scatter(
                x=np.concatenate([x, x[::-1]]),
                y=np.concatenate([hi, lo[::-1]]),
                fill="toself",
                fillcolor=style.rgba(o.color, 0.15),
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
            ),
            row=2,
            col=1,
        )
        for what, dash in (("share_converged", "solid"), ("share_diverged", "dot")):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=s.column(name, what),
                    mode="lines",
                    showlegend=False,
                    line={"color": o.color, "dash": dash, "width": lk.line_width * 0.7},
                    customdata=np.stack([lo, hi], axis=1),
                    hovertemplate=f"<b>{name}</b> {what.replace('share_', '')} %{{y:.0%}}"
                    + (INTERVAL_HOVER if what == "share_converged" else "") + "<extra></extra>",
                ),
                row=2,
                col=1,
            )
    log_x = s.spacing == "log" or (s.spacing == "list" and np.all(x > 0) and x.max() / x.min() >= 100)
    fig.update_xaxes(type="log" if log_x else "linear", row=2, col=1)
    fig.update_xaxes(type="log" if log_x else "linear", row=1, col=1)
    fig.update_yaxes(type="log", exponentformat="power", title={"text": "final error"}, row=1, col=1)
    fig.update_yaxes(range=[-0.03, 1.03], tickformat=".0%", title={"text": "share"}, row=2, col=1)
    fig.add_annotation(
        text="solid: converged (band: 90 % interval) · dotted: diverged",
        xref="x domain",
        yref="y2 domain",
        x=0.01,
        y=0.98,
        xanchor="left",
        yanchor="top",
        showarrow=False,
        font={"size": lk.tick, "color": "#555"},
    )
    label = {
        "lr": "learning rate (each optimizer's own)",
        "noise": "gradient noise σ",
        "delay": "gradient delay τ (steps)",
    }.get(s.param, s.param)
    fig.update_xaxes(title={"text": label}, row=2, col=1)
    fig.add_hline(y=s.tol, line={"color": "#444", "dash": "dash", "width": 1}, row=1, col=1)
    _frame(fig, large)
    fig.update_layout(**_layout(large, 560), legend={"orientation": "h", "y": 1.08, "x": 0})
    return fig


def profile_chart(c: Comparison, *, large: bool = False, names: Sequence[str] | None = None) -> go.Figure:
    """Dolan & Moré's performance profiles of ``names`` (default: all): ρ(τ), the share of problems
    each optimizer solves within a factor τ of the fewest steps any of them needed."""
    taus, rho = c.profile(names=names)
    top = max(2.0, float(taus.max()) * 1.5)
    return _profiles(c, rho, taus, top, large, "log", "τ: within this factor of the fewest steps",
                     f"Performance profiles ({len(c.problems)} held-out problems)",
                     "within %{x:.3g}× of the best: %{y:.0%} of the problems")


def data_profile_chart(c: Comparison, *, large: bool = False,
                       names: Sequence[str] | None = None) -> go.Figure:
    """Moré & Wild's data profiles of ``names`` (default: all): d(κ), the share of problems each
    optimizer solves within κ·(n + 1) gradient evaluations (n: the problem's dimension)."""
    kappas, share = c.data_profile(names=names)
    top = max(float(c.steps) / (float(c.problem_dims.min()) + 1.0), float(kappas.max()) * 1.05, 1.0)
    return _profiles(c, share, kappas, top, large, "linear", "κ: gradient evaluations ÷ (dimension + 1)",
                     "Data profiles: solved within a budget",
                     "within %{x:.3g}·(n+1) gradients: %{y:.0%} of the problems")


def _profiles(c: Comparison, curves: dict[str, np.ndarray], xs: np.ndarray, top: float, large: bool,
              axis: str, x_title: str, title: str, hover: str) -> go.Figure:
    """Step curves of a share of problems against ``xs``, one per optimizer shown (in ranking order)."""
    lk = plots.Look.of(large)
    looks = style.look_of(c.names)
    fig = go.Figure()
    for name in [n for n in c.ranking if n in curves]:
        o = looks[name]
        fig.add_trace(
            go.Scatter(
                x=np.concatenate([xs, [top]]),
                y=np.concatenate([curves[name], [curves[name][-1]]]),
                mode="lines",
                line={"shape": "hv", "color": o.color, "dash": o.dash, "width": lk.line_width * 0.8},
                name=name,
                hovertemplate=f"<b>{name}</b><br>{hover}<extra></extra>",
            )
        )
    if axis == "log":
        fig.update_xaxes(type="log", range=[0, math.log10(top)], title={"text": x_title})
    else:
        fig.update_xaxes(range=[0, top], title={"text": x_title})
    fig.update_yaxes(range=[-0.02, 1.02], tickformat=".0%", title={"text": "problems solved"})
    _frame(fig, large)
    fig.update_layout(
        **_layout(large, 440),
        title={"text": title, "x": 0},
        legend={"x": 1, "xanchor": "right", "y": 0, "yanchor": "bottom"},
    )
    return fig


def curves_chart(
    result: Any,
    kind: str = "auto",
    tol: float | None = None,
    *,
    large: bool = False,
    title: str | None = None,
) -> go.Figure:
    """Error per step: each optimizer's median over the starts and its 25–75 % band (the race's
    error chart, as a figure of its own)."""
    kind, steps, quant = plots.error_curves(result, kind)
    base = plots.error_base(kind, int(result.steps), tol, result.n_points, large_font=large)
    layout = dict(base["layout"])
    layout["shapes"] = layout.get("shapes", [])[1:]  # no "step now shown" line: nothing plays here
    layout["showlegend"] = True
    layout["legend"] = {"orientation": "h", "y": -0.2}
    layout["height"] = 380
    if title:
        layout["title"] = {**layout["title"], "text": title}
    templates = plots.optimizer_traces(list(result.names), result.n_points, large_font=large)
    fig = go.Figure(layout=layout)
    floor = base["floor"] or 0.0
    for name in result.names:
        q25, med, q75 = quant[name]
        t = templates[name]
        if result.n_points > 1:
            ok = np.isfinite(q25) & np.isfinite(q75)
            bx = np.concatenate([steps[ok], steps[ok][::-1]])
            by = np.concatenate([np.maximum(q75[ok], floor), np.maximum(q25[ok], floor)[::-1]])
            fig.add_trace(go.Scatter({**t["band"], "x": bx, "y": by, "showlegend": False}))
        fig.add_trace(
            go.Scatter(
                {**t["median"], "x": steps, "y": np.where(np.isfinite(med), np.maximum(med, floor), None)}
            )
        )
    return fig


def step_length_chart(result: Any, *, large: bool = False) -> go.Figure:
    """Each optimizer's median step length ‖w_t − w_{t−1}‖ over the starts, per step, and the
    schedule's factor on a second axis."""
    lk = plots.Look.of(large)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    looks = style.look_of(result.names)
    steps = np.asarray(result.recorded_steps)[1:]
    for name in result.names:
        w = np.asarray(result.trajectories[name], dtype=float)
        length = np.median(np.linalg.norm(np.diff(w, axis=0), axis=-1), axis=1)
        o = looks[name]
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=np.maximum(length, 1e-16),
                mode="lines",
                name=name,
                line={"color": o.color, "dash": o.dash, "width": lk.line_width * 0.8},
            ),
            secondary_y=False,
        )
    factors = np.asarray(result.lr_factors, dtype=float)
    fig.add_trace(
        go.Scatter(
            x=np.arange(1, len(factors) + 1),
            y=factors,
            mode="lines",
            name="rate factor",
            line={"color": "#888", "dash": "dot", "width": 1.5},
        ),
        secondary_y=True,
    )
    fig.update_yaxes(
        type="log", exponentformat="power", title={"text": "step length (median)"}, secondary_y=False
    )
    top = max(1.0, float(factors.max()) if factors.size else 1.0) * 1.05
    fig.update_yaxes(
        title={"text": "schedule's factor"},
        secondary_y=True,
        showgrid=False,
        range=[0, top],
        tickformat=".2g",
    )
    fig.update_xaxes(title={"text": "step"})
    _frame(fig, large)
    fig.update_layout(
        **_layout(large, 380),
        legend={"orientation": "h", "y": -0.25},
        title={"text": "How far each optimizer moves per step", "x": 0},
    )
    return fig

"""The race on one plane: for a function of more than two coordinates (a learning problem), every
optimizer's path projected on ONE common plane, with the loss drawn on that plane, animated like
the race, and how honest the picture is: the variance each optimizer's paths keep in the plane,
their distance off it, and each path's true loss beside the loss at its projection
(:mod:`optviz.explore.plane`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from optviz.dashboard import compute
from optviz.dashboard.views import Context, View
from optviz.draw import plots, style
from optviz.explore import plane as planes
from optviz.explore.learning import rows_of

#: Frames of the animation at most (recorded rows, evenly spread).
FRAMES = 60
KINDS = {"Pooled PCA of every path": "pca", "Start, minimum and mean end point": "points"}


@st.cache_data(max_entries=32, show_spinner="Projecting the paths on one plane…")
def _on_plane(_result, key: tuple, kind: str, anchor: str, start: int | None) -> planes.OnPlane:
    rows = rows_of(len(_result.recorded_steps), FRAMES)
    return planes.on_plane(_result, kind=kind, anchor=anchor, start=start, rows=rows)


def plane_figure(seen: planes.OnPlane, *, large: bool = False, log: bool = False) -> go.Figure:
    """Contours of the loss on the plane, every path on it and a ▶ Play over its rows."""
    steps = seen.steps
    rows = np.arange(len(steps))
    names = list(seen.coords)
    colors = style.colors(names)
    z = seen.surface
    z_show = np.log10(np.maximum(z - np.nanmin(z), 0) + 1e-12 * max(1.0, np.nanmax(np.abs(z)))) if log else z
    fig = go.Figure()
    fig.add_trace(go.Contour(x=seen.a, y=seen.b, z=z_show, colorscale="Viridis", ncontours=24, opacity=0.85,
                             colorbar={"title": "log₁₀(f − min)" if log else "loss"},
                             hovertemplate="a %{x:.3g}, b %{y:.3g}<br>loss on the plane %{z:.4g}"
                                           "<extra></extra>"))

    def path_traces(upto: int) -> list[go.Scatter]:
        out = []
        for name in names:
            ab = seen.coords[name][: upto + 1]  # (rows, n, 2)
            n = ab.shape[1]
            xs = np.concatenate([np.append(ab[:, i, 0], np.nan) for i in range(n)])
            ys = np.concatenate([np.append(ab[:, i, 1], np.nan) for i in range(n)])
            out.append(go.Scatter(x=xs, y=ys, mode="lines", name=name, legendgroup=name,
                                  line={"color": colors[name], "width": 2}, hoverinfo="skip"))
            out.append(go.Scatter(x=ab[-1, :, 0], y=ab[-1, :, 1], mode="markers", name=name, legendgroup=name,
                                  showlegend=False, marker={"color": colors[name], "size": 9,
                                                            "line": {"color": "white", "width": 1}},
                                  customdata=np.stack([seen.loss[name][upto], seen.plane_loss[name][upto],
                                                       seen.off[name][upto]], axis=1),
                                  hovertemplate=(f"{name}<br>true loss %{{customdata[0]:.4g}}<br>loss on the "
                                                 "plane %{customdata[1]:.4g}<br>off the plane "
                                                 "%{customdata[2]:.3g}<extra></extra>")))
        return out

    last = len(rows) - 1
    for tr in path_traces(int(rows[last])):
        fig.add_trace(tr)
    moving = list(range(1, 1 + 2 * len(names)))
    fig.frames = [go.Frame(data=path_traces(int(r)), traces=moving, name=str(steps[r])) for r in rows]
    font = 18 if large else 13
    fig.update_layout(
        height=660, margin={"l": 10, "r": 10, "t": 30, "b": 120}, font={"size": font},
        xaxis={"title": "plane axis a"}, yaxis={"title": "plane axis b", "scaleanchor": "x"},
        legend={"orientation": "h", "y": 1.06},
        **plots.player([steps[r] for r in rows], frame_ms=80, redraw=False),
    )
    fig.update_xaxes(automargin=True)  # tick labels and titles never under each other or cut
    fig.update_yaxes(automargin=True)
    return fig


def loss_figure(seen: planes.OnPlane, *, large: bool = False) -> go.Figure:
    """Median true loss (solid) and median loss at the projection on the plane (dotted) per optimizer."""
    steps = seen.steps
    colors = style.colors(list(seen.coords))
    fig = go.Figure()
    for name in seen.coords:
        fig.add_trace(go.Scatter(x=steps, y=np.nanmedian(seen.loss[name], axis=1), name=f"{name}: true loss",
                                 line={"color": colors[name], "width": 2}))
        fig.add_trace(go.Scatter(x=steps, y=np.nanmedian(seen.plane_loss[name], axis=1),
                                 name=f"{name}: on the plane", line={"color": colors[name], "dash": "dot"}))
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      font={"size": 18 if large else 13}, xaxis={"title": "step"},
                      yaxis={"title": "loss (median over the starts)", "type": "log"})
    fig.update_xaxes(automargin=True)  # tick labels and titles never under each other or cut
    fig.update_yaxes(automargin=True)
    return fig


def honesty_table(seen: planes.OnPlane) -> pd.DataFrame:
    """Per optimizer: the variance kept in the plane and the distance off it (median, worst) at the end."""
    rows = []
    for name in seen.coords:
        off_end = seen.off[name][-1]
        gap = np.abs(seen.plane_loss[name][-1] - seen.loss[name][-1])
        rows.append({"optimizer": name, "variance in the plane": f"{100 * seen.captured[name]:.0f} %",
                     "off the plane at the end (median)": f"{np.nanmedian(off_end):.3g}",
                     "(largest)": f"{np.nanmax(off_end):.3g}",
                     "|true − plane| loss at the end (median)": f"{np.nanmedian(gap):.3g}"})
    return pd.DataFrame(rows)


def render(ctx: Context) -> None:
    result = compute.run_or_say(ctx.scene, ctx.backend)
    if result is None:
        return
    n = result.starts.shape[0]
    c1, c2, c3 = st.columns([2, 1, 1])
    kind = KINDS[c1.radio("Plane", list(KINDS), key="plane_kind", horizontal=True,
                          help="Pooled PCA: the two directions in which all paths spread most (one plane "
                               "for all). Three points: through the mean start, the minimum (or the best "
                               "point reached) and the mean end point.")]
    anchor = c2.radio("PCA around", ["mean", "start"], key="plane_anchor", horizontal=True,
                      disabled=kind != "pca", help="the mean of every point, or the mean start")
    choices = ["all", *range(1, n + 1)]
    pick = c3.selectbox("Paths from start", choices, key="plane_start",
                        help="Paths from many random starts spread in many directions: a plane keeps few "
                             "of them. One start's paths (every optimizer's) usually lie close to one plane.")
    start = None if pick == "all" else int(pick) - 1
    key = (ctx.scene, ctx.backend)
    try:
        seen = _on_plane(result, key, kind, anchor, start)
    except ValueError as exc:
        st.error(str(exc))
        return
    st.plotly_chart(plane_figure(seen, large=ctx.large), key="plane_chart", theme=None)
    st.caption(f"One plane for every optimizer: {seen.plane.note}. The contours are the loss ON the plane; a "
               "path is drawn at its projection, so read the table and the chart below for how far it is "
               "from there. Hover a marker for its true loss, its loss on the plane and its distance off it.")
    st.dataframe(honesty_table(seen), hide_index=True)
    st.plotly_chart(loss_figure(seen, large=ctx.large), key="plane_loss_chart", theme=None)
    st.caption("Solid: each optimizer's true loss; dotted: the loss at its projection on the plane. Where "
               "they part, the plane shows a path where it is not.")


VIEW = View(key="plane", title="On one plane", order=11, render=render,
            available=lambda ctx: ctx.function.dim > 2,
            help="Every path on one common plane of the loss, with how much of each path the plane keeps")

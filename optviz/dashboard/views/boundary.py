"""The decision boundary of a 2-D classifier (logistic regression, the moons and spirals MLPs) as
it forms: the model's predicted probability over the input plane for one optimizer's path from
one start, the boundary (p = ½) drawn bold, the training samples on top, animated over the steps."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from optviz.dashboard import compute
from optviz.dashboard.views import Context, View
from optviz.draw import plots
from optviz.explore.learning import rows_of

FRAMES = 40
PIXELS = 81


def _probability(fn, w: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """σ(model output) at every grid point for parameters ``w`` (rows of one call per frame)."""
    X, Y = np.meshgrid(gx, gy)
    z = np.asarray(fn.outputs(w, np.stack([X.ravel(), Y.ravel()], axis=1)), dtype=float)
    return (1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))).reshape(w.shape[0], len(gy), len(gx))


def boundary_figure(fn, path: np.ndarray, steps: np.ndarray, *, large: bool = False) -> go.Figure:
    """The probability and the boundary at each of ``path``'s rows ``(rows, dim)``, with a ▶ Play."""
    a, y = fn.task.train_inputs, fn.task.train_targets
    lo, hi = a.min(axis=0), a.max(axis=0)
    pad = 0.1 * (hi - lo)
    gx = np.linspace(lo[0] - pad[0], hi[0] + pad[0], PIXELS)
    gy = np.linspace(lo[1] - pad[1], hi[1] + pad[1], PIXELS)
    P = _probability(fn, path, gx, gy)

    def heat(k: int) -> go.Contour:
        return go.Contour(x=gx, y=gy, z=P[k], zmin=0, zmax=1, colorscale="RdBu", opacity=0.75,
                          contours={"start": 0, "end": 1, "size": 0.1}, colorbar={"title": "p(class 1)"},
                          hovertemplate="p = %{z:.2f}<extra></extra>")

    def line(k: int) -> go.Contour:
        return go.Contour(x=gx, y=gy, z=P[k], showscale=False, contours={"start": 0.5, "end": 0.5, "size": 1,
                                                                          "coloring": "none"},
                          line={"width": 3, "color": "black"}, hoverinfo="skip",
                          name="decision boundary (p = ½)", showlegend=True)

    last = len(steps) - 1
    fig = go.Figure([heat(last), line(last)])
    for cls, color in ((0, "#b2182b"), (1, "#2166ac")):
        pts = a[y == cls]
        fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=f"class {cls}",
                                 marker={"color": color, "size": 6,
                                         "line": {"color": "white", "width": 0.8}}))
    fig.frames = [go.Frame(data=[heat(k), line(k)], traces=[0, 1], name=str(s)) for k, s in enumerate(steps)]
    fig.update_layout(
        height=600, margin={"l": 10, "r": 10, "t": 30, "b": 120}, font={"size": 18 if large else 13},
        # (equal units on both axes; the axes' domain shrinks to the data instead of the range growing)
        xaxis={"title": "x₁", "constrain": "domain"},
        yaxis={"title": "x₂", "scaleanchor": "x", "constrain": "domain"},
        legend={"orientation": "h", "y": 1.06},
        **plots.player(steps, frame_ms=120, redraw=True),
    )
    fig.update_xaxes(automargin=True)  # tick labels and titles never under each other or cut
    fig.update_yaxes(automargin=True)
    return fig


def render(ctx: Context) -> None:
    result = compute.run_or_say(ctx.scene, ctx.backend)
    if result is None:
        return
    fn = result.function
    c1, c2 = st.columns(2)
    name = c1.selectbox("Optimizer", list(result.names), key="boundary_opt")
    n = result.starts.shape[0]
    start = c2.selectbox("Start", list(range(1, n + 1)), key="boundary_start") - 1
    rows = rows_of(len(result.recorded_steps), FRAMES)
    path = np.asarray(result.trajectories[name], dtype=float)[rows, start]
    steps = np.asarray(result.recorded_steps)[rows]
    st.plotly_chart(boundary_figure(fn, path, steps, large=ctx.large), key="boundary_chart", theme=None)
    acc = fn.accuracy(path[-1:], "test")[0]
    st.caption(f"{name} from start {start + 1}: the predicted probability of class 1 over the inputs, the "
               f"decision boundary (p = ½) in black, the training samples on top; test accuracy at step "
               f"{steps[-1]}: {100 * acc:.1f} %. ▶ Play shows it form.")


VIEW = View(key="boundary", title="Decision boundary", order=13, render=render,
            available=lambda ctx: bool(getattr(ctx.function, "classifier", False))
            and getattr(ctx.function, "inputs", 0) == 2,
            help="The classifier's decision boundary over the input plane, forming step by step")

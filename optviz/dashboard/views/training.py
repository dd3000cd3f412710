"""Training: a learning problem's loss and accuracy over the steps, on the training and the test set.

For each optimizer the median over the starts (and seeds) and the band between the 25th and 75th
percentiles; for a classifier, which optimizer first reaches a test accuracy (95 % by default),
with 90 % bootstrap intervals and ranks that tie where the intervals overlap
(:mod:`optviz.explore.learning`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from optviz.dashboard import compute
from optviz.dashboard.views import Context, View
from optviz.draw import style
from optviz.explore import learning
from optviz.explore.uncertainty import span

TITLES = {"train_loss": "training loss", "test_loss": "test loss", "train_accuracy": "training accuracy",
          "test_accuracy": "test accuracy"}


@st.cache_data(max_entries=32, show_spinner="Evaluating the test set along every path…")
def _curves(_result, key: tuple, target: float) -> learning.LearningCurves:
    return learning.learning_curves(_result, target)


def curves_figure(lc: learning.LearningCurves, *, large: bool = False) -> go.Figure:
    """Loss (and accuracy) over steps: a median line and a 25–75 % band per optimizer."""
    names = list(lc.metrics)
    metrics = [m for m in learning.METRICS if m in lc.metrics[names[0]]]
    cols = 2
    rows = (len(metrics) + 1) // cols
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[TITLES[m] for m in metrics],
                        horizontal_spacing=0.08, vertical_spacing=0.14)
    colors = style.colors(names)
    for k, metric in enumerate(metrics):
        r, c = k // cols + 1, k % cols + 1
        for name in names:
            lo, med, hi = lc.band(name, metric)
            fill = style.rgba(colors[name], 0.15)
            fig.add_trace(go.Scatter(x=np.concatenate([lc.steps, lc.steps[::-1]]),
                                     y=np.concatenate([hi, lo[::-1]]), fill="toself", fillcolor=fill,
                                     line={"width": 0}, hoverinfo="skip", showlegend=False, legendgroup=name),
                          row=r, col=c)
            fig.add_trace(go.Scatter(x=lc.steps, y=med, name=name, legendgroup=name, showlegend=k == 0,
                                     line={"color": colors[name], "width": 2},
                                     hovertemplate=f"{name}<br>step %{{x}}<br>median %{{y:.4g}}"
                                                   "<extra></extra>"),
                          row=r, col=c)
        if metric.endswith("loss"):  # log, labelled at 1, 2 and 5 (not every digit of a short range)
            fig.update_yaxes(type="log", dtick="D2", row=r, col=c)
        else:
            fig.update_yaxes(range=[0.4, 1.01], row=r, col=c)
            fig.add_hline(y=lc.target, line={"dash": "dot", "color": "#888"}, row=r, col=c)
        if r == rows:  # the steps named once, under the bottom row (above, it ran into the titles)
            fig.update_xaxes(title_text="step", title_standoff=4, row=r, col=c)
    font = 18 if large else 13
    fig.update_layout(height=330 * rows, margin={"l": 10, "r": 10, "t": 40, "b": 3 * font + 12},
                      font={"size": font}, legend={"orientation": "h", "y": 1.08})
    fig.update_xaxes(automargin=True)  # tick labels and titles never under each other or cut
    fig.update_yaxes(automargin=True)
    return fig


def reach_table(lc: learning.LearningCurves) -> pd.DataFrame:
    """Per optimizer: rank, share of starts reaching the target, its median step, with intervals."""
    rows = []
    for name, e in sorted(lc.estimates.items(), key=lambda kv: (lc.ranks[kv[0]], -kv[1].success)):
        rows.append({"rank": lc.ranks[name], "optimizer": name,
                     f"reach {100 * lc.target:.0f} % test accuracy": f"{100 * e.success:.0f} %",
                     "90 % interval": span(e.success_low, e.success_high),
                     "median step": "–" if e.steps is None else f"{e.steps:.0f}",
                     "(interval)": "–" if e.steps_low is None else f"{e.steps_low:.0f}–{e.steps_high:.0f}"})
    return pd.DataFrame(rows)


def render(ctx: Context) -> None:
    result = compute.run_or_say(ctx.scene, ctx.backend)
    if result is None:
        return
    fn = result.function
    target = 0.95
    if fn.classifier:
        target = st.slider("Target test accuracy", 0.5, 1.0, 0.95, 0.01, key="train_target")
    lc = _curves(result, (ctx.scene, ctx.backend), float(target))
    st.plotly_chart(curves_figure(lc, large=ctx.large), key="training_chart", theme=None)
    batch = ctx.scene.batch
    st.caption(f"Median over {result.starts.shape[0]} starts (line) and the 25–75 % band; "
               + (f"minibatch gradients of {batch} of {fn.n_samples} samples, the same batch for every "
                  "optimizer at a step" if batch else f"full-batch gradients ({fn.n_samples} samples)")
               + f"; the test set has {fn.task.test_inputs.shape[0]} samples.")
    if lc.estimates:
        st.markdown(f"**{lc.headline}.**")
        st.dataframe(reach_table(lc), hide_index=True)
        st.caption("Each start's first drawn step at or above the target; 90 % bootstrap intervals over the "
                   "starts (and seeds); optimizers whose intervals overlap share a rank.")


VIEW = View(key="training", title="Training", order=12, render=render,
            available=lambda ctx: hasattr(ctx.function, "test_loss"),
            help="Training and test loss and accuracy over the steps, with which optimizer first reaches "
                 "a test accuracy")

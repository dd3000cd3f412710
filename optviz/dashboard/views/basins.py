"""Basins: from which starts does each optimizer converge, and to which minimum?

A grid over the function's box, every cell a start of every chosen optimizer (at the race's
hyperparameters, steps, seed, schedule and hooks): side-by-side maps of which minimum each cell
reaches (or its final error, or its steps to the tolerance), and for two optimizers where one
converges and the other does not, e.g. "from where does Adam find Himmelblau's minimum that
SGD misses?".

The tab opens on its default (:mod:`optviz.explore.tab_defaults`): the scene and the pair of
optimizers ``scripts/make_tab_defaults.py`` picked so that the answer is large, with its lessons
and "The race's scene" at the top (:func:`optviz.dashboard.views.exploring.in_view`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from optviz.dashboard import messages
from optviz.dashboard.state import ss
from optviz.dashboard.views import Context, View, current_or_message, exploring
from optviz.explore import charts

GRIDS_2D = (20, 40, 60, 100, 150, 200, 300)
GRIDS_1D = (50, 100, 200, 500, 1000)
LAYERS = {"which minimum": "minimum", "final error": "error", "steps to tolerance": "steps"}
#: At most this many maps side by side.
MAX_MAPS = 8


def table(m) -> pd.DataFrame:
    """Per optimizer: converged, diverged, median steps to tol, and the share reaching each minimum."""
    rows = []
    for name in m.names:
        conv = m.converged(name)
        steps = m.steps_to_tol[name][conv]
        row = {
            "optimizer": name,
            "converged": exploring.pct(m.share_converged[name]),
            "diverged": exploring.pct(float(np.mean(m.diverged[name]))),
            "median steps to tol": int(np.median(steps)) if steps.size else None,
        }
        for k, share in enumerate(m.share_by_minimum(name)):
            row[f"minimum {k} ({', '.join(f'{c:.3g}' for c in m.minimizers[k])})"] = exploring.pct(share)
        rows.append(row)
    return pd.DataFrame(rows).set_index("optimizer")


@st.fragment
def _view() -> None:
    ctx = current_or_message()
    if ctx is None:
        return
    ctx, _ = exploring.in_view(ctx, "basins")
    if ctx.function.dim not in (1, 2):
        st.info("Basin maps need a 1-D or 2-D function.")
        return
    kind = exploring.kind_of(ctx)
    if kind is None:
        exploring.no_target(ctx)
        return
    scene = ctx.scene
    names = list(scene.optimizers)
    exploring.keep("basins_opts", names, names[:MAX_MAPS])
    grids = GRIDS_2D if ctx.function.dim == 2 else GRIDS_1D
    if ss.get("basins_grid") not in grids:
        ss["basins_grid"] = grids[2]
    c1, c2, c3 = st.columns([3, 2, 2])
    chosen = c1.multiselect(
        "Optimizers to map",
        names,
        key="basins_opts",
        max_selections=MAX_MAPS,
        help="From the scene's optimizers, at its hyperparameters, steps and seed.",
    )
    grid = c2.select_slider(
        "Starts per axis",
        grids,
        key="basins_grid",
        help="Every cell's centre is a start; the maps cover the function's whole box.",
    )
    layer = c3.radio("Colour each start by", list(LAYERS), key="basins_layer", horizontal=True)
    if not chosen:
        st.info("Choose at least one optimizer to map.")
        return
    order = tuple(n for n in names if n in chosen)
    try:
        m = exploring.basins_of(
            scene, ctx.backend, exploring.frozen(exploring.hyperparams(scene, order)), int(grid), kind,
            float(ctx.tol)
        )
    except exploring.ENGINE_ERRORS as exc:
        st.error(f"Cannot map this scene: {messages.short(exc)}")
        return
    cells = grid * grid if ctx.function.dim == 2 else grid
    st.markdown(
        f"#### {ctx.function.title}: where {len(order)} optimizer{'s' * (len(order) != 1)} end from "
        f"{cells:,} starts ({scene.steps} steps, tol {ctx.tol:g})"
    )
    exploring.chart(charts.basin_chart(m, LAYERS[layer], large=ctx.large), "basins_chart")
    st.caption(
        f"A cell converges when its error ({kind}) gets within {ctx.tol:g} and stays there; black: the "
        f"start diverges, grey: it does not converge in {scene.steps} steps. Computed in "
        f"{m.elapsed:.2f} s on the {m.path} path."
    )
    if len(order) >= 2:
        a_col, b_col = st.columns(2)
        if ss.get("basins_a") not in order:  # the last against the first: Adam against SGD by default
            ss["basins_a"] = order[-1]
        if ss.get("basins_b") not in order or ss.get("basins_b") == ss["basins_a"]:
            ss["basins_b"] = next(n for n in order if n != ss["basins_a"])
        a = a_col.selectbox("Where does", order, key="basins_a")
        b = b_col.selectbox("converge and this one does not?", [n for n in order if n != a], key="basins_b")
        exploring.chart(charts.agreement_chart(m, a, b, large=ctx.large), "basins_agreement")
        st.markdown(
            f"**{a}** converges and **{b}** does not from **{100 * m.only(a, b):.1f} %** of the box; "
            f"the other way round from {100 * m.only(b, a):.1f} %; both, but to different minima, from "
            f"{100 * float(np.mean(m.agreement(a, b) == 4)):.1f} %."
        )
    st.dataframe(table(m), key="basins_table")
    exploring.download(m.to_json(), "basins.json", "basins_download")


def render(ctx: Context) -> None:
    _view()


VIEW = View(
    key="basins",
    title="Basins",
    order=30,
    render=render,
    available=lambda ctx: ctx.function.dim in (1, 2),
    help="A grid of starts over the box: where each optimizer converges, and to which minimum",
)

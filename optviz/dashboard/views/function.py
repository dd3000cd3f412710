"""Your own function: the sidebar's editor for a typed formula, and a tab that previews it.

The editor (:func:`editor`, drawn by the sidebar when the function source is "Your own")
holds three text boxes: the formula in ``x`` (1-D) or ``x`` and ``y`` (2-D) (``expr``), its
box (``expr_box``: ``x_lo, x_hi[, y_lo, y_hi]``) and, optionally, its global minimizers
(``expr_min``: ``x, y`` per point, ``;`` between points, ``none`` for a function without one;
empty: estimated). A new formula drops the box and minimizers that went with the one before
(unless they were edited since): its box is then the library's default and its minimizers are
estimated (:func:`optviz.dashboard.state.on_formula_change`). Each change is checked at once:
a refused formula shows its message and, for a syntax error or a refused name, a caret under
its column. The text is parsed by
:func:`functions.from_expression` (Python's ``ast`` and a whitelist, never ``eval``; length,
nesting and exponents bounded, so no text can hang the server), and a function that is
built once is cached. The race, the error curves, the export and the other views then work
on it as on a built-in function.

The "Your function" tab shows the formula as SymPy typeset it, the minimizers (given or
estimated, and said so) and a preview over its box: the landscape as the race draws it and
the surface in 3-D (1-D: the curve).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

import functions
from functions.expression import MAX_CHARS
from optviz.dashboard import state, typed
from optviz.dashboard.messages import markdown_text, short
from optviz.dashboard.state import ss
from optviz.dashboard.views import Context, View, wait_for_pandas
from optviz.draw import plots, style

#: Examples offered by the editor: label -> (formula, box, minimizers).
EXAMPLES: dict[str, tuple[str, str, str]] = {
    "Rosenbrock's valley": ("(1 - x)**2 + 100*(y - x**2)**2", "-2, 2, -1, 3", "1, 1"),
    "Himmelblau (four minima)": ("(x**2 + y - 11)**2 + (x + y**2 - 7)**2", "-5, 5, -5, 5",
                                 "3, 2; -2.805118086952745, 3.131312518250573; -3.779310253377747, "
                                 "-3.283185991286170; 3.584428340330492, -1.848126526964404"),
    "A narrow bowl (condition number 25)": ("x**2 + 25*y**2", "-3, 3, -3, 3", "0, 0"),
    "Ripples in a bowl": ("sin(3*x)*cos(y) + (x**2 + y**2)/10", "-3, 3, -3, 3", ""),
    "A kink: |x| + 2|y|": ("abs(x) + 2*abs(y)", "-2, 2, -2, 2", "0, 0"),
    "1-D: a double well": ("x**4 - 3*x**2 + x", "-2.5, 2.5", ""),
}
_COLUMN = re.compile(r"at column (\d+)")


def typed_function() -> functions.ExpressionFunction:
    """The function the editor holds now, or a ``ValueError`` saying what is wrong."""
    return typed.build(ss.get("expr", ""), ss.get("expr_box", ""), ss.get("expr_min", ""))


def caret(text: str, message: str) -> str | None:
    """The formula with a caret under the column a message names (None when it names none)."""
    m = _COLUMN.search(message)
    if not m or len(text) > 200:
        return None
    col = max(int(m.group(1)), 1)
    shown = " ".join(text.splitlines())
    return f"{shown}\n{' ' * (col - 1)}^"


# ---------------------------------------------------------------------- the sidebar's editor
def _use_example() -> None:
    label = ss.get("expr_example")
    if label in EXAMPLES:
        state.set_typed(*EXAMPLES[label])
    ss["expr_example"] = "…"


def editor(sb: Any) -> None:
    """The three text boxes, an example picker and the check of what is typed."""
    sb.selectbox("Examples", ["…", *EXAMPLES], key="expr_example", on_change=_use_example,
                 help="Fill the boxes below with an example")
    sb.text_input("f(x, y) =", key="expr", max_chars=MAX_CHARS, on_change=state.on_formula_change,
                  help="x (1-D) or x and y (2-D); numbers, pi, e, + − * / and ** (or ^); sin cos tan exp log "
                       "sqrt abs tanh sinh cosh arctan, and min/max of two. Checked as you press Enter.")
    sb.text_input("Box: x from, to (, y from, to)", key="expr_box", placeholder="-5, 5 (each coordinate)",
                  help="The region drawn, where starts are placed, and where the function must be finite. "
                       "Two ranges make a formula in x alone 2-D.")
    sb.text_input("Global minimizer(s), optional", key="expr_min", placeholder="empty: estimated",
                  help="x, y per point, ';' between points; 'none' if it has no minimum. Left empty, the "
                       "global minimizers are estimated numerically (and marked so).")
    try:
        fn = typed_function()
    except (ValueError, KeyError, TypeError) as exc:
        msg = short(exc)
        sb.error(markdown_text(msg), icon=":material/error:")  # "2*x or x*y" stays as typed
        pointed = caret(str(ss.get("expr", "")), msg)
        if pointed:
            sb.code(pointed, language=None)
        return
    sb.caption(f":material/check_circle: {fn.dim}-D · {fn.description}")


# ---------------------------------------------------------------------- the preview tab
def map_figure(fn: Any, large: bool = False) -> go.Figure:
    """The 2-D landscape as the race draws it (the same picture, minima marked)."""
    base = plots.race_base(fn, np.empty((0, fn.dim)), [], large_font=large)
    fig = go.Figure(data=[*base["data"], *base["above"]], layout=base["layout"])
    fig.update_layout(height=480 if not large else 540)
    return fig


def surface_figure(fn: Any, large: bool = False, n: int = 90) -> go.Figure:
    """The 2-D function as a surface, on the race's scale (log10(f − f*) where it spans decades)."""
    box = np.asarray(fn.box, dtype=float)
    xs, ys = np.linspace(*box[0], n), np.linspace(*box[1], n)
    X, Y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        Z = np.asarray(fn.value(np.stack([X.ravel(), Y.ravel()], axis=1)), dtype=float).reshape(n, n)
        scale = style.landscape_scale(fn, Z)
        H = scale.transform(Z)
    fig = go.Figure(go.Surface(x=xs, y=ys, z=np.where(np.isfinite(H), H, None), colorscale=style.LANDSCAPE,
                               showscale=False, hovertemplate="x = %{x:.4g}<br>y = %{y:.4g}<extra></extra>",
                               contours={"z": {"show": True, "color": "rgba(60,75,100,0.35)", "width": 1}}))
    mins = np.asarray(fn.minimizers, dtype=float).reshape(-1, 2)
    if mins.size:
        with np.errstate(all="ignore"):
            hz = scale.transform(np.asarray(fn.value(mins), dtype=float))
        fig.add_trace(go.Scatter3d(x=mins[:, 0], y=mins[:, 1], z=hz, mode="markers", name="global minimum",
                                   marker={"size": 7, "color": style.MINIMUM.fill, "symbol": "diamond",
                                           "line": {"color": style.MINIMUM.edge, "width": 2}}))
    fig.update_layout(height=480 if not large else 540, margin={"l": 0, "r": 0, "t": 10, "b": 0},
                      font={"size": 18 if large else 13, "family": style.FONT_FAMILY}, showlegend=False,
                      scene={"xaxis_title": "x", "yaxis_title": "y", "aspectmode": "cube",
                             "zaxis_title": "log₁₀(f − f*)" if scale.log else "f"})
    return fig


def curve_figure(fn: Any, large: bool = False) -> go.Figure:
    """The 1-D function's curve over its box, minimizers marked."""
    xs, ys, view = plots.curve_1d(fn)
    fig = go.Figure(go.Scatter(x=xs, y=np.where(np.isfinite(ys), ys, np.nan), mode="lines", name="f(x)",
                               line={"color": style.CURVE_COLOR, "width": 2.4}))
    mins = np.asarray(fn.minimizers, dtype=float).reshape(-1, 1)
    if mins.size:
        with np.errstate(all="ignore"):
            fy = np.asarray(fn.value(mins), dtype=float)
        fig.add_trace(go.Scatter(x=mins[:, 0], y=fy, mode="markers", name="global minimum",
                                 marker={"size": 16, "color": style.MINIMUM.fill, "symbol": "star",
                                         "line": {"color": style.MINIMUM.edge, "width": 1.2}}))
    fig.update_layout(height=440, margin={"l": 10, "r": 10, "t": 10, "b": 10}, showlegend=False,
                      font={"size": 18 if large else 13, "family": style.FONT_FAMILY}, plot_bgcolor="white",
                      xaxis={"title": "x", "range": list(view[0]), "showline": True, "mirror": True,
                             "linecolor": style.FRAME_COLOR},
                      yaxis={"title": "f(x)", "range": list(view[1]), "showline": True, "mirror": True,
                             "linecolor": style.FRAME_COLOR, "automargin": True})
    return fig


def render(ctx: Context) -> None:
    wait_for_pandas()
    fn = ctx.function
    st.markdown("#### Your function")
    st.latex(fn.formula)
    box = " × ".join(f"[{lo:g}, {hi:g}]" for lo, hi in np.asarray(fn.box, dtype=float))
    where = "estimated numerically" if fn.estimated else "as given"
    mins = np.asarray(fn.minimizers, dtype=float)
    if mins.size:
        pts = ", ".join("(" + ", ".join(f"{v:.6g}" for v in p) + ")" for p in mins[:6])
        more = f" and {len(mins) - 6} more" if len(mins) > 6 else ""
        fmin = f", f* = {fn.fmin:.6g}" if fn.fmin is not None else ""
        st.caption(f"{fn.dim}-D over {box} · global minimum {where} at {pts}{more}{fmin}")
    else:
        st.caption(f"{fn.dim}-D over {box} · no minimum: errors are measured by the loss f")
    if fn.estimated:
        st.info("The minimum was estimated on a grid and refined with Newton steps: the race's "
                "distance-to-minimum is measured to it. Type the minimizer in the sidebar if you know it.",
                icon=":material/info:")
    config = {"displaylogo": False}
    if fn.dim == 1:
        st.plotly_chart(curve_figure(fn, ctx.large), key="typed_curve", theme=None, config=config)
        return
    left, right = st.columns(2)
    left.plotly_chart(map_figure(fn, ctx.large), key="typed_map", theme=None, config=config)
    right.plotly_chart(surface_figure(fn, ctx.large), key="typed_surface", theme=None, config=config)
    right.caption("Drag to turn the surface.")


VIEW = View(key="function", title="Your function", order=15, render=render,
            available=lambda ctx: isinstance(ctx.function, functions.ExpressionFunction),
            help="The typed formula, its minimizers and its surface")

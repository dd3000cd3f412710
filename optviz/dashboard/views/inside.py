"""Inside an optimizer: one optimizer, one start, step by step, so that a student sees why it
moves as it does.

One run of the scene's starts for the chosen optimizer with ``record_state=True``
(:attr:`optviz.Result.states`: the rule's NamedTuple fields, the gradient it was given and its
update at every step) gives, at the step chosen on the slider:

- **the path** of the chosen start on the landscape (1-D: on the curve), with two arrows from
  the point before the step: the direction of steepest descent −g (drawn at a fixed length) and
  the actual update Δx (to scale, or magnified by the factor written beside it when it would
  be too short to see);
- **the state over the steps**: the gradient, each state field (Adam's m and v, Santa's α and
  u, Eve's d, ...), the update, and the **effective per-coordinate step size**
  Δx / (−g), the learning rate the rule really applied to each coordinate (SGD's is η at
  every step; Adam's grows where the gradient is small and steady), a line marking the step;
- **the numbers at that step**, per coordinate.

The path is the race's: the run is of the chosen start alone, with the scene's seed, and every
random draw (Santa's noise) is keyed by the start point itself (:mod:`optviz.engine.noise`), so it is
the draw the race made.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

import optviz
from optviz.dashboard.compute import engine_options
from optviz.dashboard.docs import doc_markdown
from optviz.dashboard.messages import markdown_text, short
from optviz.dashboard.state import ss
from optviz.dashboard.views import ENGINE_ERRORS, Context, View, current_or_message, wait_for_pandas
from optviz.draw import plots, style
from optviz.optimizers import REGISTRY
from optviz.scene.model import Scene

#: Fields of the run that are not the rule's state: drawn first and last.
GRAD, UPDATE = "grad", "update"
#: An update arrow shorter than this share of the view's diagonal is magnified to it.
MIN_ARROW = 0.08
#: The −g arrow's length, as a share of the view's diagonal.
GRAD_ARROW = 0.12
#: Symbols of the state fields, as the rules' docstrings write them.
SYMBOLS = {"m": "m (first moment)", "v": "v (second moment)", "vmax": "v̂ (max of v)", "delta": "Δ (velocity)",
           "u": "u", "alpha": "α (thermostat)", "g_prev": "g (previous)", "s": "s (memory)",
           "d": "d (Eve's feedback)", "f_prev": "f (previous)", "mom": "momentum", "w_prev": "w (previous)"}
COORDS = ("x", "y")


# ---------------------------------------------------------------------- the run
@st.cache_data(max_entries=64, show_spinner=False)
def inside_run(scene: Scene, backend: str, name: str, start: int) -> optviz.Result:
    """The scene's run of one optimizer from one of its starts, every step, its state recorded."""
    return optviz.run(scene.build_function(), {name: dict(scene.optimizers[name])},
                      starts=[list(scene.starts.points[start])], steps=scene.steps, record_state=True,
                      **engine_options(scene, backend))


def fields_of(result: optviz.Result, name: str) -> list[str]:
    """The rule's own state fields, in its NamedTuple's order (without the gradient and update)."""
    return [f for f in result.states[name] if f not in (GRAD, UPDATE)]


def effective_step(grad: np.ndarray, update: np.ndarray) -> np.ndarray:
    """Δx / (−g) per coordinate: the step size the rule applied (NaN where g is 0 or not finite)."""
    with np.errstate(all="ignore"):
        eff = update / -grad
    return np.where(np.isfinite(eff) & (grad != 0), eff, np.nan)


def last_step(result: optviz.Result, name: str, start: int) -> int:
    """The last step with a state to show: the step before the point diverged, or the last."""
    d = int(result.diverged_step[name][start])
    return result.steps if d < 0 else max(1, d - 1)


# ---------------------------------------------------------------------- the figures
def _arrow(x0: float, y0: float, x1: float, y1: float, color: str, text: str, width: float,
           font: int) -> list[dict[str, Any]]:
    """An arrow from (x0, y0) to (x1, y1) in data coordinates, its label beyond the head."""
    line = {"x": x1, "y": y1, "ax": x0, "ay": y0, "xref": "x", "yref": "y", "axref": "x", "ayref": "y",
            "showarrow": True, "arrowhead": 3, "arrowsize": 1.1, "arrowwidth": width, "arrowcolor": color,
            "text": "", "standoff": 0, "startstandoff": 0}
    dx, dy = x1 - x0, y1 - y0
    label = {"x": x1, "y": y1, "xref": "x", "yref": "y", "showarrow": False, "text": f"<b>{text}</b>",
             "font": {"color": color, "size": font}, "bgcolor": "rgba(255,255,255,0.75)",
             "xanchor": "left" if dx >= 0 else "right", "yanchor": "bottom" if dy >= 0 else "top"}
    return [line, label]


def arrow_scale(update: np.ndarray, diagonal: float) -> float:
    """1, or the factor that makes a too-short update arrow :data:`MIN_ARROW` of the diagonal."""
    length = float(np.linalg.norm(update))
    if not np.isfinite(length) or length == 0 or length >= MIN_ARROW * diagonal:
        return 1.0
    return float(10 ** np.ceil(np.log10(MIN_ARROW * diagonal / length)))


def _scatter(x: Any, y: Any, **kw: Any) -> dict[str, Any]:
    return {"type": "scatter", "x": np.asarray(x, dtype=float), "y": np.asarray(y, dtype=float), **kw}


def path_figure(fn: Any, traj: np.ndarray, grad: np.ndarray, update: np.ndarray, t: int, color: str,
                large: bool = False) -> dict[str, Any]:
    """The start's path up to step ``t`` on the landscape, and the arrows −g and Δx of step ``t``
    from the point before it (a Plotly figure as a dict). ``traj``, ``grad`` and ``update`` are
    ``(steps + 1, dim)``."""
    base = plots.race_base(fn, traj[:1], [], large_font=large)
    layout = dict(base["layout"])
    layout.pop("annotations", None)
    view = plots.view_of(fn)
    diagonal = float(np.hypot(*(view[:, 1] - view[:, 0])))
    one_d = fn.dim == 1
    with np.errstate(all="ignore"):
        heights = np.asarray(fn.value(traj), dtype=float) if one_d else traj[:, 1]
    data = [*base["data"],
            _scatter(traj[:, 0], heights, mode="lines", name="the whole path", hoverinfo="skip",
                     line={"color": color, "width": 1, "dash": "dot"}, opacity=0.5),
            _scatter(traj[: t + 1, 0], heights[: t + 1], mode="lines+markers", name="path",
                     line={"color": color, "width": 2}, marker={"size": 4, "color": color},
                     customdata=np.arange(t + 1), hovertemplate="step %{customdata}<extra></extra>"),
            *base["above"]]
    p = traj[t - 1]
    g, u = grad[t], update[t]
    y0 = float(heights[t - 1]) if one_d else float(p[1])
    if one_d:  # along x, at the point's height
        gdir, udir = np.array([-g[0], 0.0]), np.array([u[0], 0.0])
    else:
        gdir, udir = -g, u
    arrows: list[dict[str, Any]] = []
    font = 18 if large else 14
    gnorm = float(np.linalg.norm(gdir))
    if np.isfinite(gnorm) and gnorm > 0:
        tip = gdir / gnorm * GRAD_ARROW * diagonal
        arrows += _arrow(p[0], y0, p[0] + tip[0], y0 + tip[1], "#333333", "−g", 2.0, font)
    k = arrow_scale(udir, diagonal)
    if np.all(np.isfinite(udir)) and np.linalg.norm(udir) > 0:
        label = "Δx" if k == 1 else f"Δx ×{k:g}"
        arrows += _arrow(p[0], y0, p[0] + k * udir[0], y0 + k * udir[1], color, label, 3.0, font)
    data.append(_scatter([p[0]], [y0], mode="markers", name=f"x at step {t - 1}",
                         marker={"size": 12, "color": color, "line": {"color": "black", "width": 1.5}},
                         hovertemplate=f"before step {t}<extra></extra>"))
    layout.update(annotations=arrows, height=520 if not large else 560)
    return {"data": data, "layout": layout}


def _positive(values: np.ndarray) -> bool:
    v = values[np.isfinite(values)]
    return bool(v.size and np.all(v >= 0) and np.any(v > 0))


def state_figure(states: dict[str, np.ndarray], start: int, t: int, last: int, color: str,
                 large: bool = False) -> dict[str, Any]:
    """The gradient, each state field, the update and the effective step size of one start over
    steps 1..``last``, stacked with a shared step axis and a line at step ``t`` (a Plotly figure
    as a dict: no ``make_subplots``, which costs most of a second). Non-negative fields (v, ...)
    and the effective step's size are on log axes."""
    names = [GRAD, *(f for f in states if f not in (GRAD, UPDATE)), UPDATE, "effective"]
    titles = {GRAD: "gradient g", UPDATE: "update Δx", "effective": "effective step size Δx / (−g)"}
    steps = np.arange(1, last + 1)
    font = 16 if large else 12
    k, gap = len(names), 0.035
    h = (1 - gap * (k - 1)) / k
    axis = {"showline": True, "linecolor": style.FRAME_COLOR, "mirror": True, "zeroline": False,
            "tickfont": {"size": font}}
    layout: dict[str, Any] = {
        "height": max(150 * k, 420), "margin": {"l": 70, "r": 10, "t": 30, "b": 3 * font + 12},
        "showlegend": False,
        "font": {"size": font, "family": style.FONT_FAMILY}, "plot_bgcolor": "white",
        "paper_bgcolor": "white", "hovermode": "x unified", "annotations": [], "shapes": [],
    }
    data = []
    for i, f in enumerate(names):
        if f == "effective":
            vals = np.abs(effective_step(states[GRAD][1:last + 1, start], states[UPDATE][1:last + 1, start]))
        else:
            vals = np.asarray(states[f][1:last + 1, start], dtype=float)
        log = f == "effective" or (f not in (GRAD, UPDATE) and _positive(vals))
        top = 1 - i * (h + gap)
        n = "" if i == 0 else str(i + 1)
        layout[f"yaxis{n}"] = {**axis, "domain": [top - h, top], "anchor": f"x{n}", "automargin": True,
                               "type": "log" if log else "linear", "exponentformat": "e", "nticks": 4}
        layout[f"xaxis{n}"] = {**axis, "anchor": f"y{n}", "range": [0.5, last + 0.5],
                               "showticklabels": i == k - 1, **({"matches": "x"} if i else {}),
                               # the step axis's title below its tick labels, in the bottom margin
                               **({"title": {"text": "step", "standoff": 4}, "automargin": True}
                                  if i == k - 1 else {})}
        title = titles.get(f, SYMBOLS.get(f, f))
        layout["annotations"].append({"text": title, "xref": "paper", "yref": "paper", "x": 0.5, "y": top,
                                      "xanchor": "center", "yanchor": "bottom", "showarrow": False,
                                      "font": {"size": font}})
        layout["shapes"].append({"type": "line", "xref": f"x{n}", "yref": f"y{n} domain", "x0": t, "x1": t,
                                 "y0": 0, "y1": 1, "line": {"color": "#888", "width": 1, "dash": "dot"}})
        cols = vals.reshape(len(vals), -1)
        for j in range(cols.shape[1]):
            label = f"{title} [{COORDS[j]}]" if cols.shape[1] > 1 else title
            y = np.where(cols[:, j] > 0, cols[:, j], np.nan) if log else cols[:, j]
            data.append(_scatter(steps, y, mode="lines", name=label, xaxis=f"x{n}", yaxis=f"y{n}",
                                 line={"color": color, "dash": ("solid", "dash")[j % 2], "width": 1.8},
                                 hovertemplate=f"{label}: %{{y:.4g}}<extra></extra>"))
    return {"data": data, "layout": layout}


def step_table(states: dict[str, np.ndarray], start: int, t: int, dim: int) -> list[dict[str, Any]]:
    """The numbers of step ``t`` per coordinate: gradient, each field, update and effective step."""
    cols = COORDS[:dim] if dim <= 2 else tuple(f"x{i + 1}" for i in range(dim))
    g, u = states[GRAD][t, start], states[UPDATE][t, start]
    eff = effective_step(g, u)
    out: list[dict[str, Any]] = [{"quantity": "gradient g", **dict(zip(cols, map(float, g), strict=True))}]
    for f in states:
        if f in (GRAD, UPDATE):
            continue
        v = np.asarray(states[f][t, start], dtype=float).reshape(-1)
        row = dict(zip(cols, map(float, v), strict=True)) if v.size == dim else {"value": float(v[0])}
        out.append({"quantity": SYMBOLS.get(f, f), **row})
    out.append({"quantity": "update Δx", **dict(zip(cols, map(float, u), strict=True))})
    out.append({"quantity": "effective step Δx / (−g)", **dict(zip(cols, map(float, eff), strict=True))})
    return out


# ---------------------------------------------------------------------- the view
def _start_label(starts: tuple[tuple[float, ...], ...]):
    return lambda i: f"#{i + 1}: (" + ", ".join(f"{v:.3g}" for v in starts[i]) + ")"


@st.fragment
def _view() -> None:
    try:
        _body()
    except Exception as exc:  # a fragment's rerun is not inside the page's last line of defence
        why = markdown_text(short(exc))
        st.error(f"Unexpected error in this view: {why}. Try another setting, or reload the page.")


def _body() -> None:
    wait_for_pandas()
    ctx = current_or_message()
    if ctx is None:
        return
    scene, fn = ctx.scene, ctx.function
    names = list(scene.optimizers)
    if not names:
        return
    if ss.get("inside_opt") not in names:
        ss["inside_opt"] = "Adam" if "Adam" in names else names[0]
    c1, c2, c3 = st.columns([1, 1, 3])
    c1.selectbox("Optimizer", names, key="inside_opt")
    n = len(scene.starts.points)
    if not isinstance(ss.get("inside_start"), int) or not 0 <= ss["inside_start"] < n:
        ss["inside_start"] = 0
    c2.selectbox("Start", list(range(n)), key="inside_start", format_func=_start_label(scene.starts.points))
    name, start = ss["inside_opt"], int(ss["inside_start"])
    try:
        result = inside_run(scene, ctx.backend, name, start)
    except ENGINE_ERRORS as exc:
        st.error(f"Cannot run this scene: {markdown_text(short(exc))}")
        return
    last = last_step(result, name, 0)
    step = ss.get("inside_step")
    if not isinstance(step, int) or not 1 <= step <= last:
        ss["inside_step"] = min(max(1, step if isinstance(step, int) else 1), last)
    if last > 1:
        c3.slider("Step", 1, last, key="inside_step")
    t = int(ss["inside_step"])
    states = result.states[name]
    color = style.colors([*scene.optimizers, name])[name]  # its colour in the race
    spec = REGISTRY[name]
    diverged = int(result.diverged_step[name][0])
    st.markdown(f"#### Inside {name}: start #{start + 1}, step {t} of {scene.steps}")
    st.caption(f"{spec.summary} The arrows leave the point before step {t}: −g, the direction of steepest "
               f"descent, and Δx, the step {name} took. The effective step size Δx / (−g) is the learning "
               "rate it applied to each coordinate (SGD's is η at every step).")
    if diverged >= 0:
        st.warning(f"This start diverged at step {diverged}: the view stops at step {last}.",
                   icon=":material/warning:")
    left, right = st.columns([1, 1], gap="medium")
    traj = result.trajectories[name][:, 0, :]
    with left:
        st.plotly_chart(path_figure(fn, traj, states[GRAD][:, 0], states[UPDATE][:, 0], t, color, ctx.large),
                        key="inside_path", theme=None, config={"displaylogo": False})
        st.dataframe(step_table(states, 0, t, fn.dim), key="inside_table", hide_index=True)
        with st.expander(f"{name}'s update rule"):
            st.markdown(doc_markdown(spec.doc))
    with right:
        st.plotly_chart(state_figure(states, 0, t, last, color, ctx.large), key="inside_states",
                        theme=None, config={"displaylogo": False})


def render(ctx: Context) -> None:
    _view()


VIEW = View(key="inside", title="Inside an optimizer", order=25, render=render,
            available=lambda ctx: ctx.function.dim <= 2,  # (it draws the landscape around the point)
            help="One optimizer and one start, step by step: its state, the gradient and the step it took")

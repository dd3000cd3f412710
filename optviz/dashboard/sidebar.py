"""The sidebar: lessons, function, optimizers, starting points, run settings and display.

Every control writes its value to ``st.session_state`` under its key (:mod:`.state`); the
page's views read the state, so the sidebar returns nothing.
"""

from __future__ import annotations

import streamlit as st

import optviz
from functions.problems import PROBLEMS
from optviz.dashboard import scene_state, share, state
from optviz.dashboard.docs import doc_markdown
from optviz.dashboard.state import FAMILIES, PLOTTABLE, QUICK_GROUPS, SCHEDULES, START_MODES, ss
from optviz.dashboard.views.function import editor as typed_editor
from optviz.engine.job import DTYPES, NOISE_MODES
from optviz.live.sliders import fmt
from optviz.optimizers import NAMES, REGISTRY
from optviz.scene import lessons
from optviz.scene.model import MAX_DELAY


def _lessons(sb) -> None:
    sb.subheader("Lessons")
    for name in lessons.LESSONS:
        p = lessons.get(name)
        key = "load_article" if name == "article-quartic" else f"lesson__{name}"
        sb.button(p.title, key=key, on_click=scene_state.load_lesson, args=(name,), help=p.note,
                  width="stretch", icon=":material/school:")


def _function(sb) -> None:
    sb.header("Function")
    sb.radio("Function source", state.FUNCTION_SOURCES, key="fn_source", horizontal=True,
             label_visibility="collapsed", help="A classic test function, or one you type",
             on_change=lambda: ss.pop("lesson", None))
    if state.typed():
        typed_editor(sb)
        return
    sb.selectbox("Test function", list(FAMILIES), key="function", format_func=lambda n: FAMILIES[n].title,
                 on_change=state.on_function_change)
    fam = FAMILIES[ss["function"]]
    with sb.container(key="formula"):
        st.latex(r"\small " + fam.formula)
    sb.caption(fam.description)
    dims = [d for d in PLOTTABLE if fam.supports(d)]
    if not dims:  # a learning problem: the race is drawn on a plane through its paths
        sb.caption(f"A learning problem with {fam.default_dim} parameters: the paths are drawn on one plane.")
    elif len(dims) > 1:
        sb.radio("Dimension", dims, key="dim", horizontal=True, on_change=state.on_dim_change,
                 help="This family exists in any dimension; the race shows 1-D or 2-D.")
    elif fam.max_dim is None or fam.max_dim > 2:
        sb.caption(f"An n-D family, shown here in {dims[0]}-D (the race needs 1-D or 2-D).")
    for p, default in fam.params.items():
        k = state.fparam_key(fam.name, p)
        ss.setdefault(k, float(default))
        sb.number_input(p, key=k, format="%g")


def _optimizers(sb) -> None:
    sb.header("Optimizers")
    c1, c2 = sb.columns(2)
    c1.button("Default five", key="pick_default", on_click=_pick, args=("default",), width="stretch",
              help="SGD, MSGD, NAG, RMSprop and Adam: plain, two momenta, two adaptive rules")
    c2.button(f"All {len(NAMES)}", key="pick_all", on_click=_pick, args=("all",), width="stretch",
              help="Every optimizer of the registry")
    sb.selectbox("Quick pick", ["…", *QUICK_GROUPS], key="quick_pick", on_change=state.pick_group,
                 format_func=lambda g: g if g == "…" else f"{QUICK_GROUPS[g]} ({len(state.group(g))})",
                 help="Replace the selection by a group")
    sb.multiselect("Optimizers", list(NAMES), key="optimizers", label_visibility="collapsed",
                   placeholder="Choose optimizers")
    chosen = state.chosen_optimizers()
    if chosen:
        sb.caption("Their sliders are beside the race. About each one:")
    for name in chosen:
        spec = REGISTRY[name]
        panel = sb.expander(f"**{name}**: {spec.summary}", key=f"exp__{name}", on_change="rerun")
        if getattr(panel, "open", True):  # closed panels draw nothing (a lighter page)
            with panel:
                st.caption(spec.reference)
                st.markdown(doc_markdown(spec.doc))


def _pick(group: str) -> None:
    ss["optimizers"] = list(state.group(group))


def _starts(sb) -> None:
    sb.header("Starting points")
    sb.radio("Starts", START_MODES, key="start_mode", horizontal=True, label_visibility="collapsed")
    mode = ss["start_mode"]
    one_d = state.active_dim() == 1
    if mode == "Grid":
        sb.slider("Points" if one_d else "Points per axis (N×N grid)", 1, 10, key="grid_n")
    elif mode == "Random":
        sb.slider("Random points (from the seed)", 1, 256, key="rand_n")
    elif mode == "Ring":
        sb.slider("Points on the ring", 2, 64, key="ring_n")
        sb.slider("Radius (share of the box's half-width)", 0.05, 1.0, step=0.05, key="ring_frac")
        sb.radio("Centre", ("global minimum", "box centre"), key="ring_center", horizontal=True)
    else:
        sb.text_area("Points: numbers separated by commas" if one_d else "Points: `x, y` per line",
                     key="typed_starts", height=90,
                     help="Or click the race to place starts. Numbers are read with float(); separate points "
                          "by new lines or ';'.")


def _run(sb) -> None:
    sb.header("Run")
    sb.slider("Steps", 10, 3000, step=10, key="steps")
    sb.number_input("Seed", min_value=0, max_value=2**31 - 1, step=1, key="seed",
                    help="Seeds the random starts and Santa's noise.")
    with sb.expander("Learning-rate schedule and gradient hooks"):
        st.selectbox("Schedule", SCHEDULES, key="schedule",
                     help="Multiplies every learning rate at each step.")
        s = ss["schedule"]
        if s == "step":
            st.number_input("every (steps)", min_value=1, step=10, key="sched_every")
            st.number_input("γ (factor)", min_value=0.0, max_value=10.0, step=0.05, key="sched_gamma",
                            format="%g")
        elif s == "exponential":
            st.number_input("γ per step", min_value=0.0, max_value=10.0, step=0.001, key="sched_exp_gamma",
                            format="%g")
        elif s in ("cosine", "warm-up + cosine"):
            if s == "warm-up + cosine":
                st.number_input("warm-up steps", min_value=1, step=5, key="sched_warmup")
            st.number_input("floor (final factor)", min_value=0.0, max_value=1.0, step=0.05,
                            key="sched_floor", format="%g")
        st.caption(f"schedule: `{state.schedule_text()}`")
        st.checkbox("LARS (layer-wise adaptive rate)", key="hook_lars")
        if ss["hook_lars"]:
            st.number_input("LARS threshold", min_value=0.0, step=0.01, key="lars_threshold", format="%g")
            st.number_input("LARS weight decay", min_value=0.0, step=0.001, key="lars_wd", format="%g")
        st.checkbox("Clip gradient norm", key="hook_clip")
        if ss["hook_clip"]:
            st.number_input("Max norm", min_value=1e-6, step=0.1, key="clip_max_norm", format="%g")
        st.checkbox("Weight decay (L2)", key="hook_wd")
        if ss["hook_wd"]:
            st.number_input("Decay rate λ", min_value=0.0, step=0.001, key="wd_rate", format="%g")
    changed = ss["noise"] or ss["delay"] or ss["dtype"] != DTYPES[0] or ss.get("batch")
    with sb.expander("Gradient noise, delay and precision", expanded=bool(changed)):
        n_samples = getattr(_problem(), "n_samples", None)
        if n_samples:  # a learning problem: minibatch gradients
            st.number_input("Minibatch size B (0 = full batch)", min_value=0, max_value=int(n_samples),
                            step=1, key="batch", help=f"Each gradient on B of the {n_samples} training "
                            "samples, drawn from (seed, step): the same batch for every optimizer.")
        st.number_input("Gradient noise σ (0 = off)", min_value=0.0, step=0.01, key="noise", format="%g",
                        help="Every gradient gets Gaussian noise: the same draws for every optimizer.")
        st.radio("Noise", NOISE_MODES, key="noise_mode", horizontal=True,
                 help="absolute: g + σ·z; relative: g + σ·|g|·z")
        st.number_input("Delay τ in steps (0 = off)", min_value=0, max_value=MAX_DELAY, step=1, key="delay",
                        help="Each step uses the gradient from τ steps before.")
        st.radio("Precision", DTYPES, key="dtype", horizontal=True,
                 help="float32 runs the race in single precision.")


def _problem():
    """The chosen learning problem (None for a formula or while the function cannot be built)."""
    if state.typed():
        return None
    fam = FAMILIES.get(ss["function"])
    if fam is None or not hasattr(fam, "make") or fam.name not in PROBLEMS:
        return None
    try:
        return state.make_function()
    except (ValueError, KeyError, TypeError):
        return None


def _display(sb) -> None:
    sb.header("Compute and display")
    sb.radio("Backend", list(state.BACKENDS), key="backend", horizontal=True,
             help="NumPy is fastest for a few hundred points; CuPy pays off with many thousands.")
    ok, why = optviz.gpu_status()
    sb.caption((":material/check_circle: " if ok else ":material/block: ") + why)
    c1, c2 = sb.columns(2)
    c1.selectbox("Error measure", state.ERROR_KINDS, key="error_kind",
                 help="distance to the nearest minimizer, f − f*, or f itself")
    tols = [float(f"{m}e{k}") for k in range(-12, 1) for m in (1, 2, 5) if float(f"{m}e{k}") <= 1.0]
    if ss["tol"] not in tols:
        ss["tol"] = min(tols, key=lambda v: abs(v - float(ss["tol"])))
    c2.select_slider("Tolerance", options=tols, key="tol", format_func=fmt,
                     help="'within tolerance' means the error is at most this")


def header() -> None:
    """The sidebar's title (drawn first, so that the page has its final width from the start)."""
    st.sidebar.title("optviz")
    st.sidebar.caption("Race gradient-descent optimizers on classic test functions.")


def render() -> None:
    """Draw every control of the sidebar (below :func:`header`)."""
    sb = st.sidebar
    _lessons(sb)
    share.controls(sb)
    _function(sb)
    _optimizers(sb)
    _starts(sb)
    _run(sb)
    _display(sb)

"""Noise and delay: which optimizers tolerate noisy gradients, and what delay compensation buys.

- **Noise**: every gradient coordinate gets Gaussian noise of σ (the same draw for every
  optimizer at the same start and step); the final error over σ shows each optimizer's noise
  floor, and the race's error curves at one σ show it step by step.
- **Delay**: each step uses the gradient from τ steps earlier, as in asynchronous training;
  DCASGD compensates a stale gradient by λ g⊙g⊙(w − w_stale). With DCASGD at SGD's rate the
  difference between the two is the compensation alone.
- **Lessons** sit at the top (:func:`optviz.dashboard.views.exploring.in_view`): the tab's default,
  the scene ``scripts/make_tab_defaults.py`` picked so that the delay sweep shows what compensation
  buys, the lessons that need a delay or a schedule the race's sidebar cannot show
  (:data:`optviz.scene.lessons.GRADIENT_LESSONS`, also run exactly as they are), and the race's
  scene; the one clicked is the scene both sweeps run on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from optviz.dashboard import messages
from optviz.dashboard.state import ss
from optviz.dashboard.views import Context, View, current_or_message, exploring
from optviz.explore.charts import curves_chart, step_length_chart, sweep_chart
from optviz.optimizers import NAMES
from optviz.scene import lessons as presets

SIGMA_MAX = (0.01, 0.1, 1.0, 10.0, 100.0)
TAU_MAX = (2, 4, 8, 16, 32)


def tolerance_table(s, tol: float) -> pd.DataFrame:
    """Per optimizer: the largest value at which at least half the runs converge, and the error there."""
    rows = []
    for name in s.names:
        ok = [i for i, x in enumerate(s.stats[name]) if x.share_converged >= 0.5]
        last = s.stats[name][-1]
        rows.append(
            {
                "optimizer": name,
                f"converges (≥ 50 %) up to {s.param}": f"{s.values[ok[-1]]:.3g}" if ok else "never",
                f"median error at {s.param} = {s.values[-1]:.3g}": exploring.num(last.median),
                f"diverged at {s.param} = {s.values[-1]:.3g}": exploring.pct(last.share_diverged),
            }
        )
    return pd.DataFrame(rows).set_index("optimizer")


def _noise(ctx: Context, kind: str) -> None:
    scene = ctx.scene
    st.markdown("#### Which optimizers tolerate noise?")
    c1, c2, c3 = st.columns(3)
    top = c1.select_slider("Largest σ", SIGMA_MAX, 10.0, key="noise_max", format_func=lambda v: f"{v:g}")
    mode = c2.radio(
        "Noise",
        ("absolute", "relative"),
        key="noise_sweep_mode",
        horizontal=True,
        help="absolute: g + σ·z; relative: g + σ·|g|·z",
    )
    seeds = c3.slider("Seeds", 1, 8, 2, key="noise_seeds")
    values = tuple(np.geomspace(top / 1000, top, 7).tolist())
    names = tuple(scene.optimizers)
    hp = exploring.frozen(exploring.hyperparams(scene, names))
    try:
        s = exploring.sweep_of(scene, ctx.backend, hp, "noise", values, int(seeds), kind, float(ctx.tol),
                               "log", mode)
    except exploring.ENGINE_ERRORS as exc:
        st.error(f"Cannot run with noise: {messages.short(exc)}")
        return
    exploring.chart(sweep_chart(s, large=ctx.large), "noise_chart")
    st.dataframe(tolerance_table(s, ctx.tol), key="noise_table")
    sigma = st.select_slider(
        "The race's error curves at σ", values, values[4], key="noise_sigma", format_func=lambda v: f"{v:.3g}"
    )
    try:
        clean = exploring.run_of(scene, ctx.backend, hp, 0.0, "absolute", 0, float(ctx.tol), kind)
        noisy = exploring.run_of(scene, ctx.backend, hp, float(sigma), mode, 0, float(ctx.tol), kind)
    except exploring.ENGINE_ERRORS as exc:
        st.error(messages.short(exc))
        return
    left, right = st.columns(2)
    with left:
        exploring.chart(
            curves_chart(clean, kind, ctx.tol, large=ctx.large, title="Exact gradients"), "noise_clean"
        )
    with right:
        exploring.chart(
            curves_chart(noisy, kind, ctx.tol, large=ctx.large, title=f"σ = {sigma:.3g} ({mode})"),
            "noise_noisy",
        )
    st.caption(
        "Where a curve levels off is the optimizer's noise floor at that σ; every optimizer gets the "
        "same draws at the same start and step."
    )


def _delay(ctx: Context, kind: str) -> None:
    scene = ctx.scene
    st.markdown("#### What does delay compensation buy?")
    default = list(dict.fromkeys(["SGD", "DCASGD", *scene.optimizers]))[:6]
    exploring.keep("delay_opts", list(NAMES), default)
    c1, c2, c3 = st.columns([3, 1, 2])
    names = c1.multiselect("Optimizers", NAMES, key="delay_opts")
    ss.setdefault("delay_max", 8)
    ss.setdefault("delay_same_rate", True)
    top = c2.select_slider("Largest τ", TAU_MAX, key="delay_max")
    same = c3.toggle(
        "DCASGD at SGD's rate",
        key="delay_same_rate",
        help="DCASGD with λ = 0 is SGD: at the same rate, the difference is the compensation alone.",
    )
    if not names:
        st.info("Choose at least one optimizer.")
        return
    order = tuple(n for n in NAMES if n in names)
    hp = exploring.hyperparams(scene, order)
    if same and "DCASGD" in hp and "SGD" in hp:
        hp["DCASGD"]["learning_rate"] = hp["SGD"]["eta"]
    values = tuple(float(v) for v in (0, *(2**k for k in range(int(np.log2(top)) + 1))))  # 0, 1, 2, 4, ..
    try:
        s = exploring.sweep_of(scene, ctx.backend, exploring.frozen(hp), "delay", values, 1, kind,
                               float(ctx.tol), "linear")
    except exploring.ENGINE_ERRORS as exc:
        st.error(f"Cannot run with delay: {messages.short(exc)}")
        return
    exploring.chart(sweep_chart(s, large=ctx.large), "delay_chart")
    st.dataframe(tolerance_table(s, ctx.tol), key="delay_table")
    if "DCASGD" in hp:
        st.caption(
            f"DCASGD: rate {hp['DCASGD']['learning_rate']:.3g}, λ = {hp['DCASGD']['lamda']:.3g} (the race's "
            "sliders set λ; the delay sweep uses the race's starts and steps)."
        )


def _lesson_run(ctx: Context, lesson) -> None:
    """A lesson with settings of its own (a delay, a schedule) run exactly as it is."""
    scene = lesson.scene
    if not (scene.delay or scene.schedule != "constant"):
        return
    st.markdown(f"#### The lesson as it is: {lesson.title}")
    try:
        res = exploring.lesson_run(scene, float(ctx.tol))
    except exploring.ENGINE_ERRORS as exc:
        st.error(messages.short(exc))
        return
    left, right = st.columns(2)
    with left:
        exploring.chart(curves_chart(res, "distance", ctx.tol, large=ctx.large),
                        f"lesson_curves_{lesson.name}")
    with right:
        exploring.chart(step_length_chart(res, large=ctx.large), f"lesson_steps_{lesson.name}")
    rows = [
        {
            "optimizer": r["optimizer"],
            "converged": exploring.pct(r["converged"]),
            "diverged": f"{r['diverged']}/{r['n_points']}",
            "median steps to tol": r["steps_to_tol"],
        }
        for r in res.summary(tol=ctx.tol)
    ]
    st.dataframe(pd.DataFrame(rows).set_index("optimizer"), key=f"lesson_table_{lesson.name}")
    extra = ", ".join(f"{k} {v}" for k, v in lesson.extra.items())
    cli = f" (optviz run --lesson {lesson.name})" if lesson.name in presets.ALL_LESSONS else ""
    st.caption(
        f"{ctx.function.title}, {len(lesson.starts)} starts, {lesson.steps} steps, {extra}: run exactly as "
        f"the lesson defines it{cli}."
    )


@st.fragment
def _view() -> None:
    ctx = current_or_message()
    if ctx is None:
        return
    ctx, lesson = exploring.in_view(ctx, "noise_delay")
    kind = exploring.kind_of(ctx)
    if kind is None:
        exploring.no_target(ctx)
        return
    _delay(ctx, kind)
    _noise(ctx, kind)
    if lesson is not None:
        _lesson_run(ctx, lesson)


def render(ctx: Context) -> None:
    _view()


VIEW = View(
    key="noise_delay",
    title="Noise & delay",
    order=60,
    render=render,
    help="Noisy and delayed gradients: noise floors, delay tolerance, what compensation buys",
)

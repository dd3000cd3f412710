"""Your own optimizer: type an update rule, race it against the scene's optimizers, look inside.

The text is a typed rule (:mod:`optviz.optimizers.typed`: declared hyperparameters, then
assignments over g, x, t and the rule's state), checked and never run as code; a refusal says the
line and column. Examples to start from: Lion, sign SGD, Adam with AMSGrad's running maximum,
Nesterov's look-ahead and schedule-free SGD (``grad_at`` and ``init``).
Each declared hyperparameter gets a slider over its declared range (logarithmic for learning rates
and ``log`` ones). The race is the scene's function, starts, steps, seed, schedule, hooks, noise
and delay, with the rule beside the optimizers chosen here; below it, the rule's state at every
step for one start (what the Inside view shows for a built-in) and a step-by-step check against a
reference rule (:func:`optviz.explore.conformance.conformance`, teacher-forced from the race's
starts: the first step, start and coordinate where the two updates differ). The scene with the rule's text
(``rules`` in the file and the link) can be downloaded or copied as a link: whoever opens it races
the same rule.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import streamlit as st

import optviz
from optviz.dashboard import share
from optviz.dashboard.docs import doc_markdown
from optviz.dashboard.messages import short
from optviz.dashboard.scene_state import RULE_VIEW
from optviz.dashboard.state import ss
from optviz.dashboard.views import ENGINE_ERRORS, Context, View, current_or_message, wait_for_pandas
from optviz.draw import plots
from optviz.explore.conformance import conformance
from optviz.optimizers import NAMES, custom
from optviz.optimizers import get as get_optimizer
from optviz.optimizers.typed import EXAMPLES, build, register_text
from optviz.scene.model import Scene

#: The examples' titles on the page.
TITLES = {"MyLion": "Lion", "SignSGD": "sign SGD", "AdamMax": "Adam with AMSGrad's max",
          "MyNesterov": "Nesterov (look-ahead gradient)",
          "MyScheduleFree": "schedule-free SGD (init, look-ahead)"}
HELP = ("name = default in [low, high] declares a hyperparameter (add 'log' for a log slider); then "
        "assignments over g, x, t and your state, e.g. m = b*m + (1 - b)*g; x = x - lr*m. A name read "
        "before it is assigned is state (starts at 0; 'init z = x' or 'init v = 1e-3' before the "
        "assignments gives it another first value). 'grad_at = x + mu*d' takes the gradient at a "
        "look-ahead point. Functions: sqrt exp log abs sign, max/min of two, where(a > b, then, else).")
#: The examples' built-in twins, and which of the example's hyperparameters is which of the twin's.
TWINS = {"MyLion": ("Lion", {"lr": "lr", "beta1": "b1", "beta2": "b2", "weight_decay": "wd"}),
         "AdamMax": ("AMSGrad", {}), "MyNesterov": ("NAG", {}),
         "MyScheduleFree": ("ScheduleFreeSGD", {"momentum": "beta"})}
#: Steps the step-by-step check runs at most (the readable path, every start).
CHECK_STEPS = 200
#: Slider positions of a log-scaled hyperparameter.
LOG_STEPS = 60


@st.cache_data(max_entries=32, show_spinner=False)
def race(scene: Scene, backend: str) -> optviz.Result:
    """The scene's race (its typed rules registered by ``run_kwargs``; under the rules' lock, so that
    another session's rule of the same name cannot take its place before the run has read it)."""
    with custom.LOCK:
        return optviz.run(**scene.run_kwargs(), backend=backend)


@st.cache_data(max_entries=32, show_spinner=False)
def inside(scene: Scene, backend: str, name: str, start: int) -> optviz.Result:
    """One start of the rule, its state recorded at every step."""
    with custom.LOCK:
        kw = scene.run_kwargs()
        kw.update(optimizers={name: dict(scene.optimizers[name])}, record_state=True,
                  starts=scene.starts_array()[start:start + 1])
        return optviz.run(**kw, backend=backend)


def _slider(name: str, h: Any, key: str, value: float) -> float:
    if h.log and h.low > 0:
        values = np.geomspace(h.low, h.high, LOG_STEPS)
        options = sorted({float(f"{v:.3g}") for v in values} | {float(value)})
        return float(st.select_slider(name, options=options, value=float(value), key=key,
                                      format_func=lambda v: f"{v:.3g}", help=h.help or None))
    step = (h.high - h.low) / 200 if math.isfinite(h.high - h.low) and h.high > h.low else 0.01
    return float(st.slider(name, float(h.low), float(h.high), float(value), step=step, key=key,
                           format="%.4g", help=h.help or None))


def twin_values(scene: Scene, example: str) -> dict[str, float]:
    """An example's hyperparameters at the values its built-in twin has in ``scene`` (the
    scene's own values for it, else its rate policy's for this function), by the example's names;
    empty for an example without a twin."""
    twin, names = TWINS.get(example, (None, {}))
    if twin is None:
        return {}
    try:
        theirs = dataclasses.replace(scene, optimizers={twin: dict(scene.optimizers.get(twin, {}))},
                                     rules={}).optimizers[twin]
    except (ValueError, KeyError, TypeError):
        return {}
    return {names.get(hp, hp): float(v) for hp, v in theirs.items()}


def _view() -> None:
    ctx = current_or_message()
    if ctx is None:
        return
    linked = ss.get("own_rules") or {}  # typed rules of a link or scene file the page opened
    left, right = st.columns([2, 1])
    with right:
        example = st.selectbox("Start from", [*linked, *EXAMPLES], key="own_example",
                               format_func=lambda k: f"{k} (from the link)" if k in linked
                               else TITLES.get(k, k))
        name = st.text_input("Name", value=example, key=f"own_name_{example}", max_chars=40)
        default = [n for n in ctx.scene.optimizers if n in NAMES] if linked else ["Adam", "Lion"]
        others = st.multiselect("Race it against", list(NAMES), default=[n for n in default if n in NAMES],
                                key="own_others")
    with left:
        start = linked[example][0] if example in linked else EXAMPLES[example]
        text = st.text_area("Your own optimizer", value=start, height=220, key=f"own_text_{example}",
                            help=HELP)
    try:
        spec = register_text(name, text)
    except ValueError as exc:
        st.error(short(str(exc)))
        return
    per_step = ", ".join(o for s in spec.maths.per_step for o in s.outputs) or "(none)"
    fields = ", ".join(spec.maths.fields) or "(none)"
    look = "; gradient taken at grad_at (look-ahead)" if spec.maths.grad_at is not None else ""
    st.caption(f"Checked: state {fields}; computed once per step: {per_step}{look}")
    with st.expander("The rule as optviz compiles it"):
        st.markdown(doc_markdown(spec.doc))
        st.code(build(text).parsed.source, language="python")
    values = {}
    if spec.hyperparams:
        cols = st.columns(min(4, len(spec.hyperparams)))
        # an example starts where its built-in twin races (a link's values first): the two overlap
        start_at = twin_values(ctx.scene, example) if example not in linked else {}
        for k, h in enumerate(spec.hyperparams):
            with cols[k % len(cols)]:
                given = linked.get(example, ("", {}))[1].get(h.name, start_at.get(h.name))
                value = given if given is not None and h.low <= given <= h.high else h.default
                key = f"own_hp_{spec.name}_{h.name}_{h.low}_{h.high}_{value}"
                values[h.name] = _slider(h.name, h, key, value)
    try:
        scene = share.with_rule(ctx.scene, spec.name, text, values, others)
        share.show_rule(ctx.scene, (spec.name, text, values, tuple(others)))  # the address bar, Link, ...
        result = race(scene, ctx.backend)
    except ENGINE_ERRORS as exc:
        st.error(short(str(exc)))
        return
    wait_for_pandas()
    _curves(result, ctx)
    st.dataframe(plots.style_table(plots.results_table(result, ctx.kind, ctx.tol), ctx.large))
    _inside(scene, ctx, spec.name)
    _check(scene, ctx, spec.name, example, values)
    st.download_button("Download the scene (with the rule's text)", scene.to_json(),
                       file_name=f"{spec.name}.json", mime="application/json", key="own_download")
    from urllib.parse import urlencode

    st.caption("Link to this race (the rule's text is in it):")
    st.code("?" + urlencode(scene.to_query()), language=None)


def _curves(result: optviz.Result, ctx: Context) -> None:
    import plotly.graph_objects as go

    kind, steps, curves = plots.error_curves(result, ctx.kind)
    fig = go.Figure()
    for name, (_, q50, _) in curves.items():
        fig.add_scatter(x=steps, y=q50, mode="lines", name=name)
    fig.update_layout(yaxis_type="log", height=320, margin=dict(l=10, r=10, t=30, b=10),
                      title=f"median {plots.KIND_SHORT[kind]} over the starts", xaxis_title="step")
    st.plotly_chart(fig, key="own_curves")


def _inside(scene: Scene, ctx: Context, name: str) -> None:
    n = len(scene.starts.points or ())
    start = st.number_input("Inside the rule: start", 0, max(0, n - 1), 0, key="own_start")
    try:
        res = inside(scene, ctx.backend, name, int(start))
    except ENGINE_ERRORS as exc:
        st.error(short(str(exc)))
        return
    import plotly.graph_objects as go

    states = res.states[name]
    fig = go.Figure()
    for field, rows in states.items():
        arr = np.asarray(rows, dtype=float)
        arr = arr.reshape(arr.shape[0], -1) if arr.ndim > 1 else arr[:, None]
        for j in range(arr.shape[1]):
            fig.add_scatter(y=arr[:, j], mode="lines", name=f"{field}[{j}]" if arr.shape[1] > 1 else field)
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="step",
                      title=f"{name}'s state, gradient and update at start {int(start)}")
    st.plotly_chart(fig, key="own_inside")


@st.cache_data(max_entries=32, show_spinner="Checking step by step…")
def check(scene: Scene, name: str, reference: str,
          ref_values: tuple[tuple[str, float], ...]) -> dict[str, Any]:
    """The rule against ``reference`` from the race's starts (its own values against ``ref_values``)."""
    with custom.LOCK:
        kw = scene.run_kwargs()  # (registers the scene's typed rules)
        found = conformance(name, reference, kw["function"], scene.starts_array(),
                            min(scene.steps, CHECK_STEPS), a_hyperparams=dict(scene.optimizers[name]),
                            b_hyperparams=dict(ref_values))
    return found.to_dict() | {"text": found.text()}


def _check(scene: Scene, ctx: Context, name: str, example: str, values: dict[str, float]) -> None:
    """'Check it step by step': the rule teacher-forced against a built-in (an example's twin first)."""
    with st.expander("Check it step by step against a reference rule", expanded=False):
        twin, names = TWINS.get(example, (None, {}))
        choices = ["(choose)", *[n for n in NAMES if n != name]]
        reference = st.selectbox("Reference", choices, index=choices.index(twin) if twin in choices else 0,
                                 key=f"own_ref_{example}",
                                 help="Both rules step from the race's starts; at every step the reference "
                                      "is given the very position and gradient of yours and the updates are "
                                      "compared coordinate by coordinate (tolerance 1e-12 + 1e-9·|update|).")
        if reference == "(choose)":
            return
        ref = get_optimizer(reference)
        st.caption(f"{reference}'s settings (a value of the same name, or the example's twin, is yours):")
        cols = st.columns(min(4, max(1, len(ref.hyperparams))))
        ref_values = {}
        for k, h in enumerate(ref.hyperparams):
            mine = values.get(names.get(h.name, h.name))
            value = float(mine) if mine is not None and h.low <= mine <= h.high else float(h.default)
            with cols[k % len(cols)]:
                ref_values[h.name] = float(st.number_input(h.name, value=value, format="%.6g",
                                                           key=f"own_refhp_{example}_{reference}_{h.name}_{value}"))
        try:
            found = check(scene, name, reference, tuple(ref_values.items()))
        except ENGINE_ERRORS as exc:
            st.error(short(str(exc)))
            return
        (st.success if found["agree"] else st.warning)(found["text"])


def render(ctx: Context) -> None:
    st.fragment(_view)()


VIEW = View(key="own_rule", title=RULE_VIEW, order=70, render=render,
            help="type an update rule, race it, look at its state, share it")

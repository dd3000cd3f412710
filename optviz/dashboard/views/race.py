"""The race: the live race component, the tune button, the results table and the export.

The whole view is one ``st.fragment``: a slider released, a start clicked on the chart, a
Reset or Tune press reruns only this view, not the sidebar. A click that places a start
changes the sidebar's starts, so it reruns the whole page (as does a browser's first run,
which draws the race alone: :func:`optviz.dashboard.state.lean`).
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from optviz.dashboard import component, compute, export, messages, share, state
from optviz.dashboard.state import ss
from optviz.dashboard.views import ENGINE_ERRORS, Context, View, current, current_or_message
from optviz.draw import plots
from optviz.explore.tune import tune_learning_rates
from optviz.live import payload, sweeps
from optviz.live.sliders import Slider, fmt, slider
from optviz.optimizers import REGISTRY
from optviz.scene import lessons
from optviz.scene.model import Scene


def _result_state(key: str = "race") -> Any:
    return ss.get(key)


def _field(result: Any, name: str) -> Any:
    if result is None:
        return None
    value = getattr(result, name, None)
    if value is None and isinstance(result, dict):
        value = result.get(name)
    return value


def on_sliders() -> None:
    """The race reports slider values (after a move ends): the whole page reruns, so that the
    sidebar's Link and Download hold them too."""
    if state.apply_slider_values(_field(_result_state(), "sliders")):
        ss["_rerun_page"] = True


def on_click() -> None:
    """A start placed by a click on the chart (added to the starts; the only one after "Clear
    starts"): the sidebar's starts change, so the whole page reruns."""
    click = _field(_result_state(), "click")
    if isinstance(click, dict):
        state.add_start(click.get("point"), replace=bool(click.get("replace")))
        ss["_rerun_page"] = True
    elif click is not None:
        state.add_start(click)
        ss["_rerun_page"] = True


def on_move() -> None:
    """A start's ring dragged on the chart: that start moves (the whole page reruns)."""
    move = _field(_result_state(), "move")
    if isinstance(move, dict) and isinstance(move.get("index"), int):
        state.move_start(move["index"], move.get("point"))
        ss["_rerun_page"] = True


def on_grid() -> None:
    """"Back to the grid": the starts are the grid again (the whole page reruns)."""
    if _field(_result_state(), "grid"):
        state.back_to_grid()
        ss["_rerun_page"] = True


def on_sweeps() -> None:
    """The page has drawn a scene and asks for its sliders' sweeps (computed in the next run, so
    that the first drawing does not wait for them)."""
    key = _field(_result_state(), "sweeps")
    if isinstance(key, str):
        ss["sweeps_for"] = key
        ss["page_ready"] = True  # the first drawing is up: now the whole page


def on_reset() -> None:
    name = _field(_result_state(), "reset")
    if isinstance(name, str) and name in REGISTRY:
        state.reset_hp(name)


def _lesson_values(name: str, hp: str) -> list[float]:
    """Values that lessons and the default policy use (sliders offer them as positions)."""
    vals = [float(lesson.scene.optimizers[name][hp]) for lesson in lessons.ALL_LESSONS.values()
            if name in lesson.scene.optimizers]
    vals.append(float(state.default_values(name)[hp]))
    return vals


def sliders_of(ctx: Context) -> dict[str, list[Slider]]:
    """Every chosen optimizer's sliders, standing at the scene's values."""
    return {name: [slider(name, hp, v, _lesson_values(name, hp)) for hp, v in hps.items()]
            for name, hps in ctx.scene.optimizers.items()}


def drawn_key(ctx: Context) -> str:
    """What the race draws but the hyperparameters (a change resets the animation in the page)."""
    s = ctx.scene
    return repr((s.function, s.starts.points, s.steps, s.seed, s.schedule, s.hooks, s.rates, ctx.large,
                 ctx.kind, ctx.tol))


def _blocks(ctx: Context, sliders: dict[str, list[Slider]], live: dict[str, tuple[Slider, ...]], stride: int,
            quant: sweeps.Quantizer) -> dict[str, list[list[dict[str, Any] | None]]]:
    out = {}
    gone = compute.left_check()  # a closed page's sweeps end with the optimizer being swept
    for name, sl in sliders.items():
        if live[name]:
            gone()
        swept = (compute.sweep_one(ctx.scene, ctx.backend, name, live[name], stride, quant, ctx.kind, ctx.tol)
                 if live[name] else [])
        by_hp = {s.name: b for s, b in zip(live[name], swept, strict=True)}
        out[name] = [by_hp.get(s.name, [None] * len(s.values)) for s in sl]
    return out


#: Which default learning rates the scene takes (:mod:`optviz.optimizers.rates`), as the header says it.
RATES_TEXT = {"tuned": "rates: the function's tuned table", "article": "rates: the article's"}


def _header(ctx: Context, n_rows: int, t_run: float, t_sweep: float, live_count: int, total: int) -> None:
    fn, scene = ctx.function, ctx.scene
    k, n = len(scene.optimizers), len(scene.starts.points)
    title = messages.markdown_text(fn.title)
    st.markdown(f"#### {title}: {k} optimizer{'s' * (k != 1)} × {n} start{'s' * (n != 1)}, "
                f"{scene.steps} steps")
    live = ("every slider live" if live_count == total
            else f"{live_count} of {total} sliders live (⟳: the others answer after the server reruns)")
    if ctx.large:  # the projector needs the height for the race
        return
    st.caption(
        f"{fn.dim}-D · seed {scene.seed} · {RATES_TEXT[scene.rates]} · schedule `{scene.schedule}`"
        + (f" · hooks `{', '.join(scene.hooks)}`" if scene.hooks else "")
        + (f" · gradient noise σ = {scene.noise:g} ({scene.noise_mode})" if scene.noise else "")
        + (f" · delay τ = {scene.delay}" if scene.delay else "")
        + (f" · {scene.dtype}" if scene.dtype != "float64" else "")
        + f" · {ctx.backend} · run {1000 * t_run:.0f} ms, sweeps {1000 * t_sweep:.0f} ms · {n_rows} frames"
        + f" · {live}"
    )


def _lesson() -> None:
    lesson = ss.get("lesson")
    if lesson in lessons.LESSONS:
        p = lessons.get(lesson)
        st.info(f"**{p.title}**: {p.note}", icon=":material/school:")


def _notes(ctx: Context, result: Any) -> None:
    if not ctx.large:  # on the projector the lesson's note goes under the race: the race needs the height
        _lesson()
    starts = compute.starts_of(ctx.scene)
    if ss["start_mode"] == "Typed":
        note = messages.outside_note(ctx.function, starts)
        if note:
            st.warning(note, icon=":material/crop_free:")
    if plots.all_diverged(result):
        why = messages.start_problem(ctx.function, starts)
        st.error(why or "Every point of every optimizer diverged: the learning rates are too large for this "
                        "function. Move the learning-rate sliders to the left (or press Reset).")


def on_tune() -> None:
    """"Tune learning rates": one sweep per optimizer on the scene on screen, then the sliders move."""
    try:
        ctx = current()
        picked = _tune_scene(ctx.scene, ctx.backend)
    except ENGINE_ERRORS as exc:
        ss["tune_note"] = f"could not tune: {messages.markdown_text(messages.short(exc))}"
        return
    for name, (hp, value) in picked.items():
        state.set_hyperparam(name, hp, value)
    state.hyperparams_replaced()
    ss["tune_note"] = ", ".join(f"{name} {hp}={fmt(v)}" for name, (hp, v) in picked.items())


def _tune(ctx: Context) -> None:
    c1, c2 = st.columns([1, 3], vertical_alignment="center")
    c1.button("Tune learning rates", key="tune", icon=":material/tune:", width="stretch", on_click=on_tune,
              help="For each optimizer shown, try its learning rate on a log grid (1, 2, 5 per decade) on "
                   "this very scene, and keep the value with the fewest diverged starts, then the most "
                   "starts within the tolerance, then the lowest median final error.")
    note = ss.get("tune_note")
    if note:
        c2.caption(f":material/tune: Tuned: {note}")


@st.cache_data(max_entries=64, show_spinner=False)
def _tune_scene(scene: Scene, backend: str) -> dict[str, tuple[str, float]]:
    hps = {n: dict(values) for n, values in scene.optimizers.items()}
    tuned = tune_learning_rates(scene.build_function(), hps, compute.starts_of(scene), scene.steps,
                                **compute.engine_options(scene, backend))
    return {name: (t.hyperparam, t.value) for name, t in tuned.items()}


def _table(ctx: Context, result: Any) -> None:
    """The results table and the diverged notes: side by side; on the projector one under the
    other, without the settings column (the sliders show them), so that the table fits 1280 px."""
    notes = plots.diverged_notes(result)
    if ctx.large:
        t_left, t_right = st.container(), st.container()
    else:
        t_left, t_right = st.columns([2, 1], gap="small")
    with t_left:
        st.subheader("Results")
        table = plots.results_table(result, ctx.kind, ctx.tol)
        if not ctx.large:  # what each optimizer ran with (exact: the text reads back as the run's value)
            hps = result.hyperparams
            table["settings"] = [", ".join(f"{hp}={state.exact(v)}" for hp, v in hps[name].items())
                                 for name in table["optimizer"]]
        st.dataframe(plots.style_table(table, ctx.large), key="results_table",
                     height=35 * (len(table) + 1) + 3)
    with t_right:
        st.subheader("Diverged")
        if notes:
            st.warning("\n".join(f"- {n}" for n in notes))
        else:
            st.success("No optimizer diverged.")


#: Moving points (recorded rows × optimizers × starts) up to which the page shows every step of
#: the race (the default scene: 301 × 5 × 16 = 24,080; all 19 optimizers: 91,504); beyond it,
#: fewer rows (:func:`optviz.live.sweeps.max_rows_for`). Every step costs the browser: the
#: default scene's data with its sweeps is 9.7 MB (2.1 MB at 61 rows), 256 starts would be 47 MB.
EVERY_STEP_BUDGET = 120_000


def frame_rows(scene: Scene) -> int:
    """How many rows of the race the page gets: every step (``steps + 1`` rows, so that ◀ ▶ and
    the arrow keys move one step of the optimizers) while the scene is under
    :data:`EVERY_STEP_BUDGET`; otherwise :func:`optviz.live.sweeps.max_rows_for`'s."""
    paths = len(scene.optimizers) * len(scene.starts.points)
    if (scene.steps + 1) * paths <= EVERY_STEP_BUDGET:
        return scene.steps + 1
    return sweeps.max_rows_for(paths)


def race_payload(ctx: Context, result: Any) -> tuple[dict[str, Any], dict, dict, float]:
    """What the race component gets for ``result``: (its data, the sliders, the live ones among
    them, the seconds the sweeps behind them took). The sweeps come once the page asks for them
    (a session's first run draws the race without)."""
    scene = ctx.scene
    sliders = sliders_of(ctx)
    rows = frame_rows(scene)
    stride = sweeps.stride_for(scene.steps, rows)
    quant = sweeps.Quantizer.around(plots.view_of(ctx.function))
    key = drawn_key(ctx)
    with_sweeps = ss.get("sweeps_for") == key or ss.get("live_sweeps") == "always"
    live = compute.live_sliders(scene, sliders, rows) if with_sweeps else {name: () for name in sliders}
    t1 = time.perf_counter()
    try:
        blocks = _blocks(ctx, sliders, live, stride, quant)
    except ENGINE_ERRORS:
        blocks, live = {}, {name: () for name in sliders}
    t_sweep = time.perf_counter() - t1
    try:
        link = share.link_template(scene)
        urls = {name: [share.slider_link_texts(scene, name, s.name, s.values) for s in sl]
                for name, sl in sliders.items()}
    except ENGINE_ERRORS:
        link, urls = None, None
    data = payload.race_data(
        scene_key=key, with_sweeps=with_sweeps, result=result, sliders=sliders, blocks=blocks,
        live={name: {s.name for s in ls} for name, ls in live.items()}, stride=stride, quant=quant,
        kind=ctx.kind, tol=ctx.tol, large=ctx.large, ack=int(ss.get("slider_ack", 0)),
        stochastic={name for name in scene.optimizers if scene.noise or compute.is_stochastic(name)},
        gen=int(ss.get("hp_gen", 0)), link=link, urls=urls, starts_mode=str(ss.get("start_mode", "Grid")))
    return data, sliders, live, t_sweep


def _view() -> None:
    ctx = current_or_message()
    if ctx is None:
        return
    scene = ctx.scene
    if not scene.optimizers:
        return
    t0 = time.perf_counter()
    try:
        result = compute.run_scene(scene, ctx.backend)
    except ENGINE_ERRORS as exc:
        st.error(f"Cannot run this scene: {messages.markdown_text(messages.short(exc))}")
        return
    t_run = time.perf_counter() - t0
    data, sliders, live, t_sweep = race_payload(ctx, result)
    _header(ctx, len(data["rows"]), t_run, t_sweep, sum(len(v) for v in live.values()),
            sum(len(v) for v in sliders.values()))
    _notes(ctx, result)
    component.race(data, on_sliders=on_sliders, on_click=on_click, on_reset=on_reset, on_sweeps=on_sweeps,
                   on_grid=on_grid, on_move=on_move)
    if ctx.large:
        _lesson()
    if ss.pop("_rerun_page", False):
        st.rerun()
    if state.lean():
        return
    _tune(ctx)
    _table(ctx, result)
    export.section(result, ctx.kind, ctx.scene)


_fragment = st.fragment(_view)


def render(ctx: Context) -> None:
    # A browser's first run draws the race outside the fragment, so that the page's request
    # for the sweeps (a widget event) reruns the whole page, sidebar and table included.
    if state.lean():
        _view()
    else:
        _fragment()


VIEW = View(key="race", title="Race", order=10, render=render,
            available=lambda ctx: ctx.function.dim <= 2,  # (more coordinates: the race on one plane)
            help="The optimizers race from every start: paths, markers, error curves, a slider per setting")

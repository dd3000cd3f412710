"""What the explore views (basins, sweeps, comparison, noise and delay) share.

- The engine calls, cached with ``st.cache_data`` on plain hashable arguments (the scene and
  the view's settings). Each one draws its own progress bar (inside the cached function, so
  that a cache hit replays nothing of it); the engine reports to it from the script's thread,
  and a rerun requested meanwhile (any widget moved, or Streamlit's Stop) raises inside that
  report, which cancels the run within a step.
- Small pieces of page: a multiselect kept to the options on offer, a JSON download, the
  error measure the views can use.
- The lessons of a tab at its top (:func:`in_view`): the tab's default (the scene
  ``scripts/make_tab_defaults.py`` picked to answer its question), its own lessons and "The
  race's scene"; the one clicked is what the tab shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np
import streamlit as st

import optviz
from optviz.dashboard import compute
from optviz.dashboard.state import ss
from optviz.dashboard.views import ENGINE_ERRORS  # noqa: F401 (the explore views use it from here
from optviz.explore import tab_defaults
from optviz.explore.measures import dumps, resolve_kind
from optviz.scene.lessons import Lesson
from optviz.scene.model import Scene

#: The progress bar is redrawn at most this often (seconds).
REDRAW = 0.1


@contextmanager
def progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar for an engine call: yields ``progress(done, total)``; removed at the end."""
    bar = st.progress(0.0, text=f"{label}…")
    last = [0.0]
    started = time.perf_counter()
    gone = compute.left_check()  # a closed page's computation ends at its next report

    def report(done: int, total: int) -> None:
        gone()
        now = time.perf_counter()
        if now - last[0] < REDRAW and done < total:
            return
        last[0] = now
        frac = min(1.0, done / total) if total else 1.0
        spent = now - started
        left = f", ~{spent * (1 - frac) / frac:.0f} s left" if 0 < frac < 1 and spent > 1 else ""
        bar.progress(
            frac, text=f"{label}: {100 * frac:.0f} %{left} (change a setting or press Stop to cancel)"
        )

    try:
        yield report
    finally:
        bar.empty()


def kind_of(ctx: Any, loss: bool = False) -> str | None:
    """The error measure for convergence (``"distance"`` or ``"gap"``) from the sidebar's choice,
    or None when the function has no target (nothing can converge); with ``loss``, a network's
    training loss (``"loss"``) for a view that measures it (a sweep)."""
    want = ctx.kind if ctx.kind in ("distance", "gap") else "auto"
    try:
        kind = resolve_kind(ctx.function, want)
    except ValueError:
        try:
            kind = resolve_kind(ctx.function, "auto")
        except ValueError:
            return None
    return None if kind == "loss" and not loss else kind


def no_target(ctx: Any) -> None:
    st.info(
        f"{ctx.function.title} has no minimum to converge to: choose a function with one in the sidebar.",
        icon=":material/info:",
    )


def options_of(scene: Scene, backend: str, *, besides: tuple[str, ...] = ()) -> dict[str, Any]:
    """The run options of the scene (schedule, hooks, noise, delay, dtype, a learning problem's
    minibatch size) and the backend, for the explore functions; ``besides``: those a tab sets
    itself (the setting a sweep varies)."""
    options = {"schedule": scene.schedule, "hooks": list(scene.hooks), "noise": scene.noise,
               "noise_mode": scene.noise_mode, "delay": scene.delay, "dtype": scene.dtype,
               "backend": backend, "batch": scene.batch}
    return {k: v for k, v in options.items() if k not in besides}


#: The choice "the race's scene" among a tab's lessons (:func:`in_view`).
RACE = "race"


#: Per tab, the widgets whose choices come from the scene in view (forgotten when it changes).
FOLLOW_SCENE: dict[str, tuple[str, ...]] = {"basins": ("basins_opts", "basins_a", "basins_b"),
                                            "noise_delay": ("delay_opts",)}


def _choose(tab: str, name: str) -> None:
    """A lesson button's click: that scene in view (the choices taken from the scene before it
    forgotten), and, for the tab's default, its settings."""
    if ss.get(f"{tab}_in_view") != name:
        for key in FOLLOW_SCENE.get(tab, ()):
            ss.pop(key, None)
    ss[f"{tab}_in_view"] = name
    d = tab_defaults.default_for(tab)
    if d is not None and name == d.lesson.name:
        for key, value in d.settings.items():
            ss[key] = value


def in_view(ctx: Any, tab: str) -> tuple[Any, Lesson | None]:
    """The lessons that belong to ``tab`` (:func:`optviz.explore.tab_defaults.lessons_for`) as
    buttons at the tab's top, and "The race's scene": the one clicked is the scene in view. The
    tab opens on its default, the scene the script picked to answer its question (its settings
    set once). Returns the view's context with that scene and function, and the lesson (None: the
    race's scene)."""
    items = tab_defaults.lessons_for(tab)
    key = f"{tab}_in_view"
    names = [lesson.name for lesson in items]
    if ss.get(key) not in (*names, RACE):
        _choose(tab, names[0] if names else RACE)
    if not items:
        return ctx, None
    now = ss[key]
    cols = st.columns(len(items) + 1)
    for col, lesson in zip(cols, items, strict=False):
        col.button(lesson.title, key=f"{tab}_lesson__{lesson.name}", help=lesson.note, width="stretch",
                   type="primary" if now == lesson.name else "secondary", on_click=_choose,
                   args=(tab, lesson.name))
    cols[-1].button("The race's scene", key=f"{tab}_lesson__{RACE}", width="stretch",
                    type="primary" if now == RACE else "secondary", on_click=_choose, args=(tab, RACE),
                    help="The race's function, optimizers, starts and steps (the sidebar's).")
    lesson = next((x for x in items if x.name == now), None)
    if lesson is None:
        return ctx, None
    st.info(f"**{lesson.title}**: {lesson.note}", icon=":material/school:")
    return replace(ctx, scene=lesson.scene, function=lesson.scene.build_function()), lesson


def keep(key: str, options: list[Any], default: list[Any]) -> None:
    """Before a multiselect with ``key``: keep its value to ``options`` (the sidebar may have
    changed them), and start it at ``default``."""
    have = ss.get(key)
    kept = [v for v in (have if isinstance(have, list) else default) if v in options]
    ss[key] = kept or [v for v in default if v in options]


def download(doc: Any, name: str, key: str) -> None:
    """A button that downloads ``doc`` (JSON-ready) as ``name``."""
    st.download_button(
        f"Download {name}",
        data=dumps(doc),
        file_name=name,
        mime="application/json",
        key=key,
        icon=":material/download:",
    )


def hyperparams(scene: Scene, names: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Each optimizer's hyperparameters: the scene's (the race's sliders), or, for an optimizer
    the scene does not race, the values kept for it (its tuned defaults)."""
    from optviz.dashboard import state

    return {n: dict(scene.optimizers[n]) if n in scene.optimizers else state.hyperparams(n) for n in names}


def frozen(hp: dict[str, dict[str, float]]) -> tuple:
    """Hyperparameters as a hashable value (for the caches)."""
    return tuple((n, tuple(sorted(v.items()))) for n, v in hp.items())


def thawed(hp: tuple) -> dict[str, dict[str, float]]:
    return {n: dict(v) for n, v in hp}


def chart(fig: Any, key: str) -> None:
    st.plotly_chart(
        fig,
        key=key,
        theme=None,
        config={"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}},
    )


def pct(v: float | None) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{100 * v:.0f} %"


def span(lo: float | None, hi: float | None) -> str:
    """An interval of shares: ``"48–61 %"``."""
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return "–"
    return f"{100 * lo:.0f}–{100 * hi:.0f} %"


def steps_span(steps: float | None, interval: Any) -> str:
    """Median steps and their interval: ``"120 (98–140)"``, ``"–"`` when none converged."""
    if steps is None:
        return "–"
    if interval is None:
        return f"{steps:.0f}"
    return f"{steps:.0f} ({interval[0]:.0f}–{interval[1]:.0f})"


def num(v: float | None, digits: int = 3) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{v:.{digits}g}"


# ---------------------------------------------------------------------- the cached engine calls
@st.cache_data(max_entries=32, show_spinner=False)
def basins_of(scene: Scene, backend: str, hp: tuple, grid: int, kind: str, tol: float) -> optviz.BasinMap:
    fn = scene.build_function()
    with progress(f"Mapping {grid}×{grid} starts" if fn.dim == 2 else f"Mapping {grid} starts") as report:
        return optviz.basins(
            fn,
            thawed(hp),
            grid=grid,
            steps=scene.steps,
            tol=tol,
            kind=kind,
            seed=scene.seed,
            rates="registry",
            progress=report,
            **options_of(scene, backend),
        )


@st.cache_data(max_entries=32, show_spinner=False)
def sweep_of(
    scene: Scene,
    backend: str,
    hp: tuple,
    param: str,
    values: tuple[float, ...],
    seeds: int,
    kind: str,
    tol: float,
    spacing: str,
    noise_mode: str = "absolute",
) -> optviz.Sweep:
    """A sweep of the scene's starts (``noise_mode`` for a sweep of the noise)."""
    extra = {"noise_mode": noise_mode} if param == "noise" else {}
    with progress(f"Sweeping {param} over {len(values)} values") as report:
        s = optviz.sweep(
            scene.build_function(),
            thawed(hp),
            param,
            list(values),
            starts=scene.starts_array(),
            steps=scene.steps,
            seeds=seeds,
            seed=scene.seed,
            tol=tol,
            kind=kind,
            rates="registry",
            progress=report,
            **options_of(scene, backend, besides=(param, *extra)),
            **extra,
        )
    s.spacing = spacing
    return s


@st.cache_data(max_entries=16, show_spinner=False)
def compare_of(
    fns: tuple[str, ...],
    names: tuple[str, ...],
    budget: int,
    steps: int,
    tol: float,
    seeds: int,
    tune_starts: int,
    test_starts: int,
    seed: int,
    noise: float,
    backend: str,
    batch: int | None = None,
) -> optviz.Comparison:
    with progress(f"Tuning {len(names)} optimizers on {len(fns)} functions, then comparing") as report:
        return optviz.compare(
            list(fns),
            list(names),
            budget=budget,
            steps=steps,
            tol=tol,
            seeds=seeds,
            tune_starts=tune_starts,
            test_starts=test_starts,
            seed=seed,
            progress=report,
            noise=noise,
            backend=backend,
            batch=batch,
        )


@st.cache_data(max_entries=32, show_spinner=False)
def run_of(
    scene: Scene, backend: str, hp: tuple, noise: float, noise_mode: str, delay: int, tol: float, kind: str
) -> optviz.Result:
    """One run of the scene's starts (every step recorded, for error curves)."""
    with progress("Running") as report:
        return optviz.run(
            scene.build_function(),
            thawed(hp),
            scene.starts_array(),
            scene.steps,
            seed=scene.seed,
            noise=noise,
            noise_mode=noise_mode,
            delay=delay,
            tol=tol,
            tol_kind=kind,
            progress=report,
            **options_of(scene, backend, besides=("noise", "noise_mode", "delay")),
        )


@st.cache_data(max_entries=8, show_spinner=False)
def lesson_run(scene: Scene, tol: float) -> optviz.Result:
    """A lesson's run exactly as its scene is (its own delay, schedule, starts and steps)."""
    with progress("Running the lesson") as report:
        return scene.run(tol=tol, progress=report)

"""The page's two directions: a :class:`~optviz.scene.model.Scene` → the widgets, and the widgets → a Scene.

- :func:`widgets_from_scene` sets every control of the page (the session state) to a scene: a
  lesson (:func:`load_lesson`), a link (:mod:`.share`), a loaded file and the first visit all
  go through it, in one call. It raises ``ValueError`` naming the key when the page's controls
  cannot reproduce the scene exactly, and then leaves the state as it was.
- :func:`scene_from_widgets` reads the controls into the scene on screen: what the address
  bar, the "Link" and the "Download" hold.

The page's own settings that are not part of a race (the view tab, projector mode, the export's
size) stay in the session state and out of the scene.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

import functions
from optviz.dashboard import state
from optviz.dashboard.state import FAMILIES, PLOTTABLE, ss
from optviz.engine import hooks as hook_texts
from optviz.engine import schedules as schedule_texts
from optviz.optimizers import NAMES
from optviz.scene import lessons
from optviz.scene.model import Scene, SceneFunction, Starts

#: The bounds of the page's own controls (the sidebar's sliders and inputs).
PAGE_STEPS = (10, 3000)
PAGE_SEED = 2**31 - 1
PAGE_GRID = (1, 10)
PAGE_RANDOM = (1, 256)
PAGE_RING = (2, 64)
PAGE_RING_RADIUS = (0.05, 1.0)
#: What to do instead, when the page cannot show a scene (the command line runs any scene).
CLI_HINT = "run the scene file with optviz run --scene (or render --scene)"
#: The tab where typed rules race (:mod:`.views.own_rule`): a scene with rules opens it.
RULE_VIEW = "Your own optimizer"
#: The engine's schedule names -> the page's choices.
PAGE_SCHEDULES = {"constant": "constant", "step": "step", "exponential": "exponential", "cosine": "cosine",
                  "warmup+cosine": "warm-up + cosine"}


# ---------------------------------------------------------------------- widgets -> scene
def _starts(starts: list[list[float]]) -> Starts:
    mode = ss["start_mode"]
    if mode == "Grid" and starts and len(starts[0]) > 2:  # (state.make_starts drew random ones)
        mode = "Random"
    pts = tuple(tuple(float(v) for v in p) for p in starts)
    if mode == "Grid":
        return Starts("grid", n=int(ss["grid_n"]), points=pts)
    if mode == "Random":
        return Starts("random", n=int(ss["rand_n"]), seed=int(ss["seed"]), points=pts)
    if mode == "Ring":
        center = "minimum" if ss["ring_center"] == "global minimum" else "center"
        return Starts("ring", n=int(ss["ring_n"]), radius=float(ss["ring_frac"]), center=center, points=pts)
    return Starts("points", points=pts)


def scene_from_widgets(fn: Any = None, starts: list[list[float]] | None = None) -> Scene:
    """The scene on screen, from the session state (``fn`` and ``starts``: already built from it).
    Raises ``ValueError`` (or ``KeyError``, ``TypeError``) while the controls describe no race."""
    fn = state.make_function() if fn is None else fn
    starts = state.make_starts(fn) if starts is None else starts
    if isinstance(fn, functions.ExpressionFunction):
        func = SceneFunction.of(fn)
    else:
        func = SceneFunction(name=ss["function"], dim=int(ss["dim"]), params=dict(state.function_params()))
    return Scene(
        function=func,
        optimizers={name: state.hyperparams(name) for name in state.chosen_optimizers()},
        starts=_starts(starts), steps=int(ss["steps"]), seed=int(ss["seed"]),
        schedule=state.schedule_text(), hooks=state.hook_texts(),
        noise=float(ss["noise"]), noise_mode=str(ss["noise_mode"]), delay=int(ss["delay"]),
        batch=(int(ss.get("batch") or 0) or None) if hasattr(fn, "n_samples") else None,
        dtype=str(ss["dtype"]), error=str(ss["error_kind"]), tol=float(ss["tol"]), rates=str(ss["rates"]),
    )


# ---------------------------------------------------------------------- scene -> widgets
def _within(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]


def _set_function(func: SceneFunction) -> None:
    if func.expression is not None:
        mins = func.minimizers
        state.set_typed(func.expression, ", ".join(state.exact(v) for row in func.box or () for v in row),
                        "" if mins is None else "none" if not mins else "; ".join(
                            ", ".join(state.exact(v) for v in p) for p in mins))
        ss["fn_source"] = state.FUNCTION_SOURCES[1]
        return
    fam = FAMILIES[func.name]  # type: ignore[index]
    if func.dim not in PLOTTABLE and func.dim != fam.default_dim:
        raise ValueError(f"function.dim: the page draws 1-D and 2-D functions; this scene's {func.name} is "
                         f"{func.dim}-D ({CLI_HINT})")
    ss["fn_source"] = state.FUNCTION_SOURCES[0]
    ss["function"] = func.name
    ss["dim"] = int(func.dim)  # type: ignore[arg-type]
    for p, default in fam.params.items():
        ss[state.fparam_key(fam.name, p)] = float(func.params.get(p, default))


def _set_starts(scene: Scene, dim: int) -> None:
    s = scene.starts
    if s.mode == "grid" and _within(s.n, PAGE_GRID):  # type: ignore[arg-type]
        ss["start_mode"], ss["grid_n"] = "Grid", int(s.n)  # type: ignore[arg-type]
    elif s.mode == "random" and _within(s.n, PAGE_RANDOM) and s.seed == scene.seed:  # type: ignore[arg-type]
        ss["start_mode"], ss["rand_n"] = "Random", int(s.n)  # type: ignore[arg-type]
    elif (s.mode == "ring" and _within(s.n, PAGE_RING) and _within(s.radius, PAGE_RING_RADIUS)  # type: ignore[arg-type]
          and math.isclose(s.radius / 0.05, round(s.radius / 0.05), abs_tol=1e-9)):  # type: ignore[operator]
        ss["start_mode"], ss["ring_n"], ss["ring_frac"] = "Ring", int(s.n), float(s.radius)  # type: ignore[arg-type]
        ss["ring_center"] = "global minimum" if s.center == "minimum" else "box centre"
    else:  # any other starts: as typed points (exact: numbers are written with repr)
        ss["start_mode"] = "Typed"
        ss["typed_starts"] = state.points_text(s.points or (), dim)


def _set_schedule(text: str) -> None:
    sched = schedule_texts.parse(text)
    v = dict(sched.settings)
    ss["schedule"] = PAGE_SCHEDULES.get(sched.name, "")
    if not ss["schedule"]:
        raise ValueError(f"schedule: the page's controls offer {', '.join(PAGE_SCHEDULES.values())}; "
                         f"this scene's {text!r} is not one of them ({CLI_HINT})")
    if "every" in v:
        ss["sched_every"], ss["sched_gamma"] = int(v["every"]), float(v["gamma"])
    if "gamma" in v and sched.name == "exponential":
        ss["sched_exp_gamma"] = float(v["gamma"])
    if "floor" in v:
        ss["sched_floor"] = float(v["floor"])
    if "steps" in v:
        ss["sched_warmup"] = int(v["steps"])


def _set_hooks(texts: tuple[str, ...]) -> None:
    ss["hook_lars"] = ss["hook_clip"] = ss["hook_wd"] = False
    for text in texts:
        h = hook_texts.parse(text)
        v = dict(h.settings)
        if h.name == "lars":
            ss["hook_lars"], ss["lars_threshold"], ss["lars_wd"] = True, float(v["threshold"]), float(
                v["weight_decay"])
        elif h.name == "clip":
            ss["hook_clip"], ss["clip_max_norm"] = True, float(v["max_norm"])
        elif h.name == "weight_decay":
            ss["hook_wd"], ss["wd_rate"] = True, float(v["rate"])


def _state_keys() -> list[str]:
    return [k for k in ss if isinstance(k, str) and not k.startswith("_")]


def difference(page: Scene, scene: Scene) -> str | None:
    """The first setting of the race in which ``page`` differs from ``scene`` (None: the same race)."""
    if page.function != scene.function:
        return "function"
    if page.optimizers != scene.optimizers:
        return "optimizers"
    if page.rates != scene.rates:
        return "rates"
    if not np.array_equal(page.starts_array(), scene.starts_array()):
        return "starts"
    for key in ("steps", "seed", "noise", "noise_mode", "delay", "batch", "dtype"):
        if getattr(page, key) != getattr(scene, key):
            return key
    if schedule_texts.parse(page.schedule) != schedule_texts.parse(scene.schedule):
        return "schedule"
    if [hook_texts.parse(h) for h in page.hooks] != [hook_texts.parse(h) for h in scene.hooks]:
        return "hooks"
    return None


def _check_page_can_show(scene: Scene) -> None:
    if not _within(scene.steps, PAGE_STEPS):
        raise ValueError(f"steps: the page runs {PAGE_STEPS[0]:,} to {PAGE_STEPS[1]:,} steps; this scene has "
                         f"{scene.steps:,} ({CLI_HINT})")
    if scene.seed > PAGE_SEED:
        raise ValueError(f"seed: the page's seeds go up to {PAGE_SEED:,}; this scene's is {scene.seed:,} "
                         f"({CLI_HINT})")


def widgets_from_scene(scene: Scene) -> None:
    """Set every control of the page to ``scene``; the page then runs the identical race.

    Raises ``ValueError`` naming the key when the page cannot show the scene exactly (and then
    leaves the state as it was).
    """
    _check_page_can_show(scene)
    rules = bool(scene.rules)
    if rules:  # typed rules open in the "Your own optimizer" view; the controls take the rest
        ss["own_rules"] = {n: (text, dict(scene.optimizers.get(n, {}))) for n, text in scene.rules.items()}
        rest = {n: hps for n, hps in scene.optimizers.items() if n not in scene.rules} or {"Adam": {}}
        scene = dataclasses.replace(scene, optimizers=rest, rules={})
    saved = {k: ss[k] for k in _state_keys()}
    try:
        _set_function(scene.function)
        fn = state.make_function()
        ss["rates"] = scene.rates
        ss["optimizers"] = [n for n in NAMES if n in scene.optimizers]
        for name in NAMES:  # the scene's values; the rate policy's for the optimizers it does not race
            values = scene.optimizers.get(name) or state.default_values(name)
            for hp, value in values.items():
                if not state.set_hyperparam(name, hp, value):
                    raise ValueError(f"optimizers.{name}.{hp}: the page cannot set {value!r}")
        state.hyperparams_replaced()
        ss["steps"], ss["seed"] = int(scene.steps), int(scene.seed)
        _set_starts(scene, fn.dim)
        _set_schedule(scene.schedule)
        _set_hooks(scene.hooks)
        ss["noise"], ss["noise_mode"] = float(scene.noise), str(scene.noise_mode)
        ss["delay"], ss["dtype"] = int(scene.delay), str(scene.dtype)
        ss["batch"] = int(scene.batch or 0)
        ss["error_kind"], ss["tol"] = scene.error, float(scene.tol)
        ss.pop("lesson", None)
        ss.pop("tune_note", None)
        state.remember_scene_widgets(saved)
        ss["sidebar_first"] = True  # the next run sends the widgets' new values before the race
        page = scene_from_widgets(fn)
        differs = difference(page, scene)
        if differs is not None:
            raise ValueError(f"{differs}: the page's controls cannot reproduce this scene's {differs} "
                             f"exactly ({CLI_HINT})")
        if rules:
            ss["view"] = RULE_VIEW
    except BaseException:  # put back what changed (widgets drawn already in this run are untouched)
        for k in _state_keys():
            if k not in saved:
                del ss[k]
        for k, v in saved.items():
            if k not in ss or (ss[k] is not v and ss[k] != v):
                ss[k] = v
        raise


# ---------------------------------------------------------------------- lessons
def load_lesson(name: str) -> None:
    """A lesson's button: its scene on the page (one call), and its note above the race."""
    widgets_from_scene(lessons.get(name).scene)
    ss["lesson"] = name
    tab = {"training": "Training", "plane": "On one plane"}.get(lessons.get(name).view)
    if tab:  # (a learning problem's lesson opens the view it is about)
        ss["view"] = tab

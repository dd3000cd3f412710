"""Shareable scenes in the page: its state as an :class:`optviz.scene.model.Scene`, in the URL and in files.

- **The URL holds the scene on screen.** Every run writes :meth:`Scene.to_query` to
  ``st.query_params`` (:func:`sync_url`), so the address bar is always a link to the race
  on screen; "Copy link" shows it with a copy button.
- **Opening a link** (a session whose first run has query parameters, :func:`open_link`)
  reads it with :meth:`Scene.from_query` (bounded by :data:`optviz.scene.model.SERVER_LIMITS`) and
  sets the page's controls to it (:func:`apply_scene`): the classmate sees the identical race.
- **"Download scene" / "Load scene"** write and read the same scene as JSON
  (:meth:`Scene.to_json`, :meth:`Scene.from_json`), the file ``optviz run --scene`` runs.

A link or a file the page cannot open gives one message that names the key (a malformed
value, an unknown key, a newer scene version, a size beyond the server's limits, or what the
page's controls cannot show, such as a 3-D function or 5,000 steps) and leaves the page as it
was: :func:`apply_scene` checks that the controls reproduce the scene exactly, and restores
the state otherwise. Nothing in a link or a file is run as code: the scene module reads numbers
and names, and a typed formula goes through :func:`functions.from_expression`.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

import numpy as np
import streamlit as st

import functions
from optviz.dashboard import state
from optviz.dashboard.messages import short
from optviz.dashboard.state import FAMILIES, PLOTTABLE, ss
from optviz.engine import hooks as _hooks
from optviz.engine import schedules as _schedules
from optviz.optimizers import NAMES, REGISTRY
from optviz.scene.model import SERVER_LIMITS, STREAMLIT_QUERY_KEYS, Scene, SceneFunction, Starts

#: The bounds of the page's own controls (the sidebar's sliders and inputs).
PAGE_STEPS = (10, 3000)
PAGE_SEED = 2**31 - 1
PAGE_GRID = (1, 10)
PAGE_RANDOM = (1, 256)
PAGE_RING = (2, 64)
PAGE_RING_RADIUS = (0.05, 1.0)
#: The largest scene file "Load scene" reads.
MAX_FILE_BYTES = 2_000_000
#: The message of a link or file that could not be opened (shown until dismissed).
ERROR_KEY = "share_error"
#: What to do instead, when the page cannot show a scene (the command line runs any scene).
CLI_HINT = "run the scene file with optviz run --scene (or render --scene)"


# ---------------------------------------------------------------------- the page -> a scene
def _page_starts(fn: Any, starts: list[list[float]]) -> Starts:
    mode = ss["start_mode"]
    pts = tuple(tuple(float(v) for v in p) for p in starts)
    if mode == "Grid":
        return Starts("grid", n=int(ss["grid_n"]), points=pts)
    if mode == "Random":
        return Starts("random", n=int(ss["rand_n"]), seed=int(ss["seed"]), points=pts)
    if mode == "Ring":
        center = "minimum" if ss["ring_center"] == "global minimum" else "center"
        return Starts("ring", n=int(ss["ring_n"]), radius=float(ss["ring_frac"]), center=center, points=pts)
    return Starts("points", points=pts)


def page_scene(fn: Any, starts: list[list[float]]) -> Scene:
    """The scene on screen: the function ``fn`` and ``starts`` built from the state, and the rest
    of the state (optimizers and their hyperparameters, steps, seed, schedule, hooks, view)."""
    if isinstance(fn, functions.ExpressionFunction):
        func = SceneFunction.of(fn)
    else:
        func = SceneFunction(name=ss["function"], dim=int(ss["dim"]), params=dict(state.function_params()))
    return Scene(
        function=func,
        optimizers={name: state.hyperparams(name) for name in state.chosen_optimizers()},
        starts=_page_starts(fn, starts), steps=int(ss["steps"]), seed=int(ss["seed"]),
        schedule=state.schedule_text(), hooks=state.hook_texts(),
        error=str(ss["error_kind"]), tol=float(ss["tol"]),
    )


def current_scene() -> Scene:
    """The scene the state describes now (``ValueError`` etc. while it cannot be built)."""
    fn = state.make_function()
    return page_scene(fn, state.make_starts(fn))


# ---------------------------------------------------------------------- a scene -> the page
def _points_text(points: Any, dim: int) -> str:
    rows = [", ".join(state.exact(v) for v in p) for p in points]
    return ", ".join(rows) if dim == 1 else "\n".join(rows)


def _in(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]


def _set_function(func: SceneFunction) -> None:
    if func.expression is not None:
        ss["fn_source"] = state.FUNCTION_SOURCES[1]
        ss["expr"] = func.expression
        ss["expr_box"] = ", ".join(state.exact(v) for row in func.box or () for v in row)
        mins = func.minimizers
        ss["expr_min"] = "" if mins is None else "none" if not mins else "; ".join(
            ", ".join(state.exact(v) for v in p) for p in mins)
        return
    fam = FAMILIES[func.name]  # type: ignore[index]
    if func.dim not in PLOTTABLE:
        raise ValueError(f"function.dim: the page draws 1-D and 2-D functions; this scene's {func.name} is "
                         f"{func.dim}-D ({CLI_HINT})")
    ss["fn_source"] = state.FUNCTION_SOURCES[0]
    ss["function"] = func.name
    ss["dim"] = int(func.dim)  # type: ignore[arg-type]
    for p, default in fam.params.items():
        ss[state.fparam_key(fam.name, p)] = float(func.params.get(p, default))


def _set_starts(scene: Scene, dim: int) -> None:
    s = scene.starts
    if s.mode == "grid" and _in(s.n, PAGE_GRID):  # type: ignore[arg-type]
        ss["start_mode"], ss["grid_n"] = "Grid", int(s.n)  # type: ignore[arg-type]
    elif s.mode == "random" and _in(s.n, PAGE_RANDOM) and s.seed == scene.seed:  # type: ignore[arg-type]
        ss["start_mode"], ss["rand_n"] = "Random", int(s.n)  # type: ignore[arg-type]
    elif (s.mode == "ring" and _in(s.n, PAGE_RING) and _in(s.radius, PAGE_RING_RADIUS)  # type: ignore[arg-type]
          and math.isclose(s.radius / 0.05, round(s.radius / 0.05), abs_tol=1e-9)):  # type: ignore[operator]
        ss["start_mode"], ss["ring_n"], ss["ring_frac"] = "Ring", int(s.n), float(s.radius)  # type: ignore[arg-type]
        ss["ring_center"] = "global minimum" if s.center == "minimum" else "box centre"
    else:  # any other starts: as typed points (exact: numbers are written with repr)
        ss["start_mode"] = "Typed"
        ss["typed_starts"] = _points_text(s.points or (), dim)
    ss["clicked_starts"] = False


#: The engine's schedule names -> the page's choices.
_PAGE_SCHEDULES = {"constant": "constant", "step": "step", "exponential": "exponential", "cosine": "cosine",
                   "warmup+cosine": "warm-up + cosine"}


def _set_schedule(text: str) -> None:
    sched = _schedules.parse(text)
    v = dict(sched.settings)
    ss["schedule"] = _PAGE_SCHEDULES.get(sched.name, "")
    if not ss["schedule"]:
        raise ValueError(f"schedule: the page's controls offer {', '.join(_PAGE_SCHEDULES.values())}; "
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
        h = _hooks.parse(text)
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


def _difference(page: Scene, scene: Scene) -> str | None:
    """The first setting of the race in which ``page`` differs from ``scene`` (None: identical)."""
    if page.function != scene.function:
        return "function"
    if page.optimizers != scene.optimizers:
        return "optimizers"
    if not np.array_equal(page.starts_array(), scene.starts_array()):
        return "starts"
    for key in ("steps", "seed", "noise", "noise_mode", "delay", "dtype"):
        if getattr(page, key) != getattr(scene, key):
            return key
    if _schedules.parse(page.schedule) != _schedules.parse(scene.schedule):
        return "schedule"
    if [_hooks.parse(h) for h in page.hooks] != [_hooks.parse(h) for h in scene.hooks]:
        return "hooks"
    return None


def _check_page_can_show(scene: Scene) -> None:
    if not _in(scene.steps, PAGE_STEPS):
        raise ValueError(f"steps: the page runs {PAGE_STEPS[0]:,} to {PAGE_STEPS[1]:,} steps; this scene has "
                         f"{scene.steps:,} ({CLI_HINT})")
    if scene.seed > PAGE_SEED:
        raise ValueError(f"seed: the page's seeds go up to {PAGE_SEED:,}; this scene's is {scene.seed:,} "
                         f"({CLI_HINT})")
    for key, default, what in (("noise", 0.0, "gradient noise"), ("delay", 0, "delayed gradients"),
                               ("dtype", "float64", "float32 runs")):
        if getattr(scene, key) != default:
            raise ValueError(f"{key}: the page has no control for {what} yet; this scene uses "
                             f"{key}={getattr(scene, key)!r} ({CLI_HINT})")


def apply_scene(scene: Scene) -> None:
    """Set the page's controls to ``scene``; the page then runs the identical race.

    Raises ``ValueError`` naming the key when the page cannot show the scene exactly (and then
    leaves the state as it was).
    """
    _check_page_can_show(scene)
    saved = {k: ss[k] for k in _state_keys()}
    try:
        _set_function(scene.function)
        fn = state.make_function()
        ss["optimizers"] = [n for n in NAMES if n in scene.optimizers]
        for name, hps in scene.optimizers.items():
            for hp, value in hps.items():
                spec = REGISTRY[name].hyperparam(hp)
                ss[state.hp_key(name, hp)] = float(round(value)) if spec.integer else float(value)
        ss["steps"], ss["seed"] = int(scene.steps), int(scene.seed)
        _set_starts(scene, fn.dim)
        _set_schedule(scene.schedule)
        _set_hooks(scene.hooks)
        ss["error_kind"], ss["tol"] = scene.error, float(scene.tol)
        ss.pop("lesson", None)
        ss.pop("tune_note", None)
        page = page_scene(fn, state.make_starts(fn))
        differs = _difference(page, scene)
        if differs is not None:
            raise ValueError(f"{differs}: the page's controls cannot reproduce this scene's {differs} "
                             f"exactly ({CLI_HINT})")
    except BaseException:  # put back what changed (widgets drawn already in this run are untouched)
        for k in _state_keys():
            if k not in saved:
                del ss[k]
        for k, v in saved.items():
            if k not in ss or (ss[k] is not v and ss[k] != v):
                ss[k] = v
        raise


# ---------------------------------------------------------------------- the URL and files
def _query_now() -> dict[str, str]:
    try:
        return {k: v for k, v in st.query_params.to_dict().items()}
    except Exception:  # no query parameters in this context (bare mode)
        return {}


def open_link() -> None:
    """On a session's first run: the scene in the page's URL, if it has one, sets the controls."""
    if ss.get("_link_checked"):
        return
    ss["_link_checked"] = True
    query = {k: v for k, v in _query_now().items() if k not in STREAMLIT_QUERY_KEYS}
    if not query:
        return
    try:
        apply_scene(Scene.from_query(query, limits=SERVER_LIMITS))
    except (ValueError, KeyError, TypeError) as exc:
        ss[ERROR_KEY] = (f"This link could not be opened: {short(exc, 400)}. The page shows its own scene "
                         "instead.")
        ss["_keep_url"] = True  # the link stays in the address bar until the user changes something
    else:
        ss["_link_opened"] = True


def sync_url(scene: Scene) -> None:
    """Write ``scene`` to the page's URL (only when it changed; Streamlit's own keys are kept)."""
    query = scene.to_query()
    now = _query_now()
    if ss.pop("_keep_url", False) and now:
        ss["_kept_query"] = query
        return
    if ss.get("_kept_query") == query and now:  # still the page's own scene: the bad link stays
        return
    ss.pop("_kept_query", None)
    query.update({k: v for k, v in now.items() if k in STREAMLIT_QUERY_KEYS})
    if query != now:
        st.query_params.from_dict(query)


def link(scene: Scene) -> str:
    """The page's address with ``scene`` in its query (``?v=1&fn=...`` when the address is unknown)."""
    try:
        base = str(st.context.url or "")
    except Exception:
        base = ""
    base = base.split("?", 1)[0].split("#", 1)[0]
    return f"{base}?{urlencode(scene.to_query())}"


def _on_upload() -> None:
    upload = ss.get("scene_upload")
    if upload is None:
        return
    try:
        if upload.size > MAX_FILE_BYTES:
            raise ValueError(f"scene: the file is {upload.size:,} bytes; a scene file is at most "
                             f"{MAX_FILE_BYTES:,}")
        apply_scene(Scene.from_json(upload.getvalue(), limits=SERVER_LIMITS))
    except (ValueError, KeyError, TypeError) as exc:
        ss[ERROR_KEY] = f"{upload.name} could not be loaded: {short(exc, 400)}. The page keeps its scene."
    else:
        ss.pop(ERROR_KEY, None)
        ss["share_note"] = f"Loaded {upload.name}."


def _dismiss() -> None:
    ss.pop(ERROR_KEY, None)


def notice() -> None:
    """The message of a link or a file that could not be opened (until dismissed)."""
    msg = ss.get(ERROR_KEY)
    if not msg:
        return
    c1, c2 = st.columns([12, 1], vertical_alignment="center")
    c1.error(msg, icon=":material/link_off:")
    c2.button("Dismiss", key="share_dismiss", on_click=_dismiss)


def controls(sb: Any) -> None:
    """The sidebar's "Share" section: "Copy link" (the link, with a copy button), "Download
    scene" (the scene as JSON) and "Load scene" (a scene file)."""
    sb.header("Share")
    try:
        scene = current_scene()
    except (ValueError, KeyError, TypeError):
        scene = None
    c1, c2 = sb.columns(2)
    if scene is not None:
        with c1.popover("Link", icon=":material/link:", width="stretch", help="Copy a link to this race"):
            st.caption("This page's address holds the race on screen: whoever opens the link sees it. "
                       "Copy it with the button at the right of the link.")
            st.code(link(scene), language=None, wrap_lines=True)
        c2.download_button("Download", data=scene.to_json(), file_name="optviz-scene.json",
                           mime="application/json", key="scene_download", on_click="ignore",
                           icon=":material/download:", width="stretch",
                           help="The scene as a JSON file: load it here, or run it with optviz run --scene")
    else:
        c1.caption("Fix the scene first: a link holds a scene that runs.")
    with sb.popover("Load scene", icon=":material/upload_file:", width="stretch"):
        st.file_uploader("A scene file from \"Download\" or optviz --save-scene", type=["json"],
                         key="scene_upload", on_change=_on_upload,
                         max_upload_size=max(1, MAX_FILE_BYTES // 1_000_000))
    note = ss.pop("share_note", None)
    if note:
        sb.success(note, icon=":material/check_circle:")

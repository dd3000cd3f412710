"""The dashboard's state: every setting lives in ``st.session_state`` under a fixed key.

Widget keys (kept stable: tests and other parts of the project use them): ``function``,
``dim``, ``fparam__<function>__<param>``, ``optimizers``, ``quick_pick``, ``start_mode``,
``grid_n``, ``rand_n``, ``ring_n``, ``ring_frac``, ``ring_center``, ``typed_starts``, ``steps``,
``seed``, ``schedule`` and its settings, ``hook_*``, ``noise``, ``noise_mode``, ``delay``,
``dtype``, ``backend``, ``large_font``,
``error_kind``, ``tol``, ``export_fps``, ``export_res``; a typed function: ``fn_source``
(``"Built-in"`` or ``"Your own"``), ``expr``, ``expr_box``, ``expr_min``
(:mod:`optviz.dashboard.views.function`). Hyperparameters are values (not widgets)
under ``hp__<optimizer>__<hyperparameter>``: the race's sliders live in the browser and report
here (:func:`apply_slider_values`).

The callbacks here run before the script (Streamlit's ``on_click`` / ``on_change``), so they
may set any key. :mod:`.scene_state` reads the state into the one :class:`optviz.scene.Scene`
(and sets it from one); this module holds the keys, their defaults, the callbacks and the
readers of single settings.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import streamlit as st

import functions
from optviz.dashboard import typed as typed_texts
from optviz.engine.job import DTYPES, NOISE_MODES
from optviz.optimizers import GROUPS, NAMES, REGISTRY, HyperParam, rates
from optviz.scene import lessons as presets


class _SessionState:
    """``st.session_state``, or, in a thread that has called :func:`detached`, a plain dict of that
    thread's own (the server's warm-up computes the default scene with it before any session)."""

    _local = threading.local()

    def _target(self) -> Any:
        own = getattr(self._local, "mapping", None)
        return st.session_state if own is None else own

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)

    def __getitem__(self, key: Any) -> Any:
        return self._target()[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._target()[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._target()[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._target()

    def __iter__(self):
        return iter(list(self._target()))

    def __len__(self) -> int:
        return len(self._target())


ss: Any = _SessionState()


@contextlib.contextmanager
def detached() -> Iterator[dict[str, Any]]:
    """In this thread, the state is a fresh dict until the block ends (not any session's)."""
    own: dict[str, Any] = {}
    _SessionState._local.mapping = own
    try:
        yield own
    finally:
        _SessionState._local.mapping = None
FAMILIES = functions.families()
PLOTTABLE = (1, 2)
START_MODES = ("Grid", "Random", "Ring", "Typed")
#: Where the function comes from: the registry (``function``) or a typed formula (``expr``).
FUNCTION_SOURCES = ("Built-in", "Your own")
#: The typed function's widgets (kept while the built-in source hides them).
TYPED_KEYS = ("expr", "expr_box", "expr_min")
SCHEDULES = ("constant", "step", "exponential", "cosine", "warm-up + cosine")
BACKENDS = {"NumPy": "numpy", "auto": "auto", "CuPy": "cupy"}
ERROR_KINDS = ("auto", "distance", "gap", "loss")
QUICK_GROUPS = {"default": "The default five", "all": "All", "article": "The article's 17",
                "momentum": "Momentum family", "adaptive": "AdaGrad–RMSprop family", "adam": "Adam family",
                "santa": "Santa"}
DEFAULT_FUNCTION = presets.DEFAULT_FUNCTION


def group(name: str) -> tuple[str, ...]:
    """The optimizers of a quick-pick group (``"default"`` is the first page's field)."""
    return tuple(presets.DEFAULT_FIELD) if name == "default" else tuple(GROUPS[name])


def hp_key(opt: str, hp: str) -> str:
    return f"hp__{opt}__{hp}"


def fparam_key(fn: str, param: str) -> str:
    return f"fparam__{fn}__{param}"


def _value(hp: HyperParam, v: float) -> float:
    return float(round(v)) if hp.integer else float(v)


DEFAULTS: dict[str, Any] = {
    "function": DEFAULT_FUNCTION, "dim": 2, "optimizers": list(presets.DEFAULT_FIELD),
    "start_mode": "Grid", "grid_n": 4, "rand_n": 16, "ring_n": 16, "ring_frac": 0.4,
    "ring_center": "global minimum", "typed_starts": "-1.5, 2.5\n0.5, -0.5",
    "steps": presets.DEFAULT_STEPS, "seed": presets.DEFAULT_SEED,
    "schedule": "constant", "sched_every": 100, "sched_gamma": 0.5, "sched_exp_gamma": 0.99,
    "sched_floor": 0.0, "sched_warmup": 20,
    "hook_lars": False, "lars_threshold": 0.01, "lars_wd": 0.0,
    "hook_clip": False, "clip_max_norm": 1.0, "hook_wd": False, "wd_rate": 0.01,
    "noise": 0.0, "noise_mode": NOISE_MODES[0], "delay": 0, "dtype": DTYPES[0], "batch": 0,
    "backend": "NumPy", "large_font": False, "error_kind": "auto", "tol": presets.DEFAULT_TOL,
    "export_fps": 20, "export_res": "720p", "quick_pick": "…", "slider_ack": 0, "hp_gen": 0,
    "fn_source": "Built-in", "expr": "(1 - x)**2 + 100*(y - x**2)**2", "expr_box": "-2, 2, -1, 3",
    "expr_min": "1, 1", "rates": rates.DEFAULT,
}
#: The function and dimension the hyperparameters were last set for as a whole, and the typed
#: formula that the box and minimizers were last set with (see :func:`on_function_change`,
#: :func:`on_formula_change`).
RATES_FOR = "rates_for"
TYPED_FOR = "typed_for"
#: The widgets a scene set in a callback, with the values they had before: until the browser has
#: been sent the new ones, a rerun it asks for (the race asking for its sweeps while the run that
#: loaded a lesson is still drawing) reports the old values, and Streamlit takes them as changes.
SET_BY_SCENE = "set_by_scene"
#: The widgets whose callbacks do more than keep a value (new rates, a cleared box).
WATCHED = ("function", "dim", "expr")


def init() -> None:
    """Set every key not set yet (the first run of a session) and keep hidden widgets' values."""
    first = RATES_FOR not in ss
    for k, v in DEFAULTS.items():
        ss.setdefault(k, list(v) if isinstance(v, list) else v)
    for name in NAMES:
        for hp in REGISTRY[name].hyperparams:
            ss.setdefault(hp_key(name, hp.name), _value(hp, hp.default))
    fam = FAMILIES.get(ss["function"])
    if fam is None:
        ss["function"] = DEFAULT_FUNCTION
        fam = FAMILIES[DEFAULT_FUNCTION]
    dims = [d for d in PLOTTABLE if fam.supports(d)] or [fam.default_dim]  # (a learning problem: its own)
    if ss["dim"] not in dims:
        ss["dim"] = dims[-1]
    if first:
        apply_tuned_rates()
    # Streamlit forgets the state of widgets that are not drawn in a run (another function's
    # parameters, the settings of a schedule not chosen); writing it back keeps it.
    for k in [k for k in ss if isinstance(k, str) and k.startswith("fparam__")]:
        ss[k] = ss[k]
    for k in (*TYPED_KEYS, "function", "dim"):
        ss[k] = ss[k]
    ss.setdefault(TYPED_FOR, tuple(str(ss[k]) for k in TYPED_KEYS))


def lean() -> bool:
    """True for a browser session's first run until the page has drawn the race: that run sends
    only the race (no sidebar controls, table or export), so that the browser draws it first;
    the race's request for its sweeps then reruns the whole page. Without a browser (Streamlit's
    AppTest) and with ``live_sweeps="always"`` the whole page comes at once."""
    return not ss.get("page_ready") and ss.get("live_sweeps") != "always" and _from_browser()


def _from_browser() -> bool:
    """True when a web browser is on the other end (it sent a User-Agent)."""
    try:
        return bool(st.context.headers.get("User-Agent"))
    except Exception:  # no request context (bare mode, AppTest)
        return False


def rates_key() -> tuple[str, int]:
    """The function and dimension chosen now (what the default learning rates depend on)."""
    return (str(ss["function"]), int(ss["dim"]))


def hyperparams_replaced() -> None:
    """Say that the hyperparameters were set as a whole (a scene, a new function, Reset, Tune):
    for the function chosen now, and newer than any slider message the page may still send
    (:func:`apply_slider_values` drops messages made before)."""
    ss[RATES_FOR] = rates_key()
    ss["hp_gen"] = int(ss.get("hp_gen", 0)) + 1


def default_values(name: str) -> dict[str, float]:
    """``name``'s hyperparameters under the page's rate policy (``rates``: the function's tuned
    table unless the scene on the page says ``"article"``) for the function chosen now."""
    if typed():
        return rates.defaults(name, None, None, ss["rates"])
    fam = FAMILIES[ss["function"]]
    params = dict(function_params())
    changed = params if any(fam.params.get(k) != v for k, v in params.items()) else None
    return rates.defaults(name, ss["function"], int(ss["dim"]), ss["rates"], params=changed)


def apply_tuned_rates() -> None:
    """Set every optimizer's learning rates to the policy's for the function now chosen
    (:func:`default_values`; the other hyperparameters keep their values)."""
    for name in NAMES:
        values = default_values(name)
        for hp in REGISTRY[name].hyperparams:
            if hp.lr:
                ss[hp_key(name, hp.name)] = _value(hp, values[hp.name])
    hyperparams_replaced()


def reset_hp(name: str) -> None:
    """``name``'s hyperparameters back to the policy's values for this function (:func:`default_values`)."""
    values = default_values(name)
    for hp in REGISTRY[name].hyperparams:
        ss[hp_key(name, hp.name)] = _value(hp, values[hp.name])
    hyperparams_replaced()


def hyperparams(name: str) -> dict[str, float]:
    """``name``'s hyperparameters as set now."""
    return {hp.name: float(ss[hp_key(name, hp.name)]) for hp in REGISTRY[name].hyperparams}


def set_hyperparam(name: str, hp: str, value: Any) -> bool:
    """Set one hyperparameter from outside a widget (the race's sliders), checked against the
    registry's range. Returns False (and changes nothing) for unknown names or bad values."""
    if name not in REGISTRY:
        return False
    try:
        spec = REGISTRY[name].hyperparam(hp)
        v = spec.check(value, name)
    except (KeyError, ValueError, TypeError):
        return False
    ss[hp_key(name, hp)] = _value(spec, v)
    return True


def apply_slider_values(message: Any) -> int:
    """Apply what the race's sliders report: ``{"seq": n, "values": {optimizer: {hp: value}}}``.

    The browser sends every change it has not seen acknowledged yet, so a message may repeat
    values; messages older than the last one applied are ignored, and so are messages made
    before the hyperparameters were last replaced as a whole (``gen``: a lesson, a link, a new
    function, Reset or Tune came between the move and the message). Returns the number applied.
    """
    if not isinstance(message, dict):
        return 0
    seq = message.get("seq")
    values = message.get("values")
    if not isinstance(seq, int) or not isinstance(values, dict) or seq <= int(ss.get("slider_ack", 0)):
        return 0
    gen = message.get("gen")
    if isinstance(gen, int) and gen != int(ss.get("hp_gen", 0)):
        ss["slider_ack"] = seq
        return 0
    n = 0
    for name, hps in values.items():
        if isinstance(hps, dict):
            n += sum(set_hyperparam(str(name), str(hp), v) for hp, v in hps.items())
    ss["slider_ack"] = seq
    return n


def pick_group() -> None:
    g = ss["quick_pick"]
    if g in QUICK_GROUPS:
        ss["optimizers"] = list(group(g))
    ss["quick_pick"] = "…"


def remember_scene_widgets(before: dict[str, Any]) -> None:
    """After a scene set the widgets (:func:`.scene_state.widgets_from_scene`): the watched
    widgets' values before it, until :func:`sidebar_sent` (see :data:`SET_BY_SCENE`)."""
    ss[SET_BY_SCENE] = {k: (before.get(k), ss.get(k)) for k in WATCHED if before.get(k) != ss.get(k)}


def sidebar_sent() -> None:
    """The sidebar's widgets went to the browser with the scene's values: reports are real again."""
    ss.pop(SET_BY_SCENE, None)


def _stale(key: str) -> bool:
    """True (and the scene's value put back) when ``key`` reports the value a scene replaced a
    moment ago: the browser had not been sent the new one when it asked for the rerun."""
    old_new = ss.get(SET_BY_SCENE, {}).get(key)
    if old_new is None or ss.get(key) != old_new[0]:
        return False
    ss[key] = old_new[1]
    return True


def on_function_change() -> None:
    """A new function: a dimension it supports, and the learning rates tuned for it.

    Only when the function really changed: a value reported again, or a stale one (see
    :data:`SET_BY_SCENE`), keeps the scene's rates."""
    if _stale("function"):
        _stale("dim")
        return
    fam = FAMILIES[ss["function"]]
    dims = [d for d in PLOTTABLE if fam.supports(d)] or [fam.default_dim]
    if ss.get("dim") not in dims:
        ss["dim"] = dims[-1]
    if ss.get(RATES_FOR) == rates_key():
        return
    ss.pop("lesson", None)
    apply_tuned_rates()


def on_dim_change() -> None:
    """A new dimension: the learning rates tuned for it (only when it changed, as above)."""
    if not _stale("dim") and ss.get(RATES_FOR) != rates_key():
        ss.pop("lesson", None)
        apply_tuned_rates()


def set_typed(formula: str, box: str, minimizers: str) -> None:
    """A typed function's three texts, set together (an example, a scene)."""
    ss["expr"], ss["expr_box"], ss["expr_min"] = str(formula), str(box), str(minimizers)
    ss[TYPED_FOR] = (str(formula), str(box), str(minimizers))


def on_formula_change() -> None:
    """A new formula typed: the box and minimizers that belonged to the formula before go (the
    library's default box, minimizers estimated), unless they were edited since."""
    if _stale("expr"):
        return
    formula, box, mins = (str(ss.get(k, "")) for k in TYPED_KEYS)
    before = ss.get(TYPED_FOR)
    if not before or before[0] == formula:
        return
    if box == before[1]:
        ss["expr_box"] = box = ""
    if mins == before[2]:
        ss["expr_min"] = mins = ""
    ss[TYPED_FOR] = (formula, box, mins)
    ss.pop("lesson", None)


def _clicked(point: Any, dim: int) -> list[float] | None:
    """A point the browser sent (a click or a drag), as ``dim`` finite coordinates, or None."""
    try:
        coords = [float(v) for v in point]
    except (TypeError, ValueError):
        return None
    if len(coords) < dim or not all(abs(c) < 1e12 for c in coords[:dim]):
        return None
    return coords


def add_start(point: Any, replace: bool = False) -> None:
    """A start placed by a click on the race: added to the starts raced now (the grid's, the
    ring's, ... become typed points, exactly as they were, with the new one after them); with
    ``replace`` (the first click after "Clear starts") it is the only start."""
    dim = active_dim()
    coords = _clicked(point, dim)
    if coords is None:
        return
    points: list[list[float]] = []
    if not replace:
        from optviz.scene import starts as start_points

        try:
            if ss["start_mode"] == "Typed":
                points = [list(p) for p in start_points.parse(ss["typed_starts"], dim)]
            else:
                points = [list(p) for p in make_starts(make_function())]
        except (ValueError, KeyError, TypeError):
            points = []
    points.append([float(f"{c:.4g}") for c in coords[:dim]])  # a click is no more precise than this
    ss["typed_starts"] = points_text(points, dim)
    ss["start_mode"] = "Typed"
    ss.pop("lesson", None)


def move_start(index: int, point: Any) -> None:
    """A start's ring dragged on the race to ``point``: start ``index`` of those raced moves
    there (the others stay, exactly; they become typed points)."""
    dim = active_dim()
    coords = _clicked(point, dim)
    if coords is None:
        return
    try:
        points = [list(p) for p in make_starts(make_function())]
    except (ValueError, KeyError, TypeError):
        return
    if not 0 <= index < len(points):
        return
    points[index] = [float(f"{c:.4g}") for c in coords[:dim]]
    ss["typed_starts"] = points_text(points, dim)
    ss["start_mode"] = "Typed"
    ss.pop("lesson", None)


def back_to_grid() -> None:
    """The race's "Back to the grid": the starts are the N×N grid again (N as the sidebar had it)."""
    ss["start_mode"] = "Grid"
    ss.pop("lesson", None)


def points_text(points: Any, dim: int) -> str:
    """Points as the sidebar's typed text, exact (each number reads back as itself)."""
    rows = [", ".join(exact(v) for v in p) for p in points]
    return ", ".join(rows) if dim == 1 else "\n".join(rows)


# ---------------------------------------------------------------------- the scene from the state
def exact(v: Any) -> str:
    """A setting as text that reads back exactly (``0.5``, ``1e-08``; more digits only when needed)."""
    v = float(v)
    short = f"{v:g}"
    return short if float(short) == v else repr(v)


def schedule_text() -> str:
    """The schedule chosen in the sidebar, as the engine's text form."""
    s = ss["schedule"]
    if s == "step":
        return f"step:every={int(ss['sched_every'])},gamma={exact(ss['sched_gamma'])}"
    if s == "exponential":
        return f"exponential:gamma={exact(ss['sched_exp_gamma'])}"
    if s in ("cosine", "warm-up + cosine"):
        cos = f"cosine:floor={exact(ss['sched_floor'])}"
        return f"warmup:steps={int(ss['sched_warmup'])}+{cos}" if s == "warm-up + cosine" else cos
    return "constant"


def hook_texts() -> tuple[str, ...]:
    """The gradient hooks chosen in the sidebar, as the engine's text forms."""
    hooks = []
    if ss["hook_lars"]:
        hooks.append(f"lars:threshold={exact(ss['lars_threshold'])},weight_decay={exact(ss['lars_wd'])}")
    if ss["hook_clip"]:
        hooks.append(f"clip:max_norm={exact(ss['clip_max_norm'])}")
    if ss["hook_wd"]:
        hooks.append(f"weight_decay:rate={exact(ss['wd_rate'])}")
    return tuple(hooks)


def function_params() -> tuple[tuple[str, float], ...]:
    fam = FAMILIES[ss["function"]]
    return tuple((p, float(ss.get(fparam_key(fam.name, p), default))) for p, default in fam.params.items())


def typed() -> bool:
    """True when the page races a typed function (``fn_source`` is "Your own")."""
    return ss.get("fn_source") == FUNCTION_SOURCES[1]


def make_function():
    """The test function chosen (``ValueError`` for bad parameters, e.g. a negative κ, or a
    typed function that is refused)."""
    if typed():
        return typed_texts.build(ss.get("expr", ""), ss.get("expr_box", ""), ss.get("expr_min", ""))
    return functions.get(ss["function"], int(ss["dim"]), **dict(function_params()))


def active_dim() -> int:
    """The dimension of the function raced now (a typed one's from its box; 2 while it is refused)."""
    if not typed():
        return int(ss["dim"])
    try:
        return int(make_function().dim)
    except (ValueError, KeyError, TypeError):
        return 2


def make_starts(fn: Any) -> list[list[float]]:
    """The starting points chosen in the sidebar, inside ``fn``'s box (typed ones as typed)."""
    from optviz.scene import starts as start_points

    mode = ss["start_mode"]
    if mode == "Grid" and fn.dim > 2:  # (a grid in many dimensions is astronomically many points)
        mode = "Random"
    if mode == "Grid":
        pts = start_points.grid(fn.box, int(ss["grid_n"]))
    elif mode == "Random":
        pts = start_points.random(fn.box, int(ss["rand_n"]), seed=int(ss["seed"]))
    elif mode == "Ring":
        box = fn.box
        use_min = ss["ring_center"] == "global minimum" and len(fn.minimizers)
        center = fn.minimizers[0] if use_min else box.mean(axis=1)
        radius = float(ss["ring_frac"]) * float(min(box[:, 1] - box[:, 0])) / 2
        pts = start_points.ring(center, radius, int(ss["ring_n"]))
    else:
        return start_points.parse(ss["typed_starts"], fn.dim)
    return pts.tolist()


def chosen_optimizers() -> tuple[str, ...]:
    return tuple(n for n in NAMES if n in ss["optimizers"])


def backend() -> str:
    return BACKENDS[ss["backend"]]

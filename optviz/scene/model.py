"""Shareable scenes: every setting of a run, to and from JSON and a URL query.

A :class:`Scene` holds what makes a race: the function (a registry name with its dimension
and parameters, or a typed expression with its box and minimizers), the optimizers with
their hyperparameters, the starting points (how they were chosen, and the points),
the steps, the seed, the learning-rate schedule and gradient hooks (as the texts
:func:`optviz.engine.schedules.parse` and :func:`optviz.engine.hooks.parse` read), the engine's
``noise``/``noise_mode``/``delay``, the dtype, and what a viewer is shown (error measure and
tolerance). The same scene gives the identical race::

    scene = Scene.from_run_kwargs("rosenbrock", {"Adam": {"alpha": 0.05}}, Starts.grid(4), 300)
    text = scene.to_json()                  # a file: every value explicit, "version": 2
    query = scene.to_query()                # {"v": "2", "fn": "rosenbrock", "opt": "Adam:alpha=0.05", ...}
    Scene.from_json(text) == Scene.from_query(query) == scene
    result = scene.run()                    # optviz.run(**scene.run_kwargs())

Loading validates everything, so a file or a link typed by anyone is safe to open: an
unknown key, a wrong type, or a value out of range raises a :class:`ValueError` that names it
by its dotted path (``optimizers.Adam.alpha``), sizes are bounded by :class:`Limits`, and a
scene saved by a newer optviz says so. Floats are written with ``repr``, so they come back
bit for bit.

**Normal form.** A scene is normalized when it is made, so that a round trip gives an equal
object, immutable and hashable: optimizer names are read by :func:`optviz.optimizers.resolve_item`
(``"adam"`` is Adam, ``"group:adam"`` the family, ``"all"`` every one) and made canonical; every
hyperparameter is filled in from the scene's ``rates`` policy (:mod:`optviz.optimizers.rates`:
``"tuned"``, the function's tuned learning rates, or ``"article"``, the registry's values) unless
given; a registry function's dimension and parameters are filled in; an expression's box is the
resolved one; the starting points are resolved from their mode. ``optimizers`` and
``function.params`` are read-only mappings (:class:`~optviz.scene.frozen.FrozenDict`).

**Versions** (the JSON and URL forms are written and read by :mod:`optviz.scene.codec`). The
JSON form writes every value, and its ``"rates"``; the URL form leaves out
defaults (hyperparameters equal to the ``rates`` policy's values, seed 0, the constant schedule,
...) and the points of grid, random and ring starts, which it recomputes, so links stay short.
Version 2 (written now) reads what is left out from the scene's ``rates`` (``"tuned"`` unless the
link or file says otherwise) and writes a group as ``group:adam``. Version 1 files and links
(optviz before the rates policy) read what is left out from the registry (``rates="article"``)
and a bare lower-case group key (``adam``) as the group, as they were made: they open to the same
race.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

import functions as _functions
from functions.problems import check_problem_batch
from optviz.engine import hooks as _hooks
from optviz.engine import schedules as _schedules
from optviz.engine.result import ERROR_KINDS
from optviz.engine.run import DTYPES, MAX_STEPS, NOISE_MODES
from optviz.optimizers import REGISTRY, resolve_item
from optviz.optimizers import get as _get_optimizer
from optviz.optimizers import rates as _rates
from optviz.optimizers import typed as _typed
from optviz.scene import codec
from optviz.scene import starts as _starts
from optviz.scene.codec import (
    MAX_JSON_CHARS,
    START_MODES,
    STREAMLIT_QUERY_KEYS,
    V1_RATES,
    VERSION,
    num_text,
)
from optviz.scene.frozen import FrozenDict

RING_CENTERS = ("minimum", "center")
VIEW_ERRORS = ("auto", *ERROR_KINDS)
MAX_TEXT = 400  # a schedule's or a hook's text
MAX_HOOKS = 8
MAX_DIM = 100
MAX_DELAY = 1000


@dataclass(frozen=True)
class Limits:
    """Bounds on what a loaded scene may ask for, so that no file or link can hang a server.

    Attributes:
        steps: most steps (at most the engine's :data:`optviz.engine.run.MAX_STEPS`).
        points: most starting points.
        work: most point-steps over all optimizers (steps × points × optimizers).
    """

    steps: int = MAX_STEPS
    points: int = 100_000
    work: float = 2e8


#: The limits used when none are given (a file opened by the CLI or the API).
LIMITS = Limits()
#: The limits :meth:`Scene.from_query` uses by default: a link is opened by a server, and the
#: dashboard's own controls go no further (3,000 steps, 256 random starts).
SERVER_LIMITS = Limits(steps=10_000, points=10_000, work=5e7)


# ---------------------------------------------------------------------- small checked readers
def _where(path: str) -> str:
    return path or "scene"


def _number(value: Any, path: str, *, low: float = -math.inf, high: float = math.inf) -> float:
    """A finite real number (``bool`` is not one) in ``[low, high]``, as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{_where(path)}: expected a number, got {_show(value)}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{_where(path)}: expected a finite number, got {_show(value)}")
    if not low <= v <= high:
        raise ValueError(f"{_where(path)}: must be in [{low:g}, {high:g}], got {v!r}")
    return v


def _integer(value: Any, path: str, *, low: int = 0, high: int | None = None) -> int:
    """A whole number in ``[low, high]``; ``4.0`` is accepted as 4, ``4.5`` and ``True`` are not."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{_where(path)}: expected a whole number, got {_show(value)}")
    if isinstance(value, float | np.floating) and not (math.isfinite(value) and value == int(value)):
        raise ValueError(f"{_where(path)}: expected a whole number, got {_show(value)}")
    v = int(value)
    if v < low or (high is not None and v > high):
        rng = f">= {low:,}" if high is None else f"in [{low:,}, {high:,}]"
        raise ValueError(f"{_where(path)}: must be a whole number {rng}, got {v:,}")
    return v


def _text(value: Any, path: str, *, choices: Sequence[str] | None = None, max_len: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{_where(path)}: expected text, got {_show(value)}")
    if len(value) > max_len:
        raise ValueError(f"{_where(path)}: too long ({len(value):,} characters, at most {max_len:,})")
    if choices is not None and value not in choices:
        raise ValueError(f"{_where(path)}: must be one of {', '.join(choices)}; got {value!r}")
    return value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{_where(path)}: expected an object (key: value), got {_show(value)}")
    for key in value:
        if not isinstance(key, str):
            raise ValueError(f"{_where(path)}: keys must be text, got {_show(key)}")
    return value


def _no_extra(data: Mapping[str, Any], known: Iterable[str], path: str) -> None:
    extra = [k for k in data if k not in set(known)]
    if extra:
        where = f"{path}." if path else ""
        raise ValueError(
            f"{where}{extra[0]}: unknown key; valid keys{' of ' + path if path else ''}: {', '.join(known)}"
        )


def _points(value: Any, path: str, dim: int | None = None, *, max_rows: int) -> tuple[tuple[float, ...], ...]:
    """Rows of finite numbers (all the same length, ``dim`` if given) as a tuple of tuples."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
        raise ValueError(f"{path}: expected a list of points (lists of numbers), got {_show(value)}")
    if len(value) > max_rows:
        raise ValueError(f"{path}: too many points ({len(value):,}, at most {max_rows:,})")
    rows = []
    for i, row in enumerate(value):
        if isinstance(row, int | float | np.integer | np.floating) and not isinstance(row, bool):
            row = [row]  # a 1-D point may be a bare number
        if isinstance(row, str | bytes) or not isinstance(row, Sequence | np.ndarray):
            raise ValueError(f"{path}[{i}]: expected a point (a list of numbers), got {_show(row)}")
        pt = tuple(_number(v, f"{path}[{i}][{j}]") for j, v in enumerate(row))
        want = dim if dim is not None else (len(rows[0]) if rows else None)
        if want is not None and len(pt) != want:
            raise ValueError(f"{path}[{i}]: has {len(pt)} coordinate(s); expected {want}")
        if not pt:
            raise ValueError(f"{path}[{i}]: a point needs at least one coordinate")
        rows.append(pt)
    return tuple(rows)


# ---------------------------------------------------------------------- the function
@dataclass(frozen=True)
class SceneFunction:
    """The function of a scene: a registry name (``name``, ``dim``, ``params``) or a typed
    expression (``expression``, ``box``, ``minimizers``; ``None`` minimizers: estimated)."""

    name: str | None = None
    dim: int | None = None
    params: Mapping[str, float] = field(default_factory=FrozenDict)
    expression: str | None = None
    box: tuple[tuple[float, float], ...] | None = None
    minimizers: tuple[tuple[float, ...], ...] | None = None

    @classmethod
    def of(cls, function: Any, dim: int | None = None) -> SceneFunction:
        """From a registry name or a test-function object (built-in or typed)."""
        if isinstance(function, SceneFunction):
            return function
        if isinstance(function, Mapping):
            return cls.from_dict(function)
        if isinstance(function, str):
            return cls(name=function, dim=dim)
        if isinstance(function, _functions.ExpressionFunction):
            return cls(
                expression=function.text,
                box=tuple(map(tuple, function.box.tolist())),
                minimizers=function.given_minimizers,
            )
        if isinstance(function, _functions.TestFunction):
            if function.name not in _functions.families():
                raise ValueError(
                    f"function: {function.name!r} is not in the registry; a scene holds "
                    f"registry functions and typed expressions"
                )
            return cls(name=function.name, dim=function.dim, params=FrozenDict(function.params))
        raise ValueError(f"function: expected a registry name or a test function, got {_show(function)}")

    def build(self) -> _functions.TestFunction:
        """The test-function object (typed expressions are built once and cached)."""
        if self.expression is not None:
            box = None if self.box is None else [list(r) for r in self.box]
            mins = None if self.minimizers is None else [list(r) for r in self.minimizers]
            return _functions.from_expression(self.expression, box=box, minimizers=mins)
        return _functions.get(self.name, dim=self.dim, **self.params)  # type: ignore[arg-type]

    def normalized(self) -> tuple[SceneFunction, _functions.TestFunction]:
        """(the normal form, the built function), or a ValueError naming ``function.…``."""
        if (self.name is None) == (self.expression is None):
            raise ValueError("function: give either a registry name or an expression")
        if self.expression is not None:
            if self.name is not None or self.dim is not None or self.params:
                raise ValueError("function: an expression takes box and minimizers, not name, dim or params")
            _text(self.expression, "function.expression", max_len=_functions.expression.MAX_CHARS)
            try:
                fn = self.build()
            except ValueError as exc:
                raise ValueError(f"function.expression: {exc}") from None
            return replace(self, box=tuple(map(tuple, fn.box.tolist())), params=FrozenDict()), fn
        if self.box is not None or self.minimizers is not None:
            raise ValueError(
                "function: a registry function takes name, dim and params, not box or minimizers"
            )
        fams = _functions.families()
        name = _text(self.name, "function.name")
        if name not in fams:
            raise ValueError(f"function.name: unknown test function {name!r}; valid: {', '.join(fams)}")
        fam = fams[name]
        dim = fam.default_dim if self.dim is None else _integer(self.dim, "function.dim", low=1, high=MAX_DIM)
        if not fam.supports(dim):
            raise ValueError(f"function.dim: {name} does not support dim={dim} ({fam.dims_text()})")
        params = _mapping(self.params, "function.params")
        for key, value in params.items():
            _number(value, f"function.params.{key}")
        try:
            fn = fam.make(dim, **params)
        except ValueError as exc:
            raise ValueError(f"function.params: {exc}") from None
        return replace(self, dim=dim, params=FrozenDict(fn.params)), fn

    def rate_key(self) -> tuple[str | None, int | None, Mapping[str, float] | None]:
        """``(name, dim, params)`` under which the tuned rates of this (normalized) function are
        looked up (:func:`optviz.optimizers.rates.defaults`); all None for a typed expression."""
        if self.expression is not None:
            return None, None, None
        return self.name, self.dim, self.params

    def to_dict(self) -> dict[str, Any]:
        if self.expression is not None:
            mins = None if self.minimizers is None else [list(r) for r in self.minimizers]
            return {
                "expression": self.expression,
                "box": [list(r) for r in (self.box or ())],
                "minimizers": mins,
            }
        return {"name": self.name, "dim": self.dim, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: Any, path: str = "function") -> SceneFunction:
        data = _mapping(data, path)
        if "expression" in data:
            _no_extra(data, ("expression", "box", "minimizers"), path)
            box = data.get("box")
            mins = data.get("minimizers")
            return cls(
                expression=_text(
                    data["expression"], f"{path}.expression", max_len=_functions.expression.MAX_CHARS
                ),
                box=None if box is None else _points(box, f"{path}.box", 2, max_rows=2),  # type: ignore
                minimizers=None if mins is None else _points(mins, f"{path}.minimizers", max_rows=64),
            )
        if "name" not in data:
            raise ValueError(f'{path}: give a registry name ("name") or an expression ("expression")')
        _no_extra(data, ("name", "dim", "params"), path)
        dim = data.get("dim")
        return cls(
            name=_text(data["name"], f"{path}.name"),
            dim=None if dim is None else _integer(dim, f"{path}.dim", low=1, high=MAX_DIM),
            params=FrozenDict({
                k: _number(v, f"{path}.params.{k}")
                for k, v in _mapping(data.get("params", {}), f"{path}.params").items()
            }),
        )


# ---------------------------------------------------------------------- the starting points
@dataclass(frozen=True)
class Starts:
    """How the starting points were chosen, and the points.

    ``mode`` is ``"grid"`` (``n`` per axis, ``n**dim`` points), ``"random"`` (``n`` points from
    ``seed``), ``"ring"`` (``n`` points at ``radius`` × half the box's smallest side around the
    first global ``"minimum"`` or the box ``"center"``) or ``"points"`` (typed). For the first
    three, ``points`` may be left ``None`` and is computed from the function when the scene is
    made (:meth:`resolve`); the constructors :meth:`grid`, :meth:`random`, :meth:`ring` and
    :meth:`typed` say which settings each mode takes.
    """

    mode: str
    points: tuple[tuple[float, ...], ...] | None = None
    n: int | None = None
    seed: int | None = None
    radius: float | None = None
    center: str | None = None

    #: The settings each mode takes (besides ``points``), with their defaults.
    SETTINGS: ClassVar[dict[str, dict[str, Any]]] = {
        "grid": {"n": 4},
        "random": {"n": 16, "seed": 0},
        "ring": {"n": 16, "radius": 0.4, "center": "minimum"},
        "points": {},
    }

    @classmethod
    def grid(cls, n: int = 4) -> Starts:
        """An ``n``-per-axis grid inside the box (:func:`optviz.scene.starts.grid`)."""
        return cls("grid", n=n)

    @classmethod
    def random(cls, n: int = 16, seed: int = 0) -> Starts:
        """``n`` uniform points in the box from ``seed`` (:func:`optviz.scene.starts.random`)."""
        return cls("random", n=n, seed=seed)

    @classmethod
    def ring(cls, n: int = 16, radius: float = 0.4, center: str = "minimum") -> Starts:
        """``n`` points on a circle (1-D: the two points ±r) around the first global minimizer
        (``center="minimum"``; the box centre if there is none) or the box ``"center"``, at
        ``radius`` × half the box's smallest side (the dashboard's ring)."""
        return cls("ring", n=n, radius=radius, center=center)

    @classmethod
    def typed(cls, points: Any) -> Starts:
        """Points of one's own, as given (checked when the scene is made)."""
        try:
            arr = np.asarray(points, dtype=float)
        except (TypeError, ValueError):
            return cls("points", points=points)  # the scene's check names what is wrong
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            return cls("points", points=points)
        return cls("points", points=tuple(tuple(float(v) for v in row) for row in arr))

    def compute(self, fn: Any) -> np.ndarray:
        """The points this mode gives on ``fn``'s box (``points`` itself for typed points)."""
        box = np.asarray(fn.box, dtype=float)
        if self.mode == "grid":
            return _starts.grid(box, self.n)
        if self.mode == "random":
            return _starts.random(box, self.n, seed=self.seed)
        if self.mode == "ring":
            mins = np.asarray(fn.minimizers, dtype=float)
            center = mins[0] if self.center == "minimum" and len(mins) else box.mean(axis=1)
            radius = float(self.radius) * float(np.min(box[:, 1] - box[:, 0])) / 2
            return _starts.ring(center, radius, self.n)
        return np.asarray(self.points, dtype=float)

    def resolve(self, fn: Any, limits: Limits = LIMITS) -> Starts:
        """The normal form for ``fn``: settings checked, defaults filled, points computed (or,
        for given points, checked against the mode: stale points keep the race and become
        ``"points"``). Raises ValueError naming ``starts.…``."""
        mode = _text(self.mode, "starts.mode", choices=START_MODES)
        dim = fn.dim
        given = {
            k: getattr(self, k) for k in ("n", "seed", "radius", "center") if getattr(self, k) is not None
        }
        allowed = self.SETTINGS[mode]
        for key in given:
            if key not in allowed:
                raise ValueError(
                    f"starts.{key}: not a setting of {mode} starts (they take "
                    f"{', '.join(allowed) or 'points only'})"
                )
        values = {**allowed, **given}
        if "n" in values:
            values["n"] = _integer(
                values["n"], "starts.n", low=2 if mode == "ring" else 1, high=limits.points
            )
        if "seed" in values:
            values["seed"] = _integer(values["seed"], "starts.seed", low=0, high=2**63 - 1)
        if "radius" in values:
            values["radius"] = _number(values["radius"], "starts.radius", low=1e-9, high=1e3)
        if "center" in values:
            values["center"] = _text(values["center"], "starts.center", choices=RING_CENTERS)
        if mode == "grid" and values["n"] ** dim > limits.points:
            raise ValueError(
                f"starts.n: a grid of {values['n']} per axis in {dim}-D is "
                f"{values['n'] ** dim:,} points, over the limit of {limits.points:,}"
            )
        out = replace(self, mode=mode, **values)
        if mode == "points":
            if self.points is None:
                raise ValueError("starts.points: typed starts need their points")
            pts = _points(self.points, "starts.points", max_rows=limits.points)
            if not pts:
                raise ValueError("starts.points: give at least one starting point")
            if len(pts[0]) != dim:
                raise ValueError(
                    f"starts.points: points have {len(pts[0])} coordinate(s), but "
                    f"{getattr(fn, 'name', 'the function')} here is {dim}-D"
                )
            return replace(out, points=pts)
        computed = out.compute(fn)
        fresh = tuple(tuple(float(v) for v in row) for row in computed)
        if self.points is None:
            return replace(out, points=fresh)
        pts = _points(self.points, "starts.points", max_rows=limits.points)
        same = (
            len(pts) == len(fresh)
            and len(pts[0]) == dim
            and np.allclose(pts, fresh, rtol=1e-12, atol=1e-12 * max(1.0, float(np.abs(computed).max())))
        )
        if same:
            return replace(out, points=pts)  # the stored points run, bit for bit
        return Starts("points", points=pts).resolve(fn, limits)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"mode": self.mode}
        d.update({k: getattr(self, k) for k in self.SETTINGS.get(self.mode, {})})
        d["points"] = None if self.points is None else [list(p) for p in self.points]
        return d

    @classmethod
    def from_dict(cls, data: Any, path: str = "starts", *, limits: Limits = LIMITS) -> Starts:
        data = _mapping(data, path)
        mode = _text(data.get("mode"), f"{path}.mode", choices=START_MODES) if "mode" in data else None
        if mode is None:
            raise ValueError(f"{path}.mode: missing; one of {', '.join(START_MODES)}")
        _no_extra(data, ("mode", *cls.SETTINGS[mode], "points"), path)
        pts = data.get("points")
        return cls(
            mode=mode,
            points=None if pts is None else _points(pts, f"{path}.points", max_rows=limits.points),
            n=data.get("n"),
            seed=data.get("seed"),
            radius=data.get("radius"),
            center=data.get("center"),
        )


# ---------------------------------------------------------------------- the scene
def _schedule_text(schedule: Any) -> str:
    """Text that :func:`optviz.engine.schedules.parse` reads back as ``schedule``."""
    if schedule is None:
        return "constant"
    if isinstance(schedule, str):
        return schedule.strip()
    if isinstance(schedule, _schedules.Schedule):
        head, _, tail = schedule.name.partition("+")
        settings = dict(schedule.settings)

        def call(name: str, keys: Iterable[str]) -> str:
            args = ",".join(f"{k}={num_text(settings.pop(k))}" for k in keys if k in settings)
            return f"{name}:{args}" if args else name

        text = call(head, ("steps", "start") if tail else list(settings))
        if tail:
            text += "+" + call(tail, list(settings))
        if _schedules.parse(text) == schedule:
            return text
    raise ValueError(
        f"schedule: cannot save {schedule!r} in a scene; pass its text, e.g. 'warmup:steps=10+cosine'"
    )


def _hook_text(hook: Any) -> str:
    if isinstance(hook, str):
        return hook.strip()
    if isinstance(hook, _hooks.Hook):
        text = hook.name + (
            ":" + ",".join(f"{k}={num_text(v)}" for k, v in hook.settings) if hook.settings else ""
        )
        if _hooks.parse(text) == hook:
            return text
    raise ValueError(f"hooks: cannot save {hook!r} in a scene; pass its text, e.g. 'clip:max_norm=5'")


def _batch(value: Any, fn: Any) -> int | None:
    """A learning problem's minibatch size: None (full batch, also for B = N) or 1 ≤ B < N."""
    if value is None:
        return None
    try:
        return check_problem_batch(fn, _integer(value, "batch", low=1))
    except ValueError as exc:
        text = str(exc)
        raise ValueError(f"batch: {text.removeprefix('batch: ').removeprefix('batch ')}") from None


@dataclass(frozen=True)
class Scene:
    """Every setting of a run (see the module docstring). Made normalized and validated."""

    function: SceneFunction
    optimizers: Mapping[str, Mapping[str, float]]
    starts: Starts
    steps: int = 300
    seed: int = 0
    schedule: str = "constant"
    hooks: tuple[str, ...] = ()
    noise: float = 0.0
    noise_mode: str = "absolute"
    delay: int = 0
    batch: int | None = None  # a learning problem's minibatch size (None: full batch)
    dtype: str = "float64"
    error: str = "auto"
    tol: float = 1e-3
    rates: str = _rates.DEFAULT
    rules: Mapping[str, str] = field(default_factory=FrozenDict)  # typed rules: name -> text
    version: int = VERSION
    limits: Limits = field(default=LIMITS, compare=False, repr=False)

    def __post_init__(self) -> None:
        lim = self.limits
        version = _integer(self.version, "version", low=1)
        if version > VERSION:
            raise ValueError(
                f"version: this scene was saved by a newer optviz (scene version {version}); "
                f"this optviz reads scene versions up to {VERSION}: update optviz to open it"
            )
        try:
            rates = _rates.check_rates(self.rates)
        except ValueError as exc:
            raise ValueError(f"rates: {exc}") from None
        func, fn = SceneFunction.of(self.function).normalized()
        starts = self.starts if isinstance(self.starts, Starts) else Starts.from_dict(self.starts, limits=lim)
        starts = starts.resolve(fn, lim)
        rules = FrozenDict(_typed.register_texts(self.rules))  # (before the names that may use them)
        optimizers = self._check_optimizers(self.optimizers, func, rates)
        steps = _integer(self.steps, "steps", low=1, high=min(lim.steps, MAX_STEPS))
        work = steps * len(starts.points or ()) * len(optimizers)
        if work > lim.work:
            raise ValueError(
                f"steps: {steps:,} steps × {len(starts.points or ()):,} starts × {len(optimizers)} "
                f"optimizer(s) is {work:,.0f} point-steps, over the limit of {lim.work:,.0f}"
            )
        given = self.schedule
        schedule = _text(
            _schedule_text(given) if given is None or isinstance(given, _schedules.Schedule) else given,
            "schedule",
        )
        try:
            _schedules.parse(schedule)
        except ValueError as exc:
            raise ValueError(f"schedule: {exc}") from None
        given_hooks = (self.hooks,) if isinstance(self.hooks, str | _hooks.Hook) else self.hooks
        if given_hooks is None:
            given_hooks = ()
        if not isinstance(given_hooks, Sequence):
            raise ValueError(
                f"hooks: expected a list of texts such as 'clip:max_norm=5', got {_show(self.hooks)}"
            )
        if len(given_hooks) > MAX_HOOKS:
            raise ValueError(f"hooks: at most {MAX_HOOKS}, got {len(given_hooks)}")
        hooks = tuple(
            _text(_hook_text(h) if isinstance(h, _hooks.Hook) else h, f"hooks[{i}]")
            for i, h in enumerate(given_hooks)
        )
        for i, h in enumerate(hooks):
            try:
                _hooks.parse(h)
            except ValueError as exc:
                raise ValueError(f"hooks[{i}]: {exc}") from None
        values = {
            "function": func,
            "starts": starts,
            "optimizers": optimizers,
            "steps": steps,
            "seed": _integer(self.seed, "seed", low=0, high=2**63 - 1),
            "schedule": schedule,
            "hooks": hooks,
            "noise": _number(self.noise, "noise", low=0.0),
            "noise_mode": _text(self.noise_mode, "noise_mode", choices=NOISE_MODES),
            "delay": _integer(self.delay, "delay", low=0, high=MAX_DELAY),
            "batch": _batch(self.batch, fn),
            "dtype": _text(self.dtype, "dtype", choices=DTYPES),
            "error": _text(self.error, "view.error", choices=VIEW_ERRORS),
            "tol": _number(self.tol, "view.tol", low=1e-300, high=1e300),
            "rates": rates,
            "rules": rules,
            "version": VERSION,  # read by the version given; held (and written) as this one
        }
        for key, value in values.items():
            object.__setattr__(self, key, value)

    @staticmethod
    def _check_optimizers(optimizers: Any, func: SceneFunction, rates: str) -> FrozenDict:
        """Names resolved (a bare name is one optimizer; ``group:adam``, ``all``), each listed once
        (a group may bring in one named too), every hyperparameter filled from ``rates``."""
        if isinstance(optimizers, str):
            optimizers = [optimizers]
        if isinstance(optimizers, Sequence):
            optimizers = {name: None for name in optimizers}
        items = _mapping(optimizers, "optimizers")
        if not items:
            raise ValueError(f"optimizers: choose at least one; valid: {', '.join(REGISTRY)}")
        chosen: dict[str, Any] = {}
        from_group: set[str] = set()
        for key, hps in items.items():
            try:
                names, grouped = resolve_item(key)
            except ValueError as exc:
                raise ValueError(f"optimizers.{key}: {exc}") from None
            if grouped:
                if hps:
                    raise ValueError(
                        f"optimizers.{key}: a group of optimizers with different hyperparameters: give "
                        f"its members' hyperparameters by optimizer name"
                    )
                for name in names:
                    if name not in chosen:
                        chosen[name] = None
                        from_group.add(name)
                continue
            name = names[0]
            if name in chosen and name not in from_group:
                raise ValueError(f"optimizers.{key}: {name} is listed twice")
            from_group.discard(name)
            chosen[name] = hps
        fname, fdim, fparams = func.rate_key()
        out: dict[str, FrozenDict] = {}
        for name, hps in chosen.items():
            spec = _get_optimizer(name)
            given = _mapping({} if hps is None else hps, f"optimizers.{spec.name}")
            values = _rates.defaults(spec.name, fname, fdim, rates, params=fparams)
            for key, value in given.items():
                path = f"optimizers.{spec.name}.{key}"
                if key not in values:
                    valid = ", ".join(h.name for h in spec.hyperparams)
                    raise ValueError(f"{path}: unknown hyperparameter; {spec.name} has {valid}")
                if np.ndim(value) != 0:
                    raise ValueError(
                        f"{path}: a scene holds one value per hyperparameter (a sweep of one "
                        f"value per start cannot be saved)"
                    )
                _number(value, path)
                values[key] = spec.hyperparam(key).check(value, f"optimizers.{spec.name}")
            out[spec.name] = FrozenDict(values)
        return FrozenDict(out)

    # -------------------------------------------------------------- making and running
    @classmethod
    def from_run_kwargs(
        cls,
        function: Any,
        optimizers: Any = "all",
        starts: Any = None,
        steps: int = 100,
        *,
        seed: int = 0,
        schedule: Any = None,
        hooks: Any = (),
        noise: float = 0.0,
        noise_mode: str = "absolute",
        delay: int = 0,
        batch: int | None = None,
        dtype: str = "float64",
        error: str = "auto",
        tol: float | None = 1e-3,
        tol_kind: str | None = None,
        dim: int | None = None,
        rates: str = _rates.DEFAULT,
        limits: Limits = LIMITS,
        **ignored: Any,
    ) -> Scene:
        """The scene of an :func:`optviz.run` call (what the CLI or the dashboard ran).

        ``starts`` is a :class:`Starts` (keeps its mode) or points (saved as typed points);
        ``None`` means the box centre, as in ``optviz.run``. ``schedule`` and ``hooks`` may be
        objects or texts. ``tol`` and ``tol_kind`` (``None``: 1e-3, the error measure) are kept as
        the view's tolerance and error measure; ``rates`` fills the hyperparameters not given, as
        in ``optviz.run``. Keyword arguments that do not change the race
        (``backend``, ``threads``, ``fused``, ``record_every``, ``record_state``, ``progress``,
        ``max_record_bytes``, ``max_seconds``) are ignored.

        Raises:
            ValueError: as for loading; a per-start hyperparameter sweep or an unregistered
                function object cannot be saved.
        """
        irrelevant = {
            "backend",
            "threads",
            "fused",
            "record_every",
            "record_state",
            "progress",
            "max_record_bytes",
            "max_seconds",
        }
        unknown = sorted(set(ignored) - irrelevant)
        if unknown:
            raise TypeError(f"from_run_kwargs() got unexpected keyword argument(s): {', '.join(unknown)}")
        if (
            isinstance(function, str)
            and dim is None
            and starts is not None
            and not isinstance(starts, Starts)
        ):
            shape = np.shape(starts)
            fam = _functions.families().get(function)
            if fam is not None and fam.default_dim != 1:
                dim = shape[1] if len(shape) == 2 else (shape[0] if len(shape) == 1 else None)
        func = SceneFunction.of(function, dim)
        if starts is None:
            _, fn = func.normalized()
            starts = Starts.typed(np.mean(np.asarray(fn.box, dtype=float), axis=1)[None, :])
        elif not isinstance(starts, Starts):
            starts = Starts.typed(starts)
        if isinstance(hooks, str | _hooks.Hook):
            hooks = [hooks]
        return cls(
            function=func,
            optimizers=optimizers,
            starts=starts,
            steps=steps,
            seed=seed,
            schedule=_schedule_text(schedule),
            hooks=tuple(_hook_text(h) for h in hooks or ()),
            noise=noise,
            noise_mode=noise_mode,
            delay=delay,
            batch=batch,
            dtype=dtype,
            error=tol_kind if tol_kind is not None else error,
            tol=1e-3 if tol is None else tol,
            rates=rates,
            limits=limits,
        )

    def build_function(self) -> _functions.TestFunction:
        """The scene's test-function object."""
        return self.function.build()

    def starts_array(self) -> np.ndarray:
        """The starting points, ``(n_points, dim)``."""
        return np.asarray(self.starts.points, dtype=float)

    def run_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the :func:`optviz.run` call that gives this scene's race.

        Every hyperparameter is given (``rates`` only labels the result: it filled them here);
        ``noise``, ``noise_mode`` and ``delay`` are passed only when they are not the defaults.
        The scene's typed rules are registered again (as its texts say) before it runs.
        """
        _typed.register_texts(self.rules)
        kw: dict[str, Any] = {
            "function": self.build_function(),
            "optimizers": {name: dict(hps) for name, hps in self.optimizers.items()},
            "rates": self.rates,
            "starts": self.starts_array(),
            "steps": self.steps,
            "seed": self.seed,
            "dtype": self.dtype,
            "schedule": self.schedule,
            "hooks": self.hooks,
        }
        if self.noise != 0.0:
            kw["noise"] = self.noise
        if self.noise_mode != "absolute":
            kw["noise_mode"] = self.noise_mode
        if self.delay != 0:
            kw["delay"] = self.delay
        if self.batch is not None:
            kw["batch"] = self.batch
        return kw

    def run(self, **overrides: Any):
        """Run the race: ``optviz.run(**self.run_kwargs(), **overrides)`` (e.g. ``backend=``)."""
        from optviz.engine.run import run

        return run(**{**self.run_kwargs(), **overrides})

    def show(self, **options: Any):
        """The live race in a notebook cell: ``optviz.race(self)`` (``pip install "optviz[notebook]"``)."""
        import importlib  # the notebook room sits above this one: reached by name, not imported

        return importlib.import_module("optviz.notebook").race(self, **options)

    def without(self, *names: str) -> Scene:
        """This scene without some optimizers (e.g. for a smaller link)."""
        return replace(self, optimizers={k: v for k, v in self.optimizers.items() if k not in names})

    def with_rates(self, rates: str) -> Scene:
        """This scene under another rates policy: each hyperparameter still at the current
        policy's value takes the new policy's; values someone set stay."""
        new = _rates.check_rates(rates)
        fname, fdim, fparams = self.function.rate_key()
        optimizers = {}
        for name, hps in self.optimizers.items():
            old = _rates.defaults(name, fname, fdim, self.rates, params=fparams)
            fresh = _rates.defaults(name, fname, fdim, new, params=fparams)
            optimizers[name] = {k: fresh[k] if v == old[k] else v for k, v in hps.items()}
        return replace(self, optimizers=optimizers, rates=new)

    # -------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON types): every value explicit."""
        return {
            "version": self.version,
            "function": self.function.to_dict(),
            "optimizers": {name: dict(hps) for name, hps in self.optimizers.items()},
            "starts": self.starts.to_dict(),
            "steps": self.steps,
            "seed": self.seed,
            "schedule": self.schedule,
            "hooks": list(self.hooks),
            "noise": self.noise,
            "noise_mode": self.noise_mode,
            "delay": self.delay,
            **({"batch": self.batch} if self.batch is not None else {}),
            "dtype": self.dtype,
            "view": {"error": self.error, "tol": self.tol},
            "rates": self.rates,
            **({"rules": dict(self.rules)} if self.rules else {}),
        }

    @classmethod
    def from_dict(cls, data: Any, *, limits: Limits = LIMITS) -> Scene:
        """A scene from :meth:`to_dict`'s form, checked key by key. Missing keys take their
        defaults (except ``function``, ``optimizers`` and ``starts``); a missing ``rates`` is
        ``"tuned"``, or in a version-1 scene ``"article"`` (the registry's values, as it was made)."""
        data = _mapping(data, "")
        if "version" not in data:
            raise ValueError("version: missing; is this an optviz scene?")
        version = _integer(data["version"], "version", low=1)
        if version > VERSION:  # before anything else: a newer format may have keys we don't know
            raise ValueError(
                f"version: this scene was saved by a newer optviz (scene version {version}); "
                f"this optviz reads scene versions up to {VERSION}: update optviz to open it"
            )
        known = (
            "version",
            "function",
            "optimizers",
            "starts",
            "steps",
            "seed",
            "schedule",
            "hooks",
            "noise",
            "noise_mode",
            "delay",
            "batch",
            "dtype",
            "view",
            "rates",
            "rules",
        )
        _no_extra(data, known, "")
        for key in ("function", "optimizers", "starts"):
            if key not in data:
                raise ValueError(f"{key}: missing")
        view = _mapping(data.get("view", {}), "view")
        _no_extra(view, ("error", "tol"), "view")
        opts = data["optimizers"]
        if isinstance(opts, list):
            opts = {_text(n, f"optimizers[{i}]"): {} for i, n in enumerate(opts)}
        opts = _mapping(opts, "optimizers")
        optimizers = {
            name: _mapping({} if hps is None else hps, f"optimizers.{name}") for name, hps in opts.items()
        }
        hooks = data.get("hooks", [])
        if not isinstance(hooks, list):
            raise ValueError(f"hooks: expected a list of texts, got {_show(hooks)}")
        return cls(
            function=SceneFunction.from_dict(data["function"]),
            optimizers=optimizers,  # type: ignore[arg-type]
            starts=Starts.from_dict(data["starts"], limits=limits),
            steps=data.get("steps", 300),
            seed=data.get("seed", 0),
            schedule=data.get("schedule", "constant"),
            hooks=tuple(hooks),
            noise=data.get("noise", 0.0),
            noise_mode=data.get("noise_mode", "absolute"),
            delay=data.get("delay", 0),
            batch=data.get("batch"),
            dtype=data.get("dtype", "float64"),
            error=view.get("error", "auto"),
            tol=view.get("tol", 1e-3),
            rates=data.get("rates", V1_RATES if version == 1 else _rates.DEFAULT),
            rules=data.get("rules", {}),
            version=version,
            limits=limits,
        )

    def to_json(self, indent: int | None = 2) -> str:
        """JSON text (floats as ``repr``: exact); a point's numbers stay on one line
        (:func:`optviz.scene.codec.dumps`)."""
        return codec.dumps(self.to_dict(), indent)

    @classmethod
    def from_json(cls, text: str | bytes, *, limits: Limits = LIMITS) -> Scene:
        """A scene from JSON text; ValueError (naming the key) for anything malformed."""
        return cls.from_dict(codec.loads(text), limits=limits)

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_json` to ``path`` (through a temporary file: never half-written; the
        file gets the permissions of any new file, the umask's, not a temporary file's 0600)."""
        return codec.write_atomic(path, self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike, *, limits: Limits = LIMITS) -> Scene:
        """Read a scene file written by :meth:`save`."""
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > MAX_JSON_CHARS * 4:
                raise ValueError(f"{path}: too large for a scene ({size:,} bytes)")
            with open(path, "rb") as fh:  # bounded: /dev/zero or a pipe reports no size
                data = fh.read(MAX_JSON_CHARS * 4 + 1)
            if len(data) > MAX_JSON_CHARS * 4:
                raise ValueError(f"{path}: too large for a scene (over {MAX_JSON_CHARS * 4:,} bytes)")
        except OSError as exc:
            raise ValueError(f"{path}: cannot read the scene ({exc.strerror or exc})") from None
        return cls.from_json(data, limits=limits)

    # -------------------------------------------------------------- URL query
    def to_query(self) -> dict[str, str]:
        """A compact ``str -> str`` mapping for a URL (``st.query_params``); see :meth:`from_query`
        and :func:`optviz.scene.codec.to_query`."""
        return codec.to_query(self)

    @classmethod
    def from_query(
        cls,
        query: Mapping[str, Any],
        *,
        limits: Limits = SERVER_LIMITS,
        ignore: Iterable[str] = STREAMLIT_QUERY_KEYS,
    ) -> Scene:
        """A scene from :meth:`to_query`'s mapping (e.g. ``st.query_params``): the keys are
        :func:`optviz.scene.codec.query_data`'s; keys in ``ignore`` are skipped, any other unknown
        key is an error. Sizes are bounded by :data:`SERVER_LIMITS` unless ``limits`` says
        otherwise. A version-1 link (``v=1``) reads as it was made: values left out are the
        registry's (``rates="article"``), and a bare lower-case group key (``adam``) is the group.
        """
        return cls.from_dict(codec.query_data(query, ignore), limits=limits)

__all__ = ["LIMITS", "SERVER_LIMITS", "VERSION", "Limits", "Scene", "SceneFunction", "Starts"]

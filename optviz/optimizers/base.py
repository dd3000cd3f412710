"""The shape every update rule shares, and the registry that describes them.

An update rule is two small pure functions, in the style of optax:

    init(params, hp)                       -> state        (a NamedTuple of arrays)
    update(grads, state, params, hp, ctx)  -> (updates, state)

``params`` and ``grads`` are arrays of shape ``(n_points, dim)``; ``updates`` is what the
engine adds to ``params``.  ``hp`` maps each hyperparameter name to either a Python float
or an array of shape ``(n_points, 1)`` (one value per point), so a sweep is a single run.
``ctx`` (:class:`StepContext`) carries what some rules need beyond the gradient: the step
number, the total number of steps, the loss values, the function's minimum value, a
gradient oracle at other points (NAG), seeded noise (Santa) and, under a gradient delay, the
position where the gradient was taken (DCASGD).

**One definition of the maths.** Each rule writes its arithmetic once, as small functions of
named quantities (:class:`Maths`): what is computed once per step (a bias-corrected step
size), once per point (Eve's loss feedback), and per coordinate (the moments and the update).
They use only arithmetic and :mod:`functions.elementwise`, so the readable path applies
them to whole arrays (:func:`make_update`, whatever the array library) and the compiled fast
path (:mod:`optviz.engine.fast`) inlines the very same functions into its kernels. Arguments are
matched by name: a function asking for ``beta1`` gets that hyperparameter, ``m`` that state
field, ``g`` the gradient, ``t`` the step number.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from array_api_compat import array_namespace

Array = Any  # an array of whatever namespace the run uses
Hyper = Mapping[str, Any]  # hyperparameter name -> float or (n_points, 1) array


class StepContext(NamedTuple):
    """What the engine tells a rule at step ``t`` besides the gradient.

    Attributes:
        t: step number, starting at 1.
        total_steps: the run's number of steps (Santa's ``N``).
        loss: ``f(w_{t-1})`` for each point, shape ``(n_points,)`` (Eve).
        fstar: the function's minimum value, or ``None`` when it has none (Eve).
        grad_fn: gradient (after hooks) at any array of points, for look-ahead rules (NAG).
        noise: ``noise(name, when)`` gives standard-normal draws of shape ``(n_points, dim)``
            for the rule's draw ``name`` at this step, zero where ``when`` is False (Santa).
        w_grad: where the gradient was taken (``None``: at the params themselves).
        delay: the run's gradient delay in steps (0: fresh gradients).
        values: the rule's per-step values at this step (``Maths.per_step``'s outputs), read
            from the run's table (:mod:`optviz.engine.steptable`); ``None``: computed here, by
            :func:`step_env`.
    """

    t: int
    total_steps: int
    loss: Array
    fstar: float | None
    grad_fn: Callable[[Array], Array]
    noise: Callable[[str, Any], Array]
    w_grad: Array | None = None
    delay: int = 0
    values: Mapping[str, Any] | None = None


InitFn = Callable[[Array, Hyper], NamedTuple]
UpdateFn = Callable[[Array, Any, Array, Hyper, StepContext], "tuple[Array, Any]"]


class Rule(NamedTuple):
    """An update rule: the optax ``GradientTransformation`` pair, with hyperparameters explicit."""

    init: InitFn
    update: UpdateFn


# ---------------------------------------------------------------------- one definition
@dataclass(frozen=True)
class Stage:
    """A function of named quantities and the names of what it returns."""

    fn: Callable[..., Any]
    outputs: tuple[str, ...]
    args: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", _arg_names(self.fn))

    def __call__(self, env: Mapping[str, Any]) -> tuple[Any, ...]:
        out = self.fn(*[env[a] for a in self.args])
        return out if len(self.outputs) != 1 else (out,)


def stage(fn: Callable[..., Any], *outputs: str) -> Stage:
    """``fn`` computes ``outputs`` (one value each) from the quantities its parameters name."""
    return Stage(fn, tuple(outputs))


_ARGS: dict[Callable, tuple[str, ...]] = {}


def _arg_names(fn: Callable) -> tuple[str, ...]:
    if fn not in _ARGS:
        _ARGS[fn] = tuple(inspect.signature(fn).parameters)
    return _ARGS[fn]


#: Quantities the engine provides (besides hyperparameters, state fields and stage outputs).
PROVIDED = {
    "t": "step number, 1, 2, …",
    "T": "the run's number of steps",
    "g": "the gradient coordinate (after noise and hooks)",
    "w": "the position coordinate before the step",
    "f": "f at the position before the step, per point",
    "fstar": "the function's minimum value (0 when it has none)",
    "w_grad": "where the gradient was taken (w, or a stale position under delay)",
    "delay": "the run's gradient delay in steps",
    "tiny": "the smallest normal number of the run's dtype",
}


@dataclass(frozen=True)
class Maths:
    """A rule's arithmetic, written once (see the module docstring).

    Attributes:
        state: the NamedTuple class of the rule's state.
        per_coord: computes ``(update, *new coordinate fields)`` for one coordinate; its
            outputs name the update first (``"update"``) then the state fields it sets.
        per_step: stages computed once per step from ``t``, ``T`` and the hyperparameters
            (learning rates already scaled by the schedule), e.g. a bias-corrected step size.
        per_point: stages computed once per point and step (they may read ``f``, ``fstar``,
            per-point state fields and per-step values); their outputs may set point fields.
        init: a field's initial value: a number, ``"w"`` (a copy of the starting point), or a
            :class:`Stage` of hyperparameters (one value per point). Unlisted fields start at 0.
        point_fields: state fields holding one value per point (shape ``(n, 1)``), not one per
            coordinate.
        grad_at: a stage giving, per coordinate, the position where the gradient is taken
            (NAG's look-ahead point); ``None``: at the position itself.
        noise: standard-normal draws the rule takes, name -> a stage saying when (per point)
            the draw is made (zero otherwise). Draws come from the run's seed, keyed by
            (seed, optimizer, start, step, draw, coordinate).
        reduce: per-point sums over the point's coordinates (norms, dot products): each stage
            gives a term per coordinate (from the gradient, the position, the state before the
            step, hyperparameters, per-step and per-point values); each of its outputs is the sum
            of its terms over the coordinates, in coordinate order, one value per point, read by
            ``per_coord`` (a norm is ``sqrt`` of the sum of ``g * g``).
    """

    state: type
    per_coord: Stage
    per_step: tuple[Stage, ...] = ()
    per_point: tuple[Stage, ...] = ()
    init: Mapping[str, Any] = field(default_factory=dict)
    point_fields: frozenset[str] = frozenset()
    grad_at: Stage | None = None
    noise: Mapping[str, Stage] = field(default_factory=dict)
    reduce: tuple[Stage, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.state._fields)

    @property
    def coord_fields(self) -> tuple[str, ...]:
        return tuple(f for f in self.fields if f not in self.point_fields)

    def needs(self, name: str) -> bool:
        """Whether any stage asks for the quantity ``name``."""
        return name in self.uses

    @functools.cached_property
    def uses(self) -> frozenset[str]:
        """Every quantity some stage asks for."""
        stages = (self.per_coord, *self.per_step, *self.per_point, *self.noise.values(), *self.reduce)
        extra = (self.grad_at,) if self.grad_at is not None else ()
        return frozenset(a for st in (*stages, *extra) for a in st.args)

    def stages(self) -> tuple[Stage, ...]:
        init = tuple(v for v in self.init.values() if isinstance(v, Stage))
        extra = (self.grad_at,) if self.grad_at is not None else ()
        return (*self.per_step, *self.per_point, *self.noise.values(), *extra, *self.reduce, self.per_coord,
                *init)


def _full(params: Array, value: Any, point: bool) -> Array:
    xp = xpo(params)
    like = params[:, :1] if point else params
    if isinstance(value, float | int):
        return xp.full(like.shape, float(value), dtype=params.dtype)
    return xp.ones_like(like) * value


def make_init(m: Maths) -> InitFn:
    """The rule's ``init(params, hp)``: every field at its initial value (0 unless listed)."""

    def init(params: Array, hp: Hyper) -> NamedTuple:
        values = {}
        for name in m.fields:
            spec = m.init.get(name, 0.0)
            point = name in m.point_fields
            if isinstance(spec, str) and spec == "w":
                values[name] = params
            elif isinstance(spec, Stage):
                values[name] = _full(params, spec({**hp})[0], point)
            else:
                values[name] = _full(params, spec, point)
        return m.state(**values)

    return init


def step_env(m: Maths, hp: Hyper, t: int, total: int) -> dict[str, Any]:
    """Hyperparameters plus the per-step values at step ``t`` (floats, or per-point arrays)."""
    env: dict[str, Any] = {"t": t if hasattr(t, "shape") else float(t), "T": float(total), **hp}
    for s in m.per_step:
        env.update(zip(s.outputs, s(env), strict=True))
    return env


def make_update(m: Maths) -> UpdateFn:
    """The rule's readable ``update``: the stages of ``m`` applied to whole arrays."""
    wants_f = m.needs("f") or m.needs("fstar")
    wants_tiny = m.needs("tiny")

    def update(g: Array, state: Any, w: Array, hp: Hyper, ctx: StepContext):
        if ctx.values is None:
            env = step_env(m, hp, ctx.t, ctx.total_steps)
        else:
            env = {"t": float(ctx.t), "T": float(ctx.total_steps), **hp, **ctx.values}
        env.update(state._asdict())
        env["w"] = w
        if wants_f:
            env["f"] = xpo(w).reshape(ctx.loss, (-1, 1))
            env["fstar"] = 0.0 if ctx.fstar is None else float(ctx.fstar)
        if wants_tiny:
            env["tiny"] = float(xpo(w).finfo(w.dtype).smallest_normal)
        for s in m.per_point:
            env.update(zip(s.outputs, s(env), strict=True))
        if m.grad_at is not None:
            (q,) = m.grad_at(env)
            g = ctx.grad_fn(q)
            env["w_grad"] = q
        else:
            env["w_grad"] = w if ctx.w_grad is None else ctx.w_grad
        env["g"], env["delay"] = g, ctx.delay
        for name, when in m.noise.items():
            env[name] = ctx.noise(name, when(env)[0])
        for s in m.reduce:
            env.update(zip(s.outputs, (coordinate_sum(v, w) for v in s(env)), strict=True))
        delta, *new = m.per_coord(env)
        env.update(zip(m.per_coord.outputs[1:], new, strict=True))
        # a field a stage set to a plain number (e.g. Eve's d̃ = 1 at t = 1) becomes an array again
        return delta, m.state(**{f: env[f] if not isinstance(env[f], float | int)
                                 else _full(w, env[f], f in m.point_fields) for f in m.fields})

    update.__doc__ = m.per_coord.fn.__doc__
    update.__name__ = update.__qualname__ = m.per_coord.fn.__name__
    return update


def coordinate_sum(term: Any, w: Array) -> Array:
    """The sum over each point's coordinates of ``term`` (a value per coordinate, or one for all of
    them), in coordinate order as the compiled kernels add: shape ``(n_points, 1)``."""
    xp = xpo(w)
    if not hasattr(term, "shape") or term.shape != w.shape:
        term = xp.broadcast_to(xp.asarray(term, dtype=w.dtype), w.shape)
    total = term[:, 0:1]
    for j in range(1, w.shape[1]):
        total = total + term[:, j:j + 1]
    return total


# ---------------------------------------------------------------------- hyperparameters
@dataclass(frozen=True)
class HyperParam:
    """One hyperparameter: its default, the closed range it may take, and how to show it.

    ``lr`` marks a step size: learning-rate schedules scale it and sliders show it on a log
    scale.  ``log`` asks for a log-scaled slider.  ``integer`` values are rounded on input.
    ``scheduled=False`` marks a step size that the run's schedule leaves alone (a schedule-free
    rule's: it is tuned and swept like any rate, but it makes its own schedule).
    """

    name: str
    default: float
    low: float
    high: float
    log: bool = False
    lr: bool = False
    integer: bool = False
    help: str = ""
    scheduled: bool = True

    def check(self, value: float, owner: str) -> float:
        """Return ``value`` as a float, or raise ``ValueError`` saying what was expected."""
        try:
            v = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(
                f"{owner}.{self.name} must be a number in [{self.low:g}, {self.high:g}], "
                f"got {str(value)[:40]!r}"
            ) from None
        if not math.isfinite(v) or not (self.low <= v <= self.high):
            raise ValueError(
                f"{owner}.{self.name} must be in [{self.low:g}, {self.high:g}], got {v:g}"
            )
        return float(round(v)) if self.integer else v


def lr(name: str, default: float, low: float = 1e-7, high: float = 10.0, help: str = "") -> HyperParam:
    """A learning rate: log-scaled, scaled by schedules."""
    return HyperParam(name, default, low, high, log=True, lr=True, help=help or "step size")


def decay(name: str, default: float, help: str = "") -> HyperParam:
    """An averaging coefficient in [0, 1)."""
    return HyperParam(name, default, 0.0, 0.99999, help=help or "decay rate of a moving average")


def eps(name: str, default: float, low: float = 0.0, high: float = 1.0, help: str = "") -> HyperParam:
    """A small constant added for numerical safety."""
    return HyperParam(name, default, low, high, log=True, help=help or "numerical-safety constant")


# ---------------------------------------------------------------------- the registry
@dataclass(frozen=True)
class OptimizerSpec:
    """A registered optimizer: its maths, rule, hyperparameters and provenance.

    ``needs`` names what the rule takes from the engine beyond the gradient at its position:
    ``"lookahead"`` (the gradient is taken elsewhere, so the engine does not compute it at
    ``w`` for it), ``"loss"`` (f every step), ``"noise"`` (seeded draws).
    """

    name: str
    family: str
    maths: Maths
    rule: Rule
    hyperparams: tuple[HyperParam, ...]
    reference: str
    summary: str
    needs: frozenset[str] = field(default_factory=frozenset)

    @property
    def defaults(self) -> dict[str, float]:
        return {h.name: h.default for h in self.hyperparams}

    def hyperparam(self, name: str) -> HyperParam:
        for h in self.hyperparams:
            if h.name == name:
                return h
        valid = ", ".join(h.name for h in self.hyperparams)
        raise KeyError(f"{self.name} has no hyperparameter {str(name)[:40]!r}; valid: {valid}")

    @property
    def doc(self) -> str:
        """The rule's docstring: its formula and reference."""
        return self.maths.per_coord.fn.__doc__ or ""


REGISTRY: dict[str, OptimizerSpec] = {}


def register(
    name: str,
    *,
    family: str,
    maths: Maths,
    hyperparams: list[HyperParam],
    reference: str,
    summary: str,
) -> OptimizerSpec:
    """Add an optimizer to :data:`REGISTRY` and return its spec."""
    if name in REGISTRY:
        raise ValueError(f"optimizer {name!r} registered twice")
    hp_names = {h.name for h in hyperparams}
    known = hp_names | set(maths.fields) | set(PROVIDED) | set(maths.noise)
    for s in maths.stages():
        known |= set(s.outputs)
    for s in maths.stages():
        missing = set(s.args) - known
        if missing:
            raise ValueError(f"{name}: {s.fn.__name__} asks for unknown {sorted(missing)}")
    needs = set()
    if maths.grad_at is not None:
        needs.add("lookahead")
    if maths.needs("f"):
        needs.add("loss")
    if maths.noise:
        needs.add("noise")
    spec = OptimizerSpec(
        name=name,
        family=family,
        maths=maths,
        rule=Rule(make_init(maths), make_update(maths)),
        hyperparams=tuple(hyperparams),
        reference=reference,
        summary=summary,
        needs=frozenset(needs),
    )
    REGISTRY[name] = spec
    return spec


def zeros_like(x: Array) -> Array:
    """Zeros of ``x``'s shape, dtype and device, from ``x``'s namespace."""
    return xpo(x).zeros_like(x)


_UFUNCS: dict[type, Any] = {}


def ufuncs(x: Array):
    """The module whose ufuncs take ``out=`` for ``x`` (numpy or cupy), or None for others."""
    kind = type(x)
    if kind not in _UFUNCS:
        top = kind.__module__.split(".")[0]
        _UFUNCS[kind] = None
        if top in ("numpy", "cupy"):
            import importlib

            _UFUNCS[kind] = importlib.import_module(top)
    return _UFUNCS[kind]


_NAMESPACES: dict[type, Any] = {}


def xpo(x: Array):
    """The array namespace of ``x`` (short name used by every rule), cached per array type."""
    ns = _NAMESPACES.get(type(x))
    if ns is None:
        ns = _NAMESPACES[type(x)] = array_namespace(x)
    return ns

"""The shape every update rule shares, and the registry that describes them.

An update rule is two small pure functions, in the style of optax:

    init(params, hp)                       -> state        (a NamedTuple of arrays)
    update(grads, state, params, hp, ctx)  -> (updates, state)

``params`` and ``grads`` are arrays of shape ``(n_points, dim)``; ``updates`` is what the
engine adds to ``params``.  ``hp`` maps each hyperparameter name to either a Python float
or an array of shape ``(n_points, 1)`` (one value per point), so a sweep is a single run.
``ctx`` (:class:`StepContext`) carries what some rules need beyond the gradient: the step
number, the total number of steps, the loss values, the function's minimum value, a
gradient oracle at other points (NAG) and a seeded noise source (Santa).

Rules take their array module from their inputs (``array_api_compat``), so one code path
serves NumPy, CuPy and any array-API namespace.
"""

from __future__ import annotations

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
        loss: ``f(w_t)`` for each point, shape ``(n_points,)`` (Eve).
        fstar: the function's minimum value, or ``None`` when it has none (Eve).
        grad_fn: gradient (after hooks) at any array of points, for look-ahead rules (NAG).
        noise: draws standard-normal noise of shape ``(n_points, dim)`` from the run's seeded
            stream for this optimizer (Santa).
    """

    t: int
    total_steps: int
    loss: Array
    fstar: float | None
    grad_fn: Callable[[Array], Array]
    noise: Callable[[], Array]


InitFn = Callable[[Array, Hyper], NamedTuple]
UpdateFn = Callable[[Array, Any, Array, Hyper, StepContext], "tuple[Array, Any]"]


FusedFn = Callable[[Array, Any, Array, Hyper, StepContext, Array], "tuple[Array, Any]"]


class Rule(NamedTuple):
    """An update rule: the optax ``GradientTransformation`` pair, with hyperparameters explicit.

    ``fused`` is an optional fast path for the same maths, as ``torch.optim`` keeps a fused
    kernel beside its readable loop: ``fused(grads, state, params, hp, ctx, out)`` writes the
    update into ``out`` and updates ``state``'s arrays in place, with NumPy/CuPy ufuncs
    (``out=``), so a step allocates nothing. Tests hold it equal to ``update``.
    """

    init: InitFn
    update: UpdateFn
    fused: FusedFn | None = None


@dataclass(frozen=True)
class HyperParam:
    """One hyperparameter: its default, the closed range it may take, and how to show it.

    ``lr`` marks a step size: learning-rate schedules scale it and sliders show it on a log
    scale.  ``log`` asks for a log-scaled slider.  ``integer`` values are rounded on input.
    """

    name: str
    default: float
    low: float
    high: float
    log: bool = False
    lr: bool = False
    integer: bool = False
    help: str = ""

    def check(self, value: float, owner: str) -> float:
        """Return ``value`` as a float, or raise ``ValueError`` saying what was expected."""
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"{owner}.{self.name} must be a number in [{self.low:g}, {self.high:g}], "
                f"got {value!r}"
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


@dataclass(frozen=True)
class OptimizerSpec:
    """A registered optimizer: its rule, hyperparameters and provenance.

    ``needs`` names what the rule takes from :class:`StepContext` beyond the gradient:
    ``"lookahead"`` (the engine does not compute the gradient at ``w_t`` for it),
    ``"loss"``, ``"noise"``.
    """

    name: str
    family: str
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
        raise KeyError(f"{self.name} has no hyperparameter {name!r}; valid: {valid}")

    @property
    def doc(self) -> str:
        """The rule's docstring: its formula and reference."""
        return self.rule.update.__doc__ or ""


REGISTRY: dict[str, OptimizerSpec] = {}


def register(
    name: str,
    *,
    family: str,
    init: InitFn,
    update: UpdateFn,
    hyperparams: list[HyperParam],
    reference: str,
    summary: str,
    needs: tuple[str, ...] = (),
    fused: FusedFn | None = None,
) -> OptimizerSpec:
    """Add an optimizer to :data:`REGISTRY` and return its spec."""
    if name in REGISTRY:
        raise ValueError(f"optimizer {name!r} registered twice")
    spec = OptimizerSpec(
        name=name,
        family=family,
        rule=Rule(init, update, fused),
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

"""Library optimizers in the race: :func:`from_optax` and :func:`from_torch`.

An adapter registers a library's optimizer under a name, like a built-in: it races on the same
starts, seeds, gradient noise, delay, schedules and hooks (the engine computes the gradient it is
given, as for every rule), appears in results, tables, curves, basins and sweeps, and
:func:`optviz.conformance` checks it against any rule step by step. All starts step at once:

- **optax**: every start is its own parameter vector, under ``jax.vmap`` (one jitted call per
  step); per-tensor quantities (norms, trust ratios) are per start, as they should be. A
  transform made by ``optax.inject_hyperparams`` exposes its numeric hyperparameters: they can be
  swept (one value per start) and a ``learning_rate`` is scaled by the race's schedule.
  JAX runs in float64 (``jax_enable_x64`` is switched on).
- **torch.optim**: an elementwise optimizer (SGD, Adam, AdamW, Adamax, NAdam, RAdam, RMSprop, Rprop,
  Adagrad, Adadelta, ASGD) steps one ``(n, d)`` parameter holding every start; any other steps
  each start as a parameter group of its own (``per_point=True``: right for per-tensor norms,
  slower). The spec's :attr:`AdapterSpec.mode` and its summary say which.

Adapters run on the readable path only (the compiled kernels inline formulas, not libraries), with
the NumPy backend. Their own random draws (``optax.noisy_sgd``) are not keyed by optviz's seed.

The documented mappings to the built-ins (checked in ``tests/test_adapters.py``): with ε = 0,
``Adam(alpha=a, beta1=b1, beta2=b2, eps=0)`` equals ``from_optax(optax.adam(a, b1, b2, eps=0))`` and
``from_torch(torch.optim.Adam, lr=a, betas=(b1, b2), eps=0)``. (optviz's Adam puts ε under the root;
optax's ``eps_root`` does too but after bias correction, torch's ε is outside it.)
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from optviz.optimizers import custom
from optviz.optimizers.base import REGISTRY, HyperParam, Maths, OptimizerSpec, Rule, stage

#: torch.optim classes whose step is elementwise: one (n, d) parameter is exact for them.
TORCH_ELEMENTWISE = frozenset({"SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Rprop",
                               "Adagrad", "Adadelta", "ASGD"})
#: Hyperparameter names taken as learning rates (scheduled).
LR_NAMES = ("learning_rate", "lr", "step_size")


@dataclass(frozen=True)
class AdapterSpec(OptimizerSpec):
    """A library optimizer's spec: ``mode`` says how its starts are stepped; ``recipe`` how another
    process (a Dask worker) builds it again (:func:`optviz.optimizers.custom.shipment`)."""

    mode: str = ""
    recipe: custom.Recipe | None = field(default=None, compare=False, repr=False)


class NoState(NamedTuple):
    """An adapter keeps its library's state itself; nothing is recorded per field."""


def _library(g):
    """A library's optimizer (an adapter): it runs on the readable path only."""
    return g


def _hyperparam(name: str, value: float, given: dict[str, Any]) -> HyperParam:
    if name in given:
        return custom.hyperparam(name, given[name], owner="adapter")
    is_lr = name in LR_NAMES
    if is_lr:
        return HyperParam(name, value, min(1e-9, value), max(10.0, value), log=True, lr=True,
                          help="learning rate")
    high = 1.0 if 0.0 <= value <= 1.0 else max(10.0 * abs(value), 1.0)
    return HyperParam(name, value, min(0.0, value), high)


def _register(name: str, init: Any, update: Any, hps: list[HyperParam], reference: str, summary: str,
              mode: str, doc: str, recipe: custom.Recipe) -> AdapterSpec:
    name = custom.check_name(name)
    marker = type(_library)(_library.__code__, _library.__globals__, _library.__name__)
    marker.__doc__ = doc
    spec = AdapterSpec(name=name, family="adapter", maths=Maths(NoState, stage(marker, "update")),
                       rule=Rule(init, update), hyperparams=tuple(hps), reference=reference, summary=summary,
                       needs=frozenset({"adapter"}), mode=mode, recipe=recipe)
    _dry_run(spec)
    with custom.LOCK:
        if name in REGISTRY and name not in custom.USER:
            raise custom.RuleError(f"rule name {name!r}: {name} is a built-in optimizer; choose another name")
        REGISTRY[name] = spec
        custom.USER[name] = "adapter"
    return spec


def _dry_run(spec: AdapterSpec) -> None:
    from optviz.optimizers.base import StepContext

    W = custom.DRY_STARTS.copy()
    hp = spec.defaults
    try:
        state = spec.rule.init(W, hp)
        for t in (1, 2):
            ctx = StepContext(t, 2, np.sum(W * W, axis=1), 0.0, lambda q: 2 * q, lambda _n, _w: 0.0)
            delta, state = spec.rule.update(2 * W, state, W, hp, ctx)
            delta = np.asarray(delta)
            if delta.shape != W.shape or not np.all(np.isfinite(delta)):
                raise custom.RuleError(f"{spec.name}: the library's update at step {t} of the dry run on two "
                                       f"starts has shape {delta.shape} or is not finite")
            W = W + delta
    except custom.RuleError:
        raise
    except Exception as exc:
        raise custom.RuleError(f"{spec.name}: the dry run on two starts failed: {type(exc).__name__}: "
                               f"{str(exc)[:200]}") from None


def _per_point(hp: dict[str, Any], names: list[str], n: int) -> dict[str, np.ndarray]:
    """Each named hyperparameter as one value per point, shape (n,)."""
    return {k: np.broadcast_to(np.asarray(hp[k], dtype=float).reshape(-1), (n,)).copy() for k in names}


# ---------------------------------------------------------------------- optax
def from_optax(transform: Any, name: str, *, hyperparams: dict[str, Any] | None = None,
               summary: str = "") -> AdapterSpec:
    """Register an optax ``GradientTransformation`` as optimizer ``name`` (see the module docstring).

    Args:
        transform: e.g. ``optax.adam(1e-3)``, or ``optax.inject_hyperparams(optax.adam)(learning_rate=1e-3)``
            to sweep and schedule its hyperparameters.
        name: the name it races under (not a built-in's).
        hyperparams: ranges for injected hyperparameters, name -> ``(default, low, high)`` (default:
            learning rates in [1e-9, 10], values in [0, 1] there, others [0, 10 × value]).
        summary: one line for listings.
    """
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    if not (hasattr(transform, "init") and hasattr(transform, "update")):
        raise custom.RuleError(f"from_optax: expected an optax GradientTransformation, got "
                               f"{type(transform).__name__}")
    probe = transform.init(jnp.zeros(2))
    injected = getattr(probe, "hyperparams", None)
    given = dict(hyperparams or {})
    names = [k for k, v in (injected or {}).items() if np.ndim(v) == 0 and np.issubdtype(np.asarray(v).dtype,
                                                                                          np.number)]
    hps = [_hyperparam(k, float(injected[k]), given) for k in names]
    vinit = jax.vmap(transform.init)

    def step(g, state, w, hpv):
        if names:
            state = state._replace(hyperparams={**state.hyperparams, **hpv})
        return transform.update(g, state, w)

    vstep = jax.jit(jax.vmap(step))

    def init(params, hp):
        state = vinit(jnp.asarray(params))
        if names:
            n = params.shape[0]
            values = {k: jnp.asarray(v) for k, v in _per_point(hp, names, n).items()}
            state = state._replace(hyperparams={**state.hyperparams, **values})
        return state

    def update(g, state, w, hp, ctx):
        hpv = {k: jnp.asarray(v) for k, v in _per_point(hp, names, w.shape[0]).items()}
        u, state = vstep(jnp.asarray(g), state, jnp.asarray(w), hpv)
        return np.asarray(u, dtype=w.dtype), state

    label = getattr(transform, "__name__", None) or type(transform).__name__
    doc = (f"optax transform {label} (an adapter: every start its own parameter vector, under jax.vmap)."
           + (f" Injected hyperparameters: {', '.join(names)}." if names else ""))
    recipe = custom.Recipe(from_optax, (transform, name), {"hyperparams": hyperparams, "summary": summary})
    return _register(name, init, update, hps, "optax", summary or "an optax transform (adapter)",
                     "optax: vmap over starts", doc, recipe)


# ---------------------------------------------------------------------- torch.optim
class _TorchState:
    """The parameter(s) and the optimizer of a torch adapter."""

    def __init__(self, params: list, optimizer: Any):
        self.params, self.optimizer = params, optimizer


def from_torch(optimizer_class: Any, name: str, *, per_point: bool | None = None, summary: str = "",
               **kwargs: Any) -> AdapterSpec:
    """Register a ``torch.optim`` optimizer class as optimizer ``name`` (see the module docstring).

    Args:
        optimizer_class: e.g. ``torch.optim.Adam``.
        name: the name it races under (not a built-in's).
        per_point: step each start as a parameter group of its own (default: only for classes
            not in :data:`TORCH_ELEMENTWISE`); needed for one value per start of a hyperparameter.
        kwargs: the optimizer's settings, e.g. ``lr=1e-3, betas=(0.9, 0.999)``. ``lr`` and numeric
            settings become hyperparameters (``lr`` scheduled); tuples stay fixed.
    """
    import torch

    cls_name = getattr(optimizer_class, "__name__", str(optimizer_class))
    if not (inspect.isclass(optimizer_class) and issubclass(optimizer_class, torch.optim.Optimizer)):
        raise custom.RuleError(f"from_torch: expected a torch.optim.Optimizer class, got {cls_name[:40]}")
    if cls_name == "LBFGS":
        raise custom.RuleError("from_torch: LBFGS needs a closure that re-evaluates the loss; it cannot race")
    if per_point is None:
        per_point = cls_name not in TORCH_ELEMENTWISE
    defaults = {k: p.default for k, p in inspect.signature(optimizer_class).parameters.items()
                if p.default is not inspect.Parameter.empty}
    settings = {**{k: v for k, v in defaults.items() if k == "lr"}, **kwargs}
    numeric = [k for k, v in settings.items() if isinstance(v, int | float) and not isinstance(v, bool)
               and math.isfinite(float(v))]
    hps = [_hyperparam(k, float(settings[k]), {}) for k in numeric]
    fixed = {k: v for k, v in settings.items() if k not in numeric}

    def init(params, hp):
        n = params.shape[0]
        values = _per_point(hp, numeric, n)
        if per_point:
            ps = [torch.tensor(params[i], dtype=torch.float64) for i in range(n)]
            groups = [{"params": [p], **fixed, **{k: float(values[k][i]) for k in numeric}}
                      for i, p in enumerate(ps)]
            return _TorchState(ps, optimizer_class(groups))
        for k in numeric:
            if np.ptp(values[k]) != 0:
                raise ValueError(f"{name}: one value of {k} per start needs from_torch(..., per_point=True)")
        p = torch.tensor(params, dtype=torch.float64)
        return _TorchState([p], optimizer_class([p], **fixed, **{k: float(values[k][0]) for k in numeric}))

    def update(g, state, w, hp, ctx):
        n = w.shape[0]
        values = _per_point(hp, numeric, n)
        w64 = np.asarray(w, dtype=np.float64)
        g64 = np.asarray(g, dtype=np.float64)
        with torch.no_grad():
            if per_point:
                for i, (p, group) in enumerate(zip(state.params, state.optimizer.param_groups, strict=True)):
                    p.copy_(torch.from_numpy(w64[i]))
                    p.grad = torch.from_numpy(g64[i].copy())
                    group.update({k: float(values[k][i]) for k in numeric})
            else:
                p = state.params[0]
                p.copy_(torch.from_numpy(w64))
                p.grad = torch.from_numpy(g64.copy())
                state.optimizer.param_groups[0].update({k: float(values[k][0]) for k in numeric})
            state.optimizer.step()
        new = np.stack([p.numpy() for p in state.params]) if per_point else state.params[0].numpy()
        return (new - w64).astype(w.dtype, copy=False), state

    mode = ("torch: one parameter group per start" if per_point
            else "torch: one (n, d) parameter (elementwise)")
    args = ", ".join(f"{k}={v!r}" for k, v in settings.items())
    doc = f"torch.optim.{cls_name}({args}) (an adapter; {mode})."
    recipe = custom.Recipe(from_torch, (optimizer_class, name),
                           {"per_point": per_point, "summary": summary, **kwargs})
    return _register(name, init, update, hps, "torch.optim", summary or f"torch.optim.{cls_name} ({mode})",
                     mode, doc, recipe)


__all__ = ["TORCH_ELEMENTWISE", "AdapterSpec", "from_optax", "from_torch"]

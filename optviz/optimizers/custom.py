"""Your own update rules, in the form the built-ins use: :func:`rule` (or ``@rule(...)``).

A rule is its arithmetic, written once as small functions of named quantities (see
:mod:`optviz.optimizers.base`): the per-coordinate update (required), values computed once per
step (a bias-corrected step size), once per point, and where the gradient is taken (look-ahead
methods). Arguments are matched by name: ``g`` the gradient, ``w`` the position, ``t`` the step,
a hyperparameter's or a state field's own name, or an output of a per-step or per-point function.
The same functions run on the readable path (whole arrays) and, inlined, in the compiled kernels,
so write them with ``+ - * / **`` and the functions of :mod:`functions.elementwise` (``sqrt``,
``where``, ``sign``, ``maximum``, ...)::

    from functions.elementwise import sqrt
    import optviz

    @optviz.rule(state=("m", "v"), hyperparams={"alpha": (1e-3, 1e-7, 10), "beta1": (0.9, 0, 0.99999),
                                                 "beta2": (0.999, 0, 0.99999), "eps": (1e-8, 0, 1)},
                 per_step={"alpha_t": lambda t, alpha, beta1, beta2:
                           alpha * sqrt(1 - beta2**t) / (1 - beta1**t)})
    def MyAdam(g, m, v, alpha_t, beta1, beta2, eps):
        r\"\"\"Adam, again: :math:`\\Delta_t = -\\alpha_t m_t/\\sqrt{v_t + \\varepsilon}`.\"\"\"
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        return -alpha_t * m / sqrt(v + eps), m, v

    optviz.run("rosenbrock", ["Adam", "MyAdam"], ...)

The update function returns the update (what is added to ``w``) and then the new value of each
state field, in the order ``state`` names them. A rule is checked when it is registered: the names
its functions ask for must exist, and a dry run on two starts must give arrays of the right shapes
and finite numbers; the message names the function or field at fault. Its docstring (the formula)
is shown where a built-in's is. A name may be registered again (a notebook cell run twice); a
built-in's name may not. ``optviz --rules FILE`` loads the rules a Python file registers
(:func:`load_file`): that is your own code, run on your own machine; a link, a scene file or the
page never names a Python file.
"""

from __future__ import annotations

import collections
import dataclasses
import keyword
import math
import re
import runpy
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from optviz.optimizers.base import (
    PROVIDED,
    REGISTRY,
    HyperParam,
    Maths,
    OptimizerSpec,
    Stage,
    StepContext,
    register,
    stage,
)

#: Users' rules by name -> "python" or "typed" (their kind); every other registered name is a built-in.
USER: dict[str, str] = {}
#: How a rule may be named: a letter, then letters, digits, ``_`` or ``-`` (at most 40 in all).
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_\-]{0,39}")
#: Hyperparameter names taken as learning rates (scaled by schedules, log-scaled sliders).
LR_NAMES = ("lr", "eta", "alpha", "learning_rate", "step_size")
#: The two starts of the dry run, and its number of steps.
DRY_STARTS = np.array([[0.7, -1.3], [-1.9, 0.4]])
DRY_STEPS = 3
LOCK = threading.RLock()

HyperSpec = HyperParam | float | tuple | list


class RuleError(ValueError):
    """A rule refused at registration: the message names the rule and the function or field at fault."""


def check_name(name: Any) -> str:
    """A user rule's name, checked: the pattern, and no built-in's (in any case)."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name.strip()):
        shown = repr(name)[:40]
        raise RuleError(f"rule name {shown}: use a letter, then letters, digits, _ or - (at most 40)")
    name = name.strip()
    for other in REGISTRY:
        if other.lower() == name.lower() and other not in USER:
            raise RuleError(f"rule name {name!r}: {other} is a built-in optimizer; choose another name")
        if other.lower() == name.lower() and other != name:
            raise RuleError(f"rule name {name!r}: a rule {other!r} exists; names differ by more than case")
    return name


def hyperparam(name: str, value: HyperSpec, owner: str = "rule") -> HyperParam:
    """A :class:`HyperParam` from ``(default, low, high)`` (or ``(default, low, high, "log")``) or
    a HyperParam; names in :data:`LR_NAMES` are learning rates (scheduled, log-scaled)."""
    if isinstance(value, HyperParam):
        return value
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise RuleError(f"{owner}: hyperparameter name {name!r} is not a name (letters, digits, _)")
    if isinstance(value, tuple | list) and len(value) in (3, 4):
        log = len(value) == 4 and value[3] == "log"
        if len(value) == 4 and not log:
            raise RuleError(f"{owner}.{name}: the fourth item may only be 'log', got {value[3]!r}")
        try:
            default, low, high = (float(v) for v in value[:3])
        except (TypeError, ValueError):
            raise RuleError(f"{owner}.{name}: expected numbers (default, low, high), got {value!r}") from None
    else:
        raise RuleError(f"{owner}.{name}: give (default, low, high), e.g. {name}=(0.9, 0, 0.999); "
                        f"got {value!r}")
    if not all(map(math.isfinite, (default, low, high))) or not low <= default <= high:
        raise RuleError(f"{owner}.{name}: need finite low <= default <= high, got {value!r}")
    is_lr = name in LR_NAMES
    return HyperParam(name, default, low, high, log=log or (is_lr and low > 0), lr=is_lr,
                      help="learning rate" if is_lr else "")


def _stages(spec: Mapping[Any, Callable] | Iterable | None, what: str, owner: str) -> tuple:
    """``{"out": fn}`` or ``{("a", "b"): fn}`` (or a list of Stages) as a tuple of stages."""
    if spec is None:
        return ()
    if isinstance(spec, Mapping):
        out = []
        for outputs, fn in spec.items():
            names = (outputs,) if isinstance(outputs, str) else tuple(outputs)
            if not callable(fn):
                raise RuleError(f"{owner}: {what}[{outputs!r}] is not a function")
            out.append(stage(fn, *names))
        return tuple(out)
    return tuple(spec)


def rule(name: str | Callable | None = None, update: Callable | None = None, *,
         state: Iterable[str] | Mapping[str, Any] = (),
         hyperparams: Mapping[str, HyperSpec] | Iterable[HyperParam] = (),
         per_step: Mapping[Any, Callable] | None = None,
         per_point: Mapping[Any, Callable] | None = None,
         point_fields: Iterable[str] = (),
         grad_at: Callable | None = None,
         reduce: Mapping[Any, Callable] | None = None,
         summary: str = "",
         reference: str = "your own rule",
         kind: str = "python") -> Any:
    """Register an update rule of your own; it races like a built-in (see the module docstring).

    Use it as a call, ``rule("MyAdam", my_update, state=..., hyperparams=...)``, or as a
    decorator, ``@rule(state=..., hyperparams=...)`` above ``def MyAdam(g, m, v, ...)`` (the
    function's name is the rule's unless ``name`` is given).

    Args:
        name: the rule's name (a letter, then letters, digits, ``_``, ``-``; not a built-in's).
        update: the per-coordinate function: returns the update, then each state field's new value.
        state: the state fields, in the order ``update`` returns them; a mapping gives each
            field's initial value (a number, ``"w"``: a copy of the start, or a function of
            hyperparameters, e.g. ``lambda v0: v0``); otherwise 0.
        hyperparams: name -> ``(default, low, high)`` (``(…, "log")`` for a log slider), or a
            list of :class:`~optviz.optimizers.base.HyperParam`. ``lr``, ``eta``, ``alpha``,
            ``learning_rate`` and ``step_size`` are learning rates (schedules scale them).
        per_step: values computed once per step from ``t``, ``T`` and hyperparameters:
            output name (or a tuple of names) -> function.
        per_point: values computed once per point and step (from ``f``, point fields, ...).
        point_fields: state fields holding one value per point instead of per coordinate.
        grad_at: a function giving, per coordinate, where the gradient is taken (look-ahead).
        reduce: per-point sums over the coordinates: output name (or names) -> a function giving
            the term of one coordinate; ``update`` reads the sum, one value per point (e.g.
            ``{"g2": lambda g: g * g}`` and ``sqrt(g2)`` for the gradient's norm).
        summary, reference: one line each, shown in listings.

    Returns:
        The :class:`~optviz.optimizers.base.OptimizerSpec` (as a decorator: the spec, under the
        function's name).

    Raises:
        RuleError: (a ValueError) naming the rule and the function or field at fault.
    """
    if callable(name) and update is None:  # @rule without arguments
        return rule(None, name)
    if update is None:
        def decorate(fn: Callable) -> OptimizerSpec:
            return rule(name, fn, state=state, hyperparams=hyperparams, per_step=per_step,
                        per_point=per_point, point_fields=point_fields, grad_at=grad_at, reduce=reduce,
                        summary=summary, reference=reference, kind=kind)
        return decorate
    if not callable(update):
        raise RuleError(f"rule {name!r}: update must be a function, got {type(update).__name__}")
    name = check_name(update.__name__ if name is None else name)
    with LOCK:
        maths, hps = _maths(name, update, state, hyperparams, per_step, per_point, point_fields, grad_at,
                            reduce)
        spec = _register(name, maths, hps, summary or _first_line(update.__doc__) or "your own rule",
                         reference, kind)
    return spec


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0].strip()[:120] if (doc or "").strip() else ""


def _maths(name: str, update: Callable, state: Any, hyperparams: Any, per_step: Any, per_point: Any,
           point_fields: Iterable[str], grad_at: Callable | None,
           reduce: Any = None) -> tuple[Maths, list[HyperParam]]:
    init: dict[str, Any] = {}
    if isinstance(state, str):
        state = (state,)
    if isinstance(state, Mapping):
        init = dict(state)
        fields = tuple(state)
    else:
        fields = tuple(state)
    if isinstance(hyperparams, Mapping):
        hps = [hyperparam(k, v, name) for k, v in hyperparams.items()]
    else:
        hps = [h if isinstance(h, HyperParam) else hyperparam(*h, owner=name) for h in hyperparams]
    hp_names = [h.name for h in hps]
    for what, names in (("state field", fields), ("hyperparameter", hp_names)):
        for f in names:
            if not isinstance(f, str) or not f.isidentifier() or keyword.iskeyword(f) or f.startswith("_"):
                raise RuleError(f"{name}: {what} {f!r} is not a name (a letter, then letters, digits, _)")
            if f in PROVIDED:
                raise RuleError(f"{name}: {what} {f!r} is a quantity the engine gives ({PROVIDED[f]}); "
                                "rename it")
        if len(set(names)) != len(names):
            raise RuleError(f"{name}: a {what} is named twice in {list(names)}")
    both = set(fields) & set(hp_names)
    if both:
        raise RuleError(f"{name}: {sorted(both)[0]!r} is both a state field and a hyperparameter")
    for f, v in init.items():
        if not (isinstance(v, int | float) and math.isfinite(v)) and v != "w" and not callable(v):
            raise RuleError(f"{name}: state field {f!r} starts at a number, 'w' or a function of "
                            f"hyperparameters, got {v!r}")
    init = {f: "w" if isinstance(v, str) else stage(v, f) if callable(v) else float(v)
            for f, v in init.items()}
    state_cls = collections.namedtuple(f"{name.replace('-', '_')}State", fields)  # type: ignore[misc]
    points = frozenset(point_fields)
    unknown_points = points - set(fields)
    if unknown_points:
        raise RuleError(f"{name}: point field {sorted(unknown_points)[0]!r} is not a state field")
    coord_outputs = ("update", *(f for f in fields if f not in points))
    try:
        maths = Maths(
            state_cls, stage(update, *coord_outputs),
            per_step=_stages(per_step, "per_step", name), per_point=_stages(per_point, "per_point", name),
            init=init, point_fields=points, grad_at=None if grad_at is None else stage(grad_at, "w_grad"),
            reduce=_stages(reduce, "reduce", name),
        )
    except (TypeError, ValueError) as exc:  # inspect.signature of a builtin, ...
        raise RuleError(f"{name}: {exc}") from None
    _check_names(name, maths, hp_names)
    return maths, hps


def _check_names(name: str, maths: Maths, hp_names: list[str]) -> None:
    """Every argument of every function names something, said with the function at fault."""
    for f, first in maths.init.items():
        if isinstance(first, Stage) and not set(first.args) <= set(hp_names):
            bad = sorted(set(first.args) - set(hp_names))[0]
            raise RuleError(f"{name}: the initial value of state field {f!r} asks for {bad!r}; it may read "
                            f"hyperparameters only ({', '.join(hp_names) or 'none'})")
    known = set(hp_names) | set(maths.fields) | set(PROVIDED)
    look = [maths.grad_at] if maths.grad_at else []
    ordered = [*maths.per_step, *maths.per_point, *look, *maths.reduce, maths.per_coord]
    for s in ordered:
        known |= set(s.outputs)
    for s in ordered:
        for arg in s.args:
            if arg not in known:
                import difflib

                near = difflib.get_close_matches(arg, sorted(known), n=1)
                hint = f" (did you mean {near[0]}?)" if near else ""
                raise RuleError(
                    f"{name}: {getattr(s.fn, '__name__', 'a function')} asks for {arg!r}, which is no "
                    f"hyperparameter ({', '.join(hp_names) or 'none'}), state field "
                    f"({', '.join(maths.fields) or 'none'}), computed value or engine quantity "
                    f"(g, w, t, T, f, ...){hint}"
                )


def _register(name: str, maths: Maths, hps: list[HyperParam], summary: str, reference: str,
              kind: str) -> OptimizerSpec:
    """Dry-run, then (re)place ``name`` in the registry."""
    _dry_run(name, maths, hps)
    old = REGISTRY.pop(name, None) if name in USER else None
    try:
        spec = register(name, family=kind, maths=maths, hyperparams=hps, reference=reference, summary=summary)
    except ValueError as exc:
        if old is not None:
            REGISTRY[name] = old
        raise RuleError(str(exc)) from None
    USER[name] = kind
    return spec


def _dry_run(name: str, maths: Maths, hps: list[HyperParam]) -> None:
    """Two starts, a few steps on f(w) = |w|²: shapes, finite numbers, the state fields named."""
    from optviz.optimizers.base import make_init, make_update

    hp = {h.name: h.default for h in hps}
    W = DRY_STARTS.copy()
    where = ""
    try:
        where = "its initial state"
        state = make_init(maths)(W, hp)
        update = make_update(maths)
        for t in range(1, DRY_STEPS + 1):
            where = f"step {t}"
            zeros = np.zeros_like(W)
            ctx = StepContext(t, DRY_STEPS, np.sum(W * W, axis=1), 0.0, lambda q: 2 * q,
                              lambda _name, _when, z=zeros: z, None, 0, None)
            with np.errstate(all="ignore"):
                delta, state = update(2 * W, state, W, hp, ctx)
            _check_array(name, "the update", delta, W.shape, t)
            for f in maths.fields:
                shape = (W.shape[0], 1) if f in maths.point_fields else W.shape
                _check_array(name, f"state field {f!r}", getattr(state, f), shape, t)
            W = W + delta
    except RuleError:
        raise
    except ValueError as exc:
        if "zip()" in str(exc):
            raise RuleError(
                f"{name}: {maths.per_coord.fn.__name__} must return {len(maths.per_coord.outputs)} values "
                f"(the update, then {', '.join(maths.per_coord.outputs[1:]) or 'nothing else'}): {exc}"
            ) from None
        raise RuleError(f"{name}: the dry run on two starts failed at {where}: {exc}") from None
    except Exception as exc:  # the user's own code: say where, in one line
        raise RuleError(f"{name}: the dry run on two starts failed at {where}: "
                        f"{type(exc).__name__}: {str(exc)[:160]}") from None


def _check_array(name: str, what: str, value: Any, shape: tuple[int, ...], t: int) -> None:
    if isinstance(value, tuple | list):
        raise RuleError(f"{name}: {what} is {len(value)} values at step {t} of the dry run on two starts: "
                        "return the update, then one new value per state field, in the order of state=")
    arr = np.asarray(value, dtype=float) if not isinstance(value, np.ndarray) else value
    if arr.shape != shape:
        raise RuleError(f"{name}: {what} has shape {arr.shape} at step {t} of the dry run on two starts; "
                        f"expected {shape} (one value per point and coordinate: no sums over points)")
    if not np.all(np.isfinite(arr)):
        raise RuleError(f"{name}: {what} is not finite at step {t} of the dry run on two starts "
                        f"(f(w) = |w|², the defaults): {np.asarray(arr).ravel()[:4].tolist()}")


def unregister(name: str) -> None:
    """Remove a user rule (a built-in cannot be removed)."""
    with LOCK:
        if name not in USER:
            raise RuleError(f"{name!r} is no user rule")
        USER.pop(name)
        REGISTRY.pop(name, None)


# ---------------------------------------------------------------------- other processes (Dask workers)
@dataclasses.dataclass(frozen=True)
class Recipe:
    """How to build a rule again in another process: ``make(*args, **kwargs)`` registers it
    (an adapter: ``from_optax(transform, name, ...)``). ``token`` tells one registration from another."""

    make: Callable[..., Any]
    args: tuple
    kwargs: Mapping[str, Any]
    token: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)


def shipment(names: Iterable[str]) -> dict[str, OptimizerSpec | Recipe]:
    """What another process needs to race the Python rules and adapters among ``names``: a Python
    rule's spec (its functions go by value, as Dask's cloudpickle sends them), an adapter's
    :class:`Recipe` (its library object and settings: the adapter is built again there). Typed rules
    go as their text (:func:`optviz.optimizers.typed.text_of`); built-ins are everywhere."""
    out: dict[str, OptimizerSpec | Recipe] = {}
    for name in names:
        kind = USER.get(name)
        spec = REGISTRY.get(name)
        if spec is None or kind not in ("python", "adapter"):
            continue
        recipe = getattr(spec, "recipe", None)
        out[name] = recipe if recipe is not None else spec
    return out


def adopt(shipped: Mapping[str, OptimizerSpec | Recipe]) -> None:
    """Register in this process the rules of a :func:`shipment` (a no-op where they already are:
    the process that sent them, or a worker that built the same recipe before)."""
    with LOCK:
        for name, item in shipped.items():
            current = REGISTRY.get(name)
            if current is not None and name not in USER:
                raise RuleError(f"rule name {name!r}: {name} is a built-in optimizer here")
            if isinstance(item, Recipe):
                if getattr(getattr(current, "recipe", None), "token", None) == item.token:
                    continue
                built = item.make(*item.args, **item.kwargs)
                REGISTRY[name] = dataclasses.replace(built, recipe=item)  # (built once per process)
            elif current is not item:
                REGISTRY[name] = item
                USER[name] = item.family


def load_file(path: str | Path) -> tuple[str, ...]:
    """Run a Python file of your own that registers rules (:func:`rule`); return their names.

    This runs the file as code: it is for your own files on your own machine (``--rules``),
    never for anything a link, a scene or a page names.
    """
    p = Path(path)
    if p.suffix != ".py":
        raise RuleError(f"--rules {str(path)[:80]}: expected a Python file (.py)")
    if not p.is_file():
        raise RuleError(f"--rules {str(path)[:80]}: no such file")
    before = {k: REGISTRY.get(k) for k in USER}
    try:
        runpy.run_path(str(p), run_name="optviz_rules")
    except RuleError as exc:
        raise RuleError(f"--rules {p.name}: {exc}") from None
    except Exception as exc:
        raise RuleError(f"--rules {p.name}: {type(exc).__name__}: {str(exc)[:200]}") from None
    names = tuple(k for k in USER if before.get(k) is not REGISTRY.get(k))
    if not names:
        raise RuleError(f"--rules {p.name}: the file registered no rule (call optviz.rule(...) in it)")
    return names


__all__ = ["LR_NAMES", "USER", "Recipe", "RuleError", "adopt", "check_name", "hyperparam", "load_file",
           "rule", "shipment", "unregister"]

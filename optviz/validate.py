"""Validation of a run's inputs: everything a user can pass to :func:`optviz.run`, checked once.

Each function turns what was given into the engine's plain form (NumPy arrays, specs, schedule
and hook objects) or raises an error that says what was expected. Nothing here steps anything.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import functions as _functions

from . import hooks as _hooks
from . import schedules as _schedules
from .optimizers import GROUPS, NAMES, OptimizerSpec
from .optimizers import get as get_optimizer

OptimizerChoice = str | Sequence[str] | Mapping[str, Mapping[str, Any] | None]


@dataclass(frozen=True)
class Planned:
    """One optimizer of a run: its spec and its validated hyperparameters (NumPy)."""

    spec: OptimizerSpec
    hyperparams: dict[str, float | np.ndarray]

    @property
    def name(self) -> str:
        return self.spec.name


# ---------------------------------------------------------------------- validation
def resolve_function(function: Any, starts: Any = None):
    """A test-function object from a registry name (dimension taken from ``starts``) or object."""
    if isinstance(function, str):
        fams = _functions.families()
        if function not in fams:
            _functions.get(function)  # raises KeyError listing the valid names
        fam = fams[function]
        dim = fam.default_dim
        if starts is not None:
            shape = np.shape(starts)
            if len(shape) == 2:
                dim = shape[1]
            elif len(shape) == 1 and fam.default_dim != 1:
                dim = shape[0]  # a single point typed as a flat list
        if not fam.supports(dim):
            raise ValueError(
                f"{function} does not support dimension {dim}; it takes "
                + (f"dim = {fam.min_dim}" if fam.max_dim == fam.min_dim
                   else f"dim >= {fam.min_dim}" if fam.max_dim is None
                   else f"{fam.min_dim} <= dim <= {fam.max_dim}")
            )
        return _functions.get(function, dim=dim)
    for attr in ("value", "grad", "dim", "box", "minimizers", "fmin"):
        if not hasattr(function, attr):
            raise TypeError(
                f"function must be a name from functions.names() or a test-function object "
                f"(with value, grad, dim, box, minimizers, fmin); got {type(function).__name__}"
            )
    return function


def validate_starts(starts: Any, dim: int, fname: str = "the function") -> np.ndarray:
    """Starting points as a float64 array ``(n_points, dim)``, or a ``ValueError`` saying why not."""
    try:
        s = np.array(starts, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"starts must be numbers of shape (n_points, {dim}); could not read {starts!r}"
        ) from None
    if s.ndim == 1:
        s = s[:, None] if dim == 1 else (s[None, :] if s.shape[0] == dim else s)
    if s.ndim == 0 or s.ndim > 2 or s.shape[-1] != dim or s.shape[0] < 1:
        raise ValueError(
            f"starts must have shape (n_points, {dim}) for {fname} ({dim}-D)"
            + (" or (n_points,)" if dim == 1 else "")
            + f"; got shape {tuple(np.shape(starts))}"
        )
    if not np.all(np.isfinite(s)):
        bad = np.argwhere(~np.isfinite(s))[0][0]
        raise ValueError(f"starts must be finite; point {bad} is {s[bad].tolist()}")
    return s


def _names_from(optimizers: OptimizerChoice) -> list[tuple[str, Mapping[str, Any]]]:
    if isinstance(optimizers, str):
        key = optimizers.lower()
        names = GROUPS[key] if key in GROUPS else (optimizers,)
        return [(n, {}) for n in names]
    if isinstance(optimizers, Mapping):
        items = []
        for name, hp in optimizers.items():
            if hp is not None and not isinstance(hp, Mapping):
                raise ValueError(
                    f"hyperparameters of {name} must be a mapping such as {{'eta': 0.1}}, "
                    f"got {hp!r}"
                )
            items.append((name, hp or {}))
        return items
    if isinstance(optimizers, Iterable):
        out = []
        for n in optimizers:
            if not isinstance(n, str):
                raise ValueError(f"optimizer names must be strings, got {n!r}")
            out.append((n, {}))
        return out
    raise ValueError(
        "optimizers must be a name, a list of names, or a mapping name -> hyperparameters"
    )


def _check_value(spec: OptimizerSpec, hp_name: str, value: Any, n: int) -> float | np.ndarray:
    hp = spec.hyperparam(hp_name)
    if np.ndim(value) == 0:
        return hp.check(value, spec.name)
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{spec.name}.{hp_name}: could not read {value!r} as numbers") from None
    if arr.shape not in ((n,), (n, 1)):
        raise ValueError(
            f"{spec.name}.{hp_name} must be a scalar or one value per start "
            f"(shape ({n},)); got shape {arr.shape}"
        )
    arr = arr.reshape(n)
    bad = ~np.isfinite(arr) | (arr < hp.low) | (arr > hp.high)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{spec.name}.{hp_name} must be in [{hp.low:g}, {hp.high:g}]; "
            f"value {i} is {arr[i]:g}"
        )
    return np.round(arr) if hp.integer else arr


def plan_optimizers(optimizers: OptimizerChoice, n_points: int) -> list[Planned]:
    """Resolve names (or groups) and validate every hyperparameter, defaults filled in."""
    items = _names_from(optimizers)
    if not items:
        raise ValueError(f"choose at least one optimizer; valid: {', '.join(NAMES)}")
    planned: list[Planned] = []
    seen: set[str] = set()
    for name, overrides in items:
        spec = get_optimizer(name)
        if spec.name in seen:
            raise ValueError(f"optimizer {spec.name} is listed twice")
        seen.add(spec.name)
        values: dict[str, float | np.ndarray] = dict(spec.defaults)
        for key, value in overrides.items():
            values[key] = _check_value(spec, key, value, n_points)
        planned.append(Planned(spec, values))
    return planned


def _as_schedule(schedule: Any) -> _schedules.Schedule:
    if schedule is None:
        return _schedules.constant()
    if isinstance(schedule, str):
        return _schedules.parse(schedule)
    if isinstance(schedule, _schedules.Schedule):
        return schedule
    raise ValueError("schedule must be None, a Schedule from optviz.schedules, or text like 'cosine'")


def _as_hooks(hooks: Any) -> tuple[_hooks.Hook, ...]:
    if hooks is None:
        return ()
    if isinstance(hooks, str | _hooks.Hook):
        hooks = [hooks]
    out = []
    for h in hooks:
        if isinstance(h, str):
            h = _hooks.parse(h)
        if not isinstance(h, _hooks.Hook):
            raise ValueError(f"hooks must be Hook objects or text like 'lars'; got {h!r}")
        out.append(h)
    return tuple(out)


def _whole(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
    return int(value)


def recorded_steps(steps: int, record_every: int) -> np.ndarray:
    """The steps a run records: 0, k, 2k, … and always the last."""
    rec = list(range(0, steps + 1, record_every))
    if rec[-1] != steps:
        rec.append(steps)
    return np.asarray(rec)


def _check_memory(n_rec: int, n_opt: int, n: int, dim: int, itemsize: int, cap: int) -> None:
    need = n_rec * n_opt * n * (dim + 1) * itemsize
    if need <= cap:
        return
    per_row = n_opt * n * (dim + 1) * itemsize
    fit_rows = max(cap // per_row, 2)
    steps = n_rec - 1
    k = max(1, math.ceil(steps / (fit_rows - 1)))
    fit_points = cap // (n_rec * n_opt * (dim + 1) * itemsize)
    raise MemoryError(
        f"recording {steps} steps of {n} points x {n_opt} optimizer(s) needs "
        f"{need / 2**30:.1f} GiB, over the {cap / 2**30:.1f} GiB cap. To fit: record every "
        f"k-th step (record_every={k}), or use at most {fit_points} points, or raise "
        f"max_record_bytes."
    )

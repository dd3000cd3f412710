"""Validation of a run's inputs: everything a user can pass to :func:`optviz.run`, checked once.

Each function turns what was given into the engine's plain form (NumPy arrays, specs, schedule
and hook objects) or raises an error that says what was expected. Nothing here steps anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import functions as _functions
from optviz.optimizers import (  # noqa: F401  (GROUP_PREFIX, ALL, group_label, group_names: re-exported)
    ALL,
    GROUP_PREFIX,
    REGISTRY,
    OptimizerSpec,
    choices,
    group_label,
    group_names,
    resolve_item,
)
from optviz.scene.text import NumberError, quote, read_number

OptimizerChoice = str | Sequence[str] | Mapping[str, Mapping[str, Any] | None]

#: Optimizer and group names are read in one place, :func:`optviz.optimizers.resolve_item` (``"adam"``
#: is Adam, ``"group:adam"`` the family, ``"all"`` every one); ``optimizer_names``, ``group_names``,
#: ``group_label``, ``GROUP_PREFIX`` and ``ALL`` stay importable from here for older callers.
optimizer_names = resolve_item


def _choices() -> str:
    return choices()


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
            raise KeyError(f"unknown test function {quote(function)}; valid names: {', '.join(fams)}")
        fam = fams[function]
        dim = fam.default_dim
        if starts is not None:
            shape = starts.shape if type(starts) is np.ndarray else _read_numbers(
                starts, "starts", "(n_points, dim)").shape
            if 0 in shape:
                raise ValueError(_EMPTY_STARTS.format(shape=shape))
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


_EMPTY_STARTS = "starts is empty (shape {shape}): give at least one starting point"


def _row_lengths(value: Any) -> list[int | None] | None:
    """The length of each row of a nested list (None for a row that is a single number)."""
    if isinstance(value, np.ndarray) or not isinstance(value, Sequence) or isinstance(value, str):
        return None
    return [len(v) if isinstance(v, Sequence | np.ndarray) and not isinstance(v, str) else None
            for v in value]


def _read_numbers(value: Any, what: str, shape: str) -> np.ndarray:
    """``value`` as a float64 array, or a ``ValueError`` saying why it is not numbers of ``shape``:
    text, rows of different lengths (which row), or something else that is not a number."""
    if isinstance(value, str):
        raise ValueError(f"{what} must be numbers of shape {shape}, not text ({quote(value)}); "
                         "typed points are read by optviz.scene.starts.parse(text, dim)")
    try:
        return np.array(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        pass
    lengths = _row_lengths(value)
    if lengths and len(set(lengths)) > 1:
        def size(n):
            return "a single number" if n is None else f"{n} number(s)"

        i = next(i for i, n in enumerate(lengths) if n != lengths[0])
        why = f"the rows differ in length: row 0 has {size(lengths[0])}, row {i} has {size(lengths[i])}"
    else:
        why = f"could not read {quote(value)} as numbers"
    raise ValueError(f"{what} must be numbers of shape {shape}; {why}")


def validate_starts(starts: Any, dim: int, fname: str = "the function", copy: bool = True,
                    finite: bool = True) -> np.ndarray:
    """Starting points as a float64 array ``(n_points, dim)``, or a ``ValueError`` saying why not.

    ``copy=False``: a float64 array given is used as it is (a view of it), not copied.
    ``finite=False``: the caller tests the numbers itself (with the bound: one pass less).
    """
    if not copy and type(starts) is np.ndarray and starts.dtype == np.float64:
        s = starts
    else:
        s = _read_numbers(starts, "starts", f"(n_points, {dim})")
    if s.size == 0:
        raise ValueError(_EMPTY_STARTS.format(shape=s.shape))
    if s.ndim == 1:
        s = s[:, None] if dim == 1 else (s[None, :] if s.shape[0] == dim else s)
    if s.ndim == 0 or s.ndim > 2 or s.shape[-1] != dim or s.shape[0] < 1:
        raise ValueError(
            f"starts must have shape (n_points, {dim}) for {fname} ({dim}-D)"
            + (" or (n_points,)" if dim == 1 else "")
            + f"; got shape {tuple(s.shape)}"
        )
    if finite and not _finite(s):
        bad = np.argwhere(~np.isfinite(s))[0][0]
        raise ValueError(f"starts must be finite; point {bad} is {quote(s[bad].tolist())}")
    return s


def _finite(s: np.ndarray) -> bool:
    """Every number finite: the sum of a finite array is finite or overflows to ±inf (then the
    exact test), NaN and ±inf make it non-finite; one pass instead of ``isfinite`` and ``all``."""
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(np.add.reduce(s, axis=None))
    return math.isfinite(total) or bool(np.all(np.isfinite(s)))


def check_starts_inside(s: np.ndarray, bound: float, fname: str = "the function", given: bool = True) -> None:
    """Refuse starts beyond the divergence ``bound``: such a point would be frozen as diverged at
    step 0, and the run would blame the learning rates. The message names the start instead, and
    suggests ``bound=`` only where the caller ``given`` one (a scene, a link or the page has none)."""
    if s.max() <= bound and s.min() >= -bound:  # (two passes; NaN fails them: validate_starts refuses it)
        return
    out = ~np.all(np.abs(s) <= bound, axis=1)
    if out.any():
        i = int(np.argmax(out))
        raise ValueError(
            f"starts must lie within the divergence bound (every coordinate in [-{bound:.3g}, {bound:.3g}] "
            f"for {fname}); point {i} is {quote(s[i].tolist())}: "
            + ("start inside the bound, or pass a larger bound=" if given
               else "start nearer the function's box")
        )


def named_optimizers(optimizers: OptimizerChoice) -> list[tuple[str, Mapping[str, Any], bool]]:
    """(optimizer name, overrides, came from a group) for every optimizer chosen."""
    if isinstance(optimizers, str):
        names, grouped = resolve_item(optimizers)
        return [(n, {}, grouped) for n in names]
    if isinstance(optimizers, Mapping):
        items = []
        for name, hp in optimizers.items():
            names, grouped = resolve_item(name)
            if hp is not None and not isinstance(hp, Mapping):
                raise ValueError(
                    f"hyperparameters of {name if grouped else names[0]} must be a mapping such as "
                    f"{{'eta': 0.1}}, got {quote(hp)}"
                )
            if grouped and hp:
                raise ValueError(f"{quote(name)} is a group of optimizers with different hyperparameters: "
                                 "give its members' hyperparameters by optimizer name")
            items.extend((n, hp or {}, grouped) for n in names)
        return items
    if isinstance(optimizers, Iterable):
        out = []
        for item in optimizers:
            names, grouped = resolve_item(item)
            out.extend((n, {}, grouped) for n in names)
        return out
    raise ValueError(
        "optimizers must be a name, a group such as 'group:adam' or 'all', a list of them, or a "
        f"mapping name -> hyperparameters; got {quote(optimizers)}"
    )


def _check_value(spec: OptimizerSpec, hp_name: str, value: Any, n: int) -> float | np.ndarray:
    valid = [h.name for h in spec.hyperparams]
    if hp_name not in valid:
        raise KeyError(f"{spec.name} has no hyperparameter {quote(hp_name)}; valid: {', '.join(valid)}")
    hp = spec.hyperparam(hp_name)
    if isinstance(value, bool | np.bool_):  # True would pass as 1.0
        raise ValueError(f"{spec.name}.{hp_name} must be a number in [{hp.low:g}, {hp.high:g}], got {value}")
    if isinstance(value, np.ndarray) and value.ndim == 0:  # np.array(0.1) is a scalar
        value = value[()]
    if isinstance(value, str):
        try:
            value = read_number(value)
        except NumberError:
            raise ValueError(f"{spec.name}.{hp_name} must be a number in [{hp.low:g}, {hp.high:g}], "
                             f"got {quote(value)}") from None
    if not isinstance(value, Sequence | np.ndarray) and np.ndim(value) == 0:
        return hp.check(value, spec.name)
    arr = _read_numbers(value, f"{spec.name}.{hp_name}", f"({n},) (one value per start) or a scalar")
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


def plan_optimizers(optimizers: OptimizerChoice, n_points: int,
                    defaults: Callable[[str], Mapping[str, float]] | None = None) -> list[Planned]:
    """Resolve names (or groups) and validate every hyperparameter, defaults filled in: the
    registry's, or ``defaults(name)`` (a run's rate policy, :func:`optviz.optimizers.rates.defaults`).

    An optimizer named twice is an error, unless a group brought it in (``["group:adam",
    "Adam"]`` is the Adam family once).
    """
    items = named_optimizers(optimizers)
    if not items:
        raise ValueError(f"choose at least one optimizer; {_choices()}")
    planned: list[Planned] = []
    seen: dict[str, bool] = {}
    for name, overrides, grouped in items:
        spec = REGISTRY[name]
        if spec.name in seen:
            if grouped or seen[spec.name]:
                continue
            raise ValueError(f"optimizer {spec.name} is listed twice")
        seen[spec.name] = grouped
        values: dict[str, float | np.ndarray] = dict(
            spec.defaults if defaults is None else defaults(spec.name))
        for key, value in overrides.items():
            values[key] = _check_value(spec, key, value, n_points)
        planned.append(Planned(spec, values))
    return planned


def check_count(value: Any, name: str, low: int = 1, high: int | None = None) -> int:
    """A whole number in ``[low, high]`` (steps, seeds, grid sizes, ...), or a ``ValueError`` that
    names it and says what was expected."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low or (
            high is not None and value > high):
        span = f">= {low}" if high is None else f"in [{low}, {high:,}]"
        raise ValueError(f"{name} must be a whole number {span}, got {quote(value)}")
    return int(value)


def check_max_seconds(value: Any) -> float | None:
    """``max_seconds``: None (no limit) or a number of seconds > 0, else a ``ValueError`` saying so."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating) or not (
            math.isfinite(value) and value > 0):
        raise ValueError(f"max_seconds must be a number of seconds > 0, or None for no limit; "
                         f"got {quote(value)}")
    return float(value)


def record_cap(max_record_bytes: Any) -> int:
    """``max_record_bytes`` as a whole number of bytes > 0 (``2 * 2**30`` or ``2e9``), else a
    ``ValueError`` saying so (text such as ``"2GB"`` is refused: write ``2 * 2**30``)."""
    v = max_record_bytes
    ok = not isinstance(v, bool) and isinstance(v, int | float | np.integer | np.floating)
    if ok and math.isfinite(v) and v > 0 and v == int(v):
        return int(v)
    hint = " (text is not read)" if isinstance(v, str) else ""
    raise ValueError(f"max_record_bytes must be a whole number of bytes > 0, such as 2 * 2**30 "
                     f"(2 GiB); got {quote(v)}{hint}")


def recorded_steps(steps: int, record_every: int) -> np.ndarray:
    """The steps a run records: 0, k, 2k, … and always the last."""
    rec = np.arange(0, steps + 1, record_every)
    return rec if rec[-1] == steps else np.append(rec, steps)


def check_record_size(n_rec: int, n_opt: int, n: int, dim: int, itemsize: int, cap: Any) -> None:
    """Refuse a run whose recording (trajectories + losses) would pass ``cap`` bytes, saying what fits."""
    cap = record_cap(cap)
    per_row = n_opt * n * (dim + 1) * itemsize
    need = n_rec * per_row
    if need <= cap:
        return
    steps = n_rec - 1
    fits = []
    rows_fit = cap // per_row
    if rows_fit >= 2 and steps >= 1:  # record_every=k records ceil(steps / k) + 1 rows
        fits.append(f"record every k-th step (record_every={math.ceil(steps / (rows_fit - 1))})")
    fit_points = cap // (n_rec * n_opt * (dim + 1) * itemsize)
    if fit_points >= 1:
        fits.append(f"use at most {fit_points:,} points")
    raise MemoryError(
        f"recording {steps} steps of {n:,} points x {n_opt} optimizer(s) needs "
        f"{_bytes(need)}, over the {_bytes(cap)} cap (max_record_bytes). To fit: "
        + ", or ".join([*fits, "raise max_record_bytes"]) + "."
    )


def _bytes(n: int) -> str:
    """A byte count for a message: 2.0 GiB, 3.1 MiB, 512 bytes."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"

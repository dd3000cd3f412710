"""Core types: :class:`TestFunction` (one concrete function) and :class:`Family` (a registry entry).

A *family* is a registry name plus metadata (supported dimensions, default parameters,
formula, ...).  ``Family.make(dim, **params)`` validates its arguments and returns a
:class:`TestFunction`, a frozen object with a fixed ``dim`` whose ``value`` / ``grad`` are
vectorized over points and take their array module from the input (NumPy, CuPy,
``array_api_strict``, ...), so only array-API-standard operations are used inside them.

Nothing in this package imports from ``optviz``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import array_api_compat
import numpy as np

Array = Any
"""Any array-API array (``numpy.ndarray``, ``cupy.ndarray``, ``array_api_strict`` array...)."""

ArrayFn = Callable[[Array], Array]


_NAMESPACES: dict[type, Any] = {}


def namespace(x: Array) -> Any:
    """Return the array-API namespace of ``x`` (``array_api_compat.array_namespace``).

    Cached per array type: it is called on every gradient evaluation, the engine's hot path.
    """
    ns = _NAMESPACES.get(type(x))
    if ns is None:
        ns = _NAMESPACES[type(x)] = array_api_compat.array_namespace(x)
    return ns


def constant(x: Array, values: Sequence[float]) -> Array:
    """Return ``values`` as a 1-D array with the dtype and device of ``x``."""
    xp = namespace(x)
    return xp.asarray(list(values), dtype=x.dtype, device=array_api_compat.device(x))


@dataclass(frozen=True)
class PointForm:
    """A function's maths for one point, as formulas of its coordinates.

    ``value(x0, x1, ..., *consts) -> f`` and ``grad(x0, x1, ..., *consts) -> (g0, g1, ...)``
    use only arithmetic and :mod:`functions.elementwise`, so the same formulas run on
    columns of points (arrays, the readable path: :func:`array_form`) and on single numbers
    inside optviz's compiled kernels. ``consts`` are numbers passed after the coordinates
    (for instance a family's weights), so one compiled kernel serves every value of them.
    A partial derivative may be a plain number (a constant slope).
    """

    value: Callable[..., Any]
    grad: Callable[..., Any]
    consts: tuple[float, ...] = ()


def array_form(point: PointForm, dim: int) -> tuple[ArrayFn, ArrayFn]:
    """``value(x)`` and ``grad(x)`` on arrays of shape ``(n, dim)`` from a :class:`PointForm`."""

    def cols(x: Array) -> list[Array]:
        return [x[:, i] for i in range(dim)]

    def value(x: Array) -> Array:
        f = point.value(*cols(x), *point.consts)
        if isinstance(f, float | int):
            return namespace(x).full((x.shape[0],), float(f), dtype=x.dtype)
        return f

    def grad(x: Array) -> Array:
        xp = namespace(x)
        parts = point.grad(*cols(x), *point.consts)
        if dim == 1 and not isinstance(parts, tuple | list):
            parts = (parts,)
        full = [xp.full((x.shape[0],), float(p), dtype=x.dtype) if isinstance(p, float | int) else p
                for p in parts]
        return xp.stack(full, axis=1)

    return value, grad


def _points(rows: Any, dim: int) -> np.ndarray:
    """Return ``rows`` as a read-only float64 array of shape ``(k, dim)`` (k may be 0)."""
    arr = np.asarray(rows, dtype=np.float64).reshape(-1, dim)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class Spec:
    """What a family's builder returns for one ``(dim, params)``; assembled by :meth:`Family.make`.

    ``value`` / ``grad`` map an ``(n, dim)`` array to ``(n,)`` / ``(n, dim)``; the arrays are
    anything :func:`numpy.asarray` accepts (``box`` as ``(dim, 2)``, point lists as ``(k, dim)``).
    """

    value: ArrayFn
    grad: ArrayFn
    box: Any
    minimizers: Any
    fmin: float | None
    local_minima: Any = ()
    point: PointForm | None = None


#: Every registered family by name, filled by the package :mod:`functions` when it is imported.
#: A pickled function is rebuilt from it: unpickling imports this module, and so the package, first.
FAMILIES: dict[str, Any] = {}


def _rebuild(name: str, dim: int, params: dict) -> Any:
    return FAMILIES[name].make(dim, **params)


@dataclass(frozen=True, eq=False, repr=False)
class TestFunction:
    """One analytic test function with a fixed dimension.

    Attributes:
        name: registry name (e.g. ``"rosenbrock"``).
        title: human-readable name (e.g. ``"Rosenbrock"``).
        formula: LaTeX formula for display.
        dim: number of coordinates of a point.
        params: the extra parameters this instance was built with (e.g. ``{"kappa": 100.0}``).
        box: ``(dim, 2)`` float64 array of ``(lo, hi)`` per coordinate, a plotting box that
            contains every minimizer with a margin.
        minimizers: ``(k, dim)`` float64 array of *all* global minimizers (``k = 0`` when the
            function has no minimum).
        fmin: the global minimum value, or ``None`` when the function is unbounded below.
        local_minima: ``(j, dim)`` float64 array of classic non-global local minima (may be empty).
        log_levels: whether contour plots should use log-spaced levels of ``f - fmin``
            (the function spans decades over its box).
        point: the same maths as formulas of one point's coordinates (:class:`PointForm`),
            which optviz's fast path compiles; ``None`` for a function that has none (it then
            runs on the readable path only).
    """

    __test__: ClassVar[bool] = False  # keep pytest from collecting this class

    name: str
    title: str
    formula: str
    dim: int
    params: dict[str, float]
    box: np.ndarray
    minimizers: np.ndarray
    fmin: float | None
    local_minima: np.ndarray
    log_levels: bool
    _value: ArrayFn = field(compare=False)
    _grad: ArrayFn = field(compare=False)
    point: PointForm | None = field(default=None, compare=False)

    def __reduce__(self):
        """Pickle as the registry call that rebuilds it (some families' callables are closures)."""
        return (_rebuild, (self.name, self.dim, dict(self.params)))

    def _check(self, x: Array) -> None:
        shape = tuple(x.shape)
        if len(shape) != 2 or shape[1] != self.dim:
            raise ValueError(
                f"{self.name}: expected an array of shape (n_points, {self.dim}), got {shape}"
            )

    def value(self, x: Array) -> Array:
        """Function values at the points ``x`` of shape ``(n, dim)``; returns shape ``(n,)``."""
        self._check(x)
        return self._value(x)

    def grad(self, x: Array) -> Array:
        """Analytic gradients at the points ``x`` of shape ``(n, dim)``; returns ``(n, dim)``."""
        self._check(x)
        return self._grad(x)

    def __str__(self) -> str:
        extra = "".join(f", {k}={v:g}" for k, v in self.params.items())
        return f"{self.title} ({self.name}, dim={self.dim}{extra})"

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"TestFunction(name={self.name!r}, dim={self.dim}{extra})"


Builder = Callable[[int, Mapping[str, float]], Spec]
ParamCheck = Callable[[Mapping[str, float]], None]


@dataclass(frozen=True, eq=False)
class Family:
    """A registry entry: metadata plus a builder producing :class:`TestFunction` instances.

    Attributes:
        name: registry name.
        title: human-readable name.
        formula: LaTeX formula for display.
        description: one-line description.
        default_dim: dimension used when ``dim`` is ``None``.
        min_dim: smallest supported dimension.
        max_dim: largest supported dimension, ``None`` for any ``dim >= min_dim``.
        params: names and default values of the extra parameters.
        log_levels: see :attr:`TestFunction.log_levels`.
    """

    name: str
    title: str
    formula: str
    description: str
    default_dim: int
    min_dim: int
    max_dim: int | None
    build: Builder = field(repr=False)
    params: dict[str, float] = field(default_factory=dict)
    log_levels: bool = False
    check_params: ParamCheck | None = field(default=None, repr=False)

    def supports(self, dim: int) -> bool:
        """Whether this family is defined in dimension ``dim``."""
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            return False
        return dim >= self.min_dim and (self.max_dim is None or dim <= self.max_dim)

    def dims_text(self) -> str:
        """Human-readable description of the supported dimensions, e.g. ``"dim >= 2"``."""
        if self.max_dim is None:
            return f"dim >= {self.min_dim}"
        if self.max_dim == self.min_dim:
            return f"dim = {self.min_dim} only"
        return f"{self.min_dim} <= dim <= {self.max_dim}"

    def _resolve_params(self, given: Mapping[str, Any]) -> dict[str, float]:
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            valid = ", ".join(sorted(self.params)) if self.params else "none"
            raise ValueError(
                f"{self.name}: unknown parameter(s) {', '.join(unknown)}; valid parameters: {valid}"
            )
        resolved = dict(self.params)
        for key, val in given.items():
            if isinstance(val, bool) or not isinstance(val, (int, float, np.integer, np.floating)):
                raise ValueError(f"{self.name}: parameter {key} must be a real number, got {repr(val)[:40]}")
            if not math.isfinite(float(val)):
                raise ValueError(f"{self.name}: parameter {key} must be finite, got {val!r}")
            resolved[key] = float(val)
        if self.check_params is not None:
            self.check_params(resolved)
        return resolved

    def make(self, dim: int | None = None, **params: float) -> TestFunction:
        """Build the instance of dimension ``dim`` (default :attr:`default_dim`).

        Raises:
            ValueError: ``dim`` is not supported, or a parameter is unknown or invalid.
        """
        if dim is None:
            dim = self.default_dim
        if not self.supports(dim):
            raise ValueError(f"{self.name}: dim={repr(dim)[:40]} is not supported ({self.dims_text()})")
        dim = int(dim)
        resolved = self._resolve_params(params)
        spec = self.build(dim, resolved)
        box = np.asarray(spec.box, dtype=np.float64).reshape(dim, 2)
        box.setflags(write=False)
        return TestFunction(
            name=self.name,
            title=self.title,
            formula=self.formula,
            dim=dim,
            params=resolved,
            box=box,
            minimizers=_points(spec.minimizers, dim),
            fmin=None if spec.fmin is None else float(spec.fmin),
            local_minima=_points(spec.local_minima, dim),
            log_levels=self.log_levels,
            _value=spec.value,
            _grad=spec.grad,
            point=spec.point,
        )


def pointwise(point: PointForm, dim: int, box: Any, minimizers: Any, fmin: float | None,
              local_minima: Any = ()) -> Spec:
    """A :class:`Spec` whose array ``value``/``grad`` are the point formulas applied to columns."""
    value, grad = array_form(point, dim)
    return Spec(value, grad, box, minimizers, fmin, local_minima, point=point)


def fixed(spec: Spec) -> Builder:
    """Builder for a parameter-free, fixed-dimension family: always returns ``spec``."""

    def build(dim: int, params: Mapping[str, float]) -> Spec:
        return spec

    return build

"""Elementwise maths that reads the same on arrays and on single numbers.

Every formula that optviz compiles (a test function's value and gradient, an update rule's
arithmetic) is written once with ``+ - * /``, ``**`` and the functions below. Called from
Python, each function takes its array module from its input (NumPy, CuPy, ``array_api_strict``,
...) or works on plain numbers; optviz's compiled fast path (``optviz.engine.fast``) registers a
scalar implementation of each for its kernels, so the same source serves both paths.

Only these names may appear in such a formula besides arithmetic; keep the list short.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import array_api_compat
import numpy as np

Array = Any

pi = math.pi

_NAMESPACES: dict[type, Any] = {}


def _xp(x: Any) -> Any:
    """The array namespace of ``x`` (cached per type), or NumPy for plain numbers."""
    kind = type(x)
    ns = _NAMESPACES.get(kind)
    if ns is None:
        if kind in (float, int, bool) or isinstance(x, np.generic):
            ns = np
        else:
            ns = array_api_compat.array_namespace(x)
        _NAMESPACES[kind] = ns
    return ns


def _scalar(x: Any) -> bool:
    return isinstance(x, float | int | np.generic)


def _first_array(*xs: Any) -> Any:
    for x in xs:
        if not _scalar(x) and not isinstance(x, bool):
            return x
    return xs[0]


#: Set by :func:`libm`: NumPy arrays go through libm's functions instead of NumPy's.
_LIBM = [False]


@contextlib.contextmanager
def libm():
    """While open, the functions below apply libm's ``exp``, ``log``, ... (Python's ``math``) to
    NumPy arrays element by element, as the compiled kernels call them, instead of NumPy's
    SIMD versions (which on AVX-512 builds differ from libm's by an ulp for some arguments).

    For checking the two paths against each other to the last bit; slow, and for every thread.
    """
    before = _LIBM[0]
    _LIBM[0] = True
    try:
        yield
    finally:
        _LIBM[0] = before


def _elementwise(scalar: Any, ufunc: Any) -> Any:
    def one(v: float) -> float:
        try:
            return scalar(v)
        except (ValueError, OverflowError):  # outside the domain, or too large: as NumPy
            with np.errstate(all="ignore"):
                return float(ufunc(v))

    each = np.frompyfunc(one, 1, 1)

    def apply(x: np.ndarray) -> np.ndarray:
        if x.dtype != np.float64:
            return ufunc(x)
        with np.errstate(all="ignore"):  # (the flags a fallback raised; the values say it all)
            return each(x).astype(np.float64)

    return apply


def _unary(name: str):
    ufunc = getattr(np, name)
    scalar = None if name in ("floor", "sign") else getattr(math, {"abs": "fabs"}.get(name, name), None)
    exact = ufunc if scalar is None or name in ("sqrt", "abs") else _elementwise(scalar, ufunc)

    def fn(x: Array) -> Array:
        kind = type(x)
        if kind is np.ndarray:  # the readable path's hot case: NumPy's own ufunc
            return exact(x) if _LIBM[0] else ufunc(x)
        if kind is float or kind is np.float64:  # (libm's, as the kernels call; numbers stay numbers)
            try:
                return scalar(x) if scalar is not None else float(ufunc(x))
            except (ValueError, OverflowError):  # outside the domain, or too large: as NumPy
                with np.errstate(all="ignore"):
                    return float(ufunc(x))
        xp = _xp(x)
        if xp is np and _scalar(x):
            with np.errstate(all="ignore"):
                return float(ufunc(x))
        return getattr(xp, name)(x)

    fn.__name__ = fn.__qualname__ = name if name != "abs" else "abs_"
    fn.__doc__ = f"Elementwise ``{name}`` of an array or a number."
    return fn


sqrt = _unary("sqrt")
exp = _unary("exp")
expm1 = _unary("expm1")
log = _unary("log")
log1p = _unary("log1p")
sin = _unary("sin")
cos = _unary("cos")
tan = _unary("tan")
sinh = _unary("sinh")
cosh = _unary("cosh")
tanh = _unary("tanh")
abs_ = _unary("abs")
sign = _unary("sign")
floor = _unary("floor")


_atan = _elementwise(math.atan, np.arctan)


def arctan(x: Array) -> Array:
    """Elementwise arc tangent (``atan`` in the array API standard)."""
    if type(x) is np.ndarray and _LIBM[0]:
        return _atan(x)
    xp = _xp(x)
    if xp is np and _scalar(x):
        return math.atan(x)
    return xp.atan(x) if hasattr(xp, "atan") else xp.arctan(x)


def _binary(name: str, doc: str):
    ufunc = getattr(np, name)

    def fn(a: Array, b: Array) -> Array:
        if type(a) is np.ndarray or type(b) is np.ndarray:
            return ufunc(a, b)
        xp = _xp(_first_array(a, b))
        if xp is np and _scalar(a) and _scalar(b):
            return float(ufunc(a, b))
        return getattr(xp, name)(a, b)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


maximum = _binary("maximum", "Elementwise larger of ``a`` and ``b`` (NaN propagates).")
minimum = _binary("minimum", "Elementwise smaller of ``a`` and ``b`` (NaN propagates).")


def where(cond: Array, a: Array, b: Array) -> Array:
    """``a`` where ``cond`` holds, else ``b`` (``cond`` may be a plain bool)."""
    if isinstance(cond, bool | np.bool_):
        return a if cond else b
    if type(cond) is np.ndarray:
        return np.where(cond, a, b)
    return _xp(cond).where(cond, a, b)


#: Every name a compiled formula may call, for the fast path's registry and for checks.
FUNCTIONS = {
    "sqrt": sqrt, "exp": exp, "expm1": expm1, "log": log, "log1p": log1p, "sin": sin, "cos": cos,
    "tan": tan, "sinh": sinh, "cosh": cosh, "tanh": tanh, "arctan": arctan, "abs_": abs_,
    "sign": sign, "floor": floor, "maximum": maximum, "minimum": minimum, "where": where,
}  # fmt: skip

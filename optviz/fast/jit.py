"""The bridge to numba: the same formulas, compiled for single numbers.

Nothing here is a second copy of any maths. :func:`prepare` tells numba that a formula (an
update rule's stage, a test function's point formula, a hook's factors, the noise generator)
and every plain function it calls may be compiled as they are (``register_jitable``, inlined),
and the few names of :mod:`functions.elementwise` get their scalar meaning (``math.sqrt`` for
``sqrt``, a NaN-propagating ``maximum`` as NumPy's, ...). Importing this module imports numba.
"""

from __future__ import annotations

import hashlib
import math
import types
from typing import Any

import numba
import numpy as np
from numba.extending import overload, register_jitable

from functions import elementwise as E

#: Functions numba already knows how to compile: elementwise ops (overloaded below).
#: Numba-level inlining ("always") re-types every call site; "never" leaves inlining to LLVM,
#: which compiles far faster and inlines these small functions all the same.
INLINE = "never"
_OPS = {id(f) for f in E.FUNCTIONS.values()}
_PREPARED: set[int] = set()


def _scalar_ops() -> None:
    """Scalar meanings of functions.elementwise, as NumPy's on arrays (NaN propagates)."""
    unary = {
        E.sqrt: math.sqrt, E.exp: math.exp, E.expm1: math.expm1, E.log: math.log, E.log1p: math.log1p,
        E.sin: math.sin, E.cos: math.cos, E.tan: math.tan, E.sinh: math.sinh, E.cosh: math.cosh,
        E.tanh: np.tanh, E.arctan: math.atan, E.floor: np.floor,
    }
    def scalar(impl):
        def typer(x):
            return lambda x: impl(x)

        return typer

    for py, impl in unary.items():
        overload(py, inline=INLINE)(scalar(impl))

    @overload(E.abs_, inline=INLINE)
    def _abs(x):
        return lambda x: abs(x)

    @overload(E.sign, inline=INLINE)
    def _sign(x):
        return lambda x: 1.0 if x > 0 else (-1.0 if x < 0 else (x if x != x else 0.0))

    @overload(E.maximum, inline=INLINE)
    def _maximum(a, b):
        return lambda a, b: a if (a >= b or a != a) else b

    @overload(E.minimum, inline=INLINE)
    def _minimum(a, b):
        return lambda a, b: a if (a <= b or a != a) else b

    @overload(E.where, inline=INLINE)
    def _where(c, a, b):
        return lambda c, a, b: a if c else b


_scalar_ops()


def _callees(fn: types.FunctionType) -> list[types.FunctionType]:
    """The plain Python functions ``fn`` calls through its globals (and closure)."""
    out = []
    names = set(fn.__code__.co_names)
    scope = dict(fn.__globals__)
    if fn.__closure__:
        scope.update(zip(fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__), strict=True))
        names |= set(fn.__code__.co_freevars)
    for name in names:
        obj = scope.get(name)
        if isinstance(obj, types.FunctionType) and id(obj) not in _OPS:
            out.append(obj)
    return out


def prepare(fn: Any) -> None:
    """Let numba compile ``fn`` and everything it calls, inlined (idempotent)."""
    if not isinstance(fn, types.FunctionType) or id(fn) in _OPS or id(fn) in _PREPARED:
        return
    _PREPARED.add(id(fn))
    register_jitable(inline=INLINE)(fn)
    for callee in _callees(fn):
        prepare(callee)


def fingerprint(*fns: Any) -> str:
    """A hash of the code of ``fns`` and of everything they call: a changed formula gives a new
    kernel (numba's disk cache cannot tell by itself that an inlined callee changed)."""
    h = hashlib.sha256()
    seen: set[int] = set()

    def code(c: types.CodeType) -> None:
        h.update(c.co_code)
        h.update(repr(c.co_names).encode())
        for k in c.co_consts:
            if isinstance(k, types.CodeType):
                code(k)
            else:
                h.update(repr(k).encode())

    def visit(fn: Any) -> None:
        if not isinstance(fn, types.FunctionType) or id(fn) in seen:
            return
        seen.add(id(fn))
        h.update(fn.__qualname__.encode())
        code(fn.__code__)
        if fn.__closure__:
            for cell in fn.__closure__:
                if not isinstance(cell.cell_contents, types.FunctionType):
                    h.update(repr(cell.cell_contents).encode())
        if id(fn) in _OPS:
            return
        for callee in _callees(fn):
            visit(callee)

    for fn in fns:
        visit(fn)
    h.update(numba.__version__.encode())
    h.update(_TOOLCHAIN.encode())
    return h.hexdigest()[:16]


def _toolchain() -> str:
    """A hash of the code that turns formulas into kernels (this package, the elementwise ops)."""
    from pathlib import Path

    h = hashlib.sha256()
    for path in [*sorted(Path(__file__).parent.glob("*.py")), Path(E.__file__)]:
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


_TOOLCHAIN = _toolchain()

"""The bridge to numba: the same formulas, compiled for single numbers.

Nothing here is a second copy of any maths. :func:`prepare` tells numba that a formula (an
update rule's stage, a test function's point formula, a hook's factors, the noise generator)
and every plain function it calls may be compiled as they are (``register_jitable``, inlined),
and the few names of :mod:`functions.elementwise` get their scalar meaning (``math.sqrt`` for
``sqrt``, a NaN-propagating ``maximum`` as NumPy's, ...). Importing this module imports numba.
"""

from __future__ import annotations

import math
import types
from typing import Any

import numpy as np
from numba.extending import overload, register_jitable

from functions import elementwise as E
from optviz.engine.fast.keys import OPS as _OPS
from optviz.engine.fast.keys import callees as _callees

#: Functions numba already knows how to compile: elementwise ops (overloaded below).
#: Numba-level inlining ("always") re-types every call site; "never" leaves inlining to LLVM,
#: which compiles far faster and inlines these small functions all the same.
INLINE = "never"
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


def prepare(fn: Any) -> None:
    """Let numba compile ``fn`` and everything it calls, inlined (idempotent)."""
    if not isinstance(fn, types.FunctionType) or id(fn) in _OPS or id(fn) in _PREPARED:
        return
    _PREPARED.add(id(fn))
    register_jitable(inline=INLINE)(fn)
    for callee in _callees(fn):
        prepare(callee)

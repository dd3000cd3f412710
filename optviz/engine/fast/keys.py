"""Names for compiled kernels: a fingerprint of all the code a kernel inlines.

numba's disk cache keys a kernel by its own source file only; it cannot tell that a function
the kernel inlines has changed. The kernel's file name therefore carries a hash of the code of
every formula it calls (and of the code that generates kernels), so a changed formula gets a new
kernel and never runs stale. This module does not import numba (choosing a path stays cheap).
"""

from __future__ import annotations

import hashlib
import types
from importlib import metadata
from pathlib import Path
from typing import Any

from functions import elementwise as E

#: Functions the kernels know as elementwise operations (overloaded in :mod:`optviz.engine.fast.jit`).
OPS = {id(f) for f in E.FUNCTIONS.values()}


def callees(fn: types.FunctionType) -> list[types.FunctionType]:
    """The plain Python functions ``fn`` calls through its globals (and closure)."""
    out = []
    names = set(fn.__code__.co_names)
    scope = dict(fn.__globals__)
    if fn.__closure__:
        scope.update(zip(fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__), strict=True))
        names |= set(fn.__code__.co_freevars)
    for name in names:
        obj = scope.get(name)
        if isinstance(obj, types.FunctionType) and id(obj) not in OPS:
            out.append(obj)
    return out


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
        if id(fn) in OPS:
            return
        for callee in callees(fn):
            visit(callee)

    for fn in fns:
        visit(fn)
    h.update(_NUMBA.encode())
    h.update(_TOOLCHAIN.encode())
    return h.hexdigest()[:16]


def _toolchain() -> str:
    """A hash of the code that turns formulas into kernels: the generator, the scalar meanings of
    the elementwise functions, the shared blocks (not the code that only runs kernels)."""
    h = hashlib.sha256()
    here = Path(__file__).parent
    generators = [here / name for name in ("codegen.py", "bookkeeping.py", "cpu.py", "jit.py", "blocks.py")]
    for path in [*generators, Path(E.__file__)]:
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


_TOOLCHAIN = _toolchain()
try:
    _NUMBA = metadata.version("numba")
except metadata.PackageNotFoundError:  # pragma: no cover - numba is a dependency
    _NUMBA = "none"

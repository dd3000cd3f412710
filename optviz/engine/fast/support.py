"""What the compiled fast path can run: numba present, float64, a function with point formulas of at
most :data:`MAX_DIM` coordinates or a learning problem's data form, hooks with a compiled form, and
(for CuPy) a CUDA target and a test function (its coordinates unrolled in the thread's registers, up
to :data:`MAX_DIM`).

Nothing here imports numba (choosing a path stays cheap).
"""

from __future__ import annotations

import importlib.util

from optviz.engine.fast.kernels import WIDE_DIM, is_wide
from optviz.engine.fast.runner import HOOK_KINDS
from optviz.engine.job import Job

#: Kernels are generated for test functions of at most this many coordinates (beyond
#: :data:`WIDE_DIM`, the wide kernel, a loop over coordinates; a learning problem's data form has no
#: limit). functions.nd writes point formulas up to 32 coordinates.
MAX_DIM = 32


def numba_status() -> str | None:
    """None when numba can be used, else why not (found without importing it: that takes 0.5 s)."""
    if importlib.util.find_spec("numba") is None:  # pragma: no cover - numba is a dependency
        return "numba is not installed (pip install numba)"
    return None


def unsupported(job: Job, backend: str) -> str | None:
    """Why the fast path cannot run ``job`` on ``backend`` (None when it can): the CPU kernels
    for ``"numpy"``, the CUDA kernels (:mod:`optviz.engine.fast.gpu`) for ``"cupy"``."""
    if backend not in ("numpy", "cupy"):
        return f"the compiled kernels run on NumPy or CuPy arrays; backend {backend!r} uses the readable path"
    if job.dtype != "float64":
        return "the compiled kernels compute in float64; float32 runs on the readable path"
    for p in job.plan:
        if "adapter" in p.spec.needs:
            return f"{p.spec.name} is a library's optimizer (an adapter): it runs on the readable path"
    point = getattr(job.fn, "point", None)
    data = getattr(job.fn, "data_form", None)
    if point is None and data is None:
        return f"{getattr(job.fn, 'name', 'this function')} has no point formulas to compile"
    wide = is_wide(job.fn, job.dim)
    if data is not None and backend == "cupy":
        return (f"the CUDA kernels are generated for test functions' point formulas, not a learning "
                f"problem's data ({getattr(job.fn, 'name', 'this problem')}); the CPU's wide kernel runs it")
    if wide and job.record_state and backend != "cupy":
        return (f"recording the rules' state is compiled for at most {WIDE_DIM} coordinates and no data "
                "(the readable path records it)")
    if data is None and job.dim > MAX_DIM:
        return f"the kernels are generated for at most {MAX_DIM} coordinates (this function has {job.dim})"
    known = set(HOOK_KINDS)
    for h in job.hooks:
        if getattr(h, "factors", None) not in known:
            return f"hook {getattr(h, 'label', h)!r} has no compiled form"
    if backend == "cupy":
        from optviz.engine.fast import gpu

        return numba_status() or gpu.status()
    return numba_status()

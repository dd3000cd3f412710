"""Compiled kernels: one per (function, rule, options), generated, compiled once, cached on disk.

:func:`specs` names the kernels a job needs (each a :class:`Keyed`: the generated source and a key
that fingerprints every piece of code it inlines); :func:`compile_kernel` compiles one, or loads it
from the disk cache (``$OPTVIZ_CACHE_DIR``, default ``~/.cache/optviz``), once per process.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from optviz.engine import noise as _noise
from optviz.engine.job import Job

#: Points per block: the unit a kernel keeps in L1 for all its steps.
BLOCK = 64

#: Held while kernels are compiled or loaded (and while warm-up processes are tracked).
COMPILE_LOCK = threading.RLock()
_KERNELS: dict[str, Any] = {}
_COMPILED: dict[str, Any] = {}


@functools.lru_cache(maxsize=1)
def cache_dir() -> Path:
    base = os.environ.get("OPTVIZ_CACHE_DIR")
    if base:
        root = Path(base)
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "optviz"
    path = root / "kernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError:
        path = Path(tempfile.gettempdir()) / f"optviz-kernels-{os.getuid() if hasattr(os, 'getuid') else 0}"
        path.mkdir(parents=True, exist_ok=True)
    return path


_SPECS: dict[tuple, Keyed] = {}


def spec(job: Job, k: int) -> Keyed:
    """The kernel of optimizer ``k`` of ``job`` (its source and key are made once per kind)."""
    return specs(job)[k]


def specs(job: Job) -> list[Keyed]:
    """The kernels of every optimizer of ``job`` (memoized by everything they depend on)."""
    point = form_of(job.fn)
    shared = (id(point.value), id(point.grad), len(point.consts), job.dim, _n_mins(job),
              any("loss" in q.spec.needs for q in job.plan), job.noise_mode if job.noise else "",
              job.delay > 0, job.tol_kind if job.tol is not None else "", job.record_state)
    out = []
    for k, p in enumerate(job.plan):
        memo = (p.name, id(p.spec.maths), *shared)  # (a user's rule may be registered again)
        keyed = _SPECS.get(memo)
        if keyed is None or keyed.point.value is not point.value:
            keyed = _SPECS[memo] = _make_spec(job, k)
        out.append(keyed)
    return out


def form_of(fn: Any) -> Any:
    """What a kernel computes the function with: a learning problem's ``data_form`` (value and
    gradient over rows of its data), else its point formulas (``fn.point``)."""
    data = getattr(fn, "data_form", None)
    return data if data is not None else fn.point


def is_wide(fn: Any, dim: int) -> bool:
    """Whether the wide kernel steps ``fn``: a learning problem, or more coordinates than the
    block kernel unrolls (:data:`WIDE_DIM`)."""
    return getattr(fn, "data_form", None) is not None or dim > WIDE_DIM


#: The block kernel unrolls at most this many coordinates; more take the wide kernel.
WIDE_DIM = 16


def _n_mins(job: Job) -> int:
    """The minimizers a kernel measures the distance to (0 unless the tolerance is a distance)."""
    if job.tol is None or job.tol_kind != "distance":
        return 0
    return len(np.array(job.fn.minimizers, dtype=float).reshape(-1, job.dim))


def _make_spec(job: Job, k: int) -> Keyed:
    from optviz.engine.fast.codegen import KernelSpec

    p = job.plan[k]
    maths = p.spec.maths
    return Keyed(KernelSpec(
        maths=maths,
        hp_names=tuple(h.name for h in p.spec.hyperparams),
        dim=job.dim,
        n_consts=len(form_of(job.fn).consts),
        loss_every_step=any("loss" in q.spec.needs for q in job.plan)
        or (job.tol is not None and job.tol_kind == "gap"),
        noise=job.noise_mode if job.noise else "",
        delay=job.delay > 0,
        tol="" if job.tol is None else job.tol_kind,
        n_mins=_n_mins(job),
        record_state=job.record_state,
        wide=is_wide(job.fn, job.dim),
        data=getattr(job.fn, "data_form", None) is not None,
    ), form_of(job.fn))


class Keyed:
    """A kernel spec with its function's point form, its source and its fingerprint."""

    def __init__(self, spec: Any, point: Any):
        from optviz.engine.fast import codegen, cpu, keys, wide

        self.spec, self.point = spec, point
        self.source = wide.source(spec) if spec.wide else cpu.source(spec)
        prefix = "D" if spec.data else "F"
        self.globals = {**codegen.stage_globals(spec), f"{prefix}VALUE": point.value,
                        f"{prefix}GRAD": point.grad, "NORMAL2": _noise.normal_pair}
        col = {name: k for k, name in enumerate(spec.columns)}
        self.kcols = np.array([col[c] for c in spec.update_columns], dtype=np.int64)
        grad_at = [spec.maths.grad_at] if spec.maths.grad_at is not None else []
        self.gcols = np.array([col[c] for c in spec.used_columns(grad_at)], dtype=np.int64)
        digest = hashlib.sha256(self.source.encode())
        digest.update(keys.fingerprint(*self.globals.values()).encode())
        self.key = digest.hexdigest()[:20]

    @property
    def path(self) -> Path:
        return cache_dir() / f"optviz_kernel_{self.key}.py"


def ready(keyed: Keyed) -> bool:
    """Compiled in this process, or compiled before and cached on disk."""
    if keyed.key in _KERNELS:
        return True
    return (keyed.path.parent / f"{keyed.path.stem}.ok").exists()


def kernel(keyed: Keyed):
    """The compiled kernel for ``keyed`` (compiled, or loaded from the disk cache, once)."""
    with COMPILE_LOCK:
        if keyed.key in _KERNELS:
            return _KERNELS[keyed.key]
        import numba

        from optviz.engine.fast import jit

        for fn in keyed.globals.values():
            jit.prepare(fn)
        path = keyed.path
        if not path.exists():
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(keyed.source)
            os.replace(tmp, path)
        name = path.stem
        module_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        module_spec.loader.exec_module(module)
        from optviz.engine.fast import blocks

        module.__dict__.update(keyed.globals)
        module.APPLY_HOOKS, module.GATHER, module.RECORD = blocks.apply_hooks, blocks.gather, blocks.record
        if keyed.spec.wide:
            jit.prepare(module.VALUE)
            jit.prepare(module.VGRAD)
        else:
            module.STEP = module.point_step
            jit.prepare(module.point_step)
        compiled = numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)(module.kernel)
        _KERNELS[keyed.key] = compiled
        return compiled


_COMPILED: dict[str, Any] = {}


def compile_kernel(keyed: Keyed) -> Any:
    """Compile (or load) for the argument types every run uses, and mark it ready on disk."""
    k = _COMPILED.get(keyed.key)
    if k is not None:
        return k
    k = kernel(keyed)
    if not k.signatures:
        _run_once(keyed, k)
    marker = keyed.path.parent / f"{keyed.path.stem}.ok"
    try:
        if not marker.exists():
            marker.write_text("")
    except OSError:
        pass
    _COMPILED[keyed.key] = k
    return k


def _run_once(keyed: Keyed, k: Any) -> None:
    """Trigger the compilation with dummy arguments of the real types (2 points, 2 steps)."""
    from optviz.engine.fast import signature

    spec = keyed.spec
    d = spec.dim
    n_hp, n_cols = len(spec.hp_names), len(spec.columns)
    rows = len(spec.state_rows()) if spec.record_state else 1
    f64, i64, u64 = np.float64, np.int64, np.uint64
    dummy = dict(
        W0=np.zeros((2, d)), lo=0, hi=2, B=BLOCK, tab=np.ones((1, 2, n_cols)), hp0=np.ones((1, n_hp)),
        combo=np.zeros(1, i64), cstride=0, fc=np.ones(max(1, spec.n_consts)), hkind=np.zeros(0, i64),
        hoff=np.zeros(0, i64), hset=np.zeros(1, f64), mins=np.zeros((max(1, spec.n_mins), d)),
        klo=np.zeros(2, u64), khi=np.zeros(2, u64), rk0=np.zeros(1, u64), rk1=np.zeros(1, u64), rstride=0,
        gk0=np.zeros(1, u64), gk1=np.zeros(1, u64), gstride=0, rec=np.array([0, 2], i64),
        prm=signature.prm(bound=1e6, sigma=0.0, tol=1e-3, fstar=0.0, tiny=1e-300, TT=2.0, delay_f=0.0),
        kcols=keyed.kcols, gcols=keyed.gcols, o_traj=np.zeros((2, 2, d)), o_loss=np.zeros((2, 2)),
        o_div=np.zeros(2, i64), o_stt=np.zeros(2, i64), o_first=np.zeros(2, i64),
        o_state=np.zeros((2, rows, 2)),
        flag=np.zeros(1, i64), meter=np.zeros(1, i64),
    )
    if spec.wide:  # (a problem's own data: its gradient reads the columns it has)
        data = np.array(keyed.point.data, dtype=f64) if spec.data else np.zeros((1, 1))
        dummy.update(data=data, bfull=np.arange(data.shape[0], dtype=i64), bidx=np.zeros((1, 2, 1), i64),
                     brow=np.zeros(1, i64), bstride=-1)
    k(*signature.ordered(dummy, signature.WIDE if spec.wide else signature.CPU))


# ---------------------------------------------------------------------- running a job

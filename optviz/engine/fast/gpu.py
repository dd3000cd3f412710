"""The fast path on a GPU: the same stages in a CUDA kernel, one thread per point, on CuPy arrays.

A point's run never meets another's, so on a GPU each thread takes one point and keeps its
position and state in registers for all the steps: nothing moves through memory per step but
the per-step table (the same for all threads of a run, so it is served from cache) and what is
recorded. The kernel is generated, as the CPU's (:mod:`optviz.engine.fast.cpu`), from the rule's
stages and the function's point formulas: it calls the same generated ``point_step``, and
numba (``numba.cuda``, from the ``numba-cuda`` package) compiles them all for the device. No
formula is written again here, and neither is the step's bookkeeping (the gradient where the rule
takes it, delay, noise, divergence and freezing, recording, steps to tolerance): both kernels emit
the one description in :mod:`optviz.engine.fast.bookkeeping`. What this module adds is the
thread's loop around it and the hooks, applied per thread (the CPU applies them per block).

Without a GPU the same source runs on numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, the
arrays are NumPy's): that is how the tests hold it equal to the readable path on any machine;
and :func:`ptx` compiles it for a given compute capability without a device (a check that it
types and compiles for the card).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import math
import os
import sys
import threading
from typing import Any

import numpy as np

from optviz.engine.fast import bookkeeping, signature
from optviz.engine.fast.bookkeeping import THREAD as L
from optviz.engine.fast.codegen import KernelSpec, Names, Source, write_point_step
from optviz.engine.fast.kernels import Keyed, cache_dir
from optviz.engine.fast.runner import Runner
from optviz.engine.job import Cancelled, Job

#: Threads per CUDA block.
THREADS = 128
#: About this many point-steps per kernel launch: a stop request is seen between launches.
LAUNCH_WORK = 2_000_000_000

_LOCK = threading.RLock()
_KERNELS: dict[str, Any] = {}


# ---------------------------------------------------------------------- can it run?
@functools.lru_cache(maxsize=1)
def status() -> str | None:
    """None when CUDA kernels can run here (numba's CUDA target and a device, or the
    simulator), else why not (a sentence)."""
    if importlib.util.find_spec("numba") is None:  # pragma: no cover - numba is a dependency
        return "numba is not installed"
    try:
        from numba import cuda
    except Exception as exc:  # pragma: no cover - a broken install
        return f"numba's CUDA target cannot be imported ({type(exc).__name__}: {exc})"
    if simulated():
        return None
    try:
        ok = bool(cuda.is_available())
    except Exception:  # pragma: no cover - driver errors
        ok = False
    if not ok:
        return "numba's CUDA target sees no usable GPU (pip install numba-cuda[cu12])"
    return None


def simulated() -> bool:
    """Whether numba.cuda is its simulator (``NUMBA_ENABLE_CUDASIM=1``: kernels run as Python,
    on NumPy arrays)."""
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


# ---------------------------------------------------------------------- the kernel's source
def source(spec: KernelSpec) -> str:
    """The CUDA kernel's Python source (module level): one thread steps one point, the step's
    bookkeeping as :mod:`optviz.engine.fast.bookkeeping` describes it (with the point in registers,
    :data:`~optviz.engine.fast.bookkeeping.THREAD`)."""
    J = range(spec.dim)
    names = Names(spec)
    src = Source()
    src("import math")
    src("")
    src("import numpy as np")
    src("from numba import cuda")
    src("")
    src("")
    write_point_step(src, spec, names)
    with src.block(f"def kernel({signature.params(signature.GPU)}):"):
        src("p = lo + cuda.grid(1)")
        with src.block("if p >= hi:"):
            src("return")
        src(signature.unpack_prm())
        src("nrec = rec.shape[0]; steps = rec[nrec - 1]; delay = np.int64(delay_f)")
        bookkeeping.start(src, spec, names, L)
        src("r = 1")
        with src.block("for t in range(1, steps + 1):"):
            bookkeeping.header(src, spec)
            bookkeeping.read_columns(src, spec, "c")
            bookkeeping.gradient(src, spec, names, L, loaded=True, into=("g_{j} = {g}",))
            _hooks(src, spec.dim)
            bookkeeping.rule_step(src, spec, names, L)
            bookkeeping.after_step(src, spec, names, L)
            src("fn = fl")
            with src.block("if loss_now:"):
                bookkeeping.new_loss(src, spec, L)
            bookkeeping.freeze(src, spec, L)
            for j in J:
                src(f"w_{j} = n_{j}")
            with src.block("if rec_now:"):
                bookkeeping.record(src, spec, names, L, "r", "fl")
                src("r += 1")
        bookkeeping.finish(src, spec, L)
    return src.text()


def _hooks(src: Source, d: int) -> None:
    """The run's hooks in order, on this thread's gradient
    (as :func:`optviz.engine.fast.blocks.apply_hooks`)."""
    with src.block("for h in range(hkind.shape[0]):"):
        src("kind = hkind[h]; o = hoff[h]")
        src("gn = math.sqrt(" + " + ".join(f"g_{j} * g_{j}" for j in range(d)) + ")")
        src("wn = math.sqrt(" + " + ".join(f"q_{j} * q_{j}" for j in range(d)) + ")")
        with src.block("if kind == 0:"):
            src("sc, dc = LARS(gn, wn, hset[o], hset[o + 1], hset[o + 2])")
        with src.block("elif kind == 1:"):
            src("sc, dc = CLIP(gn, wn, hset[o])")
        with src.block("else:"):
            src("sc, dc = DECAY(gn, wn, hset[o])")
        for j in range(d):
            src(f"g_{j} = (g_{j} + dc * q_{j}) * sc")


# ---------------------------------------------------------------------- compiling
def _module(keyed: Keyed) -> Any:
    """The kernel's module, written to the disk cache (numba-cuda caches by file) and loaded,
    its globals bound to the stages and formulas it calls, every one of them made compilable."""
    from optviz.engine import hooks as _hooks_mod
    from optviz.engine.fast import jit

    text = source(keyed.spec)
    key = hashlib.sha256((text + keyed.key).encode()).hexdigest()[:20]
    path = cache_dir() / f"optviz_cuda_{key}.py"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    module.__dict__.update(keyed.globals)
    module.__dict__.update(STEP=module.point_step, LARS=_hooks_mod.lars_factors, CLIP=_hooks_mod.clip_factors,
                           DECAY=_hooks_mod.weight_decay_factors)
    for fn in (*keyed.globals.values(), module.point_step, _hooks_mod.lars_factors, _hooks_mod.clip_factors,
               _hooks_mod.weight_decay_factors):
        jit.prepare(fn)
    _cuda_ops()
    return module


def kernel(keyed: Keyed) -> Any:
    """The CUDA kernel for ``keyed`` (numba.cuda compiles it at its first launch, once)."""
    with _LOCK:
        k = _KERNELS.get(keyed.key)
        if k is None:
            from numba import cuda

            module = _module(keyed)
            k = _KERNELS[keyed.key] = cuda.jit(cache=not simulated())(module.kernel)
        return k


def ptx(keyed: Keyed, cc: tuple[int, int] = (9, 0)) -> str:
    """The kernel compiled to PTX for compute capability ``cc``, without a device (a check)."""
    from numba import cuda
    from numba.cuda import dispatcher

    module = _module(keyed)
    here = dispatcher.get_current_device
    dispatcher.get_current_device = lambda: _Device(cc)  # (device functions ask the device's cc)
    try:
        text, _ = cuda.compile_ptx(module.kernel, signature.cuda_signature(), cc=cc)
    finally:
        dispatcher.get_current_device = here
    return text


class _Device:
    def __init__(self, cc: tuple[int, int]):
        self.compute_capability = cc


_CUDA_OPS: list[bool] = []


def _cuda_ops() -> None:
    """The few elementwise functions whose CPU meaning numba's CUDA target lacks (``np.floor``)."""
    if _CUDA_OPS or simulated():
        return
    _CUDA_OPS.append(True)
    from numba.cuda import libdevice
    from numba.extending import overload

    from functions import elementwise as E

    @overload(E.floor, target="cuda")
    def _floor(x):
        return lambda x: libdevice.floor(x)


# ---------------------------------------------------------------------- running a job
class GpuRunner(Runner):
    """A job on the GPU: the host's tables and keys (as the CPU's :class:`Runner`), copied to the
    device once; outputs on the device, copied back by :meth:`outcome`."""

    def __init__(self, job: Job, xp: Any = None):
        self.xp = xp if xp is not None else _array_module()
        super().__init__(job)
        xp = self.xp
        self.dev = {name: xp.asarray(v) if isinstance(v, np.ndarray) else v
                    for name, v in self.inputs.items()}
        self.dev_keys = [tuple(xp.asarray(a) if isinstance(a, np.ndarray) else a for a in keys)
                         for keys in self.rule_keys]
        n, d = job.n, job.dim
        self.d_traj = xp.empty(self.traj.shape[1:], dtype=np.float64)  # (one optimizer at a time)
        self.d_loss = xp.empty(self.loss.shape[1:], dtype=np.float64)
        self.d_div = xp.full(n, -1, dtype=np.int64)
        self.d_stt = xp.full(n, -1, dtype=np.int64)
        self.d_first = xp.full(n, -1, dtype=np.int64)
        self.ring = xp.zeros((job.delay + 1, d, n) if job.delay else (1, 1, 1), dtype=np.float64)

    def _compile(self) -> list[Any]:
        return [kernel(s) for s in self.keyed]

    def run(self, lo: int, hi: int, watch: Any) -> None:
        """Step points ``lo..hi`` of every optimizer, in launches of about :data:`LAUNCH_WORK`
        point-steps (a stop request is honoured between them)."""
        job, xp = self.job, self.xp
        per_launch = max(THREADS, int(LAUNCH_WORK // max(1, job.steps)) // THREADS * THREADS)
        D = self.dev
        for k, kern in enumerate(self.kernels):
            pieces = [(lo, hi, self.tables[k])] if self.tables[k] is not None else [
                (a, min(hi, a + self._slice[k]), None) for a in range(lo, hi, self._slice[k])]
            state = xp.asarray(self.states[k])
            rk0, rk1, rstride = self.dev_keys[k]
            for a, b, table in pieces:
                tab, uniq, combo, cstride = table or self._table(k, self.keyed[k], a, b)
                tab, uniq, combo = xp.asarray(tab), xp.asarray(uniq), xp.asarray(combo)
                for s in range(a, b, per_launch):
                    e = min(b, s + per_launch)
                    threads = min(THREADS, e - s)
                    with np.errstate(all="ignore"):  # (the simulator steps NumPy scalars)
                        kern[math.ceil((e - s) / threads), threads](*signature.ordered(dict(
                            D, lo=s, hi=e, tab=tab, hp0=uniq, combo=combo, cstride=cstride, rk0=rk0, rk1=rk1,
                            rstride=rstride, o_traj=self.d_traj, o_loss=self.d_loss, o_div=self.d_div,
                            o_stt=self.d_stt, o_first=self.d_first, o_state=state, ring=self.ring),
                            signature.GPU))
                    _synchronize(xp)
                    watch.tick((e - s) * job.steps)
                    if watch.flag[0] != 0:
                        raise Cancelled()
            self.traj[k] = _host(self.d_traj)
            self.loss[k] = _host(self.d_loss)
            self.div[k] = _host(self.d_div)
            if job.tol is not None:
                self.stt[k] = _host(self.d_stt)
                self.first[k] = _host(self.d_first)
            if job.record_state:
                self.states[k] = _host(state)

def _array_module() -> Any:
    if simulated():
        return np
    import cupy

    return cupy


def _synchronize(xp: Any) -> None:
    if xp is not np:
        xp.cuda.get_current_stream().synchronize()


def _host(a: Any) -> np.ndarray:
    return a if isinstance(a, np.ndarray) else a.get()


def prepare(job: Job, xp: Any = None) -> GpuRunner:
    """The job's CUDA kernels and device inputs, ready to :meth:`~GpuRunner.run`."""
    return GpuRunner(job, xp)

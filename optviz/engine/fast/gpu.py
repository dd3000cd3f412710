"""The fast path on a GPU: the same stages in a CUDA kernel, one thread per point, on CuPy arrays.

A point's run never meets another's, so on a GPU each thread takes one point and keeps its
position and state in registers for all the steps: nothing moves through memory per step but
the per-step table (the same for all threads of a run, so it is served from cache) and what is
recorded. The kernel is generated, as the CPU's (:mod:`optviz.engine.fast.codegen`), from the rule's
stages and the function's point formulas: it calls the same generated ``point_step``, and
numba (``numba.cuda``, from the ``numba-cuda`` package) compiles them all for the device. No
formula is written again here; what this module writes is the per-thread bookkeeping, the same
as the CPU kernel's and the readable loop's (the gradient where the rule takes it, noise,
hooks, divergence and freezing, recording, steps to tolerance).

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

from optviz.engine.fast import signature
from optviz.engine.fast.codegen import (
    KernelSpec,
    Names,
    Source,
    point_step_signature,
    write_error,
    write_point_step,
)
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
    """The CUDA kernel's Python source (module level): one thread steps one point."""
    d = spec.dim
    J = range(d)
    m = spec.maths
    names = Names(spec)
    hp_index = {name: k for k, name in enumerate(spec.hp_names)}
    column = {name: k for k, name in enumerate(spec.columns)}
    consts = ", ".join(f"fc[{k}]" for k in range(spec.n_consts))

    def value(prefix: str) -> str:
        return f"FVALUE({', '.join([f'{prefix}{j}' for j in J] + ([consts] if consts else []))})"

    def each(fmt: str) -> None:
        for j in J:
            src(fmt.format(j=j))

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
        src("c = combo[p * cstride]")
        # the start: position, state, loss, row 0
        each("w_{j} = W0[p, {j}]")
        for f in m.fields:
            init = m.init.get(f, 0.0)
            if isinstance(init, str):
                vals = [f"w_{j}" for j in J]
            elif hasattr(init, "fn"):
                a = ", ".join(f"hp0[c, {hp_index[x]}]" for x in init.args)
                vals = [f"INIT_{f}({a})"] * d
            else:
                vals = [repr(float(init))] * d
            if f in names.point_fields:
                src(f"s_{f} = {vals[0]}")
            else:
                for j in J:
                    src(f"s_{f}_{j} = {vals[j]}")
        src(f"f0 = {value('w_')}")
        src("fl = f0; alive = True; div = -1")
        if spec.tol:
            src(f"err = {write_error(src, spec, 'w', 'f0', 'math.sqrt')}")
            src("stt = 0 if err <= tol else -1")
        each("o_traj[0, p, {j}] = w_{j}")
        src("o_loss[0, p] = f0")
        if spec.record_state:
            _store_state(src, spec, names, "0")
        src("r = 1")
        with src.block("for t in range(1, steps + 1):"):
            src("tf = np.float64(t); ut = np.uint64(t)")
            src("rec_now = r < nrec and rec[r] == t")
            src("loss_now = True" if spec.loss_every_step else "loss_now = rec_now")
            grad_at = [m.grad_at] if m.grad_at is not None else []
            for name in dict.fromkeys(spec.used_columns(grad_at) + spec.update_columns):
                src(f"k_{name} = tab[c, t - 1, {column[name]}]")
            # the gradient: where the rule takes it, delayed, noisy, hooked
            if m.grad_at is not None:
                for j in J:
                    src(f"q_{j} = {names.call('GRAD_AT', m.grad_at, j)}")
            else:
                each("q_{j} = w_{j}")
            if spec.delay:
                src("slot = (t - 1) % (delay + 1)")
                src("old = (max(1, t - delay) - 1) % (delay + 1)")
                each("ring[slot, {j}, p] = q_{j}")
                each("q_{j} = ring[old, {j}, p]")
            qs = ", ".join([f"q_{j}" for j in J] + ([consts] if consts else []))
            src(f"gg = FGRAD({qs})")
            if spec.noise:
                for b in range((d + 1) // 2):
                    src(f"e_{2 * b}, e_{2 * b + 1} = NORMAL2(ut, np.uint64({b}), klo[p], khi[p], "
                        "gk0[p * gstride], gk1[p * gstride])")
            for j in J:
                g = f"gg[{j}]"
                if spec.noise:
                    scale = "sigma" if spec.noise == "absolute" else f"sigma * abs({g})"
                    g = f"{g} + {scale} * e_{j}"
                src(f"g_{j} = {g}")
            _hooks(src, d)
            # the rule's step
            used = set().union(*(set(st.args) for st in [m.per_coord, *m.per_point, *m.noise.values()]))
            if "f" in used:
                src("f_cur = fl")
            params, returns = point_step_signature(spec)
            call = [{"klo_p": "klo[p]", "khi_p": "khi[p]", "rk0_p": "rk0[p * rstride]",
                     "rk1_p": "rk1[p * rstride]"}.get(a, a) for a in params]
            src(f"{', '.join(returns)} = STEP({', '.join(call)})")
            each("n_{j} = w_{j} + u_{j}")
            src("ok = " + " & ".join(f"(abs(n_{j}) <= bound)" for j in J))
            src("fn = fl")
            with src.block("if loss_now:"):
                src(f"fn = {value('n_')}")
                with src.block("if not (abs(fn) < np.inf):"):
                    src("ok = False")
            with src.block("if not (alive and ok):"):  # frozen where it was (now or before)
                with src.block("if alive:"):
                    src("div = t; alive = False")
                each("n_{j} = w_{j}")
                with src.block("if loss_now:"):
                    src(f"fn = {value('w_')}")
            each("w_{j} = n_{j}")
            src("fl = fn")
            if spec.tol == "gap":
                with src.block("if stt < 0 and alive and fl - fstar <= tol:"):
                    src("stt = t")
            elif spec.tol == "distance":
                with src.block("if stt < 0 and alive:"):
                    src(f"err = {write_error(src, spec, 'w', '', 'math.sqrt')}")
                    with src.block("if err <= tol:"):
                        src("stt = t")
            with src.block("if rec_now:"):
                each("o_traj[r, p, {j}] = w_{j}")
                src("o_loss[r, p] = fl")
                if spec.record_state:
                    _store_state(src, spec, names, "r")
                src("r += 1")
        src("o_div[p] = div")
        if spec.tol:
            src("o_stt[p] = stt if div < 0 else -1")
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


def _store_state(src: Source, spec: KernelSpec, names: Names, row: str) -> None:
    for k, (f, j) in enumerate(spec.state_rows()):
        if f in ("grad", "update"):
            if row != "0":  # (NaN before any step: o_state is NaN-filled)
                src(f"o_state[{row}, {k}, p] = {'g' if f == 'grad' else 'u'}_{j}")
        elif j is None:
            src(f"o_state[{row}, {k}, p] = s_{f}")
        else:
            src(f"o_state[{row}, {k}, p] = s_{f}_{j}")


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
                            o_stt=self.d_stt, o_state=state, ring=self.ring), signature.GPU))
                    _synchronize(xp)
                    watch.tick((e - s) * job.steps)
                    if watch.flag[0] != 0:
                        raise Cancelled()
            self.traj[k] = _host(self.d_traj)
            self.loss[k] = _host(self.d_loss)
            self.div[k] = _host(self.d_div)
            self.stt[k] = _host(self.d_stt)
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

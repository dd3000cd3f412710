"""The compiled fast path: one kernel per (function, rule, options), blocks of points on threads.

Each kernel is generated as Python source (:mod:`optviz.fast.codegen`) that calls the rule's
own stages, the function's point formulas and the hooks' factors, and compiled by numba with
every one of them inlined (:mod:`optviz.fast.jit`): no formula is written twice. What varies
per step (hyperparameters under the schedule, bias corrections, bounds) is computed once per
step on the host by the rule's own per-step stages, into a small table the kernel reads;
per-point hyperparameters (sweeps) become rows of that table.

Compiled kernels are cached on disk (``$OPTVIZ_CACHE_DIR``, default ``~/.cache/optviz``),
keyed by a fingerprint of all the code they inline, so a changed formula never runs stale.

:func:`choose` decides the path of a run (see :func:`optviz.run`'s ``fused``):

- ``fused=True``: the fast path, or ``ValueError`` saying why it cannot run;
- ``fused=None`` (auto): the fast path when its kernels are ready (compiled in this process or
  found on disk) or the run is big enough (:data:`AUTO_COMPILE_WORK` point-steps) to pay for
  compiling them now; otherwise the readable path, while the kernels compile in a background
  thread for the next run. ``OPTVIZ_FAST=size`` keeps only the size rule (deterministic, for
  tests), ``OPTVIZ_FAST=off`` always picks the readable path, ``OPTVIZ_FAST=on`` always the
  fast one where it can run.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import math
import os
import sys
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .. import hooks as _hooks
from .. import noise as _noise
from ..job import Cancelled, Job, Outcome
from ..optimizers.base import step_env

#: Points per block: the unit a kernel keeps in L1 for all its steps.
BLOCK = 64
#: A part smaller than this many point-steps runs in the calling thread.
INLINE_WORK = 2_000_000
#: Threads are only used when each gets at least this many points.
MIN_POINTS_PER_THREAD = 64
#: Kernels are generated for functions of at most this many coordinates.
MAX_DIM = 16
#: Auto mode compiles a missing kernel at once for runs of at least this many point-steps.
AUTO_COMPILE_WORK = 50_000_000
#: Per-step tables larger than this (bytes) are split by points (each part its own combos).
TABLE_BYTES = 256 * 2**20

#: The hooks the kernels know, by kind (the order of :func:`optviz.fast.blocks.apply_hooks`).
HOOK_KINDS = (_hooks.lars_factors, _hooks.clip_factors, _hooks.weight_decay_factors)

_LOCK = threading.RLock()
_KERNELS: dict[str, Any] = {}
_WARMING: set[str] = set()


# ---------------------------------------------------------------------- can it run?
def numba_status() -> str | None:
    """None when numba can be used, else why not (found without importing it: that takes 0.5 s)."""
    if importlib.util.find_spec("numba") is None:  # pragma: no cover - numba is a dependency
        return "numba is not installed (pip install numba)"
    return None


def unsupported(job: Job, backend: str) -> str | None:
    """Why the fast path cannot run ``job`` (None when it can)."""
    if backend != "numpy":
        return f"the compiled kernels run on the CPU (NumPy); backend {backend!r} uses the readable path"
    if job.dtype != "float64":
        return "the compiled kernels compute in float64; float32 runs on the readable path"
    point = getattr(job.fn, "point", None)
    if point is None:
        return f"{getattr(job.fn, 'name', 'this function')} has no point formulas to compile"
    if job.dim > MAX_DIM:
        return f"the kernels are generated for at most {MAX_DIM} coordinates (this function has {job.dim})"
    known = set(HOOK_KINDS)
    for h in job.hooks:
        if getattr(h, "factors", None) not in known:
            return f"hook {getattr(h, 'label', h)!r} has no compiled form"
    return numba_status()


def _mode() -> str:
    return os.environ.get("OPTVIZ_FAST", "auto").strip().lower()


def choose(job: Job, backend: str, fused: bool | None) -> str:
    """``"fast"`` or ``"reference"`` for this run (see the module docstring)."""
    if fused is False:
        return "reference"
    why = unsupported(job, backend)
    if fused is True:
        if why:
            raise ValueError(f"fused=True: the compiled fast path cannot run this: {why}")
        return "fast"
    mode = _mode()
    if why or mode in ("off", "0", "false", "no"):
        return "reference"
    if mode in ("on", "1", "true", "yes"):
        return "fast"
    if job.work >= AUTO_COMPILE_WORK:
        return "fast"
    if mode == "size":
        return "reference"
    if all(_ready(s) for s in _specs(job)):
        return "fast"
    warm_up(job)
    return "reference"


# ---------------------------------------------------------------------- kernels
@functools.lru_cache(maxsize=1)
def _cache_dir() -> Path:
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


_SPECS: dict[tuple, _Keyed] = {}


def _spec(job: Job, k: int) -> _Keyed:
    """The kernel of optimizer ``k`` of ``job`` (its source and key are made once per kind)."""
    return _specs(job)[k]


def _specs(job: Job) -> list[_Keyed]:
    """The kernels of every optimizer of ``job`` (memoized by everything they depend on)."""
    point = job.fn.point
    shared = (id(point.value), id(point.grad), len(point.consts), job.dim,
              any("loss" in q.spec.needs for q in job.plan), job.noise_mode if job.noise else "",
              job.delay > 0, job.tol_kind if job.tol is not None else "", job.record_state)
    out = []
    for k, p in enumerate(job.plan):
        memo = (p.name, *shared)
        keyed = _SPECS.get(memo)
        if keyed is None or keyed.point.value is not point.value:
            keyed = _SPECS[memo] = _make_spec(job, k)
        out.append(keyed)
    return out


def _make_spec(job: Job, k: int) -> _Keyed:
    from .codegen import KernelSpec

    p = job.plan[k]
    maths = p.spec.maths
    return _Keyed(KernelSpec(
        maths=maths,
        hp_names=tuple(h.name for h in p.spec.hyperparams),
        dim=job.dim,
        n_consts=len(job.fn.point.consts),
        loss_every_step=any("loss" in q.spec.needs for q in job.plan)
        or (job.tol is not None and job.tol_kind == "gap"),
        noise=job.noise_mode if job.noise else "",
        delay=job.delay > 0,
        tol="" if job.tol is None else job.tol_kind,
        record_state=job.record_state,
    ), job.fn.point)


class _Keyed:
    """A kernel spec with its function's point form, its source and its fingerprint."""

    def __init__(self, spec: Any, point: Any):
        from . import codegen, keys

        self.spec, self.point = spec, point
        self.source = codegen.source(spec)
        self.globals = {**codegen.stage_globals(spec), "FVALUE": point.value, "FGRAD": point.grad,
                        "NORMAL": _noise.normal}
        col = {name: k for k, name in enumerate(spec.columns)}
        self.kcols = np.array([col[c] for c in spec.update_columns], dtype=np.int64)
        grad_at = [spec.maths.grad_at] if spec.maths.grad_at is not None else []
        self.gcols = np.array([col[c] for c in spec.used_columns(grad_at)], dtype=np.int64)
        import hashlib

        digest = hashlib.sha256(self.source.encode())
        digest.update(keys.fingerprint(*self.globals.values()).encode())
        self.key = digest.hexdigest()[:20]

    @property
    def path(self) -> Path:
        return _cache_dir() / f"optviz_kernel_{self.key}.py"


def _ready(keyed: _Keyed) -> bool:
    """Compiled in this process, or compiled before and cached on disk."""
    if keyed.key in _KERNELS:
        return True
    return (keyed.path.parent / f"{keyed.path.stem}.ok").exists()


def kernel(keyed: _Keyed):
    """The compiled kernel for ``keyed`` (compiled, or loaded from the disk cache, once)."""
    with _LOCK:
        if keyed.key in _KERNELS:
            return _KERNELS[keyed.key]
        import numba

        from . import jit

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
        from . import blocks

        module.__dict__.update(keyed.globals)
        module.STEP = module.point_step
        module.APPLY_HOOKS, module.GATHER, module.RECORD = blocks.apply_hooks, blocks.gather, blocks.record
        jit.prepare(module.point_step)
        compiled = numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)(module.kernel)
        _KERNELS[keyed.key] = compiled
        return compiled


_COMPILED: dict[str, Any] = {}


def _compile_now(keyed: _Keyed) -> Any:
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


def warm_up(job: Job, background: bool = True) -> None:
    """Compile the kernels ``job`` needs ahead of its run.

    ``background``: in a process of its own (``python -m optviz.fast.warm``, at low priority),
    which writes the disk cache; a later run in this process then loads the kernels in
    milliseconds. (A thread here would hold the GIL for seconds of numba's Python work and stall
    a server's page.) Otherwise: compile now, in this thread.
    """
    specs = _specs(job)
    _reap()
    with _LOCK:
        todo = [s for s in specs if not _ready(s) and s.key not in _WARMING]
        if not todo:
            return
        if background:
            from .warm import recipe

            r = recipe(job)
            if r is not None and _spawn([r], {s.key for s in todo}):
                return
    for s in todo:  # no process could be started: compile here (the caller's thread)
        _compile_now(s)


def compile_many(jobs: Iterable[Job], processes: int | None = None) -> int:
    """Compile the kernels of ``jobs`` into the disk cache, on ``processes`` processes at once
    (default: one per core), and wait. Returns how many kernels were compiled or loaded."""
    from ..engine import cores
    from .warm import recipe

    todo: dict[tuple[str, ...], dict] = {}
    for job in jobs:
        specs = _specs(job)
        keys = tuple(s.key for s in specs)
        if keys not in todo and not all(_ready(s) for s in specs):
            r = recipe(job)
            if r is None:
                for s in specs:
                    _compile_now(s)
            else:
                todo[keys] = r
    n = max(1, min(processes or cores(), len(todo)))
    groups = [list(todo.values())[i::n] for i in range(n)]
    procs = []
    for i, group in enumerate(groups):
        if group:
            keys = {k for ks in list(todo)[i::n] for k in ks}
            if _spawn(group, keys, nice=False):
                procs.append(_PROCS[-1][0])
    for proc in procs:
        proc.wait()
    _reap()
    return sum(len(k) for k in todo)


def warm_up_runs(runs: Iterable[dict[str, Any]]) -> bool:
    """Compile, in one background process, the kernels of these runs (each the keyword arguments
    of :func:`optviz.run`, e.g. a dashboard's default scene and its lessons). Returns whether a
    process was started (False: nothing to compile, or the fast path cannot run them)."""
    from ..engine import make_job
    from .warm import recipe

    recipes, keys = [], set()
    _reap()
    for kw in runs:
        kw = {k: v for k, v in kw.items() if k not in ("fused", "threads", "progress", "max_seconds")}
        job, _, backend, _ = make_job(**kw)
        if unsupported(job, backend) is not None:
            continue
        specs = _specs(job)
        todo = {s.key for s in specs if not _ready(s) and s.key not in _WARMING}
        r = recipe(job)
        if todo and r is not None:
            recipes.append(r)
            keys |= todo
    return bool(recipes) and _spawn(recipes, keys)


_PROCS: list[tuple[Any, set[str]]] = []


def _spawn(recipes: list[dict], keys: set[str], nice: bool = True) -> bool:
    import json
    import subprocess

    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])  # where optviz is imported from
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    env["OPTVIZ_WARM_NICE"] = "1" if nice else "0"
    try:
        proc = subprocess.Popen([sys.executable, "-m", "optviz.fast.warm"], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                start_new_session=True)
        proc.stdin.write(json.dumps(recipes).encode())
        proc.stdin.close()
    except OSError:
        return False
    _PROCS.append((proc, keys))
    _WARMING.update(keys)
    return True


def _reap() -> None:
    """Forget finished warm-up processes (their kernels are ready, or a later run retries)."""
    with _LOCK:
        for item in list(_PROCS):
            proc, keys = item
            if proc.poll() is not None:
                _PROCS.remove(item)
                _WARMING.difference_update(keys)


def wait_for_warm_up(timeout: float | None = None) -> None:
    """Wait until the warm-up processes started so far have finished."""
    for proc, _ in list(_PROCS):
        proc.wait(timeout)
    _reap()


def _run_once(keyed: _Keyed, k: Any) -> None:
    """Trigger the compilation with dummy arguments of the real types (2 points, 2 steps)."""
    spec = keyed.spec
    d = spec.dim
    n_hp, n_cols = len(spec.hp_names), len(spec.columns)
    rows = len(spec.state_rows()) if spec.record_state else 1
    f64, i64, u64 = np.float64, np.int64, np.uint64
    k(np.zeros((2, d)), 0, 2, BLOCK, np.ones((1, 2, n_cols)), np.ones((1, n_hp)), np.zeros(1, i64), 0,
      np.ones(max(1, spec.n_consts)), np.zeros(0, i64), np.zeros(0, i64), np.zeros(1, f64), np.zeros((1, d)),
      np.zeros(2, u64), np.zeros(2, u64), np.zeros(1, u64), np.zeros(1, u64), 0, np.zeros(1, u64),
      np.zeros(1, u64), 0, np.array([1e6, 0.0, 1e-3, 0.0, 1e-300, 2.0, 0.0]), np.array([0, 2], i64),
      keyed.kcols, keyed.gcols, np.zeros((2, 2, d)), np.zeros((2, 2)), np.zeros(2, i64), np.zeros(2, i64),
      np.zeros((2, rows, 2)), np.zeros(1, i64), np.zeros(1, i64))


# ---------------------------------------------------------------------- running a job
_TABLES: dict[tuple, tuple] = {}
_TABLES_MAX = 256


def _hyper_table(job: Job, k: int, columns: tuple[str, ...], idx: np.ndarray):
    """(table (n_combo, steps, n_cols), unscheduled values (n_combo, n_hp), combo per point).

    Tables of runs with one value per hyperparameter are kept (a few hundred, the last ones):
    the dashboard reruns the same optimizers with the same settings often.
    """
    p = job.plan[k]
    uniform = not any(isinstance(v, np.ndarray) for v in p.hyperparams.values())
    if not uniform:
        return _make_table(job, k, columns, idx)
    memo = (p.name, tuple(float(p.hyperparams[h.name]) for h in p.spec.hyperparams), job.steps,
            hash(job.factors.tobytes()), columns)
    hit = _TABLES.get(memo)
    if hit is None:
        if len(_TABLES) >= _TABLES_MAX:
            _TABLES.pop(next(iter(_TABLES)))
        hit = _TABLES[memo] = _make_table(job, k, columns, idx)
    return hit


def _make_table(job: Job, k: int, columns: tuple[str, ...], idx: np.ndarray):
    p = job.plan[k]
    specs = p.spec.hyperparams
    lr = {h.name for h in specs if h.lr}
    n = idx.size
    per_point = [h.name for h in specs if isinstance(p.hyperparams[h.name], np.ndarray)]
    if per_point:
        M = np.column_stack([np.broadcast_to(np.asarray(p.hyperparams[h.name], dtype=float)[idx]
                                             if h.name in per_point else float(p.hyperparams[h.name]), (n,))
                             for h in specs])
        uniq, combo = np.unique(M, axis=0, return_inverse=True)
        combo = combo.reshape(-1).astype(np.int64)
    else:
        uniq = np.array([[float(p.hyperparams[h.name]) for h in specs]])
        combo = np.zeros(1, dtype=np.int64)
    names = [h.name for h in specs]
    T, n_combo = job.steps, uniq.shape[0]
    tab = np.empty((n_combo, T, len(columns)))
    maths = p.spec.maths

    # one call of the per-step stages over all steps at once (the same operations, element by
    # element, as the readable path's call at each step: the table equals its values exactly)
    t = np.arange(1, T + 1, dtype=float)[None, :]
    f = np.asarray(job.factors, dtype=float)[None, :]
    hp = {name: uniq[:, i][:, None] * (f if name in lr else 1.0) for i, name in enumerate(names)}
    env = step_env(maths, hp, t, T)
    for c, name in enumerate(columns):
        tab[:, :, c] = env[name]
    return tab, uniq, combo


def _per_point(a: Any, n: int) -> tuple[np.ndarray, int]:
    """A value that may be one per point: (array, stride) for the kernels' ``a[p * stride]``."""
    arr = np.array(np.reshape(np.asarray(a, dtype=np.uint64), (-1,)))
    return (arr, 1) if arr.size == n and n > 1 else (arr[:1], 0)


class Runner:
    """A job ready to step on the fast path: kernels compiled, tables built, outputs allocated.

    :meth:`run` steps the points ``lo..hi`` of every optimizer (threads run disjoint ranges,
    writing into the same outputs); :meth:`outcome` gives the result once all have run.
    """

    def __init__(self, job: Job):
        self.job = job
        n, d, K = job.n, job.dim, len(job.plan)
        self.keyed = _specs(job)
        self.kernels = [_compile_now(s) for s in self.keyed]
        n_rec = len(job.rec)
        self.traj = np.empty((K, n_rec, n, d))
        self.loss = np.empty((K, n_rec, n))
        self.div = np.full((K, n), -1, dtype=np.int64)
        self.stt = np.full((K, n), -1, dtype=np.int64)
        self.state_rows = [s.spec.state_rows() if job.record_state else [] for s in self.keyed]
        none = np.full((1, 1, 1), np.nan)  # (recorded state: only when asked)
        self.states = [np.full((n_rec, len(r), n), np.nan) if r else none for r in self.state_rows]
        kinds = {fn: i for i, fn in enumerate(HOOK_KINDS)}
        hset, hoff = [], []
        for h in job.hooks:
            hoff.append(len(hset))
            hset += [float(v) for _, v in h.settings]
        self.hkind = np.array([kinds[h.factors] for h in job.hooks], dtype=np.int64)
        self.hoff = np.array(hoff, dtype=np.int64)
        self.hset = np.array(hset or [0.0])
        fn = job.fn
        self.fc = np.array(list(fn.point.consts) or [0.0], dtype=float)
        # (writable copies: numba compiles read-only arrays as another type)
        mins = np.array(fn.minimizers, dtype=float).reshape(-1, d)
        self.mins = mins if mins.size else np.zeros((1, d))
        fstar = 0.0 if fn.fmin is None else float(fn.fmin)
        tiny = float(np.finfo(np.float64).smallest_normal)
        self.prm = np.array([job.bound, job.noise, job.tol or 0.0, fstar, tiny, job.steps, job.delay],
                            dtype=float)
        self.rec = np.asarray(job.rec, dtype=np.int64)
        self.W0 = np.array(job.starts, dtype=np.float64)
        self.klo = np.array(job.keys[0], dtype=np.uint64)
        self.khi = np.array(job.keys[1], dtype=np.uint64)
        g0, g1 = job.seed_words(_noise.GRADIENT_STREAM)
        self.gk0, gs = _per_point(g0, n)
        self.gk1, _ = _per_point(g1, n)
        self.gstride = gs
        self.rule_keys = []
        for p in job.plan:
            if "noise" not in p.spec.needs:  # (the rule draws nothing)
                self.rule_keys.append((self.gk0, self.gk1, self.gstride))
                continue
            k0, k1 = job.seed_words(_noise.stream_of(p.name))
            a0, st = _per_point(k0, n)
            a1, _ = _per_point(k1, n)
            self.rule_keys.append((a0, a1, st))
        # per-step tables: one for all points, unless too big (then per slice of points, in run)
        self.tables: list[Any] = []
        for k, s in enumerate(self.keyed):
            width = job.steps * len(s.spec.columns) * 8
            distinct = n if any(isinstance(v, np.ndarray) for v in job.plan[k].hyperparams.values()) else 1
            self.tables.append(self._table(k, s, 0, n) if distinct * width <= TABLE_BYTES else None)
        self._slice = [max(BLOCK, TABLE_BYTES // max(1, job.steps * len(s.spec.columns) * 8) // BLOCK * BLOCK)
                       for s in self.keyed]

    def _table(self, k: int, keyed: _Keyed, lo: int, hi: int):
        tab, uniq, combo = _hyper_table(self.job, k, keyed.spec.columns, np.arange(lo, hi))
        if combo.size > 1 and (lo, hi) != (0, self.job.n):  # the kernels index combos by point
            full = np.zeros(self.job.n, dtype=np.int64)
            full[lo:hi] = combo
            combo = full
        return tab, uniq, combo, (1 if combo.size > 1 else 0)

    def run(self, lo: int, hi: int, watch: Any) -> None:
        """Step points ``lo..hi`` of every optimizer."""
        meter = np.zeros(1, dtype=np.int64)
        watch.meters.append(meter)
        for k, kern in enumerate(self.kernels):
            if self.tables[k] is not None:
                pieces = [(lo, hi, self.tables[k])]
            else:  # a sweep with too many distinct values for one table: slices of points
                step = self._slice[k]
                pieces = [(a, min(hi, a + step), None) for a in range(lo, hi, step)]
            rk0, rk1, rstride = self.rule_keys[k]
            for a, b, table in pieces:
                tab, uniq, combo, cstride = table or self._table(k, self.keyed[k], a, b)
                keyed = self.keyed[k]
                kern(self.W0, a, b, BLOCK, tab, uniq, combo, cstride, self.fc, self.hkind, self.hoff,
                     self.hset, self.mins, self.klo, self.khi, rk0, rk1, rstride, self.gk0, self.gk1,
                     self.gstride, self.prm, self.rec, keyed.kcols, keyed.gcols, self.traj[k], self.loss[k],
                     self.div[k], self.stt[k], self.states[k], watch.flag, meter)
                if watch.flag[0] != 0:
                    raise Cancelled()

    def outcome(self) -> Outcome:
        job = self.job
        states = None
        if job.record_state:
            states = []
            for k, rows in enumerate(self.state_rows):
                maths = job.plan[k].spec.maths
                fields: dict[str, np.ndarray] = {}
                for f in [*maths.fields, "grad", "update"]:
                    ix = [i for i, (name, _) in enumerate(rows) if name == f]
                    if f in maths.point_fields:
                        fields[f] = self.states[k][:, ix[0], :]
                    else:
                        fields[f] = np.moveaxis(self.states[k][:, ix, :], 1, 2)
                states.append(fields)
        stt = None
        if job.tol is not None:
            stt = np.where(self.div >= 0, -1, self.stt)
        return Outcome(np.moveaxis(self.traj, 0, 1), np.moveaxis(self.loss, 0, 1), self.div, stt, states)


def prepare(job: Job) -> Runner:
    """Compile (or load) the job's kernels and build its tables and outputs."""
    return Runner(job)


def step(job: Job, watch: Any) -> Outcome:
    """Step a whole job on the fast path in this thread."""
    runner = prepare(job)
    runner.run(0, job.n, watch)
    return runner.outcome()


def ranges(n: int, parts: int) -> list[tuple[int, int]]:
    """Contiguous point ranges, whole blocks where possible, about equal."""
    blocks = math.ceil(n / BLOCK)
    parts = max(1, min(parts, blocks))
    cuts = [round(i * blocks / parts) * BLOCK for i in range(parts + 1)]
    cuts[-1] = n
    return [(a, min(b, n)) for a, b in itertools.pairwise(cuts) if a < min(b, n)]

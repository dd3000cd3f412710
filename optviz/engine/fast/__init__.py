"""The compiled fast path: one kernel per (function, rule, options), blocks of points on threads.

Each kernel is generated as Python source that calls the rule's own stages and the function's point
formulas, and compiled by numba with every one of them inlined (:mod:`optviz.engine.fast.jit`): no
formula is written twice. The step's bookkeeping around the rule is described once
(:mod:`optviz.engine.fast.bookkeeping`) and emitted by both generators, the CPU's
(:mod:`optviz.engine.fast.cpu`, blocks of points) and the CUDA one (:mod:`optviz.engine.fast.gpu`, a
point per thread), from the pieces in :mod:`optviz.engine.fast.codegen`; the kernels' arguments are
listed once (:mod:`optviz.engine.fast.signature`). Learning problems and functions of more than 16
coordinates take the wide CPU kernel (:mod:`optviz.engine.fast.wide`: a loop over coordinates, the
problem's training rows and minibatch table as arguments). The parts that depend on neither rule nor function
(hooks, per-step values, recording) are shared, compiled once (:mod:`optviz.engine.fast.blocks`).
Rooms: :mod:`~optviz.engine.fast.kernels` (generating, compiling, caching), :mod:`~optviz.engine.fast.runner`
(running a job on them), :mod:`~optviz.engine.fast.warm` (compiling ahead, in other processes),
:mod:`~optviz.engine.fast.support` (what the fast path can run). What varies
per step (hyperparameters under the schedule, bias corrections, bounds) is computed once per
step on the host by the rule's own per-step stages, into a small table the kernel reads;
per-point hyperparameters (sweeps) become rows of that table. The readable loop reads the same
table (:mod:`optviz.engine.steptable`), so both paths step with the same per-step numbers, bit for bit.

Compiled kernels are cached on disk (``$OPTVIZ_CACHE_DIR``, default ``~/.cache/optviz``),
keyed by a fingerprint of all the code they inline, so a changed formula never runs stale.

:func:`choose` decides the path of a run (see :func:`optviz.run`'s ``fused``):

- ``fused=True``: the fast path, or ``ValueError`` saying why it cannot run;
- ``fused=None`` (auto): the fast path when its kernels are ready (compiled in this process or
  found on disk) or the run is big enough (:data:`AUTO_COMPILE_WORK` point-steps) to pay for
  compiling them now; otherwise the readable path, while the kernels compile in a background
  process for the next run (:func:`warm_up`). In a server (:func:`set_interactive`) no run
  waits for a compile: the size rule is off, and a run whose kernels are not ready takes the
  readable path while they compile in the background. ``OPTVIZ_FAST=size`` keeps only the size rule
  (deterministic, for tests), ``OPTVIZ_FAST=off`` always picks the readable path,
  ``OPTVIZ_FAST=on`` always the fast one where it can run.
"""

from __future__ import annotations

import os
from typing import Any

from optviz.engine.fast.kernels import BLOCK, specs
from optviz.engine.fast.kernels import ready as _ready
from optviz.engine.fast.runner import Runner, ranges
from optviz.engine.fast.runner import prepare as _prepare_cpu
from optviz.engine.fast.support import MAX_DIM, numba_status, unsupported
from optviz.engine.fast.warm import compile_many, wait_for_warm_up, warm_up, warm_up_runs
from optviz.engine.job import Job, Outcome

__all__ = ["BLOCK", "MAX_DIM", "Runner", "choose", "compile_many", "numba_status", "prepare", "ranges",
           "set_interactive", "step", "unsupported", "wait_for_warm_up", "warm_up", "warm_up_runs"]

#: A part smaller than this many point-steps runs in the calling thread.
INLINE_WORK = 2_000_000
#: Threads are only used when each gets at least this many points.
MIN_POINTS_PER_THREAD = 32
#: Auto mode compiles a missing kernel at once for runs of at least this many point-steps.
AUTO_COMPILE_WORK = 50_000_000


def prepare(job: Job, backend: str = "numpy") -> Runner:
    """The job's kernels compiled (or loaded) and its tables and outputs built, for the CPU
    (``"numpy"``) or the GPU (``"cupy"``)."""
    if backend == "cupy":
        from optviz.engine.fast import gpu

        return gpu.prepare(job)
    return _prepare_cpu(job)


def step(job: Job, watch: Any, backend: str = "numpy") -> Outcome:
    """Step a whole job on the fast path in this thread."""
    runner = prepare(job, backend)
    runner.run(0, job.n, watch)
    return runner.outcome()


def _mode() -> str:
    return os.environ.get("OPTVIZ_FAST", "auto").strip().lower()


_INTERACTIVE = [False]


def set_interactive(on: bool = True) -> None:
    """For this process (a server, such as the dashboard's): the automatic choice never compiles
    in the caller's thread, whatever the run's size (a page must not wait half a minute for its
    kernels); the run then takes the readable path and the kernels compile in the background."""
    _INTERACTIVE[0] = bool(on)


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
    if mode in ("on", "1", "true", "yes") or backend == "cupy":
        return "fast"  # (on a GPU: compiling takes seconds, the readable path's steps far more)
    if job.work >= AUTO_COMPILE_WORK and (mode == "size" or not _INTERACTIVE[0]):
        return "fast"  # (the size rule alone: the same path on every machine and in any process)
    if mode == "size":
        return "reference"
    if all(_ready(s) for s in specs(job)):
        return "fast"
    warm_up(job)
    return "reference"

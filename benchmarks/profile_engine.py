#!/usr/bin/env python
"""Where the engine's time goes: one optimizer, n points, 2-D Rosenbrock, float64 (NumPy).

    python benchmarks/profile_engine.py                       # Adam, 10^4 points, 300 steps
    python benchmarks/profile_engine.py --optimizer MSGD --n 100 --steps 2000
    python benchmarks/profile_engine.py --setup --n 100 --steps 2000    # a compiled run's phases

Prints three things:

1. the wall time per step of ``optviz.run(..., record_every=steps)`` and of ``record_every=1``;
2. micro-timings of the step loop's components, each called on its own on the engine's own
   building blocks (the function's ``grad``/``value``, the rule's ``update`` and, when it has
   one, its in-place ``fused`` path, the divergence test, ``W + D``, one recorded row); what
   the per-step time has beyond their sum is the loop's Python overhead;
3. a cProfile of one ``optviz.run`` call (top functions by own time).

The component list mirrors the step loop of ``optviz/engine.py`` as of this script's commit;
if the loop changes, the cProfile section stays exact and the components stay indicative.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import functions  # noqa: E402
import optviz  # noqa: E402
from optviz import engine  # noqa: E402
from optviz.optimizers import StepContext  # noqa: E402
from optviz.optimizers import get as get_optimizer  # noqa: E402


def per_call(fn, min_time: float = 0.2) -> float:
    """Best-of-5 seconds per call of ``fn()``, each batch lasting about ``min_time / 5``."""
    fn()
    reps = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time / 5:
            break
        reps *= 4
    best = dt / reps
    for _ in range(4):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--optimizer", default="Adam")
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--top", type=int, default=18, help="cProfile rows to print")
    p.add_argument("--setup", action="store_true",
                   help="instead: where one compiled-path optviz.run call's wall time goes (validation, "
                        "path and threads, kernels and outputs, stepping, result), best and median")
    p.add_argument("--calls", type=int, default=300, help="--setup: calls timed")
    a = p.parse_args(argv)
    if a.setup:
        return setup_breakdown(a.optimizer, a.n, a.steps, a.calls)

    fn = functions.get("rosenbrock")
    starts = optviz.scene.starts.random(fn.box, a.n, seed=0)
    name, n, steps = a.optimizer, a.n, a.steps
    spec = get_optimizer(name)
    hp = dict(spec.defaults)
    us = 1e6

    # 1. whole runs
    def whole(record_every):
        def go():
            return optviz.run("rosenbrock", {name: hp}, starts, steps, record_every=record_every)
        go()
        return min(per_call(go, 0.5) for _ in range(2)) / steps

    t_end, t_all = whole(steps), whole(1)
    res = optviz.run("rosenbrock", {name: hp}, starts, steps, record_every=steps)
    print(f"{name}, {n:,} points, {steps} steps, float64, NumPy {np.__version__}")
    print(f"  optviz.run record_every=steps : {t_end * us:8.1f} us/step  "
          f"({n / t_end:.3e} point-steps/s; step loop alone {res.elapsed / steps * us:.1f} us/step)")
    print(f"  optviz.run record_every=1     : {t_all * us:8.1f} us/step  "
          f"(+{(t_all - t_end) * us:.1f} us/step for recording)")

    # 2. components, on the engine's own building blocks
    W = starts.copy()
    G = fn.grad(W)
    rule = spec.rule
    state = rule.init(W, hp)
    ctx = StepContext(10, steps, fn.value(W), fn.fmin, fn.grad, lambda: None)
    D = np.empty_like(W)
    bound = 1e6 * 3.0
    rows = {
        "fn.grad(W)": lambda: fn.grad(W),
        "fn.value(W)": lambda: fn.value(W),
        f"{name} rule.update (allocating)": lambda: rule.update(G, state, W, hp, ctx),
    }
    fused = getattr(rule, "fused", None)
    if fused is not None:
        fstate = rule.init(W, hp)
        rows[f"{name} rule.fused (in place)"] = lambda: fused(G, fstate, W, hp, ctx, D)
    W3, D3 = W[None], D[None]
    rows["W + D"] = lambda: W3 + D3
    inside = getattr(engine, "_inside", None)
    if inside is not None:
        rows["divergence test engine._inside + all()"] = lambda: bool(np.all(inside(np, W3, bound)))
    rows["(alternative) bound test by np.max/np.min"] = lambda: bool(
        np.max(W3) <= bound and np.min(W3) >= -bound)  # NaN propagates: False, then mask
    L3 = fn.value(W)[None]
    traj, losses = np.empty((2, 1, n, 2)), np.empty((2, 1, n))

    def rec():
        traj[1, ...] = W3
        losses[1, ...] = L3

    rows["record one row (traj, loss copy)"] = rec
    rows["StepContext(...) + dict lookups"] = lambda: StepContext(1, steps, L3[0], None, None, None)
    print("\n  component (called alone)                  us/call   % of a record_every=steps step")
    for label, f in rows.items():
        t = per_call(f)
        print(f"  {label:40s} {t * us:9.1f}   {100 * t / t_end:6.1f}%")

    # 3. cProfile
    prof = cProfile.Profile()
    prof.enable()
    optviz.run("rosenbrock", {name: hp}, starts, steps, record_every=steps)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(a.top)
    print(f"\n  cProfile of one optviz.run (record_every=steps), top {a.top} by own time:")
    text = buf.getvalue()
    print(text[text.find("   ncalls"):].rstrip())
    return 0


def setup_breakdown(name: str, n: int, steps: int, calls: int) -> int:
    """The phases of a compiled-path run, each timed as :func:`optviz.run` calls it (the engine's
    public pieces: ``make_job``, ``fast.choose``, ``fast.prepare``, the runner's stepping in this
    thread, its outcome), beside whole ``optviz.run`` calls (which split the stepping over the cores)."""
    from types import SimpleNamespace

    from optviz.engine import fast
    from optviz.engine.job import make_job

    fn = functions.get("rosenbrock")
    starts = optviz.scene.starts.random(fn.box, n, seed=0)
    hp = dict(get_optimizer(name).defaults)
    optviz.run("rosenbrock", {name: hp}, starts, steps, record_every=steps, fused=True)  # compile
    times: dict[str, list[float]] = {}

    def lap(key: str, t0: float) -> float:
        now = time.perf_counter()
        times.setdefault(key, []).append(now - t0)
        return now

    for _ in range(calls):
        t0 = t = time.perf_counter()
        job, _, backend, _ = make_job("rosenbrock", {name: hp}, starts, steps, record_every=steps)
        t = lap("validate (make_job)", t)
        fast.choose(job, backend, True)
        t = lap("choose the path", t)
        runner = fast.prepare(job)
        t = lap("kernels, tables, outputs (prepare)", t)
        runner.run(0, job.n, SimpleNamespace(flag=np.zeros(1, np.int64), meters=[]))
        runner.outcome()
        t = lap("stepping, one thread", t)
        lap("sum of the phases", t0)
        t = time.perf_counter()
        res = optviz.run("rosenbrock", {name: hp}, starts, steps, record_every=steps, fused=True)
        lap("optviz.run (wall)", t)
        times.setdefault("optviz.run: Result.elapsed (its stepping)", []).append(res.elapsed)
    print(f"{name}, {n:,} points x {steps:,} steps, compiled path: where one run's time goes")
    print("  phase                                          best us   median us")
    for key, v in times.items():
        print(f"  {key:45s} {min(v) * 1e6:9.1f}  {np.median(v) * 1e6:9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""A real learning problem on the engine and on its peers (issue 21): the 2-16-1 tanh MLP on two moons.

1,000 starts x 500 steps of Adam, minibatches of B = 32 of the 256 training samples (the same batch
at the same step for every start: ``functions.problems.batch_table``), float64, recording the final
state and the full training loss every 10 steps, timed as a user waits for it (wall time, compiled
before timing), on

* ``engine``      ``optviz.run("moons-mlp", {"Adam": ...}, starts, 500, batch=32, record_every=10)`` on
                  the compiled path (the wide kernel, :mod:`optviz.engine.fast.wide`);
* ``jax``         ``jax.jit(jax.vmap(run_one))``: one start's 500 optax Adam steps in ``lax.scan`` on the
                  same batches, the loss every 10 steps, vmapped over the starts, x64;
* ``torch``       ``torch.func.vmap`` of ``torch.func.grad`` of the same network over the starts, Adam
                  written on the batched ``(starts, 65)`` tensor, a Python loop over the steps.

The three compute the same maths on the same batches; the final points are compared (max relative
difference) so a fast wrong answer shows. Each call's CPU time (all threads) is recorded beside its
wall time: CPU / wall says how many of the machine's cores it kept busy (on a shared machine the wall
ratio moves with the others' load; the CPU ratio much less). The loss surface of the issue's plane
(51 x 51) is timed too, as the engine evaluates it (one batched ``fn.value`` call).

    python benchmarks/bench_problems.py                 # writes results-problems.json / .md
    python benchmarks/bench_problems.py --starts 100    # smaller
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import functions  # noqa: E402
import optviz  # noqa: E402
from functions.problems.minibatch import batch_table  # noqa: E402

#: Adam's ε is tiny so that where it sits (optviz and the torch loop below: α_t m / √(v + ε); optax with
#: ``eps=0, eps_root=ε``: m̂ / √(v̂ + ε)) changes nothing that shows: the final points then agree.
HP = {"alpha": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-30}
SEED = 0


def layout(fn: Any) -> tuple[int, int]:
    """(inputs k, hidden h) of the k-h-1 network: parameters W1 (h x k, by rows), b1, w2, b2."""
    k = fn.inputs
    return k, (fn.dim - 1) // (k + 2)


def engine_run(fn, starts, steps, batch, every):
    res = optviz.run(fn, {"Adam": HP}, starts, steps, batch=batch, record_every=every, seed=SEED, fused=True,
                     max_seconds=None)
    return res.trajectories["Adam"][-1], res


def jax_runner(fn, steps, batch, every):
    import jax
    import jax.numpy as jnp
    import optax

    jax.config.update("jax_enable_x64", True)
    data = np.asarray(fn.data_form.data)
    k, h = layout(fn)
    A, y = jnp.asarray(data[:, :k]), jnp.asarray(data[:, k])
    table = jnp.asarray(batch_table(SEED, steps, data.shape[0], batch))
    tx = optax.adam(HP["alpha"], b1=HP["beta1"], b2=HP["beta2"], eps=0.0, eps_root=HP["eps"])

    def loss(x, a, t):
        W1 = x[: h * k].reshape(h, k)
        b1, w2, b2 = x[h * k: h * k + h], x[h * k + h: h * k + 2 * h], x[h * k + 2 * h]
        z = jnp.tanh(a @ W1.T + b1) @ w2 + b2
        return jnp.mean(jnp.maximum(z, 0.0) - t * z + jnp.log1p(jnp.exp(-jnp.abs(z))))

    grad = jax.grad(loss)

    def one(x0):
        def step(carry, rows):
            x, state = carry
            g = grad(x, A[rows], y[rows])
            upd, state = tx.update(g, state, x)
            return (optax.apply_updates(x, upd), state), None

        def block(carry, rows):  # `every` steps, then the full training loss
            carry, _ = jax.lax.scan(step, carry, rows)
            return carry, loss(carry[0], A, y)

        (x, _), losses = jax.lax.scan(block, (x0, tx.init(x0)), table.reshape(steps // every, every, batch))
        return x, losses

    solve = jax.jit(jax.vmap(one))

    def run(starts):
        x, losses = solve(jnp.asarray(starts))
        return np.asarray(x.block_until_ready()), losses

    return run


def torch_runner(fn, steps, batch, every, timed_steps=None):
    import torch
    from torch.func import grad, vmap

    torch.set_default_dtype(torch.float64)
    data = torch.as_tensor(np.asarray(fn.data_form.data))
    k, h = layout(fn)
    A, y = data[:, :k], data[:, k]
    table = torch.as_tensor(batch_table(SEED, steps, data.shape[0], batch))
    b1_, b2_, eps, lr = HP["beta1"], HP["beta2"], HP["eps"], HP["alpha"]

    def loss(x, a, t):
        W1 = x[: h * k].reshape(h, k)
        b1, w2, b2 = x[h * k: h * k + h], x[h * k + h: h * k + 2 * h], x[h * k + 2 * h]
        z = torch.tanh(a @ W1.T + b1) @ w2 + b2
        return torch.mean(torch.clamp(z, min=0.0) - t * z + torch.log1p(torch.exp(-torch.abs(z))))

    g_all = vmap(grad(loss), in_dims=(0, None, None))
    f_all = vmap(loss, in_dims=(0, None, None))

    @torch.no_grad()
    def run(starts):
        x = torch.as_tensor(starts).clone()
        m, v = torch.zeros_like(x), torch.zeros_like(x)
        losses = []
        for t in range(1, (timed_steps or steps) + 1):
            rows = table[t - 1]
            g = g_all(x, A[rows], y[rows])
            m.mul_(b1_).add_(g, alpha=1 - b1_)
            v.mul_(b2_).addcmul_(g, g, value=1 - b2_)
            rate = lr * (1 - b2_ ** t) ** 0.5 / (1 - b1_ ** t)  # (optviz's Adam, the same bits)
            x -= rate * m / (v + eps).sqrt()
            if t % every == 0:
                losses.append(f_all(x, A, y))
        return x.numpy(), losses

    return run


def timed(call, repeats: int) -> tuple[list[float], Any, list[float]]:
    """Wall times of ``repeats`` calls, the last call's result, and each call's CPU time (all threads
    of this process: CPU / wall is how many cores the call kept busy)."""
    times, cpu, out = [], [], None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = call()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return times, out, cpu


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--starts", type=int, default=1000)
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--every", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--impls", default="engine,jax,torch")
    p.add_argument("--torch-steps", type=int, default=0,
                   help="time torch on this many steps and scale (its Python loop is slow); 0: all")
    p.add_argument("--out", type=Path, default=HERE / "results-problems.json")
    a = p.parse_args(argv)
    fn = functions.get("moons-mlp")
    starts = np.random.default_rng(1).normal(0.0, 0.5, size=(a.starts, fn.dim))
    load0 = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    rows: dict[str, Any] = {}
    finals: dict[str, np.ndarray] = {}
    impls = a.impls.split(",")
    calls: dict[str, Any] = {}
    scale: dict[str, float] = {}
    for impl in impls:  # set up and compile (excluded from the times)
        if impl == "engine":
            engine_run(fn, starts[:2], 2, a.batch, 1)
            calls[impl] = lambda: engine_run(fn, starts, a.steps, a.batch, a.every)
            rows[impl] = {}
        elif impl == "jax":
            run = jax_runner(fn, a.steps, a.batch, a.every)
            run(starts)
            calls[impl] = lambda run=run: run(starts)
            rows[impl] = {}
        elif impl == "torch":
            part = min(a.steps, a.torch_steps or a.steps)
            run = torch_runner(fn, a.steps, a.batch, a.every, part)
            run(starts[:2])  # (torch.func's first call sets itself up)
            calls[impl] = lambda run=run: run(starts)
            rows[impl] = {}
            if part < a.steps:  # (a Python loop of equal steps: the time scales with their number)
                scale[impl] = a.steps / part
                rows[impl]["note"] = f"timed on the first {part} of {a.steps} steps, scaled"
        else:
            p.error(f"unknown implementation {impl}")
    # the implementations take turns, a call each per round, so that a change in the machine's load
    # falls on all of them; each round's engine speed-ups are kept too
    times: dict[str, list[float]] = {impl: [] for impl in impls}
    cpus: dict[str, list[float]] = {impl: [] for impl in impls}
    for _ in range(a.repeats):
        for impl in impls:
            (t,), out, (c,) = timed(calls[impl], 1)
            times[impl].append(t * scale.get(impl, 1.0))
            cpus[impl].append(c * scale.get(impl, 1.0))
            if impl == "engine":
                x, res = out
                rows[impl]["kernel_s"] = res.elapsed
            else:
                x = out[0]
            if impl not in scale:
                finals[impl] = x
    for impl in impls:
        ts, cpu = times[impl], cpus[impl]
        best = int(np.argmin(ts))
        rows[impl].update(best_s=min(ts), median_s=statistics.median(ts), calls=len(ts), cpu_s=cpu[best],
                          cores_busy=cpu[best] / ts[best])
        if impl != "engine" and "engine" in times:
            rows[impl]["engine_speedup_by_round"] = [t / e for t, e in zip(ts, times["engine"], strict=True)]
        print(f"{impl:7s} best {min(ts):8.3f} s  median {statistics.median(ts):8.3f} s  "
              f"(CPU {cpu[best]:.3f} s: {cpu[best] / ts[best]:.2f} cores busy)", flush=True)
    base = finals.get("engine")
    for impl, x in finals.items():
        if base is not None:
            rel = np.abs(x - base) / np.maximum(1.0, np.abs(base))
            rows[impl]["max_rel_diff_vs_engine"] = float(np.max(rel))
    for impl, row in rows.items():
        if "engine" in rows and impl != "engine":
            row["engine_speedup"] = row["best_s"] / rows["engine"]["best_s"]
            row["engine_cpu_speedup"] = row["cpu_s"] / rows["engine"]["cpu_s"]
    t0 = time.perf_counter()
    grid = np.random.default_rng(2).normal(size=(51 * 51, fn.dim))
    fn.value(grid)
    plane_s = time.perf_counter() - t0
    out = {
        "problem": "moons-mlp (2-16-1 tanh, 65 parameters, 256 training samples)", "optimizer": "Adam",
        "hyperparameters": HP, "starts": a.starts, "steps": a.steps, "batch": a.batch,
        "record_every": a.every,
        "dtype": "float64", "results": rows, "plane_51x51_value_s": plane_s,
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpu_count": os.cpu_count(), "load1_start": load0,
                    "load1_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else None},
    }
    a.out.write_text(json.dumps(out, indent=1) + "\n")
    a.out.with_suffix(".md").write_text(markdown(out))
    print(f"plane 51x51 loss values: {plane_s * 1e3:.1f} ms; wrote {a.out.name}")
    return 0


def markdown(d: dict[str, Any]) -> str:
    m = d["machine"]
    lines = [
        "# A learning problem: 2-16-1 tanh MLP on two moons (issue 21)", "",
        "Generated by `benchmarks/bench_problems.py`. " + (
            f"{d['starts']:,} starts x {d['steps']} steps of Adam {d['hyperparameters']}, minibatches of "
            f"{d['batch']} of 256 samples (the same batch per step for every start), float64, the final "
            f"state and the full training loss every {d['record_every']} steps. Wall time as a user waits, "
            "compiled before timing; the implementations take turns (a call each per round); best and "
            "median of the calls."), "",
        f"- Machine: {m['platform']}, Python {m['python']}, {m['cpu_count']} CPUs; load average (1 min) at "
        f"start / end: {m['load1_start']} / {m['load1_end']} (2 cores shared with other work)", "",
        "| implementation | best s | median s | calls | CPU s (best call) | cores busy (CPU / wall) | "
        "engine CPU speed-up (peer CPU / engine CPU) | engine speed-up (peer s / engine s) | "
        "max rel. diff of the final points vs engine |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for impl, r in d["results"].items():
        diff = r.get("max_rel_diff_vs_engine")
        lines.append(f"| {impl} | {r['best_s']:.3f} | {r['median_s']:.3f} | {r['calls']} | "
                     f"{r['cpu_s']:.3f} | {r['cores_busy']:.2f} | "
                     f"{r.get('engine_cpu_speedup', float('nan')):.2f} | "
                     f"{r.get('engine_speedup', float('nan')):.2f} | "
                     f"{'–' if diff is None else f'{diff:.1e}'} {r.get('note', '')} |")
    for impl, r in d["results"].items():
        if "engine_speedup_by_round" in r:
            rounds = ", ".join(f"{v:.2f}" for v in r["engine_speedup_by_round"])
            lines += ["", f"Engine speed-up over {impl} in each round (the implementations take turns, "
                      f"a call each per round): {rounds}."]
    lines += ["", f"The plane's 51 x 51 loss values (one `fn.value` call on 2,601 points): "
              f"{d['plane_51x51_value_s'] * 1e3:.1f} ms.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

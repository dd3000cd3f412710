"""Today's built-ins (issue 20) against their optax twins: AdamW, Lion, RAdam, AdaBelief, Yogi, Adan,
Rprop, schedule-free SGD and AdamW, Prodigy.

Each rule races from 10⁴ random starts in Rosenbrock's box (seed 0) for 500 steps, float64, final
state only:

* ``optviz``            ``optviz.run("rosenbrock", {name: HP}, starts, 500, record_every=500)``: the
                        compiled fast path (the call's whole wall time: checks, step table, kernel);
* ``optax jit(vmap)``   the twin as a user would batch starts in JAX: ``jax.jit(jax.vmap(solve))``
                        where ``solve`` runs one start's 500 steps in ``jax.lax.fori_loop`` (each start
                        its own optimizer state), x64, the analytic gradient written in ``jnp``;
* ``optax jit``         the same steps on ONE ``(n, 2)`` array (one state for all starts): possible for
                        these rules because each is elementwise (a schedule-free rule's averaging
                        weight is the same for every start when they share the rate); not for
                        Prodigy, whose sums would run over all starts at once (one d for all).

The mapping is each rule's docstring's (the fixtures' in scripts/make_optax_fixtures.py); the rates
are the tuned table's for Rosenbrock, so that no start diverges (a frozen point costs nothing).
Rprop's optax twin moves one step late (see ``optviz.optimizers.sign``): it does the same work and is
timed as the twin, its points are not compared. Kernels are compiled and jax functions jitted before
timing; each number is the best of ``--repeats`` calls, the rounds of all implementations
interleaved so that load on the machine hits them alike. The ratios come from one run of this
script. The target (issue 20): optviz ≥ 1.5x optax jit(vmap) for every rule. ``agree`` is the share
of final points within 1e-6 of optax's (500 steps of Rosenbrock amplify rounding differences, so a
share below 100 % is not an error: the rules are checked step by step in tests/test_modern_optimizers.py).

    python benchmarks/bench_modern.py [--points 10000] [--steps 500] [--repeats 5]
                                      [--out benchmarks/results-modern.json]

writes the JSON and a Markdown table beside it, and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import functions  # noqa: E402
import optviz  # noqa: E402
from optviz.optimizers import MODERN, REGISTRY  # noqa: E402
from optviz.optimizers import rates as rate_policy  # noqa: E402
from optviz.scene import starts as grids  # noqa: E402


def hyperparams(name: str) -> dict[str, float]:
    """The registry's values with the tuned rate for Rosenbrock."""
    return {**REGISTRY[name].defaults, **rate_policy.tuned("rosenbrock").get(name, {})}


def optax_twin(name: str, h: dict[str, float]):
    import optax
    import optax.contrib as contrib

    if name == "AdamW":
        return optax.adamw(h["lr"], b1=h["beta1"], b2=h["beta2"], eps=h["eps"], eps_root=0.0,
                           weight_decay=h["weight_decay"])
    if name == "Lion":
        return optax.lion(h["lr"], b1=h["beta1"], b2=h["beta2"], weight_decay=h["weight_decay"])
    if name == "RAdam":
        return optax.radam(h["lr"], b1=h["beta1"], b2=h["beta2"], eps=h["eps"], threshold=h["threshold"])
    if name == "AdaBelief":
        return optax.adabelief(h["lr"], b1=h["beta1"], b2=h["beta2"], eps=h["eps"], eps_root=h["eps"])
    if name == "Yogi":
        yogi = optax.scale_by_yogi(h["beta1"], h["beta2"], h["eps"], initial_accumulator_value=h["v0"])
        return optax.chain(yogi, optax.scale_by_learning_rate(h["lr"]))
    if name == "Adan":
        return optax.adan(h["lr"], b1=h["beta1"], b2=h["beta2"], b3=h["beta3"], eps=h["eps"], eps_root=0.0,
                          weight_decay=h["weight_decay"])
    if name == "Rprop":
        return optax.rprop(h["lr"], eta_minus=h["eta_minus"], eta_plus=h["eta_plus"],
                           min_step_size=h["step_min"], max_step_size=h["step_max"])
    if name == "Prodigy":
        return contrib.prodigy(h["lr"], betas=(h["beta1"], h["beta2"]), beta3=h["beta3"], eps=h["eps"],
                               estim_lr0=h["d0"], estim_lr_coef=h["d_coef"], weight_decay=h["weight_decay"])
    if name == "ScheduleFreeSGD":
        return contrib.schedule_free_sgd(h["lr"], b1=h["momentum"], weight_decay=h["weight_decay"],
                                         weight_lr_power=h["weight_lr_power"])
    if name == "ScheduleFreeAdamW":
        return contrib.schedule_free_adamw(h["lr"], b1=h["beta1"], b2=h["beta2"], eps=h["eps"],
                                           weight_decay=h["weight_decay"],
                                           weight_lr_power=h["weight_lr_power"])
    raise KeyError(name)


def optax_runners(name: str, h: dict[str, float]):
    """``(vmapped, batched)``: each ``run(starts, steps) -> final shown points``."""
    import jax
    import jax.numpy as jnp
    import optax

    tx = optax_twin(name, h)
    free = name.startswith("ScheduleFree")

    def grad(x):  # Rosenbrock's analytic gradient, for one point (2,) or many (n, 2)
        a, b = x[..., 0], x[..., 1]
        t = b - a * a
        return jnp.stack([-400.0 * a * t - 2.0 * (1.0 - a), 200.0 * t], axis=-1)

    def solve(x0, steps):
        def body(i, carry):
            x, state = carry
            updates, state = tx.update(grad(x), state, x)
            return optax.apply_updates(x, updates), state

        x, state = jax.lax.fori_loop(0, steps, body, (x0, tx.init(x0)))
        return optax.contrib.schedule_free_eval_params(state, x) if free else x

    vmapped = jax.jit(jax.vmap(solve, in_axes=(0, None)))
    batched = jax.jit(solve)

    def wrap(fn):
        def run(starts: np.ndarray, steps: int) -> np.ndarray:
            return np.asarray(fn(jnp.asarray(starts), steps).block_until_ready())

        return run

    return wrap(vmapped), (None if name == "Prodigy" else wrap(batched))


def optviz_runner(name: str, h: dict[str, float]):
    def run(starts: np.ndarray, steps: int) -> np.ndarray:
        res = optviz.run("rosenbrock", {name: h}, starts, steps, record_every=steps, fused=True,
                         max_seconds=None)
        assert res.path == "fast"
        return res.trajectories[name][-1]

    return run


def timed(run, starts, steps, times: list[float]) -> None:
    t0 = time.perf_counter()
    run(starts, steps)
    times.append(time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results-modern.json")
    args = ap.parse_args(argv)

    import jax

    jax.config.update("jax_enable_x64", True)
    import optax

    load0 = os.getloadavg()[0]
    fn = functions.get("rosenbrock")
    starts = grids.random(fn.box, args.points, seed=0)
    runners, hps, finals = {}, {}, {}
    for name in MODERN:
        hps[name] = h = hyperparams(name)
        vm, ba = optax_runners(name, h)
        runners[name] = {"optviz": optviz_runner(name, h), "optax jit(vmap)": vm, "optax jit": ba}
        runners[name] = {impl: run for impl, run in runners[name].items() if run is not None}
        for impl, run in runners[name].items():  # compile / jit, untimed
            finals[(name, impl)] = run(starts, args.steps)
    times: dict[tuple[str, str], list[float]] = {(n, i): [] for n in MODERN for i in runners[n]}
    for _ in range(args.repeats):
        for name in MODERN:
            for impl in runners[name]:
                timed(runners[name][impl], starts, args.steps, times[(name, impl)])
    rows = []
    for name in MODERN:
        best = {impl: min(times[(name, impl)]) for impl in runners[name]}
        ours, theirs = finals[(name, "optviz")], finals[(name, "optax jit(vmap)")]
        agree = None if name == "Rprop" else float(np.mean(np.all(np.abs(ours - theirs) <= 1e-6, axis=1)))
        rows.append({
            "optimizer": name, "hyperparams": hps[name],
            "best_s": {impl: round(best[impl], 6) for impl in best},
            "times_s": {impl: [round(t, 6) for t in times[(name, impl)]] for impl in best},
            "point_steps_per_s": {impl: args.points * args.steps / best[impl] for impl in best},
            "speedup_vs_vmap": best["optax jit(vmap)"] / best["optviz"],
            "speedup_vs_batched": best["optax jit"] / best["optviz"] if "optax jit" in best else None,
            "agree_1e-6": agree,
            "diverged": int(np.sum(~np.all(np.isfinite(ours), axis=1))),
        })
    doc = {
        "benchmark": "benchmarks/bench_modern.py", "function": "rosenbrock", "points": args.points,
        "steps": args.steps, "repeats": args.repeats, "dtype": "float64", "record": "final state only",
        "target": "optviz >= 1.5x optax jit(vmap) for every rule",
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "python": platform.python_version(), "optviz": optviz.__version__,
                    "jax": jax.__version__, "optax": optax.__version__,
                    "numba": __import__("numba").__version__, "numpy": np.__version__,
                    "load1_start": round(load0, 2), "load1_end": round(os.getloadavg()[0], 2)},
        "rows": rows,
    }
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    table = markdown(doc)
    args.out.with_suffix(".md").write_text(table)
    print(table)
    return 0


def markdown(doc: dict) -> str:
    lines = [
        f"# Today's built-ins vs their optax twins ({doc['function']}, {doc['points']:,} starts x "
        f"{doc['steps']} steps, float64, final state only)",
        "",
        f"`python {doc['benchmark']}` on {doc['machine']['cores']} cores ({doc['machine']['cpu']}); "
        f"jax {doc['machine']['jax']}, optax {doc['machine']['optax']}, numba {doc['machine']['numba']}. "
        f"Best of {doc['repeats']} interleaved calls; ratios from this one run. Target: optviz >= 1.5x "
        f"optax jit(vmap). Load average (1 min) at start / end: {doc['machine'].get('load1_start')} / "
        f"{doc['machine'].get('load1_end')} (2 shared cores: the ratios, not the times, carry over).",
        "",
        "| optimizer | optviz (ms) | optax jit(vmap) (ms) | optax jit, one array (ms) | optviz / vmap | "
        "optviz / one array | agree 1e-6 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in doc["rows"]:
        b = r["best_s"]
        agree = "n/a (optax one step late)" if r["agree_1e-6"] is None else f"{100 * r['agree_1e-6']:.0f} %"
        one = "n/a" if r["speedup_vs_batched"] is None else f"{1e3 * b['optax jit']:.1f}"
        one_ratio = "n/a" if r["speedup_vs_batched"] is None else f"{r['speedup_vs_batched']:.1f}x"
        lines.append(f"| {r['optimizer']} | {1e3 * b['optviz']:.1f} | {1e3 * b['optax jit(vmap)']:.1f} | "
                     f"{one} | {r['speedup_vs_vmap']:.1f}x | {one_ratio} | {agree} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())

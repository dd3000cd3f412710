"""How fast the explore views compute: basin maps, sweeps and comparisons, here and on Dask.

The issue's scale: a 1000 × 1000 basin grid × 19 optimizers × 500 steps is ~10¹⁰ point-steps;
these rows show what one machine does per second (compiled path, threads) and what a Dask
cluster of this machine's cores costs on top. Run::

    python benchmarks/bench_explore.py            # a few minutes on 2 cores
    python benchmarks/bench_explore.py --quick    # small sizes: checks the script runs

It prints a table and writes ``benchmarks/results-explore.md`` (``--out`` to change). Each row
is the best of ``--repeats`` calls after one warm-up call (which compiles the kernels; their
compile time is reported separately). There are no timed unit tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import optviz  # noqa: E402
from optviz.engine.run import cores  # noqa: E402

OPTS = {"SGD": {"eta": 0.01}, "MSGD": {"eta": 0.01}, "Adam": {"alpha": 0.1}}


def settle(call, rounds: int = 6) -> None:
    """Warm-up: call until no run leaves kernels to compile (a small run takes the readable path
    while its kernels compile in a background process, one set at a time), waiting for each."""
    from optviz.engine.fast import warm

    for _ in range(rounds):
        call()
        if not any(proc.poll() is None for proc, _ in warm._PROCS):
            return
        warm.wait_for_warm_up()


def best(call, repeats: int) -> tuple[float, object]:
    out, times = None, []
    for _ in range(repeats):
        t = time.perf_counter()
        out = call()
        times.append(time.perf_counter() - t)
    return min(times), out


def rows(quick: bool, repeats: int) -> list[tuple[str, float, float, str]]:
    """(what, point-steps, seconds, note) per measurement."""
    out = []
    grids = (50, 200) if quick else (100, 300, 1000)
    steps = 100 if quick else 300
    for grid in grids:
        kw = {"grid": grid, "steps": steps}
        t0 = time.perf_counter()
        optviz.basins("himmelblau", OPTS, **kw)  # warm-up: kernels compiled or loaded
        warm = time.perf_counter() - t0
        sec, m = best(lambda kw=kw: optviz.basins("himmelblau", OPTS, **kw), repeats)
        work = len(OPTS) * grid * grid * steps
        out.append(
            (
                f"basins himmelblau {grid}×{grid}, {len(OPTS)} optimizers, {steps} steps",
                work,
                sec,
                f"{m.path} path; first call {warm:.1f} s",
            )
        )
    try:
        import distributed
    except ImportError:
        distributed = None
    if distributed is not None:
        grid = grids[-1]
        with (
            distributed.LocalCluster(
                n_workers=cores(), threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            kw = {"grid": grid, "steps": steps, "client": client}
            optviz.basins("himmelblau", OPTS, **kw)  # each worker compiles or loads its kernels
            sec, m = best(lambda: optviz.basins("himmelblau", OPTS, **kw), repeats)
            out.append(
                (
                    f"basins himmelblau {grid}×{grid} on a LocalCluster ({cores()} worker processes)",
                    len(OPTS) * grid * grid * steps,
                    sec,
                    f"{m.path} path, chunks of starts",
                )
            )
    n_values = 9 if quick else 25
    seeds = 2 if quick else 5
    sweep_kw = {"values": f"1e-4:1:{n_values}", "steps": steps, "seeds": seeds}
    settle(lambda: optviz.sweep("rosenbrock", list(OPTS), "lr", **sweep_kw))
    sec, s = best(lambda: optviz.sweep("rosenbrock", list(OPTS), "lr", **sweep_kw), repeats)
    n = s.starts.shape[0] * s.starts.shape[1]
    out.append(
        (
            f"sweep rosenbrock lr, {n_values} values × {n} points, {len(OPTS)} optimizers, {steps} steps",
            len(OPTS) * n_values * n * steps,
            sec,
            f"{s.path} path, one engine run",
        )
    )
    noise_kw = {"values": [0.0, 0.01, 0.1, 1.0, 10.0], "steps": steps, "seeds": seeds}
    settle(lambda: optviz.sweep("himmelblau", list(OPTS), "noise", **noise_kw))
    sec, s = best(lambda: optviz.sweep("himmelblau", list(OPTS), "noise", **noise_kw), repeats)
    n = s.starts.shape[0] * s.starts.shape[1]
    out.append(
        (
            f"sweep himmelblau noise, 5 values × {n} points, {len(OPTS)} optimizers, {steps} steps",
            len(OPTS) * 5 * n * steps,
            sec,
            f"{s.path} path, one engine run per value",
        )
    )
    cmp_kw = {"budget": 6 if quick else 20, "steps": steps}
    fns = ("booth", "himmelblau") if quick else None
    args = (fns,) if fns else ()
    settle(lambda: optviz.compare(*args, **cmp_kw), rounds=40)
    sec, c = best(lambda: optviz.compare(*args, **cmp_kw), repeats)
    work = sum(
        len(c.names)
        * (cmp_kw["budget"] * c.tune_sets[f].starts.shape[0] + c.test_sets[f].starts.shape[0])
        * steps
        for f in c.labels
    )
    out.append(
        (
            f"compare {len(c.labels)} functions × {len(c.names)} optimizers, budget {cmp_kw['budget']}",
            work,
            sec,
            "tuning + held-out runs",
        )
    )
    return out


NOTES = [
    "Notes:",
    "",
    "- A first call of a new (function, optimizer, options) compiles its kernels: at once for runs "
    "of 5·10⁷ point-steps or more (the basin maps' \"first call\"), else in a background process while "
    "the run takes the readable path. The rows are timed after that, as a second visit to a view sees them.",
    "- Basin maps check every start against the tolerance at every step (the distance to the nearest "
    "minimizer, a square root per point-step): about 2·10⁸ point-steps/s, 40 % of the bare Adam kernel.",
    "- The LocalCluster row is one machine's cores as Dask workers; Dask pays off across machines "
    "(`scheduler=\"tcp://host:8786\"`), where each worker adds its cores.",
    "- A sweep of a hyperparameter is one engine run; a sweep of noise or delay is one run per value.",
    "- `compare` is many small runs (each function's tuning, then its held-out run).",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results-explore.md"))
    args = ap.parse_args()
    os.environ.setdefault("OPTVIZ_FAST", "auto")
    table = rows(args.quick, 1 if args.quick else args.repeats)
    lines = [
        "# Explore views: timings",
        "",
        f"`python benchmarks/bench_explore.py{' --quick' if args.quick else ''}` on {platform.machine()}, "
        f"Python {platform.python_version()}, {cores()} cores, best of {args.repeats} after the warm-up "
        "(until no run leaves kernels to compile). "
        "The machine is shared: treat these as upper bounds.",
        "",
        "| job | point-steps | s | point-steps/s | note |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {what} | {work:.3g} | {sec:.2f} | {work / sec:.3g} | {note} |" for what, work, sec, note in table
    ]
    lines += ["", *NOTES]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.quick:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""``optviz basins``: a basin map, every optimizer from every cell of a grid over the box."""

from __future__ import annotations

import argparse

import numpy as np

from optviz.cli.errors import CliError
from optviz.cli.exploring import check_out, engine_settings, explore, explore_scene, finish
from optviz.cli.output import fmt, table
from optviz.cli.scene_args import rates_text
from optviz.scene.model import Starts

#: Cells per axis without --grid.
DEFAULT_GRID = 100


def main(args: argparse.Namespace) -> int:
    from optviz.explore.basins import basins

    if any(v is not None for v in (args.start_points, args.random, args.ring)):
        raise CliError("basins start from every cell of a --grid N over the function's box; --start, "
                       "--random and --ring do not apply")
    out = check_out(args)
    grid = DEFAULT_GRID if args.grid is None else args.grid
    scene = explore_scene(args, "a basin map", starts=Starts.grid(grid))
    rates = scene.rates
    m = explore(lambda progress: basins(
        scene.build_function(), scene.optimizers, grid=grid, steps=scene.steps, tol=scene.tol,
        kind=scene.error, seed=scene.seed, scheduler=args.scheduler, progress=progress,
        max_seconds=args.max_seconds, **engine_settings(scene, args)), args, f"mapping {grid}x{grid}")

    def text() -> None:
        fn = m.function
        box = " x ".join(f"[{lo:g}, {hi:g}]" for lo, hi in np.asarray(fn.box))
        cells = "x".join(map(str, m.shape[::-1]))
        print(f"{fn.title} ({fn.dim}-D): {cells} starts over {box}, {m.steps} steps, tol {m.tol:g} "
              f"({m.kind}); rates: {rates_text(scene)}")
        mins = [f"min {k} ({', '.join(f'{c:.3g}' for c in mn)})" for k, mn in enumerate(m.minimizers)]
        rows = []
        for name in m.names:
            conv = m.converged(name)
            steps = m.steps_to_tol[name][conv]
            diverged = float(np.mean(m.diverged[name]))
            rows.append([name, fmt(m.share_converged[name], "pct"), fmt(diverged, "pct"),
                         fmt(int(np.median(steps)) if steps.size else None, "int"),
                         *(fmt(v, "pct") for v in m.share_by_minimum(name))])
        table(["optimizer", "converged", "diverged", "median steps", *mins], rows, left=(0,))
        if len(m.names) >= 2:
            a, b = m.names[:2]
            print(f"converges from {fmt(m.only(a, b), 'pct')} of the box with {a} only, "
                  f"{fmt(m.only(b, a), 'pct')} with {b} only")

    from optviz.explore import figures

    return finish(args, out, lambda: {**m.to_json(), "rates": rates},
                  lambda: figures.basin_figure(m, args.show), text)

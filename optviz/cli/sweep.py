"""``optviz sweep``: one setting (a hyperparameter, each optimizer's learning rate, the noise
or the delay) over values x starts x seeds."""

from __future__ import annotations

import argparse

import numpy as np

from optviz.cli.errors import CliError, message
from optviz.cli.exploring import check_out, engine_settings, explore, explore_scene, finish
from optviz.cli.output import fmt, table
from optviz.cli.scene_args import apply_sets, rates_text
from optviz.explore.uncertainty import span
from optviz.scene import starts as _starts
from optviz.scene.text import quote


def main(args: argparse.Namespace) -> int:
    from optviz.explore.measures import lr_name
    from optviz.explore.sweep import parse_values, sweep

    names = [p for p in args.param if "=" not in p]
    if len(names) != 1:
        raise CliError("sweep needs one --param NAME: a hyperparameter (e.g. alpha), lr, noise, delay or "
                       "batch" + (f"; got {', '.join(map(quote, names))}" if names else ""))
    param = names[0]
    if args.preset is not None:
        raise CliError("--preset does not apply to sweep: choose -f, -o and the starts")
    try:
        values = parse_values(args.values, args.spacing)
    except ValueError as exc:
        raise CliError(message(exc)) from None
    out = check_out(args)
    starts_given = any(v is not None for v in (args.start_points, args.grid, args.random, args.ring))
    # the scene of the sweep: its --param KEY=VALUE items are the function's parameters
    scene = explore_scene(argparse.Namespace(**{**vars(args), "param": [p for p in args.param if "=" in p]}),
                          "a sweep")
    fn = scene.build_function()
    if args.random is not None:  # each seed draws its own random starts
        starts = np.stack([_starts.random(fn.box, args.random, seed=scene.seed + k)
                           for k in range(args.seeds)])
    elif starts_given:
        starts = scene.starts_array()
    else:
        starts = None  # the dashboard's default grid
    optimizers = _unswept(scene.optimizers, args.sets, param, lr_name)
    spacing = args.spacing if ":" in args.values else "list"
    rates = scene.rates
    s = explore(lambda progress: sweep(
        fn, optimizers, param, values, starts=starts, steps=scene.steps, seeds=args.seeds, seed=scene.seed,
        tol=scene.tol, kind=scene.error, spacing=spacing, scheduler=args.scheduler, progress=progress,
        max_seconds=args.max_seconds, **engine_settings(scene, args, skip=(param,)),
        **({"batch": scene.batch} if scene.batch is not None else {})),
        args, f"sweeping {param}")
    s.spacing = spacing

    def text() -> None:
        n_s, n = s.starts.shape[:2]
        print(f"{fn.title} ({fn.dim}-D): sweep of {s.param} over {s.values.size} values x {n} starts x {n_s} "
              f"seed(s), {s.steps} steps, tol {s.tol:g} ({s.kind}); rates: {rates_text(scene)}"
              + (f"; minibatches of {scene.batch}" if scene.batch is not None else ""))
        if s.kind == "loss":
            print(f"{fn.name} has no known minimum: the error is the final training loss (converged: "
                  f"loss <= tol {s.tol:g})")
        print(s.headline())
        rank = s.ranks()
        for name in s.ranked():
            good = set(s.as_good_as_best(name).tolist())
            also = f"; {len(good) - 1} other value(s) as good within the intervals" if len(good) > 1 else ""
            print(f"\n{name} ({s.params[name]}): rank {rank[name]}, best {s.best_value(name):.4g}{also}")
            rows = []
            for i, (v, st, e) in enumerate(zip(s.values, s.stats[name], s.estimates[name], strict=True)):
                steps = None if e.steps_low is None else f"{e.steps_low:.0f}–{e.steps_high:.0f}"
                med = None if st.median_steps is None else int(st.median_steps)
                rows.append(["*" if i == s.best[name] else "~" if i in good else "", f"{v:.4g}",
                             fmt(st.median), fmt(st.q25), fmt(st.q75), fmt(st.share_converged, "pct"),
                             span(e.success_low, e.success_high), fmt(st.share_diverged, "pct"),
                             fmt(med, "int"), steps or "–"])
            table(["", "value", "median error", "q25", "q75", "converged", "90 % interval", "diverged",
                   "median steps", "90 % interval"], rows, left=(0,))
        print(f"\n* best value; ~ not clearly worse than the best (90 % bootstrap intervals over "
              f"{n_s} seed(s) x {n} starts overlap)")

    from optviz.explore import figures

    return finish(args, out, lambda: {**s.to_json(), "rates": rates}, lambda: figures.sweep_figure(s), text)


def _unswept(optimizers: dict[str, dict[str, float]], sets: list[str], param: str,
             lr_name) -> dict[str, dict[str, float]]:
    """The scene's hyperparameters without the one the sweep varies (set with --set: refused)."""
    if param in ("noise", "delay", "batch"):
        return optimizers
    given: dict[str, dict[str, float]] = {name: {} for name in optimizers}
    apply_sets(given, sets)
    out = {}
    for name, hps in optimizers.items():
        swept = lr_name(name) if param == "lr" else param
        if swept in given[name]:
            raise CliError(f"{name}.{swept} is swept: do not also set it")
        out[name] = {k: v for k, v in hps.items() if k != swept}
    return out

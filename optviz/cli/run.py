"""``optviz run``: race a scene and print the ranked results (a table, or JSON)."""

from __future__ import annotations

import argparse
import json
import sys

from optviz.cli.errors import PROG, CliError, message, write_failed
from optviz.cli.output import fmt, json_ready, progress_bar, table
from optviz.cli.race import race
from optviz.cli.scene_args import engine_options, rates_text, scene_from_args, scene_to_save
from optviz.cli.scene_file import save_scene

#: How the table's header names each error measure.
ERROR_WORDS = {"distance": "distance to minimizer", "gap": "f - f*", "loss": "f(x)"}


def main(args: argparse.Namespace) -> int:
    scene = scene_from_args(args)
    to_save = scene_to_save(args, scene)
    result = race(scene, engine_options(args), progress_bar(args, "running", "point-steps"))
    try:
        kind = result.error_kind(scene.error)
        rows = result.summary(kind, tol=scene.tol)
    except ValueError as exc:
        raise CliError(message(exc)) from None
    if to_save is not None:
        try:
            saved = save_scene(to_save, args.save_scene)
        except OSError as exc:
            return write_failed(args.save_scene, exc)
        if not args.quiet:
            print(f"{PROG}: scene written to {saved}", file=sys.stderr)
    fn = result.function
    rates = scene.rates
    if args.json:
        for r in rows:
            r["hyperparams"] = result.hyperparams[r["optimizer"]]
        doc = {
            "function": fn.name, "title": fn.title, "dim": fn.dim, "kind": kind, "tol": scene.tol,
            "steps": result.steps, "seed": result.seed, "n_points": result.n_points,
            "schedule": result.schedule, "hooks": list(result.hooks), "rates": rates,
            "elapsed_s": result.elapsed, "results": rows,
        }
        print(json.dumps(json_ready(doc), indent=2))
        return 0
    print(f"{fn.title} ({fn.dim}-D), {result.n_points} start(s), {result.steps} steps, seed {result.seed}"
          f"; error: {ERROR_WORDS[kind]}" + ("" if kind == "loss" else f", tol {scene.tol:g}"))
    table(("rank", "optimizer", "final (median)", "final (best)", "steps to tol", "converged", "diverged"), [
        (str(r["rank"]), r["optimizer"], fmt(r["final_median"]), fmt(r["final_best"]),
         fmt(r["steps_to_tol"], "int"), fmt(r["converged"], "pct"), f"{r['diverged']}/{r['n_points']}")
        for r in rows
    ])
    print(f"rates: {rates_text(scene)} (hyperparameters not set; see --rates)")
    return 0

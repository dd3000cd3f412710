"""Tune every optimizer's learning rate on each test function's default scene; write the table.

    python scripts/make_default_rates.py            # all functions -> optviz/data/default_rates.json
    python scripts/make_default_rates.py --check    # exit 1 if the committed file is not what this makes
    python scripts/make_default_rates.py --only booth --out /tmp/rates.json
    python scripts/make_default_rates.py --optimizers AdamW Lion   # tune these, keep the rest of the file
    python scripts/make_default_rates.py --only moons-mlp          # retune one function, keep the others

For each registered test function, in each dimension the dashboard can draw (1-D and/or 2-D),
on its default scene (:func:`optviz.scene.lessons.default_starts`: a 4×4 grid in 2-D, 5 spread points
in 1-D; 300 steps, seed 0), :func:`optviz.explore.tune.tune_learning_rates` sweeps each registered
optimizer's main learning rate over a 1-2-5 log grid and keeps the value with the fewest diverged
starts, then the most starts within ``tol`` = 1e-3 of a minimizer, then the lowest median final
error. The saddles, which have no minimum, are not tuned (the lowest loss there is a point
running off the picture): they keep the registry's defaults. The chosen rates are
then run together as the scene itself, and each optimizer's share of converged starts,
diverged starts and median final error are stored beside them, so the table says what the
defaults achieve. Everything is seeded: the output is the same on every run.

The learning problems (:mod:`functions.problems`: least squares, logistic regression, the 2-16-1
networks on two moons and two spirals) are tuned in their default dimension on the scene the
dashboard and ``optviz run`` open for them: 16 random starts in the box (seed 0), 300 full-batch
steps. Least squares and logistic regression list their minimizer and are tuned as above. A
network has no known minimum: its objective is the fewest diverged starts, then the lowest median
final training loss; to keep the script's time reasonable (a network step costs ~256 samples ×
65 parameters), a network is tuned on the first :data:`NETWORK_TUNING_STARTS` of the 16 starts
over the grid's top decades only ([:data:`NETWORK_LOW`, HIGH]), and then scored on all 16.

It prints, per function, the share of the default field's starts that converge.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import functions  # noqa: E402
import optviz  # noqa: E402
from functions.problems import is_problem  # noqa: E402
from functions.problems.base import ProblemFamily  # noqa: E402
from optviz.explore.tune import tune_learning_rates  # noqa: E402
from optviz.optimizers import NAMES  # noqa: E402
from optviz.scene import lessons as presets  # noqa: E402
from optviz.scene import starts as start_points  # noqa: E402

OUT = ROOT / "optviz" / "data" / "default_rates.json"
#: The dimensions the dashboard draws.
PLOTTABLE = (1, 2)
#: The tuning grid's range.
LOW, HIGH = 1e-5, 5.0
FORMAT = 1
#: A learning problem's default scene (more than 2-D): random starts in the box, seed 0.
PROBLEM_STARTS = presets.DEFAULT_GRID ** 2
#: A network's smaller tuning budget: the first starts of the scene, and the grid from this rate.
NETWORK_TUNING_STARTS = 8
NETWORK_LOW = 1e-4


def scenes(only: list[str] | None = None) -> list[tuple[str, int]]:
    """(function, dim) for every registered function and drawable dimension, sorted."""
    out = []
    for name, fam in functions.families().items():
        if only and name not in only:
            continue
        if is_problem_family(fam):  # a learning problem: its default dimension (its parameters' number)
            out.append((name, int(fam.default_dim)))
        else:
            out += [(name, d) for d in PLOTTABLE if fam.supports(d)]
    if only:
        unknown = sorted(set(only) - {n for n, _ in out})
        if unknown:
            raise SystemExit(f"make_default_rates: unknown function(s) {', '.join(unknown)}; "
                             f"valid: {', '.join(functions.names())}")
    return out


def is_problem_family(fam: Any) -> bool:
    """Whether a registry family makes learning problems (:mod:`functions.problems`)."""
    return isinstance(fam, ProblemFamily)


def default_scene_starts(fn: Any) -> np.ndarray:
    """The starts of ``fn``'s default scene: the dashboard's grid in 1-D and 2-D; for a learning
    problem, :data:`PROBLEM_STARTS` random starts in the box, seed 0 (as ``optviz run`` opens it)."""
    if fn.dim <= 2:
        return presets.default_starts(fn)
    return start_points.random(fn.box, PROBLEM_STARTS, seed=presets.DEFAULT_SEED)


def _num(v: float) -> float | None:
    """A float for JSON, 6 significant digits (stable across machines); None for inf/NaN."""
    return float(f"{v:.6g}") if math.isfinite(v) else None


def tune_scene(function: str, dim: int, optimizers: tuple[str, ...] = NAMES) -> dict[str, Any]:
    """The table's entry for ``function`` in ``dim``: its scene, the tuned rates and their scores."""
    fn = functions.get(function, dim)
    starts = default_scene_starts(fn)
    steps, seed, tol = presets.DEFAULT_STEPS, presets.DEFAULT_SEED, presets.DEFAULT_TOL
    network = is_problem(fn) and not np.size(fn.minimizers)
    tuning = {}
    if np.size(fn.minimizers):
        tuned = tune_learning_rates(fn, list(optimizers), starts, steps, low=LOW, high=HIGH, seed=seed,
                                    tol=tol)
        rates = {name: {t.hyperparam: t.value} for name, t in tuned.items()}
    elif network:  # no known minimum: the lowest median final training loss, on a smaller budget
        tuned = tune_learning_rates(fn, list(optimizers), starts[:NETWORK_TUNING_STARTS], steps,
                                    low=NETWORK_LOW, high=HIGH, seed=seed, kind="loss")
        rates = {name: {t.hyperparam: t.value} for name, t in tuned.items()}
        tuning = {"tuned_on": f"the first {NETWORK_TUNING_STARTS} starts, rates from {NETWORK_LOW:g}",
                  "objective": "fewest diverged, then the lowest median final training loss"}
    else:  # no minimum (the saddles): the lowest loss is a point running off the picture
        rates = {}
    res = optviz.run(fn, {name: dict(rates.get(name, {})) for name in optimizers}, starts, steps, seed=seed,
                     rates="article")  # the registry's values under the rates just tuned, never the old table
    kind = res.error_kind("auto")
    final = res.errors(kind)
    scores = {}
    for name in optimizers:
        f, dead = final[name][-1], res.diverged[name]
        alive = ~dead
        scores[name] = {
            "converged": None if kind == "loss" else _num(float(np.mean((f <= tol) & alive))),
            "diverged": int(dead.sum()),
            "median_error": _num(float(np.median(f[alive]))) if alive.any() else None,
        }
    if dim > 2:  # a learning problem: the points follow from the seed (16 x its parameters' number)
        where = {"starts": f"random {PROBLEM_STARTS} (seed {seed})", **tuning}
    else:
        where = {"starts": f"grid {presets.DEFAULT_POINTS_1D}" if dim == 1 else
                           f"grid {presets.DEFAULT_GRID}x{presets.DEFAULT_GRID}",
                 "points": np.round(starts, 12).tolist()}
    return {
        "scene": {
            **where,
            "steps": steps, "seed": seed, "params": dict(getattr(fn, "params", {}) or {}),
            "kind": kind, "tol": tol,
        },
        "rates": rates,
        "scores": scores,
    }


def build(only: list[str] | None = None, verbose: bool = True,
          optimizers: tuple[str, ...] = NAMES) -> dict[str, Any]:
    """The whole table (``only``: a subset of functions; ``optimizers``: a subset of optimizers)."""
    table: dict[str, Any] = {
        "format": FORMAT,
        "version": optviz.__version__,
        "generated_by": "scripts/make_default_rates.py",
        "objective": ("per optimizer, its main learning rate from a 1-2-5 log grid in "
                      f"[{LOW:g}, {HIGH:g}]: fewest diverged starts, then most starts converged "
                      "(final distance to a minimizer <= tol), then the lowest median final error; a "
                      "network (no known minimum): fewest diverged, then the lowest median final training "
                      f"loss, tuned on the first {NETWORK_TUNING_STARTS} starts with rates from "
                      f"{NETWORK_LOW:g}"),
        "functions": {},
    }
    for function, dim in scenes(only):
        t0 = time.perf_counter()
        entry = tune_scene(function, dim, optimizers)
        table["functions"].setdefault(function, {})[str(dim)] = entry
        if verbose:
            print(f"{function:>17} {dim}-D  {field_summary(entry)}  ({time.perf_counter() - t0:.1f} s)",
                  flush=True)
    return table


def field_share(entry: dict[str, Any], field: tuple[str, ...] = presets.DEFAULT_FIELD) -> float | None:
    """The share of the default field's starts that converge in ``entry`` (None: no minimum)."""
    shares = [entry["scores"][n]["converged"] for n in field]
    return None if any(s is None for s in shares) else sum(shares) / len(shares)


def field_summary(entry: dict[str, Any]) -> str:
    share = field_share(entry)
    head = "default field converged: " + ("  n/a (no minimum)" if share is None else f"{100 * share:5.1f} %")
    if not entry["rates"]:
        return head + "  [not tuned: the registry's defaults]"
    parts = []
    for n in presets.DEFAULT_FIELD:
        (hp, v), = entry["rates"][n].items()
        sc = entry["scores"][n]
        conv = "" if sc["converged"] is None else f" {100 * sc['converged']:.0f}%"
        parts.append(f"{n} {hp}={v:g}{conv}")
    return head + "  [" + ", ".join(parts) + "]"


def merge(old: dict[str, Any], new: dict[str, Any], chosen: tuple[str, ...]) -> dict[str, Any]:
    """``old`` with the rates and scores of the ``chosen`` optimizers from ``new``, in registry order."""
    out = json.loads(json.dumps(old))
    for function, dims in new["functions"].items():
        for dim, entry in dims.items():
            into = out["functions"].get(function, {}).get(dim)
            if into is None:  # a function the table does not have yet: it needs every optimizer
                print(f"{function:>17} {dim}-D  not in the table: rerun without --optimizers", flush=True)
                continue
            for part in ("rates", "scores"):
                both = {**into[part], **{n: v for n, v in entry[part].items() if n in chosen}}
                into[part] = {n: both[n] for n in NAMES if n in both}
            print(f"{function:>17} {dim}-D  " + ", ".join(
                f"{n} {k}={v:g}" for n in chosen for k, v in entry["rates"].get(n, {}).items()), flush=True)
    return out


def dumps(table: dict[str, Any]) -> str:
    """JSON, indented, with each innermost list (a point) on one line."""
    text = json.dumps(table, indent=1, ensure_ascii=False)
    def one_line(m: re.Match) -> str:
        return "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]"

    text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", one_line, text)
    return text + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--out", type=Path, default=OUT,
                    help=f"where to write (default: {OUT.relative_to(ROOT)})")
    ap.add_argument("--only", nargs="+", metavar="FUNCTION", help="tune only these functions")
    ap.add_argument("--optimizers", nargs="+", metavar="NAME",
                    help="tune only these optimizers and merge them into the file at --out (each optimizer's "
                         "runs are independent of the others', so the rest of the table stays valid)")
    ap.add_argument("--check", action="store_true",
                    help="do not write: compare with the file at --out (exit 1 if it differs)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if args.optimizers:
        chosen = optviz.resolve(args.optimizers)
        old = json.loads(args.out.read_text(encoding="utf-8"))
        table = merge(old, build(args.only, False, chosen), chosen)
    else:
        table = build(args.only)
        if args.only and not args.check and args.out.exists():  # the other functions' entries stay
            old = json.loads(args.out.read_text(encoding="utf-8"))
            table["functions"] = {**old["functions"], **table["functions"]}
    text = dumps(table)
    print(f"{len(table['functions'])} functions in {time.perf_counter() - t0:.0f} s")
    if args.check:
        old = json.loads(args.out.read_text(encoding="utf-8"))
        mine = json.loads(text)
        if args.only:
            old["functions"] = {k: v for k, v in old["functions"].items() if k in mine["functions"]}
        if old != mine:
            print(f"{args.out} differs from what this script makes: rerun it without --check",
                  file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Pick the scene each explore tab opens with, so that its default answers its question; write them.

    python scripts/make_tab_defaults.py            # -> optviz/data/tab_defaults.json
    python scripts/make_tab_defaults.py --check    # exit 1 if the committed file is not what this makes

- **Basins** ("from where does one optimizer converge and another not?"): on each function of the
  comparison's default set, the dashboard's default field at its tuned rates (the default scene:
  4×4 grid, 300 steps, seed 0) is mapped on the tab's default grid (60×60); the scene and the pair
  (a, b) with the largest share of the box where a converges and b does not are kept (on the race's
  default scene, Himmelblau, every one converges nearly everywhere: "Adam only: 0.0 %").
- **Noise & delay** ("what does delay compensation buy?"): SGD and DCASGD at the same rate (DCASGD
  with λ = 0 is SGD, so the difference is the compensation alone) on the default grid of each
  candidate function, for a few rates and λ, swept over the tab's delays τ = 0, 1, 2, 4, 8; the
  scene where DCASGD beats SGD by most is kept: the gap in the share diverged at τ = 8, plus the
  mean gap in the share converged over the delays, among scenes where both converge from at least
  half the starts without delay (on the race's default scene DCASGD diverges from 88 % at τ = 8:
  "compensation buys nothing").

Each pick is stored as a scene (the :class:`optviz.scene.Scene` JSON), the tab's settings that
show the answer, a title, a note written from the measured numbers, and the numbers themselves.
Everything is seeded: the output is the same on every run. The tabs read it through
:mod:`optviz.explore.tab_defaults`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import optviz  # noqa: E402
from optviz.explore.compare import DEFAULT_FUNCTIONS  # noqa: E402
from optviz.explore.tab_defaults import BASINS_GRID, DELAYS, FILE, FORMAT  # noqa: E402
from optviz.scene import lessons  # noqa: E402
from optviz.scene.model import Scene, SceneFunction, Starts  # noqa: E402

#: Delay candidates: functions, SGD's (and DCASGD's) rate, DCASGD's λ.
DELAY_FUNCTIONS = ("three_hump_camel", "six_hump_camel", "himmelblau", "booth", "matyas", "beale")
DELAY_RATES = (0.01, 0.02, 0.05, 0.1)
DELAY_LAMDAS = (0.01, 0.1, 1.0)


def scene_of(function: str, optimizers: dict[str, dict[str, float]]) -> Scene:
    """The default scene of ``function`` (4×4 grid, 300 steps, seed 0) racing ``optimizers``
    (the values not given: the function's tuned rates)."""
    return Scene(function=SceneFunction(name=function), optimizers=optimizers,
                 starts=Starts.grid(lessons.DEFAULT_GRID), steps=lessons.DEFAULT_STEPS,
                 seed=lessons.DEFAULT_SEED)


def pct(v: float) -> str:
    return f"{100 * v:.0f} %"


def pick_basins() -> dict[str, Any]:
    print(f"Basins: the default field at tuned rates, {BASINS_GRID}x{BASINS_GRID} starts, 300 steps")
    best: tuple[float, str, str, str] | None = None
    maps = {}
    for f in DEFAULT_FUNCTIONS:
        scene = scene_of(f, {n: {} for n in lessons.DEFAULT_FIELD})
        m = optviz.basins(scene.build_function(), {n: dict(v) for n, v in scene.optimizers.items()},
                          grid=BASINS_GRID, steps=scene.steps, tol=lessons.DEFAULT_TOL, seed=scene.seed,
                          rates="registry")
        maps[f] = (scene, m)
        share, a, b = max((m.only(a, b), a, b) for a, b in itertools.permutations(m.names, 2))
        print(f"  {f:18s} best pair: {a} converges and {b} does not from {pct(share)}")
        if best is None or share > best[0]:
            best = (share, f, a, b)
    assert best is not None
    share, f, a, b = best
    scene, m = maps[f]
    title = m.function.title
    back = m.only(b, a)
    note = (f"On the {title} function, {a} converges from {pct(share)} of the box where {b} does not "
            f"(and {b} where {a} does not from {pct(back)}): the maps show where, the agreement map "
            "which minimum each reaches.")
    return {
        "title": f"Where {a} converges and {b} does not",
        "note": note,
        "scene": json.loads(scene.to_json()),
        "settings": {"basins_grid": BASINS_GRID, "basins_a": a, "basins_b": b},
        "measured": {"function": f, "a": a, "b": b, "only_a": share, "only_b": back,
                     "share_converged": m.share_converged},
    }


def pick_delay() -> dict[str, Any]:
    print(f"Noise & delay: SGD and DCASGD at the same rate, tau in {DELAYS}, the default grid, 300 steps")
    best: tuple[float, Scene, Any] | None = None
    for f, eta, lam in itertools.product(DELAY_FUNCTIONS, DELAY_RATES, DELAY_LAMDAS):
        scene = scene_of(f, {"SGD": {"eta": eta}, "DCASGD": {"learning_rate": eta, "lamda": lam}})
        s = optviz.sweep(scene.build_function(), {n: dict(v) for n, v in scene.optimizers.items()}, "delay",
                         list(DELAYS), starts=scene.starts_array(), steps=scene.steps, seed=scene.seed,
                         tol=lessons.DEFAULT_TOL, rates="registry")
        sgd, dc = s.stats["SGD"], s.stats["DCASGD"]
        if min(sgd[0].share_converged, dc[0].share_converged) < 0.5:
            continue
        gains = [d.share_converged - g.share_converged for g, d in zip(sgd, dc, strict=True)]
        mean_gain = sum(gains) / len(DELAYS)
        gap = sgd[-1].share_diverged - dc[-1].share_diverged + mean_gain
        if best is None or gap > best[0] + 1e-12:
            best = (gap, scene, s)
            print(f"  {f:18s} eta {eta:<5g} lamda {lam:<5g} score {gap:.3f}: diverged at tau = {DELAYS[-1]}: "
                  f"SGD {pct(sgd[-1].share_diverged)}, DCASGD {pct(dc[-1].share_diverged)}")
    assert best is not None
    _, scene, s = best

    def up_to(name: str) -> int | None:
        ok = [int(v) for v, x in zip(s.values, s.stats[name], strict=True) if x.share_converged >= 0.5]
        return ok[-1] if ok else None

    sgd, dc = s.stats["SGD"][-1], s.stats["DCASGD"][-1]
    fn = scene.build_function()
    eta = scene.optimizers["SGD"]["eta"]
    note = (f"On the {fn.title} function at one rate (η = {eta:g}), each step using the gradient of "
            f"τ steps before: at τ = {DELAYS[-1]} SGD diverges from {pct(sgd.share_diverged)} of the starts "
            f"and DCASGD, "
            f"which corrects each stale gradient by λ g⊙g⊙(w − w_stale), from {pct(dc.share_diverged)}; "
            f"DCASGD converges from at least half the starts up to τ = {up_to('DCASGD')}, SGD up to "
            f"τ = {up_to('SGD')}.")
    return {
        "title": "What delay compensation buys",
        "note": note,
        "scene": json.loads(scene.to_json()),
        "settings": {"delay_max": DELAYS[-1], "delay_opts": ["SGD", "DCASGD"], "delay_same_rate": True},
        "measured": {"function": fn.name, "delays": list(DELAYS),
                     "share_diverged": {n: [x.share_diverged for x in s.stats[n]] for n in s.names},
                     "share_converged": {n: [x.share_converged for x in s.stats[n]] for n in s.names},
                     "converges_up_to": {"SGD": up_to("SGD"), "DCASGD": up_to("DCASGD")}},
    }


def make() -> dict[str, Any]:
    return {"format": FORMAT, "made_by": "scripts/make_tab_defaults.py",
            "tabs": {"basins": pick_basins(), "noise_delay": pick_delay()}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the committed file differs")
    ap.add_argument("--out", type=Path, default=FILE)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    text = json.dumps(make(), indent=1, ensure_ascii=False) + "\n"
    print(f"({time.perf_counter() - t0:.0f} s)")
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{args.out} is not what this script makes")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

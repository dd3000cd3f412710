"""``optviz list``: what the other commands accept (functions, optimizers with their
hyperparameters, groups, lessons)."""

from __future__ import annotations

import argparse

import functions
from optviz.optimizers import GROUPS, NAMES, REGISTRY, group_label, group_names
from optviz.scene import lessons


def main(args: argparse.Namespace) -> int:
    what = args.what
    if what in ("all", "functions"):
        print("functions:")
        fams = functions.families()
        w = max(map(len, fams))
        for name, fam in fams.items():
            dims = fam.dims_text() + "".join(f", {k}={v:g}" for k, v in fam.params.items())
            print(f"  {name:<{w}}  {dims:<20}  {fam.description}")
    if what in ("all", "optimizers"):
        print("optimizers (hyperparameter=default [range]):")
        w = max(map(len, NAMES))
        for name in NAMES:
            spec = REGISTRY[name]
            hps = ", ".join(f"{h.name}={h.default:g} [{h.low:g}, {h.high:g}]" for h in spec.hyperparams)
            print(f"  {name:<{w}}  {hps}")
    if what in ("all", "groups"):
        print("groups (for -o):")
        w = max(map(len, group_names()))
        for g, names in GROUPS.items():
            print(f"  {group_label(g):<{w}}  {', '.join(names)}")
    if what in ("all", "presets", "lessons"):
        print("lessons (for --lesson or --preset):")
        for lesson in lessons.ALL_LESSONS.values():
            print(f"  {lesson.name}  {lesson.note}")
    return 0

"""``optviz conformance A B``: do two rules compute the same steps, teacher-forced from the same
starts? Exit 0 when they agree, 1 at the first difference (its step, start and coordinate are
printed), 2 for bad input (see :mod:`optviz.explore.conformance`)."""

from __future__ import annotations

import argparse
import json

from optviz.cli.errors import CliError, message
from optviz.cli.output import json_ready
from optviz.cli.scene_args import scene_from_args


def main(args: argparse.Namespace) -> int:
    from optviz.explore.conformance import conformance
    from optviz.optimizers import get

    args.optimizers = args.a if args.a.strip().lower() == args.b.strip().lower() else f"{args.a},{args.b}"
    for name in (args.a, args.b):
        if "," in name or name.strip().lower().startswith("group:") or name.strip().lower() == "all":
            raise CliError(f"conformance compares two optimizers, not a list or a group: {name[:40]!r}")
    scene = scene_from_args(args)
    try:
        a, b = get(args.a), get(args.b)
        found = conformance(a, b, scene.build_function(), scene.starts_array(), scene.steps,
                            a_hyperparams=scene.optimizers[a.name], b_hyperparams=scene.optimizers[b.name],
                            rtol=args.rtol, atol=args.atol)
    except (ValueError, KeyError) as exc:
        raise CliError(message(exc)) from None
    if args.json:
        print(json.dumps(json_ready(found.to_dict()), indent=2))
    else:
        print(found.text())
    return 0 if found.agree else 1

"""What ``basins``, ``sweep`` and ``compare`` share: the ``--out`` picture checked before any
work, the explore call with its progress bar, and the output (a picture, JSON or a table)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from optviz.cli.errors import CliError, as_options, interrupted, message, write_failed
from optviz.cli.output import progress_bar
from optviz.cli.scene_args import scene_from_args
from optviz.engine.backends import BackendError
from optviz.scene.model import Scene, Starts


def check_out(args: argparse.Namespace) -> Path | None:
    """The --out picture's path, checked before any work (.png/.svg, writable)."""
    if args.out is None:
        return None
    from optviz.draw import render

    try:
        return render.check_output(args.out, render.STILL_FORMATS)
    except ValueError as exc:
        raise CliError(message(exc)) from None


def explore_scene(args: argparse.Namespace, what: str, starts: Starts | None = None) -> Scene:
    """The scene an explore command measures (only final states are recorded)."""
    if args.record_every != 1:
        raise CliError(f"--record-every does not apply: {what} records only each start's final state")
    return scene_from_args(args, starts=starts)


def engine_settings(scene: Scene, args: argparse.Namespace, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The scene's settings an explore function passes on to the engine as they are (noise,
    its mode and the delay only when set), and the array backend; ``skip``: one it varies."""
    kw = scene.run_kwargs()
    keep = ("schedule", "hooks", "noise", "noise_mode", "delay", "dtype")
    return {**{k: kw[k] for k in keep if k in kw and k not in skip}, "backend": args.backend}


def explore(call: Callable[..., Any], args: argparse.Namespace, label: str) -> Any:
    """Run an explore function with a progress bar; input errors become :class:`CliError`."""
    bar = progress_bar(args, label, "point-steps")
    try:
        return call(progress=bar if bar.enabled else None)
    except (ValueError, KeyError, TypeError, MemoryError, BackendError) as exc:
        raise CliError(as_options(message(exc))) from None
    finally:
        bar.close()


def finish(args: argparse.Namespace, out: Path | None, doc: Callable[[], Any], figure: Callable[[], Any],
           text: Callable[[], None]) -> int:
    """Write the picture (if asked), then print the JSON or the text table."""
    if out is not None:
        from optviz.explore import figures

        try:
            figures.save(figure(), out)
        except (OSError, RuntimeError, ValueError, MemoryError) as exc:
            if interrupted():
                raise KeyboardInterrupt from None
            return write_failed(out, exc)
    if args.json:
        from optviz.explore.measures import dumps

        print(dumps(doc()))
    else:
        text()
    if out is not None and not (args.json and args.quiet):
        print(out, file=sys.stderr if args.json else sys.stdout)
    return 0

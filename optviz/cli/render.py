"""``optviz render``: race a scene and write a GIF/MP4 animation or a PNG/SVG still (with a
lesson, also its error curves beside it), or the live race as one web page (``.html``)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from optviz.cli.errors import PROG, CliError, interrupted, message, write_failed
from optviz.cli.output import ProgressBar, progress_bar
from optviz.cli.race import race
from optviz.cli.scene_args import engine_options, rates_text, scene_from_args, scene_to_save
from optviz.cli.scene_file import save_scene


def main(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() == ".html":
        return _page(args, out)
    try:
        from optviz.draw import render
    except ImportError as exc:  # matplotlib missing
        raise CliError(f"rendering needs matplotlib: {exc}") from None
    try:
        render.output_format(out, (*render.FORMATS, ".html"))  # an unknown one: every valid one named
        fmt = render.output_format(out)
        render.check_options(fmt, fps=args.fps, max_frames=args.max_frames, stride=args.stride,
                             size=args.size, dpi=args.dpi, resolution=args.resolution)
        render.check_output(out)
    except ValueError as exc:
        raise CliError(message(exc)) from None
    errors_path = None
    if args.preset is not None:
        errors_path = out.with_name(f"{out.stem}-errors{'.svg' if fmt == '.svg' else '.png'}")
        try:
            render.check_output(errors_path)
        except ValueError as exc:
            raise CliError(message(exc)) from None

    scene = scene_from_args(args)
    to_save = scene_to_save(args, scene)
    result = race(scene, engine_options(args), progress_bar(args, f"computing {out.name}", "point-steps"))

    bar = ProgressBar(sys.stderr, f"rendering {out.name}", progress_bar(args, "", "frames").enabled)
    t0 = time.perf_counter()
    written: list[Path] = []
    writing = out
    try:
        written.append(render.animate(
            result, out, fps=args.fps, max_frames=args.max_frames, stride=args.stride,
            size=args.size, dpi=args.dpi, resolution=args.resolution, error_panel=not args.no_error_panel,
            kind=scene.error, title=args.title, progress=bar,
        ))
        bar.close()
        if errors_path is not None:
            writing = errors_path
            written.append(render.error_plot(result, errors_path, kind=scene.error))
        if to_save is not None:
            writing = Path(args.save_scene)
            written.append(save_scene(to_save, args.save_scene))
    except (OSError, subprocess.CalledProcessError, RuntimeError, ValueError, MemoryError) as exc:
        bar.close()
        _remove(written)  # all or nothing: a lesson's two files (and the scene) go together
        if interrupted():
            raise KeyboardInterrupt from None
        return write_failed(writing, exc)
    except BaseException:
        bar.close()
        _remove(written)
        raise
    for p in written:
        print(p)
    if not args.quiet:
        print(f"{PROG}: {len(result.names)} optimizer(s) x {result.n_points} start(s) x "
              f"{result.steps} steps computed in {result.elapsed:.2f}s, rendered in "
              f"{time.perf_counter() - t0:.1f}s; rates: {rates_text(scene)}", file=sys.stderr)
    return 0


def _page(args: argparse.Namespace, out: Path) -> int:
    """``--out race.html``: the live race as one self-contained web page (:mod:`optviz.live.html`)."""
    from optviz.draw import files
    from optviz.live import html
    from optviz.scene import lessons

    try:
        files.check_output(out, html.FORMATS)
    except ValueError as exc:
        raise CliError(message(exc)) from None
    scene = scene_from_args(args)
    to_save = scene_to_save(args, scene)
    lesson = lessons.get(args.preset) if args.preset is not None else None
    t0 = time.perf_counter()
    options = {**engine_options(args), "record_every": 1}  # the page picks its rows itself
    result = race(scene, options, progress_bar(args, f"computing {out.name}", "point-steps"))
    try:  # the slider positions' runs: a scene the page cannot show is refused, not a write failure
        data = html.race_data(scene, result=result, backend=args.backend or "numpy")
    except (ValueError, MemoryError) as exc:
        raise CliError(f"cannot make the web page: {message(exc)}") from None
    title = args.title or (lesson.title if lesson else None)
    text = html.page(scene, title=title, note=lesson.note if lesson else None, data=data)
    try:
        path = files.write_text(out, text)
        written = [path]
        if to_save is not None:
            written.append(save_scene(to_save, args.save_scene))
    except (OSError, RuntimeError, ValueError, MemoryError) as exc:
        if interrupted():
            raise KeyboardInterrupt from None
        return write_failed(out, exc)
    for p in written:
        print(p)
    if not args.quiet:
        print(f"{PROG}: {len(result.names)} optimizer(s) x {result.n_points} start(s) x {result.steps} steps "
              f"with every slider position, written in {time.perf_counter() - t0:.1f}s "
              f"({path.stat().st_size / 1e6:.1f} MB); rates: {rates_text(scene)}", file=sys.stderr)
    return 0


def _remove(written: list[Path]) -> None:
    for p in written:
        if not os.path.exists(p) or os.path.isfile(p):  # never a FIFO or a device written in place
            p.unlink(missing_ok=True)

"""The command line: ``optviz render|run|basins|sweep|compare|list|dashboard`` (or ``python -m optviz ...``).

Argument parsing only: the scene is validated and converted here, then handed to
:func:`optviz.run` and :mod:`optviz.draw.render`. Every bad input ends in one line,
``optviz: error: ...``, naming what is valid, with exit status 2 and no file left behind.
Ctrl-C, SIGTERM (``timeout``, ``docker stop``) and SIGHUP stop any command the same way:
the run is cancelled, temporary files and ffmpeg are cleaned up, and ``optviz: interrupted``
is the one line printed, with exit status 130.
"""

from __future__ import annotations

import argparse
import errno
import importlib.metadata
import importlib.util
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

import numpy as np

import functions
from optviz.engine import hooks as _hooks
from optviz.engine import schedules as _schedules
from optviz.engine.backends import BackendError
from optviz.engine.job import STOP_SIGNALS
from optviz.engine.result import ERROR_KINDS
from optviz.engine.run import MAX_SECONDS, MAX_STEPS
from optviz.engine.run import run as run_engine
from optviz.engine.validate import group_label, group_names, optimizer_names
from optviz.optimizers import GROUPS, NAMES, REGISTRY
from optviz.optimizers import get as get_optimizer
from optviz.scene import lessons as _presets
from optviz.scene import starts as _starts
from optviz.scene.model import LIMITS, Limits, Scene, SceneFunction, Starts
from optviz.scene.text import parse_number
from optviz.scene.text import quote as _short

PROG = "optviz"
DEFAULT_FUNCTION = "rosenbrock"
DEFAULT_OPTIMIZERS = "SGD,MSGD,NAG,AdaGrad,RMSprop,Adam"
DEFAULT_STEPS = 200
KINDS = ("auto", *ERROR_KINDS)
FORMATS = (".gif", ".mp4", ".png", ".svg")

#: Options whose value may start with a minus sign ("--start -1.5,2"): argparse would take
#: "-1.5,2" for an option, so these are rewritten to "--start=-1.5,2" before parsing.
_NEGATIVE_OK = ("--start", "--box", "--minimum", "--values")
#: Options whose value is a formula: one beginning with "-" ("--expr -cos(x)") is still the value.
_FORMULA = ("--expr",)


class CliError(Exception):
    """Bad input: reported as one line, exit status 2."""


# ====================================================================== argument types
def _whole(low: int, high: int | None = None):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {_short(text)}") from None
        if v < low or (high is not None and v > high):
            bound = f">= {low}" if high is None else f"in [{low}, {high:,}]"
            raise argparse.ArgumentTypeError(f"must be a whole number {bound}, got {v}")
        return v

    return parse


def _positive(high: float = math.inf):
    def parse(text: str) -> float:
        try:
            v = parse_number(text, "value")
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {_short(text)}") from None
        if not 0 < v <= high:
            raise argparse.ArgumentTypeError(
                f"must be > 0{'' if high == math.inf else f' and <= {high:g}'}, got {text}"
            )
        return v

    return parse


def _size(text: str) -> tuple[float, float]:
    parts = text.lower().replace("×", "x").split("x")
    try:
        if len(parts) != 2:
            raise ValueError
        w, h = (parse_number(p, "size") for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT in inches, e.g. 10x5.6, got {_short(text)}"
        ) from None
    if w <= 0 or h <= 0:
        raise argparse.ArgumentTypeError(f"width and height must be > 0, got {_short(text)}")
    return w, h


# ====================================================================== the parser
class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block), exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        raise CliError(message)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str):
        super().__init__(prog, max_help_position=30, width=100)


MAIN_EPILOG = """\
examples:
  optviz dashboard                                   # the interactive race in the browser
  optviz render --preset article-quartic --out race.mp4
  optviz render -f rosenbrock -o Adam,NAG --grid 2 --steps 300 --out race.gif
  optviz run -f himmelblau -o group:adam --random 20 --json
  optviz basins -f himmelblau -o Adam,SGD --grid 200 --steps 300 --out basins.png
  optviz sweep -f rosenbrock -o Adam,SGD --param lr --values 1e-4:1:25 --seeds 5 --json
  optviz compare -o sgd,msgd,adam -f rosenbrock,beale,himmelblau --budget 20
  optviz list optimizers

Run "optviz COMMAND --help" for each command's options ("python -m optviz" works the same).
"""

RENDER_EPILOG = """\
examples:
  # the source article's demo: 17 optimizers on the 1-D quartic from x = -3 (also writes race-errors.png)
  optviz render --preset article-quartic --out race.mp4

  # two optimizers from a 2 x 2 grid of starts, as a GIF
  optviz render -f rosenbrock -o Adam,NAG --grid 2 --steps 300 --out race.gif

  # tuned hyperparameters, a schedule and a gradient hook; a start with a negative coordinate
  optviz render -f beale -o Adam,RMSprop --set Adam.alpha=0.05 --set RMSprop.eta=0.01 \\
      --start=-1,1.5 --schedule warmup:steps=20+cosine --hook clip:max_norm=5 --out beale.mp4

  # every optimizer of the Adam family from 30 random starts; the last frame as a still
  optviz render -f himmelblau -o group:adam --random 30 --out errors.svg

formats (from the extension): .gif, .mp4 (H.264) animations; .png, .svg the last frame
(with --preset: the animation's last frame; the error curves go to <stem>-errors.png).
"""

DASHBOARD_EPILOG = """\
examples:
  optviz dashboard                                  # http://localhost:8501 (the next free port if taken)
  optviz dashboard --port 8600 --headless           # on a server: no browser is opened
  optviz dashboard --host 0.0.0.0 --port 8501       # reachable from other machines (a lecture hall)
  optviz dashboard -- --theme.base dark             # anything after "--" goes to "streamlit run"

Stop it with Ctrl-C (or SIGTERM).
"""

RUN_EPILOG = """\
examples:
  optviz run -f rosenbrock -o all --grid 3 --steps 500
  optviz run --preset article-quartic --json
  optviz run -f saddle -o SGD,Adam --ring 0.5 --kind loss
"""


def _scene_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("scene")
    g.add_argument("-f", "--function", metavar="NAME",
                   help=f"test function (default: {DEFAULT_FUNCTION}); see 'list functions'")
    g.add_argument("--dim", type=_whole(1, 1000), metavar="N",
                   help="dimension for n-D functions (default: the function's own, or the --start length)")
    g.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="a parameter of the function, e.g. kappa=1000 for long_valley (repeatable)")
    g.add_argument("-o", "--optimizers", metavar="LIST",
                   help="comma-separated optimizer names (any case: 'adam' is Adam) and/or groups: "
                        f"{', '.join(group_names())} (see 'list groups'; default: {DEFAULT_OPTIMIZERS})")
    g.add_argument("--set", action="append", default=[], metavar="OPT.PARAM=VALUE", dest="sets",
                   help="a hyperparameter, e.g. Adam.alpha=0.1 (repeatable); see 'list optimizers'")
    s = g.add_mutually_exclusive_group()
    s.add_argument("--start", action="append", metavar="X,Y", dest="start_points",
                   help="a starting point (repeatable); write --start=-1,2 when it begins with '-'")
    s.add_argument("--grid", type=_whole(1, 1000), metavar="N",
                   help="an N-per-axis grid of starts inside the function's box")
    s.add_argument("--random", type=_whole(1, 1_000_000), metavar="N",
                   help="N random starts in the function's box (from --seed)")
    s.add_argument("--ring", type=_positive(), metavar="R",
                   help="starts on a circle of radius R around the global minimizer (box centre if none)")
    g.add_argument("--ring-points", type=_whole(1, 100_000), default=8, metavar="N",
                   help="number of starts on the --ring (default: 8)")
    g.add_argument("--steps", type=_whole(0, MAX_STEPS), metavar="N",
                   help=f"number of steps (default: {DEFAULT_STEPS})")
    g.add_argument("--seed", type=_whole(0, 2**63 - 1), metavar="N",
                   help="random seed for --random starts and Santa's noise (default: 0)")
    g.add_argument("--schedule", metavar="TEXT",
                   help="learning-rate schedule: "
                        f"{', '.join(_schedules.FACTORIES)}, e.g. cosine or warmup:steps=20+cosine")
    g.add_argument("--hook", action="append", default=[], metavar="TEXT", dest="hooks",
                   help=f"gradient hook, applied in order (repeatable): {', '.join(_hooks.FACTORIES)}, "
                        "e.g. clip:max_norm=5")
    _noise_options(g)
    g.add_argument("--record-every", type=_whole(1), default=1, metavar="K",
                   help="record every K-th step, and the last (default: 1)")
    g.add_argument("--max-seconds", type=_positive(), default=MAX_SECONDS, metavar="S",
                   help=f"refuse a run estimated to take longer than S seconds on this machine "
                        f"(default: {MAX_SECONDS:g})")
    g.add_argument("--backend", choices=("numpy", "cupy", "auto"), default="numpy",
                   help="array backend for the step loop (default: numpy)")
    g.add_argument("--kind", choices=KINDS,
                   help="error measure: distance to the minimizer, gap f - f*, or the loss f; auto: distance "
                        "when the function has a minimum, else the loss (default: auto, or the --scene's)")
    g.add_argument("--preset", metavar="NAME",
                   help=f"a named scene: {', '.join(_presets.PRESETS)} (sets function, optimizers, "
                        "starts, steps, seed; --set/--steps/--seed still apply)")
    _function_and_scene_file_options(g)


def _function_and_scene_file_options(g: argparse._ArgumentGroup) -> None:
    """A typed function (``--expr``, ``--box``, ``--minimum``) and scene files (``--scene``,
    ``--save-scene``): part of every scene command's options."""
    g.add_argument("--expr", metavar="TEXT",
                   help="your own function instead of -f: a formula in x (1-D) or x and y (2-D), e.g. "
                        "\"(1 - x)**2 + 100*(y - x**2)**2\"; + - * / ** (or ^), pi, e, sin cos tan exp "
                        "log sqrt abs tanh sinh cosh arctan, min/max of two")
    g.add_argument("--box", metavar="LO,HI[,LO,HI]",
                   help="the --expr function's box: x's range, then y's (default: -5,5 per coordinate; "
                        "two ranges make an x-only formula 2-D)")
    g.add_argument("--minimum", action="append", metavar="X[,Y]", dest="minimum",
                   help="a global minimizer of the --expr function (repeatable, or X,Y;X,Y; 'none': it "
                        "has none); default: estimated numerically, and said so")
    g.add_argument("--scene", metavar="PATH",
                   help="run the scene in this JSON file (from --save-scene or the dashboard's \"download "
                        "scene\"); scene options given besides change it: -f/--expr the function, "
                        "--start/--grid/... the starts, -o the optimizers, --set, --steps, --seed, ...")
    g.add_argument("--save-scene", metavar="PATH",
                   help="write the scene that ran to this JSON file (for --scene, or the dashboard's "
                        "\"load scene\")")


def _at_least_zero(text: str) -> float:
    try:
        v = parse_number(text, "value")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {_short(text)}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return v


def _noise_options(g: argparse._ArgumentGroup) -> None:
    """--noise, --noise-mode and --delay (run, render and the explore commands)."""
    g.add_argument("--noise", type=_at_least_zero, metavar="SIGMA",
                   help="add Gaussian noise of this sigma to every gradient coordinate (stochastic "
                        "gradients; every optimizer at a start and step gets the same draw; default: 0)")
    g.add_argument("--noise-mode", choices=("absolute", "relative"),
                   help="absolute: g + sigma*z; relative: g + sigma*|g|*z (default: absolute)")
    g.add_argument("--delay", type=_whole(0, MAX_STEPS), metavar="TAU",
                   help="each step uses the gradient taken TAU steps earlier, as in asynchronous training "
                        "(default: 0)")


def _progress_options(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    pg = p.add_mutually_exclusive_group()
    pg.add_argument("--progress", action="store_true", default=None,
                    help="always show the progress bar on stderr (default: only on a terminal, for runs "
                         "over half a second)")
    pg.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary on stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="optviz: compare gradient-descent optimizers on analytic test functions.",
        epilog=MAIN_EPILOG,
        formatter_class=_Formatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    r = sub.add_parser(
        "render", help="run a scene and write a GIF/MP4 animation (or a PNG/SVG still)",
        description="Run the optimizers and write an animation: the paths on the function's contours\n"
                    "(1-D: dots on the curve) beside the error per step.",
        epilog=RENDER_EPILOG, formatter_class=_Formatter,
    )
    _scene_options(r)
    o = r.add_argument_group("output")
    o.add_argument("--out", required=True, metavar="PATH",
                   help=f"file to write; its extension picks the format: {', '.join(FORMATS)}")
    o.add_argument("--fps", type=_positive(120), default=20, help="frames per second (default: 20)")
    o.add_argument("--max-frames", type=_whole(2, 100_000), default=200, metavar="N",
                   help="at most N frames: the stride between drawn steps is chosen to fit, the last step "
                        "is always drawn (default: 200)")
    o.add_argument("--stride", type=_whole(1), metavar="K",
                   help="draw every K-th recorded step instead (overrides --max-frames)")
    o.add_argument("--dpi", type=_positive(1000), help="dots per inch (default: 100)")
    o.add_argument("--size", type=_size, metavar="WxH",
                   help="figure size in inches; pixels = size x dpi (default: 10x5.6)")
    o.add_argument("--resolution", choices=("720p", "1080p"),  # render.RESOLUTIONS (imported lazily)
                   help="exactly 1280x720 or 1920x1080 pixels, fonts sized for a projector (instead of "
                        "--size/--dpi)")
    o.add_argument("--no-error-panel", action="store_true", help="draw only the paths, no error panel")
    o.add_argument("--title", help="figure title (default: function and counts)")
    _progress_options(o)
    r.set_defaults(handler=cmd_render)

    u = sub.add_parser(
        "run", help="run a scene and print the ranked results table (no pictures)",
        description="Run the optimizers and print the results, best first.",
        epilog=RUN_EPILOG, formatter_class=_Formatter,
    )
    _scene_options(u)
    u.add_argument("--tol", type=_positive(),
                   help="an error at or below this counts as converged (default: 0.001, or the --scene's)")
    u.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _progress_options(u)
    u.set_defaults(handler=cmd_run)
    _explore_commands(sub)

    ls = sub.add_parser(
        "list", help="list test functions, optimizers (with hyperparameters), groups and presets",
        description="List what the other commands accept.", formatter_class=_Formatter,
    )
    ls.add_argument("what", nargs="?", default="all",
                    choices=("all", "functions", "optimizers", "groups", "presets"))
    ls.set_defaults(handler=cmd_list)

    d = sub.add_parser(
        "dashboard", help="start the interactive dashboard (Streamlit) in the browser",
        description="Start the dashboard shipped with optviz: \"streamlit run\" on its script, with\n"
                    "settings for a lecture (no usage statistics, a minimal toolbar, no file watcher).",
        epilog=DASHBOARD_EPILOG, formatter_class=_Formatter,
    )
    d.add_argument("--port", type=_whole(1, 65535), metavar="N",
                   help="port to serve on (default: 8501, or the next free one)")
    d.add_argument("--host", metavar="ADDRESS",
                   help="address to listen on, e.g. 127.0.0.1 or 0.0.0.0 (default: Streamlit's, every "
                        "interface)")
    d.add_argument("--headless", action="store_true",
                   help="do not open a browser (default: open one when there is a display)")
    d.add_argument("streamlit_args", nargs="*", metavar="-- STREAMLIT_OPTION",
                   help="further options for \"streamlit run\", after \"--\"")
    d.set_defaults(handler=cmd_dashboard)
    return parser


# ====================================================================== scene
def _split_kv(text: str, what: str, example: str) -> tuple[str, str]:
    key, eq, value = text.partition("=")
    if not eq or not key.strip() or not value.strip():
        raise CliError(f"{what} expects KEY=VALUE (e.g. {example}), got {_short(text)}")
    return key.strip(), value.strip()


def parse_optimizers(text: str) -> list[str]:
    """Names from ``'Adam,NAG'``, ``'all'`` or ``'group:adam'`` (a bare name, any case, is one
    optimizer: ``adam`` is Adam); each optimizer once, in the order given."""
    out: list[str] = []
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        try:
            names, _ = optimizer_names(item)
        except (KeyError, ValueError) as exc:
            raise CliError(_message(exc)) from None
        out.extend(n for n in names if n not in out)
    if not out:
        raise CliError(f"choose at least one optimizer; valid: {', '.join(NAMES)}; "
                       f"or a group: {', '.join(group_names())}")
    return out


def apply_sets(chosen: dict[str, dict[str, Any]], sets: Sequence[str]) -> None:
    """Apply ``--set Optimizer.param=value`` items to ``chosen`` (validated against the registry)."""
    for text in sets:
        lhs, value = _split_kv(text, "--set", "Adam.alpha=0.1")
        opt, dot, hp_name = lhs.partition(".")
        if not dot or not opt or not hp_name:
            raise CliError(
                f"--set expects OPTIMIZER.HYPERPARAMETER=VALUE (e.g. Adam.alpha=0.1), got {_short(text)}"
            )
        try:
            spec = get_optimizer(opt.strip())
        except KeyError as exc:
            raise CliError(f"--set {_short(text)}: {exc.args[0]}") from None
        if spec.name not in chosen:
            raise CliError(
                f"--set {_short(text)}: {spec.name} is not among the chosen optimizers "
                f"({', '.join(chosen)}); add it with -o"
            )
        try:
            hp = spec.hyperparam(hp_name.strip())
        except KeyError as exc:
            raise CliError(f"--set {_short(text)}: {exc.args[0]}") from None
        try:
            v = hp.check(parse_number(value, f"--set {spec.name}.{hp.name}"), spec.name)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        chosen[spec.name][hp.name] = v


def _numbers(text: str, what: str, example: str = "-1.5,2", noun: str = "a point") -> list[float]:
    """Numbers separated by commas (``"-1.5,2"``), or a one-line error naming ``what``."""
    items = [t for t in text.replace(" ", "").split(",")]
    if not items or any(t == "" for t in items):
        raise CliError(f"{what} expects numbers separated by commas, e.g. {example}; got {_short(text)}")
    try:
        return [parse_number(t, what) for t in items]
    except ValueError as exc:
        raise CliError(f"{exc}; write {noun} as numbers separated by commas, e.g. {example}") from None


def _point(text: str, what: str) -> list[float]:
    return _numbers(text, what)


def _params(texts: Sequence[str]) -> dict[str, float]:
    """``--param KEY=VALUE`` items as a mapping (values read as numbers)."""
    out: dict[str, float] = {}
    for text in texts:
        k, v = _split_kv(text, "--param", "kappa=1000")
        out[k] = parse_number(v, f"--param {k}")
    return out


def _make_function(name: str, dim: int | None, params: dict[str, float]):
    fams = functions.families()
    if name not in fams:
        raise CliError(f"unknown function {_short(name)}; valid: {', '.join(fams)}")
    return functions.get(name, dim, **params)


# ---------------------------------------------------------------------- typed functions
def _box_option(text: str) -> list[list[float]]:
    """``--box -2,2,-1,3`` -> ``[[-2, 2], [-1, 3]]`` (one range per coordinate, LO < HI)."""
    nums = _numbers(text, "--box", "-2,2,-1,3", "the box")
    if len(nums) not in (2, 4):
        raise CliError(f"--box expects LO,HI (1-D) or XLO,XHI,YLO,YHI (2-D), e.g. -2,2,-1,3; "
                       f"got {len(nums)} number(s)")
    rows = [nums[i:i + 2] for i in range(0, len(nums), 2)]
    for axis, (lo, hi) in zip("xy", rows, strict=False):
        if not lo < hi:
            raise CliError(f"--box: the range of {axis} needs LO < HI, got {lo:g},{hi:g}")
    return rows


def _minimum_option(texts: Sequence[str] | None) -> list[list[float]] | None:
    """``--minimum 1,1`` (repeatable, or ``1,1;-1,1``) -> points; ``none`` -> ``[]``; not given -> None."""
    if not texts:
        return None
    if any(t.strip().lower() == "none" for t in texts):
        if len(texts) > 1:
            raise CliError("--minimum none (no minimum) cannot be combined with other --minimum points")
        return []
    return [_numbers(part, "--minimum", "1,1", "a minimizer")
            for text in texts for part in text.split(";") if part.strip()]


def _make_expression(text: str, box: Any, minimum: Any) -> functions.ExpressionFunction:
    """``functions.from_expression``; a refused text, box or minimizer is a one-line error."""
    try:
        return functions.from_expression(text, box=box, minimizers=minimum)
    except ValueError as exc:
        raise CliError(f"--expr: {_message(exc)}") from None


#: The options that choose the function (for --preset and --scene: what they replace).
_FUNCTION_FLAGS = (("-f/--function", "function"), ("--dim", "dim"), ("--param", "param"),
                   ("--expr", "expr"), ("--box", "box"), ("--minimum", "minimum"))


def _given(args: argparse.Namespace, flags: Sequence[tuple[str, str]]) -> list[str]:
    return [flag for flag, dest in flags if getattr(args, dest, None) not in (None, [], ())]


def _function(args: argparse.Namespace, pts: Sequence[Sequence[float]], base: SceneFunction | None = None):
    """The test function the options name. ``base`` (a scene's function) fills what they leave
    out: ``--dim``/``--param`` change its dimension and parameters, ``--box``/``--minimum`` its
    typed function's box and minimizers; ``-f`` or ``--expr`` replace it."""
    expr_given, registry_given = args.expr is not None, args.function is not None
    if expr_given and registry_given:
        raise CliError("-f/--function and --expr both name the function; give one")
    typed = expr_given or (not registry_given and base is not None and base.expression is not None)
    if typed:
        if args.dim is not None or args.param:
            raise CliError("--dim and --param are for the built-in functions (-f); a typed function is 1-D "
                           "or 2-D by its --box (one range per coordinate)")
        inherit = base is not None and not expr_given
        text = args.expr if expr_given else base.expression  # type: ignore[union-attr]
        if args.box is not None:
            box = _box_option(args.box)
        else:
            box = [list(r) for r in base.box] if inherit and base.box else None  # type: ignore[union-attr]
        minimum = _minimum_option(args.minimum)
        if minimum is None and inherit and base.minimizers is not None:  # type: ignore[union-attr]
            minimum = [list(p) for p in base.minimizers]  # type: ignore[union-attr]
        fn = _make_expression(text, box, minimum)
        if pts and len(pts[0]) != fn.dim:
            raise CliError(f"--start has {len(pts[0])} coordinate(s) but the typed function is {fn.dim}-D "
                           f"(its box has {fn.dim} range(s))")
        return fn
    if args.box is not None or args.minimum:
        raise CliError("--box and --minimum belong to a typed function: give --expr too")
    inherit = base is not None and not registry_given
    name = args.function if registry_given else (base.name if inherit else DEFAULT_FUNCTION)
    params = {**(base.params if inherit else {}), **_params(args.param)}  # type: ignore[union-attr]
    dim = args.dim
    if pts:
        lengths = sorted({len(p) for p in pts})
        if dim is not None and dim != lengths[0]:
            raise CliError(f"--start has {lengths[0]} coordinate(s) but --dim is {dim}")
        dim = lengths[0]
    elif dim is None and inherit:
        dim = base.dim  # type: ignore[union-attr]
    fam = functions.families().get(name)
    if fam is not None and dim is not None and not fam.supports(dim):
        raise CliError(f"{name} takes {fam.dims_text()}, got {dim} coordinate(s)")
    return _make_function(name, dim, params)


def _typed_points(args: argparse.Namespace) -> list[list[float]]:
    pts = [_point(t, "--start") for t in args.start_points or ()]
    if len({len(p) for p in pts}) > 1:
        raise CliError(f"every --start must have the same number of coordinates, got "
                       f"{sorted({len(p) for p in pts})}")
    return pts


def _starts_given(args: argparse.Namespace) -> bool:
    return any(v is not None for v in (args.start_points, args.grid, args.random, args.ring))


def _starts_of(args: argparse.Namespace, fn, pts: list[list[float]], seed: int) -> Starts | None:
    """The starts the options ask for on ``fn`` (None: none given). Grid and random starts keep
    their mode in a saved scene; ``--ring R`` (an absolute radius) is saved as its points."""
    if pts:
        return Starts.typed(pts)
    if args.grid is not None:
        if args.grid ** fn.dim > 1_000_000:
            raise CliError(f"--grid {args.grid} in {fn.dim}-D gives over a million starts; use fewer")
        return Starts.grid(args.grid)
    if args.random is not None:
        return Starts.random(args.random, seed=seed)
    if args.ring is not None:
        box = np.asarray(fn.box, dtype=float)
        mins = np.asarray(fn.minimizers, dtype=float)
        center = mins[0] if mins.size else box.mean(axis=1)
        return Starts.typed(_starts.ring(center, args.ring, args.ring_points))
    return None


def _default_starts(fn) -> Starts:
    """Near the box's lower-left corner: away from the minimizers of most functions."""
    box = np.asarray(fn.box, dtype=float)
    return Starts.typed((box[:, 0] + 0.1 * (box[:, 1] - box[:, 0]))[None, :])


# ---------------------------------------------------------------------- scene files
#: What a scene changed by the command's options may ask for: the engine's own bounds (a
#: file as loaded is held to ``optviz.scene.model.LIMITS``; a saved one must fit them too).
RUN_LIMITS = Limits(steps=MAX_STEPS, points=1_000_000, work=math.inf)
#: Engine keywords a scene holds beside the ones every command sets (added by other options).
_SCENE_EXTRAS = ("noise", "noise_mode", "delay")


def _path(path: str | os.PathLike) -> str:
    """A file name for a message: whole (paths are short), unless it is absurdly long."""
    text = os.fspath(path)
    return repr(text) if len(text) <= 300 else _short(text)


def _load_scene(path: str) -> Scene:
    try:
        return Scene.load(path)
    except ValueError as exc:
        msg = _message(exc)
        prefix = f"{Path(path)}: "
        msg = msg[len(prefix):] if msg.startswith(prefix) else msg
        raise CliError(f"--scene {_path(path)}: {msg}") from None


def _check_scene_path(path: str) -> None:
    """Refuse, before any work, a --save-scene path that cannot be written."""
    p = Path(path)
    parent = p.parent
    if p.is_dir():
        raise CliError(f"--save-scene {_path(path)}: is a folder; give a file name such as scene.json")
    if not parent.is_dir():
        raise CliError(f"--save-scene {_path(path)}: the folder {_path(parent)} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CliError(f"--save-scene {_path(path)}: the folder {_path(parent)} is not writable")


def _scene_file_kwargs(args: argparse.Namespace) -> tuple[dict[str, Any], Scene]:
    """Run keywords (and the scene) of ``--scene PATH``, changed by the scene options given."""
    if args.preset is not None:
        raise CliError("--scene and --preset each give a whole scene; give one (options given besides "
                       "--scene change it)")
    scene = _load_scene(args.scene)
    pts = _typed_points(args)
    base = scene.function
    changes_dim = bool(pts) and base.name is not None and len(pts[0]) != base.dim
    fn = _function(args, pts, base) if _given(args, _FUNCTION_FLAGS) or changes_dim else None
    built = fn if fn is not None else scene.build_function()
    if pts and len(pts[0]) != built.dim:
        raise CliError(f"--start has {len(pts[0])} coordinate(s) but the scene's function is {built.dim}-D")
    seed = scene.seed if args.seed is None else args.seed
    starts = _starts_of(args, built, pts, seed)
    if starts is None:  # the scene's starts; computed ones are computed again on a new function
        if scene.starts.mode != "points":
            starts = scene.starts if fn is None else replace(scene.starts, points=None)
        elif len(scene.starts.points[0]) != built.dim:  # type: ignore[index]
            raise CliError(f"the scene's starting points have {len(scene.starts.points[0])} coordinate(s) "  # type: ignore[index]
                           f"but the function given is {built.dim}-D: give starts too (--start, --grid, "
                           "--random or --ring)")
        else:
            starts = scene.starts
    if args.optimizers is None:
        chosen = {name: dict(hps) for name, hps in scene.optimizers.items()}
    else:  # a new list: the scene's hyperparameters for the optimizers it keeps
        chosen = {n: dict(scene.optimizers.get(n, {})) for n in parse_optimizers(args.optimizers)}
    apply_sets(chosen, args.sets)
    extras = {k: getattr(args, k) for k in _SCENE_EXTRAS if getattr(args, k, None) is not None}
    tol = getattr(args, "tol", None)
    try:
        changed = Scene(
            function=fn if fn is not None else base,  # type: ignore[arg-type]
            optimizers=chosen, starts=starts,
            steps=scene.steps if args.steps is None else args.steps, seed=seed,
            schedule=scene.schedule if args.schedule is None else args.schedule,
            hooks=tuple(args.hooks) if args.hooks else scene.hooks,
            noise=extras.get("noise", scene.noise), noise_mode=extras.get("noise_mode", scene.noise_mode),
            delay=extras.get("delay", scene.delay), dtype=scene.dtype,
            error=scene.error if args.kind is None else args.kind, tol=scene.tol if tol is None else tol,
            limits=RUN_LIMITS,
        )
    except ValueError as exc:
        raise CliError(f"--scene {_path(args.scene)} with the options given: {_message(exc)}") from None
    return changed.run_kwargs(), changed


def _savable(make: Callable[[], Scene]) -> Scene:
    """``make()``: a scene held to the file limits (``optviz.scene.model.LIMITS``), so that what
    --save-scene writes, --scene can open; or a one-line error, before any work."""
    try:
        return make()
    except ValueError as exc:
        raise CliError(f"--save-scene: this run cannot be saved as a scene: {_message(exc)}") from None


def _scene_of_run(args: argparse.Namespace, kw: dict[str, Any], starts: Starts) -> Scene:
    """The scene of the run the options give (for --save-scene)."""
    return _savable(lambda: Scene.from_run_kwargs(
        kw["function"], kw["optimizers"], starts, kw["steps"], seed=kw["seed"],
        schedule=args.schedule or kw.get("schedule"),  # as typed (or a preset's own text)
        hooks=list(args.hooks) if args.hooks else list(kw.get("hooks", ())),
        error=args.kind or "auto", tol=getattr(args, "tol", None),
        **{k: kw[k] for k in _SCENE_EXTRAS if k in kw},
    ))


def save_scene(args: argparse.Namespace) -> Path | None:
    """Write the scene that ran to ``--save-scene``, if given (call it once the command's work
    is done). Returns the path written; an ``OSError`` is the caller's to report."""
    scene = getattr(args, "scene_to_save", None)
    if scene is None or not getattr(args, "save_scene", None):
        return None
    return scene.save(args.save_scene)


# ---------------------------------------------------------------------- the run keywords
def build_scene(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for :func:`optviz.run` from the parsed options (validated).

    Also fills ``args.kind`` (and ``args.tol``) from the scene when they were not given, and,
    with ``--save-scene``, keeps the scene to write as ``args.scene_to_save`` (checked here,
    before any work; :func:`save_scene` writes it).
    """
    try:
        return _build_scene(args)
    except CliError:
        raise
    except (ValueError, KeyError) as exc:
        raise CliError(_message(exc)) from None


def _build_scene(args: argparse.Namespace) -> dict[str, Any]:
    if getattr(args, "save_scene", None):
        _check_scene_path(args.save_scene)
    if getattr(args, "scene", None) is not None:
        kw, scene = _scene_file_kwargs(args)
        args.kind = scene.error
        if hasattr(args, "tol"):
            args.tol = scene.tol
        if getattr(args, "save_scene", None):
            args.scene_to_save = _savable(lambda: replace(scene, limits=LIMITS))
        return _run_options(args, kw)
    starts_given = _starts_given(args)
    if args.preset is not None:
        try:
            preset = _presets.get(args.preset)
        except KeyError as exc:
            raise CliError(exc.args[0]) from None
        clash = [flag for flag, given in (
            ("-f/--function", args.function is not None), ("-o/--optimizers", args.optimizers is not None),
            ("--dim", args.dim is not None), ("--param", bool(args.param)),
            ("--start/--grid/--random/--ring", starts_given),
            *((flag, True) for flag in _given(args, _FUNCTION_FLAGS[3:])),
        ) if given]
        if clash:
            raise CliError(
                f"--preset {preset.name} sets the function, optimizers and starts; drop {', '.join(clash)} "
                "(--set, --steps, --seed, --schedule and --hook still apply)"
            )
        kw = preset.run_kwargs()
        chosen = {k: dict(v) for k, v in kw["optimizers"].items()}
        apply_sets(chosen, args.sets)
        kw["optimizers"] = chosen
        kw["function"] = functions.get(preset.function)
        if args.steps is not None:
            kw["steps"] = args.steps
        if args.seed is not None:
            kw["seed"] = args.seed
        spec = Starts.typed(kw["starts"])
    else:
        pts = _typed_points(args)
        fn = _function(args, pts)
        seed = 0 if args.seed is None else args.seed
        spec = _starts_of(args, fn, pts, seed) or _default_starts(fn)
        start = spec.compute(fn)
        chosen = {n: {} for n in parse_optimizers(
            DEFAULT_OPTIMIZERS if args.optimizers is None else args.optimizers)}
        apply_sets(chosen, args.sets)
        kw = {
            "function": fn, "optimizers": chosen, "starts": start,
            "steps": DEFAULT_STEPS if args.steps is None else args.steps, "seed": seed,
        }
    kw["schedule"] = _schedules.parse(args.schedule) if args.schedule else kw.get("schedule")
    kw["hooks"] = [_hooks.parse(h) for h in args.hooks] if args.hooks else kw.get("hooks", [])
    for key in _SCENE_EXTRAS:  # given, or a preset's own, or the engine's default
        if getattr(args, key, None) is not None:
            kw[key] = getattr(args, key)
    if getattr(args, "save_scene", None):
        args.scene_to_save = _scene_of_run(args, kw, spec)
    if args.kind is None:
        args.kind = "auto"
    if hasattr(args, "tol") and args.tol is None:
        args.tol = 1e-3
    return _run_options(args, kw)


def _run_options(args: argparse.Namespace, kw: dict[str, Any]) -> dict[str, Any]:
    """The engine options that do not change the race (not part of a scene)."""
    kw["record_every"] = args.record_every
    kw["backend"] = args.backend
    kw["max_seconds"] = args.max_seconds
    return kw


def compute(kw: dict[str, Any], progress: ProgressBar | None = None):
    """Run the engine (with a progress bar, if given); its input errors become :class:`CliError`."""
    try:
        return run_engine(**kw, progress=progress if progress is not None and progress.enabled else None)
    except (ValueError, KeyError, TypeError, MemoryError, BackendError) as exc:
        raise CliError(_as_options(_message(exc))) from None
    finally:
        if progress is not None:
            progress.close()


#: The engine's and the explore functions' advice names keyword arguments; on the command line
#: they are options.
_OPTION_WORDS = (("(max_seconds)", "(--max-seconds)"), ("(scheduler='tcp://host:8786')",
                 "(--scheduler tcp://host:8786)"), ("(record_every=", "(--record-every "),
                 (", or raise max_record_bytes", ""), ("raise max_seconds", "raise --max-seconds"))


def _as_options(text: str) -> str:
    for api, option in _OPTION_WORDS:
        text = text.replace(api, option)
    return text


#: A run of this many characters without a space in a message is cut short (a pasted megabyte).
_LONG_TOKEN = re.compile(r"\S{200,}")


def _message(exc: BaseException) -> str:
    """An exception as one line: whitespace folded, and any overlong token cut (see ``quote``)."""
    msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    line = " ".join(str(msg).split()) or type(exc).__name__
    return _LONG_TOKEN.sub(lambda m: f"{m.group()[:40]}… ({len(m.group()):,} characters)", line)


# ====================================================================== progress bar
class ProgressBar:
    """A one-line text bar on ``stream``, redrawn in place (at most ten times a second).

    ``unit`` names what is counted (``"frames"``: ``9/9 frames``; ``"point-steps"``: a
    percentage of the total and the time left). Nothing is drawn before ``delay`` seconds, so a
    quick run leaves no bar behind.
    """

    #: False while a bar's line is open on stderr (the interrupt message then needs no newline).
    line_closed = True

    def __init__(self, stream: TextIO, label: str, enabled: bool, width: int = 30, unit: str = "frames",
                 delay: float = 0.0):
        self.stream, self.label, self.enabled, self.width = stream, label, enabled, width
        self.unit, self.delay = unit, delay
        self.start = time.perf_counter()
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if (done < total and now - self._last < 0.1) or (not self._drawn and now - self.start < self.delay):
            return
        self._last = now
        frac = min(done / total, 1.0) if total > 0 else 1.0
        filled = int(self.width * frac)
        bar = "#" * filled + "-" * (self.width - filled)
        spent = now - self.start
        if self.unit == "frames":
            count = f"{done}/{total} frames"
        else:
            left = f", ~{_clock(spent * (1 - frac) / frac)} left" if 0 < frac < 1 and spent >= 1 else ""
            count = f"{100 * frac:3.0f}% of {total:.3g} {self.unit}{left}"
        self.stream.write(f"\r{self.label} [{bar}] {count} {spent:5.1f}s")
        self.stream.flush()
        self._drawn = True
        ProgressBar.line_closed = False

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
            ProgressBar.line_closed = True


def _clock(seconds: float) -> str:
    """A short duration: 42s, 3m05s, 2h10m."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def _bar(args: argparse.Namespace, label: str, unit: str) -> ProgressBar:
    """The bar a command shows: always with --progress, never with -q, else on a terminal (late)."""
    explicit = bool(args.progress)
    enabled = explicit or (not args.quiet and sys.stderr.isatty())
    return ProgressBar(sys.stderr, label, enabled, unit=unit, delay=0.0 if explicit else 0.5)


# ====================================================================== commands
def cmd_render(args: argparse.Namespace) -> int:
    out = Path(args.out)
    try:
        from optviz.draw import render
    except ImportError as exc:  # matplotlib missing
        raise CliError(f"rendering needs matplotlib: {exc}") from None
    try:
        fmt = render.output_format(out)
        render.check_options(fmt, fps=args.fps, max_frames=args.max_frames, stride=args.stride,
                             size=args.size, dpi=args.dpi, resolution=args.resolution)
        render.check_output(out)
    except ValueError as exc:
        raise CliError(_message(exc)) from None
    errors_path = None
    if args.preset is not None:
        errors_path = out.with_name(f"{out.stem}-errors{'.svg' if fmt == '.svg' else '.png'}")
        try:
            render.check_output(errors_path)
        except ValueError as exc:
            raise CliError(_message(exc)) from None

    kw = build_scene(args)
    result = compute(kw, _bar(args, f"computing {out.name}", "point-steps"))

    bar = ProgressBar(sys.stderr, f"rendering {out.name}", _bar(args, "", "frames").enabled)
    t0 = time.perf_counter()
    written: list[Path] = []
    writing = out
    try:
        written.append(render.animate(
            result, out, fps=args.fps, max_frames=args.max_frames, stride=args.stride,
            size=args.size, dpi=args.dpi, resolution=args.resolution, error_panel=not args.no_error_panel,
            kind=args.kind,
            title=args.title, progress=bar,
        ))
        bar.close()
        if errors_path is not None:
            writing = errors_path
            written.append(render.error_plot(result, errors_path, kind=args.kind))
        if args.save_scene:
            writing = Path(args.save_scene)
            written.append(save_scene(args))  # type: ignore[arg-type]
    except (OSError, subprocess.CalledProcessError, RuntimeError, ValueError, MemoryError) as exc:
        bar.close()
        for p in written:  # all or nothing: a preset's two files (and the scene) go together
            p.unlink(missing_ok=True)
        if interrupted():
            raise KeyboardInterrupt from None
        print(f"{PROG}: error: could not write {os.fspath(writing)!r}: {_message(exc)}", file=sys.stderr)
        return 1
    except BaseException:
        bar.close()
        for p in written:
            p.unlink(missing_ok=True)
        raise
    for p in written:
        print(p)
    if not args.quiet:
        print(f"{PROG}: {len(result.names)} optimizer(s) x {result.n_points} start(s) x "
              f"{result.steps} steps computed in {result.elapsed:.2f}s, rendered in "
              f"{time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return 0


def _fmt(v: Any, kind: str = "g") -> str:
    if v is None:
        return "-"
    if kind == "pct":  # (a share that rounds to 0 % or 100 % without being it says so: "<1%")
        shown = f"{100 * v:.0f}"
        return "<1%" if shown == "0" and v > 0 else ">99%" if shown == "100" and v < 1 else f"{shown}%"
    if kind == "int":
        return str(v)
    return f"{v:.3g}"


def _clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, np.ndarray):
        return _clean(v.tolist())
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def cmd_run(args: argparse.Namespace) -> int:
    kw = build_scene(args)
    result = compute(kw, _bar(args, "running", "point-steps"))
    try:
        kind = result.error_kind(args.kind)
        rows = result.summary(kind, tol=args.tol)
    except ValueError as exc:
        raise CliError(_message(exc)) from None
    try:
        saved = save_scene(args)
    except OSError as exc:
        print(f"{PROG}: error: could not write {args.save_scene!r}: {_message(exc)}", file=sys.stderr)
        return 1
    if saved is not None and not args.quiet:
        print(f"{PROG}: scene written to {saved}", file=sys.stderr)
    fn = result.function
    if args.json:
        for r in rows:
            r["hyperparams"] = result.hyperparams[r["optimizer"]]
        doc = {
            "function": fn.name, "title": fn.title, "dim": fn.dim, "kind": kind, "tol": args.tol,
            "steps": result.steps, "seed": result.seed, "n_points": result.n_points,
            "schedule": result.schedule, "hooks": list(result.hooks), "elapsed_s": result.elapsed,
            "results": rows,
        }
        print(json.dumps(_clean(doc), indent=2))
        return 0
    what = {"distance": "distance to minimizer", "gap": "f - f*", "loss": "f(x)"}[kind]
    print(f"{fn.title} ({fn.dim}-D), {result.n_points} start(s), {result.steps} steps, seed {result.seed}"
          f"; error: {what}" + ("" if kind == "loss" else f", tol {args.tol:g}"))
    header = ("rank", "optimizer", "final (median)", "final (best)", "steps to tol", "converged",
              "diverged")
    table = [
        (str(r["rank"]), r["optimizer"], _fmt(r["final_median"]), _fmt(r["final_best"]),
         _fmt(r["steps_to_tol"], "int"), _fmt(r["converged"], "pct"), f"{r['diverged']}/{r['n_points']}")
        for r in rows
    ]
    widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(header)]
    left = {1}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i in left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    print(line(header))
    print("  ".join("-" * w for w in widths))
    for t in table:
        print(line(t))
    return 0


# ====================================================================== explore: basins, sweep, compare
BASINS_EPILOG = """\
examples:
  # from where does Adam find Himmelblau's minima that SGD misses? (a 200 x 200 grid of starts)
  optviz basins -f himmelblau -o Adam,SGD --grid 200 --steps 300 --out basins.png
  optviz basins -f himmelblau -o Adam,SGD --grid 50 --json > basins.json
  optviz basins -f rosenbrock -o group:adam --grid 100 --show steps --out steps.svg
  optviz basins --preset himmelblau-basins --grid 300 --scheduler local --out basins.png

Every cell's centre is a start; per optimizer and cell: the final error, the steps to --tol and which
listed global minimizer was reached (JSON: null for none). Learning rates not set with --set come
from the function's tuned table (the dashboard's defaults; --rates registry for the registry's).
"""

SWEEP_EPILOG = """\
examples:
  # how sensitive is each optimizer to its learning rate on Rosenbrock? ('lr' is each one's own)
  optviz sweep -f rosenbrock -o Adam,SGD,MSGD --param lr --values 1e-4:1:25 --seeds 5 --out lr.png
  optviz sweep -f rosenbrock -o Adam --param alpha --values 1e-3,1e-2,1e-1 --grid 4 --json
  optviz sweep -f booth -o Adam --param beta1 --values 0:0.99:12 --spacing linear
  # which optimizers tolerate noise? what does delay compensation buy?
  optviz sweep -f himmelblau -o SGD,MSGD,Adam --param noise --values 0,0.1,1,10 --random 32 --seeds 3
  optviz sweep -f long_valley -o SGD,DCASGD --param delay --values 0,1,2,4,8 --out delay.png

--param takes a hyperparameter, 'lr', 'noise' or 'delay' (a --param KEY=VALUE is still a parameter of
the function). Without --start/--grid/--random/--ring the starts are the dashboard's default grid; with
--random each seed draws its own starts.
"""

COMPARE_EPILOG = """\
examples:
  # tuned fairly, which optimizer solves most of these functions fastest?
  optviz compare -o sgd,msgd,nag,rmsprop,adam -f rosenbrock,beale,himmelblau,booth --out profile.png
  optviz compare --budget 30 --seeds 3 --json > comparison.json
  optviz compare -o sgd,adam -f himmelblau --noise 1 --budget 10

Each optimizer tries --budget configurations per function (Latin hypercube over its learning rates
and momenta/betas) on --seeds x --tune-starts starts; the best (most converged, then fewest median
steps to --tol, then lowest median final error) runs --seeds x --test-starts held-out starts. The
README's "Fair comparison" section states the protocol; a fixed --seed repeats it exactly.
"""


def _explore_options(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Options every explore command has: tolerance, rates, output, Dask, progress."""
    o = p.add_argument_group("measure and output")
    o.add_argument("--tol", type=_positive(), default=1e-3,
                   help="a point converges when its error gets within this and stays there (default: 0.001)")
    o.add_argument("--json", action="store_true", help="print the numbers as JSON on stdout")
    o.add_argument("--out", metavar="PATH", help="also write a picture: .png or .svg")
    o.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the starts in chunks on Dask: 'local' (a LocalCluster of this machine's cores) "
                        "or a scheduler address such as tcp://host:8786 (needs optviz[scale])")
    _progress_options(o)
    return o


def _rates_option(g: argparse._ArgumentGroup) -> None:
    from optviz.explore.measures import RATES

    g.add_argument("--rates", choices=RATES, default="tuned",
                   help="learning rates not set with --set: the function's tuned table, as on the dashboard, "
                        "or the registry's defaults (default: tuned)")


def _set_help(p: argparse.ArgumentParser, option: str, text: str) -> None:
    for action in p._actions:
        if option in action.option_strings:
            action.help = text


def _explore_commands(sub: Any) -> None:
    b = sub.add_parser(
        "basins", help="a basin map: per start of a grid over the box, where each optimizer ends",
        description="Start every optimizer from every cell of an N x N grid over the function's box; per\n"
                    "cell: the final error, the steps to the tolerance and which global minimum was reached.",
        epilog=BASINS_EPILOG, formatter_class=_Formatter,
    )
    _scene_options(b)
    _set_help(b, "--grid", "cells per axis of the map over the function's box (default: 100)")
    o = _explore_options(b)
    _rates_option(o)
    o.add_argument("--show", choices=("minimum", "error", "steps"), default="minimum",
                   help="what the --out picture shows per cell (default: minimum)")
    b.set_defaults(handler=cmd_basins)

    s = sub.add_parser(
        "sweep", help="sweep one hyperparameter (or lr, noise, delay) over values x starts x seeds",
        description="Run each optimizer at every value of one setting, from every start and seed, in one\n"
                    "run; per value: median final error, 25/75 % quantiles, shares converged and diverged.",
        epilog=SWEEP_EPILOG, formatter_class=_Formatter,
    )
    _scene_options(s)
    _set_help(s, "--param", "the setting to sweep: a hyperparameter (alpha), lr (each optimizer's learning "
                            "rate), noise or delay; a KEY=VALUE is a parameter of the function (kappa=1000)")
    g = s.add_argument_group("sweep")
    g.add_argument("--values", required=True, metavar="LOW:HIGH:N|LIST",
                   help="N values from LOW to HIGH (log-spaced; see --spacing) or a comma list: 1e-3,1e-2")
    g.add_argument("--spacing", choices=("log", "linear"), default="log",
                   help="spacing of LOW:HIGH:N values (default: log)")
    g.add_argument("--seeds", type=_whole(1, 10_000), default=1, metavar="N",
                   help="run every start with N seeds: --seed, --seed + 1, ... (default: 1)")
    o = _explore_options(s)
    _rates_option(o)
    s.set_defaults(handler=cmd_sweep)

    c = sub.add_parser(
        "compare", help="tune every optimizer on the same budget, compare them on held-out starts",
        description="Fair comparison: each optimizer is tuned per function on the same budget, then\n"
                    "compared on held-out starts: performance profiles (Dolan & More 2002), a ranked table.",
        epilog=COMPARE_EPILOG, formatter_class=_Formatter,
    )
    g = c.add_argument_group("comparison")
    g.add_argument("-f", "--functions", metavar="LIST",
                   help="comma-separated test functions (default: rosenbrock, beale, himmelblau, booth, "
                        "matyas, goldstein_price, six_hump_camel, three_hump_camel)")
    g.add_argument("-o", "--optimizers", metavar="LIST",
                   help="comma-separated optimizers and/or groups (default: SGD,MSGD,NAG,RMSprop,Adam)")
    g.add_argument("--set", action="append", default=[], metavar="OPT.PARAM=VALUE", dest="sets",
                   help="hold a hyperparameter fixed instead of tuning it: Adam.beta2=0.999 (repeatable)")
    g.add_argument("--budget", type=_whole(1, 10_000), default=20, metavar="N",
                   help="configurations each optimizer tries per function (default: 20)")
    g.add_argument("--steps", type=_whole(1, MAX_STEPS), default=300, metavar="N",
                   help="steps per run (default: 300)")
    g.add_argument("--seed", type=_whole(0, 2**32 - 1), default=0, metavar="N",
                   help="the comparison's seed: starts, configurations and draws follow from it (default: 0)")
    g.add_argument("--seeds", type=_whole(1, 1000), default=2, metavar="N",
                   help="seeds in the tuning and in the held-out set; each draws its own starts (default: 2)")
    g.add_argument("--tune-starts", type=_whole(1, 100_000), default=8, metavar="N",
                   help="random starts per seed to tune on (default: 8)")
    g.add_argument("--test-starts", type=_whole(1, 100_000), default=16, metavar="N",
                   help="held-out random starts per seed to compare on (default: 16)")
    g.add_argument("--kind", choices=("auto", "distance", "gap"), default="auto",
                   help="error: distance to the nearest minimizer, or gap f - f* (default: auto, distance)")
    g.add_argument("--schedule", metavar="TEXT", help="learning-rate schedule for every run, e.g. cosine")
    g.add_argument("--hook", action="append", default=[], metavar="TEXT", dest="hooks",
                   help="gradient hook for every run (repeatable), e.g. clip:max_norm=5")
    _noise_options(g)
    g.add_argument("--backend", choices=("numpy", "cupy", "auto"), default="numpy",
                   help="array backend (default: numpy)")
    g.add_argument("--max-seconds", type=_positive(), default=MAX_SECONDS, metavar="S",
                   help=f"refuse a comparison estimated to take longer here (default: {MAX_SECONDS:g})")
    _explore_options(c)
    c.set_defaults(handler=cmd_compare)


def _check_out(args: argparse.Namespace) -> Path | None:
    """The --out picture's path, checked before any work (.png/.svg, writable)."""
    if args.out is None:
        return None
    from optviz.draw import render

    try:
        return render.check_output(args.out, render.STILL_FORMATS)
    except ValueError as exc:
        raise CliError(_message(exc)) from None


def _explore(call: Any, args: argparse.Namespace, label: str) -> Any:
    """Run an explore function with a progress bar; input errors become :class:`CliError`."""
    bar = _bar(args, label, "point-steps")
    try:
        return call(progress=bar if bar.enabled else None)
    except (ValueError, KeyError, TypeError, MemoryError, BackendError) as exc:
        raise CliError(_as_options(_message(exc))) from None
    finally:
        bar.close()


def _finish(args: argparse.Namespace, out: Path | None, doc: Any, figure: Any, text: Any) -> int:
    """Write the picture (if asked), then print the JSON or the text table."""
    if out is not None:
        from optviz.explore import figures

        try:
            figures.save(figure(), out)
        except (OSError, RuntimeError, ValueError, MemoryError) as exc:
            if interrupted():
                raise KeyboardInterrupt from None
            print(f"{PROG}: error: could not write {os.fspath(out)!r}: {_message(exc)}", file=sys.stderr)
            return 1
    if args.json:
        from optviz.explore.measures import dumps

        print(dumps(doc()))
    else:
        text()
    if out is not None and not (args.json and args.quiet):
        print(out, file=sys.stderr if args.json else sys.stdout)
    return 0


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], left: Sequence[int] = (1,)) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i in left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def _explore_scene(args: argparse.Namespace, what: str) -> dict[str, Any]:
    if args.record_every != 1:
        raise CliError(f"--record-every does not apply: {what} records only each start's final state")
    return build_scene(args)


def _engine_extras(kw: dict[str, Any]) -> dict[str, Any]:
    """The run keywords an explore command passes on to the engine as they are."""
    return {k: kw[k] for k in ("schedule", "hooks", "noise", "noise_mode", "delay", "backend") if k in kw}


def cmd_basins(args: argparse.Namespace) -> int:
    from optviz.explore.basins import basins

    if any(v is not None for v in (args.start_points, args.random, args.ring)):
        raise CliError("basins start from every cell of a --grid N over the function's box; --start, "
                       "--random and --ring do not apply")
    out = _check_out(args)
    grid, args.grid = (100 if args.grid is None else args.grid), None
    kw = _explore_scene(args, "a basin map")
    m = _explore(lambda progress: basins(
        kw["function"], kw["optimizers"], grid=grid, steps=kw["steps"], tol=args.tol, kind=args.kind,
        seed=kw["seed"], rates=args.rates, scheduler=args.scheduler, progress=progress,
        max_seconds=kw["max_seconds"], **_engine_extras(kw)), args, f"mapping {grid}x{grid}")

    def text() -> None:
        fn = m.function
        box = " x ".join(f"[{lo:g}, {hi:g}]" for lo, hi in np.asarray(fn.box))
        cells = "x".join(map(str, m.shape[::-1]))
        print(f"{fn.title} ({fn.dim}-D): {cells} starts over {box}, {m.steps} steps, tol {m.tol:g} "
              f"({m.kind})")
        mins = [f"min {k} ({', '.join(f'{c:.3g}' for c in mn)})" for k, mn in enumerate(m.minimizers)]
        rows = []
        for name in m.names:
            conv = m.converged(name)
            steps = m.steps_to_tol[name][conv]
            diverged = float(np.mean(m.diverged[name]))
            rows.append([name, _fmt(m.share_converged[name], "pct"), _fmt(diverged, "pct"),
                         _fmt(int(np.median(steps)) if steps.size else None, "int"),
                         *(_fmt(v, "pct") for v in m.share_by_minimum(name))])
        _table(["optimizer", "converged", "diverged", "median steps", *mins], rows, left=(0,))
        if len(m.names) >= 2:
            a, b = m.names[:2]
            print(f"converges from {_fmt(m.only(a, b), 'pct')} of the box with {a} only, "
                  f"{_fmt(m.only(b, a), 'pct')} with {b} only")

    from optviz.explore import figures

    return _finish(args, out, m.to_json, lambda: figures.basin_figure(m, args.show), text)


def cmd_sweep(args: argparse.Namespace) -> int:
    from optviz.explore.sweep import parse_values, sweep

    names = [p for p in args.param if "=" not in p]
    args.param = [p for p in args.param if "=" in p]
    if len(names) != 1:
        raise CliError("sweep needs one --param NAME: a hyperparameter (e.g. alpha), lr, noise or delay"
                       + (f"; got {', '.join(map(_short, names))}" if names else ""))
    if args.preset is not None:
        raise CliError("--preset does not apply to sweep: choose -f, -o and the starts")
    try:
        values = parse_values(args.values, args.spacing)
    except ValueError as exc:
        raise CliError(_message(exc)) from None
    out = _check_out(args)
    starts_given = any(v is not None for v in (args.start_points, args.grid, args.random, args.ring))
    kw = _explore_scene(args, "a sweep")
    fn = kw["function"]
    base = kw["seed"]
    if args.random is not None:  # each seed draws its own random starts
        starts = np.stack([_starts.random(fn.box, args.random, seed=base + k) for k in range(args.seeds)])
    elif starts_given:
        starts = kw["starts"]
    else:
        starts = None  # the dashboard's default grid
    spacing = args.spacing if ":" in args.values else "list"
    s = _explore(lambda progress: sweep(
        fn, kw["optimizers"], names[0], values, starts=starts, steps=kw["steps"], seeds=args.seeds, seed=base,
        tol=args.tol, kind=args.kind, spacing=spacing, rates=args.rates, scheduler=args.scheduler,
        progress=progress, max_seconds=kw["max_seconds"], **_engine_extras(kw)), args, f"sweeping {names[0]}")
    s.spacing = spacing

    def text() -> None:
        n_s, n = s.starts.shape[:2]
        print(f"{fn.title} ({fn.dim}-D): sweep of {s.param} over {s.values.size} values x {n} starts x {n_s} "
              f"seed(s), {s.steps} steps, tol {s.tol:g} ({s.kind})")
        for name in s.names:
            print(f"\n{name} ({s.params[name]}): best {s.best_value(name):.4g}")
            rows = []
            for i, (v, st) in enumerate(zip(s.values, s.stats[name], strict=True)):
                rows.append(["*" if i == s.best[name] else "", f"{v:.4g}", _fmt(st.median), _fmt(st.q25),
                             _fmt(st.q75), _fmt(st.share_converged, "pct"), _fmt(st.share_diverged, "pct"),
                             _fmt(None if st.median_steps is None else int(st.median_steps), "int")])
            _table(["", "value", "median error", "q25", "q75", "converged", "diverged", "median steps"], rows,
                   left=(0,))

    from optviz.explore import figures

    return _finish(args, out, s.to_json, lambda: figures.sweep_figure(s), text)


def cmd_compare(args: argparse.Namespace) -> int:
    from optviz.explore.compare import DEFAULT_FUNCTIONS, DEFAULT_OPTIMIZERS, compare

    out = _check_out(args)
    names = [t.strip() for t in (args.functions or ",".join(DEFAULT_FUNCTIONS)).split(",") if t.strip()]
    if not names:
        raise CliError(f"choose at least one function; valid: {', '.join(functions.families())}")
    fns = [_make_function(n, None, {}) for n in names]
    chosen = {n: {} for n in parse_optimizers(args.optimizers or ",".join(DEFAULT_OPTIMIZERS))}
    apply_sets(chosen, args.sets)
    try:
        opts: dict[str, Any] = {
            "schedule": _schedules.parse(args.schedule) if args.schedule else None,
            "hooks": [_hooks.parse(h) for h in args.hooks], "backend": args.backend,
        }
    except ValueError as exc:
        raise CliError(_message(exc)) from None
    opts.update({k: v for k in ("noise", "noise_mode", "delay") if (v := getattr(args, k)) is not None})
    c = _explore(lambda progress: compare(
        fns, chosen, budget=args.budget, steps=args.steps, tol=args.tol, kind=args.kind, seeds=args.seeds,
        tune_starts=args.tune_starts, test_starts=args.test_starts, seed=args.seed, scheduler=args.scheduler,
        progress=progress, max_seconds=args.max_seconds, **opts), args, "comparing")

    def text() -> None:
        print(f"{len(c.labels)} function(s) x {len(c.names)} optimizer(s): tuned on a budget of {c.budget} "
              f"configurations each ({c.n_seeds} seed(s) x {c.tune_starts} starts), compared on "
              f"{len(c.problems)} held-out problems; {c.steps} steps, tol {c.tol:g}, seed {c.seed}")
        rows = [[str(r["rank"]), r["optimizer"], _fmt(r["solved"], "pct"), _fmt(r["wins"], "pct"),
                 _fmt(None if r["median_steps_to_tol"] is None else int(r["median_steps_to_tol"]), "int"),
                 _fmt(r["median_final_error"]), _fmt(r["diverged"], "pct")] for r in c.table()]
        _table(["rank", "optimizer", "solved", "fastest", "median steps", "median error", "diverged"], rows)
        print("\nheld-out share converged (median steps to tol), with the tuned hyperparameters:")
        rows = []
        for lab in c.labels:
            cells = []
            for n in c.ranking:
                st = c.held_out[lab][n]
                steps = None if st.median_steps is None else int(st.median_steps)
                cells.append(f"{_fmt(st.share_converged, 'pct')} ({_fmt(steps, 'int')})")
            rows.append([lab, *cells])
        _table(["function", *c.ranking], rows, left=(0,))
        for lab in c.labels:
            tuned = "; ".join(f"{n} " + ", ".join(f"{k}={v:.4g}" for k, v in c.tuned[lab][n].items()
                                                   if k in {d.name for d in c.space[n]}) for n in c.names)
            print(f"  {lab}: {tuned}")

    from optviz.explore import figures

    return _finish(args, out, c.to_json, lambda: figures.compare_figure(c), text)


def cmd_list(args: argparse.Namespace) -> int:
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
    if what in ("all", "presets"):
        print("presets (for --preset):")
        for p in _presets.PRESETS.values():
            print(f"  {p.name}  {p.description}")
    return 0


#: Streamlit settings for a lecture: no usage statistics, no deploy button or developer menu,
#: and no file watcher (the script is an installed file; watching site-packages costs CPU).
DASHBOARD_SETTINGS = (
    ("browser.gatherUsageStats", "false"),
    ("client.toolbarMode", "minimal"),
    ("server.fileWatcherType", "none"),
    ("server.runOnSave", "false"),
)


def dashboard_command(port: int | None = None, host: str | None = None, headless: bool = False,
                      extra: Sequence[str] = ()) -> list[str]:
    """The command line of :func:`cmd_dashboard`: ``streamlit run`` (this interpreter's Streamlit)
    by way of :mod:`optviz.dashboard.serve`, which warms the page up while the server starts."""
    from optviz.dashboard import SCRIPT

    cmd = [sys.executable, "-m", "optviz.dashboard.serve", os.fspath(SCRIPT)]
    for key, value in DASHBOARD_SETTINGS:
        cmd += [f"--{key}", value]
    if port is not None:
        cmd += ["--server.port", str(port)]
    if host is not None:
        cmd += ["--server.address", host]
    if headless:
        cmd += ["--server.headless", "true"]
    return cmd + list(extra)


def dashboard_env() -> dict[str, str]:
    """The environment for Streamlit: this one, plus, when optviz runs from a checkout rather
    than an installed package, the checkout on ``PYTHONPATH`` (Streamlit puts only the script's
    own folder on ``sys.path``, so the page could not import optviz from another folder)."""
    env = dict(os.environ)
    try:
        importlib.metadata.distribution("optviz")
    except importlib.metadata.PackageNotFoundError:
        root = os.fspath(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _check_port(host: str | None, port: int) -> None:
    """Refuse a port something else listens on (Streamlit would fail on it with a traceback-like
    block; without ``--port`` it takes the next free one itself)."""
    with socket.socket(socket.AF_INET6 if host and ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Tornado binds
        try:
            s.bind((host or "", port))
        except socket.gaierror:
            raise CliError(f"--host {_short(host)}: not an address of this machine") from None
        except OSError as exc:
            why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror or exc})"
            raise CliError(f"port {port} {why}; choose another with --port, or leave --port out to take "
                           "the next free one") from None


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Run ``streamlit run <optviz.dashboard.SCRIPT>`` until it ends or optviz is interrupted."""
    if importlib.util.find_spec("streamlit") is None:
        raise CliError("the dashboard needs Streamlit: pip install streamlit")
    extra = list(args.streamlit_args)
    stray = [a for a in extra[:1] if not a.startswith("--")]
    if stray:
        raise CliError(f"unexpected argument {_short(stray[0])}; options for Streamlit go after \"--\", "
                       "e.g. optviz dashboard -- --theme.base dark")
    if args.host is not None and (not args.host.strip() or any(c.isspace() for c in args.host)):
        raise CliError(f"--host expects an address such as 127.0.0.1 or 0.0.0.0, got {_short(args.host)}")
    if args.port is not None:
        _check_port(args.host, args.port)
    cmd = dashboard_command(args.port, args.host, args.headless, extra)
    proc = subprocess.Popen(cmd, env=dashboard_env())
    try:
        return proc.wait()
    except KeyboardInterrupt:  # Ctrl-C (Streamlit got it too) or SIGTERM/SIGHUP (only we did)
        _stop(proc)
        return 0


def _stop(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """Ask a child to stop (SIGTERM), wait ``grace`` seconds, then kill it."""
    if proc.poll() is None:
        with suppress(OSError):
            proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with suppress(OSError):
            proc.kill()
        proc.wait()


# ====================================================================== entry point
def interrupted() -> bool:
    """Whether a stop signal arrived: C++ extension code (matplotlib's Agg, via pybind11) can
    turn the interrupt raised inside it into its own ``ValueError``; such an error is then the
    interrupt, not a failure to report."""
    return bool(STOP_SIGNALS)


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise ``KeyboardInterrupt`` like Ctrl-C does.

    ``timeout``, ``docker stop`` and a closed terminal send these; Python's default would end
    the process on the spot, leaving a temporary file and a running ffmpeg behind. As an
    interrupt, every ``finally``/cleanup runs. Ctrl-C (SIGINT) raises the same way; every signal
    is also recorded (:func:`interrupted`), so an interrupt that a library turned into another
    error is still reported as one. A signal that was ignored when optviz started
    (``nohup``) stays ignored; a second signal during the cleanup is ignored. Only the main
    thread can set handlers: elsewhere (or where a signal is missing) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}
    STOP_SIGNALS.clear()

    def interrupt(signum, frame):
        for sig in previous:  # once: let the cleanup finish (Ctrl-C stays Ctrl-C)
            if sig != signal.SIGINT:
                signal.signal(sig, signal.SIG_IGN)
        STOP_SIGNALS.append(signal.Signals(signum).name)
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        sig = getattr(signal, name, None)
        if sig is None or signal.getsignal(sig) in (signal.SIG_IGN, None):
            continue
        previous[sig] = signal.signal(sig, interrupt)
    unraisable = sys.unraisablehook

    def quiet(u: Any) -> None:
        # an interrupt dropped inside a C callback (numba's compiler): recorded, raised again
        # by the engine; the one line "interrupted" says it, not a traceback
        if not (isinstance(u.exc_value, KeyboardInterrupt) and STOP_SIGNALS):
            unraisable(u)

    sys.unraisablehook = quiet
    try:
        yield
    finally:
        sys.unraisablehook = unraisable
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        STOP_SIGNALS.clear()


def _fix_negative(argv: Sequence[str]) -> list[str]:
    """'--start -1.5,2' -> '--start=-1.5,2' (and '--expr -cos(x)' -> '--expr=-cos(x)') so that
    argparse does not read the value as an option."""
    out: list[str] = []
    it = iter(argv)
    for tok in it:
        if tok in _NEGATIVE_OK or tok in _FORMULA:
            nxt = next(it, None)
            if nxt is None:
                out.append(tok)
            elif nxt.startswith("-") and len(nxt) > 1 and (nxt[1].isdigit() or nxt[1] == "."):
                out.append(f"{tok}={nxt}")
            elif tok in _FORMULA and nxt.startswith("-") and not nxt.startswith("--"):
                out.append(f"{tok}={nxt}")
            else:
                out.extend((tok, nxt))
        else:
            out.append(tok)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 write failure, 2 bad input,
    130 interrupted by Ctrl-C, SIGTERM or SIGHUP)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    with terminate_as_interrupt():
        return _main(argv)


def _main(argv: list[str]) -> int:
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(_fix_negative(argv))
        except SystemExit as exc:  # --help
            return int(exc.code or 0)
        if getattr(args, "handler", None) is None:
            raise CliError("choose a command: render, run, basins, sweep, compare, list or dashboard "
                           "(see 'optviz --help')")
        return args.handler(args)
    except CliError as exc:
        print(f"{PROG}: error: {_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        with suppress(OSError, ValueError):  # after the terminal's "^C", on a line of its own
            fresh = ProgressBar.line_closed or not sys.stderr.isatty()
            print(f"{'' if fresh else chr(10)}{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. "| head": stop quietly
        with suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 0

"""The command line's parser: every command, option, default, help text and example.

Parsing only: the options become a :class:`~optviz.scene.Scene` in :mod:`optviz.cli.scene_args`
and each command runs in its own module. Values are checked as they are read (a whole number
in range, a positive number, a size); a bad one is a :class:`~optviz.cli.errors.CliError`
(one line, exit status 2).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import Any

from optviz.cli.errors import PROG, CliError
from optviz.engine import hooks as _hooks
from optviz.engine import schedules as _schedules
from optviz.engine.result import ERROR_KINDS
from optviz.engine.run import MAX_SECONDS, MAX_STEPS
from optviz.optimizers import group_names, rates
from optviz.scene import lessons
from optviz.scene.text import parse_number
from optviz.scene.text import quote as _short

COMMANDS = ("render", "run", "basins", "sweep", "compare", "list", "dashboard")
#: The scene a command races when the options leave something out: the dashboard's first race
#: (its function, its field of optimizers, its grid of starts, steps, seed and tolerance).
DEFAULT_FUNCTION = lessons.DEFAULT_FUNCTION
DEFAULT_OPTIMIZERS = ",".join(lessons.DEFAULT_FIELD)
DEFAULT_STEPS = lessons.DEFAULT_STEPS
DEFAULT_TOL = lessons.DEFAULT_TOL
#: Where the hyperparameters nobody set come from (``--rates``): the function's tuned table, or
#: the article's (the registry's) defaults; ``registry`` is another name for ``article``.
RATES = (*rates.RATES, *rates.ALIASES)
KINDS = ("auto", *ERROR_KINDS)
FORMATS = (".gif", ".mp4", ".png", ".svg", ".html")

#: Options whose value may start with a minus sign ("--start -1.5,2"): argparse would take
#: "-1.5,2" for an option, so these are rewritten to "--start=-1.5,2" before parsing.
_NEGATIVE_OK = ("--start", "--box", "--minimum", "--values")
#: Options whose value is a formula: one beginning with "-" ("--expr -cos(x)") is still the value.
_FORMULA = ("--expr",)


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

  # hyperparameters of one's own, a schedule and a gradient hook; a start with a negative coordinate
  optviz render -f himmelblau -o Adam,RMSprop --set Adam.alpha=0.05 --set RMSprop.eta=0.01 \\
      --start=-1,1.5 --schedule warmup:steps=20+cosine --hook clip:max_norm=5 --out warmup.mp4

  # every optimizer of the Adam family from 30 random starts; the last frame as a still
  optviz render -f himmelblau -o group:adam --random 30 --out errors.svg

  # the live race as one web page (opens from disk, no network; fits in an iframe)
  optviz render --preset momentum-valley --out race.html

formats (from the extension): .gif, .mp4 (H.264) animations; .png, .svg the last frame
(with --preset: the animation's last frame; the error curves go to <stem>-errors.png);
.html the interactive race, every slider position computed ahead, in one file.
"""

DASHBOARD_EPILOG = """\
examples:
  optviz dashboard                                  # http://localhost:8501 (the next free port if taken)
  optviz dashboard --port 8600 --headless           # on a server: no browser is opened
  optviz dashboard --host 0.0.0.0 --port 8501       # reachable from other machines (a lecture hall)
  optviz dashboard --memory-budget 3GB              # caches and runs within 3 GB (default 2GB)
  optviz dashboard -- --theme.base dark             # anything after "--" goes to "streamlit run"

Stop it with Ctrl-C (or SIGTERM).
"""

RUN_EPILOG = """\
examples:
  optviz run                                   # the dashboard's first race
  optviz run -f himmelblau -o all --grid 4 --steps 300
  optviz run -f himmelblau -o all --grid 4 --rates article   # the article's rates, not the tuned ones
  optviz run --lesson article-quartic --json
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
                        f"{', '.join(group_names())} (see 'list groups'; default: {DEFAULT_OPTIMIZERS}, "
                        "the dashboard's)")
    g.add_argument("--set", action="append", default=[], metavar="OPT.PARAM=VALUE", dest="sets",
                   help="a hyperparameter, e.g. Adam.alpha=0.1 (repeatable); see 'list optimizers'")
    _rule_options(g)
    s = g.add_mutually_exclusive_group()
    s.add_argument("--start", action="append", metavar="X,Y", dest="start_points",
                   help="a starting point (repeatable); write --start=-1,2 when it begins with '-'")
    s.add_argument("--grid", type=_whole(1, 1000), metavar="N",
                   help=f"an N-per-axis grid of starts inside the function's box (default: the dashboard's, "
                        f"{lessons.DEFAULT_GRID} per axis; {lessons.DEFAULT_POINTS_1D} points in 1-D)")
    s.add_argument("--random", type=_whole(1, 1_000_000), metavar="N",
                   help="N random starts in the function's box (from --seed)")
    s.add_argument("--ring", type=_positive(), metavar="R",
                   help="starts on a circle of radius R around the global minimizer (box centre if none)")
    g.add_argument("--ring-points", type=_whole(1, 100_000), default=8, metavar="N",
                   help="number of starts on the --ring (default: 8)")
    g.add_argument("--steps", type=_whole(1, MAX_STEPS), metavar="N",
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
    g.add_argument("--preset", "--lesson", metavar="NAME", dest="preset",
                   help=f"a lesson, a named scene: {', '.join(lessons.ALL_LESSONS)} (sets function, "
                        "optimizers, starts, steps, seed; --set/--steps/--seed still apply)")
    _rates_option(g)
    _function_and_scene_file_options(g)


def _rule_options(g: argparse._ArgumentGroup) -> None:
    """Your own update rules: --rules (a Python file of yours) and --rule-text (checked text)."""
    g.add_argument("--rules", action="append", default=[], metavar="FILE.py",
                   help="register the rules your own Python file defines with optviz.rule(...) (repeatable; "
                        "it runs as code: your file, your machine); then name them with -o")
    g.add_argument("--rule-text", action="append", default=[], metavar="'NAME: TEXT'", dest="rule_text",
                   help="a typed rule, raced beside -o and saved in the scene (repeatable), e.g. "
                        "'SignSGD: lr = 0.01 in [1e-6, 1]; x = x - lr*sign(g)'; see docs/own-optimizer.md")


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
    g.add_argument("--batch", type=_whole(1, 2**31 - 1), metavar="B",
                   help="a learning problem's gradient on a minibatch of B training samples, drawn from "
                        "(seed, step): the same batch for every optimizer (default: the full batch)")


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
    _explore_commands(sub)

    ls = sub.add_parser(
        "list", help="list test functions, optimizers (with hyperparameters), groups and presets",
        description="List what the other commands accept.", formatter_class=_Formatter,
    )
    ls.add_argument("what", nargs="?", default="all",
                    choices=("all", "functions", "optimizers", "groups", "presets", "lessons"))

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
    d.add_argument("--memory-budget", metavar="SIZE",
                   help="the server's memory, e.g. 2GB or 1536MB: its caches and runs stay within it "
                        "(default: $OPTVIZ_MEMORY_BUDGET, else 2GB; see docs/server.md)")
    d.add_argument("streamlit_args", nargs="*", metavar="-- STREAMLIT_OPTION",
                   help="further options for \"streamlit run\", after \"--\"")
    _conformance_command(sub)
    return parser


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
  # a network's learning rate with minibatches of 32 (its error: the final training loss)
  optviz sweep -f moons-mlp -o SGD,Adam --param lr --values 1e-3:1:7 --batch 32
  # which optimizers tolerate minibatch noise? (256 = N: the full batch)
  optviz sweep -f moons-mlp -o SGD,MSGD,Adam --param batch --values 8,16,32,64,256

--param takes a hyperparameter, 'lr', 'noise', 'delay' or 'batch' (a --param KEY=VALUE is still a
parameter of the function). Without --start/--grid/--random/--ring the starts are the dashboard's default
grid (16 random starts for a learning problem); with --random each seed draws its own starts.
"""

COMPARE_EPILOG = """\
examples:
  # tuned fairly, which optimizer solves most of these functions fastest?
  optviz compare -o sgd,msgd,nag,rmsprop,adam -f rosenbrock,beale,himmelblau,booth --out profile.png
  optviz compare --budget 30 --seeds 3 --json > comparison.json
  optviz compare -o sgd,adam -f himmelblau --noise 1 --budget 10
  # a network beside a test function (solved: its training loss reaches the target the tuned optimizers set)
  optviz compare -o sgd,adam,rmsprop -f moons-mlp,rosenbrock --budget 8
  optviz compare -o sgd,adam -f moons-mlp,logistic --batch 32

Each optimizer tries --budget configurations per function (Latin hypercube over its learning rates
and momenta/betas) on --seeds x --tune-starts starts; the best (most converged, then fewest median
steps to --tol, then lowest median final error) runs --seeds x --test-starts held-out starts. The
README's "Fair comparison" section states the protocol; a fixed --seed repeats it exactly.
"""


def _explore_options(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Options every explore command has: tolerance, rates, output, Dask, progress."""
    o = p.add_argument_group("measure and output")
    o.add_argument("--tol", type=_positive(),
                   help="a point converges when its error gets within this and stays there (default: 0.001, "
                        "or the --scene's)")
    o.add_argument("--json", action="store_true", help="print the numbers as JSON on stdout")
    o.add_argument("--out", metavar="PATH", help="also write a picture: .png or .svg")
    o.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the starts in chunks on Dask: 'local' (a LocalCluster of this machine's cores) "
                        "or a scheduler address such as tcp://host:8786 (needs optviz[scale])")
    _progress_options(o)
    return o


def _rates_option(g: argparse._ArgumentGroup) -> None:
    g.add_argument("--rates", choices=RATES,
                   help="hyperparameters not set with --set (or by the --scene or --preset): the function's "
                        "tuned learning rates, as on the dashboard, or the article's (registry's) defaults "
                        "(default: tuned)")


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
    o.add_argument("--show", choices=("minimum", "error", "steps"), default="minimum",
                   help="what the --out picture shows per cell (default: minimum)")

    s = sub.add_parser(
        "sweep", help="sweep one hyperparameter (or lr, noise, delay) over values x starts x seeds",
        description="Run each optimizer at every value of one setting, from every start and seed, in one\n"
                    "run; per value: median final error, 25/75 % quantiles, shares converged and diverged.",
        epilog=SWEEP_EPILOG, formatter_class=_Formatter,
    )
    _scene_options(s)
    _set_help(s, "--param", "the setting to sweep: a hyperparameter (alpha), lr (each optimizer's learning "
                            "rate), noise, delay or batch (a learning problem's minibatch size); a "
                            "KEY=VALUE is a parameter of the function (kappa=1000)")
    g = s.add_argument_group("sweep")
    g.add_argument("--values", required=True, metavar="LOW:HIGH:N|LIST",
                   help="N values from LOW to HIGH (log-spaced; see --spacing) or a comma list: 1e-3,1e-2")
    g.add_argument("--spacing", choices=("log", "linear"), default="log",
                   help="spacing of LOW:HIGH:N values (default: log)")
    g.add_argument("--seeds", type=_whole(1, 10_000), default=1, metavar="N",
                   help="run every start with N seeds: --seed, --seed + 1, ... (default: 1)")
    _explore_options(s)

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
    _rule_options(g)
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
    g.add_argument("--kind", choices=("auto", "distance", "gap", "loss"), default="auto",
                   help="error: distance to the nearest minimizer, gap f - f*, or a learning problem's "
                        "training loss against a target set by the tuned optimizers (default: auto: distance,"
                        " else gap, else loss)")
    g.add_argument("--schedule", metavar="TEXT", help="learning-rate schedule for every run, e.g. cosine")
    g.add_argument("--hook", action="append", default=[], metavar="TEXT", dest="hooks",
                   help="gradient hook for every run (repeatable), e.g. clip:max_norm=5")
    _noise_options(g)
    g.add_argument("--backend", choices=("numpy", "cupy", "auto"), default="numpy",
                   help="array backend (default: numpy)")
    g.add_argument("--max-seconds", type=_positive(), default=MAX_SECONDS, metavar="S",
                   help=f"refuse a comparison estimated to take longer here (default: {MAX_SECONDS:g})")
    g.add_argument("--rates", choices=RATES,
                   help="hyperparameters neither set with --set nor tuned: the function's tuned table or the "
                        "article's (registry's) defaults (default: tuned)")
    _explore_options(c)


CONFORMANCE_EPILOG = """\
examples:
  # does my typed Adam compute Adam's steps? (teacher-forced: B steps from A's positions)
  optviz conformance Adam MyAdam --rule-text "MyAdam: alpha = 1e-3 in [1e-7, 10]; ..." -f rosenbrock
  optviz conformance Adam PyAdam --rules my_rules.py --grid 8 --steps 500 --rtol 1e-12
  optviz conformance AMSGrad Adam --json

Exit status: 0 the rules agree within --atol + --rtol x |update| at every step, start and coordinate;
1 they differ (the first step, start and coordinate are printed); 2 bad input. Hyperparameters not set
with --set are each rule's registry values (--rates article).
"""


def _conformance_command(sub: Any) -> None:
    c = sub.add_parser(
        "conformance", help="check two rules step by step from the same starts (exit 1 at a difference)",
        description="Step rule A from every start; at each step give rule B the same position and gradient\n"
                    "and compare the updates; report the first step and coordinate that differ.",
        epilog=CONFORMANCE_EPILOG, formatter_class=_Formatter,
    )
    c.add_argument("a", metavar="A", help="the reference rule (an optimizer name)")
    c.add_argument("b", metavar="B", help="the rule to check against A")
    g = c.add_argument_group("scene")
    g.add_argument("-f", "--function", metavar="NAME", help=f"test function (default: {DEFAULT_FUNCTION})")
    g.add_argument("--dim", type=_whole(1, 1000), metavar="N", help="dimension for n-D functions")
    g.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="a parameter of the function (repeatable)")
    g.add_argument("--set", action="append", default=[], metavar="OPT.PARAM=VALUE", dest="sets",
                   help="a hyperparameter of A or B, e.g. Adam.alpha=0.1 (repeatable)")
    _rule_options(g)
    s = g.add_mutually_exclusive_group()
    s.add_argument("--start", action="append", metavar="X,Y", dest="start_points",
                   help="a starting point (repeatable)")
    s.add_argument("--grid", type=_whole(1, 1000), metavar="N",
                   help="an N-per-axis grid of starts (default: 4)")
    s.add_argument("--random", type=_whole(1, 1_000_000), metavar="N", help="N random starts (from --seed)")
    g.add_argument("--steps", type=_whole(1, MAX_STEPS), metavar="N", help="steps to check (default: 300)")
    g.add_argument("--seed", type=_whole(0, 2**63 - 1), metavar="N", help="seed of --random starts")
    g.add_argument("--rates", choices=RATES, default="article",
                   help="hyperparameters not set with --set (default: article, each rule's registry values)")
    t = c.add_argument_group("tolerance and output")
    t.add_argument("--rtol", type=_at_least_zero, default=1e-9, help="relative tolerance (default: 1e-9)")
    t.add_argument("--atol", type=_at_least_zero, default=1e-12, help="absolute tolerance (default: 1e-12)")
    t.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(preset=None, scene=None, expr=None, box=None, minimum=None, ring=None, ring_points=8,
                   schedule=None, hooks=[], noise=None, noise_mode=None, delay=None, batch=None, kind=None,
                   tol=None, optimizers=None, save_scene=None, record_every=1, backend="numpy",
                   max_seconds=None)


def fix_negative(argv: Sequence[str]) -> list[str]:
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



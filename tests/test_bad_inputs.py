"""The table of bad inputs: every surface a user types into, one row per input.

Each row names the surface, the input, what must happen (an exception type, or the CLI's exit
status) and a phrase the message must contain. Every message must also be short (what was
typed is quoted, never echoed whole) and every row runs under a time limit: nothing hangs.

To add a row, append it to the list of its surface: ``API`` (a call), ``CLI`` (argv for
``optviz.cli.main``; a few also run as real processes, ``CLI_PROCESS``) or ``DASHBOARD`` (a
function that sets widgets of ``app.py`` through Streamlit's AppTest, by their keys).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import functions
import optviz
from optviz import cli
from optviz.dashboard import memory
from optviz.engine import hooks, schedules, validate
from optviz.explore import learning, plane
from optviz.scene import starts
from optviz.scene.model import VERSION

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
#: No message may be longer than this (a 10 MB input must not come back whole).
MAX_MESSAGE = 1500
#: Seconds any one in-process row may take.
ROW_SECONDS = 20
HUGE = "x" * 10_000_000  # a 10 MB token
BOX = [[-2.0, 2.0], [-1.0, 3.0]]


class RowTimeout(BaseException):
    """Raised by :func:`time_limit` (a BaseException: no ``except Exception`` swallows it)."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail the row if it runs longer than ``seconds`` (SIGALRM: main thread, POSIX)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def fire(signum, frame):
        raise RowTimeout(f"the row took over {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def message(exc: BaseException) -> str:
    return str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)


@dataclass(frozen=True)
class Row:
    label: str
    call: Any  # a callable (API), argv (CLI) or a widget-setting function (dashboard)
    expect: type[BaseException] | int | None
    phrase: str


def api(label: str, call: Callable[[], object], expect: type[BaseException], phrase: str) -> Row:
    return Row(label, call, expect, phrase)


def run(*args, **kw) -> Callable[[], object]:
    """A call of optviz.run with a cheap default scene."""
    kw.setdefault("steps", 2)
    args = args if len(args) >= 2 else (*(args or ("rosenbrock",)), "SGD")[:2]
    return lambda: optviz.run(*args, **kw)


class NoGrad:
    value = dim = box = minimizers = fmin = None  # no grad


# ============================================================================ the API
API: list[Row] = [
    # -- optviz.run: function, optimizers, hyperparameters
    api("unknown function", run("rosenbrok"), KeyError, "valid names: ackley"),
    api("10 MB function name", run(HUGE), KeyError, "(10,000,000 characters)"),
    api("function object without grad", run(NoGrad()), TypeError, "value, grad"),
    api("unknown optimizer", run("rosenbrock", "Adamm"), KeyError, "valid: SGD, MSGD"),
    api("bare group name", run("rosenbrock", "momentum"), KeyError, "group:momentum"),
    api("unknown group", run("rosenbrock", "group:fast"), KeyError, "valid groups: all, group:article"),
    api("optimizers=123", run("rosenbrock", 123), ValueError, "a mapping name -> hyperparameters"),
    api("optimizers=[]", run("rosenbrock", []), ValueError, "choose at least one optimizer"),
    api("optimizer name not a string", run("rosenbrock", ["Adam", 3]), ValueError, "must be strings"),
    api("listed twice", run("rosenbrock", ["Adam", "adam"]), ValueError, "listed twice"),
    api("hyperparameters not a mapping", run("rosenbrock", {"Adam": 0.1}), ValueError, "{'eta': 0.1}"),
    api("group with hyperparameters", run("rosenbrock", {"group:adam": {"alpha": 0.1}}), ValueError,
        "by optimizer name"),
    api("unknown hyperparameter", run("rosenbrock", {"Adam": {"lr": 0.1}}), KeyError,
        "valid: alpha, beta1, beta2, eps"),
    api("10 MB hyperparameter name", run("rosenbrock", {"Adam": {HUGE: 1}}), KeyError, "characters)"),
    api("hyperparameter out of range", run("rosenbrock", {"Adam": {"alpha": -1}}), ValueError,
        "[1e-07, 10]"),
    api("hyperparameter text", run("rosenbrock", {"Adam": {"alpha": "fast"}}), ValueError, "'fast'"),
    api("hyperparameter 10 MB text", run("rosenbrock", {"Adam": {"alpha": HUGE}}), ValueError,
        "characters)"),
    api("hyperparameter NaN", run("rosenbrock", {"Adam": {"alpha": float("nan")}}), ValueError,
        "must be in"),
    api("ragged per-point hyperparameter",
        run("rosenbrock", {"Adam": {"alpha": [[0.1], [0.1, 0.2]]}}, starts=[[0, 0], [1, 1]]),
        ValueError, "rows differ in length"),
    api("per-point hyperparameter of the wrong length",
        run("rosenbrock", {"Adam": {"alpha": [0.1, 0.2, 0.3]}}, starts=[[0, 0], [1, 1]]),
        ValueError, "one value per start"),
    api("per-point hyperparameter out of range",
        run("rosenbrock", {"Adam": {"alpha": [0.1, 20]}}, starts=[[0, 0], [1, 1]]),
        ValueError, "value 1 is 20"),
    # -- optviz.run: starts
    api("ragged starts", run(starts=[[1, 2], [3]]), ValueError, "row 1 has 1 number(s)"),
    api("ragged starts, a scalar row", run(starts=[[1, 2], 3]), ValueError, "a single number"),
    api("starts=[]", run(starts=[]), ValueError, "starts is empty"),
    api("starts of shape (0, 2)", run(starts=np.empty((0, 2))), ValueError, "starts is empty"),
    api("starts as text", run(starts="1, 2"), ValueError, "optviz.scene.starts.parse"),
    api("starts with NaN", run(starts=[[np.nan, 1.0]]), ValueError, "must be finite"),
    api("starts of the wrong dimension", run("beale", "SGD", starts=[[1, 2, 3]]), ValueError,
        "dim = 2"),
    api("starts not numbers", run(starts=[["a", "b"]]), ValueError, "could not read"),
    api("a start beyond the divergence bound (for the engine to call)",
        lambda: validate.check_starts_inside(np.array([[0.0, 0.0], [1e308, 1.0]]), 2e6, "rosenbrock"),
        ValueError, "point 1 is [1e+308, 1.0]: start inside the bound"),
    # -- optviz.run: steps and the rest
    api("steps=-1", run(steps=-1), ValueError, "steps must be a whole number >= 0"),
    api("steps=1.5", run(steps=1.5), ValueError, "whole number"),
    api("steps=2e6", run(steps=2_000_000), ValueError, "at most 1,000,000"),
    api("record_every=0", run(record_every=0), ValueError, "record_every must be a whole number >= 1"),
    api("seed=-1", run(seed=-1), ValueError,
        "seed must be a whole number in [0, 18,446,744,073,709,551,615], got -1"),
    api("dtype=float16", run(dtype="float16"), ValueError, "float64, float32"),
    api("backend=tpu", run(backend="tpu"), ValueError, "valid: numpy, cupy, auto"),
    api("bound=-1", run(bound=-1), ValueError, "bound must be a finite number > 0"),
    api("threads=0", run(threads=0), ValueError, "threads must be a whole number in [1, 256], got 0"),
    api("max_record_bytes=-1", run(max_record_bytes=-1), ValueError, "whole number of bytes > 0"),
    api("max_record_bytes='2GB'", run(max_record_bytes="2GB"), ValueError, "text is not read"),
    api("max_record_bytes=0.5", run(max_record_bytes=0.5), ValueError, "whole number of bytes"),
    api("recording over the cap", run(starts=np.zeros((1000, 2)), steps=1000, max_record_bytes=2**20),
        MemoryError, "(record_every=24), or use at most 43 points"),
    api("schedule=123", run(schedule=123), ValueError, "text like 'cosine'"),
    api("schedule text unknown", run(schedule="cosin"), ValueError, "unknown schedule 'cosin'"),
    api("hooks=123", run(hooks=123), ValueError, "a list of them"),
    api("hooks={'clip': 1}", run(hooks={"clip": 1}), ValueError, "a list of them"),
    api("hooks=[123]", run(hooks=[123]), ValueError, "Hook objects"),
    api("hook text unknown", run(hooks="clipp"), ValueError, "valid: lars, clip, weight_decay"),
    api("noise=-1", run(noise=-1), ValueError, "noise must be a finite number >= 0"),
    api("noise='big'", run(noise="big"), ValueError, "noise must be a finite number >= 0"),
    api("noise_mode='multiplicative'", run(noise=0.1, noise_mode="multiplicative"), ValueError,
        "absolute, relative"),
    api("delay=-1", run(delay=-1), ValueError, "delay must be a whole number >= 0"),
    api("delay=1.5", run(delay=1.5), ValueError, "delay must be a whole number"),
    # -- issue 21: minibatches, the plane, learning curves
    api("batch on a formula", run(batch=4), ValueError, "batch needs a learning problem"),
    api("batch=0", run("moons-mlp", "SGD", batch=0), ValueError, "whole number from 1 to 256"),
    api("batch=1000", run("moons-mlp", "SGD", batch=1000), ValueError, "from 1 to 256 (the training"),
    api("batch=2.5", run("logistic", "SGD", batch=2.5), ValueError, "whole number from 1 to 200"),
    api("Scene batch on a formula", lambda: optviz.Scene.from_query(
        {"v": "2", "fn": "booth", "opt": "SGD", "starts": "grid:n=2", "batch": "8"}), ValueError,
        "batch: needs a learning problem"),
    api("a plane through three points on a line", lambda: plane.three_point_plane(
        [0, 0, 0], [1, 1, 1], [2, 2, 2]), ValueError, "on one line, they make no plane"),
    api("learning curves of a formula", lambda: learning.learning_curves(optviz.run("booth", "SGD", steps=2)),
        ValueError, "not a learning problem"),
    # -- optviz.basins / sweep / compare
    api("basins of a 3-D function", lambda: optviz.basins(functions.get("rastrigin", 3), ["SGD"], grid=2),
        ValueError, "1-D or 2-D box"),
    api("basins of a saddle", lambda: optviz.basins("saddle", ["SGD"], grid=2), ValueError,
        "nothing to converge to"),
    api("basins kind='loss'", lambda: optviz.basins("booth", ["SGD"], grid=2, kind="loss"), ValueError,
        "no target"),
    api("basins grid=0", lambda: optviz.basins("booth", ["SGD"], grid=0), ValueError, "grid must be"),
    api("basins box as text", lambda: optviz.basins("booth", ["SGD"], grid=2, box="big"), ValueError,
        "low < high"),
    api("basins scheduler='x'", lambda: optviz.basins("booth", ["SGD"], grid=2, scheduler="x"), ValueError,
        "tcp://host:8786"),
    api("sweep of a missing hyperparameter", lambda: optviz.sweep("booth", ["SGD"], "alpha", [1e-3]),
        ValueError, "SGD has no hyperparameter 'alpha'"),
    api("sweep values text", lambda: optviz.sweep("booth", ["SGD"], "eta", "1:2"), ValueError, "LOW:HIGH:N"),
    api("sweep values 10 MB", lambda: optviz.sweep("booth", ["SGD"], "eta", HUGE), ValueError, "characters)"),
    api("sweep values no eval", lambda: optviz.sweep("booth", ["SGD"], "eta", "__import__('os')"), ValueError,
        "is not a number"),
    api("compare budget=0", lambda: optviz.compare(["booth"], ["SGD"], budget=0), ValueError,
        "budget must be a whole number"),
    api("compare unknown function", lambda: optviz.compare(["boot"], ["SGD"]), KeyError, "valid names"),
    # -- optviz.scene.starts
    api("starts.parse: not a number", lambda: starts.parse("1, abc", 2), ValueError,
        "point 1: 'abc' is not a number"),
    api("starts.parse: 1e309", lambda: starts.parse("1e309, 1", 2), ValueError, "'1e309' is too large"),
    api("starts.parse: inf", lambda: starts.parse("inf, 1", 2), ValueError, "is not a finite number"),
    api("starts.parse: 10 MB token", lambda: starts.parse(HUGE, 2), ValueError,
        "… (10,000,000 characters) is not a number"),
    api("starts.parse: 3 numbers in 2-D", lambda: starts.parse("1, 2, 3", 2), ValueError, "3 number(s)"),
    api("starts.parse: 2-D points for a 1-D function", lambda: starts.parse("-1, 2\n1.5, 1.5", 1),
        ValueError, "this function is 1-D"),
    api("starts.parse: nothing", lambda: starts.parse("  ", 2), ValueError, "at least one"),
    api("starts.parse: not text", lambda: starts.parse(12, 2), ValueError, "typed as text"),
    api("starts.parse: no eval", lambda: starts.parse("__import__('os').getcwd()", 2), ValueError,
        "is not a number"),
    api("starts.grid: n=0", lambda: starts.grid(BOX, 0), ValueError, "n must be a whole number >= 1"),
    api("starts.grid: bad box", lambda: starts.grid([[1, 0]], 3), ValueError, "lo < hi"),
    api("starts.random: n=2.5", lambda: starts.random(BOX, 2.5), ValueError, "whole number"),
    api("starts.ring: radius=-1", lambda: starts.ring([0, 0], -1, 8), ValueError, "radius must be > 0"),
    # -- optviz.engine.schedules
    api("schedules.parse(None)", lambda: schedules.parse(None), ValueError, "given as text"),
    api("schedules.parse('')", lambda: schedules.parse(""), ValueError, "empty schedule"),
    api("warmup:steps=-1", lambda: schedules.parse("warmup:steps=-1"), ValueError,
        "warm-up schedule: steps must be a whole number >= 1, got -1"),
    api("exponential:gamma=11", lambda: schedules.parse("exponential:gamma=11"), ValueError,
        "exponential schedule: gamma must be in [0, 10]"),
    api("step:every=0", lambda: schedules.parse("step:every=0"), ValueError, "every must be a whole number"),
    api("a setting twice", lambda: schedules.parse("step:every=1,every=2"), ValueError, "given twice"),
    api("10 MB schedule", lambda: schedules.parse(HUGE), ValueError, "characters)"),
    api("exponential('abc')", lambda: schedules.exponential("abc"), ValueError, "gamma must be in"),
    api("warmup(then='cosine')", lambda: schedules.warmup(5, then="cosine"), ValueError,
        "then must be a Schedule"),
    api("a negative factor", lambda: schedules.Schedule("down", (), lambda t, n: -1.0).factors(3),
        ValueError, "gave -1.0 at step 1"),
    api("a NaN factor", lambda: schedules.Schedule("nan", (), lambda t, n: float("nan"))(2, 3),
        ValueError, "gave nan at step 2"),
    api("factors(-1)", lambda: schedules.cosine().factors(-1), ValueError, "whole number of steps"),
    # -- optviz.engine.hooks
    api("hooks.parse(None)", lambda: hooks.parse(None), ValueError, "given as text"),
    api("hooks.parse('clip:max_norm=0')", lambda: hooks.parse("clip:max_norm=0"), ValueError,
        "max_norm must be > 0"),
    api("hooks.parse('lars:eps=nan')", lambda: hooks.parse("lars:eps=nan"), ValueError, "finite"),
    api("hooks.parse('clip:max_norm')", lambda: hooks.parse("clip:max_norm"), ValueError,
        "expected key=value"),
    # -- functions.get
    api("functions.get: unknown", lambda: functions.get("rosenbrok"), KeyError, "valid names"),
    api("functions.get: dim", lambda: functions.get("beale", 3), ValueError, "dim = 2 only"),
    api("functions.get: kappa", lambda: functions.get("long_valley", 2, kappa=0.5), ValueError,
        "kappa must be >= 1"),
    api("functions.get: unknown parameter", lambda: functions.get("long_valley", 2, k=3), ValueError,
        "valid parameters: kappa"),
    # -- functions.from_expression (issue 23: the user's text is quoted, at most ~60 characters)
    api("from_expression: a 1,000-character name", lambda: functions.from_expression("x" * 1000),
        ValueError, "unknown name 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…'"),
    api("from_expression: a 10 KB box", lambda: functions.from_expression("x**2", box="a" * 10_000),
        ValueError, "aaaaaaaaaa…"),
    # -- issue 20: your own optimizers (typed text is checked, never run; Python rules dry-run)
    api("rule_text: code", lambda: optviz.rule_text("Mine", "x = __import__('os').system('id')"), ValueError,
        "only the listed functions may be called"),
    api("rule_text: a built-in's name", lambda: optviz.rule_text("adam", "x = x - g"), ValueError,
        "Adam is a built-in optimizer"),
    api("rule_text: 10 MB", lambda: optviz.rule_text("Mine", HUGE), ValueError, "too long"),
    api("rule_text: no x", lambda: optviz.rule_text("Mine", "m = m + g"), ValueError, "never assigns x"),
    api("rule_text: grad_at reads g", lambda: optviz.rule_text("Mine", "grad_at = x - g; x = x - g"),
        ValueError, "line 1 ('grad_at = x - g'): grad_at is where the gradient g is taken, so it cannot "
        "read g"),
    api("rule_text: init of a temporary", lambda: optviz.rule_text("Mine", "init z = x; z = 1; x = x - z*g"),
        ValueError, "z is assigned before it is read, so it is not kept between steps"),
    api("rule_text: init reads g", lambda: optviz.rule_text("Mine", "init z = 2*g; x = x - z*g"), ValueError,
        "unknown name 'g' at column 12"),
    api("rule: an initial value reads w", lambda: optviz.rule("Mine", lambda g, m, eta: (-eta * g, m),
                                                               state={"m": lambda w: w},
                                                               hyperparams={"eta": (0.1, 0, 1)}),
        ValueError, "may read hyperparameters only"),
    api("rule: a misspelt name", lambda: optviz.rule("Mine", lambda g, etta: -etta * g,
                                                      hyperparams={"eta": (0.1, 0, 1)}),
        ValueError, "did you mean eta?"),
    api("rule: a sum over points", lambda: optviz.rule("Mine", lambda g, eta: -eta * g.sum(),
                                                        hyperparams={"eta": (0.1, 0, 1)}),
        ValueError, "has shape ()"),
    api("Scene: a refused rule text", lambda: optviz.Scene(
        function={"name": "booth"}, optimizers=["Adam"], starts=optviz.Starts.grid(2),
        rules={"Mine": "x = x - lr*g"}), ValueError, "rules.Mine: line 1"),
    api("Scene.from_query: rules not JSON", lambda: optviz.Scene.from_query(
        {"v": "2", "fn": "booth", "opt": "Adam", "starts": "grid:n=2", "rules": "{oops"}), ValueError,
        "URL parameter 'rules'"),
    api("conformance: unknown rule", lambda: optviz.conformance("Adam", "Nobody"), ValueError, "valid: SGD"),
    api("conformance: rtol", lambda: optviz.conformance("Adam", "SGD", rtol=-1), ValueError, "rtol"),
    # -- issue 23: the server's memory budget; a scene is never written onto a device
    api("memory budget 'lots'", lambda: memory.parse_budget("lots"), ValueError,
        "expected a size such as 2GB or 1536MB, got 'lots'"),
    api("memory budget 100MB", lambda: memory.parse_budget("100MB"), ValueError, "at least 768MB"),
    api("run seed=2**64", lambda: optviz.run("booth", "SGD", steps=2, seed=2**64), ValueError,
        "seed must be a whole number in [0, 18,446,744,073,709,551,615]"),
    api("run max_seconds=nan", lambda: optviz.run("booth", "SGD", steps=2, max_seconds=float("nan")),
        ValueError, "max_seconds must be a number of seconds > 0, or None"),
    api("run max_seconds='10'", lambda: optviz.run("booth", "SGD", steps=2, max_seconds="10"), ValueError,
        "max_seconds must be a number of seconds > 0, or None for no limit; got '10'"),
    api("run alpha=True", lambda: optviz.run("booth", {"Adam": {"alpha": True}}, steps=2), ValueError,
        "Adam.alpha must be a number in [1e-07, 10], got True"),
    api("run fused='yes'", lambda: optviz.run("booth", "SGD", steps=2, fused="yes"), ValueError,
        "fused must be True, False or None (automatic), got 'yes'"),
    api("run threads=50000", lambda: optviz.run("booth", "SGD", steps=2, threads=50000), ValueError,
        "threads must be a whole number in [1, 256]"),
    api("a start of 1e300 in a scene", lambda: optviz.Scene.from_query(
        {"v": "2", "fn": "booth", "opt": "SGD", "starts": "points", "pts": "1e300,1"}).run(), ValueError,
        "point 0 is [1e+300, 1.0]: start nearer the function's box"),
    api("compare space={'SGD': 'big'}", lambda: optviz.compare(["booth"], ["SGD"], space={"SGD": "big"}),
        ValueError, "space SGD: expected {hyperparameter: (low, high) or [values]}, got 'big'"),
    api("basins box of ±1e308", lambda: optviz.basins("booth", ["SGD"], grid=2, box=[[-1e308, 1e308]] * 2),
        ValueError, "box: each row's width (high - low) must be a finite number"),
    api("basins grid=4000 steps=1e6 (refused before the grid is made)",
        lambda: optviz.basins("booth", ["SGD", "Adam"], grid=4000, steps=10**6), ValueError,
        "2 optimizer(s) x 16,000,000 points x 1,000,000 steps"),
    api("Scene.save onto /dev/null", lambda: optviz.Scene.from_query(
        {"v": "2", "fn": "booth", "opt": "SGD", "starts": "grid:n=2"}).save(os.devnull), ValueError,
        "not a regular file"),
]


@pytest.mark.parametrize("row", API, ids=[r.label for r in API])
def test_api(row: Row):
    with time_limit(ROW_SECONDS), pytest.raises(row.expect) as info:  # type: ignore[arg-type]
        row.call()
    text = message(info.value)
    assert row.phrase in text
    assert len(text) < MAX_MESSAGE, f"{len(text)} characters"


# ============================================================================ the command line
def c(*argv: str, phrase: str, code: int = 2) -> Row:
    return Row(" ".join(a if len(a) < 30 else a[:10] + "…" for a in argv), list(argv), code, phrase)


R = ("render", "--out", "{out}/x.gif")  # a render whose file must never appear

CLI: list[Row] = [
    c(*R, "-o", "Adamm", phrase="valid: SGD"),
    c(*R, "-o", "", phrase="valid: SGD"),
    c(*R, "-o", "momentum", phrase="(the group is written group:momentum)"),
    c(*R, "-o", "group:nope", phrase="valid groups: all, group:article"),
    c(*R, "-f", "nope", phrase="valid: ackley"),
    c(*R, "-f", HUGE, phrase="characters)"),
    c(*R, "--preset", "nope", phrase="'nope'; valid: "),
    c(*R, "--lesson", "nope", phrase="'nope'; valid: "),
    c(*R, "--rates", "nope", phrase="choose from 'tuned', 'article', 'registry'"),
    c("run", "--rates", "", phrase="invalid choice"),
    c("basins", "--rates", "tune", phrase="invalid choice: 'tune'"),
    c("sweep", "--param", "lr", "--values", "1,2", "--rates", "Article", phrase="invalid choice"),
    c(*R, "--lesson", "article-quartic", "-o", "Adam", phrase="drop -o/--optimizers"),
    c(*R, "--set", "Adam.alpha", phrase="Adam.alpha=0.1"),
    c(*R, "--set", "alpha=0.1", "-o", "Adam", phrase="OPTIMIZER.HYPERPARAMETER=VALUE"),
    c(*R, "--set", "Adam.foo=1", "-o", "Adam", phrase="valid: alpha, beta1, beta2, eps"),
    c(*R, "--set", "Adam.alpha=abc", "-o", "Adam", phrase="expected a number"),
    c(*R, "--set", "Adam.alpha=1e309", "-o", "Adam", phrase="'1e309' is too large"),
    c(*R, "--set", "Adam.alpha=1e9", "-o", "Adam", phrase="[1e-07, 10]"),
    c(*R, "--set", "Adam.alpha=inf", "-o", "Adam", phrase="finite"),
    c(*R, "--set", f"Adam.alpha={HUGE}", "-o", "Adam", phrase="characters)"),
    c(*R, "--set", "Nobody.x=1", phrase="valid: SGD"),
    c(*R, "--set", "NAG.mu=0.5", "-o", "Adam", phrase="not among the chosen optimizers"),
    c(*R, "--start", "1,2,3", "-f", "beale", phrase="dim = 2 only"),
    c(*R, "--start", "a,b", phrase="expected a number"),
    c(*R, "--start", "1e309,1", phrase="'1e309' is too large"),
    c(*R, "--start", f"1,{HUGE}", phrase="characters)"),
    c(*R, "--start", "1,,2", phrase="e.g. -1.5,2"),
    c(*R, "--start", "1,2", "--start", "1", phrase="same number of coordinates"),
    c(*R, "--grid", "0", phrase="[1, 1,000]"),
    c(*R, "--grid", "1000", "-f", "rastrigin", "--dim", "3", phrase="over a million starts"),
    c(*R, "--ring", "-1", phrase="> 0"),
    c(*R, "--ring-points", "0", phrase="[1, 100,000]"),
    c(*R, "--random", "0", phrase="[1, 1,000,000]"),
    c(*R, "--random", "2", "--grid", "2", phrase="not allowed with"),
    c(*R, "--steps", "x", phrase="whole number"),
    c(*R, "--steps", "2000000", phrase="[1, 1,000,000]"),
    c(*R, "--steps", "0", phrase="[1, 1,000,000]"),
    c(*R, "--seed", "-1", phrase="whole number"),
    c(*R, "--dim", "0", phrase="[1, 1,000]"),
    c(*R, "--record-every", "0", phrase=">= 1"),
    c(*R, "--fps", "0", phrase="> 0"),
    c(*R, "--max-frames", "1", phrase="[2, 100,000]"),
    c(*R, "--stride", "0", phrase=">= 1"),
    c(*R, "--dpi", "0", phrase="> 0"),
    c(*R, "--size", "10", phrase="WIDTHxHEIGHT"),
    c(*R, "--size", "0.5x0.5", phrase="between 64"),
    c(*R, "--kind", "bogus", phrase="auto"),
    c(*R, "--schedule", "bogus", phrase="valid: constant"),
    c(*R, "--schedule", "warmup:steps=-1", phrase="warm-up schedule: steps must be a whole number >= 1"),
    c(*R, "--schedule", "step:every=1,every=2", phrase="given twice"),
    c(*R, "--schedule", "exponential:gamma=20", phrase="gamma must be in [0, 10]"),
    c(*R, "--hook", "clip:foo=1", phrase="valid: max_norm"),
    c(*R, "--hook", "clip:max_norm=0", phrase="max_norm must be > 0"),
    c(*R, "--preset", "article-quartic", "-f", "beale", phrase="drop -f/--function"),
    c(*R, "--param", "kappa=-1", "-f", "long_valley", phrase="kappa must be >= 1"),
    c(*R, "--param", "kappa=abc", "-f", "long_valley", phrase="expected a number"),
    c(*R, "--param", "=1", "-f", "long_valley", phrase="KEY=VALUE"),
    c(*R, "--backend", "cupy", phrase="numpy"),
    c(*R, "-f", "rosenbrock", "--grid", "1000", "--steps", "100000",
      phrase="(--record-every 6250), or use at most 178 points."),
    c("run", "-o", "all", "--random", "1000000", "--steps", "1000000", "--record-every", "1000000",
      phrase="over the 60 min limit. To shrink it"),
    c("run", "--steps", "1000000", "--random", "100000", "--record-every", "1000000", "--max-seconds", "1",
      phrase="or raise --max-seconds"),
    c("run", "--max-seconds", "0", phrase="> 0"),
    c("render", "--out", "{out}/x.avi", phrase=".gif, .mp4, .png, .svg"),
    c("render", phrase="--out"),
    c("run", "--tol", "-1", phrase="> 0"),
    c("run", "--tol", "nan", phrase="expected a number"),
    c("run", "--json", "extra", phrase="unrecognized arguments"),
    c("run", "-o", "Adam", "--start", HUGE, phrase="characters)"),
    c("run", "--noise", "-1", phrase=">= 0"),
    c("run", "--noise", "abc", phrase="expected a number"),
    c("run", "--noise-mode", "multiplicative", phrase="invalid choice"),
    c("run", "--delay", "-2", phrase="whole number"),
    c(*R, "--delay", "x", phrase="whole number"),
    c("run", "--batch", "0", phrase="whole number"),
    c("run", "-f", "rosenbrock", "--batch", "4", phrase="needs a learning problem"),
    c("run", "-f", "moons-mlp", "--batch", "999", phrase="from 1 to 256 (the training samples)"),
    c("basins", "--start", "1,2", phrase="--grid N over the function's box"),
    c("basins", "-f", "saddle", phrase="nothing to converge to"),
    c("basins", "--kind", "loss", phrase="no target"),
    c("basins", "--out", "{out}/b.gif", phrase=".png, .svg"),
    c("basins", "--scheduler", "nowhere", phrase="tcp://host:8786"),
    c("basins", "--record-every", "5", phrase="records only"),
    c("basins", "-o", "all", "--grid", "1000", "--steps", "1000000", phrase="or raise --max-seconds"),
    c("sweep", "--values", "1:2:3", phrase="sweep needs one --param NAME"),
    c("sweep", "--param", "alpha", phrase="required: --values"),
    c("sweep", "--param", "alpha", "--param", "eta", "--values", "1,2", phrase="sweep needs one --param"),
    c("sweep", "--param", "foo", "--values", "1,2", "-o", "Adam", phrase="Adam has no hyperparameter 'foo'"),
    c("sweep", "--param", "alpha", "-o", "Adam", "--values", "1e-4:1:x", phrase="N must be a whole number"),
    c("sweep", "--param", "alpha", "-o", "Adam", "--values", "0:1:3", phrase="LOW and HIGH > 0"),
    c("sweep", "--param", "alpha", "-o", "Adam", "--values", HUGE, phrase="characters)"),
    c("sweep", "--param", "alpha", "-o", "Adam", "--values", "1e-3,100", phrase="[1e-07, 10]"),
    c("sweep", "--param", "noise", "--values", "-1,1", phrase="noise values must be >= 0"),
    c("sweep", "--param", "delay", "--values", "0,1.5", phrase="whole numbers"),
    c("sweep", "-f", "rosenbrock", "--param", "lr", "--values", "1,2", "--batch", "4",
      phrase="needs a learning problem"),
    c("sweep", "-f", "rosenbrock", "--param", "batch", "--values", "1,2", phrase="needs a learning problem"),
    c("sweep", "-f", "logistic", "--param", "batch", "--values", "8,300", phrase="from 1 to 200"),
    c("sweep", "-f", "logistic", "--param", "batch", "--values", "8,16", "--batch", "8",
      phrase="batch is swept"),
    c("sweep", "--param", "lr", "--values", "1,2", "--seeds", "0", phrase="[1, 10,000]"),
    c("sweep", "--preset", "article-quartic", "--param", "eta", "--values", "1,2", phrase="does not apply"),
    c("sweep", "--param", "lr", "--values", "1,2", "--out", "{out}/s.mp4", phrase=".png, .svg"),
    c("compare", "-f", "nope", phrase="valid: ackley"),
    c("compare", "-f", "saddle", phrase="nothing to converge to"),
    c("compare", "-f", "moons-mlp,rosenbrock", "--batch", "16", phrase="rosenbrock has no training data"),
    c("compare", "-f", "moons-mlp", "--kind", "distance", phrase="nothing to converge to"),
    c("compare", "-o", "Adamm", phrase="valid: SGD"),
    c("compare", "--budget", "0", phrase="[1, 10,000]"),
    c("compare", "--set", "Adam.alpha=0.1", "-o", "SGD", phrase="not among the chosen optimizers"),
    c("compare", "--out", "{out}/c.mp4", phrase=".png, .svg"),
    c("list", "bogus", phrase="invalid choice"),
    c("bogus", phrase="invalid choice"),
    c(phrase="choose a command"),
    c("dashboard", "extra", phrase='options for Streamlit go after "--"'),
    c("dashboard", "--port", "0", phrase="[1, 65,535]"),
    c("dashboard", "--port", "70000", phrase="[1, 65,535]"),
    c("dashboard", "--host", "", phrase="--host expects an address"),
    c("dashboard", "--host", "no such host.example", phrase="--host expects an address"),
    # -- a typed function (--expr, --box, --minimum): hostile text is refused and nothing runs
    c(*R, "--expr", "__import__('os').system('touch {out}/owned')", phrase="only the listed functions"),
    c(*R, "--expr", "open('/etc/passwd')", phrase="unknown function 'open' at column 1"),
    c(*R, "--expr", "x.real", phrase="attribute access (.) not allowed at column 1"),
    c(*R, "--expr", "x[0]", phrase="subscripts ([...]) not allowed"),
    c(*R, "--expr", "lambda: 1", phrase="lambda not allowed"),
    c(*R, "--expr", "[x for x in (1, 2)]", phrase="comprehensions not allowed"),
    c(*R, "--expr", "'text'", phrase="text (strings) not allowed"),
    c(*R, "--expr", "z**2", phrase="unknown name 'z' at column 1"),
    c(*R, "--expr", "x +* 2", phrase="--expr: syntax error at column 4"),
    c(*R, "--expr", "9**9**9", phrase="is too large (at most 1000"),
    c(*R, "--expr", "sin(" * 40 + "x" + ")" * 40, phrase="nested too deeply (at most 32 levels)"),
    c(*R, "--expr", "x*" * 600 + "x", phrase="too long: 1,201 characters (at most 1,000)"),
    c(*R, "--expr", HUGE, phrase="too long: 10,000,000 characters"),
    c(*R, "--expr", "", phrase="type a function of x"),
    c(*R, "--expr", "log(x)", "--box", "-1,1", phrase="is not finite over its box"),
    c(*R, "--expr", "x**2", "--box", "1,2,3", phrase="--box expects LO,HI (1-D) or XLO,XHI,YLO,YHI"),
    c(*R, "--expr", "x**2", "--box", "2,-2", phrase="the range of x needs LO < HI"),
    c(*R, "--expr", "x**2", "--box", "a,1", phrase="--box: expected a number, got 'a'"),
    c(*R, "--expr", "x**2 + y**2", "--minimum", "1", phrase="minimizers must be points of 2 coordinate(s)"),
    c(*R, "--expr", "x**2", "--minimum", "0.5", "--box", "-1,1", phrase="is not a global minimizer"),
    c(*R, "--expr", "x**2", "--minimum", "9", "--box", "-1,1", phrase="lies outside the box"),
    c(*R, "--expr", "x**2", "--minimum", "none", "--minimum", "0", phrase="cannot be combined"),
    c(*R, "--expr", "x**2", "-f", "rosenbrock", phrase="both name the function"),
    c(*R, "--expr", "x**2", "--dim", "2", phrase="--dim and --param are for the built-in functions"),
    c(*R, "--expr", "x**2 + y", "--start", "1", phrase="the typed function is 2-D"),
    c(*R, "--box", "-1,1", phrase="give --expr too"),
    c(*R, "--preset", "article-quartic", "--expr", "x**2", phrase="drop --expr"),
    # -- scene files (--scene, --save-scene): each malformed file names what is wrong
    c(*R, "--scene", "{out}/missing.json", phrase="cannot read the scene (No such file or directory)"),
    c(*R, "--scene", "{scenes}/not-json.json", phrase="not valid JSON (line 1, column 15"),
    c(*R, "--scene", "{scenes}/not-utf8.json", phrase="scene: not UTF-8 text"),
    c(*R, "--scene", "{scenes}/a-list.json", phrase="scene: expected an object (key: value)"),
    c(*R, "--scene", "{scenes}/no-version.json", phrase="version: missing; is this an optviz scene?"),
    c(*R, "--scene", "{scenes}/newer.json", phrase=f"saved by a newer optviz (scene version {VERSION + 1})"),
    c(*R, "--scene", "{scenes}/unknown-key.json", phrase="colour: unknown key; valid keys: version"),
    c(*R, "--scene", "{scenes}/wrong-type.json", phrase="steps: expected a whole number, got 'many'"),
    c(*R, "--scene", "{scenes}/out-of-range.json", phrase="optimizers.Adam.alpha must be in [1e-07, 10]"),
    c(*R, "--scene", "{scenes}/nan.json", phrase="NaN is not a finite number"),
    c(*R, "--scene", "{scenes}/too-many-starts.json", phrase="starts.n: must be a whole number in [1, 100,"),
    c(*R, "--scene", "{scenes}/hostile-expression.json",
      phrase="function.expression: only the listed functions may be called"),
    c(*R, "--scene", "{scenes}/ok.json", "--preset", "article-quartic", phrase="give one"),
    c(*R, "--scene", "{scenes}/ok.json", "--start", "1", phrase="rosenbrock takes dim >= 2, got 1"),
    c(*R, "--scene", "{scenes}/typed.json", "--start", "1", phrase="the scene's function is 2-D"),
    c(*R, "--scene", "{scenes}/typed.json", "--dim", "3", phrase="--dim and --param are for the built-in"),
    c(*R, "--scene", "{scenes}/ok.json", "-f", "quartic",
      phrase="the scene's starting points have 2 coordinate(s) but the function given is 1-D"),
    c(*R, "--scene", "{scenes}/ok.json", "--steps", "0", phrase="steps: must be a whole number in [1,"),
    c(*R, "--save-scene", "{out}/no/such/folder/s.json", phrase="does not exist"),
    c(*R, "--save-scene", "{out}", phrase="is a folder"),
    c("run", "--random", "200000", "--steps", "1", "--save-scene", "{out}/s.json",
      phrase="cannot be saved as a scene: starts.n"),
    # -- issue 20: your own optimizers
    c("run", "--rule-text", "Mine x = x - g", phrase="--rule-text expects NAME: TEXT"),
    c("run", "--rule-text", "Mine: x = x - sgn(g)", phrase="unknown function 'sgn' (did you mean sign?)"),
    c("run", "--rule-text", "Adam: x = x - g", phrase="Adam is a built-in optimizer"),
    c("run", "--rules", "{out}/nope.py", phrase="no such file"),
    c("run", "--rules", "{out}/rules.txt", phrase="expected a Python file"),
    c("conformance", "Adam", "Nobody", phrase="valid: SGD"),
    c("conformance", "Adam", "group:adam", phrase="not a list or a group"),
    c("conformance", "Adam", "SGD", "--rtol", "-1", phrase="must be >= 0"),
    # -- issue 23: special files are never written nor replaced; reads are bounded; a BOM is read past
    c("run", "--steps", "1", "--save-scene", os.devnull, phrase="it is a device, not a regular file"),
    c("run", "--steps", "1", "--save-scene", "{scenes}/fifo.json", phrase="it is a FIFO (named pipe)"),
    c(*R[:1], "--steps", "1", "--out", "{scenes}/fifo.gif", phrase="it is a FIFO (named pipe), not a"),
    c("basins", "--grid", "2", "--out", "{scenes}/device.png", phrase="it is a device, not a regular file"),
    c(*R, "--scene", "/dev/zero", phrase="/dev/zero': too large for a scene (over 80,000,000 bytes)"),
    c(*R, "--scene", "{scenes}/bom.json", "--steps", "0", phrase="steps: must be a whole number in [1,"),
    c("dashboard", "--memory-budget", "lots", phrase="--memory-budget: expected a size such as 2GB"),
    c("dashboard", "--memory-budget", "1KB", phrase="--memory-budget: at least 768MB"),
]

#: The files of the ``{scenes}`` rows: one malformed scene each (and ``ok.json``, a good one).
_OK_SCENE = {"version": 1, "function": {"name": "rosenbrock"}, "optimizers": ["Adam"],
             "starts": {"mode": "points", "points": [[-1.5, 2.0]]}, "steps": 5}
SCENE_FILES: dict[str, str | bytes] = {
    "ok.json": json.dumps(_OK_SCENE),
    "typed.json": json.dumps({**_OK_SCENE, "function": {
        "expression": "x**2 + y**2", "box": [[-2, 2], [-2, 2]], "minimizers": [[0, 0]]}}),
    "not-json.json": '{"version": 1,,}',
    "not-utf8.json": b"\xff\xfe{}",
    "a-list.json": "[1, 2]",
    "no-version.json": json.dumps({k: v for k, v in _OK_SCENE.items() if k != "version"}),
    "newer.json": json.dumps({**_OK_SCENE, "version": VERSION + 1}),
    "unknown-key.json": json.dumps({**_OK_SCENE, "colour": "red"}),
    "wrong-type.json": json.dumps({**_OK_SCENE, "steps": "many"}),
    "out-of-range.json": json.dumps({**_OK_SCENE, "optimizers": {"Adam": {"alpha": 20}}}),
    "nan.json": json.dumps(_OK_SCENE)[:-1] + ', "seed": NaN}',
    "too-many-starts.json": json.dumps({**_OK_SCENE, "starts": {"mode": "random", "n": 10**6}}),
    "hostile-expression.json": json.dumps({**_OK_SCENE, "function": {
        "expression": "__import__('os').system('echo owned')", "box": [[-1, 1]]}}),
}


@pytest.fixture(scope="module")
def scenes(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("scenes")
    for name, text in SCENE_FILES.items():
        (d / name).write_bytes(text if isinstance(text, bytes) else text.encode())
    (d / "bom.json").write_bytes(b"\xef\xbb\xbf" + SCENE_FILES["ok.json"].encode())
    os.mkfifo(d / "fifo.json")
    os.mkfifo(d / "fifo.gif")
    os.symlink(os.devnull, d / "device.png")
    return d


def _argv(row: Row, tmp_path: Path, scenes: Path | None = None) -> list[str]:
    return [a.replace("{out}", str(tmp_path)).replace("{scenes}", str(scenes)) for a in row.call]


@pytest.mark.parametrize("row", CLI, ids=[r.label for r in CLI])
def test_cli(row: Row, tmp_path: Path, scenes: Path, capsys, monkeypatch):
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: pytest.fail("started a process"))
    with time_limit(ROW_SECONDS):
        code = cli.main(_argv(row, tmp_path, scenes))
    out, err = capsys.readouterr()
    assert code == row.expect
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("optviz: error: "), err[:500]
    assert row.phrase in lines[0]
    assert len(lines[0]) < MAX_MESSAGE
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary file


#: Rows run as real processes too: the installed entry behaves as the in-process one.
CLI_PROCESS = [r for r in CLI if r.label in (
    "render --out {out}/x.gif -o momentum", "render --out {out}/x.gif --start 1e309,1",
    "render --out {out}/x.gif --schedule warmup:steps=-1", "bogus", "dashboard --port 70000",
)]


@pytest.mark.parametrize("row", CLI_PROCESS, ids=[r.label for r in CLI_PROCESS])
def test_cli_process(row: Row, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "optviz", *_argv(row, out)], cwd=tmp_path, capture_output=True,
        text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == row.expect
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("optviz: error: ") and row.phrase in lines[0], proc.stderr
    assert list(out.iterdir()) == []


def test_the_process_rows_exist():
    assert len(CLI_PROCESS) == 5


@pytest.mark.parametrize("argv", [["list"], ["run", "--steps", "2"], ["run", "--steps", "2", "--json"]])
def test_a_full_disk_is_one_line(argv: list[str], tmp_path: Path):
    """``optviz list > /dev/full``: one line and exit status 1, not a traceback (issue 23)."""
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "optviz", *argv], cwd=tmp_path, stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["optviz: error: could not write the output: No space left on device"]


# ============================================================================ the dashboard
def typed(text: str, function: str | None = None) -> Callable:
    def setup(at):
        if function is not None:
            at.sidebar.selectbox(key="function").select(function).run()
        at.sidebar.radio(key="start_mode").set_value("Typed").run()
        at.sidebar.text_area(key="typed_starts").input(text).run()
    return setup


def fparam(function: str, name: str, value: float) -> Callable:
    def setup(at):
        at.sidebar.selectbox(key="function").select(function).run()
        at.sidebar.number_input(key=f"fparam__{function}__{name}").set_value(value).run()
    return setup


def schedule(kind: str, steps: int, **values: float) -> Callable:
    def setup(at):
        at.sidebar.multiselect(key="optimizers").set_value(["Adam", "SGD"]).run()
        at.sidebar.slider(key="steps").set_value(steps).run()
        assert at.sidebar.slider(key="steps").value == steps
        at.selectbox(key="schedule").select(kind).run()
        for key, v in values.items():
            at.number_input(key=key).set_value(v)
        at.run()
    return setup


def expr(text: str, box: str | None = None) -> Callable:
    """Type a function into the sidebar's editor (after choosing "Your own")."""
    def setup(at):
        at.sidebar.radio(key="fn_source").set_value("Your own").run()
        if box is not None:
            at.sidebar.text_input(key="expr_box").input(box).run()
        at.sidebar.text_input(key="expr").input(text).run()
    return setup


def link(query: dict[str, str]) -> Callable:
    """Open the page with ``query`` in its URL (a new session's first run)."""
    def setup(at):
        for k in list(at.query_params):  # the page's own link, written by the first run
            del at.query_params[k]
        for k, v in query.items():
            at.query_params[k] = v
        at.session_state["_link_checked"] = False
        at.run()
    return setup


_LINK = {"v": "1", "fn": "rosenbrock", "opt": "Adam", "starts": "grid"}

#: (label, setup, phrase in an error on the page; expect None: no error, the phrase anywhere).
DASHBOARD: list[Row] = [
    Row("typed function: __import__", expr("__import__('os').system('echo owned')"), ValueError,
        "only the listed functions may be called"),
    Row("typed function: attribute", expr("x.__class__"), ValueError, "attribute access (.) not allowed"),
    Row("typed function: syntax error", expr("x +* 2"), ValueError, "syntax error at column 4"),
    Row("typed function: 9**9**9", expr("9**9**9"), ValueError, "is too large (at most 1000"),
    Row("typed function: nested too deeply", expr("sin(" * 40 + "x" + ")" * 40), ValueError,
        "nested too deeply"),
    Row("typed function: not finite over its box", expr("log(x)", "-1, 1"), ValueError,
        "is not finite over its box"),
    Row("typed function: a bad box", expr("x**2", "1, 2, 3"), ValueError, "box: expected x_lo, x_hi"),
    Row("link: unknown key", link({**_LINK, "colour": "red"}), ValueError,
        "This link could not be opened: URL parameter 'colour': unknown"),
    Row("link: newer version", link({**_LINK, "v": "7"}), ValueError, "newer optviz (scene version 7)"),
    Row("link: a batch over the training set", link(
        {"v": "2", "fn": "moons-mlp", "opt": "Adam", "starts": "random:n=2", "steps": "10", "batch": "999"}),
        ValueError, "batch: must be a whole number from 1 to 256"),
    Row("link: hyperparameter out of range", link({**_LINK, "opt": "Adam:alpha=20"}), ValueError,
        "optimizers.Adam.alpha must be in [1e-07, 10]"),
    Row("link: hostile expression", link({"v": "1", "expr": "__import__('os')", "opt": "Adam",
                                           "starts": "grid"}), ValueError, "unknown function '__import__'"),
    # (Streamlit itself drops a query string over 512 KiB: the page then opens its own scene)
    Row("link: a 400 kB value", link({**_LINK, "steps": "x" * 400_000}), ValueError,
        "URL parameter steps: expected a whole"),
    Row("typed start not a number", typed("1, abc"), ValueError, "'abc' is not a number"),
    Row("typed 10 MB token", typed(HUGE), ValueError, "(10,000,000 characters) is not a number"),
    Row("typed 1e309", typed("1e309, 1"), ValueError, "'1e309' is too large"),
    Row("2-D points typed for the 1-D quartic", typed("-1, 2\n1.5, 1.5", "quartic"), ValueError,
        "this function is 1-D"),
    Row("long_valley kappa 0.5", fparam("long_valley", "kappa", 0.5), ValueError, "kappa must be >= 1"),
    Row("exponential schedule, gamma 10 (saturates)", schedule("exponential", 400, sched_exp_gamma=10.0),
        None, "diverged"),
    Row("step schedule every 1, gamma 2 (saturates)",
        schedule("step", 1100, sched_every=1, sched_gamma=2.0), None, "diverged"),
]


def _as_read(markdown: object) -> str:
    """A message as the reader sees it: the page escapes Markdown (``x\\_lo`` shows as ``x_lo``)."""
    return re.sub(r"\\(.)", r"\1", str(markdown))


@pytest.mark.parametrize("row", DASHBOARD, ids=[r.label for r in DASHBOARD])
def test_dashboard(row: Row):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    with time_limit(120):
        at.run()
        row.call(at)
    assert not at.exception, at.exception
    errors = [_as_read(e.value) for e in at.error]
    assert not any("Unexpected error" in e for e in errors), errors
    if row.expect is None:
        shown = " | ".join(_as_read(e.value) for kind in ("error", "warning", "info")
                           for e in getattr(at, kind))
        assert row.phrase in shown, shown
        races = [e for e in at.get("bidi_component") if e.proto.component_name == "optviz_race"]
        assert races, "the race should be drawn"
    else:
        assert any(row.phrase in e for e in errors), [e[:300] for e in errors]
    assert all(len(e) < MAX_MESSAGE for e in errors)


def test_the_table_is_large_enough():
    assert len(API) + len(CLI) + len(DASHBOARD) >= 60

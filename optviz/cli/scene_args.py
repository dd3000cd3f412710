"""The options → one :class:`~optviz.scene.Scene`: what ``run``, ``render``, ``basins`` and
``sweep`` race.

:func:`scene_from_args` is the one conversion, a pure function of the parsed options: it reads
``args`` and changes nothing, and every value it checks is checked by the :class:`Scene` it
makes. A scene comes from the options alone (the dashboard's first race fills what they leave
out), from a lesson (``--preset``/``--lesson``) or from a scene file (``--scene``), which the
options given besides then change. Hyperparameters nobody set come from one policy: the
function's tuned table unless ``--rates article`` (see :func:`rates_of`).

:func:`scene_to_save` is the scene ``--save-scene`` writes, checked against the file limits
before any work; :func:`engine_options` the settings that do not change the race.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

import functions
from optviz.cli.errors import CliError, message, show_path
from optviz.cli.parser import DEFAULT_FUNCTION, DEFAULT_OPTIMIZERS, DEFAULT_STEPS, DEFAULT_TOL
from optviz.draw import files
from optviz.engine.run import MAX_STEPS
from optviz.optimizers import get as get_optimizer
from optviz.optimizers import rates as _rates
from optviz.optimizers import resolve
from optviz.scene import lessons
from optviz.scene import starts as _starts
from optviz.scene.model import LIMITS, Limits, Scene, SceneFunction, Starts
from optviz.scene.text import parse_number
from optviz.scene.text import quote as _short

#: What a scene made from the options may ask for: the engine's own bounds (a file as loaded is
#: held to ``optviz.scene.model.LIMITS``, and so is a scene to save).
RUN_LIMITS = Limits(steps=MAX_STEPS, points=1_000_000, work=math.inf)

#: The options that choose the function (what a --scene's function is changed by).
_FUNCTION_FLAGS = (("-f/--function", "function"), ("--dim", "dim"), ("--param", "param"),
                   ("--expr", "expr"), ("--box", "box"), ("--minimum", "minimum"))


# ====================================================================== the one conversion
def scene_from_args(args: argparse.Namespace, *, starts: Starts | None = None) -> Scene:
    """The scene the options describe (``args`` is only read).

    ``starts``: the command's own starts (a basin map's grid) instead of the start options.
    Raises :class:`CliError` (one line) for anything the scene refuses.
    """
    load_rules(args)
    try:
        if getattr(args, "scene", None) is not None:
            return _from_file(args, starts)
        if args.preset is not None:
            return _from_lesson(args, starts)
        return _from_options(args, starts)
    except CliError:
        raise
    except (ValueError, KeyError) as exc:
        raise CliError(message(exc)) from None


def rates_of(args: argparse.Namespace, scene: Scene | None = None) -> str:
    """The rates policy: ``--rates`` (``registry`` is ``article``); without it the scene's (a
    scene file's or a lesson's), else ``tuned``."""
    if args.rates is not None:
        return _rates.check_rates(args.rates)
    return scene.rates if scene is not None else _rates.DEFAULT


def rates_text(scene: Scene) -> str:
    """Which values the hyperparameters nobody set took, for a table: ``tuned``, ``article``, or
    ``tuned`` with a note when the table has nothing for the scene's function (a typed one)."""
    if scene.rates == "tuned" and not _rates.tuned(*scene.function.rate_key()):
        return "tuned (none for this function: the article's values)"
    return scene.rates


def engine_options(args: argparse.Namespace) -> dict[str, Any]:
    """The engine's settings that do not change the race (not part of a scene)."""
    return {"record_every": args.record_every, "backend": args.backend, "max_seconds": args.max_seconds}


def scene_to_save(args: argparse.Namespace, scene: Scene) -> Scene | None:
    """The scene ``--save-scene`` writes (None without it): checked, before any work, that the
    path can be written and that the scene fits the file limits (so ``--scene`` can open it)."""
    path = getattr(args, "save_scene", None)
    if not path:
        return None
    check_scene_path(path)
    try:
        return replace(scene, limits=LIMITS)
    except ValueError as exc:
        raise CliError(f"--save-scene: this run cannot be saved as a scene: {message(exc)}") from None


def check_scene_path(path: str) -> None:
    """Refuse, before any work, a --save-scene path that cannot be written."""
    p = Path(path)
    parent = p.parent
    if p.is_dir():
        raise CliError(f"--save-scene {show_path(path)}: is a folder; give a file name such as scene.json")
    if not parent.is_dir():
        raise CliError(f"--save-scene {show_path(path)}: the folder {show_path(parent)} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CliError(f"--save-scene {show_path(path)}: the folder {show_path(parent)} is not writable")
    try:
        files.refuse_special(p)
    except ValueError as exc:
        raise CliError(f"--save-scene: {message(exc)}") from None


def _make(fn: Any, optimizers: Mapping[str, Mapping[str, float]], rates: str, *,
          function: SceneFunction | None = None, **fields: Any) -> Scene:
    """A scene on test function ``fn`` (a built one; ``function``: how the scene names it, by
    default as ``fn`` says); the scene fills the hyperparameters nobody set from ``rates``."""
    return Scene(function=function or SceneFunction.of(fn), optimizers=optimizers, rates=rates, **fields,
                 limits=RUN_LIMITS)


def _set_by_someone(scene: Scene) -> dict[str, dict[str, float]]:
    """The scene's hyperparameters that differ from its rates policy's values for its function
    (what someone set); the others follow the policy when the function or the policy changes."""
    fname, fdim, fparams = scene.function.rate_key()
    out = {}
    for name, hps in scene.optimizers.items():
        policy = _rates.defaults(name, fname, fdim, scene.rates, params=fparams)
        out[name] = {k: v for k, v in hps.items() if v != policy.get(k)}
    return out


# ====================================================================== a scene from the options
def _from_options(args: argparse.Namespace, given: Starts | None) -> Scene:
    pts = _typed_points(args)
    fn = _function(args, pts)
    seed = 0 if args.seed is None else args.seed
    starts = given or _starts_of(args, fn, pts, seed) or default_starts(fn, seed)
    rules = rule_texts(args)
    names = optimizer_list(DEFAULT_OPTIMIZERS if args.optimizers is None else args.optimizers)
    chosen: dict[str, dict[str, float]] = {n: {} for n in (*names, *rules)}
    apply_sets(chosen, args.sets)
    return _make(
        fn, chosen, rates_of(args), starts=starts, rules=rules,
        steps=DEFAULT_STEPS if args.steps is None else args.steps, seed=seed,
        schedule=args.schedule or "constant", hooks=tuple(args.hooks),
        noise=_given_or(args, "noise", 0.0), noise_mode=_given_or(args, "noise_mode", "absolute"),
        delay=_given_or(args, "delay", 0), batch=getattr(args, "batch", None), error=args.kind or "auto",
        tol=_given_or(args, "tol", DEFAULT_TOL),
    )


def default_starts(fn: Any, seed: int = 0) -> Starts:
    """The dashboard's starts: a grid in the box (5 points in 1-D, 4 x 4 in 2-D); 16 random
    points in more dimensions (a grid there would be thousands)."""
    if fn.dim == 1:
        return Starts.grid(lessons.DEFAULT_POINTS_1D)
    if fn.dim == 2:
        return Starts.grid(lessons.DEFAULT_GRID)
    return Starts.random(lessons.DEFAULT_GRID ** 2, seed=seed)


def _given_or(args: argparse.Namespace, key: str, default: Any) -> Any:
    value = getattr(args, key, None)
    return default if value is None else value


# ====================================================================== a lesson, a scene file
def _from_lesson(args: argparse.Namespace, given: Starts | None) -> Scene:
    """The lesson's scene; --set, --steps, --seed, --schedule, --hook, --noise, --delay, --kind
    and --tol change it, the options that choose the function, optimizers or starts are refused."""
    try:
        lesson = lessons.get(args.preset)
    except KeyError as exc:
        raise CliError(exc.args[0]) from None
    clash = [flag for flag, on in (
        ("-f/--function", args.function is not None), ("-o/--optimizers", args.optimizers is not None),
        ("--dim", args.dim is not None), ("--param", bool(args.param)),
        ("--start/--grid/--random/--ring", given is None and _starts_given(args)),
        *((flag, True) for flag in _given(args, _FUNCTION_FLAGS[3:])),
    ) if on]
    if clash:
        raise CliError(
            f"--preset {lesson.name} sets the function, optimizers and starts; drop {', '.join(clash)} "
            "(--set, --steps, --seed, --schedule and --hook still apply)"
        )
    return _changed(lesson.scene, args, given, lambda exc: CliError(message(exc)))


def load_scene(path: str) -> Scene:
    """The scene file ``path``; a file that cannot be read or is not a scene is a one-line error."""
    try:
        return Scene.load(path)
    except ValueError as exc:
        msg = message(exc)
        prefix = f"{Path(path)}: "
        msg = msg[len(prefix):] if msg.startswith(prefix) else msg
        raise CliError(f"--scene {show_path(path)}: {msg}") from None


def _from_file(args: argparse.Namespace, given: Starts | None) -> Scene:
    if args.preset is not None:
        raise CliError("--scene and --preset each give a whole scene; give one (options given besides "
                       "--scene change it)")
    scene = load_scene(args.scene)

    def refused(exc: Exception) -> CliError:
        return CliError(f"--scene {show_path(args.scene)} with the options given: {message(exc)}")

    return _changed(scene, args, given, refused)


def _changed(scene: Scene, args: argparse.Namespace, given: Starts | None, refused: Any) -> Scene:
    """``scene`` changed by the options given (each one replaces what it names)."""
    pts = _typed_points(args)
    base = scene.function
    changes_dim = bool(pts) and base.name is not None and len(pts[0]) != base.dim
    fn = _function(args, pts, base) if _given(args, _FUNCTION_FLAGS) or changes_dim else None
    built = fn if fn is not None else scene.build_function()
    if pts and len(pts[0]) != built.dim:
        raise CliError(f"--start has {len(pts[0])} coordinate(s) but the scene's function is {built.dim}-D")
    seed = scene.seed if args.seed is None else args.seed
    starts = given or _starts_of(args, built, pts, seed)
    if starts is None:  # the scene's starts; computed ones are computed again on a new function
        if scene.starts.mode != "points":
            starts = scene.starts if fn is None else replace(scene.starts, points=None)
        elif len(scene.starts.points[0]) != built.dim:  # type: ignore[index]
            raise CliError(f"the scene's starting points have {len(scene.starts.points[0])} coordinate(s) "  # type: ignore[index]
                           f"but the function given is {built.dim}-D: give starts too (--start, --grid, "
                           "--random or --ring)")
        else:
            starts = scene.starts
    kept = _set_by_someone(scene)  # the rest follows the policy (on a new function, its values)
    rules = {**scene.rules, **rule_texts(args)}
    if args.optimizers is None:
        chosen = kept
    else:  # a new list: the scene's hyperparameters for the optimizers it keeps
        chosen = {n: kept.get(n, {}) for n in optimizer_list(args.optimizers)}
    for name in rule_texts(args):
        chosen.setdefault(name, {})
    apply_sets(chosen, args.sets)
    try:
        return _make(
            built, chosen, rates_of(args, scene), function=base if fn is None else None, starts=starts,
            steps=scene.steps if args.steps is None else args.steps, seed=seed,
            schedule=scene.schedule if args.schedule is None else args.schedule,
            hooks=tuple(args.hooks) if args.hooks else scene.hooks,
            noise=_given_or(args, "noise", scene.noise),
            noise_mode=_given_or(args, "noise_mode", scene.noise_mode),
            delay=_given_or(args, "delay", scene.delay), batch=_given_or(args, "batch", scene.batch),
            dtype=scene.dtype,
            error=args.kind or scene.error, tol=_given_or(args, "tol", scene.tol), rules=rules,
        )
    except ValueError as exc:
        raise refused(exc) from None


# ====================================================================== your own rules
def load_rules(args: argparse.Namespace) -> None:
    """Register the rules of each ``--rules FILE.py`` (your own Python file, run here) and each
    ``--rule-text`` (checked text, never run), before any optimizer name is read."""
    from optviz.optimizers import custom

    for path in getattr(args, "rules", None) or ():
        try:
            custom.load_file(path)
        except ValueError as exc:
            raise CliError(message(exc)) from None
    rule_texts(args)


def rule_texts(args: argparse.Namespace) -> dict[str, str]:
    """``--rule-text "NAME: TEXT"`` items, checked and registered: name -> text."""
    from optviz.optimizers import typed

    out: dict[str, str] = {}
    for item in getattr(args, "rule_text", None) or ():
        name, colon, text = item.partition(":")
        if not colon or not name.strip() or " " in name.strip() or "=" in name:
            raise CliError(f"--rule-text expects NAME: TEXT, e.g. \"SignSGD: lr = 0.01 in [1e-6, 1]; "
                           f"x = x - lr*sign(g)\"; got {_short(item)}")
        try:
            out.update(typed.register_texts({name.strip(): text.strip()}, "--rule-text"))
        except ValueError as exc:
            raise CliError(message(exc)) from None
    return out


# ====================================================================== optimizers and --set
def optimizer_list(text: str) -> tuple[str, ...]:
    """The optimizers of ``-o``: names (any case: ``adam`` is Adam), ``group:NAME`` and ``all``,
    each once, in the order given."""
    try:
        return resolve([t for t in text.split(",") if t.strip()])
    except (KeyError, ValueError) as exc:
        raise CliError(message(exc)) from None


def _split_kv(text: str, what: str, example: str) -> tuple[str, str]:
    key, eq, value = text.partition("=")
    if not eq or not key.strip() or not value.strip():
        raise CliError(f"{what} expects KEY=VALUE (e.g. {example}), got {_short(text)}")
    return key.strip(), value.strip()


def apply_sets(chosen: dict[str, dict[str, Any]], sets: Sequence[str]) -> None:
    """Apply ``--set Optimizer.param=value`` items to ``chosen`` (a new mapping the caller
    built; validated against the registry)."""
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


# ====================================================================== the function
def _numbers(text: str, what: str, example: str = "-1.5,2", noun: str = "a point") -> list[float]:
    """Numbers separated by commas (``"-1.5,2"``), or a one-line error naming ``what``."""
    items = [t for t in text.replace(" ", "").split(",")]
    if not items or any(t == "" for t in items):
        raise CliError(f"{what} expects numbers separated by commas, e.g. {example}; got {_short(text)}")
    try:
        return [parse_number(t, what) for t in items]
    except ValueError as exc:
        raise CliError(f"{exc}; write {noun} as numbers separated by commas, e.g. {example}") from None


def _params(texts: Sequence[str]) -> dict[str, float]:
    """``--param KEY=VALUE`` items as a mapping (values read as numbers)."""
    out: dict[str, float] = {}
    for text in texts:
        k, v = _split_kv(text, "--param", "kappa=1000")
        out[k] = parse_number(v, f"--param {k}")
    return out


def make_function(name: str, dim: int | None = None, params: Mapping[str, float] | None = None):
    """The registry's test function ``name``; an unknown name is a one-line error listing them."""
    fams = functions.families()
    if name not in fams:
        raise CliError(f"unknown function {_short(name)}; valid: {', '.join(fams)}")
    return functions.get(name, dim, **(params or {}))


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
        raise CliError(f"--expr: {message(exc)}") from None


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
    name = args.function if registry_given else (base.name if inherit else DEFAULT_FUNCTION)  # type: ignore[union-attr]
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
    return make_function(name, dim, params)


# ====================================================================== the starts
def _typed_points(args: argparse.Namespace) -> list[list[float]]:
    pts = [_numbers(t, "--start") for t in args.start_points or ()]
    if len({len(p) for p in pts}) > 1:
        raise CliError(f"every --start must have the same number of coordinates, got "
                       f"{sorted({len(p) for p in pts})}")
    return pts


def _starts_given(args: argparse.Namespace) -> bool:
    return any(v is not None for v in (args.start_points, args.grid, args.random, args.ring))


def _starts_of(args: argparse.Namespace, fn: Any, pts: list[list[float]], seed: int) -> Starts | None:
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

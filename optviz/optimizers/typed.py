r"""Typed update rules: a few lines of text become a rule that races like a built-in.

The text is hyperparameter declarations and assignments, one per line or separated by ``;``
(``#`` starts a comment)::

    lr = 1e-4 in [1e-6, 1]          # a hyperparameter: name = default in [low, high]
    b1 = 0.9 in [0, 0.999]
    b2 = 0.99 in [0, 0.999]
    wd = 0 in [0, 1]
    m_new = b2*m + (1 - b2)*g       # assignments, in order
    x = x - lr*(sign(b1*m + (1 - b1)*g) + wd*x)
    m = m_new

- **Hyperparameters**: ``name = default in [low, high]``, optionally followed by ``log`` (a log
  slider). ``lr``, ``eta``, ``alpha``, ``learning_rate`` and ``step_size`` are learning rates:
  schedules scale them and their sliders are logarithmic.
- **Assignments** ``name = formula`` are read in order over ``g`` (the gradient coordinate),
  ``x`` (the position coordinate), ``t`` (the step, 1, 2, ...), the hyperparameters and the names
  assigned so far. A name read before it is assigned (``m`` above) is **state**: it starts at 0
  and keeps its value from step to step (the Inside view shows it). Other names are temporaries.
  The rule must assign ``x``, its new position; a later line reads the new value.
- **Formulas** are those of typed functions (``+ - * / **`` or ``^``, numbers, ``pi``, ``e``,
  ``sqrt exp log sin cos tan tanh sinh cosh arctan abs``, ``min``/``max`` of two) plus
  ``sign(a)``, ``where(a > b, then, else)`` (comparisons ``< <= > >=`` only inside ``where``), and
  the per-point ``norm(a)`` and ``dot(a, b)`` (below).

An assignment that reads only ``t`` and hyperparameters (a bias correction) is computed once per
step, not per coordinate, as the built-ins' per-step values are.

**Look-ahead and initial state.** Two more kinds of line may come before the assignments::

    init z = x                       # state z starts at the start point (a copy of it)
    init v = 1e-6                    # ... or at a number, or a formula of hyperparameters: init v = v0
    grad_at = beta*x + (1 - beta)*z  # where the step's gradient g is taken (default: at x)

``init name = value`` gives a state field its first value (``x``, a number, or a formula of
numbers and hyperparameters, one value for every coordinate); the name must be state (read before
it is assigned, or never assigned: a constant). ``grad_at = formula`` is the point, per
coordinate, where the gradient is taken (Nesterov's look-ahead ``x + mu*d``, schedule-free
methods' interpolation); it reads ``x``, ``t``, hyperparameters and the state as the step begins,
not ``g``. Both are :class:`~optviz.optimizers.base.Maths`' ``init`` and ``grad_at``, as the
built-ins use them (NAG, Yogi, ScheduleFreeSGD).

**Safety.** The text is never run as code: each formula is parsed and checked node by node by
the typed functions' whitelist walk (:func:`functions.expression.check_formula`: length, nesting
and power towers bounded), then printed back as Python source from the checked tree alone, with
only :mod:`functions.elementwise` as its globals. Refusals name the line and the column. Nothing
here can take long (no symbolic work: a rule is checked in milliseconds); the build is still
timed, and one over :data:`BUILD_SECONDS` is refused.

**Per-point reductions.** ``norm(a)`` (``sqrt`` of the sum of ``a*a`` over the point's
coordinates) and ``dot(a, b)`` are sums over a point's coordinates, one value per point
(:attr:`optviz.optimizers.base.Maths.reduce`): ``x = x - lr*g/(norm(g) + 1e-12)`` is normalized
gradient descent, ``norm(x)/norm(g)`` a LARS trust ratio. Their arguments read the step's inputs
(``g``, ``x``, ``t``, hyperparameters, the state as the step begins), not names assigned on earlier
lines; they cannot be nested.
"""

from __future__ import annotations

import ast
import hashlib
import keyword
import linecache
import math
import re
import threading
import time
import types
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from functions import elementwise
from functions.expression import ALLOWED_FUNCTIONS, MAX_CONSTANT, MAX_EXPONENT, check_formula
from optviz.optimizers.base import PROVIDED, HyperParam, OptimizerSpec, stage
from optviz.optimizers.custom import USER, RuleError, check_name, hyperparam, rule

#: Longest rule text accepted, and most lines (declarations and assignments).
MAX_CHARS = 4000
MAX_LINES = 64
MAX_HYPERPARAMS = 16
#: A build (parse, check, source, dry run) slower than this is refused.
BUILD_SECONDS = 1.0
#: Functions a rule's formula may call (name -> number of arguments).
FUNCTIONS: dict[str, int] = {**{k: v[0] for k, v in ALLOWED_FUNCTIONS.items()}, "sign": 1, "where": 3,
                             "norm": 1, "dot": 2}
#: The per-point reductions over a point's coordinates.
REDUCTIONS = ("norm", "dot")
#: Their names in :mod:`functions.elementwise`.
_ELEMENTWISE = {"abs": "abs_", "atan": "arctan", "ln": "log", "max": "maximum", "min": "minimum"}
#: Names a rule may read besides its own.
GIVEN = {"g": "the gradient coordinate", "x": "the position coordinate", "t": "the step, 1, 2, ..."}
#: The line that says where the gradient is taken (look-ahead methods): ``grad_at = formula``.
LOOK = "grad_at"
#: Names a rule may not give its hyperparameters, state or temporaries.
RESERVED = frozenset({*GIVEN, *PROVIDED, "update", "pi", "e", "π", LOOK, "init", *FUNCTIONS,
                      *elementwise.FUNCTIONS})
_HINT = ("use numbers, g, x, t, your hyperparameters and names assigned before, + - * / **, "
         "sqrt exp log sin cos tan tanh abs sign, max/min of two, where(a > b, then, else), "
         "norm(a) and dot(a, b) over a point's coordinates")

#: What an initial value may call (one value per point: no per-point sums).
_INIT_FUNCTIONS = {k: v for k, v in FUNCTIONS.items() if k not in REDUCTIONS}
_INIT_HINT = "an initial value is x (the start), or a formula of numbers and your hyperparameters"

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_DECLARATION = re.compile(
    rf"\s*([A-Za-z]\w*)\s*=\s*({_NUMBER})\s+in\s*\[\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\]\s*(log)?\s*")
_LOOKS_DECLARED = re.compile(r"\s*[A-Za-z]\w*\s*=\s*[^\s\[]+\s+in\s*\[")
_ASSIGNMENT = re.compile(r"\s*([A-Za-z]\w*)\s*=(?!=)(.*)", re.S)
_INIT = re.compile(r"\s*init\s+([A-Za-z]\w*)\s*=(?!=)(.*)", re.S)


@dataclass(frozen=True)
class Line:
    """One statement of the text: its line number (1-based), its text and what it is."""

    number: int
    text: str


@dataclass(frozen=True)
class Parsed:
    """A checked rule text: its hyperparameters, state fields (in order of first use), the
    per-step values and the generated Python source."""

    hyperparams: tuple[HyperParam, ...]
    state: tuple[str, ...]
    per_step: tuple[str, ...]
    source: str
    sums: tuple[str, ...] = ()  # the per-point sums (norm, dot), in order: functions red0, red1, ...
    look: bool = False  # a grad_at line: function ``look`` gives the point where the gradient is taken
    init: tuple[tuple[str, float | str], ...] = ()  # state field -> a number, "w" or "formula" (init_<f>)


def _statements(text: str) -> list[Line]:
    lines: list[Line] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        body = raw.split("#", 1)[0]
        for part in body.split(";"):
            if part.strip():
                lines.append(Line(number, part.strip()))
    return lines


def _where(line: Line) -> str:
    shown = line.text if len(line.text) <= 40 else line.text[:39] + "…"
    return f"line {line.number} ({shown!r})"


def parse(text: Any) -> Parsed:
    """Check a rule text and generate its source; :class:`RuleError` names the line and column."""
    if not isinstance(text, str):
        raise RuleError(f"a typed rule must be text, got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise RuleError(f"the rule is too long: {len(text):,} characters (at most {MAX_CHARS:,})")
    if "\0" in text:
        raise RuleError("the rule contains a NUL character")
    lines = _statements(text.replace("\r", "\n"))
    if not lines:
        raise RuleError("type a rule, e.g.: lr = 0.01 in [1e-5, 1]; x = x - lr*g")
    if len(lines) > MAX_LINES:
        raise RuleError(f"the rule has {len(lines)} statements (at most {MAX_LINES})")
    hps: list[HyperParam] = []
    body: list[tuple[Line, str, str]] = []  # line, target, formula
    inits: list[tuple[Line, str, str]] = []  # line, state field, formula of its initial value
    look: tuple[Line, str] | None = None  # grad_at's line and formula
    for line in lines:
        first = _INIT.fullmatch(line.text)
        if first:
            name, formula = first.groups()
            if body:
                raise RuleError(f"{_where(line)}: give initial values (init {name} = ...) before the "
                                "assignments")
            if name == "x":
                raise RuleError(f"{_where(line)}: x starts at the start point; init gives state its "
                                "first value")
            _check_new_name(name, line, [h.name for h in hps], declared=False)
            if name in {h.name for h in hps}:
                raise RuleError(f"{_where(line)}: {name} is a hyperparameter; init gives state its "
                                "first value")
            if name in {n for _, n, _ in inits}:
                raise RuleError(f"{_where(line)}: init {name} is given twice")
            if re.search(r"\bin\s*\[", formula):
                raise RuleError(f"{_where(line)}: an initial value has no range: init {name} = 0.5, "
                                "or x (hyperparameters are declared as name = default in [low, high])")
            inits.append((line, name, formula))
            continue
        decl = _DECLARATION.fullmatch(line.text)
        if decl:
            if body:
                raise RuleError(f"{_where(line)}: declare hyperparameters before the assignments")
            name, default, low, high, log = decl.groups()
            _check_new_name(name, line, [h.name for h in hps])
            try:
                values = (float(default), float(low), float(high), *(["log"] if log else []))
                hps.append(hyperparam(name, values, owner=f"line {line.number}"))
            except (RuleError, OverflowError) as exc:
                raise RuleError(f"{_where(line)}: {exc}") from None
            continue
        if _LOOKS_DECLARED.match(line.text):
            raise RuleError(f"{_where(line)}: a hyperparameter is declared as name = default in [low, high], "
                            "e.g. lr = 0.01 in [1e-5, 1]")
        assign = _ASSIGNMENT.fullmatch(line.text)
        if not assign:
            raise RuleError(f"{_where(line)}: expected name = formula (or name = default in [low, high])")
        target, formula = assign.group(1), assign.group(2)
        if target == LOOK:
            if body:
                raise RuleError(f"{_where(line)}: {LOOK} (where the gradient is taken) comes before the "
                                "assignments")
            if look is not None:
                raise RuleError(f"{_where(line)}: {LOOK} is given twice")
            look = (line, formula)
            continue
        if target != "x":
            _check_new_name(target, line, [h.name for h in hps], declared=False)
        if target in {h.name for h in hps}:
            raise RuleError(f"{_where(line)}: {target} is a hyperparameter; it cannot be assigned")
        body.append((line, target, formula))
    if len(hps) > MAX_HYPERPARAMS:
        raise RuleError(f"the rule declares {len(hps)} hyperparameters (at most {MAX_HYPERPARAMS})")
    if not any(target == "x" for _, target, _ in body):
        raise RuleError("the rule never assigns x, the new position: e.g. x = x - lr*g")
    return _generate(hps, body, inits, look)


def _check_new_name(name: str, line: Line, hp_names: list[str], declared: bool = True) -> None:
    if name in RESERVED or keyword.iskeyword(name) or name.startswith("_"):
        what = "a function" if name in FUNCTIONS else "reserved"
        raise RuleError(f"{_where(line)}: {name!r} is {what}; choose another name")
    if declared and name in hp_names:
        raise RuleError(f"{_where(line)}: hyperparameter {name} is declared twice")


def _formula(line: Line, formula: str, readable: set[str], functions: Mapping[str, int] = FUNCTIONS,
             hint: str = _HINT) -> tuple[ast.expr, set[str]]:
    """One statement's formula checked (the whitelist walk, then :func:`_check_tree`); a refusal
    says the column in the statement."""
    try:
        tree, used = check_formula(formula, readable, functions, compare=True, hint=hint)
    except ValueError as exc:
        col = len(line.text) - len(line.text.split("=", 1)[1])  # the formula's offset in the line
        raise RuleError(f"{_where(line)}: {_shift(str(exc), col)}") from None
    _check_tree(tree, line)
    return tree, used


def _generate(hps: list[HyperParam], body: list[tuple[Line, str, str]],
              inits: list[tuple[Line, str, str]] | None = None,
              look: tuple[Line, str] | None = None) -> Parsed:
    inits = inits or []
    hp_names = [h.name for h in hps]
    assigned_all = {target for _, target, _ in body}
    init_names = {name for _, name, _ in inits}
    kept = assigned_all | init_names  # names that may be state
    counts = {target: sum(1 for _, t, _ in body if t == target) for target in assigned_all}
    readable = {"g", "x", "t", *hp_names, *kept}
    assigned: set[str] = set()
    state: list[str] = []
    per_step: list[str] = []
    steady = {"t", *hp_names}  # names that are the same for every point and coordinate
    sums: list[tuple[str, str, tuple[str, ...]]] = []  # per-point sums: name, source of the term, its args
    checked: list[tuple[Line, str, ast.expr, set[str]]] = []
    look_tree: tuple[ast.expr, set[str]] | None = None
    if look is not None:  # where the gradient is taken: read before the step, so what it reads is state
        line, formula = look
        tree, used = _formula(line, formula, readable)
        if "g" in used:
            raise RuleError(f"{_where(line)}: {LOOK} is where the gradient g is taken, so it cannot read g")
        if any(isinstance(n, ast.Call) and n.func.id in REDUCTIONS for n in ast.walk(tree)):  # type: ignore
            raise RuleError(f"{_where(line)}: {LOOK} is per coordinate: norm(...) and dot(...) are not "
                            "available there")
        state += [name for name in sorted(used) if name in kept and name != "x"]
        look_tree = (tree, used)
    for line, target, formula in body:
        tree, used = _formula(line, formula, readable)
        for name in sorted(used):
            if name in kept and name not in assigned and name not in state and name != "x":
                state.append(name)  # read before its first assignment: kept between steps
        tree, used = _reductions(tree, used, line, assigned - set(per_step), sums)
        if (target not in state and target != "x" and counts[target] == 1 and used <= steady
                and not any(u.startswith("_r") for u in used)):
            per_step.append(target)
            steady.add(target)
        checked.append((line, target, tree, used))
        assigned.add(target)
    first: list[tuple[str, float | str, ast.expr | None, set[str]]] = []
    for line, name, formula in inits:
        if name not in state:
            why = "is assigned before it is read" if name in assigned_all else "is never read"
            raise RuleError(f"{_where(line)}: {name} {why}, so it is not kept between steps; init gives "
                            "state (a name read before it is assigned) its first value")
        tree, used = _formula(line, formula, {"x", *hp_names}, _INIT_FUNCTIONS, _INIT_HINT)
        if isinstance(tree, ast.Name) and tree.id == "x":
            first.append((name, "w", None, set()))
        elif "x" in used:
            raise RuleError(f"{_where(line)}: an initial value is x itself, or a formula of numbers and "
                            "hyperparameters (one value for every coordinate)")
        elif isinstance(tree, ast.Constant) or (isinstance(tree, ast.UnaryOp) and isinstance(tree.operand,
                                                                                             ast.Constant)):
            value = float(tree.operand.value if isinstance(tree, ast.UnaryOp) else tree.value)
            first.append((name, -value if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.USub)
                          else value, None, set()))
        else:
            first.append((name, "formula", tree, used))
    source = _source(hp_names, state, per_step, checked, sums, look_tree, first)
    return Parsed(tuple(hps), tuple(state), tuple(per_step), source, tuple(n for n, *_ in sums),
                  look_tree is not None, tuple((name, value) for name, value, *_ in first))


def _reductions(tree: ast.expr, used: set[str], line: Line, changed: set[str],
                sums: list[tuple[str, str, tuple[str, ...]]]) -> tuple[ast.expr, set[str]]:
    """``norm(a)`` and ``dot(a, b)`` become per-point sums over the coordinates (``sums`` gets each
    one's name and the source of its term); their arguments read the step's inputs only."""
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and n.func.id in REDUCTIONS]  # type: ignore
    if not calls:
        return tree, used
    for call in calls:
        inner = [n for a in call.args for n in ast.walk(a) if isinstance(n, ast.Call)
                 and n.func.id in REDUCTIONS]  # type: ignore[attr-defined]
        if inner:
            raise RuleError(f"{_where(line)}: norm(...) and dot(...) cannot be nested")
        reads = {n.id for a in call.args for n in ast.walk(a) if isinstance(n, ast.Name)} - set(_CONST)
        late = sorted(reads & changed)
        if late:
            what = call.func.id  # type: ignore[attr-defined]
            raise RuleError(f"{_where(line)}: {what}(...) reads {late[0]}, assigned on an earlier line; norm "
                            "and dot read g, x, t, hyperparameters and the state as the step begins")
    names = {"x": "w"}

    class Replace(ast.NodeTransformer):
        def visit_Call(self, node: ast.Call) -> ast.AST:
            if node.func.id not in REDUCTIONS:  # type: ignore[attr-defined]
                return self.generic_visit(node)
            key = f"_r{len(sums)}"
            a = _print(node.args[0], names)[0]
            b = a if node.func.id == "norm" else _print(node.args[1], names)[0]  # type: ignore[attr-defined]
            reads = {n.id for x in node.args for n in ast.walk(x) if isinstance(n, ast.Name)} - set(_CONST)
            sums.append((key, f"({a}) * ({b})", tuple(sorted(names.get(r, r) for r in reads))))
            total = ast.Name(id=key, ctx=ast.Load())
            if node.func.id == "norm":  # type: ignore[attr-defined]
                return ast.Call(func=ast.Name(id="sqrt", ctx=ast.Load()), args=[total], keywords=[])
            return total

    before = len(sums)
    tree = Replace().visit(tree)
    return tree, used | {key for key, *_ in sums[before:]}


def _shift(message: str, offset: int) -> str:
    """``... at column N`` of the formula -> of the statement."""
    m = re.search(r" at column (\d+)", message)
    if not m:
        return message
    return message[:m.start()] + f" at column {int(m.group(1)) + offset}" + message[m.end():]


def _check_tree(tree: ast.expr, line: Line) -> None:
    """What the printer needs beyond the whitelist: bounded literals, comparisons only in ``where``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            try:
                value = float(node.value)
            except OverflowError:
                value = math.inf
            if not math.isfinite(value) or abs(value) > MAX_CONSTANT:
                raise RuleError(f"{_where(line)}: the number at column {node.col_offset + 1} of the formula "
                                f"is too large (beyond {MAX_CONSTANT:g})")
        elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)
              and isinstance(node.right, ast.Constant)):
            if abs(float(node.right.value)) > MAX_EXPONENT:
                raise RuleError(f"{_where(line)}: the exponent at column {node.right.col_offset + 1} of the "
                                f"formula is too large (at most {MAX_EXPONENT})")
        elif isinstance(node, ast.Call) and node.func.id == "where":  # type: ignore[attr-defined]
            if not isinstance(node.args[0], ast.Compare):
                raise RuleError(f"{_where(line)}: where's first argument is a comparison, "
                                "e.g. where(g > 0, a, b)")
    allowed = {id(n.args[0]) for n in ast.walk(tree)
               if isinstance(n, ast.Call) and n.func.id == "where"}  # type: ignore[attr-defined]
    if any(isinstance(n, ast.Compare) and id(n) not in allowed for n in ast.walk(tree)):
        raise RuleError(f"{_where(line)}: a comparison may only be where's first argument, "
                        "e.g. where(g > 0, a, b)")


# ---------------------------------------------------------------------- checked tree -> source
_PREC = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.Pow: 4}
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
        ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_CONST = {"pi": repr(math.pi), "π": repr(math.pi), "e": repr(math.e)}


def _print(node: ast.expr, names: dict[str, str]) -> tuple[str, int]:
    """Python source of a checked tree, with exactly its grouping (so the same rounding)."""
    if isinstance(node, ast.Constant):
        v = node.value
        return (repr(int(v)) if isinstance(v, int) else repr(float(v))), 5
    if isinstance(node, ast.Name):
        return names.get(node.id, _CONST.get(node.id, node.id)), 5
    if isinstance(node, ast.UnaryOp):
        inner, p = _print(node.operand, names)
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        return f"{sign}({inner})" if p < 3 else f"{sign}{inner}", 3
    if isinstance(node, ast.BinOp):
        p = _PREC[type(node.op)]
        left, lp = _print(node.left, names)
        right, rp = _print(node.right, names)
        if p == 4:
            left = f"({left})" if lp <= 4 else left
            right = f"({right})" if rp < 3 else right
        else:
            left = f"({left})" if lp < p else left
            right = f"({right})" if rp <= p else right
        return f"{left} {_OPS[type(node.op)]} {right}", p
    if isinstance(node, ast.Compare):
        left, _ = _print(node.left, names)
        right, _ = _print(node.comparators[0], names)
        return f"{left} {_OPS[type(node.ops[0])]} {right}", 0
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    fn = _ELEMENTWISE.get(node.func.id, node.func.id)
    return f"{fn}({', '.join(_print(a, names)[0] for a in node.args)})", 5


def _source(hp_names: list[str], state: list[str], per_step: list[str],
            checked: list[tuple[Line, str, ast.expr, set[str]]],
            sums: list[tuple[str, str, tuple[str, ...]]],
            look: tuple[ast.expr, set[str]] | None = None,
            first: list[tuple[str, float | str, ast.expr | None, set[str]]] | None = None) -> str:
    names = {"x": "w"}
    out = ["# generated by optviz.optimizers.typed from a checked rule text", ""]
    if look is not None:
        tree, used = look
        out += [f"def look({', '.join(sorted(names.get(u, u) for u in used))}):",
                f"    return {_print(tree, names)[0]}", ""]
    for name, value, tree, used in first or []:
        if value == "formula":
            assert tree is not None
            out += [f"def init_{name}({', '.join(sorted(used))}):",
                    f"    return {_print(tree, names)[0]}", ""]
    for k, (_, term, args) in enumerate(sums):
        out += [f"def red{k}({', '.join(args)}):", f"    return {term}", ""]
    for k, (_, _target, tree, used) in enumerate(c for c in checked if c[1] in per_step):
        out += [f"def step{k}({', '.join(sorted(used))}):", f"    return {_print(tree, names)[0]}", ""]
    coord = [c for c in checked if c[1] not in per_step]
    reads = set()
    for *_, used in coord:
        reads |= used
    args = ["g", "w", *state]
    args += [n for n in (*hp_names, *per_step, "t", *(key for key, *_ in sums)) if n in reads]
    lines = ["    _w0 = w"]
    x_assigns = [i for i, c in enumerate(coord) if c[1] == "x"]
    last_x = x_assigns[-1]
    exact = False
    for i, (_, target, tree, _used) in enumerate(coord):
        text = _print(tree, names)[0]
        if (i == last_x and len(x_assigns) == 1 and isinstance(tree, ast.BinOp)
                and isinstance(tree.op, ast.Add | ast.Sub) and isinstance(tree.left, ast.Name)
                and tree.left.id == "x"):
            step, p = _print(tree.right, names)
            if isinstance(tree.op, ast.Sub):
                step = f"-({step})" if p < 5 else f"-{step}"
            lines += [f"    _u = {step}", "    w = _w0 + _u"]
            exact = True
        else:
            lines.append(f"    {names.get(target, target)} = {text}")
    if not exact:
        lines.append("    _u = w - _w0")
    out += [f"def coord({', '.join(args)}):", *lines, f"    return {', '.join(['_u', *state])}", ""]
    return "\n".join(out)


# ---------------------------------------------------------------------- building and registering
@dataclass(frozen=True)
class Built:
    """A compiled rule text: its parse and its stage functions."""

    parsed: Parsed
    coord: types.FunctionType
    steps: tuple[types.FunctionType, ...]
    sums: tuple[types.FunctionType, ...] = ()
    look: types.FunctionType | None = None  # where the gradient is taken (grad_at)
    inits: tuple[tuple[str, float | str | types.FunctionType], ...] = ()  # state field -> its first value


_CACHE: OrderedDict[str, Built | str] = OrderedDict()
_CACHE_SIZE = 256
_LOCK = threading.Lock()


def build(text: Any) -> Built:
    """The rule text checked and compiled (cached; a refusal is remembered too)."""
    key = text if isinstance(text, str) else None
    with _LOCK:
        hit = _CACHE.get(key) if key is not None else None
    if isinstance(hit, str):
        raise RuleError(hit)
    if hit is not None:
        return hit
    start = time.perf_counter()
    try:
        parsed = parse(text)
        built = _compile(parsed, text)
        if time.perf_counter() - start > BUILD_SECONDS:
            raise RuleError(f"the rule took longer than {BUILD_SECONDS:g} s to build; simplify it")
    except RuleError as exc:
        if key is not None:
            _remember(key, str(exc))
        raise
    _remember(key, built)  # type: ignore[arg-type]
    return built


def _remember(key: str, value: Built | str) -> None:
    with _LOCK:
        _CACHE[key] = value
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)


def _compile(parsed: Parsed, text: str) -> Built:
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    filename = f"<typed rule {digest}>"
    scope: dict[str, Any] = {"__builtins__": {}, **elementwise.FUNCTIONS}
    try:
        code = compile(parsed.source, filename, "exec")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        raise RuleError("the rule is too deeply nested to compile; simplify it") from None
    exec(code, scope)  # generated text: arithmetic, literals, elementwise names (see the module docstring)
    linecache.cache[filename] = (len(parsed.source), None, parsed.source.splitlines(True), filename)

    def own(name: str) -> types.FunctionType:
        fn = scope[name]
        return types.FunctionType(fn.__code__, {"__builtins__": {}, **elementwise.FUNCTIONS}, name)

    coord = own("coord")
    coord.__qualname__ = f"typed_{digest}.coord"
    coord.__doc__ = "Typed rule (generated from this text):\n\n" + "\n".join(
        "    " + ln for ln in text.strip().splitlines())
    steps = tuple(own(f"step{k}") for k in range(len(parsed.per_step)))
    sums = tuple(own(f"red{k}") for k in range(len(parsed.sums)))
    for k, fn in enumerate(steps):
        fn.__qualname__ = f"typed_{digest}.step{k}"
    look = own("look") if parsed.look else None
    inits = tuple((f, own(f"init_{f}") if v == "formula" else v) for f, v in parsed.init)
    return Built(parsed, coord, steps, sums, look, inits)


#: Typed rules registered, name -> text.
TEXTS: dict[str, str] = {}


def register_text(name: str, text: Any) -> OptimizerSpec:
    """Register (or re-register) the typed rule ``name`` from its text; return its spec."""
    name = check_name(name)
    if name in USER and USER[name] != "typed":
        raise RuleError(f"rule name {name!r}: a Python rule has this name")
    try:
        built = build(text)
    except RuleError as exc:
        raise RuleError(f"{name}: {exc}") from None
    from optviz.optimizers.base import REGISTRY

    if TEXTS.get(name) == text and name in REGISTRY:
        return REGISTRY[name]
    p = built.parsed
    first = dict(built.inits)
    spec = rule(
        name, built.coord, state={f: first.get(f, 0.0) for f in p.state}, hyperparams=list(p.hyperparams),
        grad_at=built.look,
        per_step=tuple(stage(fn, out) for fn, out in zip(built.steps, p.per_step, strict=True)),
        reduce=tuple(stage(fn, out) for fn, out in zip(built.sums, p.sums, strict=True)),
        summary="typed rule: " + " ".join(text.split())[:100], reference="typed rule", kind="typed",
    )
    TEXTS[name] = text
    return spec


def text_of(name: str) -> str | None:
    """The text of typed rule ``name`` (None: not a typed rule)."""
    return TEXTS.get(name) if USER.get(name) == "typed" else None


#: Examples for the page and the docs: name -> text.
EXAMPLES: dict[str, str] = {
    "MyLion": (
        "lr = 1e-4 in [1e-6, 1]\nb1 = 0.9 in [0, 0.999]\nb2 = 0.99 in [0, 0.999]\nwd = 0 in [0, 1]\n"
        "m_new = b2*m + (1 - b2)*g\nx = x - lr*(sign(b1*m + (1 - b1)*g) + wd*x)\nm = m_new"
    ),
    "SignSGD": "lr = 0.01 in [1e-6, 1]\nx = x - lr*sign(g)",
    "AdamMax": (
        "alpha = 1e-3 in [1e-7, 10]\nbeta1 = 0.9 in [0, 0.99999]\nbeta2 = 0.999 in [0, 0.99999]\n"
        "eps = 1e-8 in [0, 1] log\n"
        "a = alpha*sqrt(1 - beta2**t)/(1 - beta1**t)   # once per step\n"
        "m = beta1*m + (1 - beta1)*g\nv = beta2*v + (1 - beta2)*g*g\n"
        "vmax = max(vmax, v)   # AMSGrad's running maximum\n"
        "x = x - a*m/sqrt(vmax + eps)"
    ),
    "MyNesterov": (
        "eta = 0.01 in [1e-7, 10]\nmu = 0.9 in [0, 0.99999]\n"
        "grad_at = x + mu*d   # the look-ahead: g is the gradient where momentum carries x\n"
        "d = mu*d - (1 - mu)*eta*g\nx = x + d"
    ),
    "MyScheduleFree": (
        "lr = 0.01 in [1e-7, 10]\nbeta = 0.9 in [0, 0.99999]\n"
        "init z = x   # z starts at the start (other state starts at 0)\n"
        "grad_at = beta*x + (1 - beta)*z   # the gradient is taken between x and z\n"
        "z = z - lr*g   # SGD steps on z\n"
        "x = x + (z - x)/t   # the point shown: the running average of the z's"
    ),
}



#: Most typed rules one scene may carry.
MAX_RULES = 8


def register_texts(rules: Any, path: str = "rules") -> dict[str, str]:
    """Check and register a scene's typed rules (name -> text); return them as plain data.

    Raises:
        ValueError: naming ``rules.<name>`` and, for a refused text, its line and column.
    """
    if rules is None:
        return {}
    if not isinstance(rules, dict | Mapping):
        raise ValueError(f"{path}: expected an object (rule name: rule text), got {type(rules).__name__}")
    if len(rules) > MAX_RULES:
        raise ValueError(f"{path}: at most {MAX_RULES} typed rules, got {len(rules)}")
    out: dict[str, str] = {}
    for name, text in rules.items():
        if not isinstance(name, str):
            raise ValueError(f"{path}: rule names must be text, got {name!r}"[:120])
        if not isinstance(text, str):
            raise ValueError(f"{path}.{name[:40]}: expected the rule's text, got {type(text).__name__}")
        try:
            spec = register_text(name, text)
        except RuleError as exc:
            msg = str(exc)
            msg = msg[len(name) + 2:] if msg.startswith(f"{name.strip()}: ") else msg
            raise ValueError(f"{path}.{name.strip()[:40]}: {msg}") from None
        out[spec.name] = text
    return out


__all__ = [
    "EXAMPLES", "FUNCTIONS", "MAX_CHARS", "MAX_RULES", "Parsed", "build", "parse", "register_text",
    "register_texts", "text_of",
]

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
#: Names a rule may not give its hyperparameters, state or temporaries.
RESERVED = frozenset({*GIVEN, *PROVIDED, "update", "pi", "e", "π", *FUNCTIONS, *elementwise.FUNCTIONS})
_HINT = ("use numbers, g, x, t, your hyperparameters and names assigned before, + - * / **, "
         "sqrt exp log sin cos tan tanh abs sign, max/min of two, where(a > b, then, else), "
         "norm(a) and dot(a, b) over a point's coordinates")

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_DECLARATION = re.compile(
    rf"\s*([A-Za-z]\w*)\s*=\s*({_NUMBER})\s+in\s*\[\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\]\s*(log)?\s*")
_LOOKS_DECLARED = re.compile(r"\s*[A-Za-z]\w*\s*=\s*[^\s\[]+\s+in\s*\[")
_ASSIGNMENT = re.compile(r"\s*([A-Za-z]\w*)\s*=(?!=)(.*)", re.S)


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
    for line in lines:
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
        if target != "x":
            _check_new_name(target, line, [h.name for h in hps], declared=False)
        if target in {h.name for h in hps}:
            raise RuleError(f"{_where(line)}: {target} is a hyperparameter; it cannot be assigned")
        body.append((line, target, formula))
    if len(hps) > MAX_HYPERPARAMS:
        raise RuleError(f"the rule declares {len(hps)} hyperparameters (at most {MAX_HYPERPARAMS})")
    if not any(target == "x" for _, target, _ in body):
        raise RuleError("the rule never assigns x, the new position: e.g. x = x - lr*g")
    return _generate(hps, body)


def _check_new_name(name: str, line: Line, hp_names: list[str], declared: bool = True) -> None:
    if name in RESERVED or keyword.iskeyword(name) or name.startswith("_"):
        what = "a function" if name in FUNCTIONS else "reserved"
        raise RuleError(f"{_where(line)}: {name!r} is {what}; choose another name")
    if declared and name in hp_names:
        raise RuleError(f"{_where(line)}: hyperparameter {name} is declared twice")


def _generate(hps: list[HyperParam], body: list[tuple[Line, str, str]]) -> Parsed:
    hp_names = [h.name for h in hps]
    assigned_all = {target for _, target, _ in body}
    counts = {target: sum(1 for _, t, _ in body if t == target) for target in assigned_all}
    readable = {"g", "x", "t", *hp_names, *assigned_all}
    assigned: set[str] = set()
    state: list[str] = []
    per_step: list[str] = []
    steady = {"t", *hp_names}  # names that are the same for every point and coordinate
    sums: list[tuple[str, str, tuple[str, ...]]] = []  # per-point sums: name, source of the term, its args
    checked: list[tuple[Line, str, ast.expr, set[str]]] = []
    for line, target, formula in body:
        try:
            tree, used = check_formula(formula, readable, FUNCTIONS, compare=True, hint=_HINT)
        except ValueError as exc:
            col = len(line.text) - len(line.text.split("=", 1)[1])  # the formula's offset in the line
            raise RuleError(f"{_where(line)}: {_shift(str(exc), col)}") from None
        _check_tree(tree, line)
        for name in sorted(used):
            if name in assigned_all and name not in assigned and name not in state and name != "x":
                state.append(name)  # read before its first assignment: kept between steps
        tree, used = _reductions(tree, used, line, assigned - set(per_step), sums)
        if (target not in state and target != "x" and counts[target] == 1 and used <= steady
                and not any(u.startswith("_r") for u in used)):
            per_step.append(target)
            steady.add(target)
        checked.append((line, target, tree, used))
        assigned.add(target)
    source = _source(hp_names, state, per_step, checked, sums)
    return Parsed(tuple(hps), tuple(state), tuple(per_step), source, tuple(n for n, *_ in sums))


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
            sums: list[tuple[str, str, tuple[str, ...]]]) -> str:
    names = {"x": "w"}
    out = ["# generated by optviz.optimizers.typed from a checked rule text", ""]
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
    return Built(parsed, coord, steps, sums)


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
    spec = rule(
        name, built.coord, state=p.state, hyperparams=list(p.hyperparams),
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

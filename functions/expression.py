"""Typed test functions: ``from_expression("(1 - x)**2 + 100*(y - x**2)**2", box=...)``.

A user's text becomes a :class:`~functions.base.TestFunction` that behaves like a built-in one:

1. **Parsed safely.** ``ast.parse(text, mode="eval")`` and a walk over the tree that accepts
   only numbers, the variables ``x`` (and ``y``), the constants ``pi`` and ``e``, ``+ - * /``,
   ``**`` (``^`` is read as ``**``), unary ``-``/``+`` and calls of the functions in
   :data:`ALLOWED_FUNCTIONS`. Anything else is refused with a :class:`ValueError` that names it
   and gives its column. Length, nesting depth, literal exponents and the size of constants are
   bounded before SymPy sees anything, and the build has a deadline (5.), so no input can make
   it hang. Nothing is ``eval``-ed
   and SymPy never parses text: the SymPy expression is built node by node.
2. **Differentiated symbolically** (SymPy), with a bound on the size of the result.
3. **Compiled through generated source text**: a small printer writes ``value(x, y)`` and
   ``grad(x, y)`` using only arithmetic, float literals, the coordinates and the functions
   of :mod:`functions.elementwise` (bound as the code's only globals), so the same two
   functions run on NumPy, CuPy and ``array_api_strict`` arrays, on plain floats, and inside
   optviz's compiled kernels (:class:`~functions.base.PointForm`).
4. **Checked over its box** on a grid (the value and the gradient must be finite), and, when
   no minimizer is given, its global minimizers are **estimated** (a dense grid, zooming in
   on the grid's local minima, then Newton steps on the analytic gradient) and marked so.

5. **Built in a worker process under a deadline** (:data:`BUILD_SECONDS`, 1 s): steps 2-4 run
   in a process forked from a fork server that imported SymPy once (:mod:`functions._worker`);
   past the deadline the process is killed and the text refused ("... took longer than 1 s
   to build; simplify it"). Built functions and refusals are both remembered, so a reload is
   answered at once; no lock is held around a build, so a plain formula never waits for a
   slow one. ``max``/``min``/``abs`` are nodes of :mod:`functions._symbolic` that SymPy never
   compares or flattens (its own ``Max`` spent 17-62 s on 20 nested calls).

SymPy is imported on the first build only, and in the workers: ``import functions`` stays fast.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import hashlib
import linecache
import math
import os
import threading
import types
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import elementwise
from .base import PointForm, TestFunction, array_form

#: Longest text accepted.
MAX_CHARS = 1000
#: Deepest nesting accepted: each function call, power, unary sign, or bracketed sum or
#: product inside another counts one level (a flat sum or product of many terms is one).
MAX_DEPTH = 32
#: Deepest nesting of powers inside powers (``((x**2 + 1)**2 + 1)**2`` is 3): SymPy's work on a
#: tower like ``x**x**x**...`` grows fast with its height.
MAX_POWER_NESTING = 8
#: Largest absolute value of a constant exponent.
MAX_EXPONENT = 1000
#: Largest absolute value of any constant (a literal, or one computed from literals).
MAX_CONSTANT = 1e300
#: Largest number of nodes of the value and its gradient together (SymPy's tree).
MAX_NODES = 10_000
#: Most minimizers that may be given.
MAX_MINIMIZERS = 1000
#: The variables, in coordinate order.
VARIABLES = ("x", "y")
#: Grid points per axis of the finiteness check and of the minimizer search (even, so that
#: the grid does not contain the box's centre, where kinks like sqrt(x**2 + y**2) often are).
GRID = {1: 4096, 2: 256}

#: Allowed function name -> (number of arguments, SymPy function name).
ALLOWED_FUNCTIONS: dict[str, tuple[int, str]] = {
    "sin": (1, "sin"), "cos": (1, "cos"), "tan": (1, "tan"), "exp": (1, "exp"), "log": (1, "log"),
    "sqrt": (1, "sqrt"), "abs": (1, "Abs"), "tanh": (1, "tanh"), "sinh": (1, "sinh"),
    "cosh": (1, "cosh"), "arctan": (1, "atan"), "min": (2, "Min"), "max": (2, "Max"),
    "atan": (1, "atan"), "ln": (1, "log"),
}  # fmt: skip
#: Named constants.
CONSTANTS = {"pi": math.pi, "π": math.pi, "e": math.e}

_FLOAT_FUNCTIONS: dict[str, Callable[..., float]] = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp, "log": math.log,
    "sqrt": math.sqrt, "abs": abs, "tanh": math.tanh, "sinh": math.sinh, "cosh": math.cosh,
    "arctan": math.atan, "atan": math.atan, "ln": math.log, "min": min, "max": max,
}  # fmt: skip

_HELP = (
    "use numbers, x (and y for a 2-D function), pi, e, + - * / ** and the functions "
    + ", ".join(sorted({*ALLOWED_FUNCTIONS} - {"atan", "ln"}))
    + " (min and max of two)"
)


class _Refused(ValueError):
    """A refusal with the (0-based, normalized-text) position it points at and, optionally,
    a hint of what is allowed (printed after the position)."""

    def __init__(self, message: str, pos: int | None = None, hint: str = ""):
        super().__init__(message)
        self.pos, self.hint = pos, hint

    def text(self, t: _Text) -> str:
        return f"{self}{t.column(self.pos)}" + (f"; {self.hint}" if self.hint else "")


# ---------------------------------------------------------------------- 1. text -> checked AST
@dataclass(frozen=True)
class _Text:
    """The typed text, its normalized form (what ``ast`` parses) and the map between them."""

    original: str
    normalized: str
    origin: tuple[int, ...]  # normalized character index -> original character index

    def column(self, pos: int | None) -> str:
        """`` at column N`` (1-based, in the original text) for a normalized index, or ``""``."""
        if pos is None:
            return ""
        pos = min(max(pos, 0), len(self.origin) - 1) if self.origin else 0
        return f" at column {self.origin[pos] + 1 if self.origin else 1}"


_REPLACE = {"−": "-", "×": "*", "·": "*", "÷": "/", "^": "**", "\t": " ", "\n": " ", "\r": " "}


def _normalize(text: str) -> _Text:
    """Read ``^`` as ``**`` and the typographic ``− × · ÷`` as ``- * * /``, keeping positions."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        rep = _REPLACE.get(ch, ch)
        out.append(rep)
        origin.extend([i] * len(rep))
    origin.append(len(text))  # one past the end, for errors at the end of the text
    return _Text(text, "".join(out), tuple(origin))


def _char_pos(text: str, line_offset: int) -> int:
    """``ast`` positions are UTF-8 byte offsets; return the character index."""
    return len(text.encode("utf-8")[:line_offset].decode("utf-8", errors="ignore"))


def _syntax_message(err: SyntaxError) -> str:
    msg = err.msg or "invalid syntax"
    if "decimal literal" in msg:
        return "invalid number (write 2*x for 2 times x)"
    if msg.startswith("invalid syntax"):
        return "invalid syntax (a missing operator? write 2*x or x*y for products)"
    if "nested parentheses" in msg:
        return "too many nested brackets"
    return msg


def _parse(text: Any) -> tuple[_Text, ast.expr]:
    """Check the text's type and length, normalize it and parse it (nothing is evaluated)."""
    if not isinstance(text, str):
        raise ValueError(f"the expression must be text, got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ValueError(f"the expression is too long: {len(text):,} characters (at most {MAX_CHARS:,})")
    if not text.strip():
        raise ValueError(
            "type a function of x (and y for a 2-D function), e.g. (1 - x)**2 + 100*(y - x**2)**2"
        )
    if "\0" in text:
        raise ValueError("the expression contains a NUL character")
    t = _normalize(text)
    try:
        tree = ast.parse(t.normalized.strip(), mode="eval")
    except SyntaxError as err:
        lead = len(t.normalized) - len(t.normalized.lstrip())
        # Python gives offset 0 for an error at the end of the text ("x**"): point one past its end
        pos = lead + (err.offset - 1 if err.offset else len(t.normalized.strip()))
        why = _syntax_message(err) if err.offset else "it ends too early (nothing after an operator?)"
        raise ValueError(f"syntax error{t.column(pos)}: {why}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ValueError(f"the expression is nested too deeply (at most {MAX_DEPTH} levels)") from None
    return t, tree.body


_ADD_OPS = (ast.Add, ast.Sub)
_MUL_OPS = (ast.Mult, ast.Div)
_REFUSED_NAMES: dict[type, str] = {
    ast.Attribute: "attribute access (.)", ast.Subscript: "subscripts ([...])",
    ast.Lambda: "lambda", ast.ListComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions", ast.GeneratorExp: "comprehensions", ast.Compare: "comparisons",
    ast.BoolOp: "and/or", ast.IfExp: "if/else", ast.NamedExpr: "assignment (:=)",
    ast.Tuple: "a tuple (a comma: the function must give one number)", ast.List: "lists",
    ast.Dict: "dictionaries", ast.Set: "sets", ast.JoinedStr: "text (strings)",
    ast.Starred: "starred arguments", ast.Await: "await", ast.Yield: "yield",
    ast.YieldFrom: "yield", ast.Slice: "slices",
}  # fmt: skip
_REFUSED_OPS: dict[type, str] = {
    ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
    ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>", ast.Not: "not", ast.Invert: "~",
}  # fmt: skip


def _family(node: ast.AST) -> tuple | None:
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, _ADD_OPS):
            return _ADD_OPS
        if isinstance(node.op, _MUL_OPS):
            return _MUL_OPS
    return None


def _describe(node: ast.AST) -> str:
    for kind, what in _REFUSED_NAMES.items():
        if isinstance(node, kind):
            return what
    return type(node).__name__


def _check_tree(t: _Text, root: ast.expr, variables: Collection[str] = VARIABLES,
                functions: Mapping[str, int] | None = None, compare: bool = False,
                hint: str = _HELP) -> set[str]:
    """Walk the whole tree without recursion: refuse every node outside the whitelist and
    nesting deeper than :data:`MAX_DEPTH`. Returns the variables used. ``variables``,
    ``functions`` (name -> number of arguments) and ``compare`` (comparisons allowed) widen the
    whitelist for :func:`check_formula`."""
    arities = {k: v[0] for k, v in ALLOWED_FUNCTIONS.items()} if functions is None else functions
    used: set[str] = set()
    stack: list[tuple[ast.AST, int, int]] = [(root, 0, 0)]  # node, depth, powers around it
    while stack:
        node, depth, pows = stack.pop()
        pos = _char_pos(t.normalized.strip(), getattr(node, "col_offset", 0))
        pos += len(t.normalized) - len(t.normalized.lstrip())
        if depth > MAX_DEPTH:
            raise _Refused(f"the expression is nested too deeply (at most {MAX_DEPTH} levels)", pos)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                kind = "text (strings)" if isinstance(node.value, str | bytes) else repr(node.value)
                if isinstance(node.value, complex):
                    kind = "complex numbers"
                raise _Refused(f"{kind} not allowed", pos, _HELP)
        elif isinstance(node, ast.Name):
            if node.id in variables:
                used.add(node.id)
            elif node.id not in CONSTANTS:
                if node.id in arities:
                    raise _Refused(f"{node.id} is a function: write {node.id}(...)", pos)
                near = _did_you_mean(node.id, [*variables, *CONSTANTS, *arities])
                raise _Refused(f"unknown name {_clip(node.id, 40)!r}{near}", pos, hint)
        elif isinstance(node, ast.BinOp):
            if not isinstance(node.op, (*_ADD_OPS, *_MUL_OPS, ast.Pow)):
                raise _Refused(
                    f"the operator {_REFUSED_OPS.get(type(node.op), '?')} is not allowed", pos, _HELP
                )
            fam = _family(node)
            same = fam is not None and _family(node.left) is fam
            if isinstance(node.op, ast.Pow):
                pows += 1
                if pows > MAX_POWER_NESTING:
                    raise _Refused(f"powers are nested too deeply (at most {MAX_POWER_NESTING} levels)", pos)
            stack.append((node.left, depth if same else depth + 1, pows))
            stack.append((node.right, depth + 1, pows))
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub | ast.UAdd):
                raise _Refused(
                    f"the operator {_REFUSED_OPS.get(type(node.op), '?')} is not allowed", pos, _HELP
                )
            stack.append((node.operand, depth + 1, pows))
        elif compare and isinstance(node, ast.Compare):
            if len(node.ops) != 1 or not isinstance(node.ops[0], ast.Lt | ast.LtE | ast.Gt | ast.GtE):
                raise _Refused("a comparison is one of a < b, a <= b, a > b, a >= b", pos, hint)
            stack.extend(((node.left, depth + 1, pows), (node.comparators[0], depth + 1, pows)))
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                what = _describe(node.func)
                raise _Refused(f"only the listed functions may be called ({what} is not allowed)", pos, hint)
            name = node.func.id
            if name in variables or name in CONSTANTS:
                raise _Refused(f"{name} is not a function (write {name}*(...) for a product)", pos)
            if name not in arities:
                near = _did_you_mean(name, [*variables, *CONSTANTS, *arities])
                raise _Refused(f"unknown function {_clip(name, 40)!r}{near}", pos, hint)
            if node.keywords:
                raise _Refused(f"{name}: keyword arguments are not allowed", pos)
            arity = arities[name]
            if len(node.args) != arity:
                plural = "s" * (arity != 1)
                raise _Refused(f"{name} takes {arity} argument{plural}, got {len(node.args)}", pos)
            stack.extend((a, depth + 1, pows) for a in node.args)
        else:
            raise _Refused(f"{_describe(node)} not allowed", pos, hint)
    return used


def _did_you_mean(name: str, names: Sequence[str] | None = None) -> str:
    if len(name) > 40:
        return ""
    known = [*VARIABLES, *CONSTANTS, *ALLOWED_FUNCTIONS] if names is None else list(names)
    close = difflib.get_close_matches(name.lower(), known, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def check_formula(text: str, variables: Collection[str], functions: Mapping[str, int], *,
                  compare: bool = False, hint: str = "") -> tuple[ast.expr, set[str]]:
    """Parse and check one formula over other names and functions than a test function's (an
    update rule's typed text, :mod:`optviz.optimizers.typed`), with the same whitelist walk and
    bounds (length, nesting, power towers): nothing is evaluated.

    Args:
        text: the formula.
        variables: the names it may read (``pi`` and ``e`` are constants).
        functions: the functions it may call, name -> number of arguments.
        compare: whether single comparisons (``a < b``, ``<=``, ``>``, ``>=``) are allowed.
        hint: what is allowed, said after a refusal.

    Returns:
        The checked tree (of the text with ``^`` read as ``**``) and the names it reads.

    Raises:
        ValueError: the reason, and the column where it applies.
    """
    t, tree = _parse(text)
    try:
        used = _check_tree(t, tree, variables, functions, compare, hint)
    except _Refused as err:
        raise ValueError(err.text(t)) from None
    return tree, used


# ---------------------------------------------------------------------- 2. checked AST -> SymPy
def _pos(t: _Text, node: ast.AST) -> int:
    stripped = t.normalized.strip()
    lead = len(t.normalized) - len(t.normalized.lstrip())
    return lead + _char_pos(stripped, getattr(node, "col_offset", 0))


class _Builder:
    """Builds the SymPy expression from a checked tree, and a float for every constant part.

    Each visit returns ``(sympy_expr, const)`` where ``const`` is the subtree's value as a
    float when it has no variables (else ``None``). Constants are checked *before* SymPy
    combines them: an exponent beyond :data:`MAX_EXPONENT` or a constant beyond
    :data:`MAX_CONSTANT` is refused, so SymPy never computes a huge exact number.
    With ``sp=None`` it is a dry run that only checks the constants (no SymPy needed: hostile
    input is refused before SymPy is even imported). Recursion depth is bounded by
    :data:`MAX_DEPTH`: chains such as ``a + b - c + ...`` are walked along their left spine in
    a loop.
    """

    def __init__(self, sp: Any, t: _Text, symbols: dict[str, Any]):
        self.sp, self.t, self.symbols = sp, t, symbols

    def refuse(self, message: str, node: ast.AST) -> _Refused:
        return _Refused(message, _pos(self.t, node))

    def constant(self, value: float, node: ast.AST) -> float:
        if not math.isfinite(value) or abs(value) > MAX_CONSTANT:
            raise self.refuse(f"a constant here is too large (beyond {MAX_CONSTANT:g})", node)
        return value

    def sym(self, fn: str, *args: Any) -> Any:
        """``sympy.<fn>(*args)`` (``abs``, ``max`` and ``min`` as the nodes of
        :mod:`functions._symbolic`), or ``None`` in a dry run."""
        if self.sp is None:
            return None
        if fn in _KINKS:
            from . import _symbolic

            return getattr(_symbolic, _KINKS[fn])(*args)
        return getattr(self.sp, fn)(*args)

    def visit(self, node: ast.AST) -> tuple[Any, float | None]:
        if isinstance(node, ast.Constant):
            v = node.value
            try:
                fv = float(v)
            except OverflowError:
                raise self.refuse(f"the number is too large (beyond {MAX_CONSTANT:g})", node) from None
            self.constant(fv, node)
            return self.sym("Integer" if isinstance(v, int) else "Float", v), fv
        if isinstance(node, ast.Name):
            if node.id in VARIABLES:
                return self.symbols.get(node.id), None
            return (
                None if self.sp is None else self.sp.pi if node.id in ("pi", "π") else self.sp.E
            ), CONSTANTS[node.id]
        if isinstance(node, ast.UnaryOp):
            e, c = self.visit(node.operand)
            if isinstance(node.op, ast.USub):
                return self.sym("Mul", -1, e), None if c is None else -c
            return e, c
        if isinstance(node, ast.BinOp) and _family(node) is not None:
            return self.chain(node)
        if isinstance(node, ast.BinOp):  # a power
            return self.power(node)
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        return self.call(node)

    def chain(self, node: ast.BinOp) -> tuple[Any, float | None]:
        """A flat sum (``+ -``) or product (``* /``), collected along the left spine."""
        fam = _family(node)
        items: list[tuple[ast.operator, ast.expr]] = []
        while isinstance(node, ast.BinOp) and _family(node) is fam:
            items.append((node.op, node.right))
            node = node.left
        first, const = self.visit(node)
        parts = [first]
        for op, right in reversed(items):
            e, c = self.visit(right)
            if isinstance(op, ast.Div) and c == 0.0:
                raise self.refuse("division by zero", right)
            if isinstance(op, ast.Sub):
                e = self.sym("Mul", -1, e)
            elif isinstance(op, ast.Div):
                e = self.sym("Pow", e, -1)
            parts.append(e)
            if const is not None and c is not None:
                const = self.constant(_ARITH[type(op)](const, c), right)
            else:
                const = None
        return self.sym("Add" if fam is _ADD_OPS else "Mul", *parts), const

    def power(self, node: ast.BinOp) -> tuple[Any, float | None]:
        base, cb = self.visit(node.left)
        exp, ce = self.visit(node.right)
        if ce is not None and abs(ce) > MAX_EXPONENT:
            raise self.refuse(
                f"the exponent {ce:g} is too large (at most {MAX_EXPONENT} in absolute value)", node.right
            )
        expr = self.sym("Pow", base, exp)
        if cb is None or ce is None:
            return expr, None
        if cb == 0.0 and ce < 0:
            raise self.refuse("division by zero (0 to a negative power)", node)
        if cb < 0 and ce != int(ce):
            raise self.refuse("a negative number to a fractional power is not a real number", node)
        if cb != 0.0 and ce * math.log10(abs(cb)) > math.log10(MAX_CONSTANT):
            raise self.refuse(f"a constant here is too large (beyond {MAX_CONSTANT:g})", node)
        return expr, self.constant(float(cb) ** ce, node)

    def call(self, node: ast.Call) -> tuple[Any, float | None]:
        name = node.func.id  # type: ignore[attr-defined]
        args = [self.visit(a) for a in node.args]
        expr = self.sym(ALLOWED_FUNCTIONS[name][1], *(e for e, _ in args))
        consts = [c for _, c in args]
        if any(c is None for c in consts):
            return expr, None
        try:
            value = _FLOAT_FUNCTIONS[name](*consts)
        except OverflowError:
            raise self.refuse(f"{name}(...) of this constant is too large", node) from None
        except (ValueError, ZeroDivisionError):
            raise self.refuse(f"{name}(...) is not a real number for this constant", node) from None
        return expr, self.constant(float(value), node)


#: SymPy's Abs, Max and Min -> the nodes of functions._symbolic that replace them (cheap to
#: build and differentiate, real derivatives).
_KINKS = {"Abs": "RealAbs", "Max": "Max2", "Min": "Min2"}

_ARITH: dict[type, Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
}  # fmt: skip


# ---------------------------------------------------------------------- 3. SymPy -> source text
_ATOM, _POW, _MUL, _ADD = 4, 3, 2, 1
_ELEMENTWISE = {
    "sin": "sin", "cos": "cos", "tan": "tan", "exp": "exp", "log": "log", "sinh": "sinh",
    "cosh": "cosh", "tanh": "tanh", "atan": "arctan", "Abs": "abs_", "sign": "sign",
    "RealAbs": "abs_", "Sign": "sign",
}  # fmt: skip


def _number(value: float) -> str:
    if not math.isfinite(value):
        raise _Refused("the function or its gradient has a constant that is not a finite real number")
    return repr(float(value))


class _Printer:
    """Python source for a SymPy expression, using only arithmetic, float literals, the given
    names and :mod:`functions.elementwise`. Constant subexpressions are folded to one float."""

    def __init__(self, sp: Any, names: dict[Any, str]):
        self.sp, self.names = sp, names

    def __call__(self, e: Any) -> str:
        return self.p(e)[0]

    def wrap(self, e: Any, above: int) -> str:
        s, prec = self.p(e)
        return f"({s})" if prec <= above else s

    def p(self, e: Any) -> tuple[str, int]:
        sp = self.sp
        if e in self.names:
            return self.names[e], _ATOM
        if e.is_number:
            try:
                value = float(e)
            except (TypeError, ValueError, OverflowError):
                raise _Refused(
                    "the function or its gradient is not a finite real number "
                    "(division by zero, or a root or log of a negative number?)"
                ) from None
            s = _number(value)
            return s, (_ATOM if value >= 0 else _ADD)
        if e.is_Add:
            terms = [self.p(a) for a in e.args]
            out = terms[0][0]
            for s, _ in terms[1:]:
                out += f" - {s[1:]}" if s.startswith("-") else f" + {s}"
            return out, _ADD
        if e.is_Mul or (e.is_Pow and e.exp.is_number and e.exp.is_negative):
            return self.mul(e)
        if e.is_Pow:
            return self.pow(e.base, e.exp)
        kind = type(e).__name__
        if kind in ("Heaviside", "Step"):  # d max(a, b) / da = H(a - b), with H(0) = 1/2
            return f"(0.5*sign({self(e.args[0])}) + 0.5)", _ATOM
        if kind in ("Max", "Min", "Max2", "Min2"):
            fn = "maximum" if kind.startswith("Max") else "minimum"
            args = [self(a) for a in e.args]
            out = args[0]
            for a in args[1:]:
                out = f"{fn}({out}, {a})"
            return out, _ATOM
        if isinstance(e, sp.Function) and type(e).__name__ in _ELEMENTWISE and len(e.args) == 1:
            return f"{_ELEMENTWISE[type(e).__name__]}({self(e.args[0])})", _ATOM
        raise _Refused(f"cannot compile {type(e).__name__} (its derivative is not supported here)")

    def pow(self, base: Any, exp: Any) -> tuple[str, int]:
        sp = self.sp
        if exp == sp.Rational(1, 2):
            return f"sqrt({self(base)})", _ATOM
        if exp.is_Integer:
            return f"{self.wrap(base, _POW)}**{int(exp)}", _POW
        if exp.is_number:
            return f"{self.wrap(base, _POW)}**{self.wrap(exp, _MUL)}", _POW
        return f"{self.wrap(base, _POW)}**{self.wrap(exp, _POW)}", _POW

    def mul(self, e: Any) -> tuple[str, int]:
        """``[-]num/den``: factors with a negative constant exponent go below the line, and a
        rational coefficient p/q becomes ``p*.../q`` (as a user would write it)."""
        sp = self.sp
        coeff, factors = (sp.Integer(1), (e,)) if e.is_Pow else e.as_coeff_mul()
        num, den = [], []
        for f in factors:
            if f.is_Pow and f.exp.is_number and f.exp.is_negative:
                den.append(f.base if f.exp == -1 else sp.Pow(f.base, -f.exp))
            else:
                num.append(f)
        negative = bool(coeff < 0)
        coeff = -coeff if negative else coeff
        p, q = (coeff.p, coeff.q) if coeff.is_Rational else (coeff, 1)
        try:
            p, q = float(p), float(q)
        except OverflowError:  # e.g. 10**-400 = 1/10**400: the ratio as a float (here 0.0)
            p, q = float(coeff), 1.0
        top = ([_number(p)] if p != 1 or not num else []) + [self.wrap(f, _MUL - 1) for f in num]
        bottom = ([_number(q)] if q != 1 else []) + [self.wrap(f, _MUL) for f in den]
        out = "*".join(top)
        if bottom:
            below = bottom[0] if len(bottom) == 1 else "(" + "*".join(bottom) + ")"
            out = f"{out}/{below}"
        return ("-" + out if negative else out), (_ADD if negative else _MUL)


def _derivative_size(e: Any, memo: dict) -> tuple[int, int]:
    """(nodes of ``e``, an upper estimate of the nodes of one partial derivative of ``e``).

    Computed before differentiating, so that a product of many factors (whose derivative has
    one term per factor, each as long as the product) is refused without building it.
    """
    hit = memo.get(e)
    if hit is not None:
        return hit
    if not e.args:
        out = (1, 1)
    else:
        parts = [_derivative_size(a, memo) for a in e.args]
        size = 1 + sum(p[0] for p in parts)
        dsum = sum(p[1] for p in parts)
        if e.is_Add:
            out = (size, 1 + dsum)
        elif e.is_Mul:
            out = (size, 1 + len(e.args) * size + dsum)
        else:  # chain rule: f'(u) is about as large as f(u), times u'
            out = (size, 2 * size + dsum)
    memo[e] = out
    return out


def _count_nodes(exprs: Sequence[Any], sp: Any, limit: int) -> int:
    n = 0
    for e in exprs:
        for _ in sp.preorder_traversal(e):
            n += 1
            if n > limit:
                raise _Refused(
                    f"the function and its gradient are too large to compile "
                    f"(over {limit:,} terms); simplify it"
                )
    return n


def _source(sp: Any, name: str, expr: Any, grads: Sequence[Any], symbols: Sequence[Any]) -> str:
    """The module text defining ``value`` and ``grad``, with shared subexpressions named once."""
    args = ", ".join(str(s) for s in symbols)
    lines = [f"# {name}: generated by functions.expression from a checked SymPy expression", ""]
    for fn, exprs in (("value", [expr]), ("grad", list(grads))):
        temps, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("_t"), order="none")
        names = {s: str(s) for s in symbols}
        printer = _Printer(sp, names)
        body = []
        for sym, sub in temps:
            text = printer(sub)
            names[sym] = str(sym)
            body.append(f"    {sym} = {text}")
        outs = [printer(r) for r in reduced]
        ret = outs[0] if fn == "value" else "(" + ", ".join(outs) + ("," if len(outs) == 1 else "") + ")"
        lines += [f"def {fn}({args}):", *body, f"    return {ret}", ""]
    return "\n".join(lines)


def _compile(source: str, filename: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Compile generated text with :mod:`functions.elementwise` as its only globals."""
    scope: dict[str, Any] = {"__builtins__": {}, **elementwise.FUNCTIONS}
    try:
        code = compile(source, filename, "exec")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        raise _Refused("the function is too deeply nested to compile; simplify it") from None
    exec(code, scope)  # generated text: only arithmetic, literals and elementwise names
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    # Each function gets globals of its own holding only the elementwise functions.
    return tuple(
        types.FunctionType(scope[fn].__code__, {"__builtins__": {}, **elementwise.FUNCTIONS}, fn)
        for fn in ("value", "grad")
    )  # type: ignore[return-value]


# ---------------------------------------------------------------------- 4. box, grid, minimizers
def _box(box: Any, dim: int | None) -> np.ndarray:
    try:
        b = np.array(box, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"box must be numbers (lo, hi) per coordinate, e.g. [[-2, 2], [-1, 3]]; got {_clip(repr(box))}"
        ) from None
    if b.ndim == 1 and b.size in (2, 4):
        b = b.reshape(-1, 2)
    if b.ndim != 2 or b.shape[1] != 2 or b.shape[0] not in (1, 2):
        raise ValueError(
            f"box must have shape (dim, 2) with dim 1 or 2, e.g. [[-2, 2], [-1, 3]]; got shape {b.shape}"
        )
    if dim is not None and b.shape[0] != dim:
        raise ValueError(
            f"the expression uses y, so it is 2-D: give a box with two rows (x and y), got {b.shape[0]}"
        )
    with np.errstate(all="ignore"):
        span = b[:, 1] - b[:, 0]
    if not np.all(np.isfinite(b)) or not np.all(b[:, 0] < b[:, 1]) or not np.all(np.isfinite(span)):
        raise ValueError(f"box must have finite lo < hi (and a finite width) on every row, got {b.tolist()}")
    b.setflags(write=False)
    return b


def _grid(box: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    n = GRID[len(box)]
    axes = [np.linspace(lo, hi, n) for lo, hi in box]
    mesh = np.meshgrid(*axes, indexing="ij")
    return axes, np.stack([m.ravel() for m in mesh], axis=1)


def _fmt_point(p: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in p) + ")"


def _clip(text: str, n: int = 60) -> str:
    """At most ``n`` characters of a text, with ``…`` where it was cut."""
    return text if len(text) <= n else text[: n - 1] + "…"


def _quote(text: str) -> str:
    """The text for a message: quoted, and shortened past 50 characters."""
    return repr(text if len(text) <= 50 else text[:47] + "...")


def _check_finite(
    value: Callable, grad: Callable, pts: np.ndarray, text: str
) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(all="ignore"):
        f = np.asarray(value(pts), dtype=np.float64)
        g = np.asarray(grad(pts), dtype=np.float64)
    bad = ~np.isfinite(f)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{_quote(text)} is not finite over its box: f{_fmt_point(pts[i])} = {f[i]}; choose a "
            f"box where it is defined (log and sqrt need arguments >= 0, no division by 0)"
        )
    badg = ~np.all(np.isfinite(g), axis=1)
    if badg.any():
        i = int(np.argmax(badg))
        raise ValueError(
            f"the gradient of {_quote(text)} is not finite over its box: at {_fmt_point(pts[i])} "
            f"it is {g[i].tolist()}; choose a box where it is defined"
        )
    return f, g


def _grid_local_minima(F: np.ndarray) -> np.ndarray:
    """Flat indices of grid points no higher than any of their (up to 8) neighbours."""
    ok = np.ones(F.shape, dtype=bool)
    pad = np.pad(F, 1, constant_values=np.inf)
    shifts = [(-1, 0, 1)] * F.ndim
    for offs in np.stack(np.meshgrid(*shifts, indexing="ij"), -1).reshape(-1, F.ndim):
        if not offs.any():
            continue
        sl = tuple(slice(1 + o, 1 + o + n) for o, n in zip(offs, F.shape, strict=True))
        ok &= F <= pad[sl]
    return np.flatnonzero(ok)


@dataclass(frozen=True)
class _Minima:
    minimizers: np.ndarray
    fmin: float | None
    local: np.ndarray
    note: str


def _estimate_minima(
    value: Callable, grad: Callable, box: np.ndarray, F: np.ndarray, pts: np.ndarray, G: np.ndarray
) -> _Minima:
    """Global (and a few local) minimizers: grid local minima, zoomed in on by value, then
    polished by Newton steps on the analytic gradient (Hessian by differences of it)."""
    dim = len(box)
    n = GRID[dim]
    span = box[:, 1] - box[:, 0]
    shape = (n,) * dim
    cand = _grid_local_minima(F.reshape(shape))
    cand = cand[np.argsort(F[cand], kind="stable")][:32]
    X = pts[cand].copy()
    fx = F[cand].copy()
    # A pattern search per candidate: sample an 11-point (per axis) window around the best point
    # so far; move to the best sample; shrink the window 4x only when the best sample is inside
    # it (a best sample on its rim means the minimum lies further on, as along a curved valley).
    h = np.tile(span / (n - 1), (len(X), 1))  # half-width of each candidate's window
    k = 11
    offs = np.stack(np.meshgrid(*[np.linspace(-1, 1, k)] * dim, indexing="ij"), -1).reshape(-1, dim)
    rim = np.any(np.abs(offs) == 1.0, axis=1)
    rows = np.arange(len(X))
    tiny = 1e-15 * np.maximum(span, np.abs(box).max(axis=1))
    with np.errstate(all="ignore"):
        for _ in range(200):
            trial = np.clip(X[:, None, :] + offs[None, :, :] * h[:, None, :], box[:, 0], box[:, 1])
            ft = np.asarray(value(trial.reshape(-1, dim)), dtype=np.float64).reshape(len(X), -1)
            ft = np.where(np.isfinite(ft), ft, np.inf)
            j = np.argmin(ft, axis=1)
            better = ft[rows, j] < fx
            X = np.where(better[:, None], trial[rows, j], X)
            fx = np.where(better, ft[rows, j], fx)
            h = np.where((better & rim[j])[:, None], h, h / 4)
            if np.all(h < tiny):
                break
        X, fx = _newton(value, grad, X, fx, box)
        gx = np.asarray(grad(X), dtype=np.float64)

    gnorm = np.linalg.norm(gx, axis=1)
    grid_g = np.linalg.norm(G, axis=1)
    singular = ~(gnorm <= 10 * float(np.max(grid_g)))  # zoomed into a pole (or NaN)
    stationary = gnorm <= 1e-6 * (float(np.median(grid_g)) or 1.0)
    interior = np.all((X - box[:, 0] > 1e-9 * span) & (box[:, 1] - X > 1e-9 * span), axis=1)
    is_min = ~singular & (stationary | interior)  # interior and not stationary: a kink (abs, max)
    low = int(np.argmin(fx))
    tol = 1e-9 * max(1.0, abs(float(fx[low])))
    Xm, fm = _dedupe(X[is_min], fx[is_min], span)
    if not len(fm) or float(np.min(fm)) > float(fx[low]) + tol:
        where = "f seems unbounded below near" if singular[low] else "f is lowest on its edge, near"
        return _Minima(
            np.empty((0, dim)),
            None,
            Xm[:8] if len(Xm) <= 8 else np.empty((0, dim)),
            f"no minimum inside the box ({where} {_fmt_point(X[low])})",
        )
    best = float(np.min(fm))
    glob = fm <= best + 1e-9 * max(1.0, abs(best))
    local = Xm[~glob]
    return _Minima(
        Xm[glob][:16],
        best,
        local if len(local) <= 8 else np.empty((0, dim)),
        "global minimum estimated numerically",
    )


def _dedupe(X: np.ndarray, fx: np.ndarray, span: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(fx, kind="stable")
    keep: list[int] = []
    for i in order:
        if all(np.max(np.abs(X[i] - X[j]) / span) > 1e-6 for j in keep):
            keep.append(int(i))
    return X[keep], fx[keep]


def _newton(
    value: Callable, grad: Callable, X: np.ndarray, fx: np.ndarray, box: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A few Newton steps on the gradient; a step is kept only if it shrinks the gradient,
    stays in the box, does not raise f (beyond rounding) and is short: a polish, not a search."""
    dim = X.shape[1]
    span = box[:, 1] - box[:, 0]
    for _ in range(6):
        g = np.asarray(grad(X), dtype=np.float64)
        eps = 1e-6 * np.maximum(np.abs(X), 1.0)
        H = np.empty((len(X), dim, dim))
        for j in range(dim):
            d = np.zeros(dim)
            d[j] = 1.0
            gp = np.asarray(grad(X + eps[:, j : j + 1] * d), dtype=np.float64)
            gm = np.asarray(grad(X - eps[:, j : j + 1] * d), dtype=np.float64)
            H[:, :, j] = (gp - gm) / (2 * eps[:, j : j + 1])
        H = 0.5 * (H + np.swapaxes(H, 1, 2))
        det = np.linalg.det(H)
        okH = np.isfinite(det) & (np.abs(det) > 1e-300)
        step = np.zeros_like(X)
        if okH.any():
            step[okH] = -np.linalg.solve(H[okH], g[okH][..., None])[..., 0]
        Xn = X + step
        fn = np.asarray(value(Xn), dtype=np.float64)
        gn = np.asarray(grad(Xn), dtype=np.float64)
        ok = (
            okH
            & np.all(np.isfinite(Xn), axis=1)
            & np.isfinite(fn)
            & np.all((Xn >= box[:, 0]) & (Xn <= box[:, 1]), axis=1)
            & (np.linalg.norm(gn, axis=1) < np.linalg.norm(g, axis=1))
            & (fn <= fx + 1e-12 * (1.0 + np.abs(fx)))  # f is flat to rounding here: only no rise
            & np.all(np.abs(step) <= 1e-4 * span, axis=1)
        )
        if not ok.any():
            break
        X = np.where(ok[:, None], Xn, X)
        fx = np.where(ok, fn, fx)
    return X, fx


def _given_minima(
    value: Callable, minimizers: Any, box: np.ndarray, F: np.ndarray, pts: np.ndarray
) -> _Minima:
    dim = len(box)
    try:
        M = np.array(minimizers, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"minimizers must be numbers, one point per row; got {_clip(repr(minimizers))}"
        ) from None
    if M.size == 0:
        return _Minima(np.empty((0, dim)), None, np.empty((0, dim)), "no minimum")
    if M.ndim == 1 and M.size == dim:
        M = M[None, :]
    if M.ndim != 2 or M.shape[1] != dim:
        raise ValueError(
            f"minimizers must be points of {dim} coordinate(s), e.g. {[[1.0] * dim]}; got shape {M.shape}"
        )
    if not np.all(np.isfinite(M)):
        raise ValueError("minimizers must be finite")
    outside = ~np.all((M >= box[:, 0]) & (M <= box[:, 1]), axis=1)
    if outside.any():
        p = _fmt_point(M[int(np.argmax(outside))])
        raise ValueError(f"minimizer {p} lies outside the box {box.tolist()}")
    with np.errstate(all="ignore"):
        fm = np.asarray(value(M), dtype=np.float64)
    if not np.all(np.isfinite(fm)):
        raise ValueError(f"f is not finite at the minimizer {_fmt_point(M[int(np.argmin(np.isfinite(fm)))])}")
    best = float(np.min(fm))
    tol = 1e-6 * float(np.max(F) - np.min(F)) + 1e-9 * max(1.0, abs(best))
    if np.max(fm) > best + tol:
        i = int(np.argmax(fm))
        raise ValueError(
            f"the minimizers must all be global minima: f{_fmt_point(M[i])} = {fm[i]:.6g} but "
            f"f{_fmt_point(M[int(np.argmin(fm))])} = {best:.6g}"
        )
    if float(np.min(F)) < best - tol:
        i = int(np.argmin(F))
        p = _fmt_point(M[int(np.argmin(fm))])
        raise ValueError(
            f"{p} is not a global minimizer: f there is {best:.6g}, "
            f"but f{_fmt_point(pts[i])} = {F[i]:.6g} is lower; give the global minimizer(s), "
            f"or leave them out to have them estimated"
        )
    return _Minima(M, best, np.empty((0, dim)), "global minimum given")


def _log_levels(F: np.ndarray, fmin: float | None) -> bool:
    """Log-spaced contours when most of the box lies in the lowest linear band: the median of
    f - f* below 15 % of its maximum (this matches the built-ins' choice for all but long_valley)."""
    if fmin is None:
        return False
    gap = F - fmin
    top = float(np.max(gap))
    return top > 0 and float(np.median(gap)) < 0.15 * top


# ---------------------------------------------------------------------- the function object
@dataclass(frozen=True, eq=False, repr=False)
class ExpressionFunction(TestFunction):
    """A :class:`TestFunction` typed as text (see :func:`from_expression`).

    Extra attributes:
        text: the expression as typed.
        given_minimizers: the minimizers as given (``None``: they were estimated).
        estimated: whether :attr:`minimizers` and :attr:`fmin` were estimated numerically.
        description: one line for the UI, e.g. "typed function; global minimum estimated
            numerically at (1, 1)".
        source: the generated Python text of ``value`` and ``grad`` (what the fast path compiles).
    """

    text: str = ""
    given_minimizers: tuple[tuple[float, ...], ...] | None = None
    estimated: bool = False
    description: str = ""
    source: str = ""

    def __reduce__(self):
        """Pickle as the call that rebuilds it: (text, box, minimizers as given)."""
        mins = None if self.given_minimizers is None else [list(p) for p in self.given_minimizers]
        return (from_expression, (self.text, self.box.tolist(), mins))

    def __repr__(self) -> str:
        return f"from_expression({self.text!r}, box={self.box.tolist()!r})"


def from_expression(text: str, box: Any = None, minimizers: Any = None) -> ExpressionFunction:
    """A test function from a typed expression in ``x`` (1-D) or ``x`` and ``y`` (2-D).

    Args:
        text: e.g. ``"(1 - x)**2 + 100*(y - x**2)**2"``. Allowed: numbers, ``x``, ``y``,
            ``pi``, ``e``, ``+ - * /``, ``**`` (or ``^``), unary minus, brackets and the
            functions ``sin cos tan exp log sqrt abs tanh sinh cosh arctan`` and ``min``/``max``
            of two arguments (``atan`` and ``ln`` are read as ``arctan`` and ``log``).
        box: ``[[lo, hi]]`` (1-D) or ``[[x_lo, x_hi], [y_lo, y_hi]]`` (also flat:
            ``[-2, 2, -1, 3]``); its number of rows is the dimension (an expression without
            ``y`` may be 2-D). Default: ``[-5, 5]`` per coordinate, 2-D if ``y`` is used.
        minimizers: the global minimizer(s), one point per row (``[]``: the function has no
            minimum). Default ``None``: estimated numerically, and marked ``estimated``.

    Returns:
        An :class:`ExpressionFunction` (a :class:`TestFunction`): ``value``/``grad`` on
        ``(n, dim)`` arrays of any array-API namespace, ``point`` (a :class:`PointForm` of
        generated plain functions), ``box``, ``minimizers``, ``fmin``, ``formula`` (LaTeX).

    Raises:
        ValueError: the text is refused (with the reason and, where it applies, the column),
            the box is malformed, the function or its gradient is not finite on the box, or
            a given minimizer is not a global one.
    """
    key_box = None if box is None else _freeze(box, "box")
    key_min = None if minimizers is None else _freeze(minimizers, "minimizers")
    return _build(text, key_box, key_min)


def _freeze(value: Any, what: str) -> tuple:
    """A hashable copy of nested numbers (for the cache), or a ValueError."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numbers, got {_clip(repr(value))}") from None
    if arr.ndim > 2:
        raise ValueError(f"{what} must be a list of rows of numbers, got shape {arr.shape}")
    if arr.size > MAX_MINIMIZERS * 2:
        raise ValueError(f"{what}: too many numbers ({arr.size:,}; at most {MAX_MINIMIZERS:,} points)")
    return (arr.shape, tuple(arr.ravel().tolist()))


def _thaw(key: tuple | None) -> np.ndarray | None:
    return None if key is None else np.array(key[1], dtype=np.float64).reshape(key[0])


# ---------------------------------------------------------------------- 5. the bounded build
#: Wall-clock seconds a typed formula may take to build (SymPy, source, grid check, minimizers)
#: in its worker process; beyond it the worker is killed and the text refused ("... took
#: longer than 1 s to build; simplify it"). Ordinary formulas take 0.01-0.2 s.
BUILD_SECONDS = 1.0
#: A worker that has had less than this share of :data:`BUILD_SECONDS` in CPU time when the time
#: is up was starved by a busy machine, not slow: it may go on, up to :data:`BUSY_WAIT` x
#: :data:`BUILD_SECONDS` of wall clock, before the text is turned away as "busy; try again".
STARVED = 0.9
BUSY_WAIT = 3.0
#: Most builds running at once (each in a process of its own); a further one waits for a slot.
MAX_WORKERS = 8
#: Seconds a new worker may take to start (the first one starts the fork server, which imports
#: NumPy and SymPy once: about 1 s). Not counted in :data:`BUILD_SECONDS`.
START_SECONDS = 60.0
#: Built functions kept (least recently used dropped first), and refusals kept.
CACHE_SIZE = 64
REFUSALS_KEPT = 512


@dataclass(frozen=True)
class _Parts:
    """What a worker sends back: everything of an :class:`ExpressionFunction` but its compiled
    functions (rebuilt here from ``source``)."""

    name: str
    source: str
    latex: str
    box: np.ndarray
    minimizers: np.ndarray
    fmin: float | None
    local: np.ndarray
    log_levels: bool
    given: tuple[tuple[float, ...], ...] | None
    description: str


class _Cache:
    """Built functions and refusals by (text, box, minimizers), least recently used dropped.
    Its lock guards the dictionaries only: no build runs under it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.built: OrderedDict[tuple, ExpressionFunction] = OrderedDict()
        self.refused: OrderedDict[tuple, str] = OrderedDict()

    def get(self, key: tuple) -> ExpressionFunction | str | None:
        with self.lock:
            for table in (self.built, self.refused):
                if key in table:
                    table.move_to_end(key)
                    return table[key]
        return None

    def put(self, key: tuple, value: ExpressionFunction | str) -> None:
        table, size = (self.refused, REFUSALS_KEPT) if isinstance(value, str) else (self.built, CACHE_SIZE)
        with self.lock:
            table[key] = value
            table.move_to_end(key)
            while len(table) > size:
                table.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.built.clear()
            self.refused.clear()


_CACHE = _Cache()


class _Uncached(ValueError):
    """A refusal that must not be remembered (the machine was too busy to judge the text)."""


def _build(text: str, box_key: tuple | None, min_key: tuple | None) -> ExpressionFunction:
    """Built once per (text, box, minimizers); a refusal is remembered too (the same text is
    refused again at once). No lock is held while building: builds run side by side."""
    key = (text, box_key, min_key)
    hit = _CACHE.get(key)
    if isinstance(hit, str):
        raise ValueError(hit)
    if hit is not None:
        return hit
    try:
        fn = _assemble(text, _bounded_parts(text, box_key, min_key))
    except _Uncached:
        raise
    except ValueError as err:
        _CACHE.put(key, str(err))
        raise ValueError(str(err)) from None
    _CACHE.put(key, fn)
    return fn


_build.cache_clear = _CACHE.clear  # type: ignore[attr-defined]  # as functools.lru_cache's


def _bounded_parts(text: str, box_key: tuple | None, min_key: tuple | None) -> _Parts:
    """:func:`_parts` in a worker process killed after :data:`BUILD_SECONDS`. What the parser
    refuses is refused here, without a worker. Where no worker can be started (a platform
    without ``fork``, or a daemonic process), the build runs here, one at a time."""
    _precheck(text, box_key)
    with _SLOTS:
        try:
            from . import _worker

            proc, conn = _worker.start(_work, (text, box_key, min_key))
        except (AssertionError, OSError, ValueError, RuntimeError, ImportError):  # no worker here
            with _FALLBACK_LOCK:
                return _parts(text, box_key, min_key)
        try:
            return _await(proc, conn, text)
        finally:
            conn.close()
            if proc.is_alive():
                proc.kill()
            proc.join(5)
            with contextlib.suppress(ValueError):
                proc.close()


def _await(proc: Any, conn: Any, text: str) -> _Parts:
    """The worker's answer: a :class:`_Parts`, or the refusal it raised as a ValueError."""
    quoted = _quote(" ".join(text.split()))
    try:
        if not conn.poll(START_SECONDS) or conn.recv() != "ready":
            raise _Uncached(f"{quoted} could not be built: the build process did not start; try again")
        if not _answered(proc, conn):
            cpu = _cpu_seconds(proc.pid)
            proc.kill()
            if cpu is not None and cpu < STARVED * BUILD_SECONDS:  # starved: the machine is busy
                raise _Uncached(
                    f"{quoted} could not be built within {BUILD_SECONDS:g} s (the server is busy); try again"
                )
            raise ValueError(f"{quoted} took longer than {BUILD_SECONDS:g} s to build; simplify it")
        kind, payload = conn.recv()
    except (EOFError, OSError):
        proc.join(1)
        raise ValueError(
            f"{quoted} could not be built: its build process stopped (exit {proc.exitcode}; out of "
            f"memory?); simplify it"
        ) from None
    if kind == "ok":
        return payload
    raise ValueError(payload)


def _answered(proc: Any, conn: Any) -> bool:
    """Whether the worker answers within its time: :data:`BUILD_SECONDS` of wall clock, extended
    (up to :data:`BUSY_WAIT` x that) while the machine has given it less than that in CPU time, so
    that a formula is judged by the work it takes, not by how busy the server is."""
    if conn.poll(BUILD_SECONDS):
        return True
    waited = BUILD_SECONDS
    while waited < BUSY_WAIT * BUILD_SECONDS:
        cpu = _cpu_seconds(proc.pid)
        if cpu is None or cpu >= STARVED * BUILD_SECONDS:
            return False
        if conn.poll(0.1 * BUILD_SECONDS):
            return True
        waited += 0.1 * BUILD_SECONDS
    return False


def _cpu_seconds(pid: int | None) -> float | None:
    """CPU seconds a process has used (Linux ``/proc``), or None where that is not known."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


_SLOTS = threading.BoundedSemaphore(MAX_WORKERS)
_FALLBACK_LOCK = threading.Lock()  # only where no worker process can be started


def _work(conn: Any, text: str, box_key: tuple | None, min_key: tuple | None) -> None:
    """In the worker process: build, send ``("ok", parts)`` or ``("refused", message)``."""
    try:
        import sympy  # noqa: F401  # preloaded by the fork server; imported before the clock

        conn.send("ready")
        try:
            answer: tuple[str, Any] = ("ok", _parts(text, box_key, min_key))
        except ValueError as err:
            answer = ("refused", str(err))
        except (RecursionError, MemoryError):
            answer = ("refused", f"{_quote(' '.join(text.split()))} is too large to build; simplify it")
        except Exception as err:  # an internal error: one line, not a traceback on the caller
            answer = ("refused", f"{_quote(' '.join(text.split()))} could not be built "
                      f"({type(err).__name__}: {_clip(str(err), 80)})")  # fmt: skip
        conn.send(answer)
    finally:
        conn.close()


def _precheck(text: str, box_key: tuple | None) -> tuple[_Text, ast.expr, set[str], np.ndarray]:
    """Parse, check the tree and the constants, and read the box: no SymPy, bounded time."""
    t, tree = _parse(text)
    try:
        used = _check_tree(t, tree)
    except _Refused as err:
        raise ValueError(err.text(t)) from None
    box_in = _thaw(box_key)
    need = 2 if "y" in used else None
    if box_in is None:
        box = _box([[-5.0, 5.0]] * (need or 1), None)
    else:
        box = _box(box_in, None)
        if need and len(box) != 2:
            box = _box(box_in, need)
    try:
        _Builder(None, t, {}).visit(tree)  # constants checked before SymPy is imported
    except _Refused as err:
        raise ValueError(err.text(t)) from None
    return t, tree, used, box


def _assemble(text: str, parts: _Parts) -> ExpressionFunction:
    """The function object from a worker's parts (its source compiled here)."""
    name, dim = parts.name, len(parts.box)
    value_pt, grad_pt = _compile(parts.source, f"<expression {name}>")
    for fn, what in ((value_pt, "value"), (grad_pt, "grad")):
        fn.__qualname__ = f"{name}.{what}"
        fn.__doc__ = f"{'f' if what == 'value' else 'Gradient of f'} = {text.strip()} (generated)."
    point = PointForm(value=value_pt, grad=grad_pt)
    value, grad = array_form(point, dim)
    stripped = " ".join(text.split())
    return ExpressionFunction(
        name=name,
        title=stripped if len(stripped) <= 60 else stripped[:59] + "…",
        formula=f"f({', '.join(VARIABLES[:dim])})={parts.latex}",
        dim=dim,
        params={},
        box=parts.box,
        minimizers=_readonly(parts.minimizers),
        fmin=parts.fmin,
        local_minima=_readonly(parts.local),
        log_levels=parts.log_levels,
        _value=value,
        _grad=grad,
        point=point,
        text=text,
        given_minimizers=parts.given,
        estimated=parts.given is None,
        description=parts.description,
        source=parts.source,
    )


def _parts(text: str, box_key: tuple | None, min_key: tuple | None) -> _Parts:
    """The whole build (in a worker): SymPy, the source, the grid check and the minimizers."""
    t, tree, _, box = _precheck(text, box_key)
    dim = len(box)

    import sympy as sp  # imported here: `import functions` must stay fast

    symbols = {v: sp.Symbol(v, real=True) for v in VARIABLES[:dim]}
    try:
        expr, _ = _Builder(sp, t, symbols).visit(tree)
        if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan, sp.I):
            raise _Refused(
                "the function is not a finite real number (division by zero, or a root or log "
                "of a negative number?)"
            )
        syms = [symbols[v] for v in VARIABLES[:dim]]
        if len(syms) * _derivative_size(expr, {})[1] > 2 * MAX_NODES:
            raise _Refused(
                f"the function is too large to differentiate (its gradient would have over "
                f"{MAX_NODES:,} terms); simplify it"
            )
        grads = [sp.diff(expr, s) for s in syms]
        _count_nodes([expr, *grads], sp, MAX_NODES)
        if any(g.has(sp.zoo, sp.oo, -sp.oo, sp.nan, sp.I) for g in grads):
            raise _Refused("the gradient is not a finite real number")
        digest = hashlib.sha256(repr((t.normalized.strip(), box.tolist(), min_key)).encode()).hexdigest()[:8]
        name = f"expr_{digest}"
        source = _source(sp, name, expr, grads, syms)
    except _Refused as err:
        raise ValueError(err.text(t)) from None
    value_pt, grad_pt = _compile(source, f"<expression {name}>")
    value, grad = array_form(PointForm(value=value_pt, grad=grad_pt), dim)

    _, pts = _grid(box)
    given = _thaw(min_key)
    with np.errstate(all="ignore"):  # overflow to inf is tested for, not warned about
        F, G = _check_finite(value, grad, pts, text.strip())
        minima = (
            _estimate_minima(value, grad, box, F, pts, G)
            if given is None
            else _given_minima(value, given, box, F, pts)
        )
        log_levels = _log_levels(F, minima.fmin)
    where = (
        ""
        if not len(minima.minimizers)
        else " at "
        + ", ".join(_fmt_point(p) for p in minima.minimizers[:4])
        + (" …" if len(minima.minimizers) > 4 else "")
    )
    return _Parts(
        name=name,
        source=source,
        latex=sp.latex(
            expr.xreplace(
                {r: sp.Float(r, 15) for r in expr.atoms(sp.Rational) if max(abs(r.p), r.q) > 10**15}
            )
        ),
        box=box,
        minimizers=minima.minimizers,
        fmin=minima.fmin,
        local=minima.local,
        log_levels=bool(log_levels),
        given=None
        if given is None
        else tuple(tuple(float(v) for v in row) for row in np.reshape(given, (-1, dim))),
        description=f"typed function; {minima.note}{where}",
    )


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.setflags(write=False)
    return a


__all__ = [
    "ALLOWED_FUNCTIONS", "MAX_CHARS", "MAX_DEPTH", "ExpressionFunction", "check_formula", "from_expression",
]

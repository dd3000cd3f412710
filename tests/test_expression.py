"""Typed functions (``functions.from_expression``): parsing, gradients, minimizers, refusals."""

from __future__ import annotations

import concurrent.futures
import contextlib
import math
import multiprocessing
import pickle
import re
import subprocess
import sys
import time
import types

import array_api_strict as xps
import numpy as np
import pytest

import functions
from functions import elementwise
from functions.expression import MAX_CHARS, ExpressionFunction

BOX2 = [[-2.0, 2.0], [-1.0, 3.0]]

# ---------------------------------------------------------------------- the built-ins, typed
#: (built-in name, its formula typed as a user would, box or None for the built-in's box)
BUILTIN_TYPED = [
    ("rosenbrock", "(1 - x)**2 + 100*(y - x**2)**2", None),
    ("quartic", "4*(x**4/4 - x**3/6 - 17*x**2/8 - 15*x/8)", None),
    ("beale", "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2", None),
    ("himmelblau", "(x**2 + y - 11)**2 + (x + y**2 - 7)**2", None),
    ("booth", "(x + 2*y - 7)**2 + (2*x + y - 5)**2", None),
    ("matyas", "0.26*(x**2 + y**2) - 0.48*x*y", None),
    ("three_hump_camel", "2*x**2 - 1.05*x**4 + x**6/6 + x*y + y**2", None),
    ("six_hump_camel", "(4 - 2.1*x**2 + x**4/3)*x**2 + x*y + (-4 + 4*y**2)*y**2", None),
    ("rastrigin", "20 + x**2 - 10*cos(2*pi*x) + y**2 - 10*cos(2*pi*y)", None),
    ("styblinski_tang", "0.5*(x**4 - 16*x**2 + 5*x + y**4 - 16*y**2 + 5*y)", None),
    ("long_valley", "0.5*(x**2 + 100*y**2)", None),
    ("saddle", "x**2 - y**2", None),
    ("monkey_saddle", "x**3 - 3*x*y**2", None),
]


def _box_points(box: np.ndarray, n: int = 400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return box[:, 0] + rng.random((n, len(box))) * (box[:, 1] - box[:, 0])


def _close(a: np.ndarray, b: np.ndarray, rel: float) -> None:
    """|a - b| <= rel * max(1, max |b|): relative to the function's scale on the points."""
    scale = max(1.0, float(np.max(np.abs(b))))
    assert np.max(np.abs(np.asarray(a) - np.asarray(b))) <= rel * scale


@pytest.mark.parametrize(("name", "text", "box"), BUILTIN_TYPED, ids=[c[0] for c in BUILTIN_TYPED])
def test_typed_builtin_equals_builtin(name: str, text: str, box) -> None:
    """Value and gradient equal the hand-written built-in to 1e-12 (relative to the function's
    scale over its box), and the estimated minimizers are the built-in's (all of them)."""
    ref = functions.get(name, dim=functions.families()[name].default_dim)
    f = functions.from_expression(text, box=ref.box.tolist() if box is None else box)
    assert isinstance(f, functions.TestFunction) and f.dim == ref.dim
    X = _box_points(f.box)
    _close(f.value(X), ref.value(X), 1e-12)
    _close(f.grad(X), ref.grad(X), 1e-12)
    assert f.estimated
    if ref.fmin is None:
        assert f.fmin is None and f.minimizers.shape == (0, ref.dim)
        return
    assert f.fmin == pytest.approx(ref.fmin, abs=1e-9 * max(1.0, abs(ref.fmin)))
    assert len(f.minimizers) == len(ref.minimizers)
    for m in ref.minimizers:  # every built-in minimizer was found, to 1e-7
        assert np.min(np.max(np.abs(f.minimizers - m), axis=1)) < 1e-7


def test_typed_rosenbrock_and_quartic_exactly() -> None:
    """The issue's two: the typed Rosenbrock and quartic equal the built-ins to 1e-12 at the
    built-in's minimizers and at the starts the dashboard uses, in value and gradient."""
    for name, text, box in [
        ("rosenbrock", "(1 - x)**2 + 100*(y - x**2)**2", BOX2),
        ("quartic", "4*(x**4/4 - x**3/6 - 17*x**2/8 - 15*x/8)", [[-3, 3]]),
    ]:
        ref = functions.get(name)
        f = functions.from_expression(text, box=box)
        X = np.vstack([ref.minimizers, ref.local_minima, _box_points(ref.box, 50, 1)])
        np.testing.assert_allclose(f.value(X), ref.value(X), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(f.grad(X), ref.grad(X), rtol=1e-12, atol=1e-12)
    q = functions.from_expression("4*(x**4/4 - x**3/6 - 17*x**2/8 - 15*x/8)", box=[[-3, 3]])
    assert q.minimizers.tolist() == [[2.5]] and q.fmin == pytest.approx(-2075 / 48, abs=1e-12)
    assert np.allclose(q.local_minima, [[-1.5]], atol=1e-10)  # the article's local minimum too


def test_log_levels_follow_the_builtins() -> None:
    r = functions.from_expression("(1 - x)**2 + 100*(y - x**2)**2", box=BOX2)
    q = functions.from_expression("4*(x**4/4 - x**3/6 - 17*x**2/8 - 15*x/8)", box=[[-3, 3]])
    assert r.log_levels is True and q.log_levels is False
    assert functions.from_expression("x**2 - y**2", box=BOX2).log_levels is False  # no minimum


# ---------------------------------------------------------------------- more valid expressions
#: (text, box, a NumPy reference written here by hand)
VALID = [
    ("x**2", [[-2, 2]], lambda x: x**2),
    ("x^2 + 3", [[-2, 2]], lambda x: x**2 + 3),
    ("-x + +x*2", [[-2, 2]], lambda x: x),
    ("sin(x)*cos(y) + x**2/10", BOX2, lambda x, y: np.sin(x) * np.cos(y) + x**2 / 10),
    ("exp(-(x**2 + y**2)) * -1", BOX2, lambda x, y: -np.exp(-(x**2 + y**2))),
    ("log(1 + x**2 + y**2)", BOX2, lambda x, y: np.log(1 + x**2 + y**2)),
    ("ln(2 + x)", [[-1, 3]], lambda x: np.log(2 + x)),
    ("sqrt(1 + x**2) + sqrt(4 + y**2)", BOX2, lambda x, y: np.sqrt(1 + x**2) + np.sqrt(4 + y**2)),
    ("abs(x) + abs(y - 1)", BOX2, lambda x, y: np.abs(x) + np.abs(y - 1)),
    ("tanh(x) + sinh(y/3) + cosh(x/2)", BOX2, lambda x, y: np.tanh(x) + np.sinh(y / 3) + np.cosh(x / 2)),
    ("arctan(x*y) + atan(x)", BOX2, lambda x, y: np.arctan(x * y) + np.arctan(x)),
    ("tan(x/3) + y**2", BOX2, lambda x, y: np.tan(x / 3) + y**2),
    ("max(x, y)**2 + min(x, 0.5*y)", BOX2, lambda x, y: np.maximum(x, y) ** 2 + np.minimum(x, 0.5 * y)),
    ("max(abs(x), abs(y))", BOX2, lambda x, y: np.maximum(np.abs(x), np.abs(y))),
    ("e**x + pi*y", BOX2, lambda x, y: np.e**x + np.pi * y),
    ("2**x * 3**(y/2)", BOX2, lambda x, y: 2.0**x * 3.0 ** (y / 2)),
    ("x**y", [[0.5, 2], [-1, 3]], lambda x, y: x**y),
    ("x**-2 + y**0.5", [[0.5, 2], [0.5, 3]], lambda x, y: x**-2 + y**0.5),
    ("1/(1 + x**2) - 1/(2 + y**2)", BOX2, lambda x, y: 1 / (1 + x**2) - 1 / (2 + y**2)),
    ("(x - 1)*(x + 2)*(y - 0.5)", BOX2, lambda x, y: (x - 1) * (x + 2) * (y - 0.5)),
    ("−x × y ÷ 2", BOX2, lambda x, y: -x * y / 2),
    ("π*x**2", [[-1, 1]], lambda x: np.pi * x**2),
    ("y**2", BOX2, lambda x, y: y**2),  # only y: still 2-D
    ("x**2", BOX2, lambda x, y: x**2),  # a 2-row box makes an x-only text 2-D
    ("7", [[-1, 1]], lambda x: np.full_like(x, 7.0)),  # a constant
    ("0.1*x + 0.2*y + 0.3", BOX2, lambda x, y: 0.1 * x + 0.2 * y + 0.3),  # constant gradient
    (
        "sin(pi/4)*x + exp(1)*y + sqrt(2)",
        BOX2,
        lambda x, y: math.sin(math.pi / 4) * x + math.e * y + math.sqrt(2),
    ),
    ("(((((x)))))**2", [[-1, 1]], lambda x: x**2),
    ("x/3 + y/7", BOX2, lambda x, y: x / 3 + y / 7),
    ("x**-1000", [[0.5, 1.5]], lambda x: x**-1000.0),  # values and gradients near overflow
    ("sqrt(2)**999*x*1e-150", [[0, 1]], lambda x: 2.0**499.5 * x * 1e-150),  # 2**499 * sqrt(2) in SymPy
    (
        "sin(10**299)*x + exp(690)*1e-299",
        [[0, 1]],
        lambda x: -0.7189565935497317 * x + math.exp(690) * 1e-299,
    ),
]


def _fd(f: functions.TestFunction, X: np.ndarray) -> np.ndarray:
    h = 1e-6 * np.maximum(1.0, np.abs(X))
    out = np.empty_like(X)
    for j in range(X.shape[1]):
        e = np.zeros(X.shape[1])
        e[j] = 1.0
        out[:, j] = (f.value(X + h[:, j : j + 1] * e) - f.value(X - h[:, j : j + 1] * e)) / (2 * h[:, j])
    return out


@pytest.mark.parametrize(("text", "box", "ref"), VALID, ids=[v[0] for v in VALID])
def test_valid_expressions(text: str, box, ref) -> None:
    """Values equal a NumPy transcription; gradients equal central differences away from kinks."""
    f = functions.from_expression(text, box=box)
    assert f.dim == len(box) and f.box.tolist() == np.asarray(box, dtype=float).tolist()
    X = _box_points(f.box, 300, 2)
    _close(f.value(X), ref(*X.T), 1e-13)
    kink = re.search(r"abs|max|min", text) is not None
    G, FD = f.grad(X), _fd(f, X)
    if kink:  # keep points at least 1e-3 away from where the branches meet
        ok = np.all(np.abs(G - FD) < 1e-4 * np.maximum(1, np.abs(FD)), axis=1)
        assert ok.mean() > 0.97
    else:
        np.testing.assert_allclose(G, FD, rtol=1e-5, atol=1e-6)
    assert f.value(X).shape == (300,) and G.shape == (300, f.dim)
    assert f.formula.startswith("f(x") and f.title and f.name.startswith("expr_")


def test_kinks_give_subgradients() -> None:
    """abs → sign (0 at the kink), max/min → the active branch's derivative (½ each at a tie)."""
    f = functions.from_expression("abs(x) + max(x, y) + min(y, 1)", box=BOX2)
    g = f.grad(np.array([[0.0, 0.0], [1.0, -1.0], [-1.0, 2.0], [0.5, 1.0]]))
    assert g.tolist() == [[0.5, 1.5], [2.0, 1.0], [-1.0, 1.0], [1.0, 1.5]]


def test_minimum_estimated_and_marked() -> None:
    f = functions.from_expression("(x - 0.3)**2 + 2*(y + 0.7)**2 + 1.5", box=BOX2)
    assert f.estimated and "estimated" in f.description
    np.testing.assert_allclose(f.minimizers, [[0.3, -0.7]], atol=1e-12)
    assert f.fmin == pytest.approx(1.5, abs=1e-15)
    k = functions.from_expression("abs(x - 0.25) + abs(y - 1.5)", box=BOX2)  # a kink, no stationary point
    np.testing.assert_allclose(k.minimizers, [[0.25, 1.5]], atol=1e-12)
    one_d = functions.from_expression("(x - 1)**2*(x + 1)**2 + 0.1*x", box=[[-2, 2]])  # two minima
    assert one_d.minimizers.shape == (1, 1) and one_d.minimizers[0, 0] < 0
    assert one_d.local_minima.shape == (1, 1) and one_d.local_minima[0, 0] > 0
    assert abs(float(one_d.grad(one_d.minimizers)[0, 0])) < 1e-10


def test_no_minimum_inside_the_box() -> None:
    for text, why in [("x + y", "edge"), ("x**3", "edge"), ("1/x", "unbounded")]:
        f = functions.from_expression(text, box=BOX2 if "y" in text else [[-2, 2]])
        assert f.fmin is None and f.minimizers.shape == (0, f.dim), text
        assert "no minimum" in f.description and why in f.description, f.description


def test_given_minimizers() -> None:
    f = functions.from_expression("(1 - x)**2 + 100*(y - x**2)**2", box=BOX2, minimizers=[[1, 1]])
    assert not f.estimated and f.fmin == 0.0 and f.minimizers.tolist() == [[1.0, 1.0]]
    assert "given" in f.description
    flat = functions.from_expression("(x - 1)**2", box=[[-2, 2]], minimizers=[1])
    assert flat.minimizers.tolist() == [[1.0]]
    none = functions.from_expression("x**2 - y**2", box=BOX2, minimizers=[])
    assert none.fmin is None and none.minimizers.shape == (0, 2) and not none.estimated
    with pytest.raises(ValueError, match=r"\(0, 0\) is not a global minimizer.*lower"):
        functions.from_expression("(1 - x)**2 + 100*(y - x**2)**2", box=BOX2, minimizers=[[0, 0]])
    with pytest.raises(ValueError, match="outside the box"):
        functions.from_expression("(x - 5)**2", box=[[-2, 2]], minimizers=[[5]])
    with pytest.raises(ValueError, match="must all be global"):
        functions.from_expression("x**2", box=[[-2, 2]], minimizers=[[0], [1]])
    with pytest.raises(ValueError, match="too many numbers"):
        functions.from_expression("x**2", box=[[-2, 2]], minimizers=[[0]] * 5000)
    with pytest.raises(ValueError, match="points of 2 coordinate"):
        functions.from_expression("x**2 + y**2", box=BOX2, minimizers=[[0, 0, 0]])


def test_boxes() -> None:
    assert functions.from_expression("x**2").box.tolist() == [[-5.0, 5.0]]
    assert functions.from_expression("x**2 + y").box.tolist() == [[-5.0, 5.0], [-5.0, 5.0]]
    assert functions.from_expression("x*y", box=[-2, 2, -1, 3]).box.tolist() == BOX2  # flat, as --box
    for box, msg in [
        ([[-2, 2]], "uses y, so it is 2-D"),
        ([[2, -2], [0, 1]], "lo < hi"),
        ([[0, math.inf], [0, 1]], "finite"),
        ([[-1e308, 1e308], [0, 1]], "finite width"),
        ([[0, 1, 2]], "shape"),
        ("a", "numbers"),
        ([[-1, 1]] * 3, "shape"),
    ]:
        with pytest.raises(ValueError, match=re.escape(msg)):
            functions.from_expression("x + y", box=box)


def test_array_api_strict_float32_and_plain_floats() -> None:
    """The same functions run on array_api_strict arrays, keep float32, and take plain floats
    through the point form (what the compiled fast path calls)."""
    f = functions.from_expression(
        "max(x, y)**2 + abs(x - 1)*sin(y) + exp(-x**2)/(1 + y**2) + min(y, 0.5)", box=BOX2
    )
    X = _box_points(f.box, 64, 3)
    v, g = f.value(xps.asarray(X)), f.grad(xps.asarray(X))
    assert type(v).__module__.startswith("array_api_strict")
    np.testing.assert_array_equal(np.asarray(v), f.value(X))
    np.testing.assert_array_equal(np.asarray(g), f.grad(X))
    X32 = X.astype(np.float32)
    assert f.value(X32).dtype == np.float32 and f.grad(X32).dtype == np.float32
    one = f.point.value(0.3, -0.2)
    assert isinstance(one, float)
    assert one == pytest.approx(float(f.value(np.array([[0.3, -0.2]]))[0]), rel=1e-15)
    gx, gy = f.point.grad(0.3, -0.2)
    np.testing.assert_allclose([gx, gy], f.grad(np.array([[0.3, -0.2]]))[0], rtol=1e-15)
    c = functions.from_expression("0.1*x + 0.2*y + 0.3", box=BOX2)  # constant gradient: plain numbers
    assert c.point.grad(1.0, 2.0) == (0.1, 0.2)
    np.testing.assert_array_equal(np.asarray(c.grad(xps.asarray(X))), np.tile([0.1, 0.2], (64, 1)))


def test_point_functions_are_plain_code_over_elementwise() -> None:
    """What the fast path compiles: no closures, no defaults, and every global name is an
    elementwise function; with scalar implementations bound, numba compiles it."""
    f = functions.from_expression("(1 - x)**2 + 100*(y - x**2)**2 + max(x, y) + abs(y)*tanh(x)", box=BOX2)
    for fn in (f.point.value, f.point.grad):
        code = fn.__code__
        assert not code.co_freevars and fn.__defaults__ is None and fn.__closure__ is None
        assert set(code.co_names) <= set(elementwise.FUNCTIONS), code.co_names
        assert set(fn.__globals__) - {"__builtins__"} <= set(elementwise.FUNCTIONS)
    numba = pytest.importorskip("numba")
    scalar = {
        "sqrt": math.sqrt,
        "exp": math.exp,
        "log": math.log,
        "sin": math.sin,
        "cos": math.cos,
        "tan": math.tan,
        "sinh": math.sinh,
        "cosh": math.cosh,
        "tanh": math.tanh,
        "arctan": math.atan,
        "abs_": abs,
        "sign": np.sign,
        "maximum": max,
        "minimum": min,
    }
    X = _box_points(f.box, 8, 4)
    for fn, ref in ((f.point.value, f.value(X)), (f.point.grad, f.grad(X))):
        jit = numba.njit(types.FunctionType(fn.__code__, scalar, fn.__name__))
        got = np.array([jit(a, b) for a, b in X])
        np.testing.assert_allclose(got, ref, rtol=1e-14)


def test_pickles_as_its_text_box_and_minimizers() -> None:
    f = functions.from_expression("(x - 1)**2 + (y - 2)**2", box=BOX2)
    g = pickle.loads(pickle.dumps(f))
    assert isinstance(g, ExpressionFunction) and g.name == f.name and g.source == f.source
    assert g.given_minimizers is None and g.estimated
    h = functions.from_expression("(x - 1)**2", box=[[-2, 2]], minimizers=[[1]])
    h2 = pickle.loads(pickle.dumps(h))
    assert h2.given_minimizers == ((1.0,),) and not h2.estimated and h2.fmin == 0.0
    assert functions.from_expression("(x - 1)**2 + (y - 2)**2", box=BOX2) is f  # built once, cached


def test_names_depend_on_text_box_and_minimizers() -> None:
    a = functions.from_expression("x**2 + y**2", box=BOX2)
    b = functions.from_expression("x**2 + y**2", box=[[-1, 1], [-1, 1]])
    c = functions.from_expression("x**2 + y**2", box=BOX2, minimizers=[[0, 0]])
    assert len({a.name, b.name, c.name}) == 3 and repr(a).startswith("from_expression(")


def test_runs_in_the_engine_like_the_builtin() -> None:
    import optviz

    typed = functions.from_expression("(1 - x)**2 + 100*(y - x**2)**2", box=BOX2, minimizers=[[1, 1]])
    starts = [[-1.5, 2.0], [0.5, -0.5], [1.2, 1.0]]
    opts = {"Adam": {"alpha": 0.05}, "NAG": {"eta": 1e-3}}
    a = optviz.run(typed, opts, starts, 100)
    b = optviz.run("rosenbrock", opts, starts, 100)
    for name in opts:
        np.testing.assert_allclose(a.trajectories[name], b.trajectories[name], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.errors("gap")["Adam"], b.errors("gap")["Adam"], rtol=1e-8, atol=1e-12)


def test_import_functions_does_not_import_sympy_or_optviz() -> None:
    code = "import sys, functions; assert 'sympy' not in sys.modules and 'optviz' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ---------------------------------------------------------------------- refused, with messages
#: (text, message pattern); the box is 2-D when the text mentions y.
HOSTILE = [
    ("__import__('os').system('ls')", r"attribute access"),
    ("__import__('os')", r"unknown function '__import__'"),
    ("x.real", r"attribute access \(\.\) not allowed at column 1"),
    ("x.__class__.__bases__", r"attribute access"),
    ("x[0]", r"subscripts"),
    ("foo(x)", r"unknown function 'foo'"),
    ("sine(x)", r"unknown function 'sine' \(did you mean sin\?\)"),
    ("eval('1')", r"unknown function 'eval'"),
    ("open('f')", r"unknown function 'open'"),
    ("sin.__call__(x)", r"attribute access"),
    ("(lambda: 1)()", r"lambda is not allowed"),
    ("lambda x: x", r"lambda not allowed"),
    ("[x for x in (1, 2)]", r"comprehensions not allowed"),
    ("sum(x for x in (1, 2))", r"unknown function 'sum'"),
    ("'abc'", r"text \(strings\) not allowed"),
    ("f'{x}'", r"text \(strings\) not allowed"),
    ("b'x'", r"text \(strings\) not allowed"),
    ("x" * (MAX_CHARS + 1), r"too long: 1,001 characters \(at most 1,000\)"),
    ("9**9**9", r"exponent 3\.8742e\+08 is too large .* at column 4"),
    ("2**2**2**2**2", r"exponent 65536 is too large"),
    ("x**" * 12 + "y", r"powers are nested too deeply \(at most 8 levels\)"),
    ("x**100000", r"exponent 100000 is too large"),
    ("x**(9**9)", r"exponent .* too large"),
    ("10**400", r"too large"),
    ("1e999 * x", r"too large"),
    ("exp(1000)", r"exp\(\.\.\.\) of this constant is too large"),
    ("(10**200)**2", r"too large"),
    ("sin(" * 40 + "x" + ")" * 40, r"nested too deeply \(at most 32 levels\)"),
    ("-" * 200 + "x", r"nested too deeply"),
    ("(" * 250 + "x" + ")" * 250, r"too many nested brackets"),
    ("log(x)", r"not finite over its box: f\(-2\) = nan"),
    ("sqrt(x) + y", r"not finite over its box"),
    ("1/(x - x)", r"not a finite real number"),
    ("exp(exp(exp(x)))", r"not finite over its box: .* = inf"),
    ("sqrt(abs(x - 2))", r"the gradient of 'sqrt\(abs\(x - 2\)\)' is not finite over its box: at \(2\)"),
    ("1/0", r"division by zero at column 3"),
    ("x/0", r"division by zero"),
    ("0**-1", r"division by zero"),
    ("log(0)", r"log\(\.\.\.\) is not a real number"),
    ("sqrt(-1)", r"sqrt\(\.\.\.\) is not a real number"),
    ("(-8)**(1/3)", r"fractional power is not a real number"),
    ("x +", r"syntax error at column \d+"),
    ("(1 - x)**2 + * y", r"syntax error at column 14"),
    ("sin(x", r"syntax error at column 4: '\(' was never closed"),
    ("2x", r"syntax error at column 1: invalid number \(write 2\*x"),
    ("x y", r"syntax error at column 3: .*missing operator"),
    ("x = 1", r"syntax error"),
    ("import os", r"syntax error"),
    ("x; y", r"syntax error"),
    ("x // 2", r"operator // is not allowed"),
    ("x % 2", r"operator % is not allowed"),
    ("x @ y", r"operator @ is not allowed"),
    ("x & y", r"operator & is not allowed"),
    ("~x", r"operator ~ is not allowed"),
    ("not x", r"operator not is not allowed"),
    ("x if y else 1", r"if/else not allowed"),
    ("x < y", r"comparisons not allowed"),
    ("x and y", r"and/or not allowed"),
    ("(x := 1)", r"assignment"),
    ("x, y", r"a tuple"),
    ("[x, y]", r"lists not allowed"),
    ("{x: y}", r"dictionaries not allowed"),
    ("{x}", r"sets not allowed"),
    ("*x", r"syntax error|starred"),
    ("...", r"Ellipsis not allowed"),
    ("True + x", r"True not allowed"),
    ("None", r"None not allowed"),
    ("1j * x", r"complex numbers not allowed"),
    ("z + x", r"unknown name 'z'"),
    ("X**2", r"unknown name 'X' \(did you mean x\?\)"),
    ("min(x)", r"min takes 2 arguments, got 1"),
    ("max(x, y, 1)", r"max takes 2 arguments, got 3"),
    ("sin(x, y)", r"sin takes 1 argument, got 2"),
    ("sin(x=1)", r"keyword arguments are not allowed"),
    ("sin(*[x])", r"starred|not allowed"),
    ("sin", r"sin is a function: write sin\(\.\.\.\)"),
    ("x(2)", r"x is not a function"),
    ("x\0", r"NUL"),
    ("", r"type a function of x"),
    ("   ", r"type a function of x"),
    (
        "*".join(f"sin(x + {i}*y)" for i in range(1, 80))[:MAX_CHARS].rsplit("*", 1)[0],
        r"too large to differentiate",
    ),
    (
        "/".join(f"(x + {i}*y + 3)" for i in range(1, 80))[:MAX_CHARS].rsplit("/", 1)[0],
        r"too large to differentiate",
    ),
]

#: Generous: the issue asks for 1 s; this shared 2-core machine can be slow (see
#: benchmarks/bench_expression.py for the measured times).
TIME_BOUND_S = 5.0


@pytest.fixture(scope="module")
def pool():
    functions.from_expression("x**2 + y**2", box=BOX2)  # SymPy imported once, as on a server
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        yield ex


@pytest.mark.parametrize(("text", "message"), HOSTILE, ids=[h[0][:30] for h in HOSTILE])
def test_hostile_input_refused_quickly(pool, text: str, message: str) -> None:
    box = BOX2 if "y" in text else [[-2, 2]]
    fut = pool.submit(_refusal, text, box)
    try:
        kind, msg = fut.result(timeout=TIME_BOUND_S)
    except concurrent.futures.TimeoutError:
        pytest.fail(f"{text[:40]!r} was not refused within {TIME_BOUND_S} s")
    assert kind == "ValueError", (kind, msg)
    assert re.search(message, msg), msg
    assert "\n" not in msg  # one line, for `optviz: error: ...`


def _refusal(text: str, box) -> tuple[str, str]:
    try:
        functions.from_expression(text, box=box)
    except Exception as exc:  # the test checks the kind
        return type(exc).__name__, str(exc)
    return "accepted", ""


def test_hostile_input_runs_nothing(tmp_path, monkeypatch) -> None:
    """Nothing in a refused text is executed: an attempt to write a file leaves no file."""
    monkeypatch.chdir(tmp_path)
    for text in [
        "open('pwned', 'w').write('x')",
        "__import__('pathlib').Path('pwned').touch()",
        "[c for c in ().__class__.__base__.__subclasses__()]",
    ]:
        with pytest.raises(ValueError):
            functions.from_expression(text)
    assert not (tmp_path / "pwned").exists()


def test_longest_text_accepted() -> None:
    text = "x**2" + " + 0*x" * ((MAX_CHARS - 4) // 6)
    assert len(text) <= MAX_CHARS
    assert functions.from_expression(text, box=[[-1, 1]]).minimizers.tolist() == [[0.0]]
    with pytest.raises(ValueError, match="must be text"):
        functions.from_expression(3)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- issue 23: bounded builds
def _nested_max(levels: int, tail: str = "") -> str:
    """The issue's formula: ``levels`` nested ``max(s, sin(i*x + (i%7)*y))``."""
    s = "x"
    for i in range(1, levels + 1):
        s = f"max({s}, sin({i}*x + {i % 7}*y))"
    return s + tail


def _nested_max_ref(levels: int):
    def ref(x, y):
        s = x
        for i in range(1, levels + 1):
            s = np.maximum(s, np.sin(i * x + (i % 7) * y))
        return s

    return ref


def test_nested_max_builds_quickly(pool) -> None:
    """20 nested max calls (432 characters) spent 17-62 s in SymPy's Max; now well within the
    build limit, with the right values and subgradients."""
    text = _nested_max(20)
    for _ in range(5):  # (retried while the machine is too busy to judge: 'the server is busy; try again')
        fut = pool.submit(functions.from_expression, text, BOX2)
        try:
            f = fut.result(timeout=TIME_BOUND_S)
            break
        except concurrent.futures.TimeoutError:
            pytest.fail(f"20 nested max calls were not built within {TIME_BOUND_S} s")
        except ValueError as exc:
            if "busy" not in str(exc):
                raise
    else:
        pytest.fail("the machine stayed too busy to build the text")
    X = _box_points(f.box, 300, 5)
    _close(f.value(X), _nested_max_ref(20)(*X.T), 1e-13)
    ok = np.all(np.abs(f.grad(X) - _fd(f, X)) < 1e-4 * np.maximum(1, np.abs(_fd(f, X))), axis=1)
    assert ok.mean() > 0.97
    assert f.formula.count(r"\max") == 20


def _refused_for_time(text: str) -> tuple[str, float]:
    """The refusal of a text that takes too long, and the seconds it took (retried while the
    machine was too busy to judge: that answer is not remembered)."""
    for _ in range(5):
        t = time.perf_counter()
        with pytest.raises(ValueError) as err:
            functions.from_expression(text, box=BOX2)
        if "busy" not in str(err.value):
            return str(err.value), time.perf_counter() - t
    pytest.fail("the machine stayed too busy to judge the text")


def test_slow_formula_refused_at_the_deadline_and_remembered(monkeypatch) -> None:
    """A build past BUILD_SECONDS is killed and refused with one line; the same text is then
    refused at once, without a new worker, and no worker process is left behind."""
    from functions import _worker, expression

    functions.from_expression("x**2 + y**2", box=BOX2)  # the fork server is running
    monkeypatch.setattr(expression, "BUILD_SECONDS", 0.1)  # the text below takes ~0.5 s
    text = _nested_max(22, " + 1")
    msg, took = _refused_for_time(text)
    assert re.fullmatch(r"'max\(max\(.{30,50}\.\.\.' took longer than 0\.1 s to build; simplify it", msg), msg
    assert took < 0.1 + TIME_BOUND_S
    started = []
    real_start = _worker.start
    monkeypatch.setattr(_worker, "start", lambda *a: started.append(a) or real_start(*a))
    t = time.perf_counter()
    with pytest.raises(ValueError) as again:
        functions.from_expression(text, box=BOX2)
    assert str(again.value) == msg and time.perf_counter() - t < 0.05 and not started
    assert not [p for p in multiprocessing.active_children() if isinstance(p, _worker.WorkerProcess)]


def test_a_plain_formula_does_not_wait_for_a_slow_one() -> None:
    """No lock is held around a build: a plain formula typed while a slow one builds is ready
    first (it waited 56 s behind the issue's nested max)."""
    functions.from_expression("x**2 + y**2", box=BOX2)  # the fork server is running
    done: dict[str, float] = {}

    def build(name: str, text: str) -> None:
        with contextlib.suppress(ValueError):
            functions.from_expression(text, box=BOX2)
        done[name] = time.perf_counter()

    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        slow = ex.submit(build, "slow", _nested_max(22, " + 2"))
        time.sleep(0.05)
        t = time.perf_counter()
        ex.submit(build, "plain", "x**2 + 3*y**2 + 0.25*x*y").result(timeout=TIME_BOUND_S)
        slow.result(timeout=60)
    assert done["plain"] < done["slow"], done
    assert done["plain"] - t < TIME_BOUND_S


def test_tiny_constants_underflow_to_zero() -> None:
    """x*10**-400 is 0 in floating point (as 1e-400*x is): built, not an OverflowError."""
    X = _box_points(np.array([[-2.0, 2.0]]), 50, 6)
    for text in ["x*10**-400", "(1/7)**999*x", "x/10**200/10**200"]:
        f = functions.from_expression(text, box=[[-2, 2]])
        assert np.all(f.value(X) == 0.0) and np.all(f.grad(X) == 0.0), text
        assert "10^{-" in f.formula, f.formula  # not hundreds of digits
    g = functions.from_expression("x*10**-200*10**-200 + (x - 1)**2", box=[[-2, 2]])
    np.testing.assert_allclose(g.value(X), (X[:, 0] - 1) ** 2, rtol=1e-15)
    np.testing.assert_allclose(g.minimizers, [[1.0]], atol=1e-9)


def test_abs_of_real_expressions() -> None:
    """abs of a real expression differentiates as sign(u)*u' (was: cannot compile atan2 / re)."""
    f = functions.from_expression("abs(sqrt(x))", box=[[0.1, 4]])
    X = _box_points(f.box, 50, 7)
    _close(f.value(X), np.sqrt(X[:, 0]), 1e-15)
    np.testing.assert_allclose(f.grad(X)[:, 0], 0.5 / np.sqrt(X[:, 0]), rtol=1e-14)
    g = functions.from_expression("abs(atan(x/y))", box=[[-2, 2], [0.5, 3]])
    X = _box_points(g.box, 300, 8)
    _close(g.value(X), np.abs(np.arctan(X[:, 0] / X[:, 1])), 1e-15)
    np.testing.assert_allclose(g.grad(X), _fd(g, X), rtol=1e-5, atol=1e-6)
    assert g.formula == r"f(x, y)=\left|\operatorname{atan}{\left(\frac{x}{y} \right)}\right|"


@pytest.mark.parametrize(
    ("text", "box", "minimizers"),
    [
        ("x" * 1000, None, None),
        ("q" * 990 + "(x)", None, None),
        ("x**2", "a" * 10_000, None),
        ("x**2", [[-1, 1]], "b" * 10_000),
        ("x" * 990 + " + (", None, None),
    ],
    ids=["long name", "long function name", "long box", "long minimizers", "long syntax error"],
)
def test_messages_quote_at_most_60_characters(text: str, box, minimizers) -> None:
    with pytest.raises(ValueError) as err:
        functions.from_expression(text, box=box, minimizers=minimizers)
    msg = str(err.value)
    assert "\n" not in msg and len(msg) < 300, (len(msg), msg[:100])
    assert not re.search(r"([xqab])\1{60}", msg), msg

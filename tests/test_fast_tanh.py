"""The branch-free tanh, e^y and log1p of the learning problems' compiled loops
(:mod:`functions.problems.simd_math`): accurate to 2 ulp over their whole range, right at the special
values, the same as plain Python and as compiled, and vectorized by LLVM (no call left in the loop).
"""

from __future__ import annotations

import math
import platform
import re

import mpmath
import numpy as np
import pytest

from functions.problems import simd_math as M

numba = pytest.importorskip("numba")


@pytest.fixture(scope="module")
def compiled():
    """One compiled loop per function (as a kernel compiles them: error_model numpy, no fastmath)."""
    from optviz.engine.fast import jit

    out = {}
    for f in (M.tanh, M.exp_neg, M.log1p_unit, M.sigmoid):
        jit.prepare(f)

        def loop(x, y, f=f):
            for i in range(x.shape[0]):
                y[i] = f(x[i])

        out[f.__name__] = numba.njit(error_model="numpy", boundscheck=False)(loop)
    return out


def _apply(loop, x):
    y = np.empty_like(x)
    loop(x, y)
    return y


def _ulps(got, want):
    return np.abs(got - want) / np.spacing(np.abs(want))


def _grid(rng):
    """A dense grid of the whole line: uniform steps to ±25, and magnitudes from 1e-310 to 1e3."""
    mags = 10.0 ** rng.uniform(-310, 3, 200_000)
    return np.concatenate([np.linspace(-25, 25, 400_001), mags, -mags])


def test_tanh_within_2_ulp_of_a_50_digit_tanh_and_3_of_the_c_library(compiled):
    rng = np.random.default_rng(0)
    x = _grid(rng)
    got = _apply(compiled["tanh"], x)
    # the C library's tanh is itself within ~1 ulp: the two differ by at most 3 on the dense grid
    assert _ulps(got[::4], np.array([math.tanh(v) for v in x[::4]])).max() <= 3.0
    sample = x[rng.integers(0, x.size, 3000)]
    with mpmath.workdps(50):
        want = np.array([float(mpmath.tanh(mpmath.mpf(float(v)))) for v in sample])
    assert _ulps(_apply(compiled["tanh"], sample), want).max() <= 2.0


def test_tanh_special_values(compiled):
    x = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, -1e-310, 1e-200, 19.5, -21.0, 1e308])
    got = _apply(compiled["tanh"], x)
    want = [0.0, -0.0, np.nan, 1.0, -1.0, 5e-324, -1e-310, 1e-200, 1.0, -1.0, 1.0]
    np.testing.assert_array_equal(got, want)
    assert list(np.signbit(got[:2])) == [False, True]
    assert math.copysign(1.0, M.tanh(-0.0)) == -1.0  # plain Python too


def test_exp_log1p_and_sigmoid_within_2_ulp(compiled):
    rng = np.random.default_rng(1)
    y = np.concatenate([-np.linspace(0, 708, 300_001), -(10.0 ** rng.uniform(-310, 2.85, 100_000))])
    assert _ulps(_apply(compiled["exp_neg"], y), np.exp(y)).max() <= 1.0
    low = _apply(compiled["exp_neg"], np.array([-800.0, -708.0, np.nan]))  # (clipped at -708)
    assert low[0] == low[1] == pytest.approx(math.exp(-708.0), rel=3e-16) and np.isnan(low[2])
    u = np.concatenate([np.linspace(0, 1, 300_001), 10.0 ** rng.uniform(-320, 0, 100_000)])
    assert _ulps(_apply(compiled["log1p_unit"], u), np.log1p(u)).max() <= 2.0
    z = np.linspace(-60, 60, 100_001)
    assert _ulps(_apply(compiled["sigmoid"], z), np.array([1 / (1 + math.exp(-v)) for v in z])).max() <= 3.0
    assert np.isnan(_apply(compiled["log1p_unit"], np.array([np.nan]))[0])
    assert np.isnan(_apply(compiled["sigmoid"], np.array([np.nan]))[0])


def test_plain_python_gives_the_compiled_bits(compiled):
    x = np.random.default_rng(2).normal(0, 3, 200)
    for name in ("tanh", "sigmoid"):
        f = getattr(M, name)
        np.testing.assert_array_equal(_apply(compiled[name], x), [f(v) for v in x])
    assert M.softplus_minus(3.0, 1.0) == pytest.approx(math.log1p(math.exp(-3.0)), rel=1e-15)


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="x86 assembly")
def test_a_loop_of_tanh_is_vectorized(compiled):
    """Packed double operations and no call to a library function in the compiled loop."""
    asm = "\n".join(compiled["tanh"].inspect_asm().values())
    assert re.search(r"\bv?(mul|div)pd\b", asm), "no packed float64 arithmetic: the loop was not vectorized"
    assert not re.search(r"call\w*\s+\*?\w*tanh", asm)

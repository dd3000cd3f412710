"""``tanh``, ``e^y`` (``y ≤ 0``) and ``log1p`` (on ``[0, 1]``) from arithmetic only, so that a loop
calling them can be vectorized.

numba hands :func:`math.tanh`, :func:`math.exp` and :func:`math.log1p` to the C library one number at a
time (~13 ns for a tanh here); LLVM vectorizes a loop over them only with Intel's SVML, which this
numba build (like most) lacks. The functions below use additions, multiplications, one division,
comparisons that become selects, and one bit reinterpretation of a number (no branch, no table, no
call), so a loop over many of them (the hidden units of a network over a batch of rows) runs 8 to a
register (AVX-512) or 4 (AVX2). They run as plain Python on NumPy scalars too (slowly), which is
how the tests check them. Every operation is IEEE-rounded in a fixed order (no ``fastmath``), so
the results do not depend on the vector width.

- ``e^y`` and ``e^y − 1``, ``y ≤ 0``: ``n = round(y / ln 2)`` (adding and subtracting 1.5·2^52),
  ``r = y − n ln2_hi − n ln2_lo`` (``|r| ≤ ln 2 / 2``; ``ln2_hi`` has 32 significant bits, so
  ``n ln2_hi`` is exact), ``e^r − 1 = r + r² Σ_{k=2}^{13} r^{k−2}/k!`` (Taylor; the first term
  left out, ``r^14/14!``, is ``1.2e-17`` relative at ``|r| = ln 2 / 2``), and ``2^n`` built from its
  exponent bits (``(n + 1023) << 52`` read as a float64, ``n`` taken from the rounded sum's bits).
  ``e^y = 2^n + 2^n (e^r − 1)``; ``e^y − 1 = 2^n (e^r − 1) + (2^n − 1)`` (exact for ``n = 0``: no
  cancellation near 0). ``y`` below ``−708`` is taken as ``−708`` (``e^y`` stays a normal number,
  ``3.3e-308`` instead of smaller).
- ``tanh(x) = sign(x) · (−m) / (2 + m)``, ``m = e^{−2|x|} − 1``, ``|x|`` clipped at 20 (``tanh = 1``
  in float64 from ``|x| ≈ 19.06``): relative accuracy near 0 through ``e^y − 1``. Measured against
  a 50-digit ``mpmath`` tanh (tests/test_fast_tanh.py): at most 2 ulp over ``|x|`` from ``1e-300``
  to ``1e3``, exact at ``±0`` (sign kept), ``±1`` beyond 20, NaN for NaN.
- ``log1p(u)``, ``0 ≤ u ≤ 1`` (``log1p(e^{−|z|})`` of the logistic loss): ``f = u`` below ``√2 − 1``,
  else ``f = (u − 1) / 2`` and ``ln 2`` added (``log(1 + u) = ln 2 + log(1 + f)``), then ``log(1 +
  f) = 2 atanh(s) = f − (f²/2 − s (f²/2 + R))``, ``s = f / (2 + f)`` (``|s| ≤ 0.172``), ``R = 2
  Σ_{k=1}^{11} s^{2k} / (2k + 1)`` (first term left out ``≤ 2e-19`` relative), so that the leading
  term ``f`` is exact.

Reference: the same reductions as fdlibm's ``expm1``, ``exp`` and ``log1p`` (Sun Microsystems,
1993), with Taylor coefficients instead of its minimax ones.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np


def _ln2_split() -> tuple[float, float, float]:
    """``ln 2`` rounded, and as ``hi + lo`` with ``hi`` of 32 significant bits (``n·hi`` exact)."""
    with localcontext() as ctx:
        ctx.prec = 60
        ln2 = Decimal(2).ln()
    mant, ex = math.frexp(float(ln2))
    hi = math.ldexp(math.floor(math.ldexp(mant, 32)), ex - 32)
    return float(ln2), hi, float(ln2 - Decimal(hi))


LN2, LN2_HI, LN2_LO = _ln2_split()
INV_LN2 = 1.0 / LN2
#: Adding then subtracting 1.5·2^52 rounds a float64 below 2^51 in size to the nearest integer.
ROUND = 1.5 * 2.0**52
ROUND_BITS = int(np.float64(ROUND).view(np.int64))
#: Below this, ``e^y`` would leave the normal float64 numbers (``2^n`` needs ``n ≥ −1022``).
EXP_MIN = -708.0
#: ``tanh(x) = ±1`` in float64 for ``|x|`` above ~19.06.
TANH_MAX = 20.0
SQRT2_M1 = math.sqrt(2.0) - 1.0

# e^r − 1 = r + r² (E2 + E3 r + … + E13 r^11), E_k = 1/k!
E2, E3, E4, E5, E6, E7, E8, E9, E10, E11, E12, E13 = (1.0 / math.factorial(k) for k in range(2, 14))
# log(1 + f) = 2s + s R, R = s² (L1 + L2 s² + … + L11 s^20), L_k = 2/(2k + 1)
L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11 = (2.0 / (2 * k + 1) for k in range(1, 12))


def expm1_parts(y):
    """``(2^n, e^r − 1)`` with ``e^y = 2^n e^r``, for ``EXP_MIN ≤ y ≤ 0`` (NaN gives a NaN part)."""
    kf = y * INV_LN2 + ROUND
    n = kf - ROUND
    r = (y - n * LN2_HI) - n * LN2_LO
    # r + r² Σ E_k r^(k-2), the sum by Estrin's scheme (pairs, then r², r⁴, r⁸: a shorter chain)
    r2 = r * r
    r4 = r2 * r2
    q0 = (E2 + r * E3) + r2 * (E4 + r * E5)
    q1 = (E6 + r * E7) + r2 * (E8 + r * E9)
    q2 = (E10 + r * E11) + r2 * (E12 + r * E13)
    q = r + r2 * ((q0 + r4 * q1) + (r4 * r4) * q2)
    bits = np.int64((np.int64(np.float64(kf).view(np.int64)) - ROUND_BITS + 1023) << 52)
    return bits.view(np.float64), q


def exp_neg(y):
    """``e^y`` for ``y ≤ 0`` (``y < −708`` gives ``e^−708``; NaN gives NaN), within 1 ulp."""
    y = EXP_MIN if y < EXP_MIN else y
    s, q = expm1_parts(y)
    return s + s * q


def tanh(x):
    """``tanh(x)`` without a branch or a call (see the module's docstring): within 2 ulp."""
    a = abs(x)
    a = TANH_MAX if a > TANH_MAX else a
    s, q = expm1_parts(-2.0 * a)
    m = s * q + (s - 1.0)
    return math.copysign(-m / (2.0 + m), x)


def log1p_unit(u):
    """``log(1 + u)`` for ``0 ≤ u ≤ 1`` (NaN gives NaN), within 2 ulp."""
    big = u > SQRT2_M1
    f = 0.5 * u - 0.5 if big else u
    s = f / (2.0 + f)
    z = s * s
    z2 = z * z
    z4 = z2 * z2
    R = z * (((L1 + z * L2) + z2 * (L3 + z * L4)) + z4 * ((L5 + z * L6) + z2 * (L7 + z * L8))
             + (z4 * z4) * ((L9 + z * L10) + z2 * L11))
    hfsq = 0.5 * f * f
    low = f - (hfsq - s * (hfsq + R))  # (2s = f − s f: the leading term f is exact)
    return (LN2_HI + (LN2_LO + low)) if big else low


def sigmoid(z):
    """``σ(z) = 1 / (1 + e^{−z})`` as ``1/(1 + e)`` (``z ≥ 0``) or ``e/(1 + e)``, ``e = e^{−|z|}``."""
    e = exp_neg(-abs(z))
    return (1.0 if z >= 0 else e) / (1.0 + e)


def softplus_minus(z, y):
    """``log(1 + e^z) − y z`` as ``max(z, 0) − y z + log1p(e^{−|z|})`` (no overflow; NaN propagates)."""
    return (z if z > 0.0 else 0.0) - y * z + log1p_unit(exp_neg(-abs(z)))

"""The problems' maths for one point at a time, for optviz's compiled kernels (:class:`DataForm`).

The same losses and gradients as :mod:`functions.problems.models` with
:class:`functions.problems.base.Task`, written as loops over scalars: one point's parameters ``x``
(float64, length ``dim``), the training rows ``data`` (``(N, k + 1)``: the ``k`` inputs, then the
target) and the rows ``idx`` of this step's batch (int64, summed in that order). Only arithmetic,
indexing, small scratch arrays and the branch-free tanh / sigmoid / softplus of
:mod:`functions.problems.simd_math` are used, so numba can inline them in a kernel and vectorize their
loops over rows; they run as plain Python too (slowly), which is how the tests hold them equal to the
array path.

- ``value(x, data, idx[, c]) -> float``: the mean loss over the rows ``idx`` (plus the ridge term);
- ``grad(x, data, idx[, c], out) -> None``: its gradient, written into ``out``.

``c`` (passed only when :attr:`DataForm.consts` is not empty) is the logistic problem's ridge:
``(λ, mask_1, …, mask_dim)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from functions.problems.simd_math import exp_neg, log1p_unit, sigmoid, softplus_minus, tanh


@dataclass(frozen=True, eq=False)
class DataForm:
    """What a kernel needs of a learning problem: the training rows and the per-point loss and gradient."""

    data: np.ndarray
    value: Callable[..., float]
    grad: Callable[..., None]
    consts: tuple[float, ...] = ()


# ----------------------------------------------------------------------------- least squares
def linear_value(x, data, idx):
    """``1/(2m) Σ_{i ∈ idx} (a_i · x − t_i)²``."""
    d = x.shape[0]
    m = idx.shape[0]
    total = 0.0
    for r in range(m):
        i = idx[r]
        z = 0.0
        for j in range(d):
            z += data[i, j] * x[j]
        e = z - data[i, d]
        total += 0.5 * e * e
    return total / m


def linear_grad(x, data, idx, out):
    """``1/m Σ (a_i · x − t_i) a_i``."""
    d = x.shape[0]
    m = idx.shape[0]
    for j in range(d):
        out[j] = 0.0
    for r in range(m):
        i = idx[r]
        z = 0.0
        for j in range(d):
            z += data[i, j] * x[j]
        e = (z - data[i, d]) / m
        for j in range(d):
            out[j] += e * data[i, j]


# ----------------------------------------------------------------------------- logistic regression
def affine_logistic_value(x, data, idx, c):
    """``1/m Σ softplus(z_i) − y_i z_i + λ/2 Σ mask_j x_j²``, ``z_i = a_i · w + b``."""
    d = x.shape[0]
    k = d - 1
    m = idx.shape[0]
    total = 0.0
    for r in range(m):
        i = idx[r]
        z = x[k]
        for j in range(k):
            z += data[i, j] * x[j]
        total += softplus_minus(z, data[i, k])
    ridge = 0.0
    for j in range(d):
        ridge += c[1 + j] * x[j] * x[j]
    return total / m + 0.5 * c[0] * ridge


def affine_logistic_grad(x, data, idx, c, out):
    """``1/m Σ (σ(z_i) − y_i) (a_i, 1) + λ mask ⊙ x``."""
    d = x.shape[0]
    k = d - 1
    m = idx.shape[0]
    for j in range(d):
        out[j] = 0.0
    for r in range(m):
        i = idx[r]
        z = x[k]
        for j in range(k):
            z += data[i, j] * x[j]
        e = (sigmoid(z) - data[i, k]) / m
        for j in range(k):
            out[j] += e * data[i, j]
        out[k] += e
    for j in range(d):
        out[j] += c[0] * c[1 + j] * x[j]


# ----------------------------------------------------------------------------- k-h-1 tanh MLP
@functools.cache
def mlp_logistic(k: int, h: int) -> tuple[Callable[..., float], Callable[..., None]]:
    """``(value, grad)`` of the ``k``-``h``-1 tanh network's mean logistic loss (parameters ``W1`` by
    rows, ``b1``, ``w2``, ``b2``), for ``k`` inputs and ``h`` hidden units fixed in the code.

    With the sizes known when numba compiles them, every loop over the hidden units has a known
    length, and LLVM vectorizes it whole (two AVX-512 registers for 16 units) with the loop over
    the ``k`` inputs unrolled; the loss (``value``, the full training set every recorded step) runs
    its rows in SIMD lanes instead. Each hidden activation is computed once, with the branch-free
    :func:`~functions.problems.simd_math.tanh`. The sums over the hidden units and inputs are in the
    readable path's order (``pre = b1 + Σ_q W1[j, q] a_q``, ``z = b2 + Σ_j w2_j tanh(pre_j)``); the
    gradient's sums over the rows run in their order.
    """
    o1, o2, o3 = h * k, h * k + h, h * k + 2 * h

    # (Scratch arrays are 2-D and indexed by loop counters: numba then leaves out the negative-index
    # wrap-around that would make LLVM gather and scatter instead of loading and storing vectors.)
    def value(x, data, idx):
        m = idx.shape[0]
        S = np.empty((k + 3) * m)
        A = S[:(k + 1) * m].reshape((k + 1, m))  # rows in lanes: the inputs, then the target
        Z = S[(k + 1) * m:].reshape((2, m))  # z, then the pre-activation (and each row's loss)
        for r in range(m):
            i = idx[r]
            for q in range(k + 1):
                A[q, r] = data[i, q]
        for r in range(m):
            Z[0, r] = x[o3]
        for j in range(h):
            for r in range(m):
                Z[1, r] = x[o1 + j]
            for q in range(k):
                w = x[j * k + q]
                for r in range(m):
                    Z[1, r] += w * A[q, r]
            w2 = x[o2 + j]
            for r in range(m):
                Z[0, r] += w2 * tanh(Z[1, r])
        for r in range(m):  # (two loops: each small enough for LLVM to inline its call and vectorize)
            Z[1, r] = exp_neg(-abs(Z[0, r]))
        for r in range(m):
            z = Z[0, r]
            Z[1, r] = (z if z > 0.0 else 0.0) - A[k, r] * z + log1p_unit(Z[1, r])
        total = 0.0
        for r in range(m):
            total += Z[1, r]
        return total / m

    def grad(x, data, idx, out):
        m = idx.shape[0]
        S = np.empty(m * h + 2 * m + (2 * k + 2) * h)
        U = S[:m * h].reshape((m, h))  # the activations, row by row
        D = S[m * h:m * h + 2 * m].reshape((2, m))  # dL/dz of each row, the targets
        G = S[m * h + 2 * m:].reshape((2 * k + 2, h))  # the sums (W1 by inputs, b1, w2), then W1ᵀ
        for j in range(h):
            for q in range(k):
                G[k + 2 + q, j] = x[j * k + q]
            for q in range(k + 2):
                G[q, j] = 0.0
        for r in range(m):  # pre-activations, a row at a time
            i = idx[r]
            for j in range(h):
                U[r, j] = x[o1 + j]
            for q in range(k):
                a = data[i, q]
                for j in range(h):
                    U[r, j] += G[k + 2 + q, j] * a
            D[1, r] = data[i, k]
        for u in range(m * h):
            S[u] = tanh(S[u])
        for r in range(m):
            z = x[o3]
            for j in range(h):
                z += x[o2 + j] * U[r, j]
            D[0, r] = z
        for r in range(m):
            D[0, r] = (sigmoid(D[0, r]) - D[1, r]) / m
        total = 0.0
        for r in range(m):
            i = idx[r]
            d = D[0, r]
            total += d
            for j in range(h):
                t = U[r, j]
                dp = x[o2 + j] * d * (1.0 - t * t)
                G[k, j] += dp
                G[k + 1, j] += d * t
                U[r, j] = dp
            for q in range(k):
                a = data[i, q]
                for j in range(h):
                    G[q, j] += U[r, j] * a
        for j in range(h):
            for q in range(k):
                out[j * k + q] = G[q, j]
            out[o1 + j] = G[k, j]
            out[o2 + j] = G[k + 1, j]
        out[o3] = total

    value.__qualname__ = f"mlp_logistic_value_{k}_{h}"
    grad.__qualname__ = f"mlp_logistic_grad_{k}_{h}"
    return value, grad


def packed(inputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The training rows as one C-contiguous float64 array: inputs, then the target."""
    return np.ascontiguousarray(np.column_stack([inputs, targets]), dtype=np.float64)

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

from functions.problems.simd_math import exp_neg, log1p_unit, sigmoid, tanh


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
def _rows_in_lanes(data, idx, A):
    """The batch's rows in SIMD lanes: ``A[q, r] = data[idx[r], q]`` (the inputs, then the target)."""
    for r in range(idx.shape[0]):
        i = idx[r]
        for q in range(data.shape[1]):
            A[q, r] = data[i, q]


def _affine_z(x, data, idx, A, Z):
    """The batch's rows in lanes (:func:`_rows_in_lanes`) and ``Z[r] = b + Σ_j w_j a_j`` (in the
    order of ``j``)."""
    k = x.shape[0] - 1
    m = idx.shape[0]
    _rows_in_lanes(data, idx, A)
    for r in range(m):
        Z[r] = x[k]
    for j in range(k):
        w = x[j]
        for r in range(m):
            Z[r] += A[j, r] * w


def _logistic_sum(A, Z, k):
    """``Σ_r softplus(z_r) − y_r z_r`` over the batch's rows in lanes: ``z`` in ``Z[0]``, the targets in
    ``A[k]``; ``Z[1]`` takes each row's loss."""
    m = Z.shape[1]
    for r in range(m):  # (two loops: each small enough for LLVM to inline its call and vectorize)
        Z[1, r] = exp_neg(-abs(Z[0, r]))
    for r in range(m):
        z = Z[0, r]
        Z[1, r] = (z if z > 0.0 else 0.0) - A[k, r] * z + log1p_unit(Z[1, r])
    total = 0.0
    for r in range(m):
        total += Z[1, r]
    return total


def affine_logistic_value(x, data, idx, c):
    """``1/m Σ softplus(z_i) − y_i z_i + λ/2 Σ mask_j x_j²``, ``z_i = a_i · w + b``."""
    d = x.shape[0]
    k = d - 1
    m = idx.shape[0]
    S = np.empty((k + 3) * m)
    A = S[:(k + 1) * m].reshape((k + 1, m))
    Z = S[(k + 1) * m:].reshape((2, m))  # z, then each row's loss
    _affine_z(x, data, idx, A, Z[0])
    total = _logistic_sum(A, Z, k)
    ridge = 0.0
    for j in range(d):
        ridge += c[1 + j] * x[j] * x[j]
    return total / m + 0.5 * c[0] * ridge


def affine_logistic_grad(x, data, idx, c, out):
    """``1/m Σ (σ(z_i) − y_i) (a_i, 1) + λ mask ⊙ x``."""
    d = x.shape[0]
    k = d - 1
    m = idx.shape[0]
    S = np.empty((k + 2) * m)
    A = S[:(k + 1) * m].reshape((k + 1, m))
    Z = S[(k + 1) * m:]
    _affine_z(x, data, idx, A, Z)
    for r in range(m):
        Z[r] = (sigmoid(Z[r]) - A[k, r]) / m
    for j in range(k):
        g = 0.0
        for r in range(m):
            g += Z[r] * A[j, r]
        out[j] = g
    g = 0.0
    for r in range(m):
        g += Z[r]
    out[k] = g
    for j in range(d):
        out[j] += c[0] * c[1 + j] * x[j]


# ----------------------------------------------------------------------------- k-h-1 tanh MLP
@functools.cache
def mlp_logistic(k: int, h: int) -> tuple[Callable[..., float], Callable[..., None]]:
    """``(value, grad)`` of the ``k``-``h``-1 tanh network's mean logistic loss (parameters ``W1`` by
    rows, ``b1``, ``w2``, ``b2``), for ``k`` inputs and ``h`` hidden units fixed in the code.

    The rows of the batch run in SIMD lanes in the forward pass: for each hidden unit ``j``, a loop
    over the rows computes ``pre = b1_j + Σ_q W1[j, q] a_q`` (the ``k`` inputs unrolled), one long
    loop takes every ``t = tanh(pre)`` with the branch-free
    :func:`~functions.problems.simd_math.tanh`, and a loop per unit adds ``z += w2_j t``: the
    readable path's order of additions. ``grad`` keeps each ``t`` (computed once) and runs the
    backward pass a row at a time with the hidden units in lanes, so its sums over the rows add them
    in their order.
    """
    o1, o2, o3 = h * k, h * k + h, h * k + 2 * h

    # (The scratch arrays are 2-D and indexed by loop counters: numba then leaves out the wrap-around
    # of negative indices, which would make LLVM gather and scatter instead of moving whole vectors.
    # The loops that vectorize run over the rows, whose number is not known when compiling: a loop of
    # a known 16 steps is unrolled into scalar code instead.)
    def forward(x, data, idx, S, T, A, z):
        """The batch's rows into ``A`` (inputs, then target), every hidden unit's activation into ``T``
        (the first ``h m`` numbers of ``S``, unit by unit) and the output into ``z[:m]``."""
        m = idx.shape[0]
        _rows_in_lanes(data, idx, A)
        for r in range(m):
            z[r] = x[o3]
        for j in range(h):
            b = x[o1 + j]
            for r in range(m):
                pre = b
                for q in range(k):
                    pre += x[j * k + q] * A[q, r]
                T[j, r] = pre
        for u in range(h * m):  # (one long loop: the tanh at full speed)
            S[u] = tanh(S[u])
        for j in range(h):
            w2 = x[o2 + j]
            for r in range(m):
                z[r] += w2 * T[j, r]

    def value(x, data, idx):
        m = idx.shape[0]
        S = np.empty((h + k + 3) * m)
        T = S[:h * m].reshape((h, m))  # pre-activations, then activations, unit by unit
        A = S[h * m:(h + k + 1) * m].reshape((k + 1, m))  # rows in lanes: the inputs, then the target
        Z = S[(h + k + 1) * m:].reshape((2, m))  # z, then each row's loss
        forward(x, data, idx, S, T, A, Z[0])
        return _logistic_sum(A, Z, k) / m

    def grad(x, data, idx, out):
        m = idx.shape[0]
        S = np.empty((2 * h + k + 2) * m)
        T = S[:h * m].reshape((h, m))  # the activations, unit by unit (rows in lanes)
        U = S[h * m:2 * h * m]  # the same, row by row: U[r h + j]
        A = S[2 * h * m:(2 * h + k + 1) * m].reshape((k + 1, m))  # inputs and targets
        Z = S[(2 * h + k + 1) * m:]  # z, then dL/dz
        G = np.zeros((k + 3) * h)  # the sums (W1 by inputs, b1, w2), then a copy of w2
        forward(x, data, idx, S, T, A, Z)
        for r in range(m):  # dL/dz of each row
            Z[r] = (sigmoid(Z[r]) - A[k, r]) / m
        for r in range(m):
            for j in range(h):
                U[r * h + j] = T[j, r]
        # Backward, a row at a time, the units in lanes: G's parts sit at constant distances (h apart),
        # so LLVM can tell its reads and writes apart; the loop runs to ``hr`` (= h, but not a constant:
        # a loop of a known 16 steps would be unrolled into scalar code instead).
        hr = min(h, (x.shape[0] - 1) // (k + 2))
        for j in range(hr):
            G[(k + 2) * h + j] = x[o2 + j]
        total = 0.0
        for r in range(m):
            d = Z[r]
            total += d
            for j in range(hr):
                t = U[r * h + j]
                dp = G[(k + 2) * h + j] * d * (1.0 - t * t)  # dL/dpre_j
                for q in range(k):
                    G[q * h + j] += dp * A[q, r]
                G[k * h + j] += dp
                G[(k + 1) * h + j] += d * t
        for j in range(h):
            for q in range(k):
                out[j * k + q] = G[q * h + j]
            out[o1 + j] = G[k * h + j]
            out[o2 + j] = G[(k + 1) * h + j]
        out[o3] = total

    value.__qualname__ = f"mlp_logistic_value_{k}_{h}"
    grad.__qualname__ = f"mlp_logistic_grad_{k}_{h}"
    return value, grad


def packed(inputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The training rows as one C-contiguous float64 array: inputs, then the target."""
    return np.ascontiguousarray(np.column_stack([inputs, targets]), dtype=np.float64)

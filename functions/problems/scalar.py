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
# The network's loops run over the batch's rows (the innermost loop, contiguous scratch arrays) with
# the branch-free tanh / sigmoid / softplus of functions.problems.simd_math, so LLVM puts rows in SIMD
# lanes; the sums keep the order of the readable path's formula (pre = b1 + Σ_q W1[j, q] a_q, then
# z = b2 + Σ_j w2_j tanh(pre_j); gradients summed over the rows in their order).
def _mlp_sizes(x, data):
    k = data.shape[1] - 1
    h = (x.shape[0] - 1) // (k + 2)
    return k, h


def _mlp_gather(data, idx, k, A):
    """``A[q m + r] = data[idx[r], q]`` for the ``k`` inputs and the target (``q = k``)."""
    m = idx.shape[0]
    for r in range(m):
        i = idx[r]
        for q in range(k + 1):
            A[q * m + r] = data[i, q]


def _mlp_forward(x, A, k, h, m, Z, P, T):
    """``Z[r] = z`` at every row; with ``T`` of length ``h m``, also ``T[j m + r] = tanh(pre_j)``."""
    o1 = h * k
    keep = T.shape[0] > 0
    for r in range(m):
        Z[r] = x[o1 + 2 * h]
    for j in range(h):
        b = x[o1 + j]
        for r in range(m):
            P[r] = b
        for q in range(k):
            w = x[j * k + q]
            for r in range(m):
                P[r] += w * A[q * m + r]
        w2 = x[o1 + h + j]
        if keep:
            for r in range(m):
                t = tanh(P[r])
                T[j * m + r] = t
                Z[r] += w2 * t
        else:
            for r in range(m):
                Z[r] += w2 * tanh(P[r])


def mlp_logistic_value(x, data, idx):
    """Mean logistic loss of the network over the rows ``idx``."""
    k, h = _mlp_sizes(x, data)
    m = idx.shape[0]
    S = np.empty((k + 3) * m)
    A, Z, P = S[:(k + 1) * m], S[(k + 1) * m:(k + 2) * m], S[(k + 2) * m:]
    _mlp_gather(data, idx, k, A)
    _mlp_forward(x, A, k, h, m, Z, P, S[:0])
    for r in range(m):  # (two loops: each small enough for LLVM to inline its call and vectorize)
        P[r] = exp_neg(-abs(Z[r]))
    for r in range(m):
        z = Z[r]
        P[r] = (z if z > 0.0 else 0.0) - A[k * m + r] * z + log1p_unit(P[r])
    total = 0.0
    for r in range(m):
        total += P[r]
    return total / m


def mlp_logistic_grad(x, data, idx, out):
    """Backpropagation over the rows ``idx``: the hidden activations computed once (kept in scratch)."""
    k, h = _mlp_sizes(x, data)
    o1, o2 = h * k, h * k + h
    m = idx.shape[0]
    S = np.empty((k + 3 + h) * m)
    A, Z, P = S[:(k + 1) * m], S[(k + 1) * m:(k + 2) * m], S[(k + 2) * m:(k + 3) * m]
    T = S[(k + 3) * m:]
    _mlp_gather(data, idx, k, A)
    _mlp_forward(x, A, k, h, m, Z, P, T)
    for r in range(m):  # dL/dz of each row
        Z[r] = (sigmoid(Z[r]) - A[k * m + r]) / m
    total = 0.0
    for r in range(m):
        total += Z[r]
    out[o1 + 2 * h] = total
    for j in range(h):
        w2 = x[o2 + j]
        for r in range(m):  # dL/dpre_j of each row
            t = T[j * m + r]
            P[r] = w2 * Z[r] * (1.0 - t * t)
        g2 = 0.0
        g1 = 0.0
        for r in range(m):
            g2 += Z[r] * T[j * m + r]
            g1 += P[r]
        out[o2 + j] = g2
        out[o1 + j] = g1
        for q in range(k):
            g = 0.0
            for r in range(m):
                g += P[r] * A[q * m + r]
            out[j * k + q] = g


def packed(inputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The training rows as one C-contiguous float64 array: inputs, then the target."""
    return np.ascontiguousarray(np.column_stack([inputs, targets]), dtype=np.float64)

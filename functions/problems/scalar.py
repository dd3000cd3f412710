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

    The rows of the batch run in SIMD lanes: for each hidden unit ``j``, one loop over the rows
    computes ``pre = b1_j + Σ_q W1[j, q] a_q`` (the ``k`` inputs unrolled), ``t = tanh(pre)`` with the
    branch-free :func:`~functions.problems.simd_math.tanh` and ``z += w2_j t``, in the readable path's
    order of additions; ``grad`` keeps each ``t`` (computed once) for the backward pass. The
    gradient's sums over the rows add rows ``r ≡ 0, 1, 2, 3 (mod 4)`` in four running sums, then
    ``(s0 + s1) + (s2 + s3)`` (a fixed order that does not depend on the machine; four independent
    chains of additions instead of one).
    """
    o1, o2, o3 = h * k, h * k + h, h * k + 2 * h

    # (The scratch arrays are 2-D and indexed by loop counters: numba then leaves out the wrap-around
    # of negative indices, which would make LLVM gather and scatter instead of moving whole vectors.
    # The loops that vectorize run over the rows, whose number is not known when compiling: a loop of
    # a known 16 steps is unrolled into scalar code instead.)
    def value(x, data, idx):
        m = idx.shape[0]
        S = np.empty((k + 3) * m)
        A = S[:(k + 1) * m].reshape((k + 1, m))  # rows in lanes: the inputs, then the target
        Z = S[(k + 1) * m:].reshape((2, m))  # z, then each row's loss
        for r in range(m):
            i = idx[r]
            for q in range(k + 1):
                A[q, r] = data[i, q]
        for r in range(m):
            Z[0, r] = x[o3]
        for j in range(h):
            b = x[o1 + j]
            w2 = x[o2 + j]
            for r in range(m):
                pre = b
                for q in range(k):
                    pre += x[j * k + q] * A[q, r]
                Z[0, r] += w2 * tanh(pre)
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
        S = np.empty((h + k + 3) * m)
        T = S[:h * m].reshape((h, m))  # activations, unit by unit (rows in lanes)
        A = S[h * m:(h + k + 1) * m].reshape((k + 1, m))  # inputs and targets
        Z = S[(h + k + 1) * m:].reshape((2, m))  # z then dL/dz; dL/dpre of one unit
        for r in range(m):
            i = idx[r]
            for q in range(k + 1):
                A[q, r] = data[i, q]
        for r in range(m):
            Z[0, r] = x[o3]
        for j in range(h):
            b = x[o1 + j]
            w2 = x[o2 + j]
            for r in range(m):
                pre = b
                for q in range(k):
                    pre += x[j * k + q] * A[q, r]
                t = tanh(pre)
                T[j, r] = t
                Z[0, r] += w2 * t
        for r in range(m):  # dL/dz of each row
            Z[0, r] = (sigmoid(Z[0, r]) - A[k, r]) / m
        s0 = s1 = s2 = s3 = 0.0
        top = m - m % 4
        for r in range(0, top, 4):
            s0 += Z[0, r]
            s1 += Z[0, r + 1]
            s2 += Z[0, r + 2]
            s3 += Z[0, r + 3]
        for r in range(top, m):
            s0 += Z[0, r]
        out[o3] = (s0 + s1) + (s2 + s3)
        for j in range(h):
            w2 = x[o2 + j]
            for r in range(m):  # dL/dpre_j of each row
                t = T[j, r]
                Z[1, r] = w2 * Z[0, r] * (1.0 - t * t)
            a0 = a1 = a2 = a3 = 0.0
            b0 = b1 = b2 = b3 = 0.0
            for r in range(0, top, 4):
                a0 += Z[0, r] * T[j, r]
                a1 += Z[0, r + 1] * T[j, r + 1]
                a2 += Z[0, r + 2] * T[j, r + 2]
                a3 += Z[0, r + 3] * T[j, r + 3]
                b0 += Z[1, r]
                b1 += Z[1, r + 1]
                b2 += Z[1, r + 2]
                b3 += Z[1, r + 3]
            for r in range(top, m):
                a0 += Z[0, r] * T[j, r]
                b0 += Z[1, r]
            out[o2 + j] = (a0 + a1) + (a2 + a3)
            out[o1 + j] = (b0 + b1) + (b2 + b3)
            for q in range(k):
                c0 = c1 = c2 = c3 = 0.0
                for r in range(0, top, 4):
                    c0 += Z[1, r] * A[q, r]
                    c1 += Z[1, r + 1] * A[q, r + 1]
                    c2 += Z[1, r + 2] * A[q, r + 2]
                    c3 += Z[1, r + 3] * A[q, r + 3]
                for r in range(top, m):
                    c0 += Z[1, r] * A[q, r]
                out[j * k + q] = (c0 + c1) + (c2 + c3)


    value.__qualname__ = f"mlp_logistic_value_{k}_{h}"
    grad.__qualname__ = f"mlp_logistic_grad_{k}_{h}"
    return value, grad


def packed(inputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The training rows as one C-contiguous float64 array: inputs, then the target."""
    return np.ascontiguousarray(np.column_stack([inputs, targets]), dtype=np.float64)

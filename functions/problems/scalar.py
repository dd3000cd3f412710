"""The problems' maths for one point at a time, for optviz's compiled kernels (:class:`DataForm`).

The same losses and gradients as :mod:`functions.problems.models` with
:class:`functions.problems.base.Task`, written as loops over scalars: one point's parameters ``x``
(float64, length ``dim``), the training rows ``data`` (``(N, k + 1)``: the ``k`` inputs, then the
target) and the rows ``idx`` of this step's batch (int64, summed in that order). Only arithmetic,
indexing and :mod:`math` are used, and nothing is allocated, so numba can inline them in a kernel;
they run as plain Python too (slowly), which is how the tests hold them equal to the array path.

- ``value(x, data, idx[, c]) -> float``: the mean loss over the rows ``idx`` (plus the ridge term);
- ``grad(x, data, idx[, c], out) -> None``: its gradient, written into ``out``.

``c`` (passed only when :attr:`DataForm.consts` is not empty) is the logistic problem's ridge:
``(λ, mask_1, …, mask_dim)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class DataForm:
    """What a kernel needs of a learning problem: the training rows and the per-point loss and gradient."""

    data: np.ndarray
    value: Callable[..., float]
    grad: Callable[..., None]
    consts: tuple[float, ...] = ()


def _softplus_minus(z: float, y: float) -> float:
    """``log(1 + e^z) − y z`` without overflow."""
    return max(z, 0.0) - y * z + math.log1p(math.exp(-abs(z)))


def _sigmoid(z: float) -> float:
    e = math.exp(-abs(z))
    return 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)


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
        total += _softplus_minus(z, data[i, k])
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
        e = (_sigmoid(z) - data[i, k]) / m
        for j in range(k):
            out[j] += e * data[i, j]
        out[k] += e
    for j in range(d):
        out[j] += c[0] * c[1 + j] * x[j]


# ----------------------------------------------------------------------------- k-h-1 tanh MLP
def _mlp_sizes(x, data):
    k = data.shape[1] - 1
    h = (x.shape[0] - 1) // (k + 2)
    return k, h


def _mlp_output(x, data, i, k, h):
    """``z = w2 · tanh(W1 a + b1) + b2`` at row ``i`` (layout ``W1`` by rows, ``b1``, ``w2``, ``b2``)."""
    o1 = h * k
    z = x[o1 + 2 * h]
    for j in range(h):
        pre = x[o1 + j]
        for q in range(k):
            pre += x[j * k + q] * data[i, q]
        z += x[o1 + h + j] * math.tanh(pre)
    return z


def mlp_logistic_value(x, data, idx):
    """Mean logistic loss of the network over the rows ``idx``."""
    k, h = _mlp_sizes(x, data)
    m = idx.shape[0]
    total = 0.0
    for r in range(m):
        i = idx[r]
        total += _softplus_minus(_mlp_output(x, data, i, k, h), data[i, k])
    return total / m


def mlp_logistic_grad(x, data, idx, out):
    """Backpropagation, one row at a time (the hidden activations are computed twice: nothing is stored)."""
    k, h = _mlp_sizes(x, data)
    o1 = h * k
    m = idx.shape[0]
    for j in range(x.shape[0]):
        out[j] = 0.0
    for r in range(m):
        i = idx[r]
        dz = (_sigmoid(_mlp_output(x, data, i, k, h)) - data[i, k]) / m
        out[o1 + 2 * h] += dz
        for j in range(h):
            pre = x[o1 + j]
            for q in range(k):
                pre += x[j * k + q] * data[i, q]
            a = math.tanh(pre)
            out[o1 + h + j] += dz * a
            dpre = x[o1 + h + j] * dz * (1.0 - a * a)
            out[o1 + j] += dpre
            for q in range(k):
                out[j * k + q] += dpre * data[i, q]


def packed(inputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The training rows as one C-contiguous float64 array: inputs, then the target."""
    return np.ascontiguousarray(np.column_stack([inputs, targets]), dtype=np.float64)

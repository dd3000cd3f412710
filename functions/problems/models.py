"""The models' maths on arrays: linear, affine (logistic regression) and a one-hidden-layer tanh MLP.

Each model maps parameters ``W`` ``(p, dim)`` and inputs ``A`` ``(m, k)`` to outputs ``z``
``(p, m)`` (``forward``) and a loss's ``dL/dz`` back to ``dL/dW`` (``backward``, the chain rule
written out), with array-API operations only (``tanh``, ``sum``, ``reshape``, broadcasting), so they
run on NumPy, CuPy or any array-API library.
"""

from __future__ import annotations

from typing import Any

from functions.base import Array
from functions.problems.base import Model

# A point's numbers must not depend on its company (the other starts of a run): a 2-D BLAS product
# (points × parameters) may round a row differently depending on how many rows it is given, so the
# products over the points are broadcasts and sums, or stacked products with one small product per
# point (``matmul`` of (p, a, b) by (p, b, c) or (b, c): the same call for every point).


# ----------------------------------------------------------------------------- linear: z = A w
def _linear_forward(xp: Any, W: Array, A: Array) -> tuple[Array, Any]:
    return xp.sum(W[:, None, :] * A[None, :, :], axis=2), None


def _linear_backward(xp: Any, W: Array, A: Array, cache: Any, dz: Array) -> Array:
    return xp.sum(dz[:, :, None] * A[None, :, :], axis=1)


LINEAR = Model(_linear_forward, _linear_backward, width=32)
"""``z_i = a_i · w`` (least squares)."""


# ----------------------------------------------------------------------------- affine: z = A w + b
def _affine_forward(xp: Any, W: Array, A: Array) -> tuple[Array, Any]:
    k = A.shape[1]
    return _linear_forward(xp, W[:, :k], A)[0] + W[:, k:k + 1], None


def _affine_backward(xp: Any, W: Array, A: Array, cache: Any, dz: Array) -> Array:
    return xp.concat([_linear_backward(xp, W, A, None, dz), xp.sum(dz, axis=1, keepdims=True)], axis=1)


AFFINE = Model(_affine_forward, _affine_backward, width=4)
"""``z_i = a_i · w + b``, parameters ``(w_1, …, w_k, b)`` (logistic regression)."""


# ----------------------------------------------------------------------------- k-h-1 tanh MLP
def mlp_dim(inputs: int, hidden: int) -> int:
    """Parameters of a ``inputs``-``hidden``-1 network: ``W1`` (h×k), ``b1`` (h), ``w2`` (h), ``b2``."""
    return hidden * inputs + 2 * hidden + 1


def mlp(inputs: int, hidden: int) -> Model:
    """``z = w2 · tanh(W1 a + b1) + b2``; parameters laid out as ``W1`` row by row, ``b1``, ``w2``, ``b2``."""
    k, h = inputs, hidden
    o1, o2, o3 = h * k, h * k + h, h * k + 2 * h

    def forward(xp: Any, W: Array, A: Array) -> tuple[Array, Any]:
        # W1 a + b1 as k broadcast products (k = 2: a matrix product with an inner size of 2 is slower)
        pre = W[:, o1:o2, None]
        for q in range(k):
            pre = pre + W[:, q:o1:k, None] * A[None, None, :, q]
        H = xp.tanh(pre)  # (p, h, m)
        z = xp.matmul(W[:, None, o2:o3], H)[:, 0, :] + W[:, o3:o3 + 1]  # (one small product per point)
        return z, H

    def backward(xp: Any, W: Array, A: Array, H: Array, dz: Array) -> Array:
        p = W.shape[0]
        g_w2 = xp.matmul(H, dz[:, :, None])[:, :, 0]  # (p, h)
        g_b2 = xp.sum(dz, axis=1, keepdims=True)
        dpre = (W[:, o2:o3, None] * dz[:, None, :]) * (1.0 - H * H)  # (p, h, m)
        g_W1 = xp.reshape(xp.matmul(dpre, A), (p, h * k))  # (row j of W1: its k inputs)
        g_b1 = xp.sum(dpre, axis=2)
        return xp.concat([g_W1, g_b1, g_w2, g_b2], axis=1)

    return Model(forward, backward, width=3 * h)

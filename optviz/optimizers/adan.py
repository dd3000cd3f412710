"""Adan: adaptive Nesterov momentum, from averages of the gradient and of its change."""

from __future__ import annotations

from typing import NamedTuple

from functions.elementwise import sqrt, where
from optviz.optimizers.base import Array, Maths, decay, eps, lr, register, stage
from optviz.optimizers.decoupled import weight_decay


class AdanState(NamedTuple):
    m: Array  # average of g
    v: Array  # average of g − g_prev
    n: Array  # average of (g + β2 (g − g_prev))², as written below
    g_prev: Array  # the last gradient


def adan_corrections(t, beta1, beta2, beta3):
    r"""Once per step: :math:`1/(1-\beta_1^t)`, :math:`(1-\beta_2)/(1-\beta_2^t)` and
    :math:`1/\sqrt{1-\beta_3^t}` (each coordinate then divides once)."""
    return 1 / (1 - beta1**t), (1 - beta2) / (1 - beta2**t), 1 / sqrt(1 - beta3**t)


def adan(g, w, m, v, n, g_prev, t, lr, beta1, beta2, beta3, eps, weight_decay, a1, a2, c3):
    r"""Adan: Adam's step on a momentum extrapolated along the gradient's change.

    .. math::
        d_t = g_t - g_{t-1}\ (d_1 = 0),\quad
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) d_t,\\
        n_t = \beta_3 n_{t-1} + (1-\beta_3)(g_t + (1-\beta_2) d_t)^2,\\
        \Delta_t = -\mathrm{lr}_t\Big(\frac{\hat m_t + (1-\beta_2)\hat v_t}{\sqrt{\hat n_t} + \varepsilon}
                   + \lambda w_t\Big)

    with hats the bias corrections by :math:`1-\beta_i^t`. β's are decay rates (the official
    code's and optax's convention; the paper writes 1 − β). Equals ``optax.adan(learning_rate=lr,
    b1=beta1, b2=beta2, b3=beta3, eps=eps, eps_root=0, weight_decay=weight_decay)`` (optax's
    default ``eps_root`` is 1e-8, inside the root; the paper's and the official code's ε is only
    outside). The decay here is optax's, added to the step; the paper's proximal form divides the
    new weights by 1 + lr·λ instead (equal at λ = 0, the default of both).
    Reference: Xie et al. (2024), "Adan: Adaptive Nesterov Momentum Algorithm for Faster
    Optimizing Deep Models", IEEE TPAMI, Alg. 1.
    """
    d = where(t > 1, g - g_prev, 0.0)
    m = m + (1 - beta1) * (g - m)
    v = v + (1 - beta2) * (d - v)
    q = g + (1 - beta2) * d
    n = n + (1 - beta3) * (q * q - n)
    u = (m * a1 + v * a2) / (sqrt(n) * c3 + eps)
    return -lr * (u + weight_decay * w), m, v, n, g


register(
    "Adan",
    family="adan",
    maths=Maths(AdanState, stage(adan, "update", "m", "v", "n", "g_prev"),
                per_step=(stage(adan_corrections, "a1", "a2", "c3"),)),
    hyperparams=[lr("lr", 1e-3), decay("beta1", 0.98), decay("beta2", 0.92), decay("beta3", 0.99),
                 eps("eps", 1e-8), weight_decay(0.0)],
    reference="Xie et al. (2024)",
    summary="Adam on a momentum extrapolated along the change of the gradient.",
)

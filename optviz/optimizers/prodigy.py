"""Prodigy: Adam whose step size d is estimated as it goes, from how far the point has moved
along its gradients (a per-point dot product and a per-point 1-norm over the coordinates).
"""

from __future__ import annotations

from typing import NamedTuple

from functions.elementwise import abs_, maximum, sqrt, where
from optviz.optimizers.base import Array, HyperParam, Maths, decay, eps, register, stage
from optviz.optimizers.decoupled import weight_decay


class ProdigyState(NamedTuple):
    m: Array  # average of d·g
    v: Array  # average of (d·g)²
    s: Array  # the weighted sum of past d·lr_t·d·g/d0 (its 1-norm is the estimate's denominator)
    x0: Array  # the start
    d: Array  # the step-size estimate d_t, one per point (kept in every coordinate alike)
    r: Array  # the estimate's weighted numerator, one per point (kept in every coordinate alike)


def initial_d(d0):
    """Prodigy's first estimate, d0."""
    return d0


def prodigy_correction(t, beta1, beta2):
    r"""Adam's bias correction of the step, once per step: :math:`\sqrt{1-\beta_2^t}/(1-\beta_1^t)`."""
    return sqrt(1 - beta2**t) / (1 - beta1**t)


def next_s(g, s, d, lr, bc, beta3, d0):
    r""":math:`s_t = \beta_3 s_{t-1} + d_t\,\mathrm{lr}_t\,b_t\, d_t g_t / d_0` (one coordinate)."""
    return beta3 * s + d * lr * bc * (d * g) / d0


def prodigy_sums(g, w, s, x0, d, lr, bc, beta3, d0):
    r"""The two sums over a point's coordinates: :math:`\langle g_t, x_0 - x_t\rangle` and
    :math:`\lVert s_t\rVert_1`."""
    return g * (x0 - w), abs_(next_s(g, s, d, lr, bc, beta3, d0))


def prodigy(g, w, m, v, s, d, r, lr, beta1, beta2, beta3, eps, d0, d_coef, weight_decay, bc, gx, s_norm):
    r"""Prodigy: Adam on d·g whose step d grows to the estimate :math:`r_t/\lVert s_t\rVert_1` of
    the distance to the solution.

    .. math::
        \eta_t = d_t\,\mathrm{lr}_t\,\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t},\quad
        m_t = \beta_1 m_{t-1} + (1-\beta_1) d_t g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) d_t^2 g_t^2,\\
        s_t = \beta_3 s_{t-1} + \eta_t d_t g_t/d_0,\quad
        r_t = \beta_3 r_{t-1} + \frac{d_t}{d_0}\eta_t\,\langle g_t, x_0 - x_t\rangle,\quad
        d_{t+1} = \max\Big(d_t, c\,\frac{r_t}{\lVert s_t\rVert_1}\Big),\\
        \Delta_t = -\eta_t\Big(\frac{m_t}{\sqrt{v_t} + d_{t+1}\varepsilon} + \lambda x_t\Big)

    with :math:`d_1 = d_0`, c = ``d_coef``, the sums over the point's coordinates (each start is
    its own model: its own d). Equals ``optax.contrib.prodigy(learning_rate=lr, betas=(beta1,
    beta2), beta3=beta3, eps=eps, estim_lr0=d0, estim_lr_coef=d_coef, weight_decay=weight_decay)``
    run on each start alone (optax's sums run over all its params: on one ``(n, d)`` array the
    starts would share one d), ε scaled by the new estimate as optax's code does. Fix: where
    :math:`\lVert s_t\rVert_1 = 0` (a start where g = 0) d keeps its value; optax divides 0/0 and
    the point becomes NaN. d and r are one value per point, kept in every coordinate alike. The
    schedule scales lr, as optax's ``learning_rate`` schedule. Defaults: optax's, but β3 = 0.9995
    where optax's is √β2 = 0.99949987… (a round number for the slider).
    Reference: Mishchenko & Defazio (2024), "Prodigy: An Expeditiously Adaptive Parameter-Free
    Learner", ICML, Alg. 4 (the Adam version).
    """
    eta = d * lr * bc
    dg = d * g
    m = beta1 * m + (1 - beta1) * dg
    v = beta2 * v + (1 - beta2) * dg * dg
    s = next_s(g, s, d, lr, bc, beta3, d0)
    r = beta3 * r + (d / d0) * eta * gx
    d_new = maximum(d, where(s_norm > 0, d_coef * r / where(s_norm > 0, s_norm, 1.0), 0.0))
    return -weight_decay * eta * w - eta * m / (sqrt(v) + d_new * eps), m, v, s, d_new, r


register(
    "Prodigy",
    family="prodigy",
    maths=Maths(
        ProdigyState, stage(prodigy, "update", "m", "v", "s", "d", "r"),
        per_step=(stage(prodigy_correction, "bc"),),
        reduce=(stage(prodigy_sums, "gx", "s_norm"),),
        init={"x0": "w", "d": stage(initial_d, "d")},
    ),
    hyperparams=[
        HyperParam("lr", 1.0, 1e-4, 10.0, log=True, lr=True, help="factor on the estimated step d"),
        decay("beta1", 0.9), decay("beta2", 0.999),
        decay("beta3", 0.9995, "decay of the estimate's sums (optax: √β2)"),
        eps("eps", 1e-8),
        HyperParam("d0", 1e-6, 1e-9, 0.1, log=True, help="first step-size estimate"),
        HyperParam("d_coef", 1.0, 0.01, 100.0, log=True, help="factor on the estimate"),
        weight_decay(0.0),
    ],
    reference="Mishchenko & Defazio (2024)",
    summary="Adam that estimates its own step size from the distance travelled along the gradients.",
)

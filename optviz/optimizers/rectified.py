"""Rectified Adam (RAdam): Adam whose adaptive step is switched on, and scaled, by how well
the second moment is known yet.
"""

from __future__ import annotations

from functions.elementwise import maximum, sqrt, where
from optviz.optimizers.adam import MomentsState
from optviz.optimizers.base import HyperParam, Maths, decay, eps, lr, register, stage


def radam_rates(t, lr, beta1, beta2, threshold):
    r"""RAdam's per-step values: :math:`1-\beta_1^t`, :math:`1-\beta_2^t`, the rectification
    :math:`r_t` and whether the adaptive step is on (1.0) or not (0.0).

    :math:`\rho_\infty = 2/(1-\beta_2) - 1`, :math:`\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)`,
    :math:`r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}`
    where :math:`\rho_t \ge` threshold, else 0.
    """
    bc2 = 1 - beta2**t
    rho_inf = 2 / (1 - beta2) - 1
    rho = rho_inf - 2 * t * beta2**t / bc2
    on = where(rho >= threshold, 1.0, 0.0)
    ratio = (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)
    return lr / (1 - beta1**t), 1 / sqrt(bc2), on * sqrt(maximum(ratio * on, 0.0)), on


def radam(g, m, v, beta1, beta2, eps, lr_m, c2, rect, adaptive):
    r"""RAdam: momentum alone while the variance of the adaptive rate is intractable, then
    Adam's step times the rectification :math:`r_t`.

    .. math::
        \hat m_t = \frac{m_t}{1-\beta_1^t},\quad
        \Delta_t = \begin{cases}
          -\mathrm{lr}_t\, r_t\, \hat m_t / (\sqrt{v_t/(1-\beta_2^t)} + \varepsilon)
              & \rho_t \ge \text{threshold} \\
          -\mathrm{lr}_t\, \hat m_t & \text{otherwise}\end{cases}

    with m, v Adam's moments and :math:`\rho_t, r_t` as in :func:`radam_rates` (with β2 = 0.999
    the first 5 steps are plain momentum). Equals ``optax.radam(learning_rate=lr, b1=beta1,
    b2=beta2, eps=eps, eps_root=0, threshold=threshold)``. ``torch.optim.RAdam(lr=lr, betas=(beta1,
    beta2), eps=eps)`` adds ε to :math:`\sqrt{v_t}` before the bias correction
    (:math:`\sqrt{1-\beta_2^t}/(\sqrt{v_t}+\varepsilon)`, ε larger by :math:`1/\sqrt{1-\beta_2^t}`)
    and tests :math:`\rho_t > 5`: the same rule at ε = 0 (threshold 5, the default of both).
    Reference: Liu et al. (2020), "On the Variance of the Adaptive Learning Rate and Beyond",
    ICLR, Alg. 2.
    """
    m = m + (1 - beta1) * (g - m)
    v = v + (1 - beta2) * (g * g - v)
    step = where(adaptive > 0.5, rect * m / (sqrt(v) * c2 + eps), m)
    return -lr_m * step, m, v


register(
    "RAdam",
    family="rectified",
    maths=Maths(MomentsState, stage(radam, "update", "m", "v"),
                per_step=(stage(radam_rates, "lr_m", "c2", "rect", "adaptive"),)),
    hyperparams=[lr("lr", 1e-3), decay("beta1", 0.9), decay("beta2", 0.999), eps("eps", 1e-8),
                 HyperParam("threshold", 5.0, 4.0, 1000.0,
                            help="smallest ρ_t that turns on the adaptive step")],
    reference="Liu et al. (2020)",
    summary="Adam that starts as momentum and rectifies its adaptive rate's variance.",
)

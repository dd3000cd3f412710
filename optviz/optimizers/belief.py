"""Adam with another second moment: AdaBelief (the gradient's spread around its average) and
Yogi (an additive, sign-controlled update of the second moment).
"""

from __future__ import annotations

from typing import NamedTuple

from functions.elementwise import sign, sqrt
from optviz.optimizers.adagrad import ema
from optviz.optimizers.adam import MomentsState
from optviz.optimizers.base import Array, HyperParam, Maths, decay, eps, lr, register, stage
from optviz.optimizers.decoupled import adam_scalings


class BeliefState(NamedTuple):
    m: Array  # average of g
    s: Array  # average of (g − m)², plus ε each step


def adabelief(g, m, s, beta1, beta2, eps, lr_m, c2):
    r"""AdaBelief: Adam dividing by the spread of g around its average ("belief") instead of
    its RMS: large steps where the gradient is as predicted, small where it surprises.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
        s_t = \beta_2 s_{t-1} + (1-\beta_2)(g_t - m_t)^2 + \varepsilon,\\
        \Delta_t = -\mathrm{lr}_t\, \frac{m_t/(1-\beta_1^t)}{\sqrt{s_t/(1-\beta_2^t)} + \varepsilon}

    (ε twice, as the paper's Algorithm 2). Equals ``optax.adabelief(learning_rate=lr, b1=beta1,
    b2=beta2, eps=eps, eps_root=eps)`` (optax's defaults, ε = 1e-16, are the paper's);
    torch.optim has no AdaBelief.
    Reference: Zhuang et al. (2020), "AdaBelief Optimizer: Adapting Stepsizes by the Belief in
    Observed Gradients", NeurIPS, Alg. 2.
    """
    m = ema(m, g, beta1)
    d = g - m
    s = ema(s, d * d, beta2) + eps
    return -lr_m * m / (sqrt(s) * c2 + eps), m, s


def initial_accumulator(v0):
    """Yogi's starting moments: v0 in m and v."""
    return v0


def yogi(g, m, v, beta1, beta2, eps, lr_m, c2):
    r"""Yogi: Adam whose second moment moves by a fixed fraction of g² towards it, additively,
    so that it grows fast and shrinks slowly.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
        v_t = v_{t-1} - (1-\beta_2)\,\mathrm{sign}(v_{t-1} - g_t^2)\, g_t^2,\\
        \Delta_t = -\mathrm{lr}_t\, \frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \varepsilon}

    with :math:`m_0 = v_0` = ``v0`` (1e-6). Equals ``optax.yogi(learning_rate=lr, b1=beta1,
    b2=beta2, eps=eps)``, which starts both moments at its ``initial_accumulator_value`` (1e-6)
    and bias-corrects them as Adam; the paper starts m at 0 and corrects neither (a difference
    that fades in a few hundred steps). Defaults: the paper's (lr 1e-2, ε 1e-3).
    Reference: Zaheer et al. (2018), "Adaptive Methods for Nonconvex Optimization", NeurIPS, Alg. 2.
    """
    m = ema(m, g, beta1)
    g2 = g * g
    v = v - (1 - beta2) * sign(v - g2) * g2
    return -lr_m * m / (sqrt(v) * c2 + eps), m, v


_CORRECTIONS = (stage(adam_scalings, "lr_m", "c2"),)

register(
    "AdaBelief",
    family="belief",
    maths=Maths(BeliefState, stage(adabelief, "update", "m", "s"), per_step=_CORRECTIONS),
    hyperparams=[lr("lr", 1e-3), decay("beta1", 0.9), decay("beta2", 0.999), eps("eps", 1e-16)],
    reference="Zhuang et al. (2020)",
    summary="Adam over the spread of the gradient around its average.",
)
register(
    "Yogi",
    family="belief",
    maths=Maths(MomentsState, stage(yogi, "update", "m", "v"), per_step=_CORRECTIONS,
                init={"m": stage(initial_accumulator, "m"), "v": stage(initial_accumulator, "v")}),
    hyperparams=[lr("lr", 1e-2), decay("beta1", 0.9), decay("beta2", 0.999), eps("eps", 1e-3),
                 HyperParam("v0", 1e-6, 0.0, 1.0, log=True, help="starting value of both moments")],
    reference="Zaheer et al. (2018)",
    summary="Adam whose second moment changes additively, by the sign of v − g².",
)

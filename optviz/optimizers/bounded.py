"""Adam with its per-coordinate rate clipped into bounds that close in on a constant.

AdaBound and AMSBound: they start like Adam (AMSGrad) and end like SGD.
"""

from __future__ import annotations

from functions.elementwise import maximum, minimum, sqrt
from optviz.optimizers.adagrad import ema
from optviz.optimizers.adam import AMSGradState, MomentsState
from optviz.optimizers.base import Maths, decay, eps, lr, register, stage


def bounds(t, eta, beta2):
    r"""The bounds :math:`\eta_l(t), \eta_u(t)` and :math:`\sqrt t`, once per step."""
    return eta * (1 - 1 / ((1 - beta2) * t + 1)), eta * (1 + 1 / ((1 - beta2) * t)), sqrt(t)


def bounded_step(m, v, alpha, eps, lower, upper, sqrt_t):
    r"""The shared step :math:`-\mathrm{clip}(\alpha/(\sqrt v+\varepsilon),\eta_l,\eta_u)\,m/\sqrt t`."""
    rate = minimum(maximum(alpha / (sqrt(v) + eps), lower), upper)
    return -rate / sqrt_t * m


def adabound(g, m, v, alpha, beta1, beta2, eps, lower, upper, sqrt_t):
    r"""AdaBound: Adam's rate clipped into :math:`[\eta_l(t), \eta_u(t)]`, both tending to η.

    .. math::
        \eta_l(t) = \eta\,(1 - \tfrac{1}{(1-\beta_2)t + 1}),\quad
        \eta_u(t) = \eta\,(1 + \tfrac{1}{(1-\beta_2)t}),\\
        \hat\eta_t = \mathrm{clip}(\alpha/(\sqrt{v_t}+\varepsilon), \eta_l, \eta_u),\quad
        \Delta_t = -\hat\eta_t\, m_t/\sqrt t

    Fixes against the article: its code computes :math:`\eta_l` with :math:`(1-\beta_2)^{t+1}`,
    a power where the formula (and its own AMSBound code) has a product; its formula writes
    :math:`\eta_u` with a minus sign.
    Reference: Luo, Xiong, Liu & Sun (2019), "Adaptive Gradient Methods with Dynamic Bound of
    Learning Rate", Alg. 2.
    """
    m = ema(m, g, beta1)
    v = ema(v, g * g, beta2)
    return bounded_step(m, v, alpha, eps, lower, upper, sqrt_t), m, v


def amsbound(g, m, v, vmax, alpha, beta1, beta2, eps, lower, upper, sqrt_t):
    r"""AMSBound: AdaBound on AMSGrad's non-decreasing second moment.

    As AdaBound with :math:`\hat v_t = \max(\hat v_{t-1}, v_t)` in place of :math:`v_t`.
    Fix against the article: its formula shows v where its code (rightly) uses v̂.
    Reference: Luo, Xiong, Liu & Sun (2019), Alg. 3.
    """
    m = ema(m, g, beta1)
    v = ema(v, g * g, beta2)
    vmax = maximum(vmax, v)
    return bounded_step(m, vmax, alpha, eps, lower, upper, sqrt_t), m, v, vmax


_BOUND_HP = [
    lr("alpha", 1e-3),
    lr("eta", 1e-1, help="final (SGD) learning rate the bounds converge to"),
    decay("beta1", 0.9),
    decay("beta2", 0.999),
    eps("eps", 1e-8),
]
_BOUNDS = (stage(bounds, "lower", "upper", "sqrt_t"),)

register(
    "AdaBound",
    family="bounded",
    maths=Maths(MomentsState, stage(adabound, "update", "m", "v"), per_step=_BOUNDS),
    hyperparams=_BOUND_HP,
    reference="Luo et al. (2019)",
    summary="Adam whose rate is squeezed towards SGD's η.",
)
register(
    "AMSBound",
    family="bounded",
    maths=Maths(AMSGradState, stage(amsbound, "update", "m", "v", "vmax"), per_step=_BOUNDS),
    hyperparams=_BOUND_HP,
    reference="Luo et al. (2019)",
    summary="AMSGrad whose rate is squeezed towards SGD's η.",
)

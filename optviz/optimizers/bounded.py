"""Adam with its per-coordinate rate clipped into bounds that close in on a constant.

AdaBound and AMSBound: they start like Adam (AMSGrad) and end like SGD.
"""

from __future__ import annotations

from .adam import AMSGradState, MomentsState, _amsgrad_init, _moments, _moments_init
from .base import Array, Hyper, StepContext, decay, eps, lr, register, xpo


def _bounded_step(m: Array, v: Array, hp: Hyper, t: int) -> Array:
    r"""The shared step :math:`-\mathrm{clip}(\alpha/(\sqrt v+\varepsilon),\eta_l,\eta_u)m/\sqrt t`."""
    xp = xpo(m)
    eta, b2 = hp["eta"], hp["beta2"]
    lower = eta * (1 - 1 / ((1 - b2) * t + 1))
    upper = eta * (1 + 1 / ((1 - b2) * t))
    rate = xp.minimum(xp.maximum(hp["alpha"] / (xp.sqrt(v) + hp["eps"]), lower), upper)
    return -rate / t**0.5 * m


def adabound_update(g: Array, state: MomentsState, w: Array, hp: Hyper, ctx: StepContext):
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
    m, v = _moments(g, state.m, state.v, hp["beta1"], hp["beta2"])
    return _bounded_step(m, v, hp, ctx.t), MomentsState(m, v)


def amsbound_update(g: Array, state: AMSGradState, w: Array, hp: Hyper, ctx: StepContext):
    r"""AMSBound: AdaBound on AMSGrad's non-decreasing second moment.

    As :func:`adabound_update` with :math:`\hat v_t = \max(\hat v_{t-1}, v_t)` in place of
    :math:`v_t`. Fix against the article: its formula shows v where its code (rightly) uses v̂.
    Reference: Luo, Xiong, Liu & Sun (2019), Alg. 3.
    """
    m, v = _moments(g, state.m, state.v, hp["beta1"], hp["beta2"])
    vmax = xpo(v).maximum(state.vmax, v)
    return _bounded_step(m, vmax, hp, ctx.t), AMSGradState(m, v, vmax)


_BOUND_HP = [
    lr("alpha", 1e-3),
    lr("eta", 1e-1, help="final (SGD) learning rate the bounds converge to"),
    decay("beta1", 0.9),
    decay("beta2", 0.999),
    eps("eps", 1e-8),
]

register(
    "AdaBound",
    family="bounded",
    init=_moments_init,
    update=adabound_update,
    hyperparams=_BOUND_HP,
    reference="Luo et al. (2019)",
    summary="Adam whose rate is squeezed towards SGD's η.",
)
register(
    "AMSBound",
    family="bounded",
    init=_amsgrad_init,
    update=amsbound_update,
    hyperparams=_BOUND_HP,
    reference="Luo et al. (2019)",
    summary="AMSGrad whose rate is squeezed towards SGD's η.",
)

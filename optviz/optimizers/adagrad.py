"""The AdaGrad–RMSprop line: per-coordinate rates from accumulated squared gradients.

AdaGrad, RMSprop, AdaDelta, RMSpropGraves and SMORMS3.
"""

from __future__ import annotations

from typing import NamedTuple

from functions.elementwise import minimum, sqrt
from optviz.optimizers.base import Array, HyperParam, Maths, decay, eps, lr, register, stage


class AccumulatorState(NamedTuple):
    v: Array  # accumulated (AdaGrad) or averaged (RMSprop) squared gradient


class AdaDeltaState(NamedTuple):
    v: Array  # average of g²
    u: Array  # average of Δ²


class GravesState(NamedTuple):
    m: Array  # average of g
    v: Array  # average of g²


class SMORMS3State(NamedTuple):
    s: Array  # memory length, starts at 1
    m: Array
    v: Array


def ema(avg, x, rate):
    """An exponential moving average, ``avg + (1 − rate)(x − avg)``."""
    return avg + (1 - rate) * (x - avg)


def adagrad(g, v, eta, eps):
    r"""AdaGrad: each coordinate's rate shrinks with its accumulated squared gradient.

    .. math:: G_t = G_{t-1} + g_t^2,\qquad \Delta_t = -\eta\, g_t / (\sqrt{G_t} + \varepsilon)

    Fix against the article: its code has no ε and divides 0/0 at a stationary start (a
    saddle's centre). Equals ``torch.optim.Adagrad(lr=eta, eps=eps)``.
    Reference: Duchi, Hazan & Singer (2011), JMLR 12.
    """
    v = v + g * g
    return -eta * g / (sqrt(v) + eps), v


def rmsprop(g, v, eta, rho, eps):
    r"""RMSprop: AdaGrad with an exponential average in place of the sum.

    .. math:: v_t = v_{t-1} + (1-\rho)(g_t^2 - v_{t-1}),\qquad
              \Delta_t = -\eta\, g_t / \sqrt{v_t + \varepsilon}

    (PyTorch adds ε outside the root; with ε = 0 the two agree.)
    Reference: Tieleman & Hinton (2012), Coursera lecture 6.5.
    """
    v = ema(v, g * g, rho)
    return -eta * g / sqrt(v + eps), v


def adadelta(g, v, u, rho, eps, lr):
    r"""AdaDelta: RMSprop whose rate is the running RMS of past updates.

    .. math::
        v_t = v_{t-1} + (1-\rho)(g_t^2 - v_{t-1}),\quad
        \delta_t = g_t\,\sqrt{u_{t-1} + \varepsilon} / \sqrt{v_t + \varepsilon},\quad
        u_t = u_{t-1} + (1-\rho)(\delta_t^2 - u_{t-1}),\quad \Delta_t = -\mathrm{lr}\,\delta_t

    ``lr`` (default 1, the article's rule) is an extra factor, as in PyTorch, so that
    schedules apply; equals ``torch.optim.Adadelta(lr=lr, rho=rho, eps=eps)``.
    Reference: Zeiler (2012), arXiv:1212.5701.
    """
    v = ema(v, g * g, rho)
    delta = g * sqrt((u + eps) / (v + eps))
    u = ema(u, delta * delta, rho)
    return -lr * delta, v, u


def graves(g, m, v, eta, rho, eps):
    r"""RMSpropGraves: RMSprop normalised by the running variance rather than second moment.

    .. math::
        m_t = \rho m_{t-1} + (1-\rho) g_t,\quad v_t = \rho v_{t-1} + (1-\rho) g_t^2,\quad
        \Delta_t = -\eta\, g_t / \sqrt{v_t - m_t^2 + \varepsilon}

    Reference: Graves (2013), "Generating Sequences With Recurrent Neural Networks", eq. 38–41.
    """
    m = ema(m, g, rho)
    v = ema(v, g * g, rho)
    return -eta * g / sqrt(v - m * m + eps), m, v


def smorms3(g, s, m, v, eta, eps):
    r"""SMORMS3: RMSprop with a per-coordinate memory length and a capped rate.

    .. math::
        r = 1/(s+1),\quad m \leftarrow (1-r)m + r g,\quad v \leftarrow (1-r)v + r g^2,\quad
        \zeta = m^2/(v+\varepsilon),\\
        \Delta = -g\,\min(\eta, \zeta)/(\sqrt v + \varepsilon),\quad s \leftarrow 1 + s(1-\zeta)

    with :math:`s_0 = 1`. Fixes against the article: its :math:`s_t = 1 + (1 - \zeta s)` is
    :math:`1 + s(1-\zeta)`; it swaps the EMA weights (the new gradient weighs ``r``); its
    formula drops the minus sign; its code computes ζ for ``w`` from the bias terms.
    Reference: Funk (2015), "RMSprop loses to SMORMS3 - Beware the Epsilon!"; matches
    Chainer's ``SMORMS3``.
    """
    r = 1 / (s + 1)
    m = (1 - r) * m + r * g
    v = (1 - r) * v + r * (g * g)
    zeta = m * m / (v + eps)
    delta = -g * minimum(zeta, eta) / (sqrt(v) + eps)
    return delta, 1 + s * (1 - zeta), m, v


register(
    "AdaGrad",
    family="adagrad",
    maths=Maths(AccumulatorState, stage(adagrad, "update", "v")),
    hyperparams=[lr("eta", 1e-3), eps("eps", 1e-8)],
    reference="Duchi, Hazan & Singer (2011)",
    summary="Per-coordinate rates that shrink with the summed squared gradient.",
)
register(
    "RMSprop",
    family="adagrad",
    maths=Maths(AccumulatorState, stage(rmsprop, "update", "v")),
    hyperparams=[lr("eta", 1e-2), decay("rho", 0.99), eps("eps", 1e-8)],
    reference="Tieleman & Hinton (2012)",
    summary="AdaGrad with a moving average: the rate recovers after steep regions.",
)
register(
    "AdaDelta",
    family="adagrad",
    maths=Maths(AdaDeltaState, stage(adadelta, "update", "v", "u")),
    hyperparams=[
        decay("rho", 0.95),
        eps("eps", 1e-6),
        HyperParam("lr", 1.0, 1e-4, 10.0, log=True, lr=True, help="extra factor (PyTorch's lr)"),
    ],
    reference="Zeiler (2012)",
    summary="Unit-consistent steps: RMS of past steps over RMS of gradients.",
)
register(
    "RMSpropGraves",
    family="adagrad",
    maths=Maths(GravesState, stage(graves, "update", "m", "v")),
    hyperparams=[lr("eta", 1e-4), decay("rho", 0.95), eps("eps", 1e-4)],
    reference="Graves (2013)",
    summary="RMSprop divided by the gradient's running standard deviation.",
)
register(
    "SMORMS3",
    family="adagrad",
    maths=Maths(SMORMS3State, stage(smorms3, "update", "s", "m", "v"), init={"s": 1.0}),
    hyperparams=[lr("eta", 1e-3), eps("eps", 1e-8)],
    reference="Funk (2015)",
    summary="RMSprop with an adaptive memory and the rate capped at ζ = m²/v.",
)

"""Rules from the framework documents: Chainer's CorrectedMomentumSGD and MXNet's DCASGD."""

from __future__ import annotations

from typing import NamedTuple

from functions.elementwise import where
from optviz.optimizers.base import Array, HyperParam, Maths, decay, lr, register, stage


class VelocityState(NamedTuple):
    v: Array  # velocity without the rate in it


class DCASGDState(NamedTuple):
    mom: Array
    w_prev: Array  # the weights before the last update; starts as a copy of w


def corrected_momentum(g, v, lr, momentum):
    r"""CorrectedMomentumSGD: momentum with the learning rate outside the velocity.

    .. math:: v_t = \mu\, v_{t-1} - g_t,\qquad \Delta_t = \mathrm{lr}_t\, v_t

    This is eq. 9 of Goyal et al.; momentum with the rate inside the velocity (eq. 10, MSGD
    here) differs from it only when the rate changes, so it matters with a schedule. With a
    constant rate it equals MSGD with :math:`\eta = \mathrm{lr}/(1-\mu)`.
    Reference: Goyal et al. (2017), "Accurate, Large Minibatch SGD: Training ImageNet in
    1 Hour", section 3; Chainer's ``chainer.optimizers.CorrectedMomentumSGD``.
    """
    v = momentum * v - g
    return lr * v, v


def dcasgd(g, w, w_grad, delay, mom, w_prev, learning_rate, momentum, lamda):
    r"""DCASGD: SGD with a first-order compensation for stale gradients.

    .. math::
        d_t = g_t + \lambda\, g_t \odot g_t \odot (w_t - \tilde w),\quad
        \mathrm{mom}_t = \mu\,\mathrm{mom}_{t-1} - \mathrm{lr}\, d_t,\quad \Delta_t = \mathrm{mom}_t

    (with μ = 0, :math:`\mathrm{mom}_t = -\mathrm{lr}\, d_t`). The stale position
    :math:`\tilde w` is MXNet's: the weights before the previous update (:math:`w_0` at the
    first step). Under a gradient delay (``optviz.run(delay=τ)``, as in asynchronous training)
    it is the position where the gradient was taken, :math:`w_{t-τ}`: the case the rule exists
    for, since it then corrects the gradient for the τ steps taken since.
    Reference: Zheng et al. (2017), "Asynchronous Stochastic Gradient Descent with Delay
    Compensation", ICML; MXNet's ``mxnet.optimizer.DCASGD``.
    """
    stale = where(delay > 0, w_grad, w_prev)
    d = g + lamda * g * g * (w - stale)
    mom = momentum * mom - learning_rate * d
    return mom, mom, w


register(
    "CorrectedMomentumSGD",
    family="frameworks",
    maths=Maths(VelocityState, stage(corrected_momentum, "update", "v")),
    hyperparams=[lr("lr", 1e-2), decay("momentum", 0.9)],
    reference="Goyal et al. (2017), eq. 9; Chainer",
    summary="Momentum whose velocity leaves the rate out (matters under a schedule).",
)
register(
    "DCASGD",
    family="frameworks",
    maths=Maths(DCASGDState, stage(dcasgd, "update", "mom", "w_prev"), init={"w_prev": "w"}),
    hyperparams=[
        lr("learning_rate", 0.1),
        decay("momentum", 0.0),
        HyperParam("lamda", 0.04, 0.0, 10.0, help="delay-compensation strength λ"),
    ],
    reference="Zheng et al. (2017); MXNet",
    summary="SGD with delay compensation g + λ g² (w − w_prev).",
)

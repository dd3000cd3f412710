"""Rules from the framework documents: Chainer's CorrectedMomentumSGD and MXNet's DCASGD."""

from __future__ import annotations

from typing import NamedTuple

from .base import Array, Hyper, HyperParam, StepContext, decay, lr, register, zeros_like


class VelocityState(NamedTuple):
    v: Array  # velocity without the rate in it


class DCASGDState(NamedTuple):
    mom: Array
    w_prev: Array  # the weights before the last update; starts as a copy of w


def _velocity_init(params: Array, hp: Hyper) -> VelocityState:
    return VelocityState(zeros_like(params))


def _dcasgd_init(params: Array, hp: Hyper) -> DCASGDState:
    return DCASGDState(zeros_like(params), params)


def corrected_momentum_update(g: Array, state: VelocityState, w: Array, hp: Hyper, ctx: StepContext):
    r"""CorrectedMomentumSGD: momentum with the learning rate outside the velocity.

    .. math:: v_t = \mu\, v_{t-1} - g_t,\qquad \Delta_t = \mathrm{lr}_t\, v_t

    This is eq. 9 of Goyal et al.; momentum with the rate inside the velocity (eq. 10, MSGD
    here) differs from it only when the rate changes, so it matters with a schedule. With a
    constant rate it equals MSGD with :math:`\eta = \mathrm{lr}/(1-\mu)`.
    Reference: Goyal et al. (2017), "Accurate, Large Minibatch SGD: Training ImageNet in
    1 Hour", section 3; Chainer's ``chainer.optimizers.CorrectedMomentumSGD``.
    """
    v = hp["momentum"] * state.v - g
    return hp["lr"] * v, VelocityState(v)


def dcasgd_update(g: Array, state: DCASGDState, w: Array, hp: Hyper, ctx: StepContext):
    r"""DCASGD: SGD with a first-order compensation for stale gradients.

    .. math::
        d_t = g_t + \lambda\, g_t \odot g_t \odot (w_t - w_{t-1}),\quad
        \mathrm{mom}_t = \mu\,\mathrm{mom}_{t-1} - \mathrm{lr}\, d_t,\quad \Delta_t = \mathrm{mom}_t

    (with μ = 0, :math:`\mathrm{mom}_t = -\mathrm{lr}\, d_t`), and :math:`w_0` as the first
    "previous" weights. Its purpose is compensating the delay of gradients in asynchronous
    training; with fresh gradients, as here, it is SGD plus a curvature-like correction.
    Reference: Zheng et al. (2017), "Asynchronous Stochastic Gradient Descent with Delay
    Compensation", ICML; MXNet's ``mxnet.optimizer.DCASGD``.
    """
    d = g + hp["lamda"] * g * g * (w - state.w_prev)
    mom = hp["momentum"] * state.mom - hp["learning_rate"] * d
    return mom, DCASGDState(mom, w)


register(
    "CorrectedMomentumSGD",
    family="frameworks",
    init=_velocity_init,
    update=corrected_momentum_update,
    hyperparams=[lr("lr", 1e-2), decay("momentum", 0.9)],
    reference="Goyal et al. (2017), eq. 9; Chainer",
    summary="Momentum whose velocity leaves the rate out (matters under a schedule).",
)
register(
    "DCASGD",
    family="frameworks",
    init=_dcasgd_init,
    update=dcasgd_update,
    hyperparams=[
        lr("learning_rate", 0.1),
        decay("momentum", 0.0),
        HyperParam("lamda", 0.04, 0.0, 10.0, help="delay-compensation strength λ"),
    ],
    reference="Zheng et al. (2017); MXNet",
    summary="SGD with delay compensation g + λ g² (w − w_prev).",
)

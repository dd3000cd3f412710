"""Plain gradient descent and the momentum line: SGD, MSGD, NAG.

Names and defaults follow the source article (Qiita, "Gradient descent method list (2020)").
"""

from __future__ import annotations

from typing import NamedTuple

from .base import Array, Hyper, StepContext, decay, lr, register, zeros_like


class EmptyState(NamedTuple):
    """A rule that keeps nothing between steps."""


class MomentumState(NamedTuple):
    delta: Array  # Δ_{t−1}, the previous update


def _empty(params: Array, hp: Hyper) -> EmptyState:
    return EmptyState()


def _momentum_init(params: Array, hp: Hyper) -> MomentumState:
    return MomentumState(zeros_like(params))


def sgd_update(g: Array, state: EmptyState, w: Array, hp: Hyper, ctx: StepContext):
    r"""SGD: plain gradient descent.

    .. math:: \Delta_t = -\eta\, g_t

    Reference: Robbins & Monro (1951), "A Stochastic Approximation Method".
    (The article's demo labels it "SDG": a typo.)
    """
    return -hp["eta"] * g, state


def msgd_update(g: Array, state: MomentumState, w: Array, hp: Hyper, ctx: StepContext):
    r"""MSGD: momentum SGD with the rate inside an exponential average.

    .. math:: \Delta_t = \mu\,\Delta_{t-1} - (1-\mu)\,\eta\, g_t

    Equals ``torch.optim.SGD(lr=(1-mu)*eta, momentum=mu)``.
    Reference: Polyak (1964); Rumelhart, Hinton & Williams (1986).
    """
    mu = hp["mu"]
    delta = mu * state.delta - (1 - mu) * hp["eta"] * g
    return delta, MomentumState(delta)


def nag_update(g: Array, state: MomentumState, w: Array, hp: Hyper, ctx: StepContext):
    r"""NAG: Nesterov's accelerated gradient, with the gradient taken at the look-ahead point.

    .. math::
        g_t = \nabla f(w_t + \mu\,\Delta_{t-1}),\qquad
        \Delta_t = \mu\,\Delta_{t-1} - (1-\mu)\,\eta\, g_t

    The look-ahead sequence :math:`w_t + \mu\Delta_{t-1}` equals the iterates of
    ``torch.optim.SGD(lr=(1-mu)*eta, momentum=mu, nesterov=True)``.
    Reference: Nesterov (1983); Sutskever et al. (2013), "On the importance of
    initialization and momentum in deep learning".
    """
    mu = hp["mu"]
    g = ctx.grad_fn(w + mu * state.delta)
    delta = mu * state.delta - (1 - mu) * hp["eta"] * g
    return delta, MomentumState(delta)


register(
    "SGD",
    family="momentum",
    init=_empty,
    update=sgd_update,
    hyperparams=[lr("eta", 1e-2)],
    reference="Robbins & Monro (1951)",
    summary="Step against the gradient.",
)
register(
    "MSGD",
    family="momentum",
    init=_momentum_init,
    update=msgd_update,
    hyperparams=[lr("eta", 1e-2), decay("mu", 0.9, "momentum")],
    reference="Polyak (1964); Rumelhart, Hinton & Williams (1986)",
    summary="Momentum: an exponential average of past steps.",
)
register(
    "NAG",
    family="momentum",
    init=_momentum_init,
    update=nag_update,
    hyperparams=[lr("eta", 1e-2), decay("mu", 0.9, "momentum")],
    reference="Nesterov (1983); Sutskever et al. (2013)",
    summary="Momentum with the gradient taken where the momentum is about to carry the point.",
    needs=("lookahead",),
)

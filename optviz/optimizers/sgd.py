"""Plain gradient descent and the momentum line: SGD, MSGD, NAG.

Names and defaults follow the source article (Qiita, "Gradient descent method list (2020)").
"""

from __future__ import annotations

from typing import NamedTuple

from optviz.optimizers.base import Array, Maths, decay, lr, register, stage


class EmptyState(NamedTuple):
    """A rule that keeps nothing between steps."""


class MomentumState(NamedTuple):
    delta: Array  # Δ_{t−1}, the previous update


def sgd(g, eta):
    r"""SGD: plain gradient descent.

    .. math:: \Delta_t = -\eta\, g_t

    Reference: Robbins & Monro (1951), "A Stochastic Approximation Method".
    (The article's demo labels it "SDG": a typo.)
    """
    return -eta * g


def momentum(g, delta, eta, mu):
    r"""MSGD: momentum SGD with the rate inside an exponential average.

    .. math:: \Delta_t = \mu\,\Delta_{t-1} - (1-\mu)\,\eta\, g_t

    Equals ``torch.optim.SGD(lr=(1-mu)*eta, momentum=mu)``.
    Reference: Polyak (1964); Rumelhart, Hinton & Williams (1986).
    """
    delta = mu * delta - (1 - mu) * eta * g
    return delta, delta


def nesterov(g, delta, eta, mu):
    r"""NAG: Nesterov's accelerated gradient, with the gradient taken at the look-ahead point.

    .. math::
        g_t = \nabla f(w_t + \mu\,\Delta_{t-1}),\qquad
        \Delta_t = \mu\,\Delta_{t-1} - (1-\mu)\,\eta\, g_t

    The look-ahead sequence :math:`w_t + \mu\Delta_{t-1}` equals the iterates of
    ``torch.optim.SGD(lr=(1-mu)*eta, momentum=mu, nesterov=True)``.
    Reference: Nesterov (1983); Sutskever et al. (2013), "On the importance of
    initialization and momentum in deep learning".
    """
    return momentum(g, delta, eta, mu)


def lookahead(w, delta, mu):
    """Where NAG takes its gradient: the point the momentum is about to carry ``w`` to."""
    return w + mu * delta


register(
    "SGD",
    family="momentum",
    maths=Maths(EmptyState, stage(sgd, "update")),
    hyperparams=[lr("eta", 1e-2)],
    reference="Robbins & Monro (1951)",
    summary="Step against the gradient.",
)
register(
    "MSGD",
    family="momentum",
    maths=Maths(MomentumState, stage(momentum, "update", "delta")),
    hyperparams=[lr("eta", 1e-2), decay("mu", 0.9, "momentum")],
    reference="Polyak (1964); Rumelhart, Hinton & Williams (1986)",
    summary="Momentum: an exponential average of past steps.",
)
register(
    "NAG",
    family="momentum",
    maths=Maths(MomentumState, stage(nesterov, "update", "delta"), grad_at=stage(lookahead, "w_grad")),
    hyperparams=[lr("eta", 1e-2), decay("mu", 0.9, "momentum")],
    reference="Nesterov (1983); Sutskever et al. (2013)",
    summary="Momentum with the gradient taken where the momentum is about to carry the point.",
)

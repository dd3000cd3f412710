"""Decoupled weight decay: AdamW.

Adam whose weight decay shrinks the weights directly instead of entering the gradient, so the
decay is not divided by the second moment.
"""

from __future__ import annotations

from functions.elementwise import sqrt
from optviz.optimizers.adagrad import ema
from optviz.optimizers.adam import MomentsState
from optviz.optimizers.base import HyperParam, Maths, decay, eps, lr, register, stage


def weight_decay(default: float, help: str = "") -> HyperParam:
    """A decoupled weight-decay coefficient λ (the step subtracts lr·λ·w)."""
    return HyperParam("weight_decay", default, 0.0, 1.0, help=help or "decoupled weight decay λ")


def adam_scalings(t, lr, beta1, beta2):
    r"""Once per step: :math:`\mathrm{lr}_t/(1-\beta_1^t)` and :math:`1/\sqrt{1-\beta_2^t}`, so that each
    coordinate divides once (the libraries' :math:`\hat m/(\sqrt{\hat v}+\varepsilon)` to rounding)."""
    return lr / (1 - beta1**t), 1 / sqrt(1 - beta2**t)


def adamw(g, w, m, v, lr, beta1, beta2, eps, weight_decay, lr_m, c2):
    r"""AdamW: Adam with decoupled weight decay, ε outside the root.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\\
        \Delta_t = -\mathrm{lr}_t\Big(\frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \varepsilon}
                   + \lambda\, w_t\Big)

    The decay term is multiplied by the (scheduled) rate but not divided by
    :math:`\sqrt{\hat v}`: that is the whole point of the rule. ε is outside the root, as in both
    libraries (optviz's Adam puts it inside). Equals
    ``torch.optim.AdamW(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)`` (torch
    first multiplies w by 1 − lr·λ, then steps: the same sum) and
    ``optax.adamw(learning_rate=lr, b1=beta1, b2=beta2, eps=eps, eps_root=0,
    weight_decay=weight_decay)``. Defaults: torch's (λ = 0.01; optax's is 1e-4).
    Reference: Loshchilov & Hutter (2019), "Decoupled Weight Decay Regularization", ICLR, Alg. 2.
    """
    m = ema(m, g, beta1)
    v = ema(v, g * g, beta2)
    return -lr_m * m / (sqrt(v) * c2 + eps) - lr * weight_decay * w, m, v


register(
    "AdamW",
    family="decoupled",
    maths=Maths(MomentsState, stage(adamw, "update", "m", "v"),
                per_step=(stage(adam_scalings, "lr_m", "c2"),)),
    hyperparams=[lr("lr", 1e-3), decay("beta1", 0.9), decay("beta2", 0.999), eps("eps", 1e-8),
                 weight_decay(1e-2)],
    reference="Loshchilov & Hutter (2019)",
    summary="Adam with weight decay applied to the weights, not the gradient.",
)

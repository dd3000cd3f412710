"""Rules that step by the sign of a gradient quantity: Lion and Rprop.

Each coordinate moves by a step that does not depend on the gradient's size, only on a sign:
of an interpolated momentum (Lion), or of the gradient with a step size that grows while the
sign holds and shrinks when it flips (Rprop).
"""

from __future__ import annotations

from typing import NamedTuple

from functions.elementwise import maximum, minimum, sign, where
from optviz.optimizers.base import Array, HyperParam, Maths, decay, lr, register, stage
from optviz.optimizers.decoupled import weight_decay


class LionState(NamedTuple):
    m: Array  # the momentum (an average of g at rate β2)


class RpropState(NamedTuple):
    s: Array  # the step size (starts at lr)
    g_prev: Array  # the last gradient, 0 where its sign flipped


def lion(g, w, m, lr, beta1, beta2, weight_decay):
    r"""Lion: the sign of an interpolated momentum, with decoupled weight decay.

    .. math::
        c_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
        \Delta_t = -\mathrm{lr}_t\,(\mathrm{sign}(c_t) + \lambda\, w_t),\quad
        m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t

    Every coordinate moves by exactly lr (plus the decay), whatever the gradient's size; the step
    direction uses β1, the momentum kept for the next step β2. Equals
    ``optax.lion(learning_rate=lr, b1=beta1, b2=beta2, weight_decay=weight_decay)``; torch.optim
    has no Lion. Defaults: the paper's β (0.9, 0.99) and lr 1e-4; λ = 0 here (optax's is 1e-3;
    the paper uses a λ 3-10x AdamW's, with an lr 3-10x smaller), since on a test function any
    decay moves the minimum.
    Reference: Chen et al. (2023), "Symbolic Discovery of Optimization Algorithms", NeurIPS, Alg. 2.
    """
    c = beta1 * m + (1 - beta1) * g
    return -lr * (sign(c) + weight_decay * w), beta2 * m + (1 - beta2) * g


def initial_step(lr):
    """Rprop's first step size, lr."""
    return lr


def rprop(g, s, g_prev, eta_minus, eta_plus, step_min, step_max):
    r"""Rprop: a per-coordinate step size that grows while the gradient keeps its sign.

    .. math::
        s_t = \mathrm{clip}\big(s_{t-1}\cdot\{\eta_+ \text{ if } g_t g'_{t-1} > 0;\;
              \eta_- \text{ if } < 0;\; 1 \text{ otherwise}\},\ s_{\min}, s_{\max}\big),\\
        g'_t = 0 \text{ where } g_t g'_{t-1} < 0 \text{ else } g_t,\quad
        \Delta_t = -s_t\, \mathrm{sign}(g'_t)

    with :math:`s_0 = \mathrm{lr}` and :math:`g'_0 = 0` (the iRprop− variant: after a sign flip
    the coordinate rests one step). lr only sets the first step size, as in torch, so the run's
    learning-rate schedule leaves Rprop alone. Equals ``torch.optim.Rprop(lr=lr,
    etas=(eta_minus, eta_plus), step_sizes=(step_min, step_max))``, with its defaults.
    ``optax.rprop`` (0.2.8) is not a reference: its update is the ``prev_updates`` it stored the
    step before, so it moves one step late (the first update is 0).
    Reference: Riedmiller & Braun (1993), "A Direct Adaptive Method for Faster Backpropagation
    Learning: The RPROP Algorithm"; Igel & Hüsken (2000), "Improving the Rprop Learning
    Algorithm" (iRprop−).
    """
    same = g * g_prev
    s = minimum(maximum(where(same > 0, s * eta_plus, where(same < 0, s * eta_minus, s)), step_min), step_max)
    g_kept = where(same < 0, 0.0, g)
    return -s * sign(g_kept), s, g_kept


register(
    "Lion",
    family="sign",
    maths=Maths(LionState, stage(lion, "update", "m")),
    hyperparams=[lr("lr", 1e-4), decay("beta1", 0.9, "interpolation of the step's sign"),
                 decay("beta2", 0.99, "decay of the momentum"), weight_decay(0.0)],
    reference="Chen et al. (2023)",
    summary="Steps of fixed size along the sign of an interpolated momentum.",
)
register(
    "Rprop",
    family="sign",
    maths=Maths(RpropState, stage(rprop, "update", "s", "g_prev"), init={"s": stage(initial_step, "s")}),
    hyperparams=[
        HyperParam("lr", 1e-2, 1e-7, 10.0, log=True, lr=True, scheduled=False,
                   help="first step size (a schedule leaves it alone)"),
        HyperParam("eta_minus", 0.5, 0.01, 0.99999, help="step-size factor after a sign flip"),
        HyperParam("eta_plus", 1.2, 1.0, 5.0, help="step-size factor while the sign holds"),
        HyperParam("step_min", 1e-6, 0.0, 1.0, log=True, help="smallest step size"),
        HyperParam("step_max", 50.0, 1e-3, 1e3, log=True, help="largest step size"),
    ],
    reference="Riedmiller & Braun (1993)",
    summary="Per-coordinate step sizes that grow while the gradient's sign holds, shrink when it flips.",
)

"""Schedule-free methods: SGD and AdamW that average their iterates instead of decaying a rate.

The point shown (``w``, where the loss is measured) is the average x; the base rule steps a
second sequence z, and the gradient is taken between the two, at
:math:`y = \\beta x + (1-\\beta) z`. The run's learning-rate schedule leaves their rate alone
(they are the alternative to one); their own linear warm-up is a hyperparameter.
"""

from __future__ import annotations

from typing import NamedTuple

from functions.elementwise import maximum, minimum, sqrt
from optviz.optimizers.adagrad import ema
from optviz.optimizers.base import Array, HyperParam, Maths, decay, eps, register, stage
from optviz.optimizers.decoupled import weight_decay


class ScheduleFreeState(NamedTuple):
    z: Array  # the base rule's sequence (starts at w_0)
    weight_sum: Array  # Σ of the averaging weights so far, one per point


class ScheduleFreeAdamState(NamedTuple):
    z: Array
    v: Array  # average of g²
    weight_sum: Array


def warmed_rate(t, lr, warmup, weight_lr_power):
    r"""The step's rate :math:`\gamma_t = \mathrm{lr}\cdot\min(1, t/\text{warmup})` and its
    averaging weight :math:`\gamma_t^{p}` (γ never falls, so it is its own running maximum)."""
    lr_t = lr * minimum(1.0, t / maximum(warmup, 1.0))
    return lr_t, lr_t**weight_lr_power


def warmed_rate_adam(t, lr, warmup, weight_lr_power, beta2):
    r""":func:`warmed_rate` and :math:`1/\sqrt{1-\beta_2^t}`."""
    lr_t, weight = warmed_rate(t, lr, warmup, weight_lr_power)
    return lr_t, weight, 1 / sqrt(1 - beta2**t)


def averaging_weight(weight, weight_sum):
    r"""Per point: the new :math:`\sum_{k\le t}\gamma_k^p` and
    :math:`c_{t+1} = \gamma_t^p/\sum_{k\le t}\gamma_k^p`."""
    total = weight_sum + weight
    return total, weight / total


def interpolation(w, z, momentum):
    r"""Where the gradient is taken: :math:`y_t = \beta x_t + (1-\beta) z_t`."""
    return momentum * w + (1 - momentum) * z


def interpolation_adam(w, z, beta1):
    r"""Where the gradient is taken: :math:`y_t = \beta_1 x_t + (1-\beta_1) z_t`."""
    return beta1 * w + (1 - beta1) * z


def schedule_free_sgd(g, w, w_grad, z, lr_t, weight_decay, ck):
    r"""Schedule-free SGD: SGD steps on z, the shown point x their weighted running average, the
    gradient taken in between.

    .. math::
        y_t = \beta x_t + (1-\beta) z_t,\quad g_t = \nabla f(y_t) + \lambda y_t,\quad
        z_{t+1} = z_t - \gamma_t g_t,\\
        x_{t+1} = (1 - c_{t+1})\, x_t + c_{t+1} z_{t+1},\quad
        c_{t+1} = \frac{\gamma_t^p}{\sum_{k\le t}\gamma_k^p}

    with :math:`x_1 = z_1 = w_0`, :math:`\gamma_t = \mathrm{lr}\cdot\min(1, t/\text{warmup})` and
    p = ``weight_lr_power`` (2). After the warm-up every z gets the same weight: x is the plain
    average of the z's. The point shown is x; ``optax`` keeps y as its params (x is
    ``optax.contrib.schedule_free_eval_params``). Equals
    ``optax.contrib.schedule_free_sgd(learning_rate=lr, b1=momentum, weight_decay=weight_decay,
    weight_lr_power=weight_lr_power)`` with no warm-up; with one, optax's SGD steps take the
    warm-up's value one step earlier than its weights (``count`` from 0 against ``step_count``
    from 1), where the authors' code (and this) use step t for both. Defaults: lr 1e-2 (optax's
    1.0 suits networks, not these functions).
    Reference: Defazio et al. (2024), "The Road Less Scheduled", NeurIPS, Alg. 1.
    """
    z = z - lr_t * (g + weight_decay * w_grad)
    return ck * (z - w), z


def schedule_free_adamw(g, w, w_grad, z, v, lr_t, beta2, eps, weight_decay, c2, ck):
    r"""Schedule-free AdamW: schedule-free SGD whose base step is Adam's without momentum (the
    interpolation plays momentum's part), with decoupled weight decay at y.

    .. math::
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad
        z_{t+1} = z_t - \gamma_t\Big(\frac{g_t}{\sqrt{v_t/(1-\beta_2^t)} + \varepsilon}
                  + \lambda y_t\Big),

    x, y, c and γ as in schedule-free SGD, with :math:`\beta_1` the interpolation. Equals
    ``optax.contrib.schedule_free_adamw(learning_rate=lr, b1=beta1, b2=beta2, eps=eps,
    weight_decay=weight_decay, weight_lr_power=weight_lr_power)`` with no warm-up (optax's
    default lr, 2.5e-3, is this one's).
    Reference: Defazio et al. (2024), "The Road Less Scheduled", NeurIPS, Alg. 1 with the Adam
    base step of their section 5 and code.
    """
    v = ema(v, g * g, beta2)
    z = z - lr_t * (g / (sqrt(v) * c2 + eps) + weight_decay * w_grad)
    return ck * (z - w), z, v


def _rate(default: float) -> HyperParam:
    return HyperParam("lr", default, 1e-7, 10.0, log=True, lr=True, scheduled=False,
                      help="step size of z (the run's schedule leaves it alone)")


_WARMUP = HyperParam("warmup", 0.0, 0.0, 1e6, integer=True, help="steps of linear warm-up of the rate")
_POWER = HyperParam("weight_lr_power", 2.0, 0.0, 10.0, help="averaging weight γ_t^p")
_POINT = frozenset({"weight_sum"})

register(
    "ScheduleFreeSGD",
    family="schedule_free",
    maths=Maths(ScheduleFreeState, stage(schedule_free_sgd, "update", "z"),
                per_step=(stage(warmed_rate, "lr_t", "weight"),),
                per_point=(stage(averaging_weight, "weight_sum", "ck"),),
                init={"z": "w"}, point_fields=_POINT, grad_at=stage(interpolation, "w_grad")),
    hyperparams=[_rate(1e-2), decay("momentum", 0.9, "interpolation β between x and z"), weight_decay(0.0),
                 _WARMUP, _POWER],
    reference="Defazio et al. (2024)",
    summary="SGD whose shown point is the running average of its steps: no schedule needed.",
)
register(
    "ScheduleFreeAdamW",
    family="schedule_free",
    maths=Maths(ScheduleFreeAdamState, stage(schedule_free_adamw, "update", "z", "v"),
                per_step=(stage(warmed_rate_adam, "lr_t", "weight", "c2"),),
                per_point=(stage(averaging_weight, "weight_sum", "ck"),),
                init={"z": "w"}, point_fields=_POINT, grad_at=stage(interpolation_adam, "w_grad")),
    hyperparams=[_rate(2.5e-3), decay("beta1", 0.9, "interpolation β between x and z"), decay("beta2", 0.999),
                 eps("eps", 1e-8), weight_decay(0.0), _WARMUP, _POWER],
    reference="Defazio et al. (2024)",
    summary="AdamW without momentum whose shown point is the running average of its steps.",
)

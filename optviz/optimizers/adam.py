"""The Adam line: moving averages of the gradient and its square, with bias correction.

Adam, AdaMax, Nadam, Eve and AMSGrad.
"""

from __future__ import annotations

from typing import NamedTuple

from functions.elementwise import abs_, maximum, minimum, sqrt, where
from optviz.optimizers.adagrad import ema
from optviz.optimizers.base import Array, HyperParam, Maths, decay, eps, lr, register, stage


class MomentsState(NamedTuple):
    m: Array  # average of g
    v: Array  # average of g² (AdaMax: the exponentially weighted infinity norm u)


class AMSGradState(NamedTuple):
    m: Array
    v: Array
    vmax: Array  # running maximum of v (v̂)


class EveState(NamedTuple):
    m: Array
    v: Array
    d: Array  # d̃, the smoothed relative change of the loss, one per point
    f_prev: Array  # f(w_{t−1}), one per point


def adam_rate(t, alpha, beta1, beta2):
    r"""Adam's bias-corrected step size, once per step: :math:`\alpha\sqrt{1-\beta_2^t}/(1-\beta_1^t)`."""
    return alpha * sqrt(1 - beta2**t) / (1 - beta1**t)


def adam(g, m, v, alpha_t, beta1, beta2, eps):
    r"""Adam: momentum divided by the RMS of the gradient, both bias-corrected.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\\
        \alpha_t = \alpha\,\sqrt{1-\beta_2^t}/(1-\beta_1^t),\quad
        \Delta_t = -\alpha_t\, m_t / \sqrt{v_t + \varepsilon}

    Fix against the article: its formula writes :math:`1-\beta_1^2`; the code's
    :math:`1-\beta_1^t` is right. With ε = 0 this equals ``torch.optim.Adam(lr=alpha)``
    (PyTorch puts ε outside the root).
    Reference: Kingma & Ba (2015), "Adam: A Method for Stochastic Optimization", Alg. 1.
    """
    m = ema(m, g, beta1)
    v = ema(v, g * g, beta2)
    return -alpha_t * m / sqrt(v + eps), m, v


def adamax_rate(t, alpha, beta1):
    r"""AdaMax's step size, once per step: :math:`\alpha/(1-\beta_1^t)`."""
    return alpha / (1 - beta1**t)


def adamax(g, m, v, alpha_t, beta1, beta2, eps):
    r"""AdaMax: Adam with the infinity norm in place of the RMS.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
        u_t = \max(\beta_2 u_{t-1}, |g_t| + \varepsilon),\quad
        \Delta_t = -\frac{\alpha}{1-\beta_1^t}\, m_t / u_t

    (``u`` is kept in the state field ``v``.) Fix against the article: it divides by
    :math:`u = 0` when :math:`g = 0`; ε is added as PyTorch does. Equals
    ``torch.optim.Adamax(lr=alpha, betas=(beta1, beta2), eps=eps)``.
    Reference: Kingma & Ba (2015), section 7.1.
    """
    m = ema(m, g, beta1)
    u = maximum(beta2 * v, abs_(g) + eps)
    return -alpha_t * m / u, m, u


def nadam_rates(t, mu, nu):
    r"""Nadam's per-step weights :math:`\mu/(1-\mu^{t+1})`, :math:`(1-\mu)/(1-\mu^t)` and :math:`1-\nu^t`."""
    return mu / (1 - mu ** (t + 1)), (1 - mu) / (1 - mu**t), 1 - nu**t


def nadam(g, m, v, alpha, mu, nu, eps, m_weight, g_weight, v_debias):
    r"""Nadam: Adam with Nesterov momentum (constant μ, as the article chose).

    .. math::
        \hat m_t = \frac{\mu\, m_t}{1-\mu^{t+1}} + \frac{(1-\mu)\, g_t}{1-\mu^t},\quad
        \hat v_t = \frac{v_t}{1-\nu^t},\quad
        \Delta_t = -\alpha\, \hat m_t / \sqrt{\hat v_t + \varepsilon}

    with :math:`m_t, v_t` the moving averages of :math:`g, g^2` at rates μ, ν.
    Fix against the article: it writes :math:`\hat v_t = \nu v_t/(1-\nu^t)`, copying a typo of
    the paper's Algorithm 2; Dozat's own code and his earlier report, Keras, PyTorch's ``NAdam``
    and optax's ``nadam`` have no ν there. Equals ``optax.nadam(learning_rate=alpha, b1=mu,
    b2=nu, eps=0, eps_root=eps)``.
    Reference: Dozat (2016), "Incorporating Nesterov Momentum into Adam", ICLR workshop.
    """
    m = ema(m, g, mu)
    v = ema(v, g * g, nu)
    m_hat = m_weight * m + g_weight * g
    return -alpha * m_hat / sqrt(v / v_debias + eps), m, v


def bias_corrections(t, beta1, beta2):
    r""":math:`1-\beta_1^t` and :math:`1-\beta_2^t`, once per step."""
    return 1 - beta1**t, 1 - beta2**t


def eve_feedback(t, f, f_prev, d, beta3, c, fstar, tiny):
    r"""Eve's loss feedback, once per point: the new :math:`\tilde d_t` and :math:`f_{t-1}`.

    For t > 1, :math:`d = |f - f_{t-1}| / (\min(f, f_{t-1}) - f^*)` clipped to ``[1/c, c]`` and
    averaged at rate β3; :math:`\tilde d_1 = 1`. The denominator is floored at ``tiny`` (the
    smallest normal number of the run's dtype) so that d saturates at c instead of 0/0.
    """
    den = maximum(minimum(f, f_prev) - fstar, tiny)
    d_hat = minimum(maximum(abs_(f - f_prev) / den, 1 / c), c)
    return where(t > 1, d + (1 - beta3) * (d_hat - d), 1.0), f


def eve(g, m, v, d, alpha, beta1, beta2, eps, bc1, bc2):
    r"""Eve: Adam whose step shrinks when the loss changes a lot relative to its gap to f*.

    .. math::
        d_t = \frac{|f_t - f_{t-1}|}{\min(f_t, f_{t-1}) - f^*},\quad
        \hat d_t = \mathrm{clip}(d_t, 1/c, c),\quad
        \tilde d_t = \beta_3 \tilde d_{t-1} + (1-\beta_3)\hat d_t \;(t>1),\quad \tilde d_1 = 1,\\
        \Delta_t = -\alpha\, \hat m_t / (\tilde d_t(\sqrt{\hat v_t} + \varepsilon))

    with :math:`\hat m, \hat v` Adam's bias-corrected moments. Fixes against the article: its
    code assigns ``self.beta2 = beta`` (a NameError); it uses :math:`|f_t - f^*|` where the
    formula has :math:`|f_t - f_{t-1}|`; its default :math:`f^* = 0` is wrong for any function
    whose minimum is not 0, so f* comes from the test function (0 for one without a minimum);
    a denominator that reaches 0 at the optimum is floored at the dtype's smallest normal number, so
    :math:`d_t` saturates at c instead of becoming NaN.
    Reference: Koushik & Hayashi (2016), "Improving Stochastic Gradient Descent with
    Feedback", arXiv:1611.01505, Alg. 1.
    """
    m = ema(m, g, beta1)
    v = ema(v, g * g, beta2)
    return -alpha * (m / bc1) / (d * (sqrt(v / bc2) + eps)), m, v


def amsgrad_rate(t, alpha):
    r"""AMSGrad's step size, once per step: :math:`\alpha/\sqrt t`."""
    return alpha / sqrt(t)


def amsgrad(g, m, v, vmax, alpha_t, beta1, beta2, eps):
    r"""AMSGrad: Adam whose second moment never decreases (the running maximum v̂).

    .. math::
        \hat v_t = \max(\hat v_{t-1}, v_t),\quad \alpha_t = \alpha/\sqrt t,\quad
        \Delta_t = -\alpha_t\, m_t / \sqrt{\hat v_t + \varepsilon}

    (no bias correction, as in the paper's Algorithm 2 and the article).
    Reference: Reddi, Kale & Kumar (2018), "On the Convergence of Adam and Beyond".
    """
    m = ema(m, g, beta1)
    v = ema(v, g * g, beta2)
    vmax = maximum(vmax, v)
    return -alpha_t * m / sqrt(vmax + eps), m, v, vmax


_ADAM_HP = [lr("alpha", 1e-3), decay("beta1", 0.9), decay("beta2", 0.999), eps("eps", 1e-8)]

register(
    "Adam",
    family="adam",
    maths=Maths(MomentsState, stage(adam, "update", "m", "v"), per_step=(stage(adam_rate, "alpha_t"),)),
    hyperparams=_ADAM_HP,
    reference="Kingma & Ba (2015)",
    summary="Momentum over the RMS of the gradient, bias-corrected.",
)
register(
    "AdaMax",
    family="adam",
    maths=Maths(MomentsState, stage(adamax, "update", "m", "v"), per_step=(stage(adamax_rate, "alpha_t"),)),
    hyperparams=[lr("alpha", 2e-3), decay("beta1", 0.9), decay("beta2", 0.999), eps("eps", 1e-8)],
    reference="Kingma & Ba (2015), section 7.1",
    summary="Adam with the infinity norm.",
)
register(
    "Nadam",
    family="adam",
    maths=Maths(MomentsState, stage(nadam, "update", "m", "v"),
                per_step=(stage(nadam_rates, "m_weight", "g_weight", "v_debias"),)),
    hyperparams=[
        lr("alpha", 2e-3),
        decay("mu", 0.975, "momentum (β1)"),
        decay("nu", 0.999, "second-moment decay (β2)"),
        eps("eps", 1e-8),
    ],
    reference="Dozat (2016)",
    summary="Adam with Nesterov momentum.",
)
register(
    "Eve",
    family="adam",
    maths=Maths(
        EveState, stage(eve, "update", "m", "v"),
        per_step=(stage(bias_corrections, "bc1", "bc2"),),
        per_point=(stage(eve_feedback, "d", "f_prev"),),
        init={"d": 1.0, "f_prev": 1.0}, point_fields=frozenset({"d", "f_prev"}),
    ),
    hyperparams=[
        *_ADAM_HP,
        decay("beta3", 0.999, "decay of the loss-feedback average"),
        HyperParam("c", 10.0, 1.0, 1000.0, log=True, help="clipping bound of the feedback"),
    ],
    reference="Koushik & Hayashi (2016)",
    summary="Adam with feedback from the relative change of the loss.",
)
register(
    "AMSGrad",
    family="adam",
    maths=Maths(AMSGradState, stage(amsgrad, "update", "m", "v", "vmax"),
                per_step=(stage(amsgrad_rate, "alpha_t"),)),
    hyperparams=_ADAM_HP,
    reference="Reddi, Kale & Kumar (2018)",
    summary="Adam with a non-decreasing second moment.",
)

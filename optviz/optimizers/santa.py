"""Santa: stochastic-gradient MCMC with simulated annealing (exploration, then refinement).

SantaE (Euler scheme) and SantaSSS (symmetric splitting scheme), as in the article's code.
Their Gaussian noise comes from the run's seed, keyed by (seed, optimizer, start, step, draw,
coordinate): ``z_init`` starts the momentum ``u`` at step 1, ``z`` drives each exploration
step. A point's draws never depend on which other points share the run.
"""

from __future__ import annotations

from typing import NamedTuple

from functions.elementwise import exp, sqrt, where
from optviz.optimizers.base import HyperParam, Maths, decay, eps, lr, register, stage


class SantaState(NamedTuple):
    alpha: object  # friction, starts at sqrt(eta)·C
    v: object  # average of g²/N²
    g_prev: object  # preconditioner G_{t−1}, starts at 0
    u: object  # momentum, drawn as sqrt(eta)·N(0, 1) at step 1


def initial_friction(eta, C):
    r""":math:`\alpha_0 = \sqrt\eta\, C`."""
    return sqrt(eta) * C


def temperature(t, eta, anne_rate):
    r""":math:`\eta/\beta_t`, with the inverse temperature :math:`\beta_t = t^{\text{anne\_rate}}`."""
    return eta / t**anne_rate


def exploring(t, burnin):
    """Whether a point still explores (t < burnin), once per point."""
    return t < burnin


def first_step(t):
    """True at step 1 (when the momentum is drawn)."""
    return t == 1


def preconditioner(g, v, u, z_init, t, T, eta, sigma, lambda_):
    r"""What both schemes do first: :math:`u_0 = \sqrt\eta\,\zeta_0` at t = 1, then
    :math:`v_t = \sigma v_{t-1} + (1-\sigma) g_t^2/N^2` and :math:`G_t = 1/\sqrt{\lambda + \sqrt{v_t}}`."""
    u = where(t == 1, sqrt(eta) * z_init, u)
    v = sigma * v + (1 - sigma) * (g * g) / (T * T)
    return u, v, 1 / sqrt(lambda_ + sqrt(v))


def thermostat_push(eta_beta, g_prev, G, u):
    r""":math:`\frac{\eta}{\beta}(1 - G_{t-1}/G_t) / u_{t-1}`, taken as 0 where :math:`u_{t-1} = 0`."""
    nonzero = u != 0
    return where(nonzero, eta_beta * (1 - g_prev / G) / where(nonzero, u, 1.0), 0.0)


def santa_e(g, alpha, v, g_prev, u, z_init, z, t, T, eta, eta_beta, sigma, lambda_, explore):
    r"""SantaE: Santa with the Euler scheme.

    With :math:`v_t = \sigma v_{t-1} + (1-\sigma) g_t^2/N^2`,
    :math:`G_t = 1/\sqrt{\lambda + \sqrt{v_t}}` and :math:`\beta_t = t^{\text{anne\_rate}}`:

    exploration (t < burnin):

    .. math::
        \alpha_t = \alpha_{t-1} + u_{t-1}^2 - \eta/\beta_t,\\
        u_t = \frac{\eta}{\beta_t}\frac{1 - G_{t-1}/G_t}{u_{t-1}}
              + \sqrt{2\eta G_{t-1}/\beta_t}\;\zeta_t
              + (1-\alpha_t)\,u_{t-1} - \eta\, G_t\, g_t

    refinement: :math:`u_t = (1-\alpha_{t-1})\,u_{t-1} - \eta\, G_t\, g_t`; then
    :math:`\Delta_t = G_t u_t`. ``N`` is the run's number of steps, ζ standard normal noise
    from the run's seed, :math:`u_0 = \sqrt\eta\,\zeta_0`, :math:`\alpha_0 = \sqrt\eta\, C`.
    Fixes: noise is seeded per run and point; the division by :math:`u_{t-1}` is guarded
    (the term is 0 where :math:`u_{t-1} = 0`).
    Reference: Chen, Carlson, Gan, Li & Carin (2016), "Bridging the Gap between Stochastic
    Gradient MCMC and Stochastic Optimization", AISTATS, Alg. 1 (Euler scheme).
    """
    u, v, G = preconditioner(g, v, u, z_init, t, T, eta, sigma, lambda_)
    force = -eta * G * g
    alpha_x = alpha + u * u - eta_beta
    push = thermostat_push(eta_beta, g_prev, G, u)
    u_x = push + sqrt(2 * eta_beta * g_prev) * z + (1 - alpha_x) * u + force
    u_new = where(explore, u_x, (1 - alpha) * u + force)
    return G * u_new, where(explore, alpha_x, alpha), v, G, u_new


def santa_sss(g, alpha, v, g_prev, u, z_init, z, t, T, eta, eta_beta, sigma, lambda_, explore):
    r"""SantaSSS: Santa with the symmetric splitting scheme.

    With :math:`v_t, G_t, \beta_t` as in SantaE, exploration (t < burnin):

    .. math::
        \alpha' = \alpha_{t-1} + (u_{t-1}^2 - \eta/\beta_t)/2,\quad
        u' = e^{-\alpha'/2} u_{t-1},\\
        u'' = u' - \eta G_t g_t + \sqrt{2 G_{t-1}\eta/\beta_t}\,\zeta_t
              + \frac{\eta}{\beta_t}\frac{1 - G_{t-1}/G_t}{u_{t-1}},\\
        u_t = e^{-\alpha'/2} u'',\quad \alpha_t = \alpha' + (u_t^2 - \eta/\beta_t)/2

    refinement: :math:`u_t = e^{-\alpha_{t-1}/2}(e^{-\alpha_{t-1}/2}u_{t-1} - \eta G_t g_t)`;
    then both half-steps of θ: :math:`\Delta_t = G_t (u_{t-1} + u_t)/2`.

    Fix against the article: its code computes the first half-step ``dw = 0.5*gw*self.uw``
    (:math:`G u_{t-1}/2`) and then overwrites it with the second (a dead store), so θ moved
    by :math:`G_t u_t/2` only; Chen et al.'s Alg. 2 moves θ by both halves, as here. Also:
    seeded noise; the division by :math:`u_{t-1}` is guarded as in SantaE.
    Reference: Chen et al. (2016), AISTATS, Alg. 2 (symmetric splitting scheme).
    """
    u, v, G = preconditioner(g, v, u, z_init, t, T, eta, sigma, lambda_)
    decay_r = exp(-0.5 * alpha)
    u_r = decay_r * (decay_r * u - G * g * eta)
    alpha_h = alpha + (u * u - eta_beta) * 0.5
    decay_x = exp(-0.5 * alpha_h)
    u_x = decay_x * (decay_x * u - G * g * eta + sqrt(2 * g_prev * eta_beta) * z
                     + thermostat_push(eta_beta, g_prev, G, u))
    alpha_x = alpha_h + (u_x * u_x - eta_beta) * 0.5
    u_new = where(explore, u_x, u_r)
    return 0.5 * G * (u + u_new), where(explore, alpha_x, alpha), v, G, u_new


_SANTA_HP = [
    lr("eta", 1e-2),
    decay("sigma", 0.95, "decay of the squared-gradient average"),
    eps("lambda_", 1e-8, help="numerical-safety constant (ε elsewhere)"),
    HyperParam("anne_rate", 0.5, 0.0, 2.0, help="annealing exponent: β_t = t^anne_rate"),
    HyperParam("burnin", 100.0, 0.0, 1e6, integer=True, help="steps of exploration"),
    HyperParam("C", 5.0, 0.0, 100.0, help="initial friction α_0 = sqrt(eta)·C"),
]


def _santa(scheme) -> Maths:
    return Maths(
        SantaState, stage(scheme, "update", "alpha", "v", "g_prev", "u"),
        per_step=(stage(temperature, "eta_beta"),),
        per_point=(stage(exploring, "explore"),),
        init={"alpha": stage(initial_friction, "alpha")},
        noise={"z_init": stage(first_step, "when"), "z": stage(exploring, "when")},
    )


register(
    "SantaE",
    family="santa",
    maths=_santa(santa_e),
    hyperparams=_SANTA_HP,
    reference="Chen et al. (2016), Euler scheme",
    summary="Annealed SG-MCMC: noisy exploration, then refinement.",
)
register(
    "SantaSSS",
    family="santa",
    maths=_santa(santa_sss),
    hyperparams=_SANTA_HP,
    reference="Chen et al. (2016), symmetric splitting",
    summary="Annealed SG-MCMC with the symmetric splitting integrator.",
)

"""Santa: stochastic-gradient MCMC with simulated annealing (exploration, then refinement).

SantaE (Euler scheme) and SantaSSS (symmetric splitting scheme), as in the article's code.
Their Gaussian noise comes from the run's seed (``ctx.noise``), one draw of shape
``(n_points, dim)`` at step 1 to start the momentum ``u`` and one per exploration step.
"""

from __future__ import annotations

from typing import NamedTuple

from .base import Array, Hyper, HyperParam, StepContext, decay, eps, lr, register, xpo, zeros_like


class SantaState(NamedTuple):
    alpha: Array  # friction, starts at sqrt(eta)·C
    v: Array  # average of g²/N²
    g_prev: Array  # preconditioner G_{t−1}, starts at 0
    u: Array  # momentum, drawn as sqrt(eta)·N(0, 1) at step 1


def _santa_init(params: Array, hp: Hyper) -> SantaState:
    xp = xpo(params)
    alpha = xp.ones_like(params) * (hp["eta"] ** 0.5 * hp["C"])
    return SantaState(alpha, zeros_like(params), zeros_like(params), zeros_like(params))


def _common(g: Array, state: SantaState, hp: Hyper, ctx: StepContext):
    """What both schemes do first: start ``u`` at t = 1, update v and the preconditioner G_t."""
    xp = xpo(g)
    eta = hp["eta"]
    u = eta**0.5 * ctx.noise() if ctx.t == 1 else state.u
    sigma = hp["sigma"]
    v = sigma * state.v + (1 - sigma) * (g * g) / ctx.total_steps**2
    G = 1 / xp.sqrt(hp["lambda_"] + xp.sqrt(v))
    beta = ctx.t ** hp["anne_rate"]
    return xp, eta, u, v, G, beta


def _exploring(t: int, burnin) -> tuple[bool, object]:
    """Whether any point explores at step t, and the per-point mask (or a bool)."""
    if isinstance(burnin, float | int):
        return t < burnin, t < burnin
    xp = xpo(burnin)
    return bool(t < float(xp.max(burnin))), t < burnin


def _pick(xp, explore, explored: Array, refined: Array) -> Array:
    """The exploration result where a point explores, the refinement result elsewhere."""
    if isinstance(explore, bool):
        return explored if explore else refined
    return xp.where(explore, explored, refined)


def _thermostat_push(xp, eta_beta, g_prev: Array, G: Array, u: Array) -> Array:
    r""":math:`\frac{\eta}{\beta}(1 - G_{t-1}/G_t) / u_{t-1}`, taken as 0 where :math:`u_{t-1} = 0`."""
    nonzero = u != 0
    safe_u = xp.where(nonzero, u, xp.ones_like(u))
    return xp.where(nonzero, eta_beta * (1 - g_prev / G) / safe_u, xp.zeros_like(u))


def santa_e_update(g: Array, state: SantaState, w: Array, hp: Hyper, ctx: StepContext):
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
    xp, eta, u, v, G, beta = _common(g, state, hp, ctx)
    any_explore, explore = _exploring(ctx.t, hp["burnin"])
    alpha = state.alpha
    force = -eta * G * g
    u_new = (1 - alpha) * u + force  # refinement
    if any_explore:
        alpha_x = alpha + u * u - eta / beta
        push = _thermostat_push(xp, eta / beta, state.g_prev, G, u)
        u_x = push + (2 * eta / beta * state.g_prev) ** 0.5 * ctx.noise() + (1 - alpha_x) * u + force
        alpha, u_new = _pick(xp, explore, alpha_x, alpha), _pick(xp, explore, u_x, u_new)
    return G * u_new, SantaState(alpha, v, G, u_new)


def santa_sss_update(g: Array, state: SantaState, w: Array, hp: Hyper, ctx: StepContext):
    r"""SantaSSS: Santa with the symmetric splitting scheme, as in the article's code.

    With :math:`v_t, G_t, \beta_t` as in SantaE, exploration (t < burnin):

    .. math::
        \alpha' = \alpha_{t-1} + (u_{t-1}^2 - \eta/\beta_t)/2,\quad
        u' = e^{-\alpha'/2} u_{t-1},\\
        u'' = u' - \eta G_t g_t + \sqrt{2 G_{t-1}\eta/\beta_t}\,\zeta_t
              + \frac{\eta}{\beta_t}\frac{1 - G_{t-1}/G_t}{u_{t-1}},\\
        u_t = e^{-\alpha'/2} u'',\quad \alpha_t = \alpha' + (u_t^2 - \eta/\beta_t)/2

    refinement: :math:`u_t = e^{-\alpha_{t-1}/2}(e^{-\alpha_{t-1}/2}u_{t-1} - \eta G_t g_t)`;
    then :math:`\Delta_t = G_t u_t / 2`.

    Note: the paper's scheme also moves θ by :math:`G_t u_{t-1}/2` before updating u; the
    article's code computes that half-step and then overwrites it, so only the second half
    is applied. The spec follows the article's code, and so does this rule.
    Fixes: seeded noise; the division by :math:`u_{t-1}` is guarded as in SantaE.
    Reference: Chen et al. (2016), AISTATS, Alg. 2 (symmetric splitting scheme).
    """
    xp, eta, u, v, G, beta = _common(g, state, hp, ctx)
    any_explore, explore = _exploring(ctx.t, hp["burnin"])
    alpha = state.alpha
    decay_r = xp.exp(-0.5 * alpha)
    u_new = decay_r * (decay_r * u - G * g * eta)  # refinement
    if any_explore:
        alpha_x = alpha + (u * u - eta / beta) * 0.5
        decay_x = xp.exp(-0.5 * alpha_x)
        push = _thermostat_push(xp, eta / beta, state.g_prev, G, u)
        u_x = decay_x * (
            decay_x * u - G * g * eta + (2 * state.g_prev * eta / beta) ** 0.5 * ctx.noise() + push
        )
        alpha_x = alpha_x + (u_x * u_x - eta / beta) * 0.5
        alpha, u_new = _pick(xp, explore, alpha_x, alpha), _pick(xp, explore, u_x, u_new)
    return 0.5 * G * u_new, SantaState(alpha, v, G, u_new)


_SANTA_HP = [
    lr("eta", 1e-2),
    decay("sigma", 0.95, "decay of the squared-gradient average"),
    eps("lambda_", 1e-8, help="numerical-safety constant (ε elsewhere)"),
    HyperParam("anne_rate", 0.5, 0.0, 2.0, help="annealing exponent: β_t = t^anne_rate"),
    HyperParam("burnin", 100.0, 0.0, 1e6, integer=True, help="steps of exploration"),
    HyperParam("C", 5.0, 0.0, 100.0, help="initial friction α_0 = sqrt(eta)·C"),
]

register(
    "SantaE",
    family="santa",
    init=_santa_init,
    update=santa_e_update,
    hyperparams=_SANTA_HP,
    reference="Chen et al. (2016), Euler scheme",
    summary="Annealed SG-MCMC: noisy exploration, then refinement.",
    needs=("noise",),
)
register(
    "SantaSSS",
    family="santa",
    init=_santa_init,
    update=santa_sss_update,
    hyperparams=_SANTA_HP,
    reference="Chen et al. (2016), symmetric splitting",
    summary="Annealed SG-MCMC with the symmetric splitting integrator.",
    needs=("noise",),
)

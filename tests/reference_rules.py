"""Independent reference transcriptions of the update rules in ``shared/optimizer-spec.md``.

Everything here works on ONE point at a time with Python floats and :mod:`math`, one coordinate
at a time, written from the spec's formulas (and the article's code for Santa), never from
optviz's rules: this module must not import ``optviz``. The tests compare ``optviz.run`` with
:func:`run_reference`.

Conventions (the spec's): ``w`` is one point's coordinate list, ``g = ∇f(w_t)``, ``t = 1, 2, …``,
state starts at zero unless said otherwise. The step returns Δ and the driver adds it to ``w``.

Santa's noise follows the engine's documented contract, transcribed here in plain Python
integers from the Philox paper (Salmon et al. 2011) and SplitMix64 (Steele et al. 2014), not from
optviz's code: draw ``k`` (0: ``z_init``, which starts ``u = sqrt(eta)·z_init`` at step 1; 1: ``z``,
one per exploration step) of coordinate ``j`` at step ``t`` comes from Philox4x32-10 of the counter
``(t, k·2^24 + j // 2, lo, hi)`` (lo/hi: a SplitMix64 hash of the start's float64 bits) under the
key ``(seed_lo ^ crc32(name), seed_hi)``, turned into a pair of normals by Box–Muller: even
coordinates take the cosine, odd ones the sine.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# ============================================================================ keyed noise
_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF


def philox4x32(ctr: Sequence[int], key: Sequence[int]) -> list[int]:
    """Philox4x32-10 (Random123): 10 rounds, the key bumped by the Weyl constants between them."""
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for r in range(10):
        if r:
            k0, k1 = (k0 + 0x9E3779B9) & _M32, (k1 + 0xBB67AE85) & _M32
        p0, p1 = 0xD2511F53 * c0, 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & _M32, (p0 >> 32) ^ c3 ^ k1, p0 & _M32
    return [c0, c1, c2, c3]


def _splitmix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def start_key(point: Sequence[float]) -> tuple[int, int]:
    h = 0x243F6A8885A308D3
    for j, x in enumerate(point):
        bits = struct.unpack("<Q", struct.pack("<d", float(x)))[0]
        h = _splitmix(h ^ ((bits + 0x9E3779B97F4A7C15 * (j + 1)) & _M64))
    return h & _M32, h >> 32


def keyed_normal(seed: int, name: str, point: Sequence[float], t: int, draw: int, j: int) -> float:
    lo, hi = start_key(point)
    key = [(seed & _M32) ^ zlib.crc32(name.encode()), seed >> 32]
    x = philox4x32([t, draw * 2**24 + j // 2, lo, hi], key)
    u1 = ((x[0] >> 5) * 67108864.0 + (x[1] >> 6) + 1.0) / 9007199254740992.0
    u2 = ((x[2] >> 5) * 67108864.0 + (x[3] >> 6)) / 9007199254740992.0
    angle = 6.283185307179586 * u2
    return math.sqrt(-2.0 * math.log(u1)) * (math.cos(angle) if j % 2 == 0 else math.sin(angle))

Vec = list[float]
GradFn = Callable[[Vec], Vec]


# ============================================================================ test functions
class Quartic:
    """The article's 1-D quartic, by hand: f = 4 (x⁴/4 − x³/6 − 17x²/8 − 15x/8)."""

    name = "quartic"
    dim = 1
    fmin = -2075.0 / 48.0

    @staticmethod
    def value(w: Vec) -> float:
        x = w[0]
        return 4.0 * (x**4 / 4.0 - x**3 / 6.0 - 17.0 * x**2 / 8.0 - 15.0 * x / 8.0)

    @staticmethod
    def grad(w: Vec) -> Vec:
        x = w[0]
        return [4.0 * (x**3 - x**2 / 2.0 - 17.0 * x / 4.0 - 15.0 / 8.0)]


class Rosenbrock:
    """2-D Rosenbrock, by hand: f = 100 (y − x²)² + (1 − x)²."""

    name = "rosenbrock"
    dim = 2
    fmin = 0.0

    @staticmethod
    def value(w: Vec) -> float:
        x, y = w
        return 100.0 * (y - x * x) ** 2 + (1.0 - x) ** 2

    @staticmethod
    def grad(w: Vec) -> Vec:
        x, y = w
        return [-400.0 * x * (y - x * x) - 2.0 * (1.0 - x), 200.0 * (y - x * x)]


FUNCTIONS = {"quartic": Quartic, "rosenbrock": Rosenbrock}


# ============================================================================ hooks (per point)
def norm(x: Vec) -> float:
    return math.sqrt(sum(c * c for c in x))


def lars(threshold: float = 0.01, weight_decay: float = 0.0, eps: float = 1e-9):
    """Chainer's GradientLARS on one point: its "layer" is the point's whole vector.

    rate = ‖w‖ / (eps + ‖g‖ + wd ‖w‖) if ‖w‖ > threshold else 1;  g ← (g + wd·w)·rate.
    A zero denominator (eps = 0 and g = 0, wd = 0) leaves g + wd·w = 0 whatever the rate:
    rate 1 there (Chainer would compute 0·inf = NaN).
    """

    def hook(g: Vec, w: Vec) -> Vec:
        w_norm, g_norm = norm(w), norm(g)
        den = eps + g_norm + weight_decay * w_norm
        rate = w_norm / den if w_norm > threshold and den > 0 else 1.0
        return [(gj + weight_decay * wj) * rate for gj, wj in zip(g, w, strict=True)]

    return hook


def clip_by_norm(max_norm: float):
    """g ← g · min(1, c/‖g‖)."""

    def hook(g: Vec, w: Vec) -> Vec:
        n = norm(g)
        return [gj * max_norm / n for gj in g] if n > max_norm else list(g)

    return hook


def weight_decay(rate: float):
    """g ← g + λ w."""

    def hook(g: Vec, w: Vec) -> Vec:
        return [gj + rate * wj for gj, wj in zip(g, w, strict=True)]

    return hook


# ============================================================================ the rules
@dataclass
class Ctx:
    """What one point's step may use besides g."""

    t: int
    total_steps: int
    f: float  # f(w_t), the loss where the point is now
    fstar: float | None
    grad_at: GradFn  # gradient (after hooks) at another point
    noise: Callable[[str], Vec]  # Santa's draw "z_init" or "z" for this point and step


Rule = tuple[Callable[[Vec, dict], dict], Callable[[Vec, dict, Vec, dict, Ctx], Vec]]
RULES: dict[str, Rule] = {}
#: which hyperparameters are step sizes (a schedule multiplies them), per the spec.
LR_NAMES: dict[str, tuple[str, ...]] = {}
#: every hyperparameter's default, copied from the spec's tables.
DEFAULTS: dict[str, dict[str, float]] = {}


def rule(name: str, defaults: dict[str, float], lr_names: tuple[str, ...]):
    def deco(pair):
        init, step = pair()
        RULES[name] = (init, step)
        DEFAULTS[name] = defaults
        LR_NAMES[name] = lr_names
        return pair

    return deco


def zeros(w: Vec) -> Vec:
    return [0.0] * len(w)


@rule("SGD", {"eta": 1e-2}, ("eta",))
def _sgd():
    def init(w, hp):
        return {}

    def step(g, s, w, hp, c):
        return [-hp["eta"] * gj for gj in g]

    return init, step


@rule("MSGD", {"eta": 1e-2, "mu": 0.9}, ("eta",))
def _msgd():
    def init(w, hp):
        return {"delta": zeros(w)}

    def step(g, s, w, hp, c):
        mu, eta = hp["mu"], hp["eta"]
        s["delta"] = [mu * d - (1 - mu) * eta * gj for d, gj in zip(s["delta"], g, strict=True)]
        return list(s["delta"])

    return init, step


@rule("NAG", {"eta": 1e-2, "mu": 0.9}, ("eta",))
def _nag():
    def init(w, hp):
        return {"delta": zeros(w)}

    def step(g, s, w, hp, c):
        mu, eta = hp["mu"], hp["eta"]
        # g = ∇f(w_t + μ Δ_{t−1}): the gradient at the look-ahead point
        g = c.grad_at([wj + mu * d for wj, d in zip(w, s["delta"], strict=True)])
        s["delta"] = [mu * d - (1 - mu) * eta * gj for d, gj in zip(s["delta"], g, strict=True)]
        return list(s["delta"])

    return init, step


@rule("AdaGrad", {"eta": 1e-3, "eps": 1e-8}, ("eta",))
def _adagrad():
    def init(w, hp):
        return {"G": zeros(w)}

    def step(g, s, w, hp, c):
        out = []
        for j, gj in enumerate(g):
            s["G"][j] += gj * gj
            out.append(-hp["eta"] * gj / (math.sqrt(s["G"][j]) + hp["eps"]))
        return out

    return init, step


@rule("RMSprop", {"eta": 1e-2, "rho": 0.99, "eps": 1e-8}, ("eta",))
def _rmsprop():
    def init(w, hp):
        return {"v": zeros(w)}

    def step(g, s, w, hp, c):
        out = []
        for j, gj in enumerate(g):
            s["v"][j] += (1 - hp["rho"]) * (gj * gj - s["v"][j])
            out.append(-hp["eta"] * gj / math.sqrt(s["v"][j] + hp["eps"]))
        return out

    return init, step


@rule("AdaDelta", {"rho": 0.95, "eps": 1e-6, "lr": 1.0}, ("lr",))
def _adadelta():
    # The spec's rule has no rate; optviz adds PyTorch's extra factor lr (default 1).
    def init(w, hp):
        return {"v": zeros(w), "u": zeros(w)}

    def step(g, s, w, hp, c):
        rho, e = hp["rho"], hp["eps"]
        out = []
        for j, gj in enumerate(g):
            s["v"][j] += (1 - rho) * (gj * gj - s["v"][j])
            d = -gj * math.sqrt(s["u"][j] + e) / math.sqrt(s["v"][j] + e)
            s["u"][j] += (1 - rho) * (d * d - s["u"][j])
            out.append(hp["lr"] * d)
        return out

    return init, step


@rule("Adam", {"alpha": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}, ("alpha",))
def _adam():
    def init(w, hp):
        return {"m": zeros(w), "v": zeros(w)}

    def step(g, s, w, hp, c):
        b1, b2, t = hp["beta1"], hp["beta2"], c.t
        alpha_t = hp["alpha"] * math.sqrt(1 - b2**t) / (1 - b1**t)
        out = []
        for j, gj in enumerate(g):
            s["m"][j] = b1 * s["m"][j] + (1 - b1) * gj
            s["v"][j] = b2 * s["v"][j] + (1 - b2) * gj * gj
            out.append(-alpha_t * s["m"][j] / math.sqrt(s["v"][j] + hp["eps"]))
        return out

    return init, step


@rule("RMSpropGraves", {"eta": 1e-4, "rho": 0.95, "eps": 1e-4}, ("eta",))
def _graves():
    def init(w, hp):
        return {"m": zeros(w), "v": zeros(w)}

    def step(g, s, w, hp, c):
        rho = hp["rho"]
        out = []
        for j, gj in enumerate(g):
            s["m"][j] = rho * s["m"][j] + (1 - rho) * gj
            s["v"][j] = rho * s["v"][j] + (1 - rho) * gj * gj
            out.append(-hp["eta"] * gj / math.sqrt(s["v"][j] - s["m"][j] ** 2 + hp["eps"]))
        return out

    return init, step


@rule("SMORMS3", {"eta": 1e-3, "eps": 1e-8}, ("eta",))
def _smorms3():
    # Funk (2015) / Chainer: s starts at 1; the NEW gradient weighs r = 1/(s+1).
    def init(w, hp):
        return {"s": [1.0] * len(w), "m": zeros(w), "v": zeros(w)}

    def step(g, s, w, hp, c):
        e = hp["eps"]
        out = []
        for j, gj in enumerate(g):
            r = 1.0 / (s["s"][j] + 1.0)
            s["m"][j] = (1 - r) * s["m"][j] + r * gj
            s["v"][j] = (1 - r) * s["v"][j] + r * gj * gj
            zeta = s["m"][j] ** 2 / (s["v"][j] + e)
            out.append(-gj * min(hp["eta"], zeta) / (math.sqrt(s["v"][j]) + e))
            s["s"][j] = 1.0 + s["s"][j] * (1.0 - zeta)
        return out

    return init, step


@rule("AdaMax", {"alpha": 2e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}, ("alpha",))
def _adamax():
    def init(w, hp):
        return {"m": zeros(w), "u": zeros(w)}

    def step(g, s, w, hp, c):
        b1 = hp["beta1"]
        out = []
        for j, gj in enumerate(g):
            s["m"][j] = b1 * s["m"][j] + (1 - b1) * gj
            s["u"][j] = max(hp["beta2"] * s["u"][j], abs(gj) + hp["eps"])
            out.append(-hp["alpha"] / (1 - b1**c.t) * s["m"][j] / s["u"][j])
        return out

    return init, step


@rule("Nadam", {"alpha": 2e-3, "mu": 0.975, "nu": 0.999, "eps": 1e-8}, ("alpha",))
def _nadam():
    def init(w, hp):
        return {"m": zeros(w), "v": zeros(w)}

    def step(g, s, w, hp, c):
        mu, nu, t = hp["mu"], hp["nu"], c.t
        out = []
        for j, gj in enumerate(g):
            s["m"][j] = mu * s["m"][j] + (1 - mu) * gj
            s["v"][j] = nu * s["v"][j] + (1 - nu) * gj * gj
            m_hat = mu * s["m"][j] / (1 - mu ** (t + 1)) + (1 - mu) * gj / (1 - mu**t)
            v_hat = s["v"][j] / (1 - nu**t)  # no ν in front: the article's (and paper's) typo fixed
            out.append(-hp["alpha"] * m_hat / math.sqrt(v_hat + hp["eps"]))
        return out

    return init, step


@rule(
    "Eve",
    {"alpha": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "beta3": 0.999, "c": 10.0},
    ("alpha",),
)
def _eve():
    # f_t = f(w_t) (where the point is now), f* = the function's minimum value (0 without one);
    # d̃_1 = 1; for t > 1 d = |f_t − f_{t−1}| / (min(f_t, f_{t−1}) − f*), clipped to [1/c, c].
    def init(w, hp):
        return {"m": zeros(w), "v": zeros(w), "d": 1.0, "f_prev": None}

    def step(g, s, w, hp, c):
        b1, b2, t = hp["beta1"], hp["beta2"], c.t
        if t > 1:
            fstar = 0.0 if c.fstar is None else c.fstar
            num = abs(c.f - s["f_prev"])
            den = min(c.f, s["f_prev"]) - fstar
            # a zero (or rounding-negative) denominator at the optimum: d saturates
            d = (num / den if den > 0 else (math.inf if num > 0 else 0.0))
            d_hat = min(max(d, 1.0 / hp["c"]), hp["c"])
            s["d"] = hp["beta3"] * s["d"] + (1 - hp["beta3"]) * d_hat
        else:
            s["d"] = 1.0
        s["f_prev"] = c.f
        out = []
        for j, gj in enumerate(g):
            s["m"][j] = b1 * s["m"][j] + (1 - b1) * gj
            s["v"][j] = b2 * s["v"][j] + (1 - b2) * gj * gj
            m_hat = s["m"][j] / (1 - b1**t)
            v_hat = s["v"][j] / (1 - b2**t)
            out.append(-hp["alpha"] * m_hat / (s["d"] * (math.sqrt(v_hat) + hp["eps"])))
        return out

    return init, step


_SANTA_DEFAULTS = {
    "eta": 1e-2, "sigma": 0.95, "lambda_": 1e-8, "anne_rate": 0.5, "burnin": 100.0, "C": 5.0,
}  # fmt: skip


def _santa_common(g, s, hp, c):
    """Both schemes, per coordinate: u_0 at t = 1, then v_t and G_t (article's code)."""
    eta = hp["eta"]
    if c.t == 1:
        z0 = c.noise("z_init")
        s["u"] = [math.sqrt(eta) * z for z in z0]
    G = []
    for j, gj in enumerate(g):
        s["v"][j] = hp["sigma"] * s["v"][j] + gj * gj * (1 - hp["sigma"]) / c.total_steps**2
        G.append(1.0 / math.sqrt(hp["lambda_"] + math.sqrt(s["v"][j])))
    beta = c.t ** hp["anne_rate"]
    return eta, G, beta


def _push(eta_beta: float, g_prev: float, G: float, u_prev: float) -> float:
    """(η/β)(1 − G_{t−1}/G_t)/u_{t−1}, guarded: 0 where u_{t−1} = 0."""
    return 0.0 if u_prev == 0 else eta_beta * (1 - g_prev / G) / u_prev


@rule("SantaE", _SANTA_DEFAULTS, ("eta",))
def _santa_e():
    def init(w, hp):
        a0 = math.sqrt(hp["eta"]) * hp["C"]
        return {"alpha": [a0] * len(w), "v": zeros(w), "gprev": zeros(w), "u": zeros(w)}

    def step(g, s, w, hp, c):
        eta, G, beta = _santa_common(g, s, hp, c)
        explore = c.t < hp["burnin"]
        z = c.noise("z") if explore else None
        out = []
        for j, gj in enumerate(g):
            u_prev = s["u"][j]
            if explore:
                s["alpha"][j] += u_prev * u_prev - eta / beta
                u = _push(eta / beta, s["gprev"][j], G[j], u_prev) + math.sqrt(
                    2 * eta / beta * s["gprev"][j]
                ) * z[j]
            else:
                u = 0.0
            u += (1 - s["alpha"][j]) * u_prev - eta * G[j] * gj
            s["u"][j] = u
            s["gprev"][j] = G[j]
            out.append(G[j] * u)
        return out

    return init, step


@rule("SantaSSS", _SANTA_DEFAULTS, ("eta",))
def _santa_sss():
    # The article's code computes dw = 0.5·G·u_{t−1} first and then overwrites it with
    # dw = G·u_t·0.5 (a dead store); the spec (Chen et al. Alg. 2) applies both halves:
    # Δ = G_t (u_{t−1} + u_t)/2.
    def init(w, hp):
        a0 = math.sqrt(hp["eta"]) * hp["C"]
        return {"alpha": [a0] * len(w), "v": zeros(w), "gprev": zeros(w), "u": zeros(w)}

    def step(g, s, w, hp, c):
        eta, G, beta = _santa_common(g, s, hp, c)
        explore = c.t < hp["burnin"]
        z = c.noise("z") if explore else None
        out = []
        for j, gj in enumerate(g):
            u_prev = s["u"][j]
            if explore:
                s["alpha"][j] += (u_prev * u_prev - eta / beta) * 0.5
                u = math.exp(-0.5 * s["alpha"][j]) * u_prev
                u += (
                    -G[j] * gj * eta
                    + math.sqrt(2 * s["gprev"][j] * eta / beta) * z[j]
                    + _push(eta / beta, s["gprev"][j], G[j], u_prev)
                )
                u *= math.exp(-0.5 * s["alpha"][j])
                s["alpha"][j] += (u * u - eta / beta) * 0.5
            else:
                u = math.exp(-0.5 * s["alpha"][j]) * u_prev
                u -= G[j] * gj * eta
                u *= math.exp(-0.5 * s["alpha"][j])
            out.append(G[j] * (u_prev + u) * 0.5)
            s["u"][j] = u
            s["gprev"][j] = G[j]
        return out

    return init, step


@rule("AMSGrad", {"alpha": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}, ("alpha",))
def _amsgrad():
    def init(w, hp):
        return {"m": zeros(w), "v": zeros(w), "vhat": zeros(w)}

    def step(g, s, w, hp, c):
        b1, b2 = hp["beta1"], hp["beta2"]
        alpha_t = hp["alpha"] / math.sqrt(c.t)
        out = []
        for j, gj in enumerate(g):
            s["m"][j] = b1 * s["m"][j] + (1 - b1) * gj
            s["v"][j] = b2 * s["v"][j] + (1 - b2) * gj * gj
            s["vhat"][j] = max(s["vhat"][j], s["v"][j])
            out.append(-alpha_t * s["m"][j] / math.sqrt(s["vhat"][j] + hp["eps"]))
        return out

    return init, step


_BOUND_DEFAULTS = {"alpha": 1e-3, "eta": 1e-1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


def _bound_rule(ams: bool):
    def init(w, hp):
        return {"m": zeros(w), "v": zeros(w), "vhat": zeros(w)}

    def step(g, s, w, hp, c):
        b1, b2, t, eta = hp["beta1"], hp["beta2"], c.t, hp["eta"]
        lower = eta * (1 - 1 / ((1 - b2) * t + 1))
        upper = eta * (1 + 1 / ((1 - b2) * t))
        out = []
        for j, gj in enumerate(g):
            s["m"][j] = b1 * s["m"][j] + (1 - b1) * gj
            s["v"][j] = b2 * s["v"][j] + (1 - b2) * gj * gj
            s["vhat"][j] = max(s["vhat"][j], s["v"][j])
            v = s["vhat"][j] if ams else s["v"][j]
            rate = min(max(hp["alpha"] / (math.sqrt(v) + hp["eps"]), lower), upper)
            out.append(-rate / math.sqrt(t) * s["m"][j])
        return out

    return init, step


rule("AdaBound", _BOUND_DEFAULTS, ("alpha", "eta"))(lambda: _bound_rule(False))
rule("AMSBound", _BOUND_DEFAULTS, ("alpha", "eta"))(lambda: _bound_rule(True))


@rule("CorrectedMomentumSGD", {"lr": 1e-2, "momentum": 0.9}, ("lr",))
def _corrected():
    # Chainer: v = μ v − g;  w += lr_t · v
    def init(w, hp):
        return {"v": zeros(w)}

    def step(g, s, w, hp, c):
        s["v"] = [hp["momentum"] * vj - gj for vj, gj in zip(s["v"], g, strict=True)]
        return [hp["lr"] * vj for vj in s["v"]]

    return init, step


@rule("DCASGD", {"learning_rate": 0.1, "momentum": 0.0, "lamda": 0.04}, ("learning_rate",))
def _dcasgd():
    # MXNet: d = g + λ g⊙g⊙(w − w_prev); mom = μ mom − lr d (μ = 0: mom = −lr d);
    # w_prev = w; w += mom. w_prev starts as a copy of w.
    def init(w, hp):
        return {"mom": zeros(w), "w_prev": list(w)}

    def step(g, s, w, hp, c):
        lam, lr, mu = hp["lamda"], hp["learning_rate"], hp["momentum"]
        out = []
        for j, gj in enumerate(g):
            d = gj + lam * gj * gj * (w[j] - s["w_prev"][j])
            s["mom"][j] = mu * s["mom"][j] - lr * d if mu != 0 else -lr * d
            out.append(s["mom"][j])
        s["w_prev"] = list(w)
        return out

    return init, step


SANTA = ("SantaE", "SantaSSS")


# ============================================================================ today's rules
# Written from the papers' algorithms with the conventions each optviz docstring names (ε after
# the bias correction, β as decay rates), one coordinate at a time.
def sgn(x: float) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


@rule("AdamW", {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 1e-2}, ("lr",))
def _adamw():
    # Loshchilov & Hutter (2019), Alg. 2 with η_t = 1 and α = lr: θ ← θ − lr(m̂/(√v̂ + ε) + λθ)
    def init(w, hp):
        return {"m": zeros(w), "v": zeros(w)}

    def step(g, s, w, hp, c):
        b1, b2, t = hp["beta1"], hp["beta2"], c.t
        out = []
        for j, gj in enumerate(g):
            s["m"][j] = b1 * s["m"][j] + (1 - b1) * gj
            s["v"][j] = b2 * s["v"][j] + (1 - b2) * gj * gj
            m_hat, v_hat = s["m"][j] / (1 - b1**t), s["v"][j] / (1 - b2**t)
            out.append(-hp["lr"] * (m_hat / (math.sqrt(v_hat) + hp["eps"]) + hp["weight_decay"] * w[j]))
        return out

    return init, step


@rule("Lion", {"lr": 1e-4, "beta1": 0.9, "beta2": 0.99, "weight_decay": 0.0}, ("lr",))
def _lion():
    # Chen et al. (2023), Alg. 2: u = sign(β1 m + (1−β1) g); θ ← θ − lr(u + λθ); m ← β2 m + (1−β2) g
    def init(w, hp):
        return {"m": zeros(w)}

    def step(g, s, w, hp, c):
        out = []
        for j, gj in enumerate(g):
            u = sgn(hp["beta1"] * s["m"][j] + (1 - hp["beta1"]) * gj)
            out.append(-hp["lr"] * (u + hp["weight_decay"] * w[j]))
            s["m"][j] = hp["beta2"] * s["m"][j] + (1 - hp["beta2"]) * gj
        return out

    return init, step


@rule("RAdam", {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "threshold": 5.0}, ("lr",))
def _radam():
    # Liu et al. (2020), Alg. 2, with the libraries' threshold (ρ_t ≥ 5) and ε after the correction
    def init(w, hp):
        return {"m": zeros(w), "v": zeros(w)}

    def step(g, s, w, hp, c):
        b1, b2, t = hp["beta1"], hp["beta2"], c.t
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho = rho_inf - 2.0 * t * b2**t / (1.0 - b2**t)
        out = []
        for j, gj in enumerate(g):
            s["m"][j] = b1 * s["m"][j] + (1 - b1) * gj
            s["v"][j] = b2 * s["v"][j] + (1 - b2) * gj * gj
            m_hat = s["m"][j] / (1 - b1**t)
            if rho >= hp["threshold"]:
                r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
                v_hat = s["v"][j] / (1 - b2**t)
                out.append(-hp["lr"] * r * m_hat / (math.sqrt(v_hat) + hp["eps"]))
            else:
                out.append(-hp["lr"] * m_hat)
        return out

    return init, step


@rule("AdaBelief", {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-16}, ("lr",))
def _adabelief():
    # Zhuang et al. (2020), Alg. 2: s ← β2 s + (1−β2)(g − m)² + ε; θ ← θ − lr m̂/(√ŝ + ε)
    def init(w, hp):
        return {"m": zeros(w), "s": zeros(w)}

    def step(g, s, w, hp, c):
        b1, b2, t, eps = hp["beta1"], hp["beta2"], c.t, hp["eps"]
        out = []
        for j, gj in enumerate(g):
            s["m"][j] = b1 * s["m"][j] + (1 - b1) * gj
            s["s"][j] = b2 * s["s"][j] + (1 - b2) * (gj - s["m"][j]) ** 2 + eps
            m_hat, s_hat = s["m"][j] / (1 - b1**t), s["s"][j] / (1 - b2**t)
            out.append(-hp["lr"] * m_hat / (math.sqrt(s_hat) + eps))
        return out

    return init, step


@rule("Yogi", {"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-3, "v0": 1e-6}, ("lr",))
def _yogi():
    # Zaheer et al. (2018), Alg. 2: v ← v − (1−β2) sign(v − g²) g², with optax's start m = v = v0
    # and Adam's bias corrections
    def init(w, hp):
        return {"m": [hp["v0"]] * len(w), "v": [hp["v0"]] * len(w)}

    def step(g, s, w, hp, c):
        b1, b2, t = hp["beta1"], hp["beta2"], c.t
        out = []
        for j, gj in enumerate(g):
            s["m"][j] = b1 * s["m"][j] + (1 - b1) * gj
            s["v"][j] = s["v"][j] - (1 - b2) * sgn(s["v"][j] - gj * gj) * gj * gj
            m_hat, v_hat = s["m"][j] / (1 - b1**t), s["v"][j] / (1 - b2**t)
            out.append(-hp["lr"] * m_hat / (math.sqrt(v_hat) + hp["eps"]))
        return out

    return init, step


@rule("Adan", {"lr": 1e-3, "beta1": 0.98, "beta2": 0.92, "beta3": 0.99, "eps": 1e-8, "weight_decay": 0.0},
      ("lr",))
def _adan():
    # Xie et al. (2024), Alg. 1 in the official code's decay-rate convention, decay added to the step
    def init(w, hp):
        return {"m": zeros(w), "v": zeros(w), "n": zeros(w), "prev": zeros(w)}

    def step(g, s, w, hp, c):
        b1, b2, b3, t = hp["beta1"], hp["beta2"], hp["beta3"], c.t
        out = []
        for j, gj in enumerate(g):
            d = gj - s["prev"][j] if t > 1 else 0.0
            s["m"][j] = b1 * s["m"][j] + (1 - b1) * gj
            s["v"][j] = b2 * s["v"][j] + (1 - b2) * d
            s["n"][j] = b3 * s["n"][j] + (1 - b3) * (gj + (1 - b2) * d) ** 2
            s["prev"][j] = gj
            m_hat, v_hat, n_hat = s["m"][j] / (1 - b1**t), s["v"][j] / (1 - b2**t), s["n"][j] / (1 - b3**t)
            u = (m_hat + (1 - b2) * v_hat) / (math.sqrt(n_hat) + hp["eps"])
            out.append(-hp["lr"] * (u + hp["weight_decay"] * w[j]))
        return out

    return init, step


#: Rules whose learning rate the run's schedule leaves alone (their own schedule, or a first step).
UNSCHEDULED = ("Rprop", "ScheduleFreeSGD", "ScheduleFreeAdamW")


@rule("Rprop", {"lr": 1e-2, "eta_minus": 0.5, "eta_plus": 1.2, "step_min": 1e-6, "step_max": 50.0}, ("lr",))
def _rprop():
    # Igel & Hüsken (2000), iRprop−: the step size grows by η+ while sign(g) holds, shrinks by η−
    # at a flip (and the coordinate rests); torch's clamp to [step_min, step_max] every step
    def init(w, hp):
        return {"step": [hp["lr"]] * len(w), "prev": zeros(w)}

    def step(g, s, w, hp, c):
        out = []
        for j, gj in enumerate(g):
            prod = gj * s["prev"][j]
            factor = hp["eta_plus"] if prod > 0 else hp["eta_minus"] if prod < 0 else 1.0
            s["step"][j] = min(max(s["step"][j] * factor, hp["step_min"]), hp["step_max"])
            if prod < 0:
                gj = 0.0
            out.append(-s["step"][j] * sgn(gj))
            s["prev"][j] = gj
        return out

    return init, step


def _schedule_free(adam: bool):
    # Defazio et al. (2024), Alg. 1: y = β x + (1−β) z, z ← z − γ_t (base step at y), x ← (1−c) x + c z,
    # c = γ_t^p / Σ γ_k^p, γ_t = lr·min(1, t/warmup); the point is x
    def init(w, hp):
        return {"z": list(w), "v": zeros(w), "wsum": 0.0}

    def step(g, s, w, hp, c):
        beta = hp["beta1"] if adam else hp["momentum"]
        t = c.t
        lr_t = hp["lr"] * min(1.0, t / max(hp["warmup"], 1.0))
        y = [beta * wj + (1 - beta) * zj for wj, zj in zip(w, s["z"], strict=True)]
        g = c.grad_at(y)
        weight = lr_t ** hp["weight_lr_power"]
        s["wsum"] += weight
        ck = weight / s["wsum"]
        out = []
        for j, gj in enumerate(g):
            if adam:
                s["v"][j] = hp["beta2"] * s["v"][j] + (1 - hp["beta2"]) * gj * gj
                gj = gj / (math.sqrt(s["v"][j] / (1 - hp["beta2"] ** t)) + hp["eps"])
            s["z"][j] -= lr_t * (gj + hp["weight_decay"] * y[j])
            out.append((1 - ck) * w[j] + ck * s["z"][j] - w[j])
        return out

    return init, step


rule("ScheduleFreeSGD", {"lr": 1e-2, "momentum": 0.9, "weight_decay": 0.0, "warmup": 0.0,
                         "weight_lr_power": 2.0}, ("lr",))(lambda: _schedule_free(False))
rule("ScheduleFreeAdamW", {"lr": 2.5e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0,
                           "warmup": 0.0, "weight_lr_power": 2.0}, ("lr",))(lambda: _schedule_free(True))
@rule("Prodigy", {"lr": 1.0, "beta1": 0.9, "beta2": 0.999, "beta3": 0.9995, "eps": 1e-8, "d0": 1e-6,
                  "d_coef": 1.0, "weight_decay": 0.0}, ("lr",))
def _prodigy():
    # Mishchenko & Defazio (2024), Alg. 4 (Adam version), as optax's contrib code: one point is one
    # model, so the dot product and the 1-norm run over its coordinates; d stays where ‖s‖₁ = 0
    def init(w, hp):
        return {"m": zeros(w), "v": zeros(w), "s": zeros(w), "x0": list(w), "d": hp["d0"], "r": 0.0}

    def step(g, s, w, hp, c):
        b1, b2, b3, t, d, d0 = hp["beta1"], hp["beta2"], hp["beta3"], c.t, s["d"], hp["d0"]
        eta = d * hp["lr"] * math.sqrt(1 - b2**t) / (1 - b1**t)
        gx = sum(gj * (x0j - wj) for gj, x0j, wj in zip(g, s["x0"], w, strict=True))
        for j, gj in enumerate(g):
            s["m"][j] = b1 * s["m"][j] + (1 - b1) * d * gj
            s["v"][j] = b2 * s["v"][j] + (1 - b2) * (d * gj) ** 2
            s["s"][j] = b3 * s["s"][j] + eta * d * gj / d0
        s["r"] = b3 * s["r"] + d / d0 * eta * gx
        norm1 = sum(abs(sj) for sj in s["s"])
        if norm1 > 0:
            s["d"] = max(d, hp["d_coef"] * s["r"] / norm1)
        return [-hp["weight_decay"] * eta * wj - eta * mj / (math.sqrt(vj) + s["d"] * hp["eps"])
                for wj, mj, vj in zip(w, s["m"], s["v"], strict=True)]

    return init, step


#: Rules that take their gradient elsewhere than at the point (c.grad_at).
LOOKAHEAD = ("NAG", "ScheduleFreeSGD", "ScheduleFreeAdamW")


# ============================================================================ the driver
def _per_point(value: Any, n: int) -> list[float]:
    if isinstance(value, int | float):
        return [float(value)] * n
    vals = [float(v) for v in np.asarray(value, dtype=float).reshape(-1)]
    assert len(vals) == n
    return vals


def run_reference(
    func: Any,
    name: str,
    starts: Sequence[Sequence[float]],
    steps: int,
    hp: Mapping[str, Any] | None = None,
    *,
    seed: int = 0,
    hooks: Sequence[Callable[[Vec, Vec], Vec]] = (),
    factors: Sequence[float] | None = None,
) -> np.ndarray:
    """Trajectories ``(steps + 1, n_points, dim)`` of optimizer ``name``, one point at a time.

    ``hp`` values are scalars or one per point; ``factors[t-1]`` multiplies every step-size
    hyperparameter at step t (a schedule); ``hooks`` rewrite each gradient in order.
    """
    if isinstance(func, str):
        func = FUNCTIONS[func]
    init, step = RULES[name]
    starts = [[float(c) for c in p] for p in starts]
    n, dim = len(starts), len(starts[0])
    given = dict(hp or {})
    unknown = set(given) - set(DEFAULTS[name])
    assert not unknown, unknown
    cols = {k: _per_point(given.get(k, d), n) for k, d in DEFAULTS[name].items()}
    fstar = getattr(func, "fmin", None)

    def hooked_grad(w: Vec) -> Vec:
        g = func.grad(w)
        for h in hooks:
            g = h(g, w)
        return g

    out = np.empty((steps + 1, n, dim))
    for i in range(n):
        hp_i = {k: v[i] for k, v in cols.items()}
        if name in SANTA:
            hp_i["burnin"] = float(round(hp_i["burnin"]))
        w = list(starts[i])
        state = init(w, hp_i)
        out[0, i] = w
        for t in range(1, steps + 1):
            f = factors[t - 1] if factors is not None else 1.0
            scaled = () if name in UNSCHEDULED else LR_NAMES[name]
            hp_t = {k: (v * f if k in scaled else v) for k, v in hp_i.items()}
            def noise(kind: str, t=t, start=starts[i]) -> Vec:
                draw = {"z_init": 0, "z": 1}[kind]
                return [keyed_normal(seed, name, start, t, draw, j) for j in range(dim)]

            ctx = Ctx(t, steps, func.value(w), fstar, hooked_grad, noise)
            g = hooked_grad(w) if name not in LOOKAHEAD else None
            delta = step(g, state, w, hp_t, ctx)
            w = [wj + dj for wj, dj in zip(w, delta, strict=True)]
            out[t, i] = w
    return out

"""Test functions defined in any dimension n (n >= 1 or n >= 2).

References:
    H. H. Rosenbrock, "An automatic method for finding the greatest or least value of a
    function", The Computer Journal 3(3), 175-184 (1960).
    L. A. Rastrigin, "Systems of extremal control", Nauka, Moscow (1974).
    D. H. Ackley, "A connectionist machine for genetic hillclimbing", Kluwer (1987).
    M. A. Styblinski and T.-S. Tang, "Experiments in nonconvex optimization: stochastic
    approximation with function smoothing and simulated annealing", Neural Networks 3(4),
    467-483 (1990).
    M. Jamil and X.-S. Yang, "A literature survey of benchmark functions for global
    optimization problems", Int. J. Math. Model. Numer. Optim. 4(2), 150-194 (2013).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

from .base import Array, Family, Spec, constant, namespace


def _shift_add(xp: Any, head: Array, tail: Array) -> Array:
    """Return ``[head, 0] + [0, tail]`` along axis 1, for ``(n, d-1)`` arrays ``head``/``tail``.

    Built with one concatenation (no zero padding): it is on the engine's hot path.
    """
    return xp.concat([head[:, :1], head[:, 1:] + tail[:, :-1], tail[:, -1:]], axis=1)


# --------------------------------------------------------------------------- Rosenbrock
def rosenbrock_value(x: Array) -> Array:
    """Rosenbrock (1960): f = sum_{i<n} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2."""
    xp = namespace(x)
    a, b = x[:, :-1], x[:, 1:]
    return xp.sum(100.0 * (b - a**2) ** 2 + (1.0 - a) ** 2, axis=1)


def rosenbrock_grad(x: Array) -> Array:
    """Gradient of :func:`rosenbrock_value`."""
    xp = namespace(x)
    a, b = x[:, :-1], x[:, 1:]
    t = b - a**2
    return _shift_add(xp, -400.0 * a * t - 2.0 * (1.0 - a), 200.0 * t)


def _build_rosenbrock(dim: int, params: Mapping[str, float]) -> Spec:
    box = [[-2.0, 2.0], [-1.0, 3.0]] if dim == 2 else [[-2.0, 2.0]] * dim
    return Spec(rosenbrock_value, rosenbrock_grad, box, [[1.0] * dim], 0.0)


ROSENBROCK = Family(
    name="rosenbrock",
    title="Rosenbrock",
    formula=r"f(x)=\sum_{i=1}^{n-1}\left[100(x_{i+1}-x_i^2)^2+(1-x_i)^2\right]",
    description="Curved banana-shaped valley; minimum 0 at (1, ..., 1).",
    default_dim=2,
    min_dim=2,
    max_dim=None,
    log_levels=True,
    build=_build_rosenbrock,
)


# --------------------------------------------------------------------------- Rastrigin
def rastrigin_value(x: Array) -> Array:
    """Rastrigin: f = 10 n + sum_i (x_i^2 - 10 cos(2π x_i))."""
    xp = namespace(x)
    n = x.shape[1]
    return 10.0 * n + xp.sum(x**2 - 10.0 * xp.cos(2.0 * xp.pi * x), axis=1)


def rastrigin_grad(x: Array) -> Array:
    """Gradient of :func:`rastrigin_value`: 2 x_i + 20π sin(2π x_i)."""
    xp = namespace(x)
    return 2.0 * x + 20.0 * xp.pi * xp.sin(2.0 * xp.pi * x)


def _build_rastrigin(dim: int, params: Mapping[str, float]) -> Spec:
    return Spec(rastrigin_value, rastrigin_grad, [[-5.12, 5.12]] * dim, [[0.0] * dim], 0.0)


RASTRIGIN = Family(
    name="rastrigin",
    title="Rastrigin",
    formula=r"f(x)=10n+\sum_{i=1}^{n}\left[x_i^2-10\cos(2\pi x_i)\right]",
    description="Egg-crate of regularly spaced local minima on a bowl; minimum 0 at the origin.",
    default_dim=2,
    min_dim=1,
    max_dim=None,
    build=_build_rastrigin,
)


# --------------------------------------------------------------------------- Ackley
ACKLEY_A, ACKLEY_B, ACKLEY_C = 20.0, 0.2, 2.0 * math.pi


def ackley_value(x: Array) -> Array:
    """Ackley (1987), a = 20, b = 0.2, c = 2π:

    f = -a exp(-b sqrt(mean(x_i^2))) - exp(mean(cos(c x_i))) + a + e,

    evaluated as ``-a expm1(-b r) + (e - exp(s))`` so that f(0) == 0 exactly.
    """
    xp = namespace(x)
    r = xp.sqrt(xp.mean(x**2, axis=1))
    s = xp.mean(xp.cos(ACKLEY_C * x), axis=1)
    return -ACKLEY_A * xp.expm1(-ACKLEY_B * r) + (math.e - xp.exp(s))


def ackley_grad(x: Array) -> Array:
    """Gradient of :func:`ackley_value`.

    df/dx_i = a b exp(-b r) x_i / (n r) + c sin(c x_i) exp(s) / n.  The first term has a kink
    (a cone) at the origin; there we return its zero subgradient by dividing by a safe r = 1.
    """
    xp = namespace(x)
    n = x.shape[1]
    r = xp.sqrt(xp.mean(x**2, axis=1))
    s = xp.mean(xp.cos(ACKLEY_C * x), axis=1)
    safe_r = xp.where(r > 0.0, r, xp.ones_like(r))
    radial = (ACKLEY_A * ACKLEY_B / n) * xp.exp(-ACKLEY_B * r) / safe_r
    periodic = (ACKLEY_C / n) * xp.exp(s)
    return radial[:, None] * x + periodic[:, None] * xp.sin(ACKLEY_C * x)


def _build_ackley(dim: int, params: Mapping[str, float]) -> Spec:
    return Spec(ackley_value, ackley_grad, [[-5.0, 5.0]] * dim, [[0.0] * dim], 0.0)


ACKLEY = Family(
    name="ackley",
    title="Ackley",
    formula=(
        r"f(x)=-20\exp\left(-0.2\sqrt{\tfrac{1}{n}\sum_i x_i^2}\right)"
        r"-\exp\left(\tfrac{1}{n}\sum_i\cos(2\pi x_i)\right)+20+e"
    ),
    description="Nearly flat rippled plateau around a deep central funnel; minimum 0 at 0.",
    default_dim=2,
    min_dim=1,
    max_dim=None,
    build=_build_ackley,
)


# --------------------------------------------------------------------------- Styblinski-Tang
#: Roots of 4t^3 - 32t + 5 = 0 (mpmath, 40 digits, rounded): the global and the local
#: minimizer of the 1-D term, and the per-coordinate minimum value.
STYBLINSKI_TANG_ROOT = -2.903534027771177
STYBLINSKI_TANG_LOCAL_ROOT = 2.746802770990837
STYBLINSKI_TANG_FMIN_PER_DIM = -39.16616570377141
#: Up to this dimension, the 2^n - 1 non-global local minima are listed.
STYBLINSKI_TANG_MAX_LISTED_DIM = 8


def styblinski_tang_value(x: Array) -> Array:
    """Styblinski & Tang (1990): f = 1/2 sum_i (x_i^4 - 16 x_i^2 + 5 x_i)."""
    xp = namespace(x)
    return 0.5 * xp.sum(x**4 - 16.0 * x**2 + 5.0 * x, axis=1)


def styblinski_tang_grad(x: Array) -> Array:
    """Gradient of :func:`styblinski_tang_value`: 2 x_i^3 - 16 x_i + 5/2."""
    return 2.0 * x**3 - 16.0 * x + 2.5


def _build_styblinski_tang(dim: int, params: Mapping[str, float]) -> Spec:
    local: list[tuple[float, ...]] = []
    if dim <= STYBLINSKI_TANG_MAX_LISTED_DIM:
        corners = itertools.product((STYBLINSKI_TANG_ROOT, STYBLINSKI_TANG_LOCAL_ROOT), repeat=dim)
        local = [c for c in corners if any(v == STYBLINSKI_TANG_LOCAL_ROOT for v in c)]
    return Spec(
        styblinski_tang_value,
        styblinski_tang_grad,
        [[-5.0, 5.0]] * dim,
        [[STYBLINSKI_TANG_ROOT] * dim],
        STYBLINSKI_TANG_FMIN_PER_DIM * dim,
        local_minima=local,
    )


STYBLINSKI_TANG = Family(
    name="styblinski_tang",
    title="Styblinski–Tang",
    formula=r"f(x)=\frac{1}{2}\sum_{i=1}^{n}\left(x_i^4-16x_i^2+5x_i\right)",
    description=(
        "Separable quartic with 2^n local minima; global minimum -39.166 n at x_i = -2.9035."
    ),
    default_dim=2,
    min_dim=1,
    max_dim=None,
    build=_build_styblinski_tang,
)


# --------------------------------------------------------------------------- long valley
def _valley_weights(dim: int, kappa: float) -> list[float]:
    """Eigenvalues kappa^(i/(n-1)), i = 0..n-1: geometric from 1 to kappa."""
    return [kappa ** (i / (dim - 1)) for i in range(dim)]


def _build_long_valley(dim: int, params: Mapping[str, float]) -> Spec:
    weights = _valley_weights(dim, params["kappa"])

    def value(x: Array) -> Array:
        """f = 1/2 sum_i kappa^(i/(n-1)) x_i^2."""
        xp = namespace(x)
        return 0.5 * xp.sum(constant(x, weights) * x**2, axis=1)

    def grad(x: Array) -> Array:
        """Gradient: kappa^(i/(n-1)) x_i."""
        return constant(x, weights) * x

    return Spec(value, grad, [[-2.0, 2.0]] * dim, [[0.0] * dim], 0.0)


def _check_long_valley(params: Mapping[str, float]) -> None:
    if not params["kappa"] >= 1.0:
        raise ValueError(f"long_valley: kappa must be >= 1, got {params['kappa']!r}")


LONG_VALLEY = Family(
    name="long_valley",
    title="Long valley (ill-conditioned quadratic)",
    formula=r"f(x)=\frac{1}{2}\sum_{i=1}^{n}\kappa^{\frac{i-1}{n-1}}x_i^2",
    description="Ill-conditioned convex quadratic, eigenvalues 1 ... kappa; minimum 0 at 0.",
    default_dim=2,
    min_dim=2,
    max_dim=None,
    params={"kappa": 100.0},
    log_levels=True,
    check_params=_check_long_valley,
    build=_build_long_valley,
)


FAMILIES: tuple[Family, ...] = (ROSENBROCK, RASTRIGIN, ACKLEY, STYBLINSKI_TANG, LONG_VALLEY)

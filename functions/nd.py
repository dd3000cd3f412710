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

import functools
import itertools
import math
from collections.abc import Mapping
from typing import Any

from .base import Array, Family, PointForm, Spec, constant, namespace
from .elementwise import cos, exp, expm1, sin, sqrt, where

#: Point formulas (for optviz's compiled kernels) are generated up to this dimension; beyond it
#: a family runs on the readable path only.
MAX_POINT_DIM = 32
#: Up to this dimension sums over coordinates run left to right (the kernels' order, so both
#: paths round alike); beyond it the array library's own (faster, pairwise) sum.
SEQUENTIAL_SUM_DIM = 64


def _shift_add(xp: Any, head: Array, tail: Array) -> Array:
    """Return ``[head, 0] + [0, tail]`` along axis 1, for ``(n, d-1)`` arrays ``head``/``tail``.

    Built with one concatenation (no zero padding): it is on the engine's hot path.
    """
    return xp.concat([head[:, :1], head[:, 1:] + tail[:, :-1], tail[:, -1:]], axis=1)


def _rowsum(x: Array) -> Array:
    """Sum over axis 1, left to right for few columns (as the compiled kernels add)."""
    if x.shape[1] > SEQUENTIAL_SUM_DIM:
        return namespace(x).sum(x, axis=1)
    acc = x[:, 0]
    for j in range(1, x.shape[1]):
        acc = acc + x[:, j]
    return acc


def _generate(name: str, dim: int, body: list[str], env: dict[str, Any], n_consts: int = 0) -> Any:
    """A point formula ``name(x0, ..., x{dim-1}, c0, ...)`` from lines of Python source.

    Only the family's own elementwise pieces (``env``) are in scope: the source is made here,
    from numbers and names, never from user input.
    """
    args = ", ".join([f"x{i}" for i in range(dim)] + [f"c{i}" for i in range(n_consts)])
    src = f"def {name}({args}):\n" + "".join(f"    {line}\n" for line in body)
    scope = dict(env)
    exec(compile(src, f"<functions.nd.{name}[{dim}]>", "exec"), scope)
    return scope[name]


def _chain(terms: list[str]) -> str:
    """``((a + b) + c) + …``: a sum in the order the array path adds."""
    out = terms[0]
    for t in terms[1:]:
        out = f"({out} + {t})"
    return out


# --------------------------------------------------------------------------- Rosenbrock
def rosenbrock_pair(a, b):
    """One term of Rosenbrock's sum: 100 (b - a^2)^2 + (1 - a)^2."""
    return 100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2


def rosenbrock_pair_grad(a, b):
    """The term's partial derivatives in a and b."""
    t = b - a * a
    return -400.0 * a * t - 2.0 * (1.0 - a), 200.0 * t


def rosenbrock_value(x: Array) -> Array:
    """Rosenbrock (1960): f = sum_{i<n} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2."""
    return _rowsum(rosenbrock_pair(x[:, :-1], x[:, 1:]))


def rosenbrock_grad(x: Array) -> Array:
    """Gradient of :func:`rosenbrock_value`."""
    da, db = rosenbrock_pair_grad(x[:, :-1], x[:, 1:])
    return _shift_add(namespace(x), da, db)


@functools.lru_cache(maxsize=64)
def _rosenbrock_point(dim: int) -> PointForm:
    env = {"pair": rosenbrock_pair, "pair_grad": rosenbrock_pair_grad}
    total = _chain([f"pair(x{i}, x{i + 1})" for i in range(dim - 1)])
    value = _generate("rosenbrock", dim, [f"return {total}"], env)
    lines = [f"a{i}, b{i} = pair_grad(x{i}, x{i + 1})" for i in range(dim - 1)]
    parts = ["a0"] + [f"a{i} + b{i - 1}" for i in range(1, dim - 1)] + [f"b{dim - 2}"]
    grad = _generate("rosenbrock_grad", dim, [*lines, f"return ({', '.join(parts)},)"], env)
    return PointForm(value, grad)


def _build_rosenbrock(dim: int, params: Mapping[str, float]) -> Spec:
    box = [[-2.0, 2.0], [-1.0, 3.0]] if dim == 2 else [[-2.0, 2.0]] * dim
    point = _rosenbrock_point(dim) if dim <= MAX_POINT_DIM else None
    return Spec(rosenbrock_value, rosenbrock_grad, box, [[1.0] * dim], 0.0, point=point)


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
TWO_PI = 2.0 * math.pi


def rastrigin_term(x):
    """One coordinate's term: x^2 - 10 cos(2π x)."""
    return x * x - 10.0 * cos(TWO_PI * x)


def rastrigin_dterm(x):
    """Its derivative: 2x + 20π sin(2π x)."""
    return 2.0 * x + 10.0 * TWO_PI * sin(TWO_PI * x)


@functools.lru_cache(maxsize=256)
def _separable(name: str, dim: int, term: Any, dterm: Any, head: str, consts: bool = False) -> PointForm:
    """Point formulas of ``f = head sum_i term(x_i[, c_i])`` with ``g_i = dterm(x_i[, c_i])``."""
    env = {"term": term, "dterm": dterm}
    arg = (lambda i: f"x{i}, c{i}") if consts else (lambda i: f"x{i}")
    total = _chain([f"term({arg(i)})" for i in range(dim)])
    value = _generate(name, dim, [f"return {head}{total}"], env, dim if consts else 0)
    grad = _generate(f"{name}_grad", dim, [f"return ({', '.join(f'dterm({arg(i)})' for i in range(dim))},)"],
                     env, dim if consts else 0)
    return PointForm(value, grad)


def _build_rastrigin(dim: int, params: Mapping[str, float]) -> Spec:
    def value(x: Array) -> Array:
        """Rastrigin: f = 10 n + sum_i (x_i^2 - 10 cos(2π x_i))."""
        return 10.0 * dim + _rowsum(rastrigin_term(x))

    point = None
    if dim <= MAX_POINT_DIM:
        point = _separable("rastrigin", dim, rastrigin_term, rastrigin_dterm, f"{10.0 * dim!r} + ")
    return Spec(value, rastrigin_dterm, [[-5.12, 5.12]] * dim, [[0.0] * dim], 0.0, point=point)


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
E = math.e


def ackley_of(sq_sum, cos_sum, n):
    """f from the sums of x_i^2 and cos(c x_i): -a expm1(-b r) + (e - exp(s)), r = sqrt(Σx²/n), s = Σcos/n
    (evaluated so that f(0) == 0 exactly)."""
    return -ACKLEY_A * expm1(-ACKLEY_B * sqrt(sq_sum / n)) + (E - exp(cos_sum / n))


def ackley_factors(sq_sum, cos_sum, n):
    """The gradient's two factors: g_i = radial x_i + periodic sin(c x_i).

    radial = a b exp(-b r) / (n r): a cone at the origin, where we return its zero subgradient
    by dividing by a safe r = 1.
    """
    r = sqrt(sq_sum / n)
    radial = (ACKLEY_A * ACKLEY_B / n) * exp(-ACKLEY_B * r) / where(r > 0.0, r, 1.0)
    return radial, (ACKLEY_C / n) * exp(cos_sum / n)


def ackley_value(x: Array) -> Array:
    """Ackley (1987), a = 20, b = 0.2, c = 2π:

    f = -a exp(-b sqrt(mean(x_i^2))) - exp(mean(cos(c x_i))) + a + e.
    """
    return ackley_of(_rowsum(x * x), _rowsum(cos(ACKLEY_C * x)), float(x.shape[1]))


def ackley_grad(x: Array) -> Array:
    """Gradient of :func:`ackley_value`: df/dx_i = a b exp(-b r) x_i / (n r) + c sin(c x_i) exp(s) / n."""
    radial, periodic = ackley_factors(_rowsum(x * x), _rowsum(cos(ACKLEY_C * x)), float(x.shape[1]))
    return radial[:, None] * x + periodic[:, None] * sin(ACKLEY_C * x)


@functools.lru_cache(maxsize=64)
def _ackley_point(dim: int) -> PointForm:
    env = {"ackley_of": ackley_of, "ackley_factors": ackley_factors, "cos": cos, "sin": sin, "C": ACKLEY_C}
    sums = [f"sq = {_chain([f'x{i} * x{i}' for i in range(dim)])}",
            f"cs = {_chain([f'cos(C * x{i})' for i in range(dim)])}"]
    value = _generate("ackley", dim, [*sums, f"return ackley_of(sq, cs, {float(dim)!r})"], env)
    parts = ", ".join(f"radial * x{i} + periodic * sin(C * x{i})" for i in range(dim))
    grad = _generate("ackley_grad", dim, [*sums, f"radial, periodic = ackley_factors(sq, cs, {float(dim)!r})",
                                          f"return ({parts},)"], env)
    return PointForm(value, grad)


def _build_ackley(dim: int, params: Mapping[str, float]) -> Spec:
    point = _ackley_point(dim) if dim <= MAX_POINT_DIM else None
    return Spec(ackley_value, ackley_grad, [[-5.0, 5.0]] * dim, [[0.0] * dim], 0.0, point=point)


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


def styblinski_tang_term(x):
    """One coordinate's term: x^4 - 16 x^2 + 5 x."""
    x2 = x * x
    return x2 * x2 - 16.0 * x2 + 5.0 * x


def styblinski_tang_dterm(x):
    """Half the term's derivative, the gradient's coordinate: 2 x^3 - 16 x + 5/2."""
    return 2.0 * x * x * x - 16.0 * x + 2.5


def styblinski_tang_value(x: Array) -> Array:
    """Styblinski & Tang (1990): f = 1/2 sum_i (x_i^4 - 16 x_i^2 + 5 x_i)."""
    return 0.5 * _rowsum(styblinski_tang_term(x))


def _build_styblinski_tang(dim: int, params: Mapping[str, float]) -> Spec:
    local: list[tuple[float, ...]] = []
    if dim <= STYBLINSKI_TANG_MAX_LISTED_DIM:
        corners = itertools.product((STYBLINSKI_TANG_ROOT, STYBLINSKI_TANG_LOCAL_ROOT), repeat=dim)
        local = [c for c in corners if any(v == STYBLINSKI_TANG_LOCAL_ROOT for v in c)]
    point = None
    if dim <= MAX_POINT_DIM:
        point = _separable("styblinski_tang", dim, styblinski_tang_term, styblinski_tang_dterm, "0.5 * ")
    return Spec(
        styblinski_tang_value,
        styblinski_tang_dterm,
        [[-5.0, 5.0]] * dim,
        [[STYBLINSKI_TANG_ROOT] * dim],
        STYBLINSKI_TANG_FMIN_PER_DIM * dim,
        local_minima=local,
        point=point,
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


def long_valley_term(x, w):
    """One coordinate's term: w x^2 (f is half their sum)."""
    return w * x * x


def long_valley_dterm(x, w):
    """The gradient's coordinate: w x."""
    return w * x


def _build_long_valley(dim: int, params: Mapping[str, float]) -> Spec:
    weights = _valley_weights(dim, params["kappa"])

    def value(x: Array) -> Array:
        """f = 1/2 sum_i kappa^(i/(n-1)) x_i^2."""
        return 0.5 * _rowsum(long_valley_term(x, constant(x, weights)))

    def grad(x: Array) -> Array:
        """Gradient: kappa^(i/(n-1)) x_i."""
        return long_valley_dterm(x, constant(x, weights))

    point = None
    if dim <= MAX_POINT_DIM:
        form = _separable("long_valley", dim, long_valley_term, long_valley_dterm, "0.5 * ", consts=True)
        point = PointForm(form.value, form.grad, tuple(weights))
    return Spec(value, grad, [[-2.0, 2.0]] * dim, [[0.0] * dim], 0.0, point=point)


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

"""Classic 2-D test functions.

References:
    M. Jamil and X.-S. Yang, "A literature survey of benchmark functions for global
    optimization problems", Int. J. Math. Model. Numer. Optim. 4(2), 150-194 (2013).
    S. Surjanovic and D. Bingham, "Virtual Library of Simulation Experiments: Test Functions
    and Datasets", https://www.sfu.ca/~ssurjano/ (2013).
"""

from __future__ import annotations

from typing import Any

from .base import Array, Family, Spec, fixed, namespace


def _split(x: Array) -> tuple[Any, Array, Array]:
    """Return ``(xp, x[:, 0], x[:, 1])``."""
    return namespace(x), x[:, 0], x[:, 1]


def _pack(xp: Any, gx: Array, gy: Array) -> Array:
    """Stack two ``(n,)`` partial derivatives into an ``(n, 2)`` gradient."""
    return xp.stack([gx, gy], axis=1)


# --------------------------------------------------------------------------- Beale
def beale_value(x: Array) -> Array:
    """Beale (1958): f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2."""
    _, a, b = _split(x)
    return (1.5 - a + a * b) ** 2 + (2.25 - a + a * b**2) ** 2 + (2.625 - a + a * b**3) ** 2


def beale_grad(x: Array) -> Array:
    """Gradient of :func:`beale_value`."""
    xp, a, b = _split(x)
    t1 = 1.5 - a + a * b
    t2 = 2.25 - a + a * b**2
    t3 = 2.625 - a + a * b**3
    gx = 2.0 * (t1 * (b - 1.0) + t2 * (b**2 - 1.0) + t3 * (b**3 - 1.0))
    gy = 2.0 * a * (t1 + 2.0 * t2 * b + 3.0 * t3 * b**2)
    return _pack(xp, gx, gy)


BEALE = Family(
    name="beale",
    title="Beale",
    formula=r"f(x,y)=(1.5-x+xy)^2+(2.25-x+xy^2)^2+(2.625-x+xy^3)^2",
    description="Sharp-ridged 2-D function with flat plateaus; minimum 0 at (3, 0.5).",
    default_dim=2,
    min_dim=2,
    max_dim=2,
    log_levels=True,
    build=fixed(Spec(beale_value, beale_grad, [[-4.5, 4.5], [-4.5, 4.5]], [[3.0, 0.5]], 0.0)),
)


# --------------------------------------------------------------------------- Himmelblau
def himmelblau_value(x: Array) -> Array:
    """Himmelblau (1972): f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2."""
    _, a, b = _split(x)
    return (a**2 + b - 11.0) ** 2 + (a + b**2 - 7.0) ** 2


def himmelblau_grad(x: Array) -> Array:
    """Gradient of :func:`himmelblau_value`."""
    xp, a, b = _split(x)
    u = a**2 + b - 11.0
    v = a + b**2 - 7.0
    return _pack(xp, 4.0 * a * u + 2.0 * v, 2.0 * u + 4.0 * b * v)


#: The four global minima (f = 0), roots polished with mpmath at 40 digits and rounded.
HIMMELBLAU_MINIMA = [
    [3.0, 2.0],
    [-2.805118086952745, 3.131312518250573],
    [-3.779310253377747, -3.2831859912861696],
    [3.5844283403304917, -1.8481265269644036],
]

HIMMELBLAU = Family(
    name="himmelblau",
    title="Himmelblau",
    formula=r"f(x,y)=(x^2+y-11)^2+(x+y^2-7)^2",
    description="2-D function with four global minima (f = 0) and one local maximum.",
    default_dim=2,
    min_dim=2,
    max_dim=2,
    log_levels=True,
    build=fixed(
        Spec(himmelblau_value, himmelblau_grad, [[-5.0, 5.0], [-5.0, 5.0]], HIMMELBLAU_MINIMA, 0.0)
    ),
)


# --------------------------------------------------------------------------- Booth
def booth_value(x: Array) -> Array:
    """Booth: f = (x + 2y - 7)^2 + (2x + y - 5)^2."""
    _, a, b = _split(x)
    return (a + 2.0 * b - 7.0) ** 2 + (2.0 * a + b - 5.0) ** 2


def booth_grad(x: Array) -> Array:
    """Gradient of :func:`booth_value`."""
    xp, a, b = _split(x)
    u = a + 2.0 * b - 7.0
    v = 2.0 * a + b - 5.0
    return _pack(xp, 2.0 * u + 4.0 * v, 4.0 * u + 2.0 * v)


BOOTH = Family(
    name="booth",
    title="Booth",
    formula=r"f(x,y)=(x+2y-7)^2+(2x+y-5)^2",
    description="Convex quadratic (eigenvalues 2 and 18); minimum 0 at (1, 3).",
    default_dim=2,
    min_dim=2,
    max_dim=2,
    log_levels=True,
    build=fixed(Spec(booth_value, booth_grad, [[-10.0, 10.0], [-10.0, 10.0]], [[1.0, 3.0]], 0.0)),
)


# --------------------------------------------------------------------------- Matyas
def matyas_value(x: Array) -> Array:
    """Matyas: f = 0.26 (x^2 + y^2) - 0.48 xy."""
    _, a, b = _split(x)
    return 0.26 * (a**2 + b**2) - 0.48 * a * b


def matyas_grad(x: Array) -> Array:
    """Gradient of :func:`matyas_value`."""
    xp, a, b = _split(x)
    return _pack(xp, 0.52 * a - 0.48 * b, 0.52 * b - 0.48 * a)


MATYAS = Family(
    name="matyas",
    title="Matyas",
    formula=r"f(x,y)=0.26(x^2+y^2)-0.48xy",
    description="Flat, elongated convex quadratic (eigenvalues 0.04, 1); minimum 0 at the origin.",
    default_dim=2,
    min_dim=2,
    max_dim=2,
    log_levels=True,
    build=fixed(Spec(matyas_value, matyas_grad, [[-10.0, 10.0], [-10.0, 10.0]], [[0.0, 0.0]], 0.0)),
)


# --------------------------------------------------------------------------- Goldstein-Price
def goldstein_price_value(x: Array) -> Array:
    """Goldstein & Price (1971): f = A(x, y) B(x, y) with

    A = 1 + (x + y + 1)^2 (19 - 14x + 3x^2 - 14y + 6xy + 3y^2),
    B = 30 + (2x - 3y)^2 (18 - 32x + 12x^2 + 48y - 36xy + 27y^2).
    """
    _, a, b = _split(x)
    u = a + b + 1.0
    p = 19.0 - 14.0 * a + 3.0 * a**2 - 14.0 * b + 6.0 * a * b + 3.0 * b**2
    v = 2.0 * a - 3.0 * b
    q = 18.0 - 32.0 * a + 12.0 * a**2 + 48.0 * b - 36.0 * a * b + 27.0 * b**2
    return (1.0 + u**2 * p) * (30.0 + v**2 * q)


def goldstein_price_grad(x: Array) -> Array:
    """Gradient of :func:`goldstein_price_value` (product rule on A and B)."""
    xp, a, b = _split(x)
    u = a + b + 1.0
    p = 19.0 - 14.0 * a + 3.0 * a**2 - 14.0 * b + 6.0 * a * b + 3.0 * b**2
    v = 2.0 * a - 3.0 * b
    q = 18.0 - 32.0 * a + 12.0 * a**2 + 48.0 * b - 36.0 * a * b + 27.0 * b**2
    big_a = 1.0 + u**2 * p
    big_b = 30.0 + v**2 * q
    # du/dx = du/dy = 1 and dp/dx = dp/dy = -14 + 6x + 6y, so dA/dx = dA/dy.
    da = 2.0 * u * p + u**2 * (-14.0 + 6.0 * a + 6.0 * b)
    db_dx = 4.0 * v * q + v**2 * (-32.0 + 24.0 * a - 36.0 * b)
    db_dy = -6.0 * v * q + v**2 * (48.0 - 36.0 * a + 54.0 * b)
    return _pack(xp, da * big_b + big_a * db_dx, da * big_b + big_a * db_dy)


GOLDSTEIN_PRICE = Family(
    name="goldstein_price",
    title="Goldstein–Price",
    formula=(
        r"f(x,y)=\left[1+(x+y+1)^2(19-14x+3x^2-14y+6xy+3y^2)\right]"
        r"\left[30+(2x-3y)^2(18-32x+12x^2+48y-36xy+27y^2)\right]"
    ),
    description="Steep 2-D polynomial spanning six decades; minimum 3 at (0, -1), 3 local minima.",
    default_dim=2,
    min_dim=2,
    max_dim=2,
    log_levels=True,
    build=fixed(
        Spec(
            goldstein_price_value,
            goldstein_price_grad,
            [[-2.0, 2.0], [-2.0, 2.0]],
            [[0.0, -1.0]],
            3.0,
            # local minima with values 30, 84 and 840
            local_minima=[[-0.6, -0.4], [1.8, 0.2], [1.2, 0.8]],
        )
    ),
)


# --------------------------------------------------------------------------- six-hump camel
def six_hump_camel_value(x: Array) -> Array:
    """Six-hump camel back (Dixon & Szegő 1978).

    f = (4 - 2.1x^2 + x^4/3) x^2 + xy + (4y^2 - 4) y^2.
    """
    _, a, b = _split(x)
    return (4.0 - 2.1 * a**2 + a**4 / 3.0) * a**2 + a * b + (-4.0 + 4.0 * b**2) * b**2


def six_hump_camel_grad(x: Array) -> Array:
    """Gradient of :func:`six_hump_camel_value`."""
    xp, a, b = _split(x)
    return _pack(xp, 8.0 * a - 8.4 * a**3 + 2.0 * a**5 + b, a - 8.0 * b + 16.0 * b**3)


#: Global minimizers, polished with mpmath (40 digits) and rounded.
SIX_HUMP_MINIMA = [
    [0.08984201310031806, -0.7126564030207396],
    [-0.08984201310031806, 0.7126564030207396],
]
SIX_HUMP_FMIN = -1.0316284534898774
#: The other four local minima: f = -0.21546... (first two) and f = 2.10425... (last two).
SIX_HUMP_LOCAL = [
    [1.703606714969981, -0.7960835686726251],
    [-1.703606714969981, 0.7960835686726251],
    [1.6071047529201972, 0.5686514548841314],
    [-1.6071047529201972, -0.5686514548841314],
]

SIX_HUMP_CAMEL = Family(
    name="six_hump_camel",
    title="Six-hump camel",
    formula=r"f(x,y)=\left(4-2.1x^2+\tfrac{x^4}{3}\right)x^2+xy+(-4+4y^2)y^2",
    description="2-D function with six local minima, two of them global (f ≈ -1.0316).",
    default_dim=2,
    min_dim=2,
    max_dim=2,
    log_levels=True,
    build=fixed(
        Spec(
            six_hump_camel_value,
            six_hump_camel_grad,
            [[-3.0, 3.0], [-2.0, 2.0]],
            SIX_HUMP_MINIMA,
            SIX_HUMP_FMIN,
            local_minima=SIX_HUMP_LOCAL,
        )
    ),
)


# --------------------------------------------------------------------------- three-hump camel
def three_hump_camel_value(x: Array) -> Array:
    """Three-hump camel: f = 2x^2 - 1.05x^4 + x^6/6 + xy + y^2."""
    _, a, b = _split(x)
    return 2.0 * a**2 - 1.05 * a**4 + a**6 / 6.0 + a * b + b**2


def three_hump_camel_grad(x: Array) -> Array:
    """Gradient of :func:`three_hump_camel_value`."""
    xp, a, b = _split(x)
    return _pack(xp, 4.0 * a - 4.2 * a**3 + a**5 + b, a + 2.0 * b)


#: The two non-global local minima (f ≈ 0.29864), polished with mpmath.
THREE_HUMP_LOCAL = [
    [1.7475523458302888, -0.8737761729151444],
    [-1.7475523458302888, 0.8737761729151444],
]

THREE_HUMP_CAMEL = Family(
    name="three_hump_camel",
    title="Three-hump camel",
    formula=r"f(x,y)=2x^2-1.05x^4+\tfrac{x^6}{6}+xy+y^2",
    description="2-D function with three local minima; global minimum 0 at the origin.",
    default_dim=2,
    min_dim=2,
    max_dim=2,
    log_levels=True,
    build=fixed(
        Spec(
            three_hump_camel_value,
            three_hump_camel_grad,
            [[-3.0, 3.0], [-3.0, 3.0]],
            [[0.0, 0.0]],
            0.0,
            local_minima=THREE_HUMP_LOCAL,
        )
    ),
)


# --------------------------------------------------------------------------- Lévi N.13
def levi13_value(x: Array) -> Array:
    """Lévi N.13: f = sin^2(3πx) + (x-1)^2 (1 + sin^2(3πy)) + (y-1)^2 (1 + sin^2(2πy))."""
    xp, a, b = _split(x)
    pi = xp.pi
    return (
        xp.sin(3.0 * pi * a) ** 2
        + (a - 1.0) ** 2 * (1.0 + xp.sin(3.0 * pi * b) ** 2)
        + (b - 1.0) ** 2 * (1.0 + xp.sin(2.0 * pi * b) ** 2)
    )


def levi13_grad(x: Array) -> Array:
    """Gradient of :func:`levi13_value` (uses d/dt sin^2(kt) = k sin(2kt))."""
    xp, a, b = _split(x)
    pi = xp.pi
    gx = 3.0 * pi * xp.sin(6.0 * pi * a) + 2.0 * (a - 1.0) * (1.0 + xp.sin(3.0 * pi * b) ** 2)
    gy = (
        3.0 * pi * (a - 1.0) ** 2 * xp.sin(6.0 * pi * b)
        + 2.0 * (b - 1.0) * (1.0 + xp.sin(2.0 * pi * b) ** 2)
        + 2.0 * pi * (b - 1.0) ** 2 * xp.sin(4.0 * pi * b)
    )
    return _pack(xp, gx, gy)


LEVI13 = Family(
    name="levi13",
    title="Lévi N.13",
    formula=(
        r"f(x,y)=\sin^2(3\pi x)+(x-1)^2\left(1+\sin^2(3\pi y)\right)"
        r"+(y-1)^2\left(1+\sin^2(2\pi y)\right)"
    ),
    description="Rippled bowl with many local minima; global minimum 0 at (1, 1).",
    default_dim=2,
    min_dim=2,
    max_dim=2,
    build=fixed(Spec(levi13_value, levi13_grad, [[-1.0, 3.0], [-1.0, 3.0]], [[1.0, 1.0]], 0.0)),
)


FAMILIES: tuple[Family, ...] = (
    BEALE,
    HIMMELBLAU,
    BOOTH,
    MATYAS,
    GOLDSTEIN_PRICE,
    SIX_HUMP_CAMEL,
    THREE_HUMP_CAMEL,
    LEVI13,
)

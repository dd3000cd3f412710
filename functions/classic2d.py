"""Classic 2-D test functions.

References:
    M. Jamil and X.-S. Yang, "A literature survey of benchmark functions for global
    optimization problems", Int. J. Math. Model. Numer. Optim. 4(2), 150-194 (2013).
    S. Surjanovic and D. Bingham, "Virtual Library of Simulation Experiments: Test Functions
    and Datasets", https://www.sfu.ca/~ssurjano/ (2013).
"""

from __future__ import annotations

import math

from .base import Family, PointForm, fixed, pointwise
from .elementwise import sin

# Each function is written for one point's coordinates (x, y) with arithmetic and
# functions.elementwise only (powers above 2 as products), so the same formulas run on columns
# of points and inside optviz's compiled kernels, with the same rounding.


# --------------------------------------------------------------------------- Beale
def beale(x, y):
    """Beale (1958): f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2."""
    y2 = y * y
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y2) ** 2 + (2.625 - x + x * y2 * y) ** 2


def beale_grad(x, y):
    """Gradient of :func:`beale`."""
    y2 = y * y
    t1 = 1.5 - x + x * y
    t2 = 2.25 - x + x * y2
    t3 = 2.625 - x + x * y2 * y
    gx = 2.0 * (t1 * (y - 1.0) + t2 * (y2 - 1.0) + t3 * (y2 * y - 1.0))
    gy = 2.0 * x * (t1 + 2.0 * t2 * y + 3.0 * t3 * y2)
    return gx, gy


BEALE = Family(
    name="beale",
    title="Beale",
    formula=r"f(x,y)=(1.5-x+xy)^2+(2.25-x+xy^2)^2+(2.625-x+xy^3)^2",
    description="Sharp-ridged 2-D function with flat plateaus; minimum 0 at (3, 0.5).",
    default_dim=2,
    min_dim=2,
    max_dim=2,
    log_levels=True,
    build=fixed(pointwise(PointForm(beale, beale_grad), 2, [[-4.5, 4.5], [-4.5, 4.5]], [[3.0, 0.5]], 0.0)),
)


# --------------------------------------------------------------------------- Himmelblau
def himmelblau(x, y):
    """Himmelblau (1972): f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2."""
    return (x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2


def himmelblau_grad(x, y):
    """Gradient of :func:`himmelblau`."""
    u = x * x + y - 11.0
    v = x + y * y - 7.0
    return 4.0 * x * u + 2.0 * v, 2.0 * u + 4.0 * y * v


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
    build=fixed(pointwise(PointForm(himmelblau, himmelblau_grad), 2, [[-5.0, 5.0], [-5.0, 5.0]],
                          HIMMELBLAU_MINIMA, 0.0)),
)


# --------------------------------------------------------------------------- Booth
def booth(x, y):
    """Booth: f = (x + 2y - 7)^2 + (2x + y - 5)^2."""
    return (x + 2.0 * y - 7.0) ** 2 + (2.0 * x + y - 5.0) ** 2


def booth_grad(x, y):
    """Gradient of :func:`booth`."""
    u = x + 2.0 * y - 7.0
    v = 2.0 * x + y - 5.0
    return 2.0 * u + 4.0 * v, 4.0 * u + 2.0 * v


BOOTH = Family(
    name="booth",
    title="Booth",
    formula=r"f(x,y)=(x+2y-7)^2+(2x+y-5)^2",
    description="Convex quadratic (eigenvalues 2 and 18); minimum 0 at (1, 3).",
    default_dim=2,
    min_dim=2,
    max_dim=2,
    log_levels=True,
    build=fixed(pointwise(PointForm(booth, booth_grad), 2, [[-10.0, 10.0], [-10.0, 10.0]], [[1.0, 3.0]],
                          0.0)),
)


# --------------------------------------------------------------------------- Matyas
def matyas(x, y):
    """Matyas: f = 0.26 (x^2 + y^2) - 0.48 xy."""
    return 0.26 * (x * x + y * y) - 0.48 * x * y


def matyas_grad(x, y):
    """Gradient of :func:`matyas`."""
    return 0.52 * x - 0.48 * y, 0.52 * y - 0.48 * x


MATYAS = Family(
    name="matyas",
    title="Matyas",
    formula=r"f(x,y)=0.26(x^2+y^2)-0.48xy",
    description="Flat, elongated convex quadratic (eigenvalues 0.04, 1); minimum 0 at the origin.",
    default_dim=2,
    min_dim=2,
    max_dim=2,
    log_levels=True,
    build=fixed(pointwise(PointForm(matyas, matyas_grad), 2, [[-10.0, 10.0], [-10.0, 10.0]], [[0.0, 0.0]],
                          0.0)),
)


# --------------------------------------------------------------------------- Goldstein-Price
def _gp_parts(x, y):
    """u, p, v, q of Goldstein–Price: f = (1 + u^2 p)(30 + v^2 q)."""
    u = x + y + 1.0
    p = 19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y
    v = 2.0 * x - 3.0 * y
    q = 18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y
    return u, p, v, q


def goldstein_price(x, y):
    """Goldstein & Price (1971): f = A(x, y) B(x, y) with

    A = 1 + (x + y + 1)^2 (19 - 14x + 3x^2 - 14y + 6xy + 3y^2),
    B = 30 + (2x - 3y)^2 (18 - 32x + 12x^2 + 48y - 36xy + 27y^2).
    """
    u, p, v, q = _gp_parts(x, y)
    return (1.0 + u * u * p) * (30.0 + v * v * q)


def goldstein_price_grad(x, y):
    """Gradient of :func:`goldstein_price` (product rule on A and B)."""
    u, p, v, q = _gp_parts(x, y)
    big_a = 1.0 + u * u * p
    big_b = 30.0 + v * v * q
    # du/dx = du/dy = 1 and dp/dx = dp/dy = -14 + 6x + 6y, so dA/dx = dA/dy.
    da = 2.0 * u * p + u * u * (-14.0 + 6.0 * x + 6.0 * y)
    db_dx = 4.0 * v * q + v * v * (-32.0 + 24.0 * x - 36.0 * y)
    db_dy = -6.0 * v * q + v * v * (48.0 - 36.0 * x + 54.0 * y)
    return da * big_b + big_a * db_dx, da * big_b + big_a * db_dy


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
    build=fixed(pointwise(
        PointForm(goldstein_price, goldstein_price_grad), 2, [[-2.0, 2.0], [-2.0, 2.0]], [[0.0, -1.0]], 3.0,
        # local minima with values 30, 84 and 840
        local_minima=[[-0.6, -0.4], [1.8, 0.2], [1.2, 0.8]],
    )),
)


# --------------------------------------------------------------------------- six-hump camel
def six_hump_camel(x, y):
    """Six-hump camel back (Dixon & Szegő 1978).

    f = (4 - 2.1x^2 + x^4/3) x^2 + xy + (4y^2 - 4) y^2.
    """
    x2, y2 = x * x, y * y
    return (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (-4.0 + 4.0 * y2) * y2


def six_hump_camel_grad(x, y):
    """Gradient of :func:`six_hump_camel`."""
    x2 = x * x
    return 8.0 * x - 8.4 * x2 * x + 2.0 * x2 * x2 * x + y, x - 8.0 * y + 16.0 * y * y * y


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
    build=fixed(pointwise(PointForm(six_hump_camel, six_hump_camel_grad), 2, [[-3.0, 3.0], [-2.0, 2.0]],
                          SIX_HUMP_MINIMA, SIX_HUMP_FMIN, local_minima=SIX_HUMP_LOCAL)),
)


# --------------------------------------------------------------------------- three-hump camel
def three_hump_camel(x, y):
    """Three-hump camel: f = 2x^2 - 1.05x^4 + x^6/6 + xy + y^2."""
    x2 = x * x
    return 2.0 * x2 - 1.05 * x2 * x2 + x2 * x2 * x2 / 6.0 + x * y + y * y


def three_hump_camel_grad(x, y):
    """Gradient of :func:`three_hump_camel`."""
    x2 = x * x
    return 4.0 * x - 4.2 * x2 * x + x2 * x2 * x + y, x + 2.0 * y


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
    build=fixed(pointwise(PointForm(three_hump_camel, three_hump_camel_grad), 2, [[-3.0, 3.0], [-3.0, 3.0]],
                          [[0.0, 0.0]], 0.0, local_minima=THREE_HUMP_LOCAL)),
)


# --------------------------------------------------------------------------- Lévi N.13
PI = math.pi


def levi13(x, y):
    """Lévi N.13: f = sin^2(3πx) + (x-1)^2 (1 + sin^2(3πy)) + (y-1)^2 (1 + sin^2(2πy))."""
    return (
        sin(3.0 * PI * x) ** 2
        + (x - 1.0) ** 2 * (1.0 + sin(3.0 * PI * y) ** 2)
        + (y - 1.0) ** 2 * (1.0 + sin(2.0 * PI * y) ** 2)
    )


def levi13_grad(x, y):
    """Gradient of :func:`levi13` (uses d/dt sin^2(kt) = k sin(2kt))."""
    gx = 3.0 * PI * sin(6.0 * PI * x) + 2.0 * (x - 1.0) * (1.0 + sin(3.0 * PI * y) ** 2)
    gy = (
        3.0 * PI * (x - 1.0) ** 2 * sin(6.0 * PI * y)
        + 2.0 * (y - 1.0) * (1.0 + sin(2.0 * PI * y) ** 2)
        + 2.0 * PI * (y - 1.0) ** 2 * sin(4.0 * PI * y)
    )
    return gx, gy


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
    build=fixed(pointwise(PointForm(levi13, levi13_grad), 2, [[-1.0, 3.0], [-1.0, 3.0]], [[1.0, 1.0]], 0.0)),
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

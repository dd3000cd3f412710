"""Functions without a minimum: saddle points where gradient descent must escape.

Reference: the standard saddle z = x^2 - y^2 (hyperbolic paraboloid) and the monkey saddle
z = x^3 - 3xy^2 (a degenerate saddle with three descending valleys), e.g. M. Spivak,
"Calculus on Manifolds" / any differential geometry text.
"""

from __future__ import annotations

from .base import Family, PointForm, fixed, pointwise

_BOX = [[-2.0, 2.0], [-2.0, 2.0]]


def saddle(x, y):
    """Saddle: f = x^2 - y^2 (unbounded below, stationary point at the origin)."""
    return x * x - y * y


def saddle_grad(x, y):
    """Gradient of :func:`saddle`: (2x, -2y)."""
    return 2.0 * x, -2.0 * y


def monkey_saddle(x, y):
    """Monkey saddle: f = x^3 - 3xy^2 (unbounded below, degenerate stationary point at 0)."""
    return x * x * x - 3.0 * x * y * y


def monkey_saddle_grad(x, y):
    """Gradient of :func:`monkey_saddle`: (3x^2 - 3y^2, -6xy)."""
    return 3.0 * x * x - 3.0 * y * y, -6.0 * x * y


SADDLE = Family(
    name="saddle",
    title="Saddle",
    formula=r"f(x,y)=x^2-y^2",
    description="Hyperbolic paraboloid: no minimum, a saddle point at the origin.",
    default_dim=2,
    min_dim=2,
    max_dim=2,
    build=fixed(pointwise(PointForm(saddle, saddle_grad), 2, _BOX, [], None)),
)

MONKEY_SADDLE = Family(
    name="monkey_saddle",
    title="Monkey saddle",
    formula=r"f(x,y)=x^3-3xy^2",
    description="Degenerate saddle with three downhill valleys: no minimum.",
    default_dim=2,
    min_dim=2,
    max_dim=2,
    build=fixed(pointwise(PointForm(monkey_saddle, monkey_saddle_grad), 2, _BOX, [], None)),
)

FAMILIES: tuple[Family, ...] = (SADDLE, MONKEY_SADDLE)

"""Functions without a minimum: saddle points where gradient descent must escape.

Reference: the standard saddle z = x^2 - y^2 (hyperbolic paraboloid) and the monkey saddle
z = x^3 - 3xy^2 (a degenerate saddle with three descending valleys), e.g. M. Spivak,
"Calculus on Manifolds" / any differential geometry text.
"""

from __future__ import annotations

from .base import Array, Family, Spec, fixed, namespace

_BOX = [[-2.0, 2.0], [-2.0, 2.0]]


def saddle_value(x: Array) -> Array:
    """Saddle: f = x^2 - y^2 (unbounded below, stationary point at the origin)."""
    return x[:, 0] ** 2 - x[:, 1] ** 2


def saddle_grad(x: Array) -> Array:
    """Gradient of :func:`saddle_value`: (2x, -2y)."""
    xp = namespace(x)
    return xp.stack([2.0 * x[:, 0], -2.0 * x[:, 1]], axis=1)


def monkey_saddle_value(x: Array) -> Array:
    """Monkey saddle: f = x^3 - 3xy^2 (unbounded below, degenerate stationary point at 0)."""
    a, b = x[:, 0], x[:, 1]
    return a**3 - 3.0 * a * b**2


def monkey_saddle_grad(x: Array) -> Array:
    """Gradient of :func:`monkey_saddle_value`: (3x^2 - 3y^2, -6xy)."""
    xp = namespace(x)
    a, b = x[:, 0], x[:, 1]
    return xp.stack([3.0 * a**2 - 3.0 * b**2, -6.0 * a * b], axis=1)


SADDLE = Family(
    name="saddle",
    title="Saddle",
    formula=r"f(x,y)=x^2-y^2",
    description="Hyperbolic paraboloid: no minimum, a saddle point at the origin.",
    default_dim=2,
    min_dim=2,
    max_dim=2,
    build=fixed(Spec(saddle_value, saddle_grad, _BOX, [], None)),
)

MONKEY_SADDLE = Family(
    name="monkey_saddle",
    title="Monkey saddle",
    formula=r"f(x,y)=x^3-3xy^2",
    description="Degenerate saddle with three downhill valleys: no minimum.",
    default_dim=2,
    min_dim=2,
    max_dim=2,
    build=fixed(Spec(monkey_saddle_value, monkey_saddle_grad, _BOX, [], None)),
)

FAMILIES: tuple[Family, ...] = (SADDLE, MONKEY_SADDLE)

"""The 1-D quartic from the article: a global minimum, a local minimum and a local maximum."""

from __future__ import annotations

from .base import Family, PointForm, fixed, pointwise


def quartic(x):
    """f(x) = 4 (x^4/4 - x^3/6 - 17 x^2/8 - 15 x/8) = x^4 - 2x^3/3 - 17x^2/2 - 15x/2."""
    x2 = x * x
    return 4.0 * (x2 * x2 / 4.0 - x2 * x / 6.0 - 17.0 * x2 / 8.0 - 15.0 * x / 8.0)


def quartic_grad(x):
    """f'(x) = 4 (x^3 - x^2/2 - 17x/4 - 15/8) = 4 (x - 5/2)(x + 3/2)(x + 1/2)."""
    return (4.0 * (x * x * x - x * x / 2.0 - 17.0 * x / 4.0 - 15.0 / 8.0),)


#: f(5/2) = 625/16 - 125/12 - 425/8 - 75/4 = -2075/48, exactly.
QUARTIC_FMIN = -2075.0 / 48.0

QUARTIC = Family(
    name="quartic",
    title="Article quartic",
    formula=r"f(x)=4\left(\frac{x^4}{4}-\frac{x^3}{6}-\frac{17x^2}{8}-\frac{15x}{8}\right)",
    description="1-D quartic: global minimum at 2.5, local minimum at -1.5, local maximum at -0.5.",
    default_dim=1,
    min_dim=1,
    max_dim=1,
    build=fixed(pointwise(PointForm(quartic, quartic_grad), 1, [[-3.0, 3.0]], [[2.5]], QUARTIC_FMIN,
                          local_minima=[[-1.5]])),
)

FAMILIES: tuple[Family, ...] = (QUARTIC,)

"""Analytic test functions for optimizers: values and analytic gradients, vectorized over points.

Usage::

    import functions

    functions.names()                      # sorted registry names
    f = functions.get("rosenbrock", dim=3)  # a TestFunction
    f.value(x), f.grad(x)                   # x of shape (n_points, dim), any array-API array
    functions.get("long_valley", kappa=1e3)
    functions.families()["beale"].formula   # metadata without building an instance
    functions.from_expression("(1 - x)**2 + 100*(y - x**2)**2", box=[[-2, 2], [-1, 3]])  # typed

The package never imports ``optviz``.
"""

from __future__ import annotations

from . import article, base, classic2d, nd, problems, saddles
from .base import Family, PointForm, TestFunction, array_form
from .expression import ExpressionFunction, from_expression

__all__ = [
    "ExpressionFunction", "Family", "PointForm", "TestFunction", "array_form", "families", "from_expression",
    "get", "names",
]  # fmt: skip

#: The registry (the one dict of :mod:`functions.base`, which rebuilds pickled functions from it).
_REGISTRY: dict[str, Family] = base.FAMILIES
_REGISTRY.update({
    fam.name: fam
    for fam in sorted(
        (*article.FAMILIES, *classic2d.FAMILIES, *nd.FAMILIES, *problems.FAMILIES, *saddles.FAMILIES),
        key=lambda fam: fam.name,
    )
})


def _short(value: object, limit: int = 40) -> str:
    """``repr`` cut short (a typed name may be very long)."""
    text = repr(value)
    return text if len(text) <= limit + 2 else text[:limit] + "…"


def names() -> list[str]:
    """Sorted list of the registry names."""
    return list(_REGISTRY)


def families() -> dict[str, Family]:
    """Registry name -> :class:`Family` (a fresh dict, sorted by name)."""
    return dict(_REGISTRY)


def get(name: str, dim: int | None = None, **params: float) -> TestFunction:
    """Build test function ``name`` in dimension ``dim`` (``None``: the family's default).

    Raises:
        KeyError: unknown ``name`` (the message lists the valid names).
        ValueError: unsupported ``dim``, or unknown / invalid extra parameters.
    """
    try:
        family = _REGISTRY[name]
    except (KeyError, TypeError):
        raise KeyError(
            f"unknown test function {_short(name)}; valid names: {', '.join(_REGISTRY)}"
        ) from None
    return family.make(dim, **params)

"""Analytic test functions for optimizers: values and analytic gradients, vectorized over points.

Usage::

    import functions

    functions.names()                      # sorted registry names
    f = functions.get("rosenbrock", dim=3)  # a TestFunction
    f.value(x), f.grad(x)                   # x of shape (n_points, dim), any array-API array
    functions.get("long_valley", kappa=1e3)
    functions.families()["beale"].formula   # metadata without building an instance

The package never imports ``optviz``.
"""

from __future__ import annotations

from . import article, classic2d, nd, saddles
from .base import Family, PointForm, TestFunction, array_form

__all__ = ["Family", "PointForm", "TestFunction", "array_form", "families", "get", "names"]

_REGISTRY: dict[str, Family] = {
    fam.name: fam
    for fam in sorted(
        (*article.FAMILIES, *classic2d.FAMILIES, *nd.FAMILIES, *saddles.FAMILIES),
        key=lambda fam: fam.name,
    )
}


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
            f"unknown test function {name!r}; valid names: {', '.join(_REGISTRY)}"
        ) from None
    return family.make(dim, **params)

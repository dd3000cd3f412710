"""Safe parsing of the small texts users type: ``name:key=value,key=value``.

Used for schedules, hooks and ``--set Optimizer.param=value`` overrides. Values are parsed
as numbers with :func:`float` (never ``eval``); errors say what was expected.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping


def parse_number(text: str, what: str) -> float:
    """``float(text)``, with an error that names ``what`` and rejects NaN and infinities."""
    try:
        v = float(text)
    except ValueError:
        raise ValueError(f"{what}: expected a number, got {text!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{what}: expected a finite number, got {text!r}")
    return v


def parse_call(
    text: str, factories: Mapping[str, Callable], *, what: str
) -> tuple[str, dict[str, float]]:
    """Split ``"name:k=v,k=v"`` into ``name`` and numeric keyword arguments, checking both."""
    name, _, rest = text.strip().partition(":")
    name = name.strip().lower()
    if name not in factories:
        raise ValueError(f"unknown {what} {name!r}; valid: {', '.join(factories)}")
    params = [
        p for p in inspect.signature(factories[name]).parameters.values()
        if p.name != "then"
    ]
    valid = [p.name for p in params]
    kwargs: dict[str, float] = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq:
            raise ValueError(f"{what} {name}: expected key=value, got {item!r}")
        if key not in valid:
            raise ValueError(
                f"{what} {name} has no setting {key!r}; valid: {', '.join(valid) or 'none'}"
            )
        kwargs[key] = parse_number(value.strip(), f"{what} {name}.{key}")
    return name, kwargs

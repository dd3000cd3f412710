"""Safe parsing of the small texts users type: ``name:key=value,key=value``, and numbers.

Used for schedules, hooks, typed starting points and ``--set Optimizer.param=value``
overrides. Values are parsed as numbers with :func:`float` (never ``eval``); errors say what
was expected, and quote what was typed through :func:`quote`, which cuts it short: a pasted
megabyte is never echoed back whole.
"""

from __future__ import annotations

import inspect
import math
import numbers
import reprlib
import sys
from collections.abc import Callable, Mapping

#: At most this many characters of a user's text are quoted back in a message.
QUOTE_LIMIT = 40

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = QUOTE_LIMIT
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6
_REPR.maxlevel = 3


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` for a message, cut short: text longer than ``limit`` characters shows its
    first ``limit`` and its length (``'xxxx…' (10,000,000 characters)``); lists, arrays and other
    objects are abbreviated as :mod:`reprlib` does."""
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}… ({len(value):,} characters)"
    text = _REPR.repr(value)
    return text if len(text) <= 2 * limit else text[: 2 * limit] + "…"


class NumberError(ValueError):
    """A text that is not a usable number; ``problem`` says why, ``text`` is what was typed."""

    def __init__(self, text: object, problem: str, what: str | None = None):
        self.text, self.problem = text, problem
        if what is None:
            super().__init__(f"{quote(text)} {problem}")
        elif problem == "is not a number":
            super().__init__(f"{what}: expected a number, got {quote(text)}")
        elif problem == "is not a finite number":
            super().__init__(f"{what}: expected a finite number, got {quote(text)}")
        else:
            super().__init__(f"{what}: {quote(text)} {problem}")


_TOO_LARGE = f"is too large: numbers must be within ±{sys.float_info.max:.3g}"
_NOT_FINITE_WORDS = ("nan", "inf", "infinity")


def read_number(text: object) -> float:
    """``float(text)`` for a finite number, or :class:`NumberError` (``problem``: "is not a number",
    "is not a finite number", or "is too large: ..." for an overflow such as ``1e309``)."""
    if isinstance(text, bool) or not isinstance(text, str | numbers.Real):
        raise NumberError(text, "is not a number")
    try:
        v = float(text)
    except ValueError:
        raise NumberError(text, "is not a number") from None
    except OverflowError:  # an int beyond the float range
        raise NumberError(text, _TOO_LARGE) from None
    if math.isfinite(v):
        return v
    word = text.strip().lower().lstrip("+-") if isinstance(text, str) else "inf"
    if word in _NOT_FINITE_WORDS or not isinstance(text, str):
        raise NumberError(text, "is not a finite number")
    raise NumberError(text, _TOO_LARGE)


def parse_number(text: str, what: str) -> float:
    """``float(text)``, with an error that names ``what``, rejects NaN and infinities, and says
    "too large" for an overflow such as ``1e309``."""
    try:
        return read_number(text)
    except NumberError as exc:
        raise NumberError(exc.text, exc.problem, what) from None


def parse_call(
    text: str, factories: Mapping[str, Callable], *, what: str
) -> tuple[str, dict[str, float]]:
    """Split ``"name:k=v,k=v"`` into ``name`` and numeric keyword arguments, checking both."""
    valid_names = ", ".join(factories)
    if not isinstance(text, str):
        raise ValueError(f"a {what} is given as text such as {next(iter(factories))!r} or "
                         f"'name:key=value'; got {quote(text)}; valid: {valid_names}")
    name, _, rest = text.strip().partition(":")
    name = name.strip().lower()
    if not name:
        raise ValueError(f"empty {what}{f' in {quote(text)}' if text.strip() else ''}; valid: {valid_names}")
    if name not in factories:
        raise ValueError(f"unknown {what} {quote(name)}; valid: {valid_names}")
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
            raise ValueError(f"{what} {name}: expected key=value, got {quote(item)}")
        if key not in valid:
            raise ValueError(
                f"{what} {name} has no setting {quote(key)}; valid: {', '.join(valid) or 'none'}"
            )
        if key in kwargs:
            raise ValueError(f"{what} {name}: {key} is given twice")
        kwargs[key] = parse_number(value.strip(), f"{what} {name}.{key}")
    return name, kwargs

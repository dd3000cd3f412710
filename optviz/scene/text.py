"""Safe parsing of the small texts users type, in one place for the CLI, the page and the API.

- numbers (:func:`read_number`, :func:`parse_number`);
- ``name:key=value,key=value`` (:func:`parse_call`: schedules and hooks, whose factories
  :func:`optviz.engine.schedules.parse` and :func:`optviz.engine.hooks.parse` give it, and
  ``--set Optimizer.param=value`` overrides);
- points (:func:`points`: typed starting points), a typed function's box (:func:`box`) and its
  minimizers (:func:`minimizers`).

Values are parsed as numbers with :func:`float` (never ``eval``); errors are one line, say what
was expected, and quote what was typed through :func:`quote`, which cuts it short: a pasted
megabyte is never echoed back whole.
"""

from __future__ import annotations

import inspect
import math
import numbers
import re
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


# ---------------------------------------------------------------------- points, boxes, minimizers
def _numbers(text: str, what: str) -> list[float]:
    """The numbers of ``text``, separated by commas and/or spaces."""
    return [parse_number(p, what) for p in re.split(r"[,\s]+", text.strip()) if p]


def _text_of(text: object, what: str, example: str) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        raise ValueError(f"{what}: typed as text, e.g. {example!r}; got {quote(text)}")
    return text


def points(text: str, dim: int) -> list[list[float]]:
    """Points typed as ``x, y`` per line (or separated by ``;``). Brackets are ignored and "−"
    reads as a minus sign. Errors say which point and what was expected, quoting at most the
    first characters of what was typed.

    In 1-D each start is one number: either all on one line (``-1, 2, 1.5``, commas or spaces)
    or one per line. Several lines that each hold several numbers (``-1, 2`` then ``1.5, 1.5``)
    read like 2-D points and are refused rather than taken as four starts.

    >>> points("-1.5, 2; (0.5 -0.5)", 2)
    [[-1.5, 2.0], [0.5, -0.5]]
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise ValueError(f"starting points are typed as text, e.g. '-1.5, 2'; got {quote(text)}")
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise ValueError(f"dim must be a whole number >= 1, got {quote(dim)}")
    cleaned = re.sub(r"[()\[\]]", " ", text).replace("−", "-")
    groups = [g.strip() for g in re.split(r"[;\n]", cleaned) if g.strip()]
    rows = []
    for i, g in enumerate(groups, 1):
        row = []
        for tok in re.split(r"[,\s]+", g):
            if tok:
                try:
                    row.append(read_number(tok))
                except NumberError as exc:
                    raise ValueError(f"point {i}: {exc}") from None
        rows.append(row)
    if not rows:
        raise ValueError("type at least one starting point")
    if dim == 1:
        wide = [i for i, row in enumerate(rows, 1) if len(row) > 1]
        if len(rows) > 1 and wide:
            raise ValueError(
                f"this function is 1-D: each start is one number, typed all on one line (-1, 2, 1.5) "
                f"or one per line; line {wide[0]} holds {len(rows[wide[0] - 1])} numbers, as a "
                f"{len(rows[wide[0] - 1])}-D point would"
            )
        return [[v] for row in rows for v in row]
    for i, row in enumerate(rows, 1):
        if len(row) != dim:
            raise ValueError(f"point {i} has {len(row)} number(s); this function is {dim}-D, so type "
                             f"{dim} numbers per point, e.g. `-1.5, 2`")
    return rows


def box(text: str, dim: int | None = None, what: str = "box") -> list[list[float]] | None:
    """A typed function's box: ``"-2, 2, -1, 3"`` (``x_lo, x_hi[, y_lo, y_hi]``, commas or
    spaces) -> ``[[-2, 2], [-1, 3]]``; empty -> None (the library's default box). ``dim``: the
    box must have that many ranges (default: 1 or 2). ``what`` names it in the one-line error.

    >>> box("-2, 2, -1, 3")
    [[-2.0, 2.0], [-1.0, 3.0]]
    """
    t = _text_of(text, what, "-2, 2, -1, 3").strip()
    if not t:
        return None
    nums = _numbers(t, what)
    sizes = (2, 4) if dim is None else (2 * dim,)
    if len(nums) not in sizes:
        want = ("x_lo, x_hi (1-D) or x_lo, x_hi, y_lo, y_hi (2-D), e.g. -2, 2, -1, 3" if dim is None
                else f"a lo, hi pair for each of the {dim} coordinate(s)")
        raise ValueError(f"{what}: expected {want}; got {len(nums)} number(s)")
    rows = [nums[i:i + 2] for i in range(0, len(nums), 2)]
    for i, (lo, hi) in enumerate(rows):
        if not lo < hi:
            axis = "xy"[i] if len(rows) <= 2 else f"coordinate {i + 1}"
            raise ValueError(f"{what}: the range of {axis} needs lo < hi, got {lo:g}, {hi:g}")
    return rows


def minimizers(text: str, dim: int | None = None, what: str = "minimizer") -> list[list[float]] | None:
    """A typed function's global minimizers: ``"1, 1; -1, 1"`` (``;`` or a new line between
    points) -> points; ``"none"`` -> ``[]`` (no minimum); empty -> None (estimated). ``dim``:
    each point must have that many coordinates (default: all the same)."""
    t = _text_of(text, what, "1, 1; -1, 1").strip()
    if not t:
        return None
    if t.lower() == "none":
        return []
    rows = [_numbers(p, what) for p in re.split(r"[;\n]", t) if p.strip()]
    want = dim if dim is not None else len(rows[0])
    for i, row in enumerate(rows, 1):
        if len(row) != want:
            raise ValueError(f"{what} {i}: has {len(row)} coordinate(s); expected {want} "
                             f"(points separated by ';', e.g. 1, 1; -1, 1)")
    return rows

"""A typed function's three texts (formula, box, minimizers) read into a test function.

The sidebar's editor (:mod:`optviz.dashboard.views.function`) holds the texts; the state
(:mod:`optviz.dashboard.state`) builds the function from them with :func:`build`. The box and
the minimizers are read here, once: ``"-2, 2, -1, 3"`` (``x_lo, x_hi[, y_lo, y_hi]``; empty:
the library's default box) and ``"1, 1; -1, 1"`` (``;`` between points; ``none``: no minimum;
empty: estimated). The formula itself is read by :func:`functions.from_expression` (Python's
``ast`` and a whitelist, never ``eval``).
"""

from __future__ import annotations

import re
from typing import Any

import functions
from functions.expression import MAX_CHARS
from optviz.scene.text import parse_number


def _numbers(text: str, what: str) -> list[float]:
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    return [parse_number(p, what) for p in parts]


def parse_box(text: str) -> list[list[float]] | None:
    """``"-2, 2, -1, 3"`` -> ``[[-2, 2], [-1, 3]]``; empty -> None (the library's default box)."""
    if not str(text).strip():
        return None
    nums = _numbers(str(text), "box")
    if len(nums) not in (2, 4):
        raise ValueError(f"box: expected x_lo, x_hi (1-D) or x_lo, x_hi, y_lo, y_hi (2-D), e.g. "
                         f"-2, 2, -1, 3; got {len(nums)} number(s)")
    rows = [nums[i:i + 2] for i in range(0, len(nums), 2)]
    for axis, (lo, hi) in zip("xy", rows, strict=False):
        if not lo < hi:
            raise ValueError(f"box: the range of {axis} needs lo < hi, got {lo:g}, {hi:g}")
    return rows


def parse_minimizers(text: str) -> list[list[float]] | None:
    """``"1, 1; -1, 1"`` -> points; ``"none"`` -> ``[]`` (no minimum); empty -> None (estimated)."""
    t = str(text).strip()
    if not t:
        return None
    if t.lower() == "none":
        return []
    return [_numbers(p, "minimizer") for p in re.split(r"[;\n]", t) if p.strip()]


def build(text: Any, box: Any, minimizers: Any) -> functions.ExpressionFunction:
    """The function of the three texts (built once per texts by the library's cache), or a
    ``ValueError`` saying what is wrong."""
    text = str(text or "")
    if len(text) > MAX_CHARS:  # the text box stops at MAX_CHARS; a crafted message may not
        raise ValueError(f"the formula is too long: {len(text):,} characters (at most {MAX_CHARS:,})")
    return functions.from_expression(text, box=parse_box(str(box or "")),
                                     minimizers=parse_minimizers(str(minimizers or "")))

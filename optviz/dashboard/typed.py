"""A typed function's three texts (formula, box, minimizers) read into a test function.

The sidebar's editor (:mod:`optviz.dashboard.views.function`) holds the texts; the state
(:mod:`optviz.dashboard.state`) builds the function from them with :func:`build`. The box and
the minimizers are read by :mod:`optviz.scene.text` (as the CLI's are): ``"-2, 2, -1, 3"``
(``x_lo, x_hi[, y_lo, y_hi]``; empty: the library's default box) and ``"1, 1; -1, 1"``
(``;`` between points; ``none``: no minimum; empty: estimated). The formula itself is read by
:func:`functions.from_expression` (Python's ``ast`` and a whitelist, never ``eval``).
"""

from __future__ import annotations

from typing import Any

import functions
from functions.expression import MAX_CHARS
from optviz.scene.text import box as text_box
from optviz.scene.text import minimizers as text_minimizers


def parse_box(text: str) -> list[list[float]] | None:
    """``"-2, 2, -1, 3"`` -> ``[[-2, 2], [-1, 3]]``; empty -> None (the library's default box):
    :func:`optviz.scene.text.box`, the one reader of a typed box."""
    return text_box(str(text), what="box")


def parse_minimizers(text: str) -> list[list[float]] | None:
    """``"1, 1; -1, 1"`` -> points; ``"none"`` -> ``[]`` (no minimum); empty -> None (estimated):
    :func:`optviz.scene.text.minimizers`, the one reader of typed minimizers."""
    return text_minimizers(str(text), what="minimizer")


def build(text: Any, box: Any, minimizers: Any) -> functions.ExpressionFunction:
    """The function of the three texts (built once per texts by the library's cache), or a
    ``ValueError`` saying what is wrong."""
    text = str(text or "")
    if len(text) > MAX_CHARS:  # the text box stops at MAX_CHARS; a crafted message may not
        raise ValueError(f"the formula is too long: {len(text):,} characters (at most {MAX_CHARS:,})")
    return functions.from_expression(text, box=parse_box(str(box or "")),
                                     minimizers=parse_minimizers(str(minimizers or "")))

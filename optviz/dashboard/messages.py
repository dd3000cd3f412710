"""Messages the page shows for bad input: short, and about the right thing.

Whatever a user typed may come back inside an exception's text; :func:`short` cuts any
message to :data:`LIMIT` characters, so a pasted megabyte is never echoed onto the page.
:func:`start_problem` tells a start that cannot be run from (f or its gradient is not finite
there, or it lies beyond the engine's bound) from learning rates that are too large.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: At most this many characters of an exception's text are shown.
LIMIT = 240


def short(exc: BaseException | str, limit: int = LIMIT) -> str:
    """The exception's message (a KeyError's without its quotes), at most ``limit`` characters."""
    if isinstance(exc, BaseException):
        keyerror = isinstance(exc, KeyError) and exc.args
        text = str(exc.args[0]) if keyerror else (str(exc) or type(exc).__name__)
    else:
        text = str(exc)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt_point(p: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.3g}" for v in p) + ")"


def start_problem(fn: Any, starts: np.ndarray) -> str | None:
    """Why no optimizer can run from some of ``starts``, or None when the starts are fine.

    A start is the problem when f or its gradient is not finite there, or when it lies beyond
    the engine's divergence bound (10⁶ times the box's largest coordinate).
    """
    s = np.asarray(starts, dtype=float)
    box = np.asarray(fn.box, dtype=float)
    bound = 1e6 * max(1.0, float(np.max(np.abs(box))))
    with np.errstate(all="ignore"):
        f = np.asarray(fn.value(s), dtype=float)
        g = np.asarray(fn.grad(s), dtype=float).reshape(s.shape)
    bad = ~np.isfinite(f) | ~np.all(np.isfinite(g), axis=1) | np.any(np.abs(s) > bound, axis=1)
    if not bad.any():
        return None
    k = int(bad.sum())
    first = _fmt_point(s[np.flatnonzero(bad)[0]])
    which = f"the start {first}" if k == 1 else f"{k} of the {len(s)} starts (e.g. {first})"
    return (f"Every optimizer diverged because of the starting points, not the learning rates: at {which} "
            f"f or its gradient is not a finite number (or the point is beyond ±{bound:.3g}), so no step can "
            f"be taken. Choose starts inside or near the box.")


def outside_note(fn: Any, starts: np.ndarray) -> str | None:
    """A note when typed starts lie outside the plotted box (their paths may not show)."""
    s = np.asarray(starts, dtype=float)
    box = np.asarray(fn.box, dtype=float)
    out = ~np.all((s >= box[:, 0]) & (s <= box[:, 1]), axis=1)
    if not out.any():
        return None
    k = int(out.sum())
    shown = " × ".join(f"[{lo:g}, {hi:g}]" for lo, hi in box)
    first = _fmt_point(s[np.flatnonzero(out)[0]])
    who = f"The start {first} lies" if k == 1 else f"{k} of the {len(s)} starts (e.g. {first}) lie"
    return (f"{who} outside the plotted box {shown}: the race shows a path only where it is in view "
            f"(the results table counts every start).")

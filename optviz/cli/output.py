"""What the commands print: the progress bar on stderr, aligned text tables, numbers as text,
and JSON-ready values."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

import numpy as np


class ProgressBar:
    """A one-line text bar on ``stream``, redrawn in place (at most ten times a second).

    ``unit`` names what is counted (``"frames"``: ``9/9 frames``; ``"point-steps"``: a
    percentage of the total and the time left). Nothing is drawn before ``delay`` seconds, so a
    quick run leaves no bar behind.
    """

    #: False while a bar's line is open on stderr (the interrupt message then needs no newline).
    line_closed = True

    def __init__(self, stream: TextIO, label: str, enabled: bool, width: int = 30, unit: str = "frames",
                 delay: float = 0.0):
        self.stream, self.label, self.enabled, self.width = stream, label, enabled, width
        self.unit, self.delay = unit, delay
        self.start = time.perf_counter()
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if (done < total and now - self._last < 0.1) or (not self._drawn and now - self.start < self.delay):
            return
        self._last = now
        frac = min(done / total, 1.0) if total > 0 else 1.0
        filled = int(self.width * frac)
        bar = "#" * filled + "-" * (self.width - filled)
        spent = now - self.start
        if self.unit == "frames":
            count = f"{done}/{total} frames"
        else:
            left = f", ~{clock(spent * (1 - frac) / frac)} left" if 0 < frac < 1 and spent >= 1 else ""
            count = f"{100 * frac:3.0f}% of {total:.3g} {self.unit}{left}"
        self.stream.write(f"\r{self.label} [{bar}] {count} {spent:5.1f}s")
        self.stream.flush()
        self._drawn = True
        ProgressBar.line_closed = False

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
            ProgressBar.line_closed = True


def clock(seconds: float) -> str:
    """A short duration: 42s, 3m05s, 2h10m."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def progress_bar(args: argparse.Namespace, label: str, unit: str) -> ProgressBar:
    """The bar a command shows: always with --progress, never with -q, else on a terminal (late)."""
    explicit = bool(args.progress)
    enabled = explicit or (not args.quiet and sys.stderr.isatty())
    return ProgressBar(sys.stderr, label, enabled, unit=unit, delay=0.0 if explicit else 0.5)


def fmt(v: Any, kind: str = "g") -> str:
    """A table cell: ``-`` for none, a share as ``42%`` (``<1%``/``>99%`` when it only rounds to
    0 or 100 %), a whole number, or 3 significant digits."""
    if v is None:
        return "-"
    if kind == "pct":
        shown = f"{100 * v:.0f}"
        return "<1%" if shown == "0" and v > 0 else ">99%" if shown == "100" and v < 1 else f"{shown}%"
    if kind == "int":
        return str(v)
    return f"{v:.3g}"


def span(interval: Sequence[float] | None, kind: str = "g") -> str:
    """An interval as a table cell: ``48-61%`` for shares, ``98-140`` for steps, ``-`` for none."""
    if interval is None:
        return "-"
    lo, hi = interval
    if kind == "pct":
        return f"{100 * lo:.0f}-{100 * hi:.0f}%"
    if kind == "int":
        return f"{lo:.0f}-{hi:.0f}"
    return f"{lo:.3g}-{hi:.3g}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], left: Sequence[int] = (1,)) -> None:
    """Print an aligned table (columns in ``left`` flush left, the others right), a rule under
    the header."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i in left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def json_ready(v: Any) -> Any:
    """Plain JSON values: arrays as lists, NumPy scalars as numbers, non-finite floats as None."""
    if isinstance(v, dict):
        return {k: json_ready(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [json_ready(x) for x in v]
    if isinstance(v, np.ndarray):
        return json_ready(v.tolist())
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v

"""Every position of every slider, computed at once and packed small for the browser.

The race view sends the browser, per optimizer, one *block* of numbers for the current
hyperparameters and one for every other position of each of its sliders. Moving a slider
then swaps blocks in the page (a few milliseconds) instead of rerunning the app (a second).

A block holds, for one optimizer and one set of hyperparameter values:

- ``pos``: the drawn positions at the shown rows, ``(rows, n_points, 2)`` as little-endian
  uint16 in base64: each coordinate quantized over the view padded by half its span each side
  (a step is 1/43,690 of the box, far below a pixel); :data:`OUTSIDE` marks a point outside
  that range (the path breaks there). In 1-D the two coordinates are x and f(x).
- ``dead``: per point, the first shown row at or after which it has diverged, or -1 (int16).
- ``err``: the 25 %, 50 % and 75 % quantiles of the error over the starts at each shown row
  (float32, NaN once half the points are gone), a diverged point counting as infinitely bad.
- ``conv``, ``div``, ``med``: the share of starts within the tolerance at the end, how many
  diverged, and the median final error (None when none is left): the numbers shown beside the
  slider as it moves.

All positions of one optimizer's sliders are one engine run (:func:`sweep`): the starts are
repeated once per position and each hyperparameter is given one value per point. Random draws
(Santa's noise) are keyed by the start itself (:mod:`optviz.engine.noise`), so a repeated start draws
what it draws in the scene's own run: a swept block is the run that position would make.

Nothing here imports Streamlit: the functions are plain and tested on their own.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import optviz
from optviz.draw import plots
from optviz.engine.result import Result
from optviz.live.sliders import Slider

#: The quantized value that marks "outside the drawn range" (a gap in a path).
OUTSIDE = 65535
#: Most rows shown (the starts and up to 100 steps): every step of a 100-step run.
MAX_ROWS = 101
#: Fewest rows shown however big the scene.
MIN_ROWS = 26
#: Moving points summed over the shown rows (rows × optimizers × starts) of the current
#: blocks: beyond it fewer rows are shown, so that big scenes stay light in the browser.
ROW_BUDGET = 400_000
#: Error measures are floored here on log axes (distances and gaps can reach exactly 0).
LOG_FLOOR = plots.LOG_FLOOR


def stride_for(steps: int, max_rows: int = MAX_ROWS) -> int:
    """The step between shown rows: odd (an oscillation between two sides stays visible in
    the drawn path), and small enough that at most ``max_rows`` rows are shown."""
    if steps <= max_rows - 1:
        return 1
    s = -(-steps // (max_rows - 2))  # ceil: rows are 0, s, 2s, ... and the last step
    return s if s % 2 else s + 1


def shown_rows(recorded_steps: np.ndarray, stride: int) -> np.ndarray:
    """Indices of the recorded rows shown: steps that are multiples of ``stride``, and the last."""
    rec = np.asarray(recorded_steps)
    keep = (rec % stride == 0)
    keep[-1] = True
    return np.flatnonzero(keep)


def max_rows_for(n_paths: int) -> int:
    """Rows to show for ``n_paths`` moving points (optimizers × starts), within :data:`ROW_BUDGET`."""
    return int(max(MIN_ROWS, min(MAX_ROWS, ROW_BUDGET // max(1, n_paths))))


@dataclass(frozen=True)
class Quantizer:
    """Maps drawn coordinates to uint16 over ``lo``..``hi`` per axis (2 axes)."""

    lo: tuple[float, float]
    hi: tuple[float, float]

    @classmethod
    def around(cls, view: np.ndarray, pad: float = 0.5) -> Quantizer:
        """Over ``view`` (``(2, 2)``: per axis lo, hi) padded by ``pad`` of its span each side."""
        v = np.asarray(view, dtype=float)
        span = v[:, 1] - v[:, 0]
        lo, hi = v[:, 0] - pad * span, v[:, 1] + pad * span
        return cls((float(lo[0]), float(lo[1])), (float(hi[0]), float(hi[1])))

    def encode(self, xy: np.ndarray) -> np.ndarray:
        """``(..., 2)`` floats → uint16 of the same shape; a point with a coordinate outside (or not
        finite) gets :data:`OUTSIDE` in both."""
        lo, hi = np.asarray(self.lo), np.asarray(self.hi)
        with np.errstate(all="ignore"):
            u = (np.asarray(xy, dtype=float) - lo) / (hi - lo) * (OUTSIDE - 1)
            ok = np.all(np.isfinite(u) & (u >= 0) & (u <= OUTSIDE - 1), axis=-1, keepdims=True)
            q = np.where(ok, np.rint(np.where(ok, u, 0.0)), OUTSIDE)
        return q.astype("<u2")

    def decode(self, q: np.ndarray) -> np.ndarray:
        """The inverse of :meth:`encode` (NaN for :data:`OUTSIDE`)."""
        lo, hi = np.asarray(self.lo), np.asarray(self.hi)
        q = np.asarray(q)
        out = lo + q.astype(float) / (OUTSIDE - 1) * (hi - lo)
        return np.where(q == OUTSIDE, np.nan, out)

    def to_json(self) -> dict[str, list[float]]:
        return {"lo": list(self.lo), "hi": list(self.hi), "outside": OUTSIDE}


def b64(a: np.ndarray) -> str:
    """The bytes of ``a`` in base64 (the browser reads them as a typed array)."""
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def unb64(text: str, dtype: str) -> np.ndarray:
    """The inverse of :func:`b64`."""
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


def drawn_positions(result: Result, name: str) -> np.ndarray:
    """``(rows, n_points, 2)``: x in 2-D; (x, f(x)) in 1-D."""
    traj = np.asarray(result.trajectories[name], dtype=float)
    if result.dim == 2:
        return traj
    return np.stack([traj[..., 0], np.asarray(result.losses[name], dtype=float)], axis=-1)


def pack(result: Result, name: str, rows: np.ndarray, quant: Quantizer, kind: str, tol: float,
         points: slice = slice(None)) -> dict[str, Any]:
    """The block of optimizer ``name`` for the starts ``points`` of ``result``, at ``rows``."""
    rec = np.asarray(result.recorded_steps)
    steps = rec[rows]
    pos = drawn_positions(result, name)[rows][:, points]
    d = np.asarray(result.diverged_step[name])[points]
    # first shown row at or after the divergence step (the point is gone from there on)
    dead = np.where(d >= 0, np.searchsorted(steps, np.where(d >= 0, d, 0), side="left"), -1)
    dead = np.minimum(dead, len(steps) - 1).astype("<i2")
    kind = result.error_kind(kind)
    e = np.asarray(result.errors(kind)[name], dtype=float)[:, points]
    gone = (d[None, :] >= 0) & (rec[:, None] >= d[None, :])
    e = np.where(gone | ~np.isfinite(e), np.inf, e)
    q = plots.error_quantiles(e[rows])
    if kind != "loss":
        q = np.where(np.isnan(q), np.nan, np.maximum(q, LOG_FLOOR))
    alive = d < 0
    final = e[-1][alive]
    conv = None if kind == "loss" else float(np.mean((e[-1] <= tol) & alive))
    return {
        "pos": b64(quant.encode(pos)),
        "dead": b64(dead),
        "err": b64(q.astype("<f4")),
        "conv": conv,
        "div": int((~alive).sum()),
        "med": float(np.median(final)) if final.size else None,
    }


def sweep_plan(current: dict[str, float], sliders: Sequence[Slider]) -> tuple[dict[str, np.ndarray], list]:
    """The hyperparameter values of a sweep over every position of each slider but its current
    one, with the others at their current values.

    Returns ``(values, where)``: per hyperparameter an array with one value per *block*, and per
    slider the block index of each position (None at the current position: the scene's own run).
    """
    per_block: dict[str, list[float]] = {k: [] for k in current}
    where: list[list[int | None]] = []
    for s in sliders:
        idx: list[int | None] = []
        for i, v in enumerate(s.values):
            if i == s.index:
                idx.append(None)
                continue
            idx.append(len(per_block[s.name]))
            for k, cur in current.items():
                per_block[k].append(v if k == s.name else cur)
        where.append(idx)
    return {k: np.asarray(v, dtype=float) for k, v in per_block.items()}, where


def sweep(function: Any, name: str, current: dict[str, float], sliders: Sequence[Slider], starts: np.ndarray,
          steps: int, stride: int, quant: Quantizer, kind: str, tol: float,
          **run_kwargs: Any) -> list[list[dict[str, Any] | None]]:
    """Blocks for every position of ``sliders`` (None at each slider's current position), from
    one engine run of ``name`` with the starts repeated once per position."""
    values, where = sweep_plan(current, sliders)
    n_blocks = len(next(iter(values.values()))) if values else 0
    if n_blocks == 0:
        return [[None] * len(s.values) for s in sliders]
    starts = np.asarray(starts, dtype=float)
    n = starts.shape[0]
    hp = {k: np.repeat(v, n) for k, v in values.items()}
    res = optviz.run(function, {name: hp}, np.tile(starts, (n_blocks, 1)), steps, record_every=stride,
                     **run_kwargs)
    rows = shown_rows(res.recorded_steps, stride)
    blocks = [pack(res, name, rows, quant, kind, tol, slice(b * n, (b + 1) * n)) for b in range(n_blocks)]
    return [[None if i is None else blocks[i] for i in idx] for idx in where]


def work(sliders: Sequence[Slider], n_points: int, steps: int) -> int:
    """Point-steps a sweep over ``sliders`` costs."""
    return sum(len(s.values) - 1 for s in sliders) * n_points * max(1, steps)

"""What the race component receives: the figures' fixed parts, and per optimizer its sliders and blocks.

The dictionary built by :func:`race_data` is sent as JSON to ``assets/race.js``:

``scene``       identifies what is drawn (a change resets the animation to the end of the race)
``sweeps``      whether the live sliders' blocks are in (a first drawing comes without them; the
                page then asks for them with the ``sweeps`` trigger)
``ack``         the last slider message applied (:func:`optviz.dashboard.state.apply_slider_values`)
``gen``         how many times the hyperparameters were replaced as a whole (a lesson, a link,
                Reset): the browser drops slider changes made before, and says ``gen`` with each
``link``        ``{"query", "group"}``: the scene's URL query, which the page rewrites when a
                slider moves (:func:`optviz.dashboard.share.link_template`); None: no link
``dim``, ``n``, ``steps``, ``rows``
                dimension, starts, the run's steps, and the step of every shown row
``quant``       how the packed positions decode (:class:`~optviz.live.sweeps.Quantizer`)
``view``        the drawn range ``[[x0, x1], [y0, y1]]`` (a diverged point's cross stays in it)
``race``        ``{"data", "above", "layout"}`` from :func:`optviz.draw.plots.race_base`
``err``         ``{"layout", "floor"}`` from :func:`optviz.draw.plots.error_base`
``cross``       the diverged crosses' trace template
``optimizers``  per optimizer: ``name``, ``look`` (:func:`optviz.draw.plots.optimizer_traces`),
                ``summary``, ``stochastic``, ``sliders`` (hyperparameter, label, values, their
                text, the current index, ``live``: every position computed, ``url``: the link's
                text of each position), ``base`` (the block
                of the current values) and ``blocks`` (per slider, a block per position; None at
                the current one and for sliders that are not live)
``starts_mode`` the sidebar's kind of starts ("Grid", "Typed", ...): "Back to the grid" shows
                unless it is "Grid"
``large``, ``kind``, ``kind_short``, ``tol``, ``log``
                projector mode, the error measure (and its short name), the tolerance, and
                whether the error axis is logarithmic
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optviz.draw import plots
from optviz.engine.result import Result
from optviz.live import sweeps
from optviz.live.sliders import Slider, fmt
from optviz.optimizers import REGISTRY


def race_data(*, scene_key: str, with_sweeps: bool, result: Result, sliders: dict[str, list[Slider]],
              blocks: dict[str, list[list[dict[str, Any] | None]]], live: dict[str, set[str]], stride: int,
              quant: sweeps.Quantizer, kind: str, tol: float, large: bool, ack: int,
              stochastic: set[str] = frozenset(), gen: int = 0, link: dict[str, Any] | None = None,
              urls: dict[str, list[list[str]]] | None = None, starts_mode: str = "Grid") -> dict[str, Any]:
    """The race component's data for ``result`` (the scene's own runs) and the sweeps' ``blocks``."""
    fn = result.function
    names = list(result.names)
    rows = sweeps.shown_rows(result.recorded_steps, stride)
    kind = result.error_kind(kind)
    looks = plots.optimizer_traces(names, result.n_points, large_font=large)
    log = kind != "loss" or _all_positive(result, kind)
    opts = []
    for name in names:
        spec = REGISTRY[name]
        sl = sliders[name]
        texts = (urls or {}).get(name) or [None] * len(sl)
        opts.append({
            "name": name,
            "look": looks[name],
            "summary": spec.summary,
            "stochastic": name in stochastic,
            "sliders": [{"hp": s.name, "label": s.label, "lr": s.lr, "values": list(s.values),
                         "text": [fmt(v) for v in s.values], "index": s.index, "help": s.help,
                         "live": s.name in live.get(name, set()), "url": url}
                        for s, url in zip(sl, texts, strict=True)],
            "base": sweeps.pack(result, name, rows, quant, kind, tol),
            "blocks": blocks.get(name, [[None] * len(s.values) for s in sl]),
        })
    return {
        "v": 1,
        "scene": scene_key,
        "sweeps": bool(with_sweeps),
        "ack": int(ack),
        "gen": int(gen),
        "link": link,
        "dim": int(result.dim),
        "n": int(result.n_points),
        "steps": int(result.steps),
        "rows": [int(v) for v in np.asarray(result.recorded_steps)[rows]],
        "quant": quant.to_json(),
        "view": plots.view_of(fn).tolist(),
        "race": plots.race_base(fn, result.starts, names, large_font=large),
        "err": plots.error_base(kind, result.steps, tol, result.n_points, large_font=large, log=log),
        "cross": plots.cross_trace(large_font=large),
        "optimizers": opts,
        "starts_mode": starts_mode,
        "large": bool(large),
        "kind": kind,
        "kind_short": plots.KIND_SHORT[kind],
        "tol": float(tol),
        "log": bool(log),
        "symlog": None if log else symlog_scale(result, kind),
    }


def symlog_scale(result: Result, kind: str) -> float | None:
    """The linear half-width ``c`` of the error axis's signed logarithm when the errors take both
    signs over more than three decades (a saddle's loss falling to −5·10⁴), else ``None`` (a
    plain linear axis). ``c`` is the 5 % quantile of the non-zero sizes, so the first steps'
    small changes stay visible beside the late large ones."""
    vals = [np.asarray(v, dtype=float).ravel() for v in result.errors(kind).values()]
    size = np.abs(np.concatenate(vals)) if vals else np.array([])
    size = size[np.isfinite(size) & (size > 0)]
    if not size.size:
        return None
    c = max(float(np.quantile(size, 0.05)), float(size.max()) * 1e-8)
    return float(f"{c:.2g}") if size.max() / c >= 1e3 else None


def _all_positive(result: Result, kind: str) -> bool:
    vals = [np.asarray(v, dtype=float) for v in result.errors(kind).values()]
    finite = np.concatenate([v[np.isfinite(v)] for v in vals]) if vals else np.array([])
    return bool(finite.size and finite.min() > 0)

"""The race as one self-contained web page: ``optviz render --out race.html``.

The page holds everything it needs inline: plotly.js (the basic bundle), the race's front end
(``optviz/live/assets/race.js``, the very script of the dashboard, with its page adapter)
and the packed numbers (:mod:`optviz.live.payload`): the scene's run and, for every
position of every slider, the run at that position (:mod:`optviz.live.sweeps`). Opened from
disk (``file://``), with no network and no server, it plays, steps, and redraws the race as a
slider moves; it fits in an ``<iframe>`` on a course page.

How big it gets: plotly.js is 1.2 MB; the numbers are kept within :data:`MAX_BYTES` by showing
fewer rows of a long race (every step while it fits, down to :data:`~optviz.live.sweeps.MIN_ROWS`),
and beyond that by computing fewer sliders ahead (learning rates first); a slider not computed
ahead is shown greyed out. The default scene's page is about 4 MB.

>>> from optviz.live import html
>>> scene = optviz.Scene("himmelblau", {"Adam": {}}, optviz.Starts.grid(2), steps=50)  # doctest: +SKIP
>>> html.write_page(scene, "race.html")  # doctest: +SKIP
"""

from __future__ import annotations

import html as _html
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from optviz.draw import files, plots
from optviz.engine.result import Result
from optviz.live import frontend, payload, sweeps
from optviz.live.sliders import Slider, priority, slider
from optviz.optimizers import rates as _rates
from optviz.scene import lessons
from optviz.scene.model import Scene

#: The page's format (``optviz render`` picks it by this suffix).
FORMATS = (".html",)
#: Bytes of packed numbers (base64 in the page) at most: with plotly.js and the landscape the
#: default scene's page stays under 5 MB.
MAX_BYTES = 3_000_000


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("optviz")
    except PackageNotFoundError:  # a source tree that was never installed
        return "(source)"


def scene_sliders(scene: Scene) -> dict[str, list[Slider]]:
    """Each optimizer's sliders at the scene's values, with the policy's default and the
    lessons' values among the positions (as the dashboard offers them)."""
    fname, fdim, fparams = scene.function.rate_key()
    out = {}
    for name, hps in scene.optimizers.items():
        policy = _rates.defaults(name, fname, fdim, scene.rates, params=fparams)
        row = []
        for hp, value in hps.items():
            extra = [float(lesson.scene.optimizers[name][hp]) for lesson in lessons.ALL_LESSONS.values()
                     if name in lesson.scene.optimizers and hp in lesson.scene.optimizers[name]]
            row.append(slider(name, hp, float(value), [*extra, float(policy[hp])]))
        out[name] = row
    return out


def _block_bytes(rows: int, n: int) -> int:
    """About how many bytes one packed block takes in the page (base64 and JSON)."""
    return (rows * n * 4 + rows * 12 + n * 2) * 4 // 3 + 160


def _n_rows(steps: int, stride: int) -> int:
    return -(-steps // stride) + 1


def plan(scene: Scene, max_bytes: int = MAX_BYTES) -> tuple[int, dict[str, tuple[Slider, ...]],
                                                            dict[str, list[Slider]]]:
    """``(stride, live sliders, all sliders)``: the most rows for which every slider fits in
    ``max_bytes``; if none does at the fewest rows, the sliders that fit there by priority
    (learning rates, then averaging coefficients, then the rest)."""
    sl = scene_sliders(scene)
    n = len(scene.starts.points)
    k = len(scene.optimizers)
    every = [s for ss in sl.values() for s in ss]
    blocks = k + sum(len(s.values) - 1 for s in every)
    # strides as sweeps.stride_for makes them: 1, then odd (an oscillation stays visible)
    for stride in (1, *range(3, max(3, scene.steps) + 2, 2)):
        rows = _n_rows(scene.steps, stride)
        if rows < sweeps.MIN_ROWS and stride > 1:
            break
        if blocks * _block_bytes(rows, n) <= max_bytes:
            return stride, {name: tuple(ss) for name, ss in sl.items()}, sl
    stride = sweeps.stride_for(scene.steps, sweeps.MIN_ROWS)
    per = _block_bytes(_n_rows(scene.steps, stride), n)
    left = max_bytes - k * per
    chosen: set[tuple[str, str]] = set()
    for tier in (0, 1, 2):  # in the optimizers' order; a later tier only when it fits whole
        members = [s for s in every if priority(s) == tier]
        cost = [(len(s.values) - 1) * per for s in members]
        if tier > 0 and sum(cost) > left:
            break
        for s, c in zip(members, cost, strict=True):
            if c <= left:
                chosen.add((s.optimizer, s.name))
                left -= c
    return stride, {name: tuple(s for s in ss if (name, s.name) in chosen) for name, ss in sl.items()}, sl


def race_data(scene: Scene, *, result: Result | None = None, large: bool = False,
              max_bytes: int = MAX_BYTES, backend: str = "numpy") -> dict[str, Any]:
    """The race front end's data for ``scene`` (:func:`optviz.live.payload.race_data`), with
    every slider position that fits in ``max_bytes`` computed ahead; ``result``: the scene's own
    run when already computed (every step recorded)."""
    if result is None:
        result = scene.run(backend=backend)
    stride, live, sl = plan(scene, max_bytes)
    fn = result.function
    quant = sweeps.Quantizer.around(plots.view_of(fn))
    kind = result.error_kind(scene.error)
    options = scene.run_kwargs()
    for key in ("function", "optimizers", "starts", "steps", "rates"):
        options.pop(key)
    blocks = {}
    for name, sliders in sl.items():
        swept = (sweeps.sweep(fn, name, dict(scene.optimizers[name]), live[name], scene.starts_array(),
                              scene.steps, stride, quant, kind, scene.tol, backend=backend, **options)
                 if live[name] else [])
        by_hp = {s.name: b for s, b in zip(live[name], swept, strict=True)}
        blocks[name] = [by_hp.get(s.name, [None] * len(s.values)) for s in sliders]
    stochastic = {name for name in scene.optimizers if scene.noise or "noise" in _needs(name)}
    return payload.race_data(
        scene_key=scene.to_json(indent=None), with_sweeps=True, result=result, sliders=sl, blocks=blocks,
        live={name: {s.name for s in ls} for name, ls in live.items()}, stride=stride, quant=quant,
        kind=kind, tol=scene.tol, large=large, ack=0, stochastic=stochastic, gen=0, link=None, urls=None,
        starts_mode="Grid")


def _needs(name: str) -> Iterable[str]:
    from optviz.optimizers import REGISTRY

    return REGISTRY[name].needs


def _json_in_html(data: Any) -> str:
    """JSON safe inside ``<script>``: no ``</`` (a closing tag) and no ``<!--``."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _clean_nan(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN: JSON has none
        return None
    if isinstance(value, dict):
        return {k: _clean_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_nan(v) for v in value]
    return value


PAGE_CSS = """
html, body { margin: 0; background: #fff; }
.ov-page { max-width: 1400px; margin: 0 auto; padding: 12px 16px 8px 16px;
           font-family: Inter, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; }
.ov-page h1 { font-size: 20px; margin: 0 0 4px 0; }
.ov-page .ov-note { font-size: 14px; background: #eef3fb; border-left: 4px solid #4A5A70; padding: 6px 10px;
                    margin: 4px 0 8px 0; }
.ov-page .ov-caption, .ov-page footer { font-size: 12px; color: #666; margin: 2px 0 6px 0; }
"""


def page(scene: Scene, *, title: str | None = None, note: str | None = None,
         data: dict[str, Any] | None = None, large: bool = False, max_bytes: int = MAX_BYTES,
         backend: str = "numpy") -> str:
    """The whole web page (HTML text) of ``scene``'s race; ``note``: a lesson's text above it."""
    if data is None:
        data = race_data(scene, large=large, max_bytes=max_bytes, backend=backend)
    fn = scene.build_function()
    k, n = len(scene.optimizers), len(scene.starts.points)
    heading = title or (f"{fn.title}: {k} optimizer{'s' * (k != 1)} × {n} start{'s' * (n != 1)}, "
                        f"{scene.steps} steps")
    esc = _html.escape
    caption = (f"{fn.dim}-D · seed {scene.seed} · schedule {scene.schedule}"
               + (f" · hooks {', '.join(scene.hooks)}" if scene.hooks else "")
               + (f" · gradient noise σ = {scene.noise:g}" if scene.noise else "")
               + (f" · delay τ = {scene.delay}" if scene.delay else "")
               + " · every slider position computed ahead: drag one, press ▶ Play")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="optviz {esc(_version())}">',
        f"<title>{esc(heading)}</title>",
        f"<style>{frontend.race_css()}{PAGE_CSS}</style>",
        f"<script>{frontend.plotly_js()}</script>",
        '</head><body><main class="ov-page">',
        f"<h1>{esc(heading)}</h1>",
        f'<p class="ov-caption">{esc(caption)}</p>',
        f'<p class="ov-note" data-testid="optviz-note">{esc(note)}</p>' if note else "",
        '<div id="optviz-race"></div>',
        f"<footer>Made with optviz {esc(_version())}. <details><summary>The scene (save it as race.json: "
        f"<code>optviz render --scene race.json</code> or <code>optviz.Scene.load</code> opens it)</summary>"
        f"<pre>{esc(scene.to_json())}</pre></details></footer>",
        "</main>",
        f'<script type="application/json" id="optviz-data">{_json_in_html(_clean_nan(data))}</script>',
        f'<script type="module">{frontend.race_js("page")}</script>',
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def write_page(scene: Scene, path: str | os.PathLike, *, title: str | None = None, note: str | None = None,
               result: Result | None = None, large: bool = False, max_bytes: int = MAX_BYTES,
               backend: str = "numpy") -> Path:
    """Write ``scene``'s race as one web page to ``path`` (complete or not at all); returns the path."""
    files.check_output(path, FORMATS)
    data = race_data(scene, result=result, large=large, max_bytes=max_bytes, backend=backend)
    return files.write_text(path, page(scene, title=title, note=note, data=data))


def lesson_page(name: str, path: str | os.PathLike) -> Path:
    """Write lesson ``name``'s race, with its title and note, as one web page."""
    lesson = lessons.get(name)
    return write_page(lesson.scene, path, title=lesson.title, note=lesson.note)


__all__ = ["FORMATS", "MAX_BYTES", "lesson_page", "page", "plan", "race_data", "scene_sliders", "write_page"]

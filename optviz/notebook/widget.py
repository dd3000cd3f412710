"""The live race as a notebook widget (anywidget): Jupyter, JupyterLab, Colab, VS Code, marimo.

The widget runs the dashboard's own front end (``assets/race.js`` with the widget adapter
``assets/hosts/widget.js``, plotly.js before it) on the same data as the single web page
(:func:`optviz.live.html.race_data`: the scene's run and the run at every slider position). The
packed numbers travel as binary buffers, once: playing, stepping and moving a slider happen in
the browser, with no round trip to the kernel. A slider released in the page comes back
(``sliders``), so :attr:`RaceWidget.scene` is the race on screen; setting :attr:`RaceWidget.scene`
(or :meth:`RaceWidget.set`) from Python computes the new race and redraws the widget.

Where widgets are off (GitHub's notebook viewer, nbconvert to HTML without widget state) the
output falls back to a picture of the race's last frame (``image/png``) and its summary.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
from typing import Any

import anywidget
import traitlets

from optviz.engine.result import Result
from optviz.live import frontend, html
from optviz.scene import lessons
from optviz.scene.model import Scene, Starts

#: Point-steps (optimizers × starts × steps) up to which a :class:`~optviz.Result` shown in a
#: cell becomes the live race; a bigger one keeps its plain display (the widget computes every
#: slider position ahead, which costs that much again per position).
RESULT_BUDGET = 200_000

#: The block fields that are packed numbers (base64 in the page, raw bytes in the widget).
_PACKED = ("pos", "dead", "err")


def _binary(data: dict[str, Any]) -> dict[str, Any]:
    """The race data with every packed block's numbers as ``bytes`` (ipywidgets sends them as
    binary buffers, and the page gets them back as DataViews in place)."""
    def block(b: dict[str, Any] | None) -> dict[str, Any] | None:
        if b is None:
            return None
        return {k: base64.b64decode(v) if k in _PACKED and isinstance(v, str) else v for k, v in b.items()}

    opts = []
    for o in data["optimizers"]:
        blocks = [[block(b) for b in row] for row in o["blocks"]]
        opts.append({**o, "base": block(o["base"]), "blocks": blocks})
    return {**data, "optimizers": opts}


def _clean(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN: JSON has none
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


class RaceWidget(anywidget.AnyWidget):
    """The live race of a :class:`~optviz.Scene` in a notebook cell.

    ``scene`` is the race on screen: the widget's sliders write to it, and assigning a new scene
    (or calling :meth:`set`) computes the race again and redraws it.
    """

    _esm = traitlets.Unicode().tag(sync=True)
    _css = traitlets.Unicode().tag(sync=True)
    #: The race front end's data (:func:`optviz.live.html.race_data`), numbers as bytes.
    data = traitlets.Dict().tag(sync=True)
    #: The page's last slider message: ``{"seq", "gen", "values": {optimizer: {hp: value}}}``.
    sliders = traitlets.Dict().tag(sync=True)
    #: A lesson's title and note, shown above the race.
    title = traitlets.Unicode("").tag(sync=True)
    note = traitlets.Unicode("").tag(sync=True)

    def __init__(self, scene: Scene, *, result: Result | None = None, title: str = "", note: str = "",
                 max_bytes: int = html.MAX_BYTES) -> None:
        super().__init__(_esm=frontend.widget_esm(),
                         _css=frontend.race_css(), title=title, note=note)
        self._max_bytes = max_bytes
        self._gen = 0
        self._scene = scene
        self._show(scene, result)

    # ------------------------------------------------------------------ the scene
    @property
    def scene(self) -> Scene:
        """The race on screen (with the values of the sliders moved in the page)."""
        return self._scene

    @scene.setter
    def scene(self, scene: Scene) -> None:
        if not isinstance(scene, Scene):
            raise TypeError(f"scene: expected an optviz.Scene, got {type(scene).__name__}")
        self._scene = scene
        self._show(scene, None)

    def set(self, **changes: Any) -> RaceWidget:
        """Change the scene's settings (``steps=``, ``seed=``, ``optimizers=``, ...; a
        hyperparameter as ``hp={"Adam": {"alpha": 0.1}}``) and redraw; returns the widget."""
        hp = changes.pop("hp", None) or {}
        scene = dataclasses.replace(self._scene, **changes) if changes else self._scene
        if hp:
            opts = {name: dict(values) for name, values in scene.optimizers.items()}
            for name, values in hp.items():
                if name not in opts:
                    raise ValueError(f"hp: {name!r} is not in the scene; it races {', '.join(opts)}")
                opts[name].update(values)
            scene = dataclasses.replace(scene, optimizers=opts)
        self.scene = scene
        return self

    def _show(self, scene: Scene, result: Result | None) -> None:
        data = html.race_data(scene, result=result, max_bytes=self._max_bytes)
        self._gen += 1
        data["gen"] = self._gen  # the page drops slider changes made before this data
        self.data = _binary(_clean(data))

    @traitlets.observe("sliders")
    def _sliders_moved(self, change: dict[str, Any]) -> None:
        msg = change["new"] or {}
        if msg.get("gen") != self._gen or not isinstance(msg.get("values"), dict):
            return  # a change made before the last redraw from Python
        opts = {name: dict(values) for name, values in self._scene.optimizers.items()}
        for name, values in msg["values"].items():
            if name in opts and isinstance(values, dict):
                opts[name].update({k: float(v) for k, v in values.items() if k in opts[name]})
        self._scene = dataclasses.replace(self._scene, optimizers=opts)

    # ------------------------------------------------------------------ without widgets
    def _repr_png_(self) -> bytes:
        """The race's last frame (with the error chart), for viewers without widgets."""
        return _still(self._scene, self.title)

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict, dict] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, meta = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = dict(data)
        data["image/png"] = base64.b64encode(self._repr_png_()).decode("ascii")
        data["text/plain"] = f"<optviz race: {_describe(self._scene)}>"
        return data, meta


@functools.lru_cache(maxsize=16)
def _still(scene: Scene, title: str) -> bytes:
    """The PNG of ``scene``'s last frame (kept: a cell shown again does not draw it again)."""
    import tempfile
    from pathlib import Path

    from optviz.draw import render

    with tempfile.TemporaryDirectory(prefix="optviz-widget-") as tmp:
        path = render.still(scene.run(), Path(tmp) / "race.png", size=(9.0, 4.2), dpi=80, title=title or None)
        return Path(path).read_bytes()


def _describe(scene: Scene) -> str:
    k, n = len(scene.optimizers), len(scene.starts.points)
    return f"{scene.function.name or 'a typed function'}, {', '.join(scene.optimizers)}; {n} start(s), " \
           f"{scene.steps} steps" + ("" if k else " (no optimizer)")


def race(function: Any = None, optimizers: Any = None, starts: Any = None, steps: int = 300, *,
         result: Result | None = None, **scene_options: Any) -> RaceWidget:
    """The live race in a notebook cell.

    ``function`` is a :class:`~optviz.Scene` (raced as it is), a lesson's name
    (``"momentum-valley"``: its scene, title and note), or a function for a new scene with
    ``optimizers`` (default: the dashboard's field), ``starts`` (a :class:`~optviz.Starts` or
    points; default a 4×4 grid), ``steps`` and any other :class:`~optviz.Scene` field. For
    example ``w = optviz.race("himmelblau", ["Adam", "NAG"], optviz.Starts.grid(2), steps=80)``
    shows the race; ``w.scene`` then follows the sliders moved in the page.
    """
    title = note = ""
    if isinstance(function, Scene):
        scene = function
    elif isinstance(function, str) and function in lessons.ALL_LESSONS and optimizers is None:
        lesson = lessons.get(function)
        scene, title, note = lesson.scene, lesson.title, lesson.note
    else:
        fn = lessons.DEFAULT_FUNCTION if function is None else function
        if starts is None:
            starts = Starts.grid(4)
        elif not isinstance(starts, Starts):
            starts = Starts.typed(starts)
        scene = Scene(fn, list(lessons.DEFAULT_FIELD) if optimizers is None else optimizers, starts, steps,
                      **scene_options)
    return RaceWidget(scene, result=result, title=title, note=note)


def scene_of(result: Result) -> Scene:
    """The scene a :class:`~optviz.Result` ran (its function, hyperparameters, starts, steps,
    seed, schedule, hooks, noise, delay and precision)."""
    fn = result.function
    options = {"seed": result.seed, "schedule": result.schedule, "hooks": result.hooks}
    for name in ("noise", "noise_mode", "delay", "dtype", "rates"):
        value = getattr(result, name, None)
        if value is not None:
            options[name] = value
    return Scene.from_run_kwargs(fn, {n: dict(h) for n, h in result.hyperparams.items()},
                                 Starts.typed(result.starts.tolist()), result.steps, **options)


def in_notebook() -> bool:
    """Whether this runs in a notebook's kernel (Jupyter, Colab, VS Code), not a terminal or a script:
    only there does a result's display become a widget (its payload costs a second)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ not in ("TerminalInteractiveShell",
                                                              "InteractiveShellEmbed")


def result_bundle(result: Result, include: Any = None, exclude: Any = None) -> tuple[dict, dict] | None:
    """A :class:`~optviz.Result`'s rich display: the live race when it is small enough
    (:data:`RESULT_BUDGET`) and its scene can be rebuilt; else None (its plain display)."""
    work = len(result.names) * int(result.n_points) * int(result.steps)
    if work > RESULT_BUDGET or not in_notebook():
        return None
    try:
        scene = scene_of(result)
    except (ValueError, TypeError, KeyError):
        return None
    every_step = len(result.recorded_steps) == result.steps + 1
    return RaceWidget(scene, result=result if every_step else None)._repr_mimebundle_(
        include=include, exclude=exclude)


__all__ = ["RESULT_BUDGET", "RaceWidget", "in_notebook", "race", "result_bundle", "scene_of"]

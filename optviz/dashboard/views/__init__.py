"""The dashboard's views, one module each: adding a view is adding a module here.

A view module defines ``VIEW = View(...)``: a title for its tab, an ``order`` (tabs are sorted
by it), ``available(ctx)`` (e.g. the 3-D view only for 2-D functions) and ``render(ctx)``,
which draws the view into the current container. :func:`discover` finds every module of this
package with a ``VIEW``, so the page needs no list to edit. Views get a :class:`Context` with
the scene and the display settings; they compute what they draw through the cached calls of
:mod:`optviz.dashboard.compute`. A view that reacts to its own widgets wraps its body in
``st.fragment`` (only that view reruns).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from optviz.scene.model import Scene

#: What building or running a scene raises for a setting the engine refuses (shown as a message).
ENGINE_ERRORS = (ValueError, KeyError, TypeError, MemoryError)


@dataclass(frozen=True)
class Context:
    """What every view is given: the scene on screen and how to show it (the page's own settings,
    which are not part of the race, stay out of the scene)."""

    scene: Scene
    function: Any  # the scene's functions.TestFunction
    backend: str  # where the engine runs: numpy, auto or cupy
    large: bool  # projector mode
    kind: str  # error measure: auto, distance, gap or loss
    tol: float


@dataclass(frozen=True)
class View:
    """One tab of the page."""

    key: str
    title: str
    order: int
    render: Callable[[Context], None]
    available: Callable[[Context], bool] = lambda ctx: True
    help: str = ""


def wait_for_pandas() -> None:
    """Plotly's figure checks look pandas up in ``sys.modules`` without importing it: while another
    thread is still importing it they see a half-made module. Importing it here waits for that."""
    import pandas  # noqa: F401


def discover() -> list[View]:
    """Every ``VIEW`` of this package's modules, sorted by ``order``."""
    views = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        view = getattr(module, "VIEW", None)
        if isinstance(view, View):
            views.append(view)
    return sorted(views, key=lambda v: (v.order, v.key))


def current() -> Context:
    """The context of the state now (views inside ``st.fragment`` call this on their reruns,
    when the arguments of the last full run are out of date). Raises what building the
    function or the starts raises (``ValueError``, ``KeyError``, ...)."""
    from optviz.dashboard import scene_state, state

    fn = state.make_function()
    scene = scene_state.scene_from_widgets(fn, state.make_starts(fn))
    backend = state.backend()
    if backend == "cupy":
        import optviz

        if not optviz.gpu_status()[0]:
            backend = "numpy"
    return Context(scene=scene, function=fn, backend=backend, large=bool(state.ss["large_font"]),
                   kind=str(state.ss["error_kind"]), tol=float(state.ss["tol"]))


def current_or_message() -> Context | None:
    """:func:`current`, or None with its error shown on the page (a view then draws nothing)."""
    import streamlit as st

    from optviz.dashboard.messages import short

    try:
        return current()
    except ENGINE_ERRORS as exc:
        st.error(short(exc))
        return None

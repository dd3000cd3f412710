"""optviz in notebooks: the live race as a widget (``pip install "optviz[notebook]"``).

:func:`race` (also ``optviz.race``), ``Scene.show()`` and a small :class:`~optviz.Result`'s display
in a cell give a :class:`RaceWidget`. This room sits above the others (like the command line and
the dashboard); anywidget is imported when a widget is made.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RaceWidget", "race", "result_bundle", "scene_of"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        try:
            from optviz.notebook import widget
        except ModuleNotFoundError as exc:
            if exc.name in ("anywidget", "ipywidgets", "traitlets"):
                raise ModuleNotFoundError(
                    f"the notebook widget needs {exc.name}: pip install \"optviz[notebook]\"", name=exc.name
                ) from None
            raise
        return getattr(widget, name)
    raise AttributeError(f"module 'optviz.notebook' has no attribute {name!r}")

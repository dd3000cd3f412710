"""One description of a race: :class:`Scene` (``model``), what users type parsed in one place
(``text``, ``starts``), and the lessons, named scenes with a note (``lessons``).

The page, a link, a scene file, the CLI, the API and a notebook all make a :class:`Scene`; the
engine runs what it resolves to. ``from optviz.scene import Scene`` is the public spelling.
"""

from __future__ import annotations

from typing import Any

_PUBLIC = ("LIMITS", "SERVER_LIMITS", "VERSION", "Limits", "Scene", "SceneFunction", "Starts")


def __getattr__(name: str) -> Any:
    # Loaded on first use: the engine's text readers live in this package too, so importing the
    # package must not import the model (which imports the engine) before they are needed.
    if name in _PUBLIC:
        from optviz.scene import model

        return getattr(model, name)
    raise AttributeError(f"module 'optviz.scene' has no attribute {name!r}")


__all__ = list(_PUBLIC)

"""The scenes the explore tabs open with: each one answers its tab's question at first sight.

``scripts/make_tab_defaults.py`` picks them (by measuring candidates, as
``scripts/make_default_rates.py`` picks the rates) and writes ``optviz/data/tab_defaults.json``;
this module reads that file. Per tab: a :class:`~optviz.scene.lessons.Lesson` (its scene, a title
and a note written from the measured numbers), the tab's settings that show the answer, and the
numbers themselves.

:func:`lessons_for` lists the lessons that belong to a tab, its default first: the dashboard puts
them at the top of the tab, and the one clicked is the scene in view.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from optviz.scene import lessons
from optviz.scene.lessons import Lesson

#: The file the script writes.
FILE = Path(__file__).resolve().parents[1] / "data" / "tab_defaults.json"
FORMAT = 1
#: The Basins tab's default starts per axis (the script measures its pick there).
BASINS_GRID = 60
#: The Noise & delay tab's default delays (0, then powers of 2 up to its default largest τ).
DELAYS = (0, 1, 2, 4, 8)
#: Lessons of other views that belong to a tab too (after its own default and its view's lessons).
ALSO: dict[str, tuple[str, ...]] = {"basins": ("himmelblau-basins",)}


@dataclass(frozen=True)
class TabDefault:
    """A tab's default: the lesson in view when the tab opens, the tab's widget settings that
    show its answer (session keys -> values), and the numbers the script measured."""

    tab: str
    lesson: Lesson
    settings: dict[str, Any] = field(default_factory=dict)
    measured: dict[str, Any] = field(default_factory=dict)


@cache
def load(path: Path = FILE) -> dict[str, TabDefault]:
    """Every tab's default from ``path`` (empty when the file is missing)."""
    from optviz.scene.model import Scene

    if not path.exists():
        return {}
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("format") != FORMAT:
        raise ValueError(f"{path}: format {doc.get('format')!r}, expected {FORMAT}; rerun "
                         "scripts/make_tab_defaults.py")
    out = {}
    for tab, d in doc["tabs"].items():
        scene = Scene.from_json(json.dumps(d["scene"]))
        lesson = Lesson(name=f"{tab.replace('_', '-')}-default", title=d["title"], note=d["note"],
                        scene=scene, view=tab)
        out[tab] = TabDefault(tab, lesson, dict(d.get("settings", {})), dict(d.get("measured", {})))
    return out


def default_for(tab: str) -> TabDefault | None:
    """The default of ``tab`` (``"basins"``, ``"noise_delay"``), or None when it has none."""
    return load().get(tab)


def lessons_for(tab: str) -> list[Lesson]:
    """The lessons that belong to ``tab``, its default first, then its view's own lessons, then
    the others named in :data:`ALSO`."""
    out = []
    d = default_for(tab)
    if d is not None:
        out.append(d.lesson)
    out += [v for v in lessons.ALL_LESSONS.values() if v.view == tab]
    out += [lessons.get(n) for n in ALSO.get(tab, ())]
    return out

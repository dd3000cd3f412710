"""Writing the scene that ran (``--save-scene``): its JSON, through a temporary file."""

from __future__ import annotations

import os
from pathlib import Path

from optviz.draw import files
from optviz.scene.model import Scene


def save_scene(scene: Scene, path: str | os.PathLike) -> Path:
    """Write ``scene`` to ``path`` (never half-written; a FIFO or a device is written in place).
    Returns the path; an ``OSError`` is the caller's to report."""
    return files.write_text(path, scene.to_json())

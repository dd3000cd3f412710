"""Race a scene on the engine, with the command's progress bar: the one place the commands
call :func:`optviz.run` (``run`` and ``render``)."""

from __future__ import annotations

from typing import Any

from optviz.cli.errors import CliError, as_options, message
from optviz.cli.output import ProgressBar
from optviz.engine.backends import BackendError
from optviz.engine.result import Result
from optviz.engine.run import run as run_engine
from optviz.scene.model import Scene


def race(scene: Scene, options: dict[str, Any], progress: ProgressBar | None = None) -> Result:
    """The scene's race (``options``: the engine settings that do not change it); the engine's
    refusals (too long a run, too much memory, no GPU) become :class:`CliError`."""
    try:
        return run_engine(**scene.run_kwargs(), **options,
                          progress=progress if progress is not None and progress.enabled else None)
    except (ValueError, KeyError, TypeError, MemoryError, BackendError) as exc:
        raise CliError(as_options(message(exc))) from None
    finally:
        if progress is not None:
            progress.close()

"""The command line: ``optviz render|run|basins|sweep|compare|list|dashboard`` (or ``python -m optviz ...``).

Every scene command turns its options into one :class:`~optviz.scene.Scene`
(:func:`optviz.cli.scene_args.scene_from_args`, a pure function) and races that: the page, a
link, a scene file and the command line describe a race the same way. Every bad input ends in
one line, ``optviz: error: ...``, naming what is valid, with exit status 2 and no file left
behind. Ctrl-C, SIGTERM (``timeout``, ``docker stop``) and SIGHUP stop any command the same
way: the run is cancelled, temporary files and ffmpeg are cleaned up, and ``optviz:
interrupted`` is the one line printed, with exit status 130.

Modules: ``main`` (the entry point and exit statuses), ``parser`` (options, defaults, help),
``scene_args`` (options → Scene), ``race`` (a scene on the engine), ``output`` (tables,
progress bar), ``errors`` (one-line errors, interrupts), ``scene_file`` (``--save-scene``), and
one module per command: ``run``, ``render``, ``basins``, ``sweep``, ``compare``, ``listing``
(``list``), ``dashboard``; ``exploring`` holds what the three explore commands share.
"""

from __future__ import annotations

from optviz.cli.main import main
from optviz.cli.parser import build_parser

__all__ = ["build_parser", "main"]

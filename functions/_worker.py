"""Worker processes for typed formulas (imported by :mod:`functions.expression` on its first
build, never by ``import functions``).

Each build runs in a process of its own, forked by multiprocessing's *fork server*: one
server process imports NumPy, SymPy and :mod:`functions.expression` once (about 1 s, paid by
the first build only); every build is then a fork of it (a few ms). Nothing of the caller
(a Streamlit server's threads, its memory) is copied, and a build killed at its deadline
leaves nothing behind.

Unlike a plain ``multiprocessing`` child, a worker does not re-import the caller's main
script (``optviz``'s or Streamlit's command, or a user's script without an
``if __name__ == "__main__":`` guard): the worker needs nothing from it, and re-running it
in each build would cost time (or run a script's top level again).
"""

from __future__ import annotations

import io
import os
from multiprocessing import context, forkserver, popen_forkserver, reduction, spawn, util
from typing import Any

#: Modules the fork server imports once, before it forks any worker.
PRELOAD = ["functions.expression", "functions._symbolic", "functions._warmup"]


class _Popen(popen_forkserver.Popen):
    """The fork server's ``Popen`` without the main-module entries of the preparation data."""

    def _launch(self, process_obj: Any) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            context.set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        parent_w = os.dup(w)  # the child's sentinel of its parent, as in popen_forkserver
        self.finalizer = util.Finalize(self, util.close_fds, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class WorkerProcess(context.ForkServerProcess):
    """A fork-server process started by :class:`_Popen`."""

    @staticmethod
    def _Popen(process_obj: Any) -> _Popen:
        return _Popen(process_obj)


_CTX = context._default_context.get_context("forkserver")  # ValueError where there is none
_CTX.set_forkserver_preload(PRELOAD)


def start(target: Any, args: tuple) -> tuple[WorkerProcess, Any]:
    """Start ``target(writer, *args)`` in a worker; return the process and the reading end of
    its pipe (the writing end is closed here)."""
    reader, writer = _CTX.Pipe(duplex=False)
    try:
        proc = WorkerProcess(target=target, args=(writer, *args), daemon=True)
        proc.start()
    except BaseException:
        reader.close()
        raise
    finally:
        writer.close()
    return proc, reader

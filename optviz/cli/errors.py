"""Bad input, interrupts and messages: what every command ends in when it cannot finish.

- :class:`CliError`: bad input; :func:`optviz.cli.main.main` prints it as the one line
  ``optviz: error: ...`` and exits with status 2.
- :func:`terminate_as_interrupt`: while a command runs, SIGTERM and SIGHUP stop it as Ctrl-C
  does (``optviz: interrupted``, exit status 130), so every cleanup runs.
- :func:`message`: an exception as one short line (whitespace folded, a pasted megabyte cut).
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from optviz.engine.job import STOP_SIGNALS
from optviz.scene.text import quote

PROG = "optviz"


class CliError(Exception):
    """Bad input: reported as one line, exit status 2."""


#: A run of this many characters without a space in a message is cut short (a pasted megabyte).
_LONG_TOKEN = re.compile(r"\S{200,}")


def message(exc: BaseException) -> str:
    """An exception as one line: whitespace folded, and any overlong token cut (see ``quote``)."""
    msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    line = " ".join(str(msg).split()) or type(exc).__name__
    return _LONG_TOKEN.sub(lambda m: f"{m.group()[:40]}… ({len(m.group()):,} characters)", line)


#: The engine's and the explore functions' advice names keyword arguments; on the command line
#: they are options.
_OPTION_WORDS = (("(max_seconds)", "(--max-seconds)"), ("(scheduler='tcp://host:8786')",
                 "(--scheduler tcp://host:8786)"), ("(record_every=", "(--record-every "),
                 (", or raise max_record_bytes", ""), ("raise max_seconds", "raise --max-seconds"))


def as_options(text: str) -> str:
    """An API message with its keyword arguments spelled as the command line's options."""
    for api, option in _OPTION_WORDS:
        text = text.replace(api, option)
    return text


def show_path(path: str | os.PathLike) -> str:
    """A file name for a message: whole (paths are short), unless it is absurdly long."""
    text = os.fspath(path)
    return repr(text) if len(text) <= 300 else quote(text)


def write_failed(path: str | os.PathLike, exc: BaseException) -> int:
    """Report a file that could not be written (exit status 1)."""
    print(f"{PROG}: error: could not write {os.fspath(path)!r}: {message(exc)}", file=sys.stderr)
    return 1


def interrupted() -> bool:
    """Whether a stop signal arrived: C++ extension code (matplotlib's Agg, via pybind11) can
    turn the interrupt raised inside it into its own ``ValueError``; such an error is then the
    interrupt, not a failure to report."""
    return bool(STOP_SIGNALS)


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise ``KeyboardInterrupt`` like Ctrl-C does.

    ``timeout``, ``docker stop`` and a closed terminal send these; Python's default would end
    the process on the spot, leaving a temporary file and a running ffmpeg behind. As an
    interrupt, every ``finally``/cleanup runs. Ctrl-C (SIGINT) raises the same way; every signal
    is also recorded (:func:`interrupted`), so an interrupt that a library turned into another
    error is still reported as one. A signal that was ignored when optviz started
    (``nohup``) stays ignored; a second signal during the cleanup is ignored. Only the main
    thread can set handlers: elsewhere (or where a signal is missing) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}
    STOP_SIGNALS.clear()

    def interrupt(signum, frame):
        for sig in previous:  # once: let the cleanup finish (Ctrl-C stays Ctrl-C)
            if sig != signal.SIGINT:
                signal.signal(sig, signal.SIG_IGN)
        STOP_SIGNALS.append(signal.Signals(signum).name)
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        sig = getattr(signal, name, None)
        if sig is None or signal.getsignal(sig) in (signal.SIG_IGN, None):
            continue
        previous[sig] = signal.signal(sig, interrupt)
    unraisable = sys.unraisablehook

    def quiet(u: Any) -> None:
        # an interrupt dropped inside a C callback (numba's compiler): recorded, raised again
        # by the engine; the one line "interrupted" says it, not a traceback
        if not (isinstance(u.exc_value, KeyboardInterrupt) and STOP_SIGNALS):
            unraisable(u)

    sys.unraisablehook = quiet
    try:
        yield
    finally:
        sys.unraisablehook = unraisable
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        STOP_SIGNALS.clear()

"""The entry point: parse, run the command's module, and end every way a command can end with
its exit status (0 done, 1 a file or the output could not be written, 2 bad input in one line, 130 stopped by
Ctrl-C, SIGTERM or SIGHUP)."""

from __future__ import annotations

import errno
import importlib
import os
import sys
from collections.abc import Sequence
from contextlib import suppress

from optviz.cli.errors import PROG, CliError, interrupted, message, terminate_as_interrupt
from optviz.cli.output import ProgressBar
from optviz.cli.parser import build_parser, fix_negative

#: The module of each command (``optviz.cli.<name>``, with its ``main(args) -> int``), imported
#: once the command is known: a command loads only what it needs, and it loads it with the stop
#: signals already handled (a signal landing in a first compile of the engine is an interrupt).
MODULES = {"render": "render", "run": "run", "basins": "basins", "sweep": "sweep", "compare": "compare",
           "list": "listing", "dashboard": "dashboard", "conformance": "conformance"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 write failure, 2 bad input,
    130 interrupted by Ctrl-C, SIGTERM or SIGHUP)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    with terminate_as_interrupt():
        code = _main(argv)
    if code == 130:
        _forget_the_interrupt()
    return code


def _forget_the_interrupt() -> None:
    """Let the exit status be 130 after a handled interrupt.

    CPython records a KeyboardInterrupt that leaves code run from source text (``exec`` of a
    string: numba's compiler and the engine's kernel generator do that) as "unhandled", and
    ``python -m`` then ends the process by SIGINT (status -2) after ``main`` returned 130. Any
    ``exec`` of source text clears that record; this one does only that.
    """
    exec("pass", {})


def _main(argv: list[str]) -> int:
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(fix_negative(argv))
        except SystemExit as exc:  # --help
            return int(exc.code or 0)
        if args.command is None:
            raise CliError("choose a command: render, run, basins, sweep, compare, list or dashboard "
                           "(see 'optviz --help')")
        command = importlib.import_module(f"optviz.cli.{MODULES[args.command]}")
        code = command.main(args)
        sys.stdout.flush()  # here, so that a full disk is reported (not at exit, as a traceback)
        return code
    except CliError as exc:
        print(f"{PROG}: error: {message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return _interrupted()
    except BrokenPipeError:  # e.g. "| head": stop quietly
        _drop_stdout()
        return 0
    except OSError as exc:
        if exc.errno not in _OUTPUT_FULL:
            if interrupted():
                return _interrupted()
            raise
        _drop_stdout()  # (what is still buffered would fail again at exit)
        with suppress(OSError, ValueError):
            print(f"{PROG}: error: could not write the output: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except Exception:
        # a stop signal that a library turned into its own error (numba's compiler, stopped in
        # the middle: "no compiled object yet ..."): the interrupt it is, not a traceback
        if interrupted():
            return _interrupted()
        raise


def _interrupted() -> int:
    with suppress(OSError, ValueError):  # after the terminal's "^C", on a line of its own
        fresh = ProgressBar.line_closed or not sys.stderr.isatty()
        print(f"{'' if fresh else chr(10)}{PROG}: interrupted", file=sys.stderr)
    return 130


#: Errors of writing the output (``> /dev/full``, a full disk or quota, a file too large).
_OUTPUT_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)


def _drop_stdout() -> None:
    """Point standard output at the null device (nothing more is written, not even at exit)."""
    with suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())

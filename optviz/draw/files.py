"""Safe file writing: a file appears under its name only when complete.

Everything optviz writes (animations, stills, scene files) goes through :func:`atomic_path`:
into a hidden temporary file beside the target, then ``os.replace``-d onto it; on any error
(or an interrupt) the temporary file is removed. Only regular files are written: a target that
exists and is not one (a FIFO, a device such as ``/dev/null`` or ``/dev/stdout``, a socket) is
refused with a ``ValueError`` (:func:`refuse_special`), never written into nor replaced.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


def output_format(path: str | os.PathLike, allowed: tuple[str, ...]) -> str:
    """The format of ``path`` from its extension (``".gif"``, ...); ``ValueError`` names the valid ones."""
    ext = Path(path).suffix.lower()
    if ext not in allowed:
        shown = f"{ext!r}" if ext else "no extension"
        raise ValueError(
            f"cannot tell the format of {os.fspath(path)!r} ({shown}); valid extensions: "
            + ", ".join(allowed)
        )
    return ext


def check_output(path: str | os.PathLike, allowed: tuple[str, ...]) -> Path:
    """Check, before any work, that ``path`` has a known extension and can be written.

    The directory must exist and accept a new file (tested by creating and removing a
    temporary file there, which also catches read-only file systems). Returns the path;
    raises ``ValueError`` saying what is wrong.
    """
    p = Path(path)
    output_format(p, allowed)
    parent = p.parent
    if not parent.exists():
        raise ValueError(f"cannot write {os.fspath(p)!r}: directory {os.fspath(parent)!r} does not exist")
    if not parent.is_dir():
        raise ValueError(f"cannot write {os.fspath(p)!r}: {os.fspath(parent)!r} is not a directory")
    if p.is_dir():
        raise ValueError(f"cannot write {os.fspath(p)!r}: it is a directory; give a file name")
    refuse_special(p)
    try:
        probe = reserve_temp(p)
    except OSError as exc:
        raise ValueError(
            f"cannot write {os.fspath(p)!r}: directory {os.fspath(parent)!r} is not writable "
            f"({exc.strerror or exc})"
        ) from None
    with suppress(OSError):
        os.unlink(probe)
    return p


def special(path: str | os.PathLike) -> bool:
    """Whether ``path`` exists and is not a regular file (a FIFO, a device, a socket)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
          (stat.S_ISSOCK, "a socket"))


def refuse_special(path: str | os.PathLike) -> None:
    """``ValueError`` when ``path`` exists and is not a regular file: optviz writes only regular
    files, so that a mistyped ``--out /dev/sda`` or ``--save-scene /dev/null`` changes nothing."""
    if not special(path):
        return
    mode = os.stat(path).st_mode
    kind = next((k for test, k in _KINDS if test(mode)), "not a regular file")
    raise ValueError(f"cannot write {os.fspath(path)!r}: it is {kind}, not a regular file; optviz writes "
                     "only regular files")


def reserve_temp(path: Path) -> Path:
    """Create an empty, uniquely named hidden file next to ``path``, with the same extension
    (made as any new file is: mode 0666 less the umask)."""
    for _ in range(100):
        tmp = path.parent / f".{path.stem}.{secrets.token_hex(4)}.part{path.suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"could not create a temporary file next to {os.fspath(path)!r}")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it onto ``path``, else delete it.
    A FIFO, a device or a socket is refused (:func:`refuse_special`), before and again just
    before the move."""
    final = Path(path)
    refuse_special(final)
    tmp = reserve_temp(final)
    try:
        yield tmp
        refuse_special(final)
        os.replace(tmp, final)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through :func:`atomic_path`; returns the path."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    return Path(path)


__all__ = ["atomic_path", "check_output", "output_format", "refuse_special", "reserve_temp", "special",
           "write_text"]

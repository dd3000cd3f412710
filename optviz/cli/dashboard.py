"""``optviz dashboard``: the dashboard shipped with optviz, ``streamlit run`` on its script
with settings for a lecture, stopped cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import errno
import importlib.metadata
import importlib.util
import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from optviz.cli.errors import CliError
from optviz.dashboard import memory
from optviz.scene.text import quote

#: Streamlit settings for a lecture: no usage statistics, no deploy button or developer menu,
#: and no file watcher (the script is an installed file; watching site-packages costs CPU).
DASHBOARD_SETTINGS = (
    ("browser.gatherUsageStats", "false"),
    ("client.toolbarMode", "minimal"),
    ("server.fileWatcherType", "none"),
    ("server.runOnSave", "false"),
)


def dashboard_command(port: int | None = None, host: str | None = None, headless: bool = False,
                      extra: Sequence[str] = ()) -> list[str]:
    """The command line of :func:`cmd_dashboard`: ``streamlit run`` (this interpreter's Streamlit)
    by way of :mod:`optviz.dashboard.serve`, which warms the page up while the server starts."""
    from optviz.dashboard import SCRIPT

    cmd = [sys.executable, "-m", "optviz.dashboard.serve", os.fspath(SCRIPT)]
    for key, value in DASHBOARD_SETTINGS:
        cmd += [f"--{key}", value]
    if port is not None:
        cmd += ["--server.port", str(port)]
    if host is not None:
        cmd += ["--server.address", host]
    if headless:
        cmd += ["--server.headless", "true"]
    return cmd + list(extra)


def dashboard_env() -> dict[str, str]:
    """The environment for Streamlit: this one, plus, when optviz runs from a checkout rather
    than an installed package, the checkout on ``PYTHONPATH`` (Streamlit puts only the script's
    own folder on ``sys.path``, so the page could not import optviz from another folder)."""
    env = dict(os.environ)
    try:
        importlib.metadata.distribution("optviz")
    except importlib.metadata.PackageNotFoundError:
        root = os.fspath(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _check_port(host: str | None, port: int) -> None:
    """Refuse a port something else listens on (Streamlit would fail on it with a traceback-like
    block; without ``--port`` it takes the next free one itself)."""
    with socket.socket(socket.AF_INET6 if host and ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Tornado binds
        try:
            s.bind((host or "", port))
        except socket.gaierror:
            raise CliError(f"--host {quote(host)}: not an address of this machine") from None
        except OSError as exc:
            why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror or exc})"
            raise CliError(f"port {port} {why}; choose another with --port, or leave --port out to take "
                           "the next free one") from None


def main(args: argparse.Namespace) -> int:
    """Run ``streamlit run <optviz.dashboard.SCRIPT>`` until it ends or optviz is interrupted."""
    if importlib.util.find_spec("streamlit") is None:
        raise CliError("the dashboard needs Streamlit: pip install streamlit")
    extra = list(args.streamlit_args)
    stray = [a for a in extra[:1] if not a.startswith("--")]
    if stray:
        raise CliError(f"unexpected argument {quote(stray[0])}; options for Streamlit go after \"--\", "
                       "e.g. optviz dashboard -- --theme.base dark")
    if args.host is not None and (not args.host.strip() or any(c.isspace() for c in args.host)):
        raise CliError(f"--host expects an address such as 127.0.0.1 or 0.0.0.0, got {quote(args.host)}")
    if args.port is not None:
        _check_port(args.host, args.port)
    env = dashboard_env()
    budget = getattr(args, "memory_budget", None)
    if budget is not None or env.get(memory.ENV, "").strip():
        try:  # (the one parser: optviz.dashboard.memory; checked here, before the server starts)
            env[memory.ENV] = str(memory.parse_budget(budget if budget is not None else env[memory.ENV]))
        except ValueError as exc:
            source = "--memory-budget" if budget is not None else memory.ENV
            raise CliError(f"{source}: {str(exc).removeprefix('memory budget: ')}") from None
    cmd = dashboard_command(args.port, args.host, args.headless, extra)
    proc = subprocess.Popen(cmd, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:  # Ctrl-C (Streamlit got it too) or SIGTERM/SIGHUP (only we did)
        _stop(proc)
        return 0


def _stop(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """Ask a child to stop (SIGTERM), wait ``grace`` seconds, then kill it."""
    if proc.poll() is None:
        with suppress(OSError):
            proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with suppress(OSError):
            proc.kill()
        proc.wait()

"""Streamlit's server for the dashboard, warmed up before the first visit.

``python -m optviz.dashboard.serve SCRIPT [streamlit run options]`` is ``streamlit run SCRIPT ...``
(what ``optviz dashboard`` starts), plus a thread that, while the server comes up, does what
the first visit would otherwise wait for: importing the page's modules (Streamlit imports the
script's only when a first session runs it: about 1.5 s here, pandas and Plotly among them),
and computing the default scene's race into the caches every session shares
(:func:`optviz.dashboard.compute.run_scene`), with its payload built once. The thread works on
a state of its own (:func:`optviz.dashboard.state.detached`), not any session's; if anything in
it fails, the first visit just does that work itself. Some seconds later it loads the default
field's compiled kernels, once they are on disk (:func:`load_kernels`).

The server's memory budget (:mod:`optviz.dashboard.memory`, ``OPTVIZ_MEMORY_BUDGET``) is read
here once: its data-cache share becomes Streamlit's ``server.maxCacheDataSize`` (a bad budget
ends the server with one line, exit 2, before it starts).

Streamlit's message cache is off (:data:`NO_MESSAGE_CACHE`): with it, a full rerun (a click
that places a start) and a fragment rerun the page asked for meanwhile (its sliders' sweeps)
could send a reference to an element the browser had just dropped from its cache; the browser
then gave up the connection ("Cached ForwardMsg MISS"), and the page stood still as if the
script were running, without sweeps, until reloaded. Pages now get whole messages.

A link's request line may be as long as Streamlit reads a query (:data:`MAX_REQUEST_LINE`, its
512 KiB): uvicorn's HTTP parser refused one of over ~130 KB outright, so that a 220-400 KB link
got no page at all instead of the page's message about it (:func:`allow_long_links`).
"""

from __future__ import annotations

import logging
import sys
import threading
import time

_LOG = logging.getLogger("optviz.dashboard.serve")
#: How long the warm-up waits for Streamlit's runtime (the shared caches live there).
RUNTIME_WAIT = 30.0


def warm_up() -> float:
    """Import the page and compute the default scene's race; the seconds it took. (On a fresh
    install the first visit's runs start compiling their kernels in a background process, on
    spare CPU only; :func:`load_kernels` then loads the race's.)"""
    t0 = time.perf_counter()
    from streamlit import runtime

    deadline = time.monotonic() + RUNTIME_WAIT
    while not runtime.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    import pandas  # noqa: F401  (Streamlit's tables import it on the page's second run)

    import optviz.dashboard.app  # noqa: F401  (the page's modules: sidebar, state, views, ...)
    from optviz.dashboard import compute, state, views
    from optviz.dashboard.views import race

    views.discover()
    with _quiet(), state.detached():
        state.init()
        ctx = views.current()
        # (the readable path: a few tens of milliseconds here, while loading the compiled kernels
        # would hold the interpreter for a second just as the first visitor arrives)
        result = compute.keep_run(ctx.scene, ctx.backend, fused=False)
        race.race_payload(ctx, result)
    _SCENE[0] = ctx.scene
    return time.perf_counter() - t0


_SCENE: list = [None]
#: How long :func:`load_kernels` waits for a background compile running (5 kernels: ~30 s of a core).
COMPILE_WAIT = 600.0
#: ... and, first, how long after the warm-up it leaves the server to its first visitors.
LOAD_DELAY = 10.0


def load_kernels(scene=None) -> int:
    """Load the default scene's compiled kernels into this process once the background compile
    has written them (numba's import and the loads take about a second, better spent now than in
    a visitor's first slider move); how many were loaded (0 when they are not on disk)."""
    import subprocess

    from optviz.engine import fast
    from optviz.engine.fast import kernels
    from optviz.engine.run import make_job

    scene = scene or _SCENE[0]
    if scene is None:
        return 0
    time.sleep(LOAD_DELAY)  # the first visitors first (a run that needs the kernels loads them itself)
    try:
        fast.wait_for_warm_up(COMPILE_WAIT)
    except subprocess.TimeoutExpired:
        return 0
    job = make_job(**scene.run_kwargs())[0]
    if fast.unsupported(job, "numpy") or not all(kernels.ready(k) for k in fast.specs(job)):
        return 0  # (never compile here: a thread of the server would hold the GIL for seconds)
    for k in fast.specs(job):
        kernels.compile_kernel(k)
    return len(job.plan)


class _OnlyOtherThreads(logging.Filter):
    """Drops Streamlit's "no script run context" warnings of the warm-up thread (it has none, on
    purpose); every other thread's records pass."""

    def __init__(self, thread: threading.Thread):
        super().__init__()
        self.thread = thread

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread != self.thread.ident


class _quiet:
    def __enter__(self) -> None:
        self.filter = _OnlyOtherThreads(threading.current_thread())
        names = [n for n in logging.root.manager.loggerDict if n.startswith("streamlit")]
        self.loggers = [logging.getLogger(n) for n in names]
        for lg in self.loggers:
            lg.addFilter(self.filter)

    def __exit__(self, *exc: object) -> None:
        for lg in self.loggers:
            lg.removeFilter(self.filter)


def _warm_in_background() -> None:
    try:
        took = warm_up()
        _LOG.debug("dashboard warmed up in %.2f s", took)
        loaded = load_kernels()
        _LOG.debug("%d kernels loaded", loaded)
    except Exception as exc:  # the first visit does the work instead
        _LOG.debug("dashboard warm-up failed: %r", exc)


#: The longest request line (and headers) the server reads: Streamlit's own cap on a query
#: string (512 KiB) and room for the rest; a longer link opens the page's own scene.
MAX_REQUEST_LINE = 640 * 1024


def allow_long_links() -> bool:
    """Let Streamlit's uvicorn read request lines up to :data:`MAX_REQUEST_LINE` (h11's limit),
    so that an over-long link reaches the page, which says what is wrong with it. Whether it
    could (False when this Streamlit starts its server another way: links then keep uvicorn's
    limit)."""
    try:
        from streamlit.web.server.starlette import starlette_server as server
    except ImportError:
        return False
    make = getattr(server, "_get_uvicorn_config_kwargs", None)
    if make is None or getattr(make, "_optviz", False):
        return make is not None

    def kwargs() -> dict:
        return {**make(), "h11_max_incomplete_event_size": MAX_REQUEST_LINE}

    kwargs._optviz = True  # type: ignore[attr-defined]
    server._get_uvicorn_config_kwargs = kwargs
    return True


#: Streamlit flags that turn its message cache off: no element is large enough to be cached, so no
#: message refers to one (the server computes and sends every element of a rerun anyway; the
#: cache only saved resending unchanged ones, at the price of the race above).
NO_MESSAGE_CACHE = ("--global.minCachedMessageSize", "1e18")


def main(argv: list[str] | None = None) -> int:
    """``streamlit run`` with ``argv`` (the script first), the warm-up running beside it."""
    args = list(sys.argv[1:] if argv is None else argv)
    from optviz.dashboard import memory

    try:
        total = memory.budget()
    except ValueError as exc:
        print(f"optviz: {memory.ENV}: {exc}", file=sys.stderr)
        return 2
    if not any(a.startswith("--server.maxCacheDataSize") for a in args):
        args += ["--server.maxCacheDataSize", memory.streamlit_size(memory.cache_bytes(total))]
    if not any(a.startswith("--global.minCachedMessageSize") for a in args):
        args += list(NO_MESSAGE_CACHE)
    allow_long_links()
    threading.Thread(target=_warm_in_background, name="optviz-warm-up", daemon=True).start()
    from streamlit.web import cli

    return cli.main(args=["run", *args], prog_name="streamlit", standalone_mode=True)


if __name__ == "__main__":  # pragma: no cover - run as a program
    sys.exit(main())

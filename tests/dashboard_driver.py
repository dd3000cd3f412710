"""Drive the dashboard in a real browser: the server, Chromium, and what to wait for.

Used by the browser tests (``tests/test_browser.py``), the benchmark
(``benchmarks/bench_browser.py``) and the README's pictures (``scripts/make_screenshots.py``),
so that all three start, wait and measure the same way. Needs Playwright (a dev dependency,
hence this module lives with the tests, not in the package) and Debian's Chromium
(``apt-get install chromium``).

>>> with serve() as url, browser() as b:          # doctest: +SKIP
...     page = open_page(b, url)
...     wait_idle(page)
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

#: The race component and its two charts.
RACE = '[data-testid="optviz-race"]'
RACE_CHART = '[data-testid="optviz-race-chart"]'
ERROR_CHART = '[data-testid="optviz-error-chart"]'
#: JavaScript: the race's app object (``assets/race.js``).
APP_JS = "window.__optvizRace"
#: True once the race has drawn its first chart.
DRAWN = "() => !!(window.__optvizTimes && window.__optvizTimes.rendered)"
#: True when the page is at rest: no script running, the race drawn with its sweeps (every
#: live slider answers in the page), the sidebar's controls there.
IDLE = ("() => { const a = window.__optvizRace; const app = document.querySelector('[data-testid=stApp]');"
        " return !!(a && a.data && a.data.sweeps && a.synced !== false && app"
        " && app.getAttribute('data-test-script-state') === 'notRunning'"
        " && document.querySelector('[data-testid=stSidebar] [data-testid=stWidgetLabel]')); }")
#: True once the race has played once, from step 0, after the page opened (``assets/race.js``).
PLAYED = ("() => { const r = document.querySelector('[data-testid=optviz-race]');"
          " return !!(r && r.dataset.played === '1'); }")
#: Every element of the main area that reaches beyond the window's right edge (outside an SVG,
#: whose drawing Plotly clips), and every table that scrolls sideways (its right side cut):
#: ``{"width", "over": [[tag, testid, right], ...], "cut": [[testid, scroll width, width], ...]}``.
OVERFLOW = """() => { const W = document.documentElement.clientWidth; const over = [], cut = [];
    const main = document.querySelector('[data-testid=stMain]');
    for (const e of main.querySelectorAll('*')) {
        // inside a code block's own scroller (the block itself is measured: it must fit)
        if (e.closest('svg, [data-stale=true], [data-testid=stDataFrame]') || e.parentElement.closest('pre'))
            continue;
        const r = e.getBoundingClientRect();
        if (r.width > 0 && r.right > W + 1)
            over.push([e.tagName, e.getAttribute('data-testid'), Math.round(r.right)]);
    }
    for (const t of main.querySelectorAll('[data-testid=stDataFrame]')) {
        if (t.closest('[data-stale=true]')) continue;
        const sc = t.querySelector('.dvn-scroller');
        const box = t.getBoundingClientRect();
        if (box.right > W + 1 || (sc && sc.scrollWidth > sc.clientWidth + 1))
            cut.push([t.getAttribute('data-testid'), sc ? sc.scrollWidth : 0, Math.round(box.width)]);
    }
    return {width: W, over: over.slice(0, 8), cut}; }"""

#: Axis titles drawn over tick labels, in every Plotly chart of the page: [title, tick] texts.
TITLE_OVER_TICKS = """() => { const out = [];
    // overlapping by more than 2 px (a subscript's box may touch the ticks' without ink meeting)
    const meets = (a, b) => a.left + 2 < b.right && b.left + 2 < a.right && a.top + 2 < b.bottom
        && b.top + 2 < a.bottom;
    for (const svg of document.querySelectorAll('[data-testid=stMain] .plot-container')) {
        const ticks = [...svg.querySelectorAll('[class$=tick] > text')].map(t => t.getBoundingClientRect())
            .filter(r => r.width > 0);
        for (const t of svg.querySelectorAll('.infolayer [class^=g-x] text, .infolayer [class^=g-y] text')) {
            const r = t.getBoundingClientRect();
            if (r.width > 0 && ticks.some(k => meets(r, k))) out.push(t.textContent);
        } }
    return out; }"""

#: Resolves after the browser has painted twice (whatever was changed is on screen).
PAINTED = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


def chromium_available() -> bool:
    return Path(CHROMIUM).exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(app: Path = APP, port: int | None = None, log: Path | None = None,
          timeout: float = 90.0) -> Iterator[str]:
    """``streamlit run app`` on 127.0.0.1 and a free port, as ``optviz dashboard`` starts it (by way
    of :mod:`optviz.dashboard.serve`, which warms the page up); yields the URL once
    ``/_stcore/health`` answers, and stops the server (its own process group, by id) after."""
    port = port or free_port()
    log = log or Path(tempfile.mkdtemp(prefix="optviz-serve-")) / "server.log"
    cmd = [sys.executable, "-m", "optviz.dashboard.serve", str(app), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal"]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


@contextlib.contextmanager
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright (headless)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def open_page(b: Any, url: str, width: int = 1600, height: int = 1000, timeout_ms: int = 180_000,
              outside: list[str] | None = None, watch: list[str] | None = None) -> Any:
    """A new page at ``url``, returned once the race has drawn. With ``outside`` (a list), every
    request to anywhere but the page's server (127.0.0.1) is refused and its URL appended to it;
    with ``watch`` (a list), what would cost the page its connection is appended to it
    (:func:`watch_connection`)."""
    page = b.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(timeout_ms)
    if outside is not None:
        local_only(page, outside)
    if watch is not None:
        watch_connection(page, watch)
    page.goto(url)
    page.wait_for_function(DRAWN, polling=20)
    return page


def local_only(page: Any, outside: list[str]) -> None:
    """Refuse every request of ``page`` to anywhere but 127.0.0.1 (as in a lecture hall without
    the internet), appending its URL to ``outside``."""
    def handle(route: Any) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", handle)


def watch_connection(page: Any, problems: list[str]) -> None:
    """Append to ``problems`` what would cost ``page`` its connection to the server: a message
    that refers to one the browser should have cached (a ``ref_hash``: Streamlit's message cache
    is off, :data:`optviz.dashboard.serve.NO_MESSAGE_CACHE`, because such a reference could miss),
    and every error the page logs about its websocket."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    def received(payload: bytes | str) -> None:
        if isinstance(payload, bytes):
            msg = ForwardMsg()
            msg.ParseFromString(payload)
            if msg.WhichOneof("type") == "ref_hash":
                problems.append(f"a reference to a cached message: {msg.ref_hash}")

    page.on("websocket", lambda ws: ws.on("framereceived", received))
    page.on("console", lambda m: problems.append(m.text[:300])
            if m.type == "error" and ("Websocket" in m.text or "ForwardMsg" in m.text) else None)


#: What :data:`IDLE` waits for, part by part (said when the wait times out).
IDLE_PARTS = ("() => { const a = window.__optvizRace;"
              " const app = document.querySelector('[data-testid=stApp]');"
              " return {race: !!(a && a.data), sweeps: !!(a && a.data && a.data.sweeps),"
              " synced: a ? a.synced : null, playing: a ? !!a.playing : null,"
              " script: app && app.getAttribute('data-test-script-state'),"
              " sidebar: !!document.querySelector('[data-testid=stSidebar] [data-testid=stWidgetLabel]')}; }")


#: :data:`IDLE`, ending a play at once (its clock moved to the end: the page then stands as a play
#: leaves it, at its last frame, after the 5-9 s a play takes).
IDLE_AFTER_PLAY = ("() => { const a = window.__optvizRace;"
                   " if (a && a.playing) a.t0 = performance.now() - a.duration; return (" + IDLE + ")(); }")


def wait_idle(page: Any, timeout_ms: int = 180_000, play: bool = True) -> None:
    """Wait until no script runs, the sweeps are in, and the screen is painted (a timeout says
    which of these was still missing). ``play=False`` ends a play at once instead of waiting for
    it (a test of something else)."""
    try:
        page.wait_for_function(IDLE if play else IDLE_AFTER_PLAY, timeout=timeout_ms, polling=50)
    except Exception as exc:
        try:
            parts = page.evaluate(IDLE_PARTS)
        except Exception:  # (the page itself gone)
            parts = "unknown"
        raise AssertionError(f"the page did not come to rest within {timeout_ms / 1000:g} s: "
                             f"{parts}") from exc
    page.evaluate(PAINTED)


def app_eval(page: Any, expression: str, arg: Any = None) -> Any:
    """Evaluate ``(a, arg) => expression`` with ``a`` the race's app object."""
    return page.evaluate(f"(arg) => {{ const a = {APP_JS}; return ({expression}); }}", arg)


def slider(page: Any, optimizer: str, hp: str) -> Any:
    """The race's slider of ``optimizer``'s ``hp`` (its settings panel opened if it is folded)."""
    card = page.locator(f'{RACE} .ov-card[data-name="{optimizer}"]')
    loc = card.locator(f'input[type="range"][id="ov-{optimizer}-{hp}"]')
    if not loc.is_visible():
        card.locator("details.ov-more > summary").click()
    loc.wait_for(state="visible")
    return loc

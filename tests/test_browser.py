"""The dashboard in a real browser: Streamlit server + Playwright driving Debian's Chromium.

Starts ``streamlit run app.py`` on a free port, waits for the live chart, plays the animation,
saves ``docs/screenshot.png`` (the default race on Rosenbrock), then moves a hyperparameter slider
with the keyboard and measures the slider → redraw latency (printed; run with ``-s`` or look at
the test's output). Skipped when Chromium or Playwright is missing.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "docs" / "screenshot.png"  # the tuned race (README)
SCREENSHOT_DEFAULTS = ROOT / "docs" / "screenshot-defaults.png"  # the article's defaults
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LIVE = '[data-testid="stElementContainer"][data-stale="false"] .js-plotly-plot'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'

# JavaScript run in the page; $GD is the trajectory chart (the first live Plotly chart). Its
# _fullData holds the decoded arrays (data keeps the base64 form the server sent).
GD = "document.querySelector('" + LIVE + "')"
JS_TRACE = """([name, mode]) => {
    const g = $GD;
    if (!g || !g._fullData) return null;
    const t = g._fullData.find(d => d.name === name && d.mode === mode);
    return t ? [Array.from(t.x), Array.from(t.y)] : null;
}""".replace("$GD", GD)
JS_NAMES = """() => {
    const g = $GD;
    return g && g._fullData ? g._fullData.filter(d => d.mode === 'markers').map(d => d.name) : null;
}""".replace("$GD", GD)
JS_MARKERS = """() => {
    const g = $GD;
    return JSON.stringify(g._fullData.filter(d => d.mode === 'markers' && d.legendgroup)
                                .map(d => [Array.from(d.x), Array.from(d.y)]));
}""".replace("$GD", GD)
JS_SIG = """(name) => {
    const g = $GD;
    if (!g || !g._fullData) return null;
    const t = g._fullData.find(d => d.name === name && d.mode === 'lines');
    return t ? JSON.stringify([Array.from(t.x), Array.from(t.y)]) : null;
}""".replace("$GD", GD)
JS_PAINTED = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats",
             "false", "--server.fileWatcherType", "none", "--client.toolbarMode", "viewer"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(0.25)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the server's own process group, by its id
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


@pytest.fixture(scope="module")
def page(server):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 1600, "height": 1000})
        pg.set_default_timeout(60_000)
        t0 = time.perf_counter()
        pg.goto(server)
        pg.wait_for_selector(LIVE)
        pg.wait_for_selector(IDLE)
        pg.wait_for_function(f"() => document.querySelectorAll('{LIVE}').length >= 2")
        pg.first_render_s = time.perf_counter() - t0
        yield pg
        browser.close()


def _wait_idle(pg) -> None:
    pg.wait_for_selector(IDLE)
    pg.wait_for_selector(LIVE)
    pg.evaluate(JS_PAINTED)


def test_first_render_shows_every_optimizer(page, capsys):
    from optviz.optimizers import NAMES

    names = page.evaluate(JS_NAMES)
    assert [n for n in names if n in NAMES] == list(NAMES)
    adam = page.evaluate(JS_TRACE, ["Adam", "lines"])
    assert adam and len(adam[0]) > 20
    # A real picture, not a placeholder: the landscape image under the axes and the paths in SVG.
    assert page.locator(f"{LIVE} .imagelayer image").count() == 1
    assert page.locator(f"{LIVE} .scatterlayer .trace").count() >= 2 * len(NAMES)
    with capsys.disabled():
        print(f"\n[browser] first chart render: {page.first_render_s:.2f} s")


def test_play_moves_the_markers_and_screenshot(page):
    before = page.evaluate(JS_MARKERS)
    page.locator(f"{LIVE} .updatemenu-button").first.click()  # ▶ Play
    page.wait_for_function(f"(before) => ({JS_MARKERS})() !== before", arg=before, timeout=15_000)
    page.wait_for_timeout(3500)  # let the race run a while
    page.locator(f"{LIVE} .updatemenu-button").filter(has_text="Pause").click()
    page.wait_for_timeout(300)
    after = page.evaluate(JS_MARKERS)
    assert after != before
    step = page.locator(f"{LIVE} .slider-group > text.slider-label").first.text_content()  # "step N"
    assert step.startswith("step ") and int(step.split()[1]) > 0
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DEFAULTS))
    assert SCREENSHOT_DEFAULTS.stat().st_size > 50_000  # a real picture (a blank page is a few kB)


def test_keyboard_slider_redraws_and_latency(page, capsys):
    expander = page.locator('[data-testid="stExpander"]').filter(has_text="Adam: Momentum over")
    expander.locator("summary").click()  # opening a panel reruns the script to build its sliders
    slider = expander.get_by_role("slider", name="alpha (learning rate)")
    slider.wait_for()
    _wait_idle(page)
    assert slider.get_attribute("aria-valuetext") == "0.001"
    latencies, server = [], []
    for expected in ("0.0015", "0.002", "0.0025"):
        adam, nag = page.evaluate(JS_SIG, "Adam"), page.evaluate(JS_SIG, "NAG")
        slider.focus()
        t0 = time.perf_counter()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"([old]) => ({JS_SIG})('Adam') !== null && ({JS_SIG})('Adam') !== old",
                               arg=[adam])
        _wait_idle(page)
        latencies.append(time.perf_counter() - t0)
        assert slider.get_attribute("aria-valuetext") == expected
        caption = page.locator('[data-testid="stCaptionContainer"]', has_text="animation frames").first
        server.append(re.search(r"run (\d+) ms, figures (\d+) ms", caption.text_content()).groups())
        assert page.evaluate(JS_SIG, "NAG") == nag  # only Adam's numbers changed
    median = statistics.median(latencies)
    with capsys.disabled():
        print(f"[browser] slider -> redraw latency: median {median:.2f} s, "
              f"all {', '.join(f'{t:.2f}' for t in latencies)} s; server side (engine run, figures) ms: "
              + ", ".join(f"({a}, {b})" for a, b in server))
    assert max(latencies) < 15, latencies  # a loose guard against hangs; the target is < 1 s


def test_tune_button_then_race_screenshot(page, capsys):
    """The "Tune learning rates" button reruns with new rates; the race it gives is the README's picture."""
    before = page.evaluate(JS_SIG, "Adam")
    t0 = time.perf_counter()
    page.get_by_role("button", name="Tune learning rates", exact=True).click()
    page.wait_for_function("(b) => (" + JS_SIG + ")('Adam') !== b", arg=before, timeout=60_000)
    _wait_idle(page)
    tune_s = time.perf_counter() - t0
    assert page.get_by_text("Tuned:").count() >= 1
    page.locator(f"{LIVE} .updatemenu-button").first.click()  # play the tuned race
    page.wait_for_timeout(4000)
    page.locator(f"{LIVE} .updatemenu-button").filter(has_text="Pause").click()
    page.wait_for_timeout(300)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 50_000
    with capsys.disabled():
        print(f"\n[browser] tune click -> redrawn race: {tune_s:.2f} s")

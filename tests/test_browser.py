"""The dashboard in a real browser: the Streamlit server + Playwright driving Debian's Chromium.

Behaviour only (timings are the benchmark's job, ``benchmarks/bench_browser.py``): the race
draws; a new page opens at step 0 and plays once on a warped clock; one arrow key or ◀ ▶ is one
step; a key press on a slider redraws that optimizer (and its value reaches Python); projector
mode is a switch at the top and fits 1280×720 with text of at least 18 px and nothing beyond the
right edge; a click adds a start, "Clear starts" and "Back to the grid" work, dragging a
start's ring moves it; the 3-D tab
shows; the page's colours are style's and stay apart; an exported picture has them; and no
request leaves the page's server (127.0.0.1). Screenshots go to a temporary folder
(``scripts/make_screenshots.py`` makes the README's on purpose). Skipped without Chromium or
Playwright.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest

from optviz.draw import style
from optviz.scene.lessons import DEFAULT_FIELD
from tests import dashboard_driver as driver
from tests import test_style

pytestmark = pytest.mark.browser

if not driver.chromium_available():
    pytest.skip(f"{driver.CHROMIUM} not found (apt-get install chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

PATH_D = """([name, which]) => {
    const a = window.__optvizRace;
    const gd = which === 'err' ? a.errDiv : a.raceDiv;
    for (const g of gd.querySelectorAll('.scatterlayer .trace')) {
        const t = g.__data__ && g.__data__[0] && g.__data__[0].trace;
        if (t && t.name === name && t.mode === 'lines' && (!t.fill || t.fill === 'none')) {
            return [...g.querySelectorAll('path.js-line')].map(p => p.getAttribute('d')).join('|');
        }
    }
    return null;
}"""


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    with driver.serve(log=tmp_path_factory.mktemp("streamlit") / "server.log") as u:
        yield u


@pytest.fixture(scope="module")
def chromium():
    with driver.browser() as b:
        yield b


@pytest.fixture
def outside():
    """The requests a page made to anywhere but its server (refused)."""
    return []


def _watched(chromium, url, outside, play: bool):
    # uncaught errors of the page's scripts, and anything that would cost it its connection: none
    errors: list[str] = []
    pg = driver.open_page(chromium, url, outside=outside, watch=errors)
    pg.on("pageerror", lambda e: errors.append(f"{e.name}: {e.message}\n{e.stack}"))
    if play:
        yield pg  # (its first play is the test's)
    else:
        driver.wait_idle(pg, play=False)
        yield pg
    pg.close()
    assert errors == [], errors


@pytest.fixture
def page(chromium, url, outside):
    """A new page at rest (its first play ended at once)."""
    yield from _watched(chromium, url, outside, play=False)


@pytest.fixture
def new_page(chromium, url, outside):
    """A new page, just drawn: its first play still to come."""
    yield from _watched(chromium, url, outside, play=True)


def test_first_page_draws_the_default_field_on_the_landscape(page, tmp_path):
    names = driver.app_eval(page, "a.data.optimizers.map(o => o.name)")
    assert names == list(DEFAULT_FIELD)
    for name in DEFAULT_FIELD:
        d = page.evaluate(PATH_D, [name, "race"])
        assert d and d.count("L") > 20, f"{name} has no drawn path"
        assert page.evaluate(PATH_D, [name, "err"]), f"{name} has no error curve"
    # a real picture, not a placeholder: the landscape under the axes, the paths in colour
    assert page.locator(f"{driver.RACE_CHART} .layer-below image, {driver.RACE_CHART} image").count() >= 1
    strokes = page.evaluate("""() => [...document.querySelectorAll(
        '[data-testid=optviz-race-chart] .scatterlayer path.js-line')].map(p => p.style.stroke)""")
    assert len(set(strokes)) >= len(DEFAULT_FIELD)
    shot = tmp_path / "race.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 50_000  # a blank page is a few kB


def test_a_key_press_on_a_slider_redraws_that_optimizer_and_reaches_python(page):
    s = driver.slider(page, "Adam", "alpha")
    assert page.get_by_role("slider", name="Adam alpha (learning rate)").count() == 1  # for screen readers
    before_text = s.get_attribute("aria-valuetext")
    index = int(s.input_value())
    adam, nag = page.evaluate(PATH_D, ["Adam", "race"]), page.evaluate(PATH_D, ["NAG", "race"])
    n_lat = driver.app_eval(page, "a.stats.latencies.length")
    s.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => window.__optvizRace.stats.latencies.length > {n_lat}")
    assert int(s.input_value()) == index + 1
    assert s.get_attribute("aria-valuetext") != before_text
    assert page.evaluate(PATH_D, ["Adam", "race"]) != adam  # redrawn in the page, no rerun needed
    assert page.evaluate(PATH_D, ["NAG", "race"]) == nag
    # the value then reaches Python: the next data has Adam's slider at the new position
    page.wait_for_function(
        "(i) => { const a = window.__optvizRace; const o = a.data.optimizers.find(o => o.name === 'Adam');"
        " return o.sliders.find(s => s.hp === 'alpha').index === i; }", arg=index + 1)
    driver.wait_idle(page, play=False)
    assert driver.app_eval(page, "a.data.ack") >= 1
    assert int(s.input_value()) == index + 1  # the rerun did not move it back


def test_a_new_page_plays_from_step_0_once_and_one_key_is_one_step(new_page, outside):
    page = new_page
    race = page.locator(driver.RACE)
    page.wait_for_function(driver.PLAYED)
    times = page.evaluate("window.__optvizTimes")
    assert times["firstStep"] == 0  # the first animated frame is the starts
    played = page.evaluate("window.__optvizPlay")
    assert played["done"]
    # the warped clock: half the playing time is spent on the first ~sqrt(steps) steps
    steps = driver.app_eval(page, "a.data.steps")
    assert played["half"] <= 1.5 * (steps + 1) ** 0.5, played
    driver.wait_idle(page, play=False)
    last = driver.app_eval(page, "a.data.rows.length - 1")
    assert driver.app_eval(page, "a.data.rows") == list(range(steps + 1))  # every step recorded
    assert int(race.get_attribute("data-frame")) == last
    assert page.get_by_test_id("optviz-step").inner_text() == f"step {steps} / {steps}"

    def step_now() -> int:
        page.evaluate(driver.PAINTED)
        return int(race.get_attribute("data-step"))

    page.keyboard.press("ArrowLeft")  # nothing focused: the page's arrow keys move the race
    assert step_now() == steps - 1
    page.keyboard.press("ArrowLeft")
    assert step_now() == steps - 2
    page.get_by_role("button", name="one step forward").click()
    assert step_now() == steps - 1
    page.keyboard.press("ArrowRight")  # the ▶ button has the focus: still one step
    assert step_now() == steps
    for _ in range(3):
        page.get_by_role("button", name="one step back").click()
    assert step_now() == steps - 3
    assert page.get_by_test_id("optviz-step").inner_text() == f"step {steps - 3} / {steps}"
    # a key on an optimizer's slider moves that slider, not the race
    s = driver.slider(page, "SGD", "eta")
    s.focus()
    page.keyboard.press("ArrowLeft")
    assert step_now() == steps - 3
    page.keyboard.press("ArrowRight")
    # the step slider: Home is the start, its arrow keys one step too
    page.get_by_role("slider", name="step of the race").focus()
    page.keyboard.press("Home")
    assert step_now() == 0
    page.keyboard.press("ArrowRight")
    assert step_now() == 1
    # Play from here (the warped clock: the whole play is still ahead), and Pause
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_function(f"() => document.querySelector('{driver.RACE}').dataset.playing === '1'")
    page.get_by_role("button", name="❚❚ Pause").click()
    assert race.get_attribute("data-playing") == "0"
    frame = int(race.get_attribute("data-frame"))
    page.wait_for_timeout(300)
    assert int(race.get_attribute("data-frame")) == frame  # paused
    assert outside == []  # nothing but the page's own server was asked for anything


def test_a_click_adds_a_start_clear_and_grid_bring_back_the_rest_and_a_drag_moves_one(page):
    fl = driver.app_eval(page, "[a.raceDiv._fullLayout.xaxis.range, a.raceDiv._fullLayout.yaxis.range]")
    (x0, x1), (y0, y1) = fl
    grid = driver.app_eval(page, "a.data.race.above.find(t => t.meta === 'starts')")
    assert len(grid["x"]) == 16 and not page.get_by_role("button", name="Back to the grid").is_visible()
    starts_js = "a.data.race.above.find(t => t.meta === 'starts')"

    # drag the first start's ring: that start moves (through the server), the other 15 stay
    ring = """(() => { const fl = a.raceDiv._fullLayout, box = a.raceDiv.getBoundingClientRect();
        const s = a.data.race.above.find(t => t.meta === 'starts');
        return [box.left + fl.xaxis._offset + fl.xaxis.c2p(s.x[0]),
                box.top + fl.yaxis._offset + fl.yaxis.c2p(s.y[0])]; })()"""
    x, y = driver.app_eval(page, ring)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y - 30, steps=6)
    page.mouse.up()
    page.wait_for_function("(x0) => { const a = window.__optvizRace; const s = a.data.race.above.find("
                           "t => t.meta === 'starts'); return a.data.n === 16 && s.x[0] !== x0; }",
                           arg=grid["x"][0])
    driver.wait_idle(page, play=False)
    moved = driver.app_eval(page, starts_js)
    plot = page.locator(f"{driver.RACE_CHART} .nsewdrag").first.bounding_box()
    dx, dy = 40 / plot["width"] * (x1 - x0), 30 / plot["height"] * (y1 - y0)
    assert moved["x"][0] == pytest.approx(grid["x"][0] + dx, abs=0.02 * (x1 - x0))
    assert moved["y"][0] == pytest.approx(grid["y"][0] + dy, abs=0.02 * (y1 - y0))
    assert moved["x"][1:] == pytest.approx(grid["x"][1:]) and moved["y"][1:] == pytest.approx(grid["y"][1:])

    def click(fx: float, fy: float) -> None:
        plot = page.locator(f"{driver.RACE_CHART} .nsewdrag").first.bounding_box()
        page.mouse.click(plot["x"] + fx * plot["width"], plot["y"] + (1 - fy) * plot["height"])

    click(0.25, 0.25)  # a quarter of the way in from the left, and from the bottom: one more start
    page.wait_for_function("() => window.__optvizRace.data.n === 17")
    driver.wait_idle(page, play=False)
    starts = driver.app_eval(page, starts_js)
    assert starts["x"][:16] == pytest.approx(moved["x"]) and starts["y"][:16] == pytest.approx(moved["y"])
    assert starts["x"][16] == pytest.approx(x0 + 0.25 * (x1 - x0), abs=0.02 * (x1 - x0))
    assert starts["y"][16] == pytest.approx(y0 + 0.25 * (y1 - y0), abs=0.02 * (y1 - y0))
    assert "17 now" in page.locator(f"{driver.RACE} .ov-hint").inner_text()
    # Clear starts: the chart shows no race, and the next click places the only start
    page.get_by_role("button", name="Clear starts").click()
    assert "No starts" in page.locator(f"{driver.RACE} .ov-hint").inner_text()
    click(0.75, 0.5)
    page.wait_for_function("() => window.__optvizRace.data.n === 1")
    driver.wait_idle(page, play=False)
    only = driver.app_eval(page, starts_js)
    assert only["x"][0] == pytest.approx(x0 + 0.75 * (x1 - x0), abs=0.02 * (x1 - x0))
    # Back to the grid: the 16 grid starts again, as the page first had them
    page.get_by_role("button", name="Back to the grid").click()
    page.wait_for_function("() => window.__optvizRace.data.n === 16")
    back = driver.app_eval(page, starts_js)
    assert back["x"] == pytest.approx(grid["x"]) and back["y"] == pytest.approx(grid["y"])


def test_the_inside_view_at_1920x1080_draws_no_title_over_its_ticks(chromium, url):
    pg = driver.open_page(chromium, url, width=1920, height=1080)
    try:
        pg.get_by_role("tab", name="Inside an optimizer").click()
        pg.get_by_text("Inside ", exact=False).first.wait_for()
        pg.wait_for_function("() => document.querySelector('[data-testid=stApp]')"
                             ".getAttribute('data-test-script-state') === 'notRunning'")
        pg.wait_for_function("() => [...document.querySelectorAll('[data-testid=stMain] .plot-container')]"
                             ".some(p => p.textContent.includes('effective step size'))")
        pg.evaluate(driver.PAINTED)
        assert pg.evaluate(driver.TITLE_OVER_TICKS) == []  # the step axis's title fell on its ticks
        fit = pg.evaluate(driver.OVERFLOW)
        assert not fit["over"] and not fit["cut"], fit
    finally:
        pg.close()


def test_the_3d_view_is_a_tab_beside_the_race(page):
    page.get_by_role("tab", name="3-D surface").click()
    # (headless Chromium without a GPU may have no WebGL to draw it: check what Plotly was given)
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')].some(g => g._fullData
        && g._fullData.some(t => t.type === 'surface'))""", timeout=90_000)
    info = page.evaluate("""() => { const g = [...document.querySelectorAll('.js-plotly-plot')]
        .find(g => g._fullData && g._fullData.some(t => t.type === 'surface'));
        return [g._fullData.filter(t => t.type === 'scatter3d').map(t => t.name),
            (g._transitionData && g._transitionData._frames || []).length,
            g.layout.updatemenus[0].buttons.map(b => b.label)]; }""")
    names, n_frames, buttons = info
    assert set(DEFAULT_FIELD) <= set(names)  # a path and a moving marker per optimizer
    assert n_frames > 10 and any("Play" in b for b in buttons)  # animated like the race


def test_an_exported_picture_has_the_colours_of_the_page(page):
    from PIL import Image

    colours = page.evaluate("""() => { const out = {};
        for (const g of document.querySelectorAll('[data-testid=optviz-race-chart] .scatterlayer .trace')) {
            const t = g.__data__ && g.__data__[0] && g.__data__[0].trace;
            const p = g.querySelector('path.point');
            if (t && t.mode === 'markers' && p && t.name && !['start', 'diverged'].includes(t.name)
                && !t.name.includes('minimum')) out[t.name] = p.style.fill;
        } return out; }""")
    assert set(colours) == set(DEFAULT_FIELD)
    shown = {}
    for name, css in colours.items():  # the page draws style's colours
        r, g, b = (int(v) for v in css[css.index("(") + 1:css.index(")")].split(","))
        shown[name] = f"#{r:02x}{g:02x}{b:02x}"
        assert shown[name] == style.color(name).lower(), name
    # every pair of the colours on the page is apart for normal, deuteranope and protanope eyes
    for vision in test_style.REQUIRED:
        for a, b in itertools.combinations(shown, 2):
            d = test_style.ciede2000(test_style.lab(shown[a], vision), test_style.lab(shown[b], vision))
            assert d >= 20.0, (a, b, vision, d)
    page.get_by_role("button", name="Error plot").click()
    with page.expect_download(timeout=120_000) as dl:
        page.get_by_role("button", name="Download PNG").click()
    img = Image.open(io.BytesIO(open(dl.value.path(), "rb").read())).convert("RGB")
    assert img.size == (1280, 720)
    pixels = {tuple(p) for p in np.asarray(img).reshape(-1, 3).tolist()}
    for name in DEFAULT_FIELD:
        want = style.hex_rgb(style.color(name))
        want = tuple(round(255 * c) for c in want)
        near = any(max(abs(a - b) for a, b in zip(p, want, strict=True)) <= 6 for p in pixels)
        assert near, f"{name}'s colour {style.color(name)} is not in the exported picture"


# (Last: its visits open every tab, and the heavy views' computations of a closed page run on in the
# server for a while; a test after it on the same server waited behind them in CI.)
def test_projector_mode_is_at_the_top_and_fits_1280x720_with_large_text(chromium, url, tmp_path):
    outside: list[str] = []
    pg = driver.open_page(chromium, url, width=1280, height=720, outside=outside)
    try:
        driver.wait_idle(pg, play=False)
        switch = pg.get_by_text("Projector mode (large text)")
        assert switch.bounding_box()["y"] < pg.locator(driver.RACE).bounding_box()["y"]  # at the top
        assert not pg.locator("[data-testid=stSidebar]").get_by_text("Projector mode").count()
        switch.click()
        pg.wait_for_function("() => window.__optvizRace.data.large === true")
        driver.wait_idle(pg, play=False)
        for sel in (driver.RACE_CHART, driver.ERROR_CHART):
            box = pg.locator(sel).bounding_box()
            assert box and box["x"] >= 0 and box["y"] >= 0, sel
            assert box["x"] + box["width"] <= 1280 + 1 and box["y"] + box["height"] <= 720 + 1, (sel, box)
            assert box["width"] > 250 and box["height"] > 200, (sel, box)
        sizes = pg.evaluate("""() => [...document.querySelectorAll(
            ['svg text', '.ov-bar', '.ov-stat', '.ov-slider label', '.ov-hint']
                .map(s => '[data-testid=optviz-race] ' + s).join(', '))]
            .filter(e => e.textContent.trim() && e.getBoundingClientRect().width > 0)
            .map(e => [e.textContent.trim().slice(0, 30), parseFloat(getComputedStyle(e).fontSize)])""")
        small = [t for t in sizes if t[1] < 18]
        assert sizes and not small, small
        # nothing of the two charts is cut: every label lies inside its chart
        clipped = pg.evaluate("""() => { const out = [];
            for (const sel of ['[data-testid=optviz-race-chart]', '[data-testid=optviz-error-chart]']) {
                const box = document.querySelector(sel).getBoundingClientRect();
                for (const t of document.querySelectorAll(sel + ' svg text')) {
                    const r = t.getBoundingClientRect();
                    if (r.width && (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
                        || r.bottom > box.bottom + 1)) out.push(t.textContent);
                } }
            return out; }""")
        assert not clipped, clipped
        pg.screenshot(path=str(tmp_path / "projector.png"))
        # nothing reaches beyond the right edge, no table is cut (the race's whole tab, its table too)
        fit = pg.evaluate(driver.OVERFLOW)
        assert not fit["over"] and not fit["cut"], fit
        # every other tab fits too (each is drawn on first use): its widgets, its tables uncut
        others = {}
        for tab in pg.get_by_role("tab").all()[1:]:
            name = tab.inner_text()
            tab.click()
            pg.wait_for_timeout(500)
            pg.wait_for_function("() => document.querySelector('[data-testid=stApp]')"
                                 ".getAttribute('data-test-script-state') === 'notRunning'")
            pg.wait_for_timeout(1000)  # the tables and charts drawn
            pg.evaluate(driver.PAINTED)
            fit = pg.evaluate(driver.OVERFLOW)
            fit["titles over ticks"] = pg.evaluate(driver.TITLE_OVER_TICKS)
            if fit["over"] or fit["cut"] or fit["titles over ticks"]:
                others[name] = fit
        assert outside == []
    finally:
        pg.close()
    assert not others, f"tabs beyond 1280 px in projector mode: {others}"

"""The dashboard in a real browser: the Streamlit server + Playwright driving Debian's Chromium.

Behaviour only (timings are the benchmark's job, ``benchmarks/bench_browser.py``): the race
draws, a key press on a slider redraws that optimizer (and its value reaches Python), Play runs,
projector mode fits 1280×720 with text of at least 18 px, a click places a start, the 3-D tab
shows, and an exported picture has the page's colours. Screenshots go to a temporary folder
(``scripts/make_screenshots.py`` makes the README's on purpose). Skipped without Chromium or
Playwright.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from optviz.draw import style
from optviz.scene.lessons import DEFAULT_FIELD
from tests import dashboard_driver as driver

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
def page(chromium, url):
    pg = driver.open_page(chromium, url)
    driver.wait_idle(pg)
    yield pg
    pg.close()


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
    driver.wait_idle(page)
    assert driver.app_eval(page, "a.data.ack") >= 1
    assert int(s.input_value()) == index + 1  # the rerun did not move it back


def test_play_runs_the_race_and_pause_stops_it(page):
    last = driver.app_eval(page, "a.data.rows.length - 1")
    assert int(page.locator(driver.RACE).get_attribute("data-frame")) == last  # the page opens on the outcome
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_function(f"() => document.querySelector('{driver.RACE}').dataset.playing === '1'")
    page.wait_for_function(f"(last) => {{ const f = +document.querySelector('{driver.RACE}').dataset.frame;"
                           " return f > 5 && f < last - 5; }", arg=last)
    page.get_by_role("button", name="❚❚ Pause").click()
    assert page.locator(driver.RACE).get_attribute("data-playing") == "0"
    frame = int(page.locator(driver.RACE).get_attribute("data-frame"))
    assert 5 < frame < last
    page.wait_for_timeout(300)
    assert int(page.locator(driver.RACE).get_attribute("data-frame")) == frame  # paused
    step = page.get_by_role("slider", name="step of the race")
    assert step.get_attribute("aria-valuetext").startswith("step ")


def test_projector_mode_fits_1280x720_with_large_text(chromium, url, tmp_path):
    pg = driver.open_page(chromium, url, width=1280, height=720)
    try:
        driver.wait_idle(pg)
        pg.get_by_text("Projector mode (large text)").click()
        pg.wait_for_function("() => window.__optvizRace.data.large === true")
        driver.wait_idle(pg)
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
    finally:
        pg.close()


def test_a_click_on_the_landscape_places_a_start(page):
    fl = driver.app_eval(page, "[a.raceDiv._fullLayout.xaxis.range, a.raceDiv._fullLayout.yaxis.range]")
    (x0, x1), (y0, y1) = fl
    plot = page.locator(f"{driver.RACE_CHART} .nsewdrag").first.bounding_box()
    # a quarter of the way in from the left, and from the bottom
    px, py = plot["x"] + 0.25 * plot["width"], plot["y"] + 0.75 * plot["height"]
    page.mouse.click(px, py)
    page.wait_for_function("() => window.__optvizRace.data.n === 1")
    driver.wait_idle(page)
    start = driver.app_eval(page, "a.data.race.above.find(t => t.meta === 'starts')")
    want = (x0 + 0.25 * (x1 - x0), y0 + 0.25 * (y1 - y0))
    assert start["x"][0] == pytest.approx(want[0], abs=0.02 * (x1 - x0))
    assert start["y"][0] == pytest.approx(want[1], abs=0.02 * (y1 - y0))


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
    for name, css in colours.items():  # the page draws style's colours
        r, g, b = (int(v) for v in css[css.index("(") + 1:css.index(")")].split(","))
        assert f"#{r:02x}{g:02x}{b:02x}" == style.color(name).lower(), name
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

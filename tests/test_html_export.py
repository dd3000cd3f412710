"""The race as one web page (``optviz render --out race.html``, :mod:`optviz.live.html`).

The browser test opens the file from disk inside an ``<iframe>`` (as a course page embeds it)
with every request but ``file:``/``data:``/``blob:`` refused, and checks what a student sees:
the chart draws, the lesson's note is there, play advances the race, a slider changes the race
and the error chart, and nothing was fetched.
"""

from __future__ import annotations

import json
import re

import pytest

import optviz
from optviz.cli import main
from optviz.live import html
from tests import dashboard_driver as driver


def _data(text: str) -> dict:
    m = re.search(r'<script type="application/json" id="optviz-data">(.*?)</script>', text, re.S)
    assert m, "the page has no race data"
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def lesson_page(tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "race.html"
    assert main(["render", "--preset", "momentum-valley", "--out", str(out), "-q"]) == 0
    return out


def test_default_scene_page_is_self_contained_and_under_5_mb(tmp_path, capsys):
    out = tmp_path / "race.html"
    assert main(["render", "--out", str(out), "-q"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    text = out.read_text(encoding="utf-8")
    assert out.stat().st_size <= 5_000_000
    # nothing loaded from elsewhere: no script, style sheet, image or frame with a source
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", text)
    data = _data(text)
    assert data["sweeps"] and data["link"] is None
    assert [o["name"] for o in data["optimizers"]] == ["SGD", "MSGD", "NAG", "RMSprop", "Adam"]
    # every slider of the default scene is computed ahead, at every position
    for o in data["optimizers"]:
        for s, blocks in zip(o["sliders"], o["blocks"], strict=True):
            assert s["live"], (o["name"], s["hp"])
            assert sum(b is None for b in blocks) == 1  # only the current position is the base block


def test_lesson_page_carries_its_note_and_scene(lesson_page):
    text = lesson_page.read_text(encoding="utf-8")
    lesson = optviz.lessons.get("momentum-valley")
    assert lesson.note.split(",")[0] in text and f"<title>{lesson.title}</title>" in text
    assert optviz.Scene.from_json(_data(text)["scene"]) == lesson.scene


def test_a_big_scene_computes_the_learning_rates_ahead_first():
    scene = optviz.Scene("himmelblau", "all", optviz.Starts.grid(8), steps=400)
    stride, live, sliders = html.plan(scene, max_bytes=2_000_000)
    assert stride > 1
    lr = {(s.optimizer, s.name) for ss in sliders.values() for s in ss if s.lr}
    chosen = {(name, s.name) for name, ss in live.items() for s in ss}
    assert chosen and chosen < {(s.optimizer, s.name) for ss in sliders.values() for s in ss}
    assert any(k in chosen for k in lr)
    assert not any(k not in lr for k in chosen) or lr <= chosen  # others only once every rate is in


def test_render_refuses_a_page_it_cannot_write(tmp_path, capsys):
    assert main(["render", "--out", str(tmp_path / "nowhere" / "race.html"), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not exist" in err[0]
    assert main(["render", "--out", str(tmp_path / "race.htm"), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith("valid extensions: .gif, .mp4, .png, .svg, .html")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.browser
def test_the_page_plays_and_its_sliders_work_from_disk_with_no_network(lesson_page, tmp_path):
    if not driver.chromium_available():
        pytest.skip(f"{driver.CHROMIUM} not found (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    course = tmp_path / "course.html"
    course.write_text(f'<!DOCTYPE html><html><body><h1>Week 3</h1><iframe src="{lesson_page.as_uri()}" '
                      'width="1200" height="760" title="race"></iframe></body></html>', encoding="utf-8")
    refused: list[str] = []

    def route(r):
        if r.request.url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    with driver.browser() as b:
        context = b.new_context(viewport={"width": 1280, "height": 820})
        context.route("**/*", route)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(course.as_uri())
        frame = page.frame_locator("iframe")
        race = page.frames[1]
        race.wait_for_function("() => window.__optvizRace && window.__optvizRace.data && "
                               "document.querySelectorAll('.ov-race .scatterlayer .trace').length > 0 && "
                               "document.querySelectorAll('.ov-err .scatterlayer .trace').length > 0",
                               timeout=30_000)
        assert "narrow valley" in frame.get_by_test_id("optviz-note").inner_text()
        # the race plays on its own when it opens, from step 0
        race.wait_for_function("() => window.__optvizRace.frame >= 1", timeout=15_000)
        frame.get_by_role("button", name="❚❚ Pause").click()
        step = frame.get_by_test_id("optviz-step").inner_text()
        assert re.match(r"step \d+ / 300", step), step

        def drawn() -> list[str]:
            return race.evaluate("() => [...document.querySelectorAll('.ov-race .scatterlayer path.js-line,"
                                 " .ov-err .scatterlayer path.js-line')].map(p => p.getAttribute('d'))")

        before = drawn()
        eta = frame.get_by_label("SGD eta (learning rate)", exact=True)
        old = eta.get_attribute("aria-valuetext")
        eta.focus()
        for _ in range(3):
            eta.press("ArrowLeft")
        race.wait_for_function("() => { const a = window.__optvizRace; "
                               "return a.shown.SGD && a.shown.SGD !== a.byName.SGD.base; }", timeout=10_000)
        assert eta.get_attribute("aria-valuetext") != old
        after = drawn()
        assert after and after != before
        assert race.evaluate("() => window.__optvizRace.synced") is not None
        # ▶ steps forward one row
        shown = frame.get_by_test_id("optviz-step").inner_text()
        frame.get_by_role("button", name="one step forward").click()
        race.wait_for_function("(s) => document.querySelector('[data-testid=optviz-step]').textContent !== s",
                               arg=shown, timeout=5_000)
        page.screenshot(path=str(tmp_path / "course.png"))
        context.close()
    assert not errors, errors
    assert not refused, refused


def test_the_dashboard_offers_the_race_as_a_web_page():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../app.py", default_timeout=120)
    for k, v in {"live_sweeps": "always", "optimizers": ["Adam", "NAG"], "steps": 20}.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, at.exception
    at.button(key="export_html").click()
    at.run()
    assert not at.exception, at.exception
    name, data, _ = at.session_state["export_file"]
    assert name.endswith(".html") and len(data) < 5_000_000
    downloads = at.main.get("download_button")
    assert downloads and downloads[0].proto.label == "Download as web page"
    text = data.decode("utf-8")
    scene = optviz.Scene.from_json(_data(text)["scene"])
    assert set(scene.optimizers) == {"Adam", "NAG"} and scene.steps == 20  # the scene on screen

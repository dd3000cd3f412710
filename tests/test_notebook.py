"""The notebook widget (:mod:`optviz.notebook`) and the example notebook (``examples/*.ipynb``).

- The widget's front-end module (the very ESM a notebook loads: plotly.js, ``race.js`` and the
  widget adapter) renders in a real browser with the network cut, fed the widget's state as
  ipywidgets sends it (JSON with the packed numbers split off as binary buffers, put back in
  place as DataViews): the chart draws, play advances, a slider changes the race and its value
  comes back to Python as the widget's scene; a change made in Python redraws the page.
- Without widgets a cell still shows a picture (``image/png``) and a line of text.
- The example notebook executes headless (nbclient) without an error.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

import optviz
from tests import dashboard_driver as driver

pytest.importorskip("anywidget", reason="anywidget is not installed (the notebook extra)")

ROOT = Path(__file__).resolve().parents[1]

#: A stand-in for anywidget's front end: the model interface (get, set, save_changes, on, off),
#: the state with its buffers put back at their paths, and the ESM loaded from a blob URL.
HOST = """
async ({state, paths, buffers}) => {
  const raw = (b64) => { const s = atob(b64); const u = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i); return new DataView(u.buffer); };
  const put = (st, ps, bs) => { ps.forEach((p, i) => { let o = st; for (const k of p.slice(0, -1)) o = o[k];
    o[p[p.length - 1]] = raw(bs[i]); }); return st; };
  const listeners = {};
  window.__sent = [];
  const model = {
    get: (k) => window.__state[k],
    set: (k, v) => { window.__state[k] = v; window.__sent.push([k, v]); },
    save_changes: () => {},
    on: (ev, cb) => { (listeners[ev] = listeners[ev] || []).push(cb); },
    off: (ev, cb) => { listeners[ev] = (listeners[ev] || []).filter((f) => f !== cb); },
  };
  window.__state = put(state, paths, buffers);
  window.__push = ({state, paths, buffers}) => {  // a change from Python
    Object.assign(window.__state, put(state, paths, buffers));
    for (const k of Object.keys(state)) for (const cb of listeners["change:" + k] || []) cb();
  };
  const style = document.createElement("style"); style.textContent = state._css; document.head.append(style);
  const url = URL.createObjectURL(new Blob([state._esm], {type: "text/javascript"}));
  const mod = await import(url);
  const el = document.createElement("div"); document.body.append(el);
  mod.default.render({model, el});
}
"""


def _wire(widget, keys=None) -> dict:
    """The widget's state as the kernel sends it: JSON, and the bytes as base64 with their paths."""
    from ipywidgets.widgets.widget import _remove_buffers

    state, paths, buffers = _remove_buffers(widget.get_state(keys))
    return {"state": state, "paths": paths, "buffers": [base64.b64encode(bytes(b)).decode() for b in buffers]}


def test_race_builds_a_widget_from_a_lesson_a_scene_or_a_result(monkeypatch):
    w = optviz.race("momentum-valley")
    lesson = optviz.lessons.get("momentum-valley")
    assert w.scene == lesson.scene and w.title == lesson.title and w.note == lesson.note
    scene = optviz.Scene("himmelblau", ["Adam"], optviz.Starts.grid(2), steps=40)
    shown = scene.show()
    assert shown.scene == scene
    assert isinstance(shown.data["optimizers"][0]["base"]["pos"], bytes)  # binary, not base64
    res = scene.run()
    assert res._repr_mimebundle_() is None  # outside a notebook (a script, a terminal): its plain display
    from optviz.notebook import widget

    monkeypatch.setattr(widget, "in_notebook", lambda: True)
    data, _ = res._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert base64.b64decode(data["image/png"]).startswith(b"\x89PNG")  # for viewers without widgets
    big = optviz.run("himmelblau", ["Adam"], starts=[[0.0, 0.0]] * 2000, steps=300)
    assert big._repr_mimebundle_() is None  # too big for a live race: its plain display
    with pytest.raises(ValueError, match="not in the scene"):
        shown.set(hp={"SGD": {"eta": 0.1}})


@pytest.mark.browser
def test_the_widget_front_end_plays_and_its_sliders_reach_python():
    if not driver.chromium_available():
        pytest.skip(f"{driver.CHROMIUM} not found (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    w = optviz.race("himmelblau", ["SGD", "Adam"], optviz.Starts.grid(2), steps=60)
    refused: list[str] = []

    def route(r):
        if r.request.url.startswith(("data:", "blob:", "about:")):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    with driver.browser() as b:
        context = b.new_context(viewport={"width": 1200, "height": 800})
        context.route("**/*", route)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        # an AMD loader on the page, as require.js in the classic notebook: plotly.js must not register there
        page.set_content("<!DOCTYPE html><html><head><script>window.define = function () {}; "
                         "window.define.amd = {};</script></head><body></body></html>")
        page.evaluate(HOST, _wire(w))
        page.wait_for_function("() => window.__optvizRace && window.__optvizRace.data && "
                               "document.querySelectorAll('.ov-race .scatterlayer .trace').length > 0 && "
                               "document.querySelectorAll('.ov-err .scatterlayer .trace').length > 0",
                               timeout=30_000)
        page.wait_for_function("() => window.__optvizRace.frame >= 1", timeout=15_000)  # it plays
        page.get_by_role("button", name="❚❚ Pause").click()

        def drawn() -> list[str]:
            return page.evaluate("() => [...document.querySelectorAll('.ov-race .scatterlayer path.js-line')]"
                                 ".map(p => p.getAttribute('d'))")

        before = drawn()
        alpha = page.get_by_label("Adam alpha (learning rate)", exact=True)
        alpha.focus()
        alpha.press("ArrowLeft")
        page.wait_for_function("() => { const a = window.__optvizRace; "
                               "return a.shown.Adam && a.shown.Adam !== a.byName.Adam.base; }",
                               timeout=10_000)
        assert drawn() != before
        moved = float(alpha.get_attribute("aria-valuetext"))
        page.wait_for_function("() => window.__sent.some(([k]) => k === 'sliders')", timeout=5_000)
        sent = [v for k, v in page.evaluate("() => window.__sent") if k == "sliders"][-1]
        w.set_state({"sliders": sent})  # what the kernel does with the message
        assert w.scene.optimizers["Adam"]["alpha"] == moved
        # a change in Python: the page gets the new data and redraws the longer race
        w.set(steps=90)
        page.evaluate("(wire) => window.__push(wire)", _wire(w, ["data"]))
        page.wait_for_function("() => window.__optvizRace.data.steps === 90", timeout=10_000)
        assert "90" in page.get_by_test_id("optviz-step").inner_text()
        context.close()
    assert not errors, errors
    assert not refused, refused


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.ipynb")), ids=lambda p: p.name)
def test_example_notebook_executes(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (dev extra)")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (dev extra)")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (dev extra)")
    nb = nbformat.read(path, as_version=4)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    mimes = {m for o in outputs for m in o.get("data", {})}
    assert {"application/vnd.jupyter.widget-view+json", "image/png"} <= mimes
    if path.name == "tour.ipynb":
        assert (tmp_path / "race.html").stat().st_size < 5_000_000

"""The dashboard through Streamlit's AppTest (no browser): state, data sent to the race, messages.

The race is a custom component: what it is given is the JSON of the ``optviz_race`` element
(``at.get("bidi_component")``), decoded here as the page decodes it. A run with
``session_state["live_sweeps"] = "always"`` computes the sliders' sweeps at once (the page asks
for them after its first drawing).
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

import functions
import optviz
from optviz.draw import style
from optviz.live import sweeps
from optviz.optimizers import NAMES
from optviz.scene import lessons as presets

APP = str(Path(__file__).resolve().parents[1] / "app.py")


# ---------------------------------------------------------------------- helpers
def run_ok(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    assert not any("Unexpected error" in str(e.value) for e in at.error), messages(at)
    return at


def fresh(**state) -> AppTest:
    """A new session's first run; the whole page at once (``live_sweeps="always"``) unless a test
    asks for the browser's order (``live_sweeps="auto"``)."""
    at = AppTest.from_file(APP, default_timeout=120)
    state.setdefault("live_sweeps", "always")
    for k, v in state.items():
        at.session_state[k] = v
    return run_ok(at)


def messages(at: AppTest) -> str:
    """The page's messages as a reader sees them (Markdown's escapes gone: each ``\\x`` shows ``x``)."""
    text = " | ".join(str(e.value) for kind in ("error", "warning", "info") for e in getattr(at, kind))
    return re.sub(r"\\(.)", r"\1", text)


def race(at: AppTest) -> dict:
    """The data the race component was given in the last run."""
    found = [e for e in at.get("bidi_component") if e.proto.component_name == "optviz_race"]
    assert len(found) == 1, "expected one race component"
    (data,) = json.loads(found[0].proto.json)
    return data


def has_race(at: AppTest) -> bool:
    return any(e.proto.component_name == "optviz_race" for e in at.get("bidi_component"))


def opt(data: dict, name: str) -> dict:
    return next(o for o in data["optimizers"] if o["name"] == name)


def positions(data: dict, block: dict) -> np.ndarray:
    """A block's positions, ``(rows, n, 2)``, NaN outside the drawn range (as the page decodes them)."""
    q = data["quant"]
    quant = sweeps.Quantizer(tuple(q["lo"]), tuple(q["hi"]))
    raw = sweeps.unb64(block["pos"], "<u2").reshape(len(data["rows"]), data["n"], 2)
    return quant.decode(raw)


def scene_run(data: dict, fn, hp: dict, starts, steps: int, seed: int = 0) -> optviz.Result:
    return optviz.run(fn, hp, starts, steps, seed=seed)


@pytest.fixture(scope="module")
def default_at() -> AppTest:
    return fresh(live_sweeps="always")


# ---------------------------------------------------------------------- the first page
def test_first_page_is_the_default_field_on_himmelblau_with_tuned_rates(default_at: AppTest):
    at = default_at
    assert at.sidebar.selectbox(key="function").value == "himmelblau"
    data = race(at)
    assert [o["name"] for o in data["optimizers"]] == list(presets.DEFAULT_FIELD)
    tuned = presets.tuned_rates("himmelblau", 2)
    for o in data["optimizers"]:
        assert o["look"]["color"] == style.color(o["name"])
        for s in o["sliders"]:
            if s["hp"] in tuned.get(o["name"], {}):
                assert s["values"][s["index"]] == pytest.approx(tuned[o["name"]][s["hp"]])
    # most starts converge and the optimizers differ: the lesson of the first page
    table = at.dataframe[0].value
    conv = [float(str(v).rstrip(" %")) for v in table["converged %"]]
    assert min(conv) >= 75
    steps = [float(v) for v in table["median steps to tol"]]
    assert max(steps) > 3 * min(steps)
    assert "Every point" not in messages(at)


def test_the_race_data_decodes_to_the_runs(default_at: AppTest):
    at = default_at
    data = race(at)
    fn = functions.get("himmelblau")
    starts = presets.default_starts(fn)
    assert data["n"] == len(starts) == 16 and data["dim"] == 2
    rows = data["rows"]
    assert rows == list(range(301))  # every step: ◀ ▶ and the arrow keys move one step (issue 19)
    hp = {o["name"]: {s["hp"]: s["values"][s["index"]] for s in o["sliders"]} for o in data["optimizers"]}
    res = scene_run(data, fn, hp, starts, 300)
    span = np.ptp(np.asarray(data["view"]), axis=1)
    lo, hi = np.asarray(data["quant"]["lo"]), np.asarray(data["quant"]["hi"])
    for name in presets.DEFAULT_FIELD:
        got = positions(data, opt(data, name)["base"])
        want = np.asarray(res.trajectories[name][rows], dtype=float)
        # a point beyond the packed range (the view padded by half its span) is a gap in its path
        out = ~np.all((want >= lo) & (want <= hi), axis=-1, keepdims=True)
        np.testing.assert_allclose(got, np.where(out, np.nan, want), atol=2e-4 * span.max())
    # the landscape is a picture exactly over the box, under the axes
    (image,) = data["race"]["layout"]["images"]
    box = fn.box
    assert image["source"].startswith("data:image/jpeg;base64,") and image["layer"] == "below"
    assert (image["x"], image["y"], image["sizex"], image["sizey"]) == (box[0, 0], box[1, 1], 10.0, 10.0)
    assert data["race"]["layout"]["xaxis"]["range"] == pytest.approx(box[0].tolist())
    assert data["race"]["colorbar"]["label"] == "f − f*"
    assert [t["meta"] for t in data["race"]["above"]] == ["minima", "starts"]
    star = data["race"]["above"][0]
    assert len(star["x"]) == 4  # Himmelblau's four minima


def test_every_position_of_every_slider_is_sent_and_each_is_its_own_run(default_at: AppTest):
    data = race(default_at)
    assert data["sweeps"] is True
    fn = functions.get("himmelblau")
    starts = presets.default_starts(fn)
    o = opt(data, "NAG")
    for k, s in enumerate(o["sliders"]):
        assert s["live"], f"NAG's {s['hp']} is not computed in advance"
        assert len(o["blocks"][k]) == len(s["values"])
        assert o["blocks"][k][s["index"]] is None  # the current position is the base block
        assert all(b is not None for i, b in enumerate(o["blocks"][k]) if i != s["index"])
    eta = o["sliders"][0]
    assert eta["hp"] == "eta"
    i = max(0, eta["index"] - 2)
    hp = {s["hp"]: s["values"][s["index"]] for s in o["sliders"]}
    hp["eta"] = eta["values"][i]
    res = optviz.run(fn, {"NAG": hp}, starts, 300)
    got = positions(data, o["blocks"][0][i])
    np.testing.assert_allclose(got, res.trajectories["NAG"][data["rows"]], atol=1e-3)


def test_figure_parts_are_valid_plotly(default_at: AppTest):
    data = race(default_at)
    o = data["optimizers"][0]
    for key in ("path", "marker", "median", "band"):
        go.Scatter({k: v for k, v in o["look"][key].items() if k != "type"})
    go.Figure(data=[*data["race"]["data"], *data["race"]["above"]], layout=data["race"]["layout"])
    go.Figure(data=[], layout=data["err"]["layout"])


# ---------------------------------------------------------------------- state and interaction
def test_a_hyperparameter_set_in_the_state_moves_its_slider_and_its_run_only():
    at = fresh()
    before = race(at)
    at.session_state["hp__Adam__alpha"] = 0.05
    run_ok(at)
    after = race(at)
    s = opt(after, "Adam")["sliders"][0]
    assert s["hp"] == "alpha" and s["values"][s["index"]] == pytest.approx(0.05)
    assert opt(after, "Adam")["base"]["pos"] != opt(before, "Adam")["base"]["pos"]
    assert opt(after, "NAG")["base"]["pos"] == opt(before, "NAG")["base"]["pos"]


def test_a_first_drawing_comes_without_sweeps_until_the_page_asks():
    at = fresh(live_sweeps="auto")
    data = race(at)
    assert data["sweeps"] is False
    assert all(b is None for o in data["optimizers"] for bl in o["blocks"] for b in bl)
    assert at.sidebar.selectbox(key="function").value == "himmelblau"  # no browser: the whole page
    at.session_state["sweeps_for"] = data["scene"]  # what the page's "sweeps" trigger sets
    run_ok(at)
    assert race(at)["sweeps"] is True


def test_changing_the_function_sets_its_tuned_rates_and_redraws():
    at = fresh()
    at.sidebar.selectbox(key="function").select("rosenbrock")
    run_ok(at)
    data = race(at)
    assert data["race"]["layout"]["xaxis"]["range"] == pytest.approx([-2.0, 2.0])
    tuned = presets.tuned_rates("rosenbrock", 2)
    assert at.session_state["hp__Adam__alpha"] == pytest.approx(tuned["Adam"]["alpha"])
    assert any("Rosenbrock" in str(m.value) for m in at.markdown)


def test_a_lesson_sets_the_whole_scene_in_one_click():
    at = fresh()
    at.sidebar.button(key="lesson__momentum-valley").click()
    run_ok(at)
    p = presets.get("momentum-valley")
    assert at.sidebar.selectbox(key="function").value == p.function
    assert at.sidebar.multiselect(key="optimizers").value == list(p.optimizers)
    assert at.session_state["start_mode"] == "Typed"
    data = race(at)
    assert data["n"] == len(p.starts)
    assert p.title in messages(at) and p.description in messages(at)


def test_the_articles_demo_is_a_1d_race_with_a_lane_per_optimizer():
    at = fresh()
    at.sidebar.button(key="load_article").click()
    run_ok(at)
    assert at.sidebar.selectbox(key="function").value == "quartic"
    data = race(at)
    names = [o["name"] for o in data["optimizers"]]
    assert names == list(presets.ARTICLE_QUARTIC.optimizers)
    assert data["dim"] == 1 and len(data["rows"]) == 101  # every step of 100
    layout = data["race"]["layout"]
    assert layout["xaxis"]["title"]["text"] == "x" and layout["yaxis"]["title"]["text"] == "f(x)"
    assert layout["yaxis2"]["range"] == [len(names) - 0.4, -0.6]  # one lane per optimizer
    assert data["race"]["data"][0]["meta"] == "curve"
    # each dot sits on the curve: y = f(x) at every row
    f = functions.get("quartic")
    pos = positions(data, opt(data, "Adam")["base"])
    ok = np.isfinite(pos[:, 0, 0])
    np.testing.assert_allclose(pos[ok, 0, 1], f.value(pos[ok, 0, :1]), rtol=0,
                               atol=2e-3 * np.ptp(data["view"][1]))
    assert pos[0, 0, 0] == pytest.approx(-3.0, abs=1e-3)
    # more than eight optimizers: shapes and dashes tell colours apart
    assert len({(o["look"]["color"], o["look"]["symbol"]) for o in data["optimizers"]}) == len(names)


def test_projector_mode_has_text_of_at_least_18px():
    at = fresh(large_font=True)
    data = race(at)
    assert data["large"] is True
    for layout in (data["race"]["layout"], data["err"]["layout"]):
        assert layout["font"]["size"] >= 18
        for ax in ("xaxis", "yaxis"):
            assert layout[ax]["tickfont"]["size"] >= 18 and layout[ax]["title"]["font"]["size"] >= 18


def test_no_optimizer_gives_a_friendly_message():
    at = fresh()
    at.sidebar.multiselect(key="optimizers").set_value([])
    run_ok(at)
    assert "Choose at least one optimizer" in messages(at)
    assert not has_race(at)


def test_the_full_field_is_one_click_away():
    at = fresh()
    at.sidebar.button(key="pick_all").click()
    run_ok(at)
    assert [o["name"] for o in race(at)["optimizers"]] == list(NAMES)


# ---------------------------------------------------------------------- bad input (issue 9)
@pytest.mark.parametrize(
    ("text", "expected"),
    [("1, abc", "is not a number"), ("1, 2, 3", "3 number(s)"), ("", "at least one"),
     ("__import__('os')", "is not a number")],
)
def test_bad_typed_start_gives_an_error_message(text: str, expected: str):
    at = fresh(start_mode="Typed")
    at.sidebar.text_area(key="typed_starts").input(text)
    run_ok(at)
    assert at.error and expected in at.error[0].value
    assert at.error[0].value.startswith("Starting points:")
    assert not has_race(at)


def test_a_huge_typed_token_is_quoted_short():
    at = fresh(start_mode="Typed")
    at.sidebar.text_area(key="typed_starts").input("1, " + "9" * 100_000 + "x")
    run_ok(at)
    assert at.error and len(at.error[0].value) < 400


def test_a_bad_function_parameter_is_not_called_a_starting_point():
    at = fresh()
    at.sidebar.selectbox(key="function").select("long_valley")
    run_ok(at)
    at.sidebar.number_input(key="fparam__long_valley__kappa").set_value(-5.0)
    run_ok(at)
    assert at.error and "kappa" in at.error[0].value
    assert at.error[0].value.startswith("Function parameters:")
    assert "Starting points" not in messages(at)


def test_a_start_far_out_is_named_as_the_problem_not_the_learning_rates(recwarn):
    at = fresh(start_mode="Typed", typed_starts="1e308, 1e308")
    text = messages(at)
    # the engine refuses such a start up front, or the page names it after the run
    assert "point 0 is [1e+308, 1e+308]" in text or "starting points, not the learning rates" in text
    assert "learning rates are too large" not in text
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_a_typed_start_outside_the_box_gets_a_note():
    at = fresh(start_mode="Typed", typed_starts="0, 0\n9, 9")
    text = messages(at)
    assert "outside the plotted box" in text and "(9, 9)" in text


def test_exploding_learning_rates_say_so():
    at = fresh(optimizers=["SGD"])
    at.session_state["hp__SGD__eta"] = 10.0
    run_ok(at)
    assert "learning rates are too large" in messages(at)
    assert at.dataframe[0].value["diverged"].tolist() == ["16/16"]
    base = opt(race(at), "SGD")["base"]
    assert base["div"] == 16


# ---------------------------------------------------------------------- tune, export
def test_tune_button_sets_learning_rates_that_do_better():
    at = fresh(function="rosenbrock", optimizers=["SGD", "Adam"], hp__SGD__eta=0.01, hp__Adam__alpha=0.001)
    at.button(key="tune").click()
    run_ok(at)
    assert at.session_state["hp__Adam__alpha"] > 1e-3
    assert at.session_state["hp__SGD__eta"] < 1e-2
    assert "Tuned:" in " ".join(str(c.value) for c in at.caption)
    s = opt(race(at), "Adam")["sliders"][0]
    assert s["values"][s["index"]] == pytest.approx(at.session_state["hp__Adam__alpha"])


@pytest.mark.parametrize(("button", "suffix"), [("export_gif", ".gif"), ("export_png", ".png")])
def test_export_offers_the_file_and_leaves_nothing_on_disk(button: str, suffix: str):
    tmp = Path(tempfile.gettempdir())
    before = set(tmp.glob("optviz-export-*"))
    at = fresh(optimizers=["Adam", "NAG"], steps=20)
    at.button(key=button).click()
    run_ok(at)
    name, data, _ = at.session_state["export_file"]
    assert name.endswith(suffix) and "720p" in name and len(data) > 1000
    downloads = at.main.get("download_button")  # (the sidebar's is the scene's)
    assert downloads and downloads[0].proto.label == f"Download {suffix[1:].upper()}"
    assert set(tmp.glob("optviz-export-*")) == before  # the temporary folder is gone
    at.sidebar.slider(key="steps").set_value(30)
    run_ok(at)
    assert not at.main.get("download_button")  # a changed scene does not offer the old file


# ---------------------------------------------------------------------- views
def test_views_are_modules_found_by_discovery():
    from optviz.dashboard import views

    found = views.discover()
    assert [v.key for v in found] == [
        "race", "plane", "training", "boundary", "function", "surface", "inside", "basins", "sweeps",
        "compare", "noise_delay", "own_rule"]  # (plane, training, boundary: learning problems only)
    ctx_1d = fresh(function="quartic", dim=1)
    labels_1d = [t.label for t in ctx_1d.get("tab")]
    assert labels_1d == ["Race", "Inside an optimizer", "Basins", "Sweeps", "Fair comparison",
                         "Noise & delay", "Your own optimizer"]  # no 3-D surface in 1-D
    at = fresh()
    labels = [t.label for t in at.get("tab")]
    assert labels == ["Race", "3-D surface", "Inside an optimizer", "Basins", "Sweeps",
                      "Fair comparison", "Noise & delay", "Your own optimizer"]  # "Your function": typed


def test_the_surface_figure_is_valid_and_animated():
    from optviz.draw import plots

    fn = functions.get("himmelblau")
    res = optviz.run(fn, ["Adam", "NAG"], optviz.scene.starts.grid(fn.box, 3), 60)
    fig = plots.surface_figure(res)
    go.Figure(fig)
    assert len(fig["frames"]) == 60 and fig["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶ Play"


def test_the_packaged_script_runs_as_its_own_file():
    """``optviz dashboard`` runs optviz/dashboard/app.py itself (not the top-level app.py)."""
    from optviz.dashboard import SCRIPT

    at = AppTest.from_file(str(SCRIPT), default_timeout=120)
    at.session_state["live_sweeps"] = "always"
    run_ok(at)
    assert [o["name"] for o in race(at)["optimizers"]] == list(presets.DEFAULT_FIELD)


def test_the_servers_warm_up_computes_what_a_first_visit_needs():
    """``optviz dashboard`` computes the default race before anyone visits
    (:mod:`optviz.dashboard.serve`, on a state of its own): a first session then finds every
    optimizer's run kept, and the warm-up leaves no session state behind."""
    from optviz.dashboard import compute, serve, state

    serve.RUNTIME_WAIT = 0.0
    kept = compute._runs().runs
    kept.clear()
    assert serve.warm_up() > 0
    warmed = set(kept)
    assert len(warmed) == len(presets.DEFAULT_FIELD)
    at = fresh(live_sweeps="auto")
    assert has_race(at) and set(kept) == warmed  # nothing new to run: the same scene
    assert getattr(state._SessionState._local, "mapping", None) is None


def test_the_server_loads_only_kernels_already_compiled(monkeypatch):
    """The warm-up never compiles in the server (that would hold its interpreter for seconds):
    kernels not on disk are left to the background compile and to the runs that need them."""
    from optviz.dashboard import serve, state
    from optviz.engine.fast import kernels

    monkeypatch.setattr(serve, "LOAD_DELAY", 0.0)
    monkeypatch.setattr(kernels, "ready", lambda keyed: False)
    compiled = []
    monkeypatch.setattr(kernels, "compile_kernel", compiled.append)
    with state.detached():
        state.init()
        from optviz.dashboard import views

        scene = views.current().scene
    assert serve.load_kernels(scene) == 0 and compiled == []
    monkeypatch.setattr(kernels, "ready", lambda keyed: True)
    assert serve.load_kernels(scene) == len(scene.optimizers) == len(compiled)


def test_the_server_starts_streamlit_run_with_the_warm_up_beside_it(monkeypatch):
    import threading

    from streamlit.web import cli as st_cli

    from optviz.dashboard import serve

    warmed, seen = threading.Event(), {}
    monkeypatch.setattr(serve, "_warm_in_background", warmed.set)
    monkeypatch.setattr(st_cli, "main", lambda **kw: seen.update(kw) or 0)
    assert serve.main(["page.py", "--server.port", "9"]) == 0
    # the data cache's share of the 2GB memory budget (issue 23); no message cache (a reference to a
    # cached element could cost a page its connection)
    assert seen["args"] == ["run", "page.py", "--server.port", "9", "--server.maxCacheDataSize", "614mb",
                            "--global.minCachedMessageSize", "1e18"]
    assert seen["prog_name"] == "streamlit"
    assert warmed.wait(10)


def test_a_typed_syntax_error_points_at_its_column_and_keeps_its_asterisks():
    at = fresh(fn_source="Your own")
    at.sidebar.text_input(key="expr").input("x**").run()
    (err,) = at.sidebar.error
    assert "syntax error at column 4" in err.value  # one past "x**": where something is missing
    at.sidebar.text_input(key="expr").input("x y").run()
    (err,) = at.sidebar.error
    # the Markdown source escapes the asterisks, so the reader sees "write 2*x or x*y", not italics
    assert "write 2\\*x or x\\*y" in err.value
    assert "at column 3" in err.value


def test_projector_mode_is_a_switch_at_the_top_of_the_page_not_in_the_sidebar():
    at = fresh()
    assert "large_font" not in [t.key for t in at.sidebar.toggle]
    assert at.main.children[0].key == "large_font" or at.main.toggle[0].key == "large_font"
    switch = at.toggle(key="large_font")
    assert switch.label == "Projector mode (large text)" and switch.value is False
    switch.set_value(True).run()
    assert race(at)["large"] is True

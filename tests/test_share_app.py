"""The dashboard's typed function, shareable scenes and "Inside an optimizer" through AppTest,
and the recorded state the inside view draws (Adam's m is the moving average of the recorded
gradients). The real-browser round trip of a link is in test_share_browser.py."""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import functions
import optviz
from optviz.dashboard import scene_state, typed
from optviz.dashboard.views import function as typed_view
from optviz.dashboard.views import inside
from optviz.live import sweeps
from optviz.scene.model import VERSION, Scene, Starts

APP = str(Path(__file__).resolve().parents[1] / "app.py")
ROSEN = "(1 - x)**2 + 100*(y - x**2)**2"
ROSEN_FN = functions.from_expression(ROSEN, box=[[-2, 2], [-1, 3]], minimizers=[[1, 1]])


# ---------------------------------------------------------------------- helpers
def run_ok(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    assert not any("Unexpected error" in str(e.value) for e in at.error), errors(at)
    return at


def fresh(query: dict[str, str] | None = None, **state) -> AppTest:
    """A new session's first run (the whole page at once), opened with ``query`` in its URL."""
    at = AppTest.from_file(APP, default_timeout=180)
    state.setdefault("live_sweeps", "always")
    for k, v in state.items():
        at.session_state[k] = v
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return run_ok(at)


def errors(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.error]


def race(at: AppTest) -> dict:
    found = [e for e in at.get("bidi_component") if e.proto.component_name == "optviz_race"]
    assert len(found) == 1, "expected one race component"
    (data,) = json.loads(found[0].proto.json)
    return data


def has_race(at: AppTest) -> bool:
    return any(e.proto.component_name == "optviz_race" for e in at.get("bidi_component"))


def race_positions(data: dict, name: str) -> np.ndarray:
    """An optimizer's drawn positions ``(rows, n, 2)`` as the page decodes them (NaN outside the view)."""
    block = next(o for o in data["optimizers"] if o["name"] == name)["base"]
    q = data["quant"]
    raw = sweeps.unb64(block["pos"], "<u2").reshape(len(data["rows"]), data["n"], 2)
    return sweeps.Quantizer(tuple(q["lo"]), tuple(q["hi"])).decode(raw)


def assert_race_is(data: dict, result: optviz.Result) -> None:
    """The page's race (quantized to 16 bits over the view) is ``result``'s trajectories."""
    assert sorted(o["name"] for o in data["optimizers"]) == sorted(result.names)
    assert data["n"] == result.n_points and data["steps"] == result.steps
    span = float(np.ptp(np.asarray(data["view"]), axis=1).max())
    rows = data["rows"]
    for name in result.names:
        got = race_positions(data, name)
        want = np.asarray(result.trajectories[name])[rows]
        if result.dim == 1:  # 1-D: x and the lane
            got, want = got[..., :1], want
        shown = np.isfinite(got)
        assert shown[0].all()  # the starts are in view
        np.testing.assert_allclose(got[shown], want[shown], atol=2e-4 * span, rtol=0)


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def values(a) -> np.ndarray:
    """A Plotly JSON array: a list, or ``{"dtype", "bdata"}`` (base64)."""
    if isinstance(a, dict) and "bdata" in a:
        return np.frombuffer(base64.b64decode(a["bdata"]), a["dtype"])
    return np.asarray(a, dtype=float)


def same_race(a: Scene, b: Scene) -> bool:
    """The same scene, schedules and hooks compared as what they run (their texts may differ)."""
    return scene_state.difference(a, b) is None and (a.error, a.tol) == (b.error, b.tol)


def query_of(at: AppTest) -> dict[str, str]:
    return {k: at.query_params[k] for k in at.query_params}


SCENE = Scene.from_run_kwargs(ROSEN_FN, {"Adam": {"alpha": 0.05}, "NAG": {"mu": 0.95}, "SantaE": {}},
                              Starts.random(7, seed=3), 250, seed=3, schedule="warmup:steps=20+cosine",
                              hooks=["clip:max_norm=5"])


@pytest.fixture(scope="module")
def linked() -> AppTest:
    """A session opened with :data:`SCENE`'s link."""
    return fresh(SCENE.to_query())


# ---------------------------------------------------------------------- a typed function
def test_a_typed_function_races_like_any_other():
    at = fresh(fn_source="Your own")
    assert at.sidebar.text_input(key="expr").value == ROSEN
    assert any("global minimum given at (1, 1)" in c.value for c in at.sidebar.caption)
    data = race(at)
    hp = {o["name"]: {s["hp"]: s["values"][s["index"]] for s in o["sliders"]} for o in data["optimizers"]}
    starts = optviz.scene.starts.grid([[-2, 2], [-1, 3]], 4)
    assert_race_is(data, optviz.run(ROSEN_FN, hp, starts, data["steps"]))
    header = next(m.value for m in at.markdown if m.value.startswith("#### "))
    assert header.startswith(r"#### (1 - x)\*\*2 + 100\*(y - x\*\*2)\*\*2:")  # shown as typed, not bold
    assert at.dataframe, "the results table"
    assert [t.label for t in at.tabs][:2] == ["Race", "Your function"]


def test_the_typed_function_is_checked_as_it_is_typed_with_a_caret_at_the_column():
    at = fresh(fn_source="Your own")
    at.sidebar.text_input(key="expr").input("(1 - x)**2 + 100*(y - x**2").run()
    assert not at.exception
    assert any("syntax error at column 18" in e for e in errors(at)), errors(at)
    assert any(e.startswith("Your function (edit it in the sidebar):") for e in errors(at))
    assert [c.value for c in at.sidebar.code] == ["(1 - x)**2 + 100*(y - x**2\n" + " " * 17 + "^"]
    assert not has_race(at)
    at.sidebar.text_input(key="expr").input("x**4 - 3*x**2 + x").run()
    at.sidebar.text_input(key="expr_box").input("-2.5, 2.5").run()
    at.sidebar.text_input(key="expr_min").input("").run()
    assert not errors(at), errors(at)
    assert any("1-D · typed function; global minimum estimated numerically at (-1.30084)" in c.value
               for c in at.sidebar.caption)
    data = race(at)
    assert data["dim"] == 1 and data["n"] == 4  # a 1-D grid of 4


@pytest.mark.parametrize("example", ["", "Himmelblau (four minima)"])
def test_a_new_formula_never_keeps_the_minimizer_or_box_of_the_one_before(example):
    at = fresh(fn_source="Your own")
    if example:  # an example sets all three boxes; typing a formula then drops its box and minima
        at.sidebar.selectbox(key="expr_example").select(example).run()
    before_box = at.sidebar.text_input(key="expr_box").value
    at.sidebar.text_input(key="expr").input("x**2 + 10*y**2").run()
    assert not errors(at), errors(at)  # the bug: "(1, 1) is not a global minimizer ..."
    assert at.sidebar.text_input(key="expr_min").value == ""
    assert at.sidebar.text_input(key="expr_box").value == "" != before_box
    assert any("global minimum estimated numerically at (0, 0)" in c.value for c in at.sidebar.caption)
    data = race(at)
    fn = functions.from_expression("x**2 + 10*y**2")
    starts = optviz.scene.starts.grid(fn.box, 4)  # the starts fill the new box, not Rosenbrock's
    shown = next(t for t in data["race"]["above"] if t.get("meta") == "starts")
    assert np.allclose(values(shown["x"]), starts[:, 0]) and np.allclose(values(shown["y"]), starts[:, 1])
    # the box typed for this formula stays when the formula changes again
    at.sidebar.text_input(key="expr_box").input("-3, 3, -3, 3").run()
    at.sidebar.text_input(key="expr").input("x**2 + 20*y**2").run()
    assert not errors(at), errors(at)
    assert at.sidebar.text_input(key="expr_box").value == "-3, 3, -3, 3"


def test_nothing_typed_runs_code(tmp_path):
    target = tmp_path / "owned"
    at = fresh(fn_source="Your own")
    for text in (f"__import__('os').system('touch {target}')", f"open('{target}', 'w')",
                 "().__class__.__bases__[0].__subclasses__()", "lambda: 1", "[x for x in (1, 2)]"):
        at.sidebar.text_input(key="expr").input(text).run()
        assert not at.exception
        assert errors(at) and not has_race(at)
    assert not target.exists()


def test_examples_fill_the_editor_and_the_preview_shows_the_function():
    at = fresh(fn_source="Your own")
    at.sidebar.selectbox(key="expr_example").select("Ripples in a bowl").run()
    assert at.sidebar.text_input(key="expr").value == "sin(3*x)*cos(y) + (x**2 + y**2)/10"
    assert at.sidebar.text_input(key="expr_min").value == ""
    at.session_state["view"] = "Your function"
    run_ok(at)
    assert any("The minimum was estimated" in i.value for i in at.info)
    assert any(r"\sin" in x.value for x in at.latex)
    kinds = [[t["type"] for t in c["data"]] for c in charts(at)]
    assert ["surface", "scatter3d"] in kinds  # the 3-D surface with the minimum
    assert any("scatter" in k for k in kinds)  # the landscape as the race draws it
    landscape = next(c for c in charts(at) if c["layout"].get("images"))
    assert landscape["layout"]["images"][0]["source"].startswith("data:image/jpeg;base64,")


def test_the_function_tab_is_only_for_a_typed_function():
    at = fresh()
    assert "Your function" not in [t.label for t in at.tabs]


def test_preview_figures_for_1d_and_2d():
    f1 = functions.from_expression("x**4 - 3*x**2 + x", box=[-2.5, 2.5])
    fig = typed_view.curve_figure(f1)
    assert [t.type for t in fig.data] == ["scatter", "scatter"] and len(fig.data[1].x) == 1
    f2 = functions.from_expression("x**2 + 25*y**2", box=[-3, 3, -3, 3], minimizers=[[0, 0]])
    surf = typed_view.surface_figure(f2)
    assert surf.data[0].type == "surface" and surf.data[1].x == (0.0,)


@pytest.mark.parametrize(("text", "parsed"), [
    ("", None), ("-2, 2", [[-2.0, 2.0]]), ("-2 2 -1 3", [[-2.0, 2.0], [-1.0, 3.0]]),
])
def test_box_text(text, parsed):
    assert typed.parse_box(text) == parsed


@pytest.mark.parametrize(("text", "message"), [
    ("1, 2, 3", "got 3 number(s)"), ("2, 1", "the range of x needs lo < hi"), ("a, 1", "'a'"),
    ("1e309, 2", "too large"),
])
def test_bad_box_text(text, message):
    with pytest.raises(ValueError, match=None) as info:
        typed.parse_box(text)
    assert message in str(info.value)


def test_minimizer_text():
    assert typed.parse_minimizers("") is None
    assert typed.parse_minimizers(" none ") == []
    assert typed.parse_minimizers("1, 1; -1, 2\n0 0") == [[1.0, 1.0], [-1.0, 2.0], [0.0, 0.0]]


# ---------------------------------------------------------------------- scenes through the URL
def test_the_url_holds_the_scene_on_screen():
    at = fresh()
    q = query_of(at)
    assert q["v"] == str(VERSION) and q["fn"] == "himmelblau" and q["starts"] == "grid:n=4"
    assert q["rates"] == "tuned"  # the page's rates: the function's tuned table
    scene = Scene.from_query(q)
    assert_race_is(race(at), scene.run())
    at.sidebar.slider(key="steps").set_value(120).run()
    assert query_of(at)["steps"] == "120"


def test_opening_a_link_gives_the_identical_race(linked):
    at = linked
    assert not errors(at), errors(at)
    assert at.session_state["fn_source"] == "Your own" and at.session_state["start_mode"] == "Random"
    assert same_race(Scene.from_query(query_of(at)), SCENE)  # the page's own link is the same scene
    assert_race_is(race(at), SCENE.run())
    # the exact numbers: the results table is the scene's run
    table = at.dataframe[0].value
    summary = {r["optimizer"]: r for r in SCENE.run().summary("distance", tol=SCENE.tol)}
    for name, final in zip(table["optimizer"], table["median final distance"], strict=True):
        want = summary[name]["final_median"]
        if want is None or not np.isfinite(want):
            assert str(final) in ("—", "nan", "None")
        else:
            assert float(final) == pytest.approx(want, rel=1e-2)


#: A scene with every gradient setting the race has a control for: noise (relative) and delay.
NOISY = Scene.from_run_kwargs("himmelblau", {"Adam": {}, "RMSprop": {}}, Starts.grid(3), 60, seed=4,
                              noise=0.05, noise_mode="relative", delay=3)


def test_a_link_with_gradient_noise_and_delay_races_that_scene_and_the_noise_control_follows():
    at = fresh(NOISY.to_query())
    assert not errors(at), errors(at)
    assert (at.session_state["noise"], at.session_state["noise_mode"], at.session_state["delay"]) == (
        0.05, "relative", 3)
    q = query_of(at)
    assert (q["noise"], q["noise_mode"], q["delay"]) == ("0.05", "relative", "3")
    assert same_race(Scene.from_query(q), NOISY)
    assert_race_is(race(at), NOISY.run())
    # the results table is the noisy run's
    table = at.dataframe[0].value
    summary = {r["optimizer"]: r for r in NOISY.run().summary("distance", tol=NOISY.tol)}
    for name, final in zip(table["optimizer"], table["median final distance"], strict=True):
        assert float(final) == pytest.approx(summary[name]["final_median"], rel=1e-2)
    # the sidebar's noise control changes the race and the link
    at.sidebar.number_input(key="noise").set_value(0.2)
    run_ok(at)
    assert query_of(at)["noise"] == "0.2"
    assert_race_is(race(at), dataclasses.replace(NOISY, noise=0.2).run())
    at.sidebar.number_input(key="noise").set_value(0.0)
    run_ok(at)
    assert "noise" not in query_of(at)


def test_a_float32_link_races_in_single_precision():
    scene = Scene.from_run_kwargs("himmelblau", {"Adam": {}}, Starts.grid(2), 30, dtype="float32")
    at = fresh(scene.to_query())
    assert not errors(at), errors(at)
    assert at.session_state["dtype"] == "float32" and query_of(at)["dtype"] == "float32"
    result = scene.run()
    assert np.asarray(result.trajectories["Adam"]).dtype == np.float32
    assert_race_is(race(at), result)


def test_a_link_with_typed_starts_and_changed_hyperparameters():
    opts = {"RMSprop": {"eta": 0.0123456789, "rho": 0.9}, "MSGD": {}}
    scene = Scene.from_run_kwargs("six_hump_camel", opts, [[-1.234567890123, 0.5], [1.0, -0.7]], 77, seed=11,
                                  schedule="exponential:gamma=0.987654321", hooks=[
                                      "lars:threshold=0.02,weight_decay=0.001", "weight_decay:rate=0.0005"])
    at = fresh(scene.to_query())
    assert not errors(at), errors(at)
    assert at.session_state["start_mode"] == "Typed"
    assert Scene.from_query(query_of(at)) == scene
    assert_race_is(race(at), scene.run())


B = {"v": "1", "fn": "rosenbrock", "opt": "Adam", "starts": "grid"}  # a good link to spoil
E = {"v": "1", "opt": "Adam", "starts": "grid"}  # the same, with a typed function to add
BAD_LINKS = [
    ({k: v for k, v in B.items() if k != "v"}, "URL parameter 'v' (the scene version) is missing"),
    ({**B, "v": str(VERSION + 1)}, f"made by a newer optviz (scene version {VERSION + 1})"),
    ({**B, "colour": "red"}, "URL parameter 'colour': unknown; valid: v, fn"),
    ({**B, "fn": "rosenbrok"}, "function.name: unknown test function"),
    ({**B, "opt": "Adamm"}, "URL parameter 'opt'"),
    ({**B, "opt": "Adam:alpha=20"}, "optimizers.Adam.alpha must be in"),
    ({**B, "steps": "many"}, "URL parameter steps: expected a whole number"),
    ({**B, "steps": "5000"}, "steps: the page runs 10 to 3,000 steps; this scene has 5,000"),
    ({**B, "starts": "random:n=100000"}, "starts.n: must be a whole number"),
    ({**B, "dim": "3", "starts": "grid:n=2"}, "function.dim: the page draws 1-D and 2-D functions"),
    ({**E, "expr": "__import__('os').system('echo owned')", "box": "-1,1"},
     "function.expression: only the listed functions may be called"),
    ({**E, "expr": "9**9**9"}, "is too large"),
    ({**B, "sched": "warmup:steps=5+step:every=3"}, "schedule: the page's controls offer constant, step"),
    ({**B, "noise": "-0.1"}, "noise: must be"),
    ({**B, "delay": "5000"}, "delay: must be"),
    ({**B, "starts": "points", "pts": "1,2,3"}, "starts.points: points have 3 coordinate(s)"),
]


@pytest.mark.parametrize(("query", "phrase"), BAD_LINKS, ids=[p for _, p in BAD_LINKS])
def test_a_malformed_link_is_named_and_the_page_keeps_its_scene(query, phrase):
    at = fresh(query)
    msgs = errors(at)
    assert any(m.startswith("This link could not be opened:") and phrase in m for m in msgs), msgs
    assert all(len(m) < 700 for m in msgs)
    data = race(at)  # the page's own scene instead
    assert [o["name"] for o in data["optimizers"]][:1] == ["SGD"] and data["n"] == 16
    assert query_of(at) == query  # the link stays in the address bar to be fixed
    at.button(key="share_dismiss").click().run()
    assert not errors(at)


# ---------------------------------------------------------------------- scene files
def test_download_holds_the_scene_and_load_opens_one(tmp_path):
    at = fresh()
    assert at.sidebar.get("download_button"), "the Download button"
    scene = Scene.from_run_kwargs(functions.from_expression("x**2 + 25*y**2", box=[-3, 3, -3, 3]),
                                  {"Adam": {"alpha": 0.3}, "AdaGrad": {"eta": 0.5}}, Starts.ring(12, 0.5), 90,
                                  seed=5, error="loss", tol=0.01)
    at.sidebar.file_uploader(key="scene_upload").set_value(("ring.json", scene.to_json().encode(),
                                                            "application/json")).run()
    assert not at.exception
    assert any("Loaded ring.json" in s.value for s in at.sidebar.success), errors(at)
    assert at.session_state["start_mode"] == "Ring" and at.session_state["error_kind"] == "loss"
    assert same_race(Scene.from_query(query_of(at)), scene)
    assert_race_is(race(at), scene.run())


@pytest.mark.parametrize(("content", "phrase"), [
    (b"{not json", "scene: not valid JSON (line 1, column 2"),
    (b"\xff\xfe", "scene: not UTF-8 text"),
    (json.dumps({"version": 1, "function": {"name": "rosenbrock"}, "optimizers": ["Adam"],
                 "starts": {"mode": "grid"}, "speed": 3}).encode(), "speed: unknown key"),
    (json.dumps({"version": 9}).encode(), "saved by a newer optviz (scene version 9)"),
    (json.dumps({"version": 1, "function": {"name": "rosenbrock"}, "optimizers": {"Adam": {"alpha": "fast"}},
                 "starts": {"mode": "grid"}}).encode(), "optimizers.Adam.alpha: expected a number"),
])
def test_a_malformed_scene_file_is_refused_with_its_message(content, phrase):
    at = fresh()
    before = query_of(at)
    at.sidebar.file_uploader(key="scene_upload").set_value(("bad.json", content, "application/json")).run()
    assert not at.exception
    msgs = errors(at)
    assert any(m.startswith("bad.json could not be loaded:") and phrase in m for m in msgs), msgs
    assert query_of(at) == before  # the page keeps its scene


# ---------------------------------------------------------------------- inside an optimizer
@pytest.fixture(scope="module")
def inside_at() -> AppTest:
    at = fresh(SCENE.to_query(), view="Inside an optimizer")
    at.session_state["inside_step"] = 40
    at.session_state["inside_start"] = 2
    return run_ok(at)


def test_inside_shows_adams_moments_and_step_on_a_typed_function(inside_at):
    at = inside_at
    assert at.selectbox(key="inside_opt").value == "Adam"
    assert any(m.value.startswith("#### Inside Adam: start #3, step 40 of 250") for m in at.markdown)
    res = optviz.run(**SCENE.run_kwargs(), record_state=True)
    s = res.states["Adam"]
    table = at.dataframe[-1].value
    rows = dict(zip(table["quantity"], zip(table["x"], table["y"], strict=True), strict=True))
    np.testing.assert_allclose(rows["gradient g"], s["grad"][40, 2], rtol=1e-12)
    np.testing.assert_allclose(rows["m (first moment)"], s["m"][40, 2], rtol=1e-12)
    np.testing.assert_allclose(rows["v (second moment)"], s["v"][40, 2], rtol=1e-12)
    np.testing.assert_allclose(rows["update Δx"], s["update"][40, 2], rtol=1e-12)
    np.testing.assert_allclose(rows["effective step Δx / (−g)"], -s["update"][40, 2] / s["grad"][40, 2],
                               rtol=1e-12)
    path, states = charts(at)[-2:]
    # the path is the race's path of that start; the Δx arrow is the step taken (to scale or magnified)
    trace = next(t for t in path["data"] if t.get("name") == "path")
    np.testing.assert_allclose(values(trace["x"]), res.trajectories["Adam"][:41, 2, 0])
    arrows = [a for a in path["layout"]["annotations"] if a.get("showarrow")]
    (dx,) = [a for a in arrows if a["arrowcolor"] != "#333333"]
    p = res.trajectories["Adam"][39, 2]
    k = (dx["x"] - dx["ax"]) / s["update"][40, 2, 0]
    assert (dx["ax"], dx["ay"]) == pytest.approx(tuple(p))
    assert k >= 1 and np.log10(k) == pytest.approx(round(np.log10(k)))
    assert dx["y"] - dx["ay"] == pytest.approx(k * s["update"][40, 2, 1])
    titles = [a["text"] for a in states["layout"]["annotations"]]
    assert titles == ["gradient g", "m (first moment)", "v (second moment)", "update Δx",
                      "effective step size Δx / (−g)"]


def test_inside_follows_the_chosen_optimizer_and_step(inside_at):
    at = inside_at
    at.selectbox(key="inside_opt").select("SantaE").run()
    assert not at.exception
    at.slider(key="inside_step").set_value(7).run()
    assert any(m.value.startswith("#### Inside SantaE: start #3, step 7") for m in at.markdown)
    titles = [a["text"] for a in charts(at)[-1]["layout"]["annotations"]]
    assert "α (thermostat)" in titles and "u" in titles
    res = optviz.run(**SCENE.run_kwargs())
    trace = next(t for t in charts(at)[-2]["data"] if t.get("name") == "path")
    np.testing.assert_array_equal(values(trace["x"]), res.trajectories["SantaE"][:8, 2, 0])  # the race's


def test_inside_on_a_1d_function():
    at = fresh(fn_source="Your own", expr="x**4 - 3*x**2 + x", expr_box="-2.5, 2.5", expr_min="",
               view="Inside an optimizer", inside_step=5)
    assert not errors(at), errors(at)
    path = charts(at)[-2]
    arrows = [a for a in path["layout"]["annotations"] if a.get("showarrow")]
    assert len(arrows) == 2 and all(a["y"] == pytest.approx(a["ay"]) for a in arrows)  # along x


# ---------------------------------------------------------------------- the recorded state
def test_adams_m_is_the_moving_average_of_the_recorded_gradients():
    hp = {"alpha": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-8}
    res = optviz.run(ROSEN_FN, {"Adam": hp}, [[-1.5, 2.0], [0.5, -0.5], [1.8, 2.9]], 60, record_state=True)
    s = res.states["Adam"]
    g = s["grad"]
    assert np.isnan(g[0]).all() and np.isfinite(g[1:]).all()
    m = np.zeros_like(g[1])
    v = np.zeros_like(g[1])
    for t in range(1, 61):
        m = hp["beta1"] * m + (1 - hp["beta1"]) * g[t]
        v = hp["beta2"] * v + (1 - hp["beta2"]) * g[t] ** 2
        np.testing.assert_allclose(s["m"][t], m, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(s["v"][t], v, rtol=1e-12, atol=1e-300)
    # and the gradient is f's at the point before the step; the update is the step taken
    np.testing.assert_allclose(g[1:], ROSEN_FN.grad(res.trajectories["Adam"][:-1].reshape(-1, 2)).reshape(
        60, 3, 2), rtol=1e-12)
    np.testing.assert_allclose(s["update"][1:], np.diff(res.trajectories["Adam"], axis=0), rtol=1e-9,
                               atol=1e-15)


@pytest.mark.parametrize("name", ["SGD", "MSGD", "RMSprop", "Adam", "AdaBound", "SantaE", "Eve"])
def test_the_effective_step_is_update_over_minus_gradient(name):
    hp = {"eta": 1e-3} if name == "SantaE" else {}  # (its default rate diverges here within 6 steps)
    res = optviz.run("himmelblau", {name: hp}, [[-1.0, 1.0], [2.0, 1.0]], 30, record_state=True)
    s = res.states[name]
    eff = inside.effective_step(s["grad"][1:], s["update"][1:])
    moved = np.isfinite(eff)  # not where g is 0 (or after a point diverged)
    assert moved.all()
    np.testing.assert_allclose((eff * -s["grad"][1:])[moved], s["update"][1:][moved], rtol=1e-9, atol=1e-15)
    if name == "SGD":
        np.testing.assert_allclose(eff, optviz.REGISTRY["SGD"].defaults["eta"], rtol=1e-12)


def test_arrow_scale_magnifies_short_steps_by_powers_of_ten():
    assert inside.arrow_scale(np.array([1.0, 0.0]), 5.0) == 1.0
    assert inside.arrow_scale(np.array([1e-3, 0.0]), 5.0) == 1000.0
    assert inside.arrow_scale(np.array([0.0, 0.0]), 5.0) == 1.0

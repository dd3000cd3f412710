"""The dashboard through Streamlit's AppTest (no browser): widgets take, figures follow, errors are friendly.

The figure JSON is read from ``at.get("plotly_chart")[i].proto.spec``; NumPy arrays come as
``{"dtype", "bdata"}`` (base64) and are decoded here.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

import functions
import optviz
from optviz import plots
from optviz.optimizers import ARTICLE, NAMES

APP = str(Path(__file__).resolve().parents[1] / "app.py")


# ---------------------------------------------------------------------- helpers
def arr(a) -> np.ndarray:
    """A Plotly JSON array (plain list or typed {"dtype", "bdata"}) as a float NumPy array."""
    if isinstance(a, dict) and "bdata" in a:
        return np.frombuffer(base64.b64decode(a["bdata"]), a["dtype"]).astype(float)
    return np.asarray([np.nan if v is None else v for v in a], dtype=float)


def figures(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def race(at: AppTest) -> dict:
    """The trajectory figure (the one with animation frames)."""
    figs = [f for f in figures(at) if f.get("frames")]
    assert len(figs) == 1, "expected exactly one animated trajectory figure"
    return figs[0]


def trace(fig: dict, name: str, mode: str) -> dict:
    found = [t for t in fig["data"] if t.get("name") == name and t.get("mode") == mode]
    assert found, f"no {mode} trace named {name}"
    return found[0]


def marker_names(fig: dict) -> list[str]:
    return [t["name"] for t in fig["data"] if t.get("mode") == "markers" and t.get("name") in NAMES]


def messages(at: AppTest) -> str:
    return " | ".join(str(e.value) for kind in ("error", "warning", "info") for e in getattr(at, kind))


def fresh() -> AppTest:
    return run_ok(AppTest.from_file(APP, default_timeout=60))


def open_panel(at: AppTest, *names: str) -> AppTest:
    """Open optimizers' hyperparameter panels (their sliders are only built while open)."""
    for name in names:
        at.session_state[f"exp__{name}"] = True
    return run_ok(at)


@pytest.fixture
def at() -> AppTest:
    return fresh()


def run_ok(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    assert not any("Unexpected error" in str(e.value) for e in at.error), messages(at)
    return at


# ---------------------------------------------------------------------- the default scene
def test_default_scene_has_every_optimizer_and_consistent_frames(at: AppTest):
    assert not at.error
    assert at.sidebar.selectbox(key="function").value == "rosenbrock"
    fig = race(at)
    assert marker_names(fig) == list(NAMES)  # one legend entry (moving markers) per optimizer
    for name in NAMES:
        path = trace(fig, name, "lines")
        assert path["showlegend"] is False and path["legendgroup"] == name
        assert trace(fig, name, "markers")["marker"]["color"] == optviz.style.color(name)

    frames = fig["frames"]
    steps = fig["layout"]["sliders"][0]["steps"]
    labels = [s["label"] for s in steps]
    assert 2 <= len(frames) <= plots.MAX_FRAMES
    assert len(frames) == len(steps) == plots.MAX_FRAMES  # 301 recorded rows strided to the cap
    assert labels == [f["name"] for f in frames]
    assert labels[0] == "0" and labels[-1] == "300"
    assert [int(v) for v in labels] == sorted(int(v) for v in labels)
    # Frames only touch the moving markers and the diverged crosses.
    moving = [i for i, t in enumerate(fig["data"]) if t.get("mode") == "markers" and t.get("name") in NAMES]
    cross = [i for i, t in enumerate(fig["data"]) if t.get("name") == "diverged"]
    assert frames[0]["traces"] == moving + cross
    assert all(len(f["data"]) == len(moving) + 1 for f in frames)
    # Axes stay on the function's box.
    box = functions.get("rosenbrock").box
    assert fig["layout"]["xaxis"]["range"] == pytest.approx(box[0].tolist())
    assert fig["layout"]["yaxis"]["range"] == pytest.approx(box[1].tolist())
    # Log-spaced contour levels for Rosenbrock, with the star at (1, 1).
    star = next(t for t in fig["data"] if t.get("name") == "global minimum")
    assert arr(star["x"]).tolist() == [1.0] and arr(star["y"]).tolist() == [1.0]
    # The landscape is a picture under the axes, exactly over the box; a trace carries the colour bar.
    (image,) = fig["layout"]["images"]
    assert image["source"].startswith("data:image/jpeg;base64,") and image["layer"] == "below"
    assert (image["x"], image["y"]) == (box[0, 0], box[1, 1])
    assert (image["sizex"], image["sizey"]) == (box[0, 1] - box[0, 0], box[1, 1] - box[1, 0])
    assert "f − f*" in fig["data"][0]["marker"]["colorbar"]["title"]["text"]
    # Play/pause buttons.
    labels = [b["label"] for b in fig["layout"]["updatemenus"][0]["buttons"]]
    assert any("Play" in b for b in labels) and any("Pause" in b for b in labels)
    assert fig["layout"]["sliders"][0]["currentvalue"]["prefix"] == "step "


def test_figures_are_valid_plotly(at: AppTest):
    # The figures skip graph_objects validation for speed: validate their JSON here instead.
    for spec in figures(at):
        go.Figure(spec)


def test_results_table_and_error_curves(at: AppTest):
    table = at.dataframe[0].value
    assert sorted(table["optimizer"]) == sorted(NAMES)
    assert list(table.index) == list(range(1, len(NAMES) + 1))
    err = next(f for f in figures(at) if not f.get("frames"))
    assert err["layout"]["yaxis"]["type"] == "log"
    medians = [t for t in err["data"] if t.get("mode") == "lines" and "fill" not in t]
    assert {t["name"] for t in medians} == set(NAMES)


# ---------------------------------------------------------------------- interaction
def test_hyperparameter_slider_changes_only_that_optimizer(at: AppTest):
    before = race(at)
    assert not at.get("select_slider") or "hp__Adam__alpha" not in [w.key for w in at.select_slider]  # closed
    open_panel(at, "Adam")
    widget = at.select_slider(key="hp__Adam__alpha")
    assert widget.value == pytest.approx(1e-3)
    widget.set_value(0.05)
    run_ok(at)
    assert at.select_slider(key="hp__Adam__alpha").value == pytest.approx(0.05)  # it took
    after = race(at)
    old, new = trace(before, "Adam", "lines"), trace(after, "Adam", "lines")
    assert not np.array_equal(arr(old["x"]), arr(new["x"]), equal_nan=True)
    # Another optimizer's numbers are untouched (its cached run is reused).
    for name in ("NAG", "SantaE"):
        a, b = trace(before, name, "lines"), trace(after, name, "lines")
        np.testing.assert_array_equal(arr(a["x"]), arr(b["x"]))
    # The last frame moved Adam's markers somewhere else too.
    k = marker_names(after).index("Adam")
    last_before, last_after = before["frames"][-1]["data"][k], after["frames"][-1]["data"][k]
    assert not np.allclose(arr(last_before["x"]), arr(last_after["x"]))


def test_hyperparameters_survive_deselecting_the_optimizer(at: AppTest):
    open_panel(at, "Adam")
    at.select_slider(key="hp__Adam__alpha").set_value(0.05)
    run_ok(at)
    at.sidebar.multiselect(key="optimizers").set_value(["NAG"])
    run_ok(at)
    at.run()  # a second run without Adam's widgets on the page
    at.sidebar.multiselect(key="optimizers").set_value(["NAG", "Adam"])
    open_panel(at, "Adam")
    assert at.select_slider(key="hp__Adam__alpha").value == pytest.approx(0.05)


def test_reset_button_restores_defaults(at: AppTest):
    open_panel(at, "NAG")
    at.select_slider(key="hp__NAG__mu").set_value(0.5)
    run_ok(at)
    assert at.select_slider(key="hp__NAG__mu").value == 0.5
    at.button(key="reset__NAG").click()
    run_ok(at)
    assert at.select_slider(key="hp__NAG__mu").value == pytest.approx(0.9)


def test_changing_the_function_changes_the_figure(at: AppTest):
    before = race(at)
    at.sidebar.selectbox(key="function").select("himmelblau")
    run_ok(at)
    assert at.sidebar.selectbox(key="function").value == "himmelblau"
    after = race(at)
    box = functions.get("himmelblau").box
    assert after["layout"]["xaxis"]["range"] == pytest.approx(box[0].tolist())
    assert before["layout"]["images"][0]["source"] != after["layout"]["images"][0]["source"]
    star = next(t for t in after["data"] if t.get("name") == "global minimum")
    assert len(arr(star["x"])) == 4  # Himmelblau's four minima
    assert any("Himmelblau" in str(m.value) for m in at.markdown)


def test_dimension_choice_for_n_d_families(at: AppTest):
    at.sidebar.selectbox(key="function").select("rastrigin")
    run_ok(at)
    at.sidebar.radio(key="dim").set_value(1)
    run_ok(at)
    assert at.sidebar.radio(key="dim").value == 1
    fig = race(at)
    assert fig["layout"]["yaxis"]["title"]["text"] == "f(x)"  # the 1-D curve view


def test_no_optimizer_gives_a_friendly_message(at: AppTest):
    at.sidebar.multiselect(key="optimizers").set_value([])
    run_ok(at)
    assert at.sidebar.multiselect(key="optimizers").value == []
    assert "Choose at least one optimizer" in messages(at)
    assert not at.get("plotly_chart")


def test_quick_pick_group(at: AppTest):
    at.sidebar.selectbox(key="quick_pick").select("santa")
    run_ok(at)
    assert at.sidebar.multiselect(key="optimizers").value == ["SantaE", "SantaSSS"]
    assert marker_names(race(at)) == ["SantaE", "SantaSSS"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1, abc", "is not a number"), ("1, 2, 3", "3 number(s)"), ("", "at least one"),
     ("__import__('os')", "is not a number")],
)
def test_bad_typed_start_gives_an_error_message(at: AppTest, text: str, expected: str):
    at.sidebar.radio(key="start_mode").set_value("Typed")
    run_ok(at)
    at.sidebar.text_area(key="typed_starts").input(text)
    run_ok(at)
    assert at.error, "expected an error message"
    assert expected in at.error[0].value
    assert not at.get("plotly_chart")


def test_typed_starts_are_used(at: AppTest):
    at.sidebar.radio(key="start_mode").set_value("Typed")
    run_ok(at)
    at.sidebar.text_area(key="typed_starts").input("(-1.5, 2.5); (0.5, -0.5)")
    run_ok(at)
    assert not at.error
    fig = race(at)
    start = next(t for t in fig["data"] if t.get("name") == "start")
    assert arr(start["x"]).tolist() == [-1.5, 0.5] and arr(start["y"]).tolist() == [2.5, -0.5]


def test_exploding_learning_rate_is_reported_as_diverged(at: AppTest):
    at.sidebar.multiselect(key="optimizers").set_value(["SGD"])
    open_panel(at, "SGD")
    at.select_slider(key="hp__SGD__eta").set_value(10.0)
    run_ok(at)
    assert at.select_slider(key="hp__SGD__eta").value == 10.0
    assert "Every point of every optimizer diverged" in messages(at)
    assert "SGD" in messages(at) and "diverged" in messages(at)
    fig = race(at)
    cross = next(t for t in fig["data"] if t.get("name") == "diverged")
    assert len(cross["text"]) == 16  # one cross per start (hover text), shown from its divergence step
    last = fig["frames"][-1]["data"][-1]
    assert np.isfinite(arr(last["x"])).sum() == 16
    moving = fig["frames"][-1]["data"][0]
    assert np.isnan(arr(moving["x"])).all()  # diverged markers are hidden, no wild points
    assert at.dataframe[0].value["diverged"].tolist() == ["16/16"]


def test_article_preset_gives_the_1d_race(at: AppTest):
    at.sidebar.button(key="load_article").click()
    run_ok(at)
    assert at.sidebar.selectbox(key="function").value == "quartic"
    assert at.sidebar.multiselect(key="optimizers").value == list(ARTICLE)
    open_panel(at, "Adam", "SantaE")
    assert at.select_slider(key="hp__Adam__alpha").value == pytest.approx(0.4)
    assert at.slider(key="hp__SantaE__burnin").value == 50
    assert at.sidebar.slider(key="steps").value == 100
    assert at.sidebar.number_input(key="seed").value == 32
    fig = race(at)
    assert fig["layout"]["xaxis"]["title"]["text"] == "x"
    assert fig["layout"]["yaxis"]["title"]["text"] == "f(x)"
    curve = fig["data"][0]
    assert curve["mode"] == "lines" and len(arr(curve["x"])) >= 100
    assert marker_names(fig) == list(ARTICLE)
    assert len(fig["frames"]) == 101  # every step of 100 is a frame
    # Each dot sits on the curve: y = f(x) in every frame.
    f = functions.get("quartic")
    k = marker_names(fig).index("Adam")
    for frame in fig["frames"][::25]:
        x, y = arr(frame["data"][k]["x"]), arr(frame["data"][k]["y"])
        np.testing.assert_allclose(y, f.value(x[:, None]), rtol=1e-4, atol=1e-4)
    assert arr(fig["frames"][0]["data"][k]["x"]).tolist() == [-3.0]


def test_cupy_without_gpu_is_friendly(at: AppTest):
    at.sidebar.radio(key="backend").set_value("CuPy")
    run_ok(at)
    ok, _ = optviz.gpu_status()
    if ok:
        assert "cupy" in " ".join(str(c.value) for c in at.caption)
    else:
        assert "CuPy is not usable here" in messages(at)
        assert at.get("plotly_chart")  # it fell back to NumPy and still drew


def test_schedule_hooks_and_error_kind(at: AppTest):
    at.sidebar.multiselect(key="optimizers").set_value(["Adam", "NAG"])
    run_ok(at)
    at.selectbox(key="schedule").select("warm-up + cosine")
    at.checkbox(key="hook_clip").check()
    at.sidebar.selectbox(key="error_kind").select("gap")
    at.sidebar.select_slider(key="tol").set_value(1e-2)
    run_ok(at)
    caption = " ".join(str(c.value) for c in at.caption)
    assert "warmup" in caption and "cosine" in caption and "clip" in caption
    err = next(f for f in figures(at) if not f.get("frames"))
    assert err["layout"]["yaxis"]["title"]["text"] == "f(x) − f*"
    assert err["layout"]["shapes"][0]["y0"] == pytest.approx(1e-2)
    assert "median final f − f*" in at.dataframe[0].value.columns


def test_bad_function_parameter_is_friendly(at: AppTest):
    at.sidebar.selectbox(key="function").select("long_valley")
    run_ok(at)
    at.sidebar.number_input(key="fparam__long_valley__kappa").set_value(-5.0)
    run_ok(at)
    assert at.error and "kappa" in at.error[0].value


def test_projector_mode_enlarges_fonts(at: AppTest):
    small = race(at)["layout"]["font"]["size"]
    at.sidebar.toggle(key="large_font").set_value(True)
    run_ok(at)
    assert race(at)["layout"]["font"]["size"] > small


# ---------------------------------------------------------------------- the caching design
def test_per_optimizer_runs_merge_to_the_joint_run():
    # The dashboard caches one run per optimizer and merges them: the numbers must equal one
    # joint run (Santa's noise depends only on the seed and the optimizer's name).
    fn = functions.get("rosenbrock")
    starts = optviz.starts.grid(fn.box, 3)
    names = ["SantaE", "Adam", "SantaSSS", "NAG"]
    joint = optviz.run(fn, names, starts, 60, seed=7)
    merged = optviz.Result.merge([optviz.run(fn, [n], starts, 60, seed=7) for n in names])
    for n in names:
        np.testing.assert_array_equal(joint.trajectories[n], merged.trajectories[n])


# ---------------------------------------------------------------------- export
@pytest.mark.parametrize(("button", "suffix"), [("export_gif", ".gif"), ("export_png", ".png")])
def test_export_renders_the_scene_and_offers_the_download(at: AppTest, button: str, suffix: str):
    at.sidebar.multiselect(key="optimizers").set_value(["Adam", "NAG"])
    at.sidebar.slider(key="steps").set_value(20)
    run_ok(at)
    at.button(key=button).click()
    run_ok(at)
    path, _ = at.session_state["export_file"]
    assert path.endswith(suffix) and Path(path).stat().st_size > 1000
    downloads = at.get("download_button")
    assert downloads and downloads[0].proto.label == f"Download {suffix[1:].upper()}"
    # A changed scene does not offer the old file.
    at.sidebar.slider(key="steps").set_value(30)
    run_ok(at)
    assert not at.get("download_button")


def test_tune_button_sets_learning_rates_that_do_better(at: AppTest):
    """"Tune learning rates" sweeps each optimizer's rate on the scene and moves its slider."""
    at.sidebar.multiselect(key="optimizers").set_value(["SGD", "Adam", "NAG"])
    run_ok(at)
    before = {row: d for row, d in zip(*_table_columns(at), strict=True)}
    at.button(key="tune").click()
    run_ok(at)
    assert at.session_state["hp__Adam__alpha"] > 1e-3  # the article's default is far too small here
    assert at.session_state["hp__SGD__eta"] < 1e-2  # ... and SGD's diverges on Rosenbrock
    assert "Tuned:" in " ".join(str(c.value) for c in at.caption)
    open_panel(at, "Adam")
    assert at.select_slider(key="hp__Adam__alpha").value == pytest.approx(at.session_state["hp__Adam__alpha"])
    after = {row: d for row, d in zip(*_table_columns(at), strict=True)}
    assert after["SGD"] == 0 < before["SGD"]  # no start diverges any more


def _table_columns(at: AppTest) -> tuple[list[str], list[int]]:
    df = at.dataframe[0].value
    return list(df["optimizer"]), [int(str(v).split("/")[0]) for v in df["diverged"]]

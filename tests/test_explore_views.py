"""The explore views in the dashboard (Streamlit's AppTest): each renders, and what it draws is
the numbers of a direct call of optviz.basins / sweep / compare on the race's scene."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import functions
import optviz
from optviz.explore import charts
from optviz.scene import lessons as presets

APP = str(Path(__file__).resolve().parents[1] / "app.py")
#: A small race: two optimizers, a 3×3 grid of starts, 60 steps (the views' own settings small too).
SCENE = {
    "optimizers": ["SGD", "Adam"],
    "grid_n": 3,
    "steps": 60,
    "live_sweeps": "always",
    "basins_grid": 20,
    "sweep_n": 4,
    "noise_seeds": 1,
    "delay_max": 2,
    "cmp_functions": ["booth", "himmelblau"],
    "cmp_optimizers": ["SGD", "Adam"],
    "cmp_budget": 2,
    "cmp_steps": 100,
    "cmp_seeds": 1,
    "cmp_tune": 2,
    "cmp_test": 4,
    # the tabs' own defaults (their lessons) are tested below; these tests use the race's scene
    "basins_in_view": "race",
    "noise_delay_in_view": "race",
}


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    errors = [str(e.value) for e in at.error]
    assert not errors, errors
    return at


@pytest.fixture(scope="module")
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=240)
    for k, v in SCENE.items():
        app.session_state[k] = v
    return _ok(app.run())


def _open(at: AppTest, title: str) -> AppTest:
    at.session_state["view"] = title
    return _ok(at.run())


def _decode(a):
    """A Plotly figure's array (a list, or {"dtype", "bdata"[, "shape"]}) as NumPy."""
    if isinstance(a, dict) and "bdata" in a:
        arr = np.frombuffer(base64.b64decode(a["bdata"]), a["dtype"])
        if "shape" in a:
            arr = arr.reshape([int(s) for s in str(a["shape"]).split(",")])
        return arr
    return np.array([np.nan if v is None else v for v in np.ravel(a)], dtype=float).reshape(np.shape(a))


def _figures(at: AppTest) -> dict[int, dict]:
    """The page's Plotly figures, in order."""
    return {i: json.loads(el.proto.spec) for i, el in enumerate(at.get("plotly_chart"))}


def _scene_hp(at: AppTest, names) -> dict[str, dict[str, float]]:
    from optviz.optimizers import REGISTRY

    return {
        n: {h.name: float(at.session_state[f"hp__{n}__{h.name}"]) for h in REGISTRY[n].hyperparams}
        for n in names
    }


def test_the_views_are_tabs_of_the_page(at: AppTest):
    labels = [t.label for t in at.get("tab")]
    assert labels == ["Race", "3-D surface", "Inside an optimizer", "Basins", "Sweeps",
                      "Fair comparison", "Noise & delay", "Your own optimizer"]


def test_the_basin_maps_are_the_direct_computation(at: AppTest):
    _open(at, "Basins")
    figs = list(_figures(at).values())
    assert len(figs) == 2  # the maps, and the agreement of two optimizers
    fn = functions.get("himmelblau")
    starts = optviz.scene.starts.grid(fn.box, 3)
    assert starts.shape == (9, 2)
    m = optviz.basins(
        fn, _scene_hp(at, ["SGD", "Adam"]), grid=20, steps=60, tol=presets.DEFAULT_TOL, rates="registry"
    )
    heat = [t for t in figs[0]["data"] if t["type"] == "heatmap"]
    assert len(heat) == 2
    for trace, name in zip(heat, m.names, strict=True):
        np.testing.assert_array_equal(_decode(trace["z"]), charts.minimum_codes(m, name))
        np.testing.assert_allclose(_decode(trace["x"]), m.x)
    agree = next(t for t in figs[1]["data"] if t["type"] == "heatmap")
    np.testing.assert_array_equal(
        _decode(agree["z"]), m.agreement("Adam", "SGD")
    )  # the last against the first
    text = " ".join(str(e.value) for e in at.markdown)
    assert f"**Adam** converges and **SGD** does not from **{100 * m.only('Adam', 'SGD'):.1f} %**" in text
    table = at.dataframe[0].value
    assert table.loc["SGD", "converged"] == f"{100 * m.share_converged['SGD']:.0f} %"


def test_the_basins_layers_and_a_1d_function():
    app = AppTest.from_file(APP, default_timeout=240)
    for k, v in {**SCENE, "function": "quartic", "dim": 1, "basins_layer": "final error"}.items():
        app.session_state[k] = v
    _ok(app.run())
    _open(app, "Basins")
    figs = list(_figures(app).values())
    assert figs and any(t["type"] == "heatmap" for t in figs[0]["data"])


def test_the_sweep_is_the_direct_computation(at: AppTest):
    _open(at, "Sweeps")
    (fig,) = _figures(at).values()
    fn = functions.get("himmelblau")
    hp = _scene_hp(at, ["SGD", "Adam"])
    hp["SGD"].pop("eta")
    hp["Adam"].pop("alpha")
    s = optviz.sweep(
        fn,
        hp,
        "lr",
        np.geomspace(1e-4, 1.0, 4),
        starts=optviz.scene.starts.grid(fn.box, 3),
        steps=60,
        rates="registry",
    )
    lines = {t["name"]: t for t in fig["data"] if t.get("mode") == "lines+markers"}
    for name in s.names:
        got = _decode(lines[f"{name} ({s.params[name]})"]["y"])
        want = s.column(name, "median")
        np.testing.assert_allclose(got, np.where(np.isfinite(want), np.maximum(want, 1e-16), np.nan))
    table = at.dataframe[0].value
    assert table.loc["Adam", "best value"] == f"{s.best_value('Adam'):.4g}"
    # how sure: the headline, each best value's interval, ranks shared where intervals overlap
    text = " ".join(str(e.value) for e in at.markdown)
    assert s.headline() in text
    e = s.at_best()["Adam"]
    cell = table.loc["Adam", "converged"]
    assert f"({100 * e.success_low:.0f}–{100 * e.success_high:.0f} %)" in cell
    assert [int(r.rstrip("=")) for r in table["rank"]] == [s.ranks()[n] for n in table.index]
    # the button puts the best values into the race's sliders
    at.button(key="sweep_use").click()
    _ok(at.run())
    assert at.session_state["hp__SGD__eta"] == pytest.approx(s.best_value("SGD"))


def test_the_comparison_is_the_direct_computation(at: AppTest):
    _open(at, "Fair comparison")
    c = optviz.compare(
        ["booth", "himmelblau"],
        ["SGD", "Adam"],
        budget=2,
        steps=100,
        tol=presets.DEFAULT_TOL,
        seeds=1,
        tune_starts=2,
        test_starts=4,
        seed=0,
    )
    heading = next(str(e.value) for e in at.markdown if str(e.value).startswith("#### Tuned fairly"))
    assert c.headline() in heading and f"on {len(c.problems)} held-out problems" in heading
    perf, data = _figures(at).values()
    _, rho = c.profile()
    for trace in perf["data"]:
        np.testing.assert_allclose(_decode(trace["y"])[:-1], rho[trace["name"]])
    _, share = c.data_profile()
    assert {t["name"] for t in data["data"]} == set(c.names)
    for trace in data["data"]:
        np.testing.assert_allclose(_decode(trace["y"])[:-1], share[trace["name"]])
    ranked = at.dataframe[0].value
    assert list(ranked["optimizer"]) == [r["optimizer"] for r in c.table()]
    assert [int(r.rstrip("=")) for r in ranked.index] == [r["rank"] for r in c.table()]
    # drop an optimizer: both profiles recomputed without it, from the stored costs
    at.multiselect(key="cmp_shown").set_value(["SGD"])
    _ok(at.run())
    perf, data = _figures(at).values()
    assert [t["name"] for t in perf["data"]] == ["SGD"] == [t["name"] for t in data["data"]]
    _, alone = c.profile(names=["SGD"])
    np.testing.assert_allclose(_decode(perf["data"][0]["y"])[:-1], alone["SGD"])


def test_noise_and_delay_and_the_gradient_lessons(at: AppTest):
    _open(at, "Noise & delay")
    figs = list(_figures(at).values())
    assert len(figs) == 4  # delay sweep, noise sweep, exact and noisy error curves
    fn = functions.get("himmelblau")
    hp = _scene_hp(at, ["SGD", "DCASGD", "Adam"])
    hp["DCASGD"]["learning_rate"] = hp["SGD"]["eta"]  # "DCASGD at SGD's rate"
    s = optviz.sweep(
        fn, hp, "delay", [0, 1, 2], starts=optviz.scene.starts.grid(fn.box, 3), steps=60, rates="registry"
    )
    delay_fig = figs[0]
    lines = {t["name"]: t for t in delay_fig["data"] if t.get("mode") == "lines+markers"}
    for name in s.names:
        want = s.column(name, "median")
        np.testing.assert_allclose(
            _decode(lines[name]["y"]), np.where(np.isfinite(want), np.maximum(want, 1e-16), np.nan)
        )
    at.button(key="noise_delay_lesson__delayed-dcasgd").click()
    _ok(at.run())
    shown = " ".join(str(e.value) for e in at.info)
    assert presets.DELAYED_DCASGD.description in shown
    assert len(_figures(at)) == 6  # + the lesson's error curves and step lengths
    # the lesson is what the tab shows now: the delay sweep runs on its scene
    assert list(at.dataframe[0].value.index) == ["SGD", "DCASGD"]
    at.button(key="noise_delay_lesson__race").click()
    _ok(at.run())


def test_the_tabs_open_on_defaults_that_answer_their_questions():
    """Basins and Noise & delay open on the scene scripts/make_tab_defaults.py picked, their
    lessons on top; the answer is in view without touching anything, and the race's scene is one
    click away."""
    from optviz.explore import tab_defaults

    app = AppTest.from_file(APP, default_timeout=240)
    _ok(app.run())
    _open(app, "Basins")
    d = tab_defaults.default_for("basins")
    assert app.button(key=f"basins_lesson__{d.lesson.name}").proto.type == "primary"
    assert d.lesson.note in " ".join(str(e.value) for e in app.info)
    a, b = d.settings["basins_a"], d.settings["basins_b"]
    text = " ".join(str(e.value) for e in app.markdown)
    assert f"**{a}** converges and **{b}** does not from **{100 * d.measured['only_a']:.1f} %**" in text
    assert d.measured["only_a"] >= 0.25
    _open(app, "Noise & delay")
    nd = tab_defaults.default_for("noise_delay")
    table = app.dataframe[0].value  # the delay sweep's table, first
    top = nd.settings["delay_max"]
    sgd, dc = (table.loc[n, f"diverged at delay = {top:.3g}"] for n in ("SGD", "DCASGD"))
    div = nd.measured["share_diverged"]
    assert (sgd, dc) == (f"{100 * div['SGD'][-1]:.0f} %", f"{100 * div['DCASGD'][-1]:.0f} %")
    assert div["DCASGD"][-1] < div["SGD"][-1]  # compensation buys something, visibly
    app.button(key="noise_delay_lesson__race").click()  # the race's scene, one click away
    _ok(app.run())
    race = app.dataframe[0].value
    assert set(race.index) == {"SGD", "MSGD", "NAG", "RMSprop", "Adam", "DCASGD"}


def test_a_function_without_a_minimum_says_so():
    app = AppTest.from_file(APP, default_timeout=240)
    for k, v in {**SCENE, "function": "saddle"}.items():
        app.session_state[k] = v
    _ok(app.run())
    for view in ("Basins", "Sweeps", "Noise & delay"):
        _open(app, view)
        assert any("no minimum to converge to" in str(e.value) for e in app.info), view


def test_the_comparison_takes_a_network_and_states_its_target(at: AppTest):
    at.session_state["cmp_functions"] = ["rosenbrock", "moons-mlp"]
    at.session_state["cmp_steps"] = 100
    _open(at, "Fair comparison")
    c = optviz.compare(["rosenbrock", "moons-mlp"], ["SGD", "Adam"], budget=2, steps=100,
                       tol=presets.DEFAULT_TOL, seeds=1, tune_starts=2, test_starts=4, seed=0)
    heading = next(str(e.value) for e in at.markdown if str(e.value).startswith("#### Tuned fairly"))
    assert c.headline() in heading
    assert c.target_text("moons-mlp") + "." in [str(e.value) for e in at.caption]
    # a minibatch needs every function to have training data: one line says which has none
    at.session_state["cmp_batch"] = 16
    at.run()
    assert [str(e.value) for e in at.error] == [
        "Cannot compare: batch needs a learning problem (least-squares, logistic, moons-mlp, spirals-mlp); "
        "rosenbrock has no training data"]
    at.session_state["cmp_batch"] = 0
    at.session_state["cmp_functions"] = ["booth", "himmelblau"]


def test_the_sweep_and_comparison_of_a_learning_problem_run_the_scenes_minibatch():
    app = AppTest.from_file(APP, default_timeout=240)
    for k, v in {**SCENE, "view": "Sweeps", "sweep_n": 3}.items():
        if k != "cmp_functions":  # (the comparison starts on the race's problem)
            app.session_state[k] = v
    app.run()
    app.sidebar.selectbox(key="function").select("logistic")
    for k, v in {"batch": 16, "steps": 40, "rand_n": 4}.items():
        app.session_state[k] = v
    _ok(app.run())
    (fig,) = _figures(app).values()
    scene_starts = optviz.scene.starts.random(functions.get("logistic").box, 4, seed=0)
    hp = _scene_hp(app, ["SGD", "Adam"])
    hp["SGD"].pop("eta")
    hp["Adam"].pop("alpha")
    s = optviz.sweep("logistic", hp, "lr", np.geomspace(1e-4, 1.0, 3), starts=scene_starts, steps=40,
                     rates="registry", batch=16)
    lines = {t["name"]: t for t in fig["data"] if t.get("mode") == "lines+markers"}
    for name in s.names:
        want = s.column(name, "median")
        np.testing.assert_allclose(_decode(lines[f"{name} ({s.params[name]})"]["y"]),
                                   np.where(np.isfinite(want), np.maximum(want, 1e-16), np.nan))
    assert any("Minibatch gradients of 16 of 200 samples" in str(e.value) for e in app.caption)
    # the minibatch size is a setting to sweep on a learning problem: one run per size, B = N the full batch
    app.session_state["sweep_setting"] = "minibatch size"
    app.session_state["sweep_batch_range"] = (64, 200)
    _ok(app.run())
    (fig,) = _figures(app).values()
    s = optviz.sweep("logistic", _scene_hp(app, ["SGD", "Adam"]), "batch", [64, 128, 200],
                     starts=scene_starts, steps=40, rates="registry")
    lines = {t["name"]: t for t in fig["data"] if t.get("mode") == "lines+markers"}
    for name in s.names:
        want = s.column(name, "median")
        np.testing.assert_allclose(_decode(lines[f"{name} (batch)"]["y"]),
                                   np.where(np.isfinite(want), np.maximum(want, 1e-16), np.nan))
    assert "sweep_use" not in [b.key for b in app.button]  # a run setting: the race keeps its own
    # the comparison opens on the race's problem and its minibatch
    _open(app, "Fair comparison")
    assert app.session_state["cmp_functions"] == ["logistic"] and app.session_state["cmp_batch"] == 16
    c = optviz.compare(["logistic"], ["SGD", "Adam"], budget=2, steps=100, tol=presets.DEFAULT_TOL, seeds=1,
                       tune_starts=2, test_starts=4, seed=0, batch=16)
    heading = next(str(e.value) for e in app.markdown if str(e.value).startswith("#### Tuned fairly"))
    assert c.headline() in heading

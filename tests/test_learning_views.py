"""The dashboard on learning problems (issue 21): the plane, training and decision-boundary views
render through AppTest; the race and the 2-D-only views step aside for a 65-D problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _page(function: str, batch: int = 0) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["live_sweeps"] = "always"
    at.run()
    at.sidebar.selectbox(key="function").select(function)
    at.session_state["batch"] = batch
    at.session_state["steps"] = 40
    at.session_state["rand_n"] = 4
    at.run()
    assert not at.exception, at.exception
    return at


def _show(at: AppTest, tab: str) -> None:
    at.session_state["view"] = tab
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) >= 1, tab


@pytest.fixture(scope="module")
def moons() -> AppTest:
    return _page("moons-mlp", batch=32)


def test_a_65_parameter_problem_shows_the_plane_not_the_race(moons):
    titles = [t.label for t in moons.tabs]
    assert titles[:3] == ["On one plane", "Training", "Decision boundary"]
    assert "Race" not in titles and "Inside an optimizer" not in titles
    assert moons.session_state["start_mode"] == "Grid"  # (random starts are drawn: a 65-D grid is too big)
    assert len(moons.get("plotly_chart")) == 2  # the plane and its true-versus-plane loss chart
    assert any("variance in the plane" in str(df.value.columns.tolist()) for df in moons.dataframe)


@pytest.mark.parametrize("tab", ["Training", "Decision boundary"])
def test_the_learning_views_render(moons, tab):
    _show(moons, tab)


def test_least_squares_has_curves_without_accuracy():
    at = _page("least-squares")
    titles = [t.label for t in at.tabs]
    assert "Decision boundary" not in titles and "Training" in titles
    _show(at, "Training")


def test_a_learning_lesson_opens_its_view_with_its_minibatch():
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["live_sweeps"] = "always"
    at.run()
    at.sidebar.button(key="lesson__minibatch-moons").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["view"] == "Training" and at.session_state["batch"] == 16
    assert at.sidebar.selectbox(key="function").value == "moons-mlp"
    assert any("Reaching 95 % test accuracy" in str(m.value) for m in at.markdown)  # who reaches it first


def test_a_link_with_a_minibatch_opens_the_same_race_and_the_page_links_it_back():
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["live_sweeps"] = "always"
    query = {"v": "2", "fn": "logistic", "opt": "Adam;SGD", "starts": "random:n=3,seed=0", "steps": "20",
             "batch": "16"}
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["batch"] == 16 and at.sidebar.selectbox(key="function").value == "logistic"
    assert at.query_params["batch"] in ("16", ["16"])  # the page's own link keeps it

"""One scene, one race: the same race through the API, the CLI, a scene file, a link and the page.

A teacher's scene must give the same numbers wherever it is opened: ``optviz.run`` with the same
settings, ``Scene.run``, the file ``optviz run --save-scene`` writes, ``optviz run --scene`` on
it, the link (``Scene.to_query``), and the dashboard opened on that link (Streamlit's AppTest).
Trajectories are compared bit for bit, except the page's, which the browser receives quantized
to 16 bits over the view.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import optviz
from optviz.live import sweeps
from optviz.scene import Scene, Starts

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")

#: Flags of ``optviz run`` and the keyword arguments of ``optviz.run`` for one race: tuned rates
#: (none set) beside one value set, a schedule, a hook, gradient noise and Santa's own draws.
FLAGS = ["-f", "himmelblau", "-o", "sgd,Adam,SantaE", "--set", "Adam.beta1=0.8", "--grid", "3",
         "--steps", "80", "--seed", "2", "--schedule", "cosine", "--hook", "clip:max_norm=5",
         "--noise", "0.05"]
KWARGS = {"optimizers": {"SGD": {}, "Adam": {"beta1": 0.8}, "SantaE": {}}, "steps": 80, "seed": 2,
          "schedule": "cosine", "hooks": ["clip:max_norm=5"], "noise": 0.05}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optviz", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def scene() -> Scene:
    return Scene.from_run_kwargs("himmelblau", starts=Starts.grid(3), **KWARGS)


@pytest.fixture(scope="module")
def api(scene: Scene) -> optviz.Result:
    return optviz.run("himmelblau", starts=scene.starts_array(), **KWARGS)


def assert_same(a: optviz.Result, b: optviz.Result) -> None:
    assert a.names == b.names
    for name in a.names:
        np.testing.assert_array_equal(a.trajectories[name], b.trajectories[name], err_msg=name)


def test_the_api_and_the_scene_race_alike_with_the_tuned_rates(scene, api):
    assert scene.rates == "tuned" and api.rates == "tuned"
    assert scene.optimizers["Adam"]["beta1"] == 0.8
    assert_same(scene.run(), api)
    # a bare name is that optimizer everywhere; a group is written group:NAME
    assert Scene.from_run_kwargs("himmelblau", "adam").optimizers.keys() == {"Adam"}
    assert optviz.run("himmelblau", "adam", steps=2).names == ("Adam",)
    assert len(Scene.from_run_kwargs("himmelblau", "group:adam").optimizers) == len(optviz.GROUPS["adam"])


def test_the_file_and_the_link_hold_the_same_race(scene, api, tmp_path):
    path = scene.save(tmp_path / "race.json")
    assert json.loads(path.read_text())["rates"] == "tuned"
    assert Scene.load(path) == scene
    assert Scene.from_query(scene.to_query()) == scene
    assert_same(Scene.load(path).run(), api)


def test_the_cli_builds_the_same_scene_and_prints_the_same_numbers(scene, api, tmp_path):
    saved = tmp_path / "cli.json"
    out = cli("run", *FLAGS, "--save-scene", str(saved), "--json", "-q")
    assert out.returncode == 0, out.stderr
    assert Scene.load(saved) == scene  # the flags make exactly the API's scene
    again = cli("run", "--scene", str(saved), "--json", "-q")
    assert again.returncode == 0, again.stderr
    first, second = json.loads(out.stdout), json.loads(again.stdout)
    assert first["rates"] == second["rates"] == "tuned"
    summary = {r["optimizer"]: r for r in api.summary(first["kind"], tol=first["tol"])}
    for doc in (first, second):
        for row in doc["results"]:
            want = summary[row["optimizer"]]
            assert row["hyperparams"] == dict(scene.optimizers[row["optimizer"]])
            for key in ("final_median", "final_best", "diverged", "steps_to_tol"):
                assert row[key] == want[key], (row["optimizer"], key)


def test_the_page_opened_on_the_link_races_the_scene(scene, api):
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["live_sweeps"] = "always"
    for k, v in scene.to_query().items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    page = Scene.from_query({k: at.query_params[k] for k in at.query_params})
    assert page.optimizers == scene.optimizers and page.starts == scene.starts
    assert (page.steps, page.seed, page.rates) == (scene.steps, scene.seed, scene.rates)
    assert (page.noise, page.noise_mode, page.delay, page.dtype) == (0.05, "absolute", 0, "float64")
    (data,) = json.loads(next(e for e in at.get("bidi_component")
                              if e.proto.component_name == "optviz_race").proto.json)
    q = sweeps.Quantizer(tuple(data["quant"]["lo"]), tuple(data["quant"]["hi"]))
    span = float(np.ptp(np.asarray(data["view"]), axis=1).max())
    assert data["n"] == 9 and sorted(b["name"] for b in data["optimizers"]) == sorted(api.names)
    for block in data["optimizers"]:
        raw = sweeps.unb64(block["base"]["pos"], "<u2").reshape(len(data["rows"]), data["n"], 2)
        got = q.decode(raw)
        want = np.asarray(api.trajectories[block["name"]])[data["rows"]]
        shown = np.isfinite(got)
        np.testing.assert_allclose(got[shown], want[shown], atol=2e-4 * span, rtol=0)

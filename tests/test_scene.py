"""Shareable scenes (``optviz.scene.model``): lossless JSON and URL round trips, identical races,
and malformed scenes refused with messages that name the offending key."""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import functions
import optviz
from optviz.engine import hooks as hk
from optviz.engine import schedules as sch
from optviz.optimizers import GROUPS, NAMES, REGISTRY, rates
from optviz.scene import lessons as presets
from optviz.scene.model import LIMITS, VERSION, Limits, Scene, SceneFunction, Starts

BOX2 = [[-2.0, 2.0], [-1.0, 3.0]]
ROSEN_TEXT = "(1 - x)**2 + 100*(y - x**2)**2"


def _scenes() -> list[Scene]:
    """A table of scenes covering every kind of function, start mode and setting."""
    typed = functions.from_expression(ROSEN_TEXT, box=BOX2)
    given = functions.from_expression("(x - 0.5)**2 + abs(y)", box=[-1, 1, -1, 1], minimizers=[[0.5, 0]])
    return [
        Scene.from_run_kwargs(
            "rosenbrock",
            {"Adam": {"alpha": 0.05}, "NAG": {}},
            Starts.grid(3),
            120,
            schedule="warmup:steps=10+cosine",
            hooks=["clip:max_norm=5"],
        ),
        Scene.from_run_kwargs(
            "himmelblau",
            "group:adam",
            Starts.random(7, seed=11),
            80,
            seed=5,
            hooks=("lars:threshold=0.01,weight_decay=0", "weight_decay:rate=0.001"),
        ),
        Scene.from_run_kwargs(
            "quartic",
            {"SantaE": {"eta": 4e-4, "burnin": 50}, "AdaGrad": {"eta": 0.4}},
            [[-3.0], [0.5]],
            60,
            seed=32,
            dtype="float32",
        ),
        Scene.from_run_kwargs(typed, "all", Starts.ring(6, radius=0.3), 40, seed=1, error="gap", tol=1e-6),
        Scene.from_run_kwargs(
            given,
            ["RMSprop", "SMORMS3"],
            Starts.ring(5, center="center"),
            50,
            schedule="step:every=10,gamma=0.5",
        ),
        Scene.from_run_kwargs(
            "long_valley", {"MSGD": {"eta": 0.003}}, [[1.0, -1.0, 0.5]], 30, schedule=sch.exponential(0.99)
        ),
        Scene(
            SceneFunction(name="long_valley", params={"kappa": 1000.0}),
            {"AdaDelta": {"eps": 1e-3}},
            Starts.grid(2),
            25,
            noise=0.1,
            noise_mode="relative",
            delay=2,
        ),
        Scene.from_run_kwargs(
            functions.from_expression("x**4 - 3*x**2 + x", box=[[-2, 2]]),
            "group:momentum",
            Starts.grid(5),
            70,
            error="distance",
        ),
    ]


SCENES = _scenes()
IDS = [
    "registry-grid",
    "random-hooks",
    "quartic-typed-f32",
    "expr-ring",
    "expr-given-ring-centre",
    "3d-exp-schedule",
    "params-noise-delay",
    "expr-1d-grid",
]


# ---------------------------------------------------------------------- round trips
@pytest.mark.parametrize("scene", SCENES, ids=IDS)
def test_json_and_query_round_trips_are_lossless(scene: Scene) -> None:
    assert Scene.from_json(scene.to_json()) == scene
    assert Scene.from_json(scene.to_json(indent=None)) == scene
    q = scene.to_query()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in q.items())
    assert Scene.from_query(q) == scene
    assert Scene.from_query({**q, "embed": "true"}) == scene  # Streamlit's own keys are skipped
    again = Scene.from_query(Scene.from_json(scene.to_json()).to_query())
    assert again == scene and again.to_json() == scene.to_json()


def test_query_is_compact_and_readable() -> None:
    q = SCENES[0].to_query()
    assert q == {
        "v": "2",
        "fn": "rosenbrock",
        "opt": "Adam:alpha=0.05;NAG",  # NAG at the tuned rate: left out
        "rates": "tuned",
        "starts": "grid:n=3",
        "steps": "120",
        "sched": "warmup:steps=10+cosine",
        "hooks": "clip:max_norm=5",
    }
    typed = SCENES[3].to_query()
    assert typed["expr"] == ROSEN_TEXT and typed["box"] == "-2.0,2.0,-1.0,3.0" and typed["opt"] == "all"
    assert "min" not in typed and "pts" not in typed  # estimated; ring points are recomputed
    assert SCENES[4].to_query()["min"] == "0.5,0.0"
    p = SCENES[2].to_query()
    assert p["pts"] == "-3.0;0.5" and p["dtype"] == "float32" and p["seed"] == "32"
    d = Scene.from_run_kwargs(
        "rosenbrock", {**{n: {} for n in NAMES}, "Adam": {"alpha": 0.05}}, Starts.grid(4), 300
    )
    assert d.to_query()["opt"] == "all;Adam:alpha=0.05"  # the dashboard's default scene, one change


def test_json_is_explicit() -> None:
    d = json.loads(SCENES[0].to_json())
    assert d["version"] == VERSION and d["function"] == {"name": "rosenbrock", "dim": 2, "params": {}}
    assert d["optimizers"]["NAG"] == rates.defaults("NAG", "rosenbrock", 2)  # defaults written out
    assert d["rates"] == "tuned" and d["optimizers"]["NAG"]["eta"] != REGISTRY["NAG"].defaults["eta"]
    assert d["starts"]["mode"] == "grid" and len(d["starts"]["points"]) == 9
    assert d["view"] == {"error": "auto", "tol": 0.001}


hp_values = {
    name: {
        h.name: (
            st.integers(int(h.low), int(min(h.high, 10_000))).map(float)
            if h.integer
            else st.floats(h.low, h.high, allow_nan=False, allow_infinity=False)
        )
        for h in spec.hyperparams
    }
    for name, spec in REGISTRY.items()
}


@st.composite
def scenes(draw) -> Scene:
    name = draw(st.sampled_from(["rosenbrock", "quartic", "beale", "long_valley", "rastrigin", "saddle"]))
    fam = functions.families()[name]
    dim = draw(st.sampled_from([d for d in (1, 2, 3) if fam.supports(d)]))
    params = {"kappa": draw(st.floats(1.0, 1e6))} if fam.params else {}
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    opts = {n: draw(st.fixed_dictionaries({}, optional=hp_values[n])) for n in names}
    mode = draw(st.sampled_from(["grid", "random", "ring", "points"]))
    if mode == "grid":
        starts = Starts.grid(draw(st.integers(1, 4)))
    elif mode == "random":
        starts = Starts.random(draw(st.integers(1, 20)), seed=draw(st.integers(0, 2**40)))
    elif mode == "ring":
        starts = Starts.ring(
            draw(st.integers(2, 12)),
            radius=draw(st.floats(0.01, 1.0)),
            center=draw(st.sampled_from(["minimum", "center"])),
        )
    else:
        coord = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
        starts = Starts.typed(
            draw(st.lists(st.lists(coord, min_size=dim, max_size=dim), min_size=1, max_size=5))
        )
    sched = draw(
        st.sampled_from(
            [
                "constant",
                "cosine",
                "warmup:steps=5+cosine:floor=0.1",
                "step:every=7,gamma=0.3",
                "exponential:gamma=0.999",
            ]
        )
    )
    hooks = draw(
        st.lists(st.sampled_from(["lars", "clip:max_norm=2.5", "weight_decay:rate=1e-4"]), max_size=2)
    )
    return Scene(
        SceneFunction(name=name, dim=dim, params=params),
        opts,
        starts,
        steps=draw(st.integers(1, 500)),
        seed=draw(st.integers(0, 2**63 - 1)),
        schedule=sched,
        hooks=tuple(hooks),
        noise=draw(st.sampled_from([0.0, 0.05, 1e-300])),
        noise_mode=draw(st.sampled_from(["absolute", "relative"])),
        delay=draw(st.integers(0, 3)),
        dtype=draw(st.sampled_from(["float64", "float32"])),
        error=draw(st.sampled_from(["auto", "distance", "gap", "loss"])),
        tol=draw(st.floats(1e-12, 1.0)),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes())
def test_round_trips_hypothesis(scene: Scene) -> None:
    assert Scene.from_json(scene.to_json()) == scene
    assert Scene.from_query(scene.to_query()) == scene
    assert Scene.from_json(scene.to_json()).to_query() == scene.to_query()


# ---------------------------------------------------------------------- identical races
def _same_race(a: optviz.Result, b: optviz.Result) -> None:
    assert a.names == b.names
    for n in a.names:
        np.testing.assert_array_equal(a.trajectories[n], b.trajectories[n])
        np.testing.assert_array_equal(a.losses[n], b.losses[n])
        np.testing.assert_array_equal(a.diverged_step[n], b.diverged_step[n])


@pytest.mark.parametrize("k", [0, 1, 2, 3, 4, 7], ids=[IDS[k] for k in (0, 1, 2, 3, 4, 7)])
def test_identical_trajectories_after_round_trips(k: int) -> None:
    scene = SCENES[k]
    first = scene.run()
    _same_race(first, Scene.from_json(scene.to_json()).run())
    _same_race(first, Scene.from_query(scene.to_query()).run())
    direct = optviz.run(**scene.run_kwargs())
    _same_race(first, direct)


def test_noise_and_delay_races_are_identical_after_round_trips() -> None:
    """The engine's gradient noise and delay are part of the scene, and of its race."""
    scene = SCENES[6]
    first = scene.run()
    plain = replace(scene, noise=0.0, delay=0).run()
    assert not np.array_equal(first.trajectories["AdaDelta"], plain.trajectories["AdaDelta"])
    _same_race(first, Scene.from_json(scene.to_json()).run())
    _same_race(first, Scene.from_query(scene.to_query()).run())
    back = Scene.from_run_kwargs(**{**scene.run_kwargs(), "tol": None, "max_seconds": 10.0})
    assert back == replace(scene, starts=Starts.typed(scene.starts.points))  # run_kwargs holds points only


def test_the_article_preset_as_a_scene() -> None:
    """The article's demo (Santa's seeded noise included) races the same from its scene's URL."""
    scene = presets.get("article-quartic").scene
    assert scene.starts.mode == "points" and scene.seed == 32 and scene.rates == "article"
    assert Scene.from_run_kwargs(**scene.run_kwargs()) == scene
    _same_race(optviz.run(**scene.run_kwargs()), Scene.from_query(scene.to_query()).run())


def test_run_kwargs_and_overrides() -> None:
    kw = SCENES[0].run_kwargs()
    assert set(kw) == {
        "function", "optimizers", "starts", "steps", "seed", "dtype", "schedule", "hooks", "rates"}
    assert kw["optimizers"]["Adam"]["alpha"] == 0.05 and kw["starts"].shape == (9, 2)
    noisy = SCENES[6].run_kwargs()
    assert (noisy["noise"], noisy["noise_mode"], noisy["delay"]) == (0.1, "relative", 2)
    res = SCENES[0].run(record_every=120)  # overrides reach optviz.run
    assert res.recorded_steps.tolist() == [0, 120]


def test_from_run_kwargs() -> None:
    s = Scene.from_run_kwargs(
        "rosenbrock", "group:adam", np.zeros((2, 3)), 10, backend="numpy", threads=1, fused=False,
        record_every=5,
    )
    assert s.function.dim == 3 and list(s.optimizers) == list(GROUPS["adam"])
    assert list(Scene.from_run_kwargs("rosenbrock", "adam", None, 10).optimizers) == ["Adam"]  # one optimizer
    assert s.starts.mode == "points" and s.starts.points == ((0.0,) * 3,) * 2
    c = Scene.from_run_kwargs("beale", ["adam"], None, 10)  # one start at the box centre, as optviz.run
    assert c.starts.points == ((0.0, 0.0),) and list(c.optimizers) == ["Adam"]
    objs = Scene.from_run_kwargs(
        "booth",
        "SGD",
        [[0, 0]],
        10,
        schedule=sch.warmup(5, then=sch.cosine(0.1)),
        hooks=[hk.clip_by_norm(2.5), hk.lars(weight_decay=1e-3)],
    )
    assert objs.schedule == "warmup:steps=5+cosine:floor=0.1"
    assert sch.parse(objs.schedule) == sch.warmup(5, then=sch.cosine(0.1))
    assert [hk.parse(h) for h in objs.hooks] == [hk.clip_by_norm(2.5), hk.lars(weight_decay=1e-3)]
    assert (
        Scene.from_run_kwargs("booth", "SGD", [[0, 0]], 10, schedule=sch.step_decay(3, 0.5)).schedule
        == "step:every=3,gamma=0.5"
    )
    assert Scene.from_run_kwargs("booth", "SGD", [[0, 0]], 10, tol=1e-5, tol_kind="gap").error == "gap"
    with pytest.raises(ValueError, match=r"optimizers\.Adam\.alpha: a scene holds one value"):
        Scene.from_run_kwargs("booth", {"Adam": {"alpha": [0.1, 0.2]}}, [[0, 0], [1, 1]], 10)
    with pytest.raises(TypeError, match="bound"):
        Scene.from_run_kwargs("booth", "SGD", [[0, 0]], 10, bound=5.0)
    fake = functions.TestFunction(
        "mine",
        "Mine",
        "",
        1,
        {},
        np.array([[0.0, 1.0]]),
        np.zeros((0, 1)),
        None,
        np.zeros((0, 1)),
        False,
        lambda x: x[:, 0],
        lambda x: x,
    )
    with pytest.raises(ValueError, match="not in the registry"):
        Scene.from_run_kwargs(fake, "SGD", [[0.5]], 10)


def test_normal_form() -> None:
    s = Scene(SceneFunction(name="rosenbrock"), {"adam": None}, Starts("grid"), 10)
    assert s.function.dim == 2 and list(s.optimizers) == ["Adam"] and s.rates == "tuned"
    assert (
        s.optimizers["Adam"] == rates.defaults("Adam", "rosenbrock", 2)
        and s.starts.n == 4 and len(s.starts.points) == 16
    )
    article = Scene(SceneFunction(name="rosenbrock"), {"adam": None}, Starts("grid"), 10, rates="registry")
    assert article.rates == "article" and article.optimizers["Adam"] == REGISTRY["Adam"].defaults
    lv = Scene(SceneFunction(name="long_valley"), ["SGD"], Starts.typed([[1, 1]]), 10)
    assert lv.function.params == {"kappa": 100.0}
    e = Scene(SceneFunction(expression="x**2"), ["SGD"], Starts.grid(3), 10)
    assert e.function.box == ((-5.0, 5.0),) and e.starts.points == ((-4.0,), (0.0,), (4.0,))
    assert Scene(SceneFunction(name="rosenbrock"), ["SGD"], Starts.grid(2), 10, hooks="lars").hooks == (
        "lars",
    )


def test_stale_points_keep_the_race() -> None:
    """A file whose points no longer match its mode (say, saved by an optviz whose grid had
    another margin) runs the points it holds, as typed points."""
    d = json.loads(SCENES[0].to_json())
    d["starts"]["points"][0] = [-1.5, 2.0]
    s = Scene.from_json(json.dumps(d))
    assert s.starts.mode == "points" and s.starts.points[0] == (-1.5, 2.0) and len(s.starts.points) == 9


def test_save_and_load(tmp_path) -> None:
    path = SCENES[3].save(tmp_path / "scene.json")
    assert Scene.load(path) == SCENES[3]
    assert [p.name for p in tmp_path.iterdir()] == ["scene.json"]  # no temporary file left
    with pytest.raises(ValueError, match="cannot read the scene"):
        Scene.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_bytes(b"\xff\xfe")
    with pytest.raises(ValueError, match="not UTF-8"):
        Scene.load(tmp_path / "bad.json")


def test_limits() -> None:
    small = Limits(steps=3000, points=256, work=1e7)
    d = SCENES[0].to_dict()
    d["steps"] = 5000
    with pytest.raises(ValueError, match=r"steps: must be a whole number in \[1, 3,000\], got 5,000"):
        Scene.from_dict(d, limits=small)
    assert Scene.from_dict(d).steps == 5000
    d = SCENES[0].to_dict()
    d["starts"] = {"mode": "random", "n": 1000, "seed": 0}
    with pytest.raises(ValueError, match=r"starts\.n: must be a whole number in \[1, 256\]"):
        Scene.from_dict(d, limits=small)
    assert LIMITS.steps == optviz.engine.run.MAX_STEPS
    q = SCENES[0].to_query() | {"steps": "20000"}  # links are opened by servers: stricter by default
    with pytest.raises(ValueError, match=r"steps: must be a whole number in \[1, 10,000\]"):
        Scene.from_query(q)
    assert Scene.from_query(q, limits=LIMITS).steps == 20000


# ---------------------------------------------------------------------- malformed scenes
BASE = SCENES[0].to_dict()


def _edit(path: str, value, *, delete: bool = False) -> dict:
    d = copy.deepcopy(BASE)
    keys = path.split(".")
    node = d
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node[k]
    if delete:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return d


MALFORMED = [
    (_edit("foo", 1), r"^foo: unknown key; valid keys: version, function"),
    (
        _edit("version", VERSION + 1),
        rf"^version: this scene was saved by a newer optviz \(scene version {VERSION + 1}\).*update optviz",
    ),
    (_edit("version", 99) | {"new_key": 1}, r"newer optviz"),  # the version is read before unknown keys
    (_edit("version", "1"), r"^version: expected a whole number, got '1'"),
    (_edit("version", 0), r"^version: must be a whole number >= 1"),
    (_edit("version", None, delete=True), r"^version: missing; is this an optviz scene\?"),
    (_edit("function", None, delete=True), r"^function: missing"),
    (_edit("function", "rosenbrock"), r"^function: expected an object"),
    (_edit("function.name", "nope"), r"^function\.name: unknown test function 'nope'; valid: ackley"),
    (_edit("function.name", 3), r"^function\.name: expected text, got 3"),
    (_edit("function.dim", 1), r"^function\.dim: rosenbrock does not support dim=1 \(dim >= 2\)"),
    (_edit("function.dim", 2.5), r"^function\.dim: expected a whole number"),
    (_edit("function.dim", 10**6), r"^function\.dim: must be a whole number in \[1, 100\]"),
    (
        _edit("function.params", {"kappa": 2.0}),
        r"^function\.params: rosenbrock: unknown parameter\(s\) kappa",
    ),
    (_edit("function.params", {"kappa": "big"}), r"^function\.params\.kappa: expected a number"),
    (_edit("function.box", [[0, 1]]), r"^function\.box: unknown key"),
    (
        _edit("function", {"expression": "__import__('os')", "box": BOX2}),
        r"^function\.expression: unknown function '__import__'",
    ),
    (_edit("function", {"expression": "x" * 1001}), r"^function\.expression: too long"),
    (
        _edit("function", {"expression": "x*y", "box": [[0, 1, 2], [0, 1]]}),
        r"^function\.box\[0\]: has 3 coordinate\(s\); expected 2",
    ),
    (
        _edit("function", {"expression": "x*y", "box": [[1, 0], [0, 1]]}),
        r"^function\.expression: box .* lo < hi",
    ),
    (_edit("function", {"expression": "x*y", "name": "booth"}), r"^function\.name: unknown key"),
    (_edit("function", {"expression": "log(x)", "box": [[-1, 1]]}), r"^function\.expression: .*not finite"),
    (_edit("function", {"dim": 2}), r"^function: give a registry name"),
    (_edit("optimizers", {}), r"^optimizers: choose at least one"),
    (_edit("optimizers", "Adam"), r"^optimizers: expected an object"),
    (_edit("optimizers", {"Adamm": {}}), r"^optimizers\.Adamm: unknown optimizer 'Adamm'"),
    (_edit("optimizers", {"Adam": {}, "adam": {}}), r"^optimizers\.adam: Adam is listed twice"),
    (
        _edit("optimizers.Adam.gamma", 0.1),
        r"^optimizers\.Adam\.gamma: unknown hyperparameter; Adam has alpha",
    ),
    (_edit("optimizers.Adam.alpha", 20.0), r"^optimizers\.Adam\.alpha must be in \[1e-07, 10\], got 20"),
    (_edit("optimizers.Adam.alpha", "0.1"), r"^optimizers\.Adam\.alpha: expected a number, got '0\.1'"),
    (_edit("optimizers.Adam.alpha", True), r"^optimizers\.Adam\.alpha: expected a number, got True"),
    (_edit("optimizers.Adam.alpha", [0.1, 0.2]), r"^optimizers\.Adam\.alpha: a scene holds one value"),
    (_edit("optimizers.Adam", [1]), r"^optimizers\.Adam: expected an object"),
    (_edit("starts", [[0, 0]]), r"^starts: expected an object"),
    (
        _edit("starts.mode", "spiral"),
        r"^starts\.mode: must be one of grid, random, ring, points; got 'spiral'",
    ),
    (_edit("starts.mode", None, delete=True), r"^starts\.mode: missing"),
    (_edit("starts.radius", 0.5), r"^starts\.radius: unknown key; valid keys of starts: mode, n, points"),
    (_edit("starts.n", 10**6), r"^starts\.n: must be a whole number in \[1, 100,000\], got 1,000,000"),
    (_edit("starts.n", -1), r"^starts\.n: must be a whole number"),
    (_edit("starts.n", "3"), r"^starts\.n: expected a whole number"),
    (
        _edit("function.dim", 10) | {"starts": {"mode": "grid", "n": 4}},
        r"^starts\.n: a grid of 4 per axis in 10-D is 1,048,576 points, over the limit of 100,000",
    ),
    (
        _edit("starts", {"mode": "points", "points": [[1, 2, 3]]}),
        r"^starts\.points: points have 3 coordinate\(s\), but rosenbrock here is 2-D",
    ),
    (_edit("starts", {"mode": "points", "points": [[1, 2], [3]]}), r"^starts\.points\[1\]: has 1 coordinate"),
    (_edit("starts", {"mode": "points", "points": []}), r"^starts\.points: give at least one starting point"),
    (_edit("starts", {"mode": "points"}), r"^starts\.points: typed starts need their points"),
    (
        _edit("starts", {"mode": "points", "points": [["a", 1]]}),
        r"^starts\.points\[0\]\[0\]: expected a number",
    ),
    (_edit("starts", {"mode": "points", "points": [[1e400, 1]]}), r"^scene: Infinity is not a finite number"),
    (_edit("starts", {"mode": "ring", "n": 1}), r"^starts\.n: must be a whole number in \[2, 100,000\]"),
    (
        _edit("starts", {"mode": "ring", "center": "middle"}),
        r"^starts\.center: must be one of minimum, center",
    ),
    (_edit("starts", {"mode": "ring", "radius": -1}), r"^starts\.radius: must be in"),
    (_edit("steps", 0), r"^steps: must be a whole number in \[1, 1,000,000\], got 0"),
    (_edit("steps", 2_000_000), r"^steps: must be a whole number in \[1, 1,000,000\]"),
    (_edit("steps", 1.5), r"^steps: expected a whole number, got 1\.5"),
    (_edit("steps", None), r"^steps: expected a whole number, got None"),
    (
        _edit("steps", 900_000) | {"optimizers": {n: {} for n in NAMES}, "starts": {"mode": "grid", "n": 4}},
        r"^steps: 900,000 steps × 16 starts × 29 optimizer\(s\) is 417,600,000 point-steps, over the limit "
        r"of 200,000,000",
    ),
    (_edit("seed", -1), r"^seed: must be a whole number in \[0, "),
    (_edit("seed", 2**64), r"^seed: must be a whole number in"),
    (_edit("schedule", "cosin"), r"^schedule: unknown schedule 'cosin'; valid: constant"),
    (_edit("schedule", "cosine:gamma=1"), r"^schedule: schedule cosine has no setting 'gamma'"),
    (_edit("schedule", "step:every=nan"), r"^schedule: .*finite number"),
    (_edit("schedule", 3), r"^schedule: expected text"),
    (_edit("hooks", "clip"), r"^hooks: expected a list of texts"),
    (_edit("hooks", ["foo"]), r"^hooks\[0\]: unknown hook 'foo'; valid: lars, clip, weight_decay"),
    (_edit("hooks", ["clip", 3]), r"^hooks\[1\]: expected text, got 3"),
    (_edit("hooks", ["clip"] * 9), r"^hooks: at most 8, got 9"),
    (_edit("hooks", ["clip:max_norm=-1"]), r"^hooks\[0\]: max_norm must be"),
    (_edit("noise", -1), r"^noise: must be in \[0, inf\], got -1\.0"),
    (_edit("noise", "loud"), r"^noise: expected a number"),
    (_edit("noise_mode", "weird"), r"^noise_mode: must be one of absolute, relative; got 'weird'"),
    (_edit("delay", 5000), r"^delay: must be a whole number in \[0, 1,000\], got 5,000"),
    (_edit("dtype", "float16"), r"^dtype: must be one of float64, float32; got 'float16'"),
    (_edit("view", {"error": "foo", "tol": 1e-3}), r"^view\.error: must be one of auto, distance, gap, loss"),
    (_edit("view", {"tol": 0}), r"^view\.tol: must be in"),
    (_edit("view", {"colour": "red"}), r"^view\.colour: unknown key; valid keys of view: error, tol"),
    (_edit("view", []), r"^view: expected an object"),
]


@pytest.mark.parametrize(("data", "message"), MALFORMED, ids=[m[1][:40] for m in MALFORMED])
def test_malformed_scene_refused_with_its_path(data: dict, message: str) -> None:
    with pytest.raises(ValueError) as err:
        Scene.from_json(json.dumps(data))
    assert re.search(message, str(err.value)), str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", r"^scene: not valid JSON \(line 1, column 2"),
        ("[]", r"^scene: expected an object"),
        ('{"version": 1, "version": 1}', r"^scene: the key 'version' appears twice"),
        ('{"version": NaN}', r"^scene: NaN is not a finite number"),
        ("[" * 100_000 + "]" * 100_000, r"^scene: not valid JSON \(nested too deeply\)"),
        ("x" * 20_000_001, r"^scene: too large"),
        (b"\xff", r"^scene: not UTF-8"),
        (3, r"^scene: expected JSON text, got int"),
    ],
    ids=["truncated", "list", "duplicate", "nan", "deep", "huge", "bytes", "int"],
)
def test_malformed_json_text(text, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Scene.from_json(text)


GOOD_QUERY = SCENES[0].to_query()

MALFORMED_QUERIES = [
    (
        {k: v for k, v in GOOD_QUERY.items() if k != "v"},
        r"URL parameter 'v' \(the scene version\) is missing",
    ),
    (GOOD_QUERY | {"v": str(VERSION + 1)},
     rf"^version: this link was made by a newer optviz \(scene version {VERSION + 1}\)"),
    (GOOD_QUERY | {"v": "one"}, r"URL parameter v: expected a whole number, got 'one'"),
    (GOOD_QUERY | {"utm_source": "mail"}, r"URL parameter 'utm_source': unknown; valid: v, fn"),
    (GOOD_QUERY | {"fn": "nope"}, r"^function\.name: unknown test function 'nope'"),
    (GOOD_QUERY | {"fn": "long_valley:kappa=big"}, r"URL parameter fn long_valley\.kappa: expected a number"),
    (GOOD_QUERY | {"fn": "rosenbrock:kappa"}, r"URL parameter 'fn': expected key=value"),
    (GOOD_QUERY | {"dim": "1"}, r"^function\.dim: rosenbrock does not support dim=1"),
    ({k: v for k, v in GOOD_QUERY.items() if k != "fn"}, r"URL: give the function"),
    (GOOD_QUERY | {"expr": "x*y"}, r"URL parameter 'fn': not with 'expr'"),
    (GOOD_QUERY | {"box": "0,1"}, r"URL parameter 'box': only with 'expr'"),
    (
        {**{k: v for k, v in GOOD_QUERY.items() if k != "fn"}, "expr": "x*y", "box": "0,1,2"},
        r"URL parameter 'box': expected lo,hi per coordinate",
    ),
    (
        {**{k: v for k, v in GOOD_QUERY.items() if k != "fn"}, "expr": "x.__class__"},
        r"^function\.expression: attribute access",
    ),
    (
        {**{k: v for k, v in GOOD_QUERY.items() if k != "fn"}, "expr": "x*y", "box": "0,1,0,1", "min": "a,b"},
        r"URL parameter min: expected a number, got 'a'",
    ),
    (GOOD_QUERY | {"opt": "Adam:alpha=abc"}, r"URL parameter opt Adam\.alpha: expected a number, got 'abc'"),
    (GOOD_QUERY | {"opt": "Adam:alpha"}, r"URL parameter 'opt': expected key=value after Adam:"),
    (GOOD_QUERY | {"opt": "Adam;Adam"}, r"URL parameter 'opt': Adam is listed twice"),
    (GOOD_QUERY | {"opt": "Adam:alpha=20"}, r"^optimizers\.Adam\.alpha must be in \[1e-07, 10\]"),
    (GOOD_QUERY | {"opt": "Adam:alpha=inf"}, r"expected a finite number"),
    (GOOD_QUERY | {"opt": "Nope"}, r"URL parameter 'opt': unknown optimizer 'Nope'"),
    (GOOD_QUERY | {"opt": ""}, r"^optimizers: choose at least one"),
    (
        {k: v for k, v in GOOD_QUERY.items() if k != "opt"},
        r"URL parameter 'opt' \(the optimizers\) is missing",
    ),
    (GOOD_QUERY | {"starts": "spiral"}, r"URL parameter 'starts': unknown mode 'spiral'"),
    (GOOD_QUERY | {"starts": "grid:n=x"}, r"URL parameter starts n: expected a whole number, got 'x'"),
    (GOOD_QUERY | {"starts": "grid:n=4,n=5"}, r"n is given twice"),
    (GOOD_QUERY | {"starts": "grid:radius=0.5"}, r"^starts\.radius: unknown key"),
    (GOOD_QUERY | {"pts": "0,0"}, r"URL parameter 'pts': only with starts=points"),
    (GOOD_QUERY | {"starts": "points", "pts": "0,0,0"}, r"^starts\.points: points have 3 coordinate"),
    (GOOD_QUERY | {"starts": "points"}, r"^starts\.points: typed starts need their points"),
    (GOOD_QUERY | {"steps": "1e9"}, r"URL parameter steps: expected a whole number, got '1e9'"),
    (GOOD_QUERY | {"steps": "99999999"}, r"^steps: must be a whole number in \[1, 10,000\]"),
    (GOOD_QUERY | {"starts": "random:n=20000"}, r"^starts\.n: must be a whole number in \[1, 10,000\]"),
    (
        GOOD_QUERY | {"steps": "10000", "opt": "all", "starts": "grid:n=20"},
        r"^steps: 10,000 steps × 400 starts × 29 optimizer\(s\) is 116,000,000 point-steps, over the limit",
    ),
    (GOOD_QUERY | {"steps": "9" * 5000}, r"URL parameter steps: expected a whole number"),
    (GOOD_QUERY | {"seed": "-3"}, r"^seed: must be a whole number"),
    (GOOD_QUERY | {"sched": "cosin"}, r"^schedule: unknown schedule 'cosin'"),
    (GOOD_QUERY | {"hooks": "clip;nope"}, r"^hooks\[1\]: unknown hook 'nope'"),
    (GOOD_QUERY | {"noise": "nan"}, r"URL parameter noise: expected a finite number"),
    (GOOD_QUERY | {"delay": "2.5"}, r"URL parameter delay: expected a whole number"),
    (GOOD_QUERY | {"err": "worst"}, r"^view\.error: must be one of"),
    (GOOD_QUERY | {"dtype": "int8"}, r"^dtype: must be one of float64, float32"),
    (GOOD_QUERY | {"steps": ["1", "2"]}, r"URL parameter 'steps': expected text"),
]


@pytest.mark.parametrize(("query", "message"), MALFORMED_QUERIES, ids=[m[1][:40] for m in MALFORMED_QUERIES])
def test_malformed_query_refused_with_its_key(query: dict, message: str) -> None:
    with pytest.raises(ValueError) as err:
        Scene.from_query(query)
    assert re.search(message, str(err.value)), str(err.value)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
PATHS = [
    "version",
    "function",
    "function.name",
    "function.dim",
    "function.params",
    "optimizers",
    "optimizers.Adam",
    "optimizers.Adam.alpha",
    "optimizers.NAG",
    "starts",
    "starts.mode",
    "starts.n",
    "starts.points",
    "steps",
    "seed",
    "schedule",
    "hooks",
    "noise",
    "noise_mode",
    "delay",
    "dtype",
    "view",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), json_values), min_size=1, max_size=3))
def test_fuzzed_scenes_load_or_raise_value_error(edits) -> None:
    """Whatever a file holds, loading gives a scene or a ValueError: never another exception."""
    d = copy.deepcopy(BASE)
    for path, value in edits:
        node, keys = d, path.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node[keys[-1]] = value
    try:
        text = json.dumps(d)
    except ValueError:
        return
    try:
        Scene.from_json(text)
    except ValueError:
        pass


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*GOOD_QUERY, "expr", "box", "min", "pts", "dim", "tol"]),
        st.text(max_size=30),
        max_size=6,
    )
)
def test_fuzzed_queries_load_or_raise_value_error(changes) -> None:
    try:
        Scene.from_query({**GOOD_QUERY, **changes})
    except ValueError:
        pass


def test_non_finite_values_in_python_data() -> None:
    with pytest.raises(ValueError, match=r"^starts\.points\[0\]\[0\]: expected a finite number, got inf"):
        Scene.from_dict(_edit("starts", {"mode": "points", "points": [[math.inf, 1]]}))
    with pytest.raises(ValueError, match=r"^optimizers\.Adam\.alpha: expected a finite number, got nan"):
        Scene.from_dict(_edit("optimizers.Adam.alpha", math.nan))


def test_floats_come_back_bit_for_bit() -> None:
    alpha = math.nextafter(0.05, 1.0)
    s = Scene.from_run_kwargs("rosenbrock", {"Adam": {"alpha": alpha}}, [[0.1 + 0.2, -1 / 3]], 10, tol=1 / 3)
    for back in (Scene.from_json(s.to_json()), Scene.from_query(s.to_query())):
        assert back.optimizers["Adam"]["alpha"] == alpha and back.starts.points == ((0.1 + 0.2, -1 / 3),)
        assert back.tol == 1 / 3


# ---------------------------------------------------------------------- names, rates, old links
OLD = Path(__file__).parent / "fixtures" / "old_scenes"
OLD_RACES = json.loads((OLD / "races.json").read_text())["cases"]


@pytest.mark.parametrize("name", list(OLD_RACES))
def test_links_and_files_made_before_open_to_the_same_race(name: str) -> None:
    case = OLD_RACES[name]
    if case["kind"] == "link":
        scene = Scene.from_query(case["query"])
    else:
        scene = Scene.load(OLD / case["file"])
    assert scene.rates == "article"  # made when the registry's values were every surface's defaults
    assert {n: dict(h) for n, h in scene.optimizers.items()} == case["optimizers"]
    res = scene.run()
    assert res.steps == case["steps"] and list(res.names) == list(case["optimizers"])
    for opt in res.names:
        final = np.array(case["final"][opt])
        np.testing.assert_allclose(res.trajectories[opt][-1], final, rtol=1e-12, atol=1e-14)
    again = Scene.from_query(scene.to_query())  # saved again (version 2): the same race
    assert again == scene and Scene.from_json(scene.to_json()) == scene and again.to_query()["v"] == "2"


def test_a_bare_name_is_one_optimizer_and_a_group_is_written_group() -> None:
    assert list(Scene(SceneFunction(name="booth"), "adam", Starts.grid(2), 5).optimizers) == ["Adam"]
    grouped = Scene(SceneFunction(name="booth"), ["group:santa", "SGD"], Starts.grid(2), 5)
    assert list(grouped.optimizers) == ["SantaE", "SantaSSS", "SGD"]
    with pytest.raises(ValueError, match=r"^optimizers\.momentum: unknown optimizer 'momentum' \(the "
                                         r"group is written group:momentum\)"):
        Scene(SceneFunction(name="booth"), "momentum", Starts.grid(2), 5)
    q = Scene(SceneFunction(name="booth"), "group:adam", Starts.grid(2), 5).to_query()
    assert q["opt"] == "group:adam" and list(Scene.from_query(q).optimizers) == list(GROUPS["adam"])
    assert list(Scene.from_query({**q, "opt": "adam"}).optimizers) == ["Adam"]  # version 2: the optimizer
    old = Scene.from_query({**q, "v": "1", "opt": "adam"})  # a version-1 link reads as it was made
    assert list(old.optimizers) == list(GROUPS["adam"])


def test_every_hyperparameter_follows_the_rates_policy_unless_set() -> None:
    tuned = Scene(SceneFunction(name="himmelblau"), {"Adam": None, "SGD": {"eta": 0.02}}, Starts.grid(2), 5)
    assert tuned.rates == "tuned" and tuned.optimizers["Adam"] == rates.defaults("Adam", "himmelblau", 2)
    assert tuned.optimizers["SGD"]["eta"] == 0.02
    article = tuned.with_rates("registry")  # values still at the tuned ones follow; set ones stay
    assert article.rates == "article" and article.optimizers["Adam"] == REGISTRY["Adam"].defaults
    assert article.optimizers["SGD"]["eta"] == 0.02 and article.with_rates("tuned") == tuned
    q = article.to_query()
    assert q["rates"] == "article" and q["opt"] == "Adam;SGD:eta=0.02" and Scene.from_query(q) == article
    assert json.loads(article.to_json())["rates"] == "article"
    assert article.run().rates == "article"
    with pytest.raises(ValueError, match=r"^rates: rates must be one of tuned, article, registry"):
        Scene(SceneFunction(name="himmelblau"), "Adam", Starts.grid(2), 5, rates="best")
    own = Scene(SceneFunction(name="long_valley", params={"kappa": 1000.0}), "SGD", Starts.grid(2), 5)
    assert own.optimizers["SGD"] == REGISTRY["SGD"].defaults  # tuned for kappa=100 only


def test_scenes_are_hashable_and_read_only() -> None:
    assert len(set(SCENES)) == len(SCENES)
    for scene in SCENES:
        assert hash(Scene.from_json(scene.to_json())) == hash(scene)
    s = SCENES[0]
    with pytest.raises(TypeError):
        s.optimizers["Adam"]["alpha"] = 1.0  # type: ignore[index]
    with pytest.raises(TypeError):
        s.function.params["kappa"] = 1.0  # type: ignore[index]
    assert {n: dict(h) for n, h in s.optimizers.items()} == s.to_dict()["optimizers"]


# ---------------------------------------------------------------------- typed texts (one reader each)
def test_box_minimizer_and_point_texts_are_read_in_one_place() -> None:
    from optviz.scene import starts, text

    assert text.box("-2, 2, -1, 3") == [[-2.0, 2.0], [-1.0, 3.0]] == text.box("-2 2 -1 3", dim=2)
    assert text.box("  ") is None and text.box("0, 1") == [[0.0, 1.0]]
    assert text.minimizers("1, 1; -1 2\n0,0") == [[1.0, 1.0], [-1.0, 2.0], [0.0, 0.0]]
    assert text.minimizers(" none ") == [] and text.minimizers("") is None
    typed = text.points("(-1.5, 2); [0.5 -0.5]", 2)
    assert typed == [[-1.5, 2.0], [0.5, -0.5]] == starts.parse("-1.5,2;0.5,-0.5", 2)
    for call, phrase in [
        (lambda: text.box("1, 2, 3", what="--box"), "--box: expected x_lo, x_hi (1-D) or x_lo, x_hi, y_lo"),
        (lambda: text.box("2, -2"), "box: the range of x needs lo < hi, got 2, -2"),
        (lambda: text.box("0, 1", dim=2), "expected a lo, hi pair for each of the 2 coordinate(s); got 2"),
        (lambda: text.box("a, 1"), "box: expected a number, got 'a'"),
        (lambda: text.box(3), "box: typed as text"),
        (lambda: text.minimizers("1, 1; 2"), "minimizer 2: has 1 coordinate(s); expected 2"),
        (lambda: text.minimizers("1, 1", dim=1), "minimizer 1: has 2 coordinate(s); expected 1"),
        (lambda: text.minimizers("1e309, 0"), "is too large"),
    ]:
        with pytest.raises(ValueError) as err:
            call()
        assert phrase in str(err.value) and "\n" not in str(err.value)

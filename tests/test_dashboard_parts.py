"""The dashboard's plain parts, without Streamlit running: slider positions, the packed sweeps,
the state's callbacks and the messages."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import functions
import optviz
from optviz.dashboard import messages, scene_state, state
from optviz.live import sliders, sweeps
from optviz.optimizers import REGISTRY, rates
from optviz.scene import lessons as presets
from optviz.scene.model import Scene, SceneFunction, Starts


# ---------------------------------------------------------------------- slider positions
def test_learning_rate_positions_are_1_2_5_per_decade_with_the_default():
    hp = REGISTRY["Adam"].hyperparam("alpha")
    pos = sliders.positions(hp, [0.0037])
    assert list(pos) == sorted(set(pos)) and pos[0] == hp.low and pos[-1] == hp.high
    assert {1e-3, 2e-3, 0.0037, 1e-2, hp.default} <= set(pos)
    assert 20 <= len(pos) <= 30  # short: every position is computed in advance


@pytest.mark.parametrize(("opt", "hp", "value"), [("SGD", "eta", 0.018), ("RMSprop", "eta", 0.0031),
                                                  ("NAG", "mu", 0.913), ("Adam", "alpha", 0.05)])
def test_a_tuned_or_chosen_value_does_not_leave_a_crowded_neighbour(opt, hp, value):
    # 0.01 -> 0.018 -> 0.02 made one key press move by 11 % and the next by 80 %: the grid
    # positions within a quarter decade (log) of a value that must stay give way to it
    s = sliders.slider(opt, hp, value)
    v = np.array(s.values)
    assert value in s.values
    if s.kind == "log":
        ratios = v[1:] / v[:-1]
        assert ratios.min() >= 10**0.25 - 1e-9, s.values
    if s.kind == "decay":
        gaps = np.abs(np.diff(np.log10(1 - v)))
        assert gaps.min() >= 0.03, s.values


@pytest.mark.parametrize(("opt", "hp"), [(n, h.name) for n in REGISTRY for h in REGISTRY[n].hyperparams])
def test_every_hyperparameter_has_a_short_valid_list_holding_its_default(opt, hp):
    spec = REGISTRY[opt].hyperparam(hp)
    pos = sliders.positions(spec)
    assert 5 <= len(pos) <= 32
    assert all(spec.low <= v <= spec.high for v in pos)
    assert spec.default in pos
    s = sliders.slider(opt, hp, spec.default)
    assert s.value == spec.default and s.label.startswith(hp)


def test_a_value_off_the_list_becomes_a_position_exactly():
    s = sliders.slider("NAG", "mu", 0.913)
    assert s.value == 0.913
    s = sliders.slider("SGD", "eta", 0.1234567890123456789)  # more digits than the positions have
    assert s.value == 0.1234567890123456789 and list(s.values) == sorted(s.values)
    assert sliders.slider("SGD", "eta", 0.018).value == 0.018  # the valley lesson's rate, not 0.02


# ---------------------------------------------------------------------- rows and packing
@pytest.mark.parametrize("steps", [1, 10, 100, 101, 300, 1000, 2999])
def test_rows_are_few_with_an_odd_stride_and_the_last_step(steps):
    stride = sweeps.stride_for(steps)
    assert stride == 1 or stride % 2 == 1
    rec = np.arange(steps + 1)
    rows = sweeps.shown_rows(rec, stride)
    assert rows[0] == 0 and rows[-1] == steps and len(rows) <= sweeps.MAX_ROWS


def test_quantized_positions_round_trip_and_mark_what_is_outside():
    q = sweeps.Quantizer.around(np.array([[-2.0, 2.0], [-1.0, 3.0]]))
    xy = np.array([[0.1234, -0.5], [1.999, 2.999], [1e9, 0.0], [np.nan, 1.0]])
    back = q.decode(q.encode(xy))
    np.testing.assert_allclose(back[:2], xy[:2], atol=1e-4)
    assert np.isnan(back[2:]).all()


def test_a_block_holds_positions_dead_rows_error_quantiles_and_counts():
    fn = functions.get("rosenbrock")
    starts = optviz.scene.starts.grid(fn.box, 3)
    res = optviz.run(fn, {"SGD": {"eta": 0.05}}, starts, 60)
    rows = sweeps.shown_rows(res.recorded_steps, 3)
    q = sweeps.Quantizer.around(fn.box)
    b = sweeps.pack(res, "SGD", rows, q, "distance", 1e-3)
    dead = sweeps.unb64(b["dead"], "<i2")
    d = res.diverged_step["SGD"]
    assert ((dead >= 0) == (d >= 0)).all() and b["div"] == int((d >= 0).sum())
    steps = res.recorded_steps[rows]
    for j in np.flatnonzero(d >= 0):
        assert steps[dead[j]] >= d[j] and (dead[j] == 0 or steps[dead[j] - 1] < d[j])
    err = sweeps.unb64(b["err"], "<f4").reshape(3, len(rows))
    e = res.errors_until_divergence("distance")["SGD"][rows]
    with np.errstate(all="ignore"):
        med = np.quantile(np.where(np.isfinite(e), e, np.inf), 0.5, axis=1, method="nearest")
    ok = np.isfinite(med)
    np.testing.assert_allclose(err[1][ok], np.maximum(med[ok], sweeps.LOG_FLOOR), rtol=1e-6)
    assert np.isnan(err[1][~ok]).all()


@pytest.mark.parametrize("name", ["NAG", "Adam", "SantaE"])
def test_each_swept_block_is_the_run_of_that_position(name):
    fn = functions.get("himmelblau")
    starts = optviz.scene.starts.grid(fn.box, 2)
    current = dict(REGISTRY[name].defaults)
    sl = [sliders.slider(name, hp, v) for hp, v in current.items()][:2]
    q = sweeps.Quantizer.around(fn.box)
    blocks = sweeps.sweep(fn, name, current, sl, starts, 40, 3, q, "auto", 1e-3, seed=5)
    for s, bl in zip(sl, blocks, strict=True):
        assert bl[s.index] is None
        i = (s.index + 3) % len(s.values)
        hp = {**current, s.name: s.values[i]}
        res = optviz.run(fn, {name: hp}, starts, 40, seed=5, record_every=3)
        want = sweeps.pack(res, name, sweeps.shown_rows(res.recorded_steps, 3), q, "auto", 1e-3)
        assert bl[i]["pos"] == want["pos"] and bl[i]["dead"] == want["dead"]


def test_big_scenes_compute_learning_rate_sliders_first(monkeypatch):
    from optviz.dashboard import compute

    fn = functions.get("himmelblau")
    names = ["Adam", "NAG"]
    sc = Scene(function=SceneFunction(name="himmelblau", dim=2), optimizers={n: {} for n in names},
               starts=Starts.typed(optviz.scene.starts.random(fn.box, 1000)), steps=300, seed=0)
    sl = {n: [sliders.slider(n, h, v) for h, v in sc.optimizers[n].items()] for n in names}
    live = compute.live_sliders(sc, sl, 26)
    assert [s.name for s in live["Adam"]] == ["alpha"] and [s.name for s in live["NAG"]] == ["eta"]
    small = compute.live_sliders(dataclasses.replace(sc, starts=Starts.typed(sc.starts.points[:16])), sl, 101)
    assert all(len(small[n]) == len(sl[n]) for n in names)


# ---------------------------------------------------------------------- the state's callbacks
@pytest.fixture
def ss(monkeypatch):
    d: dict = {"slider_ack": 0, "function": "himmelblau", "dim": 2, "start_mode": "Grid", "typed_starts": "",
               "grid_n": 4}
    for n in REGISTRY:
        for h in REGISTRY[n].hyperparams:
            d[state.hp_key(n, h.name)] = h.default
    monkeypatch.setattr(state, "ss", d)
    return d


def test_slider_messages_are_applied_once_in_order_and_checked(ss):
    assert state.apply_slider_values({"seq": 2, "values": {"Adam": {"alpha": 0.02}, "NAG": {"mu": 0.5}}}) == 2
    assert ss["hp__Adam__alpha"] == 0.02 and ss["hp__NAG__mu"] == 0.5 and ss["slider_ack"] == 2
    assert state.apply_slider_values({"seq": 1, "values": {"Adam": {"alpha": 0.5}}}) == 0  # older: ignored
    assert ss["hp__Adam__alpha"] == 0.02
    bad = {"seq": 3, "values": {"Adam": {"alpha": 1e9, "nope": 1}, "Nobody": {"x": 1}, "NAG": "x"}}
    assert state.apply_slider_values(bad) == 0 and ss["hp__Adam__alpha"] == 0.02
    assert state.apply_slider_values("garbage") == 0 and state.apply_slider_values({"seq": "4"}) == 0


def test_only_a_browsers_first_run_is_lean(ss, monkeypatch):
    monkeypatch.setattr(state, "_from_browser", lambda: True)
    assert state.lean()
    ss["page_ready"] = True
    assert not state.lean()
    ss["page_ready"] = False
    ss["live_sweeps"] = "always"
    assert not state.lean()
    ss["live_sweeps"] = "auto"
    monkeypatch.setattr(state, "_from_browser", lambda: False)
    assert not state.lean()


def test_a_click_adds_a_start_to_the_grid_and_clear_then_back_to_the_grid(ss):
    grid = state.make_starts(state.make_function())
    assert ss["start_mode"] == "Grid" and len(grid) == 16
    state.add_start([1.23456, -2.0])  # the grid stays: the click adds a 17th start
    assert ss["start_mode"] == "Typed"
    assert state.make_starts(state.make_function()) == [*grid, [1.235, -2.0]]
    state.add_start([0.5, 0.5])
    assert state.make_starts(state.make_function())[-2:] == [[1.235, -2.0], [0.5, 0.5]]
    state.add_start(["x"])  # nonsense is ignored
    state.add_start([1e300, 0.0])
    assert len(ss["typed_starts"].splitlines()) == 18
    state.add_start([0.25, 0.75], replace=True)  # the first click after "Clear starts"
    assert ss["typed_starts"] == "0.25, 0.75"
    state.back_to_grid()
    assert ss["start_mode"] == "Grid" and state.make_starts(state.make_function()) == grid
    state.move_start(5, [1.0, -1.5])  # a start's ring dragged: that start moves, the others stay
    assert state.make_starts(state.make_function()) == [*grid[:5], [1.0, -1.5], *grid[6:]]
    state.move_start(99, [0.0, 0.0])  # no such start, or nonsense: nothing moves
    state.move_start(0, ["x"])
    assert state.make_starts(state.make_function()) == [*grid[:5], [1.0, -1.5], *grid[6:]]


def test_a_click_on_a_1d_curve_adds_its_x(ss):
    ss["dim"] = 1
    ss["start_mode"] = "Typed"
    ss["typed_starts"] = ""
    state.add_start([1.5, -40.0], replace=True)
    state.add_start([-2.0])
    assert ss["typed_starts"] == "1.5, -2"


@pytest.mark.parametrize("name", presets.LESSONS)
def test_a_lesson_sets_every_value_of_its_scene_and_a_reported_function_keeps_them(name):
    with state.detached():
        state.init()
        state.ss["hp__Adam__beta1"] = 0.1
        state.ss["hp__SGD__eta"] = 0.123
        scene_state.load_lesson(name)
        scene = presets.get(name).scene
        assert state.ss["lesson"] == name
        assert scene_state.difference(scene_state.scene_from_widgets(), scene) is None
        for opt, hps in scene.optimizers.items():
            assert state.hyperparams(opt) == hps  # exactly the lesson's values
        # the browser reports the function and dimension the lesson set: Streamlit calls their
        # callbacks, and the lesson's rates stay (the bug: they became the tuned table's)
        state.on_function_change()
        state.on_dim_change()
        for opt, hps in scene.optimizers.items():
            assert state.hyperparams(opt) == hps
        assert state.ss["lesson"] == name


def test_a_new_function_takes_its_tuned_rates_and_drops_slider_messages_made_before():
    with state.detached():
        state.init()
        gen = state.ss["hp_gen"]
        state.ss["function"] = "rosenbrock"
        state.on_function_change()
        assert state.ss["hp__SGD__eta"] == rates.tuned("rosenbrock")["SGD"]["eta"]
        assert state.ss["hp_gen"] == gen + 1
        assert state.apply_slider_values({"seq": 5, "gen": gen, "values": {"SGD": {"eta": 0.5}}}) == 0
        assert state.ss["hp__SGD__eta"] == rates.tuned("rosenbrock")["SGD"]["eta"]
        assert state.apply_slider_values({"seq": 6, "gen": gen + 1, "values": {"SGD": {"eta": 0.5}}}) == 1
        assert state.ss["hp__SGD__eta"] == 0.5


def test_a_new_formula_drops_the_box_and_minimizers_of_the_one_before():
    with state.detached():
        state.init()
        state.ss["fn_source"] = state.FUNCTION_SOURCES[1]
        state.ss["expr"] = "x**2 + 10*y**2"
        state.on_formula_change()
        assert state.ss["expr_box"] == "" and state.ss["expr_min"] == ""
        fn = state.make_function()
        assert fn.estimated and np.allclose(fn.minimizers, [[0, 0]], atol=1e-6)
        # a box typed for the new formula stays when the formula is edited again
        state.ss["expr_box"] = "-3, 3, -3, 3"
        state.ss["expr"] = "x**2 + 20*y**2"
        state.on_formula_change()
        assert state.ss["expr_box"] == "-3, 3, -3, 3"


# ---------------------------------------------------------------------- messages
def test_messages_are_cut_short():
    assert len(messages.short(ValueError("x" * 10_000))) <= messages.LIMIT
    assert messages.short(KeyError("unknown 'a'")) == "unknown 'a'"


def test_a_start_where_f_is_not_finite_is_named():
    fn = functions.get("rosenbrock")
    with np.errstate(all="raise"):
        text = messages.start_problem(fn, np.array([[1e308, 1e308], [0.0, 0.0]]))
    assert text and "(1e+308, 1e+308)" in text and "not the learning rates" in text
    assert messages.start_problem(fn, np.array([[0.0, 0.0]])) is None


def test_starts_outside_the_box_get_a_note():
    fn = functions.get("himmelblau")
    assert messages.outside_note(fn, np.array([[0.0, 0.0]])) is None
    note = messages.outside_note(fn, np.array([[0.0, 0.0], [9.0, 9.0], [-9.0, 0.0]]))
    assert "2 of the 3 starts" in note and "[-5, 5] × [-5, 5]" in note


# ---------------------------------------------------------------------- kept runs
def test_runs_are_kept_per_optimizer_and_missing_ones_run_together(monkeypatch):
    from optviz.dashboard import compute

    fn = functions.get("himmelblau")
    names = ("SantaE", "Adam", "NAG")
    sc = Scene(function=SceneFunction(name="himmelblau", dim=2), optimizers={n: {} for n in names},
               starts=Starts.typed(optviz.scene.starts.grid(fn.box, 3)), steps=50, seed=7, rates="article")
    calls = []
    real = optviz.run

    def counting(*a, **k):
        calls.append(tuple(a[1]))
        return real(*a, **k)

    monkeypatch.setattr(compute.optviz, "run", counting)
    runs = compute._Runs()
    first = runs.get(sc, "numpy")
    assert calls == [names]  # one engine call for the three
    joint = real(fn, {n: dict(REGISTRY[n].defaults) for n in names}, optviz.scene.starts.grid(fn.box, 3), 50,
                 seed=7)
    for n in names:
        np.testing.assert_array_equal(first.trajectories[n], joint.trajectories[n])
    adam = {**sc.optimizers["Adam"], "alpha": 0.05}
    moved = dataclasses.replace(sc, optimizers={**sc.optimizers, "Adam": adam})
    second = runs.get(moved, "numpy")
    assert calls[-1] == ("Adam",)  # only the optimizer whose value moved
    np.testing.assert_array_equal(second.trajectories["NAG"], first.trajectories["NAG"])
    assert second.names == names


# ---------------------------------------------------------------------- the link the page writes itself
def _page_opt(template: dict, texts: dict[str, list[str]]) -> str:
    """``opt`` as race.js's linkQuery composes it from the template and each slider's text."""
    items = []
    for name, parts in texts.items():
        parts = [t for t in parts if t]
        if not template["group"] or parts:
            items.append(f"{name}:{','.join(parts)}" if parts else name)
    return ";".join([template["group"], *items] if template["group"] else items)


@pytest.mark.parametrize("case", ["default", "all", "article-quartic", "typed"])
def test_the_link_the_page_writes_when_a_slider_moves_is_the_scenes_own(case):
    from optviz.dashboard import share
    from optviz.scene.model import Scene, SceneFunction, Starts

    if case == "article-quartic":
        scene = presets.get(case).scene
    else:
        func = (SceneFunction(expression="x**2 + 10*y**2") if case == "typed"
                else SceneFunction(name="rosenbrock" if case == "all" else "himmelblau", dim=2))
        names = list(REGISTRY) if case == "all" else list(presets.DEFAULT_FIELD)
        scene = Scene(function=func, optimizers={n: {} for n in names}, starts=Starts("grid", n=2), steps=20)
    template = share.link_template(scene)
    assert template["query"] == scene.to_query()
    cur = {name: dict(hps) for name, hps in scene.optimizers.items()}
    base = {name: [share.slider_link_texts(scene, name, hp, [v])[0] for hp, v in hps.items()]
            for name, hps in cur.items()}
    assert _page_opt(template, base) == scene.to_query()["opt"]
    for name, hps in cur.items():
        for k, (hp, value) in enumerate(hps.items()):
            s = sliders.slider(name, hp, value)
            texts = share.slider_link_texts(scene, name, hp, s.values)
            for v, text in list(zip(s.values, texts, strict=True))[::3]:
                moved = dataclasses.replace(scene, optimizers={**cur, name: {**hps, hp: v}})
                page = {**base, name: [*base[name][:k], text, *base[name][k + 1:]]}
                assert _page_opt(template, page) == moved.to_query()["opt"], (name, hp, v)


def test_a_scene_sets_the_optimizers_it_does_not_race_to_its_policys_values():
    with state.detached():
        state.init()
        scene_state.load_lesson("adaptive-rosenbrock")
        assert state.hyperparams("NAG") == rates.defaults("NAG", "rosenbrock", 2, "tuned")
        scene_state.load_lesson("article-quartic")
        assert presets.get("article-quartic").scene.rates == "article" == state.ss["rates"]
        assert state.hyperparams("DCASGD") == rates.defaults("DCASGD", "quartic", 1, "article")


def test_the_race_shows_every_step_under_its_budget():
    from optviz.dashboard.views import race

    scene = presets.LESSONS[next(iter(presets.LESSONS))].scene
    small = dataclasses.replace(scene, steps=300)
    assert race.frame_rows(small) == 301
    assert sweeps.stride_for(300, race.frame_rows(small)) == 1  # one row per step
    paths = len(scene.optimizers) * len(scene.starts.points)
    big_steps = race.EVERY_STEP_BUDGET // paths + 10
    big = dataclasses.replace(scene, steps=big_steps)
    assert race.frame_rows(big) == sweeps.max_rows_for(paths) < big_steps


def test_the_explore_tabs_run_with_the_scenes_noise_delay_and_precision():
    from optviz.dashboard.views import exploring

    scene = Scene.from_run_kwargs("himmelblau", ["Adam"], Starts.grid(2), 20, noise=0.1,
                                  noise_mode="relative", delay=2, dtype="float32")
    options = exploring.options_of(scene, "numpy")
    assert {k: options[k] for k in ("noise", "noise_mode", "delay", "dtype")} == {
        "noise": 0.1, "noise_mode": "relative", "delay": 2, "dtype": "float32"}
    # the basin map records what it ran with
    m = optviz.basins(scene.build_function(), {"Adam": dict(scene.optimizers["Adam"])}, grid=3, steps=20,
                      rates="registry", **options)
    assert {k: m.options[k] for k in ("noise", "noise_mode", "delay", "dtype")} == {
        "noise": 0.1, "noise_mode": "relative", "delay": 2, "dtype": "float32"}
    # a sweep of the delay sets the delay itself
    assert "delay" not in exploring.options_of(scene, "numpy", besides=("delay",))

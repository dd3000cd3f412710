"""Basin maps, sweeps and comparisons: each view's numbers equal a direct computation.

- a 3×3 basin grid equals nine runs, one start each;
- a 3-value sweep equals three runs, one value each (hyperparameters, noise and delay);
- the tuner's pick equals an exhaustive search of a tiny grid, run configuration by
  configuration; the held-out numbers equal a direct run of the picks;
- performance profiles equal a hand count; the protocol repeats exactly for a fixed seed.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import functions
import optviz
from optviz.explore import compare as cmp
from optviz.explore import measures, scale
from optviz.explore.sweep import parse_values
from optviz.optimizers import rates

TOL = 1e-3


def stays_from(inside: np.ndarray) -> np.ndarray:
    """Per column of ``inside`` (steps × points, every step recorded): the step from which it is
    True to the end, -1 when it is False at the end."""
    out = np.full(inside.shape[1], -1)
    for p in range(inside.shape[1]):
        t = inside.shape[0]
        while t > 0 and inside[t - 1, p]:
            t -= 1
        out[p] = t if t < inside.shape[0] else -1
    return out


def _direct(fn, name, hp, starts, steps, seed=0, tol=TOL, **kw):
    """One optimizer's final distance (∞ diverged), steps to tol, diverged, converged and nearest
    minimizer, from a plain optviz.run with every step recorded."""
    res = optviz.run(fn, {name: hp}, starts, steps, seed=seed, tol=tol, **kw)
    mins = np.asarray(res.function.minimizers)
    final = res.trajectories[name][-1]
    d = np.linalg.norm(final[:, None, :] - mins[None, :, :], axis=-1)
    dead = res.diverged_step[name] >= 0
    dist = np.where(dead, np.inf, d.min(axis=1))
    stt = res.steps_to_tol[name]
    # steps to tol from the recorded trajectory, independently of the engine's counter
    all_d = np.linalg.norm(res.trajectories[name][:, :, None, :] - mins[None, None], axis=-1).min(axis=-1)
    hit = (all_d <= tol) & ~dead[None, :]
    first = np.where(hit.any(axis=0), np.argmax(hit, axis=0), -1)
    np.testing.assert_array_equal(res.first_entry[name], first)
    np.testing.assert_array_equal(stt, stays_from(hit))
    conv = (stt >= 0) & (dist <= tol) & ~dead
    return dist, stt, dead, conv, np.argmin(d, axis=1)


# ============================================================================ basin maps
def test_a_3x3_basin_grid_equals_nine_runs_point_by_point():
    fn = functions.get("himmelblau")
    opts = {"SGD": {"eta": 0.01}, "Adam": {"alpha": 0.2}, "MSGD": {"eta": 0.02, "mu": 0.9}}
    m = optviz.basins(fn, opts, grid=3, steps=120, tol=TOL)
    assert m.shape == (3, 3) and m.names == ("SGD", "Adam", "MSGD")
    np.testing.assert_allclose(m.x, [-5 + 10 / 6, 0.0, 5 - 10 / 6], atol=1e-15)
    np.testing.assert_array_equal(m.x, m.y)
    for name, hp in opts.items():
        for iy, y in enumerate(m.y):
            for ix, x in enumerate(m.x):
                dist, stt, dead, conv, near = _direct(fn, name, hp, [[x, y]], 120)
                assert m.final_error[name][iy, ix] == dist[0]
                assert m.steps_to_tol[name][iy, ix] == stt[0]
                assert m.diverged[name][iy, ix] == dead[0]
                assert m.minimum[name][iy, ix] == (near[0] if conv[0] else -1)
        assert m.share_converged[name] == np.mean(m.minimum[name] >= 0)
    # the plain-GD map: every cell reaches the minimum of its own quadrant here
    assert (m.minimum["SGD"] >= 0).all()
    assert len(set(m.minimum["SGD"].ravel().tolist())) == 4


@pytest.mark.parametrize("tol_kind", ["distance", "gap"])
def test_steps_to_tol_is_where_a_point_stays_and_first_entry_where_it_first_enters(tol_kind):
    """An oscillating method enters the tolerance before it settles: steps_to_tol is the step from
    which it stays (to the end), first_entry the first step inside; fast and readable paths agree."""
    xs = np.linspace(-4.5, 4.5, 4)
    grid = np.array([[x, y] for y in xs for x in xs])
    opts = {"MSGD": {"eta": 0.01, "mu": 0.9}, "NAG": {"eta": 0.01, "mu": 0.9}}
    fast = optviz.run("himmelblau", opts, grid, 150, tol=TOL, tol_kind=tol_kind, fused=True)
    ref = optviz.run("himmelblau", opts, grid, 150, tol=TOL, tol_kind=tol_kind, fused=False)
    assert fast.path == "fast" and ref.path == "reference"
    errs = fast.errors(tol_kind)
    for name in opts:
        np.testing.assert_array_equal(fast.steps_to_tol[name], ref.steps_to_tol[name])
        np.testing.assert_array_equal(fast.first_entry[name], ref.first_entry[name])
        inside = (errs[name] <= TOL) & (fast.diverged_step[name] < 0)[None, :]
        np.testing.assert_array_equal(fast.steps_to_tol[name], stays_from(inside))
        np.testing.assert_array_equal(fast.first_entry[name],
                                      np.where(inside.any(axis=0), np.argmax(inside, axis=0), -1))
        settled = fast.steps_to_tol[name] >= 0
        assert (fast.first_entry[name][settled] < fast.steps_to_tol[name][settled]).any()
    # the summary's median steps counts from where the points stay too, recorded every step or not
    row = {r["optimizer"]: r for r in fast.summary(tol_kind, tol=TOL)}["MSGD"]
    assert row["steps_to_tol"] == int(np.median(fast.steps_to_tol["MSGD"][fast.steps_to_tol["MSGD"] >= 0]))
    sparse = optviz.run("himmelblau", opts, grid, 150, tol=TOL, tol_kind=tol_kind, record_every=10)
    assert {r["optimizer"]: r for r in sparse.summary(tol_kind, tol=TOL)}["MSGD"] == row


def test_basin_map_layout_json_and_agreement():
    m = optviz.basins("himmelblau", {"SGD": {"eta": 0.01}, "Adam": {"alpha": 0.05}}, grid=(4, 3), steps=40)
    assert m.shape == (3, 4)
    np.testing.assert_array_equal(m.starts.reshape(3, 4, 2)[1, 2], [m.x[2], m.y[1]])  # [iy, ix]
    doc = json.loads(json.dumps(m.to_json(), allow_nan=False))
    assert doc["grid"] == [4, 3] and len(doc["x"]) == 4 and len(doc["y"]) == 3
    for name in m.names:
        o = doc["optimizers"][name]
        assert set(o) >= {"final_error", "steps_to_tol", "minimum", "share_converged"}
        for key in ("final_error", "steps_to_tol", "minimum"):
            assert np.shape(o[key]) == (3, 4)
        stt, mins = np.array(o["steps_to_tol"], dtype=object), np.array(o["minimum"], dtype=object)
        np.testing.assert_array_equal(stt == None, m.steps_to_tol[name] < 0)  # noqa: E711
        np.testing.assert_array_equal(mins == None, m.minimum[name] < 0)  # noqa: E711
        assert o["share_converged"] == m.share_converged[name]
    # Adam at 40 steps misses cells SGD reaches: the agreement map says where
    agree = m.agreement("SGD", "Adam")
    ca, cb = m.converged("SGD"), m.converged("Adam")
    np.testing.assert_array_equal(agree == 0, ~ca & ~cb)
    np.testing.assert_array_equal(agree == 1, ca & ~cb)
    np.testing.assert_array_equal(agree == 2, ~ca & cb)
    np.testing.assert_array_equal(agree >= 3, ca & cb)
    assert m.only("SGD", "Adam") == np.mean(ca & ~cb) > 0


def test_basins_in_1d_and_over_a_box_of_ones_own():
    m = optviz.basins("quartic", ["SGD"], grid=7, steps=50, box=[[-3, 3]])
    assert m.shape == (7,) and m.y is None and m.starts.shape == (7, 1)
    np.testing.assert_allclose(m.x, -3 + (np.arange(7) + 0.5) * 6 / 7)


def test_learning_rates_nobody_set_come_from_the_tuned_table():
    from optviz.scene import lessons as presets

    tuned = presets.tuned_rates("himmelblau")["Adam"]["alpha"]
    m = optviz.basins("himmelblau", ["Adam"], grid=2, steps=2)
    assert m.hyperparams["Adam"]["alpha"] == tuned
    m = optviz.basins("himmelblau", {"Adam": {"alpha": 0.123}}, grid=2, steps=2)
    assert m.hyperparams["Adam"]["alpha"] == 0.123
    m = optviz.basins("himmelblau", ["Adam"], grid=2, steps=2, rates="registry")
    assert m.hyperparams["Adam"]["alpha"] == optviz.REGISTRY["Adam"].defaults["alpha"]
    # a family built with its own parameters is not the tuned one
    fn = functions.get("long_valley", 2, kappa=1000)
    assert measures.fill_rates(fn, {"Adam": {}}) == {"Adam": optviz.REGISTRY["Adam"].defaults}
    tuned_adam = measures.fill_rates(functions.get("long_valley"), {"Adam": {}})["Adam"]
    assert tuned_adam == rates.defaults("Adam", "long_valley", 2) != optviz.REGISTRY["Adam"].defaults
    m = optviz.basins("himmelblau", ["Adam"], grid=2, steps=2, rates="article")
    assert m.hyperparams["Adam"] == optviz.REGISTRY["Adam"].defaults


@pytest.mark.parametrize(("call", "error", "phrase"), [
    (lambda: optviz.basins(functions.get("rastrigin", 3), ["SGD"], grid=2), ValueError,
     "1-D or 2-D box; rastrigin has 3 coordinates"),
    (lambda: optviz.basins("saddle", ["SGD"], grid=2), ValueError, "nothing to converge to"),
    (lambda: optviz.basins("himmelblau", ["SGD"], grid=0), ValueError, "grid must be a whole number"),
    (lambda: optviz.basins("himmelblau", ["SGD"], grid=(2, 2, 2)), ValueError, "one per axis"),
    (lambda: optviz.basins("himmelblau", ["SGD"], box=[[1, 0], [0, 1]]), ValueError, "low < high"),
    (lambda: optviz.basins("himmelblau", ["SGD"], tol=0), ValueError, "tol must be"),
    (lambda: optviz.basins("himmelblau", ["SGD"], kind="loss"), ValueError, "no target"),
    (lambda: optviz.basins("himmelblau", ["SGD"], record_every=3), TypeError, "unexpected keyword"),
    (lambda: optviz.basins("himmelblau", ["SGD"], rates="fast"), ValueError, "tuned, article, registry"),
    (lambda: optviz.basins("himmelblau", ["Nope"]), KeyError, "unknown optimizer"),
    (lambda: optviz.basins("himmelblau", ["SGD"], grid=2, scheduler="nowhere"), ValueError, "tcp://host:8786"),
    (lambda: optviz.basins("himmelblau", ["SGD"], grid=1000, steps=100_000, max_seconds=10), ValueError,
     "over the 10 s limit"),
])
def test_basins_bad_input(call, error, phrase):
    with pytest.raises(error) as info:
        call()
    assert phrase in (info.value.args[0] if isinstance(info.value, KeyError) else str(info.value))


# ============================================================================ sweeps
def _stats_direct(dist, stt, dead, conv):
    e = np.where(dead, np.inf, dist)
    fin = np.sort(e)
    q = {p: (np.quantile(fin, p) if np.isfinite(fin).all() else None) for p in (0.25, 0.5, 0.75)}
    return e, q, float(conv.mean()), float(dead.mean())


def test_a_three_value_sweep_equals_one_run_per_value():
    fn = functions.get("rosenbrock")
    starts = np.array([[-1.5, 2.0], [0.5, -0.5], [-0.5, 1.5], [1.2, 1.5]])
    values = [1e-3, 1e-2, 1e-1]
    s = optviz.sweep(fn, {"Adam": {"beta1": 0.8}, "MSGD": {}}, "lr", values, starts=starts, steps=150,
                     seeds=2, seed=5, rates="registry")
    assert s.params == {"Adam": "alpha", "MSGD": "eta"}
    seeds = np.repeat([5, 6], len(starts)).astype(np.uint64)
    both = np.tile(starts, (2, 1))
    for name, hp in (("Adam", {"beta1": 0.8}), ("MSGD", {})):
        keys = []
        for i, v in enumerate(values):
            dist, stt, dead, conv, _ = _direct(fn, name, {**hp, s.params[name]: v}, both, 150, seed=seeds)
            np.testing.assert_array_equal(s.error[name][i], np.where(dead, np.inf, dist))
            np.testing.assert_array_equal(s.steps_to_tol[name][i], stt)
            st = s.stats[name][i]
            _, q, share_c, share_d = _stats_direct(dist, stt, dead, conv)
            assert (st.share_converged, st.share_diverged) == (share_c, share_d)
            for p, got in ((0.25, st.q25), (0.5, st.median), (0.75, st.q75)):
                if q[p] is not None:
                    assert got == pytest.approx(q[p], rel=1e-15)
            if share_d > 0.5:
                assert st.median == math.inf
            med_steps = float(np.median(stt[conv])) if conv.any() else None
            assert st.median_steps == med_steps
            keys.append((-share_c, math.inf if med_steps is None else med_steps, st.median, share_d))
        assert s.best[name] == min(range(3), key=lambda i: (keys[i], i))
    assert s.stats["MSGD"][2].share_diverged == 1.0  # η = 0.1 throws MSGD off Rosenbrock
    doc = json.loads(json.dumps(s.to_json(), allow_nan=False))
    assert doc["optimizers"]["MSGD"]["median_final_error"][2] is None  # ∞ as null
    for key in ("median_final_error", "q25_final_error", "q75_final_error", "share_converged",
                "share_diverged"):
        assert len(doc["optimizers"]["Adam"][key]) == 3
    assert doc["optimizers"]["Adam"]["best"]["value"] == values[s.best["Adam"]]


@pytest.mark.parametrize(("param", "values"), [("noise", [0.0, 0.3, 3.0]), ("delay", [0, 2, 5])])
def test_noise_and_delay_sweeps_equal_one_run_per_value(param, values):
    fn = functions.get("himmelblau")
    starts = optviz.scene.starts.random(fn.box, 5, seed=1)
    opts = {"SGD": {"eta": 0.01}, "Adam": {"alpha": 0.05}}
    s = optviz.sweep(fn, opts, param, values, starts=starts, steps=60, seeds=[3, 9])
    seeds = np.repeat([3, 9], 5).astype(np.uint64)
    for name, hp in opts.items():
        for i, v in enumerate(values):
            both = np.tile(starts, (2, 1))
            dist, stt, dead, _, _ = _direct(fn, name, hp, both, 60, seed=seeds, **{param: v})
            np.testing.assert_array_equal(s.error[name][i], np.where(dead, np.inf, dist))
            np.testing.assert_array_equal(s.steps_to_tol[name][i], stt)
    assert s.params == {"SGD": param, "Adam": param}


def test_sweep_starts_per_seed_and_defaults():
    fn = functions.get("booth")
    per = np.stack([optviz.scene.starts.random(fn.box, 3, seed=k) for k in range(2)])
    s = optviz.sweep(fn, ["SGD"], "eta", [0.01, 0.02], starts=per, seeds=2, steps=20)
    np.testing.assert_array_equal(s.starts, per)
    d = optviz.sweep(fn, ["SGD"], "eta", "1e-3:1e-1:3", steps=5)
    # the dashboard's grid
    np.testing.assert_array_equal(d.starts[0], optviz.scene.lessons.default_starts(fn))
    np.testing.assert_allclose(d.values, [1e-3, 1e-2, 1e-1])
    assert d.spacing == "log"


def test_parse_values():
    np.testing.assert_allclose(parse_values("1e-4:1:5"), [1e-4, 1e-3, 1e-2, 1e-1, 1])
    np.testing.assert_allclose(parse_values("0:1:5", "linear"), [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(parse_values("1e-3, 1e-2,0.1"), [1e-3, 1e-2, 0.1])
    np.testing.assert_allclose(parse_values("2:2:1"), [2])
    for text, phrase in [("", "LOW:HIGH:N"), ("1:2", "LOW:HIGH:N"), ("1:2:x", "whole number"),
                         ("1:2:0", "[1, 1000]"), ("0:1:3", "LOW and HIGH > 0"),
                         ("1,abc", "'abc' is not a number"), ("1,1", "distinct"), ("1:1:3", "equal"),
                         ("__import__('os')", "is not a number"), ("1,inf", "finite")]:
        with pytest.raises(ValueError) as info:
            parse_values(text)
        assert phrase in str(info.value), (text, str(info.value))


@pytest.mark.parametrize(("kw", "phrase"), [
    ({"param": "mu"}, "Adam has no hyperparameter 'mu'"),
    ({"param": ""}, "param must be"),
    ({"values": [1e-3, 100]}, "[1e-07, 10]"),
    ({"values": []}, "between 1 and 1000"),
    ({"param": "delay", "values": [0, 1.5]}, "whole numbers"),
    ({"param": "noise", "values": [-1, 1]}, ">= 0"),
    ({"seeds": 0}, "seeds must be a whole number"),
    ({"seeds": [1, 1]}, "distinct"),
    ({"starts": np.zeros((3, 2, 2))}, "starts per seed"),
    ({"noise": 0.1, "param": "noise"}, "is swept"),
    ({"optimizers": {"Adam": {"alpha": 0.1}}}, "Adam.alpha is swept"),
])
def test_sweep_bad_input(kw, phrase):
    args = {"function": "rosenbrock", "optimizers": ["Adam"], "param": "alpha", "values": [1e-3, 1e-2],
            "steps": 2, **kw}
    with pytest.raises((ValueError, KeyError)) as info:
        optviz.sweep(**args)
    assert phrase in str(info.value)


# ============================================================================ fair comparison
SPACE = {"SGD": {"eta": [1e-3, 4e-3, 1.6e-2]}, "MSGD": {"eta": [3e-3, 3e-2], "mu": [0.5, 0.9]}}


@pytest.fixture(scope="module")
def tiny():
    return optviz.compare(["himmelblau", "booth"], ["SGD", "MSGD"], budget=4, steps=80, seeds=2,
                          tune_starts=3, test_starts=4, seed=11, space=SPACE)


def _score(fn, name, config, ps, steps):
    dist, stt, dead, conv, _ = _direct(fn, name, config, ps.starts, steps, seed=ps.seeds)
    e = np.where(dead, np.inf, dist)
    med_steps = float(np.median(stt[conv])) if conv.any() else math.inf
    return (-float(conv.mean()), med_steps, measures.quantile(e, 0.5), float(dead.mean()))


def test_the_tuners_pick_equals_an_exhaustive_search_of_a_tiny_grid(tiny):
    c = tiny
    grids = {"SGD": [{"eta": v} for v in SPACE["SGD"]["eta"]],
             "MSGD": [{"eta": e, "mu": m} for e in SPACE["MSGD"]["eta"] for m in SPACE["MSGD"]["mu"]]}
    for fn, lab in zip(c.functions, c.labels, strict=True):
        for name, grid in grids.items():
            assert [cfg for cfg, _ in c.trials[lab][name]] == grid  # the whole grid, in order
            scores = [_score(fn, name, cfg, c.tune_sets[lab], 80) for cfg in grid]
            best = min(range(len(grid)), key=lambda i: (scores[i], i))
            for k, v in grid[best].items():
                assert c.tuned[lab][name][k] == v
            for (_, st), want in zip(c.trials[lab][name], scores, strict=True):
                assert st.key() == pytest.approx(want, rel=1e-15)
            # the held-out numbers are the pick's direct run on the held-out set
            held = _score(fn, name, c.tuned[lab][name], c.test_sets[lab], 80)
            assert c.held_out[lab][name].key() == pytest.approx(held, rel=1e-15)


def test_held_out_sets_are_disjoint_and_shared_by_every_optimizer(tiny):
    for lab in tiny.labels:
        tune, test = tiny.tune_sets[lab], tiny.test_sets[lab]
        assert tune.starts.shape == (6, 2) and test.starts.shape == (8, 2)
        assert not set(map(tuple, tune.starts)) & set(map(tuple, test.starts))
        assert not set(tune.seeds.tolist()) & set(test.seeds.tolist())
    other = optviz.compare(["booth"], ["SGD"], budget=4, steps=80, seeds=2, tune_starts=3, test_starts=4,
                           seed=11, space={"SGD": SPACE["SGD"]})
    np.testing.assert_array_equal(other.tune_sets["booth"].starts, tiny.tune_sets["booth"].starts)
    assert other.tuned["booth"]["SGD"] == tiny.tuned["booth"]["SGD"]
    assert len(tiny.problems) == 16 and tiny.cost["SGD"].shape == (16,)


def test_a_fixed_seed_repeats_the_comparison_exactly():
    kw = {"functions": ["booth"], "optimizers": ["SGD", "Adam"], "budget": 5, "steps": 40, "seeds": 2,
          "tune_starts": 3, "test_starts": 3, "noise": 0.5}
    a, b, other = optviz.compare(**kw, seed=3), optviz.compare(**kw, seed=3), optviz.compare(**kw, seed=4)

    def doc(c):
        d = c.to_json()
        d.pop("elapsed_s")
        return json.dumps(d, allow_nan=False)

    assert doc(a) == doc(b)
    assert doc(a) != doc(other)
    # every optimizer got the same budget of configurations, drawn from its own space
    assert len(a.trials["booth"]["SGD"]) == len(a.trials["booth"]["Adam"]) == 5
    assert {d.name for d in a.space["Adam"]} == {"alpha", "beta1", "beta2"}


def test_latin_hypercube_fills_every_stratum_and_ranges():
    dims = cmp.default_space("Adam")
    assert [(d.name, d.scale) for d in dims] == [("alpha", "log"), ("beta1", "beta"), ("beta2", "beta")]
    cs = cmp.candidates(dims, 10, np.random.default_rng(0))
    assert len(cs) == 10
    for d in dims:
        vals = np.array([c[d.name] for c in cs])
        assert (vals >= d.low).all() and (vals <= d.high).all()
        if d.scale == "log":
            u = (np.log(vals) - np.log(d.low)) / (np.log(d.high) - np.log(d.low))
        else:
            u = (np.log(1 - vals) - np.log(1 - d.low)) / (np.log(1 - d.high) - np.log(1 - d.low))
        assert sorted(np.floor(u * 10).astype(int).tolist()) == list(range(10))
    assert [d.name for d in cmp.default_space("DCASGD")] == ["learning_rate", "momentum", "lamda"]
    # a fixed hyperparameter is not tuned; a grid larger than the budget is sampled
    assert [d.name for d in cmp._space("Adam", None, {"beta2": 0.999})] == ["alpha", "beta1"]
    big = [cmp.Dim("eta", 1, 5, "list", (1.0, 2.0, 3.0, 4.0, 5.0))]
    assert len(cmp.candidates(big, 3, np.random.default_rng(0))) == 3


def test_performance_profile_by_hand():
    cost = {"A": np.array([10.0, 20.0, np.inf, 5.0]), "B": np.array([20.0, 10.0, 30.0, np.inf]),
            "C": np.array([np.inf, np.inf, np.inf, np.inf])}
    r = cmp.performance_ratios(cost)
    np.testing.assert_array_equal(r["A"], [1, 2, np.inf, 1])
    np.testing.assert_array_equal(r["B"], [2, 1, 1, np.inf])
    taus, rho = cmp.performance_profile(cost)
    np.testing.assert_array_equal(taus, [1.0, 2.0])
    np.testing.assert_array_equal(rho["A"], [0.5, 0.75])
    np.testing.assert_array_equal(rho["B"], [0.5, 0.75])
    np.testing.assert_array_equal(rho["C"], [0, 0])


def test_a_failure_never_counts_as_solved_and_rho_at_infinity_is_the_share_solved():
    cost = {"A": np.array([10.0, 20.0, np.inf, 5.0]), "B": np.array([20.0, 10.0, 30.0, np.inf]),
            "C": np.array([np.inf, np.inf, np.inf, np.inf])}
    taus, rho = cmp.performance_profile(cost, [math.inf])
    assert taus.tolist() == [math.inf]
    assert rho["A"].tolist() == [0.75] and rho["B"].tolist() == [0.75] and rho["C"].tolist() == [0.0]
    _, rho = cmp.performance_profile(cost, [1e300])
    assert rho["C"].tolist() == [0.0]


def test_data_profiles_by_hand_and_profiles_recomputed_without_an_optimizer():
    """Moré & Wild: the share solved within κ·(n + 1) gradient evaluations (one per step)."""
    cost = {"A": np.array([6.0, 30.0, np.inf]), "B": np.array([3.0, 9.0, 12.0])}
    kappas, d = cmp.data_profile(cost, [2, 2, 5], [1.0, 2.0, 3.0, 10.0, math.inf])
    # in units of n + 1: A 2, 10, ∞; B 1, 3, 2
    assert d["A"].tolist() == pytest.approx([0, 1 / 3, 1 / 3, 2 / 3, 2 / 3])
    assert d["B"].tolist() == pytest.approx([1 / 3, 2 / 3, 1, 1, 1])
    kappas, _ = cmp.data_profile(cost, [2, 2, 5])
    assert kappas.tolist() == [0.0, 1.0, 2.0, 3.0, 10.0]


def test_the_comparisons_profiles_for_a_subset_come_from_the_stored_costs(tiny):
    """Dropping an optimizer recomputes the others' ratios against the best of those left,
    without a run: the profiles equal a hand count on the stored costs."""
    one = tiny.names[0]
    _, rho = tiny.profile([1.0, math.inf], names=[one])
    solved = np.isfinite(tiny.cost[one])
    assert rho[one].tolist() == [solved.mean(), solved.mean()]  # alone, it wins every problem it solves
    assert list(rho) == [one]
    _, d = tiny.data_profile([math.inf], names=[one])
    assert d[one].tolist() == [solved.mean()]
    dims = tiny.problem_dims
    assert dims.tolist() == [2] * len(tiny.problems)
    _, d = tiny.data_profile([4.0])
    for n in tiny.names:
        assert d[n][0] == pytest.approx(np.mean(tiny.cost[n] <= 12.0))
    with pytest.raises(ValueError, match="choose among"):
        tiny.profile(names=["Adam"])


def test_comparison_table_and_json(tiny):
    rows = tiny.table()
    rank = tiny.ranks()
    by_rank = sorted(tiny.ranking, key=lambda n: (rank[n], tiny.ranking.index(n)))
    assert [r["optimizer"] for r in rows] == by_rank
    assert [r["rank"] for r in rows] == sorted(r["rank"] for r in rows) and rows[0]["rank"] == 1
    for r in rows:
        lo, hi = r["solved_interval"]
        assert lo <= r["solved"] <= hi
    keys = [tiny.overall[n].key() for n in tiny.ranking]
    assert keys == sorted(keys)
    doc = json.loads(json.dumps(tiny.to_json(), allow_nan=False))
    assert set(doc) >= {"protocol", "tuned", "profile", "table", "ranking", "space"}
    assert doc["protocol"]["budget"] == 4
    for name in tiny.names:
        assert doc["profile"]["rho"][name][-1] == pytest.approx(tiny.overall[name].share_converged)
        assert doc["data_profile"]["share"][name][-1] == pytest.approx(tiny.overall[name].share_converged)
    assert doc["uncertainty"]["level"] == 0.9 and doc["headline"] == tiny.headline()
    assert all(len(r["solved_interval"]) == 2 for r in doc["table"])


@pytest.mark.parametrize(("kw", "phrase"), [
    ({"functions": []}, "at least one test function"),
    ({"functions": ["booth", "booth"]}, "each function once"),
    ({"functions": ["saddle"]}, "nothing to converge to"),
    ({"budget": 0}, "budget must be"),
    ({"space": {"Adam": {"alpha": [1e-3]}}}, "not among the optimizers"),
    ({"space": {"SGD": {"eta": (1, 0.1)}}}, "low < high"),
    ({"space": {"SGD": {"eta": "fast"}}}, "a (low, high) range or a list"),
    ({"space": {"SGD": {"mu": [0.5]}}}, "SGD has no hyperparameter 'mu'"),
    ({"space": {"SGD": {"eta": [20.0]}}}, "[1e-07, 10]"),
    ({"delay": -1}, "delay must be a whole number"),
])
def test_compare_bad_input(kw, phrase):
    args = {"functions": ["booth"], "optimizers": ["SGD"], "budget": 2, "steps": 2, **kw}
    with pytest.raises((ValueError, KeyError)) as info:
        optviz.compare(**args)
    assert phrase in (info.value.args[0] if isinstance(info.value, KeyError) else str(info.value))


# ============================================================================ running batches
def _batch(n=50, steps=30, noise=0.2):
    fn = functions.get("himmelblau")
    starts = optviz.scene.starts.random(fn.box, n, seed=2)
    opts = {"SGD": {"eta": np.linspace(1e-3, 2e-2, n)}, "Adam": {"alpha": 0.1}}
    return scale.Batch(fn, opts, starts, steps, seed=np.arange(n, dtype=np.uint64), tol=TOL,
                       options={"noise": noise})


def test_chunks_give_exactly_the_one_run_and_report_progress():
    b = _batch()
    whole = scale.run_batch(b)
    seen = []
    parts = scale.run_batch(b, chunk_points=7, progress=lambda d, t: seen.append((d, t)))
    for name in whole.names:
        for attr in ("error", "steps_to_tol", "diverged_step", "nearest", "loss"):
            np.testing.assert_array_equal(getattr(parts, attr)[name], getattr(whole, attr)[name])
    assert seen[-1] == (b.work, b.work) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert len(seen) >= 8  # one report at least per chunk


def test_an_exception_from_progress_cancels():
    class Stop(Exception):
        pass

    def stop(done, total):
        raise Stop

    with pytest.raises(Stop):
        scale.run_batch(_batch(), chunk_points=10, progress=stop)


def test_batch_checks():
    with pytest.raises(ValueError, match="unknown run option"):
        scale.Batch("booth", {"SGD": {}}, np.zeros((1, 2)), 2, options={"record_every": 2})
    with pytest.raises(ValueError, match="progress must be a function"):
        scale.run_batch(_batch(), progress=3)
    with pytest.raises(ValueError, match="client or a scheduler, not both"):
        with scale.connect(object(), "local"):
            pass
    with pytest.raises(ValueError, match="tcp://host:8786"):
        with scale.connect(None, "udp://x"):
            pass


def test_quantile_and_json_helpers():
    assert measures.quantile([1.0, 2.0, np.inf], 0.5) == 2.0
    assert measures.quantile([1.0, 2.0, np.inf], 0.75) == math.inf
    assert measures.quantile([1.0, 3.0], 0.25) == 1.5
    assert math.isnan(measures.quantile([], 0.5))
    doc = measures.to_json({"a": np.array([1.0, np.inf]), "b": np.float64(np.nan), "c": (np.int64(2),)})
    assert doc == {"a": [1.0, None], "b": None, "c": [2]}
    doc = {"x": [[1, 2], [3, None]], "y": {"z": []}}
    assert json.loads(measures.dumps(doc)) == doc


def test_figures_are_drawn(tmp_path):
    from optviz.explore import figures

    m = optviz.basins("himmelblau", {"SGD": {"eta": 0.01}, "Adam": {"alpha": 0.05}}, grid=6, steps=30)
    p = figures.save(figures.basin_figure(m, "minimum"), tmp_path / "b.png")
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for layer in ("error", "steps"):  # (saving costs a second or two each: drawn, not saved)
        assert len(figures.basin_figure(m, layer).axes) == 3  # two maps and a colour bar
        rgba, scale_ = figures.basin_rgba(m, "Adam", layer)
        assert rgba.shape == (6, 6, 4) and scale_ is not None
    rgba, _ = figures.basin_rgba(m, "SGD", "minimum")
    from matplotlib.colors import to_rgba

    from optviz.explore import look

    k = int(m.minimum["SGD"][0, 0])
    assert tuple(rgba[0, 0]) == to_rgba(look.minimum_color(k))
    s = optviz.sweep("booth", ["SGD"], "eta", [0.01, 0.05], steps=20)
    assert figures.save(figures.sweep_figure(s), tmp_path / "s.svg").read_text().lstrip().startswith("<?xml")
    c = optviz.compare(["booth"], ["SGD", "Adam"], budget=2, steps=20, tune_starts=2, test_starts=2)
    figures.save(figures.compare_figure(c), tmp_path / "c.png")
    with pytest.raises(ValueError, match=r"\.png, \.svg"):
        figures.save(figures.sweep_figure(s), tmp_path / "s.gif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.png", "c.png", "s.svg"]


# ============================================================================ uncertainty
def test_the_bootstrap_resamples_seeds_then_starts_within_each_function_reproducibly():
    from optviz.explore import uncertainty as u

    groups = [[np.arange(0, 4), np.arange(4, 8)], [np.arange(8, 11), np.arange(11, 14), np.arange(14, 17)]]
    idx = u.resample(groups, seed=5, replicates=200)
    assert idx.shape == (200, 17)
    np.testing.assert_array_equal(idx, u.resample(groups, seed=5, replicates=200))
    assert not np.array_equal(idx, u.resample(groups, seed=6, replicates=200))
    first, second = idx[:, :8], idx[:, 8:]
    assert first.max() < 8 and second.min() >= 8  # each function keeps its own problems
    for block in (first[:, :4], first[:, 4:], second[:, :3], second[:, 3:6], second[:, 6:]):
        seed_of = np.searchsorted([4, 8, 11, 14, 17], block, side="right")
        assert (seed_of == seed_of[:, :1]).all()  # a drawn seed's starts all come from that seed
    np.testing.assert_array_equal(u.seed_groups(np.array([7, 7, 3, 3]))[1], [2, 3])


def _fake(shares: dict[str, float], n: int = 192, seed: int = 0):
    """Optimizers converging on a given share of n problems (2 seeds × n/2 starts), steps 100."""
    from optviz.explore import uncertainty as u

    rng = np.random.default_rng(seed)
    idx = u.resample([[np.arange(n // 2), np.arange(n // 2, n)]], seed=1)
    out = {}
    for name, share in shares.items():
        conv = np.zeros(n, dtype=bool)
        conv[rng.choice(n, round(share * n), replace=False)] = True
        out[name] = u.estimate(conv, np.full(n, 100.0), idx)
    return out


def test_overlapping_intervals_tie_and_the_headline_says_no_clear_winner():
    """The issue's case: five optimizers at 50–55 % of 192 problems are a tie, not 'X solves most'."""
    from optviz.explore import uncertainty as u

    est = _fake({"MSGD": 0.55, "NAG": 0.54, "Adam": 0.52, "SGD": 0.51, "RMSprop": 0.50})
    for e in est.values():
        assert e.success_low < e.success < e.success_high and e.steps == e.steps_low == e.steps_high == 100
    assert set(u.ranks(est).values()) == {1}
    line = u.headline(est, list(est))
    assert line.startswith("No clear winner: MSGD, NAG, Adam, SGD and RMSprop tie")
    assert "50–55 %" in line


def test_disjoint_intervals_rank_apart_and_the_headline_names_the_winner():
    from optviz.explore import uncertainty as u

    est = _fake({"Adam": 0.9, "MSGD": 0.5, "NAG": 0.48})
    assert u.ranks(est) == {"Adam": 1, "MSGD": 2, "NAG": 2}
    assert u.headline(est, list(est)).startswith("Adam is clearly ahead: it solves 90 % (90 % interval")
    # steps do not break a tie in success the intervals leave open (no cycles: someone ranks first) ...
    a, b = est["MSGD"], est["NAG"]
    fast = u.Estimate(b.success, b.success_low, b.success_high, 10.0, 8.0, 12.0)
    slow = u.Estimate(a.success, a.success_low, a.success_high, 50.0, 40.0, 60.0)
    assert u.ranks({"fast": fast, "slow": slow}) == {"fast": 1, "slow": 1}
    # ... but with every point of both converging, clearly fewer steps is ahead
    fast = u.Estimate(1.0, 1.0, 1.0, 10.0, 8.0, 12.0)
    slow = u.Estimate(1.0, 1.0, 1.0, 50.0, 40.0, 60.0)
    assert u.ranks({"fast": fast, "slow": slow}) == {"fast": 1, "slow": 2}
    assert u.headline({"fast": fast, "slow": slow}, ["slow", "fast"]).startswith("fast is ahead on steps:")
    # a tie says how fast the tied were (the Training view's "who reaches 95 % first")
    close = u.Estimate(1.0, 1.0, 1.0, 14.0, 9.0, 41.0)
    assert u.headline({"fast": fast, "close": close}, ["fast", "close"]) == (
        "No clear winner: fast and close tie (solved 100 % in a median 10–14 steps; "
        "their 90 % intervals overlap)")


def test_where_nothing_converges_measured_final_errors_rank_with_their_intervals():
    from optviz.explore import uncertainty as u

    n = 40
    idx = u.resample([[np.arange(n)]], seed=1)
    never = np.zeros(n, dtype=bool)
    low = np.linspace(0.01, 0.02, n)
    high, near = low + 0.1, low + 0.001
    est = {k: u.estimate(never, np.full(n, -1.0), idx, error=e) for k, e in
           (("low", low), ("high", high), ("near", near))}
    e = est["low"]
    assert e.error == pytest.approx(np.median(low)) and e.error_low <= e.error <= e.error_high
    assert u.ranks(est) == {"low": 1, "near": 1, "high": 3}  # near's interval overlaps low's: a tie
    assert u.headline(est, ["low", "near", "high"]).startswith(
        "No clear winner: nothing solved, and the 90 % intervals of the median final errors of low and near")
    two = {k: est[k] for k in ("low", "high")}
    assert u.headline(two, ["low", "high"]).startswith("low is ahead on final error: a median final error of")
    # a median over mostly diverged points is infinite, never ahead; without errors nothing ranks apart
    dead = u.estimate(never, np.full(n, -1.0), idx, error=np.where(np.arange(n) < 30, np.inf, 0.001))
    assert dead.error == math.inf and u.ranks({"low": e, "dead": dead}) == {"low": 1, "dead": 2}
    plain = {k: u.estimate(never, np.full(n, -1.0), idx) for k in ("a", "b")}
    assert u.headline(plain, ["a", "b"]) == "No clear winner: nothing solved (0 % for each)"


def test_a_sweep_of_a_network_ranks_its_final_training_losses():
    s = optviz.sweep("moons-mlp", ["Adam"], "lr", [1e-3, 0.1], steps=30, batch=64)
    assert s.kind == "loss" and s.starts.shape == (1, 16, 65) and s.best_value("Adam") == 0.1
    doc = s.to_json()
    lo, hi = doc["optimizers"]["Adam"]["median_final_error_interval"][1]
    assert lo <= s.stats["Adam"][1].median <= hi and doc["options"]["batch"] == 64
    assert 1e-3 not in doc["optimizers"]["Adam"]["best"]["as_good"]  # clearly worse loss: not as good


def test_a_networks_cost_is_the_first_step_its_training_loss_reaches_the_target():
    c = optviz.compare(["moons-mlp"], ["SGD", "Adam"], budget=2, steps=40, seeds=1, tune_starts=2,
                       test_starts=3, tol=1e-2)
    target = c.targets["moons-mlp"]
    tuning = [c.to_json()["tuned"]["moons-mlp"][n]["tuning"]["median_final_error"] for n in c.names]
    assert c.kinds == {"moons-mlp": "loss"} and target == min(tuning)
    ps = c.test_sets["moons-mlp"]
    for name in c.names:  # the loss curve of a plain run, read independently of the engine's counters
        res = optviz.run("moons-mlp", {name: c.tuned["moons-mlp"][name]}, ps.starts, 40, seed=ps.seeds)
        hit = np.asarray(res.losses[name]) <= target + 1e-2
        want = np.where(hit.any(axis=0), np.maximum(np.argmax(hit, axis=0), 1), np.inf)
        np.testing.assert_array_equal(c.cost[name], want)
        # what the loss bought: each held-out start's test accuracy where the run ends
        acc = functions.get("moons-mlp").accuracy(np.asarray(res.trajectories[name][-1]), "test")
        np.testing.assert_array_equal(c.test_accuracy["moons-mlp"][name], acc)
        assert c.median_accuracy("moons-mlp", name) == np.median(acc)
    assert any(np.isfinite(c.cost[n]).any() for n in c.names)


def test_a_sweep_of_the_minibatch_size_runs_each_size_as_a_minibatch_run_would():
    starts = optviz.scene.starts.random(functions.get("logistic").box, 3, seed=0)
    kw = {"starts": starts, "steps": 30, "tol": 0.05}
    s = optviz.sweep("logistic", ["SGD", "Adam"], "batch", "8:200:3", **kw)  # log-spaced: 8, 40, 200
    assert s.values.tolist() == [8.0, 40.0, 200.0] and s.params == {"SGD": "batch", "Adam": "batch"}
    full = optviz.sweep("logistic", ["SGD", "Adam"], "noise", [0.0], **kw)
    small = optviz.sweep("logistic", ["SGD", "Adam"], "noise", [0.0], batch=8, **kw)
    for name in s.names:
        np.testing.assert_array_equal(s.error[name][2], full.error[name][0])  # B = N: the full batch
        np.testing.assert_array_equal(s.error[name][0], small.error[name][0])
        assert not np.array_equal(s.error[name][0], s.error[name][2])
    with pytest.raises(ValueError, match="batch values must be whole numbers from 1 to 200"):
        optviz.sweep("logistic", ["SGD"], "batch", [0, 8], **kw)


def test_the_seed_0_comparison_ranks_the_most_solved_first_or_ties_it():
    """A faster optimizer that solves fewer problems is never ranked above one that solves clearly
    more, and ranks follow the table's order."""
    from optviz.explore import uncertainty as u

    est = {"MSGD": u.Estimate(0.62, 0.57, 0.68, 120.0, 110.0, 130.0),
           "NAG": u.Estimate(0.57, 0.54, 0.61, 38.0, 36.0, 43.0),
           "SGD": u.Estimate(0.45, 0.41, 0.48, 90.0, 80.0, 100.0)}
    assert u.ranks(est) == {"MSGD": 1, "NAG": 1, "SGD": 3}
    assert u.headline(est, list(est)).startswith("No clear winner: MSGD and NAG tie")


def test_a_sweep_reports_intervals_shared_ranks_and_a_headline():
    """Per value, the share converged and median steps with bootstrap 90 % intervals over seeds
    and starts (reproducible), in the JSON too; ranks at the best values; 'as good as the best'."""
    from optviz.explore import uncertainty as u

    kw = {"starts": optviz.scene.starts.grid(functions.get("himmelblau").box, 3), "steps": 80, "seeds": 2}
    s = optviz.sweep("himmelblau", ["SGD", "MSGD"], "lr", [1e-3, 1e-2, 3e-2], **kw)
    again = optviz.sweep("himmelblau", ["SGD", "MSGD"], "lr", [1e-3, 1e-2, 3e-2], **kw)
    assert s.estimates == again.estimates
    idx = u.resample([[np.arange(0, 9), np.arange(9, 18)]], 0)
    for name in s.names:
        for i, e in enumerate(s.estimates[name]):
            assert e == u.estimate(s.converged[name][i], s.steps_to_tol[name][i], idx)
            assert e.success == s.stats[name][i].share_converged
        assert s.best[name] in s.as_good_as_best(name)
    doc = json.loads(json.dumps(s.to_json(), allow_nan=False))
    assert doc["headline"] == s.headline() and doc["uncertainty"]["level"] == 0.9
    for name in s.names:
        o = doc["optimizers"][name]
        assert o["share_converged_interval"] == [[e.success_low, e.success_high] for e in s.estimates[name]]
        assert o["rank"] == s.ranks()[name]

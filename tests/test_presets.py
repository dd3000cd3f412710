"""The first page's defaults (tuned rates per function) and the lesson presets.

Every lesson is run here and checked against what its description tells the viewer to look at.
"""

from __future__ import annotations

import importlib.util
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import functions
import optviz
from optviz.optimizers import NAMES, REGISTRY
from optviz.scene import lessons as presets
from optviz.scene.model import Scene

ROOT = Path(__file__).resolve().parent.parent


def _script():
    path = ROOT / "scripts" / "make_default_rates.py"
    spec = importlib.util.spec_from_file_location("make_default_rates", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _default_scene(name: str, dim: int | None = None, optimizers=presets.DEFAULT_FIELD):
    fn = functions.get(name, dim)
    hp = presets.default_hyperparams(name, dim, optimizers)
    return optviz.run(fn, hp, presets.default_starts(fn), presets.DEFAULT_STEPS, seed=presets.DEFAULT_SEED)


def _converged_share(res) -> float:
    e = res.errors("distance")
    return float(np.mean([(e[n][-1] <= presets.DEFAULT_TOL) & ~res.diverged[n] for n in res.names]))


# ---------------------------------------------------------------- defaults
def test_default_field():
    assert presets.DEFAULT_FIELD == ("SGD", "MSGD", "NAG", "RMSprop", "Adam")


def test_rates_file_is_package_data_and_covers_every_drawable_function():
    path = resources.files("optviz").joinpath(presets.RATES_FILE)
    assert path.is_file()
    table = presets.rates_table()
    assert table["generated_by"] == "scripts/make_default_rates.py" and table["version"] == optviz.__version__
    for name, fam in functions.families().items():
        for dim in (1, 2):
            if fam.supports(dim):
                entry = table["functions"][name][str(dim)]
                assert entry["scene"]["steps"] == presets.DEFAULT_STEPS
                if np.size(functions.get(name, dim).minimizers):
                    assert set(entry["rates"]) == set(NAMES)
                else:  # saddles: not tuned
                    assert entry["rates"] == {}


def test_default_hyperparams_are_the_registry_defaults_with_the_tuned_rate():
    hp = presets.default_hyperparams("himmelblau")
    assert set(hp) == set(NAMES)
    tuned = presets.tuned_rates("himmelblau", 2)
    for name in NAMES:
        expected = dict(REGISTRY[name].defaults)
        expected.update(tuned[name])
        assert hp[name] == expected
    assert presets.default_hyperparams("himmelblau", 2) == hp  # dim None: the default dimension
    # the rate is tuned: not the article's neural-network default
    assert hp["Adam"]["alpha"] != REGISTRY["Adam"].defaults["alpha"]
    # one optimizer, and copies: changing the result changes nothing stored
    one = presets.default_hyperparams("himmelblau", optimizers=["Adam"])
    one["Adam"]["alpha"] = -1.0
    assert presets.default_hyperparams("himmelblau")["Adam"]["alpha"] == hp["Adam"]["alpha"]


@pytest.mark.parametrize(("function", "dim"), [("my own function", None), ("saddle", None), ("rastrigin", 7)])
def test_unknown_functions_and_dimensions_fall_back_to_the_registry(function, dim):
    hp = presets.default_hyperparams(function, dim)
    assert hp == {name: dict(REGISTRY[name].defaults) for name in NAMES}


def test_unknown_optimizer_is_an_error():
    with pytest.raises(KeyError, match="unknown optimizer 'Adamm'"):
        presets.default_hyperparams("booth", optimizers=["Adamm"])


def test_the_committed_file_is_what_the_script_makes():
    # booth is cheap: the whole sweep for all 19 optimizers, then the scene, as the script does
    mod = _script()
    entry = mod.tune_scene("booth", 2)
    stored = presets.rates_table()["functions"]["booth"]["2"]
    assert entry["rates"] == stored["rates"]
    assert entry["scene"] == stored["scene"]
    for name, score in entry["scores"].items():
        assert score["diverged"] == stored["scores"][name]["diverged"]
        assert score["converged"] == pytest.approx(stored["scores"][name]["converged"])
        if score["median_error"] is not None:
            assert score["median_error"] == pytest.approx(stored["scores"][name]["median_error"], rel=1e-3,
                                                          abs=1e-12)
    # the text format: one point per line
    text = mod.dumps({"functions": {"booth": {"2": entry}}})
    assert re.search(r"\[-8\.0, -8\.0\]", text)


@pytest.mark.parametrize(("function", "share"), [("himmelblau", 0.95), ("booth", 0.95), ("matyas", 0.9),
                                                 ("long_valley", 0.75), ("six_hump_camel", 0.9)])
def test_with_the_tuned_rates_most_of_the_default_field_converges(function, share):
    res = _default_scene(function)
    assert not any(res.diverged[n].any() for n in res.names)
    got = _converged_share(res)
    assert got >= share
    stored = presets.rates_table()["functions"][function]["2"]["scores"]
    assert got == pytest.approx(np.mean([stored[n]["converged"] for n in presets.DEFAULT_FIELD]))


@pytest.mark.parametrize("function", ["rosenbrock", "beale"])
def test_hard_functions_get_rates_that_move_and_do_not_diverge(function):
    # 300 steps from a 4x4 grid are too few for Rosenbrock and Beale at any one rate (the script's
    # table: 0 % and 7.5 % converge), but with the tuned rates no start diverges, and each
    # optimizer either keeps starts the registry's neural-network defaults lose or ends closer.
    tuned = _default_scene(function)
    fn = functions.get(function)
    plain = optviz.run(fn, list(presets.DEFAULT_FIELD), presets.default_starts(fn), presets.DEFAULT_STEPS,
                       rates="article")
    for n in presets.DEFAULT_FIELD:
        assert not tuned.diverged[n].any()
        closer = np.median(tuned.errors()[n][-1]) < np.median(plain.errors()[n][-1])
        assert plain.diverged[n].any() or closer, n


def test_tuner_prefers_converged_starts_over_a_lower_median():
    from optviz.explore.tune import tune_learning_rates

    fn = functions.get("himmelblau")
    t = tune_learning_rates(fn, ["SGD", "Adam"], presets.default_starts(fn), 100, tol=1e-3)
    for tuned in t.values():
        i = int(np.flatnonzero(tuned.grid == tuned.value)[0])
        fewest = tuned.diverged.min()
        assert tuned.diverged[i] == fewest
        assert tuned.converged[i] == tuned.converged[tuned.diverged == fewest].max()
    with pytest.raises(ValueError, match="tol"):
        tune_learning_rates(fn, ["SGD"], [[0.0, 0.0]], 10, tol=-1.0)


# ---------------------------------------------------------------- presets
def test_every_preset_is_complete_and_runs():
    assert list(presets.LESSONS)[-1] == "article-quartic" and len(presets.LESSONS) >= 4
    assert set(presets.LESSONS) <= set(presets.ALL_LESSONS) == set(presets.PRESETS)
    for name, p in presets.ALL_LESSONS.items():
        assert p.name == name and p.title and p.note.endswith(".") and p.description == p.note
        assert p.note.count(". ") == 0, "one sentence"
        assert presets.get(name) is p and hash(p.scene) == hash(Scene.from_json(p.scene.to_json()))
        assert len(p.title) <= 32, "a button's text"
        kw = p.run_kwargs()
        res = optviz.run(**kw)
        assert res.names == tuple(p.optimizers) and res.steps == p.steps
        fn = p.make_function()
        assert np.asarray(res.starts).shape == (len(p.starts), fn.dim)
        for opt, hp in p.optimizers.items():
            assert set(hp) <= set(REGISTRY[opt].defaults), (name, opt)
    with pytest.raises(KeyError, match=r"unknown lesson .nope.; valid: momentum-valley"):
        presets.get("nope")


def test_run_kwargs_are_copies_and_build_the_function_when_needed():
    p = presets.MOMENTUM_VALLEY
    kw = p.run_kwargs()
    kw["optimizers"]["SGD"]["eta"] = 1.0
    kw["starts"][0][0] = 99.0
    assert p.optimizers["SGD"]["eta"] == 0.018 and p.starts[0][0] == -1.8
    assert p.scene.optimizers["SGD"]["eta"] == 0.018 and p.scene.starts.points[0][0] == -1.8
    assert kw["function"].name == "long_valley" and kw["function"].params == {"kappa": 100.0}
    custom = presets.Preset(name="x", title="x", description="x.", function="long_valley",
                            params={"kappa": 1e3}, optimizers={"SGD": {}}, starts=[[1.0, 1.0]], steps=5)
    fn = custom.run_kwargs()["function"]
    assert fn.params == {"kappa": 1000.0}
    assert custom.scene.rates == "article" and custom.optimizers["SGD"] == REGISTRY["SGD"].defaults


def test_each_lesson_holds_the_values_its_note_is_about():
    """What the page, the link, the file and the CLI show: the scene's own values, every one."""
    hp = {n: {k: dict(v) for k, v in p.scene.optimizers.items()} for n, p in presets.ALL_LESSONS.items()}
    rosen = hp["adaptive-rosenbrock"]
    assert (rosen["SGD"]["eta"], rosen["MSGD"]["eta"], rosen["RMSprop"]["eta"], rosen["Adam"]["alpha"]) == (
        0.002, 0.01, 0.1, 1.0)
    assert hp["momentum-valley"]["SGD"] == {"eta": 0.018}
    quartic = presets.ARTICLE_QUARTIC.scene
    assert quartic.rates == "article" and hp["article-quartic"]["SGD"] == REGISTRY["SGD"].defaults
    assert hp["article-quartic"]["NAG"] == {**REGISTRY["NAG"].defaults, "mu": 0.95}
    for name, p in presets.ALL_LESSONS.items():
        for opt, values in hp[name].items():
            assert set(values) == set(REGISTRY[opt].defaults), (name, opt)  # every hyperparameter
        assert Scene.from_query(p.scene.to_query()) == p.scene == Scene.from_json(p.scene.to_json())
    assert presets.GRADIENT_LESSONS == ("delayed-dcasgd", "schedule-momentum", "schedule-free-cosine")
    assert all(presets.get(n).view == "noise_delay" for n in presets.GRADIENT_LESSONS)


def test_article_preset_is_unchanged():
    p = presets.ARTICLE_QUARTIC
    kw = p.run_kwargs()
    assert kw["function"].name == "quartic" and kw["starts"].tolist() == [[-3.0]]
    assert kw["steps"] == 100 and kw["seed"] == 32 and kw["rates"] == "article"
    assert list(kw["optimizers"]) == list(optviz.ARTICLE)


def test_lesson_momentum_valley():
    p = presets.MOMENTUM_VALLEY
    res = optviz.run(**p.run_kwargs(), tol=1e-3)
    sgd = res.steps_to_tol["SGD"]
    assert (sgd == -1).all(), "plain gradient descent does not reach the minimum in 300 steps"
    for n in ("MSGD", "NAG"):
        first, stays = res.first_entry[n], res.steps_to_tol[n]
        assert ((first > 0) & (first <= 120)).all(), n  # "reaches the minimum in about 100 steps"
        assert ((stays >= first) & (stays <= 160)).all(), n  # (and stays there some 30-50 steps later)
    # SGD zig-zags across the valley: the steep coordinate changes sign every step
    x2 = res.trajectories["SGD"][1:12, :, 1]
    assert (np.sign(x2[1:]) == -np.sign(x2[:-1])).all()
    assert np.median(res.errors()["SGD"][-1]) > 3e-3


def test_lesson_adaptive_rosenbrock():
    p = presets.ADAPTIVE_ROSENBROCK
    res = optviz.run(**p.run_kwargs())
    final = {n: float(np.median(res.errors()[n][-1])) for n in res.names}
    assert not any(res.diverged[n].any() for n in res.names)
    assert final["Adam"] < 0.01
    for n in ("SGD", "MSGD", "RMSprop"):
        assert final["Adam"] * 10 < final[n], (n, final)
    assert final["SGD"] > 0.5  # still crawling


def test_lesson_saddle_escape():
    p = presets.SADDLE_ESCAPE
    res = optviz.run(**p.run_kwargs())

    def left(name, by_step):
        y = np.abs(res.trajectories[name][: by_step + 1, :, 1])
        return (y > 1.0).any(axis=0)  # per start: off the ridge by this step

    for n in ("RMSprop", "Adam"):
        assert left(n, 100).all(), n
    for n in ("SGD", "MSGD"):
        assert not left(n, 100).any(), n
        assert not left(n, 300).all(), n  # "hundreds of steps": some are still there at the end


def test_lesson_himmelblau_basins():
    p = presets.HIMMELBLAU_BASINS
    fn = p.make_function()
    res = optviz.run(**p.run_kwargs())
    mins = np.asarray(fn.minimizers)

    def which(name):
        end = res.trajectories[name][-1]
        d = np.linalg.norm(end[:, None, :] - mins[None], axis=-1)
        assert d.min(axis=1).max() < 1e-3, name  # every start ends on a minimum
        return d.argmin(axis=1)

    sgd, msgd = which("SGD"), which("MSGD")
    assert len(set(sgd.tolist())) == 4  # the grid's starts reach all four minima
    assert (sgd != msgd).any()  # momentum carries some over a ridge
    assert (sgd == msgd).mean() > 0.5


# ---------------------------------------------------------------- the one rates policy
def test_the_rates_policy_is_one_module():
    from optviz.optimizers import rates

    assert rates.RATES == ("tuned", "article") and rates.check_rates(" Registry ") == "article"
    with pytest.raises(ValueError, match=r"^rates must be one of tuned, article, registry .*got 'fast'$"):
        rates.check_rates("fast")
    tuned = presets.tuned_rates("himmelblau", 2)
    assert rates.tuned("himmelblau") == tuned and rates.tuned("himmelblau", 1) == {}
    assert rates.defaults("adam", "himmelblau", 2) == {**REGISTRY["Adam"].defaults, **tuned["Adam"]}
    assert rates.defaults("Adam", "himmelblau", 2, "article") == REGISTRY["Adam"].defaults
    assert rates.defaults("Adam", None) == REGISTRY["Adam"].defaults  # a typed function
    assert rates.defaults("Adam", "long_valley", 2, params={"kappa": 1000.0}) == REGISTRY["Adam"].defaults
    filled = rates.fill({"SGD": {"eta": 0.3}, "Adam": None}, "himmelblau", 2, skip=["beta1"])
    assert filled["SGD"]["eta"] == 0.3 and filled["Adam"]["alpha"] == tuned["Adam"]["alpha"]
    assert "beta1" not in filled["Adam"] and filled["Adam"]["beta2"] == REGISTRY["Adam"].defaults["beta2"]
    only = rates.fill({"Adam": {}}, "himmelblau", 2, complete=False)
    assert only == {"Adam": tuned["Adam"]}
    rates.tuned("himmelblau")["Adam"]["alpha"] = -1.0  # a copy: the table is not changed
    assert rates.tuned("himmelblau") == tuned

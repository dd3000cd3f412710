"""The learning-rate tuner: one sweep per optimizer, and its choice holds up in a plain run."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import functions
import optviz
from functions.problems import PROBLEMS
from optviz.explore.tune import lr_grid, tune_learning_rates
from optviz.optimizers import NAMES, REGISTRY, rates

STARTS = [[-1.5, 2.0], [1.5, -0.5], [-0.5, -0.5], [1.2, 2.5]]


def test_grid_is_1_2_5_per_decade_within_bounds():
    np.testing.assert_allclose(lr_grid(1e-3, 1.0), [1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.5, 1.0])
    np.testing.assert_allclose(lr_grid(3e-4, 4e-3), [5e-4, 1e-3, 2e-3])
    with pytest.raises(ValueError):
        lr_grid(0.0, 1.0)


def test_choice_beats_the_article_default_and_does_not_diverge():
    names = ["SGD", "Adam", "RMSprop", "MSGD"]
    tuned = tune_learning_rates("rosenbrock", names, STARTS, 200)
    assert set(tuned) == set(names)
    default = optviz.run("rosenbrock", names, STARTS, 200)
    best = optviz.run("rosenbrock", {n: {t.hyperparam: t.value} for n, t in tuned.items()}, STARTS, 200)
    for n, t in tuned.items():
        i = int(np.flatnonzero(t.grid == t.value)[0])
        assert t.diverged[i] == 0
        assert not best.diverged[n].any()
        # the sweep's score is the plain run's score (deterministic optimizers)
        med = np.median(best.errors()[n][-1])
        assert med == pytest.approx(t.median_error[i], rel=1e-9)
        if default.diverged[n].any():  # stability comes first: the default diverges, the choice not
            assert best.diverged[n].sum() < default.diverged[n].sum()
        else:
            assert med <= np.median(default.errors()[n][-1])


def test_a_too_large_rate_is_never_chosen():
    # SGD on Rosenbrock diverges from these starts for eta >= ~2e-3: the choice must stay below
    t = tune_learning_rates("rosenbrock", ["SGD"], STARTS, 100)["SGD"]
    assert t.value < 2e-3
    assert t.diverged.max() > 0  # the grid did include diverging values


def test_other_hyperparameters_and_optimizers_without_a_rate():
    t = tune_learning_rates("quartic", {"NAG": {"mu": 0.5}}, [[-3.0]], 100)["NAG"]
    assert t.hyperparam == "eta"
    with pytest.raises(KeyError):
        tune_learning_rates("quartic", ["Nope"], [[-3.0]], 10)


# ---------------------------------------------------------------- the learning problems' rates
@pytest.mark.parametrize("problem", PROBLEMS)
def test_every_learning_problem_starts_at_its_tuned_rates(problem):
    fn = functions.get(problem)
    entry = rates.table()["functions"][problem][str(fn.dim)]  # its default dimension: its parameters
    assert set(entry["rates"]) == set(NAMES) and entry["scene"]["starts"] == "random 16 (seed 0)"
    assert entry["scene"]["kind"] == ("distance" if len(fn.minimizers) else "loss")
    adam = entry["rates"]["Adam"]["alpha"]
    assert adam != REGISTRY["Adam"].defaults["alpha"]
    res = optviz.run(problem, "Adam", optviz.scene.starts.random(fn.box, 2, seed=0), 1)
    assert res.hyperparams["Adam"]["alpha"] == adam and res.rates == "tuned"


def test_the_script_remakes_a_networks_entry():
    # a network's entry: tuned on the first 8 of its 16 starts by the lowest median final training loss
    path = Path(__file__).resolve().parents[1] / "scripts" / "make_default_rates.py"
    spec = importlib.util.spec_from_file_location("make_default_rates", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    entry = mod.tune_scene("moons-mlp", 65, ("RMSprop",))
    stored = rates.table()["functions"]["moons-mlp"]["65"]
    assert entry["scene"] == stored["scene"] and entry["rates"]["RMSprop"] == stored["rates"]["RMSprop"]
    assert entry["scene"]["tuned_on"] == "the first 8 starts, rates from 0.0001"
    assert entry["scores"]["RMSprop"]["median_error"] == pytest.approx(
        stored["scores"]["RMSprop"]["median_error"], rel=1e-3)

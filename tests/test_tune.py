"""The learning-rate tuner: one sweep per optimizer, and its choice holds up in a plain run."""

import numpy as np
import pytest

import optviz
from optviz.explore.tune import lr_grid, tune_learning_rates

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

"""Library optimizers in the race (issue 20): ``optviz.from_optax`` and ``optviz.from_torch``.

They must equal the built-in Adam under the documented mapping (ε = 0: optviz's ε is under the
root, optax's ``eps`` and torch's outside it), teacher-forced step by step (``optviz.conformance``)
and as whole races with the same noise and delay; sweep and schedule their hyperparameters like any
rule's; and say that they run on the readable path only. Needs ``optax`` (with ``jax``) and
``torch==2.13.0`` (the dev extra).
"""

from __future__ import annotations

import numpy as np
import pytest

import optviz
from optviz.optimizers import custom

optax = pytest.importorskip("optax")
torch = pytest.importorskip("torch")

STARTS = np.array([[-1.5, 2.0], [0.5, -0.5], [1.8, 1.1], [-0.3, -1.7]])
HP = {"alpha": 0.05, "beta1": 0.9, "beta2": 0.99, "eps": 0.0}


@pytest.fixture(scope="module")
def adapters():
    optviz.from_optax(optax.adam(0.05, b1=0.9, b2=0.99, eps=0.0), name="OptaxAdam")
    optviz.from_optax(optax.inject_hyperparams(optax.adam)(learning_rate=0.05, b1=0.9, b2=0.99, eps=0.0),
                      name="OptaxAdamSwept")
    optviz.from_torch(torch.optim.Adam, name="TorchAdam", lr=0.05, betas=(0.9, 0.99), eps=0.0)
    optviz.from_torch(torch.optim.Adam, name="TorchAdamPerStart", per_point=True, lr=0.05, betas=(0.9, 0.99),
                      eps=0.0)
    yield
    for name in ("OptaxAdam", "OptaxAdamSwept", "TorchAdam", "TorchAdamPerStart"):
        custom.unregister(name)


@pytest.mark.parametrize("name", ["OptaxAdam", "OptaxAdamSwept", "TorchAdam", "TorchAdamPerStart"])
def test_adapters_equal_builtin_adam_step_by_step(adapters, name):
    found = optviz.conformance("Adam", name, "rosenbrock", STARTS, 30, a_hyperparams=HP, rtol=1e-12,
                               atol=1e-15)
    assert found.agree, found.text()


def test_adapters_race_on_the_same_starts_noise_and_delay(adapters):
    chosen = {"Adam": HP, "OptaxAdam": {}, "TorchAdam": {}, "OptaxAdamSwept": {}}
    res = optviz.run("rosenbrock", chosen, STARTS, 30, noise=0.3, delay=2, seed=5, rates="article")
    assert res.path == "reference"
    for name in ("OptaxAdam", "TorchAdam", "OptaxAdamSwept"):
        assert np.max(np.abs(res.trajectories[name] - res.trajectories["Adam"])) <= 1e-12
    assert {r["optimizer"] for r in res.summary("distance", tol=1e-3)} == set(chosen)
    assert optviz.REGISTRY["TorchAdam"].mode == "torch: one (n, d) parameter (elementwise)"
    assert optviz.REGISTRY["TorchAdamPerStart"].mode == "torch: one parameter group per start"


def test_injected_hyperparameters_sweep_and_follow_the_schedule(adapters):
    lrs = np.array([0.01, 0.05, 0.1, 0.3])
    swept = optviz.run("rosenbrock", {"OptaxAdamSwept": {"learning_rate": lrs}, "Adam": {**HP, "alpha": lrs}},
                       STARTS, 20, schedule="cosine", rates="article")
    assert np.max(np.abs(swept.trajectories["OptaxAdamSwept"] - swept.trajectories["Adam"])) <= 1e-12
    per_start = optviz.run("rosenbrock", {"TorchAdamPerStart": {"lr": lrs}}, STARTS, 20, schedule="cosine")
    assert np.max(np.abs(per_start.trajectories["TorchAdamPerStart"] - swept.trajectories["Adam"])) <= 1e-12


def test_adapters_say_they_run_on_the_readable_path(adapters):
    with pytest.raises(ValueError, match="OptaxAdam is a library's optimizer"):
        optviz.run("rosenbrock", ["OptaxAdam"], STARTS, 5, fused=True)


@pytest.mark.parametrize("make,phrase", [
    (lambda: optviz.from_torch(torch.optim.LBFGS, name="X"), "needs a closure"),
    (lambda: optviz.from_torch(dict, name="X"), "expected a torch.optim.Optimizer class"),
    (lambda: optviz.from_optax(object(), name="X"), "expected an optax GradientTransformation"),
    (lambda: optviz.from_optax(optax.sgd(0.1), name="Adam"), "built-in"),
    (lambda: optviz.from_torch(torch.optim.SGD, name="X", lr=float("nan")), "dry run"),
])
def test_bad_adapters_are_refused(make, phrase):
    before = dict(optviz.REGISTRY)
    with pytest.raises(ValueError, match=phrase):
        make()
    assert optviz.REGISTRY == before

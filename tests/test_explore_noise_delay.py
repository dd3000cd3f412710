"""Noisy and delayed gradients, as the explore views rely on them (``optviz.run(noise=, delay=)``).

- σ = 0 is exactly the noiseless run; a fixed seed repeats exactly; another seed differs;
- every optimizer at the same start and step sees the same draw: SGD and MSGD with μ = 0
  (the same rule) have identical noisy trajectories, and a point's noise does not depend on
  its company;
- relative noise σ·|g|·z vanishes where the gradient does;
- τ = 0 is exactly the undelayed run; τ = 2 with SGD equals a per-point transcription
  w_t = w_{t−1} − η ∇f(w_{max(0, t−1−τ)}); DCASGD under a delay compensates with the position
  where the gradient was taken.
"""

from __future__ import annotations

import numpy as np
import pytest

import functions
import optviz

FN = functions.get("rosenbrock")
STARTS = np.array([[-1.5, 2.0], [0.5, -0.5], [1.2, 1.2]])


def _traj(res, name):
    return res.trajectories[name]


def test_noise_zero_is_exactly_the_noiseless_run():
    a = optviz.run(FN, {"Adam": {"alpha": 0.05}, "SGD": {"eta": 1e-3}}, STARTS, 80, seed=3)
    b = optviz.run(FN, {"Adam": {"alpha": 0.05}, "SGD": {"eta": 1e-3}}, STARTS, 80, seed=3, noise=0.0)
    for name in a.names:
        np.testing.assert_array_equal(_traj(a, name), _traj(b, name))


def test_a_fixed_seed_repeats_exactly_and_another_differs():
    kw = {"noise": 0.5, "steps": 60}
    a = optviz.run(FN, {"SGD": {"eta": 1e-3}}, STARTS, seed=7, **kw)
    b = optviz.run(FN, {"SGD": {"eta": 1e-3}}, STARTS, seed=7, **kw)
    c = optviz.run(FN, {"SGD": {"eta": 1e-3}}, STARTS, seed=8, **kw)
    clean = optviz.run(FN, {"SGD": {"eta": 1e-3}}, STARTS, seed=7, steps=60)
    np.testing.assert_array_equal(_traj(a, "SGD"), _traj(b, "SGD"))
    assert not np.array_equal(_traj(a, "SGD"), _traj(c, "SGD"))
    assert not np.array_equal(_traj(a, "SGD"), _traj(clean, "SGD"))


def test_sgd_and_msgd_with_mu_0_see_the_same_noise():
    res = optviz.run(FN, {"SGD": {"eta": 1e-3}, "MSGD": {"eta": 1e-3, "mu": 0.0}}, STARTS, 100, seed=2,
                     noise=1.0)
    np.testing.assert_array_equal(_traj(res, "SGD"), _traj(res, "MSGD"))
    # and each point's draws do not depend on the company it keeps
    alone = optviz.run(FN, {"SGD": {"eta": 1e-3}}, STARTS[1:2], 100, seed=2, noise=1.0)
    np.testing.assert_array_equal(_traj(alone, "SGD")[:, 0], _traj(res, "SGD")[:, 1])


def test_additive_noise_is_gaussian_with_sigma():
    """One SGD step from a point where the gradient is known: the steps' spread is η·σ."""
    fn = functions.get("booth")
    n, eta, sigma = 4000, 1e-2, 2.0
    starts = fn.minimizers[0] + np.linspace(-1e-9, 1e-9, n)[:, None] * [1.0, 0.0]  # distinct starts, g ≈ 0
    res = optviz.run(fn, {"SGD": {"eta": eta}}, starts, 1, noise=sigma)
    step = (res.trajectories["SGD"][1] - res.trajectories["SGD"][0]) / (-eta)  # g + σ z
    assert abs(step.mean()) < 4 * sigma / np.sqrt(2 * n)
    assert step.std() == pytest.approx(sigma, rel=0.05)
    # relative noise: σ·|g|·z is zero where the gradient is
    rel = optviz.run(fn, {"SGD": {"eta": eta}}, fn.minimizers, 10, noise=sigma, noise_mode="relative")
    np.testing.assert_array_equal(rel.trajectories["SGD"][-1], fn.minimizers)


def test_delay_zero_is_exactly_the_undelayed_run():
    opts = {"SGD": {"eta": 1e-3}, "DCASGD": {"learning_rate": 1e-3}, "NAG": {"eta": 1e-3}}
    a = optviz.run(FN, opts, STARTS, 60)
    b = optviz.run(FN, opts, STARTS, 60, delay=0)
    for name in a.names:
        np.testing.assert_array_equal(_traj(a, name), _traj(b, name))


def _grad(w: np.ndarray) -> np.ndarray:
    x, y = w
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def test_delay_2_with_sgd_equals_a_per_point_transcription():
    tau, eta, steps = 2, 4e-4, 40
    res = optviz.run(FN, {"SGD": {"eta": eta}}, STARTS, steps, delay=tau)
    assert (res.diverged_step["SGD"] < 0).all()
    for i, w0 in enumerate(STARTS):
        w = [np.array(w0)]
        for t in range(1, steps + 1):
            w.append(w[t - 1] - eta * _grad(w[max(0, t - 1 - tau)]))
        np.testing.assert_allclose(res.trajectories["SGD"][:, i], np.array(w), rtol=1e-13, atol=1e-15)
    undelayed = optviz.run(FN, {"SGD": {"eta": eta}}, STARTS, steps)
    assert not np.allclose(undelayed.trajectories["SGD"], res.trajectories["SGD"])


def test_dcasgd_under_delay_compensates_with_the_position_where_the_gradient_was_taken():
    tau, lr, lam, steps = 3, 2e-4, 0.01, 30
    res = optviz.run(FN, {"DCASGD": {"learning_rate": lr, "lamda": lam}}, STARTS, steps, delay=tau)
    assert (res.diverged_step["DCASGD"] < 0).all()
    plain = optviz.run(FN, {"DCASGD": {"learning_rate": lr, "lamda": 0.0}}, STARTS, steps, delay=tau)
    assert not np.allclose(plain.trajectories["DCASGD"], res.trajectories["DCASGD"])  # it compensates
    for i, w0 in enumerate(STARTS):
        w = [np.array(w0)]
        for t in range(1, steps + 1):
            stale = w[max(0, t - 1 - tau)]
            g = _grad(stale)
            d = g + lam * g * g * (w[t - 1] - stale)
            w.append(w[t - 1] - lr * d)
        np.testing.assert_allclose(res.trajectories["DCASGD"][:, i], np.array(w), rtol=1e-12, atol=1e-15)

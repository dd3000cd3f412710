"""The learning problems (functions/problems): gradients, minima, data, minibatches (issue 21)."""

from __future__ import annotations

import dataclasses
import json
import pickle

import numpy as np
import pytest

import functions
import optviz
from functions.problems import (
    PROBLEMS,
    batch_indices,
    batch_table,
    check_batch,
    check_problem_batch,
    datasets,
)

RNG = np.random.default_rng(20261207)


def _points(fn, n: int = 4) -> np.ndarray:
    lo, hi = fn.box[:, 0], fn.box[:, 1]
    return lo + RNG.random((n, fn.dim)) * (hi - lo) * 0.5 + (hi - lo) * 0.25


def _central(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    out = np.empty_like(x)
    for j in range(x.shape[1]):
        e = np.zeros_like(x)
        e[:, j] = h
        out[:, j] = (f(x + e) - f(x - e)) / (2 * h)
    return out


def _close(g: np.ndarray, fd: np.ndarray, rtol: float = 1e-6) -> None:
    """Per point: |g − fd| ≤ rtol·max|g| (+ a rounding floor of 1e-9)."""
    scale = np.max(np.abs(g), axis=1, keepdims=True)
    assert np.all(np.abs(g - fd) <= rtol * scale + 1e-9), np.max(np.abs(g - fd) / (scale + 1e-300))


@pytest.mark.parametrize("name", PROBLEMS)
def test_gradient_equals_central_differences(name):
    fn = functions.get(name)
    x = _points(fn)
    _close(fn.grad(x), _central(fn.value, x))
    idx = batch_indices(3, 7, fn.n_samples, 16)  # a minibatch's gradient is its loss's gradient
    _close(fn.grad_batch(x, idx), _central(lambda w: fn.value_batch(w, idx), x))


@pytest.mark.parametrize("name", PROBLEMS)
def test_the_kernels_per_point_maths_runs_as_plain_python_and_equals_the_array_path(name):
    """``fn.data_form``'s value and gradient (what the compiled kernels inline) on a minibatch, run
    as plain Python, equal the array path's to 1e-12."""
    fn = functions.get(name)
    form = fn.data_form
    x = _points(fn, 1)
    idx = batch_indices(5, 2, fn.n_samples, 8)
    consts = (np.array(form.consts),) if form.consts else ()
    out = np.empty(fn.dim)
    form.grad(x[0], form.data, idx, *consts, out)
    want = fn.grad_batch(x, idx)[0]
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
    assert form.value(x[0], form.data, idx, *consts) == pytest.approx(fn.value_batch(x, idx)[0], rel=1e-12)


@pytest.mark.parametrize("name", PROBLEMS)
def test_full_batch_is_exactly_the_gradient(name):
    fn = functions.get(name)
    x = _points(fn, 3)
    n = fn.n_samples
    np.testing.assert_array_equal(fn.grad_batch(x, batch_indices(0, 1, n, n)), fn.grad(x))
    np.testing.assert_array_equal(fn.grad_batch(x, None), fn.grad(x))
    np.testing.assert_array_equal(fn.value_batch(x, np.arange(n)), fn.value(x))


@pytest.mark.parametrize("name", PROBLEMS)
def test_shapes_test_set_and_float32(name):
    fn = functions.get(name)
    x = _points(fn, 5)
    assert fn.value(x).shape == (5,) and fn.grad(x).shape == (5, fn.dim) and fn.test_loss(x).shape == (5,)
    assert np.all(fn.test_loss(x) > 0)
    x32 = x.astype(np.float32)
    assert fn.grad(x32).dtype == np.float32
    np.testing.assert_allclose(fn.value(x32), fn.value(x), rtol=1e-4)
    if fn.classifier:
        acc = fn.accuracy(x)
        assert acc.shape == (5,) and np.all((acc >= 0) & (acc <= 1))
        assert fn.outputs(x, [[0.0, 0.0], [1.0, 1.0]]).shape == (5, 2)
    else:
        with pytest.raises(ValueError, match="classifiers only"):
            fn.accuracy(x)
    back = pickle.loads(pickle.dumps(fn))
    np.testing.assert_array_equal(back.grad_batch(x, [1, 2]), fn.grad_batch(x, [1, 2]))


def test_big_runs_are_blocked_the_same():
    """Many points are processed in blocks: the numbers are the same as one at a time."""
    fn = functions.get("moons-mlp")
    x = _points(fn, 300)
    one = np.concatenate([fn.grad(x[i:i + 1]) for i in range(0, 300, 37)])
    np.testing.assert_array_equal(fn.grad(x)[::37], one)


def test_logistic_minimum_by_newton():
    fn = functions.get("logistic")
    assert fn.dim == 3 and fn.minimizers.shape == (1, 3)
    assert np.linalg.norm(fn.grad(fn.minimizers)) <= 1e-10
    assert fn.value(fn.minimizers)[0] == fn.fmin
    x = _points(fn, 50)
    assert np.all(fn.value(x) >= fn.fmin)
    assert 0.7 < fn.accuracy(fn.minimizers)[0] < 1.0  # overlapping classes: not separable


@pytest.mark.parametrize("kappa", [1.0, 100.0, 1e4])
def test_least_squares_condition_number_and_exact_minimum(kappa):
    fn = functions.get("least-squares", dim=6, kappa=kappa)
    A = fn.task.train_inputs
    eig = np.linalg.eigvalsh(A.T @ A / fn.n_samples)
    np.testing.assert_allclose(eig, kappa ** (np.arange(6) / 5), rtol=1e-10)
    w = fn.minimizers
    assert np.linalg.norm(fn.grad(w)) <= 1e-10 * kappa
    assert fn.fmin == pytest.approx(float(fn.value(w)[0]), rel=1e-14)
    np.testing.assert_allclose(w[0], np.linalg.solve(A.T @ A, A.T @ fn.task.train_targets), rtol=1e-8)


def test_problem_dimensions_and_data():
    assert [functions.get(n).dim for n in PROBLEMS] == [10, 3, 65, 65]
    assert functions.get("least-squares", dim=4).dim == 4
    with pytest.raises(ValueError, match="dim"):
        functions.get("moons-mlp", dim=10)
    with pytest.raises(ValueError, match="kappa"):
        functions.get("least-squares", kappa=0.5)
    for maker in (datasets.two_moons, datasets.two_spirals, datasets.two_blobs):
        a, y = maker(100, 1)
        b, _ = maker(100, 1)
        np.testing.assert_array_equal(a, b)  # a seed gives the same set
        assert a.shape == (100, 2) and set(np.unique(y)) == {0.0, 1.0} and y.sum() == 50
    fn = functions.get("moons-mlp")
    assert not np.array_equal(fn.task.train_inputs, fn.task.test_inputs)


# ----------------------------------------------------------------------------- minibatch draws
def test_batch_indices_are_a_pure_function_of_seed_and_step():
    a = batch_indices(5, 12, 256, 32)
    assert a.dtype == np.int64 and a.shape == (32,)
    assert np.all(np.diff(a) > 0) and a[0] >= 0 and a[-1] < 256  # sorted, distinct, in range
    np.testing.assert_array_equal(a, batch_indices(5, 12, 256, 32))
    assert not np.array_equal(a, batch_indices(5, 13, 256, 32))
    assert not np.array_equal(a, batch_indices(6, 12, 256, 32))
    np.testing.assert_array_equal(batch_indices(5, 12, 256, 256), np.arange(256))
    table = batch_table(5, 40, 256, 32)
    np.testing.assert_array_equal(table[11], a)
    # every sample is drawn about as often (2,000 steps × 32 of 256: 250 each)
    counts = np.bincount(batch_table(1, 2000, 256, 32).ravel(), minlength=256)
    assert counts.min() > 180 and counts.max() < 320


def test_batch_checks():
    assert check_batch(None, 10) is None and check_batch(10, 10) is None and check_batch(3, 10) == 3
    for bad in (0, 11, 2.5, True, "4"):
        with pytest.raises(ValueError, match="from 1 to 10"):
            check_batch(bad, 10)
    with pytest.raises(ValueError, match="learning problem"):
        check_problem_batch(functions.get("rosenbrock"), 4)


# ----------------------------------------------------------------------------- minibatch runs
def _starts(name: str, n: int = 3) -> np.ndarray:
    fn = functions.get(name)
    return optviz.scene.starts.random(fn.box, n, seed=2)


@pytest.mark.parametrize("fused", [False, None])
def test_a_batch_of_every_sample_is_exactly_the_full_batch_run(fused):
    fn = functions.get("logistic")
    kw = {"starts": _starts("logistic"), "steps": 25, "seed": 4, "fused": fused}
    full = optviz.run("logistic", ["Adam", "SGD"], **kw)
    every = optviz.run("logistic", ["Adam", "SGD"], batch=fn.n_samples, **kw)
    for name in full.names:
        np.testing.assert_array_equal(every.trajectories[name], full.trajectories[name])


def test_a_fixed_seed_repeats_and_another_seed_draws_other_batches():
    kw = {"starts": _starts("moons-mlp"), "steps": 20, "batch": 16, "fused": False}
    a = optviz.run("moons-mlp", ["Adam"], seed=5, **kw)
    b = optviz.run("moons-mlp", ["Adam"], seed=5, **kw)
    c = optviz.run("moons-mlp", ["Adam"], seed=6, **kw)
    np.testing.assert_array_equal(a.trajectories["Adam"], b.trajectories["Adam"])
    assert not np.array_equal(a.trajectories["Adam"][-1], c.trajectories["Adam"][-1])


def test_every_optimizer_at_a_step_sees_the_same_batch():
    """Each optimizer's recorded gradient at step t is the gradient on batch_indices(seed, t) at its point."""
    fn = functions.get("moons-mlp")
    res = optviz.run("moons-mlp", ["Adam", "SGD", "RMSprop"], _starts("moons-mlp", 2), 6, seed=9, batch=8,
                     record_state=True, fused=False)
    for name in res.names:
        W, G = res.trajectories[name], res.states[name]["grad"]
        for t in range(1, 7):
            idx = batch_indices(9, t, fn.n_samples, 8)
            np.testing.assert_array_equal(G[t], fn.grad_batch(W[t - 1], idx))


@pytest.mark.parametrize("name", PROBLEMS)
def test_a_start_with_its_own_seed_draws_as_a_run_of_that_seed(name):
    """(Also: a point's numbers do not depend on its company: 1 start here, 3 there.)"""
    s = _starts(name, 3)
    kw = {"steps": 15, "batch": 20, "fused": False}
    mixed = optviz.run(name, ["SGD"], s, seed=np.array([3, 7, 3]), **kw)
    alone = optviz.run(name, ["SGD"], s[1:2], seed=7, **kw)
    np.testing.assert_array_equal(mixed.trajectories["SGD"][:, 1], alone.trajectories["SGD"][:, 0])


def test_batch_on_a_formula_is_refused():
    with pytest.raises(ValueError, match="learning problem"):
        optviz.run("rosenbrock", ["SGD"], [[0.0, 0.0]], 5, batch=4)


# ----------------------------------------------------------------------------- the lessons' notes
def test_the_minibatch_lesson_shows_what_its_note_says():
    from optviz.explore.learning import learning_curves
    from optviz.scene import lessons

    scene = lessons.get("minibatch-moons").scene
    assert scene.batch == 16 and lessons.get("minibatch-moons").view == "training"
    noisy = scene.run(fused=False)
    full = dataclasses.replace(scene, batch=None).run(fused=False)
    final = {k: {n: float(np.median(r.losses[n][-1])) for n in r.names} for k, r in (("noisy", noisy),
                                                                                       ("full", full))}
    said = {"full": {"Adam": 0.034, "SGD": 0.051}, "noisy": {"Adam": 0.058, "SGD": 0.051}}
    for k in said:
        for name, value in said[k].items():
            assert final[k][name] == pytest.approx(value, abs=5e-4), (k, name)
    reached = learning_curves(noisy, 0.95).reached
    assert (reached["Adam"] >= 0).sum() == 7 and (reached["SGD"] >= 0).sum() == 8


def test_the_ill_conditioning_lesson_shows_what_its_note_says():
    from optviz.scene import lessons

    scene = lessons.get("ill-conditioned-least-squares").scene
    fn = scene.build_function()
    A = fn.task.train_inputs
    eig = np.linalg.eigvalsh(A.T @ A / fn.n_samples)
    assert eig[-1] / eig[0] == pytest.approx(1000.0) and scene.optimizers["SGD"]["eta"] < 2 / eig[-1]
    res = scene.run(tol=1e-3, fused=False)
    dist = {n: np.linalg.norm(res.trajectories[n][-1] - fn.minimizers[0], axis=1) for n in res.names}
    assert np.median(dist["SGD"]) == pytest.approx(1.0, abs=0.05)
    assert np.all(dist["MSGD"] < 1e-3) and 150 <= np.median(res.first_entry["MSGD"]) <= 190
    assert scene.optimizers["MSGD"]["eta"] / scene.optimizers["SGD"]["eta"] == pytest.approx(16, abs=0.5)


# ----------------------------------------------------------------------------- the command line
def test_the_command_line_races_a_problem_with_minibatches_and_saves_the_scene(tmp_path, capsys):
    from optviz import cli

    scene_file = tmp_path / "moons.json"
    code = cli.main(["run", "-f", "moons-mlp", "-o", "Adam,SGD", "--batch", "32", "--steps", "20",
                     "--random", "3", "--json", "--save-scene", str(scene_file)])
    out = capsys.readouterr().out
    assert code == 0
    assert json.loads(out)["function"] == "moons-mlp" and json.loads(out)["dim"] == 65
    scene = optviz.Scene.load(scene_file)
    assert scene.batch == 32 and json.loads(scene_file.read_text())["batch"] == 32
    code = cli.main(["run", "--scene", str(scene_file), "--batch", "256"])  # B = N: the full batch
    assert code == 0 and "MLP 2-16-1 on two moons" in capsys.readouterr().out


def test_a_fair_comparison_takes_test_functions_and_convex_problems_together():
    c = optviz.compare(["booth", "logistic", "least-squares"], ["SGD", "Adam"], budget=2, steps=60, seeds=1,
                       tune_starts=4, test_starts=4, tol=1e-2, fused=False)
    assert c.labels == ("booth", "logistic", "least-squares") and set(c.kinds.values()) == {"distance"}
    assert c.headline() and len(c.table()) == 2
    with pytest.raises(ValueError, match="nothing to converge to"):  # a network has no known minimum
        optviz.compare(["moons-mlp"], ["SGD"], budget=1, steps=5, seeds=1, tune_starts=1, test_starts=1,
                       kind="distance")

"""The wide kernel (many coordinates, a learning problem's data and minibatches) computes what the
readable path computes.

Learning problems (``functions.problems``) and test functions of more than 16 coordinates take the
wide CPU kernel (:mod:`optviz.engine.fast.wide`): a loop over coordinates, the problem's training rows
and each step's minibatch rows as kernel arguments. Each case here runs the same scene twice, on the
compiled and on the readable path, and holds them equal to 1e-12 relative (positions and losses at
every recorded step) with the divergence steps and steps to tolerance exactly equal. Kernels are
shared across cases (one per rule and problem kind) to keep compiling short.
"""

from __future__ import annotations

import ast

import numpy as np
import pytest

import functions
import optviz
from functions.problems import PROBLEMS
from optviz.engine import fast
from optviz.engine.job import make_job

pytest.importorskip("numba")


def _starts(fn, n: int, seed: int = 3) -> np.ndarray:
    box = np.asarray(fn.box, dtype=float)
    return np.random.default_rng(seed).uniform(box[:, 0], box[:, 1], size=(n, fn.dim))


def _both(fn, opts, starts, steps, **kw):
    fast_run = optviz.run(fn, opts, starts, steps, fused=True, **kw)
    ref_run = optviz.run(fn, opts, starts, steps, fused=False, **kw)
    assert fast_run.path == "fast" and ref_run.path == "reference"
    return fast_run, ref_run


def assert_same(a: optviz.Result, b: optviz.Result) -> None:
    for name in b.names:
        for got, want in ((a.trajectories[name], b.trajectories[name]), (a.losses[name], b.losses[name])):
            scale = max(1.0, float(np.abs(want).max()))
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * scale, err_msg=name)
        np.testing.assert_array_equal(a.diverged_step[name], b.diverged_step[name])
        if b.steps_to_tol is not None:
            np.testing.assert_array_equal(a.steps_to_tol[name], b.steps_to_tol[name])
            np.testing.assert_array_equal(a.first_entry[name], b.first_entry[name])


@pytest.mark.parametrize("fname", PROBLEMS)
def test_every_problem_full_batch_and_minibatches(fname):
    """Every problem, full batch and minibatches of 8 with one seed per start, gradient noise on."""
    fn = functions.get(fname)
    starts = _starts(fn, 6)
    for batch, seed in ((None, 0), (8, np.arange(6))):
        assert_same(*_both(fn, {"Adam": {"alpha": 0.02}}, starts, 25, record_every=4, batch=batch, seed=seed,
                           noise=0.01))


def test_look_ahead_delay_tolerance_and_a_rules_draws():
    """NAG's look-ahead under a delay with steps to a tolerance on the gap, and SantaE's own draws,
    on the smallest problem (logistic regression, with its constants)."""
    fn = functions.get("logistic")
    starts = _starts(fn, 5)
    assert_same(*_both(fn, {"NAG": {}, "SantaE": {}}, starts, 30, record_every=3, batch=16, delay=2,
                       tol=0.5, tol_kind="gap"))


def test_hooks_schedules_and_one_rate_per_start():
    """LARS, clipping and weight decay (on the whole point's norms), a warm-up + cosine schedule and
    one step size per start, on the kernel the first test compiled."""
    fn = functions.get("logistic")
    starts = _starts(fn, 6)
    opts = {"Adam": {"alpha": np.geomspace(1e-3, 1e-1, 6)}}
    for hooks in (["lars:threshold=0.5,weight_decay=0.001"], ["clip:max_norm=1", "weight_decay"]):
        assert_same(*_both(fn, opts, starts, 20, record_every=3, batch=8, noise=0.01, hooks=hooks,
                           schedule="warmup:steps=5+cosine"))


def test_batch_of_every_sample_is_the_full_batch():
    fn = functions.get("logistic")
    starts = _starts(fn, 4)
    full = optviz.run(fn, ["Adam"], starts, 20, fused=True, noise=0.01)
    every = optviz.run(fn, ["Adam"], starts, 20, fused=True, noise=0.01, batch=fn.n_samples)
    np.testing.assert_array_equal(full.trajectories["Adam"], every.trajectories["Adam"])


def test_test_functions_of_more_than_16_coordinates():
    """A 20-D Rosenbrock takes the wide kernel (its point formulas called with every coordinate)."""
    fn = functions.get("rosenbrock", dim=20)
    starts = _starts(fn, 5) * 0.3
    assert_same(*_both(fn, {"Adam": {"alpha": 0.01}}, starts, 30, record_every=5, noise=0.01))


def test_a_rerun_of_the_same_settings_takes_its_own_starts_seed_and_bad_starts():
    """The engine keeps a run's validated settings and kernel set-up for the next run of the same
    settings: that run still steps its own starts with its own seed, and refuses its own bad starts."""
    opts = {"SGD": {"eta": 1e-3}, "Adam": {"alpha": 0.05}}
    a, b = (optviz.scene.starts.random([[-2, 2], [-1, 3]], 12, seed=s) for s in (1, 2))
    optviz.run("rosenbrock", opts, a, 20, fused=True, noise=0.1, seed=3)
    for starts, seed in ((b, 3), (b, 4), (a, 4)):
        assert_same(*_both("rosenbrock", opts, starts, 20, noise=0.1, seed=seed))
    bad = b.copy()
    bad[5, 1] = np.nan
    with pytest.raises(ValueError, match="starts must be finite; point 5"):
        optviz.run("rosenbrock", opts, bad, 20, fused=True, noise=0.1, seed=3)
    bad[5, 1] = 1e300
    with pytest.raises(ValueError, match="divergence bound"):
        optviz.run("rosenbrock", opts, bad, 20, fused=True, noise=0.1, seed=3)
    again = optviz.run("rosenbrock", opts, b, 20, fused=True, noise=0.1, seed=3)
    np.testing.assert_array_equal(again.starts, b)


def test_what_the_wide_kernel_does_not_run_says_why():
    job = make_job("moons-mlp", ["Adam"], None, 2, record_state=True)[0]
    assert "state" in fast.unsupported(job, "numpy")
    job = make_job("moons-mlp", ["Adam"], None, 2)[0]
    assert "CUDA" in fast.unsupported(job, "cupy")
    assert fast.unsupported(job, "numpy") is None
    with pytest.raises(ValueError, match="recording the rules' state"):
        optviz.run("moons-mlp", ["Adam"], None, 2, record_state=True, fused=True)


def test_the_wide_kernels_arguments_are_listed_once():
    from optviz.engine.fast import kernels, signature

    job = make_job("logistic", ["Adam"], None, 2, noise=0.1, delay=1, tol=1e-3, tol_kind="gap")[0]
    keyed = kernels.specs(job)[0]
    kernel = next(n for n in ast.parse(keyed.source).body
                  if isinstance(n, ast.FunctionDef) and n.name == "kernel")
    assert [a.arg for a in kernel.args.args] == signature.params(signature.WIDE).split(", ")
    assert signature.unpack_prm() in keyed.source

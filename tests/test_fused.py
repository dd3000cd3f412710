"""The fused (in-place, allocation-free) paths compute the same numbers as the readable rules."""

import numpy as np
import pytest

import optviz
from optviz.optimizers import REGISTRY

FUSED = [name for name, spec in REGISTRY.items() if spec.rule.fused is not None]


def test_some_rule_has_a_fused_path():
    assert "Adam" in FUSED


@pytest.mark.parametrize("name", FUSED)
@pytest.mark.parametrize("per_point", [False, True])
def test_fused_equals_reference(name, per_point):
    starts = optviz.starts.random([[-2, 2], [-1, 3]], 40, seed=3)
    hp = {}
    if per_point:  # one learning rate per start: broadcasting in the in-place ops
        lr = next(h.name for h in REGISTRY[name].hyperparams if h.lr)
        hp[lr] = np.geomspace(1e-3, 0.3, 40)
    kw = dict(steps=150, schedule="warmup:steps=10+cosine", hooks="clip:max_norm=50", seed=1)
    ref = optviz.run("rosenbrock", {name: hp}, starts, fused=False, **kw)
    fast = optviz.run("rosenbrock", {name: hp}, starts, **kw)
    np.testing.assert_allclose(fast.trajectories[name], ref.trajectories[name], rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(fast.diverged_step[name], ref.diverged_step[name])


def test_fused_path_is_skipped_for_other_namespaces():
    xps = pytest.importorskip("array_api_strict")
    starts = [[-1.0, 1.0], [0.5, 2.0]]
    a = optviz.run("rosenbrock", ["Adam"], starts, steps=20, backend=xps)
    b = optviz.run("rosenbrock", ["Adam"], starts, steps=20, fused=False)
    np.testing.assert_allclose(a.trajectories["Adam"], b.trajectories["Adam"], rtol=1e-13)


def test_chunked_threads_give_the_same_numbers():
    """Points never interact, so stepping chunks of them in threads changes nothing."""
    names = [n for n in optviz.NAMES if "noise" not in REGISTRY[n].needs]
    starts = optviz.starts.random([[-2, 2], [-1, 3]], 301, seed=4)
    lr = np.geomspace(1e-4, 1.0, 301)  # per-point values are sliced with their points
    kw = dict(steps=40, schedule="cosine", seed=2)
    opts = {**{n: {} for n in names}, "Adam": {"alpha": lr}, "SGD": {"eta": lr}}
    one = optviz.run("rosenbrock", opts, starts, threads=1, **kw)
    three = optviz.run("rosenbrock", opts, starts, threads=3, **kw)
    for n in names:
        np.testing.assert_array_equal(three.trajectories[n], one.trajectories[n])
        np.testing.assert_array_equal(three.losses[n], one.losses[n])
        np.testing.assert_array_equal(three.diverged_step[n], one.diverged_step[n])
    assert one.diverged["SGD"].any()  # the sweep's large rates diverge: freezing works per chunk


def test_threads_refused_with_santa():
    with pytest.raises(ValueError, match="Santa"):
        optviz.run("quartic", ["SantaE"], [[-3.0], [1.0]], steps=5, threads=2)
    optviz.run("quartic", ["SantaE"], [[-3.0], [1.0]], steps=5, threads=1)  # fine

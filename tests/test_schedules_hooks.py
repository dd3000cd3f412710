"""Learning-rate schedules and gradient hooks: values, text parsing, per-point behaviour, order."""

from __future__ import annotations

import itertools
import math

import array_api_strict as xps
import numpy as np
import pytest

import optviz
from optviz.engine import hooks, schedules
from tests import reference_rules as ref


# ============================================================================ schedules
def test_constant():
    s = schedules.constant()
    assert [s(t, 50) for t in (1, 25, 50)] == [1.0, 1.0, 1.0]
    assert s.label == "constant"


def test_step_decay_values():
    s = schedules.step_decay(every=10, gamma=0.5)
    assert [s(t, 100) for t in (1, 10, 11, 20, 21, 31, 100)] == [1, 1, 0.5, 0.5, 0.25, 0.125, 0.5**9]
    assert s.label == "step(every=10, gamma=0.5)"


def test_exponential_values():
    s = schedules.exponential(0.9)
    assert s(1, 10) == 1.0
    assert s(5, 10) == pytest.approx(0.9**4, rel=1e-15)
    assert s.factors(4) == pytest.approx([1, 0.9, 0.81, 0.729], rel=1e-15)


def test_cosine_endpoints_and_middle():
    s = schedules.cosine()
    assert s(1, 101) == 1.0
    assert s(101, 101) == pytest.approx(0.0, abs=1e-15)
    assert s(51, 101) == pytest.approx(0.5, rel=1e-14)
    f = schedules.cosine(floor=0.1)
    assert f(1, 11) == 1.0 and f(11, 11) == pytest.approx(0.1, rel=1e-14)
    assert f(6, 11) == pytest.approx(0.55, rel=1e-14)
    assert f(4, 11) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.3)), rel=1e-14)
    assert schedules.cosine()(1, 1) == 1.0  # a one-step run: no division by zero
    factors = s.factors(30)
    assert all(a >= b for a, b in itertools.pairwise(factors))  # non-increasing


def test_warmup_then_cosine():
    s = schedules.warmup(steps=10, then=schedules.cosine())
    total = 110
    # linear from 1/10 to 1 over steps 1..10
    assert [s(t, total) for t in (1, 5, 10)] == pytest.approx([0.1, 0.5, 1.0], rel=1e-15)
    # then the cosine on its own clock over the remaining 100 steps: 1 at step 11, 0 at step 110
    assert s(11, total) == 1.0
    assert s(60, total) == pytest.approx(0.5 * (1 + math.cos(math.pi * 49 / 99)), rel=1e-14)
    assert s(total, total) == pytest.approx(0.0, abs=1e-15)
    assert s.label == "warmup+cosine(steps=10, floor=0.0)"
    w = schedules.warmup(steps=4, start=0.2)
    assert [w(t, 10) for t in (1, 2, 4, 5, 10)] == pytest.approx([0.4, 0.6, 1.0, 1.0, 1.0], rel=1e-15)


@pytest.mark.parametrize(
    "text,built",
    [
        ("constant", schedules.constant()),
        ("step:every=50,gamma=0.5", schedules.step_decay(50, 0.5)),
        (" Step : every = 50 , gamma = 0.5 ", schedules.step_decay(50, 0.5)),
        ("exponential:gamma=0.99", schedules.exponential(0.99)),
        ("exponential", schedules.exponential()),
        ("cosine:floor=0.1", schedules.cosine(0.1)),
        ("warmup:steps=20", schedules.warmup(20)),
        ("warmup:steps=10+cosine", schedules.warmup(10, then=schedules.cosine())),
        ("warmup:steps=5,start=0.5+step:every=3,gamma=0.9",
         schedules.warmup(5, then=schedules.step_decay(3, 0.9), start=0.5)),
        ("step:every=1e2,gamma=5e-1", schedules.step_decay(100, 0.5)),
        ("step:every=1e+2,gamma=0.5", schedules.step_decay(100, 0.5)),
        ("warmup:steps=1e+1+exponential:gamma=9.9e-1",
         schedules.warmup(10, then=schedules.exponential(0.99))),
    ],
)
def test_schedule_parse_round_trips(text, built):
    parsed = schedules.parse(text)
    assert parsed == built
    assert parsed.label == built.label
    assert parsed.factors(40) == built.factors(40)


@pytest.mark.parametrize(
    "text,words",
    [
        ("cosin", ["unknown schedule 'cosin'", "constant, step, exponential, cosine, warmup"]),
        ("step:every=10,gama=0.1", ["has no setting 'gama'", "every, gamma"]),
        ("step:every", ["expected key=value", "'every'"]),
        ("step:every=ten", ["expected a number", "'ten'"]),
        ("exponential:gamma=nan", ["finite"]),
        ("exponential:gamma=-1", ["gamma must be in [0, 10]"]),
        ("step:every=0", ["step schedule: every must be a whole number >= 1, got 0"]),
        ("warmup:steps=-1", ["warm-up schedule: steps must be a whole number >= 1, got -1"]),
        ("step:every=1,every=2", ["every is given twice"]),
        ("", ["empty schedule"]),
        ("step:every=2.5", ["every", "whole number"]),
        ("warmup:steps=7.5", ["steps", "whole number"]),
        ("cosine:floor=2", ["floor must be in [0, 1]"]),
        ("cosine+step", ["unknown first schedule of a chain 'cosine'", "valid: warmup"]),
        ("warmup+cosine+step", ["at most a warm-up and one schedule"]),
        ("warmup+cosin", ["unknown schedule 'cosin'"]),
        ("constant:x=1", ["has no setting 'x'", "valid: none"]),
    ],
)
def test_schedule_parse_errors(text, words):
    with pytest.raises(ValueError) as info:
        schedules.parse(text)
    for w in words:
        assert w in str(info.value), f"{w!r} not in {info.value}"


@pytest.mark.parametrize(("schedule", "steps"), [(schedules.exponential(10), 400),
                                                 (schedules.step_decay(every=1, gamma=2), 1100)])
def test_growing_schedules_saturate(schedule, steps):
    """The issue's OverflowError: gamma ** (t - 1) beyond the float range. Factors stop at MAX_FACTOR."""
    f = schedule.factors(steps)
    assert all(math.isfinite(v) for v in f) and max(f) == schedules.MAX_FACTOR
    assert all(a <= b for a, b in itertools.pairwise(f))  # still non-decreasing
    assert f[:4] == ([1.0, 10.0, 100.0, 1000.0] if schedule.name == "exponential" else [1.0, 2.0, 4.0, 8.0])
    assert schedule(steps, steps) == schedules.MAX_FACTOR


def test_a_custom_schedule_that_overflows_saturates():
    s = schedules.Schedule("boom", (), lambda t, total: math.exp(1000.0 * t))  # OverflowError
    assert s(3, 10) == schedules.MAX_FACTOR and s.factors(2) == [schedules.MAX_FACTOR] * 2
    assert schedules.Schedule("big", (), lambda t, total: math.inf)(1, 1) == schedules.MAX_FACTOR


def test_growing_schedule_in_a_run_diverges_every_point():
    res = optviz.run("rosenbrock", ["Adam", "SGD"], starts=[[-1.5, 2.0], [0.5, 0.5]], steps=400,
                     schedule="exponential:gamma=10")
    assert np.all(np.isfinite(res.lr_factors)) and res.lr_factors[-1] == schedules.MAX_FACTOR
    for name in res.names:
        assert np.all(res.diverged_step[name] > 0)


def test_schedule_factors_recorded_by_run():
    res = optviz.run("quartic", ["SGD"], starts=[[0.0]], steps=30, schedule="warmup:steps=10+cosine")
    expected = schedules.warmup(10, then=schedules.cosine()).factors(30)
    np.testing.assert_array_equal(res.lr_factors, expected)
    assert res.schedule == "warmup+cosine(steps=10, floor=0.0)"


# ============================================================================ hooks
G = np.array([[3.0, 4.0], [0.3, -0.4], [0.0, 0.0], [-6.0, 8.0], [1e-3, 0.0]])
W = np.array([[1.0, 2.0], [0.001, 0.002], [0.5, -0.5], [-2.0, 0.0], [0.0, 0.0]])


def _per_point(ref_hook, g=G, w=W):
    return np.array([ref_hook(gi.tolist(), wi.tolist()) for gi, wi in zip(g, w, strict=True)])


def test_clip_caps_each_points_norm():
    out = hooks.clip_by_norm(2.0)(G, W)
    norms = np.linalg.norm(out, axis=1)
    np.testing.assert_allclose(norms, [2.0, 0.5, 0.0, 2.0, 1e-3], rtol=1e-15)
    # direction kept, short gradients untouched, zero stays zero (no 0/0)
    np.testing.assert_allclose(out[0], [1.2, 1.6], rtol=1e-15)
    np.testing.assert_array_equal(out[1], G[1])
    np.testing.assert_array_equal(out[2], [0.0, 0.0])
    np.testing.assert_allclose(out, _per_point(ref.clip_by_norm(2.0)), rtol=1e-15)
    # exactly at the cap: unchanged
    np.testing.assert_array_equal(hooks.clip_by_norm(5.0)(G[:1], W[:1]), G[:1])


def test_weight_decay_adds_lambda_w():
    out = hooks.weight_decay(0.1)(G, W)
    np.testing.assert_allclose(out, G + 0.1 * W, rtol=1e-15)
    np.testing.assert_array_equal(hooks.weight_decay(0.0)(G, W), G)


@pytest.mark.parametrize(
    "threshold,wd,eps", [(0.01, 0.0, 1e-9), (0.01, 0.1, 1e-9), (1.0, 0.05, 1e-3), (0.0, 0.0, 0.0)]
)
def test_lars_matches_chainer_per_point(threshold, wd, eps):
    out = hooks.lars(threshold, wd, eps)(G, W)
    np.testing.assert_allclose(out, _per_point(ref.lars(threshold, wd, eps)), rtol=1e-14, atol=1e-300)


def test_lars_with_eps_zero_at_a_zero_gradient():
    """eps = 0 is allowed; at a stationary point (g = 0) LARS must give 0, not 0·inf = NaN, and
    the engine must not mark the point diverged (it did before the guard in hooks.lars)."""
    out = hooks.lars(0.0, 0.0, 0.0)(np.zeros((2, 2)), np.array([[1.0, 1.0], [0.0, 0.0]]))
    np.testing.assert_array_equal(out, np.zeros((2, 2)))
    res = optviz.run("saddle", ["SGD", "Adam"], starts=[[0.0, 0.0], [0.5, 0.5]], steps=5, hooks="lars:eps=0")
    for name in ("SGD", "Adam"):
        assert np.all(res.diverged_step[name] == -1)
        np.testing.assert_array_equal(res.trajectories[name][:, 0], 0.0)


def test_lars_by_hand():
    # ‖w‖ = sqrt(5) > threshold: rate = sqrt(5) / (eps + 5 + 0.1 sqrt(5)), g ← (g + 0.1 w)·rate
    out = hooks.lars(0.01, 0.1, 1e-9)(G[:1], W[:1])
    rate = math.sqrt(5) / (1e-9 + 5 + 0.1 * math.sqrt(5))
    np.testing.assert_allclose(out[0], [(3.1) * rate, (4.2) * rate], rtol=1e-15)
    # ‖w‖ = sqrt(5e-6) below threshold 0.01: rate 1, only the decay is added
    out = hooks.lars(0.01, 0.1, 1e-9)(G[1:2], W[1:2])
    np.testing.assert_allclose(out[0], G[1] + 0.1 * W[1], rtol=1e-15)
    # the norm is the point's whole vector, not each coordinate: scaling g scales nothing
    # else; the LARS step size is independent of |g| (for wd = 0, eps = 0): ‖out‖ = ‖w‖
    out = hooks.lars(0.0, 0.0, 0.0)(G[[0, 3]], W[[0, 3]])
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), np.linalg.norm(W[[0, 3]], axis=1), rtol=1e-15)


def test_hooks_on_array_api_strict():
    g, w = xps.asarray(G), xps.asarray(W)
    for h in (hooks.lars(0.01, 0.1), hooks.clip_by_norm(2.0), hooks.weight_decay(0.1)):
        np.testing.assert_allclose(np.asarray(h(g, w)), h(G, W), rtol=1e-15)


def test_chain_applies_hooks_in_order():
    clip, wd = hooks.clip_by_norm(1.0), hooks.weight_decay(1.0)
    a = hooks.chain([clip, wd])(G, W)
    b = hooks.chain([wd, clip])(G, W)
    np.testing.assert_allclose(a, wd(clip(G, W), W), rtol=1e-15)
    np.testing.assert_allclose(b, clip(wd(G, W), W), rtol=1e-15)
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(hooks.chain([])(G, W), G)


def test_engine_applies_hooks_in_the_order_given():
    """SGD with hooks [clip, weight_decay] vs [weight_decay, clip]: the first step by hand."""
    start = np.array([[-1.5, 2.0]])
    g = np.array([[-155.0, -50.0]])  # ∇ Rosenbrock at (-1.5, 2)
    for order in (["clip:max_norm=1", "weight_decay:rate=10"], ["weight_decay:rate=10", "clip:max_norm=1"]):
        res = optviz.run("rosenbrock", {"SGD": {"eta": 0.1}}, starts=start, steps=1, hooks=order)
        hs = [hooks.parse(t) for t in order]
        expected = start - 0.1 * hs[1](hs[0](g, start), start)
        np.testing.assert_allclose(res.trajectories["SGD"][1], expected, rtol=1e-14)
        assert res.hooks == tuple(h.label for h in hs)


@pytest.mark.parametrize(
    "text,built",
    [
        ("lars", hooks.lars()),
        ("lars:threshold=0.1,weight_decay=0.01,eps=1e-6", hooks.lars(0.1, 0.01, 1e-6)),
        ("clip:max_norm=1", hooks.clip_by_norm(1.0)),
        ("CLIP: max_norm = 5", hooks.clip_by_norm(5.0)),
        ("weight_decay:rate=0.1", hooks.weight_decay(0.1)),
    ],
)
def test_hook_parse_round_trips(text, built):
    parsed = hooks.parse(text)
    assert parsed == built and parsed.label == built.label
    np.testing.assert_array_equal(parsed(G, W), built(G, W))


@pytest.mark.parametrize(
    "text,words",
    [
        ("lasr", ["unknown hook 'lasr'", "lars, clip, weight_decay"]),
        ("clip:norm=1", ["hook clip has no setting 'norm'", "max_norm"]),
        ("clip:max_norm=0", ["max_norm must be > 0"]),
        ("clip:max_norm=-1", ["max_norm must be a finite number >= 0"]),
        ("lars:threshold=inf", ["finite"]),
        ("weight_decay:rate", ["expected key=value"]),
        ("lars:eps=-1e-9", ["eps must be a finite number >= 0"]),
    ],
)
def test_hook_parse_errors(text, words):
    with pytest.raises(ValueError) as info:
        hooks.parse(text)
    for w in words:
        assert w in str(info.value), f"{w!r} not in {info.value}"


def test_hook_labels():
    assert hooks.clip_by_norm(1).label == "clip(max_norm=1)"
    assert hooks.lars().label == "lars(threshold=0.01, weight_decay=0, eps=1e-09)"
    assert hooks.weight_decay(0.5).label == "weight_decay(rate=0.5)"

"""The gradient lessons show what their notes claim (see optviz/scene/lessons.py)."""

from __future__ import annotations

import numpy as np

import optviz
from optviz.scene import lessons as presets


def test_delayed_dcasgd_lesson():
    p = presets.DELAYED_DCASGD
    kw = p.run_kwargs()
    assert kw["delay"] == 4
    res = optviz.run(**kw, tol=1e-3)
    rows = {r["optimizer"]: r for r in res.summary(tol=1e-3)}
    n = len(p.starts)
    # "SGD's stale gradients throw half the starts off"
    assert rows["SGD"]["diverged"] == n // 2
    # "DCASGD ... diverges from none, reaching the minimum from 14 of 16"
    assert rows["DCASGD"]["diverged"] == 0
    assert round(rows["DCASGD"]["converged"] * n) == 14
    # the compensation does it: the same rate without it (lamda = 0) is SGD itself
    plain = optviz.run(**{**kw, "optimizers": {"DCASGD": {"learning_rate": 0.05, "lamda": 0.0}}})
    np.testing.assert_array_equal(plain.trajectories["DCASGD"], res.trajectories["SGD"])
    # and it is the delay that hurts SGD: without it, no start diverges
    undelayed = optviz.run(**{**kw, "delay": 0})
    assert not undelayed.diverged["SGD"].any()


def _steps(res, name):
    return np.linalg.norm(np.diff(res.trajectories[name], axis=0), axis=-1)  # row t-1: the step to w_t


def test_schedule_momentum_lesson():
    p = presets.SCHEDULE_MOMENTUM
    kw = p.run_kwargs()
    res = optviz.run(**kw)
    assert not any(res.diverged[n].any() for n in res.names)
    m, c = _steps(res, "MSGD"), _steps(res, "CorrectedMomentumSGD")
    # "one rule at a constant rate": identical paths without the schedule
    flat = optviz.run(**{**kw, "schedule": None})
    np.testing.assert_allclose(flat.trajectories["MSGD"], flat.trajectories["CorrectedMomentumSGD"],
                               rtol=1e-10, atol=1e-12)
    # "through the warm-up ... goes twice as far"
    assert (c[:50].sum(axis=0) >= 2 * m[:50].sum(axis=0)).all()
    # "at the tenfold drop (step 151) it slows tenfold at once while MSGD coasts ... at half speed"
    assert res.lr_factors[149] == 1.0 and res.lr_factors[150] == 0.1
    before = slice(140, 150)  # steps 141..150
    after = slice(151, 161)  # steps 152..161
    ratio_c = c[after].mean(axis=0) / c[before].mean(axis=0)
    ratio_m = m[after].mean(axis=0) / m[before].mean(axis=0)
    assert (ratio_c < 0.15).all(), ratio_c
    assert (ratio_m > 0.35).all(), ratio_m


def test_gradient_lessons_are_presets_the_race_does_not_list():
    assert set(presets.GRADIENT_LESSONS) <= set(presets.PRESETS)
    assert not set(presets.GRADIENT_LESSONS) & set(presets.LESSONS)


def test_the_tab_defaults_hold_what_they_claim():
    """optviz/data/tab_defaults.json (scripts/make_tab_defaults.py): each tab's default scene gives
    the numbers stored beside it, and they answer the tab's question."""
    from optviz.explore import tab_defaults

    d = tab_defaults.default_for("basins")
    sc = d.lesson.scene
    m = optviz.basins(sc.build_function(), {n: dict(v) for n, v in sc.optimizers.items()},
                      grid=d.settings["basins_grid"], steps=sc.steps, tol=presets.DEFAULT_TOL, seed=sc.seed,
                      rates="registry")
    a, b = d.settings["basins_a"], d.settings["basins_b"]
    assert m.only(a, b) == d.measured["only_a"] >= 0.25  # not "Adam only: 0.0 %"
    assert f"{100 * m.only(a, b):.0f} %" in d.lesson.note

    d = tab_defaults.default_for("noise_delay")
    sc = d.lesson.scene
    s = optviz.sweep(sc.build_function(), {n: dict(v) for n, v in sc.optimizers.items()}, "delay",
                     list(tab_defaults.DELAYS), starts=sc.starts_array(), steps=sc.steps, seed=sc.seed,
                     rates="registry")
    assert sc.optimizers["SGD"]["eta"] == sc.optimizers["DCASGD"]["learning_rate"]  # the compensation alone
    div = {n: [x.share_diverged for x in s.stats[n]] for n in s.names}
    assert div == d.measured["share_diverged"]
    assert div["DCASGD"][-1] < div["SGD"][-1]  # at the largest delay, compensation buys something
    assert tab_defaults.DELAYS[-1] == d.settings["delay_max"]
    names = [x.name for x in tab_defaults.lessons_for("noise_delay")]
    assert names[0] == d.lesson.name and set(presets.GRADIENT_LESSONS) <= set(names)

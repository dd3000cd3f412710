"""Today's optimizers (AdamW, Lion, RAdam, AdaBelief, Yogi, Adan, Rprop, schedule-free SGD and
AdamW, Prodigy) against their library twins, teacher-forced.

The fixtures (``scripts/make_optax_fixtures.py``, ``scripts/make_torch_fixtures.py``) hold, per
step, the gradient optax or torch.optim was given and where it went. Each test feeds optviz's rule
the same gradients (for a schedule-free rule: at the point the rule asks for, which must be optax's
y) and compares every step to 1e-9 in float64: no chaos can amplify a rounding difference, so a
wrong formula, a misplaced ε or a swapped β shows at once. The same cases also run closed-loop on
both paths (readable and compiled). The third reference of each rule, a per-point transcription, is
tests/reference_rules.py (tests/test_optimizers_reference.py runs it).
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import optviz
from optviz.optimizers import MODERN, REGISTRY, StepContext

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def _load(name: str):
    data = np.load(FIXTURES / f"{name}.npz")
    return data, json.loads(str(data["meta_json"]))


_OPTAX, _OPTAX_META = _load("optax_modern")
_TORCH, _TORCH_META = _load("torch_modern")
CASES = [("optax", c) for c in _OPTAX_META["cases"]] + [("torch", c) for c in _TORCH_META["cases"]]


def _arrays(lib: str, case: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(gradients fed, points shown, gradient points or None) of a case."""
    data, key = (_OPTAX if lib == "optax" else _TORCH), case["key"]
    if lib == "torch":
        return data[f"{key}_grads"], data[f"{key}_params"], None
    gpoints = data[f"{key}_params"] if f"{key}_params" in data.files else None
    return data[f"{key}_grads"], data[f"{key}_shown"], gpoints


def teacher_forced(name: str, hp: dict, grads: np.ndarray, start: np.ndarray,
                   gpoints: np.ndarray | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
    """optviz's readable rule fed ``grads[t-1]`` at step t: the points it moves to, and the points
    where it asked for its gradient (look-ahead rules)."""
    spec = REGISTRY[name]
    hp = {**spec.defaults, **{k: float(v) for k, v in hp.items()}}
    w = np.array(start, dtype=np.float64)
    state = spec.rule.init(w, hp)
    steps = len(grads)
    out, asked = [w.copy()], []

    for t in range(1, steps + 1):
        def grad_fn(q, t=t):
            asked.append(np.array(q))
            return grads[t - 1].copy()

        ctx = StepContext(t, steps, np.zeros(len(w)), None, grad_fn, lambda *a: None)
        delta, state = spec.rule.update(grads[t - 1].copy(), state, w, hp, ctx)
        w = w + delta
        out.append(w.copy())
    return np.stack(out), asked


def test_fixtures_cover_every_modern_rule_twice_and_record_versions():
    assert _OPTAX_META["optax_version"] == "0.2.8" and _TORCH_META["torch_version"].startswith("2.13.0")
    assert _OPTAX_META["dtype"] == _TORCH_META["dtype"] == "float64"
    optax_rules = {c["optimizer"] for c in _OPTAX_META["cases"]}
    torch_rules = {c["optimizer"] for c in _TORCH_META["cases"]}
    assert torch_rules == {"AdamW", "RAdam", "Rprop"}
    assert optax_rules | torch_rules == set(MODERN)
    for path in ("optax_modern.npz", "torch_modern.npz"):
        assert (FIXTURES / path).stat().st_size < 300_000
    # the side-car json files say the same as the copies inside the npz files
    assert json.loads((FIXTURES / "optax_modern.json").read_text()) == _OPTAX_META
    assert json.loads((FIXTURES / "torch_modern.json").read_text()) == _TORCH_META


@pytest.mark.parametrize("lib,case", CASES,
                         ids=[f"{lib}-{c['key']}-{c['function']}-{c['optimizer']}" for lib, c in CASES])
def test_teacher_forced_equals_library(lib, case):
    grads, shown, gpoints = _arrays(lib, case)
    got, asked = teacher_forced(case["optimizer"], case["hyperparams"], grads, shown[0], gpoints)
    assert np.abs(shown[-1] - shown[0]).max() > 1e-3, "the library did not move: a vacuous test"
    np.testing.assert_allclose(got, shown, rtol=1e-9, atol=1e-12)
    if gpoints is not None:  # a schedule-free rule asks for its gradient at optax's params y
        assert len(asked) == len(grads)
        np.testing.assert_allclose(np.stack(asked), gpoints[:-1], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("lib,case", CASES,
                         ids=[f"{lib}-{c['key']}-{c['function']}-{c['optimizer']}" for lib, c in CASES])
def test_closed_loop_both_paths_equal_library(lib, case):
    """optviz.run (its own gradients at its own points) on the compiled and the readable path."""
    _, shown, _ = _arrays(lib, case)
    name = case["optimizer"]
    for fused in (True, False):
        res = optviz.run(case["function"], {name: case["hyperparams"]}, starts=case["starts"],
                         steps=case["steps"], rates="article", fused=fused)
        assert res.path == ("fast" if fused else "reference")
        np.testing.assert_allclose(res.trajectories[name], shown, rtol=1e-9, atol=1e-12)


def test_teacher_forcing_would_catch_an_uncoupled_decay():
    """Sanity of the comparison: AdamW whose decay is not multiplied by the rate (w ← w − λ w, the
    paper's η_t λ with η_t = 1) is another trajectory."""
    lib, case = next((lib, c) for lib, c in CASES
                     if c["optimizer"] == "AdamW" and c["hyperparams"].get("weight_decay"))
    grads, shown, _ = _arrays(lib, case)
    hp = dict(case["hyperparams"])
    hp["weight_decay"] = hp["weight_decay"] / hp["lr"]
    got, _ = teacher_forced("AdamW", {**hp, "weight_decay": min(hp["weight_decay"], 1.0)}, grads, shown[0])
    assert not np.allclose(got, shown, rtol=1e-6)


def test_rprop_is_torch_and_ignores_the_schedule():
    """Rprop's lr only sets its first step size (torch's meaning): a schedule leaves it alone."""
    kw = {"starts": [[-1.5, 2.0]], "steps": 30, "rates": "article"}
    plain = optviz.run("rosenbrock", "Rprop", **kw)
    cosine = optviz.run("rosenbrock", "Rprop", schedule="cosine", **kw)
    np.testing.assert_array_equal(plain.trajectories["Rprop"], cosine.trajectories["Rprop"])
    # the first step moves each coordinate by exactly lr against the gradient's sign
    np.testing.assert_allclose(plain.trajectories["Rprop"][1, 0], [-1.5 + 0.01, 2.0 + 0.01], rtol=1e-15)


@pytest.mark.parametrize("name", ["ScheduleFreeSGD", "ScheduleFreeAdamW"])
def test_schedule_free_ignores_the_schedule_and_warms_up_on_its_own(name):
    kw = {"starts": [[-1.5, 2.0], [0.5, -0.5]], "steps": 40, "rates": "article"}
    plain = optviz.run("rosenbrock", {name: {"lr": 1e-3}}, **kw)
    cosine = optviz.run("rosenbrock", {name: {"lr": 1e-3}}, schedule="warmup:steps=5+cosine", **kw)
    np.testing.assert_array_equal(plain.trajectories[name], cosine.trajectories[name])
    warm = optviz.run("rosenbrock", {name: {"lr": 1e-3, "warmup": 10}}, **kw)
    assert not np.allclose(warm.trajectories[name][2], plain.trajectories[name][2])


def test_lion_moves_every_coordinate_by_lr():
    """A hand check: Lion's step is ±lr in every coordinate (no decay), whatever the gradient."""
    res = optviz.run("rosenbrock", {"Lion": {"lr": 0.01}}, starts=[[-1.5, 2.0], [0.5, -0.5]], steps=20,
                     rates="article")
    steps = np.abs(np.diff(res.trajectories["Lion"], axis=0))
    np.testing.assert_allclose(steps, 0.01, rtol=1e-12)


def test_radam_starts_as_momentum():
    """RAdam's first steps (ρ_t < 5 for t ≤ 5 with β2 = 0.999) are SGD with bias-corrected momentum:
    the first is exactly -lr·g."""
    res = optviz.run("quartic", {"RAdam": {"lr": 0.01}}, starts=[[0.4]], steps=1, rates="article")
    g = 4.0 * (0.4**3 - 0.4**2 / 2 - 17 * 0.4 / 4 - 15 / 8)
    assert res.trajectories["RAdam"][1, 0, 0] == pytest.approx(0.4 - 0.01 * g, rel=1e-13)


# ---------------------------------------------------------------------- the lessons' notes
def test_lesson_lion_vs_adam_holds_what_its_note_says():
    from optviz.scene import lessons

    res = lessons.get("lion-vs-adam").scene.run()
    err = res.errors("distance")
    lion, adam = err["Lion"][-1], err["Adam"][-1]
    assert (lion > 1e-3).all() and (adam <= 1e-3).all()  # 0 of 16 against all 16
    assert np.median(lion) == pytest.approx(0.027, abs=5e-4)  # ≈ lr = 0.03
    np.testing.assert_allclose(np.abs(np.diff(res.trajectories["Lion"], axis=0)), 0.03, rtol=1e-9)


def test_lesson_schedule_free_vs_cosine_holds_what_its_note_says():
    from optviz.scene import lessons

    scene = lessons.get("schedule-free-cosine").scene
    assert scene.schedule == "cosine" and scene.noise == 3.0
    err = scene.run().errors("distance")
    adamw, free = np.median(err["AdamW"], axis=1), np.median(err["ScheduleFreeAdamW"], axis=1)
    lead = free[1:] < adamw[1:]  # steps 1..300
    assert lead.sum() == 283 and not lead[:14].any() and lead[14:].sum() == 300 - 14 - 3  # "from step 15 on"
    assert round(free[-1], 3) == 0.008 and round(adamw[-1], 3) == 0.009

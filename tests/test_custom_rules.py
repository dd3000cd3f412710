"""Your own optimizers (issue 20): Python rules (``optviz.rule``), typed rules (text, checked and
never run), scenes that carry them, the CLI's --rules/--rule-text, and ``optviz conformance``.

References that share no code with the rules they check: the built-in Adam (a registry rule),
optax's ``lion`` (a library), and a rule broken on purpose at one coordinate of one step.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import pytest

import optviz
from optviz import cli
from optviz.optimizers import REGISTRY, Rule, custom, typed
from optviz.scene.model import Scene, Starts

#: Adam as typed text, written as the built-in computes it (the average as avg + (1 − β)(x − avg)).
ADAM_TEXT = """
alpha = 1e-3 in [1e-7, 10]
beta1 = 0.9 in [0, 0.99999]
beta2 = 0.999 in [0, 0.99999]
eps = 1e-8 in [0, 1] log
a = alpha*sqrt(1 - beta2**t)/(1 - beta1**t)   # once per step
m = m + (1 - beta1)*(g - m)
v = v + (1 - beta2)*(g*g - v)
x = x - a*m/sqrt(v + eps)
"""
#: Adam as in the paper's Algorithm 1 (β m + (1 − β) g): other rounding, the same maths.
ADAM_TEXTBOOK = """
alpha = 1e-3 in [1e-7, 10]; beta1 = 0.9 in [0, 0.99999]; beta2 = 0.999 in [0, 0.99999]
eps = 1e-8 in [0, 1]
m = beta1*m + (1 - beta1)*g; v = beta2*v + (1 - beta2)*g^2
x = x - alpha*sqrt(1 - beta2^t)/(1 - beta1^t)*m/sqrt(v + eps)
"""
STARTS = np.array([[-1.5, 2.0], [0.5, -0.5], [1.8, 1.1], [-0.3, -1.7], [2.2, 0.2]])


def python_adam() -> None:
    from functions.elementwise import sqrt

    def rate(t, alpha, beta1, beta2):
        return alpha * sqrt(1 - beta2**t) / (1 - beta1**t)

    @optviz.rule(state=("m", "v"), per_step={"alpha_t": rate},
                 hyperparams={"alpha": (1e-3, 1e-7, 10), "beta1": (0.9, 0, 0.99999),
                              "beta2": (0.999, 0, 0.99999), "eps": (1e-8, 0, 1, "log")})
    def PyAdam(g, m, v, alpha_t, beta1, beta2, eps):
        r"""Adam, as a Python rule: :math:`\Delta_t = -\alpha_t m_t/\sqrt{v_t + \varepsilon}`."""
        m = m + (1 - beta1) * (g - m)
        v = v + (1 - beta2) * (g * g - v)
        return -alpha_t * m / sqrt(v + eps), m, v


@pytest.fixture(scope="module")
def rules():
    typed.register_text("TypedAdam", ADAM_TEXT)
    typed.register_text("TextbookAdam", ADAM_TEXTBOOK)
    python_adam()
    yield
    for name in ("TypedAdam", "TextbookAdam", "PyAdam"):
        custom.unregister(name)


def test_typed_and_python_adam_equal_builtin_adam_on_both_paths(rules):
    hp = {"alpha": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-8}
    chosen = {name: hp for name in ("TypedAdam", "PyAdam")}
    ref = optviz.run("rosenbrock", {"Adam": hp}, STARTS, 200, fused=False, rates="article",
                     schedule="cosine").trajectories["Adam"]  # (its fast path equals it: test_fast)
    paths = {fused: optviz.run("rosenbrock", chosen, STARTS, 200, fused=fused, rates="article",
                               schedule="cosine") for fused in (False, True)}
    for fused, res in paths.items():
        assert res.path == ("fast" if fused else "reference")
        for name in ("TypedAdam", "PyAdam"):  # the same rounding: the same bits
            assert np.array_equal(res.trajectories[name], ref), (fused, name)
    textbook = optviz.run("rosenbrock", {"TextbookAdam": hp}, STARTS, 200, fused=False, rates="article",
                          schedule="cosine")  # (its kernel is the others' in all but rounding)
    assert np.max(np.abs(textbook.trajectories["TextbookAdam"] - ref)) <= 1e-12


def test_typed_rule_state_is_named_and_recorded(rules):
    res = optviz.run("rosenbrock", ["TypedAdam"], STARTS[:2], 5, record_state=True, fused=False)
    assert REGISTRY["TypedAdam"].maths.fields == ("m", "v")
    assert [s.outputs for s in REGISTRY["TypedAdam"].maths.per_step] == [("a",)]
    assert "x = x - a*m/sqrt(v + eps)" in REGISTRY["TypedAdam"].doc  # shown where a built-in's formula is
    assert set(res.states["TypedAdam"]) >= {"m", "v"}


def test_typed_lion_equals_optax_lion():
    optax = pytest.importorskip("optax")
    jnp = pytest.importorskip("jax.numpy")
    import jax

    jax.config.update("jax_enable_x64", True)
    typed.register_text("MyLion", typed.EXAMPLES["MyLion"])
    try:
        hp = {"lr": 0.02, "b1": 0.9, "b2": 0.99, "wd": 0.1}
        res = optviz.run("rosenbrock", {"MyLion": hp}, STARTS, 60, fused=False, rates="article")
        W = res.trajectories["MyLion"]
        fn = res.function
        tx = optax.lion(learning_rate=hp["lr"], b1=hp["b1"], b2=hp["b2"], weight_decay=hp["wd"])
        update = jax.jit(jax.vmap(tx.update))  # every start at once, each its own parameter vector
        state = jax.vmap(tx.init)(jnp.asarray(W[0]))
        for t in range(1, W.shape[0]):  # teacher-forced: optax steps from optviz's positions
            u, state = update(jnp.asarray(fn.grad(W[t - 1])), state, jnp.asarray(W[t - 1]))
            np.testing.assert_allclose(W[t] - W[t - 1], np.asarray(u), rtol=1e-12, atol=1e-15)
    finally:
        custom.unregister("MyLion")


def test_typed_look_ahead_and_initial_state_equal_the_builtins_on_both_paths():
    """``grad_at`` (the page's Nesterov example against NAG; schedule-free SGD against its built-in)
    and ``init`` from a hyperparameter (a typed Yogi against the built-in Yogi)."""
    yogi = """lr = 0.01 in [1e-7, 10]; beta1 = 0.9 in [0, 0.99999]; beta2 = 0.999 in [0, 0.99999]
    eps = 1e-3 in [0, 1] log; v0 = 1e-6 in [0, 1] log
    init m = v0; init v = v0          # both moments start at v0
    lr_m = lr/(1 - beta1**t); c2 = 1/sqrt(1 - beta2**t)
    m = m + (1 - beta1)*(g - m); v = v - (1 - beta2)*sign(v - g*g)*(g*g)
    x = x - lr_m*m/(sqrt(v)*c2 + eps)"""
    typed.register_text("MyNesterov", typed.EXAMPLES["MyNesterov"])
    typed.register_text("MyScheduleFree", typed.EXAMPLES["MyScheduleFree"])
    typed.register_text("TypedYogi", yogi)
    pairs = {("NAG", "MyNesterov"): {"eta": 0.002, "mu": 0.8},
             ("Yogi", "TypedYogi"): {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "eps": 1e-3, "v0": 0.5}}
    try:
        assert REGISTRY["MyNesterov"].needs == {"lookahead"}
        assert REGISTRY["MyScheduleFree"].maths.init == {"z": "w"}
        for fused in (False, True):
            opts = {name: hp for pair, hp in pairs.items() for name in pair}
            opts.update(ScheduleFreeSGD={"lr": 0.002, "momentum": 0.9},
                        MyScheduleFree={"lr": 0.002, "beta": 0.9})
            res = optviz.run("rosenbrock", opts, STARTS, 150, fused=fused, rates="article", noise=0.5, seed=3)
            assert res.path == ("fast" if fused else "reference")
            for a, b in [*pairs, ("ScheduleFreeSGD", "MyScheduleFree")]:
                assert np.max(np.abs(res.trajectories[a] - res.trajectories[b])) <= 1e-12, (fused, b)
    finally:
        for name in ("MyNesterov", "MyScheduleFree", "TypedYogi"):
            custom.unregister(name)


def test_a_typed_rule_with_initial_state_equals_its_python_twin_on_both_paths():
    text = """lr = 0.02 in [1e-6, 1]; pull = 0.1 in [0, 1]
    init z = x       # an anchor at the start, never assigned: a constant of each start
    init s = 0.5
    init c = pull/3
    s = s + 0.1*(1 - s)
    x = x - (lr*s*g + c*(x - z))"""

    def twin(g, w, z, s, c, lr):
        s = s + 0.1 * (1 - s)
        return -(lr * s * g + c * (w - z)), z, s, c

    typed.register_text("Anchored", text)
    optviz.rule("PyAnchored", twin, state={"z": "w", "s": 0.5, "c": lambda pull: pull / 3},
                hyperparams={"lr": (0.02, 1e-6, 1), "pull": (0.1, 0, 1)})
    try:
        assert REGISTRY["Anchored"].maths.fields == ("s", "c", "z")
        hp = {"lr": 0.01, "pull": 0.2}
        for fused in (False, True):
            res = optviz.run("rosenbrock", {"Anchored": hp, "PyAnchored": hp}, STARTS, 100, fused=fused,
                             rates="article")
            assert np.array_equal(res.trajectories["Anchored"], res.trajectories["PyAnchored"]), fused
        first = optviz.run("rosenbrock", {"Anchored": hp}, STARTS[:1], 1, fused=False, record_state=True)
        assert first.states["Anchored"]["z"][0].tolist() == [STARTS[0].tolist()]
        assert first.states["Anchored"]["c"][0].tolist() == [[0.2 / 3, 0.2 / 3]]
    finally:
        custom.unregister("Anchored")
        custom.unregister("PyAnchored")


def test_norm_and_dot_are_per_point_sums_on_both_paths():
    text = "lr = 0.05 in [1e-6, 1]; c = 1e-5 in [0, 1]\nx = x - lr*g/(norm(g) + 1e-12) - c*dot(x, g)*x"
    typed.register_text("NormSGD", text)
    optviz.rule("PyNormSGD", lambda g, w, g2, xg, lr, c: -lr * g / (g2**0.5 + 1e-12) - c * xg * w,
                hyperparams={"lr": (0.05, 1e-6, 1), "c": (1e-5, 0, 1)},
                reduce={"g2": lambda g: g * g, "xg": lambda w, g: w * g})
    try:
        starts = np.random.default_rng(2).uniform(-1, 1, (6, 3))
        ref = optviz.run("rosenbrock", ["NormSGD", "PyNormSGD"], starts, 40, fused=False)
        fast = optviz.run("rosenbrock", ["NormSGD", "PyNormSGD"], starts, 40, fused=True)
        assert np.all(ref.diverged_step["NormSGD"] < 0)
        W = ref.trajectories["NormSGD"]
        g = np.stack([ref.function.grad(w) for w in W[:-1]])
        expect = (-0.05 * g / (np.linalg.norm(g, axis=2, keepdims=True) + 1e-12)
                  - 1e-5 * np.sum(W[:-1] * g, axis=2, keepdims=True) * W[:-1])
        np.testing.assert_allclose(np.diff(W, axis=0), expect, rtol=1e-12, atol=1e-15)
        for name in ("NormSGD", "PyNormSGD"):
            assert np.array_equal(fast.trajectories[name], ref.trajectories[name])
        assert np.max(np.abs(ref.trajectories["PyNormSGD"] - W)) <= 1e-12
    finally:
        custom.unregister("NormSGD")
        custom.unregister("PyNormSGD")


def test_examples_register_and_race():
    for name, text in typed.EXAMPLES.items():
        typed.register_text(name, text)
    try:
        res = optviz.run("himmelblau", list(typed.EXAMPLES), STARTS, 50, fused=False)
        for name in typed.EXAMPLES:
            assert np.all(np.isfinite(res.trajectories[name]))
        assert REGISTRY["AdamMax"].maths.fields == ("m", "v", "vmax")
    finally:
        for name in typed.EXAMPLES:
            custom.unregister(name)


# ---------------------------------------------------------------------- refusals
SENTINEL = Path("/tmp/optviz-typed-rule-ran")

#: (text, a phrase of the refusal)
HOSTILE = [
    ("x = __import__('os').system('touch /tmp/optviz-typed-rule-ran')", "only the listed functions"),
    ("x = x - g.__class__", "attribute access"),
    ("x = [g for g in ().__class__.__bases__]", "comprehensions"),
    ("x = lambda: 0", "lambda"),
    ("x = x - 'g'", "text (strings)"),
    ("x = x - g[0]", "subscripts"),
    ("import os; x = x - g", "expected name = formula"),
    ("def f(): pass", "expected name = formula"),
    ("x = x - g; update = 1", "reserved"),
    ("x = x - lr*g", "unknown name 'lr'"),
    ("lr = 1 in [2, 3]\nx = x - lr*g", "low <= default <= high"),
    ("lr = 1 in [0, 3]\nlr = 2 in [0, 3]\nx = x - lr*g", "declared twice"),
    ("m = 2*m", "never assigns x"),
    ("x = x - g**100000", "too large"),
    ("x = x - 1e400*g", "too large"),
    ("x = x - " + "sqrt(" * 40 + "g" + ")" * 40, "nested too deeply"),
    ("x = x - g**g**g**g**g**g**g**g**g**g", "powers are nested too deeply"),
    ("x = x - " + "+".join(["g"] * 2000), "too long"),
    ("x = x - where(g, 1, 2)", "comparison"),
    ("x = x - (g > 0)", "comparison"),
    ("x = x - norm(norm(g))*g", "cannot be nested"),
    ("m = m + g; x = x - norm(m)*g", "assigned on an earlier line"),
    ("x = x - g; y = 1; " * 40, "statements"),
    ("x == x - g", "expected name = formula"),
    ("x = x -", "syntax error"),
    ("", "type a rule"),
    ("w = 1; x = x - g", "reserved"),
    ("sqrt = 1; x = x - g", "a function"),
    ("x = x - g\0", "NUL"),
    # look-ahead (grad_at) and initial state (init): the same whitelist, their own refusals
    ("grad_at = x - 0.1*g; x = x - g", "cannot read g"),
    ("grad_at = __import__('os').system('touch /tmp/optviz-typed-rule-ran'); x = x - g",
     "only the listed functions"),
    ("x = x - g; grad_at = x + 1", "comes before the assignments"),
    ("grad_at = x; grad_at = x; x = x - g", "given twice"),
    ("grad_at = x + norm(x); x = x - g", "norm(...) and dot(...) are not available"),
    ("grad_at = x +* 2; x = x - g", "syntax error at column"),
    ("init z = __import__('os').system('touch /tmp/optviz-typed-rule-ran'); x = x - z*g",
     "only the listed functions"),
    ("init z = g; x = x - z*g", "unknown name 'g' at column 10"),
    ("init z = x + 1; x = x - z*g", "x itself, or a formula of numbers and hyperparameters"),
    ("init z = 1e400; x = x - z*g", "too large"),
    ("init z = 1; x = x - g", "z is never read"),
    ("init z = 1; z = 2; x = x - z*g", "assigned before it is read"),
    ("x = x - z*g; init z = 1; z = z", "before the assignments"),
    ("init x = 1; x = x - g", "x starts at the start point"),
    ("init z = 1; init z = 2; x = x - z*g", "init z is given twice"),
    ("init z = 0.5 in [0, 1]; x = x - z*g", "has no range"),
    ("init = 1; x = x - g", "reserved"),
]


@pytest.mark.parametrize("text,phrase", HOSTILE, ids=[h[0][:30] for h in HOSTILE])
def test_hostile_and_malformed_typed_rules_are_refused_fast(text, phrase):
    SENTINEL.unlink(missing_ok=True)
    before = dict(REGISTRY)
    start = time.perf_counter()
    with pytest.raises(ValueError) as info:
        typed.register_text("Hostile", text)
    assert time.perf_counter() - start < 1.0
    assert phrase in str(info.value)
    assert len(str(info.value)) < 600
    assert not SENTINEL.exists()
    assert REGISTRY == before  # nothing registered


def test_a_refusal_says_the_line_and_column():
    with pytest.raises(ValueError, match=r"line 3 \('x = x - lr\*gg'\): unknown name 'gg' \(did you mean "
                                         r"g\?\) at column 12"):
        typed.register_text("Mine", "# my rule\nlr = 0.1 in [0, 1]\nx = x - lr*gg")
    with pytest.raises(ValueError, match=r"line 2 \('grad_at = x \+ mu\*dd'\): unknown name 'dd' \(did you "
                                         r"mean d\?\) at column 18"):
        typed.register_text("Mine", "mu = 0.9 in [0, 1]\ngrad_at = x + mu*dd\nd = mu*d - g\nx = x + d")


def test_builtin_names_are_not_taken():
    with pytest.raises(ValueError, match="Adam is a built-in optimizer"):
        typed.register_text("adam", "x = x - g")
    with pytest.raises(ValueError, match="built-in"):
        optviz.rule("SGD", lambda g, eta: -eta * g, hyperparams={"eta": (0.1, 0, 1)})


@pytest.mark.parametrize("kwargs,phrase", [
    ({"update": lambda g, m, eta: (-eta * m, m)}, "asks for 'm'"),
    ({"update": lambda g, eta: (-eta * g, g), "state": ()}, "the update is 2 values"),
    ({"update": lambda g, etta: -etta * g}, "did you mean eta?"),
    ({"update": lambda g, eta: -eta * g.sum()}, "has shape ()"),
    ({"update": lambda g, eta: -eta * g / 0.0}, "update is not finite"),
    ({"update": lambda g, m, eta: (-eta * g, m / 0.0), "state": ("m",)}, "state field 'm' is not finite"),
    ({"update": lambda g, eta: 1 / 0}, "ZeroDivisionError"),
    ({"update": lambda g, eta: -eta * g, "state": ("g",)}, "is a quantity the engine gives"),
    ({"update": lambda g, eta: -eta * g, "hyperparams": {"eta": (2, 0, 1)}}, "low <= default <= high"),
    ({"update": lambda g, m, eta: (-eta * g, m), "state": {"m": lambda w: w}}, "hyperparameters only (eta)"),
])
def test_python_rules_are_checked_by_a_dry_run(kwargs, phrase):
    kw = {"hyperparams": {"eta": (0.1, 0, 1)}, **kwargs}
    before = dict(REGISTRY)
    with pytest.raises(ValueError) as info:
        optviz.rule("Mine", **kw)
    assert phrase in str(info.value) and str(info.value).startswith("Mine")
    assert REGISTRY == before


# ---------------------------------------------------------------------- scenes, CLI, conformance
def test_a_scene_with_a_typed_rule_round_trips_to_identical_trajectories():
    text = typed.EXAMPLES["SignSGD"]
    scene = Scene(function={"name": "himmelblau"}, optimizers={"Adam": {}, "SignSGD": {"lr": 0.05}},
                  starts=Starts.grid(3), steps=60, rules={"SignSGD": text})
    try:
        from_json = Scene.from_json(scene.to_json())
        from_url = Scene.from_query(scene.to_query())
        assert from_json == scene == from_url and from_url.rules == {"SignSGD": text}
        assert json.loads(scene.to_json())["rules"] == {"SignSGD": text}
        ref = scene.run(fused=False).trajectories["SignSGD"]
        for other in (from_json, from_url):
            assert np.array_equal(other.run(fused=False).trajectories["SignSGD"], ref)
        with pytest.raises(ValueError, match=r"rules\.SignSGD: line 1"):
            Scene.from_dict({**scene.to_dict(), "rules": {"SignSGD": "x = x - lr*g"}})
    finally:
        custom.unregister("SignSGD")


def test_cli_rule_text_and_rules_file(tmp_path, capsys):
    rules_file = tmp_path / "my_rules.py"
    rules_file.write_text(
        "import optviz\n"
        "optviz.rule('HalfSGD', lambda g, eta: -0.5 * eta * g, hyperparams={'eta': (0.01, 0, 1)})\n")
    scene_path = tmp_path / "scene.json"
    try:
        code = cli.main(["run", "-f", "booth", "-o", "SGD,HalfSGD", "--rules", str(rules_file), "--grid", "2",
                         "--steps", "20", "-q", "--json", "--rule-text",
                         "Sign: lr = 0.01 in [1e-6, 1]; x = x - lr*sign(g)", "--save-scene", str(scene_path)])
        out = capsys.readouterr().out
        assert code == 0
        assert {r["optimizer"] for r in json.loads(out)["results"]} == {"SGD", "HalfSGD", "Sign"}
        saved = json.loads(scene_path.read_text())
        assert saved["rules"] == {"Sign": "lr = 0.01 in [1e-6, 1]; x = x - lr*sign(g)"}
    finally:
        custom.unregister("HalfSGD")
        custom.unregister("Sign")


def test_conformance_names_the_step_and_coordinate_of_an_injected_difference():
    adam = REGISTRY["Adam"]

    def broken(g, state, w, hp, ctx):
        delta, state = adam.rule.update(g, state, w, hp, ctx)
        if ctx.t == 7:
            delta = delta.copy()
            delta[3, 1] *= 1 + 1e-7
        return delta, state

    spec = dataclasses.replace(adam, name="Broken", rule=Rule(adam.rule.init, broken))
    found = optviz.conformance("Adam", spec, "rosenbrock", STARTS, 50)
    assert (found.agree, found.step, found.start, found.coordinate) == (False, 7, 3, 1)
    assert "differ first at step 7, start 3, coordinate 1" in found.text()
    assert optviz.conformance("Adam", "Adam", "rosenbrock", STARTS, 50).agree


def test_cli_conformance_exit_status(capsys):
    assert cli.main(["conformance", "Adam", "Adam", "--steps", "20"]) == 0
    assert "agree" in capsys.readouterr().out
    assert cli.main(["conformance", "Adam", "AMSGrad", "--steps", "20"]) == 1
    assert "differ first at step 1" in capsys.readouterr().out
    assert cli.main(["conformance", "Adam", "Nobody"]) == 2


def test_the_page_races_a_typed_rule_and_refuses_a_bad_one():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=240)
    at.session_state["view"] = "Your own optimizer"
    at.run()
    assert not at.exception
    assert any(c.value.startswith("Checked: state m;") for c in at.caption)  # the Lion example
    # it starts where Lion races (the function's tuned rate): the two run the same numbers
    shown = Scene.from_query({k: at.query_params[k] for k in at.query_params})
    lion = shown.optimizers["Lion"]
    assert dict(shown.optimizers["MyLion"]) == {"lr": lion["lr"], "b1": lion["beta1"], "b2": lion["beta2"],
                                                "wd": lion["weight_decay"]}
    rows = at.dataframe[0].value.set_index("optimizer")  # (its columns: converged, steps, distances, ...)
    assert rows.loc["MyLion"].equals(rows.loc["Lion"])
    assert {s.label for s in at.select_slider} >= {"lr"}  # sliders from the declared ranges
    assert {s.label for s in at.slider} >= {"b1", "b2", "wd"}
    assert any("rules" in c.value for c in at.code)  # the link carries the rule's text
    next(s for s in at.slider if s.label == "b1").set_value(0.8).run()
    linked = Scene.from_query({k: at.query_params[k] for k in at.query_params})  # the address bar
    assert linked.rules == {"MyLion": typed.EXAMPLES["MyLion"]}  # carries the rule, its value, the others
    assert linked.optimizers["MyLion"]["b1"] == 0.8 and {"Adam", "Lion"} <= set(linked.optimizers)
    # checked step by step against its twin (Lion, with b1 as beta1): they agree; against Adam: step 1
    assert any(s.value.startswith("MyLion and Lion agree: 200 steps") for s in at.success), \
        [s.value for s in at.success] + [w.value for w in at.warning]
    next(s for s in at.selectbox if s.key == "own_ref_MyLion").set_value("Adam").run()
    assert any(w.value.startswith("MyLion and Adam differ first at step 1, start 0") for w in at.warning)
    at.session_state["view"] = "Race"
    at.run()
    assert "rules" not in at.query_params  # the race on screen has no typed rule
    at.session_state["view"] = "Your own optimizer"
    at.run()
    text = next(t for t in at.text_area if t.key == "own_text_MyLion")
    text.set_value("lr = 0.01 in [1e-6, 1]\nx = x - lr*sgn(g)").run()
    assert any("unknown function 'sgn' (did you mean sign?) at column 12" in e.value for e in at.error)
    custom.unregister("MyLion")


def test_a_link_with_a_typed_rule_opens_it_in_the_page():
    """The link opens the "Your own optimizer" tab on the rule, its value and its race, and the
    address bar then holds that very link."""
    from streamlit.testing.v1 import AppTest

    text = "lr = 0.01 in [1e-6, 1]\nx = x - lr*sign(g)"
    scene = Scene(function={"name": "himmelblau"}, optimizers={"Adam": {}, "Sign": {"lr": 0.05}},
                  starts=Starts.grid(3), steps=60, rules={"Sign": text})
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=240)
    for key, value in scene.to_query().items():
        at.query_params[key] = value
    at.run()
    assert not at.exception and not at.error
    assert at.session_state["view"] == "Your own optimizer"
    assert [t.value for t in at.text_area if t.key == "own_text_Sign"] == [text]  # the link's text
    assert 0.05 in [s.value for s in at.select_slider]  # and its hyperparameter
    assert "Adam" in next(m.value for m in at.multiselect if m.key == "own_others")
    table = at.dataframe[0].value.to_string()  # the race
    assert "Sign" in table and "Adam" in table
    assert Scene.from_query({k: at.query_params[k] for k in at.query_params}) == scene
    custom.unregister("Sign")


def test_a_batch_carries_its_typed_and_python_rules_to_a_fresh_process(tmp_path):
    """A Dask worker is another process: a batch's typed rules travel with it (as text), its Python
    rules as their spec (functions by value: cloudpickle, as Dask sends them), and both are
    registered there before it runs."""
    import subprocess
    import sys

    cloudpickle = pytest.importorskip("cloudpickle")
    from functions.elementwise import sign
    from optviz.explore.scale import Batch, evaluate

    def half_sign(g, w, a, eta):  # defined here: sent by value
        return -eta * sign(g) - a * w, a * 0.5

    typed.register_text("ShipSign", typed.EXAMPLES["SignSGD"])
    optviz.rule("ShipPy", half_sign, state={"a": lambda eta: eta}, hyperparams={"eta": (0.01, 0, 1)})
    try:
        batch = Batch("booth", {"ShipSign": {}, "ShipPy": {}, "Adam": {}}, STARTS, 20)
        assert batch.rules == {"ShipSign": typed.EXAMPLES["SignSGD"]} and set(batch.specs) == {"ShipPy"}
        here = evaluate(batch)
        (tmp_path / "batch.pkl").write_bytes(cloudpickle.dumps(batch))
    finally:
        custom.unregister("ShipSign")
        custom.unregister("ShipPy")
    code = ("import pickle, sys; from optviz.explore.scale import evaluate; "
            "b = pickle.load(open(sys.argv[1], 'rb')); e = evaluate(b).error; "
            "print(e['ShipSign'].tobytes().hex(), e['ShipPy'].tobytes().hex())")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "batch.pkl")], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert out.split() == [here.error[n].tobytes().hex() for n in ("ShipSign", "ShipPy")]  # the same bits


def test_background_compiles_get_typed_rules_as_text_and_leave_python_rules_here():
    from optviz.engine.fast.warm import recipe
    from optviz.engine.job import make_job

    typed.register_text("WarmSign", typed.EXAMPLES["SignSGD"])
    optviz.rule("WarmPy", lambda g, eta: -eta * g, hyperparams={"eta": (0.1, 0, 1)})
    try:
        job = make_job("booth", ["Adam", "WarmSign"], STARTS, 5)[0]
        assert recipe(job)["rules"] == {"WarmSign": typed.EXAMPLES["SignSGD"]}  # registered in the worker
        assert recipe(make_job("booth", ["WarmPy"], STARTS, 5)[0]) is None  # compiled in this process
    finally:
        custom.unregister("WarmSign")
        custom.unregister("WarmPy")

"""The compiled fast path computes what the readable path computes, for every rule and option.

Every kernel inlines the rule's own stages and the function's own point formulas (one
definition of the maths), and both paths read the same table of per-step values
(:mod:`optviz.engine.steptable`), so the two agree to the last bit; the tests hold them to 1e-12
relative (float64), with the divergence steps exactly equal.

One thing differs by nature: the kernels call libm's ``exp``, ``log``, ``cos``, ... on single
numbers, the readable path NumPy's on arrays, and NumPy's SIMD builds (AVX-512) differ from
libm by an ulp for some arguments (``exp``: ~5 %, ``log``: ~0.2 % here); a few steps of a
noisy or steep run amplify that past 1e-12. The readable runs here therefore take libm's
functions too (:func:`functions.elementwise.libm`): what is compared is the maths, not two
libraries' last bits. (Santa's draws and SantaSSS's ``exp`` are the rules it matters for.)
"""

from __future__ import annotations

import numpy as np
import pytest

import functions
import optviz
from functions.elementwise import libm
from functions.problems import PROBLEMS
from optviz.optimizers import NAMES, REGISTRY
from optviz.scene import lessons as presets

pytest.importorskip("numba")

FUNCTIONS = ("rosenbrock", "quartic", "himmelblau")
HOOKS = {"none": (), "lars": ("lars:threshold=0.5,weight_decay=0.001",), "clip": ("clip:max_norm=5",)}
SCHEDULES = ("constant", "warmup:steps=10+cosine")


def _lr(name: str) -> str:
    return next(h.name for h in REGISTRY[name].hyperparams if h.lr)


#: Rates that move the points visibly on every test function without sending all of them off.
RATES = {
    "SGD": 2e-3, "MSGD": 5e-3, "NAG": 5e-3, "AdaGrad": 0.2, "RMSprop": 1e-2, "AdaDelta": 1.0, "Adam": 0.05,
    "RMSpropGraves": 1e-2, "SMORMS3": 2e-2, "AdaMax": 0.05, "Nadam": 0.05, "Eve": 0.05, "SantaE": 1e-3,
    "SantaSSS": 1e-3, "AMSGrad": 0.1, "AdaBound": 0.05, "AMSBound": 0.05, "CorrectedMomentumSGD": 5e-4,
    "DCASGD": 2e-3, "AdamW": 0.05, "Lion": 0.01, "RAdam": 5e-3, "AdaBelief": 0.05, "Yogi": 0.05, "Adan": 0.05,
    "Rprop": 0.01, "ScheduleFreeSGD": 2e-3, "ScheduleFreeAdamW": 0.05, "Prodigy": 0.5,
}  # fmt: skip


def _starts(fname: str, n: int = 12) -> np.ndarray:
    return optviz.scene.starts.random(functions.get(fname).box, n, seed=4)


def close(actual, desired, **kw) -> None:
    np.testing.assert_allclose(actual, desired, rtol=1e-12, atol=1e-300, **kw)


def assert_same(fast: optviz.Result, ref: optviz.Result) -> None:
    assert fast.path == "fast" and ref.path == "reference"
    for name in ref.names:
        close(fast.trajectories[name], ref.trajectories[name], err_msg=f"{name} positions")
        close(fast.losses[name], ref.losses[name], err_msg=f"{name} losses")
        np.testing.assert_array_equal(fast.diverged_step[name], ref.diverged_step[name])
        if ref.steps_to_tol is not None:
            np.testing.assert_array_equal(fast.steps_to_tol[name], ref.steps_to_tol[name])
        if ref.states is not None:
            for field, want in ref.states[name].items():
                close(fast.states[name][field], want, err_msg=f"{name}.{field}")


def both(*args, **kw) -> tuple[optviz.Result, optviz.Result]:
    fast = optviz.run(*args, fused=True, **kw)
    with libm():
        return fast, optviz.run(*args, fused=False, **kw)


@pytest.fixture(scope="module", autouse=True)
def compiled_kernels():
    """Compile every kernel this module uses first, on a process per core (numba's compiling
    is single-threaded Python work): the tests then load them from the disk cache."""
    from optviz.engine import fast
    from optviz.engine.job import make_job

    def job(function, optimizers, **kw):
        return make_job(function, optimizers, None, 2, **kw)[0]

    jobs = [job(f, [name]) for f in FUNCTIONS for name in NAMES]
    jobs += [job("rosenbrock", ["SGD", "Adam"]), job("himmelblau", ["Adam", "Eve", "NAG"])]
    jobs += [job("himmelblau", ["Adam", "SGD"], tol=1e-3, tol_kind=k) for k in ("distance", "gap")]
    jobs += [job("rosenbrock", ["SGD", "Adam"], noise=0.1, noise_mode=m) for m in ("absolute", "relative")]
    jobs += [job("himmelblau", list(presets.DEFAULT_FIELD), tol=1e-3, tol_kind="distance")]  # page sweeps
    jobs += [job("rosenbrock", ["DCASGD", "NAG"], delay=1),
             job("quartic", ["Adam", "Eve", "SantaSSS"], record_state=True)]
    for fname in (n for n in functions.names() if n not in PROBLEMS):
        fam = functions.families()[fname]
        dim = fam.default_dim if fam.max_dim is not None else 3
        jobs.append(job(functions.get(fname, dim), ["SGD"]))
    fast.compile_many(jobs)


@pytest.mark.parametrize("fname", FUNCTIONS)
@pytest.mark.parametrize("name", NAMES)
def test_fast_equals_reference(name, fname):
    """Every optimizer × 3 functions × {no hook, LARS, clip} × {constant, warm-up + cosine}, and a
    sweep (one rate per start): one kernel per (optimizer, function) serves them all."""
    starts = _starts(fname)
    opts = {name: {_lr(name): RATES[name]}}
    moved = False
    for hooks in HOOKS.values():
        for schedule in SCHEDULES:
            fast, ref = both(fname, opts, starts, 60, seed=3, hooks=hooks, schedule=schedule)
            assert_same(fast, ref)
            moved |= bool(np.abs(ref.trajectories[name][-1] - starts).max() > 1e-3)
    assert moved, "a vacuous comparison: the points did not move"
    sweep = {name: {_lr(name): RATES[name] * np.geomspace(0.1, 10, len(starts))}}
    fast, ref = both(fname, sweep, starts, 60, seed=3, hooks=HOOKS["clip"], schedule=SCHEDULES[1])
    assert_same(fast, ref)
    if name == "SantaE":  # per-point burn-in too: some points explore throughout, some never
        sweep[name]["burnin"] = np.arange(len(starts)) * 10.0
        assert_same(*both(fname, sweep, starts, 60, seed=3))


def test_fast_path_really_diverges_and_freezes():
    """A rate that sends most points off: the fast loop's fix-up freezes them where the readable
    path does, and the rest carry on (per block, some blocks clean, some not)."""
    starts = optviz.scene.starts.random([[-2, 2], [-1, 3]], 300, seed=2)
    fast, ref = both("rosenbrock", {"SGD": {"eta": 0.01}, "Adam": {"alpha": 0.5}}, starts, 80)
    assert 0 < ref.diverged["SGD"].sum() < 300
    assert_same(fast, ref)


@pytest.mark.parametrize("record_every", [1, 7, 80])
def test_fast_recording_and_final_only(record_every):
    starts = _starts("himmelblau", 70)
    assert_same(*both("himmelblau", ["Adam", "Eve", "NAG"], starts, 80, record_every=record_every))


@pytest.mark.parametrize("kind", ["distance", "gap"])
def test_fast_steps_to_tolerance(kind):
    starts = _starts("himmelblau", 40)
    fast, ref = both("himmelblau", {"Adam": {"alpha": 0.1}, "SGD": {"eta": 0.01}}, starts, 200, tol=1e-3,
                     tol_kind=kind, record_every=200)
    assert (ref.steps_to_tol["Adam"] > 0).any()
    assert_same(fast, ref)


@pytest.mark.parametrize("mode", ["absolute", "relative"])
def test_fast_gradient_noise(mode):
    starts = _starts("rosenbrock", 20)
    assert_same(*both("rosenbrock", {"SGD": {"eta": 1e-3}, "Adam": {"alpha": 0.05}}, starts, 50, noise=0.5,
                      noise_mode=mode, seed=np.arange(20)))


def test_fast_delay_and_dcasgd():
    starts = _starts("rosenbrock", 20)
    assert_same(*both("rosenbrock", {"DCASGD": {"learning_rate": 1e-3}, "NAG": {"eta": 5e-3}}, starts, 60,
                      delay=3))


def test_fast_records_state():
    starts = _starts("quartic", 6)
    assert_same(*both("quartic", {"Adam": {"alpha": 0.1}, "Eve": {"alpha": 0.1}, "SantaSSS": {}}, starts, 30,
                      record_state=True, record_every=3))


@pytest.mark.parametrize("fname", sorted(n for n in functions.names() if n not in PROBLEMS))  # (until wide)
def test_fast_every_function(fname):
    """Every test function's point formulas in a kernel: values and gradients along a run."""
    fam = functions.families()[fname]
    dim = fam.default_dim if fam.max_dim is not None else 3
    fn = functions.get(fname, dim)
    starts = optviz.scene.starts.random(fn.box, 10, seed=1)
    fast, ref = both(fn, {"SGD": {"eta": 1e-4}}, starts, 20, hooks=["weight_decay:rate=0.01"])
    assert_same(fast, ref)


def test_auto_path_for_big_runs_and_fused_true_errors():
    with pytest.raises(ValueError, match="float32"):
        optviz.run("rosenbrock", ["Adam"], [[0.0, 0.0]], 5, dtype="float32", fused=True)
    import array_api_strict

    with pytest.raises(ValueError, match="NumPy or CuPy"):
        optviz.run("rosenbrock", ["Adam"], [[0.0, 0.0]], 5, backend=array_api_strict, fused=True)
    small = optviz.run("rosenbrock", ["Adam"], [[0.0, 0.0]], 5, fused=False)
    assert small.path == "reference"


def test_threads_split_the_points_and_change_nothing():
    starts = optviz.scene.starts.random([[-2, 2], [-1, 3]], 1000, seed=5)
    opts = {"Adam": {"alpha": np.geomspace(1e-3, 1.0, 1000)}, "SantaE": {}}
    one = optviz.run("rosenbrock", opts, starts, 30, fused=True, threads=1)
    three = optviz.run("rosenbrock", opts, starts, 30, fused=True, threads=3)
    for n in opts:
        np.testing.assert_array_equal(one.trajectories[n], three.trajectories[n])
        np.testing.assert_array_equal(one.diverged_step[n], three.diverged_step[n])


def test_the_page_on_the_compiled_kernels_is_the_page_on_the_readable_path(monkeypatch):
    """Outside the suite the dashboard takes the compiled kernels once they are on disk: the
    race it sends (the scene's run and every slider's sweep) is then the same, number for
    number, as on the readable path."""
    import streamlit as st
    from test_app import fresh, race  # (the dashboard's AppTest helpers)

    from optviz.dashboard import compute
    from optviz.engine import fast

    kernel_runs = []
    prepare = fast.prepare
    monkeypatch.setattr(
        fast, "prepare", lambda job, *rest: kernel_runs.append(job) or prepare(job, *rest)
    )

    def page(mode: str) -> dict:
        monkeypatch.setenv("OPTVIZ_FAST", mode)
        compute._runs().runs.clear()
        st.cache_data.clear()
        kernel_runs.clear()
        data = race(fresh(live_sweeps="always"))
        return data, len(kernel_runs)

    (compiled, on_kernels), (readable, off_kernels) = page("on"), page("off")
    assert on_kernels >= 1 + len(presets.DEFAULT_FIELD) and off_kernels == 0  # the scene, each sweep
    assert compiled["sweeps"] is True and readable["sweeps"] is True
    assert compiled == readable


def test_libm_gives_arrays_the_functions_the_kernels_call():
    """Under ``libm()`` NumPy arrays take Python's ``math`` (libm) element by element, the
    functions the kernels call; outside it NumPy's own; the switch is restored on errors too."""
    import math

    from functions import elementwise as E

    x = np.random.default_rng(0).uniform(-5.0, 5.0, 4000)
    pairs = [(E.exp, math.exp, x), (E.log, math.log, np.abs(x) + 1e-3), (E.cos, math.cos, x),
             (E.sin, math.sin, x), (E.tanh, math.tanh, x), (E.arctan, math.atan, x),
             (E.log1p, math.log1p, np.abs(x)), (E.expm1, math.expm1, x)]
    with libm():
        for fn, scalar, v in pairs:
            np.testing.assert_array_equal(fn(v), [scalar(a) for a in v], err_msg=fn.__name__)
        assert E.exp(np.array([1e6]))[0] == np.inf and np.isnan(E.log(np.array([-1.0]))[0])
        assert E.exp(v.astype(np.float32)).dtype == np.float32
    with pytest.raises(RuntimeError), libm():
        raise RuntimeError
    assert not E._LIBM[0]
    np.testing.assert_array_equal(E.exp(x), np.exp(x))


def test_the_kernels_arguments_are_listed_once():
    """Both generated kernels take the arguments :mod:`optviz.engine.fast.signature` lists, in its
    order; the CUDA type signature has a type for each; ``prm`` is unpacked by its names."""
    import ast

    from numba.core import sigutils

    from optviz.engine.fast import gpu, kernels, signature
    from optviz.engine.job import make_job

    job = make_job("himmelblau", ["Adam"], None, 2, noise=0.1, delay=1, tol=1e-3, record_state=True)[0]
    keyed = kernels.specs(job)[0]
    for text, target in ((keyed.source, signature.CPU), (gpu.source(keyed.spec), signature.GPU)):
        kernel = next(n for n in ast.parse(text).body
                      if isinstance(n, ast.FunctionDef) and n.name == "kernel")
        assert [a.arg for a in kernel.args.args] == signature.params(target).split(", ")
        assert signature.unpack_prm() in text
    types, _ = sigutils.normalize_signature(signature.cuda_signature())
    assert len(types) == len(signature.params(signature.GPU).split(", "))
    with pytest.raises(ValueError, match="prm takes exactly"):
        signature.prm(bound=1.0)

"""The CUDA kernels (:mod:`optviz.engine.fast.gpu`) compute what the readable path computes.

No GPU is needed: the generated kernels run on numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``,
in a subprocess, since numba reads it at import), which executes the very source numba-cuda
compiles for the device, thread by thread. They are held to the readable path (with libm's
functions, as in ``test_fast``) to 1e-12 for every rule × 3 functions × {no hook, LARS, clip} ×
{constant, warmup+cosine}, sweeps, noise, delay, tolerances and recorded state. Where numba-cuda
and its NVVM are installed (``pip install ".[gpu]"``), every kernel is also compiled to PTX for
an H100 (compute capability 9.0): the check that the maths types and compiles for the device.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ("rosenbrock", "quartic", "himmelblau")
HOOKS = {"none": (), "lars": ("lars:threshold=0.5,weight_decay=0.001",), "clip": ("clip:max_norm=5",)}
SCHEDULES = ("constant", "warmup:steps=10+cosine")
OPTIONS = {
    "noise-delay-distance-state": dict(hooks=["clip:max_norm=5", "weight_decay"], noise=0.3, delay=2,
                                       tol=1e-2, record_state=True, record_every=4),
    "relative-noise-gap": dict(noise=0.2, noise_mode="relative", tol=1e-3, tol_kind="gap", record_every=30),
}


def _cases() -> dict[str, dict]:
    """Every run the simulator steps: (function, optimizers, starts' function, options)."""
    from optviz.optimizers import NAMES

    cases = {}
    for fname in FUNCTIONS:
        for hook, hooks in HOOKS.items():
            for schedule in SCHEDULES:
                cases[f"{fname}-{hook}-{schedule}"] = dict(function=fname, optimizers=list(NAMES),
                                                          hooks=list(hooks), schedule=schedule)
    for label, kw in OPTIONS.items():
        cases[label] = dict(function="himmelblau", optimizers=list(NAMES), **kw)
    sweep = {"Adam": {"alpha": "sweep"}, "NAG": {"eta": "sweep"}, "SantaE": {}}
    cases["sweep"] = dict(function="rosenbrock", optimizers=sweep)
    steep = {"SGD": {"eta": 0.05}, "Adam": {"alpha": 2.0}}
    cases["diverging"] = dict(function="rosenbrock", optimizers=steep, bound=1e3)
    # more coordinates than the CPU's block kernel unrolls (the CPU takes its wide kernel there)
    cases["rosenbrock-20d"] = dict(function="rosenbrock", dim=20, optimizers=["Adam", "NAG"], noise=0.1)
    return cases


def _simulate(out: Path) -> None:
    """(In the subprocess, under the simulator.) Each case on the CUDA kernels and on the readable
    path; both saved, with the worst relative difference per optimizer."""
    import functions
    import optviz
    from functions.elementwise import libm
    from optviz.engine.fast import gpu
    from optviz.engine.job import make_job
    from optviz.engine.reference import step_loop
    from optviz.engine.run import _Watch

    assert gpu.simulated() and gpu.status() is None
    report = {}
    for label, case in _cases().items():
        fn = functions.get(case.pop("function"), case.pop("dim", None))
        opts = case.pop("optimizers")
        n = 12
        if isinstance(opts, dict):
            opts = {k: {h: (np.geomspace(1e-3, 1e-1, n) if v == "sweep" else v) for h, v in hp.items()}
                    for k, hp in opts.items()}
        starts = optviz.scene.starts.random(fn.box, n, seed=4) * (0.3 if fn.dim > 2 else 1.0)
        job, *_ = make_job(fn, opts, starts, 30, seed=7, **case)
        runner = gpu.prepare(job)
        runner.run(0, job.n, _Watch())
        fast = runner.outcome()
        with libm(), np.errstate(all="ignore"):
            ref = step_loop(job, np)
        report[label] = {"names": [p.name for p in job.plan]}
        arrays = {"traj": (fast.traj, ref.traj), "loss": (fast.loss, ref.loss), "div": (fast.div, ref.div)}
        if ref.steps_to_tol is not None:
            arrays["stt"] = (fast.steps_to_tol, ref.steps_to_tol)
            arrays["first"] = (fast.first_entry, ref.first_entry)
        for k, fields in enumerate(ref.states or []):
            for f, want in fields.items():
                arrays[f"state-{k}-{f}"] = (fast.states[k][f], want)
        np.savez(out / f"{label}.npz", **{f"{key}-fast": a for key, (a, _) in arrays.items()},
                 **{f"{key}-ref": b for key, (_, b) in arrays.items()})
    (out / "report.json").write_text(json.dumps(report))


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cudasim")
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, __file__, str(out)], env=env, capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out


def _close(actual, desired, msg: str) -> None:
    np.testing.assert_allclose(actual, desired, rtol=1e-12, atol=1e-300, err_msg=msg)


@pytest.mark.parametrize("label", list(_cases()))
def test_cuda_kernels_equal_the_readable_path_on_the_simulator(simulated, label):
    names = json.loads((simulated / "report.json").read_text())[label]["names"]
    data = np.load(simulated / f"{label}.npz")
    keys = sorted({k.rsplit("-", 1)[0] for k in data.files})
    for key in keys:
        fast, ref = data[f"{key}-fast"], data[f"{key}-ref"]
        if key in ("div", "stt", "first"):
            np.testing.assert_array_equal(fast, ref, err_msg=f"{label}: {key}")
        elif key.startswith("state-"):
            _close(fast, ref, f"{label}: {key} of {names[int(key.split('-')[1])]}")
        else:
            for k, name in enumerate(names):
                _close(fast[:, k], ref[:, k], f"{label}: {name} {key}")
    moved = data["traj-ref"][-1] != data["traj-ref"][0]
    assert moved.any(), "the points must move (or the comparison says little)"
    if label == "diverging":
        assert (data["div-ref"] > 0).any() and (data["div-ref"] < 0).any()


def test_the_simulated_kernel_is_the_source_numba_cuda_compiles():
    """What the simulator runs is :func:`optviz.engine.fast.gpu.source`: one thread, the step loop inside."""
    from optviz.engine.fast import gpu, kernels
    from optviz.engine.job import make_job

    job, *_ = make_job("rosenbrock", ["Adam"], [[0.0, 0.0]], 5)
    text = gpu.source(kernels.specs(job)[0].spec)
    assert "p = lo + cuda.grid(1)" in text and "for t in range(1, steps + 1):" in text
    assert "STEP(" in text and "FGRAD(" in text  # the rule's and the function's own formulas
    compile(text, "kernel", "exec")


def _ptx_ready() -> str | None:
    try:
        from numba import cuda
        from numba.cuda.cudadrv import nvvm

        if "numba_cuda" not in cuda.__file__:
            return "the CUDA target of numba-cuda is not installed (pip install '.[gpu]')"
        nvvm.NVVM()
    except Exception as exc:
        return f"no NVVM to compile with ({type(exc).__name__})"
    return None


@pytest.mark.parametrize("fname", FUNCTIONS)
def test_every_cuda_kernel_compiles_to_ptx_for_an_h100(fname):
    why = _ptx_ready()
    if why:
        pytest.skip(why)
    import functions
    import optviz
    from optviz.engine.fast import gpu, kernels
    from optviz.engine.job import make_job
    from optviz.optimizers import NAMES

    starts = optviz.scene.starts.random(functions.get(fname).box, 4, seed=1)
    every = dict(hooks=["lars", "clip", "weight_decay"], noise=0.1, delay=2, tol=1e-2, record_state=True)
    for kw in ({}, every):
        job, *_ = make_job(fname, list(NAMES), starts, 10, seed=3, **kw)
        for k, keyed in enumerate(kernels.specs(job)):
            text = gpu.ptx(keyed, cc=(9, 0))
            assert ".entry" in text and ".target sm_90" in text, f"{NAMES[k]} {kw}"


if __name__ == "__main__":  # the simulator's side of the fixture above
    _simulate(Path(sys.argv[1]))


def test_the_flop_count_of_a_kernel_is_its_hand_count():
    """``benchmarks/flops.py`` counts a point-step's arithmetic by running the kernel's own
    formulas on counting numbers. SGD on the quartic, by hand: the gradient
    4 (x·x·x − x·x/2 − 17x/4 − 15/8) is 10 operations (15/8 is folded), the step −η g is 2, the
    new position w + u is 1."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.flops import flops_per_point_step

    assert flops_per_point_step("quartic", "SGD") == 13
    # Momentum adds its velocity's update per coordinate; every rule counts more than SGD.
    per_rule = {name: flops_per_point_step("rosenbrock", name) for name in ("SGD", "MSGD", "Adam")}
    assert per_rule["SGD"] < per_rule["MSGD"] < per_rule["Adam"]


def test_the_fp64_limit_of_an_h100_is_its_data_sheets(monkeypatch):
    """The benchmark's FP64 limit (SMs × clock × FP64 FMA per SM and clock × 2) read from the
    device's properties: an H100 SXM (132 SMs at 1980 MHz, compute capability 9.0) gives its data
    sheet's 34 TFLOP/s of non-tensor FP64; a consumer card's 1/64 rate is 2 FMA per SM."""
    import types

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_engine

    def card(sms, mhz, cc):
        props = {"multiProcessorCount": sms, "major": cc[0], "minor": cc[1], "clockRate": mhz * 1000}
        runtime = types.SimpleNamespace(getDeviceProperties=lambda i: props, cudaDevAttrClockRate=13,
                                        deviceGetAttribute=lambda attr, i: mhz * 1000)
        cupy = types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime))
        monkeypatch.setitem(sys.modules, "cupy", cupy)
        return bench_engine.fp64_peak()

    assert card(132, 1980, (9, 0))["flops"] / 1e12 == pytest.approx(33.45, abs=0.01)
    assert card(108, 1410, (8, 0))["flops"] / 1e12 == pytest.approx(9.75, abs=0.01)  # A100: 9.7
    assert card(82, 1695, (8, 6))["fma_per_sm_clock"] == 2  # RTX 3090: 1/64 of FP32
    row = bench_engine.arithmetic("SGD", 1e11, {"flops": 28e12})
    assert row["flops_per_point_step"] == 14 and row["fp64_fraction"] == pytest.approx(0.05)

#!/usr/bin/env python
"""Throughput of optviz's engine against the ways a user could otherwise run many optimizers.

Measures point-steps per second (n_points x steps / wall seconds) on 2-D Rosenbrock in float64
for every optimizer (Adam at 1, 100, 10^4 and 10^6 starting points, the others at 100, 10^4 and
10^6), for:

* ``engine``         ``optviz.run(..., fused=True, record_every=steps)``: the compiled fast path,
                     recording only the start and the end (kernels compiled before timing)
* ``engine rec=1``   the same with full recording (``record_every=1``), at 10^4 points
* ``engine readable`` ``optviz.run(..., fused=False)``: the readable reference path (at 10^4)
* ``python loop``    a per-point optimizer object with NumPy scalar math, looping over points and
                     steps as the source article's demo does (large batches: timed on a subset)
* ``torch default``  ``torch.optim`` on one ``(n, 2)`` float64 tensor, analytic gradient written
                     into ``.grad``; the default implementation (on CPU: the single-tensor loop)
* ``torch foreach``  the same with ``foreach=True``
* ``torch fused``    the same with ``fused=True`` (skipped where torch does not support it)
* ``optax jit``      optax under ``jax.jit`` with the steps in ``jax.lax.fori_loop``, x64 on

plus the dashboard's default scene (every optimizer, 4x4 grid, 300 steps, full recording) on both
paths, and the compile cost: a kernel compiled into an empty cache (cold), loaded from the disk
cache by a new process (warm), and a run once loaded (steady).

    python benchmarks/bench_engine.py                # full run (~22 min on 2 cores), writes results-cpu.*
    python benchmarks/bench_engine.py --quick        # smoke run (< 20 s), writes results-quick.*
    python benchmarks/bench_engine.py --optimizers Adam --sizes 10000 --impls engine,torch-fused
    python benchmarks/bench_engine.py --overhead     # per-run overhead: optviz.run wall vs kernel vs optax

See benchmarks/README.md for what each timing includes.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing

import functions  # noqa: E402
import optviz  # noqa: E402

OPTIMIZERS = tuple(optviz.NAMES)
#: optviz hyperparameters (defaults, with rates small enough that no start in the box diverges);
#: every peer is given the same ones under the mappings in torch_runner/optax_runner below.
HYPER = {name: dict(optviz.REGISTRY[name].defaults) for name in OPTIMIZERS}
HYPER["MSGD"]["eta"] = HYPER["NAG"]["eta"] = 1e-3  # lr * curvature < 2 everywhere in the box
HYPER["SGD"]["eta"] = 1e-4
HYPER["CorrectedMomentumSGD"]["lr"] = 1e-4
HYPER["DCASGD"]["learning_rate"] = 1e-4
HYPER["SantaE"]["eta"] = HYPER["SantaSSS"]["eta"] = 1e-4
HYPER["AdaDelta"]["lr"] = 0.1
#: Optimizers with a twin in torch.optim and in optax (same maths, up to where ε sits).
TORCH_TWINS = ("SGD", "MSGD", "NAG", "AdaGrad", "RMSprop", "AdaDelta", "Adam", "AdaMax", "AMSGrad")
OPTAX_TWINS = ("SGD", "MSGD", "NAG", "AdaGrad", "RMSprop", "AdaDelta", "Adam", "AdaMax", "Nadam", "AMSGrad")
SIZES = (1, 100, 10_000, 1_000_000)
OTHER_SIZES = (100, 10_000, 1_000_000)  # every optimizer but Adam
GPU_SIZES = (100, 10_000, 1_000_000, 10_000_000)  # --backend cupy: every optimizer
QUICK_SIZES = (1, 100, 1000)
IMPLS = ("engine", "engine-rec1", "engine-ref", "loop", "torch-default", "torch-foreach", "torch-fused",
         "optax-jit")
LABELS = {
    "engine": "engine",
    "engine-rec1": "engine rec=1",
    "engine-ref": "engine readable",
    "loop": "python loop",
    "torch-default": "torch default",
    "torch-foreach": "torch foreach",
    "torch-fused": "torch fused",
    "optax-jit": "optax jit",
}
PEERS = ("loop", "torch-default", "torch-foreach", "torch-fused", "optax-jit")
LOOP_OPTIMIZERS = ("Adam", "MSGD", "AdaGrad")
ENGINE_MAX_STEPS = optviz.engine.job.MAX_STEPS


# ---------------------------------------------------------------------- the problem
def make_starts(n: int, seed: int = 0) -> np.ndarray:
    """``n`` random starts in Rosenbrock's box; every implementation gets the same ones."""
    return optviz.scene.starts.random(functions.get("rosenbrock").box, n, seed=seed)


# ---------------------------------------------------------------------- (i) per-point loop
def _loop_grad(x: np.ndarray) -> np.ndarray:
    a, b = x[0], x[1]
    t = b - a * a
    return np.array([-400.0 * a * t - 2.0 * (1.0 - a), 200.0 * t])


class LoopAdam:
    """Written as the article writes its optimizers: one object per point, state as NumPy arrays."""

    def __init__(self, alpha=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.alpha, self.beta1, self.beta2, self.eps = alpha, beta1, beta2, eps
        self.m = self.v = None

    def update(self, grad, t):
        if self.m is None:
            self.m = np.zeros_like(grad)
            self.v = np.zeros_like(grad)
        self.m += (1 - self.beta1) * (grad - self.m)
        self.v += (1 - self.beta2) * (grad**2 - self.v)
        alpha_t = self.alpha * np.sqrt(1 - self.beta2**t) / (1 - self.beta1**t)
        return -alpha_t * self.m / np.sqrt(self.v + self.eps)


class LoopMSGD:
    def __init__(self, eta=1e-2, mu=0.9):
        self.eta, self.mu = eta, mu
        self.delta = None

    def update(self, grad, t):
        if self.delta is None:
            self.delta = np.zeros_like(grad)
        self.delta = self.mu * self.delta - (1 - self.mu) * self.eta * grad
        return self.delta


class LoopAdaGrad:
    def __init__(self, eta=1e-3, eps=1e-8):
        self.eta, self.eps = eta, eps
        self.G = None

    def update(self, grad, t):
        if self.G is None:
            self.G = np.zeros_like(grad)
        self.G += grad**2
        return -self.eta * grad / (np.sqrt(self.G) + self.eps)


LOOP_CLASSES = {"Adam": LoopAdam, "MSGD": LoopMSGD, "AdaGrad": LoopAdaGrad}


def loop_runner(name: str) -> Callable[[np.ndarray, int], np.ndarray]:
    cls, hp = LOOP_CLASSES[name], HYPER[name]

    def run(starts: np.ndarray, steps: int) -> np.ndarray:
        out = np.empty_like(starts)
        for i in range(starts.shape[0]):
            opt = cls(**hp)
            x = starts[i].copy()
            for t in range(1, steps + 1):
                x += opt.update(_loop_grad(x), t)
            out[i] = x
        return out

    return run


# ---------------------------------------------------------------------- (ii) torch.optim
def torch_runner(name: str, variant: str, device: str) -> Callable[[np.ndarray, int], np.ndarray]:
    import torch

    hp = HYPER[name]
    kw: dict[str, Any] = {"foreach": {"foreach": True}, "fused": {"fused": True}}.get(variant, {})

    def make(params):
        if name in ("Adam", "AMSGrad"):
            return torch.optim.Adam(params, lr=hp["alpha"], betas=(hp["beta1"], hp["beta2"]),
                                    eps=hp["eps"], amsgrad=name == "AMSGrad", **kw)
        if name == "SGD":
            return torch.optim.SGD(params, lr=hp["eta"], **kw)
        if name in ("MSGD", "NAG"):
            return torch.optim.SGD(params, lr=(1 - hp["mu"]) * hp["eta"], momentum=hp["mu"],
                                   nesterov=name == "NAG", **kw)
        if name == "AdaGrad":
            return torch.optim.Adagrad(params, lr=hp["eta"], eps=hp["eps"], **kw)
        if name == "RMSprop":
            return torch.optim.RMSprop(params, lr=hp["eta"], alpha=hp["rho"], eps=hp["eps"], **kw)
        if name == "AdaDelta":
            return torch.optim.Adadelta(params, lr=hp["lr"], rho=hp["rho"], eps=hp["eps"], **kw)
        if name == "AdaMax":
            return torch.optim.Adamax(params, lr=hp["alpha"], betas=(hp["beta1"], hp["beta2"]),
                                      eps=hp["eps"], **kw)
        raise KeyError(name)

    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    def run(starts: np.ndarray, steps: int) -> np.ndarray:
        with torch.no_grad():
            X = torch.tensor(starts, dtype=torch.float64, device=device).requires_grad_(True)
            X.grad = torch.zeros_like(X)
            opt = make([X])
            W, G = X.detach(), X.grad
            a, b, g0, g1 = W[:, 0], W[:, 1], G[:, 0], G[:, 1]
            t = torch.empty_like(a)
            for _ in range(steps):
                # analytic gradient, in place: t = b - a², g1 = 200 t, g0 = a (2 - 400 t) - 2
                torch.addcmul(b, a, a, value=-1.0, out=t)
                torch.mul(t, 200.0, out=g1)
                torch.mul(t, -400.0, out=g0)
                g0.add_(2.0).mul_(a).sub_(2.0)
                opt.step()
            sync()
            return W.cpu().numpy()

    return run


def torch_check_variant(name: str, variant: str, device: str) -> str | None:
    """``None`` when torch runs this optimizer in this variant here, else why not."""
    try:
        torch_runner(name, variant, device)(make_starts(4), 2)
    except Exception as exc:  # e.g. fused=True unsupported for this optimizer/device
        return f"{type(exc).__name__}: {exc}".splitlines()[0][:160]
    return None


def torch_default_impl(name: str, device: str) -> str:
    """Which implementation torch picks when neither foreach nor fused is given."""
    try:
        import torch
        from torch.optim.optimizer import _default_to_fused_or_foreach

        X = torch.zeros(2, 2, dtype=torch.float64, device=device)
        fused, foreach = _default_to_fused_or_foreach([X], differentiable=False, use_fused=False)
        return "fused" if fused else "foreach" if foreach else "single-tensor for-loop"
    except Exception:
        return "unknown"


# ---------------------------------------------------------------------- (iii) optax + jit
def optax_runner(name: str, device) -> Callable[[np.ndarray, int], np.ndarray]:
    import jax
    import jax.numpy as jnp
    import optax

    hp = HYPER[name]
    if name == "Adam":
        tx = optax.adam(hp["alpha"], b1=hp["beta1"], b2=hp["beta2"], eps=hp["eps"])
    elif name == "AMSGrad":
        tx = optax.amsgrad(hp["alpha"], b1=hp["beta1"], b2=hp["beta2"], eps=hp["eps"])
    elif name == "Nadam":
        tx = optax.nadam(hp["alpha"], b1=hp["mu"], b2=hp["nu"], eps=0.0, eps_root=hp["eps"])
    elif name == "SGD":
        tx = optax.sgd(hp["eta"])
    elif name in ("MSGD", "NAG"):
        tx = optax.sgd((1 - hp["mu"]) * hp["eta"], momentum=hp["mu"], nesterov=name == "NAG")
    elif name == "AdaGrad":
        tx = optax.adagrad(hp["eta"], initial_accumulator_value=0.0, eps=hp["eps"])
    elif name == "RMSprop":
        tx = optax.rmsprop(hp["eta"], decay=hp["rho"], eps=hp["eps"])
    elif name == "AdaDelta":
        tx = optax.adadelta(hp["lr"], rho=hp["rho"], eps=hp["eps"])
    elif name == "AdaMax":
        tx = optax.adamax(hp["alpha"], b1=hp["beta1"], b2=hp["beta2"], eps=hp["eps"])
    else:
        raise KeyError(name)

    def grad(x):
        a, b = x[:, 0], x[:, 1]
        t = b - a * a
        return jnp.stack([-400.0 * a * t - 2.0 * (1.0 - a), 200.0 * t], axis=1)

    @jax.jit
    def solve(x0, steps):  # steps is traced: one compilation per shape, any number of steps
        def body(i, carry):
            x, state = carry
            updates, state = tx.update(grad(x), state, x)
            return optax.apply_updates(x, updates), state

        x, _ = jax.lax.fori_loop(0, steps, body, (x0, tx.init(x0)))
        return x

    def run(starts: np.ndarray, steps: int) -> np.ndarray:
        x = solve(jax.device_put(starts, device), steps)
        return np.asarray(x.block_until_ready())

    return run


# ---------------------------------------------------------------------- the engine
def engine_runner(name: str, backend: str, record_every: int | None = None, fused: bool | None = True,
                  keep: bool = True):
    """``run(starts, steps)`` -> final points; ``keep``: the last Result stays as ``run.last``."""
    def run(starts: np.ndarray, steps: int) -> np.ndarray:
        res = optviz.run("rosenbrock", {name: HYPER[name]}, starts, steps, backend=backend,
                         record_every=record_every or steps, fused=fused, max_seconds=None)
        if keep:
            run.last = res  # type: ignore[attr-defined]
        return res.trajectories[name][-1]

    return run


# ---------------------------------------------------------------------- the card's limit
#: FP64 fused multiply-adds per SM and clock, by compute capability (CUDA C Programming Guide,
#: "Arithmetic Instructions" throughput table); an FMA counts as two operations.
FP64_FMA_PER_SM_CLOCK = {(6, 0): 32, (7, 0): 32, (8, 0): 32, (9, 0): 64, (10, 0): 64,
                         (6, 1): 4, (6, 2): 4}


def fp64_peak() -> dict[str, Any] | None:
    """The GPU's FP64 arithmetic limit (non-tensor-core): SMs x clock x FMA/SM/clock x 2."""
    try:
        import cupy

        rt = cupy.cuda.runtime
        props = rt.getDeviceProperties(0)
        sms = int(props["multiProcessorCount"])
        cc = (int(props["major"]), int(props["minor"]))
        try:
            khz = int(rt.deviceGetAttribute(rt.cudaDevAttrClockRate, 0))
        except Exception:  # older CuPy: the property
            khz = int(props["clockRate"])
    except Exception as exc:
        print(f"FP64 limit: unknown ({type(exc).__name__}: {exc})", flush=True)
        return None
    fma = FP64_FMA_PER_SM_CLOCK.get(cc, 2)
    flops = sms * khz * 1e3 * fma * 2
    return {"flops": flops, "sms": sms, "clock_mhz": khz / 1e3, "compute_capability": f"{cc[0]}.{cc[1]}",
            "fma_per_sm_clock": fma,
            "how": f"{sms} SMs x {khz / 1e3:.0f} MHz x {fma} FP64 FMA/SM/clock x 2, cc {cc[0]}.{cc[1]}"}


def arithmetic(opt: str, rate: float, peak: dict[str, Any]) -> dict[str, Any]:
    """The row's arithmetic rate: its point-steps/s x the kernel's counted operations per
    point-step (``benchmarks/flops.py``, a floor), and that as a fraction of the FP64 limit."""
    from benchmarks.flops import flops_per_point_step

    per = flops_per_point_step("rosenbrock", opt, HYPER[opt])
    return {"flops_per_point_step": per, "flops_per_s": rate * per,
            "fp64_fraction": rate * per / peak["flops"]}


# ---------------------------------------------------------------------- timing
@dataclass
class Case:
    """One implementation at one (optimizer, batch): what to call and its timings."""

    impl: str
    run: Callable[[np.ndarray, int], np.ndarray]
    starts: np.ndarray
    max_steps: int
    min_steps: int
    settings: dict[str, Callable[[], None]] = field(default_factory=lambda: {"": lambda: None})
    note: str = ""
    steps: int = 0
    times: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # (wall, cpu) s


def _timed(run, starts, steps) -> tuple[float, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    run(starts, steps)
    return time.perf_counter() - t0, time.process_time() - c0


def calibrate(case: Case, target: float) -> None:
    """Untimed warm-up, then steps such that one call takes about ``target`` seconds."""
    for apply in reversed(case.settings.values()):  # warm every setting, end on the first
        apply()
        case.run(case.starts, case.min_steps)
    steps = case.min_steps
    while True:
        t = min(_timed(case.run, case.starts, steps)[0] for _ in range(2))  # min: skip one stall
        if t >= target / 4 or steps >= case.max_steps:
            break
        grow = target / 4 / max(t, 1e-6)
        steps = min(case.max_steps, max(2 * steps, int(steps * min(grow * 1.2, 100))))
    case.steps = int(min(case.max_steps, max(case.min_steps, round(steps * target / max(t, 1e-9)))))


def time_rounds(cases: list[Case], repeats: int, target: float) -> None:
    """``repeats`` rounds, each timing every case (and each of its settings) once in turn, so
    that a burst of load from other processes hits every implementation alike."""

    def rounds(todo: list[Case]) -> None:
        for _ in range(repeats):
            for case in todo:
                for name, apply in case.settings.items():
                    apply()
                    case.times.setdefault(name, []).append(_timed(case.run, case.starts, case.steps))
                next(iter(case.settings.values()))()

    rounds(cases)
    # a stall during calibration leaves calls far shorter than the target: scale up, time again
    short = [c for c in cases if c.steps < c.max_steps
             and min(w for v in c.times.values() for w, _ in v) < target / 3]
    for c in short:
        fastest = min(w for v in c.times.values() for w, _ in v)
        c.steps = int(min(c.max_steps, max(c.min_steps, round(c.steps * target / fastest))))
        c.times = {}
    if short:
        rounds(short)


def summarize(case: Case) -> dict[str, Any]:
    n = case.starts.shape[0]
    kept = min(case.times, key=lambda k: min(case.times[k]))
    wall, cpu = min(case.times[kept])
    out: dict[str, Any] = {
        "steps": case.steps, "timed_points": n, "times_s": [round(w, 6) for w, _ in case.times[kept]],
        "best_s": round(wall, 6), "point_steps_per_s": n * case.steps / wall,
        # process CPU time / wall of the best call: ~1 for one busy thread; well below 1 for a
        # single-threaded implementation means it was kept off the CPU by other processes
        "cpu_over_wall": round(cpu / wall, 3),
    }
    if len(case.settings) > 1:
        out["setting"] = kept
        out["by_setting"] = {k: n * case.steps / min(v)[0] for k, v in case.times.items()}
    return out


# ---------------------------------------------------------------------- machine info
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(mod: str) -> str | None:
    try:
        m = __import__(mod)
    except Exception:
        return None
    return getattr(m, "__version__", "?")


def _git() -> dict[str, Any]:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()

    try:
        status = git("status", "--porcelain", "--untracked-files=no")
        changed = [line.split(maxsplit=1)[-1] for line in status.splitlines()]
        return {"commit": git("rev-parse", "HEAD"), "dirty": bool(changed), "changed_files": changed[:20]}
    except Exception:
        return {"commit": None, "dirty": None, "changed_files": None}


def _compiled_for() -> str:
    """The CPU the kernels are compiled for (LLVM's name) and its widest vectors: float64 rates
    scale with them (AVX-512 holds 8 per register, AVX2 4)."""
    try:
        import llvmlite.binding as ll

        feats = ll.get_host_cpu_features()
        isa = "AVX-512" if feats.get("avx512f") else "AVX2" if feats.get("avx2") else "SSE/other"
        return f"{ll.get_host_cpu_name()}, {isa}"
    except Exception as exc:  # (no llvmlite: say so rather than fail the run)
        return f"unknown ({type(exc).__name__})"


def machine_info(cores: int, backend: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu_model": _cpu_model(),
        "compiled_for": _compiled_for(),
        "cores": cores,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": _version("torch"),
        "jax": _version("jax"),
        "jaxlib": _version("jaxlib"),
        "optax": _version("optax"),
        "optviz": optviz.__version__,
        "backend": backend,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **{f"git_{k}": v for k, v in _git().items()},
    }
    if backend == "cupy":
        info["gpu"] = optviz.gpu_status()[1]
    if hasattr(os, "getloadavg"):
        info["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return info


# ---------------------------------------------------------------------- peers: availability
def setup_peers(backend: str, cores: int, wanted: set[str]) -> tuple[dict[str, Any], list[str]]:
    """Import torch / jax if present; returns (context, skip notes)."""
    ctx: dict[str, Any] = {}
    notes: list[str] = []
    if backend == "cupy" and "loop" in wanted:
        notes.append("python loop: skipped with --backend cupy (it is CPU-only; see the CPU results)")
    if wanted & {"torch-default", "torch-foreach", "torch-fused"}:
        try:
            import torch

            torch.set_num_threads(cores)
            device = "cpu"
            if backend == "cupy":
                device = "cuda" if torch.cuda.is_available() else ""
            if device:
                ctx["torch_device"] = device
                ctx["torch_threads"] = torch.get_num_threads()
                # Thread count is the peer's tuning knob: on small VMs a second intra-op thread
                # can stall tiny steps for milliseconds, so 1 thread is timed too and the
                # faster kept (the row's note and by_setting say which).
                ctx["torch_settings"] = {f"threads={cores}": lambda: torch.set_num_threads(cores)}
                if cores > 1 and device == "cpu":
                    ctx["torch_settings"]["threads=1"] = lambda: torch.set_num_threads(1)
            else:
                notes.append("torch: skipped, torch has no CUDA device here")
        except Exception as exc:
            notes.append(f"torch: skipped, not importable ({type(exc).__name__}: {exc}); "
                         "pip install torch")
    if "optax-jit" in wanted:
        try:
            import jax

            jax.config.update("jax_enable_x64", True)
            import optax  # noqa: F401

            kind = "gpu" if backend == "cupy" else "cpu"
            try:
                ctx["jax_device"] = jax.devices(kind)[0]
            except RuntimeError:
                notes.append(f"optax: skipped, jax has no {kind} device here")
        except Exception as exc:
            notes.append(f"optax: skipped, jax/optax not importable ({type(exc).__name__}); "
                         "pip install jax jaxlib optax")
    return ctx, notes


# ---------------------------------------------------------------------- the benchmark
def bench(args) -> dict[str, Any]:
    quick = args.quick
    gpu = args.backend == "cupy"
    sizes = tuple(args.sizes) if args.sizes else (QUICK_SIZES if quick else GPU_SIZES if gpu else SIZES)
    opts = tuple(args.optimizers) if args.optimizers else OPTIMIZERS
    wanted = set(args.impls) if args.impls else set(IMPLS)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    cores = args.threads or usable
    repeats = 1 if quick else args.repeats
    rec1_n = min(10_000, max(sizes))
    loop_subset = 10 if quick else 100

    def target_for(n: int) -> float:
        return 0.01 if quick else (1.0 if n >= 1_000_000 and not gpu else 0.3)

    def min_steps_for(n: int) -> int:
        return 2 if quick else 10

    # The dashboard scene first: once torch and JAX are loaded, their worker threads can linger
    # and disturb a ~70 ms measurement (seen: 137 ms after the peers, 67 ms alone).
    dash = None if args.no_dashboard else dashboard_scene(args.backend, runs=3 if quick else 10)
    pctx, notes = setup_peers(args.backend, cores, wanted)
    results: list[dict[str, Any]] = []

    def record(opt, n, impl, m, note=""):
        row = {"optimizer": opt, "n_points": n, "implementation": impl, "label": LABELS[impl],
               **m, "note": note}
        if hasattr(os, "getloadavg"):
            row["load1"] = round(os.getloadavg()[0], 2)  # > 1 here: another process competed
        results.append(row)
        print(f"  {opt:8s} {n:>9,d}  {LABELS[impl]:14s} {m['point_steps_per_s']:11.3e} pt-steps/s"
              f"  ({m['steps']} steps x {m['timed_points']:,} pts, best {m['best_s']:.3f} s)"
              + (f"  [{note}]" if note else ""), flush=True)

    if args.backend == "numpy" and not quick:
        print("compiling the kernels (excluded from the timings) ...", flush=True)
        from optviz.engine import fast
        from optviz.engine.job import make_job

        fast.compile_many([make_job("rosenbrock", [o], None, 2, record_every=1)[0] for o in opts])

    peak = fp64_peak() if gpu else None
    if peak:
        print(f"FP64 limit: {peak['flops'] / 1e12:.1f} TFLOP/s ({peak['how']})", flush=True)
    memory = None
    if "engine-rec1" in wanted and not quick and not gpu:
        memory = memory_probe()
        print(f"fresh memory: {memory['reused_gb_s']} GB/s reused at once, {memory['after_idle_gb_s']} GB/s "
              f"after {memory['idle_s']:g} s idle", flush=True)

    for opt in opts:
        print(f"{opt} {HYPER[opt]}", flush=True)
        torch_ok = {}
        for variant in ("default", "foreach", "fused"):
            if f"torch-{variant}" in wanted and "torch_device" in pctx and opt in TORCH_TWINS:
                why = torch_check_variant(opt, variant, pctx["torch_device"])
                torch_ok[variant] = why is None
                if why:
                    notes.append(f"torch {variant} {opt}: not supported here ({why})")
        opt_sizes = sizes if (args.sizes or quick or gpu or opt == "Adam") else OTHER_SIZES
        for n in opt_sizes:
            starts = make_starts(n)
            lo = min_steps_for(n)
            cases: list[Case] = []
            if "engine" in wanted:
                cases.append(Case("engine", engine_runner(opt, args.backend), starts, ENGINE_MAX_STEPS, lo))
            if "engine-rec1" in wanted and n == rec1_n:
                cases.append(Case("engine-rec1", engine_runner(opt, args.backend, record_every=1),
                                  starts, ENGINE_MAX_STEPS, lo, note="record_every=1: every step recorded"))
            if "engine-ref" in wanted and n == rec1_n:
                cases.append(Case("engine-ref", engine_runner(opt, args.backend, fused=False), starts,
                                  ENGINE_MAX_STEPS, lo, note="the readable path (fused=False)"))
            if "loop" in wanted and args.backend != "cupy" and opt in LOOP_OPTIMIZERS:
                sub = starts[: min(n, loop_subset)]
                note = f"timed on {sub.shape[0]} of {n:,} points, extrapolated" if sub.shape[0] < n else ""
                cases.append(Case("loop", loop_runner(opt), sub, 10**7, 1, note=note))
            for variant in ("default", "foreach", "fused"):
                if torch_ok.get(variant):
                    dev = pctx["torch_device"]
                    note = f"= {torch_default_impl(opt, dev)}" if variant == "default" else ""
                    cases.append(Case(f"torch-{variant}", torch_runner(opt, variant, pctx["torch_device"]),
                                      starts, 10**8, lo, settings=pctx["torch_settings"], note=note))
            if "jax_device" in pctx and opt in OPTAX_TWINS:
                run = optax_runner(opt, pctx["jax_device"])
                run(starts, 1)  # compile (excluded from the timing)
                cases.append(Case("optax-jit", run, starts, 2**31 - 1, lo))
            for case in cases:
                calibrate(case, target_for(n))
            time_rounds(cases, repeats, target_for(n))
            for case in cases:
                m = summarize(case)
                note = "; ".join(x for x in (case.note, m.get("setting", "")) if x)
                if case.impl == "engine":
                    res = case.run.last  # type: ignore[attr-defined]
                    ndiv = int(np.sum(res.diverged_step[opt] >= 0))
                    m["loop_only_point_steps_per_s"] = n * case.steps / res.elapsed
                    if peak:
                        m.update(arithmetic(opt, m["point_steps_per_s"], peak))
                    note = f"{ndiv} diverged" if ndiv else note
                record(opt, n, case.impl, m, note)

    rec = None
    if "engine-rec1" in wanted and not quick and not gpu:
        print("every step recorded: memory reused vs fresh", flush=True)
        rec = recording(opts, args.backend, n=rec1_n)
    add_ratios(results)
    out: dict[str, Any] = {
        "machine": machine_info(cores, args.backend),
        "config": {
            "function": "rosenbrock (2-D)", "dtype": "float64", "hyperparameters": HYPER,
            "sizes": list(sizes), "repeats": repeats,
            "statistic": "best of repeats, implementations interleaved per round",
            "quick": quick, "torch_threads": pctx.get("torch_threads"),
            "torch_thread_settings": list(pctx.get("torch_settings", {})),
            "target_seconds_per_measurement": {str(n): target_for(n) for n in sizes},
            "fresh_memory": memory,
            "fp64_peak": peak,
            "torch_default_is": {o: torch_default_impl(o, pctx["torch_device"])
                                 for o in opts} if "torch_device" in pctx else None,
        },
        "results": results,
        "skipped": notes,
    }
    if not args.no_agreement:
        out["agreement"] = agreement(opts, args.backend, pctx, wanted, *((16, 50) if quick else (64, 200)))
    if dash is not None:
        out["dashboard"] = dash
    if rec is not None:
        out["recording"] = rec
    if args.backend == "numpy" and not args.no_compile:
        out["compile"] = compile_cost()
    return out


#: Seconds of idleness before the "fresh memory" measurements: Linux reports freed pages to the
#: balloon 2 s after they are freed (``page_reporting_delay``), so 2 s can miss it (seen: 5 GB/s
#: after 2 s, 1 GB/s after 3 s on one host).
IDLE_S = 3.0


def memory_probe(mib: int = 144, idle: float = IDLE_S) -> dict[str, float]:
    """How fast this machine hands a process fresh memory: GB/s of ``np.empty`` + fill for an
    array of ``mib`` MiB reusing memory just freed, and again after ``idle`` seconds.

    A full recording writes 24 bytes per point-step into fresh output arrays, so its rate is
    bounded by this. On this project's VMs the virtio balloon reports freed memory to the host
    (free page reporting) about a second after it is freed; the host drops it, and the next
    write to each page faults on the host.
    """
    n = mib * 2**20 // 8

    def fill() -> float:
        t0 = time.perf_counter()
        a = np.empty(n)
        a.fill(1.0)
        dt = time.perf_counter() - t0
        del a
        return n * 8 / dt / 1e9

    fill()
    reused = max(fill() for _ in range(3))
    after = []
    for _ in range(2):
        time.sleep(idle)
        after.append(fill())
    return {"mib": mib, "idle_s": idle, "reused_gb_s": round(reused, 2),
            "after_idle_gb_s": round(min(after), 2)}


def recording(opts, backend: str, n: int = 10_000, steps: int = 800, idle: float = IDLE_S,
              repeats: int = 3) -> dict[str, Any]:
    """Every step recorded (``record_every=1``) at ``n`` starts, per optimizer: the best of
    ``repeats`` calls made back to back (each result dropped before the next call, so its
    memory is reused at once), and one call after ``idle`` seconds (its memory fresh from the
    host). The main table's rec=1 rows fall between the two: they are interleaved with the
    peers' calls, so their memory is reused or not depending on the order."""
    starts = make_starts(n)
    out: dict[str, Any] = {"n_points": n, "steps": steps, "idle_s": idle, "repeats": repeats}
    for opt in opts:
        run = engine_runner(opt, backend, record_every=1, keep=False)  # (each result dropped)
        run(starts, steps)  # warm-up (kernel loaded)
        best = min(_timed(run, starts, steps)[0] for _ in range(repeats))
        time.sleep(idle)
        after = _timed(run, starts, steps)[0]
        out[opt] = {"back_to_back": n * steps / best, "after_idle": n * steps / after}
        print(f"  {opt:8s} rec=1 {n:,} pts: {n * steps / best:.3e} back to back, {n * steps / after:.3e} "
              f"after {idle:g} s idle", flush=True)
    return out


def compile_cost() -> dict[str, Any]:
    """One kernel (Adam on Beale, a pair no earlier step compiled) in fresh processes: compiled
    into an empty disk cache (cold), then loaded from it by a new process (warm); and a small run
    once loaded (steady). Process start and imports are reported apart."""
    import tempfile

    code = ("import time, sys; t0 = time.perf_counter(); import optviz; t1 = time.perf_counter(); "
            "optviz.run('beale', ['Adam'], [[1.0, 1.0]], 10, fused=True); t2 = time.perf_counter(); "
            "optviz.run('beale', ['Adam'], [[1.0, 1.0]], 10, fused=True); t3 = time.perf_counter(); "
            "print(t1 - t0, t2 - t1, t3 - t2)")
    out: dict[str, Any] = {"kernel": "Adam on Beale (2-D)"}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "OPTVIZ_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        for label in ("cold", "warm"):
            t0 = time.perf_counter()
            res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                 timeout=600, check=True)
            total = time.perf_counter() - t0
            imp, first, again = (float(x) for x in res.stdout.split())
            out[label] = {"process_s": round(total, 3), "import_optviz_s": round(imp, 3),
                          "first_fused_run_s": round(first, 3), "next_run_s": round(again, 4)}
    return out


def add_ratios(results: list[dict[str, Any]]) -> None:
    """``ratio_to_best_peer``: this row's rate over the best peer's at the same optimizer and n."""
    for row in results:
        peers = [r for r in results if r["optimizer"] == row["optimizer"]
                 and r["n_points"] == row["n_points"] and r["implementation"] in PEERS]
        if peers:
            best = max(peers, key=lambda r: r["point_steps_per_s"])
            row["ratio_to_best_peer"] = row["point_steps_per_s"] / best["point_steps_per_s"]
            row["best_peer"] = best["label"]
        else:
            row["ratio_to_best_peer"] = None
            row["best_peer"] = None


def agreement(opts, backend: str, pctx: dict[str, Any], wanted: set[str], n: int = 64,
              steps: int = 200) -> dict[str, Any]:
    """Max |difference| of each implementation's final points from the engine's (n starts,
    steps): the implementations compute the same thing. Adam differs by ε's placement (1e-8)."""
    starts = make_starts(n, seed=1)
    out: dict[str, Any] = {"n_points": n, "steps": steps}
    for opt in opts:
        ref = engine_runner(opt, backend)(starts, steps)
        row: dict[str, float] = {}
        runners: dict[str, Callable] = {}
        if "loop" in wanted and backend != "cupy" and opt in LOOP_OPTIMIZERS:
            runners["loop"] = loop_runner(opt)
        if "torch_device" in pctx and opt in TORCH_TWINS:
            for v in ("default", "foreach", "fused"):
                if f"torch-{v}" in wanted and torch_check_variant(opt, v, pctx["torch_device"]) is None:
                    runners[f"torch-{v}"] = torch_runner(opt, v, pctx["torch_device"])
        if "jax_device" in pctx and opt in OPTAX_TWINS:
            runners["optax-jit"] = optax_runner(opt, pctx["jax_device"])
        if not runners:
            continue  # no twin to compare with
        for impl, run in runners.items():
            row[impl] = float(np.max(np.abs(run(starts, steps) - ref)))
        out[opt] = row
    return out


def dashboard_scene(backend: str, runs: int) -> dict[str, Any]:
    """The dashboard's default scene: every optimizer, 4x4 grid, 300 steps, full recording, on the
    fast path (after the warm-up run that compiles or loads its kernels) and on the readable one."""
    starts = optviz.scene.starts.grid(functions.get("rosenbrock").box, 4)

    def once(fused) -> float:
        t0 = time.perf_counter()
        optviz.run("rosenbrock", "all", starts, 300, record_every=1, backend=backend, fused=fused)
        return time.perf_counter() - t0

    out: dict[str, Any] = {"optimizers": "all", "n_optimizers": len(optviz.NAMES), "n_points": 16,
                           "steps": 300, "record_every": 1, "runs": runs}
    for label, fused in (("fast", True), ("readable", False)):
        once(fused)  # warm-up (the fast path's kernels are compiled or loaded here)
        times = [once(fused) * 1e3 for _ in range(runs)]
        out[label] = {"median_ms": round(statistics.median(times), 2), "min_ms": round(min(times), 2)}
    out["median_ms"], out["min_ms"] = out["fast"]["median_ms"], out["fast"]["min_ms"]
    out["target_ms"] = 5.0
    out["meets_target"] = out["median_ms"] <= out["target_ms"]
    return out


# ---------------------------------------------------------------------- reporting
def _fmt_rate(x: float) -> str:
    return f"{x:.2e}"


def _fmt_ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:.2g}×" if x < 1 else f"{x:.2f}×" if x < 10 else f"{x:.0f}×"


def table_rows(data: dict[str, Any]) -> list[list[str]]:
    rows = []
    for r in data["results"]:
        rows.append([r["optimizer"], f"{r['n_points']:,}", r["label"], _fmt_rate(r["point_steps_per_s"]),
                     _fmt_ratio(r.get("ratio_to_best_peer")), str(r["steps"]),
                     f"{r['cpu_over_wall']:.2f}" if r.get("cpu_over_wall") is not None else "–",
                     r.get("note", "")])
    return rows


HEADER = ["optimizer", "batch", "implementation", "point-steps/s", "× best peer", "steps", "cpu/wall", "note"]


def print_table(data: dict[str, Any]) -> None:
    rows = table_rows(data)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(HEADER)]
    line = "  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True))
    print("\n" + line + "\n" + "-" * len(line))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    for note in data.get("skipped", []):
        print("skipped:", note)
    srows = summary_rows(data)
    if srows:
        widths = [max(len(h), *(len(r[i]) for r in srows)) for i, h in enumerate(SUMMARY_HEADER)]
        print("\n" + "  ".join(h.ljust(w) for h, w in zip(SUMMARY_HEADER, widths, strict=True)))
        for r in srows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    arows = arithmetic_rows(data)
    if arows:
        peak = data["config"]["fp64_peak"]
        print(f"\nFP64 limit {peak['flops'] / 1e12:.1f} TFLOP/s ({peak['how']})")
        widths = [max(len(h), *(len(r[i]) for r in arows)) for i, h in enumerate(ARITHMETIC_HEADER)]
        print("  ".join(h.ljust(w) for h, w in zip(ARITHMETIC_HEADER, widths, strict=True)))
        for r in arows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    dash = data.get("dashboard")
    if dash:
        print(f"\ndashboard scene ({dash['n_optimizers']} optimizers x 16 starts x 300 steps, "
              f"record_every=1): fast path median {dash['median_ms']:.1f} ms, "
              f"min {dash['min_ms']:.1f} ms over {dash['runs']} runs (target <= {dash['target_ms']:g} ms: "
              f"{'met' if dash['meets_target'] else 'NOT met'}); readable path median "
              f"{dash.get('readable', {}).get('median_ms', float('nan')):.1f} ms")
    comp = data.get("compile")
    if comp:
        print(f"compile ({comp['kernel']}): cold first run {comp['cold']['first_fused_run_s']:.2f} s, "
              f"warm first run {comp['warm']['first_fused_run_s']:.2f} s, "
              f"then {comp['warm']['next_run_s'] * 1e3:.1f} ms")


SUMMARY_HEADER = ["optimizer", "batch", "engine pt-steps/s", "best peer pt-steps/s", "engine / best peer",
                  "best torch pt-steps/s", "engine / best torch"]


def summary_rows(data: dict[str, Any]) -> list[list[str]]:
    """One line per (optimizer, batch): engine vs the best peer and vs the best torch.optim."""
    out = []
    for r in data["results"]:
        if r["implementation"] == "engine" and r.get("best_peer"):
            same = [p for p in data["results"] if p["optimizer"] == r["optimizer"]
                    and p["n_points"] == r["n_points"]]
            peer = next(p for p in same if p["label"] == r["best_peer"])
            torches = [p for p in same if p["implementation"].startswith("torch")]
            row = [r["optimizer"], f"{r['n_points']:,}", _fmt_rate(r["point_steps_per_s"]),
                   f"{_fmt_rate(peer['point_steps_per_s'])} ({peer['label']})",
                   _fmt_ratio(r["ratio_to_best_peer"]), "–", "–"]
            if torches:
                bt = max(torches, key=lambda p: p["point_steps_per_s"])
                row[5] = f"{_fmt_rate(bt['point_steps_per_s'])} ({bt['label']})"
                row[6] = _fmt_ratio(r["point_steps_per_s"] / bt["point_steps_per_s"])
            out.append(row)
    return out


ARITHMETIC_HEADER = ["optimizer", "batch", "point-steps/s", "flops/point-step", "GFLOP/s",
                     "of FP64 limit"]


def arithmetic_rows(data: dict[str, Any]) -> list[list[str]]:
    """The GPU engine rows' arithmetic rate and its fraction of the card's FP64 limit."""
    return [[r["optimizer"], f"{r['n_points']:,}", _fmt_rate(r["point_steps_per_s"]),
             str(r["flops_per_point_step"]), f"{r['flops_per_s'] / 1e9:,.0f}", f"{r['fp64_fraction']:.1%}"]
            for r in data["results"] if r["implementation"] == "engine" and r.get("fp64_fraction")]


def markdown(data: dict[str, Any]) -> str:
    mi, cfg = data["machine"], data["config"]

    def table(header, rows):
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
        return "\n".join(lines)

    parts = [
        "# optviz engine benchmark" + (" (quick smoke run: not representative)" if cfg["quick"] else ""),
        "",
        "Generated by `benchmarks/bench_engine.py` from `"
        + (Path(data["_json"]).name if data.get("_json") else "the results JSON")
        + "`; see `benchmarks/README.md` for what each timing includes.",
        "",
        f"- Machine: {mi['cpu_model']}"
        + (f" (kernels compiled for {mi['compiled_for']})" if mi.get("compiled_for") else "")
        + f", {mi['cores']} cores used ({mi['cpu_count']} visible); {mi['platform']}",
        f"- Versions: Python {mi['python']}, NumPy {mi['numpy']}, torch {mi['torch']}, "
        f"jax {mi['jax']}, optax {mi['optax']}; optviz {mi['optviz']} at "
        f"`{(mi.get('git_commit') or '?')[:10]}`" + (" (uncommitted changes)" if mi.get("git_dirty") else ""),
        f"- Date: {mi['date']}; load average (1 min) at start / end: "
        f"{(mi.get('loadavg_at_start') or ['?'])[0]} / {(mi.get('loadavg_at_end') or ['?'])[0]}; "
        f"backend: {mi['backend']}"
        + (f" ({mi['gpu']})" if mi.get("gpu") else "")
        + f"; torch threads: {cfg.get('torch_threads')}",
        f"- 2-D Rosenbrock, float64, random starts in the box; best of {cfg['repeats']} timed "
        "call(s) per measurement, steps calibrated to about "
        + ", ".join(f"{v:g} s" for v in sorted(set(cfg["target_seconds_per_measurement"].values())))
        + " per call.",
        f"- Hyperparameters: {json.dumps(cfg['hyperparameters'])}",
    ]
    mem = cfg.get("fresh_memory")
    if mem:
        parts.append(f"- Fresh memory (`memory_probe`, {mem['mib']} MiB arrays written once): "
                     f"{mem['reused_gb_s']:g} GB/s when just freed memory is reused, "
                     f"{mem['after_idle_gb_s']:g} GB/s after {mem['idle_s']:g} s idle (where the VM's "
                     "balloon hands freed memory back to the host, the second is far lower). The rec=1 "
                     "rows write 24 bytes per point-step into fresh arrays: at the second speed that "
                     f"alone bounds them to {mem['after_idle_gb_s'] * 1e9 / 24:.1e} point-steps/s.")
    parts += [
        "",
        "## Engine vs best peer",
        "",
        table(SUMMARY_HEADER, summary_rows(data)),
        "",
        "## All measurements",
        "",
        table(HEADER, table_rows(data)),
    ]
    if data.get("skipped"):
        parts += ["", "Skipped:", ""] + [f"- {s}" for s in data["skipped"]]
    arows = arithmetic_rows(data)
    if arows:
        peak = cfg["fp64_peak"]
        parts += ["", "## Fraction of the card's FP64 limit", "",
                  f"Limit: {peak['flops'] / 1e12:.1f} TFLOP/s ({peak['how']}; no tensor cores: the "
                  "kernels are scalar code). Operations per point-step are counted by running the "
                  "kernel's own formulas on counting numbers (`benchmarks/flops.py`): every + − × ÷, "
                  "negation, power and elementary function as one. A division and a square root "
                  "take several FP64 instructions on the card and the bound test and draws are not "
                  "counted, so the count, and the fraction, are floors.", "",
                  table(ARITHMETIC_HEADER, arows)]
    rec = data.get("recording")
    if rec:
        per = {o: v for o, v in rec.items() if isinstance(v, dict)}
        rows = [[o, f"{v['back_to_back']:.2e}", f"{v['after_idle']:.2e}",
                 "yes" if v["back_to_back"] >= 1e8 else "no"] for o, v in per.items()]
        met = sum(v["back_to_back"] >= 1e8 for v in per.values())
        after_met = sum(v["after_idle"] >= 1e8 for v in per.values())
        parts += ["", "## Every step recorded: memory reused vs fresh", "",
                  f"`record_every=1` at {rec['n_points']:,} starts × {rec['steps']} steps (24 bytes per "
                  f"point-step written): best of {rec['repeats']} calls back to back, each result dropped "
                  "before the next (the memory it frees is reused at once), and one call after "
                  f"{rec['idle_s']:g} s idle (fresh memory, see `memory_probe` above). "
                  "Target ≥ 1e8 point-steps/s: back to back, "
                  f"**{met} of {len(rows)}** optimizers; after idle, {after_met} of them.", "",
                  table(["optimizer", "back to back pt-steps/s", "after idle pt-steps/s",
                         "≥ 1e8 back to back"], rows)]
    dash = data.get("dashboard")
    if dash:
        parts += ["", "## Dashboard default scene", "",
                  f"`optviz.run(\"rosenbrock\", \"all\", grid(box, 4), 300, record_every=1)`: "
                  f"{dash['n_optimizers']} optimizers × 16 starts × 300 steps. Fast path: median "
                  f"**{dash['median_ms']:.1f} ms** (min {dash['min_ms']:.1f} ms) over "
                  f"{dash['runs']} runs after one warm-up; target ≤ {dash['target_ms']:g} ms: "
                  f"**{'met' if dash['meets_target'] else 'not met'}**. Readable path: median "
                  f"{dash.get('readable', {}).get('median_ms', float('nan')):.1f} ms."]
    comp = data.get("compile")
    if comp:
        rows = [[k, f"{v['process_s']:.2f}", f"{v['import_optviz_s']:.2f}", f"{v['first_fused_run_s']:.2f}",
                 f"{v['next_run_s'] * 1e3:.1f}"] for k, v in comp.items() if isinstance(v, dict)]
        parts += ["", "## Compile cost", "",
                  f"One kernel ({comp['kernel']}) in fresh processes: compiled into an empty cache "
                  "(cold), then loaded from the disk cache (warm).", "",
                  table(["cache", "process s", "import optviz s", "first fused run s", "next run ms"], rows)]
    agr = data.get("agreement")
    if agr:
        rows = [[o, ", ".join(f"{LABELS[k]} {v:.1e}" for k, v in d.items())]
                for o, d in agr.items() if isinstance(d, dict)]
        parts += ["", "## Agreement", "",
                  f"Max |final point − engine's| over {agr['n_points']} starts × {agr['steps']} steps. "
                  "Adam family: ε sits inside the root in optviz, outside in torch/optax. "
                  "NAG: torch's and optax's Nesterov form steps the look-ahead point (the same "
                  "rule under a change of variables: apart by the last momentum step). RMSprop: "
                  "equal to 4e-16 for the first 20 steps; at this rate it then oscillates across "
                  "the valley, which amplifies the rounding (its average is written "
                  "v + (1-ρ)(g²-v), theirs ρv + (1-ρ)g²) to 1e-9 by step 50 and 1e-3 by 200. "
                  "AMSGrad: optviz follows the paper's Algorithm 2 (α/√t, no bias correction), "
                  "torch and optax bias-correct with a constant α: the same work per step, another "
                  "rule. tests/test_optimizers_reference.py checks every rule against its "
                  "reference under the exact mapping.", "",
                  table(["optimizer", "max abs difference"], rows)]
    return "\n".join(parts) + "\n"


def write(data: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    data["_json"] = str(out)
    body = {k: v for k, v in data.items() if k != "_json"}
    out.write_text(json.dumps(body, indent=1, default=str) + "\n")
    md = out.with_suffix(".md")
    md.write_text(markdown(data))
    print(f"\nwrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} and {md.name}")


# ---------------------------------------------------------------------- per-run overhead
#: The run sizes of the per-run overhead comparison (issue 21): (starts, steps), fixed, not calibrated.
OVERHEAD_SIZES = ((100, 2000), (10_000, 500), (1_000_000, 50))


def overhead(opts: tuple[str, ...], sizes: tuple[tuple[int, int], ...], rounds: int,
             min_seconds: float) -> dict[str, Any]:
    """What a user waits for: the wall time of one ``optviz.run`` call (validation, set-up, the
    kernel, the result) beside the engine's own stepping time (``Result.elapsed``), and the wall time
    of the same run under optax + ``jax.jit`` (compiled before timing), at fixed sizes. The
    implementations are interleaved, ``rounds`` rounds of calls each lasting at least
    ``min_seconds`` in all; best and median per call are kept."""
    pctx, notes = setup_peers("numpy", 1, {"optax-jit"})
    rows = []
    for opt in opts:
        for n, steps in sizes:
            starts = make_starts(n)
            engine = engine_runner(opt, "numpy")
            engine(starts, steps)  # (compile or load the kernel: excluded)
            cases: dict[str, Callable[[], Any]] = {
                "engine": lambda e=engine, x=starts, k=steps: e(x, k)}
            if "jax_device" in pctx and opt in OPTAX_TWINS:
                peer = optax_runner(opt, pctx["jax_device"])
                peer(starts, steps)  # (compile: excluded)
                cases["optax-jit"] = lambda e=peer, x=starts, k=steps: e(x, k)
            walls: dict[str, list[float]] = {k: [] for k in cases}
            kernel: list[float] = []
            for _ in range(rounds):
                for impl, call in cases.items():
                    t_end = time.perf_counter() + min_seconds / rounds
                    while True:
                        t0 = time.perf_counter()
                        call()
                        walls[impl].append(time.perf_counter() - t0)
                        if impl == "engine":
                            kernel.append(engine.last.elapsed)  # type: ignore[attr-defined]
                        if time.perf_counter() >= t_end:
                            break
            row: dict[str, Any] = {"optimizer": opt, "n_points": n, "steps": steps,
                                   "calls": {k: len(v) for k, v in walls.items()},
                                   "engine_wall_s": min(walls["engine"]),
                                   "engine_wall_median_s": statistics.median(walls["engine"]),
                                   "engine_kernel_s": min(kernel),
                                   "engine_kernel_median_s": statistics.median(kernel)}
            row["engine_setup_s"] = row["engine_wall_s"] - row["engine_kernel_s"]
            if "optax-jit" in walls:
                row["optax_wall_s"] = min(walls["optax-jit"])
                row["optax_wall_median_s"] = statistics.median(walls["optax-jit"])
                row["ratio_best"] = row["optax_wall_s"] / row["engine_wall_s"]
                row["ratio_median"] = row["optax_wall_median_s"] / row["engine_wall_median_s"]
            if hasattr(os, "getloadavg"):
                row["load1"] = round(os.getloadavg()[0], 2)
            rows.append(row)
            print(f"  {opt:6s} {n:>9,d} x {steps:>5,d}: engine wall {row['engine_wall_s'] * 1e3:8.3f} ms "
                  f"(kernel {row['engine_kernel_s'] * 1e3:8.3f} ms)"
                  + (f"  optax {row['optax_wall_s'] * 1e3:8.3f} ms  optax/engine {row['ratio_best']:.2f} "
                     f"(median {row['ratio_median']:.2f})" if "optax_wall_s" in row else ""), flush=True)
    return {"machine": machine_info(os.cpu_count() or 1, "numpy"), "skipped": notes,
            "config": {"rounds": rounds, "min_seconds": min_seconds, "record_every": "steps (start and end)",
                       "function": "rosenbrock (2-D)", "dtype": "float64",
                       "hyperparameters": {o: HYPER[o] for o in opts}},
            "overhead": rows}


def overhead_markdown(data: dict[str, Any]) -> str:
    m = data["machine"]
    lines = [
        "# optviz per-run overhead: `optviz.run` wall time vs its kernel vs optax + jax.jit",
        "",
        "Generated by `benchmarks/bench_engine.py --overhead`. 2-D Rosenbrock, float64, random starts in the "
        "box, recording the start and the end. **engine wall**: one `optviz.run(...)` call as a user waits "
        "for it (validation, set-up, the kernel on a thread per core, the result); **kernel**: its stepping "
        "alone (`Result.elapsed`); **set-up**: the difference. **optax wall**: the same rule under "
        "`jax.jit` with the steps in `lax.fori_loop` (compiled before timing), x64. Best (and median) of "
        "interleaved calls; the ratio is optax wall / engine wall from the same run.",
        "",
        f"- Machine: {m.get('cpu_model')}, {m.get('cores')} cores; {m.get('platform')}",
        f"- Versions: Python {m.get('python')}, NumPy {m.get('numpy')}, jax {m.get('jax')}, optax "
        f"{m.get('optax')}; optviz {m.get('optviz')} at `{m.get('git_commit', '?')}`",
        f"- Date: {m.get('date')}; load average (1 min) at start / end: "
        f"{m.get('loadavg_at_start', ['?'])[0]} / {m.get('loadavg_at_end', ['?'])[0]} (2 cores shared "
        "with other work: a load above 2 slows and scatters every number; the ratios come from "
        "interleaved calls)",
        "",
        "| optimizer | starts x steps | engine wall ms | kernel ms | set-up ms | optax wall ms | "
        "optax / engine (best) | (median) | calls engine / optax |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data["overhead"]:
        def ms(x):
            return "–" if x is None else f"{x * 1e3:.3f}"

        calls = r["calls"]
        lines.append(
            f"| {r['optimizer']} | {r['n_points']:,} x {r['steps']:,} | {ms(r['engine_wall_s'])} | "
            f"{ms(r['engine_kernel_s'])} | {ms(r['engine_setup_s'])} | {ms(r.get('optax_wall_s'))} | "
            f"{r.get('ratio_best', float('nan')):.2f} | {r.get('ratio_median', float('nan')):.2f} | "
            f"{calls.get('engine')} / {calls.get('optax-jit', '–')} |")
    lines += ["", *[f"- {n}" for n in data.get("skipped", [])]]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run: tiny sizes and times (< 20 s)")
    p.add_argument("--backend", choices=("numpy", "cupy"), default="numpy",
                   help="engine backend; with cupy, torch and jax run on the GPU too")
    p.add_argument("--out", type=Path, default=None,
                   help="results JSON, or a folder for it (a .md is written beside it); default "
                        "benchmarks/results-cpu.json (cupy: results-gpu.json, --quick: results-quick.json)")
    p.add_argument("--optimizers", nargs="+", choices=OPTIMIZERS, help="subset of optimizers")
    p.add_argument("--sizes", nargs="+", type=int, help="batch sizes (default 1 100 10000 1000000)")
    p.add_argument("--impls", type=lambda s: s.split(","), help=f"comma list from {','.join(IMPLS)}")
    p.add_argument("--repeats", type=int, default=5, help="timed calls per measurement (best is kept)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: usable cores)")
    p.add_argument("--no-dashboard", action="store_true", help="skip the dashboard-scene timing")
    p.add_argument("--no-agreement", action="store_true", help="skip the final-point agreement check")
    p.add_argument("--no-compile", action="store_true", help="skip the compile-cost measurement")
    p.add_argument("--from-json", type=Path, help="only regenerate the table/.md from a results JSON")
    p.add_argument("--overhead", action="store_true",
                   help="per-run overhead instead: optviz.run wall time beside its kernel time and "
                        "optax-jit's, at 100 x 2,000, 10^4 x 500 and 10^6 x 50 "
                        "(default out: results-cpu-overhead.json)")
    p.add_argument("--rounds", type=int, default=5, help="--overhead: interleaved rounds")
    p.add_argument("--seconds", type=float, default=3.0,
                   help="--overhead: seconds of calls per implementation and size, over all rounds")
    args = p.parse_args(argv)
    if args.overhead:
        load = os.getloadavg() if hasattr(os, "getloadavg") else None
        data = overhead(tuple(args.optimizers or ("Adam",)), OVERHEAD_SIZES, args.rounds, args.seconds)
        if load:
            data["machine"]["loadavg_at_start"] = [round(x, 2) for x in load]
        out = args.out or HERE / "results-cpu-overhead.json"
        out.write_text(json.dumps(data, indent=1, default=str) + "\n")
        out.with_suffix(".md").write_text(overhead_markdown(data))
        print(f"wrote {out.name} and {out.with_suffix('.md').name}")
        return 0

    if args.from_json:
        data = json.loads(args.from_json.read_text())
        print_table(data)
        write(data, args.from_json)
        return 0
    if args.impls and not set(args.impls) <= set(IMPLS):
        p.error(f"--impls takes a comma list from {', '.join(IMPLS)}")
    if args.backend == "cupy":
        ok, why = optviz.gpu_status()
        if not ok:
            p.error(f"--backend cupy: {why}")
    name = ("results-quick.json" if args.quick
            else "results-gpu.json" if args.backend == "cupy" else "results-cpu.json")
    out = args.out or HERE / name
    if out.is_dir() or not out.suffix:  # a folder: the usual file name in it
        out = out / name
    t0 = time.perf_counter()
    warnings.filterwarnings("ignore", category=UserWarning)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    if load and load[0] > 0.5:
        print(f"warning: load average {load[0]:.2f} before starting: other processes compete for "
              "the CPU and will lower and scatter these numbers", flush=True)
    data = bench(args)
    if load:
        data["machine"]["loadavg_at_start"] = [round(x, 2) for x in load]
    print_table(data)
    write(data, out)
    print(f"total {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

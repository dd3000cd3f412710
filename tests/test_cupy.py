"""The same engine on a GPU: CuPy results equal NumPy's, on the CUDA kernels and on the readable
path. Skipped where no GPU is usable (``tests/test_gpu.py`` checks the kernels without one)."""

import numpy as np
import pytest

import optviz
from optviz.engine.backends import gpu_status

usable, why = gpu_status()
pytestmark = pytest.mark.skipif(not usable, reason=f"no usable GPU: {why}")


def test_every_optimizer_matches_numpy_on_cupy():
    starts = optviz.scene.starts.random([[-2, 2], [-1, 3]], 64, seed=0)
    kw = dict(steps=100, seed=5, schedule="warmup:steps=5+cosine", hooks=["lars", "clip:max_norm=10"])
    cpu = optviz.run("rosenbrock", "all", starts, backend="numpy", **kw)
    gpu = optviz.run("rosenbrock", "all", starts, backend="cupy", **kw)
    assert gpu.backend == "cupy" and gpu.path == "fast"  # the CUDA kernels, chosen by themselves
    for name in cpu.names:
        assert isinstance(gpu.trajectories[name], np.ndarray)
        np.testing.assert_allclose(gpu.trajectories[name], cpu.trajectories[name], rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(gpu.diverged_step[name], cpu.diverged_step[name])


def test_auto_picks_the_gpu():
    res = optviz.run("quartic", ["Adam"], [-3.0], steps=5, backend="auto")
    assert res.backend == "cupy"


def test_the_cuda_kernels_equal_the_readable_path_on_cupy():
    starts = optviz.scene.starts.random([[-2, 2], [-1, 3]], 300, seed=1)
    kw = dict(steps=60, seed=2, noise=0.1, tol=1e-3, record_every=7, backend="cupy")
    fast = optviz.run("himmelblau", "all", starts, fused=True, **kw)
    ref = optviz.run("himmelblau", "all", starts, fused=False, **kw)
    assert (fast.path, ref.path) == ("fast", "reference")
    for name in ref.names:  # (libdevice and CuPy's kernels may round an ulp apart)
        np.testing.assert_allclose(fast.trajectories[name], ref.trajectories[name], rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(fast.diverged_step[name], ref.diverged_step[name])


def test_santa_on_the_gpu_draws_what_it_draws_alone_and_on_the_cpu():
    starts = optviz.scene.starts.random([[-2, 2], [-1, 3]], 500, seed=3)
    kw = dict(steps=50, seed=9)
    many = optviz.run("rosenbrock", ["SantaE", "SantaSSS"], starts, backend="cupy", **kw)
    alone = optviz.run("rosenbrock", ["SantaE", "SantaSSS"], starts[123:124], backend="cupy", **kw)
    cpu = optviz.run("rosenbrock", ["SantaE", "SantaSSS"], starts, backend="numpy", fused=True, **kw)
    for name in many.names:
        np.testing.assert_allclose(many.trajectories[name][:, 123:124], alone.trajectories[name], rtol=1e-12)
        np.testing.assert_allclose(many.trajectories[name], cpu.trajectories[name], rtol=1e-8, atol=1e-10)

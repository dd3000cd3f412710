"""The same engine on a GPU: CuPy results equal NumPy's. Skipped where no GPU is usable."""

import numpy as np
import pytest

import optviz
from optviz.backends import gpu_status

usable, why = gpu_status()
pytestmark = pytest.mark.skipif(not usable, reason=f"no usable GPU: {why}")


def test_every_optimizer_matches_numpy_on_cupy():
    starts = optviz.starts.random([[-2, 2], [-1, 3]], 64, seed=0)
    kw = dict(steps=100, seed=5, schedule="warmup:steps=5+cosine", hooks=["lars", "clip:max_norm=10"])
    cpu = optviz.run("rosenbrock", "all", starts, backend="numpy", **kw)
    gpu = optviz.run("rosenbrock", "all", starts, backend="cupy", **kw)
    assert gpu.backend == "cupy"
    for name in cpu.names:
        assert isinstance(gpu.trajectories[name], np.ndarray)
        np.testing.assert_allclose(gpu.trajectories[name], cpu.trajectories[name], rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(gpu.diverged_step[name], cpu.diverged_step[name])


def test_auto_picks_the_gpu():
    res = optviz.run("quartic", ["Adam"], [-3.0], steps=5, backend="auto")
    assert res.backend == "cupy"

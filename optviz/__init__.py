"""optviz: see how gradient-descent optimizers behave.

>>> import optviz
>>> res = optviz.run("rosenbrock", {"Adam": {"alpha": 0.05}, "NAG": {}},
...                  starts=[[-1.5, 2.0], [0.5, -0.5]], steps=300, seed=0)
>>> res.trajectories["Adam"].shape
(301, 2, 2)
"""

from optviz.engine import hooks, schedules
from optviz.engine.backends import BackendError, gpu_status
from optviz.engine.result import Result
from optviz.engine.run import run
from optviz.explore import BasinMap, Comparison, Sweep, tune
from optviz.explore.basins import basins
from optviz.explore.compare import compare
from optviz.explore.sweep import sweep
from optviz.optimizers import ARTICLE, GROUPS, NAMES, REGISTRY
from optviz.scene import starts

__all__ = [
    "ARTICLE", "GROUPS", "NAMES", "REGISTRY", "BackendError", "BasinMap", "Comparison", "Result", "Sweep",
    "basins", "compare", "gpu_status", "hooks", "run", "schedules", "starts", "sweep", "tune",
]  # fmt: skip
__version__ = "0.1.0"

"""optviz: see how gradient-descent optimizers behave.

>>> import optviz
>>> res = optviz.run("rosenbrock", {"Adam": {"alpha": 0.05}, "NAG": {}},
...                  starts=[[-1.5, 2.0], [0.5, -0.5]], steps=300, seed=0)
>>> res.trajectories["Adam"].shape
(301, 2, 2)
"""

from . import hooks, schedules, starts, tune
from .backends import BackendError, gpu_status
from .engine import run
from .explore import BasinMap, Comparison, Sweep
from .explore.basins import basins
from .explore.compare import compare
from .explore.sweep import sweep
from .optimizers import ARTICLE, GROUPS, NAMES, REGISTRY
from .result import Result

__all__ = [
    "ARTICLE", "GROUPS", "NAMES", "REGISTRY", "BackendError", "BasinMap", "Comparison", "Result", "Sweep",
    "basins", "compare", "gpu_status", "hooks", "run", "schedules", "starts", "sweep", "tune",
]  # fmt: skip
__version__ = "0.1.0"

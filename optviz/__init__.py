"""optviz: see how gradient-descent optimizers behave.

>>> import optviz
>>> res = optviz.run("rosenbrock", {"Adam": {"alpha": 0.05}, "NAG": {}},
...                  starts=[[-1.5, 2.0], [0.5, -0.5]], steps=300, seed=0)
>>> res.trajectories["Adam"].shape
(301, 2, 2)
>>> res.rates, res.hyperparams["NAG"]["eta"] == optviz.REGISTRY["NAG"].defaults["eta"]
('tuned', False)

Hyperparameters nobody set follow one policy everywhere (:mod:`optviz.optimizers.rates`): the
function's tuned learning rates, or ``rates="article"`` for the registry's. A race described once
is a :class:`Scene` (``optviz.Scene``); the lessons are named scenes (:mod:`optviz.scene.lessons`).
"""

from optviz.adapters import from_optax, from_torch
from optviz.engine import hooks, schedules
from optviz.engine.backends import BackendError, gpu_status
from optviz.engine.result import Result
from optviz.engine.run import run
from optviz.explore import BasinMap, Comparison, Sweep, tune
from optviz.explore.basins import basins
from optviz.explore.compare import compare
from optviz.explore.conformance import Conformance, conformance
from optviz.explore.sweep import sweep
from optviz.optimizers import ARTICLE, GROUPS, NAMES, REGISTRY, resolve
from optviz.optimizers.custom import rule
from optviz.optimizers.rates import RATES
from optviz.optimizers.typed import register_text as rule_text
from optviz.scene import lessons, starts
from optviz.scene.model import Scene, Starts

__all__ = [
    "ARTICLE", "GROUPS", "NAMES", "RATES", "REGISTRY", "BackendError", "BasinMap", "Comparison",
    "Conformance", "Result", "Scene", "Starts", "Sweep", "basins", "compare", "conformance", "from_optax",
    "from_torch", "gpu_status", "hooks", "lessons", "race", "resolve", "rule", "rule_text", "run",
    "schedules", "starts", "sweep", "tune",
]  # fmt: skip
__version__ = "0.1.0"


def race(*args, **kwargs):
    """The live race in a notebook cell (:func:`optviz.notebook.race`; ``pip install "optviz[notebook]"``)."""
    import importlib  # the notebook room sits above the API: reached by name, not imported

    return importlib.import_module("optviz.notebook").race(*args, **kwargs)

"""Named scenes and the first page's defaults.

- :data:`DEFAULT_FIELD`: the small, well-separated field the dashboard opens with.
- :func:`default_hyperparams`: learning rates that suit each test function, read from
  ``optviz/data/default_rates.json``. That file is written by ``scripts/make_default_rates.py``
  from the tuning sweep (:func:`optviz.explore.tune.tune_learning_rates`) on each function's default
  scene; never edit it by hand.
- :class:`Preset`: a scene one click sets up (function, optimizers with hyperparameters,
  starts, steps, seed, schedule and hooks). :data:`PRESETS` holds them all by name and
  :data:`LESSONS` names the ones the dashboard shows as lessons, in order.

``article-quartic`` is the source article's demo (``opt_example.py``): every optimizer of
the article races on the 1-D quartic from x = −3 for 100 steps with the article's own
hyperparameters and random seed 32.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from optviz.optimizers import NAMES, REGISTRY

#: The dashboard's first field: plain gradient descent, two kinds of momentum, and the two
#: adaptive rules most used; each has its own colour in :mod:`optviz.draw.style`.
DEFAULT_FIELD: tuple[str, ...] = ("SGD", "MSGD", "NAG", "RMSprop", "Adam")

#: Where :func:`default_hyperparams` reads the tuned rates (package data).
RATES_FILE = "data/default_rates.json"

#: The default scene (the dashboard's first race, and what the rates are tuned on): a
#: ``DEFAULT_GRID`` × ``DEFAULT_GRID`` grid in the box in 2-D, ``DEFAULT_POINTS_1D`` spread
#: points in 1-D (both 10 % of the box in from its edges), ``DEFAULT_STEPS`` steps, seed 0,
#: a start converged when its distance to the nearest minimizer is at most ``DEFAULT_TOL``.
DEFAULT_GRID = 4
DEFAULT_POINTS_1D = 5
DEFAULT_STEPS = 300
DEFAULT_SEED = 0
DEFAULT_TOL = 1e-3


def default_starts(fn: Any) -> np.ndarray:
    """The default scene's starts for test function ``fn`` (an object with ``box`` and ``dim``)."""
    from optviz.scene import starts

    n = DEFAULT_POINTS_1D if fn.dim == 1 else DEFAULT_GRID
    return starts.grid(fn.box, n)


# ---------------------------------------------------------------------- tuned default rates
@functools.lru_cache(maxsize=1)
def _rates_table() -> dict[str, Any]:
    """The parsed ``default_rates.json`` (read once); an empty table if it is missing."""
    try:
        text = resources.files("optviz").joinpath(RATES_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"functions": {}}
    return json.loads(text)


def rates_table() -> dict[str, Any]:
    """A copy of the whole table: ``{"functions": {function: {dim: {"scene", "rates", "scores"}}},
    "version", "objective", ...}`` (dims are strings, as JSON keys are)."""
    return copy.deepcopy(_rates_table())


def default_dim(function: str) -> int | None:
    """The registry's default dimension of ``function`` (None when it is not a registered name)."""
    import functions

    fam = functions.families().get(function)
    return None if fam is None else int(fam.default_dim)


def tuned_rates(function: str, dim: int | None = None) -> dict[str, dict[str, float]]:
    """Only the tuned values: optimizer -> {learning-rate name: value}; empty when ``function``
    (in ``dim``, default: its default dimension) was not tuned."""
    dim = default_dim(function) if dim is None else int(dim)
    entry = _rates_table().get("functions", {}).get(function, {}).get(str(dim))
    return copy.deepcopy(entry["rates"]) if entry else {}


def default_hyperparams(function: str, dim: int | None = None,
                        optimizers: tuple[str, ...] | list[str] = NAMES) -> dict[str, dict[str, float]]:
    """Every hyperparameter of each optimizer for ``function`` in ``dim``: the registry's
    defaults with the tuned learning rate of ``default_rates.json`` over them.

    An unknown function (your own, say), a dimension that was not tuned or an optimizer without
    a tuned entry gets the registry's defaults. Unknown optimizer names raise ``KeyError``.
    """
    tuned = tuned_rates(function, dim)
    out = {}
    for name in optimizers:
        if name not in REGISTRY:
            raise KeyError(f"unknown optimizer {name!r}; valid: {', '.join(NAMES)}")
        hp = dict(REGISTRY[name].defaults)
        hp.update(tuned.get(name, {}))
        out[name] = hp
    return out


# ---------------------------------------------------------------------- presets
@dataclass(frozen=True, kw_only=True)
class Preset:
    """A scene set up by one click (dashboard) or ``--preset NAME`` (command line).

    Attributes:
        name: the id (``--preset`` takes it).
        title: the button's text.
        description: one sentence: what to look at.
        function, dim, params: the test function (``dim`` None: its default; ``params``: e.g.
            ``{"kappa": 1000}``).
        optimizers: optimizer -> the hyperparameters that differ from the registry's defaults.
        starts: explicit starting points (a list of numbers in 1-D, of ``[x, y]`` in 2-D).
        steps, seed: as for :func:`optviz.run`.
        extra: further :func:`optviz.run` keywords (``schedule``, ``hooks``, ...).
    """

    name: str
    title: str
    description: str
    function: str
    optimizers: dict[str, dict[str, Any]]
    starts: list
    steps: int
    seed: int = 0
    dim: int | None = None
    params: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def make_function(self):
        """The :class:`functions.TestFunction` this preset runs on (dimension and parameters set)."""
        import functions

        return functions.get(self.function, self.dim, **self.params)

    def run_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`optviz.run`: ``function`` is the registry name when the
        preset uses the function's defaults, else the built function (dim and params set)."""
        function: Any = self.function if self.dim is None and not self.params else self.make_function()
        return {
            "function": function,
            "optimizers": {k: dict(v) for k, v in self.optimizers.items()},
            "starts": copy.deepcopy(self.starts),
            "steps": self.steps,
            "seed": self.seed,
            **copy.deepcopy(self.extra),
        }


ARTICLE_QUARTIC = Preset(
    name="article-quartic",
    title="The article's quartic",
    description="The article's demo: 17 optimizers on the quartic from x = -3, 100 steps, seed 32.",
    function="quartic",
    optimizers={
        "SGD": {},
        "MSGD": {},
        "NAG": {"mu": 0.95},
        "AdaGrad": {"eta": 4e-1},
        "RMSprop": {"eta": 4e-2},
        "AdaDelta": {"eps": 1e-2},
        "Adam": {"alpha": 4e-1},
        "RMSpropGraves": {"eta": 4e-2},
        "SMORMS3": {"eta": 4e-2},
        "AdaMax": {},
        "Nadam": {},
        "Eve": {"alpha": 4e-1},
        "SantaE": {"eta": 4e-4, "burnin": 50},
        "SantaSSS": {"eta": 4e-4, "burnin": 50},
        "AMSGrad": {"alpha": 4e-1},
        "AdaBound": {"alpha": 4e-1},
        "AMSBound": {"alpha": 4e-1},
    },
    starts=[-3.0],
    steps=100,
    seed=32,
)

MOMENTUM_VALLEY = Preset(
    name="momentum-valley",
    title="Momentum in a narrow valley",
    description="In a narrow valley (condition number 100) plain gradient descent, even at its largest "
                "stable step, zig-zags across the walls and crawls along the floor, while momentum (MSGD, "
                "NAG) picks up speed along the valley and reaches the minimum in about 100 steps.",
    function="long_valley",
    optimizers={
        "SGD": {"eta": 0.018},  # just under 2/kappa = 0.02: as fast as plain gradient descent can go
        "MSGD": {"eta": 0.05},
        "NAG": {"eta": 0.1},
    },
    starts=[[-1.8, 0.9], [1.5, -1.4], [-0.9, -1.5]],
    steps=300,
)

ADAPTIVE_ROSENBROCK = Preset(
    name="adaptive-rosenbrock",
    title="Adaptive rates on Rosenbrock",
    description="One step size must suit both Rosenbrock's steep walls and its flat curved floor, so SGD "
                "crawls; Adam, whose steps adapt per coordinate and carry momentum, runs the valley to the "
                "minimum long before the others.",
    function="rosenbrock",
    optimizers={  # each at its best rate for these starts (optviz.explore.tune, 500 steps)
        "SGD": {"eta": 0.002},
        "MSGD": {"eta": 0.01},
        "RMSprop": {"eta": 0.1},
        "Adam": {"alpha": 1.0},
    },
    starts=[[-1.5, 2.0], [-1.2, 1.0], [-0.5, 2.5]],
    steps=500,
)

SADDLE_ESCAPE = Preset(
    name="saddle-escape",
    title="Escaping a saddle",
    description="Started next to the ridge of the saddle x² − y², where the gradient almost vanishes, SGD "
                "and momentum linger for hundreds of steps, while RMSprop and Adam, which divide by the "
                "gradient's size, walk off at full speed.",
    function="saddle",
    optimizers={  # one step size for all
        "SGD": {"eta": 0.01},
        "MSGD": {"eta": 0.01},
        "RMSprop": {"eta": 0.01},
        "Adam": {"alpha": 0.01},
    },
    starts=[[1.8, 0.001], [-1.5, -0.01], [1.0, 0.0001]],
    steps=300,
)

HIMMELBLAU_BASINS = Preset(
    name="himmelblau-basins",
    title="Himmelblau's four minima",
    description="Himmelblau's function has four minima: plain gradient descent takes every start of the "
                "grid to the minimum of its own basin, while momentum carries some of them over a ridge into "
                "another one.",
    function="himmelblau",
    optimizers={"SGD": {"eta": 0.01}, "MSGD": {"eta": 0.01}},
    starts=[[x, y] for x in (-4.0, -4 / 3, 4 / 3, 4.0) for y in (-4.0, -4 / 3, 4 / 3, 4.0)],  # the 4x4 grid
    steps=300,
)

_CAMEL_GRID = (-2.4, -0.8, 0.8, 2.4)  # a 4x4 grid, 10 % in from the edges of the camel's box

DELAYED_DCASGD = Preset(
    name="delayed-dcasgd",
    title="Delayed gradients: SGD vs DCASGD",
    description="Under a 4-step gradient delay, as in asynchronous training, SGD's stale gradients throw "
                "half the starts off the three-hump camel's steep walls; DCASGD at the same rate "
                "corrects each stale gradient by λ g⊙g⊙(w − w_stale) and diverges from none, reaching "
                "the minimum from 14 of 16.",
    function="three_hump_camel",
    optimizers={  # the same rate: DCASGD with lamda = 0 is exactly SGD
        "SGD": {"eta": 0.05},
        "DCASGD": {"learning_rate": 0.05, "lamda": 0.01},
    },
    starts=[[x, y] for x in _CAMEL_GRID for y in _CAMEL_GRID],
    steps=300,
    extra={"delay": 4},
)

SCHEDULE_MOMENTUM = Preset(
    name="schedule-momentum",
    title="Momentum, warm-up and a drop",
    description="CorrectedMomentumSGD and MSGD are one rule at a constant rate (lr = η(1 − μ)) and part "
                "when it changes (Goyal et al., 2017, §3): through the warm-up MSGD's velocity, built at "
                "the small early rates, lags while CorrectedMomentumSGD, its whole velocity scaled by "
                "today's rate, goes twice as far, and at the tenfold drop (step 151) it slows tenfold at "
                "once while MSGD coasts on its old velocity at half speed.",
    function="rosenbrock",
    optimizers={  # the same rule at a constant rate: lr = eta * (1 - mu)
        "MSGD": {"eta": 0.02, "mu": 0.9},
        "CorrectedMomentumSGD": {"lr": 0.002, "momentum": 0.9},
    },
    starts=[[-1.5, 2.0], [-1.2, 1.0], [-0.5, 2.5]],
    steps=250,
    extra={"schedule": "warmup:steps=50+step:every=100,gamma=0.1"},
)

PRESETS: dict[str, Preset] = {p.name: p for p in (
    ARTICLE_QUARTIC, MOMENTUM_VALLEY, ADAPTIVE_ROSENBROCK, SADDLE_ESCAPE, HIMMELBLAU_BASINS, DELAYED_DCASGD,
    SCHEDULE_MOMENTUM,
)}

#: The presets shown as lessons, in order.
LESSONS: tuple[str, ...] = (
    "momentum-valley", "adaptive-rosenbrock", "saddle-escape", "himmelblau-basins", "article-quartic",
)
#: Lessons whose scene needs a gradient delay or a warm-up + step schedule, which the race's
#: sidebar cannot show yet: the dashboard's "Noise & delay" view runs them as they are.
GRADIENT_LESSONS: tuple[str, ...] = ("delayed-dcasgd", "schedule-momentum")


def get(name: str) -> Preset:
    """The preset called ``name``; ``KeyError`` lists the valid names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; valid: {', '.join(PRESETS)}") from None


__all__ = [
    "ADAPTIVE_ROSENBROCK", "ARTICLE_QUARTIC", "DEFAULT_FIELD", "DEFAULT_GRID", "DEFAULT_POINTS_1D",
    "DEFAULT_SEED", "DEFAULT_STEPS", "DEFAULT_TOL", "DELAYED_DCASGD", "GRADIENT_LESSONS", "HIMMELBLAU_BASINS",
    "LESSONS", "MOMENTUM_VALLEY", "PRESETS", "SADDLE_ESCAPE", "SCHEDULE_MOMENTUM", "Preset", "default_dim",
    "default_hyperparams", "default_starts", "get", "rates_table", "tuned_rates",
]  # fmt: skip

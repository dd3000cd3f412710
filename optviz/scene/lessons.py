"""Lessons, named scenes with a note, and the first page's defaults.

- :class:`Lesson`: a :class:`~optviz.scene.Scene` (every value explicit: function, optimizers
  with every hyperparameter, starts, steps, seed, schedule, delay, rates policy) with a name, a
  title and a note. :data:`ALL_LESSONS` holds them all by name in display order, :data:`LESSONS`
  the race's (the dashboard's sidebar), :data:`GRADIENT_LESSONS` the names of the "Noise & delay"
  view's; :func:`get` finds any.
- :data:`DEFAULT_FIELD` and the ``DEFAULT_*`` constants: the field the dashboard opens with and
  the default scene the rates are tuned on. The tuned rates themselves are read by
  :mod:`optviz.optimizers.rates` (``default_hyperparams``, ``tuned_rates`` and ``rates_table``
  here are its older names).
- :func:`Preset`, :data:`PRESETS`, ``Lesson.description``/``run_kwargs()``...: the old names,
  kept until the CLI and the dashboard read ``lesson.scene``.

``article-quartic`` is the source article's demo (``opt_example.py``): every optimizer of
the article races on the 1-D quartic from x = −3 for 100 steps with the article's own
hyperparameters and random seed 32.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from optviz.optimizers import NAMES
from optviz.optimizers import rates as _rates

if TYPE_CHECKING:
    from optviz.scene.model import Scene

#: The dashboard's first field: plain gradient descent, two kinds of momentum, and the two
#: adaptive rules most used; each has its own colour in :mod:`optviz.draw.style`.
DEFAULT_FIELD: tuple[str, ...] = ("SGD", "MSGD", "NAG", "RMSprop", "Adam")

#: Where the tuned rates are read (package data; :mod:`optviz.optimizers.rates` reads it).
RATES_FILE = _rates.RATES_FILE

#: The default scene (the dashboard's first race, and what the rates are tuned on): a
#: ``DEFAULT_GRID`` × ``DEFAULT_GRID`` grid in the box in 2-D, ``DEFAULT_POINTS_1D`` spread
#: points in 1-D (both 10 % of the box in from its edges), ``DEFAULT_STEPS`` steps, seed 0,
#: a start converged when its distance to the nearest minimizer is at most ``DEFAULT_TOL``.
#: The first page's function (and the CLI's when none is named): four basins, and the default
#: field's tuned rates bring every start of the 4×4 grid to a minimum in 10-150 steps, at visibly
#: different speeds (on Rosenbrock none gets within the tolerance in 300 steps: a first
#: impression of "optimizers fail").
DEFAULT_FUNCTION = "himmelblau"
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
# (read in one place, optviz.optimizers.rates; these names are kept for older callers)
rates_table = _rates.table
default_dim = _rates.default_dim


def tuned_rates(function: str, dim: int | None = None) -> dict[str, dict[str, float]]:
    """Only the tuned values: optimizer -> {learning-rate name: value}; empty when ``function``
    (in ``dim``, default: its default dimension) was not tuned (:func:`optviz.optimizers.rates.tuned`)."""
    return _rates.tuned(function, dim)


def default_hyperparams(function: str, dim: int | None = None,
                        optimizers: tuple[str, ...] | list[str] = NAMES) -> dict[str, dict[str, float]]:
    """Every hyperparameter of each optimizer for ``function`` in ``dim`` under the tuned policy
    (:func:`optviz.optimizers.rates.defaults`): the registry's defaults with the tuned learning
    rate of ``default_rates.json`` over them. Unknown optimizer names raise ``KeyError``."""
    return {name: _rates.defaults(name, function, dim, "tuned") for name in optimizers}


# ---------------------------------------------------------------------- lessons
@dataclass(frozen=True, kw_only=True)
class Lesson:
    """A named scene with a note: one click (dashboard), ``--lesson NAME`` (command line) or
    ``lessons.get(NAME).scene.run()`` (API) sets up exactly :attr:`scene`, every value in it.

    Attributes:
        name: the id (``--lesson`` takes it).
        title: the button's text.
        note: one sentence: what to look at.
        scene: the race, every hyperparameter explicit (:class:`optviz.scene.Scene`).
        view: where the dashboard shows it: ``"race"`` (the lessons of the race's sidebar),
            ``"training"`` or ``"plane"`` (the sidebar's too, opening that view of a learning
            problem) or ``"noise_delay"`` (the "Noise & delay" view, for a scene with a gradient
            delay or a schedule the race's sidebar does not show).

    The old :class:`Preset` attributes read from the scene (``description``, ``function``,
    ``dim``, ``params``, ``optimizers``, ``starts``, ``steps``, ``seed``, ``extra``,
    :meth:`make_function`, :meth:`run_kwargs`) until every caller reads ``scene``.
    """

    name: str
    title: str
    note: str
    scene: Scene
    view: str = "race"

    # -------------------------------------------------------------- the old Preset's names
    @property
    def description(self) -> str:
        """The note (the old Preset's name for it)."""
        return self.note

    @property
    def function(self) -> str:
        """The registry name of the scene's function."""
        return self.scene.function.name  # type: ignore[return-value]

    @property
    def dim(self) -> int | None:
        return self.scene.function.dim

    @property
    def params(self) -> dict[str, float]:
        return dict(self.scene.function.params)

    @property
    def optimizers(self) -> Mapping[str, Mapping[str, float]]:
        """Every optimizer with every hyperparameter (read-only)."""
        return self.scene.optimizers

    @property
    def starts(self) -> list:
        """The starting points: numbers in 1-D, ``[x, y]`` lists in 2-D."""
        pts = self.scene.starts.points or ()
        return [p[0] if len(p) == 1 else list(p) for p in pts]

    @property
    def steps(self) -> int:
        return self.scene.steps

    @property
    def seed(self) -> int:
        return self.scene.seed

    @property
    def extra(self) -> dict[str, Any]:
        """The scene's settings that are not the defaults, as :func:`optviz.run` keywords
        (``schedule``, ``hooks``, ``noise``, ``noise_mode``, ``delay``, ``rates``)."""
        s = self.scene
        out: dict[str, Any] = {}
        if s.schedule != "constant":
            out["schedule"] = s.schedule
        if s.hooks:
            out["hooks"] = list(s.hooks)
        if s.noise:
            out["noise"] = s.noise
        if s.noise_mode != "absolute":
            out["noise_mode"] = s.noise_mode
        if s.delay:
            out["delay"] = s.delay
        if s.rates != _rates.DEFAULT:
            out["rates"] = s.rates
        return out

    def make_function(self):
        """The :class:`functions.TestFunction` the scene runs on."""
        return self.scene.build_function()

    def run_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`optviz.run` (:meth:`optviz.scene.Scene.run_kwargs`, fresh copies)."""
        return self.scene.run_kwargs()


def lesson(name: str, title: str, note: str, function: str, optimizers: Mapping[str, Mapping[str, float]],
           starts: Sequence, steps: int, *, seed: int = 0, rates: str = "tuned", view: str = "race",
           params: Mapping[str, float] | None = None, **settings: Any) -> Lesson:
    """A :class:`Lesson` on registry function ``function`` from typed ``starts``; ``optimizers``
    gives the values the lesson sets, ``rates`` the policy for the rest (see
    :mod:`optviz.optimizers.rates`); ``settings`` are further :class:`~optviz.scene.Scene` fields
    (``schedule``, ``delay``, ...)."""
    from optviz.scene.model import Scene, SceneFunction, Starts

    scene = Scene(function=SceneFunction(name=function, params=dict(params or {})), optimizers=optimizers,
                  starts=Starts.typed(starts), steps=steps, seed=seed, rates=rates, **settings)
    return Lesson(name=name, title=title, note=note, scene=scene, view=view)


def Preset(*, name: str, title: str, description: str, function: str,
           optimizers: Mapping[str, Mapping[str, Any]], starts: Sequence, steps: int, seed: int = 0,
           dim: int | None = None, params: Mapping[str, float] | None = None,
           extra: Mapping[str, Any] | None = None) -> Lesson:
    """The old way to make a lesson (kept until every caller makes :class:`Lesson`): ``optimizers``
    holds the values that differ from the registry's defaults, so the scene's rates are the
    article's (``extra`` may say ``rates="tuned"``)."""
    from optviz.scene.model import Scene, SceneFunction, Starts

    settings = {"rates": "article", **dict(extra or {})}
    scene = Scene(function=SceneFunction(name=function, dim=dim, params=dict(params or {})),
                  optimizers=optimizers, starts=Starts.typed(starts), steps=steps, seed=seed, **settings)
    return Lesson(name=name, title=title, note=description, scene=scene)


ARTICLE_QUARTIC = lesson(
    name="article-quartic",
    title="The article's quartic",
    note="The article's demo: 17 optimizers on the quartic from x = -3, 100 steps, seed 32.",
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
    rates="article",  # the rest at the article's own values
)

MOMENTUM_VALLEY = lesson(
    name="momentum-valley",
    title="Momentum in a narrow valley",
    note="In a narrow valley (condition number 100) plain gradient descent, even at its largest "
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

ADAPTIVE_ROSENBROCK = lesson(
    name="adaptive-rosenbrock",
    title="Adaptive rates on Rosenbrock",
    note="One step size must suit both Rosenbrock's steep walls and its flat curved floor, so SGD "
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

SADDLE_ESCAPE = lesson(
    name="saddle-escape",
    title="Escaping a saddle",
    note="Started next to the ridge of the saddle x² − y², where the gradient almost vanishes, SGD "
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

HIMMELBLAU_BASINS = lesson(
    name="himmelblau-basins",
    title="Himmelblau's four minima",
    note="Himmelblau's function has four minima: plain gradient descent takes every start of the "
                "grid to the minimum of its own basin, while momentum carries some of them over a ridge into "
                "another one.",
    function="himmelblau",
    optimizers={"SGD": {"eta": 0.01}, "MSGD": {"eta": 0.01}},
    starts=[[x, y] for x in (-4.0, -4 / 3, 4 / 3, 4.0) for y in (-4.0, -4 / 3, 4 / 3, 4.0)],  # the 4x4 grid
    steps=300,
)

_CAMEL_GRID = (-2.4, -0.8, 0.8, 2.4)  # a 4x4 grid, 10 % in from the edges of the camel's box

DELAYED_DCASGD = lesson(
    name="delayed-dcasgd",
    title="Delayed gradients: SGD vs DCASGD",
    note="Under a 4-step gradient delay, as in asynchronous training, SGD's stale gradients throw "
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
    delay=4,
    view="noise_delay",
)

SCHEDULE_MOMENTUM = lesson(
    name="schedule-momentum",
    title="Momentum, warm-up and a drop",
    note="CorrectedMomentumSGD and MSGD are one rule at a constant rate (lr = η(1 − μ)) and part "
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
    schedule="warmup:steps=50+step:every=100,gamma=0.1",
    view="noise_delay",
)

LION_VS_ADAM = lesson(
    name="lion-vs-adam",
    title="Lion vs Adam",
    note="Lion steps by the sign of its momentum, so every coordinate moves by exactly lr each step: its "
                "paths are 45° zig-zags at one speed, and near a minimum it cannot settle but hops about it "
                "(0 of the 16 starts within 0.001 after 300 steps, median distance 0.027 ≈ lr), where Adam, "
                "whose steps shrink with its momentum, converges from all 16.",
    function="himmelblau",
    optimizers={"Lion": {"lr": 0.03, "weight_decay": 0.0}, "Adam": {"alpha": 0.1}},
    starts=[[x, y] for x in (-4.0, -4 / 3, 4 / 3, 4.0) for y in (-4.0, -4 / 3, 4 / 3, 4.0)],  # the 4x4 grid
    steps=300,
)

SCHEDULE_FREE_COSINE = lesson(
    name="schedule-free-cosine",
    title="Schedule-free vs cosine schedule",
    note="With noisy gradients (σ = 3) AdamW settles only as the cosine schedule, which must know the "
                "run's length, shrinks its rate; schedule-free AdamW keeps one rate and shows the running "
                "average of its steps instead: its median distance to a minimum is the smaller at 283 of the "
                "300 steps (from step 15 on, but for three steps near step 70), and the two end level "
                "(0.008 vs 0.009), though it was never told when the run stops.",
    function="himmelblau",
    optimizers={  # the same rate; the scene's cosine schedule leaves the schedule-free rule's alone
        "AdamW": {"lr": 0.2, "weight_decay": 0.0},
        "ScheduleFreeAdamW": {"lr": 0.2},
    },
    starts=[[x, y] for x in (-4.0, -4 / 3, 4 / 3, 4.0) for y in (-4.0, -4 / 3, 4 / 3, 4.0)],
    steps=300,
    schedule="cosine",
    noise=3.0,
    view="noise_delay",
)


def problem_lesson(name: str, title: str, note: str, function: str,
                   optimizers: Mapping[str, Mapping[str, float]], steps: int, view: str, *,
                   params: Mapping[str, float] | None = None, starts: int = 8, **settings: Any) -> Lesson:
    """A :class:`Lesson` on a learning problem (:mod:`functions.problems`) from ``starts`` random
    starts (seed 0) in its box: its parameters are too many to type."""
    from optviz.scene.model import Scene, SceneFunction, Starts

    scene = Scene(function=SceneFunction(name=function, params=dict(params or {})), optimizers=optimizers,
                  starts=Starts.random(starts, seed=0), steps=steps, **settings)
    return Lesson(name=name, title=title, note=note, scene=scene, view=view)


MINIBATCH_MOONS = problem_lesson(
    name="minibatch-moons",
    title="Minibatch noise: SGD vs Adam",
    note="A 2-16-1 network on two moons with minibatches of 16 of the 256 samples (the same batch for both "
         "at each step): Adam, ahead of SGD on the full batch (training loss 0.034 vs 0.051 after 300 "
         "steps), loses its lead to the noise (0.058 vs 0.051) and reaches 95 % test accuracy from 7 of "
         "the 8 starts to SGD's 8.",
    function="moons-mlp",
    optimizers={"SGD": {"eta": 0.5}, "Adam": {"alpha": 0.02}},
    steps=300,
    view="training",
    batch=16,
)

ILL_CONDITIONED_LSQ = problem_lesson(
    name="ill-conditioned-least-squares",
    title="Ill-conditioning: momentum",
    note="On least squares whose Hessian has condition number κ = 1000 (10 parameters), SGD must keep η "
         "below 2/1000 (here 0.0019) and after 300 steps is still a median 1.0 from the minimum, while "
         "momentum (MSGD, μ = 0.9) is stable at 16 times that rate and is within 0.001 of it in a median "
         "of about 170 steps.",
    function="least-squares",
    params={"kappa": 1000.0},
    optimizers={"SGD": {"eta": 0.0019}, "MSGD": {"eta": 0.03, "mu": 0.9}},
    steps=300,
    view="plane",
)

#: Every lesson by name, in display order: the sidebar's first, then the "Noise & delay" view's.
ALL_LESSONS: dict[str, Lesson] = {p.name: p for p in (
    MOMENTUM_VALLEY, ADAPTIVE_ROSENBROCK, SADDLE_ESCAPE, HIMMELBLAU_BASINS, LION_VS_ADAM, MINIBATCH_MOONS,
    ILL_CONDITIONED_LSQ, ARTICLE_QUARTIC, DELAYED_DCASGD, SCHEDULE_MOMENTUM, SCHEDULE_FREE_COSINE,
)}
#: The lessons of the sidebar, in display order (shown in the race, or for a learning problem in its
#: "training" or "plane" view).
LESSONS: dict[str, Lesson] = {k: v for k, v in ALL_LESSONS.items() if v.view != "noise_delay"}
#: Lessons whose scene needs a gradient delay or a warm-up + step schedule, which the race's
#: sidebar cannot show yet: the dashboard's "Noise & delay" view runs them as they are.
GRADIENT_LESSONS: tuple[str, ...] = tuple(k for k, v in ALL_LESSONS.items() if v.view == "noise_delay")
#: The old name of :data:`ALL_LESSONS` (kept until every caller has switched).
PRESETS = ALL_LESSONS


def get(name: str) -> Lesson:
    """The lesson called ``name``; ``KeyError`` lists the valid names."""
    try:
        return ALL_LESSONS[name]
    except KeyError:
        raise KeyError(f"unknown lesson {name!r}; valid: {', '.join(ALL_LESSONS)}") from None


__all__ = [
    "ADAPTIVE_ROSENBROCK", "ALL_LESSONS", "ARTICLE_QUARTIC", "DEFAULT_FIELD", "DEFAULT_GRID",
    "DEFAULT_POINTS_1D", "DEFAULT_SEED", "DEFAULT_STEPS", "DEFAULT_TOL", "DELAYED_DCASGD", "GRADIENT_LESSONS",
    "HIMMELBLAU_BASINS", "LESSONS", "LION_VS_ADAM", "MOMENTUM_VALLEY", "PRESETS", "SADDLE_ESCAPE",
    "SCHEDULE_FREE_COSINE", "SCHEDULE_MOMENTUM",
    "Lesson", "Preset", "default_dim", "default_hyperparams", "default_starts", "get", "lesson",
    "rates_table", "tuned_rates",
]  # fmt: skip

"""Fair comparison: tune every optimizer on the same budget, compare them on held-out starts.

The protocol (:func:`compare`; the README states it too):

1. **Problems.** For each test function, a *tuning set* and a disjoint *held-out set*: each is
   a number of seeds, and each seed draws its own random starts in the function's box
   (:func:`optviz.scene.starts.random`) and seeds its own random draws (gradient noise, Santa).
   Both sets are derived from ``seed`` and the function's name, so they are the same for every
   optimizer and a fixed seed reproduces the whole comparison exactly.
2. **Search space.** Per optimizer, every learning-rate hyperparameter (log-uniform in
   [:data:`LR_LOW`, :data:`LR_HIGH`] = [1e-5, 3]), every momentum and first-moment β (``mu``,
   ``momentum``, ``beta1``: β in [0.5, 0.99]) and second-moment decay (``beta2``, ``nu``,
   ``rho``: β in [0.9, 0.9999]), both with 1 − β log-uniform, and DCASGD's ``lamda``
   (log-uniform in [1e-3, 1]); the rest at the registry's defaults. ``space=`` replaces any of
   it, and a hyperparameter given in ``optimizers`` is held fixed.
3. **Budget.** Every optimizer gets the same number of configurations per function
   (``budget``), drawn by Latin hypercube sampling in its space from a generator seeded by
   (``seed``, function, optimizer); each configuration runs every start of the tuning set for
   the same number of steps: the same number of gradient evaluations for every optimizer.
4. **Objective** (robust, lexicographic; :mod:`optviz.explore.measures`): the largest share of
   tuning points converged (error within ``tol`` by the end), then the fewest median steps to
   the tolerance, then the lowest median final error (diverged = ∞).
5. **Held-out comparison.** Each optimizer's chosen configuration runs the held-out set. A
   *problem* is one held-out start (of one seed, of one function); its cost for an optimizer
   is the steps to reach the tolerance (∞ if it does not converge; at least 1).
6. **Performance profiles** (Dolan & Moré 2002): ρ_s(τ), the share of problems that optimizer
   ``s`` solves within τ times the fewest steps any optimizer needed on that problem; ρ_s(1)
   is the share it wins, ρ_s(∞) the share it solves (a failure never counts as solved). **Data
   profiles** (Moré & Wild 2009): d_s(κ), the share of problems ``s`` solves within κ·(n + 1)
   gradient evaluations (n: the problem's dimension; one evaluation per step). Both are computed
   from the stored costs, for any subset of the optimizers (:meth:`Comparison.profile`,
   :meth:`Comparison.data_profile`): dropping one recomputes the others' ratios without rerunning.
7. **Uncertainty** (:mod:`optviz.explore.uncertainty`): bootstrap 90 % intervals over the held-out
   seeds and starts for each optimizer's share solved and median steps, seeded by ``seed``.
   **The table** orders the optimizers by the objective pooled over every problem (share solved,
   then median steps, then median error); optimizers whose intervals overlap share a rank, and
   the headline says "no clear winner" when more than one is ranked first.

**Learning problems** (:mod:`functions.problems`) take part like any test function: least squares
and logistic regression list their exact minimizer (the error is the distance to it). A network
(``moons-mlp``, ``spirals-mlp``) has no known minimum, so its error is the training loss against a
**target loss** ``L*`` (kind ``"loss"``), set the way MLCommons' AlgoPerf sets its training-time
targets (Dahl et al. 2023), from the tuned optimizers before the held-out starts run: while tuning,
the error is the training loss itself; ``L*`` is then the lowest median final training loss that
any optimizer's chosen configuration reached on the tuning starts, and a held-out start is solved
when its training loss first gets within ``tol`` of ``L*`` (``≤ L* + tol``), its cost the first
step there (time to target, as AlgoPerf counts it: minibatch noise moves the loss up and down
around the target, so "and stays there" would count the noise) (:attr:`Comparison.targets`; the
table and the JSON state it). ``batch=B`` gives every run on a
learning problem minibatch gradients (the samples drawn from (seed, step), the same for every
optimizer); a function without training data refuses it. One step is one (minibatch) gradient
evaluation in the data profiles.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from functions.problems import check_problem_batch
from optviz.engine.run import MAX_SECONDS, MAX_STEPS, resolve_function
from optviz.engine.run import run as run_engine
from optviz.explore.measures import (
    OBJECTIVE,
    Stats,
    best_index,
    check_count,
    check_options,
    check_tol,
    choose_optimizers,
    fill_rates,
    function_label,
    options_json,
    planned_hyperparams,
    resolve_kind,
    stats,
    to_json,
    with_target,
)
from optviz.explore.scale import Batch, Finals, ProgressFn, connect, run_batches
from optviz.explore.uncertainty import (
    LEVEL,
    METHOD,
    REPLICATES,
    Estimate,
    estimate,
    headline,
    resample,
    seed_groups,
)
from optviz.explore.uncertainty import ranks as tied_ranks
from optviz.optimizers import REGISTRY
from optviz.scene import starts as _starts
from optviz.scene.lessons import DEFAULT_FIELD
from optviz.scene.text import quote

#: The protocol in a few lines of Markdown (the dashboard shows it beside the results).
PROTOCOL = """\
1. **Problems.** For each function, a tuning set and a disjoint held-out set: a number of seeds,
   each drawing its own random starts in the box and seeding its own random draws. Both follow
   from the seed and the function's name, so they are the same for every optimizer.
2. **Search space.** Every learning rate (log-uniform in [1e-5, 3]), every momentum or
   first-moment β (in [0.5, 0.99]) and second-moment decay (in [0.9, 0.9999]), 1 − β
   log-uniform, and DCASGD's λ (log-uniform in [1e-3, 1]); the rest at the registry's defaults.
3. **Budget.** The same number of configurations per optimizer and function, drawn by Latin
   hypercube sampling; each runs every tuning start for the same number of steps.
4. **Objective.** The largest share of tuning starts converged, then the fewest median steps to
   the tolerance, then the lowest median final error.
5. **Held-out comparison.** The chosen configuration runs the held-out starts; a problem is one
   held-out start, its cost the steps to the tolerance (∞ when it does not converge).
6. **Performance profiles** (Dolan & Moré 2002): ρ(τ), the share of problems solved within τ times
   the fewest steps any optimizer needed; **data profiles** (Moré & Wild 2009): the share solved
   within a budget of κ·(n + 1) gradient evaluations (n: the function's dimension).
7. **Uncertainty.** Bootstrap 90 % intervals over the held-out seeds and starts for the share
   solved and the median steps; optimizers whose intervals overlap share a rank, and the headline
   says "no clear winner" when more than one is ranked first.
8. **Learning problems.** Least squares and logistic regression have an exact minimizer (the error
   is the distance to it). A network has no known minimum: its error is the training loss against a
   target loss `L*`, set before the held-out starts run (as MLCommons' AlgoPerf sets its targets):
   `L*` is the lowest median final training loss any optimizer's tuned configuration reached on the
   tuning starts (which tune on the loss itself), and a held-out start is solved when its training
   loss first gets within the tolerance of `L*` (its cost: that step, the time to target). A
   minibatch size applies to every run on a learning problem, with the same batches for every
   optimizer.
"""
#: How a network's target loss is set (the JSON and the outputs say it).
TARGET_RULE = ("the lowest median final training loss any optimizer's tuned configuration reached on the "
               "tuning starts; solved: the training loss reaches target + tol (its first step there: time "
               "to target)")
#: The functions compared by default: 2-D, each with listed global minimizers.
DEFAULT_FUNCTIONS: tuple[str, ...] = ("rosenbrock", "beale", "himmelblau", "booth", "matyas",
                                      "goldstein_price", "six_hump_camel", "three_hump_camel")
DEFAULT_OPTIMIZERS: tuple[str, ...] = DEFAULT_FIELD
#: The default search ranges: learning rates; momenta and first-moment βs; second-moment decays.
LR_LOW, LR_HIGH = 1e-5, 3.0
MOMENTUM_RANGE = (0.5, 0.99)
DECAY_RANGE = (0.9, 0.9999)
#: Hyperparameters tuned as a momentum or β (1 − β on a log scale), by range.
MOMENTUM_LIKE = ("mu", "momentum", "beta1")
DECAY_LIKE = ("beta2", "nu", "rho")
SCALES = ("log", "beta", "linear")
#: Role words mixed into the seeds of the two sets.
TUNE, TEST = 1, 2
MAX_BUDGET = 10_000


@dataclass(frozen=True)
class Dim:
    """One tuned hyperparameter: a range on a scale, or a list of values."""

    name: str
    low: float
    high: float
    scale: str = "log"
    values: tuple[float, ...] | None = None

    def at(self, u: float) -> float:
        """The value at ``u`` in [0, 1)."""
        if self.values is not None:
            return float(self.values[min(int(u * len(self.values)), len(self.values) - 1)])
        if self.scale == "log":
            return float(math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low))))
        if self.scale == "beta":  # 1 - β log-uniform: as many draws in [0.9, 0.99] as in [0.99, 0.999]
            a, b = math.log(1 - self.high), math.log(1 - self.low)
            return float(1 - math.exp(b + u * (a - b)))
        return float(self.low + u * (self.high - self.low))

    def describe(self) -> dict[str, Any]:
        if self.values is not None:
            return {"values": list(self.values)}
        return {"low": self.low, "high": self.high, "scale": self.scale}


def default_space(optimizer: str) -> list[Dim]:
    """The hyperparameters :func:`compare` tunes for ``optimizer``, with their ranges."""
    spec = REGISTRY[optimizer]
    dims = []
    for h in spec.hyperparams:
        if h.lr:
            dims.append(Dim(h.name, max(LR_LOW, h.low), min(LR_HIGH, h.high), "log"))
        elif h.name in MOMENTUM_LIKE + DECAY_LIKE:
            lo, hi = MOMENTUM_RANGE if h.name in MOMENTUM_LIKE else DECAY_RANGE
            dims.append(Dim(h.name, max(lo, h.low), min(hi, h.high), "beta"))
        elif optimizer == "DCASGD" and h.name == "lamda":
            dims.append(Dim(h.name, 1e-3, 1.0, "log"))
    return dims


def _space(optimizer: str, given: Mapping[str, Any] | None, fixed: Mapping[str, Any]) -> list[Dim]:
    """The default space with ``given`` entries replacing (or adding) dimensions, minus what is fixed."""
    dims = {d.name: d for d in default_space(optimizer)}
    spec = REGISTRY[optimizer]
    if given is not None and not isinstance(given, Mapping):
        raise ValueError(f"space {optimizer}: expected {{hyperparameter: (low, high) or [values]}}, "
                         f"got {quote(given)}")
    for hp_name, how in (given or {}).items():
        try:
            hp = spec.hyperparam(hp_name)
        except KeyError as exc:
            raise KeyError(f"space: {exc.args[0]}") from None
        where = f"space {optimizer}.{hp_name}"
        if isinstance(how, tuple) and len(how) == 2:
            lo, hi = (hp.check(v, optimizer) for v in how)
            if not lo < hi:
                raise ValueError(f"{where}: a range is (low, high) with low < high, got {quote(how)}")
            scale = dims[hp_name].scale if hp_name in dims else ("log" if hp.log else "linear")
            if scale == "log" and lo <= 0:
                raise ValueError(f"{where}: a log-scaled range needs low > 0, got {quote(how)}")
            dims[hp_name] = Dim(hp_name, float(lo), float(hi), scale)
        elif isinstance(how, Sequence) and not isinstance(how, str) and len(how) >= 1:
            vals = tuple(float(hp.check(v, optimizer)) for v in how)
            if len(set(vals)) != len(vals):
                raise ValueError(f"{where}: values must be distinct, got {quote(list(how))}")
            dims[hp_name] = Dim(hp_name, min(vals), max(vals), "list", vals)
        else:
            raise ValueError(f"{where} must be a (low, high) range or a list of values, got {quote(how)}")
    return [d for name, d in dims.items() if name not in fixed]


def _rng(*words: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(w) for w in words]))


def _crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def candidates(dims: list[Dim], budget: int, rng: np.random.Generator) -> list[dict[str, float]]:
    """``budget`` configurations: a Latin hypercube over ``dims`` (each range cut into ``budget``
    strata, one draw in each, strata shuffled per dimension). When every dimension is a list of
    values and their grid fits the budget, the whole grid (in order) instead; a larger grid
    gives ``budget`` of its configurations, drawn without replacement."""
    if not dims:
        return [{}]
    if all(d.values is not None for d in dims):
        grid = [dict(zip([d.name for d in dims], combo, strict=True))
                for combo in np.array(np.meshgrid(*[d.values for d in dims], indexing="ij")).reshape(
                    len(dims), -1).T.tolist()]
        if len(grid) <= budget:
            return grid
        pick = np.sort(rng.choice(len(grid), size=budget, replace=False))
        return [grid[i] for i in pick]
    u = np.empty((budget, len(dims)))
    for j in range(len(dims)):
        u[:, j] = (rng.permutation(budget) + rng.random(budget)) / budget
    return [{d.name: d.at(float(u[i, j])) for j, d in enumerate(dims)} for i in range(budget)]


@dataclass(frozen=True)
class PointSet:
    """A set of points of one function: ``starts`` ``(n, dim)`` with one engine seed each; seed
    ``k`` of the set holds points ``k*per_seed`` to ``(k+1)*per_seed``."""

    starts: np.ndarray
    seeds: np.ndarray
    per_seed: int


def point_set(fn: Any, seed: int, role: int, n_seeds: int, per_seed: int) -> PointSet:
    """The tuning (``role=TUNE``) or held-out (``role=TEST``) set of ``fn``: each of its seeds
    draws its own ``per_seed`` random starts in the box and seeds its own random draws."""
    name = getattr(fn, "name", "custom")
    words = np.random.SeedSequence([int(seed), _crc(name), role]).generate_state(n_seeds, dtype=np.uint32)
    starts = np.concatenate([_starts.random(fn.box, per_seed, seed=int(w)) for w in words])
    return PointSet(starts, np.repeat(words.astype(np.uint64), per_seed), per_seed)


@dataclass
class Comparison:
    """The outcome of :func:`compare`.

    Attributes:
        functions: the test functions (objects), in order; ``labels`` their names.
        names: the optimizers, in order.
        budget, steps, tol, seed, n_seeds, tune_starts, test_starts: the protocol's settings.
        kinds: per function, the error measure (``"distance"`` or ``"gap"``).
        space: per optimizer, the tuned dimensions.
        trials: per function and optimizer, every configuration tried and its tuning
            :class:`~optviz.explore.measures.Stats`.
        tuned: per function and optimizer, the chosen configuration (every hyperparameter).
        held_out: per function and optimizer, the chosen configuration's held-out Stats.
        cost: per optimizer, every problem's cost (steps to tolerance; ∞ unsolved), ``(n_problems,)``.
        problems: per problem, ``(function label, seed, start index)``.
        overall: per optimizer, the Stats pooled over every problem.
        ranking: the optimizers, best first by the objective on ``overall``.
        tune_sets, test_sets: per function, the :class:`PointSet` used.
        options: the run options (noise, delay, schedule, hooks, minibatch size, ...).
        targets: per network without a known minimum (kind ``"loss"``), its target training loss
            L* (solved: training loss ≤ L* + tol; see the module docstring).
        test_accuracy: per classifier (logistic regression, the networks) and optimizer, each
            held-out start's test accuracy at the end of its run (what the loss bought).
    """

    functions: tuple[Any, ...]
    labels: tuple[str, ...]
    names: tuple[str, ...]
    budget: int
    steps: int
    tol: float
    seed: int
    n_seeds: int
    tune_starts: int
    test_starts: int
    kinds: dict[str, str]
    space: dict[str, list[Dim]]
    trials: dict[str, dict[str, list[tuple[dict[str, float], Stats]]]]
    tuned: dict[str, dict[str, dict[str, float]]]
    held_out: dict[str, dict[str, Stats]]
    cost: dict[str, np.ndarray]
    problems: list[tuple[str, int, int]]
    overall: dict[str, Stats]
    ranking: list[str]
    tune_sets: dict[str, PointSet]
    test_sets: dict[str, PointSet]
    options: dict[str, Any] = field(default_factory=dict)
    elapsed: float = 0.0
    targets: dict[str, float] = field(default_factory=dict)
    test_accuracy: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def median_accuracy(self, label: str, name: str) -> float | None:
        """The median held-out test accuracy at the end of ``name``'s runs on classifier ``label``,
        over the starts that did not diverge (None for a function that is not a classifier, or
        when every start diverged)."""
        acc = self.test_accuracy.get(label, {}).get(name)
        if acc is None or not np.isfinite(acc).any():
            return None
        return float(np.nanmedian(acc))

    def target_text(self, label: str) -> str:
        """One line on what solved means for a network without a known minimum ("" for the others)."""
        if label not in self.targets:
            return ""
        t = f"{self.targets[label]:.4g}"
        return (f"{label} has no known minimum: solved = training loss reaches {t} + tol {self.tol:g} (time "
                f"to target), {t} being the lowest median final training loss any tuned optimizer reached on "
                "the tuning starts")

    def _cost(self, names: Sequence[str] | None) -> dict[str, np.ndarray]:
        if names is None:
            return self.cost
        unknown = [n for n in names if n not in self.cost]
        if unknown or not names:
            raise ValueError(f"choose among the optimizers compared ({', '.join(self.names)}), "
                             f"got {quote(list(names))}")
        return {n: self.cost[n] for n in self.names if n in names}

    def ratios(self, names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Per optimizer and problem, cost ÷ the best cost on that problem among ``names``
        (default: all) (∞: unsolved, or nobody solved it)."""
        return performance_ratios(self._cost(names))

    def profile(self, taus: Any = None, names: Sequence[str] | None = None
                ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(taus, {optimizer: ρ(τ)})``, Dolan & Moré's performance profile of ``names``
        (default: all; the best cost is the best among them) (default τ: every ratio where a
        profile steps, and 1)."""
        return performance_profile(self._cost(names), taus)

    @property
    def problem_dims(self) -> np.ndarray:
        """Each problem's dimension (its function's)."""
        dims = {lab: int(f.dim) for f, lab in zip(self.functions, self.labels, strict=True)}
        return np.array([dims[p[0]] for p in self.problems], dtype=np.int64)

    def data_profile(self, kappas: Any = None, names: Sequence[str] | None = None
                     ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(kappas, {optimizer: d(κ)})``, Moré & Wild's data profile of ``names`` (default:
        all): the share of problems solved within κ·(n + 1) gradient evaluations (default κ: every
        value where a profile steps)."""
        return data_profile(self._cost(names), self.problem_dims, kappas)

    @cached_property
    def estimates(self) -> dict[str, Estimate]:
        """Per optimizer, the share solved and median steps over every held-out problem, with
        bootstrap 90 % intervals over the held-out seeds and starts (seeded by :attr:`seed`)."""
        groups, base = [], 0
        for lab in self.labels:
            ps = self.test_sets[lab]
            groups.append([base + g for g in seed_groups(ps.seeds)])
            base += ps.starts.shape[0]
        idx = resample(groups, self.seed)
        return {n: estimate(np.isfinite(self.cost[n]), self.cost[n], idx) for n in self.names}

    def ranks(self) -> dict[str, int]:
        """Each optimizer's rank, shared where the intervals overlap
        (:func:`optviz.explore.uncertainty.ranks`)."""
        return tied_ranks(self.estimates)

    def headline(self) -> str:
        """Who wins, or "No clear winner: ..." when the intervals say nobody clearly does."""
        return headline(self.estimates, self.ranking)

    def table(self) -> list[dict[str, Any]]:
        """One row per optimizer, best first (by rank, then the objective's :attr:`ranking`): rank
        (shared where the intervals overlap), share of
        problems solved (with its 90 % interval) and won, median steps to tolerance (with its
        interval) and final error over every problem, and per function the held-out share
        converged and median steps."""
        _, rho = self.profile([1.0])
        rank = self.ranks()
        rows = []
        for name in sorted(self.ranking, key=lambda n: (rank[n], self.ranking.index(n))):
            o, e = self.overall[name], self.estimates[name]
            rows.append({
                "rank": rank[name], "optimizer": name, "solved": o.share_converged,
                "solved_interval": [e.success_low, e.success_high], "wins": float(rho[name][0]),
                "median_steps_to_tol": o.median_steps,
                "median_steps_interval": None if e.steps_low is None else [e.steps_low, e.steps_high],
                "median_final_error": o.median, "diverged": o.share_diverged,
                "per_function": {f: {"share_converged": self.held_out[f][name].share_converged,
                                     "median_steps_to_tol": self.held_out[f][name].median_steps,
                                     "median_final_error": self.held_out[f][name].median,
                                     **({"median_test_accuracy": self.median_accuracy(f, name)}
                                        if f in self.test_accuracy else {})}
                                 for f in self.labels},
            })
        return rows

    def to_json(self) -> dict[str, Any]:
        """The protocol's settings, the tuned configurations, the held-out results, the
        performance profiles and the table."""
        taus, rho = self.profile()
        kappas, data = self.data_profile()
        return to_json({
            "protocol": {
                "budget": self.budget, "steps": self.steps, "tol": self.tol, "seed": self.seed,
                "seeds": self.n_seeds, "tune_starts": self.tune_starts, "test_starts": self.test_starts,
                "objective": OBJECTIVE,
                "search": "Latin hypercube, the same budget of configurations per optimizer and function",
                "problem": "one held-out start of one seed of one function; cost = steps to tol",
            },
            "functions": [function_label(f) | {"kind": self.kinds[lab]} | self._target_json(lab)
                          for f, lab in zip(self.functions, self.labels, strict=True)],
            "optimizers": list(self.names),
            "options": options_json(self.options),
            "space": {n: {d.name: d.describe() for d in dims} for n, dims in self.space.items()},
            "tuned": {f: {n: {"hyperparams": self.tuned[f][n], "tuning": self._tuning(f, n).as_dict(),
                              "held_out": self.held_out[f][n].as_dict()} for n in self.names}
                      for f in self.labels},
            "profile": {"tau": taus, "rho": rho},
            "data_profile": {"kappa": kappas, "share": data,
                             "budget": "kappa * (dim + 1) gradient evaluations (one per step)"},
            "uncertainty": {"level": LEVEL, "replicates": REPLICATES, "seed": self.seed, "method": METHOD},
            "headline": self.headline(),
            "ratios": self.ratios(),
            "problems": [list(p) for p in self.problems],
            "ranking": self.ranking,
            "table": self.table(),
            "elapsed_s": self.elapsed,
        })

    def _target_json(self, label: str) -> dict[str, Any]:
        if label not in self.targets:
            return {}
        return {"target": {"loss": self.targets[label], "tol": self.tol, "rule": TARGET_RULE}}

    def _tuning(self, f: str, name: str) -> Stats:
        chosen = self.tuned[f][name]
        for config, st in self.trials[f][name]:
            if all(chosen.get(k) == v for k, v in config.items()):
                return st
        raise KeyError(name)  # pragma: no cover - the chosen one is always a trial


def performance_ratios(cost: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Dolan & Moré's ratios r_{p,s} = t_{p,s} / min_s t_{p,s} (∞ where unsolved)."""
    names = list(cost)
    t = np.stack([np.asarray(cost[n], dtype=float) for n in names])
    best = np.min(t, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(np.isfinite(t) & np.isfinite(best[None, :]), t / best[None, :], math.inf)
    return {n: r[i] for i, n in enumerate(names)}


def performance_profile(cost: Mapping[str, np.ndarray], taus: Any = None
                        ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``(taus, {name: ρ(τ)})``: for each optimizer, the share of problems it solves within a
    factor τ of the best (Dolan & Moré 2002). Default τ: 1 and every finite ratio (the points
    where a profile steps)."""
    r = performance_ratios(cost)
    if taus is None:
        finite = np.concatenate([v[np.isfinite(v)] for v in r.values()] + [np.ones(1)])
        taus = np.unique(finite)
    taus = np.asarray(taus, dtype=float).ravel()
    return taus, {n: _share_within(v, taus) for n, v in r.items()}


def _share_within(values: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """Per limit, the share of ``values`` that are finite (solved) and at most the limit: a
    failure (∞) never counts, even at an infinite limit."""
    v = np.asarray(values, dtype=float)
    solved = np.isfinite(v)
    return np.sum(solved[None, :] & (v[None, :] <= limits[:, None]), axis=1) / max(v.size, 1)


def data_profile(cost: Mapping[str, np.ndarray], dims: Any, kappas: Any = None
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``(kappas, {name: d(κ)})``: for each optimizer, the share of problems it solves within
    κ·(n_p + 1) gradient evaluations, n_p the problem's dimension (Moré & Wild 2009); ``cost``
    per problem in steps (one gradient evaluation each; ∞ unsolved). Default κ: every value where
    a profile steps."""
    dims = np.asarray(dims, dtype=float).ravel()
    units = {n: np.asarray(v, dtype=float) / (dims + 1.0) for n, v in cost.items()}
    if kappas is None:
        kappas = np.unique(np.concatenate([u[np.isfinite(u)] for u in units.values()] + [np.zeros(1)]))
    kappas = np.asarray(kappas, dtype=float).ravel()
    return kappas, {n: _share_within(u, kappas) for n, u in units.items()}


def compare(
    functions: Any = DEFAULT_FUNCTIONS,
    optimizers: Any = DEFAULT_OPTIMIZERS,
    *,
    budget: int = 20,
    steps: int = 300,
    tol: float = 1e-3,
    kind: str = "auto",
    seeds: int = 2,
    tune_starts: int = 8,
    test_starts: int = 16,
    seed: int = 0,
    space: Mapping[str, Mapping[str, Any]] | None = None,
    rates: str = "tuned",
    client: Any = None,
    scheduler: str | None = None,
    progress: ProgressFn | None = None,
    fused: bool | None = None,
    max_seconds: float | None = MAX_SECONDS,
    **options: Any,
) -> Comparison:
    """Tune each optimizer on each function on the same budget, then compare them on held-out
    starts, with performance profiles (see the module docstring for the protocol).

    Args:
        functions: registry names or test-function objects (or one of them).
        optimizers: names, a group, ``"all"``, or a mapping name -> hyperparameters held fixed
            (a fixed hyperparameter is not tuned).
        budget: configurations per optimizer and function.
        steps, tol, kind: each run's steps, and convergence (see :func:`optviz.explore.basins`);
            ``kind="auto"`` takes a network's training loss against its target (``"loss"``, see
            the module docstring).
        seeds: seeds per set; each seed draws its own starts and random draws.
        tune_starts, test_starts: starts per seed in the tuning and the held-out set.
        seed: the comparison's seed: sets, configurations and draws all follow from it.
        space: per optimizer, ``{hyperparameter: (low, high) | [values]}`` replacing the default
            search space's entries (:func:`default_space`).
        rates: the values of hyperparameters neither given nor searched, as for
            :func:`optviz.run`: ``"tuned"`` or ``"article"`` (alias ``"registry"``).
        client, scheduler, progress, fused, max_seconds: as for :func:`optviz.explore.basins`
            (``progress`` counts the tuning and the held-out runs together).
        options: further :func:`optviz.run` keywords (``noise``, ``delay``, ``schedule``,
            ``batch``, ...), the same for every run; ``batch`` needs every function to be a
            learning problem.
    """
    check_options(options, "compare")
    one = isinstance(functions, str) or hasattr(functions, "grad")
    fns = [resolve_function(f) for f in ([functions] if one else list(functions))]
    if not fns:
        raise ValueError("choose at least one test function")
    labels = tuple(getattr(f, "name", f"function {i}") for i, f in enumerate(fns))
    if len(set(labels)) != len(labels):
        raise ValueError(f"each function once, please; got {', '.join(labels)}")
    budget = check_count(budget, "budget", 1, MAX_BUDGET)
    steps = check_count(steps, "steps", 1, MAX_STEPS)
    tol = check_tol(tol)
    n_seeds = check_count(seeds, "seeds", 1, 1000)
    tune_starts = check_count(tune_starts, "tune_starts", 1, 100_000)
    test_starts = check_count(test_starts, "test_starts", 1, 100_000)
    seed = check_count(seed, "seed", 0)
    kinds = {lab: resolve_kind(f, kind) for f, lab in zip(fns, labels, strict=True)}
    if options.get("batch") is not None:
        for f in fns:
            check_problem_batch(f, options["batch"])
    # the engine's function and error per function: a network's loss is a gap to its target (0 while
    # tuning: the loss itself; then the target the tuned optimizers set)
    runs = {lab: with_target(f, 0.0) if kinds[lab] == "loss" else f
            for f, lab in zip(fns, labels, strict=True)}
    gauge = {lab: "gap" if k == "loss" else k for lab, k in kinds.items()}
    fixed = choose_optimizers(optimizers)
    names = tuple(fixed)
    if space is not None:
        if not isinstance(space, Mapping):
            raise ValueError("space must map optimizer -> {hyperparameter: range or values}, "
                             f"got {quote(space)}")
        unknown = [k for k in space if k not in names]
        if unknown:
            raise ValueError(f"space names {', '.join(map(str, unknown))}, not among the optimizers "
                             f"({', '.join(names)})")
    dims = {n: _space(n, (space or {}).get(n), fixed[n]) for n in names}

    pairs = list(zip(fns, labels, strict=True))
    filled = {lab: fill_rates(f, fixed, rates) for f, lab in pairs}  # the rest: the rates policy's
    tune_sets = {lab: point_set(f, seed, TUNE, n_seeds, tune_starts) for f, lab in pairs}
    test_sets = {lab: point_set(f, seed, TEST, n_seeds, test_starts) for f, lab in pairs}
    configs = {lab: {n: candidates(dims[n], budget, _rng(seed, _crc(lab), _crc(n))) for n in names}
               for lab in labels}

    def tune_batch(f: Any, lab: str) -> Batch:
        ps = tune_sets[lab]
        m = ps.starts.shape[0]
        k = max(len(c) for c in configs[lab].values())
        hp = {}
        for n in names:
            cs = configs[lab][n]
            per = dict(filled[lab][n])
            for d in dims[n]:
                per[d.name] = np.repeat([c[d.name] for c in cs], m)
            hp[n] = _widen(per, k * m)
        return Batch(runs[lab], hp, np.tile(ps.starts, (k, 1)), steps, seed=np.tile(ps.seeds, k), tol=tol,
                     kind=gauge[lab], options=options)

    total = [0]
    counted = _Counter(progress, total)
    own = client is None and scheduler is not None
    with connect(None, scheduler) if own else nullcontext(client) as c:
        tune_b = [tune_batch(f, lab) for f, lab in zip(fns, labels, strict=True)]
        total[0] = sum(b.work for b in tune_b) + sum(len(names) * test_sets[lab].starts.shape[0] * steps
                                                     for lab in labels)
        tune_f = run_batches(tune_b, client=c, fused=fused, progress=counted if progress else None,
                             max_seconds=max_seconds)
        trials, tuned = {}, {}
        for lab, fin in zip(labels, tune_f, strict=True):
            m = tune_sets[lab].starts.shape[0]
            trials[lab], tuned[lab] = {}, {}
            for n in names:
                cs = configs[lab][n]
                scored = [(cs[i], _stats(fin, n, slice(i * m, (i + 1) * m))) for i in range(len(cs))]
                trials[lab][n] = scored
                best = best_index([s for _, s in scored])
                tuned[lab][n] = planned_hyperparams({n: {**filled[lab][n], **cs[best]}}, 1)[n]
        targets = {lab: _target(lab, trials[lab], tuned[lab]) for lab in labels if kinds[lab] == "loss"}
        for lab, target in targets.items():
            runs[lab] = with_target(runs[lab], target)
        test_b = [Batch(runs[lab], {n: tuned[lab][n] for n in names}, test_sets[lab].starts, steps,
                        seed=test_sets[lab].seeds, tol=tol, kind=gauge[lab], options=options)
                  for lab in labels]
        counted.base = sum(b.work for b in tune_b)
        test_f = run_batches(test_b, client=c, fused=fused, progress=counted if progress else None,
                             max_seconds=max_seconds)
    held, cost = {}, {n: [] for n in names}
    problems: list[tuple[str, int, int]] = []
    for lab, fin in zip(labels, test_f, strict=True):
        ps = test_sets[lab]
        first = kinds[lab] == "loss"  # a network: the first step at its target (time to target)
        held[lab] = {n: _stats(fin, n, slice(None), first) for n in names}
        for n in names:
            conv, steps_to = _solved(fin, n, first)
            cost[n].append(np.where(conv, np.maximum(steps_to, 1), math.inf).astype(float))
        problems += [(lab, int(ps.seeds[i]), int(i % ps.per_seed)) for i in range(ps.starts.shape[0])]
    cost_arr = {n: np.concatenate(cost[n]) for n in names}
    overall = {}
    for n in names:
        e = np.concatenate([f.error[n] for f in test_f])
        solved = [_solved(f, n, kinds[lab] == "loss") for f, lab in zip(test_f, labels, strict=True)]
        t = np.concatenate([s for _, s in solved])
        cv = np.concatenate([c for c, _ in solved])
        dv = np.concatenate([f.diverged(n) for f in test_f])
        overall[n] = stats(e, t, cv, dv)
    ranking = sorted(names, key=lambda n: (overall[n].key(), names.index(n)))
    elapsed = sum(f.elapsed for f in tune_f) + sum(f.elapsed for f in test_f)
    accuracy = {lab: _test_accuracy(f, tuned[lab], test_sets[lab], steps, options) for f, lab in
                zip(fns, labels, strict=True) if getattr(f, "classifier", False)}
    return Comparison(tuple(fns), labels, names, budget, steps, tol, seed, n_seeds, tune_starts, test_starts,
                      kinds, dims, trials, tuned, held, cost_arr, problems, overall, ranking, tune_sets,
                      test_sets, dict(options), elapsed, targets, accuracy)


def _test_accuracy(fn: Any, tuned: Mapping[str, Mapping[str, float]], ps: PointSet, steps: int,
                   options: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Each held-out start's test accuracy where each tuned optimizer's run ends on classifier
    ``fn``: the held-out runs again (same configurations, starts, seeds and options), final state
    only, in this process."""
    res = run_engine(fn, {n: dict(hp) for n, hp in tuned.items()}, ps.starts, steps, seed=ps.seeds,
                     record_every=steps, **dict(options))
    out = {}
    for name in res.names:
        acc = np.asarray(fn.accuracy(np.asarray(res.trajectories[name][-1]), "test"), dtype=float)
        out[name] = np.where(res.diverged[name], np.nan, acc)
    return out


def _target(label: str, trials: Mapping[str, list[tuple[dict[str, float], Stats]]],
            tuned: Mapping[str, Mapping[str, float]]) -> float:
    """A network's target training loss: the lowest median final training loss of any optimizer's
    chosen configuration on the tuning starts (its error there is the loss itself)."""
    best = math.inf
    for name, scored in trials.items():
        chosen = tuned[name]
        for config, st in scored:
            if all(chosen.get(k) == v for k, v in config.items()):
                best = min(best, st.median)
                break
    if not math.isfinite(best):
        raise ValueError(f"{label}: no tuned optimizer kept a finite training loss on most tuning starts, "
                         "so there is no target loss to compare on (try more steps or a smaller batch noise)")
    return float(best)


def _widen(per: dict[str, Any], n: int) -> dict[str, Any]:
    """Per-point values padded to ``n`` points: an optimizer with fewer configurations than
    another (a small grid, or nothing left to tune) repeats its last one, and those extra points
    are not scored."""
    out = {}
    for key, v in per.items():
        if isinstance(v, np.ndarray) and v.size < n:
            v = np.concatenate([v, np.repeat(v[-1:], n - v.size)])
        out[key] = v
    return out


def _solved(fin: Finals, name: str, first: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Per point: solved, and the steps it took. A test function's point is solved when it
    converged (within ``tol`` from some step to the end); a network's (``first``) when its training
    loss first got within ``tol`` of the target: time to target, as a practitioner (and AlgoPerf)
    counts it, since minibatch noise moves the loss up and down around it."""
    if not first:
        return fin.converged(name), fin.steps_to_tol[name]
    entry = fin.first_entry[name]
    return (entry >= 0) & ~fin.diverged(name), entry


def _stats(fin: Finals, name: str, idx: Any, first: bool = False) -> Stats:
    conv, steps_to = _solved(fin, name, first)
    return stats(fin.error[name][idx], steps_to[idx], conv[idx], fin.diverged(name)[idx])


class _Counter:
    """Progress over the two phases (tuning, then held-out) as one count."""

    def __init__(self, progress: ProgressFn | None, total: list[int]):
        self.progress, self.total, self.base = progress, total, 0

    def __call__(self, done: int, _total: int) -> None:
        if self.progress is not None:
            self.progress(self.base + done, self.total[0])

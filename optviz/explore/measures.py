"""The measures every explore view shares: what "converged" means, robust statistics, the
ranking objective, the error kind, default learning rates, and JSON-ready numbers.

- **Converged** (a point): it did not diverge, its error reached the tolerance at some step
  (:attr:`optviz.Result.steps_to_tol` ≥ 0) and its final error is still at most the tolerance.
- **Statistics** over points count a diverged point's error as +∞ (so a median over starts where
  most diverge is ∞, not the median of the few survivors); quantiles interpolate linearly and
  are ∞ as soon as an infinite value takes part.
- **The objective** (tuning, best sweep value, comparison ranking) is lexicographic: the largest
  share converged first, then the fewest median steps to tolerance (over the converged
  points), then the lowest median final error, then the fewest diverged.
- **The error** of a point: its distance to the nearest listed global minimizer, or its gap
  f − f*; a learning problem without a known minimum (the networks) measures its training loss
  against a *target loss* instead (``kind="loss"``): the loss itself (target 0, every loss here
  being ≥ 0) in a sweep and while a comparison tunes, then the comparison's target
  (:mod:`optviz.explore.compare`). The engine tracks it as a gap to that target
  (:func:`with_target`), so steps to the tolerance are counted at every step as for any gap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from functions.problems.base import Problem, is_problem
from optviz.engine.validate import check_count, named_optimizers, plan_optimizers
from optviz.optimizers import REGISTRY
from optviz.optimizers import rates as rate_policy
from optviz.scene.text import quote

#: Error measures the explore views take (each needs a target: minimizers, a minimum value, or for a
#: learning problem a target training loss).
KINDS = ("auto", "distance", "gap", "loss")
#: The objective in words (for the JSON).
OBJECTIVE = "most converged, then fewest median steps to tol, then lowest median final error"
#: Where the learning rates nobody set come from (:mod:`optviz.optimizers.rates`): the function's
#: tuned table, or the article's (the registry's; ``"registry"`` is accepted for it).
RATES = (*rate_policy.RATES, *rate_policy.ALIASES)
#: Keywords of :func:`optviz.run` an explore job passes through (a batch's ``options``).
RUN_OPTIONS = ("schedule", "hooks", "noise", "noise_mode", "delay", "backend", "dtype", "bound", "batch")

__all__ = [
    "KINDS", "OBJECTIVE", "RATES", "RUN_OPTIONS", "Stats", "best_index", "check_count", "check_options",
    "check_tol", "choose_optimizers", "dumps", "fill_rates", "function_label", "lr_name", "options_json",
    "planned_hyperparams", "quantile", "resolve_kind", "stats", "to_json", "with_target",
]  # fmt: skip  (check_count is optviz.engine.validate's, the one reader of whole numbers)


def resolve_kind(fn: Any, kind: str) -> str:
    """``"distance"``, ``"gap"`` or ``"loss"`` for ``fn``: ``"auto"`` is the distance to the nearest
    listed global minimizer when there is one, else f − f* when f* is known, else, for a learning
    problem, the training loss against a target (``"loss"``). ``ValueError`` when the function has no
    target for the measure (the saddles have none: nothing can converge)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {quote(kind)}")
    name = getattr(fn, "name", "this function")
    has_min = np.asarray(fn.minimizers).size > 0
    if kind == "auto":
        kind = "distance" if has_min else "gap" if fn.fmin is not None or not is_problem(fn) else "loss"
    if kind == "loss" and not is_problem(fn):
        raise ValueError(f"kind 'loss' is a learning problem's: {name}'s value has no target to converge to "
                         "(use distance or gap)")
    if kind == "distance" and not has_min:
        if fn.fmin is None:
            extra = " (kind 'loss': its training loss against a target)" if is_problem(fn) else ""
            raise ValueError(f"{name} has no minimizer and no minimum value: there is nothing to converge to"
                             + extra)
        raise ValueError(f"{name} lists no minimizer: use kind='gap' (f − f*)")
    if kind == "gap" and fn.fmin is None:
        raise ValueError(f"{name} has no minimum value: nothing to converge to")
    return kind


@dataclass(frozen=True, eq=False, repr=False)
class Targeted(Problem):
    """A learning problem whose f* is a target training loss (:func:`with_target`). It pickles as
    the registry call that rebuilds the problem, with its target (a Dask worker gets the same)."""

    def __reduce__(self):
        return (_targeted, (self.name, self.dim, dict(self.params), self.fmin))


def _targeted(name: str, dim: int, params: dict, target: float) -> Targeted:
    import functions

    return with_target(functions.get(name, dim, **params), target)


def with_target(fn: Any, target: float) -> Targeted:
    """The learning problem ``fn`` with ``target`` as its f*: the engine's gap f − target (clipped
    at 0) is then its error, and ``tol`` on that gap says when the training loss reached the
    target (within ``tol``) at every step, on either path."""
    if not is_problem(fn):
        raise ValueError(f"{getattr(fn, 'name', 'this function')} is not a learning problem")
    parts = {f.name: getattr(fn, f.name) for f in fields(Problem)}
    return Targeted(**{**parts, "fmin": float(target)})


def check_tol(tol: Any) -> float:
    """A tolerance: a finite number > 0."""
    if isinstance(tol, bool) or not isinstance(tol, int | float | np.integer | np.floating) or not (
            math.isfinite(float(tol)) and float(tol) > 0):
        raise ValueError(f"tol must be a finite number > 0, got {quote(tol)}")
    return float(tol)


# ---------------------------------------------------------------------- optimizers and rates
def lr_name(optimizer: str) -> str:
    """The main learning rate of ``optimizer``: its hyperparameter named ``lr`` if it has one,
    else its first learning-rate hyperparameter (``eta`` for SGD, ``alpha`` for Adam, ...)."""
    spec = REGISTRY[optimizer]
    names = [h.name for h in spec.hyperparams]
    if "lr" in names:
        return "lr"
    rate = next((h for h in spec.hyperparams if h.lr), None)
    if rate is None:  # pragma: no cover - every registered optimizer has one
        raise ValueError(f"{optimizer} has no learning rate")
    return rate.name


def choose_optimizers(optimizers: Any) -> dict[str, dict[str, Any]]:
    """``optimizers`` as for :func:`optviz.run` (names, groups, ``"all"``, or a mapping to
    hyperparameters) as an ordered mapping name -> the hyperparameters given (unvalidated here:
    the engine validates them)."""
    out: dict[str, dict[str, Any]] = {}
    for name, hp, _ in named_optimizers(optimizers):
        if name in out and hp:
            raise ValueError(f"optimizer {name} is listed twice")
        out.setdefault(name, dict(hp))
    if not out:
        raise ValueError("choose at least one optimizer")
    return out


def fill_rates(fn: Any, chosen: Mapping[str, Mapping[str, Any]], rates: str = "tuned",
               skip: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
    """Each optimizer's hyperparameters with every one nobody set filled in by the rates policy
    (:func:`optviz.optimizers.rates.fill`, the one place it is decided): ``"tuned"``, the
    function's tuned learning rates (the registry's values where it has none: a typed function, or
    one built with its own parameters such as ``kappa=1000``), or ``"article"`` (alias
    ``"registry"``), the registry's. Hyperparameters named in ``skip`` (the one a sweep varies)
    are left alone.
    """
    name, dim, params = rate_policy.function_key(fn)
    return rate_policy.fill(chosen, name, dim, rates, params=params, skip=skip)


# ---------------------------------------------------------------------- statistics
def quantile(x: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``x`` (linear interpolation, as NumPy's default), ∞ as soon as an
    infinite value takes part (NumPy would give NaN for ∞ − ∞); NaN for an empty ``x``."""
    v = np.sort(np.asarray(x, dtype=float).ravel())
    if v.size == 0:
        return math.nan
    pos = q * (v.size - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    frac = pos - lo
    if frac == 0.0 or lo == hi:
        return float(v[lo])
    a, b = float(v[lo]), float(v[hi])
    if math.isinf(a) or math.isinf(b):
        return math.inf
    return a + (b - a) * frac


@dataclass(frozen=True)
class Stats:
    """How a set of points did (one optimizer at one setting).

    Attributes:
        n: number of points.
        median, q25, q75: final error (∞ for a diverged point).
        share_converged, share_diverged: fractions of the points.
        median_steps: median steps to tolerance over the converged points (None: none converged).
    """

    n: int
    median: float
    q25: float
    q75: float
    share_converged: float
    share_diverged: float
    median_steps: float | None

    def key(self) -> tuple[float, float, float, float]:
        """The objective, smaller is better: most converged, fewest steps, lowest error, fewest
        diverged (see the module docstring)."""
        steps = math.inf if self.median_steps is None else self.median_steps
        return (-self.share_converged, steps, self.median, self.share_diverged)

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "median_final_error": self.median, "q25_final_error": self.q25,
                "q75_final_error": self.q75, "share_converged": self.share_converged,
                "share_diverged": self.share_diverged, "median_steps_to_tol": self.median_steps}


def stats(error: np.ndarray, steps: np.ndarray, converged: np.ndarray, diverged: np.ndarray) -> Stats:
    """:class:`Stats` of points given their final errors (∞ where diverged), steps to tolerance,
    and whether each converged and diverged."""
    n = int(np.size(error))
    conv = np.asarray(converged, dtype=bool)
    med_steps = float(np.median(np.asarray(steps)[conv])) if conv.any() else None
    return Stats(
        n=n,
        median=quantile(error, 0.5),
        q25=quantile(error, 0.25),
        q75=quantile(error, 0.75),
        share_converged=float(conv.mean()) if n else 0.0,
        share_diverged=float(np.mean(diverged)) if n else 0.0,
        median_steps=med_steps,
    )


def best_index(items: Sequence[Stats]) -> int:
    """The index of the best of ``items`` by :meth:`Stats.key` (the first among equals)."""
    if not items:
        raise ValueError("nothing to choose from")
    return min(range(len(items)), key=lambda i: (items[i].key(), i))


# ---------------------------------------------------------------------- JSON
def to_json(v: Any) -> Any:
    """Plain JSON values: NumPy arrays and scalars as lists and numbers, NaN and ±∞ as None."""
    if isinstance(v, Mapping):
        return {str(k): to_json(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [to_json(x) for x in v]
    if isinstance(v, np.ndarray):
        return to_json(v.tolist())
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def dumps(doc: Any, indent: int = 2) -> str:
    """JSON text of a JSON-ready ``doc`` (see :func:`to_json`) that stays readable for big grids:
    objects are indented, a list of numbers is one line, a list of lists one line per row."""
    import json

    def enc(v: Any, level: int) -> str:
        pad, inner = " " * (indent * level), " " * (indent * (level + 1))
        if isinstance(v, dict):
            if not v:
                return "{}"
            items = [f"{inner}{json.dumps(str(k))}: {enc(x, level + 1)}" for k, x in v.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(v, list) and any(isinstance(x, dict | list) for x in v):
            if not v:
                return "[]"
            return "[\n" + ",\n".join(inner + enc(x, level + 1) for x in v) + "\n" + pad + "]"
        return json.dumps(v, allow_nan=False)

    return enc(doc, 0)


def function_label(fn: Any) -> dict[str, Any]:
    """What the JSON says about a function: name, title, dimension, box, minimizers, minimum."""
    return {"function": getattr(fn, "name", "custom"), "title": getattr(fn, "title", str(fn)),
            "dim": int(fn.dim), "box": np.asarray(fn.box, dtype=float).tolist(),
            "minimizers": np.asarray(fn.minimizers, dtype=float).tolist(),
            "fmin": None if fn.fmin is None else float(fn.fmin)}


def options_json(options: Mapping[str, Any]) -> dict[str, Any]:
    """The run options of a job for its JSON: schedule and hooks as their labels."""
    out: dict[str, Any] = {"noise": 0.0, "noise_mode": "absolute", "delay": 0}
    for key, value in options.items():
        if key == "schedule":
            value = None if value is None else getattr(value, "label", value)
        elif key == "hooks":
            value = [getattr(h, "label", h) for h in ([value] if isinstance(value, str) else value or ())]
        elif key == "backend":
            value = getattr(value, "__name__", value)
        out[key] = value
    return out


def planned_hyperparams(chosen: Mapping[str, Mapping[str, Any]], n: int) -> dict[str, dict[str, Any]]:
    """Every hyperparameter of each optimizer as the engine will use it (defaults filled in;
    per-point values as lists)."""
    return {p.name: {k: (v.tolist() if isinstance(v, np.ndarray) else float(v))
                     for k, v in p.hyperparams.items()} for p in plan_optimizers(dict(chosen), n)}


def check_options(options: Mapping[str, Any], where: str) -> None:
    """Refuse keywords that are not run options (:data:`RUN_OPTIONS`)."""
    bad = sorted(set(options) - set(RUN_OPTIONS))
    if bad:
        raise TypeError(f"{where}() got unexpected keyword(s) {', '.join(bad)}; "
                        f"run options: {', '.join(RUN_OPTIONS)}")

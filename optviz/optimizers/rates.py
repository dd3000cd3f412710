"""The one default-rate policy: which hyperparameters a race uses for the values nobody set.

The registry's defaults (:data:`optviz.optimizers.REGISTRY`, the source article's values) are made
for neural networks and barely move on most test functions in a few hundred steps, so every
surface (:func:`optviz.run`, a :class:`~optviz.scene.Scene`, the CLI, the dashboard, the explore
functions) races by default with the **tuned** table: per test function and dimension, each
optimizer's main learning rate, read from ``optviz/data/default_rates.json``. That file is written
by ``scripts/make_default_rates.py`` from the tuning sweep
(:func:`optviz.explore.tune.tune_learning_rates`) on each function's default scene; never edit it
by hand. ``rates="article"`` (alias ``"registry"``) races with the registry's values instead.

>>> from optviz.optimizers import rates
>>> rates.defaults("Adam", "himmelblau", 2)["alpha"] > 0.001   # tuned
True
>>> rates.defaults("Adam", "himmelblau", 2, rates="article")["alpha"]
0.001

A function without an entry (a typed expression, a dimension that was not tuned, a registry
function built with its own parameters such as ``kappa=1000``) gets the registry's values under
either policy. This module reads the table and the registry only (``functions`` is asked for a
family's default dimension and parameters), so everything above may use it.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

from optviz.optimizers import REGISTRY, get

#: The policies: the per-function tuned table, or the article's (the registry's) values.
RATES = ("tuned", "article")
#: Other spellings accepted for a policy.
ALIASES = {"registry": "article"}
#: The policy used when none is given.
DEFAULT = "tuned"
#: Where the tuned table is read (package data of ``optviz``).
RATES_FILE = "data/default_rates.json"


def check_rates(text: Any) -> str:
    """The policy ``text`` names (``"tuned"`` or ``"article"``; ``"registry"`` is ``"article"``;
    any case), or a one-line ``ValueError`` listing the valid ones."""
    if isinstance(text, str):
        key = text.strip().lower()
        key = ALIASES.get(key, key)
        if key in RATES:
            return key
    shown = repr(text) if len(repr(text)) <= 40 else repr(text)[:37] + "..."
    valid = ", ".join((*RATES, *ALIASES))
    raise ValueError(f"rates must be one of {valid} (registry is the article's), got {shown}")


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    """The parsed ``default_rates.json`` (read once); an empty table if it is missing."""
    try:
        text = resources.files("optviz").joinpath(RATES_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"functions": {}}
    return json.loads(text)


def table() -> dict[str, Any]:
    """A copy of the whole table: ``{"functions": {function: {dim: {"scene", "rates", "scores"}}},
    "version", "objective", ...}`` (dims are strings, as JSON keys are)."""
    return copy.deepcopy(_table())


def default_dim(function: str) -> int | None:
    """The registry's default dimension of test function ``function`` (None when it is not a
    registered name)."""
    import functions

    fam = functions.families().get(function)
    return None if fam is None else int(fam.default_dim)


@functools.lru_cache(maxsize=256)
def _family_params(function: str, dim: int) -> dict[str, float]:
    """The default parameters of ``function`` in ``dim`` (read once per pair)."""
    import functions

    return dict(functions.get(function, dim).params)


def _entry(function: str | None, dim: int | None, params: Mapping[str, float] | None) -> dict[str, Any]:
    """The table's rates for ``function`` in ``dim`` with ``params`` (not a copy), or ``{}``."""
    if function is None:
        return {}
    dim = default_dim(function) if dim is None else int(dim)
    entry = _table().get("functions", {}).get(function, {}).get(str(dim))
    if not entry:
        return {}
    if params and dict(params) != _family_params(function, dim):
        return {}
    return entry["rates"]


def tuned(function: str | None, dim: int | None = None,
          params: Mapping[str, float] | None = None) -> dict[str, dict[str, float]]:
    """Only the tuned values for ``function`` in ``dim`` (default: its default dimension):
    optimizer -> {learning-rate name: value}. Empty for a function or dimension that was not
    tuned, or when ``params`` (the function's parameters) differ from the family's defaults: the
    table's rates were tuned for those."""
    return copy.deepcopy(_entry(function, dim, params))


def defaults(optimizer: str, function: str | None = None, dim: int | None = None, rates: str = DEFAULT,
             *, params: Mapping[str, float] | None = None) -> dict[str, float]:
    """Every hyperparameter of ``optimizer`` (any case) under policy ``rates`` for ``function``
    in ``dim`` (``params``: the function's parameters, when not its defaults): the registry's
    defaults, with the tuned table's learning rate over them when ``rates`` is ``"tuned"`` and
    the table has one.

    Raises:
        ValueError: an unknown policy; an unknown optimizer (:class:`optviz.optimizers.UnknownName`,
            also a ``KeyError``).
    """
    policy = check_rates(rates)
    spec = get(optimizer)
    values = dict(spec.defaults)
    if policy == "tuned":
        values.update(_entry(function, dim, params).get(spec.name, {}))
    return values


def fill(hyperparams: Mapping[str, Mapping[str, Any] | None], function: str | None = None,
         dim: int | None = None, rates: str = DEFAULT, *, params: Mapping[str, float] | None = None,
         skip: Iterable[str] = (), complete: bool = True) -> dict[str, dict[str, Any]]:
    """``hyperparams`` (optimizer -> the values someone set) with the policy's values for the
    rest: every hyperparameter (``complete=True``), or only the tuned ones (``complete=False``: the
    registry's values are left for the engine to fill). Names in ``skip`` (a hyperparameter a
    sweep varies) are never filled. Optimizer names must be canonical (see
    :func:`optviz.optimizers.resolve`)."""
    policy = check_rates(rates)
    table_rates = _entry(function, dim, params) if policy == "tuned" else {}
    skipped = set(skip)
    out: dict[str, dict[str, Any]] = {}
    for name, given in hyperparams.items():
        base = dict(REGISTRY[name].defaults) if complete else {}
        base.update(table_rates.get(name, {}))
        hp = {k: v for k, v in base.items() if k not in skipped}
        hp.update(dict(given or {}))
        out[name] = hp
    return out


def function_key(fn: Any) -> tuple[str | None, int | None, dict[str, float] | None]:
    """``(name, dim, params)`` under which a test-function object's tuned rates are looked up:
    ``(None, None, None)`` for a function that is not in the registry (a typed expression)."""
    import functions

    name = getattr(fn, "name", None)
    if name not in functions.families():
        return None, None, None
    return name, int(fn.dim), dict(getattr(fn, "params", {}) or {})


__all__ = [
    "ALIASES", "DEFAULT", "RATES", "RATES_FILE", "check_rates", "default_dim", "defaults", "fill",
    "function_key", "table", "tuned",
]  # fmt: skip

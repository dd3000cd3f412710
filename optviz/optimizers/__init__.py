"""Every update rule optviz knows, one module per family, the registry that lists them, and
what their names mean (:func:`resolve`, the one reader of optimizer and group names).

>>> from optviz.optimizers import REGISTRY, resolve
>>> REGISTRY["Adam"].defaults
{'alpha': 0.001, 'beta1': 0.9, 'beta2': 0.999, 'eps': 1e-08}
>>> resolve("adam"), resolve("group:santa")
(('Adam',), ('SantaE', 'SantaSSS'))

The default hyperparameters a race uses (the tuned table or the article's) are chosen by
:mod:`optviz.optimizers.rates`.
"""

from collections.abc import Iterable

from optviz.optimizers import (  # noqa: F401  (each module registers its optimizers)
    adagrad,
    adam,
    adan,
    belief,
    bounded,
    decoupled,
    frameworks,
    prodigy,
    rectified,
    santa,
    schedule_free,
    sgd,
    sign,
)
from optviz.optimizers.base import REGISTRY, HyperParam, OptimizerSpec, Rule, StepContext

#: The 17 optimizers of the source article, in its order.
ARTICLE = (
    "SGD", "MSGD", "NAG", "AdaGrad", "RMSprop", "AdaDelta", "Adam", "RMSpropGraves", "SMORMS3",
    "AdaMax", "Nadam", "Eve", "SantaE", "SantaSSS", "AMSGrad", "AdaBound", "AMSBound",
)  # fmt: skip

#: Today's optimizers (issue 20), each checked against optax, torch.optim or a transcription.
MODERN = (
    "AdamW", "Lion", "RAdam", "AdaBelief", "Yogi", "Adan", "Rprop", "ScheduleFreeSGD", "ScheduleFreeAdamW",
    "Prodigy",
)  # fmt: skip

#: Every registered optimizer, the article's first.
NAMES = (*ARTICLE, "CorrectedMomentumSGD", "DCASGD", *MODERN)

#: Quick groups for pickers.
GROUPS: dict[str, tuple[str, ...]] = {
    "all": NAMES,
    "article": ARTICLE,
    "momentum": ("SGD", "MSGD", "NAG", "CorrectedMomentumSGD", "DCASGD"),
    "adaptive": ("AdaGrad", "RMSprop", "AdaDelta", "RMSpropGraves", "SMORMS3"),
    "adam": ("Adam", "AdaMax", "Nadam", "Eve", "AMSGrad", "AdaBound", "AMSBound"),
    "santa": ("SantaE", "SantaSSS"),
    "modern": MODERN,
    "adam_variants": ("Adam", "AdamW", "RAdam", "AdaBelief", "Yogi", "Adan", "Prodigy"),
    "sign": ("Lion", "Rprop"),
    "schedule_free": ("ScheduleFreeSGD", "ScheduleFreeAdamW"),
}

assert set(NAMES) == set(REGISTRY), "every registered optimizer must be listed in NAMES"


#: How a group is written where names are read (``optimizers=``, ``-o``, a scene): ``"group:adam"``.
#: A bare name always means one optimizer (``"adam"`` is Adam), so a group is never taken for one.
GROUP_PREFIX = "group:"
#: The one group with a bare name: it cannot be confused with an optimizer.
ALL = "all"
#: At most this many characters of a name are quoted back in an error.
_QUOTE = 40


class UnknownName(KeyError, ValueError):
    """An optimizer or group name that means nothing: a ``ValueError`` (and, for older callers, a
    ``KeyError``) whose one-line message lists what is valid."""

    __str__ = BaseException.__str__


def _quote(text: object) -> str:
    if isinstance(text, str) and len(text) > _QUOTE:
        return f"{text[:_QUOTE]!r}… ({len(text):,} characters)"
    return repr(text)


def group_label(group: str) -> str:
    """How the group ``GROUPS[group]`` is written: ``all``, or ``group:`` and its key."""
    return ALL if group == ALL else GROUP_PREFIX + group


def group_names() -> list[str]:
    """Every group as it is written: ``all``, ``group:article``, ``group:momentum``, ..."""
    return [group_label(g) for g in GROUPS]


def choices() -> str:
    """The valid names and groups, for an error message."""
    return f"valid: {', '.join(NAMES)}; or a group: {', '.join(group_names())}"


def canonical(name: str) -> str | None:
    """The registered spelling of optimizer ``name`` (any case), or None if it is not one."""
    if not isinstance(name, str):
        return None
    key = name.strip()
    if key in REGISTRY:
        return key
    return {n.lower(): n for n in REGISTRY}.get(key.lower())


def resolve_item(item: str) -> tuple[tuple[str, ...], bool]:
    """The optimizers one name names, and whether it was a group.

    ``"Adam"`` or ``"adam"`` (any case) is one optimizer; ``"group:adam"`` the Adam family;
    ``"all"`` every optimizer. Anything else raises :class:`UnknownName` listing what is valid; a
    bare group name that is no optimizer's (``"momentum"``) says to write ``group:momentum``.
    """
    if not isinstance(item, str):
        raise UnknownName(f"optimizer names must be strings, got {_quote(item)}")
    name = canonical(item)
    if name is not None:
        return (name,), False
    key = item.strip().lower()
    if key == ALL:
        return tuple(GROUPS[ALL]), True
    if key.startswith(GROUP_PREFIX):
        group = key[len(GROUP_PREFIX):].strip()
        if group in GROUPS:
            return tuple(GROUPS[group]), True
        raise UnknownName(f"unknown group {_quote(item.strip())}; valid groups: {', '.join(group_names())}")
    hint = f" (the group is written {GROUP_PREFIX}{key})" if key in GROUPS else ""
    raise UnknownName(f"unknown optimizer {_quote(item.strip())}{hint}; {choices()}")


def resolve(spec: str | Iterable[str]) -> tuple[str, ...]:
    """The optimizers ``spec`` names, in order, each once: one name or group (see
    :func:`resolve_item`), a comma-separated text of them (``"SGD, group:adam"``), or a list.

    >>> resolve(["sgd", "group:santa", "SantaE"])
    ('SGD', 'SantaE', 'SantaSSS')

    Raises:
        UnknownName: (a ``ValueError``) for a name that is no optimizer or group, or for nothing
            chosen.
    """
    if isinstance(spec, str):
        items = [p for p in spec.split(",") if p.strip()] if "," in spec else [spec]
    elif isinstance(spec, Iterable):
        items = list(spec)
    else:
        raise UnknownName(f"optimizers: expected a name, a group or a list of them, got {_quote(spec)}")
    out: dict[str, None] = {}
    for item in items:
        for name in resolve_item(item)[0]:
            out.setdefault(name)
    if not out:
        raise UnknownName(f"choose at least one optimizer; {choices()}")
    return tuple(out)


def get(name: str) -> OptimizerSpec:
    """The spec of optimizer ``name`` (any case); :class:`UnknownName` (a ``KeyError`` and a
    ``ValueError``) lists the valid names."""
    canon = canonical(name)
    if canon is None:
        raise UnknownName(f"unknown optimizer {_quote(name)}; valid: {', '.join(NAMES)}")
    return REGISTRY[canon]


__all__ = [
    "ALL", "ARTICLE", "GROUPS", "GROUP_PREFIX", "MODERN", "NAMES", "REGISTRY", "HyperParam", "OptimizerSpec",
    "Rule", "StepContext", "UnknownName", "canonical", "choices", "get", "group_label", "group_names",
    "resolve", "resolve_item",
]  # fmt: skip

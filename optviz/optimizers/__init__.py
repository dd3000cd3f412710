"""Every update rule optviz knows, one module per family, and the registry that lists them.

>>> from optviz.optimizers import REGISTRY
>>> REGISTRY["Adam"].defaults
{'alpha': 0.001, 'beta1': 0.9, 'beta2': 0.999, 'eps': 1e-08}
"""

from optviz.optimizers import adagrad, adam, bounded, frameworks, santa, sgd  # noqa: F401  (they register
from optviz.optimizers.base import REGISTRY, HyperParam, OptimizerSpec, Rule, StepContext

#: The 17 optimizers of the source article, in its order.
ARTICLE = (
    "SGD", "MSGD", "NAG", "AdaGrad", "RMSprop", "AdaDelta", "Adam", "RMSpropGraves", "SMORMS3",
    "AdaMax", "Nadam", "Eve", "SantaE", "SantaSSS", "AMSGrad", "AdaBound", "AMSBound",
)  # fmt: skip

#: Every registered optimizer, the article's first.
NAMES = (*ARTICLE, "CorrectedMomentumSGD", "DCASGD")

#: Quick groups for pickers.
GROUPS: dict[str, tuple[str, ...]] = {
    "all": NAMES,
    "article": ARTICLE,
    "momentum": ("SGD", "MSGD", "NAG", "CorrectedMomentumSGD", "DCASGD"),
    "adaptive": ("AdaGrad", "RMSprop", "AdaDelta", "RMSpropGraves", "SMORMS3"),
    "adam": ("Adam", "AdaMax", "Nadam", "Eve", "AMSGrad", "AdaBound", "AMSBound"),
    "santa": ("SantaE", "SantaSSS"),
}

assert set(NAMES) == set(REGISTRY), "every registered optimizer must be listed in NAMES"


def get(name: str) -> OptimizerSpec:
    """The spec of optimizer ``name``; ``KeyError`` lists the valid names."""
    try:
        return REGISTRY[name]
    except KeyError:
        folded = {n.lower(): n for n in REGISTRY}
        if name.lower() in folded:
            return REGISTRY[folded[name.lower()]]
        raise KeyError(
            f"unknown optimizer {name!r}; valid: {', '.join(NAMES)}"
        ) from None


__all__ = [
    "ARTICLE", "GROUPS", "NAMES", "REGISTRY", "HyperParam", "OptimizerSpec", "Rule", "StepContext",
    "get",
]  # fmt: skip

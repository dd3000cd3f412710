"""Named scenes: a function, optimizers with hyperparameters, starts and steps.

``article-quartic`` is the source article's demo (``opt_example.py``): every optimizer of
the article races on the 1-D quartic from x = −3 for 100 steps with the article's own
hyperparameters and random seed 32.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    function: str
    optimizers: dict[str, dict[str, Any]]
    starts: list
    steps: int
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def run_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`optviz.run`."""
        return {
            "function": self.function,
            "optimizers": {k: dict(v) for k, v in self.optimizers.items()},
            "starts": self.starts,
            "steps": self.steps,
            "seed": self.seed,
            **self.extra,
        }


ARTICLE_QUARTIC = Preset(
    name="article-quartic",
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

PRESETS: dict[str, Preset] = {p.name: p for p in (ARTICLE_QUARTIC,)}


def get(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; valid: {', '.join(PRESETS)}") from None

"""Beyond one race: basin maps, sweeps and fair comparisons, at any scale.

Each is a thin layer over the engine: it builds one big batch of starts (with per-point
hyperparameters and seeds), runs it with only the final state recorded and the tolerance
tracked at every step (:mod:`optviz.explore.scale`: in this process or on Dask), and reduces.

- :func:`basins` → :class:`BasinMap` (:mod:`optviz.explore.basins`)
- :func:`sweep` → :class:`Sweep` (:mod:`optviz.explore.sweep`)
- :func:`compare` → :class:`Comparison` (:mod:`optviz.explore.compare`)
"""

from .basins import BasinMap, basins
from .compare import Comparison, compare, default_space, performance_profile
from .scale import Batch, Finals, run_batch, run_batches
from .sweep import Sweep, parse_values, sweep

__all__ = [
    "BasinMap", "Batch", "Comparison", "Finals", "Sweep", "basins", "compare", "default_space",
    "parse_values", "performance_profile", "run_batch", "run_batches", "sweep",
]  # fmt: skip

"""Beyond one race: basin maps, sweeps and fair comparisons, at any scale.

Each is a thin layer over the engine: it builds one big batch of starts (with per-point
hyperparameters and seeds), runs it with only the final state recorded and the tolerance
tracked at every step (:mod:`optviz.explore.scale`: in this process or on Dask), and reduces.

- :func:`optviz.basins` → :class:`BasinMap` (module :mod:`optviz.explore.basins`)
- :func:`optviz.sweep` → :class:`Sweep` (module :mod:`optviz.explore.sweep`)
- :func:`optviz.compare` → :class:`Comparison` (module :mod:`optviz.explore.compare`)

The functions live at the top (``optviz.basins``); here the names ``basins``, ``sweep`` and
``compare`` are the modules, with the measures (:mod:`.measures`), how sure a comparison is
(:mod:`.uncertainty`: bootstrap intervals, shared ranks, the headline), the scenes the dashboard's
explore tabs open with (:mod:`.tab_defaults`), the pictures (:mod:`.figures`, matplotlib) and the
shared colours (:mod:`.look`) beside them.
"""

from optviz.explore import basins, compare, measures, scale, sweep, uncertainty
from optviz.explore.basins import BasinMap
from optviz.explore.compare import Comparison, data_profile, default_space, performance_profile
from optviz.explore.scale import Batch, Finals, run_batch, run_batches
from optviz.explore.sweep import Sweep, parse_values

__all__ = [
    "BasinMap", "Batch", "Comparison", "Finals", "Sweep", "basins", "compare", "data_profile",
    "default_space", "measures", "parse_values", "performance_profile", "run_batch", "run_batches", "scale",
    "sweep", "uncertainty",
]  # fmt: skip

"""The explore views' own colours, shared by the page (Plotly) and the files (matplotlib).

Optimizers keep their colours and cues from :mod:`optviz.draw.style`. A basin map fills the box
with areas, one colour per listed global minimizer: light colours (Paul Tol's "light"
scheme, told apart under colour-blindness) so that the minimizers' stars read on them, a pale
grey for cells that do not converge and black for cells that diverge. Error and step maps use
viridis (perceptually uniform, readable in grey and by colour-blind viewers).
"""

from __future__ import annotations

#: Fill colour of the basin of listed minimizer k (cycled beyond eight).
MINIMA_COLORS: tuple[str, ...] = (
    "#77AADD", "#EE8866", "#EEDD88", "#FFAABB", "#99DDFF", "#44BB99", "#BBCC33", "#AAAA00",
)
#: A cell that does not converge (within the tolerance by the end).
NOT_CONVERGED = "#e4e4e4"
#: A cell whose point diverged.
DIVERGED = "#000000"
#: The colour map of error and step maps (matplotlib and Plotly names).
MPL_CMAP = "viridis"
PLOTLY_CMAP = "Viridis"
#: The agreement of two optimizers (see :meth:`optviz.explore.BasinMap.agreement`), by code.
AGREEMENT: tuple[tuple[str, str], ...] = (
    ("neither converges", "#e4e4e4"),
    ("only the first", "#0072B2"),
    ("only the second", "#E87400"),
    ("both, to the same minimum", "#9ad0a8"),
    ("both, to different minima", "#882255"),
)


def minimum_color(k: int) -> str:
    """The fill colour of the basin of listed minimizer ``k``."""
    return MINIMA_COLORS[k % len(MINIMA_COLORS)]

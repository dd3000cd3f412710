"""One colour and one marker per optimizer, the same in every plot, animation and export.

Colours are fixed by the optimizer's name (not by its position in a selection), so Adam is
the same colour whether 2 or 19 optimizers are shown. The palette is the 20 well-separated
colours of Glasbey-style categorical sets, chosen to read on white and on a projector.
"""

from __future__ import annotations

from .optimizers import NAMES

PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#e6550d", "#31a354", "#843c39", "#7b4173", "#3182bd",
    "#fd8d3c", "#74c476", "#de9ed6", "#636363",
)  # fmt: skip

#: optimizer name -> hex colour
COLORS: dict[str, str] = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(NAMES)}

#: Colour of the diverged marker (a cross where the point left).
DIVERGED = "#000000"


def color(name: str) -> str:
    """The colour of optimizer ``name`` (a stable fallback for unknown labels)."""
    if name in COLORS:
        return COLORS[name]
    return PALETTE[sum(map(ord, name)) % len(PALETTE)]

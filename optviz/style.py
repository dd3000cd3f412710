"""One colour per optimizer, the same in every plot, animation and export.

Colours are fixed by the optimizer's name (not by its position in a selection), so Adam is
the same colour whether 2 or 19 optimizers are shown. The palette is 19
distinct colours of Sasha Trubetskoy's list, the lightest ones darkened to read on white and
on a projector; neighbours in the optimizer list (the same family) get unlike hues.
"""

from __future__ import annotations

from .optimizers import NAMES

PALETTE = (
    "#4363d8", "#f58231", "#3cb44b", "#e6194b", "#911eb4", "#9a6324", "#f032e6", "#808080",
    "#808000", "#42d4f4", "#000075", "#c9a800", "#469990", "#800000", "#7cb518", "#ff8fab",
    "#8c7ae6", "#2ecc9a", "#b15928",
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

"""The 3-D view: the landscape as a surface, every path on it, animated like the race."""

from __future__ import annotations

import streamlit as st

from optviz.dashboard import compute
from optviz.dashboard.views import Context, View
from optviz.draw import plots


def render(ctx: Context) -> None:
    result = compute.run_or_say(ctx.scene, ctx.backend)
    if result is None:
        return
    fig = plots.surface_figure(result, large_font=ctx.large, height=720 if not ctx.large else 620)
    st.plotly_chart(fig, key="surface_chart", theme=None,
                    config={"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}})
    st.caption("Drag to turn the surface; ▶ Play runs the race on it. Heights are "
               + ("log₁₀(f − f*)." if getattr(result.function, "log_levels", False) else "f."))


VIEW = View(key="surface", title="3-D surface", order=20, render=render,
            available=lambda ctx: ctx.function.dim == 2,
            help="The landscape as a surface with every path on it")

"""The page's two custom components (Streamlit components v2, inline: no build step).

- :func:`plotly_library` puts plotly.js in the page. It is the *basic* bundle (scatter and
  layout images: all the race needs), shipped in ``assets/vendor`` (MIT licence beside it):
  a quarter of the full bundle, so the browser is ready three times sooner. Its element is the
  same in every run, so Streamlit sends it once per page and refers to it afterwards.
- :func:`race` mounts the live race (``assets/race.js`` with its Streamlit adapter, see
  :mod:`optviz.live.frontend`; ``assets/race.css``) with the data of
  :func:`optviz.live.payload.race_data` and returns what it reports: ``sliders`` (state:
  the latest slider values, see :func:`optviz.dashboard.state.apply_slider_values`), ``click``
  (trigger: ``{"point", "replace"}``, a start placed on the chart: added to the starts, or the
  only one after "Clear starts"), ``move`` (trigger: ``{"index", "point"}``, a start's ring
  dragged to ``point``), ``grid`` (trigger: "Back to the grid"), ``reset`` (trigger: an
  optimizer's Reset button) and
  ``sweeps`` (trigger: the page has drawn a scene without its sweeps and asks for them).

Both mount their HTML in the page itself (``isolate_styles=False``): Plotly puts its style
sheet in the document's head, which a shadow root would not see.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import streamlit as st

from optviz.live import frontend

PLOTLY_JS = frontend.PLOTLY_JS


@cache
def _library() -> Callable[..., Any]:
    # The UMD bundle sets window.Plotly when it runs as a module (no CommonJS `module` there).
    js = frontend.plotly_js() + "\nexport default function () {}\n"
    return st.components.v2.component("optviz_plotly", js=js, isolate_styles=False)


@cache
def _race() -> Callable[..., Any]:
    return st.components.v2.component(
        "optviz_race",
        html="",
        css=frontend.race_css(),
        js=frontend.race_js("streamlit"),
        isolate_styles=False,
    )


def plotly_library() -> None:
    """Load plotly.js into the page (a no-op after the first run of a page)."""
    _library()(key="optviz_plotly")


def race(data: dict[str, Any], *, key: str = "race", on_sliders: Callable[[], None] | None = None,
         on_click: Callable[[], None] | None = None, on_reset: Callable[[], None] | None = None,
         on_sweeps: Callable[[], None] | None = None, on_grid: Callable[[], None] | None = None,
         on_move: Callable[[], None] | None = None) -> Any:
    """Mount the live race with ``data``; returns the component's result (``.sliders``, ``.click``, ...)."""
    def noop() -> None:
        return None

    # A one-item list: Streamlit sends it as JSON as it is (a dict's values would each be checked
    # for data frames first, which imports pandas: most of a cold first run).
    return _race()(key=key, data=[data], on_sliders_change=on_sliders or noop,
                   on_click_change=on_click or noop, on_reset_change=on_reset or noop,
                   on_sweeps_change=on_sweeps or noop, on_grid_change=on_grid or noop,
                   on_move_change=on_move or noop)

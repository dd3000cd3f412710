"""The race's front end for each host: ``assets/race.js`` (one source) with a thin host adapter.

The same race runs in three places, from the same JavaScript and style sheet:

- ``"streamlit"``: the dashboard's component (:mod:`optviz.dashboard.component`);
- ``"page"``: the single, self-contained web page (:mod:`optviz.live.html`);
- ``"widget"``: the notebook widget (:mod:`optviz.notebook.widget`, anywidget).

``race.js`` defines ``mountRace(parent, hooks)``; each adapter in ``assets/hosts/`` only
connects it to its host (where the data comes from, where slider values go). Nothing here
imports Streamlit.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

ASSETS = Path(__file__).with_name("assets")
#: plotly.js, the *basic* bundle (scatter and layout images: all the race needs; MIT licence beside it).
PLOTLY_JS = ASSETS / "vendor" / "plotly-basic.min.js"
HOSTS = ("streamlit", "page", "widget")


@cache
def race_js(host: str) -> str:
    """The race's JavaScript for ``host``: ``assets/race.js`` followed by ``assets/hosts/<host>.js``."""
    if host not in HOSTS:
        raise ValueError(f"unknown host {host!r}; valid: {', '.join(HOSTS)}")
    core = (ASSETS / "race.js").read_text(encoding="utf-8")
    return core + "\n" + (ASSETS / "hosts" / f"{host}.js").read_text(encoding="utf-8")


@cache
def race_css() -> str:
    """The race's style sheet (``assets/race.css``)."""
    return (ASSETS / "race.css").read_text(encoding="utf-8")


@cache
def widget_esm() -> str:
    """The notebook widget's ES module: plotly.js (once per page), then the race with the widget
    adapter. plotly.js is a UMD bundle: where a page has an AMD loader (require.js in the classic
    notebook) or CommonJS names, it would register there instead of setting ``window.Plotly``; the
    block hides those names from it."""
    return ("if (!window.Plotly) { const define = undefined, module = undefined, exports = undefined;\n"
            + plotly_js() + "\n}\n" + race_js("widget"))


@cache
def plotly_js() -> str:
    """The plotly.js basic bundle's text (sets ``window.Plotly``)."""
    return PLOTLY_JS.read_text(encoding="utf-8")

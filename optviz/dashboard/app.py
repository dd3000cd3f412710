"""optviz dashboard: race gradient-descent optimizers on classic test functions.

Run with ``optviz dashboard`` or ``streamlit run app.py`` (the top-level ``app.py`` calls
:func:`page`). This module only lays the page out: the sidebar (:mod:`.sidebar`) writes the
session state (:mod:`.state`), and each view of :mod:`.views` (the race, the 3-D surface, and
whatever module is added there) draws itself in its own tab from that state.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import streamlit as st

# Absolute imports: ``optviz dashboard`` runs this file itself as Streamlit's script.
from optviz.dashboard import component, scene_state, share, sidebar, state
from optviz.dashboard.messages import markdown_text, short
from optviz.dashboard.state import ss
from optviz.dashboard.views import Context, current, discover

ERRORS = (ValueError, KeyError, TypeError, MemoryError)
#: The page's icon, served by the page's own server (an emoji or Material icon would be fetched
#: from the internet, which a lecture hall may not have).
FAVICON = Path(__file__).with_name("assets") / "favicon.png"

CSS = """
<style>
.block-container {padding: 2.6rem 1.4rem 1rem 1.4rem; max-width: none;}
.block-container h4 {padding: 0 0 0.1rem 0;}
[data-testid="stSidebar"] .katex-display {overflow-x: auto; overflow-y: hidden; padding-bottom: 2px;}
[data-testid="stSidebar"] [data-testid="stExpander"] summary p {font-size: 0.92rem;}
[data-testid="stSidebar"] .katex {white-space: normal;}
[data-testid="stMultiSelectTagsContainer"] {flex-wrap: wrap; white-space: normal;}
[data-testid="stMultiSelect"] div:has(> [data-testid="stMultiSelectTagsContainer"]) {max-height: none;}
</style>
"""
LARGE_CSS = """
<style>
html {font-size: 19px;}
.block-container {padding-top: 2.2rem;}
[data-testid="stMarkdownContainer"] p, [data-testid="stCaptionContainer"], [data-testid="stWidgetLabel"] p,
[data-testid="stSidebar"] [data-testid="stExpander"] summary p {font-size: 18px !important;}
.block-container h4 {font-size: 22px;}
.st-key-formula .katex {font-size: 18px;}
</style>
"""


def main() -> None:
    state.init()
    share.open_link()  # a session's first run: the scene of the link it was opened with
    sidebar.header()
    st.html(CSS + (LARGE_CSS if ss["large_font"] else ""))
    share.notice()
    projector_switch()
    # The sidebar comes last in the script (it shows first on the page): the race's numbers
    # leave for the browser before the sidebar's widgets are built. Every setting is read from
    # the session state, which holds the widgets' new values from the start of a run. A
    # session's first run draws the race alone (state.lean): the rest follows at once. After a
    # scene set the widgets (a lesson, a file) the sidebar goes first: the browser then has the
    # widgets' new values before the race can ask for a rerun (which reports them back).
    full = not state.lean()
    first = full and bool(ss.pop("sidebar_first", False))
    if first:
        sidebar.render()
    try:
        views()
    finally:
        if full and not first:
            sidebar.render()
    if full:
        state.sidebar_sent()


def projector_switch() -> None:
    """Projector mode, one click at the top of the page (a lecture starts with it)."""
    st.toggle("Projector mode (large text)", key="large_font",
              help="Text of at least 18 px; the race and the error chart fit a 1280×720 screen.")


def views() -> None:
    """The main area: a tab per available view (or the one view), or a message saying what is wrong."""
    if state.backend() == "cupy":
        import optviz

        ok, why = optviz.gpu_status()
        if not ok:
            st.warning(f"CuPy is not usable here ({markdown_text(why)}). Running on NumPy instead.")
    if not state.chosen_optimizers():
        st.info("Choose at least one optimizer in the sidebar (**Default five** or **All**).",
                icon=":material/arrow_back:")
        return
    try:
        fn = state.make_function()
    except ERRORS as exc:
        where = "Your function (edit it in the sidebar)" if state.typed() else "Function parameters"
        st.error(f"{where}: {markdown_text(short(exc))}")
        return
    try:
        starts = state.make_starts(fn)
    except ERRORS as exc:
        st.error(f"Starting points: {markdown_text(short(exc))}")
        return
    with contextlib.suppress(*ERRORS):  # the address bar: a link to this very race
        share.sync_url(scene_state.scene_from_widgets(fn, starts))
    ctx: Context = current()
    shown = [v for v in discover() if v.available(ctx)]
    if len(shown) == 1:
        shown[0].render(ctx)
        return
    tabs = st.tabs([v.title for v in shown], key="view", on_change="rerun")
    for view, tab in zip(shown, tabs, strict=True):
        if getattr(tab, "open", True):
            with tab:
                view.render(ctx)


def page() -> None:
    """One run of the page (Streamlit reruns it on every interaction)."""
    st.set_page_config(page_title="optviz: optimizer race", page_icon=str(FAVICON),
                       layout="wide", initial_sidebar_state="expanded")
    component.plotly_library()  # first, so that the browser loads plotly.js while Python computes
    try:
        main()
    except Exception as exc:  # the last line of defence: a message on the page, not a traceback
        st.error(f"Unexpected error: {markdown_text(short(exc))}. Try another setting, or reload the page.")
        with st.expander("Details for a bug report"):
            st.exception(exc)


if __name__ == "__main__":
    page()

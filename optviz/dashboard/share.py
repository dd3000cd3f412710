"""Shareable scenes in the page: its state as an :class:`optviz.scene.model.Scene`, in the URL and in files.

- **The URL holds the scene on screen.** Every run writes :meth:`Scene.to_query` to
  ``st.query_params`` (:func:`sync_url`), so the address bar is always a link to the race
  on screen; "Copy link" shows it with a copy button.
- **Opening a link** (a session whose first run has query parameters, :func:`open_link`)
  reads it with :meth:`Scene.from_query` (bounded by :data:`optviz.scene.model.SERVER_LIMITS`)
  and sets the page's controls to it (:func:`.scene_state.widgets_from_scene`): the classmate
  sees the identical race.
- **A typed rule is part of the scene on screen** while the "Your own optimizer" tab shows it
  (:func:`page_scene`): the address bar, "Link" and "Download" then hold the rule's text, its
  hyperparameters and the optimizers raced beside it (:func:`with_rule`, the tab's own race), and
  opening that link opens the tab on the same rule and race.
- **"Download scene" / "Load scene"** write and read the same scene as JSON
  (:meth:`Scene.to_json`, :meth:`Scene.from_json`), the file ``optviz run --scene`` runs.

A link or a file the page cannot open gives one message that names the key (a malformed
value, an unknown key, a newer scene version, a size beyond the server's limits, or what the
page's controls cannot show, such as a 3-D function or 5,000 steps) and leaves the page as it
was: :func:`.scene_state.widgets_from_scene` checks that the controls reproduce the scene
exactly, and restores the state otherwise. Nothing in a link or a file is run as code: the scene
module reads numbers and names, and a typed formula goes through :func:`functions.from_expression`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from optviz.dashboard.messages import markdown_text, short
from optviz.dashboard.scene_state import RULE_VIEW, scene_from_widgets, widgets_from_scene
from optviz.dashboard.state import ss
from optviz.optimizers import GROUPS, group_label, rates
from optviz.scene.model import SERVER_LIMITS, STREAMLIT_QUERY_KEYS, Scene

#: The largest scene file "Load scene" reads.
MAX_FILE_BYTES = 2_000_000
#: The message of a link or file that could not be opened (shown until dismissed).
ERROR_KEY = "share_error"
#: The "Your own optimizer" tab's last checked rule: (name, text, its hyperparameters, the
#: optimizers raced beside it), set by the tab (:mod:`.views.own_rule`).
RULE_KEY = "own_choice"
#: Session state: the rule choice the sidebar's Link and Download were drawn with (:func:`show_rule`).
DRAWN_KEY = "_share_drawn_with"


# ---------------------------------------------------------------------- the scene on screen
def with_rule(base: Scene, name: str, text: str, values: Mapping[str, float], others: Iterable[str]) -> Scene:
    """``base`` racing the typed rule ``name`` (its ``text`` and hyperparameter ``values``) beside
    ``others`` (with ``base``'s values where it races them): the "Your own optimizer" tab's race."""
    chosen = {n: dict(base.optimizers.get(n, {})) for n in others if n != name}
    chosen[name] = dict(values)
    return dataclasses.replace(base, optimizers=chosen, rules={name: text})


def page_scene(scene: Scene) -> Scene:
    """The scene on screen: the sidebar's ``scene``, or, while the "Your own optimizer" tab is open,
    its race with the typed rule (what the address bar, "Link" and "Download" hold)."""
    choice = ss.get(RULE_KEY)
    if ss.get("view") != RULE_VIEW or not choice:
        return scene
    try:
        return with_rule(scene, *choice)
    except ValueError:  # (the rule's name taken meanwhile by another session's Python rule, ...)
        return scene


def show_rule(scene: Scene, choice: tuple[str, str, Mapping[str, float], tuple[str, ...]]) -> None:
    """The "Your own optimizer" tab races ``choice`` (the rule's name, text, values and the others)
    beside the sidebar's ``scene``: the address bar takes it at once. On the tab's own rerun (a
    fragment: the sidebar, drawn last in a full run, stays as it was) the page reruns when the
    sidebar's Link and Download hold another race (once per choice: never a loop)."""
    ss[RULE_KEY] = choice
    sync_url(scene)
    if _fragment_run() and ss.get(DRAWN_KEY) != choice and ss.get("_share_rerun_for") != choice:
        ss["_share_rerun_for"] = choice
        st.rerun()


def _fragment_run() -> bool:
    """True in a rerun of one ``st.fragment`` (not the whole page)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return bool(ctx is not None and getattr(ctx, "fragment_ids_this_run", None))


# ---------------------------------------------------------------------- the URL and files
def _query_now() -> dict[str, str]:
    try:
        return {k: v for k, v in st.query_params.to_dict().items()}
    except Exception:  # no query parameters in this context (bare mode)
        return {}


def open_link() -> None:
    """On a session's first run: the scene in the page's URL, if it has one, sets the controls."""
    if ss.get("_link_checked"):
        return
    ss["_link_checked"] = True
    query = {k: v for k, v in _query_now().items() if k not in STREAMLIT_QUERY_KEYS}
    if not query:
        return
    try:
        widgets_from_scene(Scene.from_query(query, limits=SERVER_LIMITS))
    except (ValueError, KeyError, TypeError) as exc:
        why = markdown_text(short(exc, 400))
        ss[ERROR_KEY] = f"This link could not be opened: {why}. The page shows its own scene instead."
        ss["_keep_url"] = True  # the link stays in the address bar until the user changes something
    else:
        ss["_link_opened"] = True


def sync_url(scene: Scene) -> None:
    """Write the scene on screen (:func:`page_scene` of the sidebar's ``scene``) to the page's URL
    (only when it changed; Streamlit's own keys are kept)."""
    query = page_scene(scene).to_query()
    now = _query_now()
    if ss.pop("_keep_url", False) and now:
        ss["_kept_query"] = query
        return
    if ss.get("_kept_query") == query and now:  # still the page's own scene: the bad link stays
        return
    ss.pop("_kept_query", None)
    query.update({k: v for k, v in now.items() if k in STREAMLIT_QUERY_KEYS})
    if query != now:
        st.query_params.from_dict(query)


def link(scene: Scene) -> str:
    """The page's address with ``scene`` in its query (``?v=1&fn=...`` when the address is unknown)."""
    try:
        base = str(st.context.url or "")
    except Exception:
        base = ""
    base = base.split("?", 1)[0].split("#", 1)[0]
    return f"{base}?{urlencode(scene.to_query())}"


def _on_upload() -> None:
    upload = ss.get("scene_upload")
    if upload is None:
        return
    try:
        if upload.size > MAX_FILE_BYTES:
            raise ValueError(f"scene: the file is {upload.size:,} bytes; a scene file is at most "
                             f"{MAX_FILE_BYTES:,}")
        widgets_from_scene(Scene.from_json(upload.getvalue(), limits=SERVER_LIMITS))
    except (ValueError, KeyError, TypeError) as exc:
        why = markdown_text(short(exc, 400))
        ss[ERROR_KEY] = f"{markdown_text(upload.name)} could not be loaded: {why}. The page keeps its scene."
    else:
        ss.pop(ERROR_KEY, None)
        ss["share_note"] = f"Loaded {upload.name}."


def _dismiss() -> None:
    ss.pop(ERROR_KEY, None)


def notice() -> None:
    """The message of a link or a file that could not be opened (until dismissed)."""
    msg = ss.get(ERROR_KEY)
    if not msg:
        return
    c1, c2 = st.columns([12, 1], vertical_alignment="center")
    c1.error(msg, icon=":material/link_off:")
    c2.button("Dismiss", key="share_dismiss", on_click=_dismiss)


def controls(sb: Any) -> None:
    """The sidebar's "Share" section: "Copy link" (the link, with a copy button), "Download
    scene" (the scene as JSON) and "Load scene" (a scene file)."""
    sb.header("Share")
    ss[DRAWN_KEY] = ss.get(RULE_KEY) if ss.get("view") == RULE_VIEW else None
    try:
        scene = page_scene(scene_from_widgets())
    except (ValueError, KeyError, TypeError):
        scene = None
    c1, c2 = sb.columns(2)
    if scene is not None:
        with c1.popover("Link", icon=":material/link:", width="stretch", help="Copy a link to this race"):
            st.caption("This page's address holds the race on screen: whoever opens the link sees it. "
                       "Copy it with the button at the right of the link.")
            st.code(link(scene), language=None, wrap_lines=True)
        c2.download_button("Download", data=scene.to_json(), file_name="optviz-scene.json",
                           mime="application/json", key="scene_download", on_click="ignore",
                           icon=":material/download:", width="stretch",
                           help="The scene as a JSON file: load it here, or run it with optviz run --scene")
    else:
        c1.caption("Fix the scene first: a link holds a scene that runs.")
    with sb.popover("Load scene", icon=":material/upload_file:", width="stretch"):
        st.file_uploader("A scene file from \"Download\" or optviz --save-scene", type=["json"],
                         key="scene_upload", on_change=_on_upload,
                         max_upload_size=max(1, MAX_FILE_BYTES // 1_000_000))
    note = ss.pop("share_note", None)
    if note:
        sb.success(note, icon=":material/check_circle:")


# ---------------------------------------------------------------------- the link of a slider's position
def link_template(scene: Scene) -> dict[str, Any]:
    """What the race needs to write the address bar itself when a slider moves in the page:
    ``query`` (the scene's :meth:`Scene.to_query`) and ``group`` (how ``opt`` names the
    optimizers' group, or None). With :func:`slider_link_texts` the page rebuilds ``opt`` as
    :meth:`Scene.to_query` writes it: ``[group;]Name[:hp=v,...];...``, a name without a changed
    value left out after a group (``tests/test_dashboard_parts.py`` holds the two equal)."""
    names = tuple(scene.optimizers)
    group = next((g for g, members in GROUPS.items() if tuple(members) == names), None)
    return {"query": scene.to_query(), "group": None if group is None else group_label(group)}


def slider_link_texts(scene: Scene, name: str, hp: str, values: Any) -> list[str]:
    """``hp=value`` for each of a slider's positions, as ``scene``'s link writes it; empty where
    the link leaves the value out (the value of the scene's rate policy)."""
    fname, fdim, params = scene.function.rate_key()
    default = rates.defaults(name, fname, fdim, scene.rates, params=params).get(hp)
    return ["" if float(v) == default else f"{hp}={float(v)!r}" for v in values]

"""Export the scene on screen to GIF, MP4 or an error-plot PNG, in 720p or 1080p, or as one web page
(the live race with every slider position, :mod:`optviz.live.html`).

A fragment: its buttons rerun only this section. The file is rendered by
:mod:`optviz.draw.render` into a temporary folder, read into memory for the download button, and
the folder is removed at once: nothing is left on disk (each export used to leave one behind).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

import optviz
from optviz.dashboard.messages import short
from optviz.dashboard.state import ss

#: The export sizes (:data:`optviz.draw.render.RESOLUTIONS`: 1280×720 and 1920×1080 pixels).
RESOLUTIONS = ("720p", "1080p")
MIME = {".gif": "image/gif", ".mp4": "video/mp4", ".png": "image/png", ".html": "text/html"}
WEB_PAGE_HELP = ("The live race as one HTML file: it plays and its sliders work from disk, with no network "
                 "and no server; it fits in an iframe on a course page")
#: Most frames of an exported animation (101: every step of a 100-step race).
MAX_FRAMES = 101


def scene_signature(result: optviz.Result, kind: str, resolution: str) -> str:
    """Identifies what is on screen (an export's download is offered only for its own scene)."""
    hp = sorted((n, sorted((k, repr(v)) for k, v in h.items())) for n, h in result.hyperparams.items())
    return repr((result.function.name, result.dim, getattr(result.function, "params", {}), result.names, hp,
                 result.starts.tobytes(), result.steps, result.seed, result.schedule, result.hooks, kind,
                 resolution))


def web_page(result: optviz.Result, scene: optviz.Scene, lesson: str | None = None) -> tuple[str, bytes]:
    """The race on screen as one web page: (file name, bytes); with ``lesson`` (a lesson's name, when
    the scene is still that lesson's) its title and note above the race."""
    from optviz.live import html
    from optviz.scene import lessons

    title = note = None
    if lesson in lessons.LESSONS and lessons.get(lesson).scene == scene:
        title, note = lessons.get(lesson).title, lessons.get(lesson).note
    text = html.page(scene, title=title, note=note,
                     data=html.race_data(scene, result=result if result.recorded_steps.size == scene.steps + 1
                                         else None))
    return f"optviz-{result.function.name}.html", text.encode("utf-8")


def render_file(result: optviz.Result, fmt: str, kind: str, resolution: str, fps: int,
                progress=None) -> tuple[str, bytes]:
    """Render ``result`` to ``fmt`` (".gif", ".mp4" or ".png") and return (file name, bytes); the
    temporary folder is gone when this returns, whatever happened."""
    from optviz.draw import render

    name = f"optviz-{result.function.name}-{resolution}{fmt}"
    with tempfile.TemporaryDirectory(prefix="optviz-export-") as tmp:
        out = Path(tmp) / name
        if fmt == ".png":
            path = render.error_plot(result, out, kind=kind, resolution=resolution)
        else:
            path = render.animate(result, out, fps=fps, max_frames=MAX_FRAMES, kind=kind,
                                  resolution=resolution, progress=progress)
        return name, Path(path).read_bytes()


@st.fragment
def section(result: optviz.Result, kind: str, scene: optviz.Scene | None = None) -> None:
    """The export controls and, once rendered, the download of the file for this scene (with
    ``scene``: also as one web page)."""
    st.subheader("Export")
    c1, c2, c3, c4, c5, c7, c6 = st.columns([1.4, 1, 1, 1, 1.2, 1.2, 1.8], vertical_alignment="bottom")
    c1.slider("Frames per second", 5, 30, key="export_fps")
    c2.segmented_control("Size", list(RESOLUTIONS), key="export_res", required=True,
                         help="1280×720 or 1920×1080 pixels: a projector's or a slide's size")
    res = str(ss.get("export_res") or "720p")
    sig = scene_signature(result, kind, res)
    fmt = None
    if c3.button("GIF", key="export_gif", icon=":material/gif_box:", width="stretch"):
        fmt = ".gif"
    if c4.button("MP4", key="export_mp4", icon=":material/movie:", width="stretch"):
        fmt = ".mp4"
    if c5.button("Error plot", key="export_png", icon=":material/show_chart:", width="stretch",
                 help="The error chart as a PNG picture"):
        fmt = ".png"
    if scene is not None and c7.button("Web page", key="export_html", icon=":material/language:",
                                       width="stretch", help=WEB_PAGE_HELP):
        fmt = ".html"
    if fmt is not None:
        bar = st.progress(0.0, text="Rendering…")

        def progress(done: int, total: int) -> None:
            bar.progress(min(done / max(total, 1), 1.0), text=f"Rendering frame {done} of {total}")

        try:
            if fmt == ".html":
                name, data = web_page(result, scene, ss.get("lesson"))
            else:
                name, data = render_file(result, fmt, kind, res, int(ss["export_fps"]), progress)
        except (ValueError, OSError, RuntimeError, MemoryError) as exc:  # e.g. no ffmpeg: keep the page
            bar.empty()
            st.error(f"Export failed: {short(exc)}")
            return
        bar.progress(1.0, text=f"Done: {name} ({len(data) / 1e6:.1f} MB)")
        ss["export_file"] = (name, data, sig)
    if "export_file" in ss:
        name, data, made_for = ss["export_file"]
        if made_for == sig:
            suffix = Path(name).suffix
            label = "Download as web page" if suffix == ".html" else f"Download {suffix[1:].upper()}"
            c6.download_button(label, data, file_name=name, mime=MIME[suffix],
                               key="export_download", icon=":material/download:", width="stretch",
                               on_click="ignore")
        else:
            c6.caption("The scene changed since the last export: export again.")

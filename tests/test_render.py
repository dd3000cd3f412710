"""The export renderer: frame counts, sizes, formats, atomic writes."""

from __future__ import annotations

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

import optviz
from optviz.draw import encoders, frames, render
from optviz.draw.style import color
from optviz.scene import lessons as presets

SIZE, DPI = (4.0, 3.0), 60  # 240 x 180 pixels: small and quick


@pytest.fixture(scope="module")
def rosen():
    # 31 recorded rows (steps 0..30); NAG with a large step diverges.
    return optviz.run(
        "rosenbrock",
        {"Adam": {"alpha": 0.05}, "NAG": {"eta": 0.05}},
        starts=[[-1.5, 2.0], [1.5, -0.5]],
        steps=30,
    )


@pytest.fixture(scope="module")
def quartic():
    return optviz.run(**presets.ARTICLE_QUARTIC.run_kwargs())


def _listing(d):
    return sorted(p.name for p in d.iterdir())


# ---------------------------------------------------------------- frame selection
@pytest.mark.parametrize(
    ("n_rows", "max_frames", "stride", "expected"),
    [
        (31, 200, None, list(range(31))),
        (31, 200, 4, [0, 4, 8, 12, 16, 20, 24, 28, 30]),
        (31, 7, None, [0, 5, 10, 15, 20, 25, 30]),
        (31, 2, None, [0, 30]),
        (1, 200, None, [0]),
        (10, 200, 3, [0, 3, 6, 9]),
    ],
)
def test_frame_rows(n_rows, max_frames, stride, expected):
    assert render.frame_rows(n_rows, max_frames, stride).tolist() == expected


def test_frame_rows_keep_under_max_and_include_last():
    for n_rows in (2, 3, 100, 2001, 12345):
        for m in (2, 3, 50, 200):
            rows = render.frame_rows(n_rows, m)
            assert len(rows) <= m and rows[0] == 0 and rows[-1] == n_rows - 1
            assert np.all(np.diff(rows) > 0)


@pytest.mark.parametrize("kw", [{"max_frames": 1}, {"stride": 0}, {"stride": 1.5}])
def test_frame_rows_rejects(kw):
    with pytest.raises(ValueError, match=r"max_frames|stride"):
        render.frame_rows(10, **kw)


# ---------------------------------------------------------------- GIF
def test_gif_frames_size_and_progress(rosen, tmp_path):
    calls = []
    out = render.animate(rosen, tmp_path / "r.gif", stride=4, size=SIZE, dpi=DPI,
                         progress=lambda d, t: calls.append((d, t)))
    assert out == tmp_path / "r.gif"
    with Image.open(out) as im:
        assert im.format == "GIF"
        assert im.n_frames == 9  # rows 0, 4, ..., 28 and the last, 30
        assert im.size == (240, 180)
    assert calls == [(i, 9) for i in range(1, 10)]
    assert _listing(tmp_path) == ["r.gif"]  # no temporary file left


def test_gif_max_frames_and_content(rosen, tmp_path):
    out = render.animate(rosen, tmp_path / "r.gif", max_frames=7, size=(6, 4), dpi=100)
    with Image.open(out) as im:
        assert im.n_frames == 7
        assert im.size == (600, 400)
        im.seek(0)
        first = np.asarray(im.convert("RGB"))
        im.seek(6)
        last = np.asarray(im.convert("RGB"))
    assert not np.array_equal(first, last)  # something moved
    # The optimizers' exact colours survive the GIF palette (legend, paths, markers).
    for name in ("Adam", "NAG"):
        rgb = tuple(int(color(name)[i:i + 2], 16) for i in (1, 3, 5))
        assert np.all(last == rgb, axis=-1).sum() > 20, name


def test_gif_1d_article_preset(quartic, tmp_path):
    out = render.animate(quartic, tmp_path / "q.gif", max_frames=11, size=(6, 4), dpi=40)
    with Image.open(out) as im:
        assert im.n_frames == 11  # 101 rows, stride 10
        assert im.size == (240, 160)


# ---------------------------------------------------------------- MP4
def test_mp4_frames_even_size_and_container(rosen, tmp_path):
    # 4.05 x 3.05 in at 100 dpi is 405 x 305 px: trimmed to even for yuv420p.
    out = render.animate(rosen, tmp_path / "r.mp4", stride=3, size=(4.05, 3.05), dpi=100, fps=10)
    n_frames, secs = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert n_frames == 11  # rows 0, 3, ..., 30
    assert secs == pytest.approx(1.1, abs=0.15)
    head = out.read_bytes()[:12]
    assert head[4:8] == b"ftyp"
    gen = imageio_ffmpeg.read_frames(str(out))
    meta = next(gen)
    gen.close()
    assert tuple(meta["size"]) == (404, 304)
    assert _listing(tmp_path) == ["r.mp4"]


# ---------------------------------------------------------------- stills
def test_error_plot_png_and_svg(rosen, tmp_path):
    png = render.error_plot(rosen, tmp_path / "e.png", size=SIZE, dpi=DPI)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(png) as im:
        assert im.size == (240, 180)
    svg = render.error_plot(rosen, tmp_path / "e.svg", kind="gap")
    text = svg.read_text()
    assert "<svg" in text[:2000] and text.rstrip().endswith("</svg>")


def test_animate_png_svg_give_last_frame(rosen, tmp_path):
    png = render.animate(rosen, tmp_path / "s.png", size=SIZE, dpi=DPI)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = render.animate(rosen, tmp_path / "s.svg", size=SIZE, dpi=DPI, error_panel=False)
    assert "<svg" in svg.read_text()[:2000]


def test_error_plot_many_starts_no_minimum_and_nd(tmp_path):
    sad = optviz.run("saddle", ["SGD", "Adam"], starts=optviz.scene.starts.ring([0, 0], 0.3, 5), steps=20)
    render.error_plot(sad, tmp_path / "sad.png")  # loss kind, negative values: linear scale
    render.animate(sad, tmp_path / "sad.gif", size=SIZE, dpi=DPI, max_frames=3)
    nd = optviz.run("rosenbrock", ["Adam"], starts=[[-1, 1, -1], [0, 0, 0]], steps=10)
    render.animate(nd, tmp_path / "nd.gif", size=SIZE, dpi=DPI, max_frames=3)  # projection
    assert _listing(tmp_path) == ["nd.gif", "sad.gif", "sad.png"]


# ---------------------------------------------------------------- frame contents
def test_diverged_points_show_as_cross(rosen):
    assert rosen.diverged["NAG"].any() and not rosen.diverged["Adam"].any()
    scene = frames.Drawing(rosen, "auto")
    frame = frames.Frame(scene, SIZE, DPI, error_panel=True, title=None)
    last = len(rosen.recorded_steps) - 1
    frame.show(last)
    n_div = int(rosen.diverged["NAG"].sum())
    assert len(frame.crosses["NAG"].get_xdata()) == n_div
    assert len(frame.dots["NAG"].get_xdata()) == rosen.n_points - n_div
    assert len(frame.crosses["Adam"].get_xdata()) == 0
    # The cross sits inside the drawn view even when the last finite point is far away.
    (x0, x1), (y0, y1) = scene.view
    xs, ys = frame.crosses["NAG"].get_data()
    assert np.all((x0 <= xs) & (xs <= x1) & (y0 <= ys) & (ys <= y1))
    frame.show(0)
    assert len(frame.crosses["NAG"].get_xdata()) == 0
    assert frame.counter.get_text() == "step  0 / 30"
    # The legend sits beside the plots: it does not overlap the trajectory panel.
    frame.fig.canvas.draw()
    r = frame.fig.canvas.get_renderer()
    legends = frame.fig.legends + [a.get_legend() for a in frame.fig.axes if a.get_legend()]
    assert len(legends) == 1
    assert not legends[0].get_window_extent(r).overlaps(frame.ax.get_window_extent(r))


# ---------------------------------------------------------------- errors, atomic writes
@pytest.mark.parametrize("name", ["x.avi", "x", "x.jpeg"])
def test_unknown_extension(rosen, tmp_path, name):
    with pytest.raises(ValueError, match=r"\.gif, \.mp4, \.png, \.svg"):
        render.animate(rosen, tmp_path / name)
    assert _listing(tmp_path) == []


@pytest.mark.parametrize(
    "kw", [{"fps": 0}, {"size": (0.5, 0.5)}, {"dpi": -1}, {"max_frames": 1}, {"stride": 0}]
)
def test_bad_options(rosen, tmp_path, kw):
    with pytest.raises(ValueError):
        render.animate(rosen, tmp_path / "x.gif", **kw)
    assert _listing(tmp_path) == []


@pytest.mark.parametrize(("ext", "writer"), [(".gif", encoders.GifWriter), (".mp4", encoders.Mp4Writer)])
def test_error_mid_render_leaves_no_file(rosen, tmp_path, monkeypatch, ext, writer):
    old = tmp_path / f"keep{ext}"
    old.write_bytes(b"previous version")
    original = writer.grab_frame
    count = {"n": 0}

    def flaky(self, **kw):
        count["n"] += 1
        if count["n"] == 3:
            raise OSError("disk full")
        return original(self, **kw)

    monkeypatch.setattr(writer, "grab_frame", flaky)
    with pytest.raises(OSError, match="disk full"):
        render.animate(rosen, tmp_path / f"new{ext}", size=SIZE, dpi=DPI)
    with pytest.raises(OSError, match="disk full"):
        count["n"] = 0
        render.animate(rosen, old, size=SIZE, dpi=DPI)
    assert _listing(tmp_path) == [f"keep{ext}"]  # no new file, no temporary file
    assert old.read_bytes() == b"previous version"  # the old file is untouched


def test_progress_callback_can_abort(rosen, tmp_path):
    def stop(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        render.animate(rosen, tmp_path / "x.mp4", size=SIZE, dpi=DPI, progress=stop)
    assert _listing(tmp_path) == []


def test_check_output(tmp_path):
    assert render.check_output(tmp_path / "a.gif") == tmp_path / "a.gif"
    with pytest.raises(ValueError, match="does not exist"):
        render.check_output(tmp_path / "missing" / "a.gif")
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="not a directory"):
        render.check_output(tmp_path / "file" / "a.gif")
    (tmp_path / "d.gif").mkdir()
    with pytest.raises(ValueError, match="is a directory"):
        render.check_output(tmp_path / "d.gif")
    assert _listing(tmp_path) == ["d.gif", "file"]


def test_long_run_paths_are_bounded_and_end_at_the_point(rosen, monkeypatch):
    monkeypatch.setattr(frames, "PATH_VERTICES", 12)  # rosen has 31 rows: decimate
    frame = frames.Frame(frames.Drawing(rosen, "auto"), SIZE, DPI, error_panel=False, title=None)
    for row in (0, 1, 17, 30):
        frame.show(row)
        xs = frame.paths["Adam"].get_xdata()
        per_start = np.split(np.asarray(xs), np.flatnonzero(np.isnan(xs)) + 1)
        assert len(xs) <= 2 * (12 + 2)
        ends = [p[~np.isnan(p)][-1] for p in per_start if np.isfinite(p).any()]
        np.testing.assert_allclose(ends, rosen.trajectories["Adam"][row, :, 0])


# ---------------------------------------------------------------- the page's look
@pytest.fixture(scope="module")
def field():
    """The default field on Rosenbrock, 4 starts, 60 steps: every optimizer moves visibly."""
    hp = {"SGD": {"eta": 1e-3}, "MSGD": {"eta": 5e-3}, "NAG": {"eta": 5e-3}, "RMSprop": {"eta": 0.02},
          "Adam": {"alpha": 0.05}}
    return optviz.run("rosenbrock", hp, starts=[[-1.5, 2.0], [1.5, -0.5], [-0.5, 2.5], [0.5, 0.0]], steps=60)


def _rgb(hex_color):
    return np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)])


def _count(img, hex_color, tol=2):
    return int(np.all(np.abs(img[..., :3].astype(int) - _rgb(hex_color)) <= tol, axis=-1).sum())


def test_export_colours_match_the_page(field, tmp_path):
    from optviz.draw import plots, style

    # the page's look of each optimizer (optviz/dashboard draws the race with these traces)
    looks = plots.optimizer_traces(field.names, field.n_points)
    page = {n: t["marker"]["marker"]["color"] for n, t in looks.items()}
    assert set(page) == set(field.names)
    out = render.still(field, tmp_path / "s.png", resolution="720p", row=30)
    img = np.asarray(Image.open(out).convert("RGB"))
    for name, c in page.items():
        assert c == style.color(name)
        assert _count(img, c) >= 40, f"{name}'s colour {c} is not in the picture"
    # the landscape is the page's colour map: the plot's background pixels lie on its ramp
    ramp = (np.array(style.landscape_cmap()(np.linspace(0, 1, 512)))[:, :3] * 255).round()
    frame = frames.Frame(frames.Drawing(field, "auto"), *render.frame_size("720p"), error_panel=True,
                          title=None)
    frame.fig.canvas.draw()
    x0, y0, x1, y1 = frame.ax.get_window_extent().extents.round().astype(int)
    h = img.shape[0]
    inner = img[h - y1 + 5: h - y0 - 5, x0 + 5: x1 - 5].reshape(-1, 3).astype(float)
    colours, counts = np.unique(inner, axis=0, return_counts=True)
    top = colours[np.argsort(counts)[-8:]]  # the most common colours: the bands
    dist = np.abs(top[:, None, :] - ramp[None, :, :]).max(axis=-1).min(axis=1)
    assert dist.max() <= 3, "background colours off the landscape's colour map"


def test_second_cue_beyond_eight_optimizers(tmp_path):
    from optviz.draw import style

    res = optviz.run("himmelblau", list(optviz.NAMES), starts=[[0.0, 0.0]], steps=5)
    frame = frames.Frame(frames.Drawing(res, "auto"), SIZE, DPI, error_panel=True, title=None)
    looks = style.look_of(res.names)  # each optimizer's slot among those shown (issue 19)
    for name in res.names:
        assert frame.dots[name].get_marker() == looks[name].mpl_marker
        assert frame.dots[name].get_color() == looks[name].color
        ls = frame.err_lines[name].get_linestyle()
        assert (ls == "-") == (looks[name].dash == "solid")
    few = frames.Frame(frames.Drawing(optviz.run("himmelblau", ["SGD", "Adam"], [[0.0, 0.0]], 5), "auto"),
                        SIZE, DPI, error_panel=True, title=None)
    pair = ("SGD", "Adam")
    assert [few.dots[n].get_marker() for n in pair] == [style.mpl_marker(n) for n in pair]


def test_layers_star_above_paths_start_rings_above_markers(field):
    from optviz.draw import style

    frame = frames.Frame(frames.Drawing(field, "auto"), SIZE, DPI, error_panel=True, title=None)
    star = [ln for ln in frame.ax.lines if ln.get_marker() == style.MINIMUM.mpl_marker]
    rings = [ln for ln in frame.ax.lines if ln.get_marker() == "o" and ln.get_markerfacecolor() == "none"]
    assert len(star) == 1 and len(rings) == 1
    assert star[0].get_markerfacecolor() == style.MINIMUM.fill
    paths = max(p.get_zorder() for p in frame.paths.values())
    dots = min(d.get_zorder() for d in frame.dots.values())
    assert paths < star[0].get_zorder() < dots < rings[0].get_zorder()
    order = frame._moving()
    assert order.index(star[0]) > max(order.index(p) for p in frame.paths.values())
    # step 0: every optimizer is on its start; the rings show the starts, no marker covers another
    frame.show(0)
    assert all(len(d.get_xdata()) == 0 for d in frame.dots.values())
    assert len(rings[0].get_xdata()) == field.n_points
    frame.show(1)
    assert all(len(d.get_xdata()) == field.n_points for d in frame.dots.values())


def test_plot_box_is_the_functions_box_and_band_is_drawn(field):
    from optviz.draw import style

    frame = frames.Frame(frames.Drawing(field, "auto"), SIZE, DPI, error_panel=True, title=None)
    box = np.asarray(field.function.box)
    np.testing.assert_allclose([frame.ax.get_xlim(), frame.ax.get_ylim()], box)
    assert set(frame.bands) == set(field.names)
    frame.show(40)
    for name, band in frame.bands.items():
        verts = np.concatenate([p.vertices for p in band.get_paths()])
        assert len(verts) > 40 and np.isfinite(verts).all()
        assert band.get_alpha() == style.BAND_OPACITY
        np.testing.assert_allclose(band.get_facecolor()[0][:3], _rgb(style.color(name)) / 255, atol=1e-6)
    # the band is the page's: the 25-75 % quantiles ("nearest") of the error over the starts
    from optviz.draw import plots

    _, steps, curves = plots.error_curves(field)
    np.testing.assert_array_equal(steps, frame.s.steps)  # 61 rows: the page draws every one
    for name in field.names:
        np.testing.assert_allclose(frame.s.quantiles[name], np.array(curves[name]), rtol=1e-6)


@pytest.mark.parametrize(("resolution", "pixels"), [("720p", (1280, 720)), ("1080p", (1920, 1080))])
def test_resolutions_are_pixel_exact(field, tmp_path, resolution, pixels):
    png = render.still(field, tmp_path / "s.png", resolution=resolution)
    with Image.open(png) as im:
        assert im.size == pixels
    mp4 = render.animate(field, tmp_path / "r.mp4", resolution=resolution, max_frames=2)
    gen = imageio_ffmpeg.read_frames(str(mp4))
    meta = next(gen)
    frame = next(gen)
    gen.close()
    assert tuple(meta["size"]) == pixels and len(frame) == pixels[0] * pixels[1] * 3
    if resolution == "720p":
        gif = render.animate(field, tmp_path / "r.gif", resolution=resolution, max_frames=2)
        with Image.open(gif) as im:
            assert im.size == pixels and im.n_frames == 2
        err = render.error_plot(field, tmp_path / "e.png", resolution=resolution)
        with Image.open(err) as im:
            assert im.size == pixels


@pytest.fixture(scope="module")
def crowd():
    """Every optimizer (a legend too tall to go under the error panel), 3 starts, 40 steps."""
    return optviz.run("rosenbrock", "all", starts=[[-1.5, 2.0], [1.5, -0.5], [0.5, 0.0]], steps=40)


@pytest.mark.parametrize("font", ["installed", "DejaVu Sans"])
@pytest.mark.parametrize("scene", ["field", "crowd", "long title"])
@pytest.mark.parametrize("resolution", ["720p", "1080p"])
def test_text_reads_on_a_projector(field, crowd, resolution, scene, font, monkeypatch):
    """Every label is big enough and inside the frame, whatever fonts the machine has (DejaVu
    Sans, the fallback, is wider than the page's fonts): titles shorten or wrap, never cut."""
    from matplotlib.axis import Tick
    from matplotlib.text import Text

    if font != "installed":
        monkeypatch.setattr(frames, "font_family", lambda: [font])
    result = crowd if scene == "crowd" else field
    title = None if scene != "long title" else (
        "Lecture 4, slide 12: how momentum, Nesterov's look-ahead and adaptive step sizes change the path "
        "of gradient descent along Rosenbrock's long curved valley")
    size, dpi = render.frame_size(resolution)
    frame = frames.Frame(frames.Drawing(result, "auto"), size, dpi, error_panel=True, title=title)
    frame.fig.canvas.draw()
    if title is not None:
        shown = frame.fig.get_suptitle()
        assert shown.replace("\n", " ") == title and "\n" in shown  # wrapped at spaces, every word kept
    # tick labels count only where matplotlib draws them (ticks inside the axis' view)
    all_ticks = {lab for tick in frame.fig.findobj(Tick) for lab in (tick.label1, tick.label2)}
    drawn = set()
    for ax in frame.fig.axes:
        for axis in (ax.xaxis, ax.yaxis) if ax.axison else ():
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if lo - 1e-9 * abs(lo) <= tick.get_loc() <= hi + 1e-9 * abs(hi):
                    drawn.update((tick.label1, tick.label2))
    texts = [t for t in frame.fig.findobj(Text) if t.get_visible() and t.get_text().strip()
             and (t not in all_ticks or t in drawn)]
    assert len(texts) > 20
    smallest, what = min((t.get_fontsize() * dpi / 72, t.get_text()) for t in texts)
    assert smallest >= (18 if resolution == "720p" else 27), what
    # nothing drawn outside the frame (no cut labels)
    r = frame.fig.canvas.get_renderer()
    w, h = frame.fig.bbox.width, frame.fig.bbox.height
    for t in texts:
        e = t.get_window_extent(r)
        assert e.x0 >= -1 and e.y0 >= -1 and e.x1 <= w + 1 and e.y1 <= h + 1, t.get_text()
    # the error panel's title stays clear of the legend
    head = frame.err_title.get_window_extent(r)
    for leg in frame.fig.legends + [a.get_legend() for a in frame.fig.axes if a.get_legend()]:
        for t in leg.get_texts():
            assert not head.overlaps(t.get_window_extent(r)), (frame.err_title.get_text(), t.get_text())


def test_resolution_options_are_checked(field, tmp_path):
    assert render.frame_size() == ((10.0, 5.6), 100)
    assert render.frame_size("1080p") == ((12.8, 7.2), 150.0)
    with pytest.raises(ValueError, match="720p, 1080p"):
        render.animate(field, tmp_path / "x.gif", resolution="4k")
    with pytest.raises(ValueError, match="not both"):
        render.animate(field, tmp_path / "x.mp4", resolution="720p", dpi=80)
    with pytest.raises(ValueError, match="not both"):
        render.check_options(".mp4", resolution="720p", size=(4, 3))
    assert _listing(tmp_path) == []


def test_cli_resolution_flag(tmp_path, capsys):
    from optviz import cli

    out = tmp_path / "r.png"
    code = cli.main(["render", "-f", "booth", "-o", "SGD,Adam", "--grid", "2", "--steps", "10",
                     "--resolution", "720p", "--out", str(out), "-q"])
    assert code == 0
    with Image.open(out) as im:
        assert im.size == (1280, 720)
    code = cli.main(["render", "-f", "booth", "--resolution", "720p", "--dpi", "80", "--out",
                     str(tmp_path / "x.gif")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("optviz: error:") and "not both" in err
    assert _listing(tmp_path) == ["r.png"]
    assert set(render.RESOLUTIONS) == {"720p", "1080p"}  # the CLI's choices

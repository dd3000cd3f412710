"""The command line: outputs, tables, and one-line errors that leave no file behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from optviz import NAMES, cli, render

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--size", "4x3", "--dpi", "60", "-q"]


def _run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _listing(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


# ---------------------------------------------------------------- render
def test_preset_writes_animation_and_error_figure(tmp_path, capsys):
    out = tmp_path / "race.mp4"
    code, stdout, err = _run(["render", "--preset", "article-quartic", "--out", out], capsys)
    assert code == 0, err
    assert stdout.split() == [str(out), str(tmp_path / "race-errors.png")]
    assert _listing(tmp_path) == ["race-errors.png", "race.mp4"]
    n_frames, _ = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert n_frames == 101  # steps 0..100, all under the 200-frame cap
    assert out.read_bytes()[4:8] == b"ftyp"
    assert (tmp_path / "race-errors.png").read_bytes()[:4] == b"\x89PNG"


def test_render_gif_options(tmp_path, capsys):
    out = tmp_path / "r.gif"
    code, stdout, err = _run(
        ["render", "-f", "himmelblau", "-o", "Adam,rmsprop", "--set", "Adam.alpha=0.1", "--random", "3",
         "--steps", "40", "--stride", "10", "--out", out, *SMALL], capsys)
    assert code == 0, err
    assert stdout.strip() == str(out)
    with Image.open(out) as im:
        assert im.n_frames == 5  # steps 0, 10, 20, 30, 40
        assert im.size == (240, 180)


def test_render_png_still_and_no_error_panel(tmp_path, capsys):
    code, _, err = _run(["render", "-o", "Adam", "--steps", "5", "--no-error-panel",
                         "--out", tmp_path / "s.png", *SMALL], capsys)
    assert code == 0, err
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"


def test_progress_bar_on_stderr(tmp_path, capsys):
    code, _, err = _run(["render", "-o", "Adam", "--steps", "8", "--out", tmp_path / "p.gif",
                         "--size", "4x3", "--dpi", "60", "--progress"], capsys)
    assert code == 0
    assert "\r" in err and "9/9 frames" in err and "[" + "#" * 30 + "]" in err


def test_entry_point_subprocess(tmp_path):
    out = tmp_path / "x.gif"
    proc = subprocess.run(
        [sys.executable, "-m", "optviz", "render", "-f", "rosenbrock", "-o", "Adam,NAG", "--grid", "2",
         "--steps", "50", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    with Image.open(out) as im:
        assert im.n_frames == 51 and im.size == (1000, 560)


# ---------------------------------------------------------------- run, list, help
def test_run_json_has_every_optimizer(capsys):
    code, stdout, err = _run(["run", "-f", "rosenbrock", "-o", "all", "--grid", "2", "--steps", "30",
                              "--json"], capsys)
    assert code == 0, err
    doc = json.loads(stdout)
    assert sorted(r["optimizer"] for r in doc["results"]) == sorted(NAMES)
    assert [r["rank"] for r in doc["results"]] == list(range(1, len(NAMES) + 1))
    assert doc["function"] == "rosenbrock" and doc["n_points"] == 4 and doc["kind"] == "distance"
    assert doc["results"][0]["hyperparams"]


def test_run_preset_json_uses_article_hyperparameters(capsys):
    code, stdout, _ = _run(["run", "--preset", "article-quartic", "--set", "Adam.alpha=0.2", "--json"],
                           capsys)
    assert code == 0
    doc = json.loads(stdout)
    rows = {r["optimizer"]: r for r in doc["results"]}
    assert len(rows) == 17 and doc["seed"] == 32 and doc["steps"] == 100
    assert rows["Adam"]["hyperparams"]["alpha"] == 0.2  # --set over the preset
    assert rows["AdaGrad"]["hyperparams"]["eta"] == 0.4  # the preset's own


def test_run_table(capsys):
    code, stdout, _ = _run(["run", "-f", "booth", "-o", "Adam,NAG", "--start=-5,-5", "--steps", "50"], capsys)
    assert code == 0
    lines = stdout.splitlines()
    assert lines[0].startswith("Booth (2-D), 1 start(s), 50 steps")
    assert lines[1].split()[:2] == ["rank", "optimizer"]
    assert set(lines[2]) <= {"-", " "}
    assert {ln.split()[1] for ln in lines[3:]} == {"Adam", "NAG"}
    # columns line up: every row as long as the header
    assert len({len(ln) for ln in lines[1:]}) == 1


def test_negative_start_without_equals_sign():
    args = cli.build_parser().parse_args(cli._fix_negative(
        ["run", "--start", "-1.5,2", "--start", "-.5,-1", "-o", "Adam"]))
    kw = cli.build_scene(args)
    np.testing.assert_array_equal(kw["starts"], [[-1.5, 2.0], [-0.5, -1.0]])


def test_list_and_help(capsys):
    code, stdout, _ = _run(["list"], capsys)
    assert code == 0
    for word in ("rosenbrock", "quartic", "Adam", "alpha=0.001", "article-quartic", "momentum"):
        assert word in stdout
    code, stdout, _ = _run(["render", "--help"], capsys)
    assert code == 0 and "examples:" in stdout and "--preset article-quartic" in stdout


# ---------------------------------------------------------------- bad input
BAD = [
    (["-o", "Adamm"], "valid: SGD"),
    (["-o", ""], "valid: SGD"),
    (["-f", "nope"], "valid: ackley"),
    (["--preset", "nope"], "valid: article-quartic"),
    (["--set", "Adam.alpha"], "Adam.alpha=0.1"),
    (["--set", "alpha=0.1", "-o", "Adam"], "OPTIMIZER.HYPERPARAMETER=VALUE"),
    (["--set", "Adam.foo=1", "-o", "Adam"], "valid: alpha, beta1, beta2, eps"),
    (["--set", "Adam.alpha=abc", "-o", "Adam"], "expected a number"),
    (["--set", "Adam.alpha=1e9", "-o", "Adam"], "[1e-07, 10]"),
    (["--set", "Adam.alpha=inf", "-o", "Adam"], "finite"),
    (["--set", "Nobody.x=1"], "valid: SGD"),
    (["--set", "NAG.mu=0.5", "-o", "Adam"], "not among the chosen optimizers"),
    (["--start", "1,2,3", "-f", "beale"], "dim = 2 only"),
    (["--start", "a,b"], "expected a number"),
    (["--start", "1,,2"], "e.g. -1.5,2"),
    (["--start", "1,2", "--start", "1"], "same number of coordinates"),
    (["--grid", "0"], "[1, 1,000]"),
    (["--ring", "-1"], "> 0"),
    (["--random", "2", "--grid", "2"], "not allowed with"),
    (["--steps", "x"], "whole number"),
    (["--fps", "0"], "> 0"),
    (["--size", "10"], "WIDTHxHEIGHT"),
    (["--size", "0.5x0.5"], "between 64"),
    (["--kind", "bogus"], "auto"),
    (["--schedule", "bogus"], "valid: constant"),
    (["--hook", "clip:foo=1"], "valid: max_norm"),
    (["--preset", "article-quartic", "-f", "beale"], "drop -f/--function"),
    (["--param", "kappa=-1", "-f", "long_valley"], "kappa"),
    (["--backend", "cupy"], "numpy"),
    (["-f", "rosenbrock", "--grid", "1000", "--steps", "100000"], "record every"),  # MemoryError
]


@pytest.mark.parametrize(("extra", "expect"), BAD, ids=[" ".join(b[0]) for b in BAD])
def test_bad_input_one_line_exit_2_no_file(tmp_path, capsys, extra, expect):
    code, stdout, err = _run(["render", *extra, "--out", tmp_path / "x.gif"], capsys)
    assert code == 2
    assert stdout == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("optviz: error: "), err
    assert expect in lines[0]
    assert "Traceback" not in err
    assert _listing(tmp_path) == []


@pytest.mark.parametrize(
    ("out", "expect"),
    [
        ("x.avi", ".gif, .mp4, .png, .svg"),
        ("x", ".gif, .mp4, .png, .svg"),
        ("missing/x.gif", "does not exist"),
        ("afile/x.gif", "not a directory"),
        ("adir", ".gif, .mp4"),
        ("adir.gif", "is a directory"),
    ],
)
def test_bad_output_path(tmp_path, capsys, monkeypatch, out, expect):
    (tmp_path / "afile").write_text("")
    (tmp_path / "adir").mkdir()
    (tmp_path / "adir.gif").mkdir()
    before = _listing(tmp_path)
    # The output is checked before any computing: the engine must not run.
    monkeypatch.setattr(cli, "run_engine", lambda **kw: pytest.fail("computed before checking --out"))
    code, _, err = _run(["render", "--out", tmp_path / out], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and expect in err
    assert _listing(tmp_path) == before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes to read-only dirs")
def test_read_only_directory(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        code, _, err = _run(["render", "--out", ro / "x.gif"], capsys)
        assert code == 2 and "not writable" in err
        assert _listing(ro) == []
    finally:
        ro.chmod(0o755)


def test_unwritable_probe_failure_is_reported(tmp_path, capsys, monkeypatch):
    # What a read-only directory does (root ignores the mode bits, so simulate it).
    def refuse(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(render, "_reserve_temp", refuse)
    code, _, err = _run(["render", "--out", tmp_path / "x.gif"], capsys)
    assert code == 2 and "not writable (Permission denied)" in err
    assert _listing(tmp_path) == []


def test_no_command(capsys):
    code, _, err = _run([], capsys)
    assert code == 2 and err.strip() == (
        "optviz: error: choose a command: render, run, list or dashboard (see 'optviz --help')")
    code, _, err = _run(["bogus"], capsys)
    assert code == 2 and "'render', 'run', 'list', 'dashboard'" in err


@pytest.mark.parametrize("ext", [".gif", ".mp4"])
def test_error_while_rendering_leaves_no_file(tmp_path, capsys, monkeypatch, ext):
    writer = render._GifWriter if ext == ".gif" else render._Mp4Writer
    calls = {"n": 0}
    original = writer.grab_frame

    def flaky(self, **kw):
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError(28, "No space left on device")
        return original(self, **kw)

    monkeypatch.setattr(writer, "grab_frame", flaky)
    code, stdout, err = _run(["render", "--preset", "article-quartic", "--out", tmp_path / f"r{ext}",
                              *SMALL], capsys)
    assert code == 1
    assert stdout == ""
    assert err.strip().splitlines() == [
        f"optviz: error: could not write '{tmp_path / f'r{ext}'}': [Errno 28] No space left on device"]
    assert _listing(tmp_path) == []  # neither the animation, its temp file, nor the error figure


def test_error_figure_failure_removes_the_animation_too(tmp_path, capsys, monkeypatch):
    def boom(*a, **k):
        raise OSError(5, "I/O error")

    monkeypatch.setattr(render, "error_plot", boom)
    code, _, err = _run(["render", "--preset", "article-quartic", "--max-frames", "3",
                         "--out", tmp_path / "r.gif", *SMALL], capsys)
    assert code == 1 and "I/O error" in err
    assert _listing(tmp_path) == []

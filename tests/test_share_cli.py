"""The command line's typed functions (--expr, --box, --minimum) and scene files (--scene,
--save-scene): a saved scene runs the identical race, options given besides a scene change it,
and nothing is left half-written. (Bad input: rows in test_bad_inputs.py.)"""

from __future__ import annotations

import json

import numpy as np
import pytest

import functions
import optviz
from optviz import cli
from optviz.cli import parser, race, scene_args
from optviz.draw import files
from optviz.scene import starts
from optviz.scene.model import Scene, Starts

ROSEN = "(1 - x)**2 + 100*(y - x**2)**2"


@pytest.fixture
def ran(monkeypatch) -> list:
    """The Results of every engine run the CLI makes (in order)."""
    results: list = []
    real = race.run_engine

    def spy(**kw):
        res = real(**kw)
        results.append(res)
        return res

    monkeypatch.setattr(race, "run_engine", spy)
    return results


def _main(argv, capsys) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _kwargs(*argv: str) -> tuple[dict, Scene, Scene | None]:
    """What the options run: the engine's keywords, the scene, and the scene --save-scene writes."""
    args = cli.build_parser().parse_args(parser.fix_negative(list(argv)))
    scene = scene_args.scene_from_args(args)
    kw = {**scene.run_kwargs(), **scene_args.engine_options(args)}
    return kw, scene, scene_args.scene_to_save(args, scene)


def _same_race(a, b) -> None:
    assert a.names == b.names
    for name in a.names:
        np.testing.assert_array_equal(a.trajectories[name], b.trajectories[name])
        np.testing.assert_array_equal(a.diverged_step[name], b.diverged_step[name])


def _rows(out: str) -> list[dict]:
    return json.loads(out)["results"]


# ---------------------------------------------------------------- a typed function
def test_expr_runs_like_the_builtin_rosenbrock(ran, capsys):
    # the article's rates: a typed function has no tuned ones (the built-in's would differ)
    argv = ["run", "-o", "Adam,NAG", "--set", "Adam.alpha=0.05", "--start=-1.5,2", "--steps", "50", "-q",
            "--rates", "article"]
    code, _, err = _main([*argv, "--expr", ROSEN, "--box", "-2,2,-1,3", "--minimum", "1,1"], capsys)
    assert code == 0, err
    code, _, err = _main([*argv, "-f", "rosenbrock"], capsys)
    assert code == 0, err
    typed, builtin = ran
    assert isinstance(typed.function, functions.ExpressionFunction)
    assert not typed.function.estimated
    for name in typed.names:
        np.testing.assert_allclose(typed.trajectories[name], builtin.trajectories[name],
                                   rtol=1e-12, atol=1e-12)


def test_expr_box_minimum_and_estimates(capsys):
    kw, _, _ = _kwargs("run", "--expr", "(x - 1)**2 + (y + 0.5)**2", "--box", "-2,2,-1,3")
    fn = kw["function"]
    assert fn.dim == 2 and fn.estimated
    np.testing.assert_allclose(fn.minimizers, [[1.0, -0.5]], atol=1e-6)
    np.testing.assert_array_equal(fn.box, [[-2, 2], [-1, 3]])
    kw, _, _ = _kwargs("run", "--expr", "x**2", "--box", "-1,1,-2,2")  # two ranges: an x-only formula in 2-D
    assert kw["function"].dim == 2
    kw, _, _ = _kwargs("run", "--expr", "sin(x)")  # the library's default box
    np.testing.assert_array_equal(kw["function"].box, [[-5, 5]])
    kw, _, _ = _kwargs("run", "--expr", "x**2 + y**2", "--minimum", "0,0;1e-300,0", "--minimum", "0,1e-300")
    assert kw["function"].given_minimizers == ((0.0, 0.0), (1e-300, 0.0), (0.0, 1e-300))
    kw, _, _ = _kwargs("run", "--expr", "x - y", "--box", "-1,1,-1,1", "--minimum", "none")
    assert kw["function"].minimizers.shape == (0, 2)
    code, out, err = _main(["run", "--expr", "x - y", "--box", "-1,1,-1,1", "--minimum", "none", "--json",
                            "-o", "SGD", "--steps", "3", "-q"], capsys)
    assert code == 0, err
    assert json.loads(out)["kind"] == "loss"  # auto: no minimum, so the loss


def test_an_expression_may_begin_with_a_minus_sign():
    kw, _, _ = _kwargs("run", "--expr", "-cos(x)", "--box", "-3,3")
    assert kw["function"].text == "-cos(x)"
    kw, _, _ = _kwargs("run", "--expr", "-1 + x**2", "--box", "-3,3")
    assert kw["function"].text == "-1 + x**2"


def test_typed_starts_grid_and_random_on_a_typed_function():
    kw, _, _ = _kwargs("run", "--expr", "x**2 + y**2", "--box", "-2,2,-1,3", "--grid", "3")
    np.testing.assert_array_equal(kw["starts"], starts.grid([[-2, 2], [-1, 3]], 3))
    kw, _, _ = _kwargs("run", "--expr", "x**2 + y**2", "--box", "-2,2,-1,3", "--random", "5", "--seed", "7")
    np.testing.assert_array_equal(kw["starts"], starts.random([[-2, 2], [-1, 3]], 5, seed=7))


def test_render_a_typed_function(tmp_path, capsys):
    out = tmp_path / "typed.png"
    code, stdout, err = _main(["render", "--expr", "x**2 + 3*sin(x)", "--box", "-4,4", "-o", "Adam",
                               "--steps", "10", "--out", out, "--size", "4x3", "--dpi", "60", "-q"], capsys)
    assert code == 0, err
    assert stdout.split() == [str(out)]
    assert out.read_bytes()[:4] == b"\x89PNG"


# ---------------------------------------------------------------- --save-scene, --scene
RACE = ["-o", "Adam,NAG,SantaE", "--set", "Adam.alpha=0.05", "--steps", "40", "--schedule",
        "warmup:steps=5+cosine", "--hook", "clip:max_norm=5", "--seed", "3", "-q"]


@pytest.mark.parametrize("function", [
    ["--expr", ROSEN, "--box", "-2,2,-1,3", "--minimum", "1,1"],
    ["--expr", "sin(3*x)*cos(y) + (x**2 + y**2)/10", "--box", "-3,3,-3,3"],  # estimated minimum
    ["-f", "long_valley", "--param", "kappa=50", "--dim", "3"],
])
@pytest.mark.parametrize("start", [["--grid", "2"], ["--random", "3"], ["--ring", "0.5"], []])
def test_a_saved_scene_runs_the_identical_race(function, start, tmp_path, ran, capsys):
    path = tmp_path / "scene.json"
    code, out1, err = _main(["run", *function, *start, *RACE, "--json", "--save-scene", path], capsys)
    assert code == 0, err
    code, out2, err = _main(["run", "--scene", path, "--json", "-q"], capsys)
    assert code == 0, err
    first, again = ran
    _same_race(first, again)
    _same_race(first, Scene.load(path).run())
    assert _rows(out1) == _rows(out2)
    saved = Scene.load(path)
    # without starts: the dashboard's grid (in 3-D, 16 random points)
    default = "random" if "--dim" in function else "grid"
    mode = {"--grid": "grid", "--random": "random", "--ring": "points"}[start[0]] if start else default
    assert saved.starts.mode == mode
    if mode == "random":
        assert saved.starts.seed == 3  # random starts come from --seed
    assert saved.schedule == "warmup:steps=5+cosine" and saved.hooks == ("clip:max_norm=5",)
    assert saved.optimizers["Adam"]["alpha"] == 0.05 and saved.seed == 3 and saved.steps == 40


def test_a_preset_saved_as_a_scene(tmp_path, ran, capsys):
    path = tmp_path / "quartic.json"
    code, _, err = _main(["run", "--preset", "article-quartic", "--steps", "30", "-q", "--save-scene", path],
                         capsys)
    assert code == 0, err
    _same_race(ran[0], Scene.load(path).run())


def test_options_given_besides_a_scene_change_it(tmp_path):
    path = tmp_path / "s.json"
    opts = {"Adam": {"alpha": 0.2}, "NAG": {"mu": 0.5}}
    Scene.from_run_kwargs("himmelblau", opts, Starts.grid(3), 60, seed=4, schedule="cosine",
                          hooks=["clip:max_norm=2"], error="gap", tol=0.01).save(path)
    save = str(tmp_path / "out.json")
    kw, ran, to_save = _kwargs("run", "--scene", str(path), "--save-scene", save)
    scene = Scene.load(path)
    assert kw["steps"] == 60 and kw["seed"] == 4 and kw["schedule"] == "cosine"
    assert (ran.error, ran.tol) == ("gap", 0.01)  # the scene's view, for the summary
    assert ran == scene and to_save == scene  # nothing changed: the scene itself
    np.testing.assert_array_equal(kw["starts"], scene.starts_array())

    kw, ran, saved = _kwargs("run", "--scene", str(path), "-o", "Adam,SGD", "--set", "SGD.eta=0.1",
                             "--steps", "7", "--seed", "9", "--kind", "distance", "--tol", "0.5",
                             "--hook", "clip:max_norm=1", "--schedule", "constant", "--save-scene", save)
    assert kw["optimizers"]["Adam"]["alpha"] == 0.2  # kept from the scene
    assert kw["optimizers"]["SGD"]["eta"] == 0.1 and "NAG" not in kw["optimizers"]
    assert (kw["steps"], kw["seed"], kw["schedule"], kw["hooks"]) == (7, 9, "constant", ("clip:max_norm=1",))
    assert (ran.error, ran.tol) == ("distance", 0.5)
    assert (saved.steps, saved.seed, saved.error, saved.tol) == (7, 9, "distance", 0.5)
    np.testing.assert_array_equal(kw["starts"], scene.starts_array())  # the grid is the scene's

    # a new function: the grid is computed again on its box
    kw, _, _ = _kwargs("run", "--scene", str(path), "-f", "booth")
    np.testing.assert_array_equal(kw["starts"], starts.grid(functions.get("booth").box, 3))
    kw, _, _ = _kwargs("run", "--scene", str(path), "--expr", "x**2", "--box", "-1,1")
    np.testing.assert_array_equal(kw["starts"], starts.grid([[-1, 1]], 3))
    # new starts
    kw, _, _ = _kwargs("run", "--scene", str(path), "--random", "4")
    np.testing.assert_array_equal(kw["starts"], starts.random(functions.get("himmelblau").box, 4, seed=4))
    kw, _, _ = _kwargs("run", "--scene", str(path), "--start=-1,2")
    np.testing.assert_array_equal(kw["starts"], [[-1.0, 2.0]])


def test_box_and_minimum_change_a_typed_scene(tmp_path):
    path = tmp_path / "typed.json"
    Scene.from_run_kwargs(functions.from_expression("x**2 + y**2", box=[-2, 2, -2, 2], minimizers=[[0, 0]]),
                          "Adam", Starts.grid(2), 10).save(path)
    kw, _, _ = _kwargs("run", "--scene", str(path), "--box", "-4,4,-1,1")
    fn = kw["function"]
    assert fn.text == "x**2 + y**2" and fn.given_minimizers == ((0.0, 0.0),)  # kept
    np.testing.assert_array_equal(fn.box, [[-4, 4], [-1, 1]])
    np.testing.assert_array_equal(kw["starts"], starts.grid([[-4, 4], [-1, 1]], 2))
    kw, _, _ = _kwargs("run", "--scene", str(path), "--minimum", "none")
    assert kw["function"].minimizers.shape == (0, 2)


def test_engine_options_pass_through_and_scene_extras_are_read(tmp_path):
    path = tmp_path / "s.json"
    Scene.from_run_kwargs("booth", "SGD", Starts.grid(2), 10, noise=0.1, delay=2, dtype="float32").save(path)
    kw, _, _ = _kwargs("run", "--scene", str(path), "--record-every", "5", "--backend", "auto")
    assert (kw["noise"], kw["delay"], kw["dtype"], kw["record_every"], kw["backend"]) == (
        0.1, 2, "float32", 5, "auto")
    # options added to the shared scene options (e.g. --noise, --delay) change a scene by their dest
    args = cli.build_parser().parse_args(["run", "--scene", str(path)])
    args.noise, args.delay = 0.5, 0
    kw = scene_args.scene_from_args(args).run_kwargs()
    assert kw["noise"] == 0.5 and "delay" not in kw


def test_render_scene_and_save_scene_write_both(tmp_path, capsys):
    src = tmp_path / "s.json"
    f = functions.from_expression(ROSEN, box=[-2, 2, -1, 3])
    Scene.from_run_kwargs(f, "Adam", Starts.grid(2), 10).save(src)
    out, copy = tmp_path / "race.gif", tmp_path / "copy.json"
    code, stdout, err = _main(["render", "--scene", src, "--out", out, "--save-scene", copy, "--size", "4x3",
                               "--dpi", "60", "-q"], capsys)
    assert code == 0, err
    assert stdout.split() == [str(out), str(copy)]
    assert Scene.load(copy) == Scene.load(src)


def test_a_failed_render_leaves_no_scene_either(tmp_path, capsys, monkeypatch):
    from optviz.draw import render

    def broken(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(render, "animate", broken)
    code, _, err = _main(["render", "--expr", "x**2", "-o", "SGD", "--steps", "3", "-q",
                          "--out", tmp_path / "a.gif", "--save-scene", tmp_path / "s.json"], capsys)
    assert code == 1 and "could not write" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["run", "render"])
def test_a_scene_that_cannot_be_written_is_reported(command, tmp_path, capsys, monkeypatch):
    def broken(path, text):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "write_text", broken)
    extra = ["--out", tmp_path / "a.gif"] if command == "render" else []
    code, _, err = _main([command, "--expr", "x**2", "-o", "SGD", "--steps", "3", *extra,
                          "--save-scene", tmp_path / "s.json", "-q"], capsys)
    assert code == 1
    assert err.startswith("optviz: error: could not write") and "s.json" in err and "No space left" in err
    assert len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # the render's file went with it


def test_help_lists_the_options(capsys):
    for command in ("run", "render"):
        code, out, _ = _main([command, "--help"], capsys)
        assert code == 0
        for option in ("--expr", "--box", "--minimum", "--scene", "--save-scene"):
            assert option in out


def test_a_run_from_a_scene_equals_the_api(tmp_path, ran, capsys):
    f = functions.from_expression(ROSEN, box=[[-2, 2], [-1, 3]], minimizers=[[1, 1]])
    scene = Scene.from_run_kwargs(f, {"Adam": {"alpha": 0.05}}, Starts.random(4, seed=1), 25)
    path = scene.save(tmp_path / "s.json")
    code, _, err = _main(["run", "--scene", path, "-q"], capsys)
    assert code == 0, err
    _same_race(ran[0], optviz.run(f, {"Adam": {"alpha": 0.05}}, starts.random(f.box, 4, seed=1), 25))


def test_a_saved_scene_gets_the_permissions_of_any_new_file(tmp_path, capsys):
    import os

    umask = os.umask(0o022)
    try:
        code, _, err = _main(["run", "--expr", "x**2", "-o", "SGD", "--steps", "3", "-q",
                              "--save-scene", tmp_path / "s.json"], capsys)
    finally:
        os.umask(umask)
    assert code == 0, err
    assert (tmp_path / "s.json").stat().st_mode & 0o777 == 0o644  # not a temporary file's 0600
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


# ---------------------------------------------------------------- one rates policy
def test_the_issue_race_matches_the_page_with_the_tuned_rates(capsys):
    """`optviz run -f himmelblau -o SGD,MSGD,NAG,RMSprop,Adam --grid 4 --steps 300`: the page's
    race (16/16 for Adam); the article's rates are one option away, and the output says which."""
    argv = ["run", "-f", "himmelblau", "-o", "SGD,MSGD,NAG,RMSprop,Adam", "--grid", "4", "--steps", "300",
            "--json", "-q"]
    code, out, err = _main(argv, capsys)
    assert code == 0, err
    doc = json.loads(out)
    rows = {r["optimizer"]: r for r in doc["results"]}
    assert doc["rates"] == "tuned" and rows["Adam"]["converged"] == 1.0
    tuned = optviz.optimizers.rates.defaults("Adam", "himmelblau", 2)["alpha"]
    assert rows["Adam"]["hyperparams"]["alpha"] == tuned
    page = Scene(function={"name": "himmelblau"}, optimizers=["SGD", "MSGD", "NAG", "RMSprop", "Adam"],
                 starts=Starts.grid(4), steps=300)  # the dashboard's scene: its rates are the policy's
    assert {n: r["hyperparams"] for n, r in rows.items()} == {n: dict(h) for n, h in page.optimizers.items()}
    for flag in ("article", "registry"):
        code, out, err = _main([*argv, "--rates", flag], capsys)
        assert code == 0, err
        doc = json.loads(out)
        rows = {r["optimizer"]: r for r in doc["results"]}
        assert doc["rates"] == "article" and rows["Adam"]["hyperparams"]["alpha"] == 0.001
        assert rows["Adam"]["converged"] == 0.0


def test_every_scene_command_races_the_same_scene():
    """run, render and basins turn the same options into the same Scene (sweep too, once its
    --param NAME is set aside)."""
    opts = ["-f", "booth", "-o", "adam,sgd", "--set", "SGD.eta=0.02", "--grid", "3", "--steps", "40",
            "--seed", "2", "--rates", "article", "--hook", "clip:max_norm=5", "--schedule", "cosine"]
    scenes = [_kwargs(*cmd)[1] for cmd in (
        ["run", *opts], ["render", *opts, "--out", "x.gif"], ["basins", *opts],
        ["sweep", *opts, "--values", "1,2"])]
    assert all(s == scenes[0] for s in scenes)
    scene = scenes[0]
    assert scene.rates == "article" and scene.optimizers["Adam"]["alpha"] == 0.001
    assert scene.optimizers["SGD"]["eta"] == 0.02 and scene.starts.mode == "grid"


def test_a_saved_scene_says_its_rates_and_rates_moves_the_unset_values(tmp_path, capsys):
    path = tmp_path / "s.json"
    code, _, err = _main(["run", "-f", "himmelblau", "-o", "Adam,SGD", "--set", "SGD.eta=0.02", "--grid", "2",
                          "--steps", "20", "-q", "--save-scene", path], capsys)
    assert code == 0, err
    data = json.loads(path.read_text())
    assert data["rates"] == "tuned"
    tuned = optviz.optimizers.rates.defaults("Adam", "himmelblau", 2)["alpha"]
    assert data["optimizers"]["Adam"]["alpha"] == tuned and data["optimizers"]["SGD"]["eta"] == 0.02
    _, scene, _ = _kwargs("run", "--scene", str(path), "--rates", "article")
    assert scene.rates == "article" and scene.optimizers["Adam"]["alpha"] == 0.001  # followed the policy
    assert scene.optimizers["SGD"]["eta"] == 0.02  # set by someone: kept
    _, scene, _ = _kwargs("run", "--scene", str(path), "-f", "booth")  # a new function: its tuned rate
    assert scene.optimizers["Adam"]["alpha"] == optviz.optimizers.rates.defaults("Adam", "booth", 2)["alpha"]
    assert scene.optimizers["SGD"]["eta"] == 0.02


def test_lesson_is_preset_and_runs_the_lessons_own_scene():
    from optviz.scene import lessons

    _, by_lesson, _ = _kwargs("run", "--lesson", "momentum-valley")
    _, by_preset, _ = _kwargs("run", "--preset", "momentum-valley")
    own = lessons.get("momentum-valley").scene
    assert by_lesson == by_preset == own
    assert by_lesson.optimizers["SGD"]["eta"] == own.optimizers["SGD"]["eta"]  # the lesson's, never a table's
    _, changed, _ = _kwargs("run", "--lesson", "momentum-valley", "--steps", "50", "--set", "SGD.eta=0.01")
    assert changed.steps == 50 and changed.optimizers["SGD"]["eta"] == 0.01
    assert changed.optimizers["MSGD"] == own.optimizers["MSGD"]


def test_the_defaults_are_the_dashboards_first_race():
    from optviz.scene import lessons

    _, scene, _ = _kwargs("run")
    assert scene.function.name == "himmelblau" and tuple(scene.optimizers) == lessons.DEFAULT_FIELD
    assert scene.starts == Starts.grid(lessons.DEFAULT_GRID).resolve(scene.build_function())
    assert (scene.steps, scene.seed, scene.tol) == (lessons.DEFAULT_STEPS, 0, lessons.DEFAULT_TOL)
    assert scene.rates == "tuned"


def test_a_fifo_is_refused_never_written_nor_replaced(tmp_path):
    """Safe writing (issue 23): only regular files are written; a FIFO (or a device such as
    /dev/null) named as the output is refused, left as it was."""
    import os
    import stat

    import pytest

    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    scene = Scene.from_run_kwargs("booth", "SGD", Starts.grid(2), 5)
    with pytest.raises(ValueError, match="it is a FIFO"):
        files.write_text(fifo, scene.to_json())
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still the FIFO
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.json"]  # no temporary file left

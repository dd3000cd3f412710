"""``optviz basins``, ``optviz sweep`` and ``optviz compare`` end to end, and ``--noise``/``--delay``
on ``run``: the JSON equals the API's numbers, ``--out`` writes the picture, tables print."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import functions
import optviz
from optviz import cli

ROOT = Path(__file__).resolve().parents[1]


def _run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_basins_json_equals_the_api(capsys):
    code, out, err = _run(["basins", "-f", "himmelblau", "-o", "Adam,SGD", "--grid", "5", "--steps", "60",
                           "--tol", "1e-2", "--json", "-q"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    m = optviz.basins("himmelblau", ["Adam", "SGD"], grid=5, steps=60, tol=1e-2)
    assert doc["x"] == m.x.tolist() and doc["y"] == m.y.tolist() and doc["grid"] == [5, 5]
    for name in m.names:
        o = doc["optimizers"][name]
        want_min = [[None if v < 0 else v for v in row] for row in m.minimum[name].tolist()]
        want_stt = [[None if v < 0 else v for v in row] for row in m.steps_to_tol[name].tolist()]
        assert o["minimum"] == want_min and o["steps_to_tol"] == want_stt
        np.testing.assert_array_equal(np.array(o["final_error"], dtype=float), m.final_error[name])
        assert o["share_converged"] == m.share_converged[name]
        assert o["hyperparams"] == m.hyperparams[name]


def test_basins_table_and_picture(tmp_path, capsys):
    out = tmp_path / "b.png"
    code, stdout, err = _run(["basins", "-f", "himmelblau", "-o", "sgd,adam", "--set", "Adam.alpha=0.05",
                              "--grid", "8", "--steps", "40", "--out", out, "--show", "error", "-q"], capsys)
    assert code == 0, err
    lines = stdout.splitlines()
    assert lines[0].startswith("Himmelblau (2-D): 8x8 starts over [-5, 5] x [-5, 5], 40 steps")
    assert any(line.startswith("SGD ") for line in lines) and any(line.startswith("Adam ") for line in lines)
    assert "of the box with SGD only" in stdout and lines[-1] == str(out)
    assert out.read_bytes()[:4] == b"\x89PNG" and sorted(p.name for p in tmp_path.iterdir()) == ["b.png"]


def test_basins_from_a_preset_take_its_optimizers_and_rates(capsys):
    code, out, err = _run(["basins", "--preset", "himmelblau-basins", "--grid", "3", "--steps", "5", "--json",
                           "-q"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc["optimizers"]) == ["SGD", "MSGD"]
    assert doc["optimizers"]["MSGD"]["hyperparams"]["eta"] == 0.01


def test_sweep_json_equals_the_api(capsys):
    argv = ["sweep", "-f", "rosenbrock", "-o", "Adam,SGD", "--param", "lr", "--values", "1e-3:1e-1:3",
            "--grid", "2", "--steps", "50", "--seeds", "2", "--noise", "0.1", "--json", "-q"]
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    doc = json.loads(out)
    fn = functions.get("rosenbrock")
    grid = optviz.scene.starts.grid(fn.box, 2)
    s = optviz.sweep(fn, ["Adam", "SGD"], "lr", [1e-3, 1e-2, 1e-1], starts=grid,
                     steps=50, seeds=2, noise=0.1)
    assert doc["values"] == pytest.approx([1e-3, 1e-2, 1e-1], rel=1e-12) and doc["spacing"] == "log"
    for name in s.names:
        o = doc["optimizers"][name]
        assert o["param"] == s.params[name]
        assert o["share_converged"] == [st.share_converged for st in s.stats[name]]
        assert o["share_diverged"] == [st.share_diverged for st in s.stats[name]]
        want = [None if not np.isfinite(st.median) else st.median for st in s.stats[name]]
        assert o["median_final_error"] == want
        assert o["best"]["index"] == s.best[name]
    assert doc["options"]["noise"] == 0.1 and doc["seeds"] == [0, 1]


def test_sweep_random_starts_per_seed_text_and_svg(tmp_path, capsys):
    out = tmp_path / "s.svg"
    code, stdout, err = _run(["sweep", "-f", "booth", "-o", "SGD", "--param", "eta", "--values", "0.01,0.05",
                              "--random", "3", "--seeds", "2", "--steps", "30", "--out", out], capsys)
    assert code == 0, err
    assert "SGD (eta): rank 1, best" in stdout and stdout.splitlines()[-1] == str(out)
    assert "90 % interval" in stdout and "bootstrap" in stdout  # the text table says how sure it is
    assert out.read_text().lstrip().startswith("<?xml")
    # a delay sweep, with a function parameter given as --param KEY=VALUE beside the swept one
    code, stdout, err = _run(["sweep", "-f", "long_valley", "--param", "kappa=10", "--param", "delay",
                              "--values", "0,2", "-o", "SGD,DCASGD", "--steps", "20", "--json", "-q"], capsys)
    assert code == 0, err
    doc = json.loads(stdout)
    assert doc["param"] == "delay" and doc["values"] == [0.0, 2.0]


def test_compare_json_is_reproducible_and_equals_the_api(capsys):
    argv = ["compare", "-o", "sgd,adam", "-f", "booth,himmelblau", "--budget", "3", "--steps", "40",
            "--tune-starts", "2", "--test-starts", "3", "--seed", "9", "--json", "-q"]
    _, first, _ = _run(argv, capsys)
    code, again, err = _run(argv, capsys)
    assert code == 0, err
    a, b = json.loads(first), json.loads(again)
    a.pop("elapsed_s"), b.pop("elapsed_s")
    assert a == b
    c = optviz.compare(["booth", "himmelblau"], ["SGD", "Adam"], budget=3, steps=40, tune_starts=2,
                       test_starts=3, seed=9)
    assert a["ranking"] == c.ranking
    assert a["tuned"]["booth"]["Adam"]["hyperparams"] == c.tuned["booth"]["Adam"]
    assert [r["solved"] for r in a["table"]] == [r["solved"] for r in c.table()]
    # how sure it is: intervals and (shared) ranks in the table, the headline, the data profiles
    assert [r["solved_interval"] for r in a["table"]] == [r["solved_interval"] for r in c.table()]
    assert [r["rank"] for r in a["table"]] == [r["rank"] for r in c.table()]
    assert [r["rank"] for r in a["table"]] == sorted(r["rank"] for r in a["table"])
    assert all("median_steps_interval" in r for r in a["table"])
    assert a["headline"] == c.headline() and a["uncertainty"]["level"] == 0.9
    assert set(a["data_profile"]["share"]) == {"SGD", "Adam"}


def test_compare_table_and_png(tmp_path, capsys):
    out = tmp_path / "c.png"
    code, stdout, err = _run(["compare", "-o", "sgd,msgd", "-f", "booth", "--budget", "2", "--steps", "30",
                              "--tune-starts", "2", "--test-starts", "2", "--out", out, "-q"], capsys)
    assert code == 0, err
    assert "rank  optimizer" in stdout and "booth:" in stdout and out.read_bytes()[:4] == b"\x89PNG"
    assert "90% interval" in stdout
    assert any(w in stdout for w in ("No clear winner", "is clearly ahead", "is ahead on steps"))


def test_run_takes_noise_and_delay(capsys):
    argv = ["run", "-f", "rosenbrock", "-o", "SGD", "--set", "SGD.eta=2e-4", "--start=-1.5,2", "--steps",
            "30", "--noise", "0.5", "--noise-mode", "relative", "--delay", "2", "--seed", "4", "--json"]
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    got = json.loads(out)["results"][0]["final_median"]
    res = optviz.run("rosenbrock", {"SGD": {"eta": 2e-4}}, [[-1.5, 2.0]], 30, seed=4, noise=0.5,
                     noise_mode="relative", delay=2)
    assert not res.diverged["SGD"].any()
    assert got == pytest.approx(float(res.errors("distance")["SGD"][-1, 0]), rel=1e-12)
    clean = optviz.run("rosenbrock", {"SGD": {"eta": 2e-4}}, [[-1.5, 2.0]], 30, seed=4)
    assert got != pytest.approx(float(clean.errors("distance")["SGD"][-1, 0]), rel=1e-6)


def test_a_presets_delay_and_schedule_survive_the_command_line(capsys):
    code, out, err = _run(["run", "--preset", "delayed-dcasgd", "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    preset = optviz.scene.lessons.get("delayed-dcasgd")
    assert doc["schedule"] == "constant" and preset.extra["delay"] > 0
    res = optviz.run(**preset.run_kwargs())
    rows = {r["optimizer"]: r for r in doc["results"]}
    for row in res.summary(tol=1e-3):
        assert rows[row["optimizer"]]["final_median"] == pytest.approx(row["final_median"], rel=1e-12)
    code, out, err = _run(["run", "--preset", "schedule-momentum", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["schedule"].startswith("warmup+step")


def test_scheduler_local_in_a_real_process(tmp_path):
    """A LocalCluster of worker processes: the same JSON as the single-process run."""
    pytest.importorskip("distributed")
    argv = ["basins", "-f", "booth", "-o", "SGD", "--grid", "6", "--steps", "20", "--json", "-q"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    here = subprocess.run([sys.executable, "-m", "optviz", *argv], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env=env)
    there = subprocess.run([sys.executable, "-m", "optviz", *argv, "--scheduler", "local"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=180, env=env)
    assert here.returncode == there.returncode == 0, there.stderr[-2000:]
    a, b = json.loads(here.stdout), json.loads(there.stdout)
    for d in (a, b):
        d.pop("elapsed_s")
    assert a == b


def test_compare_a_network_beside_a_test_function_against_a_stated_target(capsys):
    argv = ["compare", "-f", "moons-mlp,rosenbrock", "-o", "sgd,adam", "--budget", "2", "--steps", "40",
            "--seeds", "1", "--tune-starts", "2", "--test-starts", "3", "-q"]
    code, text, err = _run([*argv, "--json"], capsys)
    assert code == 0, err
    doc = json.loads(text)
    moons, rosen = doc["functions"]
    assert (moons["kind"], rosen["kind"]) == ("loss", "distance") and "target" not in rosen
    target = moons["target"]["loss"]
    # the target is the lowest median tuning loss of the tuned optimizers, fixed before the held-out runs
    tuning = [doc["tuned"]["moons-mlp"][n]["tuning"]["median_final_error"] for n in ("SGD", "Adam")]
    assert target == min(tuning) > 0 and "tuning starts" in moons["target"]["rule"]
    assert len(doc["problems"]) == 6 and set(doc["profile"]["rho"]) == {"SGD", "Adam"}
    cells = doc["table"][0]["per_function"]  # a classifier's test accuracy where the runs end
    assert 0 < cells["moons-mlp"]["median_test_accuracy"] <= 1
    assert "median_test_accuracy" not in cells["rosenbrock"]
    code, text, err = _run(argv, capsys)
    assert code == 0, err
    assert f"moons-mlp has no known minimum: solved = training loss reaches {target:.4g} + tol 0.001" in text
    assert "rank  optimizer" in text


def _batch_runs(argv, capsys, batches):
    docs = []
    for b in batches:
        code, out, err = _run([*argv, "--json", "-q", *(["--batch", b] if b else [])], capsys)
        assert code == 0, err
        docs.append(json.loads(out))
    return docs


def test_compare_passes_the_minibatch_on(capsys):
    argv = ["compare", "-f", "logistic", "-o", "sgd,adam", "--budget", "2", "--steps", "30", "--seeds", "1",
            "--tune-starts", "2", "--test-starts", "3", "--tol", "0.05"]
    full, same, mini = _batch_runs(argv, capsys, [None, 200, 8])  # logistic: N = 200 training samples
    assert same["options"]["batch"] == 200 and mini["options"]["batch"] == 8
    keys = ("tuned", "table", "ratios")
    assert [full[k] for k in keys] == [same[k] for k in keys]  # B = N is the full batch exactly
    assert full["tuned"] != mini["tuned"]  # B < N: other gradients, other numbers


def test_sweep_passes_the_minibatch_on(capsys):
    argv = ["sweep", "-f", "logistic", "-o", "sgd,adam", "--param", "lr", "--values", "0.01,0.1",
            "--random", "3", "--steps", "30", "--tol", "0.05"]
    full, same, mini = _batch_runs(argv, capsys, [None, 200, 8])
    assert full["optimizers"] == same["optimizers"]
    errs = [d["optimizers"]["Adam"]["median_final_error"] for d in (full, mini)]
    assert errs[0] != errs[1]
    code, text, _ = _run([*argv, "--batch", "8", "-q"], capsys)
    assert code == 0 and "minibatches of 8" in text

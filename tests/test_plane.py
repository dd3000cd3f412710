"""One plane for every path (optviz.explore.plane, issue 21): projections, distances, losses."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import functions
import optviz
from optviz.explore.plane import on_plane, pca_plane, plane_of, three_point_plane


def _fake_run(fn, paths: dict[str, np.ndarray]) -> SimpleNamespace:
    """A result-like object holding given paths ``(steps, n, dim)`` and their true losses."""
    losses = {k: fn.value(v.reshape(-1, fn.dim)).reshape(v.shape[:2]) for k, v in paths.items()}
    first = next(iter(paths.values()))
    return SimpleNamespace(names=tuple(paths), trajectories=paths, losses=losses, starts=first[0],
                           function=fn)


def _in_plane_paths(fn, origin, e1, e2, rng) -> dict[str, np.ndarray]:
    ab = {k: np.cumsum(rng.normal(size=(30, 3, 2)) * 0.1, axis=0) for k in ("Adam", "SGD")}
    return {k: origin + v[..., :1] * e1 + v[..., 1:] * e2 for k, v in ab.items()}


@pytest.mark.parametrize("name", ["moons-mlp", "least-squares", "rosenbrock"])
def test_a_path_in_the_plane_is_shown_where_it_is(name):
    fn = functions.get(name, 5 if name == "rosenbrock" else None)
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(fn.dim, 2)))
    origin = fn.box.mean(axis=1) + 0.1 * rng.normal(size=fn.dim)
    run = _fake_run(fn, _in_plane_paths(fn, origin, q[:, 0], q[:, 1], rng))
    planes = [None, three_point_plane(origin, origin + q[:, 0], origin - q[:, 0] + 2 * q[:, 1])]
    for plane in planes:  # pooled PCA, and the plane through three points of it
        seen = on_plane(run, plane, kind="pca", grid=11)
        for k in run.names:
            assert np.max(seen.off[k]) <= 1e-12 * max(1.0, np.max(np.abs(origin)))
            np.testing.assert_allclose(seen.plane_loss[k], seen.loss[k], rtol=1e-11, atol=1e-12)
            assert seen.captured[k] == pytest.approx(1.0, abs=1e-12)
            np.testing.assert_allclose(seen.plane.lift(seen.coords[k]), run.trajectories[k], atol=1e-12)
        assert seen.surface.shape == (11, 11)
        A, B = np.meshgrid(seen.a, seen.b)
        grid_points = seen.plane.lift(np.stack([A.ravel(), B.ravel()], axis=1))
        np.testing.assert_array_equal(seen.surface.ravel(), fn.value(grid_points))


def test_off_plane_distance_and_captured_variance():
    plane = three_point_plane([0, 0, 0], [1, 0, 0], [0, 1, 0])
    np.testing.assert_allclose(plane.basis @ plane.basis.T, np.eye(2), atol=1e-15)
    assert plane.off(np.array([[0.3, -2.0, 0.5]]))[0] == pytest.approx(0.5)
    np.testing.assert_allclose(plane.coords([[0.3, -2.0, 0.5]]), [[0.3, -2.0]])
    fn = functions.get("rosenbrock", 3)
    path = np.array([[[0.0, 0.0, 0.0]], [[1.0, 0.0, 0.0]], [[1.0, 1.0, 1.0]]])
    seen = on_plane(_fake_run(fn, {"SGD": path}), plane, grid=5)
    assert seen.off["SGD"][:, 0] == pytest.approx([0.0, 0.0, 1.0])
    assert seen.captured["SGD"] == pytest.approx(3 / 4)  # 1 + 2 of 1 + 3 in the plane


def test_pooled_pca_is_one_plane_for_all_and_bad_planes_say_why():
    rng = np.random.default_rng(0)
    paths = {"a": rng.normal(size=(10, 2, 6)), "b": rng.normal(size=(10, 2, 6))}
    plane = pca_plane(paths, "start")
    np.testing.assert_allclose(plane.basis @ plane.basis.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(plane.origin, np.concatenate([paths["a"][0], paths["b"][0]]).mean(axis=0))
    with pytest.raises(ValueError, match="one line"):
        three_point_plane([0, 0, 0], [1, 1, 1], [2, 2, 2])
    with pytest.raises(ValueError, match="anchor"):
        pca_plane(paths, "middle")


def test_a_run_of_an_mlp_on_one_plane():
    fn = functions.get("moons-mlp")
    starts = optviz.scene.starts.random(fn.box, 3, seed=0)
    res = optviz.run("moons-mlp", ["Adam", "SGD"], starts, 40, record_every=10)
    seen = on_plane(res, kind="points", start=0, grid=7)
    assert seen.coords["Adam"].shape == (5, 1, 2) and seen.surface.shape == (7, 7)
    assert "least loss" in plane_of(res, "points").note  # no known minimizer: the best point reached
    for k in res.names:
        assert 0.0 < seen.captured[k] <= 1.0 + 1e-12
        np.testing.assert_array_equal(seen.loss[k], res.losses[k][:, :1])

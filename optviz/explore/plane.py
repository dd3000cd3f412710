"""One plane for every path: project the runs of many optimizers on a common 2-D slice of the loss.

A loss of many parameters cannot be drawn whole; a slice can. Drawing every optimizer's path on
*its own* PCA plane (Li et al., "Visualizing the loss landscape of neural nets", NeurIPS 2018,
section 7) makes the pictures of two optimizers incomparable, and drawing a path on a plane whose
contours were computed *on the plane* shows it where it is not whenever it leaves the plane
(tomgoldstein/loss-landscape #1). Here every path goes on ONE plane, and the view says how honest
that is:

- :func:`pca_plane`: pooled PCA of every recorded point of every path, around one anchor (the
  points' mean, or the mean start), so one pair of directions serves all optimizers;
- :func:`three_point_plane`: the plane through three points, e.g. the start, a reference minimum
  and the mean end point (the construction of Garipov et al., "Loss surfaces, mode connectivity,
  and fast ensembling of DNNs", NeurIPS 2018);
- :func:`on_plane`: for a run, each path's plane coordinates, its distance off the plane, its
  true loss beside the loss at its projection, the variance the plane captures per optimizer, and
  the loss on a grid of the plane (51 × 51 by default) in one batched call of the function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

KINDS = ("pca", "points")
ANCHORS = ("mean", "start")
GRID = 51
#: The drawn window reaches this fraction of the projected paths' span beyond them.
MARGIN = 0.25


@dataclass(frozen=True)
class Plane:
    """``origin + a·basis[0] + b·basis[1]``: an affine plane with orthonormal directions.

    Attributes:
        origin: ``(dim,)``.
        basis: ``(2, dim)``, orthonormal rows.
        kind: ``"pca"`` or ``"points"``.
        note: how it was made (for a caption).
    """

    origin: np.ndarray
    basis: np.ndarray
    kind: str
    note: str = ""

    def coords(self, W: Any) -> np.ndarray:
        """Plane coordinates ``(..., 2)`` of points ``(..., dim)`` (their orthogonal projection)."""
        return (np.asarray(W, dtype=float) - self.origin) @ self.basis.T

    def lift(self, ab: Any) -> np.ndarray:
        """The points ``(..., dim)`` at plane coordinates ``(..., 2)``."""
        return self.origin + np.asarray(ab, dtype=float) @ self.basis

    def off(self, W: Any) -> np.ndarray:
        """Distance of each point ``(..., dim)`` from the plane ``(...)``."""
        W = np.asarray(W, dtype=float)
        return np.linalg.norm(W - self.lift(self.coords(W)), axis=-1)


def _orthonormal(u: np.ndarray, v: np.ndarray, what: str) -> np.ndarray:
    """Gram–Schmidt on two directions; ValueError when they do not span a plane."""
    nu = np.linalg.norm(u)
    if not nu > 0:
        raise ValueError(f"{what}: the first two points coincide, they make no plane")
    e1 = u / nu
    w = v - (v @ e1) * e1
    nw = np.linalg.norm(w)
    if not nw > 1e-12 * max(1.0, np.linalg.norm(v)):
        raise ValueError(f"{what}: the three points are on one line, they make no plane; use the PCA plane")
    return np.stack([e1, w / nw])


def three_point_plane(p0: Any, p1: Any, p2: Any, note: str = "") -> Plane:
    """The plane through ``p0`` (its origin), ``p1`` (along its first axis) and ``p2``."""
    p0, p1, p2 = (np.asarray(p, dtype=float) for p in (p0, p1, p2))
    return Plane(p0, _orthonormal(p1 - p0, p2 - p0, "plane"), "points", note)


def pca_plane(paths: Mapping[str, Any], anchor: str | Any = "mean") -> Plane:
    """Pooled PCA: the two directions of greatest spread of every point of every path around ``anchor``.

    ``paths``: name -> array ``(steps, n, dim)`` (or ``(steps, dim)``). ``anchor``: ``"mean"`` (the
    mean of all points: ordinary PCA), ``"start"`` (the mean of the paths' first points: directions
    of spread away from where they began), or a point.
    """
    arrays = [np.asarray(p, dtype=float) for p in paths.values()]
    if not arrays:
        raise ValueError("plane: no paths")
    dim = arrays[0].shape[-1]
    X = np.concatenate([a.reshape(-1, dim) for a in arrays])
    X = X[np.all(np.isfinite(X), axis=1)]
    if isinstance(anchor, str):
        if anchor not in ANCHORS:
            raise ValueError(f"plane anchor must be one of {', '.join(ANCHORS)} or a point, got {anchor!r}")
        origin = X.mean(axis=0) if anchor == "mean" else np.concatenate(
            [a.reshape(a.shape[0], -1, dim)[0] for a in arrays]).mean(axis=0)
    else:
        origin = np.asarray(anchor, dtype=float).reshape(dim)
    M = X - origin
    _, vecs = np.linalg.eigh(M.T @ M)  # (the scatter matrix's eigenvectors: the right singular vectors)
    where = anchor if isinstance(anchor, str) else "given"
    return Plane(origin, np.ascontiguousarray(vecs[:, ::-1][:, :2].T), "pca",
                 f"pooled PCA of every path around the {where} point")


@dataclass(frozen=True)
class OnPlane:
    """A run seen on one plane (arrays per optimizer name; steps are the recorded ones).

    Attributes:
        plane: the plane.
        coords: name -> ``(steps, n, 2)`` plane coordinates of every path.
        off: name -> ``(steps, n)`` distance of each point from the plane.
        loss: name -> ``(steps, n)`` the true loss at each point (the run's).
        plane_loss: name -> ``(steps, n)`` the loss at each point's projection on the plane.
        captured: name -> fraction of the optimizer's spread (squared distances from the plane's
            origin, over all its points) that lies in the plane (1: every path in the plane).
        a, b: the grid's plane coordinates ``(GRID,)`` each.
        surface: ``(len(b), len(a))`` the loss on the grid.
        steps: the step number of each row.
    """

    plane: Plane
    coords: dict[str, np.ndarray]
    off: dict[str, np.ndarray]
    loss: dict[str, np.ndarray]
    plane_loss: dict[str, np.ndarray]
    captured: dict[str, float]
    a: np.ndarray
    b: np.ndarray
    surface: np.ndarray
    steps: np.ndarray


def _paths(result: Any, start: int | None) -> dict[str, np.ndarray]:
    """name -> ``(steps, n, dim)`` recorded points (of one start only when ``start`` is given)."""
    out = {}
    for name in result.names:
        W = np.asarray(result.trajectories[name], dtype=float)
        out[name] = W if start is None else W[:, start:start + 1]
    return out


def plane_of(result: Any, kind: str = "pca", anchor: str = "mean", start: int | None = None) -> Plane:
    """The plane of a run (:class:`~optviz.engine.result.Result`): ``"pca"`` (:func:`pca_plane`
    around ``anchor``) or ``"points"``: through the mean start, a reference minimum (the function's
    minimizer nearest the mean end, else the recorded point of least loss) and the mean end point.
    ``start``: the plane of the paths from that start only (every optimizer's)."""
    if kind not in KINDS:
        raise ValueError(f"plane kind must be one of {', '.join(KINDS)}, got {kind!r}")
    paths = _paths(result, start)
    if kind == "pca":
        return pca_plane(paths, anchor)
    first = np.concatenate([p[0] for p in paths.values()]).mean(axis=0)
    ends = np.concatenate([p[-1] for p in paths.values()])
    end = ends[np.all(np.isfinite(ends), axis=1)].mean(axis=0)
    mins = np.asarray(result.function.minimizers, dtype=float)
    if len(mins):
        ref = mins[np.argmin(np.linalg.norm(mins - end, axis=1))]
        what = "the function's minimizer"
    else:
        sl = slice(None) if start is None else slice(start, start + 1)
        losses = np.stack([np.asarray(result.losses[n], dtype=float)[:, sl] for n in result.names], axis=0)
        k, s, i = np.unravel_index(np.nanargmin(np.where(np.isfinite(losses), losses, np.nan)), losses.shape)
        ref = paths[result.names[k]][s, i]
        what = "the point of least loss reached"
    return three_point_plane(first, ref, end, f"through the mean start, {what} and the mean end point")


def on_plane(result: Any, plane: Plane | None = None, *, kind: str = "pca", anchor: str = "mean",
             start: int | None = None, grid: int = GRID, window: Any = None, rows: Any = None) -> OnPlane:
    """Every path of ``result`` on ``plane`` (default :func:`plane_of` ``(result, kind, anchor, start)``;
    with ``start``, only the paths from that start are projected).

    ``window``: ``((a_lo, a_hi), (b_lo, b_hi))`` of the grid; default the projected paths' extent
    and a margin. The grid's loss is one call of the function on ``grid²`` points. ``rows``: the
    recorded rows to project (default all; the plane itself is made from every row).
    """
    fn = result.function
    plane = plane or plane_of(result, kind, anchor, start)
    coords, off, loss, plane_loss, captured = {}, {}, {}, {}, {}
    sl = slice(None) if start is None else slice(start, start + 1)
    idx = slice(None) if rows is None else np.asarray(rows, dtype=np.int64)
    for name, W in _paths(result, start).items():
        W = W[idx]
        ab = plane.coords(W)
        coords[name], off[name] = ab, plane.off(W)
        loss[name] = np.asarray(result.losses[name], dtype=float)[idx][:, sl]
        flat = plane.lift(ab).reshape(-1, W.shape[-1])
        plane_loss[name] = np.asarray(fn.value(flat), dtype=float).reshape(W.shape[:-1])
        d = (W - plane.origin).reshape(-1, W.shape[-1])
        ok = np.all(np.isfinite(d), axis=1)
        total = float(np.sum(d[ok] ** 2))
        inside = float(np.sum(ab.reshape(-1, 2)[ok] ** 2))
        captured[name] = inside / total if total > 0 else 1.0
    if window is None:
        pts = np.concatenate([c.reshape(-1, 2) for c in coords.values()])
        pts = pts[np.all(np.isfinite(pts), axis=1)]
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        pad = MARGIN * np.maximum(hi - lo, 1e-9) + 1e-9
        window = ((lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1]))
    a = np.linspace(*window[0], grid)
    b = np.linspace(*window[1], grid)
    A, B = np.meshgrid(a, b)
    surface = np.asarray(fn.value(plane.lift(np.stack([A.ravel(), B.ravel()], axis=1))), dtype=float)
    steps = np.asarray(result.recorded_steps)[idx] if hasattr(result, "recorded_steps") else (
        np.arange(len(next(iter(coords.values())))))
    return OnPlane(plane, coords, off, loss, plane_loss, captured, a, b, surface.reshape(grid, grid), steps)

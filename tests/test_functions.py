"""Tests for the ``functions`` package: analytic gradients, minimizers, boxes, registry."""

from __future__ import annotations

import ast
import dataclasses
import math
import pathlib

import array_api_strict as xps
import numpy as np
import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import functions
from functions import Family, TestFunction
from functions.problems import PROBLEMS

EXPECTED_NAMES = [
    "ackley",
    "beale",
    "booth",
    "goldstein_price",
    "himmelblau",
    "least-squares",
    "levi13",
    "logistic",
    "long_valley",
    "matyas",
    "monkey_saddle",
    "moons-mlp",
    "quartic",
    "rastrigin",
    "rosenbrock",
    "saddle",
    "six_hump_camel",
    "spirals-mlp",
    "styblinski_tang",
    "three_hump_camel",
]


def _dims(family: Family) -> list[int]:
    """Dimensions to test: the default and smallest, plus 3 and 5 for n-D families."""
    dims = {family.default_dim, family.min_dim}
    if family.max_dim is None:
        dims |= {3, 5}
    return sorted(dims)


CASES = [(name, dim) for name, fam in functions.families().items() for dim in _dims(fam)]
CASE_IDS = [f"{name}-{dim}d" for name, dim in CASES]
FORMULA_CASES = [c for c in CASES if c[0] not in PROBLEMS]
FORMULA_IDS = [f"{name}-{dim}d" for name, dim in FORMULA_CASES]
MINIMUM_CASES = [c for c in CASES if functions.get(*c).fmin is not None]
MINIMUM_IDS = [f"{name}-{dim}d" for name, dim in MINIMUM_CASES]


def _scale(fmin: float | None) -> float:
    return max(1.0, abs(fmin or 0.0))


def _fd_grad(f: TestFunction, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central finite differences with step 1e-6 max(1, |x_j|); also returns max |f| used."""
    fd = np.empty_like(x)
    fmax = np.abs(f.value(x))
    for j in range(f.dim):
        step = np.zeros_like(x)
        step[:, j] = 1e-6 * np.maximum(1.0, np.abs(x[:, j]))
        hi, lo = f.value(x + step), f.value(x - step)
        fd[:, j] = (hi - lo) / (2.0 * step[:, j])
        fmax = np.maximum(fmax, np.maximum(np.abs(hi), np.abs(lo)))
    return fd, fmax


def assert_grad_matches_fd(f: TestFunction, x: np.ndarray) -> None:
    """|grad - FD| <= 1e-5 |grad|_inf + 1e-7 (1 + |f|), per point and component."""
    g = np.asarray(f.grad(x))
    assert g.shape == x.shape
    assert np.all(np.isfinite(g))
    fd, fmax = _fd_grad(f, x)
    tol = 1e-5 * np.max(np.abs(g), axis=1, keepdims=True) + 1e-7 * (1.0 + fmax[:, None])
    bad = np.abs(g - fd) > tol
    assert not bad.any(), (
        f"{f}: analytic gradient differs from finite differences at x={x[bad.any(axis=1)]}: "
        f"grad={g[bad.any(axis=1)]}, fd={fd[bad.any(axis=1)]}"
    )


def _in_box(f: TestFunction, u: np.ndarray) -> np.ndarray:
    lo, hi = f.box[:, 0], f.box[:, 1]
    return lo + u * (hi - lo)


# --------------------------------------------------------------------------- gradients
@pytest.mark.parametrize(("name", "dim"), FORMULA_CASES, ids=FORMULA_IDS)  # problems: tests/test_problems.py
@settings(max_examples=50, deadline=None)
@given(u=arrays(np.float64, (4, 5), elements=st.floats(0.0, 1.0)))
def test_grad_matches_finite_differences(name: str, dim: int, u: np.ndarray) -> None:
    f = functions.get(name, dim)
    x = _in_box(f, u[:, :dim])
    if name == "ackley":  # a cone at the origin: not differentiable there
        x = x[np.linalg.norm(x, axis=1) > 1e-3]
    assert_grad_matches_fd(f, x)


@pytest.mark.parametrize("factor", [1.0 + 1e-3, -1.0])
def test_grad_check_catches_wrong_gradient(factor: float) -> None:
    f = functions.get("rosenbrock", 3)
    x = _in_box(f, np.random.default_rng(0).random((16, 3)))
    assert_grad_matches_fd(f, x)
    broken = dataclasses.replace(f, _grad=lambda z: factor * f.grad(z))
    with pytest.raises(AssertionError):
        assert_grad_matches_fd(broken, x)


# --------------------------------------------------------------------------- minimizers
@pytest.mark.parametrize(("name", "dim"), CASES, ids=CASE_IDS)
def test_shapes_and_metadata(name: str, dim: int) -> None:
    f = functions.get(name, dim)
    fam = functions.families()[name]
    assert (f.name, f.title, f.formula, f.dim) == (name, fam.title, fam.formula, dim)
    assert f.params == fam.params
    assert f.box.shape == (dim, 2) and np.all(f.box[:, 0] < f.box[:, 1])
    assert f.minimizers.ndim == 2 and f.minimizers.shape[1] == dim
    assert f.local_minima.ndim == 2 and f.local_minima.shape[1] == dim
    assert isinstance(f.log_levels, bool)
    assert (f.fmin is None) == (f.minimizers.shape[0] == 0)
    x = _in_box(f, np.random.default_rng(1).random((6, dim)))
    assert f.value(x).shape == (6,)
    assert f.grad(x).shape == (6, dim)
    assert name in str(f) and name in repr(f)


@pytest.mark.parametrize(("name", "dim"), MINIMUM_CASES, ids=MINIMUM_IDS)
def test_minimizers_are_stationary_and_attain_fmin(name: str, dim: int) -> None:
    f = functions.get(name, dim)
    scale = _scale(f.fmin)
    assert len(f.minimizers) >= 1
    np.testing.assert_allclose(f.value(f.minimizers), f.fmin, rtol=0, atol=1e-9 * scale)
    assert np.all(np.linalg.norm(f.grad(f.minimizers), axis=1) < 1e-8 * scale)
    lo, hi = f.box[:, 0], f.box[:, 1]
    margin = 0.02 * (hi - lo)
    assert np.all((f.minimizers > lo + margin) & (f.minimizers < hi - margin))


def _sphere(point: np.ndarray, radius: float, n: int = 64) -> np.ndarray:
    d = np.random.default_rng(2).normal(size=(n, point.size))
    return point + radius * d / np.linalg.norm(d, axis=1, keepdims=True)


@pytest.mark.parametrize(("name", "dim"), MINIMUM_CASES, ids=MINIMUM_IDS)
def test_minima_are_strict_local_minima(name: str, dim: int) -> None:
    """Every listed point (global or local) is lower than a small sphere around it."""
    f = functions.get(name, dim)
    radius = 1e-4 * float(np.min(f.box[:, 1] - f.box[:, 0]))
    for p in np.concatenate([f.minimizers, f.local_minima]):
        fp = f.value(p[None, :])[0]
        assert np.all(f.value(_sphere(p, radius)) > fp), f"{f}: {p} is not a local minimum"


@pytest.mark.parametrize(("name", "dim"), MINIMUM_CASES, ids=MINIMUM_IDS)
def test_local_minima_stationary_and_above_fmin(name: str, dim: int) -> None:
    f = functions.get(name, dim)
    if len(f.local_minima) == 0:
        return
    scale = _scale(f.fmin)
    values = f.value(f.local_minima)
    assert np.all(values > f.fmin + 1e-6 * scale)
    grad_norm = np.linalg.norm(f.grad(f.local_minima), axis=1)
    assert np.all(grad_norm < 1e-8 * np.maximum(1.0, np.abs(values)))


def _box_samples(f: TestFunction) -> np.ndarray:
    """1-D: 10^5 grid points; 2-D: a 400 x 400 grid; n-D: 10^5 random points."""
    lo, hi = f.box[:, 0], f.box[:, 1]
    if f.dim == 1:
        return np.linspace(lo[0], hi[0], 100_000)[:, None]
    if f.dim == 2:
        gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 400), np.linspace(lo[1], hi[1], 400))
        return np.stack([gx.ravel(), gy.ravel()], axis=1)
    return _in_box(f, np.random.default_rng(3).random((100_000, f.dim)))


@pytest.mark.parametrize(("name", "dim"), MINIMUM_CASES, ids=MINIMUM_IDS)
def test_nothing_in_box_below_fmin(name: str, dim: int) -> None:
    f = functions.get(name, dim)
    values = f.value(_box_samples(f))
    assert np.all(np.isfinite(values))
    assert values.min() >= f.fmin - 1e-9 * _scale(f.fmin)


def _grid_local_minima(f: TestFunction) -> np.ndarray:
    """Points of the 400 x 400 grid lower than their 8 neighbours."""
    pts = _box_samples(f)
    v = f.value(pts).reshape(400, 400)
    inner = v[1:-1, 1:-1]
    is_min = np.ones_like(inner, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                is_min &= inner < v[1 + di : 399 + di, 1 + dj : 399 + dj]
    return pts.reshape(400, 400, 2)[1:-1, 1:-1][is_min]


TWO_D_MINIMUM_CASES = [c for c in MINIMUM_CASES if c[1] == 2]


@pytest.mark.parametrize(
    ("name", "dim"), TWO_D_MINIMUM_CASES, ids=[n for n, _ in TWO_D_MINIMUM_CASES]
)
def test_all_global_minimizers_in_box_are_listed(name: str, dim: int) -> None:
    """Polish every grid local minimum with BFGS: those reaching fmin are exactly the list."""
    f = functions.get(name, dim)
    scale = _scale(f.fmin)
    found = []
    for start in _grid_local_minima(f):
        res = scipy.optimize.minimize(
            lambda p: float(f.value(p[None, :])[0]),
            start,
            jac=lambda p: f.grad(p[None, :])[0],
            method="BFGS",
            options={"gtol": 1e-10},
        )
        inside = np.all((res.x >= f.box[:, 0]) & (res.x <= f.box[:, 1]))
        if inside and res.fun <= f.fmin + 1e-7 * scale:
            found.append(res.x)
    assert found, f"{f}: no grid minimum polished to fmin"
    dist = np.linalg.norm(np.asarray(found)[:, None, :] - f.minimizers[None, :, :], axis=2)
    assert np.all(dist.min(axis=1) < 1e-4), f"{f}: unlisted global minimizer"
    assert np.all(dist.min(axis=0) < 1e-4), f"{f}: listed minimizer not found on the grid"


# --------------------------------------------------------------------------- array API
@pytest.mark.parametrize(("name", "dim"), CASES, ids=CASE_IDS)
def test_array_api_strict_matches_numpy(name: str, dim: int) -> None:
    f = functions.get(name, dim)
    x = _in_box(f, np.random.default_rng(4).random((9, dim)))
    xs = xps.asarray(x)
    v, g = f.value(xs), f.grad(xs)
    assert isinstance(v, type(xs)) and isinstance(g, type(xs))
    assert tuple(v.shape) == (9,) and tuple(g.shape) == (9, dim)
    np.testing.assert_allclose(np.asarray(v), f.value(x), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(np.asarray(g), f.grad(x), rtol=1e-13, atol=1e-13)
    x32 = xps.asarray(x, dtype=xps.float32)
    assert f.value(x32).dtype == xps.float32
    assert f.grad(x32).dtype == xps.float32


@pytest.mark.parametrize("bad_shape", [(5,), (5, 3), (5, 1)])
def test_value_and_grad_reject_wrong_shapes(bad_shape: tuple[int, ...]) -> None:
    f = functions.get("beale")
    x = np.zeros(bad_shape)
    with pytest.raises(ValueError, match="shape"):
        f.value(x)
    with pytest.raises(ValueError, match="shape"):
        f.grad(x)


# --------------------------------------------------------------------------- specific functions
@pytest.mark.parametrize("dim", [1, 2, 5])
def test_ackley_gradient_at_origin_is_zero(dim: int) -> None:
    f = functions.get("ackley", dim)
    origin = np.zeros((1, dim))
    assert np.array_equal(f.grad(origin), np.zeros((1, dim)))
    assert f.value(origin)[0] == 0.0
    assert np.array_equal(np.asarray(f.grad(xps.asarray(origin))), np.zeros((1, dim)))


def test_quartic_article_values() -> None:
    f = functions.get("quartic")
    assert f.dim == 1 and f.fmin == -2075.0 / 48.0
    np.testing.assert_array_equal(f.minimizers, [[2.5]])
    np.testing.assert_array_equal(f.local_minima, [[-1.5]])
    np.testing.assert_array_equal(f.box, [[-3.0, 3.0]])
    x = np.array([[2.5], [-1.5], [-0.5]])
    np.testing.assert_allclose(f.grad(x), 0.0, atol=1e-12)
    np.testing.assert_allclose(f.value(x)[0], -43.229166666666664, rtol=1e-15)
    t = np.linspace(-3, 3, 7)[:, None]
    expected = 4 * (t**4 / 4 - t**3 / 6 - 17 * t**2 / 8 - 15 * t / 8)
    np.testing.assert_allclose(f.value(t), expected[:, 0], rtol=1e-14)


@pytest.mark.parametrize("dim", [1, 2, 5])
def test_styblinski_tang_constants(dim: int) -> None:
    f = functions.get("styblinski_tang", dim)
    assert f.fmin == pytest.approx(-39.16616570377142 * dim, rel=1e-14)
    np.testing.assert_allclose(f.minimizers, -2.903534027771178, rtol=1e-14)
    assert f.local_minima.shape == (2**dim - 1, dim)


def test_known_minimizer_sets() -> None:
    assert functions.get("himmelblau").minimizers.shape == (4, 2)
    assert functions.get("himmelblau").fmin == 0.0
    camel = functions.get("six_hump_camel")
    np.testing.assert_allclose(
        np.sort(camel.minimizers, axis=0), [[-0.0898, -0.7126], [0.0898, 0.7126]], atol=1e-4
    )
    assert camel.fmin == pytest.approx(-1.0316284534898774, rel=1e-15)
    gp = functions.get("goldstein_price")
    np.testing.assert_array_equal(gp.minimizers, [[0.0, -1.0]])
    assert gp.fmin == 3.0 and gp.value(np.array([[0.0, -1.0]]))[0] == 3.0
    np.testing.assert_allclose(gp.value(gp.local_minima), [30.0, 84.0, 840.0], rtol=1e-12)
    np.testing.assert_array_equal(functions.get("levi13").minimizers, [[1.0, 1.0]])
    np.testing.assert_array_equal(functions.get("rosenbrock", 4).minimizers, np.ones((1, 4)))


@pytest.mark.parametrize("name", ["saddle", "monkey_saddle"])
def test_saddles_have_no_minimum(name: str) -> None:
    f = functions.get(name)
    assert f.fmin is None
    assert f.minimizers.shape == (0, 2)
    assert f.local_minima.shape == (0, 2)
    np.testing.assert_array_equal(f.grad(np.zeros((1, 2))), [[0.0, 0.0]])
    values = f.value(_box_samples(f))
    assert values.min() < 0.0 < values.max()


@pytest.mark.parametrize("dim", [2, 3, 5])
@pytest.mark.parametrize("kappa", [1.0, 100.0, 1e4])
def test_long_valley_eigenvalues(dim: int, kappa: float) -> None:
    f = functions.get("long_valley", dim, kappa=kappa)
    assert f.params == {"kappa": kappa}
    eig = np.diag(f.grad(np.eye(dim)))  # the Hessian is diagonal
    np.testing.assert_allclose(eig, kappa ** (np.arange(dim) / (dim - 1)), rtol=1e-14)
    assert eig[0] == pytest.approx(1.0) and eig[-1] == pytest.approx(kappa)


# --------------------------------------------------------------------------- registry
def test_names_and_families() -> None:
    assert functions.names() == EXPECTED_NAMES
    fams = functions.families()
    assert list(fams) == EXPECTED_NAMES
    for name, fam in fams.items():
        assert isinstance(fam, Family) and fam.name == name
        assert fam.title and fam.formula and fam.description and "\n" not in fam.description
        assert fam.supports(fam.default_dim) and fam.supports(fam.min_dim)
        assert not fam.supports(fam.min_dim - 1)
        assert fam.max_dim is None or not fam.supports(fam.max_dim + 1)
        assert functions.get(name).dim == fam.default_dim
        assert fam.make().dim == fam.default_dim
    assert fams["long_valley"].params == {"kappa": 100.0}
    assert fams["rosenbrock"].max_dim is None and fams["beale"].max_dim == 2
    assert fams["quartic"].supports(1) and not fams["quartic"].supports(2)


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(KeyError) as info:
        functions.get("rosenbrok")
    message = str(info.value)
    assert "rosenbrok" in message and all(name in message for name in EXPECTED_NAMES)


@pytest.mark.parametrize(("name", "dim"), [("beale", 3), ("quartic", 2), ("rosenbrock", 1)])
def test_unsupported_dim(name: str, dim: int) -> None:
    with pytest.raises(ValueError, match="dim"):
        functions.get(name, dim)


@pytest.mark.parametrize("dim", [0, -1, 2.5, True, "2"])
def test_invalid_dim_values(dim: object) -> None:
    with pytest.raises(ValueError, match="dim"):
        functions.get("rastrigin", dim)  # type: ignore[arg-type]


@pytest.mark.parametrize("kappa", [0.5, 0.0, -3.0, math.nan, math.inf, "10", None])
def test_invalid_kappa(kappa: object) -> None:
    with pytest.raises(ValueError, match="kappa"):
        functions.get("long_valley", kappa=kappa)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "params"), [("long_valley", {"kapa": 3.0}), ("beale", {"a": 1})])
def test_unknown_params(name: str, params: dict[str, float]) -> None:
    valid = "kappa" if name == "long_valley" else "none"
    with pytest.raises(ValueError, match=valid):
        functions.get(name, **params)


def test_instances_are_immutable() -> None:
    f = functions.get("rosenbrock")
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.dim = 3  # type: ignore[misc]
    with pytest.raises(ValueError):
        f.box[0, 0] = 0.0
    with pytest.raises(ValueError):
        f.minimizers[0, 0] = 0.0


def test_package_does_not_import_optviz() -> None:
    root = pathlib.Path(functions.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            assert not any(m.split(".")[0] == "optviz" for m in modules), path


@pytest.mark.parametrize("name", functions.names())
def test_pickles_as_the_registry_call(name):
    """Caches (Streamlit's cache_data) pickle results that hold a function: it must round-trip."""
    import pickle

    fam = functions.families()[name]
    fn = functions.get(name, dim=max(fam.min_dim, 2) if fam.supports(2) else fam.min_dim,
                       **({"kappa": 1e3} if "kappa" in fam.params else {}))
    back = pickle.loads(pickle.dumps(fn))
    x = np.asarray(fn.box, dtype=float).mean(axis=1)[None, :] + 0.1
    assert back.dim == fn.dim and back.params == fn.params
    np.testing.assert_array_equal(back.value(x), fn.value(x))
    np.testing.assert_array_equal(back.grad(x), fn.grad(x))

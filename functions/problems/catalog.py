"""The learning problems of the registry: least squares, logistic regression, MLPs on moons and spirals.

- ``least-squares`` (``3 ≤ dim ≤ 100``, parameter ``kappa``): ``f(w) = 1/(2N) ‖A w − b‖²`` with
  ``N = 256`` rows whose Gram matrix ``AᵀA/N`` has eigenvalues geometric from 1 to κ (so its
  condition number is κ); ``b = A w_true + 0.1·noise``. The minimizer is the least-squares
  solution (``numpy.linalg.lstsq``, exact to rounding) and ``fmin`` its loss.
- ``logistic`` (3 parameters ``w1, w2, b``): logistic loss on two overlapping Gaussian classes in
  2-D (200 training, 200 test samples), with a ridge ``λ/2 (w1² + w2²)``, λ = 10⁻³ on the weights.
  Strictly convex: its minimizer, found by Newton's method, has gradient norm ≤ 10⁻¹².
- ``moons-mlp`` and ``spirals-mlp`` (65 parameters): a 2-16-1 tanh network with logistic loss on
  two moons / two spirals (256 training, 256 test samples). Non-convex: no known minimizer.

Data are drawn from fixed seeds here, so every run of every machine sees the same sets.

References:
    R. Garipov et al., "Loss surfaces, mode connectivity, and fast ensembling of DNNs", NeurIPS 2018
    (the kind of small problem whose loss landscape is worth drawing).
    K. J. Lang and M. J. Witbrock, "Learning to tell two spirals apart", 1988 Connectionist Models
    Summer School.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

import numpy as np

from functions.problems import datasets, scalar
from functions.problems.base import ProblemFamily, ProblemSpec, Task, problem_spec
from functions.problems.models import AFFINE, LINEAR, mlp, mlp_dim

#: Seeds of every data set (training, test): fixed, so a problem is the same everywhere.
TRAIN_SEED, TEST_SEED = 20261207, 20261208
LSQ_ROWS = 256
LSQ_NOISE = 0.1
LOGISTIC_SAMPLES = 200
LOGISTIC_RIDGE = 1e-3
MLP_SAMPLES = 256
MLP_HIDDEN = 16
MLP_BOX = 2.0
NEWTON_TOL = 1e-12


def _cached(build: Callable[[int, Mapping[str, float]], ProblemSpec]) -> Callable[..., ProblemSpec]:
    """Cache a builder on (dim, params): the registry may build a problem many times."""
    cached = functools.lru_cache(maxsize=32)(lambda dim, items: build(dim, dict(items)))

    def wrapper(dim: int, params: Mapping[str, float]) -> ProblemSpec:
        return cached(dim, tuple(sorted(params.items())))

    return wrapper


def _readonly(*arrays: np.ndarray) -> None:
    for a in arrays:
        a.setflags(write=False)


# ----------------------------------------------------------------------------- least squares
def _design(rows: int, eig: np.ndarray, V: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``√rows · U diag(√eig) Vᵀ`` with ``U`` random orthonormal columns: ``AᵀA/rows = V diag(eig) Vᵀ``."""
    U, _ = np.linalg.qr(rng.standard_normal((rows, len(eig))))
    return np.sqrt(rows) * (U * np.sqrt(eig)) @ V.T


@_cached
def _build_least_squares(dim: int, params: Mapping[str, float]) -> ProblemSpec:
    kappa = params["kappa"]
    eig = kappa ** (np.arange(dim) / (dim - 1))
    rng = np.random.default_rng([TRAIN_SEED, dim])
    V, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    w_true = rng.standard_normal(dim)
    A = _design(LSQ_ROWS, eig, V, rng)
    b = A @ w_true + LSQ_NOISE * rng.standard_normal(LSQ_ROWS)
    test_rng = np.random.default_rng([TEST_SEED, dim])
    At = _design(LSQ_ROWS, eig, V, test_rng)
    bt = At @ w_true + LSQ_NOISE * test_rng.standard_normal(LSQ_ROWS)
    _readonly(A, b, At, bt)
    form = scalar.DataForm(scalar.packed(A, b), scalar.linear_value, scalar.linear_grad)
    task = Task(LINEAR, "squared", A, b, At, bt, form=form)
    w_star = np.linalg.lstsq(A, b, rcond=None)[0]
    fmin = float(task.value(w_star[None, :])[0])
    r = float(np.ceil(np.max(np.abs(w_star)))) + 2.0
    return problem_spec(task, [[-r, r]] * dim, [w_star], fmin)


def _check_kappa(params: Mapping[str, float]) -> None:
    if not 1.0 <= params["kappa"] <= 1e8:
        raise ValueError(f"least-squares: kappa must be in [1, 1e8], got {params['kappa']!r}")


LEAST_SQUARES = ProblemFamily(
    name="least-squares",
    title="Least squares (condition number κ)",
    formula=r"f(w)=\frac{1}{2N}\lVert Aw-b\rVert^2,\ \operatorname{cond}(A^\top A)=\kappa",
    description="Linear regression on 256 rows whose Hessian has eigenvalues 1 … kappa; exact minimum.",
    default_dim=10,
    min_dim=3,  # (from 3 on: the race of 1-D and 2-D functions has its own long_valley)
    max_dim=100,
    params={"kappa": 100.0},
    log_levels=True,
    check_params=_check_kappa,
    build=_build_least_squares,
)


# ----------------------------------------------------------------------------- logistic regression
def _newton(task: Task, w: np.ndarray) -> np.ndarray:
    """Newton's method on the (strictly convex) logistic loss, to gradient norm ≤ NEWTON_TOL."""
    A1 = np.concatenate([task.train_inputs, np.ones((task.n_samples, 1))], axis=1)
    reg = task.ridge * task.ridge_mask
    for _ in range(100):
        g = task.grad(w[None, :])[0]
        if np.linalg.norm(g) <= NEWTON_TOL:
            return w
        s = 1.0 / (1.0 + np.exp(-(A1 @ w)))
        H = (A1 * (s * (1 - s))[:, None]).T @ A1 / task.n_samples + np.diag(reg)
        w = w - np.linalg.solve(H, g)
    raise RuntimeError("logistic: Newton's method did not converge")  # never seen: strictly convex


@_cached
def _build_logistic(dim: int, params: Mapping[str, float]) -> ProblemSpec:
    a, y = datasets.two_blobs(LOGISTIC_SAMPLES, TRAIN_SEED)
    at, yt = datasets.two_blobs(LOGISTIC_SAMPLES, TEST_SEED)
    mask = np.array([1.0, 1.0, 0.0])
    _readonly(mask)
    form = scalar.DataForm(scalar.packed(a, y), scalar.affine_logistic_value, scalar.affine_logistic_grad,
                           (LOGISTIC_RIDGE, *mask.tolist()))
    task = Task(AFFINE, "logistic", a, y, at, yt, ridge=LOGISTIC_RIDGE, ridge_mask=mask, form=form)
    w_star = _newton(task, np.zeros(3))
    fmin = float(task.value(w_star[None, :])[0])
    return problem_spec(task, [[-4.0, 4.0]] * 3, [w_star], fmin)


LOGISTIC = ProblemFamily(
    name="logistic",
    title="Logistic regression (2-D, two classes)",
    formula=(r"f(w,b)=\frac1N\sum_i\log\left(1+e^{-s_i(w\cdot a_i+b)}\right)"
             r"+\frac{\lambda}{2}\lVert w\rVert^2,\ s_i=\pm1"),
    description="Two overlapping Gaussian classes in 2-D; 3 parameters (w1, w2, b); minimum by Newton.",
    default_dim=3,
    min_dim=3,
    max_dim=3,
    build=_build_logistic,
)


# ----------------------------------------------------------------------------- MLPs
def _mlp_builder(maker: Callable[[int, int], datasets.Data]) -> Callable[..., ProblemSpec]:
    @_cached
    def build(dim: int, params: Mapping[str, float]) -> ProblemSpec:
        a, y = maker(MLP_SAMPLES, TRAIN_SEED)
        at, yt = maker(MLP_SAMPLES, TEST_SEED)
        form = scalar.DataForm(scalar.packed(a, y), *scalar.mlp_logistic(2, MLP_HIDDEN))
        task = Task(mlp(2, MLP_HIDDEN), "logistic", a, y, at, yt, form=form)
        return problem_spec(task, [[-MLP_BOX, MLP_BOX]] * dim)

    return build


MLP_DIM = mlp_dim(2, MLP_HIDDEN)
MLP_FORMULA = (r"f(\theta)=\frac1N\sum_i \ell\big(w_2\cdot\tanh(W_1 a_i+b_1)+b_2,\ y_i\big),"
               r"\ \ell(z,y)=\log(1+e^z)-yz")

MOONS_MLP = ProblemFamily(
    name="moons-mlp",
    title="MLP 2-16-1 on two moons",
    formula=MLP_FORMULA,
    description="A 2-16-1 tanh network (65 parameters) classifying two moons (256 train, 256 test).",
    default_dim=MLP_DIM,
    min_dim=MLP_DIM,
    max_dim=MLP_DIM,
    build=_mlp_builder(datasets.two_moons),
)

SPIRALS_MLP = ProblemFamily(
    name="spirals-mlp",
    title="MLP 2-16-1 on two spirals",
    formula=MLP_FORMULA,
    description="A 2-16-1 tanh network (65 parameters) classifying two spirals (256 train, 256 test).",
    default_dim=MLP_DIM,
    min_dim=MLP_DIM,
    max_dim=MLP_DIM,
    build=_mlp_builder(datasets.two_spirals),
)

FAMILIES = (LEAST_SQUARES, LOGISTIC, MOONS_MLP, SPIRALS_MLP)

"""A learning problem as a test function: :class:`Task` (model, loss, data) and :class:`Problem`.

A point ``w`` is the model's parameters (``dim`` = their number); ``value(w)`` is the mean loss over
the training set and ``grad(w)`` its analytic gradient, both vectorized over points like every test
function (an ``(n, dim)`` array in, any array-API library). A :class:`Problem` also gives the loss
and gradient on a minibatch (:meth:`Problem.grad_batch`, sample indices from
:func:`functions.problems.minibatch.batch_indices`), the test loss, the accuracy of a classifier and
the model's outputs at any inputs (to draw a decision boundary).

The model is written once as ``forward`` (outputs ``z`` of every point at every sample) and
``backward`` (the gradient from ``dL/dz``), with the losses

- squared error (regression): ``ℓ = ½ (z − t)²``, ``dℓ/dz = z − t``;
- logistic (classification, labels ``y ∈ {0, 1}``): ``ℓ = softplus(z) − y z``,
  ``dℓ/dz = σ(z) − y``, computed as ``max(z, 0) − y z + log1p(exp(−|z|))`` so that no logit
  overflows;

plus an optional ridge term ``½ λ Σ w_j²`` over the weights named by ``ridge_mask``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import array_api_compat
import numpy as np

from functions.base import Array, Family, Spec, TestFunction, namespace

#: Points are processed in blocks of at most this many (point × sample × hidden) numbers, so that a
#: big run's temporaries stay in cache-sized pieces (a few MB) rather than one huge array.
BLOCK_ELEMENTS = 1 << 20
LOSSES = ("squared", "logistic")


@dataclass(frozen=True)
class Model:
    """A model's maths on arrays: ``forward(xp, W, A) -> (z, cache)``, ``backward(xp, W, A, cache, dz) -> g``.

    ``W`` is ``(p, dim)`` parameters, ``A`` ``(m, k)`` inputs, ``z`` ``(p, m)`` outputs, ``dz``
    ``(p, m)``, ``g`` ``(p, dim)``. ``width`` is the numbers per (point, sample) the forward pass
    keeps (for blocking).
    """

    forward: Callable[..., tuple[Array, Any]]
    backward: Callable[..., Array]
    width: int = 1


@dataclass(frozen=True, eq=False)
class Task:
    """A model, a loss and a train/test split (NumPy float64, read-only)."""

    model: Model
    loss: str
    train_inputs: np.ndarray
    train_targets: np.ndarray
    test_inputs: np.ndarray
    test_targets: np.ndarray
    ridge: float = 0.0
    ridge_mask: np.ndarray | None = None
    form: Any = None
    """The same maths one point at a time (:class:`functions.problems.scalar.DataForm`), for kernels."""

    @property
    def n_samples(self) -> int:
        return int(self.train_inputs.shape[0])

    def _data(self, x: Array, split: str, idx: Any) -> tuple[Array, Array]:
        a, t = (self.train_inputs, self.train_targets) if split == "train" else (
            self.test_inputs, self.test_targets)
        if idx is not None:
            idx = np.asarray(idx, dtype=np.int64)
            a, t = a[idx], t[idx]
        xp, dev = namespace(x), array_api_compat.device(x)
        return xp.asarray(a, dtype=x.dtype, device=dev), xp.asarray(t, dtype=x.dtype, device=dev)

    def _blocks(self, x: Array, m: int) -> list[tuple[int, int]]:
        p = x.shape[0]
        size = max(1, BLOCK_ELEMENTS // max(1, m * self.model.width))
        return [(lo, min(p, lo + size)) for lo in range(0, p, size)] or [(0, 0)]

    def _ridge_value(self, x: Array) -> Array | float:
        if not self.ridge:
            return 0.0
        xp = namespace(x)
        mask = xp.asarray(self.ridge_mask, dtype=x.dtype, device=array_api_compat.device(x))
        return (0.5 * self.ridge) * xp.sum(x * x * mask, axis=1)

    def value(self, x: Array, idx: Any = None, split: str = "train") -> Array:
        """Mean loss over the samples ``idx`` of ``split`` (all when None), ridge included."""
        xp = namespace(x)
        a, t = self._data(x, split, idx)
        m = a.shape[0]
        out = []
        for lo, hi in self._blocks(x, m):
            z, _ = self.model.forward(xp, x[lo:hi, ...], a)
            out.append(xp.sum(_loss(xp, self.loss, z, t), axis=1) / m)
        f = out[0] if len(out) == 1 else xp.concat(out, axis=0)
        return f + self._ridge_value(x)

    def grad(self, x: Array, idx: Any = None) -> Array:
        """Gradient of :meth:`value` on the training samples ``idx`` (all when None)."""
        xp = namespace(x)
        a, t = self._data(x, "train", idx)
        m = a.shape[0]
        out = []
        for lo, hi in self._blocks(x, m):
            w = x[lo:hi, ...]
            z, cache = self.model.forward(xp, w, a)
            out.append(self.model.backward(xp, w, a, cache, _dloss(xp, self.loss, z, t) / m))
        g = out[0] if len(out) == 1 else xp.concat(out, axis=0)
        if self.ridge:
            mask = xp.asarray(self.ridge_mask, dtype=x.dtype, device=array_api_compat.device(x))
            g = g + self.ridge * mask * x
        return g

    def outputs(self, x: Array, inputs: Any) -> Array:
        """The model's outputs ``(p, m)`` (logits of a classifier) at ``inputs`` ``(m, k)``."""
        xp = namespace(x)
        a = xp.asarray(np.asarray(inputs, dtype=np.float64), dtype=x.dtype, device=array_api_compat.device(x))
        return self.model.forward(xp, x, a)[0]

    def accuracy(self, x: Array, split: str = "test") -> Array:
        """Fraction of ``split``'s samples classified right (a logit > 0 is class 1), per point."""
        if self.loss != "logistic":
            raise ValueError("accuracy is defined for classifiers only")
        xp = namespace(x)
        a, t = self._data(x, split, None)
        out = []
        for lo, hi in self._blocks(x, a.shape[0]):
            z, _ = self.model.forward(xp, x[lo:hi, ...], a)
            right = xp.astype(z > 0, x.dtype) == t
            out.append(xp.mean(xp.astype(right, x.dtype), axis=1))
        return out[0] if len(out) == 1 else xp.concat(out, axis=0)


def _loss(xp: Any, loss: str, z: Array, t: Array) -> Array:
    if loss == "squared":
        r = z - t
        return 0.5 * r * r
    return xp.maximum(z, 0.0) - t * z + xp.log1p(xp.exp(-xp.abs(z)))


def _dloss(xp: Any, loss: str, z: Array, t: Array) -> Array:
    if loss == "squared":
        return z - t
    e = xp.exp(-xp.abs(z))  # σ(z) without overflow: 1/(1+e) for z ≥ 0, e/(1+e) below
    return xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)) - t


@dataclass(frozen=True)
class ProblemSpec(Spec):
    """A :class:`~functions.base.Spec` that also carries its :class:`Task`."""

    task: Task | None = None


def problem_spec(task: Task, box: Any, minimizers: Any = (), fmin: float | None = None) -> ProblemSpec:
    """The spec of a problem: full-batch training loss and gradient from ``task``."""
    return ProblemSpec(value=lambda x: task.value(x), grad=lambda x: task.grad(x), box=box,
                       minimizers=minimizers, fmin=fmin, task=task)


@dataclass(frozen=True, eq=False, repr=False)
class Problem(TestFunction):
    """A :class:`~functions.base.TestFunction` that is a learning problem (see the module's text).

    Attributes (beyond a test function's):
        task: the model, loss and data.
        n_samples: training samples ``N`` (a minibatch is ``B ≤ N`` of them).
        classifier: whether it is a classifier (accuracy, decision boundary).
        inputs: the number of input features (2 for the 2-D classifiers).
    """

    task: Task | None = field(default=None, compare=False)

    @property
    def n_samples(self) -> int:
        return self.task.n_samples

    @property
    def classifier(self) -> bool:
        return self.task.loss == "logistic"

    @property
    def inputs(self) -> int:
        return int(self.task.train_inputs.shape[1])

    @property
    def data_form(self) -> Any:
        """The kernels' form (:class:`functions.problems.scalar.DataForm`): training rows, per-point maths."""
        return self.task.form

    def value_batch(self, x: Array, idx: Any = None) -> Array:
        """Training loss on the samples ``idx`` (all when None)."""
        self._check(x)
        return self.task.value(x, idx)

    def grad_batch(self, x: Array, idx: Any = None) -> Array:
        """Gradient of the training loss on the samples ``idx``; ``idx = arange(N)`` equals :meth:`grad`."""
        self._check(x)
        return self.task.grad(x, idx)

    def test_loss(self, x: Array) -> Array:
        """Mean loss on the test set (ridge included, as in training), per point."""
        self._check(x)
        return self.task.value(x, None, "test")

    def accuracy(self, x: Array, split: str = "test") -> Array:
        """Classification accuracy on ``"test"`` or ``"train"``, per point (classifiers only)."""
        self._check(x)
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        return self.task.accuracy(x, split)

    def outputs(self, x: Array, inputs: Any) -> Array:
        """Model outputs (logits of a classifier) ``(n, m)`` at ``inputs`` ``(m, k)``."""
        self._check(x)
        return self.task.outputs(x, inputs)


class ProblemFamily(Family):
    """A registry entry whose instances are :class:`Problem` objects (``build`` returns a ProblemSpec)."""

    def make(self, dim: int | None = None, **params: float) -> Problem:
        base = super().make(dim, **params)
        spec = self.build(base.dim, base.params)  # builders are cached: the same task
        parts = {f.name: getattr(base, f.name) for f in fields(TestFunction)}
        return Problem(**parts, task=spec.task)


def is_problem(fn: Any) -> bool:
    """Whether ``fn`` is a learning problem (has minibatch gradients)."""
    return isinstance(fn, Problem)

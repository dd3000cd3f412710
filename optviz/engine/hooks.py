"""Gradient hooks: pieces that rewrite each point's gradient before any optimizer sees it.

A hook is a pure function ``(grads, params) -> grads`` on arrays of shape ``(n_points, dim)``,
with its settings bound at construction; :func:`chain` applies several in order, as
``optax.chain`` does. Each works per point: a point's "layer" is its whole coordinate vector.

One definition of the maths: every hook here is ``g ← scale · (g + decay · w)``, with ``scale``
and ``decay`` computed per point from the norms ‖g‖ and ‖w‖ by a small function of numbers
(:attr:`Hook.factors`). The readable path applies it to arrays; the compiled kernels inline the
same function.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from array_api_compat import array_namespace

from functions.elementwise import where
from optviz.scene.text import quote

Array = Any


@dataclass(frozen=True)
class Hook:
    """A named gradient transformation with the settings it was made with (for labels, caches).

    ``factors(g_norm, w_norm, *settings) -> (scale, decay)`` gives, per point, the factors of
    ``g ← scale · (g + decay · w)``; settings are passed in the order of :attr:`settings`.
    """

    name: str
    settings: tuple[tuple[str, float], ...]
    factors: Callable[..., tuple[Any, Any]] = field(compare=False, repr=False)

    def __call__(self, grads: Array, params: Array) -> Array:
        scale, decay = self.factors(_norm(grads), _norm(params), *(v for _, v in self.settings))
        return (grads + decay * params) * scale

    @property
    def label(self) -> str:
        args = ", ".join(f"{k}={v:g}" for k, v in self.settings)
        return f"{self.name}({args})"


def _norm(x: Array) -> Array:
    """Euclidean norm of each row, shape (n_points, 1)."""
    xp = array_namespace(x)
    return xp.sqrt(xp.sum(x * x, axis=1, keepdims=True))


def _nonneg(name: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be a finite number >= 0, got {str(value)[:40]!r}") from None
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def lars_factors(g_norm, w_norm, threshold, weight_decay, eps):
    """GradientLARS's rate (and its weight decay as the decay), per point."""
    den = eps + g_norm + weight_decay * w_norm
    use = (w_norm > threshold) & (den > 0)
    return where(use, w_norm / where(use, den, 1.0), 1.0), weight_decay


def lars(threshold: float = 0.01, weight_decay: float = 0.0, eps: float = 1e-9) -> Hook:
    r"""GradientLARS: scale each point's gradient to its weight norm (layer-wise adaptive rate).

    .. math::
        \mathrm{rate} = \begin{cases}
            \|w\| / (\varepsilon + \|g\| + \beta\|w\|) & \|w\| > \text{threshold}\\
            1 & \text{otherwise}\end{cases},\qquad
        g \leftarrow (g + \beta w)\cdot \mathrm{rate}

    with β the weight decay. Reference: You, Gitman & Ginsburg (2017), "Large Batch Training
    of Convolutional Networks", arXiv:1708.03888; Chainer's
    ``chainer.optimizer_hooks.GradientLARS``.

    Guard: with ``eps = 0`` the denominator is 0 at a zero gradient (β = 0); there
    :math:`g + \beta w = 0` whatever the rate, so the rate is taken as 1 and the result is 0
    (Chainer's formula would give 0·inf = NaN). Nothing is divided by zero.
    """
    settings = (("threshold", _nonneg("threshold", threshold)),
                ("weight_decay", _nonneg("weight_decay", weight_decay)), ("eps", _nonneg("eps", eps)))
    return Hook("lars", settings, lars_factors)


def clip_factors(g_norm, w_norm, max_norm):
    """The clipping scale min(1, c/‖g‖), per point (no decay)."""
    over = g_norm > max_norm
    return where(over, max_norm / where(over, g_norm, 1.0), 1.0), 0.0


def clip_by_norm(max_norm: float = 1.0) -> Hook:
    r"""Clip each point's gradient to Euclidean norm at most ``max_norm``.

    .. math:: g \leftarrow g \cdot \min(1, c/\|g\|)

    Reference: Pascanu, Mikolov & Bengio (2013), "On the difficulty of training recurrent
    neural networks"; ``optax.clip_by_global_norm`` applied per point.
    """
    c = _nonneg("max_norm", max_norm)
    if c == 0:
        raise ValueError("max_norm must be > 0")
    return Hook("clip", (("max_norm", c),), clip_factors)


def weight_decay_factors(g_norm, w_norm, rate):
    """Coupled L2 decay: scale 1, decay λ."""
    return 1.0, rate


def weight_decay(rate: float = 1e-2) -> Hook:
    r"""L2 weight decay added to the gradient: :math:`g \leftarrow g + \lambda w`.

    (Coupled decay, as in ``torch.optim.SGD(weight_decay=...)``.)
    """
    return Hook("weight_decay", (("rate", _nonneg("rate", rate)),), weight_decay_factors)


FACTORIES: dict[str, Callable[..., Hook]] = {
    "lars": lars,
    "clip": clip_by_norm,
    "weight_decay": weight_decay,
}


def chain(hooks: Sequence[Hook]) -> Callable[[Array, Array], Array]:
    """One function applying ``hooks`` in order (the identity for none)."""
    hooks = tuple(hooks)

    def apply(g: Array, w: Array) -> Array:
        for h in hooks:
            g = h(g, w)
        return g

    return apply


def parse(text: str) -> Hook:
    """A hook from text such as ``"lars"``, ``"clip:max_norm=5"`` or ``"weight_decay:rate=0.1"``.

    Parsed safely (no ``eval``); errors name the valid hooks and settings.
    """
    from optviz.scene.text import parse_call

    name, kwargs = parse_call(text, FACTORIES, what="hook")
    return FACTORIES[name](**kwargs)


def as_hooks(hooks: Any) -> tuple[Hook, ...]:
    """What ``optviz.run(hooks=...)`` takes (None, a :class:`Hook`, its text such as
    ``"clip:max_norm=5"``, or a list of them) as a tuple of hooks; ``ValueError`` otherwise."""
    if hooks is None:
        return ()
    if isinstance(hooks, str | Hook):
        hooks = [hooks]
    if not isinstance(hooks, Iterable) or isinstance(hooks, Mapping):
        raise ValueError(f"hooks must be a Hook, text such as 'clip:max_norm=5', or a list of them; "
                         f"got {quote(hooks)}; valid: {', '.join(FACTORIES)}")
    out = []
    for h in hooks:
        if isinstance(h, str):
            h = parse(h)
        if not isinstance(h, Hook):
            raise ValueError(f"hooks must be Hook objects or text like 'lars'; got {quote(h)}")
        out.append(h)
    return tuple(out)

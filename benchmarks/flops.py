"""Floating-point operations per point-step of a kernel, counted by running its own formulas.

For the GPU benchmark's "fraction of the card's FP64 limit": the kernel's arithmetic per point
and step is its function's gradient, the rule's step (the generated ``point_step``: per-point
stages, draws' use, per-coordinate update) and the new position. They are run here once in
Python on :class:`Counted` numbers, which count each ``+ - * /``, negation, power, and each call
of a :mod:`functions.elementwise` function (``sqrt``, ``exp``, ``maximum``, ...) as one
operation, the convention of roofline counts (an FMA the compiler forms counts as two, as the
card's peak counts it). Not counted: comparisons and branches (the bound test, ``where``'s
choice), integer work (Philox's draws), recording and the loss on recorded steps only. So the
count is a floor on the work done, and the fraction of the peak it gives is a floor too.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from functions import elementwise as E  # noqa: E402


class Counted:
    """A float that counts the arithmetic done on it (in the class's shared ``tally``)."""

    __slots__ = ("v",)
    tally: ClassVar[list[int]] = [0]
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, v: float):
        self.v = float(v)

    @classmethod
    def op(cls, v: float) -> Counted:
        cls.tally[0] += 1
        return cls(v)

    def __float__(self) -> float:
        return self.v

    def __bool__(self) -> bool:
        return bool(self.v)


def _counting(fn: Callable[..., Any], flip: bool = False) -> Callable[..., Counted]:
    """``fn`` as a method of :class:`Counted` that counts one operation (``flip``: reflected)."""

    def method(self: Counted, *other: Any) -> Counted:
        args = (float(o) for o in (*other, self)) if flip else (float(a) for a in (self, *other))
        with np.errstate(all="ignore"):
            return Counted.op(float(fn(*(np.float64(a) for a in args))))

    return method


def _comparing(fn: Callable[[float, float], bool]) -> Callable[[Counted, Any], bool]:
    return lambda self, other: fn(self.v, float(other))


for _name in ("add", "sub", "mul", "truediv", "pow"):
    setattr(Counted, f"__{_name}__", _counting(getattr(operator, _name)))
    setattr(Counted, f"__r{_name}__", _counting(getattr(operator, _name), flip=True))
for _name in ("neg", "abs"):
    setattr(Counted, f"__{_name}__", _counting(getattr(operator, _name)))
for _name in ("lt", "le", "gt", "ge", "eq", "ne"):  # comparisons: not counted
    setattr(Counted, f"__{_name}__", _comparing(getattr(operator, _name)))


class _Namespace:
    """What :mod:`functions.elementwise` calls on a :class:`Counted` (each call: one operation)."""

    def __getattr__(self, name: str):
        fn = getattr(np, {"atan": "arctan"}.get(name, name))

        def call(*args):
            with np.errstate(all="ignore"):
                return Counted.op(float(fn(*(float(a) for a in args))))

        return call


E._NAMESPACES[Counted] = _Namespace()


def flops_per_point_step(function: Any, optimizer: str, hyper: dict[str, float] | None = None) -> int:
    """The operations one point's step takes on the compiled paths (see the module docstring)."""
    import functions
    from optviz.engine.fast import gpu, kernels
    from optviz.engine.fast.codegen import point_step_signature
    from optviz.engine.job import make_job
    from optviz.engine.steptable import step_table

    fn = functions.get(function) if isinstance(function, str) else function
    start = np.asarray(fn.box, dtype=float).mean(axis=1) + 0.1
    job, *_ = make_job(fn, {optimizer: hyper or {}}, start[None, :], 3, seed=0)
    keyed = kernels.specs(job)[0]
    module = gpu._module(keyed)
    spec, m, d = keyed.spec, keyed.spec.maths, keyed.spec.dim
    consts = [float(c) for c in fn.point.consts]
    c = lambda v: Counted(v)  # noqa: E731
    w = [c(x) for x in start]
    env: dict[str, Any] = {f"w_{j}": w[j] for j in range(d)}
    tab, _, _ = step_table(job.plan[0], job.factors, job.steps, spec.columns, np.arange(1))
    for k, name in enumerate(spec.columns):
        env[f"k_{name}"] = c(tab[0, 1, k])  # step 2: past any first-step special case
    for f in m.coord_fields:
        for j in range(d):
            env[f"s_{f}_{j}"] = c(0.1 + 0.01 * j)
    for f in m.fields:
        if f in m.point_fields:
            env[f"s_{f}"] = c(1.0)
    env.update(tf=2.0, TT=3.0, fstar=0.0, tiny=2.2e-308, delay_f=0.0, f_cur=c(1.0), ut=np.uint64(2),
               klo_p=np.uint64(1), khi_p=np.uint64(2), rk0_p=np.uint64(3), rk1_p=np.uint64(4))
    Counted.tally[0] = 0
    q = w
    if m.grad_at is not None:
        q = [m.grad_at.fn(*(_arg(env, a, j) for a in m.grad_at.args)) for j in range(d)]
    grads = keyed.globals["FGRAD"](*q, *consts)
    for j in range(d):
        env[f"g_{j}"] = grads[j] if isinstance(grads[j], Counted) else c(grads[j])
        env[f"q_{j}"] = q[j]
    params, returns = point_step_signature(spec)
    out = module.point_step(*(env[p] for p in params))
    out = out if len(returns) > 1 else (out,)
    for j in range(d):
        _ = w[j] + out[j]
    return Counted.tally[0]


def _arg(env: dict[str, Any], name: str, j: int) -> Any:
    """A stage's argument ``name`` for coordinate ``j``, from the point's environment."""
    for key in (f"s_{name}_{j}", f"s_{name}", f"k_{name}", f"{name}_{j}", name):
        if key in env:
            return env[key]
    return {"t": env["tf"], "T": env["TT"]}.get(name, env.get(name))

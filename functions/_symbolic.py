"""SymPy nodes for the kinks of typed functions: ``max``/``min`` of two, ``abs``, and the step
and sign their derivatives need (imported by :mod:`functions.expression` with SymPy, never by
``import functions``).

SymPy's own ``Max``/``Min`` flatten nested calls into one node and compare every pair of its
arguments symbolically (``_find_localzeros``, ``factor_terms``) on every construction, and
their derivative builds a new ``Max`` of the remaining arguments per argument: 20 nested
``max(s, sin(i*x + j*y))`` took 17-62 s. These nodes never compare their arguments (only two
plain numbers are folded), so building and differentiating them costs time linear in the
text. Their derivatives are the subgradients the generated code has always used:

* ``d max(a, b) = Step(a - b) da + Step(b - a) db`` and ``d min(a, b) = Step(b - a) da +
  Step(a - b) db``, where ``Step(0) = 1/2`` (½ each at a tie);
* ``d |u| = Sign(u) du`` with ``Sign(0) = 0``: ``u`` is taken as real (a typed function is
  real: one that is not finite and real over its box is refused), so ``abs(sqrt(x))`` and
  ``abs(atan(x/y))`` differentiate without SymPy's ``re``/``im``/``atan2`` forms.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["Max2", "Min2", "RealAbs", "Sign", "Step"]


def _is_plain_number(a: sp.Expr) -> bool:
    return bool(a.is_Number) and a.is_finite is not False


class Step(sp.Function):
    """Heaviside step with ``Step(0) = 1/2``; its derivative is taken as 0 (not a delta)."""

    @classmethod
    def eval(cls, u):
        if _is_plain_number(u):
            return sp.S.One if u > 0 else sp.S.Zero if u < 0 else sp.S.Half
        return None

    def fdiff(self, argindex=1):
        return sp.S.Zero


class Sign(sp.Function):
    """Sign of a real number (0 at 0); its derivative is taken as 0."""

    @classmethod
    def eval(cls, u):
        if _is_plain_number(u):
            return sp.S.One if u > 0 else sp.S.NegativeOne if u < 0 else sp.S.Zero
        return None

    def fdiff(self, argindex=1):
        return sp.S.Zero


class RealAbs(sp.Function):
    """``|u|`` of a real ``u``, derivative ``Sign(u)``."""

    @classmethod
    def eval(cls, u):
        if u.is_number:
            return sp.Abs(u)
        return None

    def fdiff(self, argindex=1):
        return Sign(self.args[0])

    def _eval_derivative(self, s):
        (u,) = self.args
        return Sign(u) * u.diff(s)

    def _latex(self, printer, exp=None):
        tex = rf"\left|{printer._print(self.args[0])}\right|"
        return tex if exp is None else rf"{tex}^{{{exp}}}"


class _Pair(sp.Function):
    """``max``/``min`` of two, never flattened nor compared symbolically."""

    _sympy: type = sp.Max
    _tex = r"\max"

    @classmethod
    def eval(cls, a, b):
        if a == b:
            return a
        if a.is_number and b.is_number:
            return cls._sympy(a, b)  # two constants: one comparison
        return None

    def _eval_derivative(self, s):  # the chain rule, without SymPy's generic bookkeeping
        a, b = self.args
        return self.fdiff(1) * a.diff(s) + self.fdiff(2) * b.diff(s)

    def _latex(self, printer, exp=None):
        a, b = (printer._print(x) for x in self.args)
        tex = rf"{self._tex}\left({a}, {b}\right)"
        return tex if exp is None else rf"{tex}^{{{exp}}}"


class Max2(_Pair):
    _sympy = sp.Max
    _tex = r"\max"

    def fdiff(self, argindex=1):
        a, b = self.args
        return Step(a - b) if argindex == 1 else Step(b - a)


class Min2(_Pair):
    _sympy = sp.Min
    _tex = r"\min"

    def fdiff(self, argindex=1):
        a, b = self.args
        return Step(b - a) if argindex == 1 else Step(a - b)

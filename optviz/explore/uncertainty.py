"""How sure a comparison is: bootstrap intervals over seeds and starts, ranks with ties, a headline.

- **Resampling** (:func:`resample`): a two-level bootstrap that follows how the points were
  drawn. Within each stratum (a function of a comparison; the one set of a sweep) the seeds are
  drawn with replacement, then the starts of each drawn seed with replacement. Every optimizer
  is measured on the same resamples (a paired bootstrap), from a generator seeded by the caller:
  the same seed gives the same intervals. With one seed only the starts are resampled.
- **Intervals** (:func:`estimate`): the :data:`LEVEL` (90 %) percentile interval over
  :data:`REPLICATES` resamples of the success rate (the share of points converged) and of the
  median steps to tolerance over the converged points (replicates where none converged give no
  steps; no interval when none ever converged).
- **Ranks** (:func:`ranks`): an optimizer is *clearly ahead* of another when its success
  interval lies wholly above the other's; or, when both success rates are certain and equal (each
  interval a single point, as when every point of both converges), when its median-steps interval
  lies wholly below the other's. Its rank is one more than the number of optimizers clearly ahead
  of it, so optimizers whose intervals overlap share a rank. (Steps do not break a tie in success
  that the intervals leave open: a faster optimizer that solves fewer problems is not ahead.)
  "Clearly ahead" is transitive and never circular, so some optimizer always ranks first. Where
  nothing converges for either (a network's sweep, measured by its final training loss), an
  estimate made with the final errors is clearly ahead when its median-error interval lies wholly
  below the other's.
- **Headline** (:func:`headline`): the one optimizer ranked first, or "no clear winner" and the
  optimizers that share the first rank.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The intervals' coverage.
LEVEL = 0.90
#: Bootstrap resamples per interval.
REPLICATES = 1000
#: What the JSON says about the intervals.
METHOD = ("bootstrap percentile intervals: the seeds of each function resampled with replacement, "
          "then the starts of each drawn seed; every optimizer on the same resamples")


@dataclass(frozen=True)
class Estimate:
    """One optimizer's success rate and median steps to tolerance, each with its interval.

    Attributes:
        success, success_low, success_high: the share of points converged and its interval.
        steps, steps_low, steps_high: the median steps to tolerance over the converged points
            and its interval (None when no point converged).
        error, error_low, error_high: the median final error (∞ for a diverged point) and its
            interval, when the estimate was made with the errors (None otherwise).
    """

    success: float
    success_low: float
    success_high: float
    steps: float | None
    steps_low: float | None
    steps_high: float | None
    error: float | None = None
    error_low: float | None = None
    error_high: float | None = None

    def as_dict(self) -> dict[str, Any]:
        steps = None if self.steps_low is None else [self.steps_low, self.steps_high]
        return {"solved": self.success, "solved_interval": [self.success_low, self.success_high],
                "median_steps_to_tol": self.steps, "median_steps_interval": steps}


def resample(groups: Sequence[Sequence[np.ndarray]], seed: int, replicates: int = REPLICATES) -> np.ndarray:
    """Bootstrap indices ``(replicates, n)``: ``groups`` lists, per stratum, the point indices of
    each of its seeds (every seed of a stratum with as many points); each replicate draws, per
    stratum, as many seeds with replacement, and within each drawn seed its points with replacement."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5EED]))
    cols = []
    for seeds in groups:
        members = np.stack([np.asarray(s, dtype=np.int64) for s in seeds])  # (k seeds, m points)
        k, m = members.shape
        chosen = rng.integers(0, k, size=(replicates, k))
        within = rng.integers(0, m, size=(replicates, k, m))
        cols.append(members[chosen[:, :, None], within].reshape(replicates, k * m))
    return np.concatenate(cols, axis=1)


def seed_groups(seeds: np.ndarray) -> list[np.ndarray]:
    """The point indices of each seed, in order of first appearance (one stratum)."""
    seeds = np.asarray(seeds)
    _, first = np.unique(seeds, return_index=True)
    return [np.flatnonzero(seeds == seeds[i]) for i in np.sort(first)]


def estimate(converged: np.ndarray, steps: np.ndarray, idx: np.ndarray, level: float = LEVEL,
             error: np.ndarray | None = None) -> Estimate:
    """The :class:`Estimate` of points that ``converged`` after ``steps`` steps, over the
    resamples ``idx`` (:func:`resample`); with ``error`` (each point's final error, ∞ where it
    diverged), also the median final error's interval."""
    conv = np.asarray(converged, dtype=bool)
    t = np.asarray(steps, dtype=float)
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    rates = conv[idx].mean(axis=1)
    steps_med = float(np.median(t[conv])) if conv.any() else None
    s_lo = s_hi = None
    if conv.any():
        drawn = np.where(conv[idx], t[idx], np.nan)
        some = conv[idx].any(axis=1)
        with np.errstate(all="ignore"):
            meds = np.nanmedian(drawn[some], axis=1)
        s_lo, s_hi = (float(v) for v in np.quantile(meds, [lo_q, hi_q]))
    r_lo, r_hi = (float(v) for v in np.quantile(rates, [lo_q, hi_q]))
    e_mid = e_lo = e_hi = None
    if error is not None and np.size(error):
        err = np.asarray(error, dtype=float)
        meds = _medians(np.sort(err[idx], axis=1))
        e_mid = float(_medians(np.sort(err)[None, :])[0])
        # lower/higher: no interpolation between an infinite (diverged) median and another
        e_lo = float(np.quantile(meds, lo_q, method="lower"))
        e_hi = float(np.quantile(meds, hi_q, method="higher"))
    return Estimate(float(conv.mean()) if conv.size else 0.0, r_lo, r_hi, steps_med, s_lo, s_hi,
                    e_mid, e_lo, e_hi)


def _medians(rows: np.ndarray) -> np.ndarray:
    """The median of each row of sorted values, ∞ when a middle value is ∞ (as
    :func:`optviz.explore.measures.quantile`: a median over mostly diverged points is ∞)."""
    m = rows.shape[1]
    a, b = rows[:, (m - 1) // 2], rows[:, m // 2]
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(a) | np.isinf(b), np.inf, (a + b) / 2)


def clearly_ahead(a: Estimate, b: Estimate) -> bool:
    """Is ``a`` clearly ahead of ``b`` (see the module docstring)?"""
    if a.success_low > b.success_high:
        return True
    certain = a.success_low == a.success_high == b.success_low == b.success_high
    if not certain:
        return False
    if a.steps is None and b.steps is None:  # nothing converged for either: the final errors, if measured
        return a.error_high is not None and b.error_low is not None and a.error_high < b.error_low
    if a.steps_high is None or b.steps_low is None:
        return False
    return a.steps_high < b.steps_low


def ranks(estimates: Mapping[str, Estimate]) -> dict[str, int]:
    """Each optimizer's rank: 1 + the number of optimizers clearly ahead of it (ties share a rank)."""
    return {n: 1 + sum(clearly_ahead(estimates[m], e) for m in estimates if m != n)
            for n, e in estimates.items()}


def leaders(estimates: Mapping[str, Estimate], order: Sequence[str]) -> list[str]:
    """The optimizers ranked first, in ``order`` (the point estimates' ranking)."""
    r = ranks(estimates)
    return [n for n in order if r[n] == 1]


def pct(v: float) -> str:
    return f"{100 * v:.0f} %"


def span(lo: float, hi: float) -> str:
    """An interval of shares, as text: ``"48–61 %"``."""
    return f"{100 * lo:.0f}–{100 * hi:.0f} %"


def _error_headline(estimates: Mapping[str, Estimate], first: Sequence[str], noun: str) -> str:
    """The headline when nothing converged for anyone and the final errors were measured."""
    if len(first) > 1:
        names = ", ".join(first[:-1]) + f" and {first[-1]}"
        return (f"No clear winner: nothing {noun}, and the 90 % intervals of the median final errors of "
                f"{names} overlap")
    e = estimates[first[0]]
    sure = (f"a median final error of {e.error:.3g} (90 % interval {e.error_low:.3g}–{e.error_high:.3g}); "
            f"nothing {noun}")
    if len(estimates) == 1:
        return f"{first[0]}: {sure}"
    return f"{first[0]} is ahead on final error: {sure}, and its interval lies wholly below the others'"


def headline(estimates: Mapping[str, Estimate], order: Sequence[str], what: str = "solves",
             noun: str = "solved") -> str:
    """One line that says who wins, or that nobody clearly does: ``order`` is the ranking by
    the point estimates (best first); ``what`` the verb for the success rate, ``noun`` its name."""
    if all(e.success_high == 0 for e in estimates.values()):
        if any(e.error is None for e in estimates.values()):
            return f"No clear winner: nothing {noun} (0 % for each)"
        return _error_headline(estimates, leaders(estimates, order) or list(order), noun)
    first = leaders(estimates, order) or list(order)
    if len(first) == 1:
        e = estimates[first[0]]
        sure = f"{pct(e.success)} (90 % interval {span(e.success_low, e.success_high)})"
        if e.steps is not None and e.steps_low is not None:
            sure += f" in a median {e.steps:.0f} steps ({e.steps_low:.0f}–{e.steps_high:.0f})"
        if len(estimates) == 1:
            return f"{first[0]} {what} {sure}"
        others = [o for n, o in estimates.items() if n != first[0]]
        if all(e.success_low > o.success_high for o in others):
            return f"{first[0]} is clearly ahead: it {what} {sure}"
        return (f"{first[0]} is ahead on steps: it {what} {sure}; where the others' {noun} shares are "
                "the same, its median steps are clearly fewer")
    lo = min(estimates[n].success for n in first)
    hi = max(estimates[n].success for n in first)
    shares = pct(lo) if math.isclose(lo, hi) else span(lo, hi)
    names = ", ".join(first[:-1]) + f" and {first[-1]}"
    steps = [estimates[n].steps for n in first]
    within = ""
    if all(v is not None for v in steps):  # how fast they were, so that the tie can be read
        within = (f" in a median {min(steps):.0f} steps" if round(min(steps)) == round(max(steps))
                  else f" in a median {min(steps):.0f}–{max(steps):.0f} steps")
    return f"No clear winner: {names} tie ({noun} {shares}{within}; their 90 % intervals overlap)"

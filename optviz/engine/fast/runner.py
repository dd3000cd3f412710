"""Running a job on the compiled kernels: per-step tables, outputs, threads over ranges of points."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from optviz.engine import hooks as _hooks
from optviz.engine import noise as _noise
from optviz.engine.fast import signature
from optviz.engine.fast.kernels import BLOCK, Keyed, compile_kernel, specs
from optviz.engine.job import Cancelled, Job, Outcome
from optviz.engine.steptable import TABLE_BYTES, fits, step_table

#: The hooks the kernels know, by kind (the order of :func:`optviz.engine.fast.blocks.apply_hooks`).
HOOK_KINDS = (_hooks.lars_factors, _hooks.clip_factors, _hooks.weight_decay_factors)


_TABLES: dict[tuple, tuple] = {}
_TABLES_MAX = 256


def _hyper_table(job: Job, k: int, columns: tuple[str, ...], idx: np.ndarray):
    """(table (n_combo, steps, n_cols), unscheduled values (n_combo, n_hp), combo per point):
    :func:`optviz.engine.steptable.step_table`, the table the readable loop reads too.

    Tables of runs with one value per hyperparameter are kept (a few hundred, the last ones):
    the dashboard reruns the same optimizers with the same settings often.
    """
    p = job.plan[k]
    uniform = not any(isinstance(v, np.ndarray) for v in p.hyperparams.values())
    if not uniform:
        return step_table(p, job.factors, job.steps, columns, idx)
    memo = (p.name, tuple(float(p.hyperparams[h.name]) for h in p.spec.hyperparams), job.steps,
            hash(job.factors.tobytes()), columns)
    hit = _TABLES.get(memo)
    if hit is None:
        if len(_TABLES) >= _TABLES_MAX:
            _TABLES.pop(next(iter(_TABLES)))
        hit = _TABLES[memo] = step_table(p, job.factors, job.steps, columns, idx)
    return hit


def _per_point(a: Any, n: int) -> tuple[np.ndarray, int]:
    """A value that may be one per point: (array, stride) for the kernels' ``a[p * stride]``."""
    arr = np.array(np.reshape(np.asarray(a, dtype=np.uint64), (-1,)))
    return (arr, 1) if arr.size == n and n > 1 else (arr[:1], 0)


class Runner:
    """A job ready to step on the fast path: kernels compiled, tables built, outputs allocated.

    :meth:`run` steps the points ``lo..hi`` of every optimizer (threads run disjoint ranges,
    writing into the same outputs); :meth:`outcome` gives the result once all have run.
    """

    def __init__(self, job: Job):
        self.job = job
        n, d, K = job.n, job.dim, len(job.plan)
        self.keyed = specs(job)
        self.kernels = self._compile()
        n_rec = len(job.rec)
        self.traj = np.empty((K, n_rec, n, d))
        self.loss = np.empty((K, n_rec, n))
        self.div = np.full((K, n), -1, dtype=np.int64)
        self.stt = np.full((K, n), -1, dtype=np.int64)
        self.first = np.full((K, n), -1, dtype=np.int64)
        self.state_rows = [s.spec.state_rows() if job.record_state else [] for s in self.keyed]
        none = np.full((1, 1, 1), np.nan)  # (recorded state: only when asked)
        self.states = [np.full((n_rec, len(r), n), np.nan) if r else none for r in self.state_rows]
        kinds = {fn: i for i, fn in enumerate(HOOK_KINDS)}
        hset, hoff = [], []
        for h in job.hooks:
            hoff.append(len(hset))
            hset += [float(v) for _, v in h.settings]
        fn = job.fn
        # (writable copies: numba compiles read-only arrays as another type)
        mins = np.array(fn.minimizers, dtype=float).reshape(-1, d)
        g0, g1 = job.seed_words(_noise.GRADIENT_STREAM)
        gk0, gstride = _per_point(g0, n)
        gk1, _ = _per_point(g1, n)
        #: The kernel arguments every optimizer's call shares (:mod:`optviz.engine.fast.signature`).
        self.inputs: dict[str, Any] = {
            "W0": np.array(job.starts, dtype=np.float64), "B": BLOCK,
            "fc": np.array(list(fn.point.consts) or [0.0], dtype=float),
            "hkind": np.array([kinds[h.factors] for h in job.hooks], dtype=np.int64),
            "hoff": np.array(hoff, dtype=np.int64), "hset": np.array(hset or [0.0]),
            "mins": mins if mins.size else np.zeros((1, d)),
            "klo": np.array(job.keys[0], dtype=np.uint64), "khi": np.array(job.keys[1], dtype=np.uint64),
            "gk0": gk0, "gk1": gk1, "gstride": gstride,
            "prm": signature.prm(bound=job.bound, sigma=job.noise, tol=job.tol or 0.0,
                                 fstar=0.0 if fn.fmin is None else float(fn.fmin),
                                 tiny=float(np.finfo(np.float64).smallest_normal), TT=job.steps,
                                 delay_f=job.delay),
            "rec": np.asarray(job.rec, dtype=np.int64),
        }
        self.rule_keys = []
        for p in job.plan:
            if "noise" not in p.spec.needs:  # (the rule draws nothing)
                self.rule_keys.append((gk0, gk1, gstride))
                continue
            k0, k1 = job.seed_words(_noise.stream_of(p.name))
            a0, st = _per_point(k0, n)
            a1, _ = _per_point(k1, n)
            self.rule_keys.append((a0, a1, st))
        # per-step tables: one for all points, unless too big (then per slice of points, in run)
        self.tables: list[Any] = []
        for k, s in enumerate(self.keyed):
            whole = fits(job.plan[k], n, job.steps, len(s.spec.columns))
            self.tables.append(self._table(k, s, 0, n) if whole else None)
        self._slice = [max(BLOCK, TABLE_BYTES // max(1, job.steps * len(s.spec.columns) * 8) // BLOCK * BLOCK)
                       for s in self.keyed]

    def _compile(self) -> list[Any]:
        """The job's kernels, compiled (or loaded) for this machine's CPU."""
        return [compile_kernel(s) for s in self.keyed]

    def _table(self, k: int, keyed: Keyed, lo: int, hi: int):
        tab, uniq, combo = _hyper_table(self.job, k, keyed.spec.columns, np.arange(lo, hi))
        if combo.size > 1 and (lo, hi) != (0, self.job.n):  # the kernels index combos by point
            full = np.zeros(self.job.n, dtype=np.int64)
            full[lo:hi] = combo
            combo = full
        return tab, uniq, combo, (1 if combo.size > 1 else 0)

    def run(self, lo: int, hi: int, watch: Any) -> None:
        """Step points ``lo..hi`` of every optimizer."""
        meter = np.zeros(1, dtype=np.int64)
        watch.meters.append(meter)
        for k, kern in enumerate(self.kernels):
            if self.tables[k] is not None:
                pieces = [(lo, hi, self.tables[k])]
            else:  # a sweep with too many distinct values for one table: slices of points
                step = self._slice[k]
                pieces = [(a, min(hi, a + step), None) for a in range(lo, hi, step)]
            rk0, rk1, rstride = self.rule_keys[k]
            keyed = self.keyed[k]
            for a, b, table in pieces:
                tab, uniq, combo, cstride = table or self._table(k, keyed, a, b)
                kern(*signature.ordered(dict(
                    self.inputs, lo=a, hi=b, tab=tab, hp0=uniq, combo=combo, cstride=cstride, rk0=rk0,
                    rk1=rk1, rstride=rstride, kcols=keyed.kcols, gcols=keyed.gcols, o_traj=self.traj[k],
                    o_loss=self.loss[k], o_div=self.div[k], o_stt=self.stt[k], o_first=self.first[k],
                    o_state=self.states[k],
                    flag=watch.flag, meter=meter), signature.CPU))
                if watch.flag[0] != 0:
                    raise Cancelled()

    def outcome(self) -> Outcome:
        job = self.job
        states = None
        if job.record_state:
            states = []
            for k, rows in enumerate(self.state_rows):
                maths = job.plan[k].spec.maths
                fields: dict[str, np.ndarray] = {}
                for f in [*maths.fields, "grad", "update"]:
                    ix = [i for i, (name, _) in enumerate(rows) if name == f]
                    if f in maths.point_fields:
                        fields[f] = self.states[k][:, ix[0], :]
                    else:
                        fields[f] = np.moveaxis(self.states[k][:, ix, :], 1, 2)
                states.append(fields)
        stt = first = None
        if job.tol is not None:
            stt = np.where(self.div >= 0, -1, self.stt)
            first = np.where(self.div >= 0, -1, self.first)
        return Outcome(np.moveaxis(self.traj, 0, 1), np.moveaxis(self.loss, 0, 1), self.div, stt, states,
                       first)


def prepare(job: Job) -> Runner:
    """Compile (or load) the job's kernels and build its tables and outputs."""
    return Runner(job)


def ranges(n: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous ranges of the ``n`` points, about equal (a kernel blocks any range)."""
    parts = max(1, min(parts, n))
    cuts = [round(i * n / parts) for i in range(parts + 1)]
    return [(a, b) for a, b in itertools.pairwise(cuts) if a < b]

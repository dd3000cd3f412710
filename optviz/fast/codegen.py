"""Source text of one kernel: a function, a rule, its hooks, stepped in blocks of points.

The kernel is plain Python over single numbers, written out for one (function, rule, hooks,
options) with the coordinates unrolled, and compiled by numba. It calls the rule's stages, the
function's point formulas and the hooks' factors by name: the maths is theirs, not written here.
What the generated loop adds is the engine's bookkeeping, the same as the readable loop's
(:mod:`optviz.reference`): the gradient where the rule asks for it (delayed, noisy, hooked), the
divergence test and freezing, the loss on the steps that need it, recording, steps to tolerance.

Structure (temporally blocked): each block of ``B`` points keeps its positions and state in small
arrays (L1-resident) for all its steps; the step loop is outside, the point loop inside and free
of calls, so LLVM vectorizes it across points. A thread runs blocks ``lo..hi``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import hooks as _hooks
from ..noise import DRAW_STRIDE
from ..optimizers.base import Maths, Stage

#: Hooks the kernels know: (factors function, number of settings); a hook's kind is its index.
HOOK_KINDS = ((_hooks.lars_factors, 3), (_hooks.clip_factors, 1), (_hooks.weight_decay_factors, 1))


@dataclass(frozen=True)
class KernelSpec:
    """What one generated kernel is specialised on (everything else is a runtime argument)."""

    maths: Maths
    hp_names: tuple[str, ...]  # table columns 0..: the hyperparameters (lr ones scheduled) ...
    dim: int
    n_consts: int  # the function's constants (PointForm.consts)
    loss_every_step: bool  # f at every step (a rule needs it, or the tolerance is on the gap)
    noise: str  # "", "absolute" or "relative" gradient noise
    delay: bool
    tol: str  # "", "distance" or "gap"
    record_state: bool

    @property
    def step_outputs(self) -> tuple[str, ...]:
        return tuple(o for s in self.maths.per_step for o in s.outputs)

    @property
    def columns(self) -> tuple[str, ...]:
        """The per-step table's columns: hyperparameters, then per-step values."""
        return self.hp_names + self.step_outputs

    def state_rows(self) -> list[tuple[str, int | None]]:
        """Recorded state scalars per point: (field, coordinate or None for a point field)."""
        rows: list[tuple[str, int | None]] = []
        for f in self.maths.fields:
            if f in self.maths.point_fields:
                rows.append((f, None))
            else:
                rows += [(f, j) for j in range(self.dim)]
        rows += [("grad", j) for j in range(self.dim)] + [("update", j) for j in range(self.dim)]
        return rows


class _Source:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def __call__(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def block(self, head: str):
        src = self

        class _Block:
            def __enter__(self):
                src(head)
                src.depth += 1

            def __exit__(self, *exc):
                src.depth -= 1

        return _Block()

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def stage_globals(spec: KernelSpec) -> dict[str, object]:
    """The generated module's globals: each stage function under a stable name."""
    m = spec.maths
    names: dict[str, object] = {}
    for i, s in enumerate(m.per_step):
        names[f"STEP{i}"] = s.fn
    for i, s in enumerate(m.per_point):
        names[f"POINT{i}"] = s.fn
    for i, (_, s) in enumerate(m.noise.items()):
        names[f"WHEN{i}"] = s.fn
    if m.grad_at is not None:
        names["GRAD_AT"] = m.grad_at.fn
    for f, v in m.init.items():
        if isinstance(v, Stage):
            names[f"INIT_{f}"] = v.fn
    names["COORD"] = m.per_coord.fn
    for k, (fn, _) in enumerate(HOOK_KINDS):
        names[f"HOOK{k}"] = fn
    return names


def source(spec: KernelSpec) -> str:
    """The kernel's Python source (module level), for ``spec``."""
    m, d = spec.maths, spec.dim
    J = range(d)
    col = {name: k for k, name in enumerate(spec.columns)}
    hp_index = {name: k for k, name in enumerate(spec.hp_names)}
    coord_fields = m.coord_fields
    point_fields = tuple(f for f in m.fields if f in m.point_fields)
    point_outputs = [o for s in m.per_point for o in s.outputs]
    src = _Source()

    def var(name: str, j: int | None) -> str:
        """The generated variable holding quantity ``name`` (for coordinate ``j``)."""
        if name in coord_fields:
            return f"s_{name}_{j}"
        if name in point_fields:
            return f"s_{name}"
        if name in m.noise:
            return f"z_{name}_{j}"
        if name in point_outputs:
            return f"p_{name}"
        if name in col:
            return f"k_{name}"
        fixed = {"t": "tf", "T": "TT", "fstar": "fstar", "tiny": "tiny", "f": "f_cur", "delay": "delay_f",
                 "g": f"g_{j}", "w": f"w_{j}", "w_grad": f"q_{j}"}
        return fixed[name]

    def call(fn_name: str, stage: Stage, j: int | None) -> str:
        return f"{fn_name}({', '.join(var(a, j) for a in stage.args)})"

    def outs(names: list[str]) -> str:
        return ", ".join(names)

    args = ("W0, lo, hi, B, tab, hp0, combo, cstride, fc, hkind, hoff, hset, mins, klo, khi, rk0, rk1, "
            "rstride, gk0, gk1, gstride, prm, rec, o_traj, o_loss, o_div, o_stt, o_state, flag, meter")
    src("import numpy as np")
    src("")
    src("")
    with src.block(f"def kernel({args}):"):
        src("bound = prm[0]; sigma = prm[1]; tol = prm[2]; fstar = prm[3]; tiny = prm[4]")
        src("TT = prm[5]; delay_f = prm[6]")
        src("nrec = rec.shape[0]; steps = rec[nrec - 1]; delay = np.int64(delay_f)")
        consts = ", ".join(f"fc[{k}]" for k in range(spec.n_consts))
        src(f"W = np.empty(({d}, B)); W2 = np.empty(({d}, B))")
        src(f"G = np.empty(({d}, B)); Q = np.empty(({d}, B))")
        for f in coord_fields:
            src(f"S_{f} = np.empty(({d}, B))")
        for f in point_fields:
            src(f"S_{f} = np.empty(B)")
        src("FL = np.empty(B); ALIVE = np.empty(B, np.bool_); DIV = np.empty(B, np.int64)")
        src("STT = np.empty(B, np.int64)")
        if spec.record_state:
            src(f"GR = np.empty(({d}, B)); UP = np.empty(({d}, B))")
        if spec.delay:
            src(f"RING = np.empty((delay + 1, {d}, B))")
        with src.block("for b0 in range(lo, hi, B):"):
            src("nb = min(B, hi - b0)")
            # ------------------------------------------------------------ starts and state
            with src.block("for i in range(nb):"):
                src("p = b0 + i")
                src("c = combo[p * cstride]")
                for j in J:
                    src(f"w_{j} = W0[p, {j}]; W[{j}, i] = w_{j}")
                for f in m.fields:
                    spec_f = m.init.get(f, 0.0)
                    if isinstance(spec_f, Stage):
                        a = ", ".join(f"hp0[c, {hp_index[x]}]" for x in spec_f.args)
                        value = f"INIT_{f}({a})"
                    elif isinstance(spec_f, str):
                        value = None  # a copy of the start
                    else:
                        value = repr(float(spec_f))
                    if f in point_fields:
                        src(f"S_{f}[i] = {value}")
                    else:
                        for j in J:
                            src(f"S_{f}[{j}, i] = {value if value is not None else f'w_{j}'}")
                src(f"f0 = FVALUE({', '.join([f'w_{j}' for j in J] + ([consts] if consts else []))})")
                src("FL[i] = f0; ALIVE[i] = True; DIV[i] = -1")
                if spec.tol:
                    src(f"err = {_error(src, spec, 'w', 'f0')}")
                    src("STT[i] = 0 if err <= tol else -1")
                for j in J:
                    src(f"o_traj[0, p, {j}] = w_{j}")
                src("o_loss[0, p] = f0")
                if spec.record_state:
                    _store_state(src, spec, "0")
            src("r = 1")
            # ------------------------------------------------------------ the steps
            # A block is "clean" while all its points are alive: with one hyperparameter set
            # (cstride 0) its steps take the fast loop (per-step values read once, new positions
            # into the other buffer, divergence only counted); a point that diverges is fixed up
            # after the loop and the block goes on in the careful loop (per point, as the
            # readable path does it).
            src("clean = True")
            with src.block("for t in range(1, steps + 1):"):
                src("tf = np.float64(t); ut = np.uint64(t)")
                src("rec_now = r < nrec and rec[r] == t")
                src("loss_now = rec_now" if not spec.loss_every_step else "loss_now = True")
                if spec.delay:
                    src("slot = (t - 1) % (delay + 1)")
                    src("old = (max(1, t - delay) - 1) % (delay + 1)")
                if m.grad_at is not None:
                    with src.block("if cstride == 0:"):
                        _table_reads(src, spec, col, [m.grad_at], "combo[0]")
                        with src.block("for i in range(nb):"):
                            _gradient_pass(src, spec, var, call, col, consts, hoisted=True)
                    with src.block("else:"):
                        with src.block("for i in range(nb):"):
                            _gradient_pass(src, spec, var, call, col, consts, hoisted=False)
                else:
                    with src.block("for i in range(nb):"):
                        _gradient_pass(src, spec, var, call, col, consts, hoisted=True)
                with src.block("if hkind.shape[0] > 0:"):
                    _hook_pass(src, spec)
                if spec.record_state:
                    with src.block("if rec_now:"):
                        with src.block("for i in range(nb):"):
                            for j in J:
                                src(f"GR[{j}, i] = G[{j}, i]")
                with src.block("if clean and cstride == 0:"):
                    _table_reads(src, spec, col, _update_stages(m), "combo[0]")
                    src("nbad = 0")
                    with src.block("for i in range(nb):"):
                        _step_body(src, spec, var, call, outs, col, consts, fast=True)
                    with src.block("if loss_now:"):
                        with src.block("for i in range(nb):"):
                            fv = ", ".join([f"W2[{j}, i]" for j in J] + ([consts] if consts else []))
                            src(f"fn = FVALUE({fv})")
                            src("FL[i] = fn")
                            src("nbad += 0 if abs(fn) < np.inf else 1")
                            if spec.tol == "gap":
                                src("STT[i] = t if (STT[i] < 0 and fn - fstar <= tol) else STT[i]")
                    with src.block("if nbad > 0:"):
                        _fix_up(src, spec, consts)
                    src("W, W2 = W2, W")
                with src.block("else:"):
                    with src.block("for i in range(nb):"):
                        _step_body(src, spec, var, call, outs, col, consts, fast=False)
                with src.block("if rec_now:"):
                    with src.block("for i in range(nb):"):
                        src("p = b0 + i")
                        for j in J:
                            src(f"o_traj[r, p, {j}] = W[{j}, i]")
                        src("o_loss[r, p] = FL[i]")
                        if spec.record_state:
                            _store_state(src, spec, "r")
                    src("r += 1")
                src("meter[0] += nb")
                with src.block("if flag[0] != 0:"):
                    src("return")
            with src.block("for i in range(nb):"):
                src("o_div[b0 + i] = DIV[i]")
                if spec.tol:
                    src("o_stt[b0 + i] = STT[i] if DIV[i] < 0 else -1")
    return src.text()


def _error(src: _Source, spec: KernelSpec, w: str, f: str) -> str:
    """The tracked error at position ``w_j`` (or loss ``f``): f − f*, or the distance to the nearest
    minimizer (the lines computing it are written first, as the readable path: min of the roots)."""
    if spec.tol == "gap":
        return f"({f} - fstar)"
    src("best = np.inf")
    with src.block("for km in range(mins.shape[0]):"):
        src("dd = " + " + ".join(f"({w}_{j} - mins[km, {j}]) * ({w}_{j} - mins[km, {j}])"
                                 for j in range(spec.dim)))
        src("best = dd if dd < best else best")
    return "np.sqrt(best)"


def _store_state(src: _Source, spec: KernelSpec, row: str) -> None:
    for k, (f, j) in enumerate(spec.state_rows()):
        if f in ("grad", "update"):
            if row == "0":
                continue  # NaN before any step (o_state is NaN-filled)
            src(f"o_state[{row}, {k}, p] = {'GR' if f == 'grad' else 'UP'}[{j}, i]")
        elif j is None:
            src(f"o_state[{row}, {k}, p] = S_{f}[i]")
        else:
            src(f"o_state[{row}, {k}, p] = S_{f}[{j}, i]")


def _table_reads(src: _Source, spec: KernelSpec, col: dict[str, int], stages: list[Stage],
                 row: str = "c") -> None:
    """Read the per-step values the stages use, from the table row of combo ``row``."""
    used: set[str] = set()
    for s in stages:
        used |= set(s.args)
    for name, k in col.items():
        if name in used:
            src(f"k_{name} = tab[{row}, t - 1, {k}]")


def _update_stages(m: Maths) -> list[Stage]:
    return [m.per_coord, *m.per_point, *m.noise.values()]


def _fix_up(src: _Source, spec: KernelSpec, consts: str) -> None:
    """After a fast loop in which some point diverged: freeze it where it was, as the careful loop does."""
    J = range(spec.dim)
    with src.block("for i in range(nb):"):
        src("ok = " + " & ".join(f"(abs(W2[{j}, i]) <= bound)" for j in J))
        src("ok = ok & (abs(FL[i]) < np.inf) if loss_now else ok")
        with src.block("if not ok:"):
            src("DIV[i] = t; ALIVE[i] = False")
            for j in J:
                src(f"W2[{j}, i] = W[{j}, i]")
            with src.block("if loss_now:"):
                frozen = ", ".join([f"W[{j}, i]" for j in J] + ([consts] if consts else []))
                src(f"FL[i] = FVALUE({frozen})")
    src("clean = False")


def _gradient_pass(src: _Source, spec: KernelSpec, var, call, col, consts: str, hoisted: bool) -> None:
    """Phase 1, per point: where the gradient is taken (look-ahead, delay), the gradient, its noise."""
    m, d = spec.maths, spec.dim
    J = range(d)
    src("p = b0 + i")
    if m.grad_at is not None:
        if not hoisted:
            src("c = combo[p * cstride]")
            _table_reads(src, spec, col, [m.grad_at])
        for j in J:
            src(f"w_{j} = W[{j}, i]")
        for f in set(m.grad_at.args) & set(m.coord_fields):
            for j in J:
                src(f"s_{f}_{j} = S_{f}[{j}, i]")
        for j in J:
            src(f"q_{j} = {call('GRAD_AT', m.grad_at, j)}")
    else:
        for j in J:
            src(f"q_{j} = W[{j}, i]")
    if spec.delay:
        for j in J:
            src(f"RING[slot, {j}, i] = q_{j}")
        for j in J:
            src(f"q_{j} = RING[old, {j}, i]")
    qs = ", ".join([f"q_{j}" for j in J] + ([consts] if consts else []))
    src(f"gg = FGRAD({qs})")
    for j in J:
        g = f"gg[{j}]"
        if spec.noise:
            z = f"NORMAL(ut, np.uint64({j}), klo[p], khi[p], gk0[p * gstride], gk1[p * gstride])"
            scale = "sigma" if spec.noise == "absolute" else f"sigma * abs({g})"
            g = f"{g} + {scale} * {z}"
        src(f"G[{j}, i] = {g}")
        src(f"Q[{j}, i] = q_{j}")


def _hook_pass(src: _Source, spec: KernelSpec) -> None:
    """Phase 2: the hooks, in the run's order (a runtime list: kind and offset of its settings)."""
    J = range(spec.dim)
    with src.block("for h in range(hkind.shape[0]):"):
        src("kind = hkind[h]; o = hoff[h]")
        with src.block("for i in range(nb):"):
            for j in J:
                src(f"g_{j} = G[{j}, i]; q_{j} = Q[{j}, i]")
            src(f"gn = np.sqrt({' + '.join(f'g_{j} * g_{j}' for j in J)})")
            src(f"wn = np.sqrt({' + '.join(f'q_{j} * q_{j}' for j in J)})")
            for k, (_, n_settings) in enumerate(HOOK_KINDS):
                settings = "".join(f", hset[o + {x}]" for x in range(n_settings))
                head = "if" if k == 0 else "elif"
                with src.block(f"{head} kind == {k}:"):
                    src(f"sc, dc = HOOK{k}(gn, wn{settings})")
            src("else:")
            src("    sc, dc = 1.0, 0.0")
            for j in J:
                src(f"G[{j}, i] = (g_{j} + dc * q_{j}) * sc")


def _step_body(src, spec: KernelSpec, var, call, outs, col, consts: str, fast: bool) -> None:
    """Phase 3, per point: the rule's stages, the new position, divergence, loss, tolerance.

    ``fast``: every point of the block alive and one hyperparameter set (values read before the
    loop): new positions go to ``W2`` and diverging points are only counted (``nbad``); the loss
    (on the steps that need it) is a pass of its own. Careful: per-point values, frozen points
    kept where they are, the loss computed here on ``loss_now`` steps, as the readable path does.
    """
    m, d = spec.maths, spec.dim
    J = range(d)
    point_fields = tuple(f for f in m.fields if f in m.point_fields)
    src("p = b0 + i")
    stages = _update_stages(m)
    if not fast:
        src("c = combo[p * cstride]")
        _table_reads(src, spec, col, stages)
    used = set().union(*(set(s.args) for s in stages))
    for j in J:
        src(f"w_{j} = W[{j}, i]; g_{j} = G[{j}, i]; q_{j} = Q[{j}, i]")
    for f in m.coord_fields:
        for j in J:
            src(f"s_{f}_{j} = S_{f}[{j}, i]")
    for f in point_fields:
        src(f"s_{f} = S_{f}[i]")
    if "f" in used:
        src("f_cur = FL[i]")
    for i, s in enumerate(m.per_point):
        targets = [f"s_{o}" if o in point_fields else f"p_{o}" for o in s.outputs]
        src(f"{outs(targets)} = {call(f'POINT{i}', s, None)}")
    for k, (name, when) in enumerate(m.noise.items()):
        src(f"when = {call(f'WHEN{k}', when, None)}")
        for j in J:
            ctr = f"np.uint64({k * DRAW_STRIDE + j})"
            src(f"z_{name}_{j} = NORMAL(ut, {ctr}, klo[p], khi[p], rk0[p * rstride], rk1[p * rstride]) "
                f"if when else 0.0")
    coord_outs = m.per_coord.outputs[1:]
    for j in J:
        targets = [f"u_{j}"] + [f"s_{o}_{j}" for o in coord_outs]
        src(f"{outs(targets)} = {call('COORD', m.per_coord, j)}")
    for j in J:
        src(f"n_{j} = w_{j} + u_{j}")
    src("ok = " + " & ".join(f"(abs(n_{j}) <= bound)" for j in J))
    value_new = f"FVALUE({', '.join([f'n_{j}' for j in J] + ([consts] if consts else []))})"
    value_old = f"FVALUE({', '.join([f'w_{j}' for j in J] + ([consts] if consts else []))})"
    if fast:
        src("nbad += 0 if ok else 1")
        for j in J:
            src(f"W2[{j}, i] = n_{j}")
        src("al = ok")
    else:
        src("fn = 0.0")
        with src.block("if loss_now:"):
            src(f"fn = {value_new}")
            src("ok = ok & (abs(fn) < np.inf)")
        src("was = ALIVE[i]")
        src("DIV[i] = t if (was & (not ok)) else DIV[i]")
        src("al = was & ok")
        src("ALIVE[i] = al")
        for j in J:
            src(f"W[{j}, i] = n_{j} if al else w_{j}")
        with src.block("if loss_now:"):
            src(f"FL[i] = fn if al else {value_old}")
    for f in m.coord_fields:
        for j in J:
            src(f"S_{f}[{j}, i] = s_{f}_{j}")
    for f in point_fields:
        src(f"S_{f}[i] = s_{f}")
    if spec.tol == "distance" or (spec.tol == "gap" and not fast):  # (fast: the gap in the loss pass)
        src(f"err = {_error(src, spec, 'n', 'fn')}")
        src("STT[i] = t if ((STT[i] < 0) & al and err <= tol) else STT[i]")
    if spec.record_state:
        for j in J:
            src(f"UP[{j}, i] = u_{j}")

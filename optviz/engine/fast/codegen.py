"""Source text of one kernel: a function, a rule and the run's options, stepped in blocks of points.

The kernel is plain Python over single numbers, written out for one (function, rule, options)
with the coordinates unrolled, and compiled by numba. It calls the rule's stages and the
function's point formulas by name: the maths is theirs, not written here. What the generated
loop adds is the engine's bookkeeping, the same as the readable loop's (:mod:`optviz.engine.reference`):
the gradient where the rule asks for it (look-ahead, delayed, noisy), divergence and freezing,
the loss on the steps that need it, recording, steps to tolerance. The parts that depend on
neither the rule nor the function (hooks, per-step values, recording) are shared, compiled once
(:mod:`optviz.engine.fast.blocks`).

Structure (temporally blocked): each block of ``B`` points keeps its positions and state in
small arrays (L1-resident) for all its steps; the step loop is outside, the point loops inside
and free of calls after inlining, so LLVM vectorizes them across points. A step:

1. the step's pass over the block. In the common case (every point shares the per-step values,
   no hooks) one fused loop: the step's values are read once as numbers, and each point's
   gradient (where the rule takes it: look-ahead, delayed; with its noise) goes straight into
   its update (``point_step``, generated, inlined). Otherwise (a sweep, or hooks) in passes:
   the gradients into ``G``, the hooks on them (shared), each point's per-step values into
   ``K``, then the updates. Either way the new positions go into the second buffer ``W2``,
   divergence only counted;
2. on steps that need the loss: the loss pass;
3. if a point diverged now or before: the freeze pass (frozen points keep their position).
"""

from __future__ import annotations

from dataclasses import dataclass

from optviz.engine.fast import signature
from optviz.engine.noise import DRAW_STRIDE
from optviz.optimizers.base import Maths, Stage


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
    n_mins: int  # the function's minimizers, for the distance (unrolled: a loop would stop LLVM
    #              vectorizing the point loop around it); 0 unless ``tol == "distance"``
    record_state: bool

    @property
    def step_outputs(self) -> tuple[str, ...]:
        return tuple(o for s in self.maths.per_step for o in s.outputs)

    @property
    def columns(self) -> tuple[str, ...]:
        """The per-step table's columns: hyperparameters, then per-step values."""
        return self.hp_names + self.step_outputs

    def used_columns(self, stages: list[Stage]) -> list[str]:
        used = set().union(*(set(s.args) for s in stages)) if stages else set()
        return [c for c in self.columns if c in used]

    @property
    def update_columns(self) -> list[str]:
        """Table columns the update loop reads (gathered into ``K`` each step)."""
        return self.used_columns(update_stages(self.maths))

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


def update_stages(m: Maths) -> list[Stage]:
    return [m.per_coord, *m.per_point, *m.noise.values()]


class Source:
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
    return names


class Names:
    """The generated variable of each quantity a stage can ask for."""

    def __init__(self, spec: KernelSpec):
        m = spec.maths
        self.m = m
        self.coord_fields = m.coord_fields
        self.point_fields = tuple(f for f in m.fields if f in m.point_fields)
        self.point_outputs = [o for s in m.per_point for o in s.outputs]
        self.columns = set(spec.columns)

    def var(self, name: str, j: int | None) -> str:
        if name in self.coord_fields:
            return f"s_{name}_{j}"
        if name in self.point_fields:
            return f"s_{name}"
        if name in self.m.noise:
            return f"z_{name}_{j}"
        if name in self.point_outputs:
            return f"p_{name}"
        if name in self.columns:
            return f"k_{name}"
        fixed = {"t": "tf", "T": "TT", "fstar": "fstar", "tiny": "tiny", "f": "f_cur", "delay": "delay_f",
                 "g": f"g_{j}", "w": f"w_{j}", "w_grad": f"q_{j}"}
        return fixed[name]

    def call(self, fn_name: str, stage: Stage, j: int | None) -> str:
        return f"{fn_name}({', '.join(self.var(a, j) for a in stage.args)})"


def point_step_signature(spec: KernelSpec) -> tuple[list[str], list[str]]:
    """Parameters and results of the generated ``point_step``: one point's rule step."""
    m, d = spec.maths, spec.dim
    point_fields = [f for f in m.fields if f in m.point_fields]
    used = set().union(*(set(st.args) for st in update_stages(m)))
    params = [f"{x}_{j}" for x in ("w", "g", "q") for j in range(d)]
    params += [f"s_{f}_{j}" for f in m.coord_fields for j in range(d)] + [f"s_{f}" for f in point_fields]
    params += [f"k_{name}" for name in spec.update_columns]
    params += ["tf", "TT", "fstar", "tiny", "delay_f"] + (["f_cur"] if "f" in used else [])
    if m.noise:
        params += ["ut", "klo_p", "khi_p", "rk0_p", "rk1_p"]
    returns = [f"u_{j}" for j in range(d)] + [f"s_{f}_{j}" for f in m.coord_fields for j in range(d)]
    returns += [f"s_{f}" for f in point_fields]
    return params, returns


def write_point_step(src: Source, spec: KernelSpec, names: Names) -> None:
    """``point_step``: the rule's per-point stages, its draws and its per-coordinate step for one
    point (inlined by LLVM into the update loop)."""
    m, d = spec.maths, spec.dim
    params, returns = point_step_signature(spec)
    with src.block(f"def point_step({', '.join(params)}):"):
        for i, st in enumerate(m.per_point):
            targets = [f"s_{o}" if o in names.point_fields else f"p_{o}" for o in st.outputs]
            src(f"{', '.join(targets)} = {names.call(f'POINT{i}', st, None)}")
        for k, (name, when) in enumerate(m.noise.items()):
            src(f"when = {names.call(f'WHEN{k}', when, None)}")
            src(f"{', '.join(f'z_{name}_{j}' for j in range(2 * ((d + 1) // 2)))} = "
                + ", ".join(["0.0"] * (2 * ((d + 1) // 2))))
            with src.block("if when:"):
                for b in range((d + 1) // 2):
                    ctr = f"np.uint64({k * DRAW_STRIDE + b})"
                    pair = f"z_{name}_{2 * b}, z_{name}_{2 * b + 1}"
                    src(f"{pair} = NORMAL2(ut, {ctr}, klo_p, khi_p, rk0_p, rk1_p)")
        for j in range(d):
            targets = [f"u_{j}"] + [f"s_{o}_{j}" for o in m.per_coord.outputs[1:]]
            src(f"{', '.join(targets)} = {names.call('COORD', m.per_coord, j)}")
        src(f"return {', '.join(returns)}")
    src("")
    src("")


def source(spec: KernelSpec) -> str:
    """The kernel's Python source (module level), for ``spec``."""
    d = spec.dim
    J = range(d)
    hp_index = {name: k for k, name in enumerate(spec.hp_names)}
    names = Names(spec)
    coord_fields, point_fields = names.coord_fields, names.point_fields
    consts = ", ".join(f"fc[{k}]" for k in range(spec.n_consts))

    def value(prefix: str) -> str:
        """FVALUE at coordinates ``prefix0, prefix1, ...`` (e.g. ``w_`` or ``W2[{j}, i]``)."""
        coords = [prefix.format(j=j) if "{j}" in prefix else f"{prefix}{j}" for j in J]
        return f"FVALUE({', '.join(coords + ([consts] if consts else []))})"

    src = Source()
    src("import numpy as np")
    src("")
    src("")
    write_point_step(src, spec, names)
    with src.block(f"def kernel({signature.params(signature.CPU)}):"):
        src(signature.unpack_prm())
        src("nrec = rec.shape[0]; steps = rec[nrec - 1]; delay = np.int64(delay_f)")
        src(f"W = np.empty(({d}, B)); W2 = np.empty(({d}, B))")
        src(f"G = np.empty(({d}, B)); Q = np.empty(({d}, B))")
        src("K = np.empty((max(1, kcols.shape[0]), B)); KG = np.empty((max(1, gcols.shape[0]), B))")
        for f in coord_fields:
            src(f"S_{f} = np.empty(({d}, B))")
        for f in point_fields:
            src(f"S_{f} = np.empty(B)")
        src("FL = np.empty(B); FN = np.empty(B); OK = np.empty(B, np.bool_)")
        src("ALIVE = np.empty(B, np.bool_); DIV = np.empty(B, np.int64); STT = np.empty(B, np.int64)")
        if spec.record_state:
            src(f"GR = np.empty(({d}, B)); UP = np.empty(({d}, B))")
        if spec.delay:
            src(f"RING = np.empty((delay + 1, {d}, B))")
        src("uniform = cstride == 0 and hkind.shape[0] == 0  # one set of per-step values, no hooks")
        src("c0 = combo[0]")
        with src.block("for b0 in range(lo, hi, B):"):
            src("nb = min(B, hi - b0)")
            _starts(src, spec, names, hp_index, value)
            src("r = 1")
            src("clean = True  # every point of the block alive")
            with src.block("for t in range(1, steps + 1):"):
                src("tf = np.float64(t); ut = np.uint64(t)")
                src("rec_now = r < nrec and rec[r] == t")
                src("loss_now = True" if spec.loss_every_step else "loss_now = rec_now")
                if spec.delay:
                    src("slot = (t - 1) % (delay + 1)")
                    src("old = (max(1, t - delay) - 1) % (delay + 1)")
                src("nbad = 0")
                with src.block("if uniform:"):
                    _fused_pass(src, spec, names, consts)
                with src.block("else:"):
                    _split_passes(src, spec, names, consts)
                with src.block("if loss_now:"):
                    with src.block("for i in range(nb):"):
                        src(f"fn = {value('W2[{j}, i]')}")
                        src("FN[i] = fn")
                        with src.block("if not (abs(fn) < np.inf):"):
                            src("OK[i] = False; nbad += 1")
                        if spec.tol == "gap":
                            src("STT[i] = t if (STT[i] < 0 and OK[i] and fn - fstar <= tol) else STT[i]")
                with src.block("if clean and nbad == 0:"):
                    with src.block("if loss_now:"):
                        src("FL, FN = FN, FL")
                with src.block("else:"):
                    _freeze_pass(src, spec, value)
                src("W, W2 = W2, W")
                with src.block("if rec_now:"):
                    src("RECORD(o_traj, o_loss, W, FL, r, b0, nb)")
                    if spec.record_state:
                        with src.block("for i in range(nb):"):
                            src("p = b0 + i")
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


def _starts(src: Source, spec: KernelSpec, names: Names, hp_index: dict[str, int], value) -> None:
    """The block's starting positions, initial state, loss and (step 0) records."""
    m, J = spec.maths, range(spec.dim)
    with src.block("for i in range(nb):"):
        src("p = b0 + i")
        src("c = combo[p * cstride]")
        for j in J:
            src(f"w_{j} = W0[p, {j}]; W[{j}, i] = w_{j}")
        for f in m.fields:
            init = m.init.get(f, 0.0)
            if isinstance(init, Stage):
                a = ", ".join(f"hp0[c, {hp_index[x]}]" for x in init.args)
                v = f"INIT_{f}({a})"
            elif isinstance(init, str):
                v = None  # a copy of the start
            else:
                v = repr(float(init))
            if f in names.point_fields:
                src(f"S_{f}[i] = {v}")
            else:
                for j in J:
                    src(f"S_{f}[{j}, i] = {v if v is not None else f'w_{j}'}")
        src(f"f0 = {value('w_')}")
        src("FL[i] = f0; ALIVE[i] = True; DIV[i] = -1")
        if spec.tol:
            src(f"err = {write_error(src, spec, 'w', 'f0')}")
            src("STT[i] = 0 if err <= tol else -1")
        for j in J:
            src(f"o_traj[0, p, {j}] = w_{j}")
        src("o_loss[0, p] = f0")
        if spec.record_state:
            _store_state(src, spec, "0")


def _fused_pass(src: Source, spec: KernelSpec, names: Names, consts: str) -> None:
    """A step in one pass over the block, when every point shares the per-step values (no sweep)
    and no hook couples the gradient's coordinates: those values are read once, as numbers, and
    each point's gradient goes straight into its update (no G, Q or K arrays in between)."""
    m = spec.maths
    grad_at = [m.grad_at] if m.grad_at is not None else []
    column = {name: k for k, name in enumerate(spec.columns)}
    for name in dict.fromkeys(spec.used_columns(grad_at) + spec.update_columns):
        src(f"k_{name} = tab[c0, t - 1, {column[name]}]")
    with src.block("for i in range(nb):"):
        for j in range(spec.dim):
            src(f"w_{j} = W[{j}, i]")
        _gradient_pass(src, spec, names, consts, fused=True)
        if spec.record_state:
            with src.block("if rec_now:"):
                for j in range(spec.dim):
                    src(f"GR[{j}, i] = g_{j}")
        _update_body(src, spec, names, fused=True)
    # each point's bound test for the passes after, only when one is needed: a point out of
    # bounds (the same test again, rare), or the loss pass ahead (all in bounds then)
    with src.block("if nbad > 0:"):
        with src.block("for i in range(nb):"):
            src("OK[i] = " + " & ".join(f"(abs(W2[{j}, i]) <= bound)" for j in range(spec.dim)))
    with src.block("elif loss_now:"):
        with src.block("for i in range(nb):"):
            src("OK[i] = True")


def _split_passes(src: Source, spec: KernelSpec, names: Names, consts: str) -> None:
    """A step in passes over the block: the gradients (``G``, at ``Q``), the hooks on them, the
    per-step values of each point (``K``, a sweep's own), the updates."""
    J = range(spec.dim)
    if spec.maths.grad_at is not None:
        src("GATHER(KG, tab, combo, cstride, gcols, b0, nb, t)")
    with src.block("for i in range(nb):"):
        _gradient_pass(src, spec, names, consts)
    with src.block("if hkind.shape[0] > 0:"):
        src("APPLY_HOOKS(G, Q, nb, hkind, hoff, hset)")
    if spec.record_state:
        with src.block("if rec_now:"):
            with src.block("for i in range(nb):"):
                for j in J:
                    src(f"GR[{j}, i] = G[{j}, i]")
    src("GATHER(K, tab, combo, cstride, kcols, b0, nb, t)")
    with src.block("for i in range(nb):"):
        _update_body(src, spec, names)


def _gradient_pass(src: Source, spec: KernelSpec, names: Names, consts: str, fused: bool = False) -> None:
    """Per point: where the gradient is taken (look-ahead, delay), the gradient, its noise; into
    ``G`` and ``Q`` (or, ``fused``, the point's own ``g_j`` and ``q_j``, from ``w_j`` loaded)."""
    m, J = spec.maths, range(spec.dim)
    src("p = b0 + i")
    if m.grad_at is not None:
        if not fused:
            for k, name in enumerate(spec.used_columns([m.grad_at])):
                src(f"k_{name} = KG[{k}, i]")
            for j in J:
                src(f"w_{j} = W[{j}, i]")
        for f in sorted(set(m.grad_at.args) & set(m.coord_fields)):
            for j in J:
                src(f"s_{f}_{j} = S_{f}[{j}, i]")
        for j in J:
            src(f"q_{j} = {names.call('GRAD_AT', m.grad_at, j)}")
    else:
        for j in J:
            src(f"q_{j} = w_{j}" if fused else f"q_{j} = W[{j}, i]")
    if spec.delay:
        for j in J:
            src(f"RING[slot, {j}, i] = q_{j}")
        for j in J:
            src(f"q_{j} = RING[old, {j}, i]")
    qs = ", ".join([f"q_{j}" for j in J] + ([consts] if consts else []))
    src(f"gg = FGRAD({qs})")
    if spec.noise:
        for b in range((spec.dim + 1) // 2):
            src(f"e_{2 * b}, e_{2 * b + 1} = NORMAL2(ut, np.uint64({b}), klo[p], khi[p], gk0[p * gstride], "
                "gk1[p * gstride])")
    for j in J:
        g = f"gg[{j}]"
        if spec.noise:
            scale = "sigma" if spec.noise == "absolute" else f"sigma * abs({g})"
            g = f"{g} + {scale} * e_{j}"
        if fused:
            src(f"g_{j} = {g}")
        else:
            src(f"G[{j}, i] = {g}")
            src(f"Q[{j}, i] = q_{j}")


def _update_body(src: Source, spec: KernelSpec, names: Names, fused: bool = False) -> None:
    """Per point: the rule's step, the new position into ``W2``, the coordinates' bound test
    (``fused``: the point's position, gradient and per-step values are already at hand)."""
    m, J = spec.maths, range(spec.dim)
    if not fused:
        src("p = b0 + i")
        for k, name in enumerate(spec.update_columns):
            src(f"k_{name} = K[{k}, i]")
        for j in J:
            src(f"w_{j} = W[{j}, i]; g_{j} = G[{j}, i]; q_{j} = Q[{j}, i]")
    for f in m.coord_fields:
        for j in J:
            src(f"s_{f}_{j} = S_{f}[{j}, i]")
    for f in names.point_fields:
        src(f"s_{f} = S_{f}[i]")
    used = set().union(*(set(st.args) for st in update_stages(m)))
    if "f" in used:
        src("f_cur = FL[i]")
    params, returns = point_step_signature(spec)
    args = [{"klo_p": "klo[p]", "khi_p": "khi[p]", "rk0_p": "rk0[p * rstride]",
             "rk1_p": "rk1[p * rstride]"}.get(a, a) for a in params]
    src(f"{', '.join(returns)} = STEP({', '.join(args)})")
    for j in J:
        src(f"n_{j} = w_{j} + u_{j}")
        src(f"W2[{j}, i] = n_{j}")
    src("ok = " + " & ".join(f"(abs(n_{j}) <= bound)" for j in J))
    if not fused:  # (the fused pass only counts: a byte stored per point costs it ~15 %)
        src("OK[i] = ok")
    src("nbad += 0 if ok else 1")
    for f in m.coord_fields:
        for j in J:
            src(f"S_{f}[{j}, i] = s_{f}_{j}")
    for f in names.point_fields:
        src(f"S_{f}[i] = s_{f}")
    if spec.tol == "distance":
        src(f"err = {write_error(src, spec, 'n', '')}")
        src("STT[i] = t if (STT[i] < 0 and ok and err <= tol) else STT[i]")
    if spec.record_state:
        for j in J:
            src(f"UP[{j}, i] = u_{j}")


def _freeze_pass(src: Source, spec: KernelSpec, value) -> None:
    """Some point diverged, now or before: frozen points keep their position (and loss), newly
    diverged ones are frozen where they were, as the readable path does."""
    J = range(spec.dim)
    with src.block("for i in range(nb):"):
        with src.block("if ALIVE[i] and OK[i]:"):
            with src.block("if loss_now:"):
                src("FL[i] = FN[i]")
        with src.block("else:"):
            for j in J:
                src(f"W2[{j}, i] = W[{j}, i]")
            with src.block("if ALIVE[i]:"):
                src("DIV[i] = t; ALIVE[i] = False")
            with src.block("if loss_now:"):  # f where the point stays (frozen now or before)
                src(f"FL[i] = {value('W[{j}, i]')}")
    src("clean = False")


def write_error(src: Source, spec: KernelSpec, w: str, f: str, sqrt: str = "np.sqrt") -> str:
    """The tracked error at position ``w_j`` (or loss ``f``): f − f*, or the distance to the nearest
    minimizer (the lines computing it are written first, as the readable path: min of the roots)."""
    if spec.tol == "gap":
        return f"({f} - fstar)"
    src("best = np.inf")
    for km in range(spec.n_mins):
        src("dd = " + " + ".join(f"({w}_{j} - mins[{km}, {j}]) * ({w}_{j} - mins[{km}, {j}])"
                                 for j in range(spec.dim)))
        src("best = dd if dd < best else best")
    return f"{sqrt}(best)"


def _store_state(src: Source, spec: KernelSpec, row: str) -> None:
    for k, (f, j) in enumerate(spec.state_rows()):
        if f in ("grad", "update"):
            if row == "0":
                continue  # NaN before any step (o_state is NaN-filled)
            src(f"o_state[{row}, {k}, p] = {'GR' if f == 'grad' else 'UP'}[{j}, i]")
        elif j is None:
            src(f"o_state[{row}, {k}, p] = S_{f}[i]")
        else:
            src(f"o_state[{row}, {k}, p] = S_{f}[{j}, i]")

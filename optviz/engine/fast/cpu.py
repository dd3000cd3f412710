"""Source text of one CPU kernel: a function, a rule and the run's options, stepped in blocks of points.

The kernel is plain Python over single numbers, written out for one (function, rule, options)
with the coordinates unrolled, and compiled by numba. It calls the rule's stages and the
function's point formulas by name (the rule's ``point_step``, :mod:`optviz.engine.fast.codegen`),
and the engine's bookkeeping around them is the step described once in
:mod:`optviz.engine.fast.bookkeeping` (the CUDA kernel, :mod:`optviz.engine.fast.gpu`, emits the same
pieces). The parts that depend on neither the rule nor the function (hooks, per-step values,
recording) are shared, compiled once (:mod:`optviz.engine.fast.blocks`).

Structure (temporally blocked): each block of ``B`` points keeps its positions and state in
small arrays (L1-resident, :data:`optviz.engine.fast.bookkeeping.BLOCK`) for all its steps; the step loop
is outside, the point loops inside and free of calls after inlining, so LLVM vectorizes them
across points. A step:

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

from optviz.engine.fast import bookkeeping, signature
from optviz.engine.fast.bookkeeping import BLOCK as L
from optviz.engine.fast.codegen import KernelSpec, Names, Source, write_point_step


def source(spec: KernelSpec) -> str:
    """The kernel's Python source (module level), for ``spec``."""
    d = spec.dim
    names = Names(spec)
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
        for f in names.coord_fields:
            src(f"S_{f} = np.empty(({d}, B))")
        for f in names.point_fields:
            src(f"S_{f} = np.empty(B)")
        src("FL = np.empty(B); FN = np.empty(B); OK = np.empty(B, np.bool_)")
        src("ALIVE = np.empty(B, np.bool_); DIV = np.empty(B, np.int64); STT = np.empty(B, np.int64)")
        src("FIRST = np.empty(B, np.int64)")
        if spec.record_state:
            src(f"GR = np.empty(({d}, B)); UP = np.empty(({d}, B))")
        if spec.delay:
            src(f"RING = np.empty((delay + 1, {d}, B))")
        src("uniform = cstride == 0 and hkind.shape[0] == 0  # one set of per-step values, no hooks")
        src("c0 = combo[0]")
        with src.block("for b0 in range(lo, hi, B):"):
            src("nb = min(B, hi - b0)")
            with src.block("for i in range(nb):"):
                src("p = b0 + i")
                bookkeeping.start(src, spec, names, L)
            src("r = 1")
            src("clean = True  # every point of the block alive")
            with src.block("for t in range(1, steps + 1):"):
                bookkeeping.header(src, spec)
                src("nbad = 0")
                with src.block("if uniform:"):
                    _fused_pass(src, spec, names)
                with src.block("else:"):
                    _split_passes(src, spec, names)
                with src.block("if loss_now:"):
                    with src.block("for i in range(nb):"):
                        bookkeeping.new_loss(src, spec, L)
                with src.block("if clean and nbad == 0:"):
                    with src.block("if loss_now:"):
                        src("FL, FN = FN, FL")
                with src.block("else:"):
                    with src.block("for i in range(nb):"):
                        bookkeeping.freeze(src, spec, L)
                    src("clean = False")
                src("W, W2 = W2, W")
                with src.block("if rec_now:"):
                    src("RECORD(o_traj, o_loss, W, FL, r, b0, nb)")
                    if spec.record_state:
                        with src.block("for i in range(nb):"):
                            src("p = b0 + i")
                            bookkeeping.store_state(src, spec, names, L, "r")
                    src("r += 1")
                src("meter[0] += nb")
                with src.block("if flag[0] != 0:"):
                    src("return")
            with src.block("for i in range(nb):"):
                bookkeeping.finish(src, spec, L)
    return src.text()


def _fused_pass(src: Source, spec: KernelSpec, names: Names) -> None:
    """A step in one pass over the block, when every point shares the per-step values (no sweep)
    and no hook couples the gradient's coordinates: those values are read once, as numbers, and
    each point's gradient goes straight into its update (no G, Q or K arrays in between)."""
    J = range(spec.dim)
    bookkeeping.read_columns(src, spec, "c0")
    with src.block("for i in range(nb):"):
        for j in J:
            src(f"w_{j} = W[{j}, i]")
        src("p = b0 + i")
        bookkeeping.gradient(src, spec, names, L, loaded=True, into=("g_{j} = {g}",))
        if spec.record_state:
            with src.block("if rec_now:"):
                for j in J:
                    src(f"GR[{j}, i] = g_{j}")
        bookkeeping.rule_step(src, spec, names, L)
        src("nbad += 0 if ok else 1")  # (only counted: a byte stored per point costs this pass ~15 %)
        bookkeeping.after_step(src, spec, names, L)
    # each point's bound test for the passes after, only when one is needed: a point out of
    # bounds (the same test again, rare), or the loss pass ahead (all in bounds then)
    with src.block("if nbad > 0:"):
        with src.block("for i in range(nb):"):
            src("OK[i] = " + " & ".join(f"(abs(W2[{j}, i]) <= bound)" for j in J))
    with src.block("elif loss_now:"):
        with src.block("for i in range(nb):"):
            src("OK[i] = True")


def _split_passes(src: Source, spec: KernelSpec, names: Names) -> None:
    """A step in passes over the block: the gradients (``G``, at ``Q``), the hooks on them, the
    per-step values of each point (``K``, a sweep's own), the updates."""
    m, J = spec.maths, range(spec.dim)
    if m.grad_at is not None:
        src("GATHER(KG, tab, combo, cstride, gcols, b0, nb, t)")
    with src.block("for i in range(nb):"):
        src("p = b0 + i")
        if m.grad_at is not None:
            for k, name in enumerate(spec.used_columns([m.grad_at])):
                src(f"k_{name} = KG[{k}, i]")
            for j in J:
                src(f"w_{j} = W[{j}, i]")
        bookkeeping.gradient(src, spec, names, L, loaded=m.grad_at is not None,
                      into=("G[{j}, i] = {g}", "Q[{j}, i] = q_{j}"))
    with src.block("if hkind.shape[0] > 0:"):
        src("APPLY_HOOKS(G, Q, nb, hkind, hoff, hset)")
    if spec.record_state:
        with src.block("if rec_now:"):
            with src.block("for i in range(nb):"):
                for j in J:
                    src(f"GR[{j}, i] = G[{j}, i]")
    src("GATHER(K, tab, combo, cstride, kcols, b0, nb, t)")
    with src.block("for i in range(nb):"):
        src("p = b0 + i")
        for k, name in enumerate(spec.update_columns):
            src(f"k_{name} = K[{k}, i]")
        for j in J:
            src(f"w_{j} = W[{j}, i]; g_{j} = G[{j}, i]; q_{j} = Q[{j}, i]")
        bookkeeping.rule_step(src, spec, names, L)
        src("OK[i] = ok")
        src("nbad += 0 if ok else 1")
        bookkeeping.after_step(src, spec, names, L)

"""Source text of the wide CPU kernel: many coordinates (a learning problem's parameters), a point at a time.

The block kernel (:mod:`optviz.engine.fast.cpu`) unrolls every coordinate and keeps a block of points
in registers, which pays for the few coordinates of a test function; a learning problem has tens of
parameters and a gradient that loops over its data. Here each point's position, gradient and
coordinate state live in small arrays, the rule's per-coordinate stage runs in a loop over the
coordinates, and the function is called on the whole point:

- ``VALUE(x, data, idx, c) -> f`` and ``VGRAD(x, data, idx, c, out)``, the mean loss and gradient
  over the rows ``idx`` of ``data``: a problem's own scalar-loop twins (its ``data_form``), or, for a
  test function with point formulas, two lines generated here that call them with the coordinates;
- the minibatch rows of each step come from a table built on the host
  (:func:`optviz.engine.fast.runner.batch_table`, from the problem's ``batch_indices``): ``bidx[row,
  t - 1]``, the row of the point's seed; the loss that is recorded, tested for divergence and read by
  rules is always the full training loss (``bfull``: every row).

The step is the one :mod:`optviz.engine.fast.bookkeeping` describes for the CUDA kernel's thread
(start, look-ahead and delay, noise, hooks, the rule, the bound, the loss, tolerance, freezing,
records), written with a loop over coordinates; ``tests/test_fast_nd.py`` holds it equal to the
readable path. The rule's stages are called by the same generated names (``COORD``, ``POINT{i}``,
``WHEN{k}``, ``GRAD_AT``, ``INIT_{f}``; :func:`optviz.engine.fast.codegen.stage_globals`).
"""

from __future__ import annotations

from optviz.engine.fast import signature
from optviz.engine.fast.codegen import KernelSpec, Names, Source, write_sums
from optviz.engine.noise import DRAW_STRIDE
from optviz.optimizers.base import Stage


class WideNames(Names):
    """Each quantity a stage can ask for, in the wide kernel: coordinate ``j`` of arrays (``j`` is
    the loop's variable), per-point values as numbers."""

    FIELD, NOISE, VECTOR, LOSS = "S_{name}[j]", "Z_{name}[j]", "{name}[j]", "fl"


def adapters(src: Source, spec: KernelSpec) -> None:
    """``VALUE`` and ``VGRAD`` on a whole point: for a test function, calls of its point formulas
    (``FVALUE``/``FGRAD``) with the coordinates; for a problem, its ``data_form`` (``DVALUE``/
    ``DGRAD``), with its constants when it has some."""
    d = spec.dim
    if spec.data:
        extra = ", c" if spec.n_consts else ""
        with src.block("def VALUE(x, data, idx, c):"):
            src(f"return DVALUE(x, data, idx{extra})")
        src("")
        with src.block("def VGRAD(x, data, idx, c, out):"):
            src(f"DGRAD(x, data, idx{extra}, out)")
        src("")
        return
    args = ", ".join([f"x[{j}]" for j in range(d)] + [f"c[{k}]" for k in range(spec.n_consts)])
    with src.block("def VALUE(x, data, idx, c):"):
        src(f"return FVALUE({args})")
    src("")
    with src.block("def VGRAD(x, data, idx, c, out):"):
        src(f"gg = FGRAD({args})")
        for j in range(d):
            src(f"out[{j}] = gg[{j}]")
    src("")


def source(spec: KernelSpec) -> str:
    """The wide kernel's Python source (module level), for ``spec``."""
    m = spec.maths
    names = WideNames(spec)
    src = Source()
    src("import numpy as np")
    src("")
    src("")
    adapters(src, spec)
    pairs = (spec.dim + 1) // 2
    with src.block(f"def kernel({signature.params(signature.WIDE)}):"):
        src(signature.unpack_prm())
        src("nrec = rec.shape[0]; steps = rec[nrec - 1]; delay = np.int64(delay_f)")
        src("d = W0.shape[1]")
        src("w = np.empty(d); q = np.empty(d); g = np.empty(d); u = np.empty(d); wn = np.empty(d)")
        src(f"E = np.zeros({2 * pairs})")
        for f in names.coord_fields:
            src(f"S_{f} = np.empty(d)")
        for name in m.noise:
            src(f"Z_{name} = np.zeros({2 * pairs})")
        if spec.delay:
            src("RING = np.empty((delay + 1, d))")
        src("G2 = g.reshape((d, 1)); Q2 = q.reshape((d, 1))  # (the shared hooks take blocks of points)")
        with src.block("for p in range(lo, hi):"):
            _start(src, spec, names)
            src("r = 1")
            with src.block("for t in range(1, steps + 1):"):
                _step(src, spec, names, pairs)
                src("meter[0] += 1")
                with src.block("if flag[0] != 0:"):
                    src("return")
            src("o_div[p] = div")
            if spec.tol:
                src("o_stt[p] = stt if div < 0 else -1")
                src("o_first[p] = first if div < 0 else -1")
    return src.text()


def _error(src: Source, spec: KernelSpec, x: str, f: str) -> str:
    """The tracked error at position ``x`` (an array) or loss ``f`` (as codegen.write_error)."""
    if spec.tol == "gap":
        return f"({f} - fstar)"
    src("best = np.inf")
    with src.block("for km in range(mins.shape[0]):"):
        src("dd = 0.0")
        with src.block("for j in range(d):"):
            src(f"dd += ({x}[j] - mins[km, j]) * ({x}[j] - mins[km, j])")
        src("best = dd if dd < best else best")
    return "np.sqrt(best)"


def _tolerance(src: Source, test: str) -> None:
    src(f"within = {test}")
    src("first = t if (first < 0 and within) else first")
    src("stt = (stt if stt >= 0 else t) if within else -1")


def _start(src: Source, spec: KernelSpec, names: WideNames) -> None:
    m = spec.maths
    hp_index = {name: k for k, name in enumerate(spec.hp_names)}
    src("c = combo[p * cstride]")
    with src.block("for j in range(d):"):
        src("w[j] = W0[p, j]")
    for f in m.fields:
        init = m.init.get(f, 0.0)
        if isinstance(init, Stage):
            value = f"INIT_{f}({', '.join(f'hp0[c, {hp_index[x]}]' for x in init.args)})"
        elif isinstance(init, str):  # a copy of the start
            value = "w[j]"
        else:
            value = repr(float(init))
        if f in names.point_fields:
            src(f"s_{f} = {value}")
        else:
            with src.block("for j in range(d):"):
                src(f"S_{f}[j] = {value}")
    src("fl = VALUE(w, data, bfull, fc)")
    src("alive = True; div = -1")
    if spec.tol:
        src(f"err = {_error(src, spec, 'w', 'fl')}")
        src("stt = 0 if err <= tol else -1; first = stt")
    with src.block("for j in range(d):"):
        src("o_traj[0, p, j] = w[j]")
    src("o_loss[0, p] = fl")


def _step(src: Source, spec: KernelSpec, names: WideNames, pairs: int) -> None:
    m = spec.maths
    src("tf = np.float64(t); ut = np.uint64(t)")
    src("rec_now = r < nrec and rec[r] == t")
    src("loss_now = True" if spec.loss_every_step else "loss_now = rec_now")
    column = {name: k for k, name in enumerate(spec.columns)}
    grad_at = [m.grad_at] if m.grad_at is not None else []
    for name in dict.fromkeys(spec.used_columns(grad_at) + spec.update_columns):
        src(f"k_{name} = tab[c, t - 1, {column[name]}]")
    # where the gradient is taken: the look-ahead, else the position; delayed through the ring
    with src.block("for j in range(d):"):
        src(f"q[j] = {names.call('GRAD_AT', m.grad_at, 0) if m.grad_at is not None else 'w[j]'}")
    if spec.delay:
        src("slot = (t - 1) % (delay + 1)")
        src("old = (max(1, t - delay) - 1) % (delay + 1)")
        with src.block("for j in range(d):"):
            src("RING[slot, j] = q[j]")
        with src.block("for j in range(d):"):
            src("q[j] = RING[old, j]")
    src("idx = bfull if bstride < 0 else bidx[brow[p * bstride], t - 1]")
    src("VGRAD(q, data, idx, fc, g)")
    if spec.noise:
        with src.block(f"for b in range({pairs}):"):
            src("E[2 * b], E[2 * b + 1] = NORMAL2(ut, np.uint64(b), klo[p], khi[p], gk0[p * gstride], "
                "gk1[p * gstride])")
        with src.block("for j in range(d):"):
            scale = "sigma" if spec.noise == "absolute" else "sigma * abs(g[j])"
            src(f"g[j] = g[j] + {scale} * E[j]")
    with src.block("if hkind.shape[0] > 0:"):
        src("APPLY_HOOKS(G2, Q2, 1, hkind, hoff, hset)")
    # the rule: its per-point stages, its draws, its per-coordinate step
    for i, st in enumerate(m.per_point):
        targets = [f"s_{o}" if o in names.point_fields else f"p_{o}" for o in st.outputs]
        src(f"{', '.join(targets)} = {names.call(f'POINT{i}', st, None)}")
    for k, (name, when) in enumerate(m.noise.items()):
        src(f"when = {names.call(f'WHEN{k}', when, None)}")
        with src.block(f"for b in range({pairs}):"):
            with src.block("if when:"):
                src(f"Z_{name}[2 * b], Z_{name}[2 * b + 1] = NORMAL2(ut, np.uint64({k * DRAW_STRIDE} + b), "
                    "klo[p], khi[p], rk0[p * rstride], rk1[p * rstride])")
            with src.block("else:"):
                src(f"Z_{name}[2 * b] = 0.0; Z_{name}[2 * b + 1] = 0.0")
    write_sums(src, m, names, None)
    src("ok = True")
    outs = m.per_coord.outputs
    with src.block("for j in range(d):"):
        targets = ["uj"] + [f"n_{o}" for o in outs[1:]]
        src(f"{', '.join(targets)} = {names.call('COORD', m.per_coord, 0)}")
        for o in outs[1:]:
            src(f"S_{o}[j] = n_{o}")
        src("u[j] = uj; wn[j] = w[j] + uj")
        src("ok = ok & (abs(wn[j]) <= bound)")
    if spec.tol == "distance":
        src(f"err = {_error(src, spec, 'wn', '')}")
        _tolerance(src, "ok and err <= tol")
    src("fn = fl")
    with src.block("if loss_now:"):
        src("fn = VALUE(wn, data, bfull, fc)")
        with src.block("if not (abs(fn) < np.inf):"):
            src("ok = False")
        if spec.tol == "gap":
            _tolerance(src, "ok and fn - fstar <= tol")
    with src.block("if alive and ok:"):
        with src.block("if loss_now:"):
            src("fl = fn")
        with src.block("for j in range(d):"):
            src("w[j] = wn[j]")
    with src.block("else:"):
        with src.block("if alive:"):
            src("div = t; alive = False")
        with src.block("if loss_now:"):
            src("fl = VALUE(w, data, bfull, fc)")
    with src.block("if rec_now:"):
        with src.block("for j in range(d):"):
            src("o_traj[r, p, j] = w[j]")
        src("o_loss[r, p] = fl")
        src("r += 1")

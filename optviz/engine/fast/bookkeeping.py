"""One point's step, described once: the engine's bookkeeping around the rule, for both kernels.

The rule's maths is its own (the generated ``point_step``, :mod:`optviz.engine.fast.codegen`); what a
step adds around it is written here, once, as source lines about one point: its start (position,
state, loss, row 0), where its gradient is taken (look-ahead, delayed through a ring of past
positions), the gradient's noise, the rule's step and the new position's bound test, the loss at
the new position and its finiteness, the steps to tolerance (distance or gap), divergence and
freezing, and the recorded state. Both generators emit these pieces:

- the CPU kernel (:mod:`optviz.engine.fast.cpu`) steps a block of points at a time and arranges
  the pieces into passes over the block (so LLVM vectorizes across points); its points live in
  small arrays indexed by ``i`` (:data:`BLOCK`);
- the CUDA kernel (:mod:`optviz.engine.fast.gpu`) steps one point per thread, the pieces in
  order; its point lives in registers (:data:`THREAD`).

A :class:`Layout` says where each of a point's quantities lives in one kernel; an assignment whose
target and value are the same variable (a thread's own registers) is not written. The readable
loop (:mod:`optviz.engine.reference`) does the same bookkeeping on whole arrays, written to be read;
the tests hold the three equal (``tests/test_fast.py``, ``tests/test_gpu.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from optviz.engine.fast.codegen import KernelSpec, Names, Source, point_step_signature, write_error
from optviz.optimizers.base import Stage


@dataclass(frozen=True)
class Layout:
    """Where one point's quantities live in a generated kernel (``{j}``: a coordinate, ``{f}``: a
    state field, ``{slot}``: a slot of the delay ring)."""

    point: str  # the point's index in the run
    w: str  # its position
    new: str  # its new position, this step
    coord_state: str  # a state field with a value per coordinate
    point_state: str  # a state field with one value per point
    grad: str  # the gradient the rule was given (recorded state)
    update: str  # the rule's update (recorded state)
    loss: str  # its loss (at ``w``)
    new_loss: str  # the loss at the new position
    ok: str  # the new position is inside the bound (and its loss finite)
    alive: str  # not diverged
    div: str  # the step it diverged at, or -1
    stt: str  # the step from which the point stays within tolerance (so far), or -1
    first: str  # the first step within tolerance, or -1
    ring: str  # a past gradient point in the delay ring
    bad_loss: str  # what a non-finite loss at the new position does
    sqrt: str  # the square root the distance is taken with

    def at(self, template: str, j: int | None = None, f: str = "", slot: str = "") -> str:
        """One of the templates above, for coordinate ``j``, field ``f`` and ring slot ``slot``."""
        return template.format(j=j, f=f, slot=slot)


#: The CPU kernel: a block of points in small arrays, point ``i`` of the block (``p = b0 + i``).
BLOCK = Layout(point="b0 + i", w="W[{j}, i]", new="W2[{j}, i]", coord_state="S_{f}[{j}, i]",
               point_state="S_{f}[i]", grad="GR[{j}, i]", update="UP[{j}, i]", loss="FL[i]", new_loss="FN[i]",
               ok="OK[i]", alive="ALIVE[i]", div="DIV[i]", stt="STT[i]", first="FIRST[i]",
               ring="RING[{slot}, {j}, i]",
               bad_loss="OK[i] = False; nbad += 1", sqrt="np.sqrt")
#: The CUDA kernel: one point per thread (``p``), in registers; its delay ring in device memory.
THREAD = Layout(point="p", w="w_{j}", new="n_{j}", coord_state="s_{f}_{j}", point_state="s_{f}", grad="g_{j}",
                update="u_{j}", loss="fl", new_loss="fn", ok="ok", alive="alive", div="div", stt="stt",
                first="first", ring="ring[{slot}, {j}, p]", bad_loss="ok = False", sqrt="math.sqrt")


def _set(target: str, value: str) -> str:
    """``target = value``, or nothing when they are the same variable."""
    return "" if target == value else f"{target} = {value}"


def _emit(src: Source, *statements: str) -> None:
    """The statements that are not empty, on one line."""
    line = "; ".join(s for s in statements if s)
    if line:
        src(line)


def value(spec: KernelSpec, coords: list[str]) -> str:
    """The function's value at ``coords`` (the point formula, with the function's constants)."""
    consts = [f"fc[{k}]" for k in range(spec.n_consts)]
    return f"FVALUE({', '.join(coords + consts)})"


def _state_at(L: Layout, names: Names, f: str, j: int | None) -> str:
    return L.at(L.point_state, f=f) if f in names.point_fields else L.at(L.coord_state, j=j, f=f)


# ---------------------------------------------------------------------- the start
def start(src: Source, spec: KernelSpec, names: Names, L: Layout) -> None:
    """The point's start (``p`` is its index): its set of hyperparameters, position, initial state,
    loss, the tolerance at step 0, and row 0 of the records."""
    m, J = spec.maths, range(spec.dim)
    hp_index = {name: k for k, name in enumerate(spec.hp_names)}
    src("c = combo[p * cstride]")
    for j in J:
        _emit(src, f"w_{j} = W0[p, {j}]", _set(L.at(L.w, j), f"w_{j}"))
    for f in m.fields:
        init = m.init.get(f, 0.0)
        if isinstance(init, Stage):
            v = f"INIT_{f}({', '.join(f'hp0[c, {hp_index[x]}]' for x in init.args)})"
            values = [v] * spec.dim
        elif isinstance(init, str):  # a copy of the start
            values = [f"w_{j}" for j in J]
        else:
            values = [repr(float(init))] * spec.dim
        if f in names.point_fields:
            src(f"{L.at(L.point_state, f=f)} = {values[0]}")
        else:
            for j in J:
                src(f"{L.at(L.coord_state, j, f)} = {values[j]}")
    src(f"f0 = {value(spec, [f'w_{j}' for j in J])}")
    src(f"{L.loss} = f0; {L.alive} = True; {L.div} = -1")
    if spec.tol:
        src(f"err = {write_error(src, spec, 'w', 'f0', L.sqrt)}")
        src(f"{L.stt} = 0 if err <= tol else -1; {L.first} = {L.stt}")
    record(src, spec, names, L, "0", "f0")


# ---------------------------------------------------------------------- a step
def header(src: Source, spec: KernelSpec) -> None:
    """Step ``t``'s numbers: ``t`` as the rule's float and the draws' counter, whether this step is
    recorded, whether the loss is needed now, and the delay ring's slots."""
    src("tf = np.float64(t); ut = np.uint64(t)")
    src("rec_now = r < nrec and rec[r] == t")
    src("loss_now = True" if spec.loss_every_step else "loss_now = rec_now")
    if spec.delay:
        src("slot = (t - 1) % (delay + 1)")
        src("old = (max(1, t - delay) - 1) % (delay + 1)")


def read_columns(src: Source, spec: KernelSpec, combo: str) -> None:
    """Step ``t``'s per-step values of the set of hyperparameters ``combo``, as numbers ``k_name``."""
    m = spec.maths
    grad_at = [m.grad_at] if m.grad_at is not None else []
    column = {name: k for k, name in enumerate(spec.columns)}
    for name in dict.fromkeys(spec.used_columns(grad_at) + spec.update_columns):
        src(f"k_{name} = tab[{combo}, t - 1, {column[name]}]")


def gradient(src: Source, spec: KernelSpec, names: Names, L: Layout, loaded: bool,
             into: tuple[str, ...]) -> None:
    """Where the gradient is taken (``q_j``: the rule's look-ahead, else the position), delayed
    through the ring (the point of ``delay`` steps before), the gradient there and its noise.

    ``loaded``: the position is at hand as ``w_j``. ``into``: where each coordinate's gradient
    ``{g}`` goes (templates in ``{j}``, ``{g}``).
    """
    m, J = spec.maths, range(spec.dim)
    if m.grad_at is not None:
        for f in sorted(set(m.grad_at.args) & set(m.coord_fields)):
            for j in J:
                _emit(src, _set(f"s_{f}_{j}", L.at(L.coord_state, j, f)))
        for j in J:
            src(f"q_{j} = {names.call('GRAD_AT', m.grad_at, j)}")
    else:
        for j in J:
            src(f"q_{j} = {f'w_{j}' if loaded else L.at(L.w, j)}")
    if spec.delay:
        for j in J:
            src(f"{L.at(L.ring, j, slot='slot')} = q_{j}")
        for j in J:
            src(f"q_{j} = {L.at(L.ring, j, slot='old')}")
    consts = [f"fc[{k}]" for k in range(spec.n_consts)]
    src(f"gg = FGRAD({', '.join([f'q_{j}' for j in J] + consts)})")
    if spec.noise:
        for b in range((spec.dim + 1) // 2):
            src(f"e_{2 * b}, e_{2 * b + 1} = NORMAL2(ut, np.uint64({b}), klo[p], khi[p], gk0[p * gstride], "
                "gk1[p * gstride])")
    for j in J:
        g = f"gg[{j}]"
        if spec.noise:
            scale = "sigma" if spec.noise == "absolute" else f"sigma * abs({g})"
            g = f"{g} + {scale} * e_{j}"
        for template in into:
            src(template.format(j=j, g=g))


def rule_step(src: Source, spec: KernelSpec, names: Names, L: Layout) -> None:
    """The rule's step for the point (its state at hand as ``s_*``), its new position ``n_j`` and
    whether that is inside the bound (``ok``)."""
    m, J = spec.maths, range(spec.dim)
    for f in m.coord_fields:
        for j in J:
            _emit(src, _set(f"s_{f}_{j}", L.at(L.coord_state, j, f)))
    for f in names.point_fields:
        _emit(src, _set(f"s_{f}", L.at(L.point_state, f=f)))
    used = set().union(*(set(st.args) for st in [m.per_coord, *m.per_point, *m.noise.values()]))
    if "f" in used:
        src(f"f_cur = {L.loss}")
    params, returns = point_step_signature(spec)
    args = [{"klo_p": "klo[p]", "khi_p": "khi[p]", "rk0_p": "rk0[p * rstride]",
             "rk1_p": "rk1[p * rstride]"}.get(a, a) for a in params]
    src(f"{', '.join(returns)} = STEP({', '.join(args)})")
    for j in J:
        src(f"n_{j} = w_{j} + u_{j}")
        _emit(src, _set(L.at(L.new, j), f"n_{j}"))
    src("ok = " + " & ".join(f"(abs(n_{j}) <= bound)" for j in J))


def after_step(src: Source, spec: KernelSpec, names: Names, L: Layout) -> None:
    """The rule's new state stored, the distance to tolerance at the new position (a point that is
    out of bounds, or diverges at this step, never counts: its steps to tolerance are -1), and the
    update kept for the recorded state."""
    m, J = spec.maths, range(spec.dim)
    for f in m.coord_fields:
        for j in J:
            _emit(src, _set(L.at(L.coord_state, j, f), f"s_{f}_{j}"))
    for f in names.point_fields:
        _emit(src, _set(L.at(L.point_state, f=f), f"s_{f}"))
    if spec.tol == "distance":
        src(f"err = {write_error(src, spec, 'n', '', L.sqrt)}")
        tolerance(src, L, "ok and err <= tol")
    if spec.record_state:
        for j in J:
            _emit(src, _set(L.at(L.update, j), f"u_{j}"))


def tolerance(src: Source, L: Layout, test: str) -> None:
    """Steps to tolerance at step ``t``, the point within it when ``test`` holds: the first step
    within it (kept once set), and the step from which it stays within it (-1 again when it leaves)."""
    src(f"within = {test}")
    src(f"{L.first} = t if ({L.first} < 0 and within) else {L.first}")
    src(f"{L.stt} = ({L.stt} if {L.stt} >= 0 else t) if within else -1")


def new_loss(src: Source, spec: KernelSpec, L: Layout) -> None:
    """The loss at the new position (on the steps that need it): a non-finite one is a divergence;
    the gap to tolerance."""
    src(f"fn = {value(spec, [L.at(L.new, j) for j in range(spec.dim)])}")
    _emit(src, _set(L.new_loss, "fn"))
    with src.block("if not (abs(fn) < np.inf):"):
        src(L.bad_loss)
    if spec.tol == "gap":
        tolerance(src, L, f"{L.ok} and fn - fstar <= tol")


def freeze(src: Source, spec: KernelSpec, L: Layout) -> None:
    """Divergence: a point that was alive and is still fine takes its new loss; any other keeps its
    position (a newly diverged one is frozen where it was, its step noted) and its loss there."""
    J = range(spec.dim)
    with src.block(f"if {L.alive} and {L.ok}:"):
        with src.block("if loss_now:"):
            src(f"{L.loss} = {L.new_loss}")
    with src.block("else:"):
        for j in J:
            src(f"{L.at(L.new, j)} = {L.at(L.w, j)}")
        with src.block(f"if {L.alive}:"):
            src(f"{L.div} = t; {L.alive} = False")
        with src.block("if loss_now:"):  # f where the point stays (frozen now or before)
            src(f"{L.loss} = {value(spec, [L.at(L.w, j) for j in J])}")


def record(src: Source, spec: KernelSpec, names: Names, L: Layout, row: str, loss: str) -> None:
    """Row ``row`` of the point's records, its position at hand as ``w_j`` and its loss ``loss``:
    position, loss and (when asked) state. (The CPU kernel records the rows after the start for a
    whole block at once, with the shared ``RECORD`` and :func:`store_state`.)"""
    for j in range(spec.dim):
        src(f"o_traj[{row}, p, {j}] = w_{j}")
    src(f"o_loss[{row}, p] = {loss}")
    if spec.record_state:
        store_state(src, spec, names, L, row)


def store_state(src: Source, spec: KernelSpec, names: Names, L: Layout, row: str) -> None:
    """Row ``row`` of the recorded state: every field, the gradient and the update (these two are
    NaN before any step: ``o_state`` is NaN-filled)."""
    for k, (f, j) in enumerate(spec.state_rows()):
        if f in ("grad", "update"):
            if row != "0":
                src(f"o_state[{row}, {k}, p] = {L.at(L.grad if f == 'grad' else L.update, j)}")
        else:
            src(f"o_state[{row}, {k}, p] = {_state_at(L, names, f, j)}")


def finish(src: Source, spec: KernelSpec, L: Layout) -> None:
    """What the run returns per point besides its records: the step it diverged at, the step from
    which it stays within tolerance and the first step within it (both -1 for a point that diverged)."""
    src(f"o_div[{L.point}] = {L.div}")
    if spec.tol:
        src(f"o_stt[{L.point}] = {L.stt} if {L.div} < 0 else -1")
        src(f"o_first[{L.point}] = {L.first} if {L.div} < 0 else -1")

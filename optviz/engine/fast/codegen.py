"""What a kernel is specialised on, and the pieces both kernels are written from.

A kernel is generated as Python source for one (function, rule, run options) and compiled by numba:
for the CPU (:mod:`optviz.engine.fast.cpu`, blocks of points) or for CUDA
(:mod:`optviz.engine.fast.gpu`, a point per thread). Here: :class:`KernelSpec` (what the source is
specialised on), :class:`Source` (the text being written), :class:`Names` (the generated variable of
each quantity a stage can ask for), the rule's ``point_step`` (:func:`write_point_step`: its
per-point stages, its draws and its per-coordinate step, inlined into either kernel) and the
tracked error (:func:`write_error`). The step around the rule, the same in both kernels, is
described in :mod:`optviz.engine.fast.bookkeeping`.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    wide: bool = False  # the wide kernel (a loop over coordinates, :mod:`optviz.engine.fast.wide`)
    data: bool = False  # the function is a learning problem's data form (else point formulas)

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
    return [m.per_coord, *m.per_point, *m.noise.values(), *m.reduce]


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
    for i, s in enumerate(m.reduce):
        names[f"RED{i}"] = s.fn
    names["COORD"] = m.per_coord.fn
    return names


class Names:
    """The generated variable of each quantity a stage can ask for (coordinates unrolled: one
    variable per coordinate ``j``; a kernel that loops over coordinates spells them otherwise)."""

    #: How a state field's, a noise draw's and a point vector's coordinate ``j`` is spelt, and the loss.
    FIELD, NOISE, VECTOR, LOSS = "s_{name}_{j}", "z_{name}_{j}", "{name}_{j}", "f_cur"

    def __init__(self, spec: KernelSpec):
        m = spec.maths
        self.m = m
        self.coord_fields = m.coord_fields
        self.point_fields = tuple(f for f in m.fields if f in m.point_fields)
        self.point_outputs = [o for s in m.per_point for o in s.outputs]
        self.sums = [o for s in m.reduce for o in s.outputs]
        self.columns = set(spec.columns)

    def var(self, name: str, j: int | None) -> str:
        if name in self.coord_fields:
            return self.FIELD.format(name=name, j=j)
        if name in self.point_fields:
            return f"s_{name}"
        if name in self.m.noise:
            return self.NOISE.format(name=name, j=j)
        if name in self.point_outputs:
            return f"p_{name}"
        if name in self.sums:
            return f"r_{name}"
        if name in self.columns:
            return f"k_{name}"
        vectors = {"g": "g", "w": "w", "w_grad": "q"}
        if name in vectors:
            return self.VECTOR.format(name=vectors[name], j=j)
        fixed = {"t": "tf", "T": "TT", "fstar": "fstar", "tiny": "tiny", "f": self.LOSS, "delay": "delay_f"}
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
        write_sums(src, m, names, range(d))
        for j in range(d):
            targets = [f"u_{j}"] + [f"s_{o}_{j}" for o in m.per_coord.outputs[1:]]
            src(f"{', '.join(targets)} = {names.call('COORD', m.per_coord, j)}")
        src(f"return {', '.join(returns)}")
    src("")
    src("")


def write_sums(src: Source, m: Maths, names: Names, coords: range | None) -> None:
    """The rule's per-point sums over the coordinates (``Maths.reduce``), added in coordinate order:
    unrolled over ``coords``, or (``None``) in a loop over ``j`` (the wide kernel)."""
    for i, st in enumerate(m.reduce):
        sums = [f"r_{o}" for o in st.outputs]
        src(f"{', '.join(sums)} = {', '.join(['0.0'] * len(sums))}")
        terms = [f"rt_{o}" for o in st.outputs]
        if coords is None:
            with src.block("for j in range(d):"):
                src(f"{', '.join(terms)} = {names.call(f'RED{i}', st, 0)}")
                for r, term in zip(sums, terms, strict=True):
                    src(f"{r} = {r} + {term}")
            continue
        for j in coords:
            src(f"{', '.join(terms)} = {names.call(f'RED{i}', st, j)}")
            for r, term in zip(sums, terms, strict=True):
                src(f"{r} = {r} + {term}")


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

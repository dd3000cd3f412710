"""The compiled kernels' arguments, in one place: their order, types and meaning.

The generators write their kernel's parameter list from :data:`ARGS` (:func:`params`), the
runners pass their values by name (:func:`ordered`), the CUDA kernel's type signature is read
from the types (:func:`cuda_signature`), and the dummy call that compiles a CPU kernel ahead
gives its values by name too. The CPU kernel (:mod:`optviz.engine.fast.cpu`) steps a block
of points at a time and reports progress; the CUDA one (:mod:`optviz.engine.fast.gpu`) steps one
point per thread and keeps each point's delay ring in device memory: :attr:`Arg.target` says
which kernels take an argument (the wide CPU kernel, :mod:`optviz.engine.fast.wide`, takes a
learning problem's data and minibatch table besides). The run's numbers packed into ``prm`` are
named in :data:`PRM`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

CPU, GPU, BOTH = "cpu", "gpu", "both"
#: The wide CPU kernel (:mod:`optviz.engine.fast.wide`): what every kernel takes (``BOTH``), what both
#: CPU kernels take (``HOST``), and the problem's data (``DATA``).
WIDE, HOST, DATA = "wide", "host", "data"
_TAKES = {CPU: (BOTH, CPU, HOST), GPU: (BOTH, GPU), WIDE: (BOTH, HOST, DATA)}

F1, F2, F3 = "float64[::1]", "float64[:, ::1]", "float64[:, :, ::1]"
I1, U1, INT = "int64[::1]", "uint64[::1]", "int64"
I3 = "int64[:, :, ::1]"


@dataclass(frozen=True)
class Arg:
    """One kernel argument: its name in the generated source, its numba type, what it holds, and
    which kernels take it (``"cpu"``: the block kernel; ``"gpu"``; ``"both"``: every kernel;
    ``"host"``: both CPU kernels; ``"data"``: the wide kernel)."""

    name: str
    type: str
    role: str
    target: str = BOTH


ARGS: tuple[Arg, ...] = (
    Arg("W0", F2, "the starts, (n, dim)"),
    Arg("lo", INT, "the first point to step"),
    Arg("hi", INT, "one past the last point to step"),
    Arg("B", INT, "points per block (kept in L1 for all their steps)", CPU),
    Arg("tab", F3, "the per-step table, (sets of hyperparameters, steps, columns)"),
    Arg("hp0", F2, "the unscheduled hyperparameters of each set (for the rule's initial state)"),
    Arg("combo", I1, "each point's set of hyperparameters (one for all when cstride is 0)"),
    Arg("cstride", INT, "0: combo[0] for every point; 1: combo[p]"),
    Arg("fc", F1, "the function's constants (PointForm.consts)"),
    Arg("hkind", I1, "each hook's kind (0 LARS, 1 clip, 2 weight decay), in order"),
    Arg("hoff", I1, "where each hook's settings start in hset"),
    Arg("hset", F1, "the hooks' settings"),
    Arg("mins", F2, "the function's global minimizers, (m, dim), for the distance to tolerance"),
    Arg("klo", U1, "each start's noise counter word, low"),
    Arg("khi", U1, "each start's noise counter word, high"),
    Arg("rk0", U1, "the rule's own noise stream key, word 0 (one, or one per point)"),
    Arg("rk1", U1, "the rule's own noise stream key, word 1"),
    Arg("rstride", INT, "0: rk0[0] for every point; 1: rk0[p]"),
    Arg("gk0", U1, "the gradient noise stream key, word 0 (one, or one per point)"),
    Arg("gk1", U1, "the gradient noise stream key, word 1"),
    Arg("gstride", INT, "0: gk0[0] for every point; 1: gk0[p]"),
    Arg("prm", F1, "the run's numbers, named in PRM"),
    Arg("rec", I1, "the recorded steps (0, k, 2k, ..., steps)"),
    Arg("kcols", I1, "the table columns the update reads", CPU),
    Arg("gcols", I1, "the table columns the look-ahead (grad_at) reads", CPU),
    Arg("o_traj", F3, "out: positions at the recorded steps, (n_rec, n, dim)"),
    Arg("o_loss", F2, "out: losses at the recorded steps, (n_rec, n)"),
    Arg("o_div", I1, "out: the step each point diverged at, or -1"),
    Arg("o_stt", I1, "out: the step from which the point stays within tolerance, or -1"),
    Arg("o_first", I1, "out: the first step within tolerance, or -1"),
    Arg("o_state", F3, "out: the recorded state rows, (n_rec, rows, n) (NaN-filled)"),
    Arg("flag", I1, "the cancel flag, polled every step (non-zero: stop)", HOST),
    Arg("meter", I1, "the point-steps done (progress)", HOST),
    Arg("ring", F3, "each point's delayed gradient positions, (delay + 1, dim, n)", GPU),
    Arg("data", F2, "a learning problem's training rows, (N, columns) (a stand-in otherwise)", DATA),
    Arg("bfull", I1, "every row, 0..N-1 (the full training loss)", DATA),
    Arg("bidx", I3, "the minibatch rows of each step, (seeds, steps, B)", DATA),
    Arg("brow", I1, "each seed's row of bidx (one, or one per point)", DATA),
    Arg("bstride", INT, "-1: full batch (bidx unused); 0: brow[0] for every point; 1: brow[p]", DATA),
)

#: The run's numbers in ``prm``, in order, by the names the generated code gives them: the
#: divergence bound, the gradient noise's σ, the tolerance, f*, the smallest normal float64, the
#: number of steps (T), the gradient delay τ.
PRM = ("bound", "sigma", "tol", "fstar", "tiny", "TT", "delay_f")


def _takes(arg: Arg, target: str) -> bool:
    return arg.target in _TAKES[target]


def params(target: str) -> str:
    """The kernel's parameter list, as the generated ``def kernel(...)`` writes it."""
    return ", ".join(a.name for a in ARGS if _takes(a, target))


def ordered(values: Mapping[str, Any], target: str) -> list[Any]:
    """The values of a kernel call, in the kernel's order (``KeyError`` names a missing one)."""
    return [values[a.name] for a in ARGS if _takes(a, target)]


def cuda_signature() -> str:
    """The CUDA kernel's type signature (for compiling it ahead, without a device)."""
    return "void(" + ", ".join(a.type for a in ARGS if _takes(a, GPU)) + ")"


def prm(**values: float) -> np.ndarray:
    """``prm`` from the run's numbers, given by their :data:`PRM` names."""
    if set(values) != set(PRM):
        raise ValueError(f"prm takes exactly {', '.join(PRM)}; got {', '.join(sorted(values))}")
    return np.array([float(values[name]) for name in PRM], dtype=np.float64)


def unpack_prm() -> str:
    """The generated line that names ``prm``'s numbers: ``bound = prm[0]; sigma = prm[1]; ...``."""
    return "; ".join(f"{name} = prm[{k}]" for k, name in enumerate(PRM))

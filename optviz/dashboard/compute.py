"""The engine calls of the dashboard, kept one optimizer at a time.

A scene's run is the merge of one kept run per optimizer, so moving one optimizer's slider
recomputes only that optimizer; the optimizers not kept yet (a new scene, "All 19") run in
one engine call. Random draws are keyed by (seed, optimizer, start), so the merged runs equal
one joint run. The sweeps behind the live sliders (:mod:`optviz.live.sweeps`) are cached
(``st.cache_data``) as packed blocks, per optimizer.

Memory is bounded by bytes (:mod:`optviz.dashboard.memory`, one budget for the server): the kept
runs by their share of it (least recently used first out); a run whose every step would take
more than :func:`~optviz.dashboard.memory.run_cap` is recorded at the rows the race draws (the
table's numbers are the same: the engine keeps the tolerance and divergence steps itself), and
one that would still exceed it is refused up front with its estimate. Heavy runs take turns
(:data:`~optviz.dashboard.memory.HEAVY_SLOTS` at once) behind a progress bar that Stop ends.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import streamlit as st

import optviz
from optviz.dashboard import memory
from optviz.dashboard.messages import markdown_text, short
from optviz.dashboard.views import ENGINE_ERRORS
from optviz.engine import fast
from optviz.live import sweeps
from optviz.live.sliders import Slider, priority
from optviz.optimizers import REGISTRY
from optviz.scene.model import Scene

#: Seconds a heavy run on the readable path (Python, holding the interpreter) pauses at each
#: progress report (every 50 ms): light pages then get the interpreter more often.
YIELD = 0.03

#: A sweep (all positions of an optimizer's live sliders) costs at most this many point-steps
#: in all, over the optimizers shown; sliders beyond it answer through the server instead.
SWEEP_WORK = 24_000_000
#: ... and sends at most this many bytes of blocks to the browser.
SWEEP_BYTES = 12_000_000


def _fn(scene: Scene):
    return scene.build_function()


def engine_options(scene: Scene, backend: str) -> dict[str, Any]:
    """The keywords every engine call of ``scene`` shares (its settings but the function, the
    optimizers, the starts and the steps), on ``backend`` (the page's choice, not the scene's)."""
    kw = scene.run_kwargs()
    for key in ("function", "optimizers", "starts", "steps"):
        kw.pop(key)
    return {**kw, "backend": backend}


def starts_of(scene: Scene) -> np.ndarray:
    """The scene's starting points, ``(n, dim)``."""
    return np.asarray(scene.starts.points, dtype=float)


def record_every(scene: Scene) -> int:
    """Every how many steps the scene's run records: 1 (every step) while the whole recording
    fits :func:`~optviz.dashboard.memory.run_cap`; otherwise the race's own stride for a scene
    this big (:func:`optviz.live.sweeps.stride_for` at
    :func:`~optviz.live.sweeps.max_rows_for` rows: the rows the page draws anyway, since
    the cap is far above the race's every-step budget). Refused (``ValueError``, with the
    estimate) when even those rows exceed the cap."""
    n, steps, k = len(scene.starts.points), scene.steps, max(1, len(scene.optimizers))
    cap = memory.run_cap()
    if record_bytes(scene, 1) <= cap:
        return 1
    every = sweeps.stride_for(steps, sweeps.max_rows_for(k * n))
    need = record_bytes(scene, every)
    if need > cap:
        raise ValueError(f"this scene would keep about {need / 1e6:,.0f} MB of paths ({k} optimizers × "
                         f"{n:,} starts), over this server's {cap / 1e6:,.0f} MB per run; show fewer "
                         "optimizers or starts")
    return every


def record_bytes(scene: Scene, every: int) -> int:
    """The bytes a run of ``scene`` records every ``every`` steps: per optimizer, point and
    recorded row its position, loss and error (float64)."""
    rows = scene.steps // every + 2
    dim = len(scene.starts.points[0]) if scene.starts.points else 2
    return rows * len(scene.starts.points) * max(1, len(scene.optimizers)) * (dim + 2) * 8


def fused() -> bool | None:
    """The engine's ``fused`` for the dashboard's runs: its automatic choice (``None``), in the
    engine's interactive mode (set when this module is imported, :func:`optviz.engine.fast.set_interactive`):
    a run takes the compiled kernels when they are ready (compiled before, cached on disk) and
    otherwise the readable path at once, while they compile in a background process at low
    priority, one at a time, for the next run. No page waits for a compile. ``OPTVIZ_FAST``
    still decides when it is set (``off``: always the readable path)."""
    return None


fast.set_interactive()


class _Runs:
    """Each optimizer's run of a scene, kept by (the scene's settings but its optimizers, the
    backend, the optimizer, its hyperparameters, the recording's stride): the optimizers missing
    from a scene are run together (one engine call), then kept one by one, so that a slider's
    move reruns only its optimizer. Bounded by bytes (:func:`optviz.dashboard.memory.runs_bytes`)."""

    def __init__(self, capacity: int | None = None) -> None:
        self.runs = memory.LRU(capacity if capacity is not None else memory.runs_bytes)

    @staticmethod
    def key(scene: Scene, backend: str, name: str, every: int = 1) -> tuple:
        return (scene.function, scene.starts.points, scene.steps, scene.seed, scene.schedule, scene.hooks,
                scene.noise, scene.noise_mode, scene.delay, scene.batch, scene.dtype, backend, name,
                tuple(scene.optimizers[name].items()), every)

    def get(self, scene: Scene, backend: str, fused: bool | None = None) -> optviz.Result:
        every = record_every(scene)
        keys = {name: self.key(scene, backend, name, every) for name in scene.optimizers}
        have = {name: r for name, k in keys.items() if (r := self.runs.get(k)) is not None}
        missing = [name for name in scene.optimizers if name not in have]
        if missing:
            joint = _engine_run(scene, missing, backend, fused, every)
            for name in missing:
                have[name] = only(joint, name)
                self.runs.put(keys[name], have[name])
        return optviz.Result.merge([have[name] for name in scene.optimizers])


def _engine_run(scene: Scene, names: list[str], backend: str, fused: bool | None,
                every: int) -> optviz.Result:
    """One engine call for ``names`` of ``scene``; a heavy one waits for its turn
    (:data:`optviz.dashboard.memory.TURNS`) behind a progress bar (Stop ends the wait or the run)."""
    hps = {name: dict(scene.optimizers[name]) for name in names}
    kw = {"starts": starts_of(scene), "steps": scene.steps, "fused": fused, "record_every": every,
          **engine_options(scene, backend)}
    if len(names) * len(scene.starts.points) * scene.steps <= memory.HEAVY_WORK:
        return optviz.run(_fn(scene), hps, **kw)
    bar = st.empty()
    gone = left_check()

    def waiting(ahead: int) -> None:
        gone()
        bar.progress(0.0, text=f"Waiting for a turn: the server computes {memory.HEAVY_SLOTS} heavy runs at "
                               f"once, and {ahead} more wait before this one")

    def report(done: int, total: int) -> None:  # (every 50 ms, from the thread that computes)
        gone()
        time.sleep(YIELD)  # the interpreter to the light pages a while: one process serves all
        bar.progress(min(done / max(total, 1), 1.0), text=f"Running {len(names)} optimizers: "
                                                           f"{done:,} of {total:,} point-steps")

    try:
        with memory.TURNS.turn(waiting):
            return optviz.run(_fn(scene), hps, progress=report, **kw)
    finally:
        bar.empty()


@st.cache_resource(show_spinner=False)
def _runs() -> _Runs:
    return _Runs()


def only(result: optviz.Result, name: str) -> optviz.Result:
    """The part of ``result`` that is optimizer ``name``'s (every per-optimizer field cut to it)."""
    cut = {}
    for f in dataclasses.fields(result):
        v = getattr(result, f.name)
        if isinstance(v, dict) and v and set(v) <= set(result.names):
            cut[f.name] = {name: v[name]} if name in v else {}
    return dataclasses.replace(result, names=(name,), **cut)


def run_scene(scene: Scene, backend: str) -> optviz.Result:
    """The scene's run (every step recorded: the table's numbers), from each optimizer's kept
    run; the optimizers not kept yet are run together."""
    return keep_run(scene, backend, fused())


def run_or_say(scene: Scene, backend: str) -> optviz.Result | None:
    """:func:`run_scene`, or ``None`` with one line on the page saying why the scene cannot run."""
    try:
        return run_scene(scene, backend)
    except ENGINE_ERRORS as exc:
        st.error(f"Cannot run this scene: {markdown_text(short(exc))}")
        return None


def keep_run(scene: Scene, backend: str, fused: bool | None) -> optviz.Result:
    """:func:`run_scene` on the path ``fused`` chooses (the server's warm-up takes the readable one)."""
    return _runs().get(scene, backend, fused)


@st.cache_data(max_entries=512, show_spinner=False)
def sweep_one(scene: Scene, backend: str, name: str, sliders: tuple[Slider, ...], stride: int,
              quant: sweeps.Quantizer, kind: str, tol: float) -> list[list[dict[str, Any] | None]]:
    """The blocks of every position of ``name``'s ``sliders`` (one engine run)."""
    options = engine_options(scene, backend)
    return sweeps.sweep(_fn(scene), name, dict(scene.optimizers[name]), sliders, starts_of(scene),
                        scene.steps, stride, quant, kind, tol, fused=fused(), **options)


def left_check() -> Any:
    """A function that raises Streamlit's ``StopException`` once this script's session has gone
    (its browser tab closed): a heavy run or its wait, or an explore view's computation (called from
    their progress reports), then ends, and frees its turn, memory and cores, instead of computing
    for no one."""
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not runtime.exists():
        return lambda: None

    def gone() -> None:
        if not runtime.get_instance().is_active_session(ctx.session_id):
            raise StopException()

    return gone


def live_sliders(scene: Scene, sliders: dict[str, list[Slider]], rows: int) -> dict[str, tuple[Slider, ...]]:
    """Which sliders are computed in advance: all of them when the scene is small enough;
    otherwise by priority within :data:`SWEEP_WORK` point-steps and :data:`SWEEP_BYTES`: the
    learning rates first (in the optimizers' order, as many as fit), then the averaging
    coefficients and then the rest, each of these only if the whole tier fits (so that no
    optimizer's momentum answers live while another's does not)."""
    n = len(scene.starts.points)
    block_bytes = rows * n * 4 * 4 // 3 + rows * 16 + n * 3 + 200
    work_left, bytes_left = SWEEP_WORK, SWEEP_BYTES
    chosen: dict[str, list[Slider]] = {name: [] for name in sliders}
    for tier in (0, 1, 2):
        members = [(name, s) for name, ss in sliders.items() for s in ss if priority(s) == tier]
        cost = [(sweeps.work([s], n, scene.steps), (len(s.values) - 1) * block_bytes) for _, s in members]
        if tier > 0 and (sum(w for w, _ in cost) > work_left or sum(b for _, b in cost) > bytes_left):
            break
        for (name, s), (w, b) in zip(members, cost, strict=True):
            if w <= work_left and b <= bytes_left:
                chosen[name].append(s)
                work_left -= w
                bytes_left -= b
    return {name: tuple(s for s in ss if s in chosen[name]) for name, ss in sliders.items()}


def is_stochastic(name: str) -> bool:
    """True for optimizers that draw noise (their swept positions see other noise, see sweeps)."""
    return "noise" in REGISTRY[name].needs

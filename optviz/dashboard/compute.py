"""The engine calls of the dashboard, cached (``st.cache_data``) one optimizer at a time.

A scene's run is the merge of one cached run per optimizer, so moving one optimizer's
slider recomputes only that optimizer (Santa's noise depends only on the seed and the
optimizer's name, so the merged runs equal one joint run). The sweeps behind the live
sliders (:mod:`optviz.dashboard.sweeps`) are cached the same way, as packed blocks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

import optviz
from optviz.optimizers import REGISTRY

from . import sweeps
from .sliders import Slider, priority
from .state import Scene

#: A sweep (all positions of an optimizer's live sliders) costs at most this many point-steps
#: in all, over the optimizers shown; sliders beyond it answer through the server instead.
SWEEP_WORK = 24_000_000
#: ... and sends at most this many bytes of blocks to the browser.
SWEEP_BYTES = 12_000_000


def _fn(scene: Scene):
    return scene.make_function()


@st.cache_data(max_entries=1024, show_spinner=False)
def run_one(scene: Scene, name: str) -> optviz.Result:
    """One optimizer's run of the scene, every step recorded (the table's numbers)."""
    return optviz.run(_fn(scene), {name: scene.hyperparams(name)}, starts=[list(p) for p in scene.starts],
                      steps=scene.steps, **scene.run_kwargs())


def run_scene(scene: Scene) -> optviz.Result:
    """Every optimizer's (cached) run, merged into one Result."""
    return optviz.Result.merge([run_one(scene, name) for name in scene.optimizers])


@st.cache_data(max_entries=512, show_spinner=False)
def sweep_one(scene: Scene, name: str, sliders: tuple[Slider, ...], stride: int, quant: sweeps.Quantizer,
              kind: str, tol: float) -> list[list[dict[str, Any] | None]]:
    """The blocks of every position of ``name``'s ``sliders`` (one engine run)."""
    starts = np.asarray(scene.starts, dtype=float)
    return sweeps.sweep(_fn(scene), name, scene.hyperparams(name), sliders, starts, scene.steps, stride,
                        quant, kind, tol, **scene.run_kwargs())


def live_sliders(scene: Scene, sliders: dict[str, list[Slider]], rows: int) -> dict[str, tuple[Slider, ...]]:
    """Which sliders are computed in advance: all of them when the scene is small enough;
    otherwise by priority within :data:`SWEEP_WORK` point-steps and :data:`SWEEP_BYTES`: the
    learning rates first (in the optimizers' order, as many as fit), then the averaging
    coefficients and then the rest, each of these only if the whole tier fits (so that no
    optimizer's momentum answers live while another's does not)."""
    n = len(scene.starts)
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

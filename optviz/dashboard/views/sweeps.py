"""Sweeps: how sensitive is each optimizer to one setting?

One setting of every chosen optimizer over a range of values, from every start of the race
(and several seeds): the median final error with its 25–75 % band, the shares converged and
diverged, and each optimizer's best value, e.g. "how sensitive is each optimizer to its
learning rate on Rosenbrock?". The setting is each optimizer's learning rate, a
hyperparameter they all have (β₁, μ, ...), or on a learning problem the minibatch size ("which
optimizers tolerate minibatch noise?"); the gradient noise σ and delay τ are the Noise & delay
view's.

How sure it is: a headline that names a winner at the best values only when the bootstrap
intervals over starts and seeds separate it ("No clear winner" otherwise), the converged share's
90 % band on the chart, and a table ranked with shared ranks, each best value's intervals and the
values the intervals cannot tell from it (:mod:`optviz.explore.uncertainty`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import streamlit as st

from optviz.dashboard import messages, state
from optviz.dashboard.state import ss
from optviz.dashboard.views import Context, View, current_or_message, exploring
from optviz.explore.charts import sweep_chart
from optviz.explore.measures import lr_name
from optviz.optimizers import REGISTRY

LR = "learning rate (each optimizer's own)"
BATCH = "minibatch size"
DECADES = tuple(10.0**k for k in range(-7, 2))


def settings_of(names: tuple[str, ...], samples: int | None = None) -> list[str]:
    """The settings on offer: the learning rate, the hyperparameters every optimizer has, and for a
    learning problem (``samples``: its training samples) the minibatch size."""
    common = [h.name for h in REGISTRY[names[0]].hyperparams if not h.lr]
    for n in names[1:]:
        have = {h.name for h in REGISTRY[n].hyperparams}
        common = [c for c in common if c in have]
    return [LR, *common, *([BATCH] if samples else [])]


def batch_sizes(samples: int) -> tuple[int, ...]:
    """The minibatch sizes on offer: powers of two below the training samples N, and N (the full batch)."""
    return (*(2**k for k in range(samples.bit_length()) if 2**k < samples), samples)


def values_for(setting: str, names: tuple[str, ...], samples: int = 0) -> tuple[tuple[float, ...], str]:
    """The widgets for ``setting``'s range; returns the values and their spacing."""
    c1, c2 = st.columns([3, 1])
    if setting == BATCH:  # every size in the range (one run each)
        sizes = batch_sizes(samples)
        lo, hi = c1.select_slider(
            "Range", sizes, value=(min(8, sizes[-1]), sizes[-1]), key="sweep_batch_range"
        )
        return tuple(float(b) for b in sizes if lo <= b <= hi), "log"
    n = c2.slider("Values", 3, 40, 13, key="sweep_n")
    if setting == LR:
        lo, hi = c1.select_slider(
            "Range", DECADES, value=(1e-4, 1.0), key="sweep_lr_range", format_func=lambda v: f"{v:g}"
        )
        if lo >= hi:
            hi = lo * 10
        return tuple(np.geomspace(lo, hi, n).tolist()), "log"
    hp = REGISTRY[names[0]].hyperparam(setting)
    low = max(hp.low, min(REGISTRY[m].hyperparam(setting).low for m in names))
    high = min(REGISTRY[m].hyperparam(setting).high for m in names)
    if hp.log and low > 0:
        exps = tuple(range(math.ceil(math.log10(low)), math.floor(math.log10(high)) + 1))
        lo, hi = c1.select_slider(
            "Range",
            [10.0**e for e in exps],
            value=(10.0 ** exps[0], 10.0 ** exps[-1]),
            key=f"sweep_range_{setting}",
            format_func=lambda v: f"{v:g}",
        )
        return tuple(np.geomspace(lo, max(hi, lo * 10), n).tolist()), "log"
    hi_default = min(high, 0.999) if high <= 1 else high
    lo, hi = c1.slider(
        "Range", float(low), float(high), (float(low), float(hi_default)), key=f"sweep_range_{setting}"
    )
    if hi <= lo:
        hi = min(high, lo + 1e-3)
    return tuple(np.linspace(lo, hi, n).tolist()), "linear"


def best_table(s) -> pd.DataFrame:
    """Per optimizer (best first, ranks shared where the intervals overlap): its best value, the
    values the intervals cannot tell from it, and its numbers there with their 90 % intervals."""
    rank = s.ranks()
    shared = {r for r in rank.values() if list(rank.values()).count(r) > 1}
    rows = []
    for name in s.ranked():
        st_ = s.stats[name][s.best[name]]
        e = s.at_best()[name]
        good = s.values[s.as_good_as_best(name)]
        rows.append(
            {
                "rank": f"{rank[name]}{'=' if rank[name] in shared else ''}",
                "optimizer": name,
                "setting": s.params[name],
                "best value": f"{s.best_value(name):.4g}",
                "as good": f"{good.min():.3g}–{good.max():.3g}" if good.size > 1 else "only it",
                "converged": f"{exploring.pct(st_.share_converged)} "
                f"({exploring.span(e.success_low, e.success_high)})",
                "median steps": exploring.steps_span(
                    e.steps, None if e.steps_low is None else (e.steps_low, e.steps_high)
                ),
                "diverged": exploring.pct(st_.share_diverged),
                "median error": exploring.num(st_.median),
            }
        )
    return pd.DataFrame(rows).set_index("optimizer")


def _use_best(pairs: list[tuple[str, str, float]]) -> None:
    for name, hp, v in pairs:
        state.set_hyperparam(name, hp, v)


@st.fragment
def _view() -> None:
    ctx = current_or_message()
    if ctx is None:
        return
    kind = exploring.kind_of(ctx, loss=True)  # a network: its final training loss
    if kind is None:
        exploring.no_target(ctx)
        return
    scene = ctx.scene
    names = tuple(scene.optimizers)
    samples = int(getattr(ctx.function, "n_samples", 0) or 0)  # a learning problem's N
    offered = settings_of(names, samples)
    if ss.get("sweep_setting") not in offered:
        ss["sweep_setting"] = LR
    c1, c2 = st.columns([3, 1])
    setting = c1.selectbox(
        "Setting to sweep",
        offered,
        key="sweep_setting",
        help="The other hyperparameters stay at the race's values. For noise and delay see the "
        "Noise & delay view.",
    )
    seeds = c2.slider(
        "Seeds",
        1,
        8,
        1,
        key="sweep_seeds",
        help="Each start runs once per seed (the seeds matter for noise and Santa's draws).",
    )
    values, spacing = values_for(setting, names, samples)
    param = "lr" if setting == LR else "batch" if setting == BATCH else setting
    hp = exploring.hyperparams(scene, names)
    for n in names:  # the swept one is not fixed
        hp[n].pop(lr_name(n) if param == "lr" else param, None)
    try:
        s = exploring.sweep_of(
            scene, ctx.backend, exploring.frozen(hp), param, values, int(seeds), kind, float(ctx.tol), spacing
        )
    except exploring.ENGINE_ERRORS as exc:
        st.error(f"Cannot sweep: {messages.short(exc)}")
        return
    n_pts = len(scene.starts.points) * int(seeds)
    st.markdown(
        f"#### {ctx.function.title}: {setting} over {len(values)} values, {n_pts} run{'s' * (n_pts != 1)} "
        f"each ({scene.steps} steps)"
    )
    batch = scene.batch
    if batch is not None and param != "batch":
        st.caption(f"Minibatch gradients of {batch} of {ctx.function.n_samples} samples, the same batch for "
                   "every optimizer and value at a step.")
    if kind == "loss":
        st.caption(f"{ctx.function.title} has no known minimum: the error is the final training loss "
                   f"(converged: at most the tolerance {float(ctx.tol):g}).")
    st.markdown(f"**At each one's best value: {s.headline()}**")
    exploring.chart(sweep_chart(s, large=ctx.large), "sweep_chart")
    st.caption(
        f"Median over the race's {len(scene.starts.points)} starts × {seeds} seed(s), a diverged run counted "
        "as infinitely bad; ★ each optimizer's best value: most runs converged, then fewest steps to the "
        f"tolerance, then lowest median error. In brackets, 90 % intervals (bootstrap over the starts and "
        "seeds); "
        "ranks are shared (1=) where they overlap, and 'as good' spans the values the intervals cannot "
        f"tell from the best. Computed in {s.elapsed:.2f} s."
    )
    st.dataframe(best_table(s), key="sweep_table")
    c1, c2 = st.columns([1, 2])
    pairs = [(n, s.params[n], s.best_value(n)) for n in s.names]
    if param == "batch":  # a run setting, not a hyperparameter: the race keeps its own
        with c2:
            exploring.download(s.to_json(), "sweep.json", "sweep_download")
        return
    c1.button(
        "Use the best values in the race",
        key="sweep_use",
        on_click=_use_best,
        args=(pairs,),
        icon=":material/check:",
        help="Set each optimizer's swept setting to its best value.",
    )
    with c2:
        exploring.download(s.to_json(), "sweep.json", "sweep_download")


def render(ctx: Context) -> None:
    _view()


VIEW = View(
    key="sweeps",
    title="Sweeps",
    order=40,
    render=render,
    help="One setting over a range of values: each optimizer's sensitivity and its best value",
)

"""optviz dashboard: race gradient-descent optimizers on classic test functions.

Run with ``optviz dashboard`` or ``streamlit run app.py`` (the top-level ``app.py`` calls
:func:`page`). This file only lays out widgets, caches runs and calls into ``optviz``: the
engine (``optviz.run``) computes, ``optviz.plots`` draws, ``optviz.render`` exports. Each
optimizer's run is cached on its own (function, its hyperparameters, starts, steps, seed,
schedule, hooks, backend) and the runs are merged with ``Result.merge``, so moving one
optimizer's slider recomputes only that optimizer.
"""

from __future__ import annotations

import inspect
import math
import re
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import streamlit as st

import functions
import optviz
from optviz import plots, presets
from optviz import starts as start_points
from optviz.optimizers import GROUPS, NAMES, REGISTRY, HyperParam
from optviz.tune import tune_learning_rates

ss = st.session_state
FAMILIES = functions.families()
PLOTTABLE = (1, 2)
START_MODES = ("Grid", "Random", "Ring", "Typed")
SCHEDULES = ("constant", "step", "exponential", "cosine", "warm-up + cosine")
BACKENDS = {"NumPy": "numpy", "auto": "auto", "CuPy": "cupy"}
ERROR_KINDS = ("auto", "distance", "gap", "loss")
QUICK_GROUPS = {"all": "All", "article": "The article's 17", "momentum": "Momentum family",
                "adaptive": "AdaGrad–RMSprop family", "adam": "Adam family", "santa": "Santa"}
ENGINE_ERRORS = (ValueError, KeyError, MemoryError, TypeError, optviz.BackendError)


# ---------------------------------------------------------------------- widget scales
def _nice_log_values(low: float, high: float) -> list[float]:
    """1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8 per decade between ``low`` and ``high``."""
    out = []
    for k in range(int(f"{low:e}".split("e")[1]) - 1, int(f"{high:e}".split("e")[1]) + 1):
        for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8):
            v = float(f"{m}e{k}")
            if low <= v <= high:
                out.append(v)
    return out


def _decay_values(high: float) -> list[float]:
    """Decay rates: coarse up to 0.9, then finer and finer towards 1 (0.99, 0.999, 0.9999)."""
    vals = [round(0.05 * i, 2) for i in range(18)]
    vals += [round(0.9 + 0.01 * i, 2) for i in range(10)]
    vals += [round(0.99 + 0.001 * i, 3) for i in range(10)]
    vals += [round(0.999 + 0.0001 * i, 4) for i in range(10)]
    vals += [0.99995, 0.99999]
    return [v for v in vals if v <= high]


def _preset_values(opt: str, hp: str) -> list[float]:
    return [float(v[hp]) for p in presets.PRESETS.values() for n, v in p.optimizers.items()
            if n == opt and hp in v]


def _kind_of(hp: HyperParam) -> str:
    if hp.integer:
        return "int"
    if hp.log:
        return "log"
    if hp.low == 0.0 and hp.high < 1.0:
        return "decay"
    return "linear"


def _options(opt: str, hp: HyperParam) -> list[float]:
    """The values a select-slider offers: log-spaced (learning rates, ε) or decay-spaced."""
    extra = [hp.default, *_preset_values(opt, hp.name)]
    if _kind_of(hp) == "log":
        low = hp.low if hp.low > 0 else max(1e-12, min(v for v in [*extra, 1e-12] if v > 0) / 10)
        vals = _nice_log_values(low, hp.high) + ([0.0] if hp.low == 0 else [])
    else:
        vals = _decay_values(hp.high)
    return sorted(set(vals) | {float(v) for v in extra if hp.low <= v <= hp.high})


def _int_high(hp: HyperParam) -> int:
    return int(min(hp.high, max(1000, 4 * hp.default)))


def _linear_step(hp: HyperParam) -> float:
    """About 200 steps over the range, fine enough that the default lies on a step."""
    step = 10.0 ** round(math.log10((hp.high - hp.low) / 200))
    while step > 1e-9 and abs(hp.default / step - round(hp.default / step)) > 1e-6:
        step /= 10
    return step


def _hp_key(opt: str, hp: str) -> str:
    return f"hp__{opt}__{hp}"


def _fmt(v: float) -> str:
    return f"{v:g}"


# ---------------------------------------------------------------------- state and callbacks
def _init_state() -> None:
    defaults: dict[str, Any] = {
        "function": "rosenbrock", "dim": 2, "optimizers": list(NAMES),
        "start_mode": "Grid", "grid_n": 4, "rand_n": 16, "ring_n": 16, "ring_frac": 0.4,
        "ring_center": "global minimum", "typed_starts": "-1.5, 2.5\n0.5, -0.5",
        "steps": 300, "seed": 0,
        "schedule": "constant", "sched_every": 100, "sched_gamma": 0.5, "sched_exp_gamma": 0.99,
        "sched_floor": 0.0, "sched_warmup": 20,
        "hook_lars": False, "lars_threshold": 0.01, "lars_wd": 0.0,
        "hook_clip": False, "clip_max_norm": 1.0, "hook_wd": False, "wd_rate": 0.01,
        "backend": "NumPy", "large_font": False, "error_kind": "auto", "tol": 1e-3, "show_3d": False,
        "export_fps": 20, "quick_pick": "…",
    }
    for k, v in defaults.items():
        ss.setdefault(k, v)
    for name in NAMES:
        for hp in REGISTRY[name].hyperparams:
            ss.setdefault(_hp_key(name, hp.name), _default_value(hp))
    # Streamlit forgets the state of widgets that are not drawn in a run (a deselected optimizer's
    # sliders, another function's parameters); writing it back keeps it for when they return.
    for k in [k for k in ss if isinstance(k, str) and k.startswith(("hp__", "fparam__"))]:
        ss[k] = ss[k]


def _default_value(hp: HyperParam) -> float | int:
    return int(hp.default) if hp.integer else float(hp.default)


def reset_hp(name: str) -> None:
    for hp in REGISTRY[name].hyperparams:
        ss[_hp_key(name, hp.name)] = _default_value(hp)


def pick_group() -> None:
    group = ss["quick_pick"]
    if group in GROUPS:
        ss["optimizers"] = list(GROUPS[group])
    ss["quick_pick"] = "…"


def load_article() -> None:
    """The article's demo: 17 optimizers on the 1-D quartic from x = −3, 100 steps, seed 32."""
    p = presets.ARTICLE_QUARTIC
    ss["function"] = p.function
    ss["dim"] = 1
    ss["optimizers"] = list(p.optimizers)
    for name, overrides in p.optimizers.items():
        reset_hp(name)
        for hp, v in overrides.items():
            spec = REGISTRY[name].hyperparam(hp)
            ss[_hp_key(name, hp)] = int(v) if spec.integer else float(v)
    ss["start_mode"] = "Typed"
    ss["typed_starts"] = ", ".join(_fmt(float(x)) for x in p.starts)
    ss["steps"] = p.steps
    ss["seed"] = p.seed
    ss["schedule"] = "constant"
    ss["hook_lars"] = ss["hook_clip"] = ss["hook_wd"] = False


def on_function_change() -> None:
    fam = FAMILIES[ss["function"]]
    dims = [d for d in PLOTTABLE if fam.supports(d)]
    if ss.get("dim") not in dims:
        ss["dim"] = dims[-1]


# ---------------------------------------------------------------------- the cached engine call
@st.cache_data(max_entries=2048, show_spinner=False)
def run_one(fname: str, dim: int, fparams: tuple, name: str, hp: tuple, starts: tuple, steps: int,
            seed: int, schedule: str, hooks: tuple, backend: str) -> optviz.Result:
    """One optimizer's run. Santa's noise depends only on (seed, optimizer name), so a run per
    optimizer equals the joint run: merging the cached runs gives the same numbers.
    """
    fn = functions.get(fname, dim, **dict(fparams))
    return optviz.run(fn, {name: dict(hp)}, starts=[list(p) for p in starts], steps=steps, seed=seed,
                      schedule=schedule, hooks=list(hooks), backend=backend)


@st.cache_data(max_entries=64, show_spinner=False)
def tune_scene(fname: str, dim: int, fparams: tuple, hp: tuple, starts: tuple, steps: int, seed: int,
               schedule: str, hooks: tuple, backend: str) -> dict[str, tuple[str, float]]:
    """Each optimizer's best main learning rate for this scene (one sweep run per optimizer)."""
    fn = functions.get(fname, dim, **dict(fparams))
    tuned = tune_learning_rates(fn, {name: dict(v) for name, v in hp}, [list(p) for p in starts], steps,
                                seed=seed, schedule=schedule, hooks=list(hooks), backend=backend)
    return {name: (t.hyperparam, t.value) for name, t in tuned.items()}


def tune_section(scene: dict[str, Any]) -> None:
    """The "Tune learning rates" button: new slider values take effect on the next run."""
    c1, c2 = st.columns([1, 3], vertical_alignment="center")
    if c1.button("Tune learning rates", key="tune", icon=":material/tune:", width="stretch",
                 help="For each chosen optimizer, try its learning rate on a log grid (1, 2, 5 per "
                      "decade) on this very scene, and keep the value with the fewest diverged starts, "
                      "then the lowest median final error. The article's defaults are tuned for neural "
                      "networks and barely move on most test functions."):
        with st.spinner("Sweeping learning rates…"):
            picked = tune_scene(scene["function"], scene["dim"], scene["fparams"],
                                tuple((n, scene["hp"][n]) for n in scene["optimizers"]), scene["starts"],
                                scene["steps"], scene["seed"], scene["schedule"], scene["hooks"],
                                scene["backend"])
        ss["pending_hp"] = {_hp_key(name, hp): value for name, (hp, value) in picked.items()}
        ss["tune_note"] = ", ".join(f"{name} {hp}={_fmt(v)}" for name, (hp, v) in picked.items())
        st.rerun()
    note = ss.get("tune_note")
    if note:
        c2.caption(f":material/tune: Tuned: {note}")


def run_scene(scene: dict[str, Any]) -> optviz.Result:
    """Every chosen optimizer's (cached) run, merged into one Result."""
    results = [
        run_one(scene["function"], scene["dim"], scene["fparams"], name, scene["hp"][name],
                scene["starts"], scene["steps"], scene["seed"], scene["schedule"], scene["hooks"],
                scene["backend"])
        for name in scene["optimizers"]
    ]
    return optviz.Result.merge(results)


# ---------------------------------------------------------------------- sidebar
def _doc_markdown(doc: str) -> str:
    """The rule's docstring (reStructuredText) as Markdown with KaTeX."""
    head, _, body = doc.partition("\n")
    lines = textwrap.dedent(body).splitlines()
    out: list[str] = [head.strip(), ""]
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith(".. math::"):
            block = [line.split("::", 1)[1].strip()]
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
                block.append(lines[i].strip())
                i += 1
            tex = " ".join(b for b in block if b)
            if "\\\\" in tex:
                tex = r"\begin{gathered}" + tex + r"\end{gathered}"
            out += ["", f"$$\n{tex}\n$$", ""]
            continue
        out.append(line)
        i += 1
    md = "\n".join(out)
    md = re.sub(r":math:`([^`]*)`", r"$\1$", md)
    return md.replace("``", "`")


LAZY_EXPANDERS = "on_change" in inspect.signature(st.expander).parameters


def _expander(where: Any, label: str, key: str):
    """An expander whose content is only built while it is open, where Streamlit supports that
    (``on_change="rerun"``, Streamlit 1.5x+): 19 panels of sliders cost the browser ~0.4 s on
    every redraw otherwise. Older Streamlit: an ordinary expander (always built)."""
    if LAZY_EXPANDERS:
        return where.expander(label, key=key, on_change="rerun")
    return where.expander(label)


def hyperparam_widget(name: str, hp: HyperParam) -> None:
    key = _hp_key(name, hp.name)
    kind = _kind_of(hp)
    label = f"{hp.name}" + (" (learning rate)" if hp.lr else "")
    helptext = f"{hp.help}. Range [{hp.low:g}, {hp.high:g}], default {hp.default:g}."
    if kind in ("log", "decay"):
        opts = _options(name, hp)
        if ss[key] not in opts:  # e.g. a value set by an older preset: snap to the nearest
            ss[key] = min(opts, key=lambda v: abs(v - ss[key]))
        st.select_slider(label, options=opts, key=key, format_func=_fmt, help=helptext)
    elif kind == "int":
        st.slider(label, min_value=int(hp.low), max_value=_int_high(hp), step=1, key=key, help=helptext)
    else:
        st.slider(label, min_value=float(hp.low), max_value=float(hp.high), step=_linear_step(hp),
                  key=key, help=helptext, format="%g")


def sidebar() -> dict[str, Any]:
    """All the controls; returns the scene (plain, hashable values) and display options."""
    sb = st.sidebar
    sb.title("optviz")
    sb.caption("Race gradient-descent optimizers on classic test functions.")
    sb.button("Load the article's demo", key="load_article", on_click=load_article, icon=":material/movie:",
              help=presets.ARTICLE_QUARTIC.description, width="stretch", type="primary")

    # -- function
    sb.header("Function")
    names = list(FAMILIES)
    sb.selectbox("Test function", names, key="function", format_func=lambda n: FAMILIES[n].title,
                 on_change=on_function_change)
    fam = FAMILIES[ss["function"]]
    sb.latex(r"\small " + fam.formula)
    sb.caption(fam.description)
    dims = [d for d in PLOTTABLE if fam.supports(d)]
    if ss["dim"] not in dims:
        ss["dim"] = dims[-1]
    if len(dims) > 1:
        sb.radio("Dimension", dims, key="dim", horizontal=True,
                 help="This family exists in any dimension; the plots show 1-D or 2-D.")
    elif fam.max_dim is None or fam.max_dim > 2:
        sb.caption(f"An n-D family, shown here in {dims[0]}-D (plots need 1-D or 2-D).")
    fparams = []
    for p, default in fam.params.items():
        k = f"fparam__{fam.name}__{p}"
        ss.setdefault(k, float(default))
        fparams.append((p, float(sb.number_input(p, key=k, format="%g"))))

    # -- optimizers
    sb.header("Optimizers")
    sb.selectbox("Quick pick", ["…", *QUICK_GROUPS], key="quick_pick", on_change=pick_group,
                 format_func=lambda g: g if g == "…" else f"{QUICK_GROUPS[g]} ({len(GROUPS[g])})",
                 help="Replace the selection by a group: " + "; ".join(
                     f"{QUICK_GROUPS[g]}: {', '.join(GROUPS[g])}" for g in QUICK_GROUPS))
    sb.multiselect("Optimizers", list(NAMES), key="optimizers", label_visibility="collapsed",
                   placeholder="Choose optimizers")
    chosen = [n for n in NAMES if n in ss["optimizers"]]
    hp_values: dict[str, tuple] = {}
    for name in chosen:
        spec = REGISTRY[name]
        panel = _expander(sb, f"**{name}**: {spec.summary}", key=f"exp__{name}")
        if getattr(panel, "open", True):  # closed panels draw nothing (a lighter page to redraw)
            with panel:
                st.caption(f"{spec.reference}")
                for hp in spec.hyperparams:
                    hyperparam_widget(name, hp)
                c1, c2 = st.columns(2)
                c1.button("Reset", key=f"reset__{name}", on_click=reset_hp, args=(name,), width="stretch",
                          help="Back to the registry's defaults")
                with c2.popover("Update rule", width="stretch"):
                    st.markdown(_doc_markdown(spec.doc))
        hp_values[name] = tuple((hp.name, ss[_hp_key(name, hp.name)]) for hp in spec.hyperparams)

    # -- starting points
    sb.header("Starting points")
    sb.radio("Starts", START_MODES, key="start_mode", horizontal=True, label_visibility="collapsed")
    mode = ss["start_mode"]
    if mode == "Grid":
        sb.slider("Points per axis (N×N grid)" if ss["dim"] == 2 else "Points", 1, 10, key="grid_n")
    elif mode == "Random":
        sb.slider("Random points (from the seed)", 1, 256, key="rand_n")
    elif mode == "Ring":
        sb.slider("Points on the ring", 2, 64, key="ring_n")
        sb.slider("Radius (fraction of the box's half-width)", 0.05, 1.0, step=0.05, key="ring_frac")
        sb.radio("Centre", ("global minimum", "box centre"), key="ring_center", horizontal=True)
    else:
        sb.text_area("Points: `x, y` per line (1-D: numbers)", key="typed_starts", height=90,
                     help="Numbers are read with float(); separate points by new lines or ';'.")

    sb.header("Run")
    sb.slider("Steps", 10, 3000, step=10, key="steps")
    sb.number_input("Seed", min_value=0, max_value=2**31 - 1, step=1, key="seed",
                    help="Seeds the random starts and Santa's noise.")

    with sb.expander("Learning-rate schedule and gradient hooks"):
        st.selectbox("Schedule", SCHEDULES, key="schedule",
                     help="Multiplies every learning-rate hyperparameter at each step.")
        schedule = _schedule_text()
        st.caption(f"schedule: `{schedule}`")
        st.checkbox("LARS (layer-wise adaptive rate)", key="hook_lars")
        if ss["hook_lars"]:
            st.number_input("LARS threshold", min_value=0.0, step=0.01, key="lars_threshold", format="%g")
            st.number_input("LARS weight decay", min_value=0.0, step=0.001, key="lars_wd", format="%g")
        st.checkbox("Clip gradient norm", key="hook_clip")
        if ss["hook_clip"]:
            st.number_input("Max norm", min_value=1e-6, step=0.1, key="clip_max_norm", format="%g")
        st.checkbox("Weight decay (L2)", key="hook_wd")
        if ss["hook_wd"]:
            st.number_input("Decay rate λ", min_value=0.0, step=0.001, key="wd_rate", format="%g")

    sb.header("Compute and display")
    sb.radio("Backend", list(BACKENDS), key="backend", horizontal=True,
             help="NumPy is fastest for a few hundred points; CuPy pays off with many thousands.")
    ok, why = optviz.gpu_status()
    sb.caption((":material/check_circle: " if ok else ":material/block: ") + why)
    sb.toggle("Projector mode (large fonts)", key="large_font")
    c1, c2 = sb.columns(2)
    c1.selectbox("Error measure", ERROR_KINDS, key="error_kind",
                 help="distance to the nearest minimizer, f − f*, or f itself")
    c2.select_slider("Tolerance", options=_nice_log_values(1e-12, 1.0), key="tol", format_func=_fmt,
                     help="'converged' means the error is below this")

    return {
        "function": fam.name, "dim": int(ss["dim"]), "fparams": tuple(fparams),
        "optimizers": tuple(chosen), "hp": hp_values, "steps": int(ss["steps"]), "seed": int(ss["seed"]),
        "schedule": schedule, "hooks": _hook_texts(), "backend_label": ss["backend"],
    }


def _schedule_text() -> str:
    s = ss["schedule"]
    if s == "step":
        st.number_input("every (steps)", min_value=1, step=10, key="sched_every")
        st.number_input("γ (factor)", min_value=0.0, max_value=10.0, step=0.05, key="sched_gamma",
                        format="%g")
        return f"step:every={ss['sched_every']},gamma={ss['sched_gamma']:g}"
    if s == "exponential":
        st.number_input("γ per step", min_value=0.0, max_value=10.0, step=0.001, key="sched_exp_gamma",
                        format="%g")
        return f"exponential:gamma={ss['sched_exp_gamma']:g}"
    if s in ("cosine", "warm-up + cosine"):
        if s == "warm-up + cosine":
            st.number_input("warm-up steps", min_value=1, step=5, key="sched_warmup")
        st.number_input("floor (final factor)", min_value=0.0, max_value=1.0, step=0.05, key="sched_floor",
                        format="%g")
        cos = f"cosine:floor={ss['sched_floor']:g}"
        return f"warmup:steps={ss['sched_warmup']}+{cos}" if s == "warm-up + cosine" else cos
    return "constant"


def _hook_texts() -> tuple[str, ...]:
    hooks = []
    if ss["hook_lars"]:
        hooks.append(f"lars:threshold={ss['lars_threshold']:g},weight_decay={ss['lars_wd']:g}")
    if ss["hook_clip"]:
        hooks.append(f"clip:max_norm={ss['clip_max_norm']:g}")
    if ss["hook_wd"]:
        hooks.append(f"weight_decay:rate={ss['wd_rate']:g}")
    return tuple(hooks)


def make_starts(fn: Any) -> list[list[float]]:
    """The starting points chosen in the sidebar, inside ``fn``'s box (typed ones as typed)."""
    mode = ss["start_mode"]
    if mode == "Grid":
        pts = start_points.grid(fn.box, int(ss["grid_n"]))
    elif mode == "Random":
        pts = start_points.random(fn.box, int(ss["rand_n"]), seed=int(ss["seed"]))
    elif mode == "Ring":
        box = fn.box
        use_min = ss["ring_center"] == "global minimum" and len(fn.minimizers)
        center = fn.minimizers[0] if use_min else box.mean(axis=1)
        radius = float(ss["ring_frac"]) * float(min(box[:, 1] - box[:, 0])) / 2
        pts = start_points.ring(center, radius, int(ss["ring_n"]))
    else:
        return start_points.parse(ss["typed_starts"], fn.dim)
    return pts.tolist()


# ---------------------------------------------------------------------- main area
def style(large: bool) -> None:
    css = """
    <style>
    .block-container {padding: 3.9rem 1.5rem 1rem 1.5rem; max-width: none;}
    .block-container h4 {padding: 0 0 0.1rem 0;}
    [data-testid="stSidebar"] .katex-display {overflow-x: auto; overflow-y: hidden; padding-bottom: 2px;}
    [data-testid="stSidebar"] [data-testid="stExpander"] summary p {font-size: 0.92rem;}
    """
    if large:
        css += """
        html {font-size: 19px;}
        [data-testid="stMarkdownContainer"] p, [data-testid="stCaptionContainer"] {font-size: 1.15rem;}
        """
    st.html(css + "</style>")


def chart_config() -> dict[str, Any]:
    return {"displaylogo": False, "scrollZoom": False,
            "toImageButtonOptions": {"format": "png", "scale": 2, "filename": "optviz"}}


@st.fragment
def surface_section(result: optviz.Result, large: bool) -> None:
    if result.dim != 2:
        return
    st.toggle("3-D surface view", key="show_3d", help="The landscape as a surface, with every path on it")
    if ss["show_3d"]:
        st.plotly_chart(plots.surface_figure(result, large_font=large, height=720), key="surface_chart",
                        theme=None, config=chart_config())


def _scene_signature(result: optviz.Result) -> str:
    """Identifies what is on screen (for keeping an export's download next to its scene)."""
    hp = sorted((n, sorted((k, repr(v)) for k, v in h.items())) for n, h in result.hyperparams.items())
    return repr((result.function.name, result.dim, result.function.params, result.names, hp,
                 result.starts.tobytes(), result.steps, result.seed, result.schedule, result.hooks))


@st.fragment
def export_section(result: optviz.Result, kind: str) -> None:
    """Render the scene on screen to a GIF or MP4 (optviz.render) with a progress bar, then offer
    the download. A fragment: pressing these buttons reruns only this part of the page."""
    st.subheader("Export")
    try:
        from optviz import render
    except ImportError:  # pragma: no cover - render.py ships with optviz
        st.info("Export needs `optviz.render`, which is not available in this installation.")
        return
    sig = _scene_signature(result)
    c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 1, 2], vertical_alignment="bottom")
    c1.slider("Frames per second", 5, 30, key="export_fps")
    fmt = None
    if c2.button("Export GIF", key="export_gif", icon=":material/gif_box:", width="stretch"):
        fmt = ".gif"
    if c3.button("Export MP4", key="export_mp4", icon=":material/movie:", width="stretch"):
        fmt = ".mp4"
    if c4.button("Error plot PNG", key="export_png", icon=":material/show_chart:", width="stretch"):
        fmt = ".png"
    if fmt is not None:
        bar = st.progress(0.0, text="Rendering…")

        def progress(done: int, total: int) -> None:
            bar.progress(min(done / max(total, 1), 1.0), text=f"Rendering frame {done} of {total}")

        out = Path(tempfile.mkdtemp(prefix="optviz-")) / f"optviz-{result.function.name}{fmt}"
        try:
            if fmt == ".png":
                path = render.error_plot(result, out, kind=kind)
            else:
                path = render.animate(result, out, fps=int(ss["export_fps"]), max_frames=plots.MAX_FRAMES,
                                      kind=kind, progress=progress)
        except (ValueError, OSError, RuntimeError, MemoryError) as exc:  # e.g. no ffmpeg: keep the page
            bar.empty()
            st.error(f"Export failed: {exc}")
            return
        bar.progress(1.0, text=f"Done: {Path(path).name} ({Path(path).stat().st_size / 1e6:.1f} MB)")
        ss["export_file"] = (str(path), sig)
    if "export_file" in ss:
        path, made_for = ss["export_file"]
        p = Path(path)
        if made_for == sig and p.exists():
            mime = {".gif": "image/gif", ".mp4": "video/mp4", ".png": "image/png"}[p.suffix]
            c5.download_button(f"Download {p.suffix[1:].upper()}", p.read_bytes(), file_name=p.name,
                               mime=mime, key="export_download", icon=":material/download:", width="stretch",
                               on_click="ignore")
        elif made_for != sig:
            c5.caption("The scene changed since the last export: export again.")


def main() -> None:
    _init_state()
    # values chosen by "Tune learning rates" in the previous run, set before the sliders exist
    for key, value in ss.pop("pending_hp", {}).items():
        ss[key] = value
    scene = sidebar()
    large = bool(ss["large_font"])
    style(large)

    backend = BACKENDS[scene.pop("backend_label")]
    if backend == "cupy" and not optviz.gpu_status()[0]:
        st.warning(f"CuPy is not usable here ({optviz.gpu_status()[1]}). Running on NumPy instead.")
        backend = "numpy"
    scene["backend"] = backend

    if not scene["optimizers"]:
        st.info("Choose at least one optimizer in the sidebar (**Quick pick → All** selects every one).",
                icon=":material/arrow_back:")
        st.stop()

    try:
        fn = functions.get(scene["function"], scene["dim"], **dict(scene["fparams"]))
        scene["starts"] = tuple(tuple(float(v) for v in p) for p in make_starts(fn))
    except ENGINE_ERRORS as exc:
        st.error(f"Starting points: {_message(exc)}")
        st.stop()

    tune_section(scene)
    t0 = time.perf_counter()
    try:
        result = run_scene(scene)
    except ENGINE_ERRORS as exc:
        st.error(f"Cannot run this scene: {_message(exc)}")
        st.stop()
    t_run = time.perf_counter() - t0

    kind = ss["error_kind"]
    tol = float(ss["tol"])
    height = 860 if large else 720
    t1 = time.perf_counter()
    traj = plots.trajectory_figure(result, large_font=large, height=height, title="")
    err = plots.error_figure(result, kind, tol=tol, large_font=large, show_legend=large,
                             height=height - 120 if large else height)
    t_fig = time.perf_counter() - t1

    n_rows = len(traj.frame_dicts)
    k, n = len(result.names), result.n_points
    st.markdown(f"#### {fn.title}: {k} optimizer{'s' * (k != 1)} × {n} start{'s' * (n != 1)}, "
                f"{result.steps} steps")
    st.caption(
        f"{fn.dim}-D · seed {result.seed} · schedule `{result.schedule}`"
        + (f" · hooks `{', '.join(result.hooks)}`" if result.hooks else "")
        + f" · {result.backend} · run {1000 * t_run:.0f} ms, figures {1000 * t_fig:.0f} ms · "
        f"{n_rows} animation frames"
    )
    if plots.all_diverged(result):
        st.error("Every point of every optimizer diverged: the learning rates are too large for this "
                 "function. Lower them in the optimizers' panels (or press Reset).")

    # Projector mode: big fonts need the width, so the race takes the whole row.
    left, right = (st.container(), st.container()) if large else st.columns([2, 1], gap="small")
    with left:
        st.plotly_chart(traj, key="trajectory_chart", theme=None, config=chart_config())
    with right:
        st.plotly_chart(err, key="error_chart", theme=None, config=chart_config())

    notes = plots.diverged_notes(result)
    t_left, t_right = st.columns([2, 1], gap="small")
    with t_left:
        st.subheader("Results")
        table = plots.results_table(result, kind, tol)
        st.dataframe(plots.style_table(table, large), key="results_table",
                     height=35 * (len(table) + 1) + 3)
    with t_right:
        st.subheader("Diverged")
        if notes:
            st.warning("\n".join(f"- {n}" for n in notes))
        else:
            st.success("No optimizer diverged.")

    surface_section(result, large)
    export_section(result, kind)


def _message(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return str(exc) or type(exc).__name__


def page() -> None:
    """One run of the page (Streamlit reruns it on every interaction)."""
    st.set_page_config(page_title="optviz: optimizer race", page_icon=":material/sports_score:",
                       layout="wide", initial_sidebar_state="expanded")
    try:
        main()
    except Exception as exc:  # the last line of defence: a message on the page, not a traceback
        st.error(f"Unexpected error: {_message(exc)}. Try another setting, or reload the page.")
        with st.expander("Details for a bug report"):
            st.exception(exc)


if __name__ == "__main__":
    page()

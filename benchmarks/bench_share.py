"""Latencies of issue 11's page parts: opening a link, the "Inside an optimizer" view, scene files.

Run::

    python benchmarks/bench_share.py            # ~2 min on 2 cores
    python benchmarks/bench_share.py --quick    # one repeat each

It prints tables and writes ``benchmarks/results-share.md`` (``--out`` to change). Timings are
the median of ``--repeats`` calls. The page's runs go through Streamlit's AppTest (the whole
script, as a server runs it, without a browser: the browser's own drawing is
``bench_browser.py``'s). There are no timed unit tests: the tests check behaviour only.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import functions  # noqa: E402
import optviz  # noqa: E402
from optviz import cli  # noqa: E402
from optviz.cli.scene_args import scene_from_args  # noqa: E402
from optviz.dashboard.views import inside  # noqa: E402
from optviz.optimizers import NAMES  # noqa: E402
from optviz.scene.model import Scene, Starts  # noqa: E402

APP = str(ROOT / "app.py")
ROSEN = "(1 - x)**2 + 100*(y - x**2)**2"


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def page_run(query: dict[str, str] | None = None, **state) -> float:
    """One fresh session's first run (the whole page), in seconds."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["live_sweeps"] = "always"
    for k, v in state.items():
        at.session_state[k] = v
    for k, v in (query or {}).items():
        at.query_params[k] = v
    t0 = time.perf_counter()
    at.run()
    dt = time.perf_counter() - t0
    assert not at.exception, at.exception
    return dt


def inside_row(fn, name: str, steps: int, reps: int) -> tuple:
    """The inside view's costs for one optimizer: its run (plain and with the state recorded) and
    its two figures, checked by Plotly as ``st.plotly_chart`` does."""
    import plotly.tools

    start = [[-1.5, 2.0]]
    plain = median_time(lambda: optviz.run(fn, name, start, steps), reps)
    rec = median_time(lambda: optviz.run(fn, name, start, steps, record_state=True), reps)
    res = optviz.run(fn, name, start, steps, record_state=True)
    s, traj = res.states[name], res.trajectories[name][:, 0]

    def figures() -> None:
        for fig in (inside.path_figure(fn, traj, s["grad"][:, 0], s["update"][:, 0], steps // 2, "#c00"),
                    inside.state_figure(s, 0, steps // 2, steps, "#c00")):
            plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)

    figs = median_time(figures, reps)
    return name, f"{steps:,}", f"{1000 * plain:.1f}", f"{1000 * rec:.1f}", f"{1000 * figs:.0f}"


def table(title: str, header: tuple[str, ...], rows: list[tuple]) -> list[str]:
    out = [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    print("\n".join(out[2:]) + "\n")
    return [*out, ""]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="one repeat each")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results-share.md")
    args = ap.parse_args()
    reps = 1 if args.quick else args.repeats
    where = f"{platform.machine()}, Python {platform.python_version()}"
    lines = ["# Links, scene files and the inside view: timings", "",
             f"`python benchmarks/bench_share.py` on {where}, median of {reps}. The machine is shared "
             "(2 cores, other work running): treat these as upper bounds.", ""]

    # -- the inside view: one start's run with its state, and the two figures
    fn = functions.from_expression(ROSEN, box=[[-2, 2], [-1, 3]], minimizers=[[1, 1]])
    rows = [inside_row(fn, name, steps, reps) for steps in (300, 3000) for name in ("Adam", "SantaE")]
    lines += table("Inside an optimizer: one start (ms)",
                   ("optimizer", "steps", "run", "run, state recorded",
                    "both figures, as st.plotly_chart checks them"), rows)

    # -- the page: a first run, opened plain or with a link
    scene = Scene.from_run_kwargs(fn, {n: {} for n in NAMES[:6]}, Starts.grid(4), 300)
    builtin = Scene.from_run_kwargs("himmelblau", {n: {} for n in NAMES[:6]}, Starts.grid(4), 300)
    page_run()  # warm: imports, the function's build, the caches of the first scene
    rows = [
        ("the first page (no link)", f"{median_time(page_run, reps):.2f}"),
        ("a link to a built-in scene (6 optimizers, 16 starts)",
         f"{median_time(lambda: page_run(builtin.to_query()), reps):.2f}"),
        ("a link to a typed Rosenbrock (6 optimizers, 16 starts)",
         f"{median_time(lambda: page_run(scene.to_query()), reps):.2f}"),
        ("the inside view's tab opened (typed Rosenbrock link)",
         f"{median_time(lambda: page_run(scene.to_query(), view='Inside an optimizer'), reps):.2f}"),
    ]
    lines += table("The page: a session's first run, whole page, through AppTest (s)", ("run", "s"), rows)

    # -- scene files and links: parse and check
    q = scene.to_query()
    text = scene.to_json()
    bad = {**q, "opt": "Adam:alpha=20"}

    def refuse() -> None:
        try:
            Scene.from_query(bad)
        except ValueError:
            return
        raise AssertionError("a bad link was accepted")

    argv = ["run", "--scene", str(ROOT / "benchmarks" / ".bench-scene.json")]
    scene.save(argv[-1])
    try:
        cli_build = median_time(lambda: scene_from_args(cli.build_parser().parse_args(argv)), reps)
    finally:
        Path(argv[-1]).unlink(missing_ok=True)
    link_ms = 1000 * median_time(lambda: Scene.from_query(q), reps)
    file_ms = 1000 * median_time(lambda: Scene.from_json(text), reps)
    rows = [
        ("Scene.from_query (a typed function's link, built before)", f"{link_ms:.1f}"),
        ("Scene.from_json (the same scene as a file)", f"{file_ms:.1f}"),
        ("a malformed link refused", f"{1000 * median_time(refuse, reps):.2f}"),
        ("optviz run --scene: options and file to the scene", f"{1000 * cli_build:.1f}"),
    ]
    lines += table("Links and scene files (ms)", ("what", "ms"), rows)
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

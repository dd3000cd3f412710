"""How fast typed functions are refused or built, how fast they run, and how fast scenes load.

The issue's targets: every hostile expression refused within 1 s, and nothing a link or a
file holds can hang the server. Run::

    python benchmarks/bench_expression.py            # ~1 min on 2 cores
    python benchmarks/bench_expression.py --quick    # one repeat each, no engine runs

It prints tables and writes ``benchmarks/results-expression.md`` (``--out`` to change).
Each timing is the best of ``--repeats`` fresh calls (the build cache is cleared between
calls); SymPy's import is timed in a fresh process. There are no timed unit tests: the tests
only hold a generous per-row bound.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import functions  # noqa: E402
import optviz  # noqa: E402
from functions import expression  # noqa: E402
from optviz.optimizers import NAMES  # noqa: E402
from optviz.scene.model import Scene, Starts  # noqa: E402

BOX2 = [[-2.0, 2.0], [-1.0, 3.0]]
HOSTILE = {
    "__import__('os').system('ls')": "a call of anything not listed",
    "x" * 1001: "over-long text",
    "9**9**9": "huge literal power",
    "2**2**2**2**2": "huge power tower",
    "sin(" * 40 + "x" + ")" * 40: "nesting beyond the bound",
    "-" * 500 + "x": "500 unary minus signs",
    "(" * 250 + "x" + ")" * 250: "250 nested brackets",
    "[c for c in ().__class__.__bases__]": "a comprehension",
    "(lambda: 1)()": "a lambda",
    "log(x)": "not finite over its box (grid check)",
    "exp(exp(exp(x)))": "overflows over its box (grid check)",
    "*".join(f"sin(x + {i}*y)" for i in range(1, 80))[: expression.MAX_CHARS].rsplit("*", 1)[0]: (
        "a 70-factor product (its gradient would be too large)"
    ),
    "/".join(f"(x + {i}*y + 3)" for i in range(1, 80))[: expression.MAX_CHARS].rsplit("/", 1)[0]: (
        "a 60-term quotient (its gradient would be too large)"
    ),
    "x**" * 30 + "y": "a power tower x**x**...**y (30 levels)",
    "x**" * 8 + "y": "the highest power tower accepted (8 levels), overflowing (grid check)",
}
POLY = "+".join(f"{i % 7 + 1}*x**{2 * (i % 3)}*y**{2 * (i % 2)}" for i in range(1, 200))
VALID = [  # (text, box, what)
    ("(1 - x)**2 + 100*(y - x**2)**2", BOX2, "Rosenbrock"),
    ("(x**2 + y - 11)**2 + (x + y**2 - 7)**2", [[-5, 5], [-5, 5]], "Himmelblau (four minima estimated)"),
    ("4*(x**4/4 - x**3/6 - 17*x**2/8 - 15*x/8)", [[-3, 3]], "the article's quartic (1-D)"),
    ("max(x, y)**2 + abs(x - 1) + min(y, 0.5)*sin(x)", BOX2, "kinks: abs, min, max"),
    (POLY[: expression.MAX_CHARS].rsplit("+", 1)[0], BOX2, "a 1,000-character polynomial"),
]


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        expression._build.cache_clear()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def refuse(text: str) -> str:
    box = BOX2 if "y" in text else [[-2.0, 2.0]]
    try:
        functions.from_expression(text, box=box)
    except ValueError as exc:
        return str(exc)
    return "ACCEPTED"


def sympy_import_s() -> float:
    code = "import time; t = time.perf_counter(); import sympy; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results-expression.md"))
    args = ap.parse_args()
    reps = 1 if args.quick else args.repeats
    lines = [
        "# Typed functions and scenes: timings",
        "",
        f"`python benchmarks/bench_expression.py` on {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, best of {reps}. The machine is shared: treat these as "
        "upper bounds.",
        "",
        f"SymPy import (fresh process, paid once by the first typed function): "
        f"{sympy_import_s():.2f} s. Refusals by the parser need no SymPy.",
        "",
    ]
    functions.from_expression("x**2")  # SymPy imported, as on a running server

    lines += [
        "## Hostile input: time to refuse (target < 1 s)",
        "",
        "| input | s | message |",
        "|---|---|---|",
    ]
    worst = 0.0
    for text, what in HOSTILE.items():
        s = best(lambda t=text: refuse(t), reps)
        worst = max(worst, s)
        msg = refuse(text).replace("|", "\\|")
        lines.append(f"| {what} | {s:.3f} | {msg[:110]}{'…' if len(msg) > 110 else ''} |")
    lines += ["", f"Slowest refusal: **{worst:.3f} s**.", ""]

    lines += [
        "## Valid input: time to build (parse, differentiate, compile, grid check, minimizers)",
        "",
        "| function | s | minimizers |",
        "|---|---|---|",
    ]
    for text, box, what in VALID:
        s = best(lambda t=text, b=box: functions.from_expression(t, box=b), reps)
        f = functions.from_expression(text, box=box)
        lines.append(f"| {what} | {s:.3f} | {len(f.minimizers)} ({f.description.split('; ', 1)[1][:60]}) |")

    scene = Scene.from_run_kwargs("rosenbrock", {n: {} for n in NAMES}, Starts.grid(4), 300)
    text, query = scene.to_json(), scene.to_query()
    n = 20 if args.quick else 200
    rows = []
    for label, fn in [
        ("Scene.to_json", scene.to_json),
        ("Scene.from_json", lambda: Scene.from_json(text)),
        ("Scene.to_query", scene.to_query),
        ("Scene.from_query", lambda: Scene.from_query(query)),
    ]:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        rows.append(f"| {label} | {1e3 * (time.perf_counter() - t) / n:.2f} |")
    lines += [
        "",
        "## Scenes (the dashboard's default: 19 optimizers, 4×4 grid, 300 steps)",
        "",
        f"JSON {len(text):,} characters; URL query {sum(len(k) + len(v) + 2 for k, v in query.items())} "
        "characters before URL-encoding.",
        "",
        "| call | ms |",
        "|---|---|",
        *rows,
    ]

    if not args.quick:
        typed = functions.from_expression("(1 - x)**2 + 100*(y - x**2)**2", box=BOX2, minimizers=[[1, 1]])
        starts = optviz.scene.starts.grid(typed.box, 4)
        out = []
        for label, f in [("built-in rosenbrock", "rosenbrock"), ("typed Rosenbrock", typed)]:
            ts = []
            for _ in range(5):
                t = time.perf_counter()
                optviz.run(f, "all", starts, 300)
                ts.append(time.perf_counter() - t)
            out.append(f"| {label} | {1e3 * statistics.median(ts):.0f} |")
        lines += [
            "",
            "## The race with a typed function (19 optimizers × 16 starts × 300 steps, NumPy)",
            "",
            "| function | ms (median of 5) |",
            "|---|---|",
            *out,
        ]
    report = "\n".join(lines) + "\n"
    print(report)
    if not args.quick:
        Path(args.out).write_text(report)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

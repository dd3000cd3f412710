"""A lecture hall on one server: ``optviz dashboard`` under 30 sessions at once (issue 23).

Starts the real server (``python -m optviz dashboard --headless`` on 127.0.0.1, a free port,
``--memory-budget``), then opens sessions the way a browser does (``GET /?query``, then
Streamlit's websocket protocol: a ``rerun_script`` message with the page's query, then every
``ForwardMsg`` until ``script_finished``), all at once:

- **heavy**: the issue's legal heavy links: every optimizer from 877 typed points, as many
  steps as the server's limit (5e7 point-steps) allows, one seed each;
- **slow formulas**: nested ``max`` formulas that kept SymPy busy for 17-62 s;
- **long links**: a 400 KB link (its page must say what is wrong, not HTTP 400);
- **light**: the default page, opened again and again (a new session each time) while the
  heavy ones compute: the time to its last element is the "light page" time.

It samples the server's resident memory (VmRSS of the server process, and of the process tree
with its kernel-compile child) every 0.1 s and prints: the peak RSS against the budget (target:
budget + 300 MB), the light page's median and worst time (targets 3 s and 8 s), the refusals the
pages showed, and request errors (HTTP status not 200, a dropped websocket, a timeout, an
exception on a page: target none). Bounded: at most ``--sessions`` sessions and ``--seconds``.

    python benchmarks/bench_server.py                      # 30 sessions, budget 2GB
    python benchmarks/bench_server.py --out benchmarks/results-server   # also writes .md and .json

The light time is the server's part of drawing a page (its script run, every element sent); a
browser then paints the race in about a second more (benchmarks/results-browser.md).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: The server's limit on a link's work (point-steps): optviz.scene.model.SERVER_LIMITS.
LIMIT_WORK = 5e7
#: Seconds a light session waits between two visits (a student reading the page, then reloading
#: it or opening another): 18 light sessions then ask for ~1.5 pages a second. (At 2 s, ~3.2 a
#: second, the one Python process was saturated by the light pages alone: median 3.1 s, worst 12.5 s.)
PAUSE = 10.0


@dataclass
class Outcome:
    kind: str
    seconds: float = 0.0
    status: str = ""  # "ok", "refused", "error"
    message: str = ""


@dataclass
class Tally:
    outcomes: list[Outcome] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, o: Outcome) -> None:
        with self.lock:
            self.outcomes.append(o)
            if o.status == "error":
                self.errors.append(f"{o.kind}: {o.message}")


# ---------------------------------------------------------------------- the links
def heavy_query(seed: int) -> str:
    """The issue's heavy link: every optimizer from 877 typed points, at the server's limit."""
    from optviz.optimizers import resolve

    pts = np.random.default_rng(seed).uniform(-2, 2, (877, 2))
    steps = int(LIMIT_WORK // (len(resolve("all")) * 877))
    q = {"v": "2", "fn": "rosenbrock", "opt": "all", "starts": "points",
         "pts": ";".join(f"{x:.4f},{y:.4f}" for x, y in pts), "steps": str(steps), "seed": str(seed)}
    return urllib.parse.urlencode(q)


def slow_formula_query(k: int) -> str:
    """A nested ``max`` formula of ~400-500 characters (20 levels) that SymPy once took a minute on."""
    s = "x"
    for i in range(1, 21):
        s = f"max({s}, sin({i + k}*x + {(i + k) % 7}*y))"
    return urllib.parse.urlencode({"v": "2", "expr": s, "box": "-2,2,-2,2", "opt": "Adam",
                                   "starts": "grid:n=4"})


def long_query() -> str:
    return urllib.parse.urlencode({"v": "2", "fn": "rosenbrock", "opt": "Adam", "starts": "grid:n=4",
                                   "steps": "x" * 400_000})


# ---------------------------------------------------------------------- a session
async def open_page(port: int, query: str, kind: str, timeout: float) -> Outcome:
    """One browser visit: GET the page, then run its script over the websocket to the end."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    t0 = time.perf_counter()
    status = await asyncio.to_thread(_get, port, "/?" + query if query else "/")
    if status != 200:
        return Outcome(kind, time.perf_counter() - t0, "error", f"HTTP {status}")
    alerts: list[str] = []
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                                      max_size=None, origin=f"http://127.0.0.1:{port}",
                                      open_timeout=timeout) as ws:
            msg = BackMsg()
            msg.rerun_script.query_string = query
            msg.rerun_script.page_script_hash = ""
            await ws.send(msg.SerializeToString())
            deadline = time.perf_counter() + timeout
            while True:
                raw = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.perf_counter()))
                f = ForwardMsg()
                f.ParseFromString(raw)
                which = f.WhichOneof("type")
                if which == "delta" and f.delta.WhichOneof("type") == "new_element":
                    el = f.delta.new_element
                    if el.WhichOneof("type") == "exception":
                        return Outcome(kind, time.perf_counter() - t0, "error",
                                       f"exception on the page: {el.exception.message[:200]}")
                    if el.WhichOneof("type") == "alert" and el.alert.format == 1:  # st.error
                        alerts.append(el.alert.body)
                if which == "script_finished":
                    break
    except (TimeoutError, asyncio.TimeoutError):
        return Outcome(kind, time.perf_counter() - t0, "error", f"no answer within {timeout:.0f} s")
    except Exception as exc:  # a dropped websocket, a refused connection
        return Outcome(kind, time.perf_counter() - t0, "error", f"{type(exc).__name__}: {exc}"[:200])
    took = time.perf_counter() - t0
    if alerts:
        return Outcome(kind, took, "refused", " | ".join(a[:160] for a in alerts))
    return Outcome(kind, took, "ok")


def _get(port: int, path: str) -> int:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        return r.status
    except OSError as exc:
        return -abs(getattr(exc, "errno", 1) or 1)
    finally:
        c.close()


# ---------------------------------------------------------------------- the server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_rss(pid: int) -> tuple[int, int]:
    """(RSS of ``pid``, RSS of ``pid`` and its descendants), bytes."""
    def rss(p: int) -> int:
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def children(p: int) -> list[int]:
        try:
            with open(f"/proc/{p}/task/{p}/children") as fh:
                return [int(c) for c in fh.read().split()]
        except OSError:
            return []

    own, total, todo = rss(pid), 0, [pid]
    while todo:
        p = todo.pop()
        total += rss(p)
        todo += children(p)
    return own, total


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.peak_tree, self.stop = pid, 0, 0, threading.Event()
        self.series: list[tuple[float, int]] = []

    def run(self) -> None:
        t0 = time.perf_counter()
        while not self.stop.is_set():
            own, tree = tree_rss(self.pid)
            self.peak, self.peak_tree = max(self.peak, own), max(self.peak_tree, tree)
            self.series.append((time.perf_counter() - t0, own))
            time.sleep(0.1)


def server_pid(parent: int) -> int:
    """The ``optviz.dashboard.serve`` process under ``optviz dashboard``."""
    for _ in range(100):
        try:
            with open(f"/proc/{parent}/task/{parent}/children") as fh:
                kids = [int(c) for c in fh.read().split()]
        except OSError:
            kids = []
        if kids:
            return kids[0]
        time.sleep(0.1)
    return parent


def compile_kernels(queries: list[str]) -> float:
    """Compile (or load) the kernels of these links' scenes into the disk cache, as a server that
    ran them before has them; the seconds it took."""
    from optviz.dashboard import compute
    from optviz.engine import fast
    from optviz.engine.job import make_job
    from optviz.scene.model import Scene

    t0 = time.perf_counter()
    jobs = []
    for q in queries:
        scene = Scene.from_query(dict(urllib.parse.parse_qsl(q)))
        kw = {**scene.run_kwargs(), **compute.engine_options(scene, "numpy")}
        kw = {k: v for k, v in kw.items() if k not in ("fused", "threads", "progress", "max_seconds")}
        jobs.append(make_job(**{**kw, "steps": 2})[0])
    fast.compile_many(jobs)
    return time.perf_counter() - t0


def start_server(port: int, budget: str, cache: str | None = None) -> subprocess.Popen:
    """``optviz dashboard`` on 127.0.0.1:``port``; ``cache``: its kernel cache folder (an empty
    one: nothing compiled yet)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **({"OPTVIZ_CACHE_DIR": cache} if cache else {})}
    proc = subprocess.Popen([sys.executable, "-m", "optviz", "dashboard", "--headless", "--host", "127.0.0.1",
                             "--port", str(port), "--memory-budget", budget], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if _get(port, "/_stcore/health") == 200:
            return proc
        if proc.poll() is not None:
            raise RuntimeError(f"the server ended: {proc.stderr.read()[-2000:]}")
        time.sleep(0.25)
    raise RuntimeError("the server did not answer within 90 s")


# ---------------------------------------------------------------------- the hall
async def hall(port: int, args: argparse.Namespace, tally: Tally) -> float:
    heavy = [heavy_query(seed) for seed in range(1, args.heavy + 1)]
    slow = [slow_formula_query(k) for k in range(args.slow)]
    longs = [long_query() for _ in range(args.long)]
    n_light = max(1, args.sessions - len(heavy) - len(slow) - len(longs))
    busy = asyncio.Event()
    busy.set()
    t0 = time.perf_counter()
    end = t0 + args.seconds

    async def once(q: str, kind: str) -> None:
        tally.add(await open_page(port, q, kind, max(5.0, end - time.perf_counter())))

    async def light(i: int) -> None:
        await asyncio.sleep(0.1 * i)
        while True:
            tally.add(await open_page(port, "", "light", max(5.0, end - time.perf_counter())))
            if not busy.is_set() or time.perf_counter() > end:
                return
            await asyncio.sleep(PAUSE)

    lights = [asyncio.create_task(light(i)) for i in range(n_light)]
    others = [asyncio.create_task(once(q, "heavy")) for q in heavy]
    others += [asyncio.create_task(once(q, "slow formula")) for q in slow]
    others += [asyncio.create_task(once(q, "long link")) for q in longs]
    await asyncio.gather(*others)
    busy.clear()
    await asyncio.gather(*lights)
    return time.perf_counter() - t0


def summary(tally: Tally, sampler: Sampler, budget: int, after: int, base: int, wall: float,
            args: argparse.Namespace) -> dict:
    def of(kind: str) -> list[Outcome]:
        return [o for o in tally.outcomes if o.kind == kind]

    light = [o.seconds for o in of("light") if o.status != "error"]
    kinds = {}
    for kind in ("light", "heavy", "slow formula", "long link"):
        os_ = of(kind)
        kinds[kind] = {
            "opened": len(os_),
            "ok": sum(o.status == "ok" for o in os_),
            "refused": sum(o.status == "refused" for o in os_),
            "errors": sum(o.status == "error" for o in os_),
            "median_s": round(statistics.median([o.seconds for o in os_]), 2) if os_ else None,
            "worst_s": round(max(o.seconds for o in os_), 2) if os_ else None,
            "messages": sorted({o.message for o in os_ if o.message})[:4],
        }
    mb = 2**20
    return {
        "machine": f"{platform.node()} ({os.cpu_count()} cores), Python {platform.python_version()}",
        "sessions": args.sessions, "heavy": args.heavy, "slow": args.slow, "long": args.long,
        "budget_mb": budget // mb,
        "rss_before_mb": base // mb,
        "peak_rss_mb": sampler.peak // mb,
        "peak_rss_tree_mb": sampler.peak_tree // mb,
        "rss_after_close_mb": after // mb,
        "target_peak_mb": budget // mb + 300,
        "light_median_s": round(statistics.median(light), 2) if light else None,
        "light_worst_s": round(max(light), 2) if light else None,
        "light_pages": len(light),
        "request_errors": len(tally.errors),
        "errors": tally.errors[:10],
        "wall_s": round(wall, 1),
        "pause_s": PAUSE,
        "load_average": [round(v, 1) for v in os.getloadavg()],
        "kinds": kinds,
    }


def table(s: dict) -> str:
    ok = lambda c: "yes" if c else "NO"  # noqa: E731
    lines = [
        f"server: {s['sessions']} sessions at once ({s['heavy']} heavy links, {s['slow']} slow formulas, "
        f"{s['long']} 400 KB links, the rest light, each reopening its page {s['pause_s']:.0f} s after it "
        f"drew), budget {s['budget_mb']} MB; {s['machine']}; {s['wall_s']} s; load average at the end "
        f"{s['load_average']} (other work shared the cores); the heavy links' kernels "
        + ("compiled before the server started" if s.get("kernels") == "ready"
           else "not compiled yet (cold)"),
        "",
        "| measure | value | target | met |",
        "|---|---|---|---|",
        f"| peak RSS of the server | {s['peak_rss_mb']} MB (with its compile child: "
        f"{s['peak_rss_tree_mb']} MB; idle before: {s['rss_before_mb']} MB) | ≤ {s['target_peak_mb']} MB | "
        f"{ok(s['peak_rss_mb'] <= s['target_peak_mb'])} |",
        f"| RSS after every session closed | {s['rss_after_close_mb']} MB | ≤ {s['target_peak_mb']} MB | "
        f"{ok(s['rss_after_close_mb'] <= s['target_peak_mb'])} |",
        f"| light page, median ({s['light_pages']} opened while heavy ones ran) | {s['light_median_s']} s "
        "| ≤ 3 s | "
        f"{ok(s['light_median_s'] is not None and s['light_median_s'] <= 3)} |",
        f"| light page, worst | {s['light_worst_s']} s | ≤ 8 s | "
        f"{ok(s['light_worst_s'] is not None and s['light_worst_s'] <= 8)} |",
        f"| request errors | {s['request_errors']} | 0 | {ok(s['request_errors'] == 0)} |",
        "",
        "| pages | opened | drawn | refused (the page's message) | errors | median s | worst s |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, k in s["kinds"].items():
        lines.append(f"| {kind} | {k['opened']} | {k['ok']} | {k['refused']} | {k['errors']} | "
                     f"{k['median_s']} | {k['worst_s']} |")
    msgs = [(kind, m) for kind, k in s["kinds"].items() for m in k["messages"]]
    if msgs:
        lines += ["", "Messages the pages showed (first of each):", ""]
        lines += [f"- {kind}: {m[:300]}" for kind, m in msgs]
    if s["errors"]:
        lines += ["", "Errors:", ""] + [f"- {e}" for e in s["errors"]]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--heavy", type=int, default=6)
    ap.add_argument("--slow", type=int, default=4)
    ap.add_argument("--long", type=int, default=2)
    ap.add_argument("--budget", default="2GB")
    ap.add_argument("--seconds", type=float, default=480.0, help="the hall's time limit")
    ap.add_argument("--out", help="write OUT.md and OUT.json")
    ap.add_argument("--kernels", choices=("ready", "cold"), default="cold",
                    help="ready: compile the heavy links' kernels first, as a server that ran them before "
                         "has them on disk; cold: an empty kernel cache (even the default page's kernels "
                         "compile in the background meanwhile)")
    args = ap.parse_args()
    if args.sessions > 60 or args.seconds > 900:
        ap.error("at most 60 sessions and 900 s")
    from optviz.dashboard import memory

    budget = memory.parse_budget(args.budget)
    compiled = compile_kernels([heavy_query(1)]) if args.kernels == "ready" else None
    port = free_port()
    cold = tempfile.TemporaryDirectory(prefix="optviz-bench-cache-") if args.kernels == "cold" else None
    proc = start_server(port, args.budget, cold.name if cold else None)
    try:
        pid = server_pid(proc.pid)
        # the first visit ends the server's own warm-up; then the idle size
        asyncio.run(open_page(port, "", "warm-up", 120))
        time.sleep(2)
        base = tree_rss(pid)[0]
        sampler = Sampler(pid)
        sampler.start()
        tally = Tally()
        wall = asyncio.run(hall(port, args, tally))
        time.sleep(5)  # the sessions are closed: what stays
        after = tree_rss(pid)[0]
        sampler.stop.set()
        sampler.join()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        if cold is not None:
            cold.cleanup()
    s = summary(tally, sampler, budget, after, base, wall, args)
    s["kernels"] = args.kernels
    s["compile_s"] = None if compiled is None else round(compiled, 1)
    text = table(s)
    print(text)
    if args.out:
        Path(args.out + ".json").write_text(json.dumps(s, indent=2) + "\n")
        Path(args.out + ".md").write_text(
            "# The lecture server under load (benchmarks/bench_server.py)\n\n"
            f"`python benchmarks/bench_server.py --out {args.out}`\n\n" + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The lecture server's memory budget and turns (issue 23): the caches stay within bytes, a big
race is recorded at the rows the page draws (or refused with its estimate), heavy runs take turns."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from optviz.dashboard import compute, memory
from optviz.live import sweeps
from optviz.scene.model import Scene


def _scene(n: int = 200, steps: int = 300, seed: int = 0, opt: str = "SGD;Adam;NAG;RMSprop;MSGD") -> Scene:
    pts = np.random.default_rng(seed).uniform(-2, 2, (n, 2))
    return Scene.from_query({"v": "2", "fn": "rosenbrock", "opt": opt, "starts": "points",
                             "pts": ";".join(f"{x:.3f},{y:.3f}" for x, y in pts), "steps": str(steps),
                             "seed": str(seed)})


def test_the_runs_cache_stays_under_its_byte_budget():
    cap = 8 * memory.MB
    runs = compute._Runs(capacity=cap)
    sizes = []
    for seed in range(10):  # each scene's five runs take ~7 MB: far more than the cache holds in all
        result = runs.get(_scene(seed=seed), "numpy", fused=False)
        sizes.append(memory.size_of(result))
        assert runs.runs.total <= cap
        assert runs.runs.total == sum(memory.size_of(v) for v, _ in runs.runs.items.values())
    assert sum(sizes) > 5 * cap
    assert len(runs.runs) >= 1  # the latest runs are kept: a slider's move reruns one optimizer
    last = compute._Runs.key(_scene(seed=9), "numpy", "Adam")
    assert last in runs.runs


def test_a_value_larger_than_the_whole_cache_is_not_kept():
    lru = memory.LRU(100, sizer=len)
    lru.put("a", b"x" * 60)
    lru.put("b", b"x" * 60)
    assert list(lru.items) == ["b"] and lru.total == 60
    lru.put("c", b"x" * 500)
    assert "c" not in lru and lru.total == 60


def test_a_big_race_is_recorded_at_the_rows_the_page_draws(monkeypatch):
    scene = _scene(n=300, steps=400)
    assert compute.record_every(scene) == 1
    monkeypatch.setattr(memory, "run_cap", lambda total=None: 8 * memory.MB)
    every = compute.record_every(scene)
    assert every == sweeps.stride_for(400, sweeps.max_rows_for(5 * 300)) > 1
    result = compute._Runs(capacity=64 * memory.MB).get(scene, "numpy", fused=False)
    rec = np.asarray(result.recorded_steps)
    assert list(sweeps.shown_rows(rec, every)) == list(range(len(rec)))  # every row recorded is drawn
    assert rec[-1] == 400 and memory.size_of(result) <= 8 * memory.MB
    full = compute._Runs(capacity=64 * memory.MB).get(_scene(n=300, steps=400), "numpy", fused=False)
    for name in result.names:  # the table's numbers are the same
        np.testing.assert_array_equal(result.trajectories[name][-1], full.trajectories[name][-1])
        np.testing.assert_array_equal(result.diverged_step[name], full.diverged_step[name])


def test_a_race_too_big_even_so_is_refused_up_front_with_its_estimate(monkeypatch):
    monkeypatch.setattr(memory, "run_cap", lambda total=None: 10**6)
    with pytest.raises(ValueError, match=r"would keep about 4 MB of paths \(5 optimizers × 300 starts\), "
                                         r"over this server's 1 MB per run"):
        compute.record_every(_scene(n=300, steps=400))


def test_the_budget_is_shared_out():
    total = memory.parse_budget("2GB")
    assert total == 2 * 2**30
    parts = memory.cache_bytes(total) + memory.runs_bytes(total) + memory.HEAVY_SLOTS * memory.run_cap(total)
    assert memory.BASE + parts <= total
    assert memory.parse_budget("1536mb") == 1536 * memory.MB == memory.parse_budget(str(1536 * memory.MB))
    assert memory.streamlit_size(memory.cache_bytes(total)) == "614mb"


def test_heavy_runs_take_turns():
    turns = memory.Turns(slots=1)
    running, most, ticks = [0], [0], []
    lock = threading.Lock()

    def heavy() -> None:
        with turns.turn(ticks.append, poll=0.01):
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.05)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=heavy) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert most[0] == 1 and ticks and turns.running == 0 and turns.waiting() == 0


def test_stop_while_waiting_leaves_the_queue():
    turns = memory.Turns(slots=1)

    class Stop(BaseException):
        pass

    def stop(ahead: int) -> None:
        raise Stop

    with turns.turn():
        with pytest.raises(Stop), turns.turn(stop, poll=0.01):
            pass  # pragma: no cover - never gets a turn
        assert turns.waiting() == 0
    with turns.turn():  # the slot is free again
        assert turns.running == 1


def test_a_background_compile_ends_with_the_process_that_started_it(tmp_path):
    """No orphan (issue 23): the warm-up child ends once its parent (the dashboard, a command)
    has ended, not after its compile (tens of seconds)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    parent = (
        "import sys; from optviz.engine.fast import warm; "
        "r = {'function': {'expression': 'x**2 + 3.25*y**2 + cos(x*y)', 'box': [[-2, 2], [-2, 2]], "
        "'minimizers': None}, 'optimizers': ['Adam', 'SGD', 'NAG'], 'noise_mode': None, 'delay': False, "
        "'tol_kind': 'distance', 'record_state': False}; "
        "assert warm._spawn([r], {'k'}); print(warm._PROCS[0][0].pid, flush=True)"
    )
    env = {**os.environ, "PYTHONPATH": str(root), "OPTVIZ_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", parent], capture_output=True, text=True, env=env, timeout=60)
    child = int(out.stdout.split()[0])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        with open(f"/proc/{child}/stat") as fh:  # (a zombie of init's is gone too)
            if fh.read().split(") ")[-1].startswith("Z"):
                return
        time.sleep(0.2)
    os.kill(child, 9)
    raise AssertionError("the warm-up process outlived its parent by 20 s")


def test_dask_workers_started_locally_leave_ctrl_c_to_the_command():
    """``--scheduler local``: the worker processes ignore the terminal's Ctrl-C (it reached every
    process of the group, and each printed its tracebacks: 69 lines); the command stops them."""
    import subprocess
    import sys

    from optviz.explore import scale

    probe = [sys.executable, "-c", "import signal; print(signal.getsignal(signal.SIGINT) == signal.SIG_IGN)"]
    with scale._children_ignore_interrupts():
        inside = subprocess.run(probe, capture_output=True, text=True, timeout=60).stdout.strip()
    after = subprocess.run(probe, capture_output=True, text=True, timeout=60).stdout.strip()
    assert (inside, after) == ("True", "False")


def test_the_server_reads_a_link_as_long_as_streamlit_does():
    """A 220-400 KB link got no page (uvicorn's parser refused the request line over ~130 KB);
    served now, the page says what is wrong with it (issue 23)."""
    from streamlit.web.server.starlette import starlette_server

    from optviz.dashboard import serve

    assert serve.allow_long_links()
    kwargs = starlette_server._get_uvicorn_config_kwargs()
    assert kwargs["h11_max_incomplete_event_size"] == serve.MAX_REQUEST_LINE >= 512 * 1024 + 400_000 // 4
    assert serve.allow_long_links()  # once only
    assert starlette_server._get_uvicorn_config_kwargs()["h11_max_incomplete_event_size"] == \
        serve.MAX_REQUEST_LINE


def test_a_real_server_serves_a_400_kb_link(tmp_path):
    import http.client
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(root), "OPTVIZ_CACHE_DIR": str(tmp_path)}
    argv = [sys.executable, "-m", "optviz", "dashboard", "--headless", "--host", "127.0.0.1",
            "--port", str(port)]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def get(path: str) -> int:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            return r.status
        except OSError:
            return -1
        finally:
            c.close()

    try:
        deadline = time.monotonic() + 60
        while get("/_stcore/health") != 200:
            assert time.monotonic() < deadline and proc.poll() is None, "the server did not start"
            time.sleep(0.25)
        assert get("/?v=2&fn=rosenbrock&opt=Adam&steps=" + "x" * 400_000) == 200
    finally:
        proc.terminate()
        proc.wait(30)


def test_an_interrupt_a_library_turned_into_its_own_error_is_an_interrupt(monkeypatch, capsys):
    """SIGTERM or SIGINT while numba compiles in the foreground: numba may swallow the interrupt
    and fail later with its own error (a 65-line "no compiled object yet" traceback, exit 1);
    optviz says "interrupted" and exits 130 (issue 23)."""
    from optviz import cli
    from optviz.cli import listing
    from optviz.engine.job import STOP_SIGNALS

    def stopped(args):
        STOP_SIGNALS.append("SIGTERM")
        raise RuntimeError("no compiled object yet for <class 'numba.core.types.misc.Omitted'>")

    monkeypatch.setattr(listing, "main", stopped)
    assert cli.main(["list"]) == 130
    assert capsys.readouterr().err.strip().splitlines() == ["optviz: interrupted"]

    def failed(args):
        raise RuntimeError("a real bug")

    monkeypatch.setattr(listing, "main", failed)  # without a signal, an error is an error
    with pytest.raises(RuntimeError, match="a real bug"):
        cli.main(["list"])


def test_a_heavy_race_takes_its_turn_and_reports_its_progress(monkeypatch):
    """A run over HEAVY_WORK point-steps holds one of the server's turns while it computes, and
    reports to a progress bar (what Stop ends); a light one never waits for a turn."""
    turns = memory.Turns(slots=1)
    monkeypatch.setattr(memory, "TURNS", turns)
    seen = []
    real = compute.optviz.run

    def run(*a, **kw):
        seen.append((turns.running, kw.get("progress") is not None))
        return real(*a, **kw)

    monkeypatch.setattr(compute.optviz, "run", run)
    scene = _scene(n=50, steps=100)
    monkeypatch.setattr(memory, "HEAVY_WORK", 10**9)
    compute._Runs(capacity=64 * memory.MB).get(scene, "numpy", fused=False)
    monkeypatch.setattr(memory, "HEAVY_WORK", 1000)
    compute._Runs(capacity=64 * memory.MB).get(scene, "numpy", fused=False)
    assert seen == [(0, False), (1, True)] and turns.running == 0

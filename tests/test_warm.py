"""Background kernel compiles are bounded: one at a time per program, one per cache folder."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np

import functions
from optviz.engine.fast import warm
from optviz.engine.job import make_job

ROOT = Path(__file__).resolve().parents[1]


class _Proc:
    def __init__(self, running: bool = True):
        self.running = running

    def poll(self):
        return None if self.running else 0


def _job(name: str):
    fn = functions.get("rosenbrock")
    return make_job(fn, {name: {}}, np.zeros((4, 2)), 3)[0]


def test_a_second_background_compile_waits_for_the_first(monkeypatch):
    monkeypatch.setattr(warm, "ready", lambda spec: False)  # nothing compiled yet
    spawned = []

    def spawn(recipes, keys, nice=True):
        proc = _Proc()
        spawned.append(proc)
        warm._PROCS.append((proc, keys))
        warm._WARMING.update(keys)
        return True

    monkeypatch.setattr(warm, "_spawn", spawn)
    monkeypatch.setattr(warm, "_PROCS", [])
    monkeypatch.setattr(warm, "_WARMING", set())
    compiled = []
    monkeypatch.setattr(warm, "compile_kernel", compiled.append)
    warm.warm_up(_job("Adam"))
    warm.warm_up(_job("SGD"))  # the first still compiles: no second process, no compile here
    assert len(spawned) == 1 and compiled == []
    spawned[0].running = False
    warm.warm_up(_job("SGD"))  # the first is done: the next one may start
    assert len(spawned) == 2 and compiled == []


def test_a_background_compile_leaves_when_another_holds_the_cache(tmp_path):
    env = {"OPTVIZ_CACHE_DIR": str(tmp_path), "OPTVIZ_WARM_NICE": "1", "PATH": "/usr/bin:/bin"}
    (tmp_path / "kernels").mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a'); "
         "fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)",
         str(tmp_path / "kernels" / "warm.lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        # stdin never closes: a process that waited for the lock, or read its recipes, would hang
        child = subprocess.Popen([sys.executable, "-m", "optviz.engine.fast.warm"], stdin=subprocess.PIPE,
                                 env={**env, "PYTHONPATH": str(ROOT)})
        assert child.wait(timeout=60) == 0
        child.stdin.close()
    finally:
        holder.kill()
        holder.wait()


def test_main_reads_its_recipes_once_the_lock_is_its_own(monkeypatch, tmp_path):
    monkeypatch.setenv("OPTVIZ_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("OPTVIZ_WARM_NICE", "0")  # the foreground form (compile_many): no lock
    monkeypatch.setattr(sys, "stdin", io.StringIO("[]"))
    assert warm.main() == 0


def test_an_interactive_process_never_compiles_a_big_run_in_its_own_thread(monkeypatch):
    """The dashboard's process (``fast.set_interactive``): a run big enough that a script would
    compile its kernels at once takes the readable path and hands them to the background."""
    import optviz.engine.fast as fast

    monkeypatch.setenv("OPTVIZ_FAST", "auto")
    monkeypatch.setattr(fast, "_ready", lambda spec: False)
    handed = []
    monkeypatch.setattr(fast, "warm_up", handed.append)
    fn = functions.get("rosenbrock")
    big = make_job(fn, {"Adam": {}}, np.zeros((2000, 2)), 30_000, record_every=30_000)[0]
    assert big.work >= fast.AUTO_COMPILE_WORK
    monkeypatch.setattr(fast, "_INTERACTIVE", [False])
    assert fast.choose(big, "numpy", None) == "fast" and handed == []  # a script: compile now
    fast.set_interactive()
    assert fast.choose(big, "numpy", None) == "reference" and handed == [big]
    assert fast.choose(big, "numpy", True) == "fast"  # asked for: still the caller's choice
    monkeypatch.setenv("OPTVIZ_FAST", "size")  # the suite's setting: the size rule, in any process
    assert fast.choose(big, "numpy", None) == "fast"

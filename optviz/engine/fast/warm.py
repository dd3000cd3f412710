"""Compile kernels ahead of need, in a process of its own: ``python -m optviz.engine.fast.warm``.

Compiling is mostly Python work (numba's typing and lowering): done in a thread of the server
it would hold the GIL for seconds and stall the page. A separate process compiles instead and
writes the disk cache; the next run in the server finds the kernels ready and loads them in
milliseconds. The child reads a list of *recipes* (JSON on stdin): each the smallest run that
needs the same kernels as a real one (same function, optimizers and kernel options), on one
line; the parent keeps that pipe open, and the child ends as soon as it closes: when the
dashboard or the command that started it stops, its compile stops too (no orphan).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from optviz.engine.backends import cores
from optviz.engine.fast.kernels import COMPILE_LOCK, compile_kernel, ready, specs
from optviz.engine.fast.support import unsupported
from optviz.engine.job import Job, make_job
from optviz.optimizers import custom as custom_rules
from optviz.optimizers import typed as typed_rules

_WARMING: set[str] = set()


def recipe(job: Job) -> dict[str, Any] | None:
    """A JSON-able description of a tiny run with ``job``'s kernels (None if it has none)."""
    fn = job.fn
    if hasattr(fn, "text") and hasattr(fn, "given_minimizers"):  # a typed expression
        given = fn.given_minimizers
        func: dict[str, Any] = {"expression": fn.text, "box": [list(map(float, r)) for r in fn.box],
                                "minimizers": None if given is None else [list(map(float, r)) for r in given]}
    elif getattr(fn, "name", None):
        func = {"name": fn.name, "dim": int(fn.dim), "params": {k: float(v) for k, v in fn.params.items()}}
    else:
        return None
    rules = {p.name: typed_rules.text_of(p.name) for p in job.plan if p.name in custom_rules.USER}
    if any(text is None for text in rules.values()):
        return None  # a Python rule lives in this process only: its kernels compile here
    return {
        "function": func,
        "optimizers": [p.name for p in job.plan],
        "rules": rules,
        "noise_mode": job.noise_mode if job.noise else None,
        "delay": job.delay > 0,
        "tol_kind": job.tol_kind if job.tol is not None else None,
        "record_state": job.record_state,
    }


def warm_up(job: Job, background: bool = True) -> None:
    """Compile the kernels ``job`` needs ahead of its run.

    ``background``: in a process of its own (``python -m optviz.engine.fast.warm``, at low priority),
    which writes the disk cache; a later run in this process then loads the kernels in
    milliseconds. (A thread here would hold the GIL for seconds of numba's Python work and stall
    a server's page.) Otherwise: compile now, in this thread.
    """
    wanted = specs(job)
    _reap()
    with COMPILE_LOCK:
        todo = [s for s in wanted if not ready(s) and s.key not in _WARMING]
        if not todo:
            return
        if background:
            if any(proc.poll() is None for proc, _ in _PROCS):
                return  # one background compile at a time: this run takes the readable path
            r = recipe(job)
            if r is not None and _spawn([r], {s.key for s in todo}):
                return
    for s in todo:  # no process could be started: compile here (the caller's thread)
        compile_kernel(s)


def compile_many(jobs: Iterable[Job], processes: int | None = None) -> int:
    """Compile the kernels of ``jobs`` into the disk cache, on ``processes`` processes at once
    (default: one per core), and wait. Returns how many kernels were compiled or loaded."""
    todo: dict[tuple[str, ...], dict] = {}
    for job in jobs:
        wanted = specs(job)
        keys = tuple(s.key for s in wanted)
        if keys not in todo and not all(ready(s) for s in wanted):
            r = recipe(job)
            if r is None:
                for s in wanted:
                    compile_kernel(s)
            else:
                todo[keys] = r
    n = max(1, min(processes or cores(), len(todo)))
    groups = [list(todo.values())[i::n] for i in range(n)]
    procs = []
    for i, group in enumerate(groups):
        if group:
            keys = {k for ks in list(todo)[i::n] for k in ks}
            if _spawn(group, keys, nice=False):
                procs.append(_PROCS[-1][0])
    for proc in procs:
        proc.wait()
    _reap()
    return sum(len(k) for k in todo)


def warm_up_runs(runs: Iterable[dict[str, Any]]) -> bool:
    """Compile, in one background process, the kernels of these runs (each the keyword arguments
    of :func:`optviz.run`, e.g. a dashboard's default scene and its lessons). Returns whether a
    process was started (False: nothing to compile, or the fast path cannot run them)."""
    recipes, keys = [], set()
    _reap()
    for kw in runs:
        kw = {k: v for k, v in kw.items() if k not in ("fused", "threads", "progress", "max_seconds")}
        job, _, backend, _ = make_job(**kw)
        if unsupported(job, backend) is not None:
            continue
        todo = {s.key for s in specs(job) if not ready(s) and s.key not in _WARMING}
        r = recipe(job)
        if todo and r is not None:
            recipes.append(r)
            keys |= todo
    return bool(recipes) and _spawn(recipes, keys)


_PROCS: list[tuple[Any, set[str]]] = []


def _spawn(recipes: list[dict], keys: set[str], nice: bool = True) -> bool:
    import json
    import subprocess

    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[3])  # where optviz is imported from
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    env["OPTVIZ_WARM_NICE"] = "1" if nice else "0"
    env["OPTVIZ_WARM_WATCH"] = "1"
    try:
        proc = subprocess.Popen([sys.executable, "-m", "optviz.engine.fast.warm"], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                start_new_session=True)
        proc.stdin.write(json.dumps(recipes).encode() + b"\n")  # (stdin stays open: see main)
        proc.stdin.flush()
    except OSError:
        return False
    _PROCS.append((proc, keys))
    _WARMING.update(keys)
    return True


def _reap() -> None:
    """Forget finished warm-up processes (their kernels are ready, or a later run retries)."""
    with COMPILE_LOCK:
        for item in list(_PROCS):
            proc, keys = item
            if proc.poll() is not None:
                if getattr(proc, "stdin", None) is not None:
                    proc.stdin.close()
                _PROCS.remove(item)
                _WARMING.difference_update(keys)


def wait_for_warm_up(timeout: float | None = None) -> None:
    """Wait until the warm-up processes started so far have finished."""
    for proc, _ in list(_PROCS):
        proc.wait(timeout)
    _reap()


def run_recipe(r: dict[str, Any]) -> None:
    """Compile (or load) the kernels of one recipe in this process."""
    import functions

    f = r["function"]
    if "expression" in f:
        fn = functions.from_expression(f["expression"], box=f["box"], minimizers=f["minimizers"])
    else:
        fn = functions.get(f["name"], f["dim"], **f["params"])
    typed_rules.register_texts(r.get("rules") or {})  # (checked text: never run as code)
    job = make_job(
        fn, {name: {} for name in r["optimizers"]}, None, 2,
        noise=0.1 if r["noise_mode"] else 0.0, noise_mode=r["noise_mode"] or "absolute",
        delay=1 if r["delay"] else 0, tol=1e-3 if r["tol_kind"] else None, tol_kind=r["tol_kind"] or "auto",
        record_state=r["record_state"],
    )[0]
    for keyed in specs(job):
        compile_kernel(keyed)


def _background_lock() -> Any:
    """An exclusive lock on the cache folder's ``warm.lock`` (None if another background
    compile holds it): however many programs ask at once, one background compile runs per cache
    and the others do not queue. Held until this process exits."""
    from optviz.engine.fast.kernels import cache_dir

    try:
        import fcntl
    except ImportError:  # no flock (Windows): no machine-wide limit, the per-process one holds
        return True
    try:
        handle = open(cache_dir() / "warm.lock", "a")
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return None
    return handle


def _lowest_priority() -> None:
    """Compile on spare CPU only: Linux's idle class (runs when nothing else wants the core, so a
    page being drawn or played back never waits for it), else the lowest nice level."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return
    except (AttributeError, OSError):
        pass
    if hasattr(os, "nice"):
        try:
            os.nice(19)
        except OSError:
            pass


def _end_with_parent() -> None:
    """Wait for the end of stdin (the parent closed it, or ended), then end this process at once."""
    try:
        sys.stdin.buffer.read()
    finally:
        os._exit(0)


def main() -> int:
    background = os.environ.get("OPTVIZ_WARM_NICE", "1") == "1"
    if background:
        _lowest_priority()
        lock = _background_lock()
        if lock is None:
            return 0  # another process compiles into this cache now: a later run asks again
    recipes = json.loads(sys.stdin.readline())
    if os.environ.get("OPTVIZ_WARM_WATCH") == "1":  # started by _spawn: the pipe stays open
        threading.Thread(target=_end_with_parent, daemon=True).start()
    for r in recipes:
        try:
            run_recipe(r)
        except Exception as exc:  # one bad recipe must not stop the others
            print(f"optviz.engine.fast.warm: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

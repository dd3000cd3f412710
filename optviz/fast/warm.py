"""Compile kernels ahead of need, in a process of its own: ``python -m optviz.fast.warm``.

Compiling is mostly Python work (numba's typing and lowering): done in a thread of the server
it would hold the GIL for seconds and stall the page. A separate process compiles instead and
writes the disk cache; the next run in the server finds the kernels ready and loads them in
milliseconds. The child reads a list of *recipes* (JSON on stdin): each the smallest run that
needs the same kernels as a real one (same function, optimizers and kernel options).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from ..job import Job


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
    return {
        "function": func,
        "optimizers": [p.name for p in job.plan],
        "noise_mode": job.noise_mode if job.noise else None,
        "delay": job.delay > 0,
        "tol_kind": job.tol_kind if job.tol is not None else None,
        "record_state": job.record_state,
    }


def run_recipe(r: dict[str, Any]) -> None:
    """Compile (or load) the kernels of one recipe in this process."""
    import functions

    from .. import engine
    from . import _compile_now, _spec

    f = r["function"]
    if "expression" in f:
        fn = functions.from_expression(f["expression"], box=f["box"], minimizers=f["minimizers"])
    else:
        fn = functions.get(f["name"], f["dim"], **f["params"])
    job = engine.make_job(
        fn, {name: {} for name in r["optimizers"]}, None, 2,
        noise=0.1 if r["noise_mode"] else 0.0, noise_mode=r["noise_mode"] or "absolute",
        delay=1 if r["delay"] else 0, tol=1e-3 if r["tol_kind"] else None, tol_kind=r["tol_kind"] or "auto",
        record_state=r["record_state"],
    )[0]
    for k in range(len(job.plan)):
        _compile_now(_spec(job, k))


def main() -> int:
    import os

    if hasattr(os, "nice") and os.environ.get("OPTVIZ_WARM_NICE", "1") == "1":
        os.nice(10)  # the server's work comes first
    recipes = json.load(sys.stdin)
    for r in recipes:
        try:
            run_recipe(r)
        except Exception as exc:  # one bad recipe must not stop the others
            print(f"optviz.fast.warm: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

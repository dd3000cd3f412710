"""Running an explore job: many starts, final state only, in this process or on a Dask cluster.

Every explore view (basin maps, sweeps, comparisons) is one or a few big batches of starts
with per-point hyperparameters and seeds. A :class:`Batch` holds one such run as plain data;
:func:`run_batch` steps it and returns its :class:`Finals`: per optimizer and point, the final
error, the steps to the tolerance, the divergence step and the nearest listed minimizer, and
nothing else (never whole trajectories: the engine records only the starts and the final
state, ``record_every=steps``, and tracks the tolerance at every step, ``tol=``).

- **In this process** the batch runs through :func:`optviz.run` (which uses the compiled fast
  path and a thread per core when it pays, or the GPU with ``backend="cupy"``/``"auto"``), in
  chunks of at most :data:`LOCAL_CHUNK` points so that memory stays bounded whatever the
  grid; progress is reported across chunks and Ctrl-C or an exception raised by ``progress``
  cancels within a step.
- **On Dask** (``client=`` a :class:`distributed.Client`, or ``scheduler="tcp://host:8786"``,
  or ``scheduler="local"`` for a :class:`distributed.LocalCluster` on this machine) the starts
  are cut into chunks, each worker runs the engine on its chunks and sends back only their
  :class:`Finals`. Progress counts finished chunks; cancelling cancels the chunks not done.

Points never interact, and every random draw is keyed by (seed, start, step), so a chunk run
anywhere gives exactly the numbers it gives inside one big run: the path (compiled or
readable) is chosen once for the whole batch, and the result of a Dask run equals the
single-process run exactly.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from optviz.engine.backends import cores
from optviz.engine.job import make_job
from optviz.engine.run import MAX_SECONDS, duration_text, estimate_seconds
from optviz.engine.run import run as run_engine
from optviz.engine.validate import check_max_seconds
from optviz.explore.measures import RUN_OPTIONS, check_count
from optviz.optimizers import custom as custom_rules
from optviz.optimizers import typed as typed_rules
from optviz.scene.text import quote

#: Points per chunk when a batch runs in this process (memory stays bounded; the engine spreads
#: each chunk over a thread per core itself).
LOCAL_CHUNK = 262_144
#: On Dask: at least this many chunks per worker thread (progress, and balance between workers),
#: each of at most DASK_CHUNK points and (unless the batch is smaller) at least DASK_MIN_CHUNK.
CHUNKS_PER_THREAD = 4
DASK_CHUNK = 262_144
DASK_MIN_CHUNK = 1_024
#: Seconds to wait for a scheduler to answer.
CONNECT_TIMEOUT = 10
#: Schemes a scheduler address may use.
SCHEMES = ("tcp://", "tls://", "ws://", "wss://", "inproc://", "ucx://")

ProgressFn = Callable[[int, int], Any]


@dataclass(frozen=True)
class Batch:
    """One engine run of an explore job, as plain (picklable) data.

    Attributes:
        function: a test-function object (or a registry name).
        optimizers: name -> hyperparameters, each a scalar or one value per start.
        starts: ``(n, dim)``.
        steps: number of steps.
        seed: a whole number, or one per start.
        tol, kind: the tolerance tracked at every step and its error (``"distance"``/``"gap"``).
        options: further :func:`optviz.run` keywords (:data:`RUN_OPTIONS`).
        rules: the texts of the typed rules among ``optimizers`` (filled in when not given), so that
            a worker process registers them before it runs the batch.
        specs: the Python rules and adapters among ``optimizers`` (filled in when not given):
            a Python rule's spec, its functions sent by value (Dask's cloudpickle), an adapter's
            recipe (its library object and settings), registered by the worker
            (:func:`optviz.optimizers.custom.adopt`) before it runs the batch.
    """

    function: Any
    optimizers: Mapping[str, Mapping[str, Any]]
    starts: np.ndarray
    steps: int
    seed: Any = 0
    tol: float | None = None
    kind: str = "distance"
    options: Mapping[str, Any] = field(default_factory=dict)
    rules: Mapping[str, str] = field(default_factory=dict)
    specs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        bad = sorted(set(self.options) - set(RUN_OPTIONS))
        if bad:
            raise ValueError(f"unknown run option(s) {', '.join(bad)}; valid: {', '.join(RUN_OPTIONS)}")
        if not self.rules:
            texts = {n: typed_rules.text_of(n) for n in self.optimizers}
            object.__setattr__(self, "rules", {n: t for n, t in texts.items() if t is not None})
        if not self.specs:
            object.__setattr__(self, "specs", custom_rules.shipment(self.optimizers))

    @property
    def n(self) -> int:
        return int(np.shape(self.starts)[0])

    @property
    def work(self) -> int:
        """Point-steps: optimizers × points × steps."""
        return len(self.optimizers) * self.n * self.steps

    def take(self, lo: int, hi: int) -> Batch:
        """The same run on points ``lo:hi`` (per-point values sliced with them)."""
        def cut(v: Any) -> Any:
            return v[lo:hi] if isinstance(v, np.ndarray) and v.ndim >= 1 else v

        opts = {k: {h: cut(v) for h, v in hp.items()} for k, hp in self.optimizers.items()}
        return replace(self, optimizers=opts, starts=np.asarray(self.starts)[lo:hi], seed=cut(self.seed))

    def run_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`optviz.run` for this batch (final state only)."""
        return {"function": self.function, "optimizers": {k: dict(v) for k, v in self.optimizers.items()},
                "starts": self.starts, "steps": self.steps, "seed": self.seed,
                "record_every": max(self.steps, 1), "tol": self.tol, "tol_kind": self.kind,
                **dict(self.options)}


@dataclass
class Finals:
    """Where a batch's points ended, per optimizer (arrays of one value per point).

    Attributes:
        names: the optimizers, in order.
        error: final error (distance to the nearest listed global minimizer, or f − f*),
            +∞ for a diverged point.
        steps_to_tol: the step from which the error stays at most ``tol`` to the end of the run
            (-1: not within it at the end, or diverged).
        diverged_step: the step at which the point diverged, or -1.
        nearest: index of the listed global minimizer nearest the final position (-1 when the
            function lists none, or the point diverged).
        loss: f at the final position (at the last finite one for a diverged point).
        tol: the tolerance tracked (None: none; ``steps_to_tol`` is then all -1).
        elapsed: seconds of stepping (in this process: summed over chunks; on Dask: the
            whole job's wall-clock time).
        path: the engine's path, ``"fast"`` or ``"reference"``.
        first_entry: the first step whose error was at most ``tol`` (-1: never, or diverged);
            empty when no tolerance was tracked.
    """

    names: tuple[str, ...]
    error: dict[str, np.ndarray]
    steps_to_tol: dict[str, np.ndarray]
    diverged_step: dict[str, np.ndarray]
    nearest: dict[str, np.ndarray]
    loss: dict[str, np.ndarray]
    tol: float | None
    elapsed: float = 0.0
    path: str = "reference"
    first_entry: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(next(iter(self.error.values())).shape[0])

    def diverged(self, name: str) -> np.ndarray:
        return self.diverged_step[name] >= 0

    def converged(self, name: str) -> np.ndarray:
        """Per point: reached the tolerance, is still within it at the end, and did not diverge."""
        if self.tol is None:
            return np.zeros(self.n, dtype=bool)
        return (self.steps_to_tol[name] >= 0) & (self.error[name] <= self.tol) & ~self.diverged(name)

    def take(self, idx: Any) -> Finals:
        """The same finals for a subset (or reordering) of the points."""
        def cut(d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            return {k: v[idx] for k, v in d.items()}

        return replace(self, error=cut(self.error), steps_to_tol=cut(self.steps_to_tol),
                       diverged_step=cut(self.diverged_step), nearest=cut(self.nearest), loss=cut(self.loss),
                       first_entry=cut(self.first_entry))

    @classmethod
    def concat(cls, parts: list[Finals]) -> Finals:
        """One :class:`Finals` from those of consecutive chunks of the points."""
        if not parts:
            raise ValueError("concat needs at least one part")
        first = parts[0]
        if len(parts) == 1:
            return first

        def cat(attr: str) -> dict[str, np.ndarray]:
            if not getattr(first, attr):
                return {}
            return {k: np.concatenate([getattr(p, attr)[k] for p in parts]) for k in first.names}

        paths = {p.path for p in parts}
        return cls(first.names, cat("error"), cat("steps_to_tol"), cat("diverged_step"), cat("nearest"),
                   cat("loss"), first.tol, sum(p.elapsed for p in parts),
                   first.path if len(paths) == 1 else "mixed", cat("first_entry"))


# ---------------------------------------------------------------------- one run
def evaluate(batch: Batch, fused: bool | None = None, threads: int | None = None,
             progress: ProgressFn | None = None, max_seconds: float | None = None) -> Finals:
    """Run ``batch`` through :func:`optviz.run` (final state only) and reduce it to :class:`Finals`.

    This is what each Dask worker runs on its chunk (its typed rules, Python rules and adapters
    registered first).
    """
    if batch.rules:
        typed_rules.register_texts(dict(batch.rules))
    if batch.specs:
        custom_rules.adopt(batch.specs)
    res = run_engine(**batch.run_kwargs(), fused=fused, threads=threads, progress=progress,
                     max_seconds=max_seconds)
    return finals_of(res, batch.kind)


def finals_of(res: Any, kind: str) -> Finals:
    """The :class:`Finals` of an engine :class:`~optviz.engine.result.Result` (its last recorded row)."""
    fn = res.function
    mins = np.asarray(fn.minimizers, dtype=float).reshape(-1, res.dim)
    error, stt, div, nearest, loss, entry = {}, {}, {}, {}, {}, {}
    for name in res.names:
        pos = np.asarray(res.trajectories[name][-1], dtype=float)
        dead = np.asarray(res.diverged_step[name]) >= 0
        f = np.asarray(res.losses[name][-1], dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):
            if mins.size:
                d2 = np.sum((pos[:, None, :] - mins[None, :, :]) ** 2, axis=-1)
                near = np.argmin(d2, axis=1).astype(np.int64)
                dist = np.sqrt(np.min(d2, axis=1))
            else:
                near = np.full(res.n_points, -1, dtype=np.int64)
                dist = np.full(res.n_points, math.inf)
            e = dist if kind == "distance" else np.maximum(f - float(fn.fmin), 0.0)
        e = np.where(dead | ~np.isfinite(e), math.inf, e)
        error[name] = e
        nearest[name] = np.where(dead, -1, near)
        div[name] = np.asarray(res.diverged_step[name], dtype=np.int64)
        stt[name] = (np.asarray(res.steps_to_tol[name], dtype=np.int64) if res.steps_to_tol is not None
                     else np.full(res.n_points, -1, dtype=np.int64))
        if res.first_entry is not None:
            entry[name] = np.asarray(res.first_entry[name], dtype=np.int64)
        loss[name] = f
    return Finals(tuple(res.names), error, stt, div, nearest, loss, res.tol, res.elapsed, res.path, entry)


# ---------------------------------------------------------------------- batches, anywhere
def run_batch(batch: Batch, *, client: Any = None, scheduler: str | None = None, fused: bool | None = None,
              progress: ProgressFn | None = None, chunk_points: int | None = None,
              max_seconds: float | None = MAX_SECONDS) -> Finals:
    """Step ``batch`` in this process or on Dask and return its :class:`Finals`.

    Args:
        batch: the run.
        client: a :class:`distributed.Client` to run the chunks on (left open).
        scheduler: ``"local"`` (a :class:`distributed.LocalCluster` of this machine's cores,
            closed at the end) or a scheduler address such as ``"tcp://host:8786"``. Neither:
            this process.
        fused: the engine's path for every chunk (``None``: chosen once for the whole batch).
        progress: ``progress(done, total)`` in point-steps; an exception it raises cancels.
        chunk_points: points per chunk (default: :data:`LOCAL_CHUNK` here; on Dask enough
            chunks for :data:`CHUNKS_PER_THREAD` per worker thread).
        max_seconds: in this process, refuse up front a batch estimated to take longer (None:
            no limit). On Dask the engine's own limit applies to each chunk.

    Raises:
        ValueError, KeyError, TypeError: bad input, before anything is stepped.
        optviz.engine.run.Cancelled, KeyboardInterrupt, or what ``progress`` raised: cancelled.
    """
    return run_batches([batch], client=client, scheduler=scheduler, fused=fused, progress=progress,
                       chunk_points=chunk_points, max_seconds=max_seconds)[0]


def run_batches(batches: list[Batch], *, client: Any = None, scheduler: str | None = None,
                fused: bool | None = None, progress: ProgressFn | None = None,
                chunk_points: int | None = None, max_seconds: float | None = MAX_SECONDS) -> list[Finals]:
    """Step several batches as one job (one progress count, one time limit, one Dask
    connection, every chunk of every batch in flight together); see :func:`run_batch`."""
    from optviz.engine import fast

    if progress is not None and not callable(progress):
        raise ValueError(f"progress must be a function progress(done, total), got {quote(progress)}")
    if chunk_points is not None:
        chunk_points = check_count(chunk_points, "chunk_points")
    # Validate every batch once, here: bad input fails before any chunk starts anywhere, and
    # the path is chosen for a whole batch (chunks of it then compute exactly its numbers).
    fixed, jobs, est = [], [], 0.0
    for b in batches:
        job, _, backend, _ = make_job(**b.run_kwargs())
        path = fast.choose(job, backend, fused)
        fixed.append(path == "fast")
        jobs.append(job)
        est += estimate_seconds(job, path, cores(), backend)
    if client is None and scheduler is None:
        _check_time(jobs, est, max_seconds)
        return _local(batches, fixed, progress, chunk_points or LOCAL_CHUNK)
    for b in batches:
        check_sendable(b)
    with connect(client, scheduler) as c:
        return _on_dask(c, batches, fixed, progress, chunk_points)


def check_sendable(batch: Batch) -> None:
    """Refuse, in one line, a batch whose Python rule or adapter cannot be sent to a Dask worker
    (Dask pickles a task, with cloudpickle for functions defined in your session)."""
    if not batch.specs:
        return
    _distributed()
    from distributed.protocol import pickle as dask_pickle

    for name, item in batch.specs.items():
        try:
            dask_pickle.dumps(item)
        except Exception as exc:  # what cannot be pickled is the user's own object: say which, in one line
            what = "adapter" if isinstance(item, custom_rules.Recipe) else "Python rule"
            raise ValueError(f"{name}: this {what} cannot be sent to Dask workers ({type(exc).__name__}: "
                             f"{str(exc)[:120]}); run it in this process (no client= or "
                             "scheduler=)") from None


def _check_time(jobs: list[Any], est: float, max_seconds: float | None) -> None:
    check_time(sum(j.work for j in jobs), len(jobs[0].plan), sum(j.n for j in jobs), jobs[0].steps, est,
               max_seconds)


def check_time(work: float, k: int, n: int, steps: int, est: float, max_seconds: Any) -> None:
    """Refuse a job estimated at ``est`` seconds over ``max_seconds`` (checked: None or > 0), with
    its size and the ways to shrink it (also called before a batch is built, on a lower bound)."""
    max_seconds = check_max_seconds(max_seconds)
    if max_seconds is None or est <= max_seconds:
        return
    raise ValueError(
        f"this job is {work:.3g} point-steps ({k} optimizer(s) x {n:,} points x "
        f"{steps:,} steps), about {duration_text(est)} on this machine, over the "
        f"{duration_text(max_seconds)} limit (max_seconds): use fewer points, steps or optimizers, run it "
        "on a Dask cluster (scheduler='tcp://host:8786'), or raise max_seconds")


def _ranges(n: int, size: int) -> list[tuple[int, int]]:
    k = max(1, math.ceil(n / size))
    edges = np.linspace(0, n, k + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]


def _local(batches: list[Batch], fixed: list[bool], progress: ProgressFn | None, size: int) -> list[Finals]:
    total = sum(b.work for b in batches)
    out = []
    done = 0
    for batch, fused in zip(batches, fixed, strict=True):
        parts = []
        for lo, hi in _ranges(batch.n, size):
            chunk = batch if hi - lo == batch.n else batch.take(lo, hi)

            def report(d: int, _t: int, base: int = done) -> None:
                progress(base + d, total)

            parts.append(evaluate(chunk, fused=fused, progress=None if progress is None else report))
            done += chunk.work
        out.append(Finals.concat(parts))
    return out


# ---------------------------------------------------------------------- Dask
def _distributed():
    try:
        import distributed
    except ImportError:
        raise ValueError('running on Dask needs dask.distributed: pip install "optviz[scale]" '
                         '(or pip install "dask[distributed]")') from None
    return distributed


@contextmanager
def connect(client: Any = None, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client: ``client`` itself (left open), or one for ``scheduler`` (``"local"``: a new
    :class:`distributed.LocalCluster` with a worker process per core; else a scheduler address),
    closed on exit."""
    if client is not None and scheduler is not None:
        raise ValueError("give a Dask client or a scheduler, not both")
    if client is not None:
        if not hasattr(client, "submit"):
            raise ValueError(f"client must be a distributed.Client, got {quote(client)}")
        yield client
        return
    address = scheduler.strip() if isinstance(scheduler, str) else ""
    if address != "local" and not address.startswith(SCHEMES):
        raise ValueError("scheduler must be 'local' or an address such as tcp://host:8786, "
                         f"got {quote(scheduler)}")
    distributed = _distributed()
    if address == "local":
        # a worker process per core, one thread each; the dashboard on any free port. The worker
        # processes are started ignoring Ctrl-C (a terminal sends it to all of them): this process
        # stops them (after their current chunk, or 4 s), quietly: an interrupt is one line
        with _children_ignore_interrupts():
            cluster = distributed.LocalCluster(n_workers=cores(), threads_per_worker=1, processes=True,
                                               dashboard_address=":0", silence_logs=logging.CRITICAL)
        try:
            with distributed.Client(cluster) as c:
                yield c
        except KeyboardInterrupt:
            _kill_workers(cluster)  # busy in a chunk, they would not answer the close for 4 s
            raise
        finally:
            cluster.close()
        return
    try:
        c = distributed.Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise ValueError(f"could not reach the Dask scheduler at {quote(address)}: {exc}") from None
    try:
        yield c
    finally:
        c.close()


def _kill_workers(cluster: Any) -> None:
    """End a local cluster's worker processes at once (an interrupt: their chunks are dropped)."""
    for nanny in list(getattr(cluster, "workers", {}).values()):
        pid = getattr(getattr(getattr(nanny, "process", None), "process", None), "pid", None)
        if pid:
            with suppress(OSError):
                os.kill(pid, signal.SIGKILL)


@contextmanager
def _children_ignore_interrupts() -> Iterator[None]:
    """While inside, SIGINT is ignored (in the main thread): processes started meanwhile inherit
    that, and Python keeps an ignored SIGINT ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _threads_of(client: Any) -> int:
    try:
        workers = client.scheduler_info()["workers"].values()
        return max(1, sum(int(w.get("nthreads", 1)) for w in workers))
    except Exception:  # an unusual client: assume one
        return 1


def _on_dask(client: Any, batches: list[Batch], fixed: list[bool], progress: ProgressFn | None,
             chunk_points: int | None) -> list[Finals]:
    distributed = _distributed()
    n_all = sum(b.n for b in batches)
    if chunk_points is None:
        want = CHUNKS_PER_THREAD * _threads_of(client)
        chunk_points = min(DASK_CHUNK, max(DASK_MIN_CHUNK, math.ceil(n_all / want)))
    token = uuid.uuid4().hex[:12]
    started = time.perf_counter()
    futures, where = [], {}
    parts: list[list[Finals | None]] = []
    for j, (batch, fused) in enumerate(zip(batches, fixed, strict=True)):
        ranges = _ranges(batch.n, chunk_points)
        parts.append([None] * len(ranges))
        for i, (lo, hi) in enumerate(ranges):
            key = f"optviz-chunk-{token}-{j}-{i}"
            chunk = batch.take(lo, hi)
            where[key] = (j, i, chunk.work)
            # one thread per chunk on a worker: the worker's threads run chunks side by side
            futures.append(client.submit(evaluate, chunk, fused, 1, None, None, key=key, pure=False))
    total, done = sum(b.work for b in batches), 0
    try:
        for fut in distributed.as_completed(futures):
            j, i, work = where[fut.key]
            parts[j][i] = fut.result()  # a worker's exception is raised here
            done += work
            if progress is not None:
                progress(done, total)
    except BaseException:
        client.cancel(futures)
        raise
    elapsed = time.perf_counter() - started
    out = [Finals.concat([p for p in ps if p is not None]) for ps in parts]
    for f in out:
        f.elapsed = elapsed
    return out

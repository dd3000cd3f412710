"""The dashboard server's memory budget: one setting, read here, shared by every cache and run.

A lecture's server runs every visitor's scenes in one process, so what it keeps is bounded in
bytes, not in entries. The budget (:data:`ENV`, or ``optviz dashboard --memory-budget``; default
:data:`DEFAULT`, for a 4 GB machine) is the process's whole: :data:`BASE` of it is left to the
interpreter, Streamlit, NumPy and the compiled kernels, and the rest is shared out:

- :data:`CACHE_SHARE` to Streamlit's ``st.cache_data`` (the sweeps behind the sliders, the
  explore tabs' results, the payloads): its ``server.maxCacheDataSize``, which evicts the least
  recently used entries of every cached function and session together;
- :data:`RUNS_SHARE` to the per-optimizer runs of :mod:`optviz.dashboard.compute` (:class:`LRU`);
- the rest to the runs in flight: a run records at most :func:`run_cap` bytes (beyond it the
  race is recorded at the rows the page draws, see :mod:`optviz.dashboard.compute`), and at most
  :data:`HEAVY_SLOTS` heavy runs compute at once (:func:`heavy_slot`), the others wait their turn.

Nothing here imports Streamlit.
"""

from __future__ import annotations

import dataclasses
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

#: The environment variable holding the budget (``optviz dashboard --memory-budget`` sets it).
ENV = "OPTVIZ_MEMORY_BUDGET"
MB = 2**20
#: The default budget: 2 GB, for a 4 GB machine (the other half for the system and a browser).
DEFAULT = 2048 * MB
#: What the process takes before any visitor (Python, Streamlit, NumPy, Plotly, numba and the
#: kernels: about 450 MB measured), kept out of the shares below.
BASE = 512 * MB
#: The smallest budget accepted (BASE plus room for the default scene and its sweeps).
MINIMUM = 768 * MB
#: Shares of ``budget - BASE``: Streamlit's data cache, the per-optimizer runs; the rest is for
#: the runs in flight.
CACHE_SHARE = 0.4
RUNS_SHARE = 0.3
#: Heavy runs computing at once (the others wait their turn; light ones never wait).
HEAVY_SLOTS = 2
#: A run of more point-steps than this is heavy.
HEAVY_WORK = 2_000_000

_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 2**10, "kib": 2**10, "m": MB, "mb": MB, "mib": MB,
          "g": 2**30, "gb": 2**30, "gib": 2**30}
_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([a-z]*)\s*", re.IGNORECASE)


def parse_budget(text: str | int) -> int:
    """Bytes of a budget written ``2GB``, ``1536MB``, ``1.5g`` or a plain number of bytes (units
    are powers of 1024); a one-line ``ValueError`` otherwise, or below :data:`MINIMUM`."""
    s = str(text)
    m = _SIZE.fullmatch(s[:40])
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in _UNITS:
        shown = s if len(s) <= 40 else s[:40] + "…"
        raise ValueError(f"memory budget: expected a size such as 2GB or 1536MB, got {shown!r}")
    n = int(float(m.group(1)) * _UNITS[unit])
    if n < MINIMUM:
        raise ValueError(f"memory budget: at least {MINIMUM // MB}MB (the server itself takes about "
                         f"{BASE // MB}MB), got " + (f"{n // MB}MB" if n >= MB else f"{n:,} bytes"))
    return n


def budget() -> int:
    """The server's budget in bytes: :data:`ENV` when set, else :data:`DEFAULT`."""
    text = os.environ.get(ENV, "").strip()
    return parse_budget(text) if text else DEFAULT


def cache_bytes(total: int | None = None) -> int:
    """Streamlit's ``st.cache_data`` share of the budget (its ``server.maxCacheDataSize``)."""
    return int(((total or budget()) - BASE) * CACHE_SHARE)


def runs_bytes(total: int | None = None) -> int:
    """The per-optimizer runs' share of the budget."""
    return int(((total or budget()) - BASE) * RUNS_SHARE)


def run_cap(total: int | None = None) -> int:
    """The most bytes one run may record: the in-flight share over the heavy runs at once."""
    free = (total or budget()) - BASE
    return int(free * (1 - CACHE_SHARE - RUNS_SHARE) / HEAVY_SLOTS)


def streamlit_size(n: int) -> str:
    """``n`` bytes as Streamlit's size settings write them (``"409mb"``)."""
    return f"{max(1, n // MB)}mb"


def size_of(obj: Any) -> int:
    """The bytes ``obj`` holds in arrays (a result's trajectories, losses, ...): NumPy arrays
    summed through dataclasses, dicts, lists and tuples; other objects count 64 bytes."""
    seen: set[int] = set()

    def walk(o: Any) -> int:
        if id(o) in seen:
            return 0
        seen.add(id(o))
        if isinstance(o, np.ndarray):
            return int(o.nbytes) + 112
        if isinstance(o, dict):
            return sum(walk(v) for v in o.values()) + 64
        if isinstance(o, (list, tuple)):
            return sum(walk(v) for v in o) + 56
        if isinstance(o, (bytes, str)):
            return len(o) + 48
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return sum(walk(getattr(o, f.name)) for f in dataclasses.fields(o)) + 64
        return 64

    return walk(obj)


class LRU:
    """A dictionary bounded by bytes: :meth:`put` evicts the least recently used entries until
    the total is within ``capacity`` (a value larger than all of it is not kept at all)."""

    def __init__(self, capacity: int | Callable[[], int], sizer: Callable[[Any], int] = size_of) -> None:
        self._capacity = capacity
        self.sizer = sizer
        self.items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self.total = 0
        self.lock = threading.Lock()

    @property
    def capacity(self) -> int:
        return int(self._capacity() if callable(self._capacity) else self._capacity)

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self.items

    def __iter__(self) -> Iterator[Hashable]:
        with self.lock:
            return iter(list(self.items))

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self.lock:
            got = self.items.get(key)
            if got is None:
                return default
            self.items.move_to_end(key)
            return got[0]

    def put(self, key: Hashable, value: Any) -> None:
        size = self.sizer(value)
        cap = self.capacity
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.total -= old[1]
            if size > cap:
                return
            self.items[key] = (value, size)
            self.total += size
            while self.total > cap:
                _, (_, s) = self.items.popitem(last=False)
                self.total -= s

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.total = 0


class Turns:
    """At most ``slots`` heavy runs at once; the others wait, first come first served."""

    def __init__(self, slots: int = HEAVY_SLOTS) -> None:
        self.slots = slots
        self.cond = threading.Condition()
        self.queue: list[object] = []
        self.running = 0

    def waiting(self) -> int:
        with self.cond:
            return len(self.queue)

    @contextmanager
    def turn(self, tick: Callable[[int], Any] | None = None, poll: float = 0.25) -> Iterator[None]:
        """Hold a slot while the body runs; until one is free, call ``tick(ahead)`` every ``poll``
        seconds (``ahead``: the runs before this one), which may raise to give up (Stop)."""
        me = object()
        with self.cond:
            self.queue.append(me)
        try:
            while True:
                with self.cond:
                    ahead = self.queue.index(me)
                    if ahead == 0 and self.running < self.slots:
                        self.queue.remove(me)
                        self.running += 1
                        break
                    self.cond.wait(poll)
                if tick is not None:
                    tick(ahead)
        except BaseException:
            with self.cond:
                if me in self.queue:
                    self.queue.remove(me)
                self.cond.notify_all()
            raise
        try:
            yield
        finally:
            with self.cond:
                self.running -= 1
                self.cond.notify_all()


#: The server's heavy-run turns (one per process).
TURNS = Turns()

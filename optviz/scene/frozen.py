"""A read-only, hashable mapping, so that a :class:`~optviz.scene.Scene` holding its optimizers'
hyperparameters (and a function's parameters) can be hashed and never changed in place.

>>> hp = FrozenDict({"Adam": FrozenDict({"alpha": 0.05})})
>>> hp["Adam"]["alpha"], dict(hp["Adam"]), hash(hp) == hash(FrozenDict(hp))
(0.05, {'alpha': 0.05}, True)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class FrozenDict(Mapping[K, V], Generic[K, V]):
    """A ``dict`` that cannot change: reads as a mapping (``[]``, ``get``, ``items``, ``in``,
    ``dict(...)``), keeps its order, compares equal to any mapping with the same items (as a
    ``dict`` does) and hashes by its items (its values must be hashable)."""

    __slots__ = ("_data", "_hash")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._data: dict[K, V] = dict(*args, **kwargs)
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenDict({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._data,))

    def thaw(self) -> dict[K, Any]:
        """A plain ``dict`` copy, nested frozen mappings thawed too."""
        return {k: v.thaw() if isinstance(v, FrozenDict) else v for k, v in self._data.items()}


__all__ = ["FrozenDict"]

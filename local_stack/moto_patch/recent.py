"""A bounded memo of the most recently used answers, shared by the patch's caches."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """Answers by key, at most ``size`` of them: using one makes it the most recent, and
    remembering one more forgets the least recent."""

    __slots__ = ("_items", "_size")

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._size = size

    def get(self, key: K) -> V | None:
        """The answer remembered for ``key`` (now the most recent), or None."""
        try:
            self._items.move_to_end(key)
        except KeyError:
            return None
        return self._items.get(key)  # None if another thread forgot it meanwhile

    def put(self, key: K, value: V) -> V:
        """Remember ``value`` for ``key``; returns it."""
        self._items[key] = value
        if len(self._items) > self._size:
            self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)

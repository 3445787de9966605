"""A small bounded least-recently-used map, safe to share between threads.

Search keeps its complete answers here: the app asks for a first screen and then the complete result of
the same query, and people repeat queries (back to an earlier filter, toggling the sort); at 100k posts a
complete answer costs up to a second of collecting, ordering and counting facets.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

_V = TypeVar("_V")


class LRU(Generic[_V]):
    """At most ``size`` entries; reading an entry makes it the most recent, adding one drops the oldest."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, _V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> _V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: _V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

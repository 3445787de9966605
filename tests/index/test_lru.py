"""The bounded LRU map that keeps complete search results."""

from __future__ import annotations

import threading

from index.lru import LRU


def test_oldest_unused_entry_goes_first() -> None:
    cache: LRU[str] = LRU(2)
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"  # now "b" is the oldest
    cache.put("c", "C")
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c"), len(cache)) == ("A", "C", 2)


def test_put_replaces_and_clear_empties() -> None:
    cache: LRU[int] = LRU(3)
    cache.put(("q", 1), 1)
    cache.put(("q", 1), 2)
    assert cache.get(("q", 1)) == 2 and len(cache) == 1
    cache.clear()
    assert cache.get(("q", 1)) is None and len(cache) == 0


def test_many_threads_never_exceed_the_bound() -> None:
    cache: LRU[int] = LRU(8)

    def churn(offset: int) -> None:
        for number in range(2000):
            cache.put(offset + number % 50, number)
            cache.get(offset + (number * 7) % 50)

    threads = [threading.Thread(target=churn, args=(offset,)) for offset in (0, 100, 200, 300)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 8

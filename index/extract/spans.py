"""Candidate spans and the deterministic choice among overlapping ones."""

from __future__ import annotations

from bisect import bisect_left
from itertools import count, islice, repeat
from operator import itemgetter, le, sub
from typing import NamedTuple

from index.knowledge.model import Entry

#: Among names of equal length on the same span, the lower number wins.
PRIORITY = {"ACTOR": 0, "SOURCE": 1, "MALWARE": 2, "COUNTRY": 3, "ORG": 4, "SECTOR": 5}


class Hit(NamedTuple):
    """A dictionary or pattern candidate before overlaps are resolved."""

    start: int
    end: int
    entry: Entry


def disjoint(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans with overlapping ones merged."""
    ordered = sorted(spans)
    if all(map(le, map(_END, ordered), map(_START, islice(ordered, 1, None)))):
        return ordered  # the common case (nothing overlaps), decided in C
    merged: list[tuple[int, int]] = []
    for start, end in ordered:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end) overlaps any span of a sorted, disjoint list."""
    index = bisect_left(spans, (start, start))
    if index < len(spans) and spans[index][0] < end:
        return True
    return index > 0 and spans[index - 1][1] > start


def _in_order(hits: list[Hit]) -> list[Hit]:
    """``hits`` sorted by start, longest first, kind priority, then kind, name and ref; equal keys keep their
    order. The sort keys are built by C iterators, not a Python key function: this runs for every candidate."""
    starts = list(map(_START, hits))
    entries = list(map(_ENTRY, hits))
    keys = zip(
        starts,
        map(sub, starts, map(_END, hits)),
        map(_PRIORITY, map(_KIND, entries), repeat(9)),
        map(_HEAD, entries),
        count(),
    )
    return list(map(hits.__getitem__, map(_INDEX, sorted(keys))))


_START, _END, _ENTRY, _KIND, _INDEX = itemgetter(0), itemgetter(1), itemgetter(2), itemgetter(0), itemgetter(4)
_HEAD = itemgetter(slice(0, 3))  # an entry's (kind, canonical, ref)
_PRIORITY = PRIORITY.get
_FAR = (1 << 62, 1 << 62)  # a blocked span after every text: no bounds checks in the loop


def select(hits: list[Hit], blocked: list[tuple[int, int]]) -> list[Hit]:
    """Left to right, the longest of overlapping candidates wins (ties: kind priority, then name).

    One sort and one pass: deterministic, O(n log n) in the number of candidates. Candidates that
    touch a ``blocked`` span are dropped.
    """
    spans = disjoint(blocked)
    spans.append(_FAR)
    at = 0
    next_start, next_end = spans[0]
    chosen: list[Hit] = []
    last_start = last_end = -1
    for hit in _in_order(hits):
        start, end, _ = hit
        while next_end <= start:
            at += 1
            next_start, next_end = spans[at]
        if next_start < end:
            continue
        if last_end > start:
            if end - start > last_end - last_start:
                chosen[-1] = hit
                last_start, last_end = start, end
            continue
        chosen.append(hit)
        last_start, last_end = start, end
    return chosen

"""Candidate spans and the deterministic choice among overlapping ones."""

from __future__ import annotations

from bisect import bisect_left
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
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
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


def _order(hit: Hit) -> tuple[int, int, int, tuple[str, str, str]]:
    """Sort key: start, longest first, kind priority, then kind, name and ref (plain tuple indexing: hot)."""
    start, end, entry = hit
    return start, start - end, _PRIORITY(entry[0], 9), entry[:3]


_PRIORITY = PRIORITY.get


def select(hits: list[Hit], blocked: list[tuple[int, int]]) -> list[Hit]:
    """Left to right, the longest of overlapping candidates wins (ties: kind priority, then name).

    One sort and one pass: deterministic, O(n log n) in the number of candidates. Candidates that
    touch a ``blocked`` span are dropped.
    """
    spans = disjoint(blocked)
    at = 0
    chosen: list[Hit] = []
    order = sorted(hits, key=_order)
    for hit in order:
        while at < len(spans) and spans[at][1] <= hit.start:
            at += 1
        if at < len(spans) and spans[at][0] < hit.end:
            continue
        if chosen and chosen[-1].end > hit.start:
            if hit.end - hit.start > chosen[-1].end - chosen[-1].start:
                chosen[-1] = hit
            continue
        chosen.append(hit)
    return chosen

"""Columns beside the catalog: what a search needs besides text, as arrays and sets of post numbers.

A post's number is its position in the catalog's date order (0 = newest), so a set of numbers read in
ascending order *is* the date order, and a date filter is one contiguous run of numbers found by bisection.
Each tag, actor, victim and technique has the set of posts that carry it, as a compressed bitmap
(``pyroaring``): ANDing a filter, counting a facet over the matches or ordering them costs set
operations in C instead of Python per post. whoosh is left the text terms.

The columns are built from one catalog snapshot and belong to it (``Snapshot.columns``): a snapshot is
immutable and an update makes a new one with its own generation, so the columns are never stale.
"""

from __future__ import annotations

import itertools
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property
from operator import attrgetter
from typing import TYPE_CHECKING

from pyroaring import BitMap

from index.engine.contract import rank_numbers
from index.query import date_bounds
from index.vocabulary import BY_KIND, FACET_KINDS

if TYPE_CHECKING:
    from index.catalog import PostRow

#: Facet keys, as ``Snapshot.facets`` gives them: tags (case-folded), then actor, victim, technique.
FACET_FIELDS: tuple[str, ...] = ("tag", *(BY_KIND[kind].field for kind in FACET_KINDS))
#: The engine field each facet's values are indexed in.
ENGINE_FIELDS: dict[str, str] = {"tag": "tags", **{field: field for field in FACET_FIELDS[1:]}}
#: The row fields of the facets, in the order of FACET_FIELDS.
_ROW_FIELDS = ("tags", "actors", "victims", "techniques")
#: Below this many matches per distinct facet value, counting row by row beats one intersection count per
#: value (docs/benchmarks.md, "Facet counts: by row or by set": they cross at 0.1-0.17).
ROWS_PER_VALUE = 0.15
_EPOCH = datetime(1, 1, 1)
_MICROSECOND = timedelta(microseconds=1)
#: The date key of an undated post: after every real date in the descending column.
_UNDATED = -(1 << 62)


def date_key(value: datetime) -> int:
    """Microseconds since 0001-01-01 in naive UTC: how the engine stores a post's date."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return (value - _EPOCH) // _MICROSECOND


def keyword(value: str) -> str:
    """A tag or entity name as the engine's keyword fields hold it (commas and runs of space as one
    space, lower case)."""
    return " ".join(value.replace(",", " ").split()).lower()


def technique_terms(value: str) -> tuple[str, ...]:
    """The engine terms of one technique: its ID and, for a sub-technique, its parent's."""
    term = keyword(value)
    return (term, term.split(".", 1)[0]) if "." in term else (term,)


def _bitmaps(lists: Mapping[str, list[int]]) -> dict[str, BitMap]:
    return {key: BitMap(numbers) for key, numbers in lists.items()}


def _grouped(sets: Mapping[str, BitMap], keys: Callable[[str], Iterable[str]]) -> dict[str, BitMap]:
    """Sets under other keys (a value may give several keys; several values may share one)."""
    grouped: dict[str, list[BitMap]] = {}
    for value, numbers in sets.items():
        for key in keys(value):
            grouped.setdefault(key, []).append(numbers)
    return {key: parts[0] if len(parts) == 1 else BitMap.union(*parts) for key, parts in grouped.items()}


class Columns:
    """Dates, facet values and engine terms of every post of one snapshot, by post number."""

    def __init__(self, by_date: Sequence[str], rank: Mapping[str, int], rows: Sequence[PostRow] = ()) -> None:
        """``by_date`` ids newest first, ``rank`` each id's position; ``rows`` in the same order, or none
        (then only the order is known: :meth:`dated` and :meth:`having` answer nothing)."""
        self.by_date = by_date
        self.rank = rank
        self.size = len(by_date)
        self.known = bool(rows) or not by_date  # whether dates and values are held
        self._rows = rows
        keys = [date_key(row.date) if row.date is not None else _UNDATED for row in rows]
        #: Negated date keys by post number: ascending when the catalog's order is by date, as it is.
        self._negated = array("q", (-key for key in keys))
        self._sorted = all(a <= b for a, b in itertools.pairwise(self._negated))

    @cached_property
    def facet_sets(self) -> dict[str, dict[str, BitMap]]:
        """Facet key → posts: tags grouped by their case-folded form, as the facets show them. Built on
        first use: one pass over every value of every row (about 2.3 million at 100k posts)."""
        return {
            field: _grouped(values, (lambda tag: (tag.casefold(),)) if field == "tag" else (lambda v: (v,)))
            for field, values in self._spelled.items()
        }

    @cached_property
    def term_sets(self) -> dict[str, dict[str, BitMap]]:
        """Engine field → term → posts whose documents hold that term."""
        return {
            ENGINE_FIELDS[field]: _grouped(values, technique_terms if field == "technique" else _one_keyword)
            for field, values in self._spelled.items()
        }

    @cached_property
    def _spelled(self) -> dict[str, dict[str, BitMap]]:
        """Each facet's values as written → posts."""
        spelled: dict[str, dict[str, BitMap]] = {}
        for field, name in zip(FACET_FIELDS, _ROW_FIELDS, strict=True):
            lists: defaultdict[str, list[int]] = defaultdict(list)
            for number, values in enumerate(map(attrgetter(name), self._rows)):
                for value in values:
                    lists[value].append(number)
            spelled[field] = _bitmaps(lists)
        return spelled

    @cached_property
    def _values(self) -> int:
        """How many distinct values the facets hold (without building their sets)."""
        rows = self._rows
        return sum(len(set(itertools.chain.from_iterable(map(attrgetter(name), rows)))) for name in _ROW_FIELDS)

    def everything(self) -> BitMap:
        return BitMap(range(self.size))

    def of_ids(self, ids: Iterable[str]) -> BitMap:
        """The numbers of ``ids``; ids the catalog does not know are dropped."""
        return rank_numbers(ids, self.rank)

    def ids(self, numbers: Iterable[int]) -> list[str]:
        """Post ids of ``numbers`` in the order given (ascending numbers: newest first)."""
        return list(map(self.by_date.__getitem__, numbers))

    def dated(self, value: str) -> BitMap | None:
        """Posts whose date falls in ``date:value`` as the engine reads it; ``None`` when the columns cannot
        tell (no dates held, or a bound past what a date can hold): the engine answers then."""
        bounds = date_bounds(value) if self.known else None
        if bounds is None:
            return None
        start, end = bounds
        low = date_key(start) if start is not None else _UNDATED + 1
        high = date_key(end) - 1 if end is not None else -_UNDATED
        if self._sorted:  # one run of numbers
            return BitMap(range(bisect_left(self._negated, -high), bisect_right(self._negated, -low)))
        return BitMap(number for number, key in enumerate(self._negated) if low <= -key <= high)

    def having(self, field: str, terms: Iterable[str]) -> BitMap | None:
        """Posts whose engine ``field`` holds any of ``terms``; ``None`` when the field is not held here."""
        held = self.term_sets.get(field) if self.known else None
        if held is None:
            return None
        found = [held[term] for term in dict.fromkeys(terms) if term in held]
        return BitMap.union(*found) if found else BitMap()

    def counts(self, numbers: BitMap, spellings: Mapping[str, str]) -> dict[str, list[tuple[str, int]]]:
        """Facet counts over ``numbers``, most frequent first (ties by name); tags under ``spellings``
        (case-folded tag → the spelling shown). Row by row for few matches, by set otherwise."""
        counts: Mapping[str, Mapping[str, int]]
        if len(numbers) < self._values * ROWS_PER_VALUE:
            counts = self._row_counts(numbers)
        else:
            counts = {
                field: {key: numbers.intersection_cardinality(posts) for key, posts in values.items()}
                for field, values in self.facet_sets.items()
            }
        result: dict[str, list[tuple[str, int]]] = {}
        for field, counted in counts.items():
            named = (
                (spellings.get(key, key) if field == "tag" else key, count) for key, count in counted.items() if count
            )
            result[field] = sorted(named, key=lambda item: (-item[1], item[0].casefold()))
        return result

    def _row_counts(self, numbers: Iterable[int]) -> dict[str, Counter[str]]:
        counts: dict[str, Counter[str]] = {field: Counter() for field in FACET_FIELDS}
        tags, actors, victims, techniques = (counts[field] for field in FACET_FIELDS)
        rows = self._rows
        for number in numbers:
            row = rows[number]
            tags.update(tag.casefold() for tag in row.tags)
            actors.update(row.actors)
            victims.update(row.victims)
            techniques.update(row.techniques)
        return counts


def _one_keyword(value: str) -> tuple[str, ...]:
    return (keyword(value),)

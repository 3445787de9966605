"""Columns beside the catalog: what a search needs besides text, as arrays and sets of post numbers.

A post's number is its position in the catalog's date order (0 = newest), so a set of numbers read in
ascending order *is* the date order, and a date filter is one contiguous run of numbers found by bisection.
Each tag, actor, victim and technique has the set of posts that carry it, as a compressed bitmap
(``pyroaring``): ANDing a filter, counting a facet over the matches or ordering them costs set
operations in C instead of Python per post. whoosh is left the text terms.

The columns belong to one catalog generation (``Ranking.columns``): from the rows of a loaded snapshot, or
read field by field from the catalog file, each read checking that the file still holds that generation. An
update makes a new generation with columns of its own, so they are never stale.
"""

from __future__ import annotations

import itertools
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, Protocol

from pyroaring import BitMap

from index.engine.contract import rank_numbers
from index.query import date_bounds
from index.vocabulary import BY_KIND, FACET_KINDS

#: Facet keys, as ``Snapshot.facets`` gives them: tags (case-folded), then actor, victim, technique.
FACET_FIELDS: tuple[str, ...] = ("tag", *(BY_KIND[kind].field for kind in FACET_KINDS))
#: The engine field each facet's values are indexed in.
ENGINE_FIELDS: dict[str, str] = {"tag": "tags", **{field: field for field in FACET_FIELDS[1:]}}
#: Facet key → the row field (and catalog column) holding its values, in the order of FACET_FIELDS.
ROW_FIELDS: dict[str, str] = dict(zip(FACET_FIELDS, ("tags", "actors", "victims", "techniques"), strict=True))
#: Engine field → the facet whose values it holds.
FACET_BY_ENGINE_FIELD: dict[str, str] = {engine: facet for facet, engine in ENGINE_FIELDS.items()}
#: Below this many matches per distinct facet value, counting row by row beats one intersection count per
#: value (docs/benchmarks.md, "Facet counts: by row or by set": they cross at 0.1-0.17).
ROWS_PER_VALUE = 0.15
_EPOCH = datetime(1, 1, 1)
_MICROSECOND = timedelta(microseconds=1)
_DAY = timedelta(days=1)
#: The date key of an undated post: after every real date in the descending column.
UNDATED = -(1 << 62)
#: Posts whose date as written the columns read once per generation, spread over the order, to start the
#: bisection of a date filter's bounds; then at most this many posts per bound and read of the file.
SAMPLE = 1024
PROBES = 128
#: Text that sorts above every date as written, and text below every date but above an undated post's "".
_AFTER_EVERY_DATE = "\uffff"
_BEFORE_EVERY_DATE = "\x00"


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


#: What a column source gives per field (:data:`ROW_FIELDS` and ``"date"``), by post number: a tuple of
#: values per post, or the date key of each post; ``None`` when it cannot (the catalog moved on).
ColumnSource = Callable[[str], Sequence[Any] | None]


class Narrowing(Protocol):
    """The few posts that may pass one filter, read without the whole field (the catalog file's SQL): what a
    process that searches once needs. Each gives (post number, that post's field) for a superset of the
    posts that pass, or ``None`` when it cannot tell (the catalog moved on)."""

    def containing(self, name: str, needles: Sequence[str]) -> list[tuple[int, tuple[str, ...]]] | None:
        """Posts whose ``name`` field holds any of ``needles`` (ASCII, any case) somewhere in its text."""
        ...

    def written_dates(self, numbers: Sequence[int]) -> list[str | None] | None:
        """The dates of the posts ``numbers`` as the catalog file writes them (ISO text; ``None`` for an
        undated post), in the order given. The catalog orders its posts by that text, newest first."""
        ...


class Columns:
    """Dates, facet values and engine terms of every post of one catalog generation, by post number.

    Each field is read from its ``source`` when first needed and kept: a query on tags reads the tags only,
    so a process that searches once reads one column, not every row.
    """

    def __init__(
        self,
        by_date: Sequence[str],
        rank: Mapping[str, int],
        source: ColumnSource | None = None,
        narrowing: Narrowing | None = None,
    ) -> None:
        """``by_date`` ids newest first, ``rank`` each id's position; ``source`` gives each field in the same
        order, or there is none (then only the order is known: :meth:`dated` and :meth:`having` answer
        nothing). With ``narrowing``, a filter on a field not read yet reads only the posts that may pass."""
        self.by_date = by_date
        self.rank = rank
        self.size = len(by_date)
        self.known = source is not None or not by_date  # whether dates and values can be had
        self._source = source
        self._narrowing = narrowing
        self._fields: dict[str, Sequence[Any] | None] = {}
        self._terms: dict[str, dict[str, BitMap] | None] = {}
        self._spellings: dict[str, dict[str, BitMap] | None] = {}
        self._sample: list[tuple[int, str | None]] | None = None  # (number, date as written) spread over the order

    def values(self, name: str) -> Sequence[Any] | None:
        """One field (a :data:`ROW_FIELDS` name or ``"date"``) by post number; ``None`` when not held."""
        if name not in self._fields:
            if not self.size:
                found: Sequence[Any] | None = () if name != "date" else array("q")
            else:
                found = self._source(name) if self._source is not None else None
            if found is not None and len(found) != self.size:
                found = None
            self._fields[name] = found  # several threads may read it at once: the same value either way
        return self._fields[name]

    @cached_property
    def _dates(self) -> tuple[array[int], bool] | None:
        """Negated date keys by post number (ascending when the catalog's order is by date, as it is), and
        whether they are in order."""
        keys = self.values("date")
        if keys is None:
            return None
        negated = array("q", (-key for key in keys))
        return negated, all(a <= b for a, b in itertools.pairwise(negated))

    @cached_property
    def facet_sets(self) -> dict[str, dict[str, BitMap]]:
        """Facet key → posts: tags grouped by their case-folded form, as the facets show them. Built on
        first use: one pass over every value of every row (about 2.3 million at 100k posts)."""
        sets: dict[str, dict[str, BitMap]] = {}
        for field in FACET_FIELDS:
            values = self._spelled(field)
            if values is not None:
                sets[field] = _grouped(values, (lambda tag: (tag.casefold(),)) if field == "tag" else (lambda v: (v,)))
        return sets

    def term_sets(self, engine_field: str) -> dict[str, BitMap] | None:
        """Engine field → term → posts whose documents hold that term; ``None`` for a field not held."""
        if engine_field not in self._terms:
            field = FACET_BY_ENGINE_FIELD.get(engine_field)
            values = self._spelled(field) if field is not None else None
            keys = technique_terms if field == "technique" else _one_keyword
            self._terms[engine_field] = _grouped(values, keys) if values is not None else None
        return self._terms[engine_field]

    def _spelled(self, field: str) -> dict[str, BitMap] | None:
        """One facet's values as written → posts."""
        if field not in self._spellings:
            rows = self.values(ROW_FIELDS[field])
            spelled = None
            if rows is not None:
                lists: defaultdict[str, list[int]] = defaultdict(list)
                for number, values in enumerate(rows):
                    for value in values:
                        lists[value].append(number)
                spelled = _bitmaps(lists)
            self._spellings[field] = spelled
        return self._spellings[field]

    @cached_property
    def _values(self) -> int:
        """How many distinct values the facets hold (without building their sets)."""
        return sum(
            len(set(itertools.chain.from_iterable(rows)))
            for rows in map(self.values, ROW_FIELDS.values())
            if rows is not None
        )

    def tag_spellings(self) -> dict[str, str]:
        """Case-folded tag → its most frequent spelling (ties: the alphabetically first)."""
        counts: Counter[str] = Counter(itertools.chain.from_iterable(self.values("tags") or ()))
        names: dict[str, str] = {}
        for spelling, _count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            names.setdefault(spelling.casefold(), spelling)
        return names

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
        low = date_key(start) if start is not None else UNDATED + 1
        high = date_key(end) - 1 if end is not None else -UNDATED
        if self._narrowing is not None and "date" not in self._fields:
            found = self._dated_in_file(self._narrowing, start, end, low, high)
            if found is not None:
                return found
        dates = self._dates
        if dates is None:
            return None
        negated, in_order = dates
        if in_order:  # one run of numbers
            return BitMap(range(bisect_left(negated, -high), bisect_right(negated, -low)))
        return BitMap(number for number, key in enumerate(negated) if low <= -key <= high)

    def _dated_in_file(
        self, narrowing: Narrowing, start: datetime | None, end: datetime | None, low: int, high: int
    ) -> BitMap | None:
        """``dated`` from the catalog file, reading the dates of a few posts instead of every post in the span.

        The file orders posts by their date as written, newest first, so the posts written within any span of
        text are one run of numbers, found by bisection. A date as written is its UTC instant give or take a
        day: the posts written a day or more inside the bounds pass, those written a day or more outside fail,
        and only the posts in between (the edges) are read to compare their instants with the bounds.
        """
        outer = (_shifted(start, -_DAY), _shifted(end, _DAY))  # a bound past the calendar: that end is open
        inner_first = _shifted(start, _DAY) if start is not None else None
        inner_after = _shifted(end, -_DAY) if end is not None else None
        inner = (
            _AFTER_EVERY_DATE if start is not None and inner_first is None else inner_first,
            _BEFORE_EVERY_DATE if end is not None and inner_after is None else inner_after,
        )
        at = self._below(narrowing, [bound for span in (outer, inner) for bound in _span_bounds(span)])
        if at is None:
            return None
        around, surely = (_run(at, *span) for span in (outer, inner))
        if not surely:
            surely = range(around.start, around.start)
        edges = [*range(around.start, surely.start), *range(surely.stop, around.stop)]
        written = narrowing.written_dates(edges) if edges else []
        if written is None:
            return None
        passing = (
            number
            for number, text in zip(edges, written, strict=True)
            if text and low <= date_key(datetime.fromisoformat(text)) <= high
        )
        return BitMap(surely) | BitMap(passing)

    def _below(self, narrowing: Narrowing, bounds: Iterable[str]) -> dict[str, int] | None:
        """For each bound, the first post number whose date as written sorts below it (an undated post below
        every date): a bisection of all the bounds at once, from the dates of :data:`SAMPLE` posts spread over
        the order (read once per generation), then of at most :data:`PROBES` posts per bound and read."""
        if self._sample is None:
            numbers = _spread(0, self.size, SAMPLE)
            texts = narrowing.written_dates(numbers)
            if texts is None:
                return None
            self._sample = list(zip(numbers, texts, strict=True))
        spans = {bound: _narrowed(self._sample, bound, 0, self.size) for bound in bounds}
        while any(low < high for low, high in spans.values()):
            probes = {bound: _spread(low, high, PROBES) for bound, (low, high) in spans.items() if low < high}
            wanted = sorted(set().union(*probes.values()))
            texts = narrowing.written_dates(wanted)
            if texts is None:
                return None
            written = dict(zip(wanted, texts, strict=True))
            for bound, numbers in probes.items():
                spans[bound] = _narrowed([(number, written[number]) for number in numbers], bound, *spans[bound])
        return {bound: low for bound, (low, _high) in spans.items()}

    def having(self, field: str, terms: Iterable[str]) -> BitMap | None:
        """Posts whose engine ``field`` holds any of ``terms``; ``None`` when the field is not held here."""
        terms = list(dict.fromkeys(terms))
        facet = FACET_BY_ENGINE_FIELD.get(field)
        if self.known and facet is not None and self._narrowing is not None and ROW_FIELDS[facet] not in self._fields:
            needles = [_needle(term) for term in terms]
            if all(needles):  # every term has a piece the file can look for: read only the posts holding one
                near = self._narrowing.containing(ROW_FIELDS[facet], [needle for needle in needles if needle])
                if near is not None:
                    keys = technique_terms if facet == "technique" else _one_keyword
                    wanted = set(terms)
                    return BitMap(
                        number for number, values in near if any(not wanted.isdisjoint(keys(value)) for value in values)
                    )
        held = self.term_sets(field) if self.known else None
        if held is None:
            return None
        found = [held[term] for term in terms if term in held]
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

    def _row_counts(self, numbers: BitMap) -> dict[str, Counter[str]]:
        counts: dict[str, Counter[str]] = {}
        for field, name in ROW_FIELDS.items():
            rows = self.values(name)
            if rows is None:
                continue
            values = itertools.chain.from_iterable(map(rows.__getitem__, numbers))
            counts[field] = Counter(value.casefold() for value in values) if field == "tag" else Counter(values)
        return counts


def _shifted(moment: datetime | None, shift: timedelta) -> str | None:
    """``moment + shift`` as the catalog writes a date; ``None`` for no moment or one past the calendar."""
    if moment is None:
        return None
    try:
        return (moment + shift).isoformat()
    except OverflowError:
        return None


def _span_bounds(span: tuple[str | None, str | None]) -> list[str]:
    """The bounds :meth:`Columns._below` must place for the run of a span of written dates."""
    first, after = span
    return [first or _BEFORE_EVERY_DATE, *([after] if after is not None else [])]


def _run(at: Mapping[str, int], first: str | None, after: str | None) -> range:
    """The post numbers whose date as written is ``first`` or later and before ``after`` (``None``: open)."""
    start = at[after] if after is not None else 0
    return range(start, max(start, at[first or _BEFORE_EVERY_DATE]))


def _narrowed(probes: Sequence[tuple[int, str | None]], bound: str, low: int, high: int) -> tuple[int, int]:
    """Where the first post whose date as written sorts below ``bound`` lies, ``[low, high]``, narrowed by
    the dates of ``probes`` (ascending post numbers within it)."""
    at = bisect_left(probes, True, key=lambda probe: (probe[1] or "") < bound)
    return probes[at - 1][0] + 1 if at else low, probes[at][0] if at < len(probes) else high


def _spread(low: int, high: int, count: int) -> list[int]:
    """At most ``count`` post numbers spread evenly over ``[low, high)``, ascending."""
    if high - low <= count:
        return list(range(low, high))
    return [low + (high - low) * step // (count + 1) for step in range(1, count + 1)]


def _one_keyword(value: str) -> tuple[str, ...]:
    return (keyword(value),)


def _needle(term: str) -> str | None:
    """The longest word of an engine term that any value keyed as that term holds as written, in some case
    of ASCII letters: ASCII only and without ``k`` (the Kelvin sign lower-cases to it); ``None`` if none."""
    words = [word for word in term.split() if word.isascii() and "k" not in word]
    return max(words, key=len) if words else None

"""The tantivy engine: the same documents, terms and query language as whoosh, answered by a Rust index.

Text is analysed here by the whoosh schema's own analysers (stemming, stop words, positions, comma
keywords) and handed to tantivy already tokenised, so every term and position is the one whoosh would
index; queries are parsed and expanded by the whoosh code (search.py) and translated node by node
(tantivy_query.py). Hits are mapped to post ids through a 64-bit key per post kept in a fast column,
and the key → id table is read from the ``id`` field's term dictionary once per state of the index.

Writers take the same ``flock`` file as whoosh's (so two Spyglass processes, whichever engine each uses,
never write one folder at once), and tantivy's own lock besides. Any failure to open means "rebuild".
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import shutil
import threading
import time
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import repeat
from pathlib import Path
from typing import Any

import tantivy
from pyroaring import BitMap
from whoosh.util.filelock import FileLock, try_for
from whoosh.util.times import datetime_to_long

from index.engine.contract import RankSet
from index.engine.errors import mark_damaged, reopened
from index.engine.schema import SCHEMA_VERSION, build_schema, read_stamp, write_stamp
from index.engine.search import (
    EngineHits,
    Expander,
    compile_tree,
    parse_with,
    postings_budget,
)
from index.engine.store import (
    LOCK_NAME,
    WRITER_TIMEOUT,
    EngineDamaged,
    EngineError,
    EngineLocked,
    EngineUnavailable,
    IndexDoc,
    doc_fields,
)
from index.engine.tantivy_query import is_everything, is_nothing, translate
from index.engine.tantivy_schema import KEYWORDS, POSITIONED, tantivy_schema
from index.engine.words import Analysed
from index.paths import make_way
from index.workers import keep_private

NAME = "tantivy"
#: The indexing heap of the one tantivy indexing thread (the bulk build's two worker processes use the cores).
WRITER_HEAP = 64_000_000
META = "meta.json"


@cache
def whoosh_schema() -> Any:
    """The whoosh schema this index mirrors: its analysers index the text and its parser reads queries."""
    return build_schema()


def id_term(post_id: str) -> str:
    """A post id as an index term: ids may hold lone surrogates (file names that are not UTF-8), which
    tantivy cannot store, so the id's bytes are kept one character each (reversed by :func:`post_id_of`)."""
    return post_id.encode("utf-8", "surrogatepass").decode("latin-1")


def post_id_of(term: str) -> str:
    return term.encode("latin-1").decode("utf-8", "surrogatepass")


def post_key(post_id: str) -> int:
    """The post's 64-bit key in the ``key`` column (hits carry it without reading stored documents)."""
    return int.from_bytes(hashlib.blake2b(id_term(post_id).encode("utf-8"), digest_size=8).digest(), "big")


@dataclass(frozen=True, slots=True)
class Tokenised:
    """A post's tantivy document as plain values: ``fields`` holds each analysed field's name, terms and
    their positions. It is what a bulk build's workers hand over (picklable, no body), so the analysis runs
    there and the writing process only builds the document."""

    id: str
    key: int
    fields: tuple[tuple[str, list[str], Sequence[int]], ...]
    date: int | None


def tokenised(doc: IndexDoc) -> Tokenised:
    """``doc`` analysed by the whoosh fields, from the very values whoosh is given (store.doc_fields): the same
    terms at the same positions."""
    values = doc_fields(doc)
    fields: list[tuple[str, list[str], Sequence[int]]] = []
    for name in (*POSITIONED, *KEYWORDS):
        if text := values.get(name) or "":
            terms, positions = _analysed(name, text)
            if terms:
                fields.append((name, terms, positions))
    date = values.get("date")  # naive UTC, as whoosh is given it
    return Tokenised(
        id_term(doc.post_id),
        post_key(doc.post_id),
        tuple(fields),
        None if date is None else int(datetime_to_long(date)),
    )


def _analysed(name: str, text: str) -> tuple[list[str], Sequence[int]]:
    """The terms field ``name`` indexes for ``text``, and their positions. The title and body come analysed
    already (words.Analysed): their words at consecutive positions are what the field's analyser hands out
    for them, without a token at a time."""
    if isinstance(text, Analysed):
        return text.words, range(text.first, text.first + len(text.words))
    terms: list[str] = []
    positions = array("I")
    for token in whoosh_schema()[name].analyzer(text, positions=True, mode="index"):
        terms.append(token.text)
        positions.append(token.pos)
    return terms, positions


def document(made: Tokenised) -> Any:
    """The tantivy document of a :class:`Tokenised` post."""
    document = tantivy.Document()
    document.add_text("id", made.id)
    document.add_unsigned("key", made.key)
    token, zero = tantivy.Token, repeat(0)
    for name, terms, positions in made.fields:
        tokens = list(map(token, terms, positions, zero, zero))  # as Token(text, position, 0, 0), without a loop
        document.add_pre_tokenized_text(name, tantivy.PreTokenizedString("", tokens))
    if made.date is not None:
        document.add_integer("date", made.date)
    return document


def read_meta(folder: Path) -> tuple[int, bytes]:
    """The opstamp of the last commit and the whole ``meta.json`` it is read from (written atomically by
    tantivy). The opstamp alone can repeat (a rebuild of the same posts ends at the same one); the file
    names the segments too, so it tells any two states of the folder apart."""
    try:
        raw = (folder / META).read_bytes()
        return int(json.loads(raw)["opstamp"]), raw
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise EngineUnavailable(f"the search index cannot be opened ({type(error).__name__})") from error


def _write_lock(folder: Path, timeout: float) -> Any:
    lock = FileLock(str(folder / LOCK_NAME))
    if not try_for(lock.acquire, timeout=timeout, delay=0.1):
        raise EngineLocked("another Spyglass is writing this index; working read-only")
    keep_private(lock)  # a bulk build's worker processes must not hold it
    return lock


class TantivyWriter:
    """A write session; the commit or cancel ends it and releases both locks."""

    def __init__(self, writer: Any, lock: Any, base_generation: int, folder: Path) -> None:
        self._writer = writer
        self._folder = folder
        self._lock = lock
        self._base = base_generation
        self.count = 0

    @property
    def base_generation(self) -> int:
        return self._base

    #: What a bulk build's workers make of each document (a module-level function: pickled by name).
    convert = staticmethod(tokenised)

    def add(self, doc: IndexDoc, *, replace: bool = False) -> None:
        """Add a post; ``replace`` first removes any older version (a delete applies to earlier adds only)."""
        self.add_converted(tokenised(doc), replace=replace)

    def add_converted(self, made: Tokenised, *, replace: bool = False) -> None:
        """Add a post a bulk worker analysed (:attr:`convert`); ``replace`` as for :meth:`add`."""
        if replace:
            self._writer.delete_documents_by_term("id", made.id)
        self._writer.add_document(document(made))
        self.count += 1

    def delete(self, post_id: str) -> None:
        self._writer.delete_documents_by_term("id", id_term(post_id))
        self.count += 1

    def delete_many(self, post_ids: Sequence[str]) -> None:
        for post_id in post_ids:
            self.delete(post_id)

    def commit(self, then: Callable[[int], None] | None = None) -> None:
        """Commit, let tantivy's merges finish, run ``then`` (see the contract) and release the locks."""
        try:
            self._writer.commit()
            self._writer.wait_merging_threads()
            if then is not None:
                then(read_meta(self._folder)[0])
        finally:
            self._release()

    def cancel(self) -> None:
        try:
            self._writer.rollback()
            self._writer.wait_merging_threads()
        except BaseException:  # runs after a failure: never raises, always unlocks
            pass
        finally:
            self._release()

    def _release(self) -> None:
        self._writer = None  # dropping tantivy's writer releases its own lock
        if getattr(self._lock, "fd", None) is not None:
            self._lock.release()


class _Lexicon:
    """The reader the whoosh rewriter expands patterns with: terms from a prefix in lexicon order, and
    their document frequencies, summed over segments as whoosh sums them."""

    def __init__(self, searcher: Any) -> None:
        self._searcher = searcher
        self._frequencies: dict[tuple[str, str], int] = {}

    def expand_prefix(self, fieldname: str, prefix: str) -> Iterator[str]:
        found = self._searcher.terms_with_prefix(fieldname, prefix, limit=None)
        for term, frequency in found:
            self._frequencies[(fieldname, term)] = int(frequency)
        yield from sorted(term for term, _ in found)

    def doc_frequency(self, fieldname: str, term: str) -> int:
        known = self._frequencies.get((fieldname, term))
        return known if known is not None else int(self._searcher.doc_freq(fieldname, term))


#: The slot of a document the ranking does not know (or a deleted one): no post has this number.
NO_NUMBER = 0xFFFF_FFFF


@dataclass(frozen=True)
class _Numbers:
    """One reading's documents as the catalog's post numbers (its place in the date order, 0 = newest):
    ``by_segment[segment ord][doc id]`` is a document's number, ``places[number]`` where that post's
    document is (``segment ord << 32 | doc id``, -1 for none). Built in one pass over every document."""

    rank: Mapping[str, int]
    by_segment: list[array[int]]
    places: array[int]

    def of(self, hits: Sequence[tuple[Any, Any]]) -> BitMap:
        """The post numbers of ``(value, address)`` hits; documents the ranking does not know are dropped."""
        tables = self.by_segment
        found = BitMap([tables[address.segment_ord][address.doc] for _, address in hits])
        found.discard(NO_NUMBER)
        return found

    def address(self, number: int) -> Any | None:
        """Where the document of post ``number`` is, or ``None`` when the index does not hold it."""
        place = self.places[number] if 0 <= number < len(self.places) else -1
        return None if place < 0 else tantivy.DocAddress(place >> 32, place & NO_NUMBER)


@dataclass
class _Reading:
    """One state of the index as searched (``meta``: its ``meta.json``): its searcher, the key → post id
    table and the post numbers of its documents under the last ranking asked for."""

    meta: bytes
    searcher: Any
    keys: dict[int, str] = field(default_factory=dict)
    keys_read: bool = False
    numbers_held: _Numbers | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)

    def _table(self) -> dict[int, str]:
        """Read from the ``id`` term dictionary in one call. A key two ids share (a 64-bit hash: in practice
        never) is left out, so its hits are named from the stored id instead."""
        with self.lock:
            if not self.keys_read:
                table: dict[int, str] = {}
                shared: set[int] = set()
                for term, _ in self.searcher.terms_with_prefix("id", "", limit=None):
                    post_id = post_id_of(term)
                    key = post_key(post_id)
                    if table.setdefault(key, post_id) != post_id:
                        shared.add(key)
                for key in shared:
                    del table[key]
                self.keys, self.keys_read = table, True
            return self.keys

    def post_ids(self, hits: Sequence[tuple[Any, Any]]) -> list[str]:
        """The post ids of ``(key, address)`` pairs."""
        table = self._table()
        ids = []
        for key, address in hits:
            post_id = table.get(int(key))
            ids.append(post_id if post_id is not None else post_id_of(self.searcher.doc(address)["id"][0]))
        return ids

    def numbers(self, rank: Mapping[str, int]) -> _Numbers:
        """The post numbers of every document under ``rank``, built on first use for each ranking."""
        with self.lock:
            held = self.numbers_held
            if held is None or held.rank is not rank:
                held = self.numbers_held = self._numbered(rank)
            return held

    def _numbered(self, rank: Mapping[str, int]) -> _Numbers:
        hits = _every(self.searcher, tantivy.Query.all_query())
        segments = [address.segment_ord for _, address in hits]
        docs = [address.doc for _, address in hits]
        sizes = [0] * self.searcher.num_segments
        for segment, doc in zip(segments, docs, strict=True):
            sizes[segment] = max(sizes[segment], doc + 1)
        by_segment = [array("I", [NO_NUMBER]) * size for size in sizes]
        places = array("q", [-1]) * len(rank)
        for segment, doc, post_id in zip(segments, docs, self.post_ids(hits), strict=True):
            number = rank.get(post_id)
            if number is not None:
                by_segment[segment][doc] = number
                places[number] = segment << 32 | doc
        return _Numbers(rank, by_segment, places)


def _every(searcher: Any, query: Any) -> list[tuple[Any, Any]]:
    """Every match of ``query`` as ``(key, address)``, in key order (ordering by a column skips scoring)."""
    hits: list[tuple[Any, Any]] = searcher.search(
        query, limit=max(1, searcher.num_docs), count=False, order_by_field="key"
    ).hits
    return hits


def _both(query: Any, other: Any, occur: Any = tantivy.Occur.Must) -> Any:
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (occur, other)])


def _dated(query: Any, date: int | None) -> Any:
    """The matches of ``query`` dated exactly ``date`` (``None``: the undated ones)."""
    if date is None:
        return _both(query, tantivy.Query.exists_query("date"), tantivy.Occur.MustNot)
    return _both(query, _date_range(date, date))


def _date_range(low: int, high: int) -> Any:
    return tantivy.Query.range_query(tantivy_schema(), "date", tantivy.FieldType.Integer, low, high)


class TantivyEngine:
    """One tantivy index folder: the :class:`index.engine.contract.TextEngine` contract."""

    name = NAME

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.epoch = 0
        self._guard = threading.Lock()
        self._index: Any = None
        self._reading: _Reading | None = None

    # -- opening and repair ----------------------------------------------------------------

    def _open(self) -> Any:
        if read_stamp(self.folder, NAME) != SCHEMA_VERSION:
            raise EngineUnavailable("the search index is missing or was built by another version or engine")
        try:
            index = tantivy.Index.open(str(self.folder))
            index.config_reader(reload_policy="manual")
            index.searcher()  # opens every segment: a garbled one fails here
        except BaseException as error:  # any failure at all means "rebuild": the index is a cache
            if isinstance(error, KeyboardInterrupt | SystemExit):
                raise
            raise EngineUnavailable(f"the search index cannot be opened ({type(error).__name__})") from error
        return index

    def _opened(self) -> Any:
        with self._guard:
            if self._index is None:
                self._index = self._open()
            return self._index

    def healthy(self) -> bool:
        index = reopened(self.folder, self._open, self.forget)
        if index is None:
            return False
        with self._guard:
            self._index = index  # the reading stays: it is dropped only when meta.json changes
        return True

    def damaged(self, error: BaseException) -> EngineDamaged:
        """Record that reading the index failed, so the next update rebuilds it."""
        return mark_damaged(self.folder, error)

    def generation(self) -> int:
        self._opened()
        return read_meta(self.folder)[0]

    def doc_count(self) -> int:
        return int(self._read().searcher.num_docs)

    def forget(self) -> None:
        with self._guard:
            self._index = None
            self._reading = None
            self.epoch += 1

    def recreate(self) -> TantivyWriter:
        """Empty the folder, create a fresh index and return its writer: the write lock is held from the
        emptying to the commit (see the whoosh engine)."""
        self.forget()
        if self.folder.is_symlink() or (self.folder.exists() and not self.folder.is_dir()):
            make_way(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = _write_lock(self.folder, timeout=0)
        try:
            for entry in os.scandir(self.folder):
                if entry.name == LOCK_NAME:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            tantivy.Index(tantivy_schema(), path=str(self.folder), reuse=False)
            write_stamp(self.folder, NAME)
        except BaseException:
            lock.release()
            raise
        return self._writer_holding(lock)

    def writer(self, *, timeout: float | None = None) -> TantivyWriter:
        return self._writer_holding(_write_lock(self.folder, WRITER_TIMEOUT if timeout is None else timeout))

    def _writer_holding(self, lock: Any) -> TantivyWriter:
        """The index's writer under ``lock``, which this process holds (released on any failure here)."""
        try:
            index = self._opened()
            base = read_meta(self.folder)[0]
            writer = index.writer(heap_size=WRITER_HEAP, num_threads=1)
        except ValueError as error:  # tantivy's own lock: held by something that is not a Spyglass writer
            lock.release()
            raise EngineLocked("another program is writing this index; working read-only") from error
        except BaseException:
            lock.release()
            raise
        return TantivyWriter(writer, lock, base, self.folder)

    # -- searching -------------------------------------------------------------------------

    def _read(self) -> _Reading:
        """The reading of the index as it is now; a commit or rebuild by any process is picked up here."""
        index = self._opened()
        meta = read_meta(self.folder)[1]
        with self._guard:
            reading = self._reading
            if reading is None or reading.meta != meta:
                index.reload()
                reading = self._reading = _Reading(meta, index.searcher())
            return reading

    def _guarded(self, search: Any) -> Any:
        try:
            return search()
        except EngineError:
            raise
        except BaseException as error:  # tantivy's Rust panics arrive as BaseException subclasses
            if isinstance(error, KeyboardInterrupt | SystemExit):
                raise
            raise self.damaged(error) from error

    def _compile(self, reading: _Reading, text: str, expand: Expander, deadline: float, postings: int) -> Any:
        return compile_tree(
            parse_with(whoosh_schema(), text), _Lexicon(reading.searcher), expand, deadline=deadline, postings=postings
        )

    def _ids(self, reading: _Reading, query: Any) -> list[str]:
        """Every match of ``query`` (unscored order: by key)."""
        return reading.post_ids(_every(reading.searcher, query))

    def _scored(self, reading: _Reading, query: Any, top: int) -> tuple[list[str], dict[str, float]]:
        searcher = reading.searcher
        hits = searcher.search(query, limit=top, count=False).hits
        addresses = [address for _, address in hits]
        best = reading.post_ids(list(zip(searcher.fast_field_values("key", addresses), addresses, strict=True)))
        return best, {post_id: float(score) for post_id, (score, _) in zip(best, hits, strict=True)}

    def run(
        self,
        text: str,
        *,
        expand: Expander,
        top: int = 0,
        every: bool = True,
        time_limit: float = 1.0,
        rank: Mapping[str, int] | None = None,
    ) -> EngineHits:
        """As whoosh's :func:`index.engine.search.run`, with the same expansion budgets (so the same hits);
        tantivy collects and scores fast enough that its time limit only bounds the expansion. With ``rank``
        the matches become post numbers through the reading's array, never through their ids."""

        def search() -> EngineHits:
            deadline = time.monotonic() + time_limit
            reading = self._read()
            passes = 2 if top > 0 and every else 1
            node, rewriter = self._compile(
                reading, text, expand, deadline, postings_budget(time_limit / passes, scored=not every)
            )
            query = translate(node)
            best: list[str] = []
            scores: dict[str, float] = {}
            if top > 0 and not is_everything(node) and not is_nothing(node):
                best, scores = self._scored(reading, query, top)
            ids: list[str] = []
            numbers = None if rank is None else BitMap()
            if every and not is_nothing(node):
                if rank is None:
                    ids = self._ids(reading, query)
                else:
                    numbers = reading.numbers(rank).of(_every(reading.searcher, query))
            return EngineHits(
                ids=ids,
                top=best,
                scores=scores,
                partial=rewriter.truncated,
                terms=rewriter.terms,
                notes=tuple(rewriter.notes),
                numbers=numbers,
            )

        result: EngineHits = self._guarded(search)
        return result

    def newest(
        self,
        text: str,
        *,
        rank: Mapping[str, int],
        limit: int,
        expand: Expander,
        time_limit: float,
        allowed: RankSet | None = None,
    ) -> EngineHits:
        """The ``limit`` newest matches, asked of tantivy by its date column (see :meth:`_newest`)."""

        def search() -> EngineHits:
            deadline = time.monotonic() + time_limit
            reading = self._read()
            node, rewriter = self._compile(reading, text, expand, deadline, postings_budget(time_limit))
            found: list[str] = []
            if limit > 0 and not is_nothing(node) and (allowed is None or len(allowed)):
                found = self._newest(reading, translate(node), rank, limit, allowed)
            return EngineHits(ids=found, partial=rewriter.truncated, terms=rewriter.terms, notes=tuple(rewriter.notes))

        result: EngineHits = self._guarded(search)
        return result

    def _newest(
        self, reading: _Reading, query: Any, rank: Mapping[str, int], limit: int, allowed: RankSet | None
    ) -> list[str]:
        """tantivy keeps the ``wanted`` latest-dated matches. The catalog orders posts of one date by id,
        which tantivy cannot, so every match sharing the last date kept is added: then every match outside
        the set is older than all inside it, and the catalog's ranks order the set exactly. When the
        catalog or ``allowed`` drop too many of them, four times as many are asked for."""
        searcher = reading.searcher
        if allowed is not None:
            query = self._within(reading, query, rank, allowed)
        wanted = limit
        while True:
            hits = searcher.search(
                query, limit=wanted, count=False, order_by_field="date", order=tantivy.Order.Desc
            ).hits
            addresses = [address for _, address in hits]
            every = len(hits) < wanted
            if not every:
                last = hits[-1][0]
                addresses = [address for date, address in hits if date != last]
                addresses += [address for _, address in _every(searcher, _dated(query, last))]
            keys = searcher.fast_field_values("key", addresses)
            ids = reading.post_ids(list(zip(keys, addresses, strict=True)))
            ranked = [
                (number, post_id)
                for post_id in ids
                if (number := rank.get(post_id)) is not None and (allowed is None or number in allowed)
            ]
            if every or len(ranked) >= limit:
                return [post_id for _, post_id in heapq.nsmallest(limit, ranked)]
            wanted *= 4

    @staticmethod
    def _within(reading: _Reading, query: Any, rank: Mapping[str, int], allowed: RankSet) -> Any:
        """``query`` narrowed to the dates of the posts ``allowed`` spans (its newest to its oldest), so
        that tantivy's latest-dated matches are mostly allowed ones (a ``date:`` filter is one such run)."""
        numbers = reading.numbers(rank)
        newest, oldest = numbers.address(allowed.min()), numbers.address(allowed.max())
        if newest is None or oldest is None:
            return query
        high, low = reading.searcher.fast_field_values("date", [newest, oldest])
        if high is None:  # the newest allowed post is undated: so are all the others
            return _dated(query, None)
        return query if low is None else _both(query, _date_range(int(low), int(high)))

    def close(self) -> None:
        with self._guard:
            self._reading = None

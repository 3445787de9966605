"""New index segments written in worker processes, so a bulk build analyses and writes postings on every core.

A worker opens the index without its write lock and writes one new whoosh segment for a batch of posts:
tokenising, stemming, sorting the postings and writing them all happen there. The segment stays invisible
until the process holding the write lock lists it in the index's table of contents at commit
(:meth:`EngineWriter.add_segments`), so that process remains the only one that commits. Files of a segment
that was never listed (a worker killed or a build cancelled) are removed by the next commit, and the
workers' sort folders by the next bulk write (:func:`remove_leftovers`).
"""

from __future__ import annotations

import pickle
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from whoosh.writing import PostingPool, SegmentWriter

from index.engine.store import INDEX_NAME, IndexDoc, doc_fields, open_storage
from index.engine.words import field_postings

#: Memory (whoosh's own estimate) for a worker's postings before it sorts them into a run file on disk.
#: At 100k posts a worker wrote runs of this size for about every 1,500 posts; 128 MB runs (whoosh's default)
#: made the build's largest process 1 GB.
POOL_MB = 48
#: A worker's sort folder, inside the index folder: ``<INDEX_NAME>.<random>.worker.tmp``.
_SORT_SUFFIX = ".worker.tmp"
#: Postings written between two progress reports.
_REPORT_EVERY = 20_000
#: Postings pickled at once in a sort run file (whoosh pickles them one by one).
_RUN_CHUNK = 10_000
#: whoosh's estimate of a posting's memory in its pool, less the lengths of its field name, term and value.
_POSTING_BYTES = 150


@dataclass(frozen=True)
class NewSegment:
    """A segment finished by a worker, not yet part of the index (picklable; ``segment`` is whoosh's)."""

    segment: Any
    docs: int


class _CountingPool(PostingPool):  # type: ignore[misc]
    """whoosh's posting pool, telling ``report(done, total)`` how many postings are written as it goes, and
    keeping its sort runs (temporary files of sorted postings, merged into the segment) as pickled lists:
    whoosh pickles and unpickles every posting on its own, a sizeable share of writing a segment."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.saved = 0
        self.report: Callable[[int, int], None] = _quiet

    def save(self) -> None:
        self.saved += len(self.current)
        super().save()

    def _write_run(self, file: Any, items: Iterable[Any]) -> None:
        postings = iter(items)
        with file:
            while chunk := list(islice(postings, _RUN_CHUNK)):
                pickle.dump(chunk, file, pickle.HIGHEST_PROTOCOL)

    def _read_run(self, path: str) -> Iterator[Any]:
        file = self._open_run(path)
        try:
            while True:
                try:
                    chunk = pickle.load(file)
                except EOFError:
                    return
                yield from chunk
        finally:
            file.close()
            self._remove_run(path)

    def iter_postings(self) -> Iterator[Any]:
        total, done = self.saved + len(self.current), 0
        postings = iter(super().iter_postings())
        while chunk := list(islice(postings, _REPORT_EVERY)):  # counted per chunk: no Python step per posting
            yield from chunk
            done += len(chunk)
            self.report(done, total)


def _quiet(_done: int, _total: int) -> None:
    return None


class _Lengths:
    """The new segment's field lengths in lists. Writing postings asks for the length of every posting's
    document, and whoosh's column reader took about a quarter of the time spent writing postings."""

    def __init__(self, per_doc: Any, schema: Any, docs: int) -> None:
        self._columns = {
            name: [per_doc.doc_field_length(number, name) for number in range(docs)]
            for name, field in schema.items()
            if field.scorable
        }

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        column = self._columns.get(fieldname)
        return default if column is None else column[docnum]


class SegmentBuilder:
    """One new segment of the index in ``folder``, written by this process without the write lock."""

    def __init__(self, folder: Path, pool_mb: float = POOL_MB) -> None:
        storage = open_storage(folder)
        writer = SegmentWriter(storage.open_index(INDEX_NAME), _lk=False, limitmb=pool_mb)
        if any(field.vector or field.separate_spelling() for _name, field in writer.schema.items()):
            raise ValueError("a segment is written without term vectors or spelling fields")
        # whoosh gives every writer of an index the same sort folder and deletes it when a writer finishes;
        # each worker gets its own, so no worker removes another's runs.
        writer._tempstorage = storage.temp_storage(f"{INDEX_NAME}.{uuid.uuid4().hex}{_SORT_SUFFIX}")
        writer.pool = _CountingPool(writer._tempstorage, writer.newsegment, limitmb=pool_mb)
        self._writer = writer

    @property
    def docs(self) -> int:
        return int(self._writer.doc_count())

    def add(self, doc: IndexDoc) -> None:
        """What whoosh's ``add_document`` does for a post (no per-document boosts, term vectors or spelling
        fields), with fewer Python steps per posting: the postings of a field value go into the pool's list
        together, with whoosh's estimate of their memory summed once, and a title or body analysed once
        gives its positions straight from its words (``field_postings``)."""
        writer = self._writer
        schema, per_doc, pool, docnum = writer.schema, writer.perdocwriter, writer.pool, writer.docnum
        fields = doc_fields(doc)
        per_doc.start_doc(docnum)
        for name in sorted(fields):
            value = fields[name]
            if value is None:
                continue
            field = schema[name]
            length = 0
            if field.indexed:
                items = list(field_postings(field, value))
                postings = [(name, term, docnum, weight, encoded) for term, _frequency, weight, encoded in items]
                if field.scorable:
                    length = sum(item[1] for item in items)
                pool.fieldnames.add(name)
                pool.current.extend(postings)
                pool.currentsize += len(postings) * (_POSTING_BYTES + len(name)) + sum(
                    2 * len(posting[1]) + len(posting[4] or b"") for posting in postings
                )
                if pool.currentsize > pool.limit:
                    pool.save()
            per_doc.add_field(name, field, value if field.stored else None, length)
            if field.column_type:
                per_doc.add_column_value(name, field.column_type, field.to_column_value(value))
        per_doc.finish_doc()
        writer._added = True
        writer.docnum += 1

    def finish(self, written: Callable[[int, int], None]) -> NewSegment | None:
        """Sort and write the postings and close the segment's files; ``written(done, total)`` is told how
        many postings are written as it goes. ``None`` when nothing was added."""
        writer = self._writer
        if not writer.doc_count():
            self.cancel()
            return None
        writer.pool.report = written
        try:
            # whoosh's _finalize_segment, with the lengths read once into lists
            writer.perdocwriter.close()
            per_doc = writer.per_document_reader()
            try:
                lengths = _Lengths(per_doc, writer.schema, writer.doc_count())
                writer.fieldwriter.add_postings(writer.schema, lengths, writer.pool.iter_postings())
            finally:
                per_doc.close()
            writer.fieldwriter.close()
            writer._close_segment()
            writer._assemble_segment()
            segment = writer.get_segment()
        finally:
            writer._finish()
        return NewSegment(segment, int(writer.doc_count()))

    def cancel(self) -> None:
        """Drop the segment's files so far (its segment files are also removed by the next commit)."""
        if not self._writer.is_closed:
            self._writer.cancel()


def remove_leftovers(folder: Path) -> None:
    """Remove the sort folders of workers that were killed; only the holder of the write lock may call it."""
    for path in folder.glob(f"*{_SORT_SUFFIX}"):
        shutil.rmtree(path, ignore_errors=True)

"""Opening, repairing and writing the whoosh index.

The index is a rebuildable cache: any failure to open it (missing folder, truncated TOC,
garbled segment, older schema) means "rebuild", never a fatal error. Only one process
may write; a second one gets :class:`EngineLocked` and stays read-only. Lock files are
never deleted by hand: whoosh uses ``flock``, which the kernel releases when a writer dies.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.engine.errors import DAMAGE_MARKER as DAMAGE_MARKER
from index.engine.errors import EngineDamaged as EngineDamaged
from index.engine.errors import EngineError as EngineError
from index.engine.errors import EngineLocked as EngineLocked
from index.engine.errors import EngineUnavailable as EngineUnavailable
from index.engine.errors import mark_damaged, reopened
from index.paths import make_way
from index.vocabulary import ENTITY_FIELDS

INDEX_NAME = "MAIN"
LOCK_NAME = f"{INDEX_NAME}_WRITELOCK"
WRITER_TIMEOUT = 2.0


@dataclass(frozen=True, slots=True)
class IndexDoc:
    """What the index holds for one post. Entity terms are lower-case, as index_terms() gives them."""

    post_id: str
    title: str
    body: str
    tags: tuple[str, ...] = ()
    date: datetime | None = None
    source: str = ""
    terms: Mapping[str, Sequence[str]] = field(default_factory=dict)


def _keywords(values: Sequence[str]) -> str:
    """Join values for a comma-separated KEYWORD field; commas inside a value would split it."""
    return ",".join(" ".join(value.replace(",", " ").split()) for value in values if value.strip())


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def doc_fields(doc: IndexDoc) -> dict[str, Any]:
    """The keyword arguments for ``add_document``."""
    fields: dict[str, Any] = {
        "id": doc.post_id,
        "title": doc.title,
        "body": doc.body,
        "tags": _keywords(doc.tags),
        "source": doc.source,
    }
    from index.engine.pairs import PAIR_FIELDS  # with whoosh: only writing needs it
    from index.engine.words import analysed

    for name, twin in PAIR_FIELDS.items():  # analysed once for the field and its word pairs (words.py)
        fields[name] = fields[twin] = analysed(fields[name])
    if doc.date is not None:
        fields["date"] = _naive_utc(doc.date)
    for name in ENTITY_FIELDS:
        fields[name] = _keywords(doc.terms.get(name, ()))
    return fields


def open_storage(folder: Path) -> Any:
    """whoosh storage without mmap: with mmap, whoosh copies every mapped sub-file into a BytesIO,
    so opening a searcher on a 650 MB index took 1.3 GB of memory and 0.5 s; plain reads are as fast.
    whoosh is imported here, not with the module: a search answered from the catalog never needs it.
    """
    from whoosh.filedb.filestore import FileStorage

    return FileStorage(str(folder), supports_mmap=False)


class EngineWriter:
    """A write session: adds and deletes, then one commit (or cancel) that releases the lock."""

    def __init__(self, writer: Any, *, lock: Any = None) -> None:
        self._writer = writer
        self._lock = lock
        self.count = 0
        self._segments: list[Any] = []

    @property
    def base_generation(self) -> int:
        """The index generation this writer builds on (read by whoosh once the lock was taken)."""
        return int(self._writer.generation) - 1

    def add(self, doc: IndexDoc, *, replace: bool = False) -> None:
        """Add a post; ``replace`` first removes any older version with the same id."""
        if replace:
            self._writer.delete_by_term("id", doc.post_id)
        self._writer.add_document(**doc_fields(doc))
        self.count += 1

    def delete(self, post_id: str) -> None:
        self._writer.delete_by_term("id", post_id)
        self.count += 1

    def delete_many(self, post_ids: Sequence[str]) -> None:
        """Delete posts from the segments the index had when this writer opened, with one searcher."""
        if not post_ids:
            return
        with self._writer.searcher() as searcher:
            for post_id in post_ids:
                self._writer.delete_by_term("id", post_id, searcher=searcher)
        self.count += len(post_ids)

    def add_segments(self, segments: Sequence[Any]) -> None:
        """List segments that worker processes wrote (``NewSegment``s, in document order) at commit."""
        self._segments.extend(new.segment for new in segments)
        self.count += sum(new.docs for new in segments)

    def commit(self, then: Callable[[int], None] | None = None) -> None:
        """Commit without ``optimize``: the new posts become segments of their own and whoosh merges only
        small segments. Optimising rewrites every existing segment: adding 500 posts to a 10k index took
        474–509 s and 231 MB with it, 36–39 s and 152 MB without (measured on this machine). Segments written
        by workers follow the existing ones, in the order they were added. ``then`` runs before the lock is
        released (see the contract)."""
        from whoosh.writing import MERGE_SMALL

        added = list(self._segments)

        def keep_and_add(writer: Any, existing: list[Any]) -> list[Any]:
            return [*MERGE_SMALL(writer, existing), *added]

        try:
            self._writer.commit(mergetype=keep_and_add)
            if then is not None:
                then(int(self._writer.generation))
        finally:
            self._release()

    def cancel(self) -> None:
        """Drop what was written; runs after a failure, so it never raises and always unlocks."""
        try:
            self._writer.cancel()
        except Exception:  # e.g. a commit that failed half-way (disk full) leaves whoosh's state odd
            pass
        finally:
            self._release()

    def _release(self) -> None:
        if self._lock is not None and getattr(self._lock, "fd", None) is not None:
            self._lock.release()


class Engine:
    """One whoosh index folder. Thread-safe for searching; writing is serialised by the caller."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._ix: Any = None
        self._guard = threading.Lock()
        #: Bumped whenever the index is recreated, so cached searchers are dropped.
        self.epoch = 0

    def _open(self) -> Any:
        from index.engine.schema import SCHEMA_VERSION, read_stamp  # with whoosh: opening needs it anyway

        if read_stamp(self.folder) != SCHEMA_VERSION:
            raise EngineUnavailable("the search index is missing or was built by another version")
        try:
            storage = open_storage(self.folder)
            ix = storage.open_index(INDEX_NAME)
            reader = ix.reader()  # a garbled segment shows up only when a reader opens it
            reader.close()
        except Exception as error:  # any failure at all means "rebuild": the index is a cache
            raise EngineUnavailable(f"the search index cannot be opened ({type(error).__name__})") from error
        return ix

    def index(self) -> Any:
        """The open whoosh index; raises :class:`EngineUnavailable` when it needs rebuilding."""
        with self._guard:
            if self._ix is None:
                self._ix = self._open()
            return self._ix

    def damaged(self, error: Exception) -> EngineDamaged:
        """Record that reading the index failed, so the next update rebuilds it."""
        return mark_damaged(self.folder, error)

    def healthy(self) -> bool:
        """Open the index afresh (another process may have damaged or rebuilt it since); an index a search
        found damaged is not healthy."""
        ix = reopened(self.folder, self._open, self.forget)
        if ix is None:
            return False
        with self._guard:
            self._ix = ix
        return True

    def generation(self) -> int:
        """The TOC generation; the catalog records it to prove both were written together."""
        return int(self.index().latest_generation())

    def doc_count(self) -> int:
        return int(self.index().doc_count())

    def forget(self) -> None:
        """Drop the open index so the next use re-opens it (after a rebuild by another process)."""
        with self._guard:
            self._ix = None
            self.epoch += 1

    def recreate(self) -> EngineWriter:
        """Empty the folder, create a fresh index and return its writer: the write lock is held from the
        emptying to the commit, so a second process that also found the index stale stays read-only
        instead of emptying it (or the catalog) under this one."""
        from index.engine.schema import build_schema, write_stamp

        self.forget()
        if self.folder.is_symlink() or (self.folder.exists() and not self.folder.is_dir()):
            make_way(self.folder)  # something else took the index folder's place
        self.folder.mkdir(parents=True, exist_ok=True)
        storage = open_storage(self.folder)
        lock = storage.lock(LOCK_NAME)
        if not lock.acquire(blocking=False):
            raise EngineLocked("another Spyglass is writing this index; working read-only")
        try:
            for entry in os.scandir(self.folder):
                if entry.name == LOCK_NAME:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            storage.create_index(build_schema(), INDEX_NAME)
            write_stamp(self.folder)
            return self._writer_holding(self.index(), lock)
        except BaseException:
            lock.release()
            raise

    def writer(self, *, timeout: float | None = None) -> EngineWriter:
        """Open the one writer of the index (this process takes the lock). A bulk update adds segments that
        worker processes wrote (``add_segments``); everything else goes through this writer."""
        from whoosh.util.filelock import try_for

        ix = self.index()
        timeout = WRITER_TIMEOUT if timeout is None else timeout
        # The lock is taken here, not by whoosh: a writer that fails to set up after locking (disk full,
        # unwritable folder) would leak whoosh's lock, and this process would then see "another Spyglass".
        lock = ix.lock("WRITELOCK")
        if not try_for(lock.acquire, timeout=timeout, delay=0.1):
            raise EngineLocked("another Spyglass is writing this index; working read-only")
        return self._writer_holding(ix, lock)

    def _writer_holding(self, ix: Any, lock: Any) -> EngineWriter:
        """The writer of ``ix`` under ``lock``, which this process holds (released on any failure here)."""
        from whoosh.index import EmptyIndexError

        from index.workers import keep_private

        keep_private(lock)  # a bulk build's worker processes must not hold it
        try:
            writer = ix.writer(_lk=False)
        except EmptyIndexError as error:  # another process emptied the folder to rebuild it a moment ago
            lock.release()
            self.forget()
            message = "another Spyglass updated this index at the same time; working read-only"
            raise EngineUnavailable(message) from error
        except BaseException:
            lock.release()
            raise
        return EngineWriter(writer, lock=lock)  # released by its commit or cancel, not by whoosh

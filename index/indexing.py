"""Bringing a corpus's index and catalog in step with its folder, and triage state with both.

An update scans by stat, reads only new and changed posts (each file once: the bytes parsed are the
bytes hashed), extracts entities, writes the whoosh index and the catalog in one run, and then lets
renamed or moved posts keep their triage state. Many changed posts go through worker processes that
write index segments of their own (index/bulk.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from collections.abc import Set as AbstractSet
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from index import freshness
from index.catalog import CatalogEntry, CatalogView, ProblemEntry, Snapshot
from index.engine.contract import ConvertingWriter, TextEngine, TextEngineWriter
from index.engine.errors import EngineLocked, EngineUnavailable
from index.engine.store import EngineWriter
from index.posts import PostFile, PostProblem, Scan, scan_posts
from index.preview import name_order_key
from index.state import StateError, TriageState

#: Posts to change at once before the bulk path (worker processes writing segments) pays for its start-up.
BULK_THRESHOLD = 500
#: The size recorded for a post that could not be read for a moment: no file has it, so it is read next run.
UNREAD = -1


@dataclass(frozen=True)
class UpdateProgress:
    stage: str  # "scan", "index", "write" (bulk: the workers write their segments), "commit"
    done: int
    total: int


@dataclass(frozen=True)
class Written:
    """What an update wrote before its commit: catalog rows, ids of rows staged in the catalog by the bulk
    workers, problems, and whether it was told to stop early."""

    upserts: list[CatalogEntry]
    staged: list[str]
    problems: list[ProblemEntry]
    stopped: bool

    @property
    def ids(self) -> Iterator[str]:
        yield from (entry.row.post_id for entry in self.upserts)
        yield from self.staged
        yield from (entry.problem.post_id for entry in self.problems)


@dataclass(frozen=True)
class UpdateReport:
    added: int
    changed: int
    removed: int
    unchanged: int
    problems: list[PostProblem]
    rebuilt: bool
    seconds: float
    read_only: bool = False  # another process holds the writer, or the index folder is unwritable
    cancelled: bool = False
    message: str | None = None
    reconciled: int = 0  # triage rows moved to a renamed or moved post
    state_error: StateError | None = None  # the triage state could not be reconciled (the index was updated)


def reconcile(snapshot: Snapshot, state: TriageState) -> int:
    """Move the triage state of posts that vanished to current posts with the same content hash."""
    return state.reconcile({post_id: row.content_hash for post_id, row in snapshot.rows.items()})


def _never() -> bool:
    return False


def _quiet(_progress: UpdateProgress) -> None:
    return None


class Indexer:
    """Writes one corpus's index and catalog; one update at a time per process (another process is
    kept out by the engine's write lock)."""

    def __init__(self, posts_dir: Path, index_dir: Path, engine: TextEngine, view: CatalogView) -> None:
        self.posts_dir = posts_dir
        self.index_dir = index_dir
        self.engine = engine
        self.view = view
        self.scan_problems: list[PostProblem] = []
        self.read_only = False
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        """An update is running in this process."""
        return self._lock.locked()

    def problems(self) -> list[PostProblem]:
        """Files the last scan could not list or read, then the catalog's skipped and warned posts."""
        return self.scan_problems + self.view.problems()

    def update(
        self,
        *,
        rebuild: bool = False,
        progress: Callable[[UpdateProgress], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        state: TriageState | None = None,
    ) -> UpdateReport:
        """Bring index and catalog in step with the folder; then, when posts were added or removed and a
        writable ``state`` is given, let renamed or moved posts keep their triage state."""
        with self._lock:
            started = time.monotonic()
            try:
                report = self._update(rebuild, progress or _quiet, cancelled or _never, started)
            except (EngineLocked, EngineUnavailable) as error:  # another process holds or is rebuilding it
                report = self._read_only(str(error), started)
            except OSError as error:
                reason = error.strerror or type(error).__name__
                report = self._read_only(f"cannot write the index in {self.index_dir}: {reason}", started)
            self.read_only = report.read_only
        if state is None or state.readonly or not (report.added or report.removed):
            return report
        try:
            moved = reconcile(self.view.snapshot(), state)
        except StateError as error:
            return replace(report, state_error=error)
        return replace(report, reconciled=moved)

    def _read_only(self, message: str, started: float) -> UpdateReport:
        self.engine.forget()
        self.view.hold(None)
        return UpdateReport(
            0,
            0,
            0,
            self.view.count(),
            self.problems(),
            False,
            time.monotonic() - started,
            read_only=True,
            message=message,
        )

    def _scan(self, progress: Callable[[UpdateProgress], None]) -> Scan:
        return scan_posts(self.posts_dir, lambda found: progress(UpdateProgress("scan", found, 0)))

    def _in_step(self, generation: int | None) -> bool:
        """The catalog matches the index only if it recorded the index's current generation."""
        if not self.engine.healthy():
            return False
        return generation is not None and generation == self.engine.generation()

    def _unchanged(
        self,
        files: int,
        generation: int | None,
        record: freshness.Record | None,
        started: float,
        *,
        rebuilt: bool = False,
    ) -> UpdateReport:
        """The report of an update that found nothing to do; ``record`` says what the next check may trust
        (``None``: it is recorded already)."""
        self.view.keep(generation)
        if record is not None:
            freshness.remember(self.index_dir, record)
        return UpdateReport(0, 0, 0, files, self.problems(), rebuilt, time.monotonic() - started)

    def _update(
        self,
        rebuild: bool,
        progress: Callable[[UpdateProgress], None],
        cancelled: Callable[[], bool],
        started: float,
    ) -> UpdateReport:
        progress(UpdateProgress("scan", 0, 0))
        if not self.posts_dir.is_dir():
            return self._read_only(f"no such folder: {self.posts_dir}; the index was left as it is", started)
        scan = self._scan(progress)
        lines, scan_problems = scan.lines(), scan.problems()
        if any(problem.post_id == "." for problem in scan_problems):
            # The root itself is unreadable: keep the index as it is rather than empty it.
            self.scan_problems = scan_problems
            return self._read_only(scan_problems[0].reason, started)
        catalog = self.view.catalog
        seen = freshness.digest(lines)
        # Taken before the index is found in step: a commit between the two makes the next check look again.
        engine_seen = freshness.engine_state(self.engine.folder)
        if not rebuild:  # the folder as the last check that found it in step saw it: nothing to read
            generation = catalog.generation()
            record = freshness.read(self.index_dir)
            if record is not None and record.generation == generation and record.digest == seen:
                self.scan_problems = scan_problems
                if engine_seen and record.engine == engine_seen:  # the same index: not even opened
                    return self._unchanged(len(lines), generation, None, started)
                if self._in_step(generation):
                    return self._unchanged(
                        len(lines), generation, freshness.Record(generation, seen, engine_seen), started
                    )
        # The plan compares stat facts only: the rows are loaded when there is something to write.
        files = scan.files()
        stats, generation = self.view.stats()
        rebuilt = rebuild or not self._in_step(generation)
        writer: TextEngineWriter | None = None
        if rebuilt:
            freshness.forget(self.index_dir)
            writer = self.engine.recreate()  # the write lock is held from here: the catalog is reset under it
            try:
                catalog.reset(writer.base_generation)
            except BaseException:
                writer.cancel()
                raise
            stats, generation = catalog.stats()
        present = {found.post_id for found in files}
        removed = [post_id for post_id in stats if post_id not in present]
        # Newest first by file name (Jekyll names start with the date): document order then follows date
        # order closely, which lets the first screen of a date-sorted search stop early (first_page.py).
        todo = sorted(
            (found for found in files if stats.get(found.post_id) != (found.size, found.mtime_ns)),
            key=lambda found: name_order_key(found.post_id),
            reverse=True,
        )
        added = sum(1 for found in todo if found.post_id not in stats)
        self.scan_problems = scan_problems
        if not todo and not removed:
            if writer is not None:  # an empty folder: the fresh index is already written
                writer.cancel()
            record = None if generation is None else freshness.Record(generation, seen, engine_seen)
            return self._unchanged(len(files), generation, record, started, rebuilt=rebuilt)
        freshness.forget(self.index_dir)  # before anything is written: the record vouches for this catalog only
        # The posts in the index: every known file but the problems (the rows themselves are not needed, and
        # loading them took seconds at 100k).
        indexed = stats.keys() - {problem.post_id for problem in catalog.problems()}
        bulk = len(todo) >= BULK_THRESHOLD
        if writer is None:
            writer = self.engine.writer()
        if writer.base_generation != generation or catalog.generation() != generation:
            # Another process committed between our look at the catalog and our getting the lock: the
            # plan is stale (carrying it out would index posts twice), so this run leaves it to them.
            writer.cancel()
            raise EngineLocked("another Spyglass updated this index at the same time; working read-only")
        try:
            written = self._write(writer, indexed, todo, removed, bulk, progress, cancelled)
            if not self.posts_dir.is_dir():  # gone while it was read: its posts must not all become problems
                writer.cancel()
                message = f"the folder {self.posts_dir} disappeared during the update; the index was left as it is"
                return self._read_only(message, started)
            progress(UpdateProgress("commit", len(todo), len(todo)))
            # The catalog is written under the lock: another process must never see the index committed
            # and the catalog reset or stale in between (it would rebuild, or reset the catalog under this).
            writer.commit(
                then=lambda generation: catalog.apply(
                    written.upserts, written.problems, removed, generation, staged=bool(written.staged)
                )
            )
        except BaseException:
            writer.cancel()
            raise
        self.view.hold(catalog.load())
        done = changed = 0
        for post_id in written.ids:
            done += 1
            changed += post_id in stats
        return UpdateReport(
            added=min(added, done),
            changed=changed,
            removed=len(removed),
            unchanged=len(files) - len(todo),
            problems=self.problems(),
            rebuilt=rebuilt,
            seconds=time.monotonic() - started,
            cancelled=written.stopped,
        )

    def _write(
        self,
        writer: TextEngineWriter,
        indexed: AbstractSet[str],
        todo: Sequence[PostFile],
        removed: Sequence[str],
        bulk: bool,
        progress: Callable[[UpdateProgress], None],
        cancelled: Callable[[], bool],
    ) -> Written:
        """Feed the writer; on cancel, stop early: what was written so far is committed and kept."""
        # imported here: the no-change check of every command-line search must not pay for extraction, the
        # knowledge or the worker pool
        from index.preparing import Prepared, prepare

        writer.delete_many([post_id for post_id in removed if post_id in indexed])
        if bulk and isinstance(writer, EngineWriter):  # whoosh: worker processes write whole segments
            return self._write_in_workers(writer, indexed, todo, progress, cancelled)
        converting = writer if bulk and isinstance(writer, ConvertingWriter) else None
        outcomes: Generator[tuple[PostFile, Any], None, None]
        if converting is not None:  # tantivy: worker processes analyse the documents and stage the rows
            from index.bulk import converted_in_workers

            outcomes = converted_in_workers(self.posts_dir, self.view.catalog, todo, converting.convert)
        else:
            outcomes = ((found, prepare(self.posts_dir, found)) for found in todo)
        upserts: list[CatalogEntry] = []
        staged: list[str] = []
        problems: list[ProblemEntry] = []
        total = len(todo)
        step = max(1, total // 200)
        with closing(outcomes):  # closing it first: the workers' rows of posts not taken are unstaged
            for done, (found, outcome) in enumerate(outcomes, 1):
                was_indexed = found.post_id in indexed
                if isinstance(outcome, PostProblem):
                    if (entry := _problem_entry(found, outcome, was_indexed)) is not None:
                        if was_indexed:
                            writer.delete(found.post_id)
                        problems.append(entry)
                elif isinstance(outcome, Prepared):
                    writer.add(outcome.doc, replace=was_indexed)
                    upserts.append(outcome.entry)
                else:  # converted in a worker, which staged its row
                    assert converting is not None
                    converting.add_converted(outcome, replace=was_indexed)
                    staged.append(found.post_id)
                if not done % step or done == total:
                    progress(UpdateProgress("index", done, total))
                    if done < total and cancelled():
                        return Written(upserts, staged, problems, True)
        return Written(upserts, staged, problems, False)

    def _write_in_workers(
        self,
        writer: EngineWriter,
        indexed: AbstractSet[str],
        todo: Sequence[PostFile],
        progress: Callable[[UpdateProgress], None],
        cancelled: Callable[[], bool],
    ) -> Written:
        """The bulk path: workers write new segments and stage their catalog rows; the older versions of the
        posts they replace are deleted here, in the segments the index had."""

        def report(stage: str, done: int, total: int) -> None:
            progress(UpdateProgress(stage, done, total))

        from index.bulk import write_in_workers

        segments, taken, stopped = write_in_workers(
            self.posts_dir, self.engine.folder, self.view.catalog, todo, report, cancelled
        )
        staged: list[str] = []
        problems: list[ProblemEntry] = []
        replaced: list[str] = []
        for found, outcome in taken:
            was_indexed = found.post_id in indexed
            if isinstance(outcome, str):
                staged.append(outcome)
            elif (entry := _problem_entry(found, outcome, was_indexed)) is not None:
                problems.append(entry)
            else:
                continue
            if was_indexed:
                replaced.append(found.post_id)
        writer.delete_many(replaced)
        writer.add_segments(segments)
        return Written([], staged, problems, stopped)


def _problem_entry(found: PostFile, problem: PostProblem, indexed: bool) -> ProblemEntry | None:
    """The catalog's record of a post that could not be used; ``None`` when it was unreadable for a moment
    and is indexed: the indexed version stays, and as its stat differs it is read next run."""
    if problem.retry and indexed:
        return None
    return ProblemEntry(problem, UNREAD if problem.retry else found.size, found.mtime_ns)

"""Many posts at once: worker processes read, extract and write whole index segments, one per batch.

The posts (newest first) are cut into contiguous batches, a multiple of the number of workers. A worker
prepares each post of its batch and adds it to a segment of its own, then sorts and writes that segment's
postings, so parsing, extraction, analysis and writing all run on every core. The parent only hands out
batches, reports progress and, holding the write lock, commits the finished segments in batch order, so
document order stays newest first. A worker stages the catalog rows of its posts as it goes
(:meth:`Catalog.stage`), so no process holds every row until the commit; they join the catalog only when the
parent applies them after the commit. Progress comes through counters in shared memory: posts added, then
postings written, per batch. The stage shown is what the workers do: "index" while one adds posts, "write"
while all are writing segments (between batches too, so the count moves while they write). When told to
stop, each worker closes its segment after the post at hand, and what was written is kept.

An engine whose writer takes documents, not segments (tantivy), gets them through :func:`converted_in_workers`:
the workers prepare posts in small tasks, analyse each into what the writer adds (``convert``) and stage
their catalog rows; the parent adds them in file order. Only ``CONVERT_AHEAD`` tasks are out at once, so
besides the task it is adding from, the parent holds at most that many tasks' converted posts, whatever its
pace.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from multiprocessing.sharedctypes import RawArray, RawValue
from pathlib import Path
from typing import Any

from index.catalog import Catalog, CatalogEntry
from index.engine import IndexDoc, NewSegment, SegmentBuilder, remove_leftovers
from index.knowledge import get_knowledge
from index.posts import PostFile, PostProblem
from index.preparing import Prepared, prepare
from index.workers import worker_pool

#: Worker processes: one per core of the 2-core machines Spyglass is measured on.
WORKERS = 2
#: Posts per segment at most; a 100k build leaves 8 segments (search speed: docs/benchmarks.md).
BATCH_POSTS = 12_500
#: Seconds between two progress reports while the workers run.
POLL_EVERY = 0.2
#: Catalog rows a worker stages at once.
STAGE_EVERY = 500
#: Posts per task of a converting build (:func:`converted_in_workers`); its worker stages their rows at once.
CONVERT_POSTS = 100
#: Tasks of a converting build out at once: the workers keep busy while the parent adds the oldest.
CONVERT_AHEAD = 2 * WORKERS


@dataclass(frozen=True)
class Batch:
    """What one worker wrote: its segment (``None`` if empty) and, in file order, what each post it took
    became (the id of a post whose row it staged, or the problem); fewer outcomes than files when it was
    told to stop."""

    segment: NewSegment | None
    outcomes: list[str | PostProblem]


class _Counters:
    """Per-batch counters in memory shared with the workers (each slot has a single writer)."""

    def __init__(self, batches: int) -> None:
        self.added: Any = RawArray("q", batches)
        self.written: Any = RawArray("q", batches)
        self.postings: Any = RawArray("q", batches)
        self.writing: Any = RawArray("b", batches)  # 1 while the segment is written, then 2
        self.stop: Any = RawValue("b", 0)


#: The counters of the running build, in a worker (set by the pool's initializer).
_counters: _Counters | None = None


def _share(counters: _Counters) -> None:
    global _counters
    _counters = counters


def batch_sizes(total: int, workers: int = WORKERS) -> list[int]:
    """Contiguous batch sizes: a multiple of ``workers`` batches, none above ``BATCH_POSTS``, all within one."""
    count = workers * max(1, math.ceil(total / (workers * BATCH_POSTS)))
    base, extra = divmod(total, count)
    return [base + (1 if number < extra else 0) for number in range(count)]


def _write_batch(root: Path, folder: Path, catalog: Catalog, number: int, files: Sequence[PostFile]) -> Batch:
    """In a worker: prepare the posts of one batch into a new segment and write it; stage their rows."""
    counters = _counters
    assert counters is not None, "a batch runs only in a pool started by write_in_workers"
    builder = SegmentBuilder(folder)
    outcomes: list[str | PostProblem] = []
    rows: list[CatalogEntry] = []
    try:
        for found in files:
            if counters.stop.value:
                break
            result = prepare(root, found)
            if isinstance(result, Prepared):
                builder.add(result.doc)
                rows.append(result.entry)
                outcomes.append(found.post_id)
            else:
                outcomes.append(result)
            if len(rows) >= STAGE_EVERY:
                catalog.stage(rows)
                rows.clear()
            counters.added[number] = len(outcomes)
        catalog.stage(rows)
        counters.writing[number] = 1

        def written(done: int, total: int) -> None:
            counters.postings[number] = total
            counters.written[number] = done

        segment = builder.finish(written)
        counters.writing[number] = 2
    except BaseException:
        builder.cancel()
        raise
    return Batch(segment, outcomes)


def _progress(counters: _Counters, sizes: Sequence[int]) -> tuple[str, int, int]:
    """("index", posts prepared and added) while a worker adds posts, ("write", posts whose postings are
    written) while every worker with a batch at hand writes its segment, and once all posts are added."""
    total = sum(sizes)
    added = sum(counters.added[:])
    states = list(zip(counters.added[:], counters.writing[:], strict=True))
    adding = any(posts and not writing for posts, writing in states)
    if added < total and (adding or 1 not in counters.writing[:]) and not counters.stop.value:
        return "index", added, total
    written = sum(
        counters.added[number] * counters.written[number] // counters.postings[number]
        for number in range(len(sizes))
        if counters.postings[number]
    )
    return "write", written, total


def write_in_workers(
    root: Path,
    folder: Path,
    catalog: Catalog,
    files: Sequence[PostFile],
    progress: Callable[[str, int, int], None],
    cancelled: Callable[[], bool],
) -> tuple[list[NewSegment], list[tuple[PostFile, str | PostProblem]], bool]:
    """Write ``files`` as new segments of the index in ``folder`` (whose write lock the caller holds), and
    their rows to ``catalog``'s staged rows.

    Returns the segments in document order, each post that was taken with what it became (its id, its row
    staged, or its problem; in order), and whether the build was told to stop before every post was taken.
    """
    remove_leftovers(folder)
    catalog.unstage()
    sizes = batch_sizes(len(files))
    starts = [sum(sizes[:number]) for number in range(len(sizes))]
    counters = _Counters(len(sizes))
    get_knowledge()  # loaded once here; forked workers share it
    with worker_pool(WORKERS, initializer=_share, initargs=(counters,)) as pool:
        futures: list[Future[Batch]] = [
            pool.submit(_write_batch, root, folder, catalog, number, files[start : start + size])
            for number, (start, size) in enumerate(zip(starts, sizes, strict=True))
        ]
        try:
            progress("index", 0, len(files))  # the workers run from here on
            pending = set(futures)
            while pending:
                _done, pending = wait(pending, timeout=POLL_EVERY, return_when=FIRST_COMPLETED)
                progress(*_progress(counters, sizes))
                if pending and not counters.stop.value and cancelled():
                    counters.stop.value = 1
            batches = [future.result() for future in futures]
        except BaseException:
            counters.stop.value = 1
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    segments = [batch.segment for batch in batches if batch.segment is not None]
    taken = [
        (found, outcome)
        for start, batch in zip(starts, batches, strict=True)
        for found, outcome in zip(files[start:], batch.outcomes, strict=False)
    ]
    return segments, taken, len(taken) < len(files)


def _convert(
    root: Path, catalog: Catalog, convert: Callable[[IndexDoc], Any], files: Sequence[PostFile]
) -> list[Any | PostProblem]:
    """In a worker: prepare and convert each post of one task, in file order; stage their rows."""
    rows: list[CatalogEntry] = []
    made: list[Any | PostProblem] = []
    for found in files:
        result = prepare(root, found)
        if isinstance(result, Prepared):
            rows.append(result.entry)
            made.append(convert(result.doc))
        else:
            made.append(result)
    catalog.stage(rows)
    return made


def converted_in_workers(
    root: Path, catalog: Catalog, files: Sequence[PostFile], convert: Callable[[IndexDoc], Any]
) -> Generator[tuple[PostFile, Any | PostProblem], None, None]:
    """Each of ``files`` with what it became, in order: ``convert`` of its document (its row staged in
    ``catalog``) or its problem. ``convert`` runs in the workers (a module-level function: it is pickled by
    name). Once the caller stops asking (close the iterator), the rows of posts it was not given are
    unstaged, so the staged rows are those of the posts it took."""
    catalog.unstage()
    get_knowledge()  # loaded once here; forked workers share it
    starts = iter(range(0, len(files), CONVERT_POSTS))
    out: deque[tuple[Sequence[PostFile], Future[list[Any | PostProblem]]]] = deque()
    taken = submitted = 0  # posts given to the caller, posts given to the workers
    with worker_pool(WORKERS) as pool:
        try:
            while True:
                while len(out) < CONVERT_AHEAD and (start := next(starts, None)) is not None:
                    task = files[start : start + CONVERT_POSTS]
                    submitted = start + len(task)
                    out.append((task, pool.submit(_convert, root, catalog, convert, task)))
                if not out:
                    return
                task, future = out.popleft()
                for found, made in zip(task, future.result(), strict=True):
                    taken += 1
                    yield found, made
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # a task under way stages its rows before this returns
            if taken < submitted:
                catalog.unstage(found.post_id for found in files[taken:submitted])

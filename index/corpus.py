"""The corpus facade: the one object the command line and the app use.

Opening is instant (nothing is scanned or parsed); :meth:`Corpus.update` brings the
index and the catalog in step with the folder by stat; :meth:`Corpus.search` answers
from the catalog when it can and from the engine when it must.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

from index.catalog import CATALOG_NAME, MAX_DIRECT_ROWS, Catalog, CatalogEntry, PostRow, ProblemEntry, Snapshot
from index.engine import (
    BlockTables,
    Engine,
    EngineError,
    EngineLocked,
    EngineUnavailable,
    EngineWriter,
    IndexDoc,
    Searchers,
    highlight,
    newest,
    run,
)
from index.extract import extract, index_terms
from index.knowledge import get_knowledge
from index.paths import index_dir_for
from index.posts import MAX_POST_BYTES, Post, PostFile, PostProblem, load_post, scan_corpus
from index.query import ParsedQuery, expand_term, parse_query
from index.sanitize import one_line

__all__ = ["Corpus", "PostRow", "SearchResult", "UpdateProgress", "UpdateReport"]

Sort = Literal["date", "relevance"]
#: Posts to change at once before the bulk path (two processes) pays for its start-up.
BULK_THRESHOLD = 500
#: Relevance is scored for the first page only; the rest of the hits follow by date.
RELEVANCE_PAGE = 100
HIGHLIGHT_HITS = 20
SEARCH_TIME_LIMIT = 1.0
#: The first screen of a date-sorted search: how long it may take, and the most hits it may ask for.
FIRST_SCREEN_TIME_LIMIT = 0.25
MAX_FIRST_SCREEN = 2000
ENGINE_FOLDER = "whoosh"


class FlagSource(Protocol):
    """What search needs from the triage state (index.state.TriageState satisfies it)."""

    def ids_with(self, flag: str) -> set[str]: ...


@dataclass(frozen=True)
class SearchResult:
    query: str
    ids: list[str]
    total: int
    facets: dict[str, list[tuple[str, int]]]
    highlights: dict[str, str]
    terms: list[str]
    error: str | None = None
    elapsed: float = 0.0
    partial: bool = False  # the time limit or an expansion cap cut the result short
    notes: tuple[str, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)  # relevance scores of the scored first page
    complete: bool = True  # False: only the first screen (``total`` counts what was found so far, no facets)


@dataclass(frozen=True)
class UpdateProgress:
    stage: str  # "scan", "index", "commit"
    done: int
    total: int


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


@dataclass(frozen=True, slots=True)
class Prepared:
    """A post parsed and extracted, ready for the index and the catalog (picklable for the pool)."""

    doc: IndexDoc
    entry: CatalogEntry


def _unique(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))


def prepare(root: Path, found: PostFile) -> Prepared | PostProblem:
    """Read, hash, parse and extract one post; never raises (runs in worker processes)."""
    loaded = load_post(root, found)
    if isinstance(loaded, PostProblem):
        return loaded
    try:
        with open(root / found.post_id, "rb") as handle:
            digest = hashlib.sha1(handle.read(MAX_POST_BYTES + 1), usedforsecurity=False).hexdigest()
    except OSError:
        return PostProblem(found.post_id, "file disappeared while being read")
    warnings = list(loaded.warnings)
    try:
        mentions = extract(loaded.body)
        terms = index_terms(mentions)
    except Exception as error:  # a bug in extraction must not lose the post from the index
        mentions, terms = [], {}
        warnings.append(f"entity extraction failed: {type(error).__name__}")
    by_kind: dict[str, list[str]] = {"ACTOR": [], "VICTIM": [], "TECHNIQUE": []}
    for mention in mentions:
        if mention.kind in by_kind:
            technique_id = mention.ref if mention.kind == "TECHNIQUE" else ""
            by_kind[mention.kind].append(technique_id or mention.canonical)
    row = PostRow(
        post_id=loaded.post_id,
        title=loaded.title,
        date=loaded.date,
        url=loaded.url,
        source=loaded.source,
        tags=loaded.tags,
        actors=_unique(by_kind["ACTOR"]),
        victims=_unique(by_kind["VICTIM"]),
        techniques=_unique(by_kind["TECHNIQUE"]),
        content_hash=digest,
    )
    doc = IndexDoc(loaded.post_id, loaded.title, loaded.body, loaded.tags, loaded.date, loaded.source, terms)
    return Prepared(doc, CatalogEntry(row, found.size, found.mtime_ns, tuple(warnings)))


def _prepared(root: Path, files: Sequence[PostFile], parallel: bool) -> Iterator[Prepared | PostProblem]:
    """Prepared posts in the order of ``files``; two worker processes when there are many."""
    if not parallel:
        for found in files:
            yield prepare(root, found)
        return
    get_knowledge()  # loaded once here; forked workers share it
    with ProcessPoolExecutor(max_workers=2) as pool:
        try:
            yield from pool.map(partial(prepare, root), files, chunksize=64)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _search_failure(error: Exception) -> str:
    """What the user is told when the engine could not answer; searching never raises."""
    if isinstance(error, EngineUnavailable):
        return "the search index is not ready; it is rebuilt by the next update"
    if isinstance(error, EngineError):  # query syntax, a locked or damaged index: its own words
        return str(error)
    return f"search failed ({type(error).__name__}); the next update repairs the index"  # e.g. a garbled segment


def _never() -> bool:
    return False


def _quiet(_progress: UpdateProgress) -> None:
    return None


class Corpus:
    """A posts folder with its index and catalog. Safe to search from several threads."""

    def __init__(self, posts_dir: Path, index_dir: Path) -> None:
        self.posts_dir = Path(posts_dir)
        self.index_dir = Path(index_dir)
        self._engine = Engine(self.index_dir / ENGINE_FOLDER)
        self._searchers = Searchers(self._engine)
        self._blocks = BlockTables()
        self._catalog = Catalog(self.index_dir / CATALOG_NAME)
        self._snapshot: Snapshot | None = None
        self._scan_problems: list[PostProblem] = []
        self._load_lock = threading.Lock()
        self._update_lock = threading.Lock()
        self.read_only = False
        self.time_limit = SEARCH_TIME_LIMIT

    @classmethod
    def open(cls, posts_dir: Path, index_dir: Path | None = None) -> Corpus:
        """Fast: the catalog and the index are opened on first use."""
        return cls(Path(posts_dir), index_dir_for(Path(posts_dir), index_dir))

    # -- reading ---------------------------------------------------------------------------

    def _snap(self) -> Snapshot:
        snapshot = self._snapshot
        if snapshot is None:
            with self._load_lock:
                if self._snapshot is None:
                    self._snapshot = self._catalog.load()
                snapshot = self._snapshot
        return snapshot

    def __len__(self) -> int:
        snapshot = self._snapshot  # at start-up, count without loading the catalog
        return self._catalog.count() if snapshot is None else len(snapshot.rows)

    @property
    def problems(self) -> list[PostProblem]:
        snapshot = self._snapshot
        return self._scan_problems + (self._catalog.problems() if snapshot is None else snapshot.problems)

    def rows(self, ids: Sequence[str]) -> list[PostRow]:
        snapshot = self._snapshot
        direct = snapshot is None and len(ids) <= MAX_DIRECT_ROWS  # the rows on screen at start-up
        rows = self._catalog.rows(ids) if direct else self._snap().rows
        return [rows[post_id] for post_id in ids if post_id in rows]

    def load(self, post_id: str) -> Post | PostProblem:
        """The post fresh from disk; ids that would leave the folder are refused."""
        relative = PurePosixPath(post_id)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            return PostProblem(post_id, "not a post in this folder")
        path = self.posts_dir / relative
        try:
            info = path.stat()
        except OSError:
            return PostProblem(post_id, "file no longer exists")
        return load_post(self.posts_dir, PostFile(post_id, info.st_size, info.st_mtime_ns))

    def close(self) -> None:
        self._searchers.close()

    # -- searching -------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        sort: Sort = "date",
        limit: int | None = None,
        plain: bool = False,
        state: FlagSource | None = None,
        complete: bool = True,
        snippets: bool = True,
    ) -> SearchResult:
        """Hits in order with facets and highlights. Never raises: problems come back in ``error``.

        ``complete=False`` asks only for the first ``limit`` hits, as fast as possible: for a date-sorted
        text query the result then has ``complete=False``, a ``total`` that counts only those hits and no
        facets; ask again with ``complete=True`` for the count and facets. ``snippets=False`` skips the
        highlighted fragments (they read the top posts' files; the app does not show them).
        """
        started = time.monotonic()
        parsed = parse_query(query, plain=plain)

        def failed(message: str) -> SearchResult:
            return SearchResult(query, [], 0, {}, {}, list(parsed.terms), message, time.monotonic() - started)

        if parsed.error:
            return failed(parsed.error)
        order: Sort = "relevance" if (parsed.sort or sort) == "relevance" else "date"
        wanted_flags = any(wanted for _, wanted in parsed.flags)
        if not complete and limit and not wanted_flags:
            return self._first_screen(query, parsed, order, limit, state, started, failed, snippets)
        snapshot = self._snap()
        top: list[str] = []
        scores: dict[str, float] = {}
        terms: frozenset[str] = frozenset()
        partial_result = False
        notes: tuple[str, ...] = ()
        if parsed.text:
            page = min(limit or RELEVANCE_PAGE, 1000) if order == "relevance" else 0
            try:
                hits = run(self._searchers, parsed.text, expand=expand_term, top=page, time_limit=self.time_limit)
            except Exception as error:
                return failed(_search_failure(error))
            matched: set[str] = set(hits.ids) | set(hits.top)
            top, terms, partial_result, notes = hits.top, hits.terms, hits.partial, hits.notes
            scores = hits.scores
        else:
            matched = set(snapshot.rows)
        matched = self._filter(matched, parsed.flags, parsed.show_archived, state)
        if order == "relevance" and top:
            best = [post_id for post_id in top if post_id in matched and post_id in snapshot.rank]
            chosen = set(best)
            ids = best + snapshot.order_by_date(post_id for post_id in matched if post_id not in chosen)
        elif not parsed.text and len(matched) == len(snapshot.rows):
            ids = list(snapshot.by_date)
        else:
            ids = snapshot.order_by_date(matched)
        facets = snapshot.facets(set(ids))
        total = len(ids)
        if limit is not None:
            ids = ids[: max(limit, 0)]
        return SearchResult(
            query=query,
            ids=ids,
            total=total,
            facets=facets,
            highlights=self._highlights(ids[:HIGHLIGHT_HITS], terms) if snippets else {},
            terms=list(parsed.terms),
            elapsed=time.monotonic() - started,
            partial=partial_result,
            notes=notes,
            scores=scores,
        )

    def _first_screen(
        self,
        query: str,
        parsed: ParsedQuery,
        order: Sort,
        limit: int,
        state: FlagSource | None,
        started: float,
        failed: Callable[[str], SearchResult],
        snippets: bool,
    ) -> SearchResult:
        """The newest (or best-scored) ``limit`` hits, without collecting or counting the rest."""
        hidden: set[str] = set()
        if state is not None:
            hidden = {post_id for flag, wanted in parsed.flags if not wanted for post_id in state.ids_with(flag)}
            if not parsed.show_archived:
                hidden |= state.ids_with("archived")
        if not parsed.text:  # everything: the catalog's own order, no engine call at all
            if self._snapshot is None:  # at start-up: read the head from the file, load the rest later
                ids = [row.post_id for row in self._catalog.head(limit, hidden)]
            else:
                ids = list(itertools.islice((i for i in self._snapshot.by_date if i not in hidden), limit))
            return SearchResult(query, ids, len(ids), {}, {}, [], elapsed=time.monotonic() - started, complete=False)
        snapshot = self._snap()
        wanted = min(limit + len(hidden), MAX_FIRST_SCREEN)
        try:
            if order == "relevance":  # score the best page only; the complete answer collects the rest
                hits = run(self._searchers, parsed.text, expand=expand_term, top=wanted, every=False,
                           time_limit=FIRST_SCREEN_TIME_LIMIT)
                found = [post_id for post_id in hits.top if post_id in snapshot.rank]
            else:
                hits = newest(self._searchers, self._blocks, parsed.text, rank=snapshot.rank, limit=wanted,
                              expand=expand_term, time_limit=FIRST_SCREEN_TIME_LIMIT)
                found = hits.ids
        except Exception as error:
            return failed(_search_failure(error))
        ids = [post_id for post_id in found if post_id not in hidden][:limit]
        return SearchResult(
            query=query,
            ids=ids,
            total=len(ids),
            facets={},
            highlights=self._highlights(ids[:HIGHLIGHT_HITS], hits.terms) if snippets else {},
            terms=list(parsed.terms),
            elapsed=time.monotonic() - started,
            partial=hits.partial,
            notes=hits.notes,
            scores=hits.scores,
            complete=False,
        )

    @staticmethod
    def _filter(
        matched: set[str], flags: Sequence[tuple[str, bool]], show_archived: bool, state: FlagSource | None
    ) -> set[str]:
        """Apply ``is:`` filters; archived posts stay hidden unless the query asks for them."""

        def having(flag: str) -> set[str]:
            return state.ids_with(flag) if state is not None else set()

        for flag, wanted in flags:
            matched = matched & having(flag) if wanted else matched - having(flag)
        if not show_archived and state is not None:
            matched = matched - having("archived")
        return matched

    def _highlights(self, ids: Sequence[str], terms: frozenset[str]) -> dict[str, str]:
        """Fragments made from the post files: the index does not store bodies (smaller, faster to build)."""
        fragments: dict[str, str] = {}
        if not terms:
            return fragments
        for post_id in ids:
            post = self.load(post_id)
            if isinstance(post, Post) and (text := highlight(post.body, terms)):
                fragments[post_id] = one_line(text, 300)
        return fragments

    # -- updating --------------------------------------------------------------------------

    def update(
        self,
        *,
        rebuild: bool = False,
        progress: Callable[[UpdateProgress], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> UpdateReport:
        """Bring index and catalog in step with the folder; only new and changed posts are read."""
        with self._update_lock:
            started = time.monotonic()
            try:
                report = self._update(rebuild, progress or _quiet, cancelled or _never, started)
            except EngineLocked as error:
                report = self._read_only(str(error), started)
            except OSError as error:
                reason = error.strerror or type(error).__name__
                report = self._read_only(f"cannot write the index in {self.index_dir}: {reason}", started)
            self.read_only = report.read_only
            return report

    def _read_only(self, message: str, started: float) -> UpdateReport:
        self._engine.forget()
        self._snapshot = None
        return UpdateReport(
            0, 0, 0, len(self), self.problems, False, time.monotonic() - started, read_only=True, message=message
        )

    def _scan(self, progress: Callable[[UpdateProgress], None]) -> tuple[list[PostFile], list[PostProblem]]:
        files: list[PostFile] = []
        problems: list[PostProblem] = []
        for item in scan_corpus(self.posts_dir):
            if isinstance(item, PostFile):
                files.append(item)
                if not len(files) % 2000:
                    progress(UpdateProgress("scan", len(files), 0))
            else:
                problems.append(item)
        return files, problems

    def _current_snapshot(self) -> Snapshot:
        """The snapshot in memory unless the catalog on disk has moved on (another process wrote it)."""
        held = self._snapshot
        if held is not None and held.generation is not None and held.generation == self._catalog.generation():
            return held
        return self._catalog.load()

    def _in_step(self, snapshot: Snapshot) -> bool:
        """The catalog matches the index only if it recorded the index's current generation."""
        if not self._engine.healthy():
            return False
        return snapshot.generation is not None and snapshot.generation == self._engine.generation()

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
        files, scan_problems = self._scan(progress)
        if any(problem.post_id == "." for problem in scan_problems):
            # The root itself is unreadable: keep the index as it is rather than empty it.
            self._scan_problems = scan_problems
            return self._read_only(scan_problems[0].reason, started)
        snapshot = self._current_snapshot()
        rebuilt = rebuild or not self._in_step(snapshot)
        if rebuilt:
            self._engine.recreate()
            self._catalog.reset(self._engine.generation())
            snapshot = self._catalog.load()
        present = {found.post_id for found in files}
        removed = [post_id for post_id in snapshot.stats if post_id not in present]
        # Newest first by file name (Jekyll names start with the date): document order then follows date
        # order closely, which lets the first screen of a date-sorted search stop early (first_page.py).
        todo = sorted(
            (found for found in files if snapshot.stats.get(found.post_id) != (found.size, found.mtime_ns)),
            key=lambda found: found.post_id.rsplit("/", 1)[-1],
            reverse=True,
        )
        added = sum(1 for found in todo if found.post_id not in snapshot.stats)
        self._scan_problems = scan_problems
        if not todo and not removed:
            self._snapshot = snapshot
            return UpdateReport(0, 0, 0, len(files), self.problems, rebuilt, time.monotonic() - started)
        bulk = len(todo) >= BULK_THRESHOLD
        writer = self._engine.writer(bulk=bulk)
        if writer.base_generation != snapshot.generation:
            # Another process committed between our look at the catalog and our getting the lock: the
            # plan is stale (carrying it out would index posts twice), so this run leaves it to them.
            writer.cancel()
            raise EngineLocked("another Spyglass updated this index at the same time; working read-only")
        try:
            upserts, problems, stopped = self._write(writer, snapshot, todo, removed, bulk, progress, cancelled)
            progress(UpdateProgress("commit", len(todo), len(todo)))
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        self._catalog.apply(upserts, problems, removed, self._engine.generation())
        self._snapshot = self._catalog.load()
        done = len(upserts) + len(problems)
        changed = done - sum(1 for entry in upserts if entry.row.post_id not in snapshot.stats)
        changed -= sum(1 for entry in problems if entry.problem.post_id not in snapshot.stats)
        return UpdateReport(
            added=min(added, done),
            changed=changed,
            removed=len(removed),
            unchanged=len(files) - len(todo),
            problems=self.problems,
            rebuilt=rebuilt,
            seconds=time.monotonic() - started,
            cancelled=stopped,
        )

    def _write(
        self,
        writer: EngineWriter,
        snapshot: Snapshot,
        todo: Sequence[PostFile],
        removed: Sequence[str],
        bulk: bool,
        progress: Callable[[UpdateProgress], None],
        cancelled: Callable[[], bool],
    ) -> tuple[list[CatalogEntry], list[ProblemEntry], bool]:
        """Feed the writer; on cancel, stop early: what was written so far is committed and kept."""
        for post_id in removed:
            if post_id in snapshot.rows:
                writer.delete(post_id)
        upserts: list[CatalogEntry] = []
        problems: list[ProblemEntry] = []
        total = len(todo)
        step = max(1, total // 200)
        for done, (found, result) in enumerate(zip(todo, _prepared(self.posts_dir, todo, bulk), strict=True), 1):
            if isinstance(result, Prepared):
                writer.add(result.doc, replace=found.post_id in snapshot.rows)
                upserts.append(result.entry)
            else:
                if found.post_id in snapshot.rows:
                    writer.delete(found.post_id)
                problems.append(ProblemEntry(result, found.size, found.mtime_ns))
            if not done % step or done == total:
                progress(UpdateProgress("index", done, total))
                if done < total and cancelled():
                    return upserts, problems, True
        return upserts, problems, False


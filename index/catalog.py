"""The compact per-corpus table beside the index: one row of metadata per post.

whoosh is slow at listing everything by date and at counting facets (docs/benchmarks.md), so
those come from here: the table is loaded once into memory, and an update writes it in the
same run as the index, recording the index generation it matches. It is a cache too: if
it is unreadable or disagrees with the index, the corpus is rebuilt.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar

from index.columns import ROW_FIELDS, UNDATED, Columns, ColumnSource, Narrowing, date_key
from index.paths import make_way
from index.posts import PostProblem
from index.vocabulary import BY_KIND, FACET_KINDS

CATALOG_NAME = "catalog.sqlite3"
CATALOG_VERSION = 2
_T = TypeVar("_T")
#: Facet keys: tags, then the entity kinds the catalog keeps (actor, victim, technique).
FACETS: tuple[str, ...] = ("tag", *(BY_KIND[kind].field for kind in FACET_KINDS))
_SEP = "\x1f"  # list separator; cheaper to split than JSON at 100k rows

_POST_COLUMNS = """(
    id TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, content_hash TEXT NOT NULL,
    title TEXT NOT NULL, date TEXT, url TEXT NOT NULL, source TEXT NOT NULL, tags TEXT NOT NULL,
    actors TEXT NOT NULL, victims TEXT NOT NULL, techniques TEXT NOT NULL, warnings TEXT NOT NULL,
    malware TEXT NOT NULL, vulns TEXT NOT NULL
)"""
#: ``staged`` holds rows a bulk build's workers wrote before its commit; only :meth:`Catalog.apply` after that
#: commit moves them into ``posts``, so the catalog never claims posts its index generation lacks.
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS posts {_POST_COLUMNS};
CREATE TABLE IF NOT EXISTS staged {_POST_COLUMNS};
CREATE TABLE IF NOT EXISTS problems (
    id TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    reason TEXT NOT NULL, line INTEGER, col INTEGER
);
"""


@dataclass(frozen=True, slots=True)
class PostRow:
    """One catalog row: what the list, the facets and the article header need without the file."""

    post_id: str
    title: str
    date: datetime | None
    url: str
    source: str
    tags: tuple[str, ...]
    actors: tuple[str, ...]
    victims: tuple[str, ...]
    techniques: tuple[str, ...]
    content_hash: str
    malware: tuple[str, ...] = ()  # canonical names; with ``vulns`` (CVE ids) for exports and the dossier
    vulns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """A row as an update writes it, with the stat facts used to detect the next change."""

    row: PostRow
    size: int
    mtime_ns: int
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProblemEntry:
    """A file that could not be loaded, remembered by stat so it is not re-read every run."""

    problem: PostProblem
    size: int
    mtime_ns: int


def _join(values: Iterable[str]) -> str:
    return _SEP.join(value.replace(_SEP, " ") for value in values)


class Ranking:
    """Post ids newest first and each id's position in that order: what ordering, counting and the first
    screen need, without the rows (a fraction of the cost of a full load at 100k posts). Its columns read
    dates, tags and entities from ``source`` field by field when a search first needs one."""

    def __init__(self, by_date: list[str], generation: int | None, source: ColumnSource | None = None) -> None:
        self.by_date = by_date
        self.rank: dict[str, int] = dict(zip(by_date, range(len(by_date)), strict=True))
        self.generation = generation
        self.source = source
        self.narrowing: Narrowing | None = None

    def order_by_date(self, ids: Iterable[str]) -> list[str]:
        """Newest first; ids the catalog does not know are dropped."""
        return self.columns.ids(self.columns.of_ids(ids))

    @cached_property
    def columns(self) -> Columns:
        """Dates, tags and entities by post number, for filters, order and facets (each read on first use);
        without a source, the order alone."""
        return Columns(self.by_date, self.rank, self.source, self.narrowing)

    @cached_property
    def tag_names(self) -> dict[str, str]:
        """Case-folded tag → its most frequent spelling; only facets need it, so it waits until asked."""
        return self.columns.tag_spellings()


class Snapshot(Ranking):
    """The catalog in memory. Immutable once built; an update builds a new one.

    ``rows`` come newest first (date, then id, descending; undated last): the catalog sorts them in SQL,
    which at 100k posts is several times cheaper than sorting here.
    """

    def __init__(
        self,
        rows: dict[str, PostRow],
        stats: dict[str, tuple[int, int]],
        problems: list[PostProblem],
        generation: int | None,
    ) -> None:
        super().__init__(list(rows), generation, self._field)
        self.rows = rows
        self.stats = stats
        self.problems = problems

    def share_columns(self, ranking: Ranking) -> None:
        """Take over the columns ``ranking`` (of the same generation, so of the same posts in the same order)
        has read, instead of building them again from the rows."""
        if "columns" in ranking.__dict__ and "columns" not in self.__dict__:
            self.__dict__["columns"] = ranking.columns

    def _field(self, name: str) -> list[Any]:
        rows = self.rows.values()
        if name == "date":
            return [date_key(row.date) if row.date is not None else UNDATED for row in rows]
        return list(map(attrgetter(name), rows))

    def facets(self, ids: Collection[str]) -> dict[str, list[tuple[str, int]]]:
        """Counts per facet over ``ids`` (posts per tag, actor, victim and technique)."""
        return self.columns.counts(self.columns.of_ids(ids), self.tag_names)


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=10)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


_LOAD_QUERY = (
    "SELECT id, size, mtime_ns, content_hash, title, date, url, source, tags, actors, victims, techniques,"
    " malware, vulns FROM posts"
)
_ORDER = " ORDER BY date IS NULL, date DESC, id DESC"
#: The most rows :meth:`Catalog.rows` fetches in one call (SQLite's limit on parameters is far above).
MAX_DIRECT_ROWS = 900


def _problems(db: sqlite3.Connection) -> list[PostProblem]:
    skipped = [
        PostProblem(post_id, reason, line, column)
        for post_id, _, _, reason, line, column in db.execute("SELECT * FROM problems ORDER BY id")
    ]
    warned = [
        PostProblem(post_id, note, skipped=False)
        for post_id, warnings in db.execute("SELECT id, warnings FROM posts WHERE warnings != '' ORDER BY id")
        for note in warnings.split(_SEP)
    ]
    return skipped + warned


def _row(record: Sequence[Any]) -> PostRow:
    """A ``_LOAD_QUERY`` record as a row; runs once per post at start-up, so it stays lean.

    Tags, entities and sources repeat across posts: interning them halves the catalog's memory at 100k
    posts (267 → 120 MiB) for 0.2 s more of a load that runs behind the first screen.
    """
    sep, intern = _SEP, sys.intern
    _, _, _, content_hash, title, date, url, source, tags, actors, victims, techniques, malware, vulns = record
    return PostRow(
        record[0],
        title,
        datetime.fromisoformat(date) if date else None,
        url,
        intern(source),
        tuple(map(intern, tags.split(sep))) if tags else (),
        tuple(map(intern, actors.split(sep))) if actors else (),
        tuple(map(intern, victims.split(sep))) if victims else (),
        tuple(map(intern, techniques.split(sep))) if techniques else (),
        content_hash,
        tuple(map(intern, malware.split(sep))) if malware else (),
        tuple(vulns.split(sep)) if vulns else (),
    )


def _values(text: str | None) -> tuple[str, ...]:
    return tuple(map(sys.intern, text.split(_SEP))) if text else ()


def _like(needle: str) -> str:
    """A LIKE pattern for text holding ``needle`` (with ``ESCAPE '\\'``)."""
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class FileColumns:
    """The columns of one catalog generation read from the file, a field or a filter's candidates at a time
    (a column source and a :class:`index.columns.Narrowing`); every read checks the file still holds that
    generation, else answers ``None``."""

    def __init__(self, catalog: Catalog, by_date: Sequence[str], rank: Mapping[str, int], generation: int) -> None:
        self.catalog = catalog
        self.by_date = by_date
        self.rank = rank
        self.generation = generation

    def _numbered(self, query: str, params: Sequence[Any]) -> list[tuple[int, Any]] | None:
        """(post number, value) of each record ``query`` selects as (id, value)."""
        rank = self.rank

        def read(db: sqlite3.Connection, found: int) -> list[tuple[int, Any]] | None:
            if found != self.generation:
                return None
            try:
                return [(rank[post_id], value) for post_id, value in db.execute(query, params)]
            except KeyError:  # a post the order does not hold: not the same posts after all
                return None

        return self.catalog._read(read, None)

    def __call__(self, name: str) -> list[Any] | None:
        """One field of every post (value tuples, or ``"date"`` keys) by post number."""
        if name != "date" and name not in ROW_FIELDS.values():
            raise ValueError(f"not a column: {name}")
        records = self._numbered(f"SELECT id, {name} FROM posts", ())
        if records is None:
            return None
        ordered: list[Any] = [None] * len(self.rank)
        for number, text in records:
            ordered[number] = text
        if name == "date":
            return [date_key(datetime.fromisoformat(text)) if text else UNDATED for text in ordered]
        return list(map(_values, ordered))

    def containing(self, name: str, needles: Sequence[str]) -> list[tuple[int, tuple[str, ...]]] | None:
        if name not in ROW_FIELDS.values() or not needles:
            raise ValueError(f"not a column: {name}")
        where = " OR ".join([f"{name} LIKE ? ESCAPE '\\'"] * len(needles))
        records = self._numbered(f"SELECT id, {name} FROM posts WHERE {where}", [_like(needle) for needle in needles])
        return None if records is None else [(number, _values(text)) for number, text in records]

    def written_dates(self, numbers: Sequence[int]) -> list[str | None] | None:
        ids = [self.by_date[number] for number in numbers]

        def read(db: sqlite3.Connection, found: int) -> list[str | None] | None:
            if found != self.generation:
                return None
            dates: dict[str, str | None] = {}
            for start in range(0, len(ids), MAX_DIRECT_ROWS):
                chunk = ids[start : start + MAX_DIRECT_ROWS]
                marks = ",".join("?" * len(chunk))
                dates.update(db.execute(f"SELECT id, date FROM posts WHERE id IN ({marks})", chunk))
            if len(dates) < len(set(ids)):  # a post the file does not hold: not the same posts after all
                return None
            return [dates[post_id] for post_id in ids]

        return self.catalog._read(read, None)


class Catalog:
    """The SQLite file. Every method opens its own connection, so any thread may call it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _read(self, reader: Callable[[sqlite3.Connection, int], _T], empty: _T) -> _T:
        """``reader(db, generation)`` on a read-only connection; ``empty`` for a missing, unreadable or
        older catalog (one with no generation matches no index, so the next update rebuilds)."""
        if not self.path.exists():
            return empty
        try:
            with closing(sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, timeout=10)) as db:
                db.execute("BEGIN")  # one read transaction: the generation read is the one of the rows read
                meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
                if meta.get("version") != str(CATALOG_VERSION) or "generation" not in meta:
                    return empty
                return reader(db, int(meta["generation"]))
        except (sqlite3.Error, ValueError):
            return empty

    def load(self) -> Snapshot:
        """Everything, in memory. A missing, unreadable or older catalog loads as empty with no generation."""

        def read(db: sqlite3.Connection, generation: int) -> Snapshot:
            rows: dict[str, PostRow] = {}
            stats: dict[str, tuple[int, int]] = {}
            for record in db.execute(_LOAD_QUERY + _ORDER):
                row = _row(record)
                rows[row.post_id] = row
                stats[row.post_id] = (record[1], record[2])
            for post_id, size, mtime_ns, *_ in db.execute("SELECT * FROM problems"):
                stats[post_id] = (size, mtime_ns)
            return Snapshot(rows, stats, _problems(db), generation)

        return self._read(read, Snapshot({}, {}, [], None))

    def stats(self) -> tuple[dict[str, tuple[int, int]], int | None]:
        """(size, mtime_ns) of every file the catalog knows (posts and problems), and the generation: what
        the no-change check compares against the folder, without building rows."""

        def read(db: sqlite3.Connection, generation: int) -> tuple[dict[str, tuple[int, int]], int | None]:
            query = "SELECT id, size, mtime_ns FROM posts UNION ALL SELECT id, size, mtime_ns FROM problems"
            return {post_id: (size, mtime_ns) for post_id, size, mtime_ns in db.execute(query)}, generation

        nothing: tuple[dict[str, tuple[int, int]], int | None] = ({}, None)
        return self._read(read, nothing)

    def ranking(self) -> Ranking:
        """The ids newest first, without the rows: enough for ordering, counting and first screens."""

        def read(db: sqlite3.Connection, generation: int) -> Ranking:
            ranking = Ranking([post_id for (post_id,) in db.execute("SELECT id FROM posts" + _ORDER)], generation)
            ranking.source = ranking.narrowing = FileColumns(self, ranking.by_date, ranking.rank, generation)
            return ranking

        return self._read(read, Ranking([], None))

    def count(self) -> int:
        """How many posts the file holds, without loading them."""
        try:
            with closing(sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, timeout=10)) as db:
                return int(db.execute("SELECT count(*) FROM posts").fetchone()[0])
        except sqlite3.Error:
            return 0

    def problems(self) -> list[PostProblem]:
        """Skipped files, then posts loaded with warnings, without loading the posts."""
        try:
            with closing(sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, timeout=10)) as db:
                return _problems(db)
        except sqlite3.Error:
            return []

    def rows(self, ids: Sequence[str]) -> dict[str, PostRow]:
        """Rows by id, straight from the file (for the few rows on screen before the catalog is loaded)."""
        wanted = list(dict.fromkeys(ids))[:MAX_DIRECT_ROWS]
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        try:
            with closing(sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, timeout=10)) as db:
                records = db.execute(f"{_LOAD_QUERY} WHERE id IN ({marks})", wanted).fetchall()
        except sqlite3.Error:
            return {}
        return {row.post_id: row for row in map(_row, records)}

    def generation(self) -> int | None:
        """The index generation the catalog on disk records (cheap: the meta rows), or None, as for a catalog
        of another version (which no generation check may accept)."""
        return self._read(lambda _db, generation: generation, None)

    def reset(self, generation: int) -> None:
        """Start again from nothing (a rebuild); an unreadable file is replaced, it is only a cache."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            path = Path(f"{self.path}{suffix}")
            if path.is_dir() and not path.is_symlink():
                make_way(path)  # a folder took the catalog's place
            else:
                path.unlink(missing_ok=True)
        self.apply([], [], [], generation)

    def stage(self, upserts: Sequence[CatalogEntry]) -> None:
        """Write rows aside until the commit of the build they belong to: a bulk build's workers stage what
        they prepared as they go, so no process holds every row until the end. Staged rows are not in the
        catalog until :meth:`apply` is told ``staged=True``; the next apply drops them otherwise."""
        with closing(_connect(self.path)) as db, db:
            db.executescript(_SCHEMA)
            db.executemany(f"INSERT OR REPLACE INTO staged VALUES ({_MARKS})", map(_post_values, upserts))

    def unstage(self, post_ids: Iterable[str] | None = None) -> None:
        """Drop rows staged by a build that never committed (killed or failed), or only those of ``post_ids``
        (posts staged by a build that stopped before it added them)."""
        with closing(_connect(self.path)) as db, db:
            db.executescript(_SCHEMA)
            if post_ids is None:
                db.execute("DELETE FROM staged")
            else:
                db.executemany("DELETE FROM staged WHERE id = ?", [(post_id,) for post_id in post_ids])

    def apply(
        self,
        upserts: Sequence[CatalogEntry],
        problems: Sequence[ProblemEntry],
        deletes: Sequence[str],
        generation: int,
        *,
        staged: bool = False,
    ) -> None:
        """One transaction: rows in (with the staged rows when ``staged``), rows out, and the index generation
        they now match; staged rows are dropped either way, and the space they took is given back."""
        with closing(_connect(self.path)) as db, db:
            db.executescript(_SCHEMA)
            gone = [(post_id,) for post_id in deletes]
            gone += [(entry.row.post_id,) for entry in upserts]
            gone += [(entry.problem.post_id,) for entry in problems]
            db.executemany("DELETE FROM posts WHERE id = ?", gone)
            db.executemany("DELETE FROM problems WHERE id = ?", gone)
            if staged:
                db.execute("DELETE FROM posts WHERE id IN (SELECT id FROM staged)")
                db.execute("DELETE FROM problems WHERE id IN (SELECT id FROM staged)")
                db.execute("INSERT INTO posts SELECT * FROM staged")
            db.execute("DELETE FROM staged")
            db.executemany(f"INSERT INTO posts VALUES ({_MARKS})", map(_post_values, upserts))
            db.executemany(
                "INSERT INTO problems VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        entry.problem.post_id,
                        entry.size,
                        entry.mtime_ns,
                        entry.problem.reason,
                        entry.problem.line,
                        entry.problem.column,
                    )
                    for entry in problems
                ],
            )
            db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [("version", str(CATALOG_VERSION)), ("generation", str(generation))],
            )
        if staged:
            _compact(self.path)


def _compact(path: Path) -> None:
    """Give back the pages the staged rows took (they doubled the file after a build); a reader holding the
    file may keep it from happening, which costs space only."""
    try:
        with closing(sqlite3.connect(path, timeout=1)) as db:
            db.execute("VACUUM")
    except sqlite3.Error:
        pass


_MARKS = ", ".join("?" * 15)


def _post_values(entry: CatalogEntry) -> tuple[Any, ...]:
    """A ``posts`` (or ``staged``) record."""
    row = entry.row
    return (
        row.post_id,
        entry.size,
        entry.mtime_ns,
        row.content_hash,
        row.title,
        row.date.isoformat() if row.date else None,
        row.url,
        row.source,
        _join(row.tags),
        _join(row.actors),
        _join(row.victims),
        _join(row.techniques),
        _join(entry.warnings),
        _join(row.malware),
        _join(row.vulns),
    )


class CatalogView:
    """The catalog with its snapshot loaded at most once, shared by searching and indexing (thread-safe).

    Until something needs every row, counts, problems and the rows on screen come straight from the file:
    loading 100k rows takes over a second, and the first screen must not wait for it.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._snapshot: Snapshot | None = None
        self._ranking: Ranking | None = None
        self._lock = threading.Lock()

    @property
    def held(self) -> Snapshot | None:
        """The snapshot in memory, if one was loaded."""
        return self._snapshot

    def snapshot(self) -> Snapshot:
        """Every row in memory, loading it on first use."""
        snapshot = self._snapshot
        if snapshot is None:
            with self._lock:
                if self._snapshot is None:
                    loaded = self.catalog.load()
                    ranking = self._ranking
                    if ranking is not None and ranking.generation == loaded.generation:
                        loaded.share_columns(ranking)  # the columns a search read already serve the rows too
                    self._snapshot = loaded
                    self._ranking = None  # the snapshot holds the same order
                snapshot = self._snapshot
        return snapshot

    def current(self) -> Snapshot:
        """The snapshot in memory unless the catalog on disk has moved on (another process wrote it)."""
        held = self._snapshot
        if held is not None and held.generation is not None and held.generation == self.catalog.generation():
            return held
        return self.catalog.load()

    def ranking(self) -> Ranking:
        """The date order: the snapshot's when it is loaded, else read once from the file without the rows
        (what the first screen and a search without facets need)."""
        ranking: Ranking | None = self._snapshot if self._snapshot is not None else self._ranking
        if ranking is None:
            with self._lock:
                if self._ranking is None:
                    self._ranking = self.catalog.ranking()
                ranking = self._ranking
        return ranking

    def stats(self) -> tuple[dict[str, tuple[int, int]], int | None]:
        """(size, mtime_ns) per known file and the generation of the catalog on disk: the snapshot's while it
        is current, else read from the file without building rows (the no-change check of every update)."""
        held = self._snapshot
        if held is not None and held.generation is not None and held.generation == self.catalog.generation():
            return held.stats, held.generation
        return self.catalog.stats()

    def hold(self, snapshot: Snapshot | None) -> None:
        """Keep ``snapshot`` (after an update), or forget it so the next use reloads from disk."""
        with self._lock:
            self._snapshot = snapshot
            self._ranking = None

    def keep(self, generation: int | None) -> None:
        """Forget what is in memory unless it is of ``generation`` (the catalog on disk has moved on)."""
        held: Ranking | None = self._snapshot if self._snapshot is not None else self._ranking
        if held is not None and held.generation != generation:
            self.hold(None)

    def count(self) -> int:
        snapshot = self._snapshot  # at start-up, count without loading the catalog
        return self.catalog.count() if snapshot is None else len(snapshot.rows)

    def problems(self) -> list[PostProblem]:
        snapshot = self._snapshot
        return self.catalog.problems() if snapshot is None else list(snapshot.problems)

    def all_rows(self) -> list[PostRow]:
        """Every row, newest first (loads the catalog)."""
        return list(self.snapshot().rows.values())

    def rows(self, ids: Sequence[str]) -> list[PostRow]:
        """Rows in the order of ``ids``; unknown ids are left out."""
        direct = self._snapshot is None and len(ids) <= MAX_DIRECT_ROWS  # the rows on screen at start-up
        rows = self.catalog.rows(ids) if direct else self.snapshot().rows
        return [rows[post_id] for post_id in ids if post_id in rows]

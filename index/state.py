"""Triage state in SQLite: the only data Spyglass owns, so it must never be lost.

One row per post id (read/starred/flagged/archived, a note, the content hash, timestamps) plus the
user's own tags in a second table. The database lives in ``data_dir()/state.sqlite3``, far from the
rebuildable index, so it survives re-indexing and index deletion.

Durability: WAL journal with ``synchronous=NORMAL`` and one committed transaction per write, so a
kill -9 loses nothing that a method call has returned from (SQLite keeps every committed WAL
transaction through an application crash; only an OS crash may lose the last few).

Faults are raised as :class:`StateError` subclasses with a title and a message for the user:

* corrupt file -> :class:`StateCorruptError`. At open, a file that is not a database or fails
  ``PRAGMA quick_check`` is *renamed* to ``state.sqlite3.corrupt-<UTC timestamp>`` (with its
  ``-wal``/``-shm``), never deleted or replaced, and the error names the new path. Opening again then
  starts an empty state: the empty start only ever follows that explicit, reported move. The move also
  leaves ``state.sqlite3.damaged`` (the message), so that when a command found the damage the app
  still tells the user at its next start (:func:`take_damage_notice`).
  Corruption discovered mid-session is reported without moving anything (other instances may have
  the file open); the next start moves it aside.
* locked by another process beyond ``busy_timeout`` -> :class:`StateLockedError`. Several instances
  may share the state (WAL); each instance tries to hold ``state.sqlite3.lock`` with ``fcntl.flock``
  and writes its pid there, so the error can name the other Spyglass. The OS drops the lock when a
  process dies, and a pid is only believed while its lock is held, so the file never needs cleanup.
* unwritable folder or file -> :class:`StateUnwritableError`, pointing at ``readonly=True``.
* a write through a read-only state -> :class:`StateReadOnlyError`.
* a schema newer than this program -> :class:`StateVersionError` (the file is left untouched).
"""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal

from index.paths import data_dir
from index.workers import keep_private

if sys.platform != "win32":
    import fcntl

__all__ = [
    "FLAGS",
    "SCHEMA_VERSION",
    "Flag",
    "PostState",
    "StateCorruptError",
    "StateError",
    "StateLockedError",
    "StateReadOnlyError",
    "StateUnwritableError",
    "StateVersionError",
    "TriageState",
    "default_state_path",
    "take_damage_notice",
]

Flag = Literal["read", "starred", "flagged", "archived"]
FLAGS: Final[tuple[Flag, ...]] = ("read", "starred", "flagged", "archived")
STATE_FILE_NAME: Final = "state.sqlite3"
DAMAGE_NOTICE_SUFFIX: Final = ".damaged"
DEFAULT_BUSY_TIMEOUT: Final = 5.0
MAX_TAG_LENGTH: Final = 100
DISK_FULL: Final = "the disk is full"
_BATCH: Final = 500
"""Ids per ``IN (…)`` query: well under SQLite's bound-parameter limit."""

# Schema migrations: entry N (1-based) takes user_version N-1 to N. Append, never edit.
_MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        """CREATE TABLE post_state (
            post_id      TEXT PRIMARY KEY NOT NULL,
            read         INTEGER NOT NULL DEFAULT 0 CHECK (read IN (0, 1)),
            starred      INTEGER NOT NULL DEFAULT 0 CHECK (starred IN (0, 1)),
            flagged      INTEGER NOT NULL DEFAULT 0 CHECK (flagged IN (0, 1)),
            archived     INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
            note         TEXT NOT NULL DEFAULT '',
            content_hash TEXT NOT NULL DEFAULT '',
            created      TEXT NOT NULL,
            updated      TEXT NOT NULL
        )""",
        """CREATE TABLE own_tag (
            post_id TEXT NOT NULL REFERENCES post_state (post_id) ON UPDATE CASCADE ON DELETE CASCADE,
            tag     TEXT NOT NULL COLLATE NOCASE,
            added   TEXT NOT NULL,
            PRIMARY KEY (post_id, tag)
        ) WITHOUT ROWID""",
        "CREATE INDEX own_tag_by_tag ON own_tag (tag)",
        "CREATE INDEX post_state_by_hash ON post_state (content_hash) WHERE content_hash != ''",
        # Partial indexes keep ids_with() proportional to the matching rows, not the table.
        "CREATE INDEX post_state_read ON post_state (post_id) WHERE read = 1",
        "CREATE INDEX post_state_starred ON post_state (post_id) WHERE starred = 1",
        "CREATE INDEX post_state_flagged ON post_state (post_id) WHERE flagged = 1",
        "CREATE INDEX post_state_archived ON post_state (post_id) WHERE archived = 1",
    ),
)
SCHEMA_VERSION: Final = len(_MIGRATIONS)

_CORRUPT_CODES: Final = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_BUSY_CODES: Final = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_UNWRITABLE_CODES: Final = frozenset(
    {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL}
)


class _Corrupt(Exception):
    """Internal: an integrity check found damage (SQLite raised nothing, but the file is bad)."""


class StateError(Exception):
    """A triage-state fault the user must hear about: ``title`` for a heading, ``message`` for the body."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(message)
        self.title = title
        self.message = message


class StateCorruptError(StateError):
    """The state file is damaged; ``moved_to`` is where it was put aside (None if it was not moved)."""

    def __init__(self, title: str, message: str, moved_to: Path | None = None) -> None:
        super().__init__(title, message)
        self.moved_to = moved_to


class StateLockedError(StateError):
    """Another process held a write lock longer than the busy timeout; ``holder_pid`` if it is a Spyglass."""

    def __init__(self, title: str, message: str, holder_pid: int | None = None) -> None:
        super().__init__(title, message)
        self.holder_pid = holder_pid


class StateUnwritableError(StateError):
    """The data folder or state file cannot be written (permissions, not a folder, disk full)."""


class StateReadOnlyError(StateError):
    """A write was attempted on a state opened with ``readonly=True``."""


class StateVersionError(StateError):
    """The state file was written by a newer Spyglass; it is left untouched."""


@dataclass(frozen=True, slots=True)
class PostState:
    """The triage state of one post; a never-seen post is unread with nothing set and no timestamps."""

    post_id: str
    read: bool = False
    starred: bool = False
    flagged: bool = False
    archived: bool = False
    note: str = ""
    tags: tuple[str, ...] = ()
    content_hash: str = ""
    created: datetime | None = None
    updated: datetime | None = None

    @property
    def unread(self) -> bool:
        """Convenience for ``is:unread``: unread means simply not read."""
        return not self.read


def default_state_path() -> Path:
    """``data_dir()/state.sqlite3`` (honours ``SPYGLASS_DATA_DIR``)."""
    return data_dir() / STATE_FILE_NAME


def _notice_path(path: Path) -> Path:
    return path.with_name(path.name + DAMAGE_NOTICE_SUFFIX)


def take_damage_notice(path: Path | None = None) -> StateCorruptError | None:
    """The report of a damaged state file moved aside since the last call (by any Spyglass command),
    or None; reading it removes it, so it is shown once."""
    notice = _notice_path(Path(path) if path is not None else default_state_path())
    try:
        message = notice.read_text(encoding="utf-8").strip()
        notice.unlink()
    except (OSError, UnicodeError):
        return None
    return StateCorruptError("Triage state was damaged", message) if message else None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _check_flag(flag: str) -> Flag:
    # Flags become column names: only the fixed set ever reaches SQL text.
    if flag not in FLAGS:
        raise ValueError(f"unknown triage flag {flag!r}; expected one of {', '.join(FLAGS)}")
    return flag


def _clean_tag(tag: str) -> str:
    cleaned = " ".join(tag.split())
    if not cleaned:
        raise ValueError("a tag cannot be empty")
    if len(cleaned) > MAX_TAG_LENGTH:
        raise ValueError(f"a tag is at most {MAX_TAG_LENGTH} characters")
    return cleaned


def _error_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


class _OwnerLock:
    """``state.sqlite3.lock``: held with ``flock`` by one live instance, holding its pid.

    Purely informative (it lets a lock error name the other Spyglass); SQLite does the real locking.
    The OS releases ``flock`` when the process dies, and the pid is trusted only while locked.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if free and record our pid; False if another instance holds it."""
        if self._fd is not None:
            return True
        if sys.platform == "win32":
            return False
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        keep_private(self, "_fd")  # a worker process forked while it is held must not keep it held
        return True

    def holder(self) -> int | None:
        """The pid of the live instance holding the lock, if it is not us."""
        if self._fd is not None or sys.platform == "win32":
            return None
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                text = os.read(fd, 64).decode("ascii", "replace").strip()
                return int(text) if text.isdigit() else None
            fcntl.flock(fd, fcntl.LOCK_UN)  # nobody holds it: any pid written there is stale
            return None
        finally:
            os.close(fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


class TriageState:
    """Read and change the triage state; every write is one committed transaction.

    Safe to share between threads. Writes go through one connection behind a lock; reads use a second
    connection with its own lock, so a write waiting for another process's lock (up to the busy timeout)
    never holds up a read (WAL readers do not wait for writers). Use ``readonly=True`` to look at the
    state when the data folder cannot be written; writes then raise :class:`StateReadOnlyError`.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        readonly: bool = False,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> None:
        self.path = Path(path) if path is not None else default_state_path()
        self.readonly = readonly
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._read_lock = threading.RLock()
        self._owner = _OwnerLock(self.path.with_name(self.path.name + ".lock"))
        self._conn: sqlite3.Connection | None = None
        self._writes = 0  # commits through this object; see version()
        self._reader: sqlite3.Connection | None = None
        if readonly:
            self._conn = self._reader = self._open_readonly()
        else:
            self._conn = self._open_writable()
            try:
                self._reader = self._connect(str(self.path), uri=False)
                self._reader.execute("PRAGMA query_only = ON")
            except sqlite3.Error as exc:
                self.close()
                raise self._translate(exc, opening=True) from exc

    # ----------------------------------------------------------------------------------- opening

    def _connect(self, target: str, *, uri: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(
            target, uri=uri, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _open_writable(self) -> sqlite3.Connection:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._unwritable(exc.strerror or str(exc)) from exc
        if not os.access(folder, os.W_OK | os.X_OK):
            # SQLite must create -wal/-shm files beside the database.
            raise self._unwritable(f"the folder {folder} is not writable")
        try:
            self._owner.try_acquire()
        except OSError as exc:
            raise self._unwritable(exc.strerror or str(exc)) from exc
        if self.path.exists() and not os.access(self.path, os.W_OK):
            self._owner.release()
            raise self._unwritable("the state file is read-only")
        conn: sqlite3.Connection | None = None
        try:
            conn = self._connect(str(self.path), uri=False)
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise self._unwritable(f"SQLite could not switch to WAL mode (got {mode!r})")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._check_integrity(conn)
            self._migrate(conn)
        except BaseException as exc:
            if conn is not None:
                conn.close()
            self._owner.release()
            if isinstance(exc, _Corrupt) or (isinstance(exc, sqlite3.Error) and _error_code(exc) in _CORRUPT_CODES):
                raise self._move_aside(str(exc)) from exc
            if isinstance(exc, sqlite3.Error):
                raise self._translate(exc, opening=True) from exc
            raise
        return conn

    def _open_readonly(self) -> sqlite3.Connection:
        if not self.path.exists():
            # Nothing saved yet: an empty, read-only state (never create files in read-only mode).
            memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            for statement in (s for migration in _MIGRATIONS for s in migration):
                memory.execute(statement)
            memory.execute("PRAGMA query_only = ON")
            return memory
        base = self.path.resolve().as_uri() + "?mode=ro"
        conn: sqlite3.Connection | None = None
        try:
            conn = self._connect(base, uri=True)
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError as exc:
                conn.close()
                if _error_code(exc) not in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY):
                    raise
                # A WAL database in a folder we cannot write, without its -shm file: SQLite can only
                # read it as immutable. Nobody can be writing it there, so that is safe enough.
                conn = self._connect(base + "&immutable=1", uri=True)
            conn.execute("PRAGMA query_only = ON")
            self._check_integrity(conn)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise self._too_new(version)
            if version < SCHEMA_VERSION:
                raise StateError(
                    "Triage state needs an upgrade",
                    f"{self.path} uses an older format that can only be upgraded by opening it writable.",
                )
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, _Corrupt) or (isinstance(exc, sqlite3.Error) and _error_code(exc) in _CORRUPT_CODES):
                raise StateCorruptError(
                    "Triage state is damaged",
                    f"{self.path} is damaged ({exc}). It was left untouched because the state is open "
                    "read-only; open it writable once to move it aside.",
                ) from exc
            if isinstance(exc, sqlite3.Error):
                raise self._translate(exc, opening=True) from exc
            raise
        return conn

    def _check_integrity(self, conn: sqlite3.Connection) -> None:
        rows = conn.execute("PRAGMA quick_check").fetchall()
        if [tuple(r) for r in rows] != [("ok",)]:
            detail = "; ".join(str(r[0]) for r in rows[:3])
            raise _Corrupt(f"integrity check failed: {detail}")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise self._too_new(version)
        if version == SCHEMA_VERSION:
            return  # the common case: no write at open, so a busy second instance cannot block start-up
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]  # re-read under the lock
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[target - 1]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _too_new(self, version: int) -> StateVersionError:
        return StateVersionError(
            "Triage state is from a newer Spyglass",
            f"{self.path} has schema version {version}; this Spyglass understands up to {SCHEMA_VERSION}. "
            "The file was left untouched: upgrade Spyglass to use it.",
        )

    def _move_aside(self, reason: str) -> StateCorruptError:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        counter = 1
        while target.exists():
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{counter}")
            counter += 1
        try:
            os.rename(self.path, target)
        except OSError as exc:
            return StateCorruptError(
                "Triage state is damaged",
                f"{self.path} is damaged ({reason}) and could not be moved aside ({exc.strerror or exc}). "
                "It was left untouched; move or repair it, then start Spyglass again.",
            )
        for suffix in ("-wal", "-shm"):
            companion = self.path.with_name(self.path.name + suffix)
            if companion.exists():
                # The main file is safe aside; a stray -wal/-shm cannot hurt a fresh database.
                with suppress(OSError):
                    os.rename(companion, target.with_name(target.name + suffix))
        error = StateCorruptError(
            "Triage state was damaged",
            f"{self.path} is damaged ({reason}). It was moved to {target} (nothing was deleted). "
            "Starting again begins with an empty triage state; the damaged copy may be recoverable "
            "with `sqlite3 <file> .recover`.",
            moved_to=target,
        )
        notice = _notice_path(self.path)
        with suppress(OSError):  # best effort: the error itself still reaches whoever opened the state
            notice.with_name(notice.name + ".tmp").write_text(error.message, encoding="utf-8")
            os.replace(notice.with_name(notice.name + ".tmp"), notice)
        return error

    def _unwritable(self, reason: str) -> StateUnwritableError:
        if reason in (DISK_FULL, os.strerror(errno.ENOSPC)):  # no permission would help: space would
            advice = "Free some space on that disk, or point SPYGLASS_DATA_DIR at a folder on another one"
        else:
            advice = "Fix the folder's permissions, point SPYGLASS_DATA_DIR at a writable folder"
        return StateUnwritableError(
            "Cannot save triage state",
            f"Spyglass cannot write its triage state at {self.path}: {reason}. {advice}, or open the state read-only.",
        )

    def _translate(self, exc: sqlite3.Error, *, opening: bool = False) -> StateError:
        code = _error_code(exc)
        if code in _BUSY_CODES:
            if not opening and not self.readonly and not self._owner.held:
                with suppress(OSError):
                    self._owner.try_acquire()  # become the named instance if the last one has gone
            holder = self._owner.holder()
            who = f"Another Spyglass (pid {holder})" if holder else "Another program (perhaps a sqlite3 shell)"
            return StateLockedError(
                "Triage state is locked",
                f"{who} has held a write lock on {self.path} for more than {self.busy_timeout:g} s, so "
                f"{'the triage state could not be opened' if opening else 'this change was not saved'}. "
                "Close the other program and try again, or open the state read-only.",
                holder_pid=holder,
            )
        if code in _CORRUPT_CODES:
            return StateCorruptError(
                "Triage state is damaged",
                f"{self.path} turned out to be damaged ({exc}). Nothing was moved while it is open; quit and "
                "start Spyglass again to move the damaged file aside.",
            )
        if code == sqlite3.SQLITE_FULL:
            return self._unwritable(DISK_FULL)
        if code in _UNWRITABLE_CODES:
            return self._unwritable(str(exc))
        action = "open" if opening else "save"
        return StateError("Triage state error", f"Could not {action} the triage state at {self.path}: {exc}.")

    # ---------------------------------------------------------------------------------- plumbing

    def _connection(self, conn: sqlite3.Connection | None = None) -> sqlite3.Connection:
        conn = self._conn if conn is None else conn
        if conn is None or self._conn is None:
            raise StateError("Triage state is closed", f"{self.path} was already closed.")
        return conn

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._read_lock:
            conn = self._connection(self._reader)
            try:
                yield conn
            except sqlite3.Error as exc:
                raise self._translate(exc) from exc

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE … COMMIT``: acknowledged means committed."""
        if self.readonly:
            raise StateReadOnlyError(
                "Triage state is read-only",
                f"The triage state at {self.path} was opened read-only; this change was not saved.",
            )
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
                self._writes += 1
            except BaseException as exc:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):  # the original error is the one worth reporting
                        conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._translate(exc) from exc
                raise

    @staticmethod
    def _ensure_row(conn: sqlite3.Connection, post_id: str, content_hash: str, now: str) -> None:
        conn.execute(
            """INSERT INTO post_state (post_id, content_hash, created, updated) VALUES (?, ?, ?, ?)
               ON CONFLICT (post_id) DO UPDATE SET
                 updated = excluded.updated,
                 content_hash = CASE WHEN excluded.content_hash != '' THEN excluded.content_hash
                                     ELSE post_state.content_hash END""",
            (post_id, content_hash, now, now),
        )

    # ---------------------------------------------------------------------------------- reading

    def get(self, post_id: str) -> PostState:
        """The state of one post; a post never seen is unread with nothing set."""
        return self.get_many([post_id])[post_id]

    def get_many(self, post_ids: Iterable[str]) -> dict[str, PostState]:
        """The state of each of ``post_ids`` in a few queries (one per 500 ids): what a list paints per block."""
        ids = list(dict.fromkeys(post_ids))
        found: dict[str, tuple[object, ...]] = {}
        tags: dict[str, list[str]] = {}
        with self._reading() as conn:
            for start in range(0, len(ids), _BATCH):
                chunk = ids[start : start + _BATCH]
                marks = ",".join("?" * len(chunk))
                for row in conn.execute(
                    "SELECT post_id, read, starred, flagged, archived, note, content_hash, created, updated "
                    f"FROM post_state WHERE post_id IN ({marks})",
                    chunk,
                ):
                    found[row[0]] = row
                for post_id, tag in conn.execute(
                    f"SELECT post_id, tag FROM own_tag WHERE post_id IN ({marks}) ORDER BY post_id, tag", chunk
                ):
                    tags.setdefault(post_id, []).append(tag)
        states: dict[str, PostState] = {}
        for post_id in ids:
            row = found.get(post_id)
            if row is None:
                states[post_id] = PostState(post_id)
                continue
            states[post_id] = PostState(
                post_id=post_id,
                read=bool(row[1]),
                starred=bool(row[2]),
                flagged=bool(row[3]),
                archived=bool(row[4]),
                note=str(row[5]),
                tags=tuple(tags.get(post_id, ())),
                content_hash=str(row[6]),
                created=_parse_time(str(row[7])),
                updated=_parse_time(str(row[8])),
            )
        return states

    def version(self) -> tuple[int, int]:
        """A token that changes whenever the state may have changed: this object's commits, and SQLite's
        ``data_version``, which moves when another connection (another Spyglass) commits. Search results
        cached under one token stay valid while it holds."""
        with self._reading() as conn:
            return self._writes, int(conn.execute("PRAGMA data_version").fetchone()[0])

    def ids_with(self, flag: str) -> set[str]:
        """Ids whose ``flag`` is set (``is:unread`` is the complement of ``ids_with("read")``)."""
        column = _check_flag(flag)
        with self._reading() as conn:
            return {r[0] for r in conn.execute(f"SELECT post_id FROM post_state WHERE {column} = 1")}

    def ids_with_any(self, flags: Sequence[str], among: Sequence[str]) -> set[str]:
        """Those of ``among`` with any of ``flags`` set: what a first screen walking the date order needs to
        know of the posts it passes, without reading every flagged post."""
        test = " OR ".join(f"{_check_flag(flag)} = 1" for flag in flags)
        ids = list(dict.fromkeys(among))
        found: set[str] = set()
        if not test:
            return found
        with self._reading() as conn:
            for start in range(0, len(ids), _BATCH):
                chunk = ids[start : start + _BATCH]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT post_id FROM post_state WHERE post_id IN ({marks}) AND ({test})"
                found.update(row[0] for row in conn.execute(query, chunk))
        return found

    def ids_with_note(self) -> set[str]:
        """Ids that carry a non-empty note."""
        with self._reading() as conn:
            return {r[0] for r in conn.execute("SELECT post_id FROM post_state WHERE note != ''")}

    def ids_with_note_containing(self, text: str) -> set[str]:
        """Ids whose note contains ``text``, any case (``note:`` in a query). Notes are few and short, so
        they are compared here with Python's case folding, which SQLite's ``LIKE`` lacks beyond ASCII."""
        wanted = " ".join(text.split()).casefold()
        with self._reading() as conn:
            rows = conn.execute("SELECT post_id, note FROM post_state WHERE note != ''").fetchall()
        return {str(post_id) for post_id, note in rows if wanted in " ".join(str(note).split()).casefold()}

    def ids_tagged(self, tag: str) -> set[str]:
        """Ids carrying the own tag ``tag`` (case-insensitive)."""
        cleaned = " ".join(tag.split())
        with self._reading() as conn:
            return {r[0] for r in conn.execute("SELECT post_id FROM own_tag WHERE tag = ?", (cleaned,))}

    def tags_of(self, post_id: str) -> list[str]:
        """The post's own tags, sorted."""
        with self._reading() as conn:
            return [r[0] for r in conn.execute("SELECT tag FROM own_tag WHERE post_id = ? ORDER BY tag", (post_id,))]

    def all_own_tags(self) -> list[tuple[str, int]]:
        """Every own tag with its post count, most used first (then alphabetical)."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT min(tag), count(*) AS n FROM own_tag GROUP BY tag ORDER BY n DESC, min(tag) COLLATE NOCASE"
            ).fetchall()
        return [(str(tag), int(count)) for tag, count in rows]

    def other_instance(self) -> int | None:
        """The pid of another live Spyglass using this state file, if one is known."""
        return self._owner.holder()

    # ---------------------------------------------------------------------------------- writing

    def set_flag(self, post_id: str, flag: str, value: bool, content_hash: str = "") -> None:
        """Set one flag, committed at once; a non-empty ``content_hash`` is recorded for :meth:`reconcile`."""
        column = _check_flag(flag)
        with self._writing() as conn:
            self._ensure_row(conn, post_id, content_hash, _now())
            conn.execute(f"UPDATE post_state SET {column} = ? WHERE post_id = ?", (int(bool(value)), post_id))

    def toggle(self, post_id: str, flag: str, content_hash: str = "") -> bool:
        """Flip one flag in a single transaction and return its new value."""
        column = _check_flag(flag)
        with self._writing() as conn:
            self._ensure_row(conn, post_id, content_hash, _now())
            conn.execute(f"UPDATE post_state SET {column} = 1 - {column} WHERE post_id = ?", (post_id,))
            row = conn.execute(f"SELECT {column} FROM post_state WHERE post_id = ?", (post_id,)).fetchone()
        return bool(row[0])

    def set_flag_many(self, post_ids: Iterable[str], flag: str, value: bool) -> None:
        """Set one flag on many posts in one transaction ("mark all read", "archive all")."""
        self.set_flag_values(flag, dict.fromkeys(post_ids, value))

    def set_flag_values(self, flag: str, values: Mapping[str, bool]) -> None:
        """Set one flag per post to its own value, in one transaction (undoing a bulk change)."""
        column = _check_flag(flag)
        now = _now()
        with self._writing() as conn:
            conn.executemany(
                f"""INSERT INTO post_state (post_id, {column}, created, updated) VALUES (?, ?, ?, ?)
                    ON CONFLICT (post_id) DO UPDATE SET {column} = excluded.{column}, updated = excluded.updated""",
                ((post_id, int(bool(value)), now, now) for post_id, value in values.items()),
            )

    def set_note(self, post_id: str, note: str, content_hash: str = "") -> None:
        """Replace the post's note (an empty string clears it)."""
        with self._writing() as conn:
            self._ensure_row(conn, post_id, content_hash, _now())
            conn.execute("UPDATE post_state SET note = ? WHERE post_id = ?", (note, post_id))

    def add_tag(self, post_id: str, tag: str, content_hash: str = "") -> None:
        """Add an own tag (whitespace collapsed; case-insensitively unique per post)."""
        cleaned = _clean_tag(tag)
        now = _now()
        with self._writing() as conn:
            self._ensure_row(conn, post_id, content_hash, now)
            conn.execute(
                "INSERT OR IGNORE INTO own_tag (post_id, tag, added) VALUES (?, ?, ?)", (post_id, cleaned, now)
            )

    def remove_tag(self, post_id: str, tag: str) -> None:
        """Remove an own tag; removing a tag the post lacks is a no-op."""
        cleaned = " ".join(tag.split())
        with self._writing() as conn:
            cursor = conn.execute("DELETE FROM own_tag WHERE post_id = ? AND tag = ?", (post_id, cleaned))
            if cursor.rowcount:
                conn.execute("UPDATE post_state SET updated = ? WHERE post_id = ?", (_now(), post_id))

    def reconcile(self, hashes: Mapping[str, str]) -> int:
        """Let renamed/moved posts keep their state; ``hashes`` maps every current post id to its content hash.

        A row whose id is gone from ``hashes`` moves to a current id with the same content hash that has no
        state yet (duplicates pair up in id order). Rows of current ids get their stored hash refreshed so a
        later rename is recognised. Rows matching nothing stay: state survives posts that vanish for a while.
        Returns how many rows moved. One transaction.
        """
        moved = 0
        with self._writing() as conn:
            rows = conn.execute("SELECT post_id, content_hash FROM post_state").fetchall()
            stateful = {post_id for post_id, _ in rows}
            refresh = [
                (hashes[post_id], post_id)
                for post_id, stored in rows
                if post_id in hashes and hashes[post_id] and hashes[post_id] != stored
            ]
            conn.executemany("UPDATE post_state SET content_hash = ? WHERE post_id = ?", refresh)
            orphans: dict[str, list[str]] = {}
            for post_id, stored in sorted(rows):
                if stored and post_id not in hashes:
                    orphans.setdefault(stored, []).append(post_id)
            if not orphans:
                return 0
            candidates: dict[str, list[str]] = {}
            for post_id in sorted(hashes):
                digest = hashes[post_id]
                if digest in orphans and post_id not in stateful:
                    candidates.setdefault(digest, []).append(post_id)
            now = _now()
            for digest, old_ids in orphans.items():
                for old_id, new_id in zip(old_ids, candidates.get(digest, ()), strict=False):
                    # ON UPDATE CASCADE carries the own tags along.
                    conn.execute(
                        "UPDATE post_state SET post_id = ?, updated = ? WHERE post_id = ?", (new_id, now, old_id)
                    )
                    moved += 1
        return moved

    # ---------------------------------------------------------------------------------- lifetime

    def close(self) -> None:
        """Close the connection and drop the owner lock; safe to call twice."""
        with self._lock, self._read_lock:
            reader, self._reader = self._reader, None
            if reader is not None and reader is not self._conn:
                with suppress(sqlite3.Error):
                    reader.close()
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None
                    self._owner.release()

    def __enter__(self) -> TriageState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

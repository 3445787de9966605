"""Triage state faults: kill -9, corrupt files, a second instance, unwritable folders, read-only mode."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from index.state import (
    PostState,
    StateCorruptError,
    StateLockedError,
    StateReadOnlyError,
    StateUnwritableError,
    StateVersionError,
    TriageState,
)
from tests.helpers import source_env


def _python(script: str, *args: str) -> subprocess.Popen[str]:
    env = source_env()
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "state.sqlite3"


@pytest.fixture
def saved(db: Path) -> Iterator[Path]:
    """A state file with one starred, tagged post, closed cleanly."""
    with TriageState(db) as state:
        state.set_flag("a", "starred", True, content_hash="h1")
        state.add_tag("a", "keep")
    yield db


# ------------------------------------------------------------------------------------------- kill -9

WRITER = """
    import sys
    from pathlib import Path
    from index.state import TriageState

    state = TriageState(Path(sys.argv[1]))
    i = 0
    while True:
        post = f"post-{i}"
        kind = ("flag", "tag", "note")[i % 3]
        if kind == "flag":
            state.set_flag(post, "read", True)
        elif kind == "tag":
            state.add_tag(post, "t")
        else:
            state.set_note(post, "n")
        print(kind, post, flush=True)
        i += 1
"""


def test_kill_9_during_writes_loses_nothing_acknowledged(db: Path) -> None:
    proc = _python(WRITER, str(db))
    assert proc.stdout is not None
    acknowledged: list[str] = []
    try:
        while len(acknowledged) < 300:
            line = proc.stdout.readline()
            assert line, f"writer stopped early: {proc.stderr.read() if proc.stderr else ''}"
            acknowledged.append(line)
    finally:
        proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    # Everything printed was acknowledged; a torn last line (no newline) is not counted.
    acknowledged += rest.splitlines(keepends=True)
    complete = [line.split() for line in acknowledged if line.endswith("\n")]
    assert len(complete) >= 300

    with TriageState(db) as state:
        assert state.other_instance() is None  # the dead writer's owner lock went with it
        read = state.ids_with("read")
        for kind, post in complete:
            if kind == "flag":
                assert post in read
            elif kind == "tag":
                assert state.tags_of(post) == ["t"]
            else:
                assert state.get(post).note == "n"
    raw = sqlite3.connect(db)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        raw.close()


# --------------------------------------------------------------------------------------- corruption


def test_garbage_file_is_moved_aside_and_reported_never_replaced(db: Path) -> None:
    db.parent.mkdir(parents=True)
    garbage = os.urandom(8192)
    db.write_bytes(garbage)

    with pytest.raises(StateCorruptError) as caught:
        TriageState(db)

    moved = caught.value.moved_to
    assert moved is not None and moved.parent == db.parent
    assert moved.name.startswith("state.sqlite3.corrupt-")
    assert moved.read_bytes() == garbage  # moved, not deleted or rewritten
    assert not db.exists()
    assert str(moved) in caught.value.message
    assert caught.value.title

    # Only after that explicit, reported move does a retry start empty.
    with TriageState(db) as state:
        assert state.get("a") == PostState("a")
        state.set_flag("a", "read", True)
    assert moved.read_bytes() == garbage


def test_a_second_corrupt_file_in_the_same_second_gets_its_own_name(db: Path) -> None:
    db.parent.mkdir(parents=True)
    names = set()
    for content in (b"x" * 4096, b"y" * 4096):
        db.write_bytes(content)
        with pytest.raises(StateCorruptError) as caught:
            TriageState(db)
        assert caught.value.moved_to is not None
        names.add(caught.value.moved_to)
    assert len(names) == 2
    assert sorted(p.read_bytes()[:1] for p in names) == [b"x", b"y"]


def test_damaged_pages_inside_a_real_database_are_detected_at_open(db: Path) -> None:
    with TriageState(db) as state:
        state.set_flag_many([f"post-{i:05d}-{'x' * 60}" for i in range(3000)], "read", True)
    size = db.stat().st_size
    assert size > 16 * 4096
    with db.open("r+b") as handle:  # keep the header intact, scribble over interior pages
        handle.seek(4 * 4096)
        handle.write(b"\xff\x00" * (6 * 4096))
    with pytest.raises(StateCorruptError) as caught:
        TriageState(db)
    assert caught.value.moved_to is not None and caught.value.moved_to.stat().st_size == size


def test_readonly_mode_reports_corruption_without_moving_anything(db: Path) -> None:
    db.parent.mkdir(parents=True)
    db.write_bytes(b"not a database" * 500)
    with pytest.raises(StateCorruptError) as caught:
        TriageState(db, readonly=True)
    assert caught.value.moved_to is None
    assert db.read_bytes() == b"not a database" * 500
    assert list(db.parent.iterdir()) == [db]


def test_a_newer_schema_is_refused_and_left_untouched(saved: Path) -> None:
    raw = sqlite3.connect(saved)
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    before = _digest(saved)
    with pytest.raises(StateVersionError, match="newer"):
        TriageState(saved)
    assert _digest(saved) == before
    assert not list(saved.parent.glob("*.corrupt-*"))


# ---------------------------------------------------------------------------------- second instance

HOLDER = """
    import sqlite3, sys
    from pathlib import Path
    from index.state import TriageState

    state = TriageState(Path(sys.argv[1]))  # a live Spyglass: it holds the owner lock
    raw = sqlite3.connect(sys.argv[1], isolation_level=None)
    raw.execute("BEGIN IMMEDIATE")
    raw.execute("UPDATE post_state SET note = 'uncommitted'")
    print("holding", flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    raw.execute("ROLLBACK")
"""


def test_second_instance_holding_a_write_is_named_after_the_timeout(saved: Path) -> None:
    proc = _python(HOLDER, str(saved))
    assert proc.stdout is not None and proc.stdin is not None
    try:
        assert proc.stdout.readline() == "holding\n"
        with TriageState(saved, busy_timeout=0.2) as state:
            assert state.other_instance() == proc.pid
            assert state.get("a").starred  # reads still work under WAL
            with pytest.raises(StateLockedError) as caught:
                state.set_flag("a", "read", True)
            assert caught.value.holder_pid == proc.pid
            assert f"pid {proc.pid}" in caught.value.message
            assert "0.2 s" in caught.value.message
            assert caught.value.title == "Triage state is locked"

            proc.stdin.close()
            assert proc.wait(timeout=10) == 0
            state.set_flag("a", "read", True)  # the lock is gone: writing works again
            assert state.get("a").read and state.get("a").note == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_another_program_holding_a_write_is_reported_as_such(saved: Path) -> None:
    with TriageState(saved, busy_timeout=0.1) as state:
        raw = sqlite3.connect(saved, isolation_level=None)
        try:
            raw.execute("BEGIN IMMEDIATE")
            with pytest.raises(StateLockedError) as caught:
                state.toggle("a", "read")
            assert caught.value.holder_pid is None
            assert "Another program" in caught.value.message
        finally:
            raw.execute("ROLLBACK")
            raw.close()
        assert state.toggle("a", "read") is True  # the failed toggle left nothing half-done


def test_a_new_file_locked_during_creation_fails_cleanly(db: Path) -> None:
    db.parent.mkdir(parents=True)
    raw = sqlite3.connect(db, isolation_level=None)
    try:
        raw.execute("PRAGMA journal_mode = WAL")
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("CREATE TABLE squatter (x)")
        with pytest.raises(StateLockedError):
            TriageState(db, busy_timeout=0.1)
    finally:
        raw.execute("ROLLBACK")
        raw.close()
    with TriageState(db) as state:  # and nothing was left behind that needs cleaning up
        assert state.other_instance() is None  # the failed open released its owner lock
        state.set_flag("a", "read", True)


def test_a_stale_lock_file_never_needs_cleanup(saved: Path) -> None:
    lock = saved.with_name(saved.name + ".lock")
    lock.write_text("999999\n")  # a pid from a process that died long ago
    with TriageState(saved) as state:
        assert state.other_instance() is None
        state.set_flag("a", "read", True)


# --------------------------------------------------------------------------- unwritable and read-only


def test_data_dir_under_a_regular_file_is_unwritable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    path = blocker / "spyglass" / "state.sqlite3"
    with pytest.raises(StateUnwritableError) as caught:
        TriageState(path)
    assert "cannot write" in caught.value.message and str(path) in caught.value.message
    assert "read-only" in caught.value.message
    assert blocker.read_text() == "x"

    with TriageState(path, readonly=True) as state:  # the read-only fallback still starts
        assert state.get("a") == PostState("a")
        assert state.ids_with("read") == set()
        with pytest.raises(StateReadOnlyError):
            state.set_flag("a", "read", True)


def test_chmod_500_data_dir_is_unwritable(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as root: chmod does not stop writes")
        with pytest.raises(StateUnwritableError):
            TriageState(folder / "state.sqlite3")
    finally:
        folder.chmod(0o700)


def test_read_only_state_file_is_unwritable_but_readable(saved: Path) -> None:
    saved.chmod(0o400)
    try:
        if os.access(saved, os.W_OK):
            pytest.skip("running as root: chmod does not stop writes")
        with pytest.raises(StateUnwritableError, match="read-only"):
            TriageState(saved)
        with TriageState(saved, readonly=True) as state:
            assert state.get("a").starred
    finally:
        saved.chmod(0o600)


def test_existing_state_in_a_read_only_folder_opens_read_only(saved: Path) -> None:
    saved.parent.chmod(0o500)
    try:
        if os.access(saved.parent, os.W_OK):
            pytest.skip("running as root: chmod does not stop writes")
        with pytest.raises(StateUnwritableError, match="not writable"):
            TriageState(saved)
        with TriageState(saved, readonly=True) as state:
            assert state.get("a").starred
            with pytest.raises(StateReadOnlyError):
                state.set_flag("a", "read", True)
    finally:
        saved.parent.chmod(0o700)


def test_readonly_mode_reads_and_refuses_every_write(saved: Path) -> None:
    before = _digest(saved)
    with TriageState(saved, readonly=True) as state:
        got = state.get("a")
        assert got.starred and got.tags == ("keep",)
        assert state.ids_with("starred") == {"a"}
        assert state.all_own_tags() == [("keep", 1)]
        writes: list[Callable[[], object]] = [
            lambda: state.set_flag("a", "read", True),
            lambda: state.toggle("a", "read"),
            lambda: state.set_flag_many(["a"], "read", True),
            lambda: state.set_note("a", "x"),
            lambda: state.add_tag("a", "x"),
            lambda: state.remove_tag("a", "keep"),
            lambda: state.reconcile({"b": "h1"}),
        ]
        for write in writes:
            with pytest.raises(StateReadOnlyError, match="read-only"):
                write()
        assert state.get("a") == got
    assert _digest(saved) == before


def test_readonly_without_a_file_is_empty_and_creates_nothing(db: Path) -> None:
    with TriageState(db, readonly=True) as state:
        assert state.get("a") == PostState("a")
        assert state.all_own_tags() == []
        with pytest.raises(StateReadOnlyError):
            state.add_tag("a", "x")
    assert not db.parent.exists()

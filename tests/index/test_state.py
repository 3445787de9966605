"""Triage state: flags, notes, own tags, reconcile — against a real SQLite file."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.state import FLAGS, SCHEMA_VERSION, PostState, StateError, TriageState, default_state_path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "state.sqlite3"


@pytest.fixture
def state(db: Path) -> Iterator[TriageState]:
    with TriageState(db) as opened:
        yield opened


def test_never_seen_post_is_unread_with_nothing_set(state: TriageState) -> None:
    got = state.get("posts/new.md")
    assert got == PostState("posts/new.md")
    assert got.unread and not (got.starred or got.flagged or got.archived)
    assert got.note == "" and got.tags == () and got.created is None and got.updated is None


def test_file_is_created_with_wal_schema_stamp_and_normal_sync(db: Path, state: TriageState) -> None:
    assert db.is_file()
    assert state._conn is not None
    assert state._conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL, never OFF
    assert state._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    raw = sqlite3.connect(db)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        raw.close()


def test_flags_persist_across_reopen(db: Path) -> None:
    with TriageState(db) as state:
        for flag in FLAGS:
            state.set_flag(f"p-{flag}", flag, True, content_hash=f"h-{flag}")
        state.set_flag("p-read", "read", False)
    with TriageState(db) as state:
        assert not state.get("p-read").read
        assert state.get("p-read").content_hash == "h-read"  # an empty hash never erases a known one
        for flag in FLAGS[1:]:
            got = state.get(f"p-{flag}")
            assert getattr(got, flag) is True
            assert [f for f in FLAGS if getattr(got, f)] == [flag]
            assert got.content_hash == f"h-{flag}"


def test_toggle_returns_the_new_value_and_persists(db: Path) -> None:
    with TriageState(db) as state:
        assert state.toggle("a", "starred") is True
        assert state.toggle("a", "read") is True
        assert state.toggle("a", "read") is False
    with TriageState(db) as state:
        got = state.get("a")
        assert got.starred and not got.read


def test_unknown_flag_is_a_value_error(state: TriageState) -> None:
    with pytest.raises(ValueError, match="unknown triage flag"):
        state.set_flag("a", "unread", True)
    with pytest.raises(ValueError):
        state.ids_with("read; DROP TABLE post_state")


def test_set_flag_many_marks_a_result_set_and_keeps_other_flags(state: TriageState) -> None:
    state.set_flag("b", "starred", True)
    state.set_flag_many(["a", "b", "c", "a"], "read", True)
    assert state.ids_with("read") == {"a", "b", "c"}
    assert state.get("b").starred
    state.set_flag_many(iter(["b", "c"]), "read", False)
    assert state.ids_with("read") == {"a"}
    state.set_flag_many([], "archived", True)
    assert state.ids_with("archived") == set()


def test_ids_with_read_lets_callers_complement_for_unread(state: TriageState) -> None:
    ids = [f"p{i:05d}" for i in range(20_000)]
    state.set_flag_many(ids[::2], "read", True)
    state.set_flag_many(ids[::5], "archived", True)
    unread = set(ids) - state.ids_with("read")
    assert unread == set(ids[1::2])
    assert state.ids_with("archived") == set(ids[::5])
    assert state.ids_with("flagged") == set()


def test_notes_set_replace_and_clear(db: Path) -> None:
    with TriageState(db) as state:
        state.set_note("a", "check the C2 [bold]x[/] \x1b[31m")
        state.set_note("b", "first")
        state.set_note("b", "second")
        state.set_note("c", "gone")
        state.set_note("c", "")
    with TriageState(db) as state:
        assert state.get("a").note == "check the C2 [bold]x[/] \x1b[31m"  # stored verbatim
        assert state.get("b").note == "second"
        assert state.get("c").note == ""
        assert state.ids_with_note() == {"a", "b"}


def test_own_tags(db: Path) -> None:
    with TriageState(db) as state:
        state.add_tag("a", "ransomware")
        state.add_tag("a", "  to   brief ")
        state.add_tag("a", "Ransomware")  # same tag, case-insensitively
        state.add_tag("b", "ransomware")
        state.add_tag("c", "zeta")
        state.remove_tag("c", "zeta")
        state.remove_tag("c", "never-there")
        state.remove_tag("unknown-post", "x")
    with TriageState(db) as state:
        assert state.tags_of("a") == ["ransomware", "to brief"]
        assert state.get("a").tags == ("ransomware", "to brief")
        assert state.tags_of("c") == []
        assert state.all_own_tags() == [("ransomware", 2), ("to brief", 1)]
        assert state.ids_tagged("RANSOMWARE") == {"a", "b"}
        assert state.get("unknown-post") == PostState("unknown-post")
        with pytest.raises(ValueError):
            state.add_tag("a", "   ")
        with pytest.raises(ValueError):
            state.add_tag("a", "x" * 101)


def test_timestamps_created_kept_updated_advances(state: TriageState) -> None:
    state.set_flag("a", "read", True)
    first = state.get("a")
    state.add_tag("a", "t")
    second = state.get("a")
    assert first.created is not None and first.updated is not None and second.updated is not None
    assert second.created == first.created
    assert second.updated >= first.updated >= first.created
    assert first.created.tzinfo is not None


def test_reconcile_moves_state_of_a_renamed_post(state: TriageState) -> None:
    state.set_flag("old/a.md", "starred", True, content_hash="h1")
    state.set_flag("old/a.md", "read", True)
    state.set_note("old/a.md", "note")
    state.add_tag("old/a.md", "apt40")
    state.set_flag("keep.md", "flagged", True, content_hash="h2")

    moved = state.reconcile({"new/a.md": "h1", "keep.md": "h2"})

    assert moved == 1
    got = state.get("new/a.md")
    assert (got.read, got.starred, got.note, got.tags, got.content_hash) == (True, True, "note", ("apt40",), "h1")
    assert state.get("old/a.md") == PostState("old/a.md")
    assert state.ids_tagged("apt40") == {"new/a.md"}
    assert state.get("keep.md").flagged
    assert state.reconcile({"new/a.md": "h1", "keep.md": "h2"}) == 0  # idempotent


def test_reconcile_does_not_move_when_hashes_differ(state: TriageState) -> None:
    state.set_flag("old.md", "starred", True, content_hash="h1")
    assert state.reconcile({"new.md": "h-other"}) == 0
    assert state.get("old.md").starred  # the orphan keeps its state (the post may come back)
    assert state.get("new.md") == PostState("new.md")


def test_reconcile_never_overwrites_existing_state(state: TriageState) -> None:
    state.set_flag("old.md", "starred", True, content_hash="h1")
    state.set_flag("new.md", "read", True, content_hash="h1")
    assert state.reconcile({"new.md": "h1"}) == 0
    assert state.get("old.md").starred
    assert not state.get("new.md").starred


def test_reconcile_learns_current_hashes_so_a_later_rename_is_recognised(state: TriageState) -> None:
    state.set_flag("a.md", "read", True)  # no hash known when triaged
    assert state.reconcile({"a.md": "h1"}) == 0
    assert state.get("a.md").content_hash == "h1"
    assert state.reconcile({"b.md": "h1"}) == 1
    assert state.get("b.md").read


def test_reconcile_pairs_duplicates_in_id_order(state: TriageState) -> None:
    state.set_flag("old1.md", "read", True, content_hash="dup")
    state.set_flag("old2.md", "starred", True, content_hash="dup")
    assert state.reconcile({"new2.md": "dup", "new1.md": "dup", "new3.md": "dup"}) == 2
    assert state.get("new1.md").read and state.get("new2.md").starred
    assert state.get("new3.md") == PostState("new3.md")


def test_reconcile_with_an_empty_corpus_moves_nothing(state: TriageState) -> None:
    state.set_flag("a.md", "read", True, content_hash="h1")
    assert state.reconcile({}) == 0
    assert state.get("a.md").read


def test_default_path_is_in_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPYGLASS_DATA_DIR", str(tmp_path / "xdg-data"))
    assert default_state_path() == tmp_path / "xdg-data" / "state.sqlite3"
    with TriageState() as state:
        state.set_flag("a", "read", True)
        assert state.path == tmp_path / "xdg-data" / "state.sqlite3"
    assert (tmp_path / "xdg-data" / "state.sqlite3").is_file()


def test_close_is_idempotent_and_use_after_close_is_a_state_error(db: Path) -> None:
    state = TriageState(db)
    state.close()
    state.close()
    with pytest.raises(StateError, match="closed"):
        state.get("a")


def test_writes_from_worker_threads_are_all_kept(db: Path) -> None:
    with TriageState(db) as state:

        def work(n: int) -> None:
            for i in range(50):
                state.set_flag(f"t{n}-{i}", "read", True)
                state.add_tag(f"t{n}-{i}", f"w{n}")

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    with TriageState(db) as state:
        assert len(state.ids_with("read")) == 200
        assert sorted(state.all_own_tags()) == [(f"w{n}", 50) for n in range(4)]


def test_two_instances_share_the_state(db: Path) -> None:
    with TriageState(db) as first, TriageState(db) as second:
        first.set_flag("a", "read", True)
        assert second.get("a").read
        second.add_tag("a", "x")
        assert first.tags_of("a") == ["x"]


def test_version_moves_with_every_commit_from_either_instance_and_not_with_reads(db: Path) -> None:
    with TriageState(db) as first, TriageState(db) as second:
        start = first.version()
        first.ids_with("read")
        assert first.version() == start
        first.set_flag("a", "read", True)
        own = first.version()
        assert own != start
        second.set_flag("b", "starred", True)
        assert first.version() != own


def test_get_many_matches_get_for_each_id(db: Path) -> None:
    with TriageState(db) as state:
        state.set_flag("a", "starred", True)
        state.add_tag("a", "follow up")
        state.add_tag("a", "apt")
        state.set_note("b", "ask Bob")
        ids = ["a", "b", "never-seen", *(f"x{n}" for n in range(1200))]
        many = state.get_many(ids)
        assert list(many) == ids
        for post_id in ("a", "b", "never-seen", "x1100"):
            assert many[post_id] == state.get(post_id)
        assert many["a"].tags == ("apt", "follow up") and many["a"].starred
        assert many["b"].note == "ask Bob" and not many["b"].read


def test_set_flag_values_sets_each_post_its_own_value_at_once(db: Path) -> None:
    with TriageState(db) as state:
        state.set_flag_many(["a", "b"], "read", True)
        state.set_flag_values("read", {"a": False, "b": True, "c": True})
        assert state.ids_with("read") == {"b", "c"}


def test_a_read_does_not_wait_for_a_write_held_up_by_another_connection(db: Path) -> None:
    with TriageState(db, busy_timeout=60.0) as state:
        state.set_flag("a", "starred", True)
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        writer = threading.Thread(target=state.set_flag, args=("a", "flagged", True))
        writer.start()
        time.sleep(0.2)  # the write now waits for the other connection's lock
        assert state.get("a").starred
        assert writer.is_alive()  # the read came back while the write was still waiting
        other.execute("ROLLBACK")
        writer.join()
        other.close()
        assert state.get("a").flagged

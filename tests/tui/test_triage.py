"""The Textual-free triage helper against a real SQLite state: set what is shown, undo, bulk, tags, notes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from index.state import TriageState
from tui.triage import SetFlags, Triage, WriteQueue


@pytest.fixture
def state(tmp_path: Path) -> Iterator[TriageState]:
    with TriageState(tmp_path / "state.sqlite3") as opened:
        yield opened


def test_toggle_sets_the_opposite_of_what_is_shown_not_of_what_is_stored(state: TriageState) -> None:
    triage = Triage(state)
    state.set_flag("a", "starred", True)  # another instance starred it; the screen still shows it unstarred
    change = triage.toggle("a", "starred", shown=False)
    assert state.get("a").starred  # the user asked for a star, and gets one
    assert change.message == "Starred"
    assert change.undo == SetFlags("starred", {"a": True})


def test_undo_puts_back_a_bulk_change_post_by_post(state: TriageState) -> None:
    triage = Triage(state)
    state.set_flag("b", "read", True)
    change = triage.set_many(["a", "b", "c"], "read", True)
    assert change.message == "Marked 3 posts read"
    assert state.ids_with("read") == {"a", "b", "c"}
    undone = triage.undo(change)
    assert state.ids_with("read") == {"b"}  # b was read before; it stays read
    assert undone.message == "Undone: Marked 3 posts read"
    triage.undo(undone)
    assert state.ids_with("read") == {"a", "b", "c"}


def test_tags_added_and_removed_and_undone(state: TriageState) -> None:
    triage = Triage(state)
    triage.tag("a", add=["follow up", "apt"])
    change = triage.tag("a", add=["new one"], remove=["APT"])
    assert state.tags_of("a") == ["follow up", "new one"]
    assert change.message == "Tagged: new one; Removed tag: apt"
    triage.undo(change)
    assert state.tags_of("a") == ["apt", "follow up"]


def test_note_and_its_undo(state: TriageState) -> None:
    triage = Triage(state)
    triage.note("a", "first")
    change = triage.note("a", "")
    assert change.message == "Note cleared" and state.get("a").note == ""
    triage.undo(change)
    assert state.get("a").note == "first"


def test_write_queue_runs_jobs_in_order_on_one_drainer() -> None:
    queue = WriteQueue()
    done: list[int] = []
    gate = threading.Event()

    def job(number: int) -> None:
        gate.wait(2)
        done.append(number)

    assert queue.put(lambda: job(0)) is True
    drainer = threading.Thread(target=queue.drain)
    drainer.start()
    for number in range(1, 20):
        assert queue.put(partial(job, number)) is False  # the running drainer takes them
    assert queue.busy
    gate.set()
    assert queue.wait(5)
    drainer.join()
    assert done == list(range(20))
    assert not queue.busy
    assert queue.put(lambda: None) is True  # idle again: the next put starts a new drainer


def test_write_queue_survives_a_failing_job() -> None:
    queue = WriteQueue()

    def boom() -> None:
        raise RuntimeError("boom")

    queue.put(boom)
    with pytest.raises(RuntimeError):
        queue.drain()
    ran: list[str] = []
    assert queue.put(lambda: ran.append("next")) is True
    queue.drain()
    assert ran == ["next"]
    assert queue.wait(0.1)
    assert queue.wait(1)

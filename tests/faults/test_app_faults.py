"""Faults the app must survive, driven through the real app with Textual's Pilot: tiny terminals, key
mashing and quitting while indexing, an index it cannot write, posts changed under it, junk queries in
the search box, failing workers, and a damaged or unwritable triage store."""

from __future__ import annotations

import errno
import shutil
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static
from whoosh.filedb.filestore import FileStorage

import index.engine.store as store_module
from index.corpus import ENGINE_FOLDER, Corpus, UpdateProgress, UpdateReport
from index.engine import Engine
from index.paths import index_dir_for
from index.posts import PostProblem
from tests.faults.helpers import write_posts
from tests.index.helpers import hold_writer
from tests.tui.helpers import main_screen, post_list, reopen_state, screen_lines, settle
from tui.app import SpyglassApp
from tui.widgets.article import ArticleView
from tui.widgets.search_bar import SearchBar

COUNT = 20


#: Each test drives the whole app through many steps, some on a corpus being indexed.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_read_timer")]


@pytest.fixture(autouse=True)
def no_browser(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    opened: list[str] = []

    def fake_open(url: str, *_args: object, **_kwargs: object) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr("webbrowser.open", fake_open)
    return opened


def indexed(tmp_path: Path, count: int = COUNT) -> Path:
    posts = write_posts(tmp_path / "posts", count)
    corpus = Corpus.open(posts)
    corpus.update()
    corpus.close()
    return posts


def notes(app: SpyglassApp) -> list[tuple[str, str, str]]:
    """(severity, title, message) of every notification so far."""
    return [(str(n.severity), str(n.title), str(n.message)) for n in app._notifications]


def errors(app: SpyglassApp) -> list[tuple[str, str, str]]:
    return [note for note in notes(app) if note[0] == "error"]


def slowed(
    app: SpyglassApp,
    started: list[UpdateProgress],
    delay: float = 0.05,
    gate: threading.Event | None = None,
    returned: threading.Event | None = None,
) -> None:
    """Make the app's indexing slow enough to act while it runs (the real update, paced by progress).

    With ``gate``, indexing also stops half-way until the gate opens (at most 20 s).
    """
    real_update = app.corpus.update

    def slow_update(**kwargs: Any) -> UpdateReport:
        progress: Callable[[UpdateProgress], None] = kwargs["progress"]

        def paced(update: UpdateProgress) -> None:
            started.append(update)
            progress(update)
            if gate is not None and update.stage == "index" and update.done * 2 >= update.total:
                gate.wait(20)
            time.sleep(delay)

        try:
            return real_update(progress=paced, cancelled=kwargs["cancelled"])
        finally:
            if returned is not None:
                returned.set()

    app.corpus.update = slow_update  # type: ignore[method-assign]


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.02)


# ------------------------------------------------------------------------------------------ terminal


@pytest.mark.parametrize("size", [(80, 24), (40, 12), (20, 6)])
async def test_tiny_terminal_composes_and_keys_work(tmp_path: Path, size: tuple[int, int]) -> None:
    posts = indexed(tmp_path)
    app = SpyglassApp.for_folder(posts)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot, lambda: len(post_list(app).ids) == COUNT)
        assert app.export_screenshot()
        await pilot.press("j")
        assert post_list(app).cursor == 1
        second = post_list(app).current
        assert second is not None
        await pilot.press("s")
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("ctrl+b", "ctrl+b", "tab", "tab", "tab")
        await pilot.press("slash", *"uniq1", "enter")
        await settle(app, pilot, lambda: list(post_list(app).ids) == ["post-00001.md"])
        assert app.is_running and errors(app) == []
    with reopen_state() as state:
        assert state.ids_with("starred") == {second}


# ------------------------------------------------------------------------------------------ indexing


MASH = [
    "j", "j", "k", "s", "f", "r", "s", "tab", "j", "tab", "shift+tab", "ctrl+b", "b", "ctrl+s", "S", "G", "g",
    "slash", "u", "n", "i", "q", "escape", "n", "p", "question_mark", "escape", "P", "escape", "R", "n",
    "A", "n", "o", "n", "y", "t", "escape", "N", "escape", "x", "ctrl+b", "a", "a", "enter", "escape",
]  # fmt: skip


async def test_key_mashing_during_indexing(tmp_path: Path) -> None:
    posts = write_posts(tmp_path / "posts", 300)
    app = SpyglassApp.for_folder(posts)
    progress: list[UpdateProgress] = []
    gate = threading.Event()
    slowed(app, progress, delay=0.0, gate=gate)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: any(update.stage == "index" for update in progress))
        screen = main_screen(app)
        try:
            for key in MASH:  # the indexing worker is held half-way meanwhile
                await pilot.press(key)
            assert screen.indexing.startswith("index ")
        finally:
            gate.set()
        await pilot.press("escape", "escape")
        assert app.screen is screen
        screen.search_bar.set_query("")
        await settle(app, pilot, lambda: len(post_list(app).ids) > 0)
        assert app.is_running
        assert len(app.corpus) == 300
        assert errors(app) == [], errors(app)
        # Still answering: a triage key right now is saved at once.
        current = post_list(app).current
        assert current is not None
        with reopen_state() as state:
            was = state.get(current).flagged
        await pilot.press("f")
        with reopen_state() as state:
            assert state.get(current).flagged is not was


async def test_quitting_mid_index_leaves_the_lock_free(tmp_path: Path) -> None:
    posts = write_posts(tmp_path / "posts", 300)
    app = SpyglassApp.for_folder(posts)
    progress: list[UpdateProgress] = []
    returned = threading.Event()
    slowed(app, progress, delay=0.05, returned=returned)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: any(update.stage == "index" and update.done > 0 for update in progress))
        await pilot.press("q")
    # The cancelled indexing thread sees the cancel at its next step, commits what it has and returns.
    assert returned.wait(10)
    folder = index_dir_for(posts) / ENGINE_FOLDER
    writer = Engine(folder).writer(timeout=0)  # at once: nothing holds the lock
    writer.cancel()
    corpus = Corpus.open(posts)
    assert 0 < len(corpus) < 300  # what was indexed before quitting was kept
    report = corpus.update()
    assert not report.read_only and len(corpus) == 300


async def test_another_process_writing_the_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    posts = indexed(tmp_path)
    write_posts(posts, 1, start=COUNT)  # something to index at start-up
    monkeypatch.setattr(store_module, "WRITER_TIMEOUT", 0.1)
    holder = hold_writer(index_dir_for(posts) / ENGINE_FOLDER)
    try:
        app = SpyglassApp.for_folder(posts)
        async with app.run_test(size=(160, 45)) as pilot:
            await settle(app, pilot, lambda: any(title == "Index not updated" for _, title, _m in notes(app)))
            assert ("warning", "Index not updated", "another Spyglass is writing this index; working read-only") in (
                notes(app)
            )
            assert len(post_list(app).ids) == COUNT  # the index as it was
            app.screen.query_one(SearchBar).set_query("uniq3")
            await settle(app, pilot, lambda: list(post_list(app).ids) == ["post-00003.md"])
            await pilot.press("s")  # triage is not affected
            assert app.is_running and errors(app) == []
    finally:
        holder.kill()
        holder.wait()
    with reopen_state() as state:
        assert state.ids_with("starred") == {"post-00003.md"}


async def test_disk_full_index_degrades_and_triage_still_saves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    posts = indexed(tmp_path)
    write_posts(posts, 3, start=COUNT)

    def no_space(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(FileStorage, "create_file", no_space)
    app = SpyglassApp.for_folder(posts)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot, lambda: any(title == "Index not updated" for _, title, _m in notes(app)))
        (message,) = [m for _, title, m in notes(app) if title == "Index not updated"]
        assert message == f"cannot write the index in {index_dir_for(posts)}: No space left on device"
        app.screen.query_one(SearchBar).set_query("uniq5")
        await settle(app, pilot, lambda: list(post_list(app).ids) == ["post-00005.md"])
        await pilot.press("s", "f")
        assert app.is_running and errors(app) == []
    with reopen_state() as state:
        assert state.ids_with("starred") == state.ids_with("flagged") == {"post-00005.md"}


async def test_unwritable_index_folder(tmp_path: Path) -> None:
    posts = write_posts(tmp_path / "posts", COUNT)
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    app = SpyglassApp.for_folder(posts, blocker / "index")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot, lambda: any(title == "Index not updated" for _, title, _m in notes(app)))
        (message,) = [m for _, title, m in notes(app) if title == "Index not updated"]
        assert message.startswith(f"cannot write the index in {blocker / 'index'}:")
        app.screen.query_one(SearchBar).set_query("uniq5")
        await settle(app, pilot)
        status = app.screen.query_one("#search-status", Static)
        assert status.has_class("-error") and "not ready" in str(status.render())
        assert app.is_running
    assert blocker.read_text(encoding="utf-8") == "x"


# ------------------------------------------------------------------------------------------ posts changed


async def test_posts_edited_or_deleted_after_indexing(tmp_path: Path) -> None:
    posts = indexed(tmp_path)
    app = SpyglassApp.for_folder(posts)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot, lambda: len(post_list(app).ids) == COUNT)
        ids = list(post_list(app).ids)
        article = app.screen.query_one(ArticleView)
        # The list is stale until the folder watch reacts; stop the watch so the stale list is what `j` meets.
        app.workers.cancel_group(main_screen(app), "watch")
        (posts / ids[1]).unlink()
        (posts / ids[2]).write_text("---\ntitle: Rewritten under the app\n---\nNew body.\n", encoding="utf-8")
        await pilot.press("j")
        await wait_for(pilot, lambda: isinstance(article.post, PostProblem))
        await pilot.pause()
        assert article.post == PostProblem(ids[1], "file no longer exists")
        screen = "\n".join(screen_lines(app))
        assert "This post could not be read" in screen and "file no longer exists" in screen
        assert ids[1] in post_list(app).ids  # the row still shows, from the catalog
        await pilot.press("j")
        await wait_for(pilot, lambda: getattr(article.post, "title", "") == "Rewritten under the app")
        await pilot.pause()
        assert "Rewritten under the app" in "\n".join(screen_lines(app))
        assert app.is_running and errors(app) == []


# ------------------------------------------------------------------------------------------ queries


def result_is(app: SpyglassApp, query: str) -> bool:
    return getattr(main_screen(app).result, "query", None) == query


APP_JUNK = ["(", '"x', "AND OR", "*", "x" * 10_000, "nosuchfield:x", "date:[zzz to]", "[/]", "(" * 999, "is:"]


async def test_junk_queries_in_the_search_box(tmp_path: Path) -> None:
    posts = indexed(tmp_path)
    app = SpyglassApp.for_folder(posts)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        bar = app.screen.query_one(SearchBar)
        status = app.screen.query_one("#search-status", Static)
        for junk in APP_JUNK:
            bar.set_query("")
            await settle(app, pilot, lambda: getattr(main_screen(app).result, "query", None) == "")
            bar.set_query(junk)
            refused = junk.startswith(("date:", "is:")) or len(junk) > 1000
            if refused:  # the error under the box; the last good list stays
                await settle(app, pilot, lambda: status.has_class("-error"))
                assert str(status.render()).strip()
            else:
                await settle(app, pilot, partial(result_is, app, junk))
            assert app.is_running
            assert len(post_list(app).ids) <= COUNT
        # Typed, too: the keys go into the box and the app answers.
        bar.set_query("")
        await pilot.press("slash", *"AND", "space", *"OR", "space", "left_parenthesis")
        await settle(app, pilot, lambda: getattr(main_screen(app).result, "query", None) == "AND OR (")
        assert app.is_running and errors(app) == []


# ------------------------------------------------------------------------------------------ workers


async def test_failing_index_worker_is_a_notification(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    posts = indexed(tmp_path)
    app = SpyglassApp.for_folder(posts)

    def broken(**_kwargs: Any) -> UpdateReport:
        raise RuntimeError("[/] index exploded")

    monkeypatch.setattr(app.corpus, "update", broken)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot, lambda: bool(errors(app)))
        assert ("error", "Indexing failed", "RuntimeError: [/] index exploded") in errors(app)
        assert not main_screen(app).indexing
        await pilot.press("s")
        first = post_list(app).current
        assert app.is_running
    with reopen_state() as state:
        assert state.ids_with("starred") == {first}


async def test_failing_load_worker_is_a_notification(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    posts = indexed(tmp_path)
    app = SpyglassApp.for_folder(posts)

    def broken(_post_id: str) -> Any:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(app.corpus, "load", broken)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: bool(errors(app)))
        assert errors(app)[0] == ("error", "Could not open the post", "OSError: [Errno 5] Input/output error")
        await pilot.press("j", "s")
        assert app.is_running
        second = post_list(app).current
    with reopen_state() as state:
        assert state.ids_with("starred") == {second}


# ------------------------------------------------------------------------------------------ triage store


async def test_corrupt_state_is_moved_aside_and_reported(tmp_path: Path, isolated_dirs: dict[str, Path]) -> None:
    posts = indexed(tmp_path)
    data = isolated_dirs["SPYGLASS_DATA_DIR"]
    garbage = b"this is not a database" * 100
    (data / "state.sqlite3").write_bytes(garbage)
    app = SpyglassApp.for_folder(posts)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        (moved,) = list(data.glob("state.sqlite3.corrupt-*"))
        assert moved.read_bytes() == garbage  # kept, never replaced silently
        assert any(severity == "error" and str(moved) in message for severity, _t, message in notes(app)), notes(app)
        assert main_screen(app).read_only
        await pilot.press("s")
        assert app.is_running
    assert moved.read_bytes() == garbage


async def test_corrupt_state_found_by_search_is_reported_there_and_at_the_next_app_start(
    tmp_path: Path, isolated_dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """`spyglass search` used to move a damaged state aside without a word; the app then started empty."""
    from tui.cli import main

    posts = indexed(tmp_path)
    data = isolated_dirs["SPYGLASS_DATA_DIR"]
    (data / "state.sqlite3").write_bytes(b"this is not a database" * 100)
    assert main(["search", str(posts), "common"]) == 0
    (moved,) = list(data.glob("state.sqlite3.corrupt-*"))
    err = capsys.readouterr().err
    assert "damaged" in err and str(moved) in err
    app = SpyglassApp.for_folder(posts)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        shown = [message for severity, _t, message in notes(app) if severity == "error"]
        assert any(str(moved) in message for message in shown), notes(app)
        assert not main_screen(app).read_only  # the fresh state works; the notice only tells what happened
    app = SpyglassApp.for_folder(posts)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        assert not any(str(moved) in message for _s, _t, message in notes(app))  # told once


async def test_unwritable_data_folder_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    posts = indexed(tmp_path)
    blocker = tmp_path / "data-file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("SPYGLASS_DATA_DIR", str(blocker / "spyglass"))
    app = SpyglassApp.for_folder(posts)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        assert main_screen(app).read_only
        messages = [message for severity, _t, message in notes(app) if severity == "error"]
        assert messages and "read-only" in messages[0] and str(blocker) in messages[0], messages
        await pilot.press("s")
        assert app.is_running
        assert any("read-only" in message for _s, _t, message in notes(app)[1:])


async def test_triage_survives_index_deletion_and_rebuild(tmp_path: Path) -> None:
    posts = indexed(tmp_path)
    app = SpyglassApp.for_folder(posts)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        first = post_list(app).current
        await pilot.press("s", "f", "j", "a")
    assert first is not None
    shutil.rmtree(index_dir_for(posts))
    again = SpyglassApp.for_folder(posts)
    async with again.run_test(size=(160, 45)) as pilot:
        await settle(again, pilot, lambda: len(post_list(again).ids) == COUNT - 1)  # the archived one hidden
        marks = main_screen(again).fetch_marks([first])
        assert marks[first].starred and marks[first].flagged
    with reopen_state() as state:
        assert state.ids_with("starred") == state.ids_with("flagged") == {first}
        assert len(state.ids_with("archived")) == 1

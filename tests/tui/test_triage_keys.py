"""Triage keys: each press is saved at once, in a worker (checked by reopening the database),
and never fires while the search box has focus."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.widgets import Static

from tests.tui.helpers import post_list, reopen_state, settle, titles, workers_done, written
from tui.app import SpyglassApp
from tui.widgets.search_bar import SearchBar

#: Every test drives the whole app through a sequence of keys and reopens the database.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_read_timer")]


async def test_flags_are_saved_at_once(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        first = post_list(app).current
        assert first is not None
        await pilot.press("s", "f", "r")
        await written(app, pilot)
        with reopen_state() as state:  # a second connection sees the commits while the app runs
            saved = state.get(first)
            assert (saved.starred, saved.flagged, saved.read) == (True, True, True)
        await pilot.press("r", "s")
        await written(app, pilot)
        with reopen_state() as state:
            saved = state.get(first)
            assert (saved.starred, saved.flagged, saved.read) == (False, True, False)


async def test_keys_typed_in_the_search_box_do_not_triage(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"rsfatNnpoyRAq")
        assert app.screen.query_one(SearchBar).value == "rsfatNnpoyRAq"
        assert app.is_running
        await settle(app, pilot)
    with reopen_state() as state:
        for flag in ("read", "starred", "flagged", "archived"):
            assert state.ids_with(flag) == set(), flag


async def test_keys_right_behind_slash_never_triage(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        # All queued at once, as a busy app or a fast typist delivers them.
        for key in ("slash", *"sfa"):
            event = events.Key(key, "/" if key == "slash" else key)
            event.set_sender(app)
            app.post_message(event)
        await pilot.pause()
        await pilot.pause()
        assert app.focused is app.screen.query_one(SearchBar).input
        # Keys already on their way to the list when focus moved never triage: bindings are looked
        # up along the focus chain at the time they are handled, and the list is no longer in it.
    with reopen_state() as state:
        assert state.ids_with("starred") == state.ids_with("flagged") == state.ids_with("archived") == set()


async def test_archive_hides_the_post_and_is_archived_shows_it(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        first = post_list(app).current
        await pilot.press("a")
        assert first not in post_list(app).ids
        assert len(post_list(app).ids) == 5
        app.screen.query_one(SearchBar).set_query("is:archived")
        await settle(app, pilot, lambda: list(post_list(app).ids) == [first])
    with reopen_state() as state:
        assert state.ids_with("archived") == {first}
    again = SpyglassApp.for_folder(posts_dir)
    async with again.run_test(size=(160, 45)) as pilot:
        await settle(again, pilot, lambda: len(post_list(again).ids) == 5)
        assert first not in post_list(again).ids


async def test_next_and_previous_unread(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        ids = list(post_list(app).ids)
        with reopen_state() as state:
            state.set_flag_many([ids[1], ids[2]], "read", True)
        await pilot.press("n")
        assert post_list(app).cursor == 3
        await pilot.press("p")
        assert post_list(app).cursor == 0


async def test_tag_and_note_through_prompts(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        first = post_list(app).current
        assert first is not None
        await pilot.press("t")
        await pilot.pause()
        await pilot.press(*"follow up", "enter")
        await pilot.press("N")
        await pilot.pause()
        await pilot.press(*"ask Bob", "enter", *"line two", "ctrl+s")  # the note editor takes several lines
        await written(app, pilot)
    with reopen_state() as state:
        saved = state.get(first)
        assert saved.tags == ("follow up",)
        assert saved.note == "ask Bob\nline two"


async def test_mark_all_read_asks_first(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("R")
        await pilot.pause()
        await pilot.press("n")  # no
        await pilot.pause()
        with reopen_state() as state:
            assert state.ids_with("read") == set()
        await pilot.press("R")
        await pilot.pause()
        await pilot.press("y")
        await written(app, pilot)
        with reopen_state() as state:
            assert state.ids_with("read") == set(post_list(app).ids)


async def test_archive_all_results(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        app.screen.query_one(SearchBar).set_query("tag:China")
        await settle(app, pilot, lambda: len(post_list(app).ids) == 2)
        await pilot.press("A")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot, lambda: len(post_list(app).ids) == 0)
    with reopen_state() as state:
        assert len(state.ids_with("archived")) == 2


async def test_open_url_confirms_and_uses_webbrowser(posts_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []

    def fake_open(url: str, *args: object, **kwargs: object) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr("webbrowser.open", fake_open)
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("o")
        await pilot.pause()
        question = str(app.screen.query_one("#confirm-question", Static).render())
        assert question.splitlines()[1] == "Host: www.cyberscoop.com"  # the real host, on its own line
        await pilot.press("y")
        await workers_done(app)
        assert opened == ["https://www.cyberscoop.com/cambodia-election-apt40/"]
        # An ftp:// source is refused without asking.
        post_list(app).cursor = len(post_list(app).ids) - 1
        assert titles(app)[-1] == "Patch Tuesday roundup"
        await pilot.press("o")
        await pilot.pause()
        assert type(app.screen).__name__ == "MainScreen"
        assert len(opened) == 1


async def test_copy_url(posts_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)  # the system clipboard is looked for in a worker first
        assert copied == ["https://www.cyberscoop.com/cambodia-election-apt40/"]


async def test_dwelling_on_a_post_marks_it_read(posts_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A delay long enough for two key presses on a loaded machine, short enough to wait out.
    monkeypatch.setattr("tui.screens.main.READ_DELAY", 1.0)
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("j")
        passed_by = post_list(app).current
        await pilot.press("j")  # moved on before the delay: that post stays unread
        stayed_on = post_list(app).current
        await settle(app, pilot)
        await pilot.pause(1.5)
        with reopen_state() as state:
            read = state.ids_with("read")
        assert stayed_on in read
        assert passed_by not in read

"""Pilot tests of the sidebar's own sections (feeds, my tags) and of changes made by another Spyglass."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.helpers import main_screen, post_list, reopen_state, screen_lines, settle, titles
from tests.tui.helpers import sidebar_rows as rows
from tui.app import SpyglassApp
from tui.feeds import feeds_path
from tui.screens.prompts import ConfirmScreen, NameScreen
from tui.widgets.sidebar import Sidebar

pytestmark = pytest.mark.usefixtures("no_read_timer")


async def wait_for(pilot: Pilot[Any], until: Any, seconds: float = 5.0) -> None:
    """Wait, pressing no key, until ``until()`` holds (or fail after ``seconds``: a generous bound)."""
    started = time.monotonic()
    while not until():
        assert time.monotonic() - started < seconds, "timed out"
        await pilot.pause(0.05)


async def test_my_tags_are_listed_with_counts_and_filter_the_list(posts_dir: Path) -> None:
    with reopen_state() as state:
        state.add_tag("_posts/2018-05-30-ransomware-hits-hospital.md", "Review")
        state.add_tag("_posts/2018-03-01-patch-tuesday.md", "review")
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot, lambda: rows(app, "own_tag") != [])
        assert [row.casefold() for row in rows(app, "own_tag")] == ["review 2"]  # one tag, any case
        assert rows(app, "feed") == []  # no feeds: no section
        await pilot.press("shift+tab", "5")
        picked = app.screen.query_one(Sidebar).highlighted_filter
        assert picked is not None and picked[0] == "own_tag" and picked[1].casefold() == "review"
        await pilot.press("enter")
        await settle(app, pilot, lambda: len(post_list(app).ids) == 2)
        assert set(titles(app)) == {"Ransomware hits a hospital", "Patch Tuesday roundup"}
        assert main_screen(app).search_query.casefold() == 'tag:"review"'


async def test_save_run_rename_and_delete_a_feed(posts_dir: Path) -> None:
    (feeds_path().parent).mkdir(parents=True, exist_ok=True)
    (feeds_path().parent / "keys.toml").write_text('# mine\n[queries]\n"Banks" = "tag:banks"\n', encoding="utf-8")
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot, lambda: rows(app, "feed") == ["Banks 1"])
        main_screen(app).set_query("tag:china")
        await settle(app, pilot, lambda: len(post_list(app).ids) == 2)
        await pilot.press("r")  # read one of the two
        await pilot.press("F")
        assert isinstance(app.screen, NameScreen)
        await pilot.press(*"China", "enter")
        await settle(app, pilot, lambda: rows(app, "feed") == ["China 1", "Banks 1"])
        assert json.loads(feeds_path().read_text(encoding="utf-8"))["feeds"] == [
            {"name": "China", "query": "tag:china"}
        ]
        main_screen(app).set_query("")
        await settle(app, pilot, lambda: len(post_list(app).ids) == 6)
        await pilot.press("shift+tab", "6", "down")  # Banks
        await pilot.press("enter")
        await settle(app, pilot, lambda: titles(app) == ["North Korean hackers target banks"])
        assert post_list(app).has_focus
        await pilot.press("shift+tab", "6", "R")
        assert isinstance(app.screen, NameScreen)
        await pilot.press("ctrl+u", *"Asia", "enter")
        await settle(app, pilot, lambda: rows(app, "feed") == ["Asia 1", "Banks 1"])
        await pilot.press("6", "down", "D")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot, lambda: rows(app, "feed") == ["Asia 1"])
    assert "Banks" in (feeds_path().parent / "keys.toml").read_text(encoding="utf-8")  # the user's file as it was


async def test_posts_archived_or_restored_in_another_instance_leave_and_rejoin_the_list(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        listed = list(post_list(app).ids)
        second = listed[1]
        await pilot.pause(0.6)  # the watch has read the version once
        with reopen_state() as other:
            other.set_flag(second, "archived", True)
        await wait_for(pilot, lambda: second not in post_list(app).ids, seconds=10)  # no key was pressed
        result = main_screen(app).result
        assert result is not None and result.total == len(listed) - 1
        with reopen_state() as other:
            other.set_flag(second, "archived", False)
        await wait_for(pilot, lambda: list(post_list(app).ids) == listed, seconds=10)


async def test_another_instances_changes_show_without_a_key(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        first = post_list(app).current
        assert first is not None
        await pilot.press("enter")  # show it in the article pane
        await settle(app, pilot)
        assert not post_list(app).marks(first).starred
        await pilot.pause(0.6)  # the watch has read the version once
        with reopen_state() as other:  # a second Spyglass on the same state file
            other.set_flag(first, "starred", True)
            other.add_tag(first, "elsewhere")
            other.set_note(first, "written in another window")
        await wait_for(pilot, lambda: post_list(app).marks(first).starred, seconds=10)  # no key was pressed
        await wait_for(pilot, lambda: any("written in another window" in line for line in screen_lines(app)))
        await wait_for(pilot, lambda: rows(app, "own_tag") == ["elsewhere 1"])

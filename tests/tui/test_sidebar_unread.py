"""Tags and entities in the sidebar show ``unread/total`` over the current result, and follow triage changes
(reading, marking unread, archiving, restoring; another Spyglass's changes) without searching again when
only the read marks moved."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.helpers import main_screen, post_list, reopen_state, screen_lines, settle
from tests.tui.helpers import sidebar_rows as rows
from tui.app import SpyglassApp

pytestmark = pytest.mark.usefixtures("no_read_timer")

CHINESE_GROUP = "_posts/2018-07-11-chinese-group-breaches.md"  # tags China, …; actor APT40
WATERING_HOLE = "_posts/2018-04-15-watering-hole-in-asia.md"  # tags China, Espionage


async def wait_for(pilot: Pilot[Any], until: Any, seconds: float = 5.0) -> None:
    """Wait, pressing no key, until ``until()`` holds (or fail after ``seconds``: a generous bound)."""
    started = time.monotonic()
    while not until():
        assert time.monotonic() - started < seconds, "timed out"
        await pilot.pause(0.05)


async def test_tags_and_entities_show_unread_of_total_and_follow_the_keys(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot, lambda: "China 2/2" in rows(app, "tag"))
        screen = main_screen(app)
        assert "APT40 1/1" in rows(app, "actor")
        assert post_list(app).current == CHINESE_GROUP
        searched = screen.result

        await pilot.press("r")  # read
        await wait_for(pilot, lambda: "China 1/2" in rows(app, "tag"))
        assert "APT40 0/1" in rows(app, "actor") and "Espionage 1/1" in rows(app, "tag")
        assert screen.result is searched  # counted again, not searched again
        assert any("China" in line and "1/2" in line for line in screen_lines(app))  # on screen, not only held

        await pilot.press("r")  # unread again
        await wait_for(pilot, lambda: "China 2/2" in rows(app, "tag"))
        assert screen.result is searched

        await pilot.press("a")  # archived: one post fewer in the result, so in the totals
        await wait_for(pilot, lambda: "China 1/1" in rows(app, "tag"))
        assert "APT40" not in " ".join(rows(app, "actor"))
        await pilot.press("u")  # restored
        await wait_for(pilot, lambda: "China 2/2" in rows(app, "tag"))
        assert "APT40 1/1" in rows(app, "actor")


async def test_another_instance_reading_moves_the_counts(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot, lambda: "China 2/2" in rows(app, "tag"))
        searched = main_screen(app).result
        with reopen_state() as other:
            other.set_flag(WATERING_HOLE, "read", True)
        await wait_for(pilot, lambda: "China 1/2" in rows(app, "tag") and "Espionage 0/1" in rows(app, "tag"))
        assert main_screen(app).result is searched

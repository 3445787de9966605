"""Keys typed in one burst right after ``/`` (a fast typist, a paste: one terminal write) go to the search box.

The app hands each key to the widget focused when it reads the key; ``/`` moves the focus as the app reads
it, so the rest of the burst finds the search box, not the list (where the letters were lost).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.helpers import burst, main_screen, post_list, settle, titles, written
from tui.widgets.sidebar import Sidebar

pytestmark = pytest.mark.usefixtures("no_read_timer")


async def test_a_burst_after_slash_is_typed_into_the_search_box(posts_dir: Path) -> None:
    from tui.app import SpyglassApp

    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot, lambda: not app.held_keys.holding)
        screen = main_screen(app)
        burst(app, "slash", *"china", "enter")  # all queued before the app reads the first
        await settle(app, pilot, lambda: len(post_list(app).ids) == 2)
        await written(app, pilot)
        assert screen.search_bar.value == "china" and screen.query_text == "china"
        assert set(titles(app)) == {"Chinese group breaches Cambodian election bodies", "Watering hole attacks in Asia"}
        assert post_list(app).has_focus  # enter searched and went back to the list
        assert screen.filters == ()  # "c" did not clear anything, nothing was triaged
        marks = [post_list(app).marks(post_id) for post_id in post_list(app).ids]
        assert not any(mark.starred or mark.flagged or mark.archived for mark in marks)


async def test_slash_in_the_box_is_a_character_and_works_from_the_sidebar(posts_dir: Path) -> None:
    from tui.app import SpyglassApp

    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot, lambda: not app.held_keys.holding)
        screen = main_screen(app)
        burst(app, "slash", "a", "slash", "b")
        await settle(app, pilot)
        assert screen.search_bar.value == "a/b"
        await pilot.press("escape")
        screen.sidebar.focus()
        await pilot.pause()
        burst(app, "slash", "x")
        await settle(app, pilot)
        assert isinstance(screen.sidebar, Sidebar) and not screen.sidebar.has_focus
        assert screen.search_bar.value == "a/bx"

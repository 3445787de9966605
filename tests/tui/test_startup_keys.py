"""Keys typed before the first page of posts is on screen take effect, in order, once it is.

The first page is held back for real: the test holds the triage state's read lock, which the first
search needs (it hides archived posts), so the search worker waits while the keys are pressed. The
test runs on the app's own thread, so the app's own reads of the state go through.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.helpers import burst, first_search_waiting, main_screen, post_list, reopen_state, settle, titles, written
from tui.app import SpyglassApp
from tui.widgets.article import ArticleView

pytestmark = pytest.mark.usefixtures("no_read_timer")


async def first_page_in(app: SpyglassApp, pilot: Pilot[Any], release: Callable[[], None]) -> None:
    """Check that the keys really came before the first page, then let it in and let everything land."""
    assert not post_list(app).ids, "the first page came before the keys: the test would prove nothing"
    release()
    await settle(app, pilot)
    await written(app, pilot)


async def test_list_and_triage_keys_typed_during_start_up_act_on_the_first_page(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    with first_search_waiting(app) as release:
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.press("j", "j", "j", "s")
            await first_page_in(app, pilot, release)
            listed = post_list(app)
            assert listed.cursor == 3
            fourth = listed.ids[3]
            assert listed.marks(fourth).starred
    with reopen_state() as state:
        assert state.ids_with("starred") == {fourth}


async def test_a_search_typed_during_start_up_is_typed_not_triaged(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    with first_search_waiting(app) as release:
        async with app.run_test(size=(160, 45)) as pilot:
            burst(app, "slash", *"ransomware")
            await first_page_in(app, pilot, release)
            assert main_screen(app).search_bar.input.value == "ransomware"
            await settle(app, pilot, lambda: main_screen(app).query_text == "ransomware")  # after the debounce
            assert titles(app) == ["Ransomware hits a hospital"]
    with reopen_state() as state:  # r, a and s went into the box, not to the list's triage keys
        assert state.ids_with("read") == state.ids_with("archived") == state.ids_with("starred") == set()


async def test_enter_typed_before_the_terminal_was_set_up_opens_the_post(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    with first_search_waiting(app) as release:
        async with app.run_test(size=(160, 45)) as pilot:
            # Typed ahead of the app, enter reaches it as a line feed (the terminal was still in line mode);
            # the j after it scrolls the article, it does not move the list.
            burst(app, "j", "ctrl+j", "j")
            await first_page_in(app, pilot, release)
            assert post_list(app).cursor == 1
            assert isinstance(app.focused, ArticleView)
            post = main_screen(app).article.post
            assert post is not None and post.post_id == post_list(app).ids[1]


async def test_keys_typed_after_the_first_page_are_not_held(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        assert not app.held_keys.holding
        await pilot.press("j")
        assert post_list(app).cursor == 1

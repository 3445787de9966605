"""Below ``single_pane_width`` columns the main screen shows one pane at a time, each at full width:
the list, the article (``enter``; ``esc`` back), the sidebar (its toggle key); a
resize across the width switches on the spot and keeps the cursor and the open post."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widget import Widget

from tests.tui.helpers import index_corpus, main_screen, post_list, reopen_state, settle, write_corpus, written
from tui.app import SpyglassApp
from tui.settings import Settings, load_settings, settings_path
from tui.widgets.article import ArticleView
from tui.widgets.sidebar import Sidebar

pytestmark = pytest.mark.usefixtures("no_read_timer")


def shown(app: SpyglassApp) -> set[str]:
    """The panes on screen: ``sidebar``, ``list`` (the search box and the list), ``article``."""
    screen = main_screen(app)
    panes: dict[str, Widget] = {
        "sidebar": screen.sidebar,
        "list": screen.query_one("#center"),
        "article": screen.article,
    }
    return {name for name, pane in panes.items() if pane.display and pane.region.width > 0}


def full_width(app: SpyglassApp, pane: str) -> bool:
    screen = main_screen(app)
    widget = {"sidebar": screen.sidebar, "list": screen.query_one("#center"), "article": screen.article}[pane]
    return widget.region.width == app.size.width


def showing(app: SpyglassApp) -> str | None:
    """The id of the post in the article pane."""
    post = main_screen(app).article.post
    return None if post is None else post.post_id


def focused(app: SpyglassApp) -> Widget | None:
    return app.focused


async def opened(app: SpyglassApp, pilot: Pilot[Any]) -> str:
    """Open the post under the cursor; its id."""
    post_id = post_list(app).current
    assert post_id is not None
    await pilot.press("enter")
    await settle(app, pilot)
    assert showing(app) == post_id
    return post_id


async def test_at_80_columns_the_list_then_the_article_then_the_list_again(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert shown(app) == {"list"} and full_width(app, "list")
        await pilot.press("j", "j")
        await opened(app, pilot)
        assert shown(app) == {"article"} and full_width(app, "article")
        assert isinstance(app.focused, ArticleView)
        await pilot.press("escape")
        await pilot.pause()
        assert shown(app) == {"list"} and focused(app) is post_list(app)
        assert post_list(app).cursor == 2  # the same row


async def test_at_120_columns_the_three_panes_stay_side_by_side(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert shown(app) == {"sidebar", "list", "article"}
        await opened(app, pilot)
        assert shown(app) == {"sidebar", "list", "article"}
        await pilot.press("escape")
        await pilot.pause()
        assert focused(app) is post_list(app)
        assert shown(app) == {"sidebar", "list", "article"}


async def test_the_sidebar_key_shows_the_sidebar_full_width_and_takes_it_away(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("b")
        await pilot.pause()
        assert shown(app) == {"sidebar"} and full_width(app, "sidebar")
        assert isinstance(app.focused, Sidebar)
        await pilot.press("j", "enter")  # a facet filter, chosen in the full-width sidebar
        await settle(app, pilot)
        assert main_screen(app).filters
        await pilot.press("b")
        await pilot.pause()
        assert shown(app) == {"list"} and focused(app) is post_list(app)


async def test_triage_and_next_unread_keys_work_in_the_full_width_article(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        first = await opened(app, pilot)
        await pilot.press("s")
        await written(app, pilot)
        with reopen_state() as state:
            assert state.ids_with("starred") == {first}
        await pilot.press("n")
        await settle(app, pilot)
        assert post_list(app).cursor == 1
        assert showing(app) == post_list(app).ids[1]
        assert shown(app) == {"article"} and isinstance(app.focused, ArticleView)


async def test_a_resize_across_the_width_switches_modes_and_keeps_cursor_and_post(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("j", "j", "j")
        post_id = await opened(app, pilot)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert shown(app) == {"article"} and full_width(app, "article")
        assert showing(app) == post_id
        await pilot.press("escape")
        await pilot.pause()
        assert shown(app) == {"list"} and post_list(app).cursor == 3
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert shown(app) == {"sidebar", "list", "article"}
        assert post_list(app).cursor == 3 and focused(app) is post_list(app)
        assert showing(app) == post_id


async def test_the_cursor_moved_from_the_article_is_in_view_back_in_the_list(tmp_path: Path) -> None:
    posts = {
        f"_posts/2020-01-{day:02d}-post.md": f"---\ntitle: Post number {day}\ndate: 2020-01-{day:02d}\n---\nBody.\n"
        for day in range(1, 29)
    }
    root = write_corpus(tmp_path / "posts", posts)
    index_corpus(root)
    app = SpyglassApp.for_folder(root)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await opened(app, pilot)
        for _ in range(25):
            await pilot.press("n")  # next unread: one row down each time, the list hidden
            # ``n`` counts from the post the article shows, which a worker loads: let it land first.
            await settle(app, pilot, lambda: showing(app) == post_list(app).current)
        await pilot.press("escape")
        await pilot.pause()
        listed = post_list(app)
        assert listed.cursor == 25
        top = round(listed.scroll_y)
        assert top <= listed.cursor < top + listed.scrollable_content_region.height


async def test_single_pane_width_is_a_setting(posts_dir: Path) -> None:
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text("single_pane_width = 0\n", encoding="utf-8")
    assert load_settings() == Settings(single_pane_width=0)
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await opened(app, pilot)
        assert shown(app) == {"list", "article"}  # never one pane; the sidebar starts hidden below 100


def test_single_pane_width_out_of_range_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    for text in ("single_pane_width = -1\n", "single_pane_width = 5000\n", 'single_pane_width = "80"\n'):
        path.write_text(text, encoding="utf-8")
        assert load_settings(path) == Settings()
    path.write_text("single_pane_width = 140\n", encoding="utf-8")
    assert load_settings(path) == Settings(single_pane_width=140)

"""The reading loop through the real app: triage writes never freeze the keys, read means opened,
keys set what the screen shows, bulk changes ask with No as the default, and undo takes them back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from index.posts import Post
from index.state import default_state_path
from tests.tui.helpers import burst, main_screen, post_list, reopen_state, settle, write_corpus, written
from tui.app import SpyglassApp
from tui.widgets.article import ArticleView
from tui.widgets.search_bar import SearchBar

#: Multi-step Pilot runs, each waiting out a short read delay.
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def quick_read(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr("tui.screens.main.READ_DELAY", 0.2)
    return 0.2


def shown_title(article: ArticleView) -> str | None:
    post = article.post
    return post.title if isinstance(post, Post) else None


def read_ids() -> set[str]:
    with reopen_state() as state:
        return state.ids_with("read")


# ---------------------------------------------------------------------------------- no freeze


async def test_a_write_waiting_for_another_process_lock_does_not_freeze_the_keys(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        first = post_list(app).current
        assert first is not None
        holder = sqlite3.connect(default_state_path(), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # what a sqlite3 shell or another program holding the lock does
        try:
            await pilot.press("s")
            await pilot.press("j")
            await pilot.pause()
            assert post_list(app).cursor == 1  # the app answered j ...
            with reopen_state() as state:
                assert state.ids_with("starred") == set()  # ... while the star still waits for the lock
            assert post_list(app).marks(first).starred  # and the star shows at once
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        await written(app, pilot)
        assert not main_screen(app).read_only
    with reopen_state() as state:
        assert state.ids_with("starred") == {first}


# ---------------------------------------------------------------------------------- read means opened


async def test_a_post_under_the_cursor_while_typing_a_search_stays_unread(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"banks")
        await settle(app, pilot, lambda: len(post_list(app).ids) == 1)
        assert isinstance(main_screen(app).article.post, object)
        await pilot.pause(0.6)  # three times the delay, shown in the article pane, focus in the box
        assert read_ids() == set()
        await pilot.press("escape")  # back on the list: still only a post a search put there
        await pilot.pause(0.6)
        assert read_ids() == set()
        await pilot.press("enter")  # opened: now it is being read
        await pilot.pause(0.6)
        await written(app, pilot)
        assert read_ids() == {post_list(app).current}


async def test_rerunning_is_unread_does_not_read_its_top_post(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        bar = app.screen.query_one(SearchBar)
        for _ in range(3):
            await pilot.press("slash", "ctrl+u", *"is:unread", "enter")
            await settle(app, pilot, lambda: main_screen(app).query_text == "is:unread")
            await pilot.pause(0.5)
            assert bar.value == "is:unread"
            bar.set_query("")
            await settle(app, pilot)
        await written(app, pilot)
        assert read_ids() == set()


async def test_moving_onto_a_post_and_staying_reads_it(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        first = post_list(app).current
        await pilot.press("j")
        await pilot.pause(0.6)
        await written(app, pilot)
        assert read_ids() == {post_list(app).current}
        assert first not in read_ids()


# ---------------------------------------------------------------------------------- set, don't toggle


async def test_a_key_sets_the_opposite_of_the_mark_shown(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        first = post_list(app).current
        assert first is not None and not post_list(app).marks(first).starred
        with reopen_state() as other:  # another instance stars it; this screen still shows no star
            other.set_flag(first, "starred", True)
        await pilot.press("s")
        await written(app, pilot)
        assert post_list(app).marks(first).starred
    with reopen_state() as state:
        assert state.get(first).starred  # a blind toggle would have removed the star the user asked for


async def test_bulk_read_asks_with_no_as_default_and_offers_unread_when_all_are_read(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        ids = set(post_list(app).ids)
        await pilot.press("R")
        await pilot.pause()
        await pilot.press("enter")  # Enter means No
        await written(app, pilot)
        assert read_ids() == set()
        await pilot.press("R", "y")
        await written(app, pilot)
        assert read_ids() == ids
        await pilot.press("R")
        await pilot.pause()
        assert "Mark them unread?" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("y")
        await written(app, pilot)
        assert read_ids() == set()


async def test_archive_all_in_an_archived_view_restores(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        app.screen.query_one(SearchBar).set_query("tag:China")
        await settle(app, pilot, lambda: len(post_list(app).ids) == 2)
        await pilot.press("A", "y")
        await settle(app, pilot, lambda: len(post_list(app).ids) == 0)
        app.screen.query_one(SearchBar).set_query("is:archived")
        await settle(app, pilot, lambda: len(post_list(app).ids) == 2)
        await pilot.press("A")
        await pilot.pause()
        assert "Restore all 2 results" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("y")
        await settle(app, pilot, lambda: len(post_list(app).ids) == 0)
    with reopen_state() as state:
        assert state.ids_with("archived") == set()


async def test_undo_takes_back_the_last_action_bulk_included(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        ids = list(post_list(app).ids)
        first = ids[0]
        with reopen_state() as other:
            other.set_flag(ids[3], "read", True)
        await pilot.press("s")
        await written(app, pilot)
        await pilot.press("R", "y")
        await written(app, pilot)
        assert read_ids() == set(ids)
        await pilot.press("u")  # the bulk change goes; the post read before stays read
        await written(app, pilot)
        assert read_ids() == {ids[3]}
        await pilot.press("u")  # then the star
        await written(app, pilot)
        assert not post_list(app).marks(first).starred
        await pilot.press("a", "u")  # an archived post comes back to the list
        await settle(app, pilot, lambda: first in post_list(app).ids)
    with reopen_state() as state:
        assert state.ids_with("starred") == state.ids_with("archived") == set()


# ---------------------------------------------------------------------------------- keys in the article pane


async def test_triage_and_moving_keys_work_in_the_article_pane(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        first = post_list(app).current
        await pilot.press("enter")
        assert isinstance(app.focused, ArticleView)
        await pilot.press("s", "f")
        await written(app, pilot)
        with reopen_state() as state:
            assert state.ids_with("starred") == state.ids_with("flagged") == {first}
        await pilot.press("n")  # next unread, from the article
        assert post_list(app).cursor == 1
        assert isinstance(app.focused, ArticleView)


async def test_n_typed_twice_at_once_in_the_article_moves_two_unread_posts(posts_dir: Path) -> None:
    """The second n comes before the article has loaded the post the first chose: it still moves on."""
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot, lambda: len(post_list(app).ids) >= 3)
        await pilot.press("enter")
        assert isinstance(app.focused, ArticleView)
        burst(app, "n", "n")
        await settle(app, pilot)
        assert post_list(app).cursor == 2


async def test_scroll_keys_in_the_article_pane(tmp_path: Path) -> None:
    body = "\n\n".join(f"Paragraph {n} about nothing in particular." for n in range(200))
    root = tmp_path / "posts"
    root.mkdir()
    (root / "long.md").write_text(f"---\ntitle: Long\ndate: 2020-01-01\n---\n{body}\n", encoding="utf-8")
    app = SpyglassApp.for_folder(root)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot, lambda: len(post_list(app).ids) == 1)
        await pilot.press("enter")
        await settle(app, pilot)
        article = app.screen.query_one(ArticleView)
        await pilot.press("G")
        await pilot.pause()
        assert article.scroll_y == article.max_scroll_y > 0
        await pilot.press("g")
        await pilot.pause()
        assert article.scroll_y == 0
        await pilot.press("ctrl+d")
        await pilot.pause()
        half = article.scroll_y
        assert 0 < half < article.max_scroll_y
        await pilot.press("j")
        await pilot.pause()
        assert article.scroll_y > half
        await pilot.press("ctrl+u", "k")
        await pilot.pause()
        assert article.scroll_y < half


async def test_j_and_k_move_in_the_sidebar(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        sidebar = main_screen(app).sidebar
        await pilot.press("shift+tab", "j")
        assert sidebar.highlighted_filter == ("tag", "China")
        await pilot.press("j", "k")
        assert sidebar.highlighted_filter == ("tag", "China")


async def test_space_pages_down_then_opens_the_next_unread_post(tmp_path: Path) -> None:
    body = "\n\n".join(f"Paragraph {n} about nothing in particular." for n in range(60))
    posts = {
        "long.md": f"---\ntitle: Long\ndate: 2020-01-03\n---\n{body}\n",
        "read.md": "---\ntitle: Already read\ndate: 2020-01-02\n---\nSeen before.\n",
        "unread.md": "---\ntitle: Still unread\ndate: 2020-01-01\n---\nNot seen yet.\n",
    }
    root = write_corpus(tmp_path / "posts", posts)
    app = SpyglassApp.for_folder(root)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot, lambda: len(post_list(app).ids) == 3)
        with reopen_state() as other:
            other.set_flag(post_list(app).ids[1], "read", True)
        await pilot.press("enter")
        await settle(app, pilot)
        article = app.screen.query_one(ArticleView)
        assert article.max_scroll_y > 0
        await pilot.press("space")  # the first half: a page down, the same post
        await pilot.pause()
        assert article.scroll_target_y > 0
        assert shown_title(article) == "Long"
        while article.scroll_target_y < article.max_scroll_y:  # bounded: each press moves a page
            await pilot.press("space")
        await pilot.pause()
        await pilot.press("space")  # the second half: at the end, on to the next unread (skipping the read one)
        await settle(app, pilot, lambda: shown_title(article) == "Still unread")
        assert post_list(app).cursor == 2
        assert isinstance(app.focused, ArticleView)

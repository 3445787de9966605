"""Pilot tests of the whole app on a small real corpus: start, search, filters, pivot, faults."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from index.corpus import Corpus
from index.state import StateError
from tests.tui.helpers import (
    index_corpus,
    main_screen,
    post_list,
    reopen_state,
    settle,
    titles,
    workers_done,
    write_corpus,
)
from tui.app import SpyglassApp
from tui.widgets.article import ArticleView
from tui.widgets.post_list import PostList
from tui.widgets.search_bar import SearchBar
from tui.widgets.sidebar import Sidebar


async def test_starts_with_the_existing_index_and_titles(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot, lambda: len(post_list(app).ids) == 6)
        assert titles(app)[0] == "Chinese group breaches Cambodian election bodies"
        assert (main_screen(app).sub_title or "").startswith("posts ─ 6 posts")
        assert post_list(app).has_focus


async def test_indexes_a_fresh_folder_with_progress(tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "posts")
    app = SpyglassApp.for_folder(root)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot, lambda: len(post_list(app).ids) == 6)
    assert len(app.corpus) == 6


@pytest.mark.slow
async def test_search_as_you_type_narrows_the_list(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash")
        assert app.focused is app.screen.query_one(SearchBar).input
        await pilot.press(*"lazarus")
        await settle(app, pilot, lambda: len(post_list(app).ids) == 1)
        assert titles(app) == ["North Korean hackers target banks"]
        assert "query: lazarus" in (main_screen(app).sub_title or "")
        await pilot.press("escape")
        assert post_list(app).has_focus


async def test_bad_query_shows_the_error_under_the_box(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        app.screen.query_one(SearchBar).set_query('date:[2018 to "x')
        await settle(app, pilot)
        assert app.is_running
        status = app.screen.query_one("#search-status", Static)
        assert status.has_class("-error")
        assert str(status.render()).strip()
        assert len(post_list(app).ids) == 6  # the last good list stays while the query is broken


@pytest.mark.slow
async def test_sidebar_filter_narrows_and_clears(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        sidebar = app.screen.query_one(Sidebar)
        await pilot.press("shift+tab")  # list → sidebar
        assert sidebar.has_focus
        # The first tag is the most frequent: China (2 posts).
        await pilot.press("down")
        assert sidebar.highlighted_filter == ("tag", "China")
        await pilot.press("enter")
        await settle(app, pilot, lambda: len(post_list(app).ids) == 2)
        assert main_screen(app).filters == (("tag", "China"),)
        assert set(titles(app)) == {"Chinese group breaches Cambodian election bodies", "Watering hole attacks in Asia"}
        await pilot.press("x")
        await settle(app, pilot, lambda: len(post_list(app).ids) == 6)
        assert main_screen(app).filters == ()


async def test_sidebar_jumps_to_the_actors_section(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        sidebar = app.screen.query_one(Sidebar)
        await pilot.press("shift+tab")
        await pilot.press("2")
        highlighted = sidebar.highlighted_filter
        assert highlighted is not None and highlighted[0] == "actor"
        await pilot.press("4")
        highlighted = sidebar.highlighted_filter
        assert highlighted is not None and highlighted[0] == "technique"
        await pilot.press("right_curly_bracket")
        highlighted = sidebar.highlighted_filter
        assert highlighted is not None and highlighted[0] == "tag"


@pytest.mark.slow
async def test_sidebar_hides_and_shows(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        sidebar = app.screen.query_one(Sidebar)
        assert sidebar.display
        await pilot.press("ctrl+b")
        assert not sidebar.display
        await pilot.press("b")
        assert sidebar.display


async def test_pivot_on_an_entity_sets_the_query(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        article = app.screen.query_one(ArticleView)
        article.post_message(ArticleView.EntitySelected("ACTOR", "Lazarus Group", ""))
        wanted = 'actor:"Lazarus Group"'
        await settle(app, pilot, lambda: getattr(main_screen(app).result, "query", None) == wanted)
        assert app.screen.query_one(SearchBar).value == wanted
        assert post_list(app).has_focus
        # Which posts match is the engine's business; none of the others may stay.
        assert set(titles(app)) <= {"North Korean hackers target banks"}


@pytest.mark.slow
async def test_sort_toggle(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("S")
        await settle(app, pilot)
        assert main_screen(app).sort == "relevance"
        await pilot.press("S")
        assert main_screen(app).sort == "date"


@pytest.mark.slow
async def test_tab_cycles_panes(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("tab")
        assert isinstance(app.focused, ArticleView)
        await pilot.press("tab")
        assert isinstance(app.focused, Sidebar)
        await pilot.press("tab")
        assert isinstance(app.focused, PostList)


async def test_failed_worker_becomes_a_notification(posts_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = SpyglassApp.for_folder(posts_dir)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("[bold red]engine exploded[/]")

    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        monkeypatch.setattr(app.corpus, "search", broken)
        await pilot.press("slash", "x")
        await pilot.pause(0.4)
        await workers_done(app)
        await pilot.pause()
        assert app.is_running
        messages = [str(n.message) for n in app._notifications]
        assert any("[bold red]engine exploded[/]" in m for m in messages), messages


@pytest.mark.slow
async def test_state_error_means_read_only(posts_dir: Path) -> None:
    corpus = Corpus.open(posts_dir)
    error = StateError("Triage state is locked", "Another Spyglass (pid 42) holds it.")
    app = SpyglassApp(corpus, None, error)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        assert main_screen(app).read_only
        await pilot.press("s")
        await pilot.pause()
        messages = [str(n.message) for n in app._notifications]
        assert any("read-only" in m for m in messages), messages
    with reopen_state() as state:
        assert not state.ids_with("starred")


async def test_problems_are_counted_and_listed(tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "posts")
    (root / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    index_corpus(root)
    app = SpyglassApp.for_folder(root)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        status = str(app.screen.query_one("#status").render())
        assert "1 problem" in status
        await pilot.press("P")
        await pilot.pause()
        assert type(app.screen).__name__ == "ProblemsScreen"


@pytest.mark.slow
async def test_help_lists_the_bindings(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"


@pytest.mark.slow
async def test_relaunch_keeps_state(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        first = post_list(app).current
        await pilot.press("s")
    assert first is not None
    again = SpyglassApp.for_folder(posts_dir)
    async with again.run_test(size=(160, 45)) as pilot:
        await settle(again, pilot)
        assert post_list(again).current == first
        marks = main_screen(again).fetch_marks([first])
        assert marks[first].starred

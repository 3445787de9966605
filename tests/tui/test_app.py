"""Pilot tests of the whole app on a small real corpus: start, search, filters, pivot, faults.

The helpers at the top (a six-post corpus, ``start``/``settle``) are shared by the other
``tests/tui`` modules.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static
from textual.worker import WorkerCancelled

from index.corpus import Corpus
from index.state import StateError, TriageState
from tui.app import SpyglassApp
from tui.screens.main import MainScreen, compose_query, filter_term
from tui.widgets.article import ArticleView
from tui.widgets.post_list import PostList
from tui.widgets.search_bar import SearchBar
from tui.widgets.sidebar import Sidebar

POSTS: dict[str, str] = {
    "_posts/2018-07-11-chinese-group-breaches.md": """---
layout: post
title: Chinese group breaches Cambodian election bodies
date: 2018-07-11 00:02:8
tourl: https://www.cyberscoop.com/cambodia-election-apt40/
tags: [Group, China, FIREEYE, Attack, TEMP.Periscope]
---
Chinese hackers known as TEMP.Periscope breached the National Election Commission of Cambodia
with spear-phishing emails, FireEye said.
""",
    "_posts/2018-06-02-north-korean-hackers.md": """---
title: North Korean hackers target banks
date: 2018-06-02
tourl: https://example.org/lazarus-banks
tags: [North Korea, Lazarus, Banks]
---
The Lazarus Group went after banks in Asia with a watering hole attack.
""",
    "_posts/2018-05-30-ransomware-hits-hospital.md": """---
title: Ransomware hits a hospital
date: 2018-05-30
tourl: https://example.com/ransomware-hospital
tags: [Ransomware]
---
A ransomware outbreak shut down a hospital network for two days.
""",
    "_posts/2018-05-01-apt28-phishing.md": """---
title: APT28 phishing wave against ministries
date: 2018-05-01
tourl: https://example.net/apt28
tags: [Russia, Phishing]
---
APT28 sent phishing emails to the Ministry of Foreign Affairs.
""",
    "_posts/2018-04-15-watering-hole-in-asia.md": """---
title: Watering hole attacks in Asia
date: 2018-04-15
tourl: http://example.com/watering-hole
tags: [China, Espionage]
---
Websites of government agencies were compromised to serve malware to visitors.
""",
    "_posts/2018-03-01-patch-tuesday.md": """---
title: Patch Tuesday roundup
date: 2018-03-01
tourl: ftp://example.com/patches
tags: [Patches]
---
Microsoft fixed CVE-2018-0802 in Office this month.
""",
}


def write_corpus(root: Path, posts: dict[str, str] | None = None) -> Path:
    """Write the posts below ``root`` (created) and return it."""
    for name, text in (posts if posts is not None else POSTS).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def index_corpus(root: Path) -> None:
    """Index ``root`` for real, before the app starts (so start-up finds nothing to do)."""
    corpus = Corpus.open(root)
    corpus.update()
    close = getattr(corpus, "close", None)
    if callable(close):
        close()


def indexed_posts(tmp_path: Path) -> Path:
    """The six-post corpus in ``tmp_path/posts``, already indexed."""
    root = write_corpus(tmp_path / "posts")
    index_corpus(root)
    return root


@pytest.fixture
def posts_dir(tmp_path: Path) -> Path:
    """The six-post corpus, already indexed."""
    return indexed_posts(tmp_path)


def main_screen(app: SpyglassApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen), screen
    return screen


def post_list(app: SpyglassApp) -> PostList:
    return app.screen.query_one("#posts", PostList)


async def settle(app: SpyglassApp, pilot: Pilot[Any], until: Callable[[], bool] = lambda: True) -> None:
    """Let workers finish and their messages land, until ``until()`` holds (or fail after 10 s)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:  # a newer search replaced an older one: normal, wait for the newer
            continue
        await pilot.pause()
        screen = app.screen
        idle = not isinstance(screen, MainScreen) or (
            screen.result is not None and screen.result.complete and not screen.indexing
        )
        if idle and not any(worker.is_running for worker in app.workers) and until():
            return
        if time.monotonic() > deadline:
            raise AssertionError("the app did not settle")
        await pilot.pause(0.05)


def titles(app: SpyglassApp) -> list[str]:
    """Titles of the listed posts, in order."""
    listed = post_list(app)
    return [row.title for row in main_screen(app).corpus.rows(list(listed.ids))]


def reopen_state() -> TriageState:
    """The user's triage database, opened again as a later run would."""
    return TriageState()


# --------------------------------------------------------------------------------------------- tests


def test_compose_query_and_filter_terms() -> None:
    assert compose_query("", []) == ""
    assert compose_query(" lazarus ", []) == "lazarus"
    assert compose_query("a OR b", [("tag", "China")]) == '(a OR b) tag:"China"'
    assert compose_query("", [("tag", "China"), ("actor", "APT40")]) == 'tag:"China" actor:"APT40"'
    assert filter_term("technique", "T1566.001 Spearphishing Attachment") == "technique:T1566.001"
    assert filter_term("VULN", "CVE-2018-0802") == 'cve:"CVE-2018-0802"'
    assert filter_term("tag", 'say "hi"') == 'tag:"say hi"'
    assert filter_term("IOC", "evil[.]example") == '"evil[.]example"'


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


async def test_sort_toggle(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("S")
        await settle(app, pilot)
        assert main_screen(app).sort == "relevance"
        await pilot.press("S")
        assert main_screen(app).sort == "date"


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
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running
        messages = [str(n.message) for n in app._notifications]
        assert any("[bold red]engine exploded[/]" in m for m in messages), messages


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


async def test_help_lists_the_bindings(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"


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

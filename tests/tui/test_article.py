"""Pilot tests for the article pane: showing posts, walking entities and matches, pivoting."""

from __future__ import annotations

import threading
from collections.abc import Collection
from datetime import datetime
from pathlib import Path

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.notifications import SeverityLevel
from textual.pilot import Pilot
from textual.widgets import Static

import tui.widgets.article as article_module
from index.extract import Mention
from index.posts import Post, PostProblem
from tui.article_render import CURRENT_STYLE
from tui.widgets.article import ArticleView

FILLER = "lorem ipsum dolor sit amet " * 12
BODY = "APT40 used ScanBox.\n\n" + "\n\n".join(f"Paragraph {n}: {FILLER}" for n in range(40))
BODY += "\n\nAt the end, phishing and CVE-2017-11882."
TRAP = "[@click=app.quit]x[/] [bold red]y"


def fake_extract(text: str) -> list[Mention]:
    """A stand-in extractor, so these tests do not follow the real extractor's progress."""
    found = []
    for kind, surface, canonical, ref in (
        ("ACTOR", "APT40", "APT40", ""),
        ("MALWARE", "ScanBox", "ScanBox", ""),
        ("VULN", "CVE-2017-11882", "CVE-2017-11882", "CVE-2017-11882"),
    ):
        start = text.find(surface)
        if start >= 0:
            found.append(Mention(kind, start, start + len(surface), surface, canonical, ref))  # type: ignore[arg-type]
    return sorted(found, key=lambda m: m.start)


def make_post(body: str = BODY, title: str = "Chinese group breaches Cambodian election bodies") -> Post:
    return Post(
        post_id="a.md",
        path=Path("a.md"),
        title=title,
        date=datetime(2018, 7, 11),
        url="https://www.cyberscoop.com/a/",
        source="cyberscoop.com",
        tags=("China",),
        extra={},
        body=body,
    )


class ArticleApp(App[None]):
    def __init__(self, extractor: article_module.Extractor | None = fake_extract) -> None:
        super().__init__()
        self.extractor = extractor
        self.selected: list[ArticleView.EntitySelected] = []
        self.quit_requested = False
        self.notes: list[tuple[str, bool]] = []

    def compose(self) -> ComposeResult:
        yield ArticleView(extractor=self.extractor)

    def on_article_view_entity_selected(self, message: ArticleView.EntitySelected) -> None:
        self.selected.append(message)

    async def action_quit(self) -> None:
        self.quit_requested = True

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        self.notes.append((message, markup))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)


def shown(view: ArticleView, part: str) -> Text:
    content = view.query_one(f"#article-{part}", Static).content
    assert isinstance(content, Text)
    return content


async def show(pilot: Pilot[None], view: ArticleView, post: Post | PostProblem | None, terms: Collection[str]) -> None:
    """Show ``post`` and let its preparation (a thread) land."""
    view.show(post, terms)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def status(view: ArticleView) -> str:
    return str(view.query_one("#article-status", Static).content)


async def test_show_post_then_walk_entities_and_pivot() -> None:
    app = ArticleApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ArticleView)
        await show(pilot, view, make_post(), [])
        view.focus()
        await pilot.pause()
        assert shown(view, "header").plain.startswith("Chinese group breaches")
        assert [m.canonical for m in view.mentions] == ["APT40", "ScanBox", "CVE-2017-11882"]

        await pilot.press("]")
        assert view.current_entity is not None and view.current_entity.canonical == "APT40"
        assert "APT40" in status(view)
        body = shown(view, "body")
        assert any(span.style == CURRENT_STYLE and (span.start, span.end) == (0, 5) for span in body.spans)

        await pilot.press("]", "]", "e")
        await pilot.pause()
        assert [(m.kind, m.canonical, m.ref) for m in app.selected] == [("VULN", "CVE-2017-11882", "CVE-2017-11882")]
        assert view.scroll_y > 0  # the last entity is far down: the pane scrolled to it

        await pilot.press("]")  # wraps to the first
        await pilot.pause()
        assert view.current_entity is not None and view.current_entity.canonical == "APT40"
        await pilot.press("[")
        assert view.current_entity is not None and view.current_entity.canonical == "CVE-2017-11882"


async def test_scrolling_to_an_entity_brings_its_line_into_view() -> None:
    app = ArticleApp()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(ArticleView)
        await show(pilot, view, make_post(), [])
        view.focus()
        await pilot.pause()
        await pilot.press("[")  # the last entity, near the end
        await pilot.pause()
        mention = view.current_entity
        assert mention is not None
        body = view.query_one("#article-body", Static)
        line = body.virtual_region.y + view.line_of(mention.end, body.content_size.width)
        assert view.scroll_y <= line < view.scroll_y + view.scrollable_content_region.height


async def test_search_matches_are_walked_with_braces() -> None:
    app = ArticleApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ArticleView)
        await show(pilot, view, make_post(), {"phish", "scanbox"})  # matched stems, as a search reports them
        view.focus()
        await pilot.pause()
        await pilot.press("}")
        assert "match 1/2" in status(view) and "ScanBox" in status(view)
        await pilot.press("}")
        await pilot.pause()
        assert "match 2/2" in status(view) and "phishing" in status(view)
        assert view.scroll_y > 0
        await pilot.press("{")
        assert "match 1/2" in status(view)
        await pilot.press("e")  # no entity marked: nothing selected, no crash
        await pilot.pause()
        assert app.selected == []


async def test_keys_scroll_and_toggle_legend() -> None:
    app = ArticleApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ArticleView)
        await show(pilot, view, make_post(), [])
        view.focus()
        await pilot.pause()
        legend = view.query_one("#article-legend", Static)
        assert not legend.display
        await pilot.press("l")
        await pilot.pause()
        assert legend.display and "actor" in str(legend.content)
        await pilot.press("l", "j", "j")
        await pilot.pause()
        assert not legend.display
        assert view.scroll_y == 2
        await pilot.press("k")
        await pilot.pause()
        assert view.scroll_y == 1
        await pilot.press("space")
        await pilot.pause()
        assert view.scroll_y > 10


async def test_untrusted_title_and_body_show_literally() -> None:
    app = ArticleApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ArticleView)
        await show(pilot, view, make_post(body=f"{TRAP} \x1b]0;title\x07 APT40", title=TRAP), [])
        await pilot.pause()
        assert shown(view, "header").plain.startswith(TRAP)
        assert shown(view, "body").plain.startswith(TRAP + " ␛]0;title␇")
        await pilot.click(ArticleView, offset=(3, 0))
        await pilot.pause()
        assert not app.quit_requested
        assert "[@click=app.quit]x[/]" in app.export_screenshot().replace("&#160;", " ")


async def test_problem_and_empty_states() -> None:
    app = ArticleApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ArticleView)
        await pilot.pause()
        assert "No post selected" in shown(view, "header").plain
        await show(pilot, view, PostProblem(f"posts/{TRAP}.md", f"bad YAML {TRAP}", 3, 7), [])
        await pilot.pause()
        header = shown(view, "header").plain
        assert f"posts/{TRAP}.md:3:7" in header and f"bad YAML {TRAP}" in header
        await pilot.press("]", "}", "e")
        assert app.selected == []
        await show(pilot, view, None, [])
        await pilot.pause()
        assert "No post selected" in shown(view, "header").plain


async def test_long_post_is_extracted_in_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(article_module, "LONG_POST", 10)
    app = ArticleApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ArticleView)
        await show(pilot, view, make_post(), [])
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [m.canonical for m in view.mentions] == ["APT40", "ScanBox", "CVE-2017-11882"]
        assert "Actors" in shown(view, "header").plain


@pytest.mark.parametrize("limit", [article_module.LONG_POST, 10])
async def test_a_failing_extractor_is_a_notification_not_a_crash(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    monkeypatch.setattr(article_module, "LONG_POST", limit)

    def broken(text: str) -> list[Mention]:
        raise RuntimeError("[bold]boom[/]")

    app = ArticleApp(extractor=broken)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ArticleView)
        await show(pilot, view, make_post(), [])
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert shown(view, "body").plain.startswith("APT40 used ScanBox.")
        assert view.mentions == []
        assert any("[bold]boom[/]" in message and not markup for message, markup in app.notes)


async def test_a_first_knowledge_load_runs_off_the_ui_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first load of the entity knowledge can take seconds (a fresh cache is built from the galaxies):
    a short post shown before it is loaded is prepared in a thread, so keys such as ``q`` are not kept
    waiting, and its entities still arrive."""
    import index.knowledge as knowledge
    import index.knowledge.disk as disk

    real_load = disk.load_knowledge
    loaded_on: list[bool] = []

    def load_and_say_where() -> knowledge.Knowledge:
        loaded_on.append(threading.current_thread() is threading.main_thread())
        return real_load()

    monkeypatch.setattr(knowledge, "_loaded", [])
    monkeypatch.setattr(disk, "load_knowledge", load_and_say_where)
    app = ArticleApp(extractor=None)  # the app's own: index.extract with the process-wide knowledge
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ArticleView)
        view.show(make_post(body="APT40 sent spear-phishing emails to engineering firms."), [])
        await pilot.pause()
        for _ in range(500):
            if view.mentions:
                break
            await pilot.pause(0.02)
        assert loaded_on == [False]
        assert "APT40" in [mention.canonical for mention in view.mentions]
        assert knowledge.knowledge_loaded()


async def test_a_short_post_is_prepared_off_the_ui_thread() -> None:
    """Finding entities costs every search that brings a new first post: it never runs on the UI thread."""
    threads: list[bool] = []

    def extractor(text: str) -> list[Mention]:
        threads.append(threading.current_thread() is threading.main_thread())
        return fake_extract(text)

    app = ArticleApp(extractor=extractor)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ArticleView)
        await show(pilot, view, make_post(body="APT40 used ScanBox."), [])
        assert threads == [False]
        assert [m.canonical for m in view.mentions] == ["APT40", "ScanBox"]
        assert shown(view, "body").plain == "APT40 used ScanBox."


async def test_a_stale_preparation_is_dropped() -> None:
    """A post replaced while its preparation runs never reaches the pane, even if it finishes last."""
    release = threading.Event()

    def extractor(text: str) -> list[Mention]:
        if text.startswith("Old"):
            release.wait(5)
        return fake_extract(text)

    app = ArticleApp(extractor=extractor)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ArticleView)
        view.show(make_post(body="Old post about APT40.", title="Old"), [])
        await pilot.pause()
        view.show(make_post(body="New post about ScanBox.", title="New"), [])
        for _ in range(250):  # the new post lands while the old one is still held
            if shown(view, "body").plain.startswith("New"):
                break
            await pilot.pause(0.02)
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert shown(view, "body").plain == "New post about ScanBox."
        assert "New" in shown(view, "header").plain and "Old" not in shown(view, "header").plain
        assert [m.canonical for m in view.mentions] == ["ScanBox"]

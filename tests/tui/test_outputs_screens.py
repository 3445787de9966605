"""Pilot tests of the dossier screen and the export prompt on the hand-counted corpus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from index.corpus import Corpus
from tests.export_corpus import write_corpus
from tests.tui.helpers import screen_lines, workers_done
from tests.tui.helpers import settle as settle_app
from tui.app import SpyglassApp
from tui.screens.dossier import DossierChoice, DossierScreen
from tui.screens.export import ExportScreen
from tui.screens.main import MainScreen
from tui.screens.prompts import ConfirmScreen
from tui.widgets.article import ArticleView
from tui.widgets.search_bar import SearchBar
from tui.widgets.sidebar import Sidebar


class HostApp(App[None]):
    """A bare app that records what the pushed screen returns."""

    def __init__(self) -> None:
        super().__init__()
        self.results: list[object] = []

    def compose(self) -> ComposeResult:
        yield Static("host")

    def record(self, value: object) -> None:
        self.results.append(value)


@pytest.fixture
def corpus(tmp_path: Path) -> Corpus:
    opened = Corpus.open(write_corpus(tmp_path / "posts"), tmp_path / "index")
    opened.update()
    return opened


def screen_text(app: App[Any]) -> str:
    return "\n".join(screen_lines(app))


async def settle(app: App[Any], pilot: Pilot[Any]) -> None:
    await workers_done(app)
    await pilot.pause()


async def test_dossier_screen_shows_counts_and_opens_a_post(corpus: Corpus) -> None:
    app = HostApp()
    async with app.run_test(size=(160, 50)) as pilot:
        app.push_screen(DossierScreen(corpus, "Leviathan"), app.record)
        await settle(app, pilot)
        text = screen_text(app)
        assert "APT40" in text and "Attributed to: China" in text and "2018-07-11 to 2018-09-01 in 3 posts" in text
        assert "PlugX 2" in text and "Cambodia 2" in text and "T1566.001 Spearphishing Attachment 2" in text
        assert "\x1b" not in text and "␛" in text  # the hostile title is listed, made visible
        posts = app.screen.query_one("#dossier-posts", OptionList)
        assert posts.has_focus and posts.option_count == 3
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.results == [DossierChoice(post_id="2018-08-02-b.md")]


async def test_dossier_pivots_to_a_related_entity_and_searches(corpus: Corpus) -> None:
    app = HostApp()
    async with app.run_test(size=(160, 50)) as pilot:
        app.push_screen(DossierScreen(corpus, "APT40", "ACTOR"), app.record)
        await settle(app, pilot)
        related = app.screen.query_one("#dossier-related", OptionList)
        related.focus()
        prompts = [str(related.get_option_at_index(i).prompt) for i in range(related.option_count)]
        related.highlighted = next(i for i, prompt in enumerate(prompts) if prompt.startswith("PlugX"))
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, DossierScreen) and app.screen.dossier is not None
        assert app.screen.dossier.kind == "MALWARE" and app.screen.dossier.name == "PlugX"
        await pilot.press("escape")  # back to APT40's dossier
        await pilot.pause()
        assert isinstance(app.screen, DossierScreen) and app.screen.entity_name == "APT40"
        await pilot.press("s")  # PlugX is still under the cursor: search for it
        await pilot.pause()
        assert app.results == [DossierChoice(entity=("MALWARE", "PlugX"))]


async def test_dossier_of_an_unknown_name(corpus: Corpus) -> None:
    app = HostApp()
    async with app.run_test(size=(120, 30)) as pilot:
        app.push_screen(DossierScreen(corpus, "[bold]nothing[/] like this"), app.record)
        await settle(app, pilot)
        assert "No actor, victim, technique or malware is known as [bold]nothing[/] like this" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]


async def choose(pilot: Pilot[Any], app: App[Any], fmt_index: int, path: Path) -> None:
    for _ in range(fmt_index):
        await pilot.press("down")
    await pilot.press("enter")  # the format; focus moves to the file box
    box = app.screen.query_one("#export-path", Input)
    assert box.has_focus
    box.value = str(path)
    await pilot.press("enter")


async def test_export_prompt_writes_the_results(corpus: Corpus, tmp_path: Path) -> None:
    app = HostApp()
    target = tmp_path / "apt40.layer.json"
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(ExportScreen(corpus, "actor:APT40"), app.record)
        await pilot.pause()
        assert "Export the results of actor:APT40" in screen_text(app)
        suggested = app.screen.query_one("#export-path", Input).value
        await pilot.press("down")  # the navigator layer; the suggested name follows the format
        assert app.screen.query_one("#export-path", Input).value.endswith(".layer.json")
        assert suggested.endswith(".json") and "spyglass-stix-" in suggested
        await pilot.press("up")
        await choose(pilot, app, 1, target)
        await settle(app, pilot)
    assert app.results == [f"Wrote 2 techniques from 3 posts to {target}"]
    assert {entry["techniqueID"] for entry in json.loads(target.read_text(encoding="utf-8"))["techniques"]} == {
        "T1566.001",
        "T1203",
    }


async def test_export_prompt_asks_before_replacing(corpus: Corpus, tmp_path: Path) -> None:
    app = HostApp()
    target = tmp_path / "brief.md"
    target.write_text("keep me", encoding="utf-8")
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(ExportScreen(corpus, ""), app.record)
        await pilot.pause()
        await choose(pilot, app, 3, target)
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(app, pilot)
        assert target.read_text(encoding="utf-8") == "keep me" and app.results == []
        await pilot.press("enter")  # the file box again: this time say yes
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
    assert app.results == [f"Wrote 4 post paragraphs from 4 posts to {target}"]
    assert target.read_text(encoding="utf-8").startswith("# Spyglass brief")


async def test_export_prompt_for_the_open_post_and_cancel(corpus: Corpus, tmp_path: Path) -> None:
    app = HostApp()
    target = tmp_path / "one.csv"
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(ExportScreen(corpus, "", post_id="2019-01-15-c.md"), app.record)
        await pilot.pause()
        assert "Export the open post (2019-01-15-c.md)" in screen_text(app)
        await choose(pilot, app, 2, target)
        await settle(app, pilot)
        app.push_screen(ExportScreen(corpus, ""), app.record)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [f"Wrote 1 rows from 1 posts to {target}", None]
    assert "Lazarus steals from banks" in target.read_text(encoding="utf-8")


async def test_main_screen_opens_the_dossier_and_the_export_prompt(tmp_path: Path) -> None:
    posts = write_corpus(tmp_path / "posts")
    Corpus.open(posts).update()
    app = SpyglassApp.for_folder(posts)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle_app(app, pilot)
        await pilot.press("d")  # the list has focus and no entity is under the cursor: a hint, no screen
        assert isinstance(app.screen, MainScreen)
        sidebar = app.screen.query_one(Sidebar)
        sidebar.focus()
        await pilot.press("2")  # the first actor: APT40, in three posts
        assert sidebar.highlighted_filter == ("actor", "APT40")
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, DossierScreen) and app.screen.dossier is not None
        assert app.screen.dossier.name == "APT40" and len(app.screen.dossier.posts) == 3
        await pilot.press("down", "down", "enter")  # the oldest post opens in the article
        await settle_app(app, pilot)
        assert isinstance(app.screen, MainScreen) and isinstance(app.focused, ArticleView)
        shown = app.focused.post
        assert shown is not None and shown.post_id == "2018-07-11-a.md"
        await pilot.press("E")  # the article has focus: the open post
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen) and app.screen.post_id == "2018-07-11-a.md"
        await pilot.press("escape")
        await pilot.pause()
        sidebar.focus()
        await pilot.press("2", "d")
        await settle(app, pilot)
        await pilot.press("s")  # search for APT40 from its dossier
        await settle_app(app, pilot)
        assert app.screen.query_one(SearchBar).value == 'actor:"APT40"'
        await pilot.press("E")  # the list has focus: the results
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen) and app.screen.post_id is None
        assert app.screen.search_query == 'actor:"APT40"'

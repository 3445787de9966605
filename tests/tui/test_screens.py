"""Pilot tests for the modal screens and the command palette provider."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path
from typing import Any, ClassVar

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.command import CommandPalette, DiscoveryHit, Hit
from textual.content import Content
from textual.widgets import Static

from index.posts import PostProblem, scan_corpus
from tui.app import SpyglassApp
from tui.commands import COMMON_QUERIES, SearchRequested, SpyglassCommands
from tui.key_help import panes
from tui.keymap import config_path
from tui.query_help import QUERY_CHEATSHEET, markdown_table, plain_text
from tui.screens.help import HelpScreen
from tui.screens.problems import ProblemsScreen, problems_text
from tui.screens.prompts import ConfirmScreen, NoteScreen, TagsScreen

TRAP = "[@click=app.quit]x[/] [bold red]y [[nested]]"


class HostApp(App[None]):
    """A bare app that records what screens return and what the palette asks for."""

    COMMANDS: ClassVar[set[Any]] = {SpyglassCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "star", "Star post", id="star"),
        Binding("x", "hidden", ""),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.results: list[object] = []
        self.searches: list[str] = []
        self.stars = 0
        self.quit_requested = False

    def compose(self) -> ComposeResult:
        yield Static("host")

    def record(self, value: object) -> None:
        self.results.append(value)

    def action_star(self) -> None:
        self.stars += 1

    async def action_quit(self) -> None:
        self.quit_requested = True

    def on_search_requested(self, message: SearchRequested) -> None:
        self.searches.append(message.query)


def screen_text(app: App[Any]) -> str:
    """The characters on screen, row after row (text nodes of the SVG screenshot, joined)."""
    svg = app.export_screenshot()
    body = svg[svg.index("<g class") :]
    return html.unescape("".join(re.findall(r">([^<]*)<", body))).replace("\xa0", " ")


# --- prompts ------------------------------------------------------------------------------


@pytest.mark.parametrize(("keys", "expected"), [("y", True), ("enter", True), ("n", False), ("escape", False)])
async def test_confirm_screen_answers(keys: str, expected: bool) -> None:
    app = HostApp()
    async with app.run_test() as pilot:
        app.push_screen(ConfirmScreen(f"Archive 3 posts? {TRAP}"), app.record)
        await pilot.pause()
        assert TRAP in screen_text(app)
        await pilot.press(keys)
        await pilot.pause()
        assert app.results == [expected]
        assert not isinstance(app.screen, ConfirmScreen)


async def test_confirm_screen_buttons() -> None:
    app = HostApp()
    async with app.run_test() as pilot:
        app.push_screen(ConfirmScreen("Sure?"), app.record)
        await pilot.pause()
        await pilot.click("#confirm-no")
        await pilot.pause()
        assert app.results == [False]


async def test_confirm_screen_defaulting_to_no_answers_no_on_enter() -> None:
    app = HostApp()
    async with app.run_test() as pilot:
        app.push_screen(ConfirmScreen("Archive 300 posts?", default=False), app.record)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        app.push_screen(ConfirmScreen("Archive 300 posts?", default=False), app.record)
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.results == [False, True]


async def test_note_editor_takes_several_lines_and_escape_keeps_the_note() -> None:
    app = HostApp()
    async with app.run_test() as pilot:
        app.push_screen(NoteScreen(f"first {TRAP}"), app.record)
        await pilot.pause()
        assert TRAP in screen_text(app)
        await pilot.press("enter", *"s[x]", "ctrl+s")  # typing "s" must not star: the editor has focus
        await pilot.pause()
        app.push_screen(NoteScreen("kept"), app.record)
        await pilot.pause()
        await pilot.press("a", "escape")
        await pilot.pause()
        assert app.results == [f"first {TRAP}\ns[x]", None]
        assert app.stars == 0


async def test_tags_screen_lists_the_tags_removes_unticked_and_adds_typed() -> None:
    app = HostApp()
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(TagsScreen(["apt", TRAP], known=["apt", "banks"]), app.record)
        await pilot.pause()
        text = screen_text(app)
        assert TRAP in text and "apt" in text and "banks" in text
        await pilot.press(*"new one, s", "shift+tab", "down", "space", "tab", "enter")
        await pilot.pause()
        app.push_screen(TagsScreen([]), app.record)
        await pilot.pause()
        await pilot.press("a", "escape")
        await pilot.pause()
        assert app.results == [(["new one", "s"], [TRAP]), None]
        assert app.stars == 0


# --- help and problems --------------------------------------------------------------------


async def test_help_screen_lists_bindings_legend_and_queries() -> None:
    app = HostApp()
    async with app.run_test(size=(100, 50)) as pilot:
        app.push_screen(HelpScreen([("List", [("s", "Star post", "triage.star"), ("[", TRAP, "x")])]), app.record)
        await pilot.pause()
        text = screen_text(app)
        assert "Star post" in text and "triage.star" in text and "Keys: List" in text
        assert TRAP in text
        assert "actor" in text and "technique" in text  # legend
        assert "tag:china" in text and "date:[2018-01 to 2018-06]" in text
        await pilot.press("question_mark")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        assert not app.quit_requested


@pytest.mark.parametrize("key", ["escape", "q"])
async def test_help_screen_closes(key: str) -> None:
    app = HostApp()
    async with app.run_test() as pilot:
        app.push_screen(HelpScreen([]))
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        assert not app.quit_requested


async def test_problems_screen_shows_untrusted_text_literally() -> None:
    problems = [
        PostProblem(f"_posts/{TRAP}.md", f"malformed YAML: {TRAP}", 3, 14),
        PostProblem("evil\x1b]0;pwned\x07.md", "binary content, not text"),
        PostProblem("ok.md", "no date", skipped=False),
    ]
    plain = problems_text(problems).plain
    assert f"_posts/{TRAP}.md:3:14: malformed YAML: {TRAP}" in plain
    assert "\x1b" not in plain and "evil␛]0;pwned␇.md: binary content, not text" in plain
    assert "ok.md: no date (loaded)" in plain
    app = HostApp()
    async with app.run_test(size=(200, 30)) as pilot:
        app.push_screen(ProblemsScreen(problems))
        await pilot.pause()
        text = screen_text(app)
        assert f"malformed YAML: {TRAP}" in text
        assert "2 skipped, 1 with notes" in text
        await pilot.click(offset=(20, 5))
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ProblemsScreen)
        assert not app.quit_requested


def test_many_problems_are_capped() -> None:
    plain = problems_text([PostProblem(f"{n}.md", "bad") for n in range(2500)]).plain
    assert plain.endswith("… and 500 more")


# --- command palette ----------------------------------------------------------------------


async def collect(provider: SpyglassCommands, query: str) -> list[Hit | DiscoveryHit]:
    await provider.startup()
    source = provider.search(query) if query else provider.discover()
    return [hit async for hit in source]


def prompt_plain(hit: Hit | DiscoveryHit) -> str:
    prompt = hit.prompt
    assert isinstance(prompt, Content)
    return prompt.plain


async def test_palette_offers_bound_actions_and_runs_them() -> None:
    app = HostApp()
    async with app.run_test() as pilot:
        provider = SpyglassCommands(app.screen)
        hits = await collect(provider, "star")
        assert prompt_plain(hits[0]) == "Star post"
        assert hits[0].help == "key: s"
        result = hits[0].command()
        if result is not None:
            await result
        assert app.stars == 1
        discovered = [prompt_plain(hit) for hit in await collect(provider, "")]
        assert "Star post" in discovered
        assert "" not in discovered  # bindings without a description are not offered
        assert [f"Search: {query}" for query in COMMON_QUERIES] == [t for t in discovered if t.startswith("Search:")]
        await pilot.pause()


async def test_palette_search_hits_post_search_requested() -> None:
    app = HostApp()
    async with app.run_test() as pilot:
        hits = await collect(SpyglassCommands(app.screen), "unread")
        assert prompt_plain(hits[0]) == "Search: is:unread"
        hits[0].command()
        await pilot.pause()
        assert app.searches == ["is:unread"]


async def test_saved_queries_are_plain_text_in_the_palette() -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[queries]\n"{TRAP}" = "date:[2018-01 to 2018-06] actor:APT40"\n', encoding="utf-8")
    app = HostApp()
    async with app.run_test(size=(100, 30)) as pilot:
        hits = await collect(SpyglassCommands(app.screen), "click")
        assert prompt_plain(hits[0]) == f"Search: {TRAP} = date:[2018-01 to 2018-06] actor:APT40"
        # Through the real palette: typing, highlighting and choosing the hit never runs app.quit.
        app.action_command_palette()
        await pilot.pause()
        await pilot.press(*"click")
        await pilot.pause(0.5)
        assert TRAP in screen_text(app)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, CommandPalette) and not app.quit_requested
        assert app.searches == ["date:[2018-01 to 2018-06] actor:APT40"]


def test_readme_query_table_is_the_cheat_sheet() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme
    assert plain_text().count("\n") == len(QUERY_CHEATSHEET) - 1 + sum(
        1 for examples, _ in QUERY_CHEATSHEET if len("  ".join(examples)) > 40
    )


def test_a_file_name_that_is_not_utf8_shows_one_placeholder_per_bad_byte(tmp_path: Path) -> None:
    (tmp_path / os.fsdecode(b"junk-\xff.md")).write_bytes(b"\x00binary")
    (found,) = scan_corpus(tmp_path)
    shown = problems_text([PostProblem(found.post_id, "binary")]).plain
    assert "junk-\ufffd.md" in shown


#: How the README writes the keys whose Textual names are words.
_README_KEY = {
    "slash": "/", "question_mark": "?", "escape": "esc", "right_square_bracket": "]", "left_square_bracket": "[",
    "right_curly_bracket": "}", "left_curly_bracket": "{",
}  # fmt: skip
#: Keys the README names as a group instead of one by one.
_GROUPED = {"up", "down", "pageup", "pagedown", "home", "end", "left", "right"}


def _readme_keys_table() -> str:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Keys")
    return readme[start : readme.index("\n## ", start + 1)]


def test_readme_keys_table_lists_every_key_of_the_main_panes() -> None:
    documented = set(re.findall(r"`([^`]+)`", _readme_keys_table()))
    for title, bindings in panes(SpyglassApp.BINDINGS):
        if title not in {"Everywhere", "Main screen", "Post list", "Article", "Sidebar"}:
            continue
        for binding in bindings:
            if not binding.description or binding.system:
                continue
            for key in (part.strip() for part in binding.key.split(",")):
                if key in _GROUPED:
                    continue
                shown = _README_KEY.get(key, key)
                assert shown in documented, f"README's key table does not mention {shown!r} ({binding.id})"

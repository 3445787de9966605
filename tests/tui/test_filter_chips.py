"""The filter chips under the search box: shown per active filter, wrapped whole, literal text, and
removed by a click or a key, after which the screen searches again and the sidebar follows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult

from tests.tui.helpers import main_screen, post_list, screen_lines, settle
from tui.app import SpyglassApp
from tui.widgets.filter_chips import FilterChips, chip_label
from tui.widgets.sidebar import Filter, Sidebar

TRAP = "[@click=app.quit]x[/] [bold red]y\x1b]0;title\x07"


class ChipsApp(App[None]):
    """The chip row alone, recording what it asks for."""

    def __init__(self, filters: tuple[Filter, ...]) -> None:
        super().__init__()
        self.filters = filters
        self.removed: list[Filter] = []
        self.quit_requested = False

    def compose(self) -> ComposeResult:
        yield FilterChips(id="chips")

    def on_mount(self) -> None:
        self.query_one(FilterChips).show(self.filters)

    def on_filter_chips_removed(self, message: FilterChips.Removed) -> None:
        self.removed.append(message.filter)
        self.filters = tuple(f for f in self.filters if f != message.filter)  # what the main screen does
        self.query_one(FilterChips).show(self.filters)

    async def action_quit(self) -> None:
        self.quit_requested = True


def chip_rows(app: App[Any]) -> list[str]:
    """The lines of the screen the chips take, without trailing blanks."""
    chips = app.screen.query_one(FilterChips)
    lines = [line for line in screen_lines(app) if line != app.title]  # the export's window title is a line too
    return [line.rstrip() for line in lines[chips.region.y : chips.region.bottom]]


def test_labels_say_the_field_the_user_would_type() -> None:
    assert chip_label("tag", "China") == "tag:China"
    assert chip_label("actor", "APT40") == "actor:APT40"
    assert chip_label("own_tag", "todo") == "my tag:todo"
    assert chip_label("tag", "a\x1bb") == "tag:a␛b"


def test_a_technique_chip_shows_the_name_the_sidebar_shows() -> None:
    assert chip_label("technique", "T1566.001") == "technique:T1566.001 Spearphishing Attachment"
    assert chip_label("technique", "T9999") == "technique:T9999"  # unknown: the ID alone
    assert chip_label("actor", "T1486") == "actor:T1486"  # only techniques are named


async def test_a_technique_chip_reads_by_name_and_its_text_stays_literal() -> None:
    app = ChipsApp((("technique", "T1486"), ("technique", "[b]T1[/b]")))
    async with app.run_test(size=(80, 6)):
        (row,) = chip_rows(app)
        assert "technique:T1486 Data Encrypted for Impact ×" in row
        assert "technique:[b]T1[/b] ×" in row


async def test_no_filters_no_row() -> None:
    app = ChipsApp(())
    async with app.run_test(size=(60, 10)):
        chips = app.query_one(FilterChips)
        assert not chips.display and chips.region.height == 0


async def test_chips_wrap_whole_and_a_long_one_is_cut() -> None:
    filters = (*(("tag", f"tag number {n}") for n in range(6)), ("actor", "A" * 80))
    app = ChipsApp(filters)
    async with app.run_test(size=(40, 12)):
        rows = chip_rows(app)
        assert len(rows) > 2  # wrapped, not cut off or scrolled away
        text = "\n".join(rows)
        for n in range(6):
            assert f"tag:tag number {n} ×" in text  # each chip whole, on one line
        assert rows[-1].strip().startswith("actor:AAAA") and rows[-1].rstrip().endswith("… ×")
        assert all(len(row) <= 40 for row in rows)


async def test_post_text_shows_literally_and_a_click_never_runs_it() -> None:
    app = ChipsApp((("tag", TRAP),))
    async with app.run_test(size=(80, 6)) as pilot:
        (row,) = chip_rows(app)
        assert "tag:[@click=app.quit]x[/] [bold red]y␛]0;title␇ ×" in row
        await pilot.click(FilterChips, offset=(3, 0))
        await pilot.pause()
        assert not app.quit_requested
        assert app.removed == [("tag", TRAP)]


async def test_a_click_removes_the_chip_under_it_and_only_on_a_chip() -> None:
    app = ChipsApp((("tag", "China"), ("actor", "APT40")))
    async with app.run_test(size=(80, 6)) as pilot:
        (row,) = chip_rows(app)
        await pilot.click(FilterChips, offset=(row.index("actor:") + 1, 0))
        await pilot.pause()
        assert app.removed == [("actor", "APT40")]
        assert app.query_one(FilterChips).filters == (("tag", "China"),)
        await pilot.click(FilterChips, offset=(70, 0))  # beside the chips: nothing
        await pilot.pause()
        assert app.removed == [("actor", "APT40")]


async def test_keys_pick_a_chip_and_remove_it_even_when_typed_ahead() -> None:
    app = ChipsApp((("tag", "a"), ("tag", "b"), ("tag", "c"), ("tag", "d")))
    async with app.run_test(size=(80, 6)) as pilot:
        app.query_one(FilterChips).focus()
        await pilot.press("right", "right", "left")
        await pilot.press("backspace", "delete")  # the second key takes the next chip, not the same one again
        await pilot.pause()
        assert app.removed == [("tag", "b"), ("tag", "c")]
        await pilot.press("right", "right", "backspace", "backspace", "backspace")  # more keys than chips
        await pilot.pause()
        assert app.removed == [("tag", "b"), ("tag", "c"), ("tag", "d"), ("tag", "a")]


# ---------------------------------------------------------------------------------- in the app


def ticked(app: SpyglassApp) -> list[str]:
    """Sidebar lines with an active mark."""
    sidebar = main_screen(app).sidebar
    return [line[: sidebar.region.width].strip() for line in screen_lines(app) if line.startswith("✓")]


@pytest.mark.slow
async def test_a_sidebar_filter_becomes_a_chip_and_clicking_it_searches_again(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        chips = app.screen.query_one(FilterChips)
        assert not chips.display
        await pilot.press("shift+tab", "down", "enter")  # the first tag: China
        await settle(app, pilot, lambda: len(post_list(app).ids) == 2)
        assert main_screen(app).filters == (("tag", "China"),)
        assert chip_rows(app)[0].split("▕")[-1].split("▏")[0].strip() == "tag:China ×"
        assert any(line.startswith("✓ China") for line in ticked(app))
        await pilot.click("#chips", offset=(2, 0))
        await settle(app, pilot, lambda: len(post_list(app).ids) == 6)
        assert main_screen(app).filters == ()
        assert not chips.display
        assert ticked(app) == []


@pytest.mark.slow
async def test_backspace_removes_the_last_filter_and_the_row_takes_keys(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        screen = main_screen(app)
        screen.filters = (("tag", "China"), ("tag", "Espionage"), ("tag", "Ransomware"))
        await settle(app, pilot)
        assert len(post_list(app).ids) == 0
        await pilot.press("backspace")  # on the list: the newest filter goes
        await settle(app, pilot, lambda: len(post_list(app).ids) == 1)
        assert main_screen(app).filters == (("tag", "China"), ("tag", "Espionage"))
        await pilot.press("shift+tab")  # the chip row sits between the sidebar and the list
        assert isinstance(app.focused, FilterChips)
        await pilot.press("delete")  # the picked (first) chip
        await settle(app, pilot, lambda: len(post_list(app).ids) == 1)
        assert main_screen(app).filters == (("tag", "Espionage"),)
        await pilot.press("backspace")  # the last chip: the row hides and the list has the keys again
        await settle(app, pilot, lambda: len(post_list(app).ids) == 6)
        assert main_screen(app).filters == ()
        assert post_list(app).has_focus
        assert isinstance(screen.sidebar, Sidebar) and ticked(app) == []


async def test_backspace_in_an_empty_search_box_removes_the_newest_filter(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        screen = main_screen(app)
        two: tuple[Filter, ...] = (("tag", "China"), ("tag", "Espionage"))
        screen.filters = two
        await settle(app, pilot)
        await pilot.press("slash", "backspace")  # the box is empty: the newest filter goes
        await settle(app, pilot)
        assert screen.filters == (("tag", "China"),)
        assert screen.search_bar.input.has_focus  # still typing
        await pilot.press("x", "y", "backspace")  # with text, backspace edits it
        assert screen.search_bar.value == "x"
        await pilot.press("backspace")
        await settle(app, pilot)
        assert screen.search_bar.value == "" and screen.filters == (("tag", "China"),)
        await pilot.press("backspace")
        await settle(app, pilot, lambda: len(post_list(app).ids) == 6)
        assert not screen.filters
        await pilot.press("backspace")  # no filter left: nothing happens
        assert not screen.filters and screen.search_bar.input.has_focus

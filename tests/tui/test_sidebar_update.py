"""A new search's facets change only the sidebar entries whose name or counts moved: the options stay, and
so do the cursor and the scroll position."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.pilot import Pilot

from tests.tui.helpers import screen_lines
from tui.widgets.sidebar import Sidebar


class SidebarApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Sidebar(id="sidebar")


def tags(counts: dict[str, int]) -> dict[str, list[tuple[str, int]]]:
    return {"tag": list(counts.items()), "actor": [("APT40", 3), ("APT41", 2)]}


TAGS = {f"tag{n:02}": 100 - n for n in range(40)}


async def on_tag20(app: SidebarApp, pilot: Pilot[None]) -> tuple[Sidebar, float]:
    """The sidebar showing TAGS, focused, with its cursor on tag20 (scrolled down to it), and its scroll."""
    sidebar = app.query_one(Sidebar)
    sidebar.show_facets(tags(TAGS))
    await pilot.pause()
    sidebar.focus()
    sidebar.highlighted = sidebar.get_option_index("tag:20")
    await pilot.pause()
    return sidebar, sidebar.scroll_y


async def test_same_entries_new_counts_redraw_only_the_changed_ones() -> None:
    app = SidebarApp()
    async with app.run_test(size=(40, 12)) as pilot:
        sidebar, scroll = await on_tag20(app, pilot)
        assert scroll > 0
        before = list(sidebar.options)
        prompts = [option.prompt for option in before]

        moved = dict(TAGS, tag20=7, tag21=6)
        sidebar.show_facets(tags(moved))
        await pilot.pause()

        after = list(sidebar.options)
        assert all(old is new for old, new in zip(before, after, strict=True))  # no option replaced
        changed = [n for n, option in enumerate(after) if option.prompt is not prompts[n]]
        assert changed == [sidebar.get_option_index("tag:20"), sidebar.get_option_index("tag:21")]
        assert sidebar.highlighted_filter == ("tag", "tag20")
        assert sidebar.scroll_y == scroll
        assert any("tag20" in line and " 7" in line for line in screen_lines(app))  # on screen, not only held


async def test_a_different_set_keeps_the_cursor_on_its_entry_and_the_scroll() -> None:
    app = SidebarApp()
    async with app.run_test(size=(40, 12)) as pilot:
        sidebar, scroll = await on_tag20(app, pilot)

        fewer = {name: count for name, count in TAGS.items() if name != "tag39"}
        sidebar.show_facets(tags(fewer))
        await pilot.pause()
        assert sidebar.highlighted_filter == ("tag", "tag20")
        assert sidebar.scroll_y == scroll
        assert [option.id for option in sidebar.options if (option.id or "").startswith("actor:")] == [
            "actor:head",
            "actor:0",
            "actor:1",
        ]

"""The list and the sidebar redraw their scrollbars only when their own size or length changes."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import RenderableType
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input

from tui.widgets.post_list import PostList
from tui.widgets.sidebar import Sidebar
from tui.widgets.steady_scrollbar import SteadyScrollbar


class Views(App[None]):
    CSS = "Sidebar { height: 10; } PostList { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield Input(id="box")
        yield Sidebar(id="sidebar")
        yield PostList(id="posts")


def fill(app: Views, length: int) -> None:
    app.query_one(PostList).set_ids([f"p{number}" for number in range(length)])
    app.query_one(Sidebar).show_facets({"tag": [(f"tag {number}", length - number) for number in range(length // 10)]})


async def drawn_scrollbars(app: Views, pilot: Pilot[None], change: str) -> dict[str, int]:
    """How often each view's vertical scrollbar draws itself while the app takes in ``change``."""
    drawn: dict[str, int] = {}
    views: tuple[SteadyScrollbar, ...] = (app.query_one(Sidebar), app.query_one(PostList))
    for view in views:
        bar = view.vertical_scrollbar
        name = str(view.id)
        drawn[name] = 0

        def counted(render: Callable[[], RenderableType] = bar.render, name: str = name) -> RenderableType:
            drawn[name] += 1
            return render()

        bar.render = counted  # type: ignore[method-assign]
    if change == "layout elsewhere":
        app.query_one(Input).value = "a new query"
    else:
        fill(app, 2_000)
    await pilot.pause()
    return drawn


async def test_a_layout_elsewhere_leaves_the_scrollbars_alone() -> None:
    app = Views()
    async with app.run_test(size=(100, 30)) as pilot:
        fill(app, 300)
        await pilot.pause()
        assert all(view.show_vertical_scrollbar for view in (app.query_one(Sidebar), app.query_one(PostList)))
        assert await drawn_scrollbars(app, pilot, "layout elsewhere") == {"sidebar": 0, "posts": 0}


async def test_a_longer_list_redraws_its_scrollbar() -> None:
    app = Views()
    async with app.run_test(size=(100, 30)) as pilot:
        fill(app, 300)
        await pilot.pause()
        drawn = await drawn_scrollbars(app, pilot, "longer")
        assert drawn["sidebar"] > 0
        assert drawn["posts"] > 0


async def test_a_new_length_is_drawn_once_not_again_at_the_next_layout() -> None:
    """The list hands its scrollbar a new length itself; the next layout (a new title, a new post in the
    article) brings nothing new for the list and must not draw its scrollbar a second time."""
    app = Views()
    async with app.run_test(size=(100, 30)) as pilot:
        fill(app, 300)
        await pilot.pause()
        app.query_one(PostList).set_ids([f"p{number}" for number in range(2_000)])
        await pilot.pause()
        assert (await drawn_scrollbars(app, pilot, "layout elsewhere"))["posts"] == 0

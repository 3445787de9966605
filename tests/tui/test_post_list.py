"""The virtual post list on its own: 100k ids at once, rows fetched only for what is on screen."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widgets import Input

from index.corpus import PostRow
from tui.widgets.post_list import Marks, PostList


def make_row(post_id: str, title: str | None = None) -> PostRow:
    return PostRow(
        post_id=post_id,
        title=title if title is not None else f"Post {post_id}",
        date=datetime(2018, 7, 11),
        url="https://example.com/x",
        source="example.com",
        tags=(),
        actors=(),
        victims=(),
        techniques=(),
        content_hash="",
    )


class ListApp(App[None]):
    """A bare app around one PostList that records what the list asks for."""

    def __init__(self, titles: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.fetched: list[int] = []
        self.titles = dict(titles or {})
        self.highlighted: list[str | None] = []
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        yield PostList(self.rows, self.marks, id="posts")

    def rows(self, ids: Sequence[str]) -> list[PostRow]:
        self.fetched.append(len(ids))
        return [make_row(post_id, self.titles.get(post_id)) for post_id in ids]

    def marks(self, ids: Sequence[str]) -> Mapping[str, Marks]:
        return {post_id: Marks(read=post_id.endswith("0"), starred=post_id == "p1") for post_id in ids}

    def on_post_list_highlighted(self, message: PostList.Highlighted) -> None:
        self.highlighted.append(message.post_id)

    def on_post_list_selected(self, message: PostList.Selected) -> None:
        self.selected.append(message.post_id)


def line_text(posts: PostList, y: int) -> str:
    return posts.render_line(y).text


async def test_hundred_thousand_ids_show_at_once() -> None:
    app = ListApp()
    async with app.run_test(size=(100, 30)) as pilot:
        posts = app.query_one(PostList)
        ids = [f"p{number}" for number in range(100_000)]
        posts.set_ids(ids)
        await pilot.pause()
        assert posts.virtual_size.height == 100_000
        # Only the first block of rows was fetched, not 100k.
        assert sum(app.fetched) <= 256
        assert "Post p0" in line_text(posts, 0)
        await pilot.press("end")
        await pilot.pause()
        assert posts.cursor == 99_999
        assert posts.current == "p99999"
        assert sum(app.fetched) <= 512
        await pilot.press("home")
        assert posts.cursor == 0


async def test_cursor_keys_messages_and_click() -> None:
    app = ListApp()
    async with app.run_test(size=(100, 12)) as pilot:
        posts = app.query_one(PostList)
        posts.set_ids([f"p{number}" for number in range(50)])
        posts.focus()
        await pilot.pause()
        await pilot.press("j", "j", "down", "k")
        await pilot.pause()
        assert posts.cursor == 2
        assert app.highlighted[-1] == "p2"
        await pilot.press("pagedown")
        assert posts.cursor > 2
        assert posts.scroll_y > 0  # the cursor stays visible
        await pilot.press("home", "enter")
        await pilot.pause()
        assert app.selected == ["p0"]
        await pilot.click(PostList, offset=(5, 3))
        await pilot.pause()
        assert posts.cursor == 3
        await pilot.click(PostList, offset=(5, 3))
        await pilot.pause()
        assert app.selected[-1] == "p3"


async def test_marks_and_columns() -> None:
    app = ListApp()
    async with app.run_test(size=(100, 12)) as pilot:
        posts = app.query_one(PostList)
        posts.set_ids(["p1", "p10"])
        await pilot.pause()
        first = line_text(posts, 0)
        assert "●★" in first  # p1: unread and starred
        assert "2018-07-11" in first
        assert first.rstrip().endswith("example.com")
        assert "●" not in line_text(posts, 1)  # p10 is read


async def test_keep_cursor_and_remove_ids() -> None:
    app = ListApp()
    async with app.run_test(size=(100, 12)) as pilot:
        posts = app.query_one(PostList)
        posts.set_ids(["a", "b", "c", "d"])
        posts.cursor = 2
        posts.set_ids(["x", "c", "y"], keep="c")
        assert posts.current == "c"
        posts.remove_ids({"c"})
        assert list(posts.ids) == ["x", "y"]
        assert posts.current == "y"
        await pilot.pause()


async def test_empty_message_is_literal() -> None:
    app = ListApp()
    async with app.run_test(size=(100, 12)) as pilot:
        posts = app.query_one(PostList)
        posts.set_ids([], empty_message="No posts match [bold red]x[/] \x1b[2J")
        await pilot.pause()
        assert posts.current is None
        text = line_text(posts, 0)
        assert "No posts match [bold red]x[/] ␛[2J" in text
        await pilot.press("j", "enter", "end")
        assert app.selected == []


async def test_hostile_titles_render_literally() -> None:
    hostile = {"p1": "[@click=app.quit]x[/] [link=https://e.com]y[/link]\x1b]0;owned\x07\u202e"}
    app = ListApp(hostile)
    async with app.run_test(size=(120, 12)) as pilot:
        posts = app.query_one(PostList)
        posts.set_ids(["p1"])
        await pilot.pause()
        text = line_text(posts, 0)
        assert "[@click=app.quit]x[/] [link=https://e.com]y[/link]␛]0;owned␇\ufffd" in text
        assert "\x1b" not in text
        for segment in posts.render_line(0):
            assert segment.style is None or not segment.style.link


class CountingList(PostList):
    """A PostList that counts the rows Textual asks it to draw (it asks only for rows refreshed)."""

    drawn: list[int]

    def render_line(self, y: int) -> Strip:
        self.drawn.append(y)
        return super().render_line(y)


class CountingApp(ListApp):
    def compose(self) -> ComposeResult:
        posts = CountingList(self.rows, self.marks, id="posts")
        posts.drawn = []
        yield Input(id="box")
        yield posts


async def test_a_new_list_repaints_only_the_rows_that_changed() -> None:
    app = CountingApp()
    async with app.run_test(size=(100, 12)) as pilot:
        posts = app.query_one(CountingList)
        posts.set_ids([f"p{number}" for number in range(200)])
        await pilot.pause()
        assert posts.drawn  # the first list is drawn
        # The complete answer after the first screen: the same posts on screen, more below.
        posts.drawn.clear()
        posts.set_ids([f"p{number}" for number in range(1_500)], keep=posts.current)
        await pilot.pause()
        assert posts.drawn == []
        # A list that differs on the third row only.
        posts.set_ids(["p0", "p1", "other", *(f"p{number}" for number in range(3, 1_500))], keep=posts.current)
        await pilot.pause()
        assert posts.drawn == [2]
        # A cursor move redraws the row it left and the row it reached.
        posts.drawn.clear()
        posts.cursor = 1
        await pilot.pause()
        assert sorted(posts.drawn) == [0, 1]


async def test_the_cursor_row_follows_focus() -> None:
    app = CountingApp()
    async with app.run_test(size=(100, 12)) as pilot:
        posts = app.query_one(CountingList)
        app.query_one(Input).focus()
        posts.set_ids([f"p{number}" for number in range(5)])
        await pilot.pause()
        blurred = posts.render_line(0)
        posts.focus()
        await pilot.pause()
        focused = posts.render_line(0)
        assert focused.text == blurred.text
        assert [segment.style for segment in focused] != [segment.style for segment in blurred]
        app.query_one(Input).focus()
        await pilot.pause()
        assert [segment.style for segment in posts.render_line(0)] == [segment.style for segment in blurred]


async def test_the_scrollbar_follows_the_length_of_the_list() -> None:
    app = ListApp()
    async with app.run_test(size=(100, 12)) as pilot:
        posts = app.query_one(PostList)
        posts.set_ids(["p1", "p2"])
        await pilot.pause()
        assert not posts.show_vertical_scrollbar
        for length in (200, 1_500):
            posts.set_ids([f"p{number}" for number in range(length)], keep=posts.current)
            await pilot.pause()
            assert posts.show_vertical_scrollbar
            assert posts.vertical_scrollbar.window_virtual_size == length
        posts.cursor = 1_499
        await pilot.pause()
        assert posts.scroll_y == posts.max_scroll_y
        # A shorter list that keeps a post near its end: the view ends at the list's end, not beyond it.
        posts.set_ids([f"p{number}" for number in range(1_495)], keep="p1490")
        await pilot.pause()
        assert posts.current == "p1490"
        assert posts.scroll_y == posts.max_scroll_y == 1_495 - posts.scrollable_content_region.height
        assert "Post p1494" in line_text(posts, posts.scrollable_content_region.height - 1)
        posts.set_ids(["p1", "p2"])
        await pilot.pause()
        assert not posts.show_vertical_scrollbar
        assert "Post p1" in line_text(posts, 0)

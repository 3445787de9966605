"""A virtual list of posts on Textual's Line API.

The list holds only post ids. Row metadata is fetched in blocks for the rows that scroll
into view, so a 100k-post result paints as fast as a ten-post one. Every visible string
comes from ``one_line`` (sanitised, single line) and enters the screen as a Rich ``Text``,
never as markup.

Painting is the main thread's work, and the main thread shares the GIL with the search
thread, so a new list repaints only what changed: a drawn row is cached by what it shows
(post, width, cursor or not) and survives new lists and cursor moves; a new list or cursor
move refreshes only the screen rows whose post or cursor changed. The cache is dropped when
what a row shows changes underneath it (marks, catalog rows, styles such as focus).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from index.corpus import PostRow
from index.posts import display_id
from index.sanitize import one_line
from tui.messages import TriageAction, TriageRequested
from tui.widgets.steady_scrollbar import SteadyScrollbar
from tui.widgets.triage_keys import TRIAGE_BINDINGS

BLOCK = 128
"""Rows fetched from the catalog at a time."""

SOURCE_WIDTH = 18
DATE_WIDTH = 10


def source_width(width: int) -> int:
    """Cells for the source column: none on a narrow list, so the title keeps its room."""
    if width >= 90:
        return SOURCE_WIDTH
    return 12 if width >= 60 else 0


@dataclass(frozen=True, slots=True)
class Marks:
    """The triage marks shown at the start of a row."""

    read: bool = True
    starred: bool = False
    flagged: bool = False
    archived: bool = False
    tagged: bool = False
    """The post carries own tags."""
    noted: bool = False
    """The post carries a note."""


RowsFetcher = Callable[[Sequence[str]], list[PostRow]]
MarksFetcher = Callable[[Sequence[str]], Mapping[str, Marks]]


def _no_rows(ids: Sequence[str]) -> list[PostRow]:
    return []


def _no_marks(ids: Sequence[str]) -> Mapping[str, Marks]:
    return {}


class PostList(SteadyScrollbar, can_focus=True, inherit_bindings=False):
    """Posts, one per line, with a cursor. Posts ``Highlighted`` and ``Selected`` messages up."""

    # Triage keys live on the panes that show a post (here and the article), so they never fire
    # while the search box has focus; they post TriageRequested and the screen carries them out.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Down", show=False, id="list.down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="list.up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="list.page_down"),
        Binding("pageup", "page_up", "Page up", show=False, id="list.page_up"),
        Binding("home,g", "first", "First post", show=False, id="list.first"),
        Binding("end,G", "last", "Last post", show=False, id="list.last"),
        Binding("enter", "select", "Open", show=False, id="list.open"),
        *TRIAGE_BINDINGS,
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "post-list--cursor",
        "post-list--unread",
        "post-list--date",
        "post-list--source",
        "post-list--mark",
        "post-list--empty",
    }

    DEFAULT_CSS = """
    PostList {
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
    }
    PostList > .post-list--cursor { background: $block-cursor-blurred-background; }
    PostList:focus > .post-list--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
    }
    PostList > .post-list--unread { text-style: bold; }
    PostList > .post-list--date { color: $text-muted; }
    PostList > .post-list--source { color: $text-muted; }
    PostList > .post-list--mark { color: $accent; }
    PostList > .post-list--empty { color: $text-muted; text-style: italic; }
    """

    cursor: reactive[int] = reactive(0, always_update=True, init=False, repaint=False)
    """Index of the highlighted row in :attr:`ids` (its watcher repaints the two rows that change)."""

    @dataclass
    class Highlighted(Message):
        """The cursor moved to a post (or to nothing: ``post_id`` is ``None``)."""

        post_list: PostList
        post_id: str | None
        fresh: bool = False
        """The cursor landed here because a new list was shown, not because the user moved it."""

        @property
        def control(self) -> PostList:
            return self.post_list

    @dataclass
    class Selected(Message):
        """The user opened a post (enter or click on the highlighted row)."""

        post_list: PostList
        post_id: str

        @property
        def control(self) -> PostList:
            return self.post_list

    def __init__(
        self,
        rows: RowsFetcher = _no_rows,
        marks: MarksFetcher = _no_marks,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._fetch_rows = rows
        self._fetch_marks = marks
        self._ids: list[str] = []
        self._rows: LRUCache[str, PostRow | None] = LRUCache(4 * BLOCK)
        self._marks: LRUCache[str, Marks] = LRUCache(4 * BLOCK)
        self._lines: LRUCache[tuple[str, int, bool], Strip] = LRUCache(1024)
        """Drawn rows by (post id, width, under the cursor): what a row shows, not where it is."""
        self.empty_message = "No posts."
        self._fresh = False
        self._paint: tuple[int, int] | None = None
        """(width, top row) while a paint runs."""
        self._after_paint: list[Callable[[], object]] = []

    # ----------------------------------------------------------------- data in
    @property
    def ids(self) -> Sequence[str]:
        """The post ids shown, in order."""
        return self._ids

    @property
    def current(self) -> str | None:
        """The id under the cursor."""
        return self._ids[self.cursor] if 0 <= self.cursor < len(self._ids) else None

    def set_ids(
        self, ids: Sequence[str], *, keep: str | None = None, empty_message: str | None = None, row: int | None = None
    ) -> None:
        """Show ``ids``; the cursor stays on ``keep`` when it is still listed, else goes to the top. With
        ``row``, the kept post also stays that many rows below the top (the view does not jump when posts
        arrive above it). Only the screen rows that show something else are repainted."""
        shown = self._shown_rows()
        self._ids = list(ids)
        if empty_message is not None:
            self.empty_message = empty_message
        self._set_length(len(self._ids))
        index = 0
        if keep is not None:
            try:
                index = self._ids.index(keep)
            except ValueError:
                index = 0
        if index == 0:
            self.scroll_to(y=0, animate=False, immediate=True)
        elif row is not None:
            self.scroll_to(y=max(0, index - row), animate=False, immediate=True)
        self._fresh = True  # the cursor moves because the list changed, not because the user moved it
        self.cursor = index
        self._fresh = False
        self._scroll_cursor_visible()
        self._refresh_changed(shown)

    def remove_ids(self, remove: set[str]) -> None:
        """Drop ``remove`` from the list, keeping the cursor at the same position."""
        if not remove:
            return
        shown = self._shown_rows()
        position = self.cursor
        before = sum(1 for post_id in self._ids[:position] if post_id in remove)
        self._ids = [post_id for post_id in self._ids if post_id not in remove]
        self._set_length(len(self._ids))
        self.cursor = max(0, min(position - before, len(self._ids) - 1))
        self._refresh_changed(shown)

    def _set_length(self, rows: int) -> None:
        """Size the scrollable area for ``rows`` posts without repainting the rows themselves (setting
        ``virtual_size`` would repaint every row). While the scrollbar stays shown (or hidden), only its
        thumb changes; a new layout, which redraws every scrollbar on screen, is asked for only when the
        scrollbar comes or goes."""
        if self.virtual_size.height == rows:
            return
        height = self.scrollable_content_region.height
        self.set_reactive(PostList.virtual_size, Size(0, rows))
        scrolls = rows > height
        if height > 0 and self.show_vertical_scrollbar == scrolls:
            if scrolls:
                self.vertical_scrollbar.window_virtual_size = rows
            if self.scroll_y > self.max_scroll_y:
                self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
            self._length_shown()
            return
        self.clear_cached_dimensions()
        self.refresh(layout=True, repaint=False)

    def _shown_rows(self) -> tuple[int, list[tuple[str, bool]] | str] | None:
        """What the screen rows show now: the top row and (post, under the cursor) per row, or the
        empty-list message; ``None`` before the list has a size."""
        height = self.scrollable_content_region.height
        if height <= 0:
            return None
        top = round(self.scroll_y)
        if not self._ids:
            return top, self.empty_message
        return top, [(post_id, top + y == self.cursor) for y, post_id in enumerate(self._ids[top : top + height])]

    def _refresh_changed(self, before: tuple[int, list[tuple[str, bool]] | str] | None) -> None:
        """Repaint the screen rows that show something other than ``before`` (all of them if the view
        scrolled, or the list became or stopped being empty)."""
        after = self._shown_rows()
        if (
            before is None
            or after is None
            or before[0] != after[0]
            or isinstance(before[1], str)
            or isinstance(after[1], str)
        ):
            if before != after:
                self.refresh()
            return
        top, rows = after
        old = before[1]
        changed = [y for y in range(max(len(old), len(rows))) if y >= len(old) or y >= len(rows) or old[y] != rows[y]]
        while changed:  # one region per run of changed rows
            start = end = changed.pop(0)
            while changed and changed[0] == end + 1:
                end = changed.pop(0)
            self.refresh_lines(top + start, end - start + 1)

    def refresh_marks(self, ids: Sequence[str] | None = None) -> None:
        """Forget cached marks (all, or for ``ids``) after a triage write, and repaint."""
        if ids is None:
            self._marks.clear()
            self._lines.clear()
        else:
            for post_id in ids:
                self._marks.discard(post_id)
            self._lines.clear()
        self.refresh()

    def marks(self, post_id: str) -> Marks:
        """The marks shown (or about to be shown) for ``post_id``."""
        try:
            index = self._ids.index(post_id)
        except ValueError:
            return self._fetch_marks([post_id]).get(post_id, Marks())
        return self._marks_of(post_id, index)

    def show_marks(self, marks: Mapping[str, Marks]) -> None:
        """Show these marks now, before the write behind them is committed (a failed write calls
        :meth:`refresh_marks` to show the stored truth again)."""
        for post_id, shown in marks.items():
            self._marks.discard(post_id)  # LRUCache.set keeps an existing entry
            self._marks[post_id] = shown
        self._lines.clear()
        self.refresh()

    def refresh_rows(self) -> None:
        """Forget cached row metadata (after re-indexing) and repaint."""
        self._rows.clear()
        self._lines.clear()
        self.refresh()

    def row(self, post_id: str) -> PostRow | None:
        """The catalog row of ``post_id`` (fetched if needed)."""
        if post_id not in self._rows:
            for fetched in self._fetch_rows([post_id]):
                self._rows[fetched.post_id] = fetched
        return self._rows.get(post_id)

    # ----------------------------------------------------------------- cursor
    def watch_cursor(self, previous: int, cursor: int) -> None:
        # Rows are cached by post and cursor-or-not: only the two rows the cursor left and reached change
        # (a scroll, if the cursor leaves the view, repaints the whole view; a new list repaints its own).
        if not self._fresh:
            self.refresh_line(previous)
            self.refresh_line(cursor)
        self._scroll_cursor_visible()
        self.post_message(self.Highlighted(self, self.current, self._fresh))

    def on_show(self) -> None:
        # While hidden (one pane at a time, the article shown), the list could not follow the cursor.
        self._scroll_cursor_visible()

    def validate_cursor(self, cursor: int) -> int:
        return max(0, min(cursor, len(self._ids) - 1)) if self._ids else 0

    def _scroll_cursor_visible(self) -> None:
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_cursor_up(self) -> None:
        self.cursor -= 1

    def action_page_down(self) -> None:
        self.cursor += max(1, self.scrollable_content_region.height - 1)

    def action_page_up(self) -> None:
        self.cursor -= max(1, self.scrollable_content_region.height - 1)

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = len(self._ids) - 1

    def action_triage(self, action: TriageAction) -> None:
        """Ask the screen to triage the post under the cursor."""
        self.post_message(TriageRequested(self.current, action))

    def action_select(self) -> None:
        if (post_id := self.current) is not None:
            self.post_message(self.Selected(self, post_id))

    async def _on_click(self, event: events.Click) -> None:
        index = round(self.scroll_y) + event.y
        if 0 <= index < len(self._ids):
            again = index == self.cursor
            self.cursor = index
            if again or event.chain > 1:
                self.post_message(self.Selected(self, self._ids[index]))

    # ----------------------------------------------------------------- painting
    def _ensure_rows(self, index: int) -> None:
        if self._ids[index] in self._rows:
            return
        start = index - index % BLOCK
        block = [post_id for post_id in self._ids[start : start + BLOCK] if post_id not in self._rows]
        if not block:
            return
        found = {row.post_id: row for row in self._fetch_rows(block)}
        for post_id in block:
            self._rows[post_id] = found.get(post_id)

    def _marks_of(self, post_id: str, index: int) -> Marks:
        marks = self._marks.get(post_id)
        if marks is None:
            start = index - index % BLOCK
            block = [p for p in self._ids[start : start + BLOCK] if p not in self._marks]
            fetched = self._fetch_marks(block)
            for other in block:
                self._marks[other] = fetched.get(other, Marks())
            marks = self._marks.get(post_id, Marks())
        return marks

    def notify_style_update(self) -> None:
        # Drawn rows carry the styles (the cursor's differs with focus): draw them again.
        self._lines.clear()
        super().notify_style_update()

    def after_paint(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` once, after the list has next been drawn into a frame. The callback is posted
        from the drawing, so it runs after the frame holding those lines has gone to the terminal (the
        compositor hands a frame to the driver in the same step as it draws it)."""
        self._after_paint.append(callback)
        self.refresh()  # drawn in the next frame, even when what it shows has not changed

    def render_lines(self, crop: Region) -> list[Strip]:
        # The width and the scroll offset, once per paint rather than once per row (both are computed
        # properties, and a new list repaints every row).
        self._paint = (self.scrollable_content_region.width, round(self.scroll_y))
        try:
            return super().render_lines(crop)
        finally:
            self._paint = None
            if self._after_paint:
                waiting, self._after_paint = self._after_paint, []
                for callback in waiting:
                    self.call_later(callback)

    def render_line(self, y: int) -> Strip:
        width, top = self._paint or (self.scrollable_content_region.width, round(self.scroll_y))
        index = top + y
        if 0 <= index < len(self._ids):
            cached = self._lines.get((self._ids[index], width, index == self.cursor))
            if cached is not None:
                return cached.apply_offsets(0, index)
        base = self.rich_style
        if not self._ids:
            if y == 0:
                text = Text(" " + one_line(self.empty_message, 500))
                text.stylize(self.get_component_rich_style("post-list--empty", partial=True))
                return self._strip(text, width, base, None)
            return Strip.blank(width, base)
        if index >= len(self._ids):
            return Strip.blank(width, base)
        post_id = self._ids[index]
        is_cursor = index == self.cursor
        key = (post_id, width, is_cursor)
        self._ensure_rows(index)
        text = self._line_text(post_id, self._rows.get(post_id), self._marks_of(post_id, index), width)
        cursor = self.get_component_rich_style("post-list--cursor", partial=True) if is_cursor else None
        strip = self._strip(text, width, base, cursor)
        self._lines[key] = strip
        return strip.apply_offsets(0, index)

    def _strip(self, text: Text, width: int, base: Style, over: Style | None) -> Strip:
        text.truncate(width, overflow="ellipsis", pad=True)
        segments = Segment.apply_style(text.render(self.app.console), base, over)
        return Strip(segments).crop_extend(0, width, base + over if over else base)

    def _line_text(self, post_id: str, row: PostRow | None, marks: Marks, width: int) -> Text:
        mark_style = self.get_component_rich_style("post-list--mark", partial=True)
        muted = self.get_component_rich_style("post-list--date", partial=True)
        source_style = self.get_component_rich_style("post-list--source", partial=True)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" ")
        text.append("●" if not marks.read else " ", mark_style)
        text.append("★" if marks.starred else " ", mark_style)
        text.append("⚑" if marks.flagged else " ", mark_style)
        text.append("▣" if marks.archived else " ", mark_style)
        text.append("✎" if marks.noted else "#" if marks.tagged else " ", mark_style)
        text.append(" ")
        if row is None:
            text.append(one_line(display_id(post_id), 200))
            return text
        date = row.date.strftime("%Y-%m-%d") if row.date else ""
        text.append(f"{date:<{DATE_WIDTH}}", muted)
        text.append(" ")
        source_cells = source_width(width)
        title_width = max(8, width - text.cell_len - (source_cells + 2 if source_cells else 0))
        title = Text(one_line(row.title, 300), no_wrap=True, overflow="ellipsis")
        if not marks.read:
            title.stylize(self.get_component_rich_style("post-list--unread", partial=True))
        title.truncate(title_width, overflow="ellipsis", pad=True)
        text.append_text(title)
        if source_cells:
            source = Text(one_line(row.source, 200), source_style, no_wrap=True, overflow="ellipsis")
            source.truncate(source_cells, overflow="ellipsis")
            source.align("right", source_cells)
            text.append("  ")
            text.append_text(source)
        return text

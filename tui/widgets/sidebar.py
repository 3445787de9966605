"""Facet sidebar: feeds and the user's own tags, then tags, actors, victims and techniques, with counts.

A feed shows its unread posts; a tag or entity shows ``unread/total``: of the current result's posts that
carry it, how many are unread (``China 3/12``). The screen counts (index/unread.py); the sidebar only shows.

Picking a facet or an own tag filters the list; picking a feed runs its saved search. Feeds and own
tags come from the user, not from the search: their sections show only when they have entries.

Facet labels come from posts (untrusted): each prompt is a ``Content`` built from ``one_line``
output, so brackets show literally and controls show as placeholders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.css.styles import RulesMap
from textual.message import Message
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from index.sanitize import one_line
from index.vocabulary import BY_KIND, FACET_KINDS
from tui.widgets.steady_scrollbar import SteadyScrollbar

FEED = "feed"
OWN_TAG = "own_tag"
SECTIONS: tuple[tuple[str, str], ...] = (
    (FEED, "Feeds"),
    (OWN_TAG, "My tags"),
    ("tag", "Tags"),
    *((BY_KIND[kind].field, BY_KIND[kind].title) for kind in FACET_KINDS),
)
"""Section keys (feeds, own tags, then the facet keys of ``SearchResult.facets``) and headings, in order."""
_OWN_SECTIONS = frozenset({FEED, OWN_TAG})

TOP = 50
"""Entries shown per section; the rest are reachable through the query language."""

Facets = Mapping[str, Sequence[tuple[str, int]]]
Unread = Mapping[str, Mapping[str, int]]
"""Facet key → value → unread posts among the result's posts that carry it."""
Filter = tuple[str, str]


def _count(count: int | None, unread: int | None) -> Content:
    """`` 12``, or `` 3/12`` when the unread count is known: unread posts stand out, the total is dim."""
    if count is None:
        return Content("")
    if unread is None:
        return Content.styled(f" {count:,}", "dim")
    return Content.assemble((f" {unread:,}", "dim" if not unread else ""), (f"/{count:,}", "dim"))


def _entry(value: str, count: int | None, ticked: bool, width: int, unread: int | None = None) -> Content:
    """One facet row, one line: marker, name (cut with an ellipsis), counts flush right.

    A plain ``Content`` line, not a Rich table: the list measures every prompt, and tables made a
    search's sidebar refresh cost ~170 ms for 200 entries.
    """
    marker = Content.styled("✓ " if ticked else "▸ ", "bold" if ticked else "dim")
    number = _count(count, unread)
    name = Content.styled(one_line(value, 200), "bold" if ticked else "")
    name = name.truncate(max(4, width - 2 - number.cell_length), ellipsis=True, pad=True)  # cells, not characters
    return Content.assemble(marker, name, number)


@dataclass(frozen=True)
class _Row:
    """One option of the list: equal keys draw equal prompts, so only a changed key is drawn again."""

    option_id: str
    key: tuple[object, ...]
    draw: Callable[[], Content] = field(compare=False)
    disabled: bool = False


class _Line(Visual):
    """A prompt that is one line whatever the width (entries are cut to the row), drawn when first shown: a
    search brings up to 200 new entries, and the list learns their heights without drawing or wrapping
    them, and draws only the ones that scroll into view."""

    def __init__(self, draw: Callable[[], Content]) -> None:
        self._draw: Callable[[], Content] | None = draw
        self._content = Content("")

    @property
    def content(self) -> Content:
        if self._draw is not None:
            self._content, self._draw = self._draw(), None
        return self._content

    def __str__(self) -> str:
        return str(self.content)

    def render_strips(self, width: int, height: int | None, style: Style, options: RenderOptions) -> list[Strip]:
        return self.content.render_strips(width, 1, style, options)

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self.content.cell_length

    def get_height(self, rules: RulesMap, width: int) -> int:
        return 1


class Sidebar(OptionList, SteadyScrollbar):
    """Facets with counts. Posts ``FilterToggled`` when an entry is picked."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="sidebar.down"),
        Binding("k", "cursor_up", "Up", show=False, id="sidebar.up"),
        Binding("1", "jump('tag')", "Tags", id="sidebar.tags"),
        Binding("2", "jump('actor')", "Actors", id="sidebar.actors"),
        Binding("3", "jump('victim')", "Victims", id="sidebar.victims"),
        Binding("4", "jump('technique')", "Techniques", id="sidebar.techniques"),
        Binding("5", "jump('own_tag')", "My tags", show=False, id="sidebar.own_tags"),
        Binding("6", "jump('feed')", "Feeds", show=False, id="sidebar.feeds"),
        Binding("R", "feed('rename')", "Rename feed", show=False, id="sidebar.rename_feed"),
        Binding("D,delete", "feed('delete')", "Delete feed", show=False, id="sidebar.delete_feed"),
        Binding("right_curly_bracket", "step(1)", "Next section", show=False, id="sidebar.next_section"),
        Binding("left_curly_bracket", "step(-1)", "Previous section", show=False, id="sidebar.previous_section"),
    ]

    @dataclass
    class FilterToggled(Message):
        """The user picked a facet entry: add it as a filter, or drop it if already active."""

        kind: str
        value: str

    @dataclass
    class FeedAction(Message):
        """The user picked a feed (``run``) or asked to ``rename`` or ``delete`` it."""

        action: str
        name: str

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._entries: dict[str, Filter] = {}
        self._facets: dict[str, list[tuple[str, int]]] = {}
        self._active: tuple[Filter, ...] = ()
        self._labels: dict[str, str] = {}
        self._unread: dict[str, dict[str, int]] = {}
        self._own: dict[str, list[tuple[str, int | None]]] = {FEED: [], OWN_TAG: []}
        self._keys: list[_Row] = []
        """The rows the options show now, in order."""

    def show_own(self, feeds: Sequence[tuple[str, int | None]], own_tags: Sequence[tuple[str, int]]) -> None:
        """Replace the feeds (name, unread count; None while unknown) and the own tags (tag, posts)."""
        own: dict[str, list[tuple[str, int | None]]] = {FEED: list(feeds), OWN_TAG: list(own_tags)}
        if own != self._own:
            self._own = own
            self._rebuild()

    def show_facets(
        self,
        facets: Facets,
        active: Iterable[Filter] = (),
        labels: Mapping[str, str] | None = None,
        unread: Unread | None = None,
    ) -> None:
        """Replace the entries; active filters are listed first in their section, ticked.

        ``labels`` gives a readable name for a value (``T1486`` → ``T1486 Data Encrypted for Impact``);
        the filter still uses the value itself. ``unread`` gives the unread counts of these facets (a
        value without one shows its total alone).
        """
        shown = (
            {kind: list(facets.get(kind, ()))[:TOP] for kind, _ in SECTIONS},
            tuple(active),
            dict(labels or {}),
            {kind: dict(counts) for kind, counts in (unread or {}).items()},
        )
        if shown == (self._facets, self._active, self._labels, self._unread):
            return  # the same entries (a repeated search): rebuilding would only repaint them
        self._facets, self._active, self._labels, self._unread = shown
        self._rebuild()

    def show_unread(self, unread: Unread) -> None:
        """Replace the unread counts of the facets shown (after a triage change; the totals stay)."""
        counts = {kind: dict(values) for kind, values in unread.items()}
        if counts != self._unread:
            self._unread = counts
            self._rebuild()

    def _rebuild(self) -> None:
        previous = self.highlighted_filter
        rows: list[_Row] = []
        self._entries.clear()
        width = self._row_width()
        for kind, heading in SECTIONS:
            entries: Sequence[tuple[str, int | None]] = (
                self._own.get(kind, []) if kind in _OWN_SECTIONS else (self._facets.get(kind, []))
            )
            active_here = [value for active_kind, value in self._active if active_kind == kind]
            active_keys = {value.casefold() for value in active_here}
            listed = {value.casefold() for value, _ in entries}
            values: list[tuple[str, int | None]] = [
                (value, None) for value in active_here if value.casefold() not in listed
            ]
            values += [(value, count) for value, count in entries]
            if kind in _OWN_SECTIONS and not values:
                continue
            title = partial(Content.assemble, (heading, "bold"), "  ", (f"({len(entries)})", "dim"))
            rows.append(_Row(f"{kind}:head", (heading, len(entries)), title, disabled=True))
            if not values:
                rows.append(_Row(f"{kind}:none", (), partial(Content.styled, "  —", "dim"), disabled=True))
            unread = self._unread.get(kind, {})
            for number, (value, count) in enumerate(values):
                option_id = f"{kind}:{number}"
                self._entries[option_id] = (kind, value)
                key = (self._labels.get(value, value), count, value.casefold() in active_keys, width, unread.get(value))
                rows.append(_Row(option_id, key, partial(_entry, *key)))
        index = self.highlighted
        self._show_rows(rows)
        if previous is not None:
            for option_id, entry in self._entries.items():
                if entry == previous:
                    self.highlighted = self.get_option_index(option_id)
                    return
        # The entry under the cursor left: the cursor stays where it was, on whichever entry is there now.
        stays = index is not None and index < self.option_count and not self.get_option_at_index(index).disabled
        self.highlighted = index if stays else None

    def _show_rows(self, rows: list[_Row]) -> None:
        """Put ``rows`` in the list. With the same rows in the same places (a new search with as many entries
        per section), only the entries whose name or counts changed get a new prompt: no option is removed
        or added, and the cursor and the scroll position stay. Otherwise the options are replaced, the
        scroll position kept."""
        if [(row.option_id, row.disabled) for row in rows] == [(row.option_id, row.disabled) for row in self._keys]:
            changed = [(n, row) for n, (row, old) in enumerate(zip(rows, self._keys, strict=True)) if row != old]
            for index, row in changed:
                # What ``replace_option_prompt_at_index`` does, less its refresh per entry: one for all.
                self.get_option_at_index(index)._set_prompt(_Line(row.draw))
            if changed:
                self._clear_caches()
        else:
            scroll = self.scroll_y
            self.set_options(Option(_Line(row.draw), id=row.option_id, disabled=row.disabled) for row in rows)
            self.scroll_to(y=scroll, animate=False, immediate=True)
        self._keys = rows

    def action_jump(self, kind: str) -> None:
        """Move the cursor to the first entry of a section (headings cannot be highlighted)."""
        if f"{kind}:0" in self._entries:
            self.highlighted = self.get_option_index(f"{kind}:0")

    def action_step(self, delta: int) -> None:
        """Move to the next or previous section that has entries."""
        current = self.highlighted_filter
        here = next((n for n, (kind, _) in enumerate(SECTIONS) if current and current[0] == kind), 0)
        for offset in range(1, len(SECTIONS) + 1):
            kind = SECTIONS[(here + delta * offset) % len(SECTIONS)][0]
            if f"{kind}:0" in self._entries:
                self.highlighted = self.get_option_index(f"{kind}:0")
                return

    def action_feed(self, action: str) -> None:
        """Ask the screen to rename or delete the feed under the cursor."""
        entry = self.highlighted_filter
        if entry is None or entry[0] != FEED:
            self.notify("Move to a feed first (6 jumps to Feeds)", severity="warning", timeout=3)
            return
        self.post_message(self.FeedAction(action, entry[1]))

    def _row_width(self) -> int:
        """Cells for one entry: the content width less a scrollbar, whether or not one shows yet
        (with 50 tags it appears only after the entries are in, and must not push the counts out)."""
        width = self.content_region.width or 28
        return max(12, width - self.styles.scrollbar_size_vertical - 2)

    def on_resize(self) -> None:
        if self._facets:
            self._rebuild()

    @property
    def highlighted_filter(self) -> Filter | None:
        """The facet entry under the cursor."""
        if self.highlighted is None or not self.option_count:
            return None
        option = self.get_option_at_index(self.highlighted)
        return self._entries.get(option.id or "")

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        entry = self._entries.get(event.option.id or "")
        if entry is not None and entry[0] == FEED:
            self.post_message(self.FeedAction("run", entry[1]))
        elif entry is not None:
            self.post_message(self.FilterToggled(*entry))

"""The active filters as chips under the search box (``tag:China ×``), each one removable.

A click on a chip removes it; with the row focused (``tab``), ``left``/``right`` pick a chip and
``backspace`` or ``delete`` removes it. Chips wrap onto more lines when the row is full, and the row
is hidden when there are none. The widget only says what the user wants
(:class:`FilterChips.Removed`); the screen owns the filters and searches again.

Filter values come from posts (untrusted): each chip is a ``Content`` built from ``one_line`` output,
never markup, so brackets show literally and controls show as placeholders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.widget import Widget

from index.query import FILTER_FIELDS
from index.sanitize import one_line
from index.searching import facet_label
from tui.widgets.sidebar import OWN_TAG, Filter

MAX_VALUE = 60
"""Characters of a filter value shown in its chip before an ellipsis (the chip is also cut to the row)."""

Placed = tuple[int, int, Content]
"""(filter number, first cell on its line, the chip)."""


def chip_label(kind: str, value: str) -> str:
    """``tag:China``, ``actor:APT40``, ``my tag:todo``: the field as the user would type it, and the value
    by the name the sidebar shows (``technique:T1566.001 Spearphishing Attachment``)."""
    field = "my tag" if kind == OWN_TAG else FILTER_FIELDS.get(kind, kind)
    shown = value if kind == OWN_TAG else facet_label(kind, value)
    return f"{field}:{one_line(shown, MAX_VALUE)}"


class FilterChips(Widget, can_focus=True):
    """One chip per active filter, in the order they were added."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,h", "move(-1)", "Previous filter", show=False, id="chips.previous"),
        Binding("right,l", "move(1)", "Next filter", show=False, id="chips.next"),
        Binding("backspace,delete", "remove", "Remove filter", id="chips.remove"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"filter-chips--chip", "filter-chips--cursor"}

    DEFAULT_CSS = """
    FilterChips { height: auto; padding: 0 1; display: none; text-wrap: nowrap; }
    FilterChips.-shown { display: block; }
    FilterChips > .filter-chips--chip, FilterChips > .filter-chips--cursor { background: $primary 25%; color: $text; }
    FilterChips:focus > .filter-chips--cursor { background: $accent; color: $text; text-style: bold; }
    """

    @dataclass
    class Removed(Message):
        """The user removed this filter's chip."""

        filter: Filter

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._filters: tuple[Filter, ...] = ()
        self._labels: list[str] = []
        self.cursor = 0
        """The chip ``backspace`` removes when the row has focus."""

    @property
    def filters(self) -> tuple[Filter, ...]:
        """The filters shown, in order."""
        return self._filters

    def show(self, filters: Sequence[Filter]) -> None:
        """Replace the chips; the row hides when there are none."""
        self._filters = tuple(filters)
        self._labels = [chip_label(*entry) for entry in self._filters]  # once: a technique's name is looked up
        self.cursor = min(self.cursor, max(0, len(self._filters) - 1))
        self.set_class(bool(self._filters), "-shown")
        self.refresh(layout=True)

    # ----------------------------------------------------------------- layout
    def _chip(self, number: int, width: int) -> Content:
        cursor = number == self.cursor
        style = self.get_visual_style("filter-chips--cursor" if cursor else "filter-chips--chip")
        label = Content(f" {self._labels[number]}").truncate(max(1, width - 3), ellipsis=True)
        return Content.assemble(label, " × ").stylize(style)  # a long label is cut, never the ×

    def _lines(self, width: int) -> list[list[Placed]]:
        """The chips packed into lines of ``width`` cells, one cell apart; a chip never splits."""
        width = max(4, width)
        lines: list[list[Placed]] = [[]]
        end = 0
        for number in range(len(self._filters)):
            chip = self._chip(number, width)
            start = end + 1 if lines[-1] else 0
            if lines[-1] and start + chip.cell_length > width:
                lines.append([])
                start = 0
            lines[-1].append((number, start, chip))
            end = start + chip.cell_length
        return lines if self._filters else []

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width))

    def render(self) -> Content:
        rows = []
        for line in self._lines(self.content_size.width):
            parts: list[Content | str] = []
            end = 0
            for _number, start, chip in line:
                parts += [" " * (start - end), chip]
                end = start + chip.cell_length
            rows.append(Content.assemble(*parts))
        return Content("\n").join(rows)

    def chip_at(self, x: int, y: int) -> int | None:
        """The number of the chip that covers cell (x, y) of the content area."""
        lines = self._lines(self.content_size.width)
        if not 0 <= y < len(lines):
            return None
        for number, start, chip in lines[y]:
            if start <= x < start + chip.cell_length:
                return number
        return None

    # ----------------------------------------------------------------- mouse and keys
    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        number = self.chip_at(offset.x, offset.y) if offset is not None else None
        if number is not None:
            event.stop()
            self._remove(number)

    def on_focus(self) -> None:
        self.refresh()  # the picked chip shows only while the row has focus

    def on_blur(self) -> None:
        self.refresh()

    def action_move(self, step: int) -> None:
        """Pick the previous (-1) or next (1) chip."""
        if self._filters:
            self.cursor = max(0, min(len(self._filters) - 1, self.cursor + step))
            self.refresh()

    def action_remove(self) -> None:
        """Remove the picked chip's filter."""
        if self._filters:
            self._remove(self.cursor)

    def _remove(self, number: int) -> None:
        """Drop the chip at once (a second key before the screen answers must take the next one), and
        tell the screen; the row stays until the screen's answer, which decides where focus goes."""
        removed = self._filters[number]
        self._filters = self._filters[:number] + self._filters[number + 1 :]
        del self._labels[number]
        self.cursor = min(self.cursor, max(0, len(self._filters) - 1))
        self.refresh(layout=True)
        self.post_message(self.Removed(removed))

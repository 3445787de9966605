"""The search box: search-as-you-type with a short debounce, and a status line under it.

The bar only says what the user typed (``QueryChanged``); the screen runs the search in a
worker and reports back through :meth:`SearchBar.show_result`. Errors from a malformed
query are shown under the box as plain text. ``backspace`` in the empty box says so
(``QueryInput.EmptyBackspace``): the screen drops the newest filter, as ``backspace`` outside the box does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from index.sanitize import one_line

DEBOUNCE = 0.15
"""Seconds of quiet typing before a search starts."""


class QueryInput(Input):
    """The text box; ``backspace`` with nothing to delete asks to remove the newest filter instead."""

    @dataclass
    class EmptyBackspace(Message):
        """``backspace`` in an empty box: the user backs out of the newest filter, as outside the box."""

    def action_delete_left(self) -> None:
        if self.value:
            super().action_delete_left()
        else:
            self.post_message(self.EmptyBackspace())


class SearchBar(Vertical):
    """An ``Input`` plus one status line (hits, time, sort, or the query error)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "done", "Back to list", show=False, id="search.back"),
    ]

    DEFAULT_CSS = """
    SearchBar { height: auto; }
    SearchBar > Input, SearchBar > Input:focus { border: none; height: 1; padding: 0 1; }
    SearchBar > Input:focus { background: $boost; }
    SearchBar > #search-status { height: 1; padding: 0 1; color: $text-muted; }
    SearchBar > #search-status.-error { color: $error; }
    """

    @dataclass
    class QueryChanged(Message):
        """The query text settled (after the debounce) or was submitted."""

        query: str

    @dataclass
    class Done(Message):
        """The user is finished with the box (enter or escape): focus goes back to the list."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._timer: Timer | None = None
        self._posted: str | None = None

    def compose(self) -> ComposeResult:
        placeholder = "/ search…  (tag:china  actor:APT40  is:unread)"
        yield QueryInput(placeholder=placeholder, id="query", select_on_focus=False)
        yield Static(Content(""), id="search-status")

    @property
    def input(self) -> Input:
        """The text box."""
        return self.query_one("#query", Input)

    @property
    def value(self) -> str:
        """The query as typed."""
        return self.input.value

    def set_query(self, query: str) -> None:
        """Replace the query text and search for it now (no debounce)."""
        self._cancel_timer()
        self.input.value = query
        self.input.cursor_position = len(query)
        self._post(query)

    def focus_input(self) -> None:
        """Move focus into the box at once.

        ``Widget.focus`` defers the move, so keys queued right behind ``/`` (a fast typist, a busy
        app) would still find the list's triage bindings; ``Screen.set_focus`` moves focus first, so
        their bindings are looked up from the search box and they never triage.
        """
        self.screen.set_focus(self.input)

    def show_result(
        self, total: int, elapsed: float, sort: str, error: str | None = None, note: str | None = None
    ) -> None:
        """Show the hit count and timing (plus ``note``), or the query error, under the box."""
        status = self.query_one("#search-status", Static)
        status.set_class(error is not None, "-error")
        if error is not None:
            status.update(Content(one_line(error, 300)))
            return
        hits = "1 hit" if total == 1 else f"{total:,} hits"
        line = f"{hits} · {elapsed * 1000:.0f} ms · sort: {sort}"
        if note:
            line += f" · {note}"
        status.update(Content(one_line(line, 300)))

    def show_text(self, text: str) -> None:
        """Show a plain note in the status line."""
        status = self.query_one("#search-status", Static)
        status.remove_class("-error")
        status.update(Content(one_line(text, 300)))

    @on(Input.Changed, "#query")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self._cancel_timer()
        self._timer = self.set_timer(DEBOUNCE, self._settled)

    @on(Input.Submitted, "#query")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._cancel_timer()
        self._post(self.value)
        self.post_message(self.Done())

    def action_done(self) -> None:
        self.post_message(self.Done())

    def _settled(self) -> None:
        self._timer = None
        self._post(self.value)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _post(self, query: str) -> None:
        if query != self._posted:
            self._posted = query
            self.post_message(self.QueryChanged(query))

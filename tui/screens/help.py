"""The help screen: every key of every pane with its binding id, the colour legend, the query language.

The key tables are passed in by the app, generated from the bindings (with the user's key map
applied), so they cannot drift from what the keys really do; the ids are what ``keys.toml`` remaps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from index.sanitize import one_line
from tui.article_render import LEGEND
from tui.query_help import QUERY_CHEATSHEET


def _table(rows: Sequence[Sequence[str]], headings: Sequence[str], first_style: str) -> Table:
    table = Table(box=None, show_edge=False, pad_edge=False, expand=False, header_style="bold")
    for number, heading in enumerate(headings):
        table.add_column(Text(heading), style=first_style if number == 0 else "", no_wrap=number != 1)
    for row in rows:
        table.add_row(*(Text(one_line(cell, 200)) for cell in row))
    return table


class HelpScreen(ModalScreen[None]):
    """Keys, colours and query syntax; ``esc``, ``q`` or ``?`` close it."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 90%;
        max-width: 100;
        height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen .help-title {
        text-style: bold;
        margin-top: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close help", id="help.close"),
    ]

    def __init__(self, sections: Sequence[tuple[str, Sequence[tuple[str, str, str]]]]) -> None:
        super().__init__()
        self._sections = [(title, list(rows)) for title, rows in sections if rows]

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Help"
            scroll.border_subtitle = "esc to close"
            for number, (title, rows) in enumerate(self._sections):
                yield Static(Text(f"Keys: {title}"), classes="help-title")
                yield Static(_table(rows, ("key", "action", "id"), "bold"), id=f"help-keys-{number}")
            yield Static(Text("Colours"), classes="help-title")
            yield Static(LEGEND.copy(), id="help-legend")
            yield Static(Text("Search"), classes="help-title")
            queries = [("  ".join(examples), meaning) for examples, meaning in QUERY_CHEATSHEET]
            yield Static(_table(queries, ("query", "finds"), "cyan"), id="help-queries")

    def action_close(self) -> None:
        """Close the help screen."""
        self.dismiss(None)

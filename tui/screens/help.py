"""The help screen: every key with what it does, the colour legend and the query language.

The key table is passed in by the app, generated from its bindings, so it cannot drift
from what the keys really do.
"""

from __future__ import annotations

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

#: The query language at a glance: (example, meaning).
QUERY_CHEATSHEET: tuple[tuple[str, str], ...] = (
    ("ransomware hospital", "both words, in title, tags or body"),
    ('"spear phishing"', "the exact phrase"),
    ("lazarus OR apt38", "either; AND and NOT work too: apt40 NOT cambodia"),
    ("tag:china", "a tag (any capitalisation)"),
    ("actor:APT40", "an actor by any alias (finds TEMP.Periscope too)"),
    ("victim:cambodia", "a targeted country, organisation or sector"),
    ("technique:T1566", "an ATT&CK technique, by ID or name (technique:phishing)"),
    ("malware:plugx", "a malware family or tool"),
    ("cve:CVE-2017-11882", "a vulnerability"),
    ("ioc:203.0.113.7", "an indicator (defanged or not)"),
    ("source:cyberscoop.com", "the site a post came from"),
    ("date:2018", "a year; also date:2018-07"),
    ("date:[2018-01 to 2018-06]", "a date range"),
    ("is:unread", "triage state: unread, read, starred, flagged, archived"),
)


def _table(rows: list[tuple[str, str]], left: str, right: str, left_style: str) -> Table:
    table = Table(box=None, show_edge=False, pad_edge=False, expand=False, header_style="bold")
    table.add_column(Text(left), style=left_style, no_wrap=True)
    table.add_column(Text(right))
    for first, second in rows:
        table.add_row(Text(one_line(first, 60)), Text(one_line(second, 200)))
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

    def __init__(self, bindings: list[tuple[str, str]]) -> None:
        super().__init__()
        self._key_rows = list(bindings)

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Help"
            scroll.border_subtitle = "esc to close"
            yield Static(Text("Keys"), classes="help-title")
            yield Static(_table(self._key_rows, "key", "action", "bold"), id="help-keys")
            yield Static(Text("Colours"), classes="help-title")
            yield Static(LEGEND.copy(), id="help-legend")
            yield Static(Text("Search"), classes="help-title")
            yield Static(_table(list(QUERY_CHEATSHEET), "query", "finds", "cyan"), id="help-queries")

    def action_close(self) -> None:
        """Close the help screen."""
        self.dismiss(None)

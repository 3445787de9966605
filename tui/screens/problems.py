"""The problems screen: every post that could not be read, with file, line, column and reason."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from index.posts import PostProblem, display_id
from index.sanitize import one_line

#: More than this many lines would only slow the screen down; the rest are counted.
MAX_SHOWN = 2000


def problems_text(problems: list[PostProblem]) -> Text:
    """One line per problem, ``file:line:col: reason``; file names and reasons are untrusted."""
    text = Text(end="")
    for number, problem in enumerate(problems[:MAX_SHOWN]):
        if number:
            text.append("\n")
        where = display_id(problem.post_id)
        if problem.line is not None:
            where += f":{problem.line}" + (f":{problem.column}" if problem.column is not None else "")
        text.append(one_line(where, 300), "bold")
        text.append(": ")
        text.append(one_line(problem.reason, 500), "" if problem.skipped else "dim")
        if not problem.skipped:
            text.append(" (loaded)", "dim")
    if len(problems) > MAX_SHOWN:
        text.append(f"\n… and {len(problems) - MAX_SHOWN:,} more", "dim")
    if not problems:
        text.append("No problems: every post was read.", "dim")
    return text


class ProblemsScreen(ModalScreen[None]):
    """Posts skipped or read with a caveat; ``esc`` or ``q`` close it."""

    DEFAULT_CSS = """
    ProblemsScreen {
        align: center middle;
    }
    ProblemsScreen > VerticalScroll {
        width: 90%;
        height: 80%;
        border: round $warning;
        background: $surface;
        padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="problems.close"),
    ]

    def __init__(self, problems: list[PostProblem]) -> None:
        super().__init__()
        self._problems = list(problems)

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            skipped = sum(1 for problem in self._problems if problem.skipped)
            scroll.border_title = f"Problems: {skipped} skipped, {len(self._problems) - skipped} with notes"
            scroll.border_subtitle = "esc to close"
            yield Static(problems_text(self._problems), id="problems-list")

    def action_close(self) -> None:
        """Close the screen."""
        self.dismiss(None)

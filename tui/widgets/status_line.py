"""The status line under the panes: indexing progress, problems, read-only mode, hidden sidebar.

The screen sets plain attributes; the widget decides how they read. Only our own words and
numbers appear here, and they enter as ``Content`` pieces, never as markup.
"""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static


class StatusLine(Static):
    """One line of facts about the session, separated by bars."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        background: $panel;
    }
    """

    indexing: reactive[str] = reactive("")
    """Indexing progress ("" when idle)."""
    skipped: reactive[int] = reactive(0)
    """Posts that could not be read."""
    warnings: reactive[int] = reactive(0)
    """Posts that loaded with a warning."""
    read_only: reactive[bool] = reactive(False)
    sidebar_hidden: reactive[bool] = reactive(False)

    def render(self) -> Content:
        parts: list[tuple[str, str]] = []
        if self.indexing:
            parts.append((self.indexing, "bold"))
        if self.skipped:
            noun = "problem" if self.skipped == 1 else "problems"
            parts.append((f"{self.skipped:,} {noun} (P to list)", "$warning"))
        if self.warnings:
            noun = "warning" if self.warnings == 1 else "warnings"
            parts.append((f"{self.warnings:,} {noun}" + ("" if self.skipped else " (P to list)"), "$text-muted"))
        if self.read_only:
            parts.append(("read-only: triage changes are not saved", "$error"))
        if self.sidebar_hidden:
            parts.append(("ctrl+b sidebar", "dim"))
        content = Content(" ")
        for number, part in enumerate(parts):
            if number:
                content = content + Content.styled("  │  ", "dim")
            content = content + Content.styled(*part)
        return content

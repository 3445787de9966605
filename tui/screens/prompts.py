"""Small modal prompts: a yes/no question, a post's own tags, a note editor and a name."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, SelectionList, Static, TextArea

from index.sanitize import display_safe, one_line

_PROMPT_CSS = """
{name} {{
    align: center middle;
}}
{name} > Vertical {{
    width: 70;
    max-width: 95%;
    height: auto;
    border: round $accent;
    background: $surface;
    padding: 1 2;
}}
{name} Horizontal {{
    height: auto;
    margin-top: 1;
    align-horizontal: right;
}}
{name} Button {{
    margin-left: 2;
}}
"""


class ConfirmScreen(ModalScreen[bool]):
    """Ask a yes/no question: ``y`` answers yes, ``n``/``esc`` no, ``enter`` the default (Yes unless told)."""

    DEFAULT_CSS = _PROMPT_CSS.format(name="ConfirmScreen")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("enter", "answer_default", "Default answer", show=False, id="confirm.enter"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, *, default: bool = True) -> None:
        super().__init__()
        self._question = question
        self._default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(display_safe(self._question)), id="confirm-question")
            with Horizontal():
                yield Button("Yes (y)", variant="primary" if self._default else "default", id="confirm-yes")
                yield Button("No (n)", variant="default" if self._default else "primary", id="confirm-no")

    def on_mount(self) -> None:
        # The default button has focus, so enter presses it.
        self.query_one("#confirm-yes" if self._default else "#confirm-no", Button).focus()

    def action_answer(self, value: bool) -> None:
        """Close with the answer."""
        self.dismiss(value)

    def action_answer_default(self) -> None:
        """Close with the default answer."""
        self.dismiss(self._default)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")


class TagsScreen(ModalScreen[tuple[list[str], list[str]] | None]):
    """A post's own tags: untick one to remove it, type new ones (comma-separated) to add.

    Returns ``(added, removed)`` on ``enter``, ``None`` on ``esc``.
    """

    DEFAULT_CSS = (
        _PROMPT_CSS.format(name="TagsScreen")
        + """
    TagsScreen SelectionList { height: auto; max-height: 12; margin-bottom: 1; }
    TagsScreen #tags-hint { color: $text-muted; }
    """
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="tags.cancel"),
    ]

    def __init__(self, current: list[str], known: list[str] | None = None) -> None:
        super().__init__()
        self._current = list(current)
        self._known = [tag for tag in known or [] if tag.casefold() not in {c.casefold() for c in current}]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Own tags"), id="tags-title")
            if self._current:
                yield SelectionList[str](
                    *((Text(one_line(tag, 80)), tag, True) for tag in self._current), id="tags-current"
                )
            else:
                yield Static(Text("No own tags yet.", "dim"), id="tags-none")
            yield Input(placeholder="add tags, comma-separated", id="tags-input")
            hint = "space unticks (removes) a tag · enter in the box saves · esc cancels"
            if self._known:
                hint += " · in use: " + ", ".join(one_line(tag, 30) for tag in self._known[:8])
            yield Static(Text(hint), id="tags-hint")

    def on_mount(self) -> None:
        self.query_one("#tags-input", Input).focus()

    def _answer(self) -> tuple[list[str], list[str]]:
        typed = self.query_one("#tags-input", Input).value
        added = [" ".join(part.split()) for part in typed.split(",") if part.strip()]
        removed: list[str] = []
        if self._current:
            kept = set(self.query_one("#tags-current", SelectionList).selected)
            removed = [tag for tag in self._current if tag not in kept]
        return added, removed

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(self._answer())

    def action_cancel(self) -> None:
        """Close without changing anything."""
        self.dismiss(None)


class NoteScreen(ModalScreen[str | None]):
    """Edit a note over several lines: ``ctrl+s`` saves, ``esc`` leaves it unchanged."""

    DEFAULT_CSS = (
        _PROMPT_CSS.format(name="NoteScreen")
        + """
    NoteScreen TextArea { height: 10; }
    NoteScreen #note-hint { color: $text-muted; }
    """
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save note", id="note.save"),
        Binding("escape", "cancel", "Cancel", id="note.cancel"),
    ]

    def __init__(self, note: str) -> None:
        super().__init__()
        self._note = note

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Note"), id="note-title")
            yield TextArea(self._note, soft_wrap=True, show_line_numbers=False, id="note-text")
            yield Static(Text("ctrl+s saves · esc cancels · an empty note clears it"), id="note-hint")

    def on_mount(self) -> None:
        area = self.query_one("#note-text", TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def action_save(self) -> None:
        """Close with the text (trailing blank lines dropped)."""
        self.dismiss(self.query_one("#note-text", TextArea).text.rstrip())

    def action_cancel(self) -> None:
        """Close without a change."""
        self.dismiss(None)


class NameScreen(ModalScreen[str | None]):
    """Ask for a name on one line (a feed's): ``enter`` answers, ``esc`` cancels."""

    DEFAULT_CSS = (
        _PROMPT_CSS.format(name="NameScreen")
        + """
    NameScreen #name-hint { color: $text-muted; }
    """
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="name.cancel"),
    ]

    def __init__(self, title: str, value: str = "", hint: str = "") -> None:
        super().__init__()
        self._title = title
        self._value = value
        self._hint = hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(display_safe(self._title)), id="name-title")
            yield Input(self._value, placeholder="name", id="name-input")
            yield Static(Text(display_safe(self._hint or "enter saves · esc cancels")), id="name-hint")

    def on_mount(self) -> None:
        self.query_one("#name-input", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        """Close without a name."""
        self.dismiss(None)

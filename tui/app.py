"""The Spyglass app: opens the corpus and the triage state, shows the main screen, global keys.

Kept small on purpose: everything about posts lives in :mod:`tui.screens.main`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.content import Content

from index.corpus import Corpus
from index.sanitize import one_line
from index.state import StateCorruptError, StateError, TriageState, take_damage_notice
from tui.commands import SpyglassCommands
from tui.keymap import load_keymap
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.widgets.post_list import PostList


def open_triage(path: Path | None = None) -> tuple[TriageState | None, StateError | None]:
    """Open the triage state writable, else read-only; the error says why writing is off."""
    try:
        return TriageState(path), None
    except StateError as error:
        if isinstance(error, StateCorruptError):
            take_damage_notice(path)  # reported right now: not again at the next start
        try:
            return TriageState(path, readonly=True), error
        except StateError:
            return None, error


class SpyglassApp(App[int]):
    """Read, search and triage a folder of threat-intelligence posts."""

    CSS_PATH = "app.tcss"
    TITLE = "Spyglass"
    COMMANDS: ClassVar = App.COMMANDS | {SpyglassCommands}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+t", "change_theme", "Theme", show=False, id="app.theme"),
    ]

    def __init__(self, corpus: Corpus, triage: TriageState | None, state_error: StateError | None = None) -> None:
        super().__init__()
        self.corpus = corpus
        self.triage = triage
        self.state_error = state_error

    @classmethod
    def for_folder(cls, posts_dir: Path, index_dir: Path | None = None) -> SpyglassApp:
        """Open ``posts_dir`` (fast: no scan) and the user's triage state."""
        triage, error = open_triage()
        return cls(Corpus.open(posts_dir, index_dir), triage, error)

    def format_title(self, title: str, sub_title: str) -> Content:
        if not sub_title:
            return Content(title)
        return Content.assemble((title, "bold"), (" ─ ", "dim"), Content(sub_title))

    def on_mount(self) -> None:
        keymap, warning = load_keymap()
        self.set_keymap(keymap)
        if warning:
            self.notify(one_line(warning, 400), title="Key map", severity="warning", timeout=10, markup=False)
        read_only = self.triage is None or self.state_error is not None
        self.push_screen(MainScreen(self.corpus, self.triage, read_only=read_only))
        if (notice := take_damage_notice()) is not None:  # found by a command since the last start
            self.notify(one_line(notice.message, 600), title=notice.title, severity="error", timeout=30, markup=False)
        if self.state_error is not None:
            self.notify(
                one_line(self.state_error.message, 600) + "  Spyglass is read-only: triage changes are not saved.",
                title=one_line(self.state_error.title, 80),
                severity="error",
                timeout=30,
                markup=False,
            )

    def on_unmount(self) -> None:
        if self.triage is not None:
            self.triage.close()
        close = getattr(self.corpus, "close", None)
        if callable(close):
            close()

    def action_help(self) -> None:
        """Help generated from the bindings in force (plus the list's, which are always relevant)."""
        keys: dict[str, list[str]] = {}
        bindings = [active.binding for active in self.screen.active_bindings.values()]
        bindings += Binding.make_bindings(PostList.BINDINGS)
        for binding in bindings:
            if not binding.description or binding.system:
                continue
            shown = keys.setdefault(binding.description, [])
            display = self.get_key_display(binding)
            if display not in shown:
                shown.append(display)
        rows = [(" / ".join(shown), description) for description, shown in keys.items()]
        self.push_screen(HelpScreen(rows))

    async def action_quit(self) -> None:
        """Stop indexing cleanly (the worker sees the cancel and releases the index lock), then leave."""
        self.workers.cancel_all()
        self.exit(0)


def run_app(posts_dir: Path, index_dir: Path | None = None) -> int:
    """Run the app on ``posts_dir``; the exit code for the command line."""
    try:
        app = SpyglassApp.for_folder(posts_dir, index_dir)
    except (OSError, ValueError) as error:
        print(f"spyglass: cannot open {posts_dir}: {error}", file=sys.stderr)
        return 2
    result = app.run()
    return int(result or app.return_code or 0)

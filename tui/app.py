"""The Spyglass app: opens the corpus and the triage state, shows the main screen, global keys.

Kept small on purpose: everything about posts lives in :mod:`tui.screens.main`.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import ClassVar

from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.content import Content

from index.corpus import Corpus
from index.engine.contract import DEFAULT_ENGINE
from index.sanitize import one_line
from index.state import StateCorruptError, StateError, TriageState, take_damage_notice
from tui.commands import SpyglassCommands
from tui.held_keys import HeldKeys
from tui.keymap import config_path, load_keymap, unknown_binding_ids
from tui.messages import ListReady, SettingsChanged
from tui.screens.main import MainScreen
from tui.settings import Settings, load_settings, save_settings


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
        self._settings_loaded = False
        self.keymap: dict[str, str] = {}
        """The user's key map (binding id → keys), from ``keys.toml``."""
        self.held_keys = HeldKeys()
        """Keys typed before the first page of posts is on screen, replayed once it is."""
        self._keymap_warning: str | None = None
        self._keymap_checked = False

    @classmethod
    def for_folder(cls, posts_dir: Path, index_dir: Path | None = None, engine: str = DEFAULT_ENGINE) -> SpyglassApp:
        """Open ``posts_dir`` (fast: no scan) with the search ``engine``, and the user's triage state."""
        triage, error = open_triage()
        return cls(Corpus.open(posts_dir, index_dir, engine=engine), triage, error)

    def format_title(self, title: str, sub_title: str) -> Content:
        if not sub_title:
            return Content(title)
        return Content.assemble((title, "bold"), (" ─ ", "dim"), Content(sub_title))

    def on_mount(self) -> None:
        self.keymap, self._keymap_warning = load_keymap()
        self.set_keymap(self.keymap)
        read_only = self.triage is None or self.state_error is not None
        settings = load_settings()
        if settings.theme is not None and settings.theme in self.available_themes:
            self.theme = settings.theme
        self._settings_loaded = True
        self.push_screen(MainScreen(self.corpus, self.triage, read_only=read_only, settings=settings))
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

    async def on_event(self, event: events.Event) -> None:
        if self.held_keys.hold(event):
            return
        await super().on_event(event)

    def on_list_ready(self, message: ListReady) -> None:
        """The main screen shows its first posts: replay the keys typed until now, in order; then check the
        key map."""
        if self.held_keys.release():
            self.run_worker(self.held_keys.replay(self), group="held-keys", exit_on_error=False)
        self._check_keymap()

    def _check_keymap(self) -> None:
        """Report a key map that could not be read or names ids no binding has. After the first posts are
        painted: knowing every binding id means importing every screen, which the first paint does not need."""
        if self._keymap_checked:
            return
        self._keymap_checked = True
        warning = self._keymap_warning
        if self.keymap:
            from tui.key_help import binding_ids

            unknown = unknown_binding_ids(self.keymap, binding_ids(self.BINDINGS))
            if unknown:
                names = ", ".join(repr(one_line(name, 40)) for name in unknown[:5])
                problem = f"{config_path()}: no key has the id {names}; the ids are listed in help (?)"
                warning = f"{warning}; {problem}" if warning else problem
        if warning:
            self.notify(one_line(warning, 600), title="Key map", severity="warning", timeout=10, markup=False)

    def watch_theme(self, theme: str) -> None:
        """Remember the theme for the next run (once the saved one has been applied)."""
        if self._settings_loaded:
            self._save_settings(Settings(theme=theme))

    def on_settings_changed(self, message: SettingsChanged) -> None:
        """Save a setting a screen changed."""
        self._save_settings(message.changes)

    @work(thread=True, group="settings", exit_on_error=False)
    def _save_settings(self, changes: Settings) -> None:
        """Save in a worker; a failure is a warning, never an interruption."""
        problem = save_settings(changes)
        if problem:
            self.call_from_thread(
                self.notify, one_line(problem, 300), title="Settings not saved", severity="warning", markup=False
            )

    def on_unmount(self) -> None:
        if self.triage is not None:
            self.triage.close()
        close = getattr(self.corpus, "close", None)
        if callable(close):
            close()

    def action_help(self) -> None:
        """Help generated from every pane's bindings, with the user's key map applied."""
        from tui.key_help import key_rows
        from tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(key_rows(self.BINDINGS, self.keymap, self.get_key_display)))

    async def action_quit(self) -> None:
        """Stop indexing cleanly (the worker sees the cancel and releases the index lock), then leave."""
        self.workers.cancel_all()
        self.exit(0)


def run_app(posts_dir: Path, index_dir: Path | None = None, engine: str = DEFAULT_ENGINE) -> int:
    """Run the app on ``posts_dir``; the exit code for the command line."""
    try:
        app = SpyglassApp.for_folder(posts_dir, index_dir, engine)
    except (OSError, ValueError) as error:
        print(f"spyglass: cannot open {posts_dir}: {error}", file=sys.stderr)
        return 2
    loop = asyncio.new_event_loop()  # not asyncio.run: that would wait for every worker thread at exit
    result = app.run(loop=loop)
    code = int(result or app.return_code or 0)
    if app.corpus.updating:
        # Quit during an index write (a commit is not interruptible and can take many seconds): leave now.
        # The index stays consistent: whoosh switches generations with an atomic rename, and a catalog that
        # missed the new generation makes the next start rebuild; the triage state was closed on unmount.
        print("spyglass: quit during an index update; the next start completes it", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    loop.close()
    return code

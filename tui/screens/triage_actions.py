"""What each triage key does on the main screen: which post, the value the user sees, prompts, outcome.

The screen routes :class:`~tui.messages.TriageRequested` here. This class decides what to write
from what is on screen (set the opposite of the mark shown, never a blind toggle), asks before
bulk changes (Enter means No), queues the write through :meth:`MainScreen.write` (a thread
worker) and, when :class:`~tui.messages.TriageSaved` comes back, reports it and keeps the undo
stack. The writes themselves are :mod:`tui.triage` operations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Final

from textual.app import SuspendNotSupported

from index.sanitize import one_line, url_host, url_problem
from index.state import Flag, StateError
from tui.clipboard import Copied, copy_text
from tui.messages import TriageAction, TriageSaved
from tui.triage import Change, SetFlags
from tui.urls import browser_needs_terminal, open_in_browser

if TYPE_CHECKING:
    from tui.screens.main import MainScreen

FLAG_OF: Final[Mapping[str, Flag]] = {"read": "read", "star": "starred", "flag": "flagged", "archive": "archived"}
UNDO_DEPTH: Final = 100
"""Triage actions ``u`` can take back, newest first."""
_READ_ONLY = "read-only: triage changes are not saved"


class TriageActions:
    """The triage keys of one :class:`MainScreen`, and its undo stack."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.undo_stack: list[Change] = []
        self._stale: set[str] = set()
        self._handlers: Mapping[TriageAction, Callable[[str | None], None]] = {
            "read": lambda post_id: self.flag(post_id, "read"),
            "star": lambda post_id: self.flag(post_id, "starred"),
            "flag": lambda post_id: self.flag(post_id, "flagged"),
            "archive": lambda post_id: self.flag(post_id, "archived"),
            "tag": self.tags,
            "note": self.note,
            "undo": lambda _post_id: self.undo(),
            "all_read": lambda _post_id: self.bulk("read"),
            "all_archive": lambda _post_id: self.bulk("archived"),
            "next_unread": lambda _post_id: self.jump_unread(1),
            "previous_unread": lambda _post_id: self.jump_unread(-1),
            "open_url": self.open_url,
            "copy_url": self.copy_url,
        }

    def run(self, action: TriageAction, post_id: str | None) -> None:
        """Carry out one triage key for ``post_id`` (the post on the pane where it was pressed)."""
        self._handlers[action](post_id)

    # ----------------------------------------------------------------- helpers
    def _notify(self, text: str, *, warning: bool = False, timeout: float = 2.0) -> None:
        self.screen.notify(text, severity="warning" if warning else "information", timeout=timeout, markup=False)

    def _can_write(self) -> bool:
        if self.screen.triage is None or self.screen.read_only:
            self._notify(_READ_ONLY, warning=True, timeout=3)
            return False
        return True

    def _hash(self, post_id: str) -> str:
        row = self.screen.post_list.row(post_id)
        return row.content_hash if row is not None else ""

    def _archive_view(self) -> bool:
        return "is:archived" in self.screen.search_query.lower()

    # ----------------------------------------------------------------- flags
    def flag(self, post_id: str | None, flag: Flag) -> None:
        """Set ``flag`` to the opposite of the mark shown for ``post_id``."""
        if post_id is None or not self._can_write():
            return
        screen = self.screen
        shown = bool(getattr(screen.post_list.marks(post_id), flag))
        screen.triage_flag_shown(post_id, flag, not shown)
        if flag == "archived" and (not shown) != self._archive_view():
            screen.post_list.remove_ids({post_id})
        content_hash = self._hash(post_id)
        screen.write(lambda triage: triage.toggle(post_id, flag, shown, content_hash), [post_id])

    def mark_read(self, post_id: str) -> None:
        """The post stayed open long enough: it is read (quietly; ``u`` does not take this back)."""
        screen = self.screen
        if screen.triage is None or screen.read_only or screen.post_list.marks(post_id).read:
            return
        screen.triage_flag_shown(post_id, "read", True)
        content_hash = self._hash(post_id)
        screen.write(lambda triage: triage.set_flag(post_id, "read", True, content_hash), [post_id], origin="auto")

    def bulk(self, flag: Flag) -> None:
        """Set ``flag`` on every result, after asking (the default answer is No)."""
        screen = self.screen
        if not self._can_write() or screen.triage is None:
            return
        if screen.result is not None and not screen.result.complete:
            self._notify("Still counting the results; try again in a moment", timeout=3)
            return
        ids = list(screen.post_list.ids)
        if not ids:
            self._notify("No results to change")
            return
        count = len(ids)
        if flag == "archived":
            value = not self._archive_view()  # in an is:archived view, A restores
            question = (
                f"Archive all {count:,} results?" if value else f"Restore all {count:,} results from the archive?"
            )
        else:
            try:
                read = screen.triage.ids_with("read")
            except StateError as error:
                screen.state_failed(error)
                return
            value = not all(post_id in read for post_id in ids)
            question = (
                f"Mark all {count:,} results read?" if value else f"All {count:,} results are read. Mark them unread?"
            )

        def confirmed(yes: bool | None) -> None:
            if yes:
                screen.write(lambda triage: triage.set_many(ids, flag, value), ids)

        from tui.screens.prompts import ConfirmScreen

        screen.app.push_screen(ConfirmScreen(question, default=False), confirmed)

    # ----------------------------------------------------------------- tags and notes
    def tags(self, post_id: str | None) -> None:
        """Show the post's own tags: untick to remove, type to add."""
        screen = self.screen
        if post_id is None or not self._can_write() or screen.triage is None:
            return
        try:
            current = screen.triage.tags_of(post_id)
            known = [tag for tag, _count in screen.triage.all_own_tags()]
        except StateError as error:
            screen.state_failed(error)
            return
        content_hash = self._hash(post_id)

        def save(answer: tuple[list[str], list[str]] | None) -> None:
            if answer is None or not (answer[0] or answer[1]):
                return
            add, remove = answer
            screen.write(lambda triage: triage.tag(post_id, add, remove, content_hash), [post_id])

        from tui.screens.prompts import TagsScreen

        screen.app.push_screen(TagsScreen(current, known), save)

    def note(self, post_id: str | None) -> None:
        """Edit the post's note in a multi-line editor."""
        screen = self.screen
        if post_id is None or not self._can_write() or screen.triage is None:
            return
        try:
            current = screen.triage.get(post_id).note
        except StateError as error:
            screen.state_failed(error)
            return
        content_hash = self._hash(post_id)

        def save(note: str | None) -> None:
            if note is not None and note != current:
                screen.write(lambda triage: triage.note(post_id, note, content_hash), [post_id])

        from tui.screens.prompts import NoteScreen

        screen.app.push_screen(NoteScreen(current), save)

    # ----------------------------------------------------------------- undo and outcome
    def undo(self) -> None:
        """Take back the last triage action (bulk ones too)."""
        if not self._can_write():
            return
        if not self.undo_stack:
            self._notify("Nothing to undo")
            return
        change = self.undo_stack.pop()
        self.screen.write(lambda triage: triage.undo(change), change.ids, origin="undo")

    def saved(self, message: TriageSaved) -> None:
        """A write came back from the worker: report it, remember it for undo, fix up the list."""
        screen = self.screen
        self._stale.update(message.ids)
        if message.refused:
            self._notify(one_line(message.refused, 200), warning=True)
            return
        if message.error is not None:
            screen.state_failed(message.error)
            screen.post_list.refresh_marks(message.ids)
            screen.refresh_list()
            return
        change = message.change
        if change is None:
            return
        if message.origin == "key":
            self.undo_stack.append(change)
            del self.undo_stack[:-UNDO_DEPTH]
        if message.origin != "auto":
            self._notify(change.message, timeout=2)
        operation = change.operation
        if isinstance(operation, SetFlags) and operation.flag == "archived":
            # Posts came back or went away: the search decides where, and counts the hits and the
            # sidebar's totals again (the other flags leave the hits alone: only the unread counts move).
            screen.refresh_list()

    def writes_done(self) -> None:
        """Every queued write has run: show the stored marks of the posts they touched."""
        if self._stale:
            self.screen.post_list.refresh_marks(sorted(self._stale))
            self.screen.show_own_marks()
            self.screen.recount_unread()
            self._stale.clear()

    # ----------------------------------------------------------------- moving and links
    def jump_unread(self, step: int) -> None:
        """Move the list's cursor to the next (1) or previous (-1) unread post."""
        screen = self.screen
        if screen.triage is None:
            self._notify("read-only: no triage state", warning=True, timeout=3)
            return
        try:
            read = screen.triage.ids_with("read")
        except StateError as error:
            screen.state_failed(error)
            return
        listed = screen.post_list
        ids = listed.ids
        # From the list's cursor, not the post the key came from: after a quick second n the article still
        # shows the post before, while the cursor is already on the one the first n chose.
        position = listed.cursor + step
        while 0 <= position < len(ids):
            if ids[position] not in read:
                listed.cursor = position
                return
            position += step
        self._notify("No more unread posts" if step > 0 else "No earlier unread posts")

    def _url(self, post_id: str | None) -> str | None:
        """The post's source URL if it may leave the app (the same rule for opening and copying)."""
        row = self.screen.post_list.row(post_id) if post_id else None
        url = row.url.strip() if row is not None else ""
        if not url:
            self._notify("This post has no source URL", warning=True, timeout=3)
            return None
        problem = url_problem(url)
        if problem is not None:
            self._notify(f"Refused: {problem} ({one_line(url, 120)})", warning=True, timeout=5)
            return None
        return url

    def open_url(self, post_id: str | None) -> None:
        """Open the source URL in the browser, after asking."""
        url = self._url(post_id)
        if url is None:
            return
        screen = self.screen

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._open(url)

        # The host on its own line: a long URL cut short could show a trusted name the link never reaches.
        question = f"Open this link in the browser?\nHost: {one_line(url_host(url), 100)}\n{one_line(url, 200)}"
        from tui.screens.prompts import ConfirmScreen

        screen.app.push_screen(ConfirmScreen(question), confirmed)

    def _open(self, url: str) -> None:
        """A terminal browser runs with the app suspended meanwhile; a graphical one starts in a worker."""
        screen = self.screen
        if not browser_needs_terminal():
            screen.run_worker(partial(self._open_in_background, url), thread=True, group="browser", exit_on_error=False)
            return
        try:
            with screen.app.suspend():
                started = open_in_browser(url)
        except SuspendNotSupported:
            self._notify("This terminal cannot hand over to a terminal browser", warning=True, timeout=5)
            return
        if not started:
            self._notify("The browser could not be started", warning=True, timeout=5)

    def _open_in_background(self, url: str) -> None:
        if not open_in_browser(url):
            self.screen.app.call_from_thread(self._notify, "No browser could be started", warning=True, timeout=5)

    def copy_url(self, post_id: str | None) -> None:
        """Copy the URL: to the system clipboard when a tool for it is here, else through the terminal
        (OSC 52); the tool runs in a worker, so a hung one never freezes the keys."""
        url = self._url(post_id)
        if url is None:
            return
        copy = partial(self._copy_in_background, url)
        self.screen.run_worker(copy, thread=True, group="clipboard", exit_on_error=False)

    def _copy_in_background(self, url: str) -> None:
        copied = copy_text(url)
        self.screen.app.call_from_thread(self._copied, url, copied)

    def _copied(self, url: str, copied: Copied) -> None:
        """Say honestly where the URL went; OSC 52 only when no system clipboard took it."""
        shown = one_line(url, 300)
        if copied.tool is not None:
            self._notify(f"Copied to the clipboard ({copied.tool}): {shown}", timeout=4)
            return
        self.screen.app.copy_to_clipboard(url)
        failed = "".join(f"{failure}. " for failure in copied.failures)
        self._notify(
            f"{failed}Sent to the terminal (OSC 52) — the terminal may not support it, and none says whether "
            f"it did; if pasting fails, copy it from here: {shown}",
            warning=bool(copied.failures),
            timeout=8,
        )

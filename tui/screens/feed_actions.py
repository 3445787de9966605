"""Feeds and the state watch on the main screen: the sidebar's own sections, and other instances' changes.

Saved searches ("feeds", :mod:`tui.feeds`) and own tags are counted in a worker, never on the event loop.
A timer asks the triage state for its version every :data:`POLL_SECONDS`, also in a worker (the read
may wait for a lock): when it moved, because this app or another Spyglass on the same file wrote, the
marks on screen and the counts are read again, so another window's changes show within a second.
"""

from __future__ import annotations

from collections.abc import Hashable
from contextlib import suppress
from typing import TYPE_CHECKING

from textual.worker import get_current_worker

from index.feeds import unread_counts
from index.sanitize import one_line
from index.state import StateError
from tui.commands import SearchRequested
from tui.feeds import delete_feed, load_feeds, rename_feed, save_feed
from tui.messages import FeedsCounted, StateMoved

if TYPE_CHECKING:
    from tui.screens.main import MainScreen

POLL_SECONDS = 0.5
"""How often the state's version is read: another instance's change shows within about this long."""


class FeedActions:
    """What the main screen does for feeds, own-tag counts and the state watch."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.queries: dict[str, str] = {}  # feed name -> query, as last counted
        self._version: Hashable | None = None
        self._archived: frozenset[str] = frozenset()  # the archived posts at the last look

    def start(self) -> None:
        """Count once now, then watch the state."""
        self.recount()
        triage = self.screen.triage
        if triage is not None:
            with suppress(StateError):  # else the first poll takes the baseline
                self._version = triage.version()  # now: a change from here on is noticed, even before a poll
                self._archived = frozenset(triage.ids_with("archived"))
            self.screen.set_interval(POLL_SECONDS, self._poll, name="state watch")

    # ----------------------------------------------------------------- counting (worker)
    def recount(self) -> None:
        """Count feeds and own tags again, off the event loop (the newest request wins)."""
        self.screen.run_worker(self._count, thread=True, group="feeds", exclusive=True, exit_on_error=False)

    def _count(self) -> None:
        screen = self.screen
        worker = get_current_worker()
        feeds = load_feeds()
        counts = unread_counts(screen.corpus, [f.query for f in feeds], screen.triage, lambda: worker.is_cancelled)
        if worker.is_cancelled:
            return
        own = screen.triage.all_own_tags() if screen.triage is not None else []
        screen.post_message(FeedsCounted([(f.name, f.query, counts.get(f.query)) for f in feeds], own))

    def counted(self, message: FeedsCounted) -> None:
        self.queries = {name: query for name, query, _ in message.feeds}
        self.screen.sidebar.show_own([(name, unread) for name, _, unread in message.feeds], message.own_tags)

    # ----------------------------------------------------------------- the state watch
    def _poll(self) -> None:
        self.screen.run_worker(self._check, thread=True, group="state watch", exclusive=True, exit_on_error=False)

    def _check(self) -> None:
        triage = self.screen.triage
        if triage is None:
            return
        try:
            version = triage.version()
            if version == self._version:
                return
            archived = frozenset(triage.ids_with("archived"))
        except StateError:  # a closed or failing state: the write path reports it
            return
        first = self._version is None
        moved = archived != self._archived
        self._version, self._archived = version, archived
        if not first:
            self.screen.post_message(StateMoved(archived=moved))

    def moved(self, message: StateMoved) -> None:
        """Show the stored marks again: the list's, the article header's, and the counts (feeds, own tags,
        and the unread posts beside tags and entities). When posts were archived or restored (here or in
        another Spyglass), search again: they leave or join the result (after this app's own archiving the
        answer is cached, so the second search is cheap and changes nothing)."""
        self.screen.post_list.refresh_marks()
        self.screen.show_own_marks()
        self.recount()
        if message.archived:
            self.screen.refresh_list()
        else:
            self.screen.recount_unread()

    # ----------------------------------------------------------------- the user's feeds
    def ask_to_save(self) -> None:
        """Prompt for a name and save the current search (query and filters) as a feed."""
        query = self.screen.search_query
        if not query:
            self.screen.notify("Type a search first: a feed is a saved search", severity="warning", timeout=3)
            return
        existing = next((name for name, saved in self.queries.items() if saved == query), "")
        hint = f"saves: {one_line(query, 200)} · enter saves · esc cancels"

        def done(name: str | None) -> None:
            if name is not None:
                self._saved(save_feed(name, query), f"Feed saved: {one_line(name, 80)}")

        from tui.screens.prompts import NameScreen

        self.screen.app.push_screen(NameScreen("Save search as feed", existing, hint), done)

    def act(self, action: str, name: str) -> None:
        """A feed picked in the sidebar: run, rename or delete it."""
        if action == "run" and name in self.queries:
            self.screen.post_message(SearchRequested(self.queries[name]))
        elif action == "rename":

            def renamed(new: str | None) -> None:
                if new is not None and new != name:
                    self._saved(rename_feed(name, new), f"Feed renamed: {one_line(new, 80)}")

            from tui.screens.prompts import NameScreen

            self.screen.app.push_screen(NameScreen("Rename feed", name), renamed)
        elif action == "delete":

            def deleted(sure: bool | None) -> None:
                if sure:
                    self._saved(delete_feed(name), f"Feed deleted: {one_line(name, 80)}")

            from tui.screens.prompts import ConfirmScreen

            self.screen.app.push_screen(ConfirmScreen(f"Delete the feed {name}?", default=False), deleted)

    def _saved(self, problem: str | None, done: str) -> None:
        if problem is not None:
            self.screen.notify(one_line(problem, 300), title="Feed not saved", severity="error", markup=False)
            return
        self.screen.notify(done, timeout=2, markup=False)
        self.recount()

"""The main screen: sidebar | search + post list | article, a status line, and the routing between them.

Widgets say what the user wants (messages up); this screen decides, runs the blocking work
(search, loading a post, indexing, every triage write) in thread workers, and pushes results
down with method calls. Triage itself is :class:`tui.triage.Triage`, Textual-free; writes run
one at a time in a worker so a locked state file never freezes the keys. What each triage key
means on screen (prompts, undo, links) lives in :mod:`tui.screens.triage_actions`.

It is longer than a layout alone (~900 lines) because it owns six workers and their messages
(search, post loading, indexing, the first build's preview, triage writes, the sidebar's unread recount),
the "read means opened" timer (which needs the focus, the shown post and the list together) and the entry points of the
dossier and export screens; each section below is one of those. Feeds, own-tag counts and the watch for other
instances' changes are :class:`tui.screens.feed_actions.FeedActions`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING, ClassVar, Literal

from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from index.corpus import Corpus, PostRow, SearchResult, UpdateProgress, UpdateReport
from index.posts import Post, PostProblem
from index.preview import preview_files, preview_rows
from index.query import compose_query, filter_term
from index.sanitize import one_line
from index.searching import hidden_by_state
from index.state import Flag, StateError, TriageState
from index.unread import UnreadFacets
from index.vocabulary import technique_id
from tui.commands import SearchRequested
from tui.held_answer import HeldFirstScreen
from tui.messages import (
    FeedsCounted,
    FolderChanged,
    IndexFinished,
    IndexProgress,
    ListReady,
    PostLoaded,
    PreviewListed,
    PreviewRead,
    SearchFinished,
    SettingsChanged,
    StateMoved,
    TriageRequested,
    TriageSaved,
    UnreadCounted,
)
from tui.screens.feed_actions import FeedActions
from tui.screens.single_pane import SinglePane
from tui.screens.triage_actions import TriageActions
from tui.settings import Settings, Sort
from tui.triage import Change, Triage, WriteQueue
from tui.widgets.article import ArticleView
from tui.widgets.filter_chips import FilterChips
from tui.widgets.post_list import Marks, PostList
from tui.widgets.search_bar import QueryInput, SearchBar
from tui.widgets.sidebar import TOP as SIDEBAR_TOP
from tui.widgets.sidebar import Filter, Sidebar
from tui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from tui.screens.dossier import DossierChoice

READ_DELAY = 1.5
"""Seconds a post the user opened stays in the article pane before it counts as read (default of the
``read_delay`` setting)."""
FIRST_SCREEN = 200
"""Hits asked for first, so the list fills before the full count and facets are ready."""
PREVIEW_BATCH = 100
"""Front matters read between two repaints of a first build's preview list."""
FRAME = 1 / 60
"""Seconds a first screen waits for its complete answer, so that both change the screen once (Textual paints at
most 60 frames a second)."""
FIRST_PAINT_POLL = 0.02
"""Seconds between two looks at a cancelled search while the start's complete answer waits for the first paint."""
FIRST_PAINT_WAIT = 5.0
"""Longest that wait, should the first paint never be reported."""
LIST_FRAME_WAIT = 0.5
"""Longest the start's background work waits for the first list's frame: on a terminal a few rows high the
docked lines cover the list, which is then never drawn (and the keys typed meanwhile wait for that work)."""


def _counted(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def changes_note(report: UpdateReport) -> str:
    """``2 new posts, 1 changed``: what an update while the app runs brought in ("" when nothing)."""
    parts = []
    if report.added:
        parts.append(_counted(report.added, "new post", "new posts"))
    if report.changed:
        parts.append(f"{report.changed:,} changed")
    if report.removed:
        parts.append(f"{report.removed:,} removed")
    return ", ".join(parts)


def _note(result: SearchResult) -> str | None:
    """What the search bar should add about a cut-short result."""
    notes = list(result.notes)
    if result.partial:
        notes.insert(0, "partial result (time limit)")
    return "; ".join(notes) or None


class MainScreen(Screen[None]):
    """Browse, search and triage one corpus."""

    CSS_PATH = "main.tcss"
    AUTO_FOCUS = "#posts"  # the list, always: triage keys live there, and the search box must not win a race

    BINDINGS: ClassVar[list[BindingType]] = [
        # A priority binding runs as the app reads the key, before it hands on the next one: the rest of a
        # burst such as "/china" then finds the search box focused (see action_focus_search).
        Binding("slash", "focus_search", "Search", id="main.search", priority=True),
        Binding("escape", "focus_list", "Back to list", show=False, id="main.back"),
        Binding("tab", "next_pane", "Next pane", show=False, id="main.next_pane"),
        Binding("shift+tab", "previous_pane", "Previous pane", show=False, id="main.previous_pane"),
        Binding("ctrl+b,b", "toggle_sidebar", "Sidebar", show=False, id="main.sidebar"),
        Binding("ctrl+s,S", "toggle_sort", "Sort date/relevance", show=False, id="main.sort"),
        Binding("c,x", "clear_filters", "Clear filters", show=False, id="main.clear_filters"),
        Binding("backspace", "remove_last_filter", "Remove the last filter", show=False, id="main.remove_filter"),
        Binding("P", "show_problems", "Problems", show=False, id="main.problems"),
        Binding("d", "dossier", "Dossier", show=False, id="main.dossier"),
        Binding("E", "export", "Export results", show=False, id="main.export"),
        Binding("ctrl+r", "rescan", "Rescan folder", show=False, id="main.rescan"),
        Binding("F", "save_feed", "Save search as feed", show=False, id="main.save_feed"),
    ]

    # ``var``, not ``reactive``: a reactive on the screen repaints the whole screen when it changes (every
    # query), and their watchers already update the widgets that show them.
    query_text: var[str] = var("", init=False)
    """The query as the user typed it."""
    filters: var[tuple[Filter, ...]] = var((), init=False)
    """Facet filters ANDed with the query."""
    sort: var[Sort] = var("date", init=False)
    show_sidebar: var[bool] = var(True, init=False)
    read_only: var[bool] = var(False, init=False)
    indexing: var[str] = var("", init=False)
    """Indexing status for the status line ("" when idle)."""

    def __init__(
        self, corpus: Corpus, triage: TriageState | None, *, read_only: bool = False, settings: Settings | None = None
    ) -> None:
        super().__init__()
        self.corpus = corpus
        self.triage = triage
        self.settings = settings or Settings()
        """What was remembered from the last run (sort order, read delay)."""
        self.set_reactive(MainScreen.read_only, read_only or triage is None or triage.readonly)
        if self.settings.sort is not None:
            self.set_reactive(MainScreen.sort, self.settings.sort)
        self.result: SearchResult | None = None
        self.actions = TriageActions(self)
        self.feeds = FeedActions(self)
        self.panes = SinglePane(self, self.settings.single_pane_width)
        """One pane at a time on a narrow terminal."""
        self._writes = WriteQueue()
        self._serial = 0
        self._read_timer: Timer | None = None
        self._chosen: str | None = None  # the post the user moved to or opened (not one a search put first)
        self._shown: str | None = None
        self._post: Post | PostProblem | None = None
        self._stems: frozenset[str] = frozenset()  # what the article highlights: the search's matched stems
        self._first_paint_pending = False
        self._start_staged = False  # what follows the first paint is set going (_first_answer)
        self._start_fallback: Timer | None = None  # starts it should the list never be drawn (no room for it)
        self._first_painted = threading.Event()
        """Set a frame after the first list is painted: the start's complete answer (count, facets and their labels,
        which load the entity knowledge) is computed after that paint, not beside it."""
        self._updates = 0  # updates finished: the first brings the index in step, later ones are live
        self._update_again = False  # the folder changed (or ctrl+r) while an update ran
        self._manual = False  # the running update was asked for with ctrl+r: say so even if nothing changed
        self._hold: tuple[str | None, int] | None = None  # (post id, rows below the top) to keep across a refresh
        self._progress: UpdateProgress | None = None  # the running update's last step
        self._stage_started = 0.0
        self._clock: Timer | None = None  # ticks the elapsed seconds of a long stage (a commit reports no steps)
        self._preview_ids: list[str] = []  # a first build: the posts listed from the folder until the catalog has them
        self._preview_rows: dict[str, PostRow] = {}
        self._listing = False  # a first build's posts are being listed: an empty list is not "0 hits" yet

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield Header(icon="⌕")
        with Horizontal(id="panes"):
            yield Sidebar(id="sidebar")
            with Vertical(id="center"):
                yield SearchBar(id="search")
                yield FilterChips(id="chips")
                yield PostList(self._fetch_rows, self.fetch_marks, id="posts")
            yield ArticleView(id="article")
        yield StatusLine(id="status")
        yield Footer()

    @property
    def post_list(self) -> PostList:
        return self.query_one("#posts", PostList)

    @property
    def search_bar(self) -> SearchBar:
        return self.query_one("#search", SearchBar)

    @property
    def sidebar(self) -> Sidebar:
        return self.query_one("#sidebar", Sidebar)

    @property
    def article(self) -> ArticleView:
        return self.query_one("#article", ArticleView)

    def on_mount(self) -> None:
        if self.app.size.width < 100:
            self.show_sidebar = False
        self.panes.resized(self.app.size.width)
        self.panes.apply()
        self.post_list.focus()
        self._update_title()
        self.indexing = "indexing…"  # its watcher syncs the status line
        self._first_paint_pending = True  # what the first screen does not need waits for it (_first_answer)
        self._start_search()
        if not len(self.corpus):
            self._listing = True
            self._preview()

    def on_resize(self) -> None:
        self.set_class(self.size.width < 100, "-narrow")
        self.panes.resized(self.size.width)

    def on_unmount(self) -> None:
        self.workers.cancel_group(self, "watch")
        self.workers.cancel_group(self, "index")
        self.workers.cancel_group(self, "preview")
        # A triage write the user already asked for must land before the state is closed.
        timeout = self.triage.busy_timeout + 1 if self.triage is not None else 1
        self._writes.wait(timeout)

    # ----------------------------------------------------------------- data for the list
    def _fetch_rows(self, ids: Sequence[str]) -> list[PostRow]:
        try:
            rows = self.corpus.rows(ids)
        except Exception as error:  # a damaged catalog must not break painting
            self.log.error("rows failed", error)
            rows = []
        if self._preview_rows and len(rows) < len(ids):
            missing = set(ids) - {row.post_id for row in rows}
            rows += [row for post_id in missing if (row := self._preview_rows.get(post_id)) is not None]
        return rows

    def fetch_marks(self, ids: Sequence[str]) -> Mapping[str, Marks]:
        """The triage marks of ``ids``, in one batch (reads never wait for a pending write)."""
        if self.triage is None:
            return {}
        try:
            states = self.triage.get_many(ids)
        except StateError as error:
            self.log.error("marks failed", error)
            return {}
        return {
            post_id: Marks(s.read, s.starred, s.flagged, s.archived, bool(s.tags), bool(s.note))
            for post_id, s in states.items()
        }

    # ----------------------------------------------------------------- title and status
    def _update_title(self) -> None:
        folder = one_line(Path(self.corpus.posts_dir).name or str(self.corpus.posts_dir), 60)
        parts = [folder, f"{len(self.corpus):,} posts"]
        query = self.search_query
        if query:
            parts.append(f"query: {one_line(query, 120)}")
        title = " ─ ".join(parts)
        if title == self.sub_title:
            return
        # Set without Textual's reactive: that repaints the whole screen and lays the header out again for
        # a title that changes with every query; the header's title line is redrawn alone instead.
        self.set_reactive(Screen.sub_title, title)
        for header in self.query("HeaderTitle").results(Static):
            header.update(self.app.format_title(self.title or self.app.title, title), layout=False)

    def _sync_status(self) -> None:
        status = self.query_one(StatusLine)
        problems = self.corpus.problems
        status.skipped = sum(1 for problem in problems if problem.skipped)
        status.warnings = len(problems) - status.skipped
        status.indexing = self.indexing
        status.read_only = self.read_only
        status.sidebar_hidden = not self.show_sidebar

    def watch_indexing(self) -> None:
        self._sync_status()

    def watch_read_only(self) -> None:
        self._sync_status()

    def watch_show_sidebar(self, show: bool) -> None:
        self.panes.apply()
        if not show and self.sidebar.has_focus:
            self.post_list.focus()
        self._sync_status()

    # ----------------------------------------------------------------- search
    @property
    def search_query(self) -> str:
        """The query as searched: the typed text AND the filters."""
        return compose_query(self.query_text, self.filters)

    def watch_query_text(self) -> None:
        self._start_search()

    def watch_filters(self) -> None:
        chips = self.query_one("#chips", FilterChips)
        if not self.filters and chips.has_focus:
            self.set_focus(self.post_list)  # before the row hides with its last chip
        chips.show(self.filters)
        self._start_search()

    def watch_sort(self) -> None:
        self._start_search()

    def _start_search(self) -> None:
        self._serial += 1
        self._update_title()
        self._search(self._serial, self.search_query, self.sort)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, serial: int, query: str, sort: Sort) -> None:
        worker = get_current_worker()
        first = self.corpus.search(
            query, sort=sort, state=self.triage, limit=FIRST_SCREEN, complete=False, snippets=False, labels=True
        )
        held: HeldFirstScreen | None = None
        if first.complete:
            result = first
        else:
            # The newest hits first, so the list fills at once; the count and facets follow. After the start, the
            # first screen waits a frame for them: when they come within it, the screen changes once.
            def post_first() -> None:
                if not worker.is_cancelled:
                    self.post_message(SearchFinished(serial, first))

            if self._first_painted.is_set():
                held = HeldFirstScreen(post_first, FRAME)
            else:
                post_first()
                waited = 0.0
                while not self._first_painted.wait(FIRST_PAINT_POLL) and waited < FIRST_PAINT_WAIT:
                    if worker.is_cancelled:
                        return
                    waited += FIRST_PAINT_POLL
            result = self.corpus.search(query, sort=sort, state=self.triage, snippets=False, labels=True)
        if worker.is_cancelled:
            return
        # Counted before the answer goes out, so the sidebar never shows totals alone in between.
        unread = self._count_unread(result) if result.complete else {}
        if held is not None:
            held.settle()
        if not worker.is_cancelled:
            self.post_message(SearchFinished(serial, result, unread))

    def _count_unread(self, result: SearchResult) -> UnreadFacets:
        """Unread posts per facet entry the sidebar shows (worker threads only: reads the triage state)."""
        if result.error is not None or not result.facets:
            return {}
        try:
            return self.corpus.unread_facets(result, self.triage, SIDEBAR_TOP)
        except StateError as error:  # a failing state: the totals still show, the write path reports it
            self.log.error("unread counts failed", error)
            return {}

    def recount_unread(self) -> None:
        """Count the sidebar's unread posts again (a triage change here or in another Spyglass), without
        searching again: the hits stay, only which of them are read moved."""
        result = self.result
        if result is not None and result.complete and result.facets:
            self._recount_unread(self._serial, result)

    @work(thread=True, exclusive=True, group="unread", exit_on_error=False)
    def _recount_unread(self, serial: int, result: SearchResult) -> None:
        unread = self._count_unread(result)
        if not get_current_worker().is_cancelled:
            self.post_message(UnreadCounted(serial, unread))

    @on(UnreadCounted)
    def _unread_counted(self, message: UnreadCounted) -> None:
        if message.serial == self._serial:  # else a newer search brings its own counts
            self.sidebar.show_unread(message.unread)

    def _first_answer(self) -> None:
        """The first list is on the terminal: start what it did not need, one piece a frame.

        Each piece runs in a thread that holds the GIL against the main thread (at 100k posts: the complete
        answer reads the catalog, the folder watch sets up, the start-up update stats every file). Started
        while the first frame is still being drawn, they would starve the main thread and hold that frame
        back; so the first piece (the keys typed meanwhile, the complete answer, the first post's article:
        what the user sees next) starts a frame after the filled list was drawn, when the terminal has it, and
        the folder watch, the feed counts and the start-up update a frame apart after it."""
        if self._start_staged:
            return
        self._start_staged = True
        if self._start_fallback is not None:
            self._start_fallback.stop()
        # The watch before the update: a change from then on is seen by one or the other.
        self._start_in_turn([self._first_shown, self._watch, self.feeds.start, self._index])

    def _start_in_turn(self, steps: Sequence[Callable[[], object]]) -> None:
        """Run ``steps`` a frame apart, the first a frame from now."""
        if not steps:
            return

        def step() -> None:
            steps[0]()
            self._start_in_turn(steps[1:])

        self.set_timer(FRAME, step)

    def _first_shown(self) -> None:
        """What the user sees next after the first list: its complete answer, the first post's article; and the
        keys typed meanwhile, let through (the app holds them until the list has posts to act on)."""
        self._first_paint_pending = False
        self._first_painted.set()
        self.post_message(ListReady())
        if self._shown is not None and self._post is None:
            self._load(self._shown)

    @on(SearchFinished)
    def _search_finished(self, message: SearchFinished) -> None:
        if not self._start_staged and self._start_fallback is None:
            # The list takes the answer below and draws it in a coming frame. (Not call_after_refresh: on a screen
            # idle while the catalog answered, that runs before the list has even asked for its repaint.)
            self.post_list.after_paint(self._first_answer)
            self._start_fallback = self.set_timer(LIST_FRAME_WAIT, self._first_answer)
        if message.serial != self._serial:
            return  # a newer query is on its way: last query wins
        result = message.result
        if result.error is not None and self.result is not None:
            # A query half-typed into a syntax error: keep the last good list, explain under the box.
            self.search_bar.show_result(result.total, result.elapsed, self.sort, result.error)
            return
        self.result = result
        ids = result.ids
        preview = not ids and not self.search_query and bool(self._preview_ids)
        if preview:
            ids = self._previewed()
        if self.search_query:
            empty = f"No posts match {one_line(self.search_query, 200)}"
        elif self.indexing:
            empty = "No posts indexed yet — indexing…"
        else:
            empty = f"No posts in {one_line(str(self.corpus.posts_dir), 200)}"
        if self._hold is not None:
            keep, row = self._hold
            self.post_list.set_ids(ids, keep=keep, empty_message=empty, row=row)
            if result.complete:
                self._hold = None
        else:
            self.post_list.set_ids(ids, keep=self.post_list.current, empty_message=empty)
        listing = not ids and not self.search_query and self._listing
        if preview:  # no hit count: nothing was searched yet
            self.search_bar.show_text(self._preview_note(len(ids), _note(result)))
        elif listing:
            self.search_bar.show_text("listing posts…")
        elif not result.complete:
            self.search_bar.show_text(f"{result.total:,}+ hits · counting…")
        if not result.complete:
            return
        self.sidebar.show_facets(result.facets, self.filters, result.labels, message.unread)
        note = _note(result)
        if self._updates == 0 and self.indexing and self._progress is not None and self._progress.total:
            # A first build: the catalog answers only once the index is committed.
            ready = f"index not ready — {self._progress.done:,} of {self._progress.total:,} indexed"
            note = f"{ready}; {note}" if note else ready
        if not preview and not listing:
            self.search_bar.show_result(result.total, result.elapsed, self.sort, result.error, note)
        if not ids:
            self._show_post(None)

    @on(SearchBar.QueryChanged)
    def _query_changed(self, message: SearchBar.QueryChanged) -> None:
        self.query_text = message.query

    @on(SearchRequested)
    def _palette_search(self, message: SearchRequested) -> None:
        self.filters = ()
        self.search_bar.set_query(message.query)
        self.post_list.focus()

    @on(SearchBar.Done)
    def _search_done(self) -> None:
        self.post_list.focus()

    @on(Sidebar.FilterToggled)
    def _filter_toggled(self, message: Sidebar.FilterToggled) -> None:
        entry = (message.kind, message.value)
        same = [f for f in self.filters if f[0] == entry[0] and f[1].casefold() == entry[1].casefold()]
        if same:
            self.filters = tuple(f for f in self.filters if f not in same)
        else:
            self.filters = (*self.filters, entry)

    @on(FilterChips.Removed)
    def _chip_removed(self, message: FilterChips.Removed) -> None:
        self.filters = tuple(f for f in self.filters if f != message.filter)

    def action_remove_last_filter(self) -> None:
        self.filters = self.filters[:-1]

    @on(QueryInput.EmptyBackspace)
    def _empty_backspace(self) -> None:
        self.action_remove_last_filter()

    @on(ArticleView.EntitySelected)
    def _pivot(self, message: ArticleView.EntitySelected) -> None:
        self.filters = ()
        value = message.canonical
        if message.kind == "TECHNIQUE" and technique_id(message.ref):
            value = message.ref
        self.search_bar.set_query(filter_term(message.kind, value))
        self.post_list.focus()

    @on(Sidebar.FeedAction)
    def _feed_action(self, message: Sidebar.FeedAction) -> None:
        self.feeds.act(message.action, message.name)

    @on(FeedsCounted)
    def _feeds_counted(self, message: FeedsCounted) -> None:
        self.feeds.counted(message)

    @on(StateMoved)
    def _state_moved(self, message: StateMoved) -> None:
        self.feeds.moved(message)

    def action_save_feed(self) -> None:
        self.feeds.ask_to_save()

    def set_query(self, query: str) -> None:
        """Replace the query (used by the command palette)."""
        self.search_bar.set_query(query)

    # ----------------------------------------------------------------- article and "read means opened"
    @on(PostList.Highlighted)
    def _highlighted(self, message: PostList.Highlighted) -> None:
        # A post a new list put under the cursor was not chosen: showing it does not read it.
        if not message.fresh:
            self._chosen = message.post_id
        elif message.post_id != self._chosen:
            self._chosen = None
        stems = self.result.stems if self.result else frozenset()
        if message.post_id is not None and message.post_id == self._shown and self._post is not None:
            # Same post after a new search: refresh the highlights, keep the read timer running.
            if stems != self._stems:
                self._stems = stems
                self.article.show(self._post, stems)
            return
        self._cancel_read_timer()
        self._show_post(message.post_id)

    @on(PostList.Selected)
    def _selected(self, message: PostList.Selected) -> None:
        self._chosen = message.post_id
        if message.post_id != self._shown:
            self._show_post(message.post_id)
        else:
            self._arm_read_timer()
        self.article.focus()

    def _show_post(self, post_id: str | None) -> None:
        self._shown = post_id
        self._post = None
        if post_id is None:
            self.article.show(None, [])
            return
        if not self._first_paint_pending:  # else the first screen is being painted: loaded once it is
            self._load(post_id)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load(self, post_id: str) -> None:
        post = self.corpus.load(post_id)
        if not get_current_worker().is_cancelled:
            self.post_message(PostLoaded(post_id, post))

    @on(PostLoaded)
    def _loaded(self, message: PostLoaded) -> None:
        if message.post_id != self._shown:
            return
        self._post = message.post
        self._stems = self.result.stems if self.result else frozenset()
        self.article.show(message.post, self._stems)
        self.show_own_marks()
        self._arm_read_timer()

    def on_descendant_focus(self) -> None:
        # Typing a search is not reading: the timer runs only while a post pane has focus.
        self._arm_read_timer()
        self.panes.follow_focus()

    def _arm_read_timer(self) -> None:
        self._cancel_read_timer()
        post_id = self._chosen
        focused = self.focused
        if post_id is None or post_id != self._shown or self._post is None or focused is None:
            return
        if focused is not self.article and focused is not self.post_list:
            return
        delay = READ_DELAY if self.settings.read_delay is None else self.settings.read_delay
        self._read_timer = self.set_timer(delay, lambda: self.actions.mark_read(post_id))

    def _cancel_read_timer(self) -> None:
        if self._read_timer is not None:
            self._read_timer.stop()
            self._read_timer = None

    # ----------------------------------------------------------------- first build: browse before the catalog
    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def _preview(self) -> None:
        """The catalog is empty (a first build): list the posts and read their front matter, so they can be
        browsed and opened while the build runs; the catalog's list replaces this one at commit."""
        worker = get_current_worker()
        files = preview_files(self.corpus.posts_dir)
        if worker.is_cancelled:
            return
        self.post_message(PreviewListed([found.post_id for found in files]))
        for rows in preview_rows(self.corpus.posts_dir, files, PREVIEW_BATCH, lambda: worker.is_cancelled):
            self.post_message(PreviewRead(rows))

    @on(PreviewListed)
    def _preview_listed(self, message: PreviewListed) -> None:
        self._listing = False
        if len(self.corpus):
            return  # the build committed first
        self._preview_ids = message.ids
        if not self.search_query:
            self._start_search()  # the empty list and its count give way to the preview

    @on(PreviewRead)
    def _preview_read(self, message: PreviewRead) -> None:
        if self._preview_ids:
            self._preview_rows.update((row.post_id, row) for row in message.rows)
            self.post_list.refresh_rows()

    def _previewed(self) -> list[str]:
        """The preview's posts as the list shows them: archived posts stay hidden, as in the catalog's list."""
        try:
            hidden = hidden_by_state((), False, self.triage)
        except StateError as error:
            self.log.error("archived posts unknown", error)
            hidden = set()
        return [post_id for post_id in self._preview_ids if post_id not in hidden]

    @staticmethod
    def _preview_note(listed: int, note: str | None) -> str:
        """What the search bar says over the preview list, short enough for 80 columns at 10k posts (the
        status line shows the build's progress)."""
        text = f"{listed:,} posts listed · index not ready"
        return f"{text} · {note}" if note else text

    def _end_preview(self) -> bool:
        """End the preview once the catalog holds posts, and say whether it ended: the caller then searches
        again, so the catalog's list replaces the preview, the cursor kept on the post the user moved to or
        opened (else on the catalog's first post)."""
        if not self._preview_ids or not len(self.corpus):
            return False
        self.workers.cancel_group(self, "preview")
        if self._chosen is not None and self._chosen == self.post_list.current:
            self._keep_cursor()
        else:
            self._hold = (None, 0)
        self._preview_ids = []
        self._preview_rows = {}
        return True

    def _keep_cursor(self) -> None:
        """Keep the post under the cursor, at the same height, across the next list."""
        current = self.post_list.current
        if current is not None:
            self._hold = (current, self.post_list.cursor - round(self.post_list.scroll_y))

    # ----------------------------------------------------------------- indexing
    @work(thread=True, exclusive=True, group="index", exit_on_error=False)
    def _index(self) -> None:
        worker = get_current_worker()
        last = 0.0

        def progress(update: UpdateProgress) -> None:
            nonlocal last
            now = monotonic()
            if now - last >= 0.1 or update.done >= update.total:
                last = now
                self.post_message(IndexProgress(update))

        # With a writable state, renamed or moved posts (same content) keep their triage state.
        state = self.triage if not self.read_only else None
        report = self.corpus.update(progress=progress, cancelled=lambda: worker.is_cancelled, state=state)
        if not worker.is_cancelled:
            self.post_message(IndexFinished(report))

    @on(IndexProgress)
    def _index_progress(self, message: IndexProgress) -> None:
        update = message.progress
        if self._progress is None or self._progress.stage != update.stage:
            self._stage_started = monotonic()
        self._progress = update
        if self._clock is None:
            self._clock = self.set_interval(1, self._show_progress)
        self._show_progress()

    def _show_progress(self) -> None:
        """The status line's indexing text; a stage that runs long shows its seconds, so it visibly moves."""
        update = self._progress
        if update is None or not self.indexing:
            return
        text = f"{update.stage} {update.done:,} / {update.total:,}" if update.total else f"{update.stage}…"
        seconds = int(monotonic() - self._stage_started)
        self.indexing = f"{text} · {seconds} s" if seconds >= 2 else text

    def _index_done(self) -> None:
        self.indexing = ""
        self._progress = None
        if self._clock is not None:
            self._clock.stop()
            self._clock = None

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def _watch(self) -> None:
        """Watch the posts folder for as long as the screen lives; each burst of changes is one message."""
        from index.watch import watch_posts  # in this thread: the first paint does not wait for watchfiles

        worker = get_current_worker()
        for paths in watch_posts(self.corpus.posts_dir, lambda: worker.is_cancelled):
            self.post_message(FolderChanged(paths))

    @on(FolderChanged)
    def _folder_changed(self) -> None:
        self._request_update()

    def action_rescan(self) -> None:
        self._manual = True
        self._request_update()

    def _request_update(self) -> None:
        """Run an incremental update now, or right after the one running (never two at once)."""
        if self.indexing:
            self._update_again = True
            return
        self.indexing = "scan…"
        self._index()

    @on(IndexFinished)
    def _index_finished(self, message: IndexFinished) -> None:
        self._index_done()
        self._listing = False
        live, manual = self._updates > 0, self._manual
        self._updates += 1
        self._manual = False
        if self._update_again:
            self._update_again = False
            self.call_later(self._request_update)
        report = message.report
        if report is None:
            return
        if live:
            self._live_finished(report, manual)
            return
        if report.state_error is not None:
            self.state_failed(report.state_error)
        if report.read_only and report.message:
            self.notify(one_line(report.message, 400), title="Index not updated", severity="warning", markup=False)
        if self._end_preview() or report.added or report.changed or report.removed or report.rebuilt:
            self.post_list.refresh_rows()
            self._start_search()
            self.feeds.recount()
            self.notify(
                f"Indexed: {report.added:,} new, {report.changed:,} changed, {report.removed:,} removed "
                f"in {report.seconds:.1f} s",
                markup=False,
            )
        self._update_title()
        self._sync_status()

    def _live_finished(self, report: UpdateReport, manual: bool) -> None:
        """An update while the app runs: refresh the list in place (same post under the cursor, same
        scroll) and say briefly what came in."""
        if report.state_error is not None:
            self.state_failed(report.state_error)
        note = changes_note(report)
        ended = self._end_preview()
        if ended or note:
            if not ended:
                self._keep_cursor()
            self.post_list.refresh_rows()
            self._start_search()
        if note:
            self.notify(note, timeout=4, markup=False)
        elif manual:
            self.notify("No changes in the folder", timeout=3, markup=False)
        if report.read_only and report.message and manual:
            self.notify(one_line(report.message, 400), title="Index not updated", severity="warning", markup=False)
        self._update_title()
        self._sync_status()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every failed worker becomes a notification; the app stays up."""
        done = event.state in (WorkerState.SUCCESS, WorkerState.ERROR)
        if event.worker.group == "triage" and done and not self._writes.busy:
            self.actions.writes_done()
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if event.worker.group == "index":
            self._index_done()
        if event.worker.group == "search":
            self._first_answer()
        if isinstance(error, StateError):
            self.state_failed(error)
            return
        what = {"index": "Indexing failed", "search": "Search failed", "load": "Could not open the post"}
        self.notify(
            one_line(f"{type(error).__name__}: {error}", 500),
            title=what.get(event.worker.group, "Something failed"),
            severity="error",
            timeout=10,
            markup=False,
        )

    def state_failed(self, error: StateError) -> None:
        """A triage write failed: say so plainly and stop writing."""
        self.read_only = True
        self.notify(one_line(error.message, 600), title=one_line(error.title, 80), severity="error", markup=False)

    # ----------------------------------------------------------------- triage: keys in, writes out
    @on(TriageRequested)
    def _triage_requested(self, message: TriageRequested) -> None:
        message.stop()
        self.actions.run(message.action, message.post_id)

    def write(
        self, run: Callable[[Triage], Change], ids: Sequence[str], *, origin: Literal["key", "auto", "undo"] = "key"
    ) -> None:
        """Queue one triage write; it runs in a worker, in order, and reports back as :class:`TriageSaved`."""
        if self.triage is None:
            return
        triage = Triage(self.triage)
        ids = tuple(ids)

        def job() -> None:
            try:
                self.post_message(TriageSaved(run(triage), None, ids, origin))
            except StateError as error:
                self.post_message(TriageSaved(None, error, ids, origin))
            except ValueError as error:  # a tag the state refuses (too long, empty)
                self.post_message(TriageSaved(None, None, ids, origin, refused=str(error)))

        if self._writes.put(job):
            self._drain_writes()

    @work(thread=True, group="triage", exit_on_error=False)
    def _drain_writes(self) -> None:
        self._writes.drain()

    @on(TriageSaved)
    def _saved(self, message: TriageSaved) -> None:
        self.actions.saved(message)

    def refresh_list(self) -> None:
        """Search again (posts were archived or restored)."""
        self._start_search()

    def show_own_marks(self) -> None:
        """Show the shown post's own tags and note in the article header."""
        if self._shown is None or self.triage is None:
            self.article.show_own(None)
            return
        try:
            self.article.show_own(self.triage.get(self._shown))
        except StateError as error:
            self.log.error("own marks failed", error)

    def triage_flag_shown(self, post_id: str, flag: Flag, value: bool) -> None:
        """Show a flag change at once, before its write lands (the list re-reads the store if it fails)."""
        marks = self.post_list.marks(post_id)
        self.post_list.show_marks({post_id: replace(marks, **{flag: value})})
        if flag == "read" and post_id == self._chosen:
            self._cancel_read_timer()  # the user decided: the timer must not overrule them

    # ----------------------------------------------------------------- pane actions
    def _panes(self) -> list[Widget]:
        panes: list[Widget] = [self.post_list, self.article]
        if self.filters:
            panes.insert(0, self.query_one("#chips", FilterChips))
        if self.show_sidebar:
            panes.insert(0, self.sidebar)
        return panes

    def _cycle(self, step: int) -> None:
        panes = self._panes()
        focused = self.focused
        index = 0
        for number, pane in enumerate(panes):
            if focused is not None and (focused is pane or pane in focused.ancestors):
                index = number
                break
        else:
            index = panes.index(self.post_list) - step
        panes[(index + step) % len(panes)].focus()

    def action_next_pane(self) -> None:
        self._cycle(1)

    def action_previous_pane(self) -> None:
        self._cycle(-1)

    def action_focus_search(self) -> None:
        """Focus the search box; in the box, ``/`` is typed like any other character."""
        if self.focused is self.search_bar.input:  # set at once (``has_focus`` follows a message later)
            raise SkipAction()
        self.search_bar.focus_input()

    def action_focus_list(self) -> None:
        self.post_list.focus()

    def action_toggle_sidebar(self) -> None:
        if self.panes.active:
            self.panes.toggle_sidebar()
        else:
            self.show_sidebar = not self.show_sidebar

    def action_toggle_sort(self) -> None:
        self.sort = "relevance" if self.sort == "date" else "date"
        self.notify(f"Sorted by {self.sort}", timeout=2, markup=False)
        self.post_message(SettingsChanged(Settings(sort=self.sort)))

    def action_clear_filters(self) -> None:
        if self.filters:
            self.filters = ()

    # The screens below are imported when first opened: the first paint needs none of them (the dossier brings
    # entity knowledge, the export its writers).
    def action_show_problems(self) -> None:
        from tui.screens.problems import ProblemsScreen

        self.app.push_screen(ProblemsScreen(list(self.corpus.problems)))

    def action_dossier(self) -> None:
        from tui.screens.dossier import DossierScreen, entity_under_cursor

        entity = entity_under_cursor(self.focused, self.sidebar, self.article)
        if entity is None:
            self.notify("Put the cursor on an actor, victim, technique or malware first", timeout=3, markup=False)
            return
        self.app.push_screen(DossierScreen(self.corpus, entity[1], entity[0]), self._dossier_closed)

    def _dossier_closed(self, choice: DossierChoice | None) -> None:
        if choice is not None and choice.post_id is not None:
            self._chosen = choice.post_id  # opened from the dossier: it counts as opened
            self._show_post(choice.post_id)
            self.article.focus()
        elif choice is not None and choice.entity is not None:
            self.filters = ()
            self.search_bar.set_query(filter_term(*choice.entity))
            self.post_list.focus()

    def action_export(self, scope: str = "") -> None:
        """Export the results, or the open post (``scope="post"``, or when the article has focus)."""
        post = self._shown if scope == "post" or (not scope and self.article.has_focus_within) else None
        from tui.screens.export import ExportScreen

        self.app.push_screen(ExportScreen(self.corpus, self.search_query, self.triage, post))

"""The main screen: sidebar | search + post list | article, and every action on posts.

Widgets say what the user wants (messages up); this screen decides, runs the blocking work
(search, loading a post, indexing) in thread workers, and pushes results down with method
calls. Triage writes go straight to :class:`TriageState`, one committed transaction each.
"""

from __future__ import annotations

import re
import webbrowser
from collections.abc import Mapping, Sequence
from pathlib import Path
from time import monotonic
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from index.corpus import Corpus, PostRow, SearchResult, UpdateProgress
from index.knowledge import get_knowledge
from index.posts import Post, PostProblem
from index.sanitize import one_line
from index.state import StateError, TriageState
from tui.commands import SearchRequested
from tui.messages import IndexFinished, IndexProgress, PostLoaded, SearchFinished
from tui.screens.dossier import DossierChoice, DossierScreen, entity_under_cursor
from tui.screens.export import ExportScreen
from tui.screens.problems import ProblemsScreen
from tui.screens.prompts import ConfirmScreen, TextPromptScreen
from tui.widgets.article import ArticleView
from tui.widgets.post_list import Marks, PostList
from tui.widgets.search_bar import SearchBar
from tui.widgets.sidebar import Filter, Sidebar

Sort = Literal["date", "relevance"]

READ_DELAY = 1.5
#: Hits asked for first, so the list fills before the full count and facets are ready.
FIRST_SCREEN = 200
"""Seconds a post stays open before it counts as read."""

FILTER_FIELDS: Mapping[str, str] = {
    "tag": "tag",
    "actor": "actor",
    "victim": "victim",
    "technique": "technique",
    "ACTOR": "actor",
    "VICTIM": "victim",
    "TECHNIQUE": "technique",
    "MALWARE": "malware",
    "VULN": "cve",
}
_TECHNIQUE_ID = re.compile(r"^(T\d{4}(?:\.\d{3})?)\b", re.IGNORECASE)


def filter_term(kind: str, value: str) -> str:
    """One facet or entity as a query term: ``tag:"China"``, ``technique:T1566``; IoCs as a quoted phrase."""
    field = FILTER_FIELDS.get(kind)
    if field == "technique" and (match := _TECHNIQUE_ID.match(value.strip())):
        return f"technique:{match.group(1).upper()}"
    cleaned = " ".join(value.replace('"', " ").split())
    if field is None:
        return f'"{cleaned}"'
    return f'{field}:"{cleaned}"'


def compose_query(text: str, filters: Sequence[Filter]) -> str:
    """The user's query AND every active filter."""
    text = text.strip()
    terms = [filter_term(kind, value) for kind, value in filters]
    if not terms:
        return text
    if text:
        terms.insert(0, f"({text})")
    return " ".join(terms)


def _note(result: SearchResult) -> str | None:
    """What the status line should add about a cut-short result."""
    notes = list(result.notes)
    if result.partial:
        notes.insert(0, "partial result (time limit)")
    return "; ".join(notes) or None


class MainScreen(Screen[None]):
    """Browse, search and triage one corpus."""

    CSS_PATH = "main.tcss"
    AUTO_FOCUS = "#posts"  # the list, always: triage keys live there, and the search box must not win a race

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_search", "Search", id="main.search"),
        Binding("escape", "focus_list", "Back to list", show=False, id="main.back"),
        Binding("tab", "next_pane", "Next pane", show=False, id="main.next_pane"),
        Binding("shift+tab", "previous_pane", "Previous pane", show=False, id="main.previous_pane"),
        Binding("ctrl+b", "toggle_sidebar", "Sidebar", show=False, id="main.sidebar"),
        Binding("ctrl+s", "toggle_sort", "Sort date/relevance", show=False, id="main.sort"),
        Binding("P", "show_problems", "Problems", show=False, id="main.problems"),
        Binding("d", "dossier", "Dossier", show=False, id="main.dossier"),
        Binding("E", "export", "Export results", show=False, id="main.export"),
    ]

    query_text: reactive[str] = reactive("", init=False)
    """The query as the user typed it."""
    filters: reactive[tuple[Filter, ...]] = reactive((), init=False)
    """Facet filters ANDed with the query."""
    sort: reactive[Sort] = reactive("date", init=False)
    show_sidebar: reactive[bool] = reactive(True, init=False)
    read_only: reactive[bool] = reactive(False, init=False)
    indexing: reactive[str] = reactive("", init=False)
    """Indexing status for the status line ("" when idle)."""

    def __init__(self, corpus: Corpus, triage: TriageState | None, *, read_only: bool = False) -> None:
        super().__init__()
        self.corpus = corpus
        self.triage = triage
        self.set_reactive(MainScreen.read_only, read_only or triage is None or triage.readonly)
        self.result: SearchResult | None = None
        self._serial = 0
        self._read_timer: Timer | None = None
        self._shown: str | None = None
        self._post: Post | PostProblem | None = None
        self._terms: list[str] = []
        self._searched_once = False
        self._index_pending = False

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield Header(icon="⌕")
        with Horizontal(id="panes"):
            yield Sidebar(id="sidebar")
            with Vertical(id="center"):
                yield SearchBar(id="search")
                yield PostList(self._fetch_rows, self._fetch_marks, id="posts")
            yield ArticleView(id="article")
        yield Static(Content(""), id="status")
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
        self.sidebar.display = self.show_sidebar
        self.post_list.focus()
        self._update_title()
        self._update_status()
        self.indexing = "indexing…"
        self._index_pending = True  # the update starts once the first screen is shown (see _first_answer)
        self._start_search()

    def on_resize(self) -> None:
        self.set_class(self.size.width < 100, "-narrow")

    def on_unmount(self) -> None:
        self.workers.cancel_group(self, "index")

    # ----------------------------------------------------------------- data for the list
    def _fetch_rows(self, ids: Sequence[str]) -> list[PostRow]:
        try:
            return self.corpus.rows(ids)
        except Exception as error:  # a damaged catalog must not break painting
            self.log.error("rows failed", error)
            return []

    def _fetch_marks(self, ids: Sequence[str]) -> Mapping[str, Marks]:
        if self.triage is None:
            return {}
        marks: dict[str, Marks] = {}
        try:
            for post_id in ids:
                state = self.triage.get(post_id)
                marks[post_id] = Marks(state.read, state.starred, state.flagged, state.archived)
        except StateError as error:
            self.log.error("marks failed", error)
        return marks

    # ----------------------------------------------------------------- title and status
    def _update_title(self) -> None:
        folder = one_line(Path(self.corpus.posts_dir).name or str(self.corpus.posts_dir), 60)
        parts = [folder, f"{len(self.corpus):,} posts"]
        query = compose_query(self.query_text, self.filters)
        if query:
            parts.append(f"query: {one_line(query, 120)}")
        self.sub_title = " ─ ".join(parts)

    def _update_status(self) -> None:
        parts: list[tuple[str, str]] = []
        if self.indexing:
            parts.append((self.indexing, "bold"))
        problems = self.corpus.problems
        skipped = sum(1 for problem in problems if problem.skipped)
        notes = len(problems) - skipped
        if skipped:
            noun = "problem" if skipped == 1 else "problems"
            parts.append((f"{skipped:,} {noun} (P to list)", "$warning"))
        if notes:
            noun = "warning" if notes == 1 else "warnings"
            parts.append((f"{notes:,} {noun}" + ("" if skipped else " (P to list)"), "$text-muted"))
        if self.read_only:
            parts.append(("read-only: triage changes are not saved", "$error"))
        if not self.show_sidebar:
            parts.append(("ctrl+b sidebar", "dim"))
        content = Content(" ")
        for number, part in enumerate(parts):
            if number:
                content = content + Content.styled("  │  ", "dim")
            content = content + Content.styled(*part)
        self.query_one("#status", Static).update(content)

    def watch_indexing(self) -> None:
        if self.is_mounted:
            self._update_status()

    def watch_read_only(self) -> None:
        if self.is_mounted:
            self._update_status()

    def watch_show_sidebar(self, show: bool) -> None:
        sidebar = self.query_one("#sidebar", Sidebar)
        sidebar.display = show
        if not show and sidebar.has_focus:
            self.post_list.focus()
        self._update_status()

    # ----------------------------------------------------------------- search
    def watch_query_text(self) -> None:
        self._start_search()

    def watch_filters(self) -> None:
        self._start_search()

    def watch_sort(self) -> None:
        self._start_search()

    def _start_search(self) -> None:
        self._serial += 1
        self._update_title()
        self._search(self._serial, compose_query(self.query_text, self.filters), self.sort)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, serial: int, query: str, sort: Sort) -> None:
        worker = get_current_worker()
        first = self.corpus.search(
            query, sort=sort, state=self.triage, limit=FIRST_SCREEN, complete=False, snippets=False
        )
        if first.complete:
            result = first
        else:
            # The newest hits first, so the list fills at once; the count and facets follow.
            if not worker.is_cancelled:
                self.post_message(SearchFinished(serial, first, {}))
            result = self.corpus.search(query, sort=sort, state=self.triage, snippets=False)
        labels: dict[str, str] = {}
        try:
            knowledge = get_knowledge()
            for technique, _ in result.facets.get("technique", []):
                name = knowledge.technique_name(technique)
                if name and name != technique:
                    labels[technique] = f"{technique} {name}"
        except Exception as error:  # names are a nicety; the IDs still work
            self.log.warning("technique names unavailable", error)
        if not worker.is_cancelled:
            self.post_message(SearchFinished(serial, result, labels))

    def _first_answer(self) -> None:
        """Start bringing the index up to date, once: after the first screen, so both do not compete."""
        if self._index_pending:
            self._index_pending = False
            self._index()

    @on(SearchFinished)
    def _search_finished(self, message: SearchFinished) -> None:
        self.call_after_refresh(self._first_answer)
        if message.serial != self._serial:
            return  # a newer query is on its way: last query wins
        result = message.result
        if result.error is not None and self.result is not None:
            # A query half-typed into a syntax error: keep the last good list, explain under the box.
            self.search_bar.show_result(result.total, result.elapsed, self.sort, result.error)
            return
        self.result = result
        query = compose_query(self.query_text, self.filters)
        if query:
            empty = f"No posts match {one_line(query, 200)}"
        elif self.indexing:
            empty = "No posts indexed yet — indexing…"
        else:
            empty = f"No posts in {one_line(str(self.corpus.posts_dir), 200)}"
        self.post_list.set_ids(result.ids, keep=self.post_list.current, empty_message=empty)
        if not result.complete:
            self.search_bar.show_text(f"{result.total:,}+ hits · counting…")
            return
        self.sidebar.show_facets(result.facets, self.filters, message.labels)
        self.search_bar.show_result(result.total, result.elapsed, self.sort, result.error, _note(result))
        if not result.ids:
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

    @on(ArticleView.EntitySelected)
    def _pivot(self, message: ArticleView.EntitySelected) -> None:
        self.filters = ()
        value = message.canonical
        if message.kind == "TECHNIQUE" and _TECHNIQUE_ID.match(message.ref):
            value = message.ref
        self.search_bar.set_query(filter_term(message.kind, value))
        self.post_list.focus()

    # ----------------------------------------------------------------- article
    @on(PostList.Highlighted)
    def _highlighted(self, message: PostList.Highlighted) -> None:
        terms = list(self.result.terms) if self.result else []
        if message.post_id is not None and message.post_id == self._shown and self._post is not None:
            # Same post after a new search: refresh the highlights, keep the read timer running.
            if terms != self._terms:
                self._terms = terms
                self.article.show(self._post, terms)
            return
        self._cancel_read_timer()
        self._show_post(message.post_id)

    @on(PostList.Selected)
    def _selected(self, message: PostList.Selected) -> None:
        if message.post_id != self._shown:
            self._show_post(message.post_id)
        self.article.focus()

    def _show_post(self, post_id: str | None) -> None:
        self._shown = post_id
        self._post = None
        if post_id is None:
            self.article.show(None, [])
            return
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
        self._terms = list(self.result.terms) if self.result else []
        self.article.show(message.post, self._terms)
        self._cancel_read_timer()
        self._read_timer = self.set_timer(READ_DELAY, lambda: self._mark_read(message.post_id))

    def _cancel_read_timer(self) -> None:
        if self._read_timer is not None:
            self._read_timer.stop()
            self._read_timer = None

    def _mark_read(self, post_id: str) -> None:
        self._read_timer = None
        if self.triage is None or self.read_only or post_id != self.post_list.current:
            return
        try:
            if not self.triage.get(post_id).read:
                self.triage.set_flag(post_id, "read", True, self._hash(post_id))
        except StateError as error:
            self.state_failed(error)
            return
        self.post_list.refresh_marks([post_id])

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

        report = self.corpus.update(progress=progress, cancelled=lambda: worker.is_cancelled)
        if worker.is_cancelled:
            return
        if self.triage is not None and not self.read_only and (report.added or report.removed):
            # Renamed or moved posts (same content) keep their triage state.
            everything = self.corpus.search("", state=None).ids
            hashes = {row.post_id: row.content_hash for row in self.corpus.rows(everything)}
            try:
                self.triage.reconcile(hashes)
            except StateError as error:
                self.app.call_from_thread(self.state_failed, error)
        self.post_message(IndexFinished(report))

    @on(IndexProgress)
    def _index_progress(self, message: IndexProgress) -> None:
        update = message.progress
        if update.total:
            self.indexing = f"{update.stage} {update.done:,} / {update.total:,}"
        else:
            self.indexing = f"{update.stage}…"

    @on(IndexFinished)
    def _index_finished(self, message: IndexFinished) -> None:
        self.indexing = ""
        report = message.report
        if report is None:
            return
        if report.read_only and report.message:
            self.notify(one_line(report.message, 400), title="Index not updated", severity="warning", markup=False)
        if report.added or report.changed or report.removed or report.rebuilt:
            self.post_list.refresh_rows()
            self._start_search()
            self.notify(
                f"Indexed: {report.added:,} new, {report.changed:,} changed, {report.removed:,} removed "
                f"in {report.seconds:.1f} s",
                markup=False,
            )
        self._update_title()
        self._update_status()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every failed worker becomes a notification; the app stays up."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if event.worker.group == "index":
            self.indexing = ""
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

    # ----------------------------------------------------------------- pane actions
    def _panes(self) -> list[Widget]:
        panes: list[Widget] = [self.post_list, self.article]
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
        target = panes[(index + step) % len(panes)]
        target.focus()

    def action_next_pane(self) -> None:
        self._cycle(1)

    def action_previous_pane(self) -> None:
        self._cycle(-1)

    def action_focus_search(self) -> None:
        self.search_bar.focus_input()

    def action_focus_list(self) -> None:
        self.post_list.focus()

    def action_toggle_sidebar(self) -> None:
        self.show_sidebar = not self.show_sidebar

    def action_toggle_sort(self) -> None:
        self.sort = "relevance" if self.sort == "date" else "date"
        self.notify(f"Sorted by {self.sort}", timeout=2, markup=False)

    def action_clear_filters(self) -> None:
        if self.filters:
            self.filters = ()

    def action_show_problems(self) -> None:
        self.app.push_screen(ProblemsScreen(list(self.corpus.problems)))

    def action_dossier(self) -> None:
        entity = entity_under_cursor(self.focused, self.sidebar, self.article)
        if entity is None:
            self.notify("Put the cursor on an actor, victim, technique or malware first", timeout=3, markup=False)
            return
        self.app.push_screen(DossierScreen(self.corpus, entity[1], entity[0]), self._dossier_closed)

    def _dossier_closed(self, choice: DossierChoice | None) -> None:
        if choice is not None and choice.post_id is not None:
            self._show_post(choice.post_id)
            self.article.focus()
        elif choice is not None and choice.entity is not None:
            self.filters = ()
            self.search_bar.set_query(filter_term(*choice.entity))
            self.post_list.focus()

    def action_export(self, scope: str = "") -> None:
        """Export the results, or the open post (``scope="post"``, or when the article has focus)."""
        post = self._shown if scope == "post" or (not scope and self.article.has_focus_within) else None
        query = compose_query(self.query_text, self.filters)
        self.app.push_screen(ExportScreen(self.corpus, query, self.triage, post))

    def set_query(self, query: str) -> None:
        """Replace the query (used by the command palette)."""
        self.search_bar.set_query(query)

    # ----------------------------------------------------------------- triage actions
    def _hash(self, post_id: str) -> str:
        row = self.post_list.row(post_id)
        return row.content_hash if row is not None else ""

    def _writable_target(self) -> str | None:
        """The post under the cursor, if there is one and triage can be saved."""
        post_id = self.post_list.current
        if post_id is None:
            return None
        if self.triage is None or self.read_only:
            self.notify("read-only: triage changes are not saved", severity="warning", timeout=3, markup=False)
            return None
        return post_id

    def _toggle(self, flag: str, on_text: str, off_text: str) -> None:
        post_id = self._writable_target()
        if post_id is None or self.triage is None:
            return
        self._cancel_read_timer()
        try:
            value = self.triage.toggle(post_id, flag, self._hash(post_id))
        except StateError as error:
            self.state_failed(error)
            return
        self.post_list.refresh_marks([post_id])
        if flag == "archived":
            in_archive_view = "is:archived" in compose_query(self.query_text, self.filters).lower()
            if value != in_archive_view:
                self.post_list.remove_ids({post_id})
        self.notify(on_text if value else off_text, timeout=1.5, markup=False)

    def action_toggle_read(self) -> None:
        self._toggle("read", "Marked read", "Marked unread")

    def action_toggle_star(self) -> None:
        self._toggle("starred", "Starred", "Unstarred")

    def action_toggle_flag(self) -> None:
        self._toggle("flagged", "Flagged", "Unflagged")

    def action_toggle_archive(self) -> None:
        self._toggle("archived", "Archived", "Restored from the archive")

    def action_add_tag(self) -> None:
        post_id = self._writable_target()
        if post_id is None:
            return

        def save(tag: str | None) -> None:
            if not tag or not tag.strip() or self.triage is None:
                return
            try:
                self.triage.add_tag(post_id, tag, self._hash(post_id))
            except ValueError as error:
                self.notify(one_line(str(error), 200), severity="warning", markup=False)
                return
            except StateError as error:
                self.state_failed(error)
                return
            self.notify(f"Tagged: {one_line(tag, 60)}", timeout=2, markup=False)

        self.app.push_screen(TextPromptScreen("Add a tag"), save)

    def action_edit_note(self) -> None:
        post_id = self._writable_target()
        if post_id is None or self.triage is None:
            return
        try:
            current = self.triage.get(post_id).note
        except StateError as error:
            self.state_failed(error)
            return

        def save(note: str | None) -> None:
            if note is None or self.triage is None:
                return
            try:
                self.triage.set_note(post_id, note, self._hash(post_id))
            except StateError as error:
                self.state_failed(error)
                return
            self.notify("Note saved" if note else "Note cleared", timeout=2, markup=False)

        self.app.push_screen(TextPromptScreen("Note", current), save)

    def _jump_unread(self, step: int) -> None:
        if self.triage is None:
            self.notify("read-only: no triage state", severity="warning", timeout=3, markup=False)
            return
        try:
            read = self.triage.ids_with("read")
        except StateError as error:
            self.state_failed(error)
            return
        ids = self.post_list.ids
        position = self.post_list.cursor + step
        while 0 <= position < len(ids):
            if ids[position] not in read:
                self.post_list.cursor = position
                return
            position += step
        self.notify("No more unread posts" if step > 0 else "No earlier unread posts", timeout=2, markup=False)

    def action_next_unread(self) -> None:
        self._jump_unread(1)

    def action_previous_unread(self) -> None:
        self._jump_unread(-1)

    def _current_url(self) -> str | None:
        post_id = self.post_list.current
        row = self.post_list.row(post_id) if post_id else None
        if row is None or not row.url.strip():
            self.notify("This post has no source URL", severity="warning", timeout=3, markup=False)
            return None
        return row.url.strip()

    def action_open_url(self) -> None:
        url = self._current_url()
        if url is None:
            return
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            scheme = ""
        if scheme not in ("http", "https") or any(ord(char) < 33 or ord(char) == 127 for char in url):
            self.notify(
                f"Not opened: only plain http/https links are opened ({one_line(url, 120)})",
                severity="warning",
                markup=False,
            )
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._open_in_browser(url)

        self.app.push_screen(ConfirmScreen(f"Open {one_line(url, 200)} in the browser?"), confirmed)

    @work(thread=True, group="browser", exit_on_error=False)
    def _open_in_browser(self, url: str) -> None:
        # One argument, no shell: webbrowser runs the browser with the URL as argv.
        if not webbrowser.open(url):
            self.app.call_from_thread(self.notify, "No browser could be started", severity="warning", markup=False)

    def action_copy_url(self) -> None:
        url = self._current_url()
        if url is not None:
            self.app.copy_to_clipboard(url)
            self.notify("Copied the source URL", timeout=2, markup=False)

    def _all_results(self, flag: str, question: str, done: str) -> None:
        if self.triage is None or self.read_only:
            self.notify("read-only: triage changes are not saved", severity="warning", timeout=3, markup=False)
            return
        if self.result is not None and not self.result.complete:
            self.notify("Still counting the results; try again in a moment", timeout=3, markup=False)
            return
        ids = list(self.post_list.ids)
        if not ids:
            return

        def confirmed(yes: bool | None) -> None:
            if not yes or self.triage is None:
                return
            try:
                self.triage.set_flag_many(ids, flag, True)
            except StateError as error:
                self.state_failed(error)
                return
            self.post_list.refresh_marks()
            if flag == "archived":
                self._start_search()
            self.notify(done.format(count=len(ids)), timeout=3, markup=False)

        self.app.push_screen(ConfirmScreen(question.format(count=len(ids))), confirmed)

    def action_mark_all_read(self) -> None:
        self._all_results("read", "Mark all {count:,} results read?", "Marked {count:,} posts read")

    def action_archive_all(self) -> None:
        self._all_results("archived", "Archive all {count:,} results?", "Archived {count:,} posts")

"""The article pane: one post's header and body, entities in colour, search terms highlighted.

Post text only ever reaches the screen as ``Text`` built by :mod:`tui.article_render`, so a
title of ``[@click=app.quit]`` is shown, never run. Intent leaves the pane as a message
(:class:`ArticleView.EntitySelected`); the screen decides what a pivot means. Extraction and the entity
knowledge are imported by the thread that prepares the first post, never by the app's first paint.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.geometry import Region
from textual.message import Message
from textual.widgets import Static

from index import engine
from index.posts import Post, PostProblem, display_id
from index.sanitize import display_safe, one_line
from index.state import PostState
from index.vocabulary import BY_KIND
from tui.article_render import (
    CURRENT_STYLE,
    LEGEND,
    render_body,
    render_header,
    valid_mentions,
)
from tui.messages import TriageAction, TriageRequested
from tui.widgets.triage_keys import TRIAGE_BINDINGS

if TYPE_CHECKING:
    from index.extract import Mention

Extractor = Callable[[str], "list[Mention]"]

LONG_POST = 50_000
"""Bodies longer than this show a placeholder while they are prepared; a shorter post keeps the previous one
on screen for the few milliseconds its preparation takes, so the pane changes once, not twice."""


class ArticleView(VerticalScroll, can_focus=True):
    """A scrolling view of one post (or of why it could not be read)."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Scroll down", show=False, id="article.scroll_down"),
        Binding("k", "scroll_up", "Scroll up", show=False, id="article.scroll_up"),
        Binding("space", "page_or_next", "Page down; at the end, next unread", show=False, id="article.page_down"),
        Binding("b", "page_up", "Page up", show=False, id="article.page_up"),
        Binding("ctrl+d", "half_page(1)", "Half a page down", show=False, id="article.half_down"),
        Binding("ctrl+u", "half_page(-1)", "Half a page up", show=False, id="article.half_up"),
        Binding("g", "scroll_home", "Top", show=False, id="article.top"),
        Binding("G", "scroll_end", "Bottom", show=False, id="article.bottom"),
        Binding("right_square_bracket", "next_entity", "Next entity", id="article.next_entity"),
        Binding("left_square_bracket", "previous_entity", "Previous entity", show=False, id="article.previous_entity"),
        Binding("right_curly_bracket", "next_match", "Next match", id="article.next_match"),
        Binding("left_curly_bracket", "previous_match", "Previous match", show=False, id="article.previous_match"),
        Binding("e", "pivot", "Pivot on entity", id="article.pivot"),
        Binding("l", "toggle_legend", "Legend", id="article.legend"),
        *TRIAGE_BINDINGS,
    ]

    @dataclass
    class EntitySelected(Message):
        """The reader asked to search for posts about this entity (``ref``: ATT&CK ID, CVE, IoC type)."""

        kind: str
        canonical: str
        ref: str = ""

    def __init__(
        self,
        *,
        extractor: Extractor | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """``extractor`` finds a body's entity mentions; None: :func:`index.extract.extract`, with the
        process-wide entity knowledge."""
        super().__init__(name=name, id=id, classes=classes)
        self._extractor = extractor
        self._post: Post | PostProblem | None = None
        self._terms: frozenset[str] = frozenset()
        self._mentions: list[Mention] = []
        self._matches: list[tuple[int, int]] = []
        self._body_text = Text()
        self._plain = ""
        self._entity_index: int | None = None
        self._match_index: int | None = None
        self._generation = 0
        self._heights: tuple[int, list[int]] | None = None
        self._ready = False
        self._header = Text()
        self._shown_header: Text | None = None
        self._own = Text()
        self._status_shown = False
        self._displayed = -1
        """The generation (shown post) whose header and body are on screen."""

    def compose(self) -> ComposeResult:
        yield Static(id="article-header")
        yield Static(id="article-body")
        yield Static(LEGEND.copy(), id="article-legend")
        yield Static(id="article-status")

    def on_mount(self) -> None:
        self._ready = True
        self.show(self._post, self._terms)

    # --- public API -----------------------------------------------------------------------

    @property
    def post(self) -> Post | PostProblem | None:
        """What the pane is showing."""
        return self._post

    @property
    def mentions(self) -> list[Mention]:
        """The entity mentions found in the shown post, by position."""
        return list(self._mentions)

    @property
    def current_entity(self) -> Mention | None:
        """The entity marked by ``]``/``[``, if any."""
        return None if self._entity_index is None else self._mentions[self._entity_index]

    def show(self, post: Post | PostProblem | None, terms: Collection[str]) -> None:
        """Show a post, a problem, or nothing. A post's entities are found and its text prepared in a thread
        (on the UI thread they cost every search that brings a new first post); the pane changes when they
        are ready, and a preparation for a post shown no longer is dropped."""
        self._post = post
        self._terms = frozenset(terms)
        self._generation += 1
        self._mentions = []
        self._matches = []
        self._entity_index = None
        self._match_index = None
        self._heights = None
        self._plain = ""
        if not self._ready:
            return  # shown on mount
        if post is None:
            self._set_status(None)
            hint = Text("Pick one from the list: j/k to move, enter to open.", "dim")
            self._display(Text("No post selected.", "bold"), hint)
        elif isinstance(post, PostProblem):
            self._set_status(None)
            self._display(_problem_header(post), Text("This file was skipped; the rest of the folder loaded.", "dim"))
        else:
            long_post = len(post.body) > LONG_POST
            if long_post or (self._extractor is None and not _knowledge_loaded()):
                waiting = "Loading a long post…" if long_post else "Loading entity knowledge…"
                self._display(render_header(post, []), Text(waiting, "dim"))
                self._set_status(Content(" Finding entities…"))
            self._prepare_in_thread(post, self._terms, self._generation)

    # --- rendering ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="article-prepare", exit_on_error=False)
    def _prepare_in_thread(self, post: Post, terms: frozenset[str], generation: int) -> None:
        """Find the entities and build the text off the UI thread; stale results are dropped on arrival."""
        try:
            mentions = (self._extractor or _extract)(post.body)
        except Exception as error:  # a bug in extraction must not take the article with it
            self.app.call_from_thread(self._extraction_failed, generation, one_line(str(error), 200))
            mentions = []
        prepared = _prepare(post, mentions, terms)
        self.app.call_from_thread(self._prepared, generation, prepared)

    def _prepared(self, generation: int, prepared: _Prepared) -> None:
        if generation == self._generation:
            self._set_status(None)
            self._present(prepared)

    def _extraction_failed(self, generation: int, reason: str) -> None:
        if generation == self._generation:
            self.notify(f"Entities could not be found in this post: {reason}", severity="warning", markup=False)

    def _present(self, prepared: _Prepared) -> None:
        self._plain = prepared.body.plain
        self._mentions = prepared.mentions
        self._matches = prepared.matches
        self._heights = None
        self._display(prepared.header, prepared.body)

    def _display(self, header: Text, body: Text) -> None:
        self.scroll_home(animate=False)
        self._body_text = body
        self._header = header
        self._displayed = self._generation
        self._show_header()
        self.query_one("#article-body", Static).update(body)

    def _show_header(self) -> None:
        header = self._header.copy()
        if self._own and self._post is not None:
            header.append("\n")
            header.append_text(self._own)
        if header != self._shown_header:  # the same marks again (a new search, same post): no new layout
            self._shown_header = header
            self.query_one("#article-header", Static).update(header)

    def show_own(self, state: PostState | None) -> None:
        """Show the reader's own marks, tags and note for the post in the header (None: nothing)."""
        self._own = own_text(state) if state is not None else Text()
        if self._ready and self._displayed == self._generation:  # else the post's own header brings them
            self._show_header()

    def _mark(self, start: int, end: int) -> None:
        """Restyle the body with one span marked as current, and scroll it into view."""
        marked = self._body_text.copy()
        marked.stylize(CURRENT_STYLE, start, end)
        self.query_one("#article-body", Static).update(marked)
        self.call_after_refresh(self._scroll_to_offset, end)

    def _set_status(self, status: Content | None) -> None:
        """Show ``status`` on the bottom line (None: hide it). The line is one row whatever it says, so a new
        text is drawn without a layout, and a hidden line is left alone."""
        self.set_class(status is not None, "-status")
        if status is not None or self._status_shown:
            self._status_shown = status is not None
            self.query_one("#article-status", Static).update(status or Content(), layout=False)

    # --- scrolling to an offset -----------------------------------------------------------

    def _line_heights(self, width: int) -> list[int]:
        """Wrapped height of each source line at ``width`` (cached until the text or width changes)."""
        if self._heights is None or self._heights[0] != width:
            self._heights = (width, [len(Content(line).wrap(width)) for line in self._plain.split("\n")])
        return self._heights[1]

    def line_of(self, offset: int, width: int) -> int:
        """The wrapped line (0-based, within the body) on which the character before ``offset`` is drawn."""
        line_start = self._plain.rfind("\n", 0, max(offset - 1, 0)) + 1
        source_line = self._plain.count("\n", 0, line_start)
        above = sum(self._line_heights(width)[:source_line])
        within = len(Content(self._plain[line_start:offset]).wrap(width)) if offset > line_start else 1
        return above + within - 1

    def _scroll_to_offset(self, offset: int) -> None:
        body = self.query_one("#article-body", Static)
        width = body.content_size.width
        if width <= 0:
            return
        y = body.virtual_region.y + body.styles.gutter.top + self.line_of(offset, width)
        self.scroll_to_region(Region(0, y, 1, 1), animate=False, center=True, x_axis=False)

    # --- actions --------------------------------------------------------------------------

    def _step(self, current: int | None, count: int, forward: bool) -> int:
        if current is None:
            return 0 if forward else count - 1
        return (current + (1 if forward else -1)) % count

    def _move_entity(self, forward: bool) -> None:
        if not self._mentions:
            self.notify("No entities in this post.", markup=False)
            return
        self._match_index = None
        self._entity_index = self._step(self._entity_index, len(self._mentions), forward)
        mention = self._mentions[self._entity_index]
        self._mark(mention.start, mention.end)
        status = Content.assemble(
            (f" {self._entity_index + 1}/{len(self._mentions)} ", "bold"),
            BY_KIND[mention.kind].label,
            ": ",
            one_line(mention.canonical or mention.text, 120),
            (f" {one_line(mention.ref, 30)}" if mention.ref and mention.ref != mention.canonical else "", "dim"),
            ("  e to search for it", "dim"),
        )
        self._set_status(status)

    def _move_match(self, forward: bool) -> None:
        if not self._matches:
            self.notify("No search matches in this post." if self._terms else "No search terms.", markup=False)
            return
        self._entity_index = None
        self._match_index = self._step(self._match_index, len(self._matches), forward)
        start, end = self._matches[self._match_index]
        self._mark(start, end)
        self._set_status(
            Content.assemble(
                (f" match {self._match_index + 1}/{len(self._matches)} ", "bold"),
                one_line(self._plain[start:end], 120),
            )
        )

    def action_next_entity(self) -> None:
        """Mark the next entity and scroll to it."""
        self._move_entity(forward=True)

    def action_previous_entity(self) -> None:
        """Mark the previous entity and scroll to it."""
        self._move_entity(forward=False)

    def action_next_match(self) -> None:
        """Mark the next search-term match and scroll to it."""
        self._move_match(forward=True)

    def action_previous_match(self) -> None:
        """Mark the previous search-term match and scroll to it."""
        self._move_match(forward=False)

    def action_pivot(self) -> None:
        """Ask the screen to search for the current entity."""
        mention = self.current_entity
        if mention is None:
            self.notify("No entity marked: press ] to pick one.", markup=False)
            return
        self.post_message(self.EntitySelected(mention.kind, mention.canonical or mention.text, mention.ref))

    def action_half_page(self, direction: int) -> None:
        """Scroll half a screen down (1) or up (-1)."""
        step = max(1, self.scrollable_content_region.height // 2)
        self.scroll_relative(y=direction * step, animate=False)

    def action_page_or_next(self) -> None:
        """Page down; at the end of the post, move on to the next unread one (the rule of ``n``)."""
        if self.scroll_target_y < self.max_scroll_y:  # the target, not the position: a page may still be sliding
            self.scroll_page_down()
        else:
            self.action_triage("next_unread")

    def action_triage(self, action: TriageAction) -> None:
        """Ask the screen to triage the post shown here."""
        self.post_message(TriageRequested(self._post.post_id if self._post is not None else None, action))

    def action_toggle_legend(self) -> None:
        """Show or hide the colour legend."""
        self.toggle_class("-legend")


@dataclass(frozen=True)
class _Prepared:
    """A post made ready to display (pure data, so it can be built in a thread)."""

    header: Text
    body: Text
    mentions: list[Mention]
    matches: list[tuple[int, int]]


def _prepare(post: Post, mentions: list[Mention], terms: Collection[str]) -> _Prepared:
    body = render_body(post.body, mentions, terms)
    valid = valid_mentions(mentions, len(body.plain))
    return _Prepared(render_header(post, valid), body, valid, engine.highlight_spans(body.plain, terms))


def _extract(text: str) -> list[Mention]:
    """The entity extractor, imported by the first preparation (a worker thread)."""
    from index.extract import extract

    return extract(text)


def _knowledge_loaded() -> bool:
    """Whether the entity knowledge is in memory, without importing its package on the UI thread."""
    knowledge = sys.modules.get("index.knowledge")
    return knowledge is not None and bool(knowledge.knowledge_loaded())


def own_text(state: PostState) -> Text:
    """The reader's own marks, tags and note, for the header ("" when there are none)."""
    text = Text()
    marks = [
        label
        for label, on in (("★ starred", state.starred), ("⚑ flagged", state.flagged), ("▣ archived", state.archived))
        if on
    ]
    if marks:
        text.append("Mine   ", "bold")
        text.append("  ".join(marks))
    if state.tags:
        text.append("\n" if text else "")
        text.append("My tags ", "bold")
        text.append(", ".join(one_line(tag, 100) for tag in state.tags))
    if state.note:
        text.append("\n" if text else "")
        text.append("Note   ", "bold")
        text.append(display_safe(state.note.strip()).replace("\n", "\n       "), "italic")
    return text


def _problem_header(problem: PostProblem) -> Text:
    text = Text("This post could not be read\n", "bold")
    text.append("File   ", "bold")
    text.append(one_line(display_id(problem.post_id), 1000))
    if problem.line is not None:
        text.append(f":{problem.line}" + (f":{problem.column}" if problem.column is not None else ""))
    text.append("\nReason ", "bold")
    text.append(one_line(problem.reason, 1000))
    return text

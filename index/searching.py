"""Answering a query over one corpus: hits in order, the first screen fast, filters, facets and highlights.

The catalog answers what whoosh is slow at (listing by date, counting facets); the engine answers text.
Triage filters (``is:``) and the rule that archived posts stay hidden unless asked for are applied here,
so the app and the command line agree. Searching never raises: problems come back in ``error``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from index.catalog import CatalogView, Snapshot
from index.engine import BlockTables, EngineError, EngineUnavailable, Searchers, highlight, newest, run
from index.knowledge import get_knowledge
from index.posts import Post, load_by_id
from index.query import ParsedQuery, expand_term, parse_query
from index.sanitize import one_line

Sort = Literal["date", "relevance"]
#: Relevance is scored for the first page only; the rest of the hits follow by date.
RELEVANCE_PAGE = 100
HIGHLIGHT_HITS = 20
SEARCH_TIME_LIMIT = 1.0
#: The first screen of a date-sorted search: how long it may take, and the most hits it may ask for.
FIRST_SCREEN_TIME_LIMIT = 0.25
MAX_FIRST_SCREEN = 2000


class FlagSource(Protocol):
    """What search needs from the triage state (index.state.TriageState satisfies it)."""

    def ids_with(self, flag: str) -> set[str]: ...


@dataclass(frozen=True)
class SearchResult:
    query: str
    ids: list[str]
    total: int
    facets: dict[str, list[tuple[str, int]]]
    highlights: dict[str, str]
    terms: list[str]  # the words and phrases as typed (for the status line and the title)
    error: str | None = None
    elapsed: float = 0.0
    partial: bool = False  # the time limit or an expansion cap cut the result short
    notes: tuple[str, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)  # relevance scores of the scored first page
    complete: bool = True  # False: only the first screen (``total`` counts what was found so far, no facets)
    #: The analysed (stemmed) title/body terms the engine matched; give them to highlight_spans().
    stems: frozenset[str] = frozenset()
    #: Display labels of facet values that have one (``T1566`` → ``T1566 Phishing``); asked for with labels=True.
    labels: dict[str, str] = field(default_factory=dict)


def search_failure(error: Exception) -> str:
    """What the user is told when the engine could not answer; searching never raises."""
    if isinstance(error, EngineUnavailable):
        return "the search index is not ready; it is rebuilt by the next update"
    if isinstance(error, EngineError):  # query syntax, a locked or damaged index: its own words
        return str(error)
    return f"search failed ({type(error).__name__}); the next update repairs the index"  # e.g. a garbled segment


def hidden_by_state(flags: Sequence[tuple[str, bool]], show_archived: bool, state: FlagSource | None) -> set[str]:
    """Posts an ``is:`` filter excludes, plus archived posts unless the query asks for them."""
    if state is None:
        return set()
    hidden = {post_id for flag, wanted in flags if not wanted for post_id in state.ids_with(flag)}
    if not show_archived:
        hidden |= state.ids_with("archived")
    return hidden


def apply_filters(
    matched: set[str], flags: Sequence[tuple[str, bool]], show_archived: bool, state: FlagSource | None
) -> set[str]:
    """Apply ``is:`` filters; archived posts stay hidden unless the query asks for them."""
    for flag, wanted in flags:
        if wanted:
            matched = matched & (state.ids_with(flag) if state is not None else set())
    return matched - hidden_by_state(flags, show_archived, state)


def facet_labels(facets: dict[str, list[tuple[str, int]]]) -> dict[str, str]:
    """Readable labels for facet values: technique IDs get their ATT&CK names. Best effort."""
    techniques = facets.get("technique", [])
    if not techniques:
        return {}
    try:
        knowledge = get_knowledge()
    except Exception:  # names are a nicety; the IDs still work
        return {}
    labels: dict[str, str] = {}
    for technique, _ in techniques:
        name = knowledge.technique_name(technique)
        if name and name != technique:
            labels[technique] = f"{technique} {name}"
    return labels


class CorpusSearch:
    """Searches one corpus's catalog and index. Safe to call from several threads."""

    def __init__(self, posts_dir: Path, searchers: Searchers, view: CatalogView) -> None:
        self.posts_dir = posts_dir
        self.view = view
        self._searchers = searchers
        self._blocks = BlockTables()
        self.time_limit = SEARCH_TIME_LIMIT

    def search(
        self,
        query: str,
        *,
        sort: Sort = "date",
        limit: int | None = None,
        plain: bool = False,
        state: FlagSource | None = None,
        complete: bool = True,
        snippets: bool = True,
        labels: bool = False,
    ) -> SearchResult:
        """See :meth:`index.corpus.Corpus.search`."""
        started = time.monotonic()
        parsed = parse_query(query, plain=plain)

        def failed(message: str) -> SearchResult:
            return SearchResult(query, [], 0, {}, {}, list(parsed.terms), message, time.monotonic() - started)

        if parsed.error:
            return failed(parsed.error)
        order: Sort = "relevance" if (parsed.sort or sort) == "relevance" else "date"
        wanted_flags = any(wanted for _, wanted in parsed.flags)
        if not complete and limit and not wanted_flags:
            return self._first_screen(query, parsed, order, limit, state, started, failed, snippets)
        snapshot = self.view.snapshot()
        top: list[str] = []
        scores: dict[str, float] = {}
        stems: frozenset[str] = frozenset()
        partial_result = False
        notes: tuple[str, ...] = ()
        if parsed.text:
            page = min(limit or RELEVANCE_PAGE, 1000) if order == "relevance" else 0
            try:
                hits = run(self._searchers, parsed.text, expand=expand_term, top=page, time_limit=self.time_limit)
            except Exception as error:
                return failed(search_failure(error))
            matched: set[str] = set(hits.ids) | set(hits.top)
            top, stems, partial_result, notes = hits.top, hits.terms, hits.partial, hits.notes
            scores = hits.scores
        else:
            matched = set(snapshot.rows)
        matched = apply_filters(matched, parsed.flags, parsed.show_archived, state)
        ids = self._ordered(snapshot, matched, top if order == "relevance" else [], bool(parsed.text))
        facets = snapshot.facets(set(ids))
        total = len(ids)
        if limit is not None:
            ids = ids[: max(limit, 0)]
        return SearchResult(
            query=query,
            ids=ids,
            total=total,
            facets=facets,
            highlights=self._highlights(ids[:HIGHLIGHT_HITS], stems) if snippets else {},
            terms=list(parsed.terms),
            elapsed=time.monotonic() - started,
            partial=partial_result,
            notes=notes,
            scores=scores,
            stems=stems,
            labels=facet_labels(facets) if labels else {},
        )

    @staticmethod
    def _ordered(snapshot: Snapshot, matched: set[str], best_first: list[str], text: bool) -> list[str]:
        """The scored page first (when sorting by relevance), then everything else newest first."""
        if best_first:
            best = [post_id for post_id in best_first if post_id in matched and post_id in snapshot.rank]
            chosen = set(best)
            return best + snapshot.order_by_date(post_id for post_id in matched if post_id not in chosen)
        if not text and len(matched) == len(snapshot.rows):
            return list(snapshot.by_date)
        return snapshot.order_by_date(matched)

    def _first_screen(
        self,
        query: str,
        parsed: ParsedQuery,
        order: Sort,
        limit: int,
        state: FlagSource | None,
        started: float,
        failed: Callable[[str], SearchResult],
        snippets: bool,
    ) -> SearchResult:
        """The newest (or best-scored) ``limit`` hits, without collecting or counting the rest."""
        hidden = hidden_by_state(parsed.flags, parsed.show_archived, state)
        if not parsed.text:  # everything: the catalog's own order, no engine call at all
            held = self.view.held
            if held is None:  # at start-up: read the head from the file, load the rest later
                ids = [row.post_id for row in self.view.catalog.head(limit, hidden)]
            else:
                ids = list(itertools.islice((i for i in held.by_date if i not in hidden), limit))
            return SearchResult(query, ids, len(ids), {}, {}, [], elapsed=time.monotonic() - started, complete=False)
        snapshot = self.view.snapshot()
        wanted = min(limit + len(hidden), MAX_FIRST_SCREEN)
        try:
            if order == "relevance":  # score the best page only; the complete answer collects the rest
                hits = run(self._searchers, parsed.text, expand=expand_term, top=wanted, every=False,
                           time_limit=FIRST_SCREEN_TIME_LIMIT)
                found = [post_id for post_id in hits.top if post_id in snapshot.rank]
            else:
                hits = newest(self._searchers, self._blocks, parsed.text, rank=snapshot.rank, limit=wanted,
                              expand=expand_term, time_limit=FIRST_SCREEN_TIME_LIMIT)
                found = hits.ids
        except Exception as error:
            return failed(search_failure(error))
        ids = [post_id for post_id in found if post_id not in hidden][:limit]
        return SearchResult(
            query=query,
            ids=ids,
            total=len(ids),
            facets={},
            highlights=self._highlights(ids[:HIGHLIGHT_HITS], hits.terms) if snippets else {},
            terms=list(parsed.terms),
            elapsed=time.monotonic() - started,
            partial=hits.partial,
            notes=hits.notes,
            scores=hits.scores,
            complete=False,
            stems=hits.terms,
        )

    def _highlights(self, ids: Sequence[str], stems: frozenset[str]) -> dict[str, str]:
        """Fragments made from the post files: the index does not store bodies (smaller, faster to build)."""
        fragments: dict[str, str] = {}
        if not stems:
            return fragments
        for post_id in ids:
            post = load_by_id(self.posts_dir, post_id)
            if isinstance(post, Post) and (text := highlight(post.body, stems)):
                fragments[post_id] = one_line(text, 300)
        return fragments

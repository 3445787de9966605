"""Answering a query over one corpus: hits in order, the first screen fast, filters, facets and highlights.

The catalog and its columns answer what whoosh is slow at (listing by date, date filters, filters
without text, counting facets); the engine answers text. Triage filters (``is:``, ``note:``, own tags
under ``tag:``) and the rule that archived posts stay hidden unless asked for are applied here, so the app
and the command line agree.
Searching never raises: problems come back in ``error``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from pyroaring import BitMap

from index.catalog import CatalogView, Ranking
from index.columns import Columns
from index.engine.contract import TextEngine
from index.engine.errors import EngineError, EngineUnavailable
from index.lru import LRU
from index.posts import post_body
from index.query import ParsedQuery, expand_term, keyword_term, parse_query
from index.sanitize import one_line

if TYPE_CHECKING:
    from index.engine.search import EngineHits, Expander

Sort = Literal["date", "relevance"]
#: Relevance is scored for the first page only; the rest of the hits follow by date.
RELEVANCE_PAGE = 100
HIGHLIGHT_HITS = 20
SEARCH_TIME_LIMIT = 1.0
#: The first screen of a date-sorted search: how long it may take, and the most hits it may ask for.
FIRST_SCREEN_TIME_LIMIT = 0.25
MAX_FIRST_SCREEN = 2000
#: The most posts a first screen of filters asks the triage state about at once.
SHOWN_BATCH = 500
#: Complete answers kept (a few hundred KB each at 100k posts: the ordered ids and the facet counts).
CACHED_RESULTS = 16


class FlagSource(Protocol):
    """What search needs from the triage state (index.state.TriageState satisfies it)."""

    def ids_with(self, flag: str) -> set[str]: ...

    def ids_with_any(self, flags: Sequence[str], among: Sequence[str]) -> set[str]:
        """Those of ``among`` with any of ``flags`` set."""
        ...

    def ids_tagged(self, tag: str) -> set[str]:
        """Posts the user tagged ``tag`` (any case)."""
        ...

    def ids_with_note_containing(self, text: str) -> set[str]:
        """Posts whose note contains ``text`` (any case)."""
        ...

    def version(self) -> Hashable:
        """Changes whenever any flag may have changed: answers cached under one version stay valid."""
        ...


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
    #: Every hit of a complete answer as post numbers of the catalog ``generation`` (index/columns.py):
    #: counting over them (unread counts, index/unread.py) needs no pass over ``ids``.
    numbers: BitMap | None = field(default=None, repr=False, compare=False)
    generation: int | None = None


def run(
    engine: TextEngine,
    text: str,
    *,
    expand: Expander,
    top: int = 0,
    every: bool = True,
    time_limit: float = 1.0,
    rank: Mapping[str, int] | None = None,
) -> EngineHits:
    """The engine's full-text search (the one place a search here asks the engine for every match); with
    ``rank``, the matches come as post numbers (``EngineHits.numbers``)."""
    return engine.run(text, expand=expand, top=top, every=every, time_limit=time_limit, rank=rank)


def numbers_of(hits: EngineHits) -> BitMap:
    """The post numbers of a search :func:`run` was given a ranking for."""
    if hits.numbers is None:
        raise TypeError("the engine answered without post numbers")
    return hits.numbers


def search_failure(error: Exception) -> str:
    """What the user is told when the engine could not answer; searching never raises."""
    if isinstance(error, EngineUnavailable):
        return "the search index is not ready; it is rebuilt by the next update"
    if isinstance(error, EngineError):  # query syntax, a locked or damaged index: its own words
        return str(error)
    return f"search failed ({type(error).__name__}); the next update repairs the index"  # e.g. a garbled segment


def hiding_flags(flags: Sequence[tuple[str, bool]], show_archived: bool) -> list[str]:
    """The triage flags whose posts a query hides: each negated ``is:`` filter, and archived unless asked for."""
    return list(dict.fromkeys([flag for flag, wanted in flags if not wanted] + ([] if show_archived else ["archived"])))


def hidden_by_state(flags: Sequence[tuple[str, bool]], show_archived: bool, state: FlagSource | None) -> set[str]:
    """Posts an ``is:`` filter excludes, plus archived posts unless the query asks for them."""
    if state is None:
        return set()
    return set().union(*(state.ids_with(flag) for flag in hiding_flags(flags, show_archived)))


def first_shown(ids: Iterator[str], limit: int, hiding: Sequence[str], state: FlagSource | None) -> list[str]:
    """The first ``limit`` of ``ids`` that no flag of ``hiding`` hides, asking the state about a few posts at
    a time: a first screen of ``is:unread`` must not read every read post."""
    shown: list[str] = []
    while len(shown) < limit:
        batch = list(itertools.islice(ids, min(2 * (limit - len(shown)), SHOWN_BATCH)))
        if not batch:
            break
        hidden = state.ids_with_any(hiding, batch) if state is not None and hiding else set()
        shown += [post_id for post_id in batch if post_id not in hidden]
    return shown[:limit]


def flagged(
    matched: BitMap | None, columns: Columns, flags: Sequence[tuple[str, bool]], state: FlagSource | None
) -> BitMap | None:
    """Post numbers narrowed to the posts of every wanted ``is:`` flag (``None``: every post, and no flag
    wanted)."""
    for flag, wanted in flags:
        if wanted:
            posts = columns.of_ids(state.ids_with(flag)) if state is not None else BitMap()
            matched = posts if matched is None else matched & posts
    return matched


def apply_filters(
    matched: BitMap, columns: Columns, flags: Sequence[tuple[str, bool]], show_archived: bool, state: FlagSource | None
) -> BitMap:
    """Apply ``is:`` filters to post numbers; archived posts stay hidden unless the query asks for them."""
    matched = flagged(matched, columns, flags, state) or BitMap()
    return matched - columns.of_ids(hidden_by_state(flags, show_archived, state))


def column_filters(
    parsed: ParsedQuery, columns: Columns, order: Sort, state: FlagSource | None
) -> tuple[ParsedQuery, BitMap | None]:
    """The query left to the engine, and the posts the catalog's columns allow (``None``: every post).

    Dates are answered here always: the engine turns a range into a deep OR of numeric terms. Tags and
    entities are answered here when there is no text, so such a query makes no engine call; with text they
    stay in the engine's query, where a term narrows what it collects at little cost. By relevance every
    filter stays with the engine, which must score the best page among the posts that pass them. The
    filters answered here stay in ``filters`` of the query returned (see :func:`collected_text`).
    """
    if order == "relevance":
        return replace(parsed, text=parsed.engine_text(), filters=()), None
    allowed: BitMap | None = None
    kept: list[tuple[str, str]] = []
    answered: list[tuple[str, str]] = []
    for name, value in parsed.filters:
        if name == "date":
            posts = columns.dated(value)
        else:
            posts = None if parsed.text else columns.having(name, [*expand_term(name, value), value])
        if posts is None:
            kept.append((name, value))
        else:
            answered.append((name, value))
            allowed = posts if allowed is None else allowed & posts
    tags = parsed.tags
    if not parsed.text and not kept and columns.known and all(keyword_term(term[5:]) for term, _ in tags):
        held = [columns.having("tags", [keyword_term(term[5:]) or ""]) for term, _ in tags]
        found = [posts for posts in held if posts is not None]
        if len(found) == len(tags):  # else the catalog moved on: the engine answers the tags
            for (_, tag), posts in zip(tags, found, strict=True):  # the post's own tag (a keyword term) or the user's
                if state is not None:
                    posts = posts | columns.of_ids(state.ids_tagged(tag))
                allowed = posts if allowed is None else allowed & posts
            tags = ()
    return replace(parsed, text=parsed.engine_text(kept), filters=tuple(answered), tags=tags), allowed


def order_of(parsed: ParsedQuery, sort: Sort) -> Sort:
    """Relevance ranks by the words of a query; one of filters alone (``tag:``, ``actor:``, ``date:``,
    ``is:``) has none to rank by, so its hits come newest first whatever the sort."""
    return "relevance" if (parsed.sort or sort) == "relevance" and parsed.text else "date"


def collected_text(parsed: ParsedQuery) -> str:
    """What the engine collects for a complete answer: the text, and with a phrase or a pattern also the
    date filters the columns answered, so that the engine checks positions and expands patterns only
    within the dates (a phrase over every post costs more than the numeric terms of a range)."""
    if not any(mark in parsed.text for mark in '"*?'):
        return parsed.text
    return parsed.engine_text([item for item in parsed.filters if item[0] == "date"])


def own_tags_only_where_used(parsed: ParsedQuery, state: FlagSource | None) -> ParsedQuery:
    """Give back to the engine each ``tag:`` that no post carries as an own tag (the usual case), so it
    keeps the engine's fast first screen; only the others are answered as "the post's tag or the user's"."""
    if not parsed.tags:
        return parsed
    own = [(term, tag) for term, tag in parsed.tags if state is not None and state.ids_tagged(tag)]
    plain = [term for term, tag in parsed.tags if (term, tag) not in own]
    return replace(parsed, text=" ".join([parsed.text, *plain]).strip(), tags=tuple(own))


def facet_label(field: str, value: str) -> str:
    """The name a facet value is shown by: a technique ID with its ATT&CK name (``T1486 Data Encrypted for
    Impact``), anything else as it is. Best effort: names are a nicety, the IDs still work."""
    if field != "technique":
        return value
    from index.knowledge import get_knowledge  # only technique values need it

    try:
        knowledge = get_knowledge()
    except Exception:
        return value
    return knowledge.technique_label(value)


def facet_labels(facets: dict[str, list[tuple[str, int]]]) -> dict[str, str]:
    """Readable labels of the facet values that have one (technique IDs), by :func:`facet_label`."""
    labels = {technique: facet_label("technique", technique) for technique, _ in facets.get("technique", [])}
    return {value: label for value, label in labels.items() if label != value}


class CorpusSearch:
    """Searches one corpus's catalog and index. Safe to call from several threads.

    Complete answers are kept in a small LRU keyed by everything they depend on: the query, the order, the
    scored page, whether facets were counted, the catalog and index generation and the triage state's
    version. A repeated query costs a lookup, and a first screen whose complete answer is already known is
    sliced from it. A first screen by relevance scores the page the complete answer needs and keeps it, so
    the complete search that follows it (the app asks for both) only collects the other matches.
    """

    def __init__(self, posts_dir: Path, engine: TextEngine, view: CatalogView) -> None:
        self.posts_dir = posts_dir
        self.view = view
        self._engine = engine
        self._answers: LRU[tuple[FlagSource | None, SearchResult]] = LRU(CACHED_RESULTS)
        #: (text, generation) -> (how many were scored, the best ids, their scores), from relevance first screens.
        self._scored: LRU[tuple[int, list[str], dict[str, float]]] = LRU(CACHED_RESULTS)
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
        facets: bool = True,
    ) -> SearchResult:
        """See :meth:`index.corpus.Corpus.search`."""
        started = time.monotonic()
        parsed = parse_query(query, plain=plain)

        def failed(message: str) -> SearchResult:
            return SearchResult(query, [], 0, {}, {}, list(parsed.terms), message, time.monotonic() - started)

        if parsed.error:
            return failed(parsed.error)
        order = order_of(parsed, sort)
        # The columns of the loaded snapshot, or read from the catalog file a field at a time: no search
        # loads every row.
        ranking = self.view.ranking()
        try:
            parsed, allowed = column_filters(parsed, ranking.columns, order, state)
        except Exception as error:  # the user's tags are read from the triage state
            return failed(search_failure(error))
        parsed = own_tags_only_where_used(parsed, state)
        # The user's own tags and notes, and with words a wanted ``is:`` flag, leave the first screen to the
        # complete answer.
        own_marks = bool(parsed.tags or parsed.note_words) or (bool(parsed.text) and any(w for _, w in parsed.flags))
        if not complete and limit and not own_marks:
            known = self._cached(self._key(query, plain, order, None, True, state), state)
            if known is not None:  # the complete answer of the same search: its head is the first screen
                head = replace(known, total=min(limit, len(known.ids)), facets={}, complete=False)
                return self._dressed(head, limit, snippets, False, started)
            return self._first_screen(query, parsed, ranking, allowed, order, limit, state, started, failed, snippets)
        key = self._key(query, plain, order, limit, facets, state)
        answer = self._cached(key, state)
        if answer is None:
            answer = self._complete(query, parsed, ranking, allowed, order, limit, state, facets, failed)
            if answer.error is None and not answer.partial:  # a cut-short answer may complete next time
                self._answers.put(key, (state, answer))
        return self._dressed(answer, limit, snippets, labels, started)

    def page(
        self, query: str, *, sort: Sort, limit: int, plain: bool = False, state: FlagSource | None = None
    ) -> SearchResult:
        """What ``search(query, sort=sort, limit=limit, plain=plain, state=state, facets=False)`` answers: the
        first ``limit`` hits, the count and their highlights, for a process that searches once (the command
        line). When the scored page of a relevance search fills the page, the date ranking (every id, newest
        first) is never read: the count comes from the matches, which the index and the catalog, written in
        one update, hold alike. Anything else is answered by :meth:`search`."""
        started = time.monotonic()
        parsed = parse_query(query, plain=plain)
        whole = (query, sort, limit, plain, state)
        if parsed.error or not parsed.text or (parsed.sort or sort) != "relevance":
            return self._whole_page(*whole)
        parsed = own_tags_only_where_used(parsed, state)
        if parsed.tags or parsed.note_words or any(wanted for _, wanted in parsed.flags):
            return self._whole_page(*whole)  # sets of the user's marks: the whole search answers them
        try:
            hits = run(
                self._engine, parsed.engine_text(), expand=expand_term, top=min(limit, 1000), time_limit=self.time_limit
            )
        except Exception:  # the whole search says what went wrong, in its own words
            return self._whole_page(*whole)
        matched = (set(hits.ids) | set(hits.top)) - hidden_by_state(parsed.flags, parsed.show_archived, state)
        best = [post_id for post_id in hits.top if post_id in matched][:limit]
        if (len(best) < limit and len(best) < len(matched)) or len(self.view.rows(best)) < len(best):
            return self._whole_page(*whole)  # the rest of the page goes by date, or the catalog lags behind
        answer = SearchResult(
            query,
            best,
            len(matched),
            {},
            {},
            list(parsed.terms),
            partial=hits.partial,
            notes=hits.notes,
            scores=hits.scores,
            stems=hits.terms,
        )
        return self._dressed(answer, limit, True, False, started)

    def _whole_page(self, query: str, sort: Sort, limit: int, plain: bool, state: FlagSource | None) -> SearchResult:
        return self.search(query, sort=sort, limit=limit, plain=plain, state=state, facets=False)

    def forget_answers(self) -> None:
        self._answers.clear()
        self._scored.clear()

    def _key(
        self, query: str, plain: bool, order: Sort, limit: int | None, facets: bool, state: FlagSource | None
    ) -> Hashable:
        """What a complete answer depends on. The relevance page is scored for ``limit``; date order is not."""
        page = min(limit or RELEVANCE_PAGE, 1000) if order == "relevance" else 0
        flags = None if state is None else (id(state), state.version())
        return query, plain, order, page, facets, self._generation(), flags

    def _generation(self) -> tuple[int | None, int]:
        """The catalog generation searched, and the engine's epoch (bumped when the index is recreated)."""
        return self.view.ranking().generation, self._engine.epoch

    def _cached(self, key: Hashable, state: FlagSource | None) -> SearchResult | None:
        found = self._answers.get(key)
        return found[1] if found is not None and found[0] is state else None  # an id() reused by a new state

    def _dressed(
        self, answer: SearchResult, limit: int | None, snippets: bool, labels: bool, started: float
    ) -> SearchResult:
        """The answer cut to ``limit``, with the highlights and labels asked for (cheap: never cached)."""
        ids = list(answer.ids) if limit is None else answer.ids[: max(limit, 0)]  # the cached list stays intact
        return replace(
            answer,
            ids=ids,
            highlights=self._highlights(ids[:HIGHLIGHT_HITS], answer.stems) if snippets else {},
            labels=facet_labels(answer.facets) if labels else {},
            elapsed=time.monotonic() - started,
        )

    def _complete(
        self,
        query: str,
        parsed: ParsedQuery,
        ranking: Ranking,
        allowed: BitMap | None,
        order: Sort,
        limit: int | None,
        state: FlagSource | None,
        facets: bool,
        failed: Callable[[str], SearchResult],
    ) -> SearchResult:
        """Every hit in order, the count and (with ``facets``) the facet counts; no highlights, no labels.

        Matches are sets of post numbers (see index/columns.py): filters intersect them, the date order is
        their ascending order, facets count them. No catalog row is needed: the columns read the fields they
        count or filter (at 100k posts loading every row costs seconds).
        """
        columns = ranking.columns
        top: list[str] = []
        scores: dict[str, float] = {}
        stems: frozenset[str] = frozenset()
        partial_result = False
        notes: tuple[str, ...] = ()
        if parsed.text:
            page = min(limit or RELEVANCE_PAGE, 1000) if order == "relevance" else 0
            known = self._scored.get((parsed.text, self._generation())) if page else None
            if known is not None and known[0] < page:
                known = None
            try:  # a page the first screen scored already is not scored again
                hits = run(
                    self._engine,
                    collected_text(parsed),
                    expand=expand_term,
                    top=0 if known is not None else page,
                    time_limit=self.time_limit,
                    rank=columns.rank,
                )
            except Exception as error:
                return failed(search_failure(error))
            if known is not None:
                top = known[1][:page]
                scores = {post_id: known[2][post_id] for post_id in top}
            else:
                top, scores = hits.top, hits.scores
            matched = numbers_of(hits) | columns.of_ids(top)
            stems, partial_result, notes = hits.terms, hits.partial, hits.notes
        else:
            matched = columns.everything()
        if allowed is not None:
            matched &= allowed
        try:
            matched = apply_filters(matched, columns, parsed.flags, parsed.show_archived, state)
            matched = self._own_filters(matched, columns, parsed, state)
        except Exception as error:
            return failed(search_failure(error))
        ids = self._ordered(columns, matched, top if order == "relevance" else [])
        counts = {}
        if facets and columns.known:
            counts = columns.counts(matched, ranking.tag_names)
        return SearchResult(
            query=query,
            ids=ids,
            total=len(ids),
            facets=counts,
            highlights={},
            terms=list(parsed.terms),
            partial=partial_result,
            notes=notes,
            scores=scores,
            stems=stems,
            numbers=matched,
            generation=ranking.generation,
        )

    def _own_filters(self, matched: BitMap, columns: Columns, parsed: ParsedQuery, state: FlagSource | None) -> BitMap:
        """``tag:`` terms (the post's tags or the user's own) and ``note:`` words, ANDed with the query."""
        for term, tag in parsed.tags:
            keyword = keyword_term(term[5:])  # term is "tags:<value>"
            tagged = columns.having("tags", [keyword]) if keyword is not None else None
            if tagged is None:
                tagged = numbers_of(
                    run(self._engine, term, expand=expand_term, time_limit=self.time_limit, rank=columns.rank)
                )
            if state is not None:
                tagged = tagged | columns.of_ids(state.ids_tagged(tag))
            matched &= tagged
        for word, wanted in parsed.note_words:
            noted = columns.of_ids(state.ids_with_note_containing(word)) if state is not None else BitMap()
            matched = matched & noted if wanted else matched - noted
        return matched

    @staticmethod
    def _ordered(columns: Columns, matched: BitMap, best_first: list[str]) -> list[str]:
        """The scored page first (when sorting by relevance), then everything else newest first."""
        if best_first:
            best = [post_id for post_id in best_first if columns.rank.get(post_id, -1) in matched]
            return best + columns.ids(matched - columns.of_ids(best))
        return columns.ids(matched)

    def _first_screen(
        self,
        query: str,
        parsed: ParsedQuery,
        ranking: Ranking,
        allowed: BitMap | None,
        order: Sort,
        limit: int,
        state: FlagSource | None,
        started: float,
        failed: Callable[[str], SearchResult],
        snippets: bool,
    ) -> SearchResult:
        """The newest (or best-scored) ``limit`` hits, without collecting or counting the rest."""
        if not parsed.text:  # no engine call: the first posts in the date order that pass every filter
            try:
                allowed = flagged(allowed, ranking.columns, parsed.flags, state)
                numbers: Iterable[int] = range(len(ranking.by_date)) if allowed is None else allowed
                hiding = hiding_flags(parsed.flags, parsed.show_archived)
                ids = first_shown(map(ranking.by_date.__getitem__, numbers), limit, hiding, state)
            except Exception as error:  # the flags are read from the triage state
                return failed(search_failure(error))
            return SearchResult(query, ids, len(ids), {}, {}, [], elapsed=time.monotonic() - started, complete=False)
        hidden = hidden_by_state(parsed.flags, parsed.show_archived, state)
        wanted = min(limit + len(hidden), MAX_FIRST_SCREEN)
        try:
            if order == "relevance":  # score the best page only; the complete answer collects the rest
                scored = max(wanted, RELEVANCE_PAGE)  # at least the page the complete answer scores
                hits = run(
                    self._engine,
                    parsed.text,
                    expand=expand_term,
                    top=scored,
                    every=False,
                    time_limit=FIRST_SCREEN_TIME_LIMIT,
                )
                if not hits.partial:
                    self._scored.put((parsed.text, self._generation()), (scored, hits.top, hits.scores))
                found = [post_id for post_id in hits.top if post_id in ranking.rank]
            else:
                hits = self._engine.newest(
                    parsed.text,
                    rank=ranking.rank,
                    limit=wanted,
                    expand=expand_term,
                    time_limit=FIRST_SCREEN_TIME_LIMIT,
                    allowed=allowed,
                )
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
        from index.engine import highlight  # with whoosh's stemmer: only text queries have stems

        for post_id in ids:
            body = post_body(self.posts_dir, post_id)
            if body is not None and (text := highlight(body, stems)):
                fragments[post_id] = one_line(text, 300)
        return fragments

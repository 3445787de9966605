"""Searching the whoosh index with bounded cost.

whoosh's tail at scale is prefix/wildcard expansion, phrase checks and full scoring
(docs/benchmarks.md, "Measured costs"). So: expansions are capped, only the first page is scored, every other
hit is collected unscored through ``docs_for_query`` and mapped to ids through the
sortable ``id`` column, and a deadline turns a slow query into partial results.
"""

from __future__ import annotations

import fnmatch
import functools
import itertools
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar

from pyroaring import BitMap
from whoosh import query as wq
from whoosh.collectors import TimeLimit, TimeLimitCollector
from whoosh.qparser import FieldAliasPlugin, MultifieldParser

from index.engine.date_column import from_column
from index.engine.ids import read_ids
from index.engine.pairs import PAIR_FIELDS, is_pair_field, pair_phrases
from index.engine.schema import TEXT_FIELDS
from index.engine.store import Engine, EngineError
from index.vocabulary import ENTITY_FIELDS, KINDS

#: Terms a prefix or wildcard may expand to, and lexicon entries a wildcard may scan.
MAX_EXPANSION = 200
MAX_SCAN = 50_000
#: Terms that all the patterns of one query may expand to together: ``a* b* … z*`` shares this budget.
MAX_QUERY_EXPANSION = 400
#: whoosh reads every posting (document of a term) of an expanded pattern when it builds a matcher, at
#: about 200k a second on an idle core, and scores them at about a quarter of that; the patterns of a
#: query share as many postings as half those rates allow in its time limit (a margin for a loaded
#: machine), which keeps ``a* b* … z*`` inside the limit.
POSTINGS_PER_SECOND = 100_000
SCORED_POSTINGS_PER_SECOND = 25_000
#: Lexicon entries read between two looks at the clock while expanding.
EXPAND_CHECK_EVERY = 256
#: Matches collected between two looks at the clock.
CHECK_EVERY = 1024
#: Other names a user may type for a field ("cve:" for "vuln:").
FIELD_ALIASES = {
    "tags": ["tag"],
    **{kind.field: [kind.query_field] for kind in KINDS if kind.query_field != kind.field},
}
#: Fields whose terms the query layer may expand (aliases, technique names, refanging).
EXPANDABLE = frozenset({"source", *ENTITY_FIELDS})

#: ``(field, value) -> index terms``; supplied by index.query so knowledge stays out of here.
Expander = Callable[[str, str], Sequence[str]]
P = ParamSpec("P")
R = TypeVar("R")


def postings_budget(seconds: float, *, scored: bool = False) -> int:
    """The postings the patterns of one query may expand to when matching may take ``seconds``."""
    return max(1, int((SCORED_POSTINGS_PER_SECOND if scored else POSTINGS_PER_SECOND) * seconds))


class QuerySyntaxError(EngineError):
    """The query could not be turned into an engine query."""


@dataclass(frozen=True, slots=True)
class EngineHits:
    """Matches of one query. ``ids`` is every match found, in index order, unless ``partial``; when the
    search was given a ranking, ``numbers`` holds every match as its post number in that ranking instead."""

    ids: list[str]
    top: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    partial: bool = False
    terms: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()
    numbers: BitMap | None = None


def _identity(_field: str, value: str) -> Sequence[str]:
    return [value]


class _Rewriter:
    """Replaces entity terms by their expansions and multi-term queries by capped term lists.

    The patterns of one query share :data:`MAX_QUERY_EXPANSION` terms: each gets an equal share of what
    the patterns before it left (at most :data:`MAX_EXPANSION`), so a pattern with few words in a field
    leaves more for the rest. Expansion also stops at ``deadline``. Either cut marks the result partial.
    """

    def __init__(self, reader: Any, expand: Expander, *, patterns: int, deadline: float, postings: int) -> None:
        self.reader = reader
        self.expand = expand
        self.notes: list[str] = []
        self.truncated = False
        self.deadline = deadline
        self.postings_budget = postings
        self.patterns_left = max(1, patterns)
        self.expanded = 0  # terms the patterns expanded to, in all
        self.postings = 0  # their document frequencies, summed
        self.timed_out = False
        #: The title and body words of the compiled query, for highlighting (set by :func:`compile_tree`).
        self.terms: frozenset[str] = frozenset()

    def _late(self) -> bool:
        return time.monotonic() > self.deadline

    def _terms(self, fieldname: str, texts: Sequence[str], boost: float = 1.0) -> Any:
        unique = list(dict.fromkeys(text for text in texts if text))
        if not unique:
            return wq.NullQuery
        if len(unique) == 1:
            return wq.Term(fieldname, unique[0], boost=boost)
        return wq.Or([wq.Term(fieldname, text, boost=boost) for text in unique])

    def _lexicon(self, fieldname: str, prefix: str) -> Iterator[str]:
        """Lexicon terms from ``prefix`` on; ends early (and sets ``timed_out``) once the deadline passed."""
        for count, term in enumerate(self.reader.expand_prefix(fieldname, prefix), 1):
            if not count % EXPAND_CHECK_EVERY and self._late():
                self.timed_out = True
                return
            yield term.decode("utf-8", "replace") if isinstance(term, bytes) else str(term)

    def _expand_pattern(self, node: Any) -> Any:
        fieldname, text = node.fieldname, node.text
        share = max(1, min(MAX_EXPANSION, (MAX_QUERY_EXPANSION - self.expanded) // self.patterns_left))
        postings_share = max(1, (self.postings_budget - self.postings) // self.patterns_left)
        self.patterns_left = max(1, self.patterns_left - 1)
        self.timed_out = self._late()
        if self.timed_out:
            matches: list[str] = []
        elif isinstance(node, wq.Prefix):
            matches = list(itertools.islice(self._lexicon(fieldname, text), share + 1))
        else:
            literal = re.split(r"[*?]", text, maxsplit=1)[0]
            pattern = re.compile(fnmatch.translate(text))
            scanned = itertools.islice(self._lexicon(fieldname, literal), MAX_SCAN)
            matches = list(itertools.islice((t for t in scanned if pattern.match(t)), share + 1))
        if self.timed_out:
            self.truncated = True
            self.notes.append(f"{text!r} took too long to look up; used the {len(matches)} words found in time")
        elif len(matches) > share:
            matches = matches[:share]
            self.truncated = True
            self.notes.append(f"{text!r} matches too many words; used the first {share}")
        kept = self._within_postings(fieldname, matches, postings_share)
        if len(kept) < len(matches) and not self.timed_out:
            self.truncated = True
            self.notes.append(f"{text!r} matches too many documents; used the first {len(kept)} words")
        self.expanded += len(kept)
        return self._terms(fieldname, kept, node.boost)

    def _within_postings(self, fieldname: str, matches: list[str], budget: int) -> list[str]:
        """The leading ``matches`` whose postings fit in ``budget`` (always the first one)."""
        kept: list[str] = []
        used = 0
        for term in matches:
            frequency = int(self.reader.doc_frequency(fieldname, term))
            if kept and used + frequency > budget:
                break
            kept.append(term)
            used += frequency
        self.postings += used
        return kept

    def __call__(self, node: Any) -> Any:
        if isinstance(node, wq.Every):
            return wq.Every()
        if is_pair_field(getattr(node, "fieldname", None) or ""):
            return wq.NullQuery  # the pair fields are the engine's own; a field the user names matches nothing
        if isinstance(node, wq.Phrase) and len(node.words) > 1 and node.fieldname not in PAIR_FIELDS:
            # A keyword field splits a quoted value at commas ("a, b" is two tags), and it keeps no positions,
            # so no post holds its words as a phrase (the engines would fail reading positions that are not there).
            return wq.NullQuery
        if isinstance(node, wq.Term) and node.fieldname in EXPANDABLE:
            return self._terms(node.fieldname, [*self.expand(node.fieldname, node.text), node.text], node.boost)
        if isinstance(node, wq.Prefix | wq.Wildcard):
            return self._expand_pattern(node)
        if isinstance(node, wq.MultiTerm):
            self.notes.append("ranges and fuzzy terms work only on date:")
            return wq.NullQuery
        return node.apply(self)


def parse(engine: Engine, text: str) -> Any:
    """Parse whoosh syntax (already rewritten by index.query) over title, tags and body."""
    return parse_with(engine.index().schema, text)


def parse_with(schema: Any, text: str) -> Any:
    """:func:`parse` against ``schema``: the tantivy engine parses with the whoosh schema it mirrors."""
    parser = MultifieldParser(list(TEXT_FIELDS), schema=schema)
    parser.add_plugin(FieldAliasPlugin(FIELD_ALIASES))
    try:
        return parser.parse(text)
    except RecursionError as error:
        raise QuerySyntaxError("query nested too deeply") from error
    except Exception as error:  # whoosh raises plain Exception for e.g. unparseable dates
        raise QuerySyntaxError(f"query not understood: {error}") from error


def _simplify(node: Any) -> Any:
    """An Or containing "everything" is everything; this keeps ``*`` one cheap scan."""
    node = node.normalize()
    if isinstance(node, wq.Or) and any(isinstance(sub, wq.Every) for sub in node.subqueries):
        return wq.Every()
    return node


def _analysed_terms(node: Any) -> frozenset[str]:
    texts: set[str] = set()
    for fieldname, text in node.iter_all_terms(phrases=True):
        if fieldname in ("title", "body"):
            texts.add(text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text))
    return frozenset(texts)


class Searchers:
    """One whoosh searcher per thread, refreshed before each use (whoosh searchers are not shared)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()
        # The docnum → id table is the same for every searcher of one index generation; the app runs each
        # search on a new thread, so it is shared rather than re-read per thread (100k ids: ~0.1 s).
        self._ids_lock = threading.Lock()
        self._ids_key: tuple[int, int] | None = None
        self._ids: list[str] = []

    def get(self) -> tuple[Any, list[str]]:
        """The thread's up-to-date searcher and its docnum → post id table."""
        local = self._local
        searcher = getattr(local, "searcher", None)
        if searcher is not None and local.epoch != self.engine.epoch:
            searcher.close()
            searcher = None
        if searcher is None:
            searcher = self.engine.index().searcher()
            local.epoch = self.engine.epoch
            local.ids = None
        else:
            # refresh() hands the old reader's segments to the new searcher and closes the rest itself;
            # closing the old searcher here would close readers the new one uses (ReaderClosed).
            fresh = searcher.refresh()
            if fresh is not searcher:
                searcher, local.ids = fresh, None
        local.searcher = searcher
        if local.ids is None:
            local.ids = self._id_table(searcher)
        return searcher, local.ids

    def _id_table(self, searcher: Any) -> list[str]:
        reader = searcher.reader()
        if reader.doc_count_all() == 0:  # an empty index has an EmptyReader: no generation, no columns
            return []
        key = (self.engine.epoch, int(reader.generation()))
        with self._ids_lock:
            if key != self._ids_key or key[1] < 0:
                self._ids = read_ids(searcher.reader())
                self._ids_key = key
            return self._ids

    def close(self) -> None:
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
            self._local.searcher = None


def compile_query(
    engine: Engine, searcher: Any, text: str, expand: Expander, *, deadline: float, postings: int
) -> tuple[Any, _Rewriter]:
    """Parse ``text`` and rewrite it for ``searcher``: expansions applied, patterns capped by count, by
    ``postings`` (see :func:`postings_budget`) and by ``deadline`` (a ``time.monotonic()`` value), exact
    phrases answered from the word pair fields (pairs.py), ``date:`` ranges from the date column
    (date_column.py)."""
    node, rewriter = compile_tree(parse(engine, text), searcher.reader(), expand, deadline=deadline, postings=postings)
    return from_column(pair_phrases(node)), rewriter


def compile_tree(
    parsed: Any, reader: Any, expand: Expander, *, deadline: float, postings: int
) -> tuple[Any, _Rewriter]:
    """:func:`compile_query` for a parsed query and a lexicon ``reader`` (``expand_prefix``, ``doc_frequency``):
    the tantivy engine expands patterns through the same rewriter, so both engines mean the same."""
    patterns = sum(1 for leaf in parsed.leaves() if isinstance(leaf, wq.Prefix | wq.Wildcard))
    rewriter = _Rewriter(reader, expand, patterns=patterns, deadline=deadline, postings=postings)
    rewritten = parsed.accept(rewriter)  # reads the lexicon: a failure here is damage, not the query's fault
    try:
        node = _simplify(rewritten)
    except Exception as error:
        raise QuerySyntaxError(f"query not understood: {error}") from error
    rewriter.terms = _analysed_terms(node)
    return node, rewriter


def guarded(search: Callable[Concatenate[Searchers, P], R]) -> Callable[Concatenate[Searchers, P], R]:
    """Turn a failure while reading the index into :class:`EngineDamaged`, marking the index for repair
    (a garbled segment fails only when a search reaches it: the TOC and the readers open fine)."""

    @functools.wraps(search)
    def run_guarded(searchers: Searchers, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return search(searchers, *args, **kwargs)
        except EngineError:
            raise
        except Exception as error:
            raise searchers.engine.damaged(error) from error

    return run_guarded


@guarded
def run(
    searchers: Searchers,
    text: str,
    *,
    expand: Expander = _identity,
    top: int = 0,
    every: bool = True,
    time_limit: float = 1.0,
) -> EngineHits:
    """Every match of ``text`` (unscored; skipped when not ``every``), plus the ``top`` best-scored ids,
    within ``time_limit``."""
    deadline = time.monotonic() + time_limit
    searcher, id_table = searchers.get()
    passes = 2 if top > 0 and every else 1  # scoring the top and collecting every match each build a matcher
    node, rewriter = compile_query(
        searchers.engine,
        searcher,
        text,
        expand,
        deadline=deadline,
        postings=postings_budget(time_limit / passes, scored=not every),
    )
    partial = rewriter.truncated
    notes = list(rewriter.notes)
    best: list[str] = []
    scores: dict[str, float] = {}
    if top > 0 and not isinstance(node, wq.Every | type(wq.NullQuery)):
        scored, scored_rewriter = node, rewriter
        if rewriter.postings > postings_budget(time_limit / passes, scored=True):  # scoring is slower: fewer
            scored, scored_rewriter = compile_query(
                searchers.engine,
                searcher,
                text,
                expand,
                deadline=deadline,
                postings=postings_budget(time_limit / passes, scored=True),
            )
            partial = True
            notes.extend(note for note in scored_rewriter.notes if note not in notes)
        collector = TimeLimitCollector(searcher.collector(limit=top), max(0.05, time_limit / 2), use_alarm=False)
        try:
            searcher.search_with_collector(scored, collector)
        except TimeLimit:
            partial = True
        results = collector.results()
        for i in range(results.scored_length()):
            post_id = id_table[results.docnum(i)]
            best.append(post_id)
            scores[post_id] = float(results.score(i) or 0.0)
    docnums: list[int] = []
    # Scoring a wide query can use up its time before the first hit is scored; the first screen then
    # shows unscored matches (partial) rather than nothing.
    wanted = None if every else (top - len(best) if partial and top > len(best) else 0)
    if wanted != 0 and node is not wq.NullQuery:
        for count, docnum in enumerate(searcher.docs_for_query(node), 1):
            docnums.append(docnum)
            if count == wanted:
                break
            if not count % CHECK_EVERY and time.monotonic() > deadline:
                partial = True
                break
    if not every:
        chosen = set(best)
        best.extend(post_id for post_id in (id_table[docnum] for docnum in docnums) if post_id not in chosen)
        best, docnums = best[:top], []
    return EngineHits(
        ids=[id_table[docnum] for docnum in docnums],
        top=best,
        scores=scores,
        partial=partial,
        terms=rewriter.terms,
        notes=tuple(notes),
    )

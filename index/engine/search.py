"""Searching the whoosh index with bounded cost.

whoosh's tail at scale is prefix/wildcard expansion, phrase checks and full scoring
(docs/benchmarks.md, "Measured costs"). So: expansions are capped, only the first page is scored, every other
hit is collected unscored through ``docs_for_query`` and mapped to ids through the
sortable ``id`` column, and a deadline turns a slow query into partial results.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from whoosh import query as wq
from whoosh.collectors import TimeLimit, TimeLimitCollector
from whoosh.qparser import FieldAliasPlugin, MultifieldParser

from index.engine.schema import TEXT_FIELDS
from index.engine.store import Engine, EngineError
from index.vocabulary import ENTITY_FIELDS, KINDS

#: Terms a prefix or wildcard may expand to, and lexicon entries a wildcard may scan.
MAX_EXPANSION = 200
MAX_SCAN = 50_000
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


class QuerySyntaxError(EngineError):
    """The query could not be turned into an engine query."""


@dataclass(frozen=True, slots=True)
class EngineHits:
    """Matches of one query. ``ids`` is every match found, in index order, unless ``partial``."""

    ids: list[str]
    top: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    partial: bool = False
    terms: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()


def _identity(_field: str, value: str) -> Sequence[str]:
    return [value]


class _Rewriter:
    """Replaces entity terms by their expansions and multi-term queries by capped term lists."""

    def __init__(self, reader: Any, expand: Expander) -> None:
        self.reader = reader
        self.expand = expand
        self.notes: list[str] = []
        self.truncated = False

    def _terms(self, fieldname: str, texts: Sequence[str], boost: float = 1.0) -> Any:
        unique = list(dict.fromkeys(text for text in texts if text))
        if not unique:
            return wq.NullQuery
        if len(unique) == 1:
            return wq.Term(fieldname, unique[0], boost=boost)
        return wq.Or([wq.Term(fieldname, text, boost=boost) for text in unique])

    def _lexicon(self, fieldname: str, prefix: str) -> Iterator[str]:
        for term in self.reader.expand_prefix(fieldname, prefix):
            yield term.decode("utf-8", "replace") if isinstance(term, bytes) else str(term)

    def _expand_pattern(self, node: Any) -> Any:
        fieldname, text = node.fieldname, node.text
        if isinstance(node, wq.Prefix):
            matches = list(itertools.islice(self._lexicon(fieldname, text), MAX_EXPANSION + 1))
        else:
            literal = re.split(r"[*?]", text, maxsplit=1)[0]
            pattern = re.compile(fnmatch.translate(text))
            scanned = itertools.islice(self._lexicon(fieldname, literal), MAX_SCAN)
            matches = list(itertools.islice((t for t in scanned if pattern.match(t)), MAX_EXPANSION + 1))
        if len(matches) > MAX_EXPANSION:
            matches = matches[:MAX_EXPANSION]
            self.truncated = True
            self.notes.append(f"{text!r} matches too many words; used the first {MAX_EXPANSION}")
        return self._terms(fieldname, matches, node.boost)

    def __call__(self, node: Any) -> Any:
        if isinstance(node, wq.Every):
            return wq.Every()
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
    parser = MultifieldParser(list(TEXT_FIELDS), schema=engine.index().schema)
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


def analysed_terms(node: Any) -> frozenset[str]:
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
        key = (self.engine.epoch, int(searcher.reader().generation()))
        with self._ids_lock:
            if key != self._ids_key or key[1] < 0:
                self._ids = [str(value) for value in searcher.reader().column_reader("id")]
                self._ids_key = key
            return self._ids

    def close(self) -> None:
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
            self._local.searcher = None


def compile_query(engine: Engine, searcher: Any, text: str, expand: Expander) -> tuple[Any, _Rewriter]:
    """Parse ``text`` and rewrite it for ``searcher``: expansions applied, patterns capped."""
    rewriter = _Rewriter(searcher.reader(), expand)
    try:
        node = _simplify(parse(engine, text).accept(rewriter))
    except EngineError:
        raise
    except Exception as error:
        raise QuerySyntaxError(f"query not understood: {error}") from error
    return node, rewriter


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
    node, rewriter = compile_query(searchers.engine, searcher, text, expand)
    partial = rewriter.truncated
    best: list[str] = []
    scores: dict[str, float] = {}
    if top > 0 and not isinstance(node, wq.Every | type(wq.NullQuery)):
        collector = TimeLimitCollector(searcher.collector(limit=top), max(0.05, time_limit / 2), use_alarm=False)
        try:
            searcher.search_with_collector(node, collector)
        except TimeLimit:
            partial = True
        results = collector.results()
        for i in range(results.scored_length()):
            post_id = id_table[results.docnum(i)]
            best.append(post_id)
            scores[post_id] = float(results.score(i) or 0.0)
    docnums: list[int] = []
    if every and node is not wq.NullQuery:
        for count, docnum in enumerate(searcher.docs_for_query(node), 1):
            docnums.append(docnum)
            if not count % CHECK_EVERY and time.monotonic() > deadline:
                partial = True
                break
    return EngineHits(
        ids=[id_table[docnum] for docnum in docnums],
        top=best,
        scores=scores,
        partial=partial,
        terms=analysed_terms(node),
        notes=tuple(rewriter.notes),
    )


"""A whoosh query tree (parsed and expanded by search.py) as the tantivy query that matches the same posts.

The terms in the tree are already analysed by the whoosh schema, and the tantivy index holds the terms
that schema's analysers produced, so translation is structural: terms stay terms, phrases keep their
positions, ``And``/``Or``/``Not`` become boolean clauses, date ranges become integer ranges over the
same numbers whoosh stores. A tree holding anything else is refused rather than answered differently.
"""

from __future__ import annotations

import itertools
from typing import Any

import tantivy
from whoosh import query as wq

from index.engine.search import QuerySyntaxError
from index.engine.tantivy_schema import TERM_FIELDS, tantivy_schema

#: whoosh scores title matches double (schema.py: ``field_boost=2.0``); the same boost here.
FIELD_BOOSTS = {"title": 2.0}
#: Word spacings a phrase with slop is spelled out as (see :func:`_phrase`).
MAX_SPACINGS = 256


def is_nothing(node: Any) -> bool:
    return node is wq.NullQuery or isinstance(node, type(wq.NullQuery))


def is_everything(node: Any) -> bool:
    return isinstance(node, wq.Every)


def _boosted(query: Any, boost: float) -> Any:
    return query if boost == 1.0 else tantivy.Query.boost_query(query, boost)


def _everything_but(excluded: Any) -> Any:
    """whoosh's ``Not`` matches every document without ``excluded``; tantivy needs the "every" stated."""
    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, tantivy.Query.all_query()), (tantivy.Occur.MustNot, excluded)]
    )


def _term(fieldname: str, text: str, boost: float) -> Any:
    if fieldname not in TERM_FIELDS:
        return tantivy.Query.empty_query()  # e.g. a term on the date field: whoosh matches no post with it
    query = tantivy.Query.term_query(tantivy_schema(), fieldname, text)
    return _boosted(query, boost * FIELD_BOOSTS.get(fieldname, 1.0))


def _phrase(node: Any) -> Any:
    """whoosh's slop ``n`` lets each next word follow the one before by 1 to ``n`` positions, in order.
    tantivy's own slop also lets words swap places, so each allowed spacing becomes an exact phrase of its
    own (``"a b"~3`` is three phrases); only a phrase with more spacings than :data:`MAX_SPACINGS` uses
    tantivy's slop, which may also match the words out of order."""
    words = [str(word) for word in node.words]
    boost = node.boost * FIELD_BOOSTS.get(node.fieldname, 1.0)
    if not words:
        return tantivy.Query.empty_query()
    if len(words) == 1:
        return _term(node.fieldname, words[0], node.boost)
    slop = max(1, int(node.slop))
    if slop ** (len(words) - 1) > MAX_SPACINGS:
        sequence: list[str | tuple[int, str]] = list(words)
        return _boosted(tantivy.Query.phrase_query(tantivy_schema(), node.fieldname, sequence, slop=slop - 1), boost)
    phrases = []
    for gaps in itertools.product(range(1, slop + 1), repeat=len(words) - 1):
        offsets = [0, *itertools.accumulate(gaps)]
        placed: list[str | tuple[int, str]] = [(offset, word) for offset, word in zip(offsets, words, strict=True)]
        phrases.append((tantivy.Occur.Should, tantivy.Query.phrase_query(tantivy_schema(), node.fieldname, placed)))
    query = phrases[0][1] if len(phrases) == 1 else tantivy.Query.boolean_query(phrases)
    return _boosted(query, boost)


def _range(node: Any) -> Any:
    if node.fieldname != "date":
        return tantivy.Query.empty_query()
    if node.start is None and node.end is None:
        return tantivy.Query.exists_query("date")
    return tantivy.Query.range_query(
        tantivy_schema(),
        "date",
        tantivy.FieldType.Integer,
        None if node.start is None else int(node.start),
        None if node.end is None else int(node.end),
        include_lower=not node.startexcl,
        include_upper=not node.endexcl,
    )


def _and(subqueries: list[Any]) -> Any:
    clauses: list[tuple[Any, Any]] = []
    for sub in subqueries:
        if isinstance(sub, wq.Not):
            clauses.append((tantivy.Occur.MustNot, translate(sub.query)))
        else:
            clauses.append((tantivy.Occur.Must, translate(sub)))
    if all(occur == tantivy.Occur.MustNot for occur, _ in clauses):
        clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
    return tantivy.Query.boolean_query(clauses)


def translate(node: Any) -> Any:
    """The tantivy query for a rewritten whoosh tree; :class:`QuerySyntaxError` for a form it lacks."""
    if is_nothing(node):
        return tantivy.Query.empty_query()
    if isinstance(node, wq.Every):
        return tantivy.Query.all_query()
    if isinstance(node, wq.Term):
        return _term(node.fieldname, str(node.text), node.boost)
    if isinstance(node, wq.Phrase):
        return _phrase(node)
    if isinstance(node, wq.NumericRange):
        return _range(node)
    if isinstance(node, wq.Not):
        return _everything_but(translate(node.query))
    if isinstance(node, wq.AndNot):
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, translate(node.a)), (tantivy.Occur.MustNot, translate(node.b))]
        )
    if isinstance(node, wq.AndMaybe):
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, translate(node.a)), (tantivy.Occur.Should, translate(node.b))]
        )
    if isinstance(node, wq.Require):
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, translate(node.a)), (tantivy.Occur.Must, translate(node.b))]
        )
    if isinstance(node, wq.And):
        return _and(list(node.subqueries))
    if isinstance(node, wq.Or) and not node.minmatch:
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, translate(sub)) for sub in node.subqueries])
    raise QuerySyntaxError(f"query not understood: {type(node).__name__} is not supported by the tantivy engine")

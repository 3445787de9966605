"""Unread counts: how many hits of a search, and of each of its facet values, are unread.

One rule says what unread means, the rule of ``is:unread`` (``IS_FILTERS`` in index/query.py): a post is
unread unless its ``read`` flag is set. Archived posts need no rule here: a result already leaves them
out unless its query asks for them. Counting is set arithmetic on post numbers (index/columns.py): the
result's hits less the read posts, then one intersection count per facet value shown. Nothing is searched
again, so the counts can follow every triage change cheaply.
"""

from __future__ import annotations

from pyroaring import BitMap

from index.catalog import Ranking
from index.columns import Columns
from index.query import IS_FILTERS
from index.searching import FlagSource, SearchResult

UnreadFacets = dict[str, dict[str, int]]
"""Facet key (``tag``, ``actor``, …) → value as the result's facets spell it → unread hits carrying it."""


def read_posts(columns: Columns, state: FlagSource | None) -> BitMap:
    """The posts that count as read, as numbers of ``columns`` (none without a triage state)."""
    flag, _ = IS_FILTERS["read"]
    return columns.of_ids(state.ids_with(flag)) if state is not None else BitMap()


def hits(result: SearchResult, ranking: Ranking) -> BitMap:
    """The result's hits as numbers of ``ranking``'s columns: the numbers the search kept when they belong
    to the same catalog generation, else looked up by id (the catalog moved on since)."""
    if result.numbers is not None and result.generation is not None and result.generation == ranking.generation:
        return result.numbers
    return ranking.columns.of_ids(result.ids)


def unread_hits(result: SearchResult, ranking: Ranking, state: FlagSource | None) -> BitMap:
    """The result's unread hits, as numbers of ``ranking``'s columns."""
    return hits(result, ranking) - read_posts(ranking.columns, state)


def unread_facets(result: SearchResult, ranking: Ranking, state: FlagSource | None, top: int) -> UnreadFacets:
    """Unread hits per facet value, for the first ``top`` values of each facet of a complete result.

    Empty when the result has no facets or there is no triage state (nothing is known to be read, and a
    count equal to the total says nothing); a value the columns do not know counts 0.
    """
    if state is None or not result.facets:
        return {}
    columns = ranking.columns
    unread = unread_hits(result, ranking, state)
    sets = columns.facet_sets
    counts: UnreadFacets = {}
    for field, values in result.facets.items():
        posts = sets.get(field, {})
        counted: dict[str, int] = {}
        for value, _total in values[:top]:
            held = posts.get(value.casefold() if field == "tag" else value)
            counted[value] = unread.intersection_cardinality(held) if held is not None else 0
        counts[field] = counted
    return counts

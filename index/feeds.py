"""Unread counts of saved searches ("feeds"): what the sidebar shows next to each feed's name."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from index.corpus import Corpus
from index.searching import FlagSource
from index.unread import hits, read_posts


def unread_counts(
    corpus: Corpus, queries: Sequence[str], state: FlagSource | None, cancelled: Callable[[], bool] = lambda: False
) -> dict[str, int | None]:
    """For each query, how many of its hits are unread (archived posts stay out unless it asks for them).

    ``None`` for a query that cannot be answered (a syntax error, an index not ready): the feed is still
    listed, without a count. ``cancelled`` is asked between queries: a newer count makes this one moot, and
    what was counted so far comes back. Without facets or snippets a search is the engine's ids and one set
    difference (post numbers less the read ones, by the rule of index/unread.py).
    """
    ranking = corpus.ranking()
    read = read_posts(ranking.columns, state)
    counts: dict[str, int | None] = {}
    for query in dict.fromkeys(queries):
        if cancelled():
            break
        result = corpus.search(query, state=state, snippets=False, facets=False)
        counts[query] = None if result.error is not None else len(hits(result, ranking) - read)
    return counts

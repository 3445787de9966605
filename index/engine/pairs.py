"""Word pairs (bigrams) beside the title and body, so whoosh answers a phrase without walking word positions.

whoosh matches ``"watering hole"`` by reading the positions of both words in every post that has both,
which at 100k posts took over a second for a common phrase. Each positioned text field therefore has a
twin (``body`` → ``body_pairs``) holding every two consecutive analysed words as one term (``water hole``),
at the position of the first. The twin runs the field's own analyser and then :class:`PairFilter`, so
stop words, punctuation and stemming are handled exactly as for the field: whoosh drops stop words and
renumbers the positions that remain, and its phrase query skips them too, so words next to each other in
that numbering are what a phrase matches and what a pair holds.

A phrase of two words is then one pair term. A longer one is a phrase over the pairs: ``"a b c"`` is pair
``a b`` followed at the next position by pair ``b c``. That is exact (a post with ``a b`` here and ``b c``
elsewhere does not match, as on tantivy, which reads positions) and reads positions only in the posts
holding every pair, fewer than those holding every word; a common long phrase still costs a position check
per hit. A phrase with slop (``"a b"~3``) keeps whoosh's own matching over the field.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from whoosh import query as wq
from whoosh.analysis import Filter

#: The positioned text fields and their pair twins.
PAIR_FIELDS = {"title": "title_pairs", "body": "body_pairs"}
_TWINS = frozenset(PAIR_FIELDS.values())


def pair(first: str, second: str) -> str:
    """The pair term of two consecutive analysed words (analysed words never hold a space)."""
    return f"{first} {second}"


class PairFilter(Filter):  # type: ignore[misc]
    """Turns a stream of analysed tokens into one token per two consecutive ones, placed at the first."""

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        previous: tuple[str, int, int] | None = None
        for token in tokens:  # whoosh reuses one token object: copy what the next pair needs
            text = token.text
            here = (text, getattr(token, "pos", 0), getattr(token, "startchar", 0))
            if previous is not None:
                token.text = pair(previous[0], text)
                if token.positions:
                    token.pos = previous[1]
                if token.chars:
                    token.startchar = previous[2]
                yield token
            previous = here


def is_pair_field(fieldname: str) -> bool:
    return fieldname in _TWINS


def pair_phrases(node: Any) -> Any:
    """``node`` with every exact phrase on a positioned field answered from its pair twin."""
    if isinstance(node, wq.Phrase):
        twin = PAIR_FIELDS.get(node.fieldname)
        words = [str(word) for word in node.words]
        if twin is None or node.slop != 1 or len(words) < 2:
            return node
        pairs = [pair(first, second) for first, second in itertools.pairwise(words)]
        if len(pairs) == 1:
            return wq.Term(twin, pairs[0], boost=node.boost)
        return wq.Phrase(twin, pairs, boost=node.boost)
    return node.apply(pair_phrases)

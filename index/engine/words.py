"""The title and body analysed once per post, for the field and its word-pair twin (pairs.py).

whoosh analyses every field value on its own, token by token through a chain of generators: the twins made
it analyse the title and body twice, and that chain was most of a build's CPU time. When a post is written,
:func:`analysed` runs the same analysis (whoosh's ``StemmingAnalyzer``: words by its pattern, lower-cased,
stop words and one-letter words dropped with the positions that remain renumbered, then Porter stems) in one
plain loop and keeps the words on the text. The schema's analysers (:class:`WordsAnalyzer`,
:class:`PairsAnalyzer`) are whoosh's chains, which hand out those words instead of analysing again when
indexing such a text; every other text (queries, highlights, another engine's tokens) goes through the chain
itself. The words are the chain's own, position for position (tests/index/test_words.py), so the index holds
exactly what it held before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import lru_cache
from itertools import pairwise
from typing import Any

from whoosh.analysis import CompositeAnalyzer, StemmingAnalyzer, StopFilter, Token
from whoosh.analysis.tokenizers import default_pattern
from whoosh.formats import Positions
from whoosh.lang.porter import stem

from index.engine.pairs import PairFilter, pair

#: The stock chain's parts, whose settings the plain loop follows.
_STOCK = StemmingAnalyzer()
_STOPS: frozenset[str] = next(item for item in _STOCK.items if isinstance(item, StopFilter)).stops
_MINSIZE: int = next(item for item in _STOCK.items if isinstance(item, StopFilter)).min
_stem = lru_cache(maxsize=100_000)(stem)


class Analysed(str):
    """A text with its analysed words: the position of the first, then each word in order (the positions
    after the first are consecutive, as whoosh renumbers them)."""

    first: int
    words: list[str]


def analysed(text: str) -> Analysed:
    """``text`` with the words ``StemmingAnalyzer`` gives for it when indexing."""
    words: list[str] = []
    first = 0
    stops, minsize, stem_word = _STOPS, _MINSIZE, _stem
    for number, match in enumerate(default_pattern.finditer(text)):
        word = match.group(0).lower()
        if len(word) < minsize or word in stops:
            continue
        if not words:
            first = number
        words.append(stem_word(word))
    result = Analysed(text)
    result.first = first
    result.words = words
    return result


def _plain_indexing(kwargs: dict[str, Any]) -> bool:
    """whoosh asks for what :func:`analysed` keeps: positions (no character offsets), stop words removed."""
    return (
        kwargs.get("mode") == "index"
        and not kwargs.get("chars")
        and kwargs.get("removestops", True)
        and not kwargs.get("start_pos")
        and kwargs.get("tokenize", True)
    )


def _tokens(texts: list[str], first: int, kwargs: dict[str, Any]) -> Iterator[Any]:
    token = Token(**kwargs)  # one token, reused, as whoosh's own tokenizers do
    token.boost = 1.0
    token.stopped = False
    for position, text in enumerate(texts, first):
        token.text = text
        token.pos = position
        yield token


class WordsAnalyzer(CompositeAnalyzer):  # type: ignore[misc]
    """``StemmingAnalyzer()``, which indexes an :class:`Analysed` text from its words."""

    def __init__(self) -> None:
        super().__init__(*StemmingAnalyzer().items)

    def terms(self, value: Analysed) -> list[str]:
        """The terms this analyser indexes for ``value``, from position ``value.first`` on."""
        return value.words

    def __call__(self, value: Any, **kwargs: Any) -> Iterator[Any]:
        if isinstance(value, Analysed) and _plain_indexing(kwargs):
            return _tokens(self.terms(value), value.first, kwargs)
        return super().__call__(value, **kwargs)  # type: ignore[no-any-return]


class PairsAnalyzer(CompositeAnalyzer):  # type: ignore[misc]
    """``StemmingAnalyzer() | PairFilter()``, which indexes an :class:`Analysed` text from its words."""

    def __init__(self) -> None:
        super().__init__(*StemmingAnalyzer().items, PairFilter())

    def terms(self, value: Analysed) -> list[str]:
        """The pair terms this analyser indexes for ``value``, from position ``value.first`` on."""
        return [pair(*two) for two in pairwise(value.words)]

    def __call__(self, value: Any, **kwargs: Any) -> Iterator[Any]:
        if isinstance(value, Analysed) and _plain_indexing(kwargs):
            return _tokens(self.terms(value), value.first, kwargs)
        return super().__call__(value, **kwargs)  # type: ignore[no-any-return]


def field_postings(field: Any, value: Any) -> Iterable[tuple[bytes, int, float, bytes]]:
    """``field.index(value)``: (term, frequency, weight, encoded positions) per term. An :class:`Analysed`
    text in a field with one of these analysers gives its postings straight from its terms, without the
    token stream whoosh's format would read."""
    analyzer, format_ = field.analyzer, field.format
    if not (
        isinstance(value, Analysed)
        and isinstance(analyzer, (WordsAnalyzer, PairsAnalyzer))
        and type(format_) is Positions
    ):
        return field.index(value)  # type: ignore[no-any-return]
    positions: defaultdict[str, list[int]] = defaultdict(list)
    for position, term in enumerate(analyzer.terms(value), value.first):
        positions[term].append(position)
    boost, encode = format_.field_boost, format_.encode
    return [(term.encode("utf-8"), len(where), len(where) * boost, encode(where)) for term, where in positions.items()]

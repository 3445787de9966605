"""The title and body analysed once (index/engine/words.py) give exactly the postings whoosh's own analysis
gives, for the fields and their word-pair twins, on generated texts full of the awkward cases; and every
other use of the analysers (queries, highlights) is whoosh's chain itself."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import TEXT

from index.engine.pairs import PairFilter
from index.engine.words import PairsAnalyzer, WordsAnalyzer, analysed

#: Stop words (the, of, a, and, to), one letter (c, I), stems shared (hack/hacked/hacking), dotted and
#: underscored tokens, apostrophes, digits, letters whose lower case is longer or differs (İ, ẞ, Σ).
WORDS = [
    "The",
    "of",
    "a",
    "AND",
    "to",
    "c",
    "I",
    "hack",
    "hacked",
    "Hacking",
    "10.0.0.1",
    "x.y.",
    "snake_case",
    "don't",
    "İstanbul",
    "STRASSE",
    "ẞ",
    "ΣΊΣΥΦΟΣ",
    "naïve",
    "２０２４",
    "ab",
    "running",
    "us",
]
SEPARATORS = [" ", "  ", ", ", ". ", ".", "-", " (", ") ", "\n", ": ", "'s ", "\u00a0", "\u200b", "_"]

_words = st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=30).map(
    lambda parts: "".join(word + separator for word, separator in parts)
)
_texts = st.one_of(_words, st.text(max_size=200))


def _postings(field: Any, value: str) -> list[tuple[bytes, int, float, bytes]]:
    return sorted(field.index(value))


def _seen(tokens: Any) -> list[tuple[Any, ...]]:
    return [
        (token.text, getattr(token, "pos", None), getattr(token, "startchar", None), token.stopped) for token in tokens
    ]


def _same_postings(text: str) -> None:
    once = analysed(text)
    assert once == text
    words = TEXT(analyzer=StemmingAnalyzer()), TEXT(analyzer=WordsAnalyzer())
    pairs = TEXT(analyzer=StemmingAnalyzer() | PairFilter()), TEXT(analyzer=PairsAnalyzer())
    for stock, ours in (words, pairs):
        assert _postings(ours, once) == _postings(stock, text)
    stock_tokens = [(token.text, token.pos) for token in StemmingAnalyzer()(text, positions=True, mode="index")]
    assert stock_tokens == [(word, position) for position, word in enumerate(once.words, once.first)]


@settings(derandomize=True, max_examples=200, deadline=None)
@given(_texts)
@example("The hacking of a server")  # the first position is not 0
@example("the of a")  # no words at all
@example("hack hack hack")  # a repeated word and a repeated pair
@example("İİ ab")  # İ lower-cases to two characters
@example("x.y. 10.0.0.1 snake_case don't")
def test_analysed_once_gives_the_postings_of_whoosh_own_analysis(text: str) -> None:
    _same_postings(text)


@settings(derandomize=True, max_examples=100, deadline=None)
@given(_texts)
@example("The hacking of a server")
def test_other_uses_of_the_analysers_are_whoosh_chain(text: str) -> None:
    """Queries and highlights ask for other things (character offsets, stop words kept) or pass plain text:
    both analysers then answer as the chains they replace, even for an analysed text."""
    asks: list[dict[str, Any]] = [
        dict(mode="query"),
        dict(positions=True, chars=True, mode="index"),
        dict(positions=True, removestops=False, mode="index"),
    ]
    for ours, stock in ((WordsAnalyzer(), StemmingAnalyzer()), (PairsAnalyzer(), StemmingAnalyzer() | PairFilter())):
        for ask in asks:
            for value in (text, analysed(text)):
                assert _seen(ours(value, **ask)) == _seen(stock(text, **ask))

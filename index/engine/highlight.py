"""Where a search matched inside a text: the one highlighter for snippets, the article and the CLI.

whoosh indexes title and body through ``StemmingAnalyzer`` (schema.py): words are found by its token
pattern, lower-cased and Porter-stemmed, and a query matches stems. A word here is highlighted exactly
when it analyses to one of the query's matched terms, so ``hacked`` lights up "hacking" and "hacks"
too. whoosh's own highlighter runs the full analyzer chain on every token; here a regex first finds
the words that could analyse to a term, and only those are stemmed, with a memo. Porter rewrites at
most the last two letters of what it keeps ("happy" → "happi", "capability" → "capable" inside a
dotted token), so a stem minus two letters starts every word that analyses to it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache

from whoosh.analysis.tokenizers import default_pattern
from whoosh.lang.porter import stem

#: Most spans returned for one text (a huge post full of the word must not stall the article).
MAX_SPANS = 2000


@lru_cache(maxsize=65536)
def _analysed(word: str) -> str:
    return str(stem(word.lower()))


def highlight_spans(text: str, terms: Collection[str], *, limit: int = MAX_SPANS) -> list[tuple[int, int]]:
    """``(start, end)`` offsets into ``text`` of every word that analyses to one of ``terms``, in order.

    ``terms`` are the analysed terms a search matched (``SearchResult.stems``); offsets are Python
    character indices, so they stay valid on :func:`index.sanitize.display_safe` output.
    """
    if not terms or not text:
        return []
    candidates = _candidates(frozenset(terms))
    spans: list[tuple[int, int]] = []
    position = 0
    while len(spans) < limit and (found := candidates.search(text, position)):
        start = found.start()
        if start > 1 and text[start - 1] == "." and (text[start - 2].isalnum() or text[start - 2] == "_"):
            position = found.end()  # inside a dotted token ("evil.com"): not where a word starts
            continue
        token = default_pattern.match(text, start)
        if token is None:  # cannot happen (a candidate starts with a word character); be safe
            position = found.end()
            continue
        word = token.group()
        if _analysed(word) in terms:
            spans.append(token.span())
        position = token.end()
    return spans


@lru_cache(maxsize=64)
def _candidates(terms: frozenset[str]) -> re.Pattern[str]:
    """Where a word that might analyse to one of ``terms`` starts: a stem minus two letters, at a word start."""
    prefixes = sorted({term[: max(1, len(term) - 2)] for term in terms if term}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, prefixes)) + ")", re.IGNORECASE)


def highlight(body: str, terms: Collection[str], *, fragments: int = 2, surround: int = 60) -> str:
    """Plain-text fragments of ``body`` around the words :func:`highlight_spans` finds; "" when none."""
    windows: list[tuple[int, int]] = []
    for start, end in highlight_spans(body, terms):
        start, end = max(0, start - surround), min(len(body), end + surround)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
            continue
        if len(windows) == fragments:
            break
        windows.append((start, end))
    pieces = []
    for start, end in windows:
        text = body[start:end]
        if start > 0 and " " in text:
            text = text.split(" ", 1)[1]
        if end < len(body) and " " in text:
            text = text.rsplit(" ", 1)[0]
        pieces.append(text.strip())
    return " … ".join(pieces)

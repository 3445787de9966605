"""Whole-text scans for patterns that each start with a literal.

The regex engine finds a literal at C speed, but a pattern that starts with an alternation or a character
class is tried at every position of the text. So each alternative gets its own pattern, led by its literal,
run only when the text holds that literal; their matches are merged by start, lazily (a caller may stop
early). Alternatives whose matches never overlap give the order one alternation would.
"""

from __future__ import annotations

import heapq
import operator
import re
from collections.abc import Iterator, Sequence

LiteralPatterns = Sequence[tuple[str, re.Pattern[str]]]

_MATCH_START = operator.methodcaller("start")


def led_by(literals: Sequence[str], tail: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """One pattern per literal: the literal (escaped) followed by ``tail``."""
    return tuple((literal, re.compile(re.escape(literal) + tail)) for literal in literals)


def scan(patterns: LiteralPatterns, text: str) -> Iterator[re.Match[str]]:
    """The matches of every pattern whose literal ``text`` holds, by start."""
    scans = [pattern.finditer(text) for literal, pattern in patterns if literal in text]
    if len(scans) == 1:
        return scans[0]
    return heapq.merge(*scans, key=_MATCH_START)

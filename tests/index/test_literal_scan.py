"""Literal-led scans find what one alternation finds, in the same order."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from index.extract.iocs import _ANCHORS
from index.extract.scan import led_by, scan

# The IoC anchors as one alternation led by a character class: the oracle the per-character patterns replace.
_ONE_ANCHOR = re.compile(
    r"[.@:\[({]"
    r"(?:(?<=[^\W_][.@:])(?=[^\W_])"
    r"|(?<=\[)(?=[.@:/]\]|[dD][oO][tT]\]|[aA][tT]\])"
    r"|(?<=\()(?=\.\)|[dD][oO][tT]\)|[aA][tT]\))"
    r"|(?<=\{)(?=\.\}))"
)
_TEXT = st.text(alphabet="ab1_ .@:[](){}/dotDOTAt\né", max_size=60)


@given(_TEXT)
@example("evil[.]example (dot) x@y a:b {.} [at] (AT) é.a _.a a._")
@example("")
def test_anchors_match_the_one_alternation(text: str) -> None:
    assert [m.start() for m in scan(_ANCHORS, text)] == [m.start() for m in _ONE_ANCHOR.finditer(text)]


def test_matches_of_several_literals_come_by_start() -> None:
    patterns = led_by(("Bear", "Panda", "Sleet"), r"\b")
    text = "Sleet then Panda, Bear and Panda"
    assert [(m.start(), m.group()) for m in scan(patterns, text)] == [
        (0, "Sleet"),
        (11, "Panda"),
        (18, "Bear"),
        (27, "Panda"),
    ]
    assert list(scan(patterns, "no animals here")) == []

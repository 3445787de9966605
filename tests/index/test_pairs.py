"""Phrases answered from word pairs (index/engine/pairs.py) match exactly the posts whoosh's own phrase
matching over word positions finds, on generated texts full of the awkward cases: stop words and one-letter
words (dropped, positions renumbered), punctuation between words, stems two words share, repeated words."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from whoosh.filedb.filestore import RamStorage

from index.engine.pairs import PAIR_FIELDS, pair_phrases
from index.engine.schema import build_schema
from index.engine.search import parse_with
from index.engine.store import IndexDoc, doc_fields

#: Words that stem alike (hack/hacked/hacking), stop words (the, of, and, a), one letter (c), a dotted token.
WORDS = [
    "hack",
    "hacked",
    "hacking",
    "the",
    "of",
    "and",
    "a",
    "c",
    "server",
    "command",
    "control",
    "watering",
    "hole",
    "10.0.0.1",
    "spear",
    "phishing",
]
SEPARATORS = [" ", "  ", ", ", ". ", "-", " (", ") ", "\n", ": ", "'s "]

_word = st.sampled_from(WORDS)
_text = st.lists(st.tuples(_word, st.sampled_from(SEPARATORS)), max_size=14).map(
    lambda parts: "".join(word + separator for word, separator in parts)
)
_phrase = st.lists(st.tuples(_word, st.sampled_from(SEPARATORS)), min_size=1, max_size=5).map(
    lambda parts: "".join(word + separator for word, separator in parts).strip()
)


def _matches(searcher: Any, node: Any) -> set[int]:
    return set(searcher.docs_for_query(node))


#: whoosh sorts a RAM index's postings in ``/tmp/MAIN.tmp``, one folder for every process on the machine,
#: which a finishing writer removes under any other: this process gets a folder of its own.
_SORT_FOLDER = f"spyglass-test-pairs-{os.getpid()}.tmp"


class _PrivateRam(RamStorage):  # type: ignore[misc]
    def temp_storage(self, name: str | None = None) -> Any:
        return super().temp_storage(_SORT_FOLDER)


@pytest.fixture(autouse=True, scope="module")
def _remove_sort_folder() -> Iterator[None]:
    yield
    shutil.rmtree(Path(tempfile.gettempdir()) / _SORT_FOLDER, ignore_errors=True)


def _searcher(titles_and_bodies: list[tuple[str, str]]) -> Any:
    """A whoosh searcher (in memory) over posts written the way the index writes them (``doc_fields``)."""
    index = _PrivateRam().create_index(build_schema())
    with index.writer() as writer:
        for number, (title, body) in enumerate(titles_and_bodies):
            writer.add_document(**doc_fields(IndexDoc(f"p{number}.md", title, body)))
    return index.searcher()


def _phrase_query(phrase: str) -> str:
    return '"' + phrase.replace('"', " ") + '"'


def _same_posts(titles_and_bodies: list[tuple[str, str]], phrases: list[str]) -> None:
    schema = build_schema()
    with _searcher(titles_and_bodies) as searcher:
        for phrase in phrases:
            for fieldname in PAIR_FIELDS:
                positions = parse_with(schema, f"{fieldname}:{_phrase_query(phrase)}").normalize()  # whoosh's own
                pairs = pair_phrases(positions)
                assert _matches(searcher, pairs) == _matches(searcher, positions), (phrase, pairs)


@settings(max_examples=50)  # each example builds an index; the @example cases hold the known traps
@given(st.lists(st.tuples(_text, _text), min_size=1, max_size=6), st.lists(_phrase, min_size=1, max_size=4))
@example([("", "hack hack")], ["hack hack hack", "hacked hacking", "hack"])
@example([("", "command and control. The control server")], ["command control server", "control server"])
@example([("", "watering, the hole")], ["watering hole", "watering of the hole", "watering-hole"])
@example([("", "a c server")], ["a server", "c server", "the a c"])
@example([("", "spear phishing spear phishing")], ["phishing spear phishing", "spear phishing spear phishing"])
@example([("server control", "")], ["server control", "control server"])
def test_pair_phrases_match_what_whoosh_phrases_match(
    titles_and_bodies: list[tuple[str, str]], phrases: list[str]
) -> None:
    _same_posts(titles_and_bodies, phrases)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '"watering hole"',
            "Or([Term('title_pairs', 'water hole'), Term('tags', 'watering hole'), Term('body_pairs', 'water hole')])",
        ),
        ('body:"the watering of the hole"', "Term('body_pairs', 'water hole')"),
        (
            'body:"command and control server"',
            "Phrase('body_pairs', ['command control', 'control server'], slop=1, boost=1.000000)",
        ),
        ('body:"watering hole"~3', "Phrase('body', ['water', 'hole'], slop=3, boost=1.000000)"),
        ('body:"watering"', "Term('body', 'water')"),
        ('body:"of the"', "<_NullQuery>"),
    ],
)
def test_exact_phrases_become_pair_terms_and_others_stay(text: str, expected: str) -> None:
    node = pair_phrases(parse_with(build_schema(), text).normalize())
    assert repr(node) == expected


def test_pair_fields_hold_consecutive_analysed_words() -> None:
    analyzer = build_schema()[PAIR_FIELDS["body"]].analyzer
    tokens = [(token.text, token.pos) for token in analyzer("The watering-hole, of a c Hacked server!", positions=True)]
    assert tokens == [("water hole", 1), ("hole hack", 2), ("hack server", 3)]  # whoosh counts from the first word kept
    assert list(analyzer("one")) == []

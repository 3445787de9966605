"""Searches that would overrun their time limits: expansion is bounded by terms, postings and time.

No assertion is on wall time (the machine is shared): each test asserts on the bounded work itself
(terms and postings the patterns expanded to) and on the partial flag that tells the user.
"""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from index import searching as searching_module
from index.corpus import ENGINE_FOLDER, Corpus
from index.engine import Engine, Searchers
from index.engine import search as search_module
from index.engine.search import MAX_QUERY_EXPANSION, compile_query, postings_budget
from index.query import expand_term, parse_query
from index.searching import Sort

LETTERS = "abcdefghijklmnopqrstuvwxyz"
#: Every letter of the alphabet as a prefix: the query that used to take seconds.
ALPHABET_OR = " OR ".join(f"{letter}*" for letter in LETTERS)
ALPHABET_AND = " ".join(f"{letter}*" for letter in LETTERS)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """150 posts over a vocabulary of 30 words per letter (780 words: more than the query budget)."""
    base = tmp_path_factory.mktemp("wild")
    rnd = random.Random(7)
    vocabulary = [letter + "".join(rnd.choice(LETTERS) for _ in range(6)) for letter in LETTERS for _ in range(30)]
    posts = base / "posts"
    posts.mkdir()
    for number in range(150):
        words = " ".join(rnd.choice(vocabulary) for _ in range(120))
        (posts / f"2020-01-{number % 28 + 1:02d}-p{number:03d}.md").write_text(
            f"---\ntitle: Post {number}\ndate: 2020-01-{number % 28 + 1:02d}\n---\n{words}\n", encoding="utf-8"
        )
    opened = Corpus.open(posts, base / "index")
    opened.update()
    return opened


def _compile(corpus: Corpus, query: str, *, seconds: float = 1.0, postings: int | None = None) -> Any:
    searchers = Searchers(Engine(corpus.index_dir / ENGINE_FOLDER))
    searcher, _ids = searchers.get()
    text = parse_query(query).text
    return compile_query(
        searchers.engine,
        searcher,
        text,
        expand_term,
        deadline=time.monotonic() + seconds,
        postings=postings_budget(seconds) if postings is None else postings,
    )[1]


def test_the_patterns_of_one_query_share_the_term_budget(corpus: Corpus) -> None:
    rewriter = _compile(corpus, ALPHABET_OR)
    assert 0 < rewriter.expanded <= MAX_QUERY_EXPANSION
    assert rewriter.truncated and rewriter.notes


def test_the_patterns_of_one_query_share_the_postings_budget(corpus: Corpus) -> None:
    rewriter = _compile(corpus, ALPHABET_OR, postings=500)
    # Each pattern keeps at least its first word; beyond that the 500 postings are shared.
    assert rewriter.postings <= 500 + 26 * 3 * 150
    assert rewriter.expanded < 100 and rewriter.truncated
    assert any("too many documents" in note for note in rewriter.notes)


def test_expansion_stops_at_the_deadline(corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_module, "EXPAND_CHECK_EVERY", 1)
    rewriter = _compile(corpus, ALPHABET_OR, seconds=-1.0, postings=10**9)
    assert rewriter.expanded == 0 and rewriter.truncated
    assert any("took too long" in note for note in rewriter.notes)


@pytest.mark.parametrize("sort", ["date", "relevance"])
@pytest.mark.parametrize("complete", [True, False])
def test_every_search_of_the_alphabet_answers_partially(
    corpus: Corpus, sort: Sort, complete: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first screens and the complete answers all find hits and say they are partial: the term budget
    cuts them, not the clock (the time limits are lifted, so a loaded machine cannot leave them empty)."""
    monkeypatch.setattr(searching_module, "FIRST_SCREEN_TIME_LIMIT", 60.0)
    monkeypatch.setattr(corpus._search, "time_limit", 60.0)
    result = corpus.search(ALPHABET_OR, sort=sort, limit=50, complete=complete)
    assert result.error is None
    assert result.partial and result.notes
    assert result.total > 0 and len(result.ids) == min(50, result.total)


def test_an_and_of_many_patterns_is_bounded_and_partial(corpus: Corpus) -> None:
    result = corpus.search(ALPHABET_AND, limit=50)
    assert result.error is None and result.partial
    assert _compile(corpus, ALPHABET_AND).expanded <= MAX_QUERY_EXPANSION

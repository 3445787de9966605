"""Searching: the one highlighter (a word lights up when it analyses to a matched term) and facet labels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.corpus import Corpus
from index.engine import highlight, highlight_spans
from index.posts import Post

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    """The sample posts indexed once for the module: the tests only search them."""
    corpus = Corpus.open(REPO / "sample_posts", tmp_path_factory.mktemp("sample") / "index")
    corpus.update()
    yield corpus
    corpus.close()


def test_every_hit_for_a_stemmed_word_shows_where_it_matched(corpus: Corpus) -> None:
    result = corpus.search("hacked")
    assert result.total >= 10 and result.stems == frozenset({"hack"})
    with_body_spans = 0
    for post_id in result.ids:
        post = corpus.load(post_id)
        assert isinstance(post, Post)
        body = highlight_spans(post.body, result.stems)
        assert body or highlight_spans(post.title, result.stems), post_id  # title and body are what matched
        with_body_spans += bool(body)
        for start, end in body:
            assert post.body[start:end].lower().startswith("hack")
    assert with_body_spans >= result.total - 2  # two sample posts say it in the title only


def test_spans_follow_the_stemmer_not_the_spelling() -> None:
    text = "Hacked, HACKING and hacks; not hackers. Happy studies of a happier study."
    spans = highlight_spans(text, frozenset({"hack", "happi", "studi"}))
    assert [text[start:end] for start, end in spans] == ["Hacked", "HACKING", "hacks", "Happy", "studies", "study"]
    assert highlight_spans(text, frozenset()) == [] and highlight_spans("", frozenset({"hack"})) == []
    assert len(highlight_spans("hack " * 50, frozenset({"hack"}), limit=7)) == 7


def test_a_dotted_token_is_one_word_as_in_the_index() -> None:
    text = "beacon to evil.com and evil"
    assert [text[s:e] for s, e in highlight_spans(text, frozenset({"evil.com"}))] == ["evil.com"]
    # Inside a dotted token the stemmer may rewrite the last two letters it keeps: "…bility" → "…ble".
    assert highlight_spans("see happy.sensibility here", frozenset({"happy.sensible"})) == [(4, 21)]


def test_snippets_are_built_on_the_same_spans() -> None:
    body = "Intro words here. " * 10 + "The group hacked a ministry. " + "Filler text. " * 20
    fragment = highlight(body, frozenset({"hack"}))
    assert "hacked a ministry" in fragment and len(fragment) < len(body)
    assert highlight(body, frozenset({"zebra"})) == ""


def test_facet_labels_name_techniques_when_asked(corpus: Corpus) -> None:
    corpus.forget_answers()
    result = corpus.search("", labels=True)
    techniques = [value for value, _ in result.facets["technique"]]
    assert result.labels["T1566.001"] == "T1566.001 Spearphishing Attachment"
    assert set(result.labels) <= set(techniques) and len(result.labels) >= len(techniques) - 2
    assert corpus.search("").labels == {}  # not asked: the entity knowledge is not loaded for it
    first = corpus.search("phishing", limit=5, complete=False)
    assert not first.complete and first.stems == frozenset({"phish"})


_WORDS = [
    "hack",
    "hacked",
    "Hacking",
    "HACKERS",
    "happy",
    "Happiness",
    "study",
    "studies",
    "evil.com",
    "the",
    "relational",
    "sensibility",
    "generalization",
    "hoped",
    "U.S",
    "a",
    "x1",
    "phishing",
    "spear-phishing",
    "capability",
    "instability",
    "activity",
    "national",
]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(_WORDS), st.sampled_from([" ", ". ", ", ", "\n", "-", ".", "_", "("])), max_size=30
    ),
    st.data(),
)
def test_spans_are_exactly_the_tokens_the_index_analyser_gives_the_terms(
    pieces: list[tuple[str, str]], data: st.DataObject
) -> None:
    from whoosh.analysis import StemmingAnalyzer  # the body field's analyser (index/engine/schema.py)

    text = "".join(word + separator for word, separator in pieces)
    tokens = [(token.text, token.startchar, token.endchar) for token in StemmingAnalyzer()(text, chars=True)]
    stems = sorted({stem for stem, _, _ in tokens})
    terms = frozenset(data.draw(st.lists(st.sampled_from(stems), unique=True)) if stems else [])
    expected = [(start, end) for stem, start, end in tokens if stem in terms]
    assert highlight_spans(text, terms) == expected

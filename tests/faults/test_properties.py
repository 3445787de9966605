"""Property tests with the real extractor and knowledge (tests/index/test_query.py uses stand-ins):
no query text makes the query layer or Corpus.search raise or return unbounded results, and the
extractor's offsets always point inside the text with no overlaps within a kind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from index.corpus import Corpus
from index.extract import extract, index_terms
from index.query import parse_query
from tests.faults.helpers import write_posts
from tests.index.helpers import assert_well_formed

pytestmark = pytest.mark.slow  # hundreds of examples against a real index

COUNT = 12

QUERY_PIECES = [
    "(", ")", '"', "'", "[", "]", "{", "}", "AND", "OR", "NOT", "*", "?", "-", "^", "~", ":", " ", "to", "TO",
    "tag:", "date:", "actor:", "victim:", "technique:", "malware:", "ioc:", "cve:", "vuln:", "title:", "body:",
    "source:", "is:", "sort:", "unread", "starred", "relevance", "2019", "2019-13", "[2018 to", "zzz",
    "APT28", "phishing", "uniq1", "common", "T1566", "CVE-2017-11882", "hxxp://evil[.]example", "\x00", "\x1b[31m",
    "é", "界", "🙂", "\u202e",
]  # fmt: skip
QUERIES = st.text(max_size=300) | st.lists(st.sampled_from(QUERY_PIECES), max_size=40).map("".join)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    root = tmp_path_factory.mktemp("properties")
    built = Corpus.open(write_posts(root / "posts", COUNT), root / "index")
    assert built.update().added == COUNT
    yield built
    built.close()


@settings(max_examples=300, deadline=None)
@given(QUERIES, st.booleans())
@example("", False)
@example("(" * 999, False)
@example('"unclosed date:[2018 to', False)
@example("\x00\u202e\u2028", True)
def test_parse_query_never_raises(text: str, plain: bool) -> None:
    parsed = parse_query(text, plain=plain)
    assert parsed.error is None or (isinstance(parsed.error, str) and parsed.error)
    if plain:
        assert parsed.flags == ()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(QUERIES, st.sampled_from(["date", "relevance"]), st.booleans(), st.none() | st.integers(0, 5))
@example(text="", sort="date", plain=False, limit=0)
@example(text="(", sort="relevance", plain=False, limit=None)
@example(text='"common uniq1', sort="date", plain=True, limit=5)
def test_search_never_raises_and_is_bounded(
    corpus: Corpus, text: str, sort: str, plain: bool, limit: int | None
) -> None:
    known = {f"post-{number:05d}.md" for number in range(COUNT)}
    result = corpus.search(text, sort="relevance" if sort == "relevance" else "date", plain=plain, limit=limit)
    assert 0 <= result.total <= COUNT
    assert set(result.ids) <= known and len(set(result.ids)) == len(result.ids)
    assert len(result.ids) == (result.total if limit is None else min(limit, result.total))
    assert set(result.highlights) <= set(result.ids)
    assert result.error is None or (isinstance(result.error, str) and result.error)
    if result.error:
        assert result.ids == []


TOKENS = ["CVE-2017-11882", "APT28", "Lazarus Group", "hxxp://evil[.]example", "203.0.113[.]7", "T1566.001", "[.]"]
TEXT = st.lists(
    st.text(alphabet=st.characters(codec=None) | st.sampled_from(list(".[]:/-_@ \n\t\u0301\u200b🙂界")), max_size=8)
    | st.sampled_from(TOKENS),
    max_size=40,
).map("".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
@example("")
@example("hxxp://evil[.]example\u200b203.0.113[.]7")
@example("CVE-2017-11882CVE-2017-11882 APT28\u0301")
def test_extract_offsets_inside_text_and_no_overlaps_within_a_kind(text: str) -> None:
    mentions = extract(text)
    assert_well_formed(text, mentions)
    for values in index_terms(mentions).values():
        assert all(isinstance(value, str) and value == value.lower() for value in values)

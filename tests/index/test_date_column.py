"""``date:`` ranges from the date column: the same matches, scores and order as whoosh's numeric terms,
without reading the date field's postings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from whoosh.reading import SegmentReader

import index.engine.search as search_module
from index.corpus import ENGINE_FOLDER, Corpus
from index.engine import Engine, Searchers, run
from index.query import expand_term

QUERIES = (
    "(alpha) date:2018",
    "date:2018-02",
    "(alpha OR beta) date:[2018-01-15 to 2018-03]",
    "(beta) date:[2018-02 to]",
    "(alpha) date:[to 2018-01-20]",
    '("alpha beta") date:2018',
    "(alpha) NOT date:2018-01",
    "(alpha) (date:2018-01 OR date:2018-03)",
    "date:[2030 to]",
)


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Corpus, Path]:
    """Dated posts over three months, two undated ones (their date comes from no field and no name), and a
    removed post (a deleted document in its segment)."""
    posts = tmp_path / "posts"
    posts.mkdir()
    for number in range(30):
        month, day = 1 + number // 10, 1 + 2 * (number % 10)
        words = "alpha beta" if number % 3 else "alpha"
        (posts / f"2018-{month:02d}-{day:02d}-post{number}.md").write_text(
            f"---\ntitle: Post {number}\ndate: 2018-{month:02d}-{day:02d}\n---\n{words} " + "beta " * (number % 4),
            encoding="utf-8",
        )
    for number in range(2):
        (posts / f"undated{number}.md").write_text("---\ntitle: Undated\n---\nalpha beta\n", encoding="utf-8")
    opened = Corpus.open(posts, tmp_path / "index")
    opened.update()
    (posts / "2018-02-05-post12.md").unlink()
    assert opened.update().removed == 1
    return opened, tmp_path / "index" / ENGINE_FOLDER


def _answers(folder: Path, text: str) -> tuple[Any, ...]:
    searchers = Searchers(Engine(folder))
    try:
        hits = run(searchers, text, expand=expand_term, top=50, time_limit=30.0)
    finally:
        searchers.close()
    return hits.ids, hits.top, hits.scores, hits.partial


@pytest.mark.parametrize("text", QUERIES)
def test_same_matches_scores_and_order_as_the_terms(
    corpus: tuple[Corpus, Path], text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, folder = corpus
    from_column = _answers(folder, text)
    monkeypatch.setattr(search_module, "from_column", lambda node: node)
    from_terms = _answers(folder, text)
    assert from_column == from_terms
    if text == "date:2018-02":
        assert len(from_column[0]) == 9  # ten posts in February, one of them removed; the undated never match


def test_a_range_reads_no_postings_of_the_date_field(
    corpus: tuple[Corpus, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, folder = corpus
    fields: list[str] = []
    postings = SegmentReader.postings

    def counted(self: SegmentReader, fieldname: str, text: Any, scorer: Any = None) -> Any:
        fields.append(fieldname)
        return postings(self, fieldname, text, scorer=scorer)

    monkeypatch.setattr(SegmentReader, "postings", counted)
    ids = _answers(folder, "(alpha) date:[2018-01-15 to 2018-03]")[0]
    assert ids and "body" in fields
    assert "date" not in fields

"""``Corpus.search_page`` (the command line's one search) answers what ``search(..., facets=False)`` answers,
and reads no date ranking when the scored page fills the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index.catalog import Catalog
from index.corpus import Corpus
from index.searching import SearchResult, Sort
from index.state import TriageState


@pytest.fixture
def corpus(tmp_path: Path) -> Iterator[Corpus]:
    posts = tmp_path / "posts"
    posts.mkdir()
    for day in range(1, 25):
        words = "ransomware " * (day % 5 + 1) + ("wiper" if day % 4 == 0 else "hospital")
        (posts / f"2019-04-{day:02d}-post{day}.md").write_text(
            f"---\ntitle: Post {day}\ndate: 2019-04-{day:02d}\ntags: [t{day % 3}]\n---\nA {words} story.\n",
            encoding="utf-8",
        )
    (posts / "undated-ransomware.md").write_text("---\ntitle: Undated\n---\nransomware, again\n", encoding="utf-8")
    opened = Corpus.open(posts, tmp_path / "index")
    opened.update()
    yield opened
    opened.close()


def _same(page: SearchResult, whole: SearchResult) -> None:
    assert (page.ids, page.total, page.error, page.partial, page.notes) == (
        whole.ids,
        whole.total,
        whole.error,
        whole.partial,
        whole.notes,
    )
    assert (page.highlights, page.stems, page.terms, page.facets) == (
        whole.highlights,
        whole.stems,
        whole.terms,
        whole.facets,
    )
    assert {post_id: page.scores.get(post_id) for post_id in page.ids} == {
        post_id: whole.scores.get(post_id) for post_id in whole.ids
    }


QUERIES = [
    "ransomware",
    "wiper",
    "ransomware -wiper",
    "ransomware sort:date",
    "",
    "tag:t1 ransomware",
    "hospital OR wiper",
    "nothingmatches",
    "title:(",
    "is:archived ransomware",
    "ransomware is:starred",
]


@pytest.mark.parametrize("sort", ["relevance", "date"])
@pytest.mark.parametrize("limit", [1, 3, 20, 100])
def test_the_page_is_the_head_of_the_whole_answer(corpus: Corpus, tmp_path: Path, sort: Sort, limit: int) -> None:
    with TriageState(tmp_path / "state.sqlite3") as state:
        best = corpus.search("ransomware", sort="relevance", limit=3, facets=False).ids
        state.set_flag(best[1], "archived", True)  # a scored hit hidden: the page must skip it, and count it out
        state.set_flag(best[0], "starred", True)
        for query in QUERIES:
            fresh = Corpus.open(corpus.posts_dir, corpus.index_dir)
            page = fresh.search_page(query, sort=sort, limit=limit, state=state)
            whole = corpus.search(query, sort=sort, limit=limit, state=state, facets=False)
            _same(page, whole)
            fresh.close()


def test_a_full_scored_page_reads_no_ranking(corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    rankings: list[int] = []
    real = Catalog.ranking

    def counting(self: Catalog) -> Any:
        rankings.append(1)
        return real(self)

    monkeypatch.setattr(Catalog, "ranking", counting)
    fresh = Corpus.open(corpus.posts_dir, corpus.index_dir)
    page = fresh.search_page("ransomware", sort="relevance", limit=5)
    assert (len(page.ids), page.total, rankings) == (5, 25, [])
    assert fresh.search_page("ransomware", sort="date", limit=5).total == 25
    assert rankings == [1]  # by date, the page needs the order of every hit
    fresh.close()

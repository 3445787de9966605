"""The first screen of a date-sorted search equals the head of the complete result, in any document order."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import pytest

from index.corpus import Corpus
from index.engine import first_page

WORDS = ["phishing", "watering", "hole", "ransomware", "bank", "credential", "dumping", "espionage"]
QUERIES = ["phishing", '"watering hole"', "cred*", "ransomware AND bank", "tag:alpha", "espionage -bank", "nomatch"]


def _write(folder: Path, number: int, rng: random.Random) -> None:
    # File names deliberately disagree with dates, so document order is not date order.
    date = f"20{rng.randint(10, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    words = " ".join(rng.choice(WORDS) for _ in range(12))
    tag = rng.choice(["alpha", "beta"])
    (folder / f"post-{rng.randint(0, 10**6):07d}-{number}.md").write_text(
        f"---\ntitle: Post {number}\ndate: {date} 10:{number % 60:02d}:00\ntags: [{tag}]\n---\n{words}\n",
        encoding="utf-8",
    )


def _indexed(tmp_path: Path, count: int, seed: int) -> tuple[Corpus, Path, random.Random]:
    """A folder of ``count`` posts with shuffled dates, indexed; its corpus, folder and generator."""
    rng = random.Random(seed)
    posts = tmp_path / "posts"
    posts.mkdir()
    for number in range(count):
        _write(posts, number, rng)
    corpus = Corpus.open(posts, tmp_path / "index")
    corpus.update()
    return corpus, posts, rng


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(first_page, "BLOCK", 7)


def _assert_heads_agree(corpus: Corpus, limit: int) -> None:
    for query in QUERIES:
        first = corpus.search(query, limit=limit, complete=False)
        full = corpus.search(query)
        assert first.error is None and full.error is None
        assert not first.complete and full.complete
        assert first.ids == full.ids[:limit], query
        assert first.total == len(first.ids)


def test_first_screen_is_the_head_of_the_date_sorted_result(tmp_path: Path, small_blocks: None) -> None:
    corpus, _posts, _rng = _indexed(tmp_path, 80, 7)
    for limit in (1, 5, 30):
        _assert_heads_agree(corpus, limit)


def test_first_screen_stays_exact_after_incremental_changes(tmp_path: Path, small_blocks: None) -> None:
    corpus, posts, rng = _indexed(tmp_path, 40, 11)
    for number in range(40, 55):  # appended documents, possibly newer than everything indexed
        _write(posts, number, rng)
    for path in sorted(posts.iterdir())[:6]:  # deletions leave holes in document numbers
        path.unlink()
    corpus.update()
    _assert_heads_agree(corpus, 10)


def test_first_screen_hides_archived_posts_like_the_complete_search(tmp_path: Path, small_blocks: None) -> None:
    corpus, _posts, _rng = _indexed(tmp_path, 30, 3)

    class Archived:
        def __init__(self, ids: set[str]) -> None:
            self.ids = ids

        def ids_with(self, flag: str) -> set[str]:
            return self.ids if flag == "archived" else set()

        def version(self) -> frozenset[str]:
            return frozenset(self.ids)

        def ids_with_any(self, flags: Sequence[str], among: Sequence[str]) -> set[str]:

            return {post_id for post_id in among for flag in flags if post_id in self.ids_with(flag)}

        def ids_tagged(self, tag: str) -> set[str]:
            return set()

        def ids_with_note_containing(self, text: str) -> set[str]:
            return set()

    newest_three = set(corpus.search("phishing").ids[:3])
    state = Archived(newest_three)
    first = corpus.search("phishing", limit=5, complete=False, state=state)
    full = corpus.search("phishing", state=state)
    assert not newest_three & set(first.ids)
    assert first.ids == full.ids[:5]


def test_flag_queries_with_words_come_back_complete(tmp_path: Path) -> None:
    """A wanted flag with words is answered whole; without words, its first screen walks the date order."""
    posts = tmp_path / "posts"
    posts.mkdir()
    _write(posts, 1, random.Random(1))
    corpus = Corpus.open(posts, tmp_path / "index")
    corpus.update()
    assert corpus.search("is:starred phishing", limit=5, complete=False).complete
    first = corpus.search("is:starred", limit=5, complete=False)
    assert not first.complete and first.ids == corpus.search("is:starred").ids[:5]


def test_first_screen_by_relevance_is_the_best_scored_page(tmp_path: Path) -> None:
    corpus, _posts, _rng = _indexed(tmp_path, 40, 13)
    for query in ("phishing", '"watering hole"', "ransomware AND bank"):
        first = corpus.search(query, limit=5, complete=False, sort="relevance")
        full = corpus.search(query, sort="relevance")
        assert not first.complete
        assert first.ids == full.ids[:5], query


def test_first_screen_of_everything_is_the_catalog_order(tmp_path: Path) -> None:
    corpus, _posts, _rng = _indexed(tmp_path, 12, 5)
    first = corpus.search("", limit=5, complete=False)
    assert not first.complete
    assert first.ids == corpus.search("").ids[:5]


def test_first_screen_at_start_up_reads_the_catalog_head(tmp_path: Path) -> None:
    rng = random.Random(9)
    posts = tmp_path / "posts"
    posts.mkdir()
    for number in range(15):
        _write(posts, number, rng)
    Corpus.open(posts, tmp_path / "index").update()

    class Archived:
        def ids_with(self, flag: str) -> set[str]:
            return {expected[0]} if flag == "archived" else set()

        def version(self) -> int:
            return 0

        def ids_with_any(self, flags: Sequence[str], among: Sequence[str]) -> set[str]:

            return {post_id for post_id in among for flag in flags if post_id in self.ids_with(flag)}

        def ids_tagged(self, tag: str) -> set[str]:
            return set()

        def ids_with_note_containing(self, text: str) -> set[str]:
            return set()

    expected = Corpus.open(posts, tmp_path / "index").search("").ids
    fresh = Corpus.open(posts, tmp_path / "index")  # nothing loaded yet, as at start-up
    first = fresh.search("", limit=4, complete=False, state=Archived())
    assert first.ids == expected[1:5]
    assert [row.post_id for row in fresh.rows(first.ids)] == first.ids
    assert fresh.search("", state=Archived()).ids == expected[1:]

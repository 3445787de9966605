"""First screens of queries the catalog's columns answer walk the date order and stop at the last post shown.

A post's number is its place in the date order, so such a first screen is the first passing numbers. What
is checked here is the work: a ``date:`` filter reads the dates of a few posts of the catalog file, not of
every post in its span; ``is:unread`` asks the triage state about the posts it walks, not for every read
post; no catalog row is built. The answers are those of the complete search, on both engines.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

import index.catalog as catalog_module
import index.columns as columns_module
from index.catalog import Catalog, CatalogEntry, PostRow
from index.columns import Narrowing, date_key
from index.corpus import Corpus
from index.engine.contract import ENGINES
from index.query import date_bounds
from index.state import TriageState
from tests.helpers import write_post

#: Offsets that move a post's UTC instant across a day, month or year from the date it is written with.
OFFSETS = ["", "+02:00", "-05:00", "+13:45", "-11:30"]
DATE_QUERIES = [
    "date:2018", "date:2019-01", "date:2018-12-31", "date:2019-01-01", "date:[2018-06 to 2019-02]",
    "date:[2019-03 to]", "date:[to 2018-03]", "date:{2018-12 to 2019-01}", "date:[2018-12-31 to 2019-01-01]",
    "date:2030", "date:[to 1999]",
]  # fmt: skip


class Counted:
    """A catalog file's columns, counting the posts whose values they hand out."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.handed = 0

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.inner, name)

        def counted(*args: Any) -> Any:
            found = method(*args)
            self.handed += len(found) if found is not None else 0
            return found

        return counted

    def __call__(self, name: str) -> Any:
        """A whole field (the column source)."""
        return self.__getattr__("__call__")(name)


def _written(rng: random.Random, moment: datetime) -> str:
    return moment.isoformat() + rng.choice(OFFSETS)


def _catalog(tmp_path: Path, count: int) -> tuple[Catalog, dict[str, datetime | None]]:
    """``count`` posts, several a day around the turn of 2018 into 2019, some undated."""
    rng = random.Random(5)
    start = datetime(2017, 9, 1)
    dates: dict[str, datetime | None] = {}
    entries = []
    for number in range(count):
        post_id = f"p{number:05}.md"
        moment = start + timedelta(minutes=rng.randrange(0, 700 * 24 * 60))
        written = None if number % 97 == 0 else datetime.fromisoformat(_written(rng, moment))
        dates[post_id] = written
        row = PostRow(post_id, post_id, written, "", "", (), (), (), (), "0" * 40)
        entries.append(CatalogEntry(row, 1, 1))
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    catalog.apply(entries, [], [], 3)
    return catalog, dates


def _expected(dates: dict[str, datetime | None], value: str, rank: dict[str, int]) -> list[int]:
    bounds = date_bounds(value)
    assert bounds is not None
    start, end = bounds
    return sorted(
        rank[post_id] for post_id, moment in dates.items()
        if moment is not None and (start is None or date_key(moment) >= date_key(start))
        and (end is None or date_key(moment) < date_key(end))
    )  # fmt: skip


def test_a_date_filter_reads_the_dates_of_a_few_posts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalog orders posts by their date as written, so a span is one run of numbers found by bisection;
    only the posts written within a day of a bound are read whole to place their instant."""
    monkeypatch.setattr(columns_module, "SAMPLE", 64, raising=False)
    monkeypatch.setattr(columns_module, "PROBES", 16, raising=False)
    catalog, dates = _catalog(tmp_path, 4000)
    ranking = catalog.ranking()
    counted = Counted(ranking.narrowing)
    ranking.narrowing = cast(Narrowing, counted)
    ranking.source = counted
    columns = ranking.columns
    assert columns.dated("2017") is not None  # the first reads the sample: 64 posts
    for value in DATE_QUERIES:
        counted.handed = 0
        found = columns.dated(value.removeprefix("date:"))
        assert found is not None and list(found) == _expected(dates, value.removeprefix("date:"), ranking.rank), value
        assert counted.handed <= 4 * 3 * 16 + 60, (value, len(found))  # 4 bounds, 3 reads; the posts of 2 days
    assert len(columns.dated("2018") or ()) > 2000  # what reading the span would have cost
    assert "date" not in columns._fields  # the column itself was never read


@pytest.fixture(params=ENGINES)
def corpus(request: pytest.FixtureRequest, tmp_path: Path) -> Corpus:
    """The same posts on each engine: the column side of a first screen is the engines' common code."""
    engine: str = request.param
    if engine == "tantivy":
        pytest.importorskip("tantivy")
    rng = random.Random(9)
    for number in range(150):
        moment = datetime(2018, 11, 1) + timedelta(hours=rng.randrange(0, 24 * 120))
        date = _written(rng, moment) if number % 31 else ""
        tags = rng.sample(["APT", "ICS", "phishing"], rng.randint(0, 2))
        front = f"---\ntitle: Post {number}\n" + (f"date: {date}\n" if date else "") + f"tags: [{', '.join(tags)}]\n"
        write_post(tmp_path / "posts", f"p{number:03}.md", front + "---\nAPT28 used ransomware.\n")
    corpus = Corpus.open(tmp_path / "posts", tmp_path / "index", engine=engine)
    corpus.update()
    return corpus


@pytest.fixture
def state(corpus: Corpus, tmp_path: Path) -> Iterator[TriageState]:
    triage = TriageState(tmp_path / "state.sqlite3")
    ids = corpus.search("").ids
    triage.set_flag_many(ids[::3] + ids[:20], "read", True)
    triage.set_flag_many(ids[1::7], "starred", True)
    triage.set_flag_many(ids[2::11], "archived", True)
    yield triage
    triage.close()


FILTER_QUERIES = [
    "", *DATE_QUERIES, "is:unread", "is:read", "is:unread date:2018-12", "is:starred", "is:starred date:[2019 to]",
    "is:archived", "is:unread tag:APT", "tag:APT date:2019", "is:unread actor:APT28 date:[2018-12-30 to 2019-01-02]",
]  # fmt: skip


def test_first_screens_of_filters_are_the_head_of_the_complete_answer(
    corpus: Corpus, state: TriageState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the catalog file, as a process that searches once reads it, and after the rows are in memory;
    no first screen builds a catalog row or asks the state for every post a flag hides."""
    built: list[object] = []
    asked: list[str] = []
    real_row, real_ids_with = catalog_module._row, state.ids_with

    def row(record: Sequence[Any]) -> PostRow:
        built.append(record[0])
        return real_row(record)

    def ids_with(flag: str) -> set[str]:
        asked.append(flag)
        return real_ids_with(flag)

    monkeypatch.setattr(catalog_module, "_row", row)
    monkeypatch.setattr(state, "ids_with", ids_with)
    fresh = Corpus.open(corpus.posts_dir, corpus.index_dir, engine=corpus.engine)
    for searched in (fresh, corpus):
        for query in FILTER_QUERIES:
            for limit in (1, 7, 40):
                searched.forget_answers()
                built.clear()
                asked.clear()
                first = searched.search(query, limit=limit, complete=False, state=state, snippets=False)
                assert (first.error, first.complete, built) == (None, False, []), query
                assert all(f"is:{flag}" in query for flag in asked), (query, asked)  # only a flag it narrows to
                whole = searched.search(query, state=state, snippets=False, facets=False)
                assert whole.error is None and first.ids == whole.ids[:limit], (query, limit)
    assert fresh._view.held is None

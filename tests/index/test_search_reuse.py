"""Work searching must not repeat: the no-change check and a facet-less search read no catalog rows, and a
complete answer is computed once per query, state version and index generation."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import index.searching as searching_module
from index.catalog import Catalog
from index.corpus import Corpus
from index.engine.whoosh_engine import WhooshEngine
from index.searching import run as engine_run
from index.state import TriageState


def write(folder: Path, day: int, body: str) -> Path:
    path = folder / f"2019-03-{day:02d}-post{day}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    front = f"---\ntitle: Post {day}\ndate: 2019-03-{day:02d}\ntags: [t{day % 2}]\n---\n"
    path.write_text(front + body + "\n", encoding="utf-8")
    return path


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    folder = tmp_path / "posts"
    for day in range(1, 13):
        write(folder, day, "Ransomware gang hits a hospital." if day % 3 else "A wiper at a ministry.")
    return folder


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts full catalog loads (every row built)."""
    counted: list[int] = []
    real = Catalog.load

    def counting(self: Catalog) -> Any:
        counted.append(1)
        return real(self)

    monkeypatch.setattr(Catalog, "load", counting)
    return counted


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the engine's complete searches (the expensive part of a complete answer)."""
    calls: list[str] = []
    real: Callable[..., Any] = engine_run

    def counting(searchers: Any, text: str, **options: Any) -> Any:
        calls.append(text)
        return real(searchers, text, **options)

    monkeypatch.setattr(searching_module, "run", counting)
    return calls


def test_no_change_check_and_a_search_without_facets_build_no_rows(
    posts: Path, tmp_path: Path, loads: list[int]
) -> None:
    Corpus.open(posts, tmp_path / "index").update()
    expected = Corpus.open(posts, tmp_path / "index").search("ransomware", sort="relevance", limit=3)
    loaded = Corpus.open(posts, tmp_path / "index")
    loaded.all_rows()  # the reference: facets counted over the rows in memory
    expected_facets = loaded.search("ransomware").facets
    assert expected_facets["tag"]
    loads.clear()
    fresh = Corpus.open(posts, tmp_path / "index")  # what `spyglass search` does
    report = fresh.update()
    assert (report.added, report.changed, report.removed, report.unchanged) == (0, 0, 0, 12)
    result = fresh.search("ransomware", sort="relevance", limit=3, facets=False)
    rows = fresh.rows(result.ids)
    assert loads == []
    assert (result.ids, result.total, result.facets) == (expected.ids, expected.total, {})
    assert [row.post_id for row in rows] == result.ids
    # Facets read the columns they count from the catalog file, field by field, not every row.
    assert fresh.search("ransomware").facets == expected_facets
    assert loads == []


def test_the_page_of_a_query_of_filters_alone_reads_columns_not_the_engine_nor_every_row(
    posts: Path, tmp_path: Path, loads: list[int], engine_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    Corpus.open(posts, tmp_path / "index").update()
    reference = Corpus.open(posts, tmp_path / "index")
    expected = {query: reference.search(query, sort="date", limit=3) for query in ("tag:t1", "date:2019-03", "")}
    loads.clear()
    engine_calls.clear()
    monkeypatch.setattr(WhooshEngine, "newest", lambda *_args, **_kwargs: pytest.fail("the engine was asked"))
    for query, answer in expected.items():
        fresh = Corpus.open(posts, tmp_path / "index")  # what `spyglass search DIR QUERY` does
        fresh.update()
        for sort in ("relevance", "date"):  # no words: nothing to rank by, so newest first either way
            page = fresh.search_page(query, sort=sort, limit=3)
            assert (page.ids, page.total, page.scores) == (answer.ids, answer.total, {}), (query, sort)
        assert [row.post_id for row in fresh.rows(page.ids)] == page.ids
    assert expected["tag:t1"].total == 6 and expected["date:2019-03"].total == 12
    assert loads == [] and engine_calls == []


def test_a_change_after_a_no_change_check_is_still_seen(posts: Path, tmp_path: Path) -> None:
    corpus = Corpus.open(posts, tmp_path / "index")
    corpus.update()
    assert corpus.search("ransomware").total == 8
    corpus.update()
    write(posts, 20, "Ransomware again.")
    other = Corpus.open(posts, tmp_path / "index")  # another process brings the index up to date
    assert other.update().added == 1
    assert corpus.update().added == 0  # nothing left to do here, but what is held in memory is stale
    assert corpus.search("ransomware").total == 9
    assert corpus.search("ransomware", facets=False).total == 9


def test_a_complete_answer_is_computed_once(posts: Path, tmp_path: Path, engine_calls: list[str]) -> None:
    corpus = Corpus.open(posts, tmp_path / "index")
    corpus.update()
    first = corpus.search("ransomware", limit=5, complete=False)
    complete = corpus.search("ransomware")
    again = corpus.search("ransomware", snippets=False)
    assert engine_calls == ["ransomware"]
    assert again.ids == complete.ids and again.facets == complete.facets and again.total == 8
    assert first.ids == complete.ids[:5]
    assert complete.highlights and not again.highlights  # highlights follow the call, not the cache
    screen = corpus.search("ransomware", limit=5, complete=False)  # sliced from the known answer
    assert engine_calls == ["ransomware"]
    assert (screen.ids, screen.complete, screen.total) == (complete.ids[:5], False, 5)
    corpus.search("ransomware", sort="relevance")
    corpus.search("wiper")
    assert engine_calls == ["ransomware", "ransomware", "wiper"]


def test_a_triage_change_or_an_update_makes_a_new_answer(posts: Path, tmp_path: Path, engine_calls: list[str]) -> None:
    corpus = Corpus.open(posts, tmp_path / "index")
    corpus.update()
    with TriageState(tmp_path / "state.sqlite3") as state:
        before = corpus.search("ransomware", state=state)
        assert corpus.search("ransomware", state=state).ids == before.ids
        state.set_flag(before.ids[0], "archived", True)
        assert corpus.search("ransomware", state=state).ids == before.ids[1:]
        assert len(engine_calls) == 2
    path = write(posts, 11, "Now about a wiper.")
    os.utime(path, ns=(0, path.stat().st_mtime_ns + 10**9))
    assert corpus.update().changed == 1
    assert corpus.search("ransomware").total == 7
    assert len(engine_calls) == 3


def test_an_answer_cut_short_is_not_kept(posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = Corpus.open(posts, tmp_path / "index")
    corpus.update()
    calls: list[str] = []
    real: Callable[..., Any] = engine_run

    def out_of_time(searchers: Any, text: str, **options: Any) -> Any:  # as if the deadline had passed
        calls.append(text)
        return dataclasses.replace(real(searchers, text, **options), partial=True)

    monkeypatch.setattr(searching_module, "run", out_of_time)
    assert corpus.search("ransomware").partial
    assert corpus.search("ransomware").partial
    assert calls == ["ransomware", "ransomware"]  # asked again: it may complete this time


def test_a_relevance_first_screen_scores_the_page_its_complete_answer_needs(
    posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Corpus.open(posts, tmp_path / "index").update()
    scored: list[int] = []
    real: Callable[..., Any] = engine_run

    def counting(searchers: Any, text: str, **options: Any) -> Any:
        scored.append(options.get("top", 0))
        return real(searchers, text, **options)

    monkeypatch.setattr(searching_module, "run", counting)
    alone = Corpus.open(posts, tmp_path / "index").search("ransomware hospital", sort="relevance")
    assert scored == [searching_module.RELEVANCE_PAGE]
    scored.clear()
    corpus = Corpus.open(posts, tmp_path / "index")
    first = corpus.search("ransomware hospital", sort="relevance", limit=3, complete=False)
    complete = corpus.search("ransomware hospital", sort="relevance")
    assert scored == [searching_module.RELEVANCE_PAGE, 0]  # the complete search only collects
    assert (complete.ids, complete.scores, complete.total) == (alone.ids, alone.scores, alone.total)
    assert first.ids == complete.ids[:3]

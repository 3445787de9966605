"""The bulk path: batches for the workers, and a cancelled bulk build that leaves index and catalog agreeing."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

import index.bulk as bulk_module
import index.indexing as indexing_module
from index.bulk import BATCH_POSTS, WORKERS, batch_sizes
from index.catalog import CATALOG_NAME
from index.corpus import ENGINE_FOLDER, Corpus
from index.engine import Engine
from index.posts import PostFile, PostProblem
from index.preparing import Prepared, prepare
from tests.faults.helpers import write_posts


@pytest.mark.parametrize("total", [1, 499, 500, 10_000, 25_001, 100_000])
def test_batches_are_contiguous_even_and_bounded(total: int) -> None:
    sizes = batch_sizes(total)
    assert sum(sizes) == total
    assert len(sizes) % WORKERS == 0
    assert max(sizes) <= BATCH_POSTS and max(sizes) - min(sizes) <= 1
    assert total > (len(sizes) - WORKERS) * BATCH_POSTS  # one round of batches fewer would break the bound


def test_progress_moves_while_every_worker_writes_its_segment() -> None:
    """Four batches on two workers: while both write the segments of their first batches, nothing is added,
    so the stage is "write" and counts the posts whose postings are written; adding resumes as "index"."""
    sizes = [10, 10, 10, 10]
    counters = bulk_module._Counters(len(sizes))
    progress = bulk_module._progress
    assert progress(counters, sizes) == ("index", 0, 40)  # the workers are starting
    counters.added[0], counters.added[1] = 10, 6
    counters.writing[0] = 1  # the first worker writes its segment; the second still adds
    assert progress(counters, sizes) == ("index", 16, 40)
    counters.added[1], counters.writing[1] = 10, 1
    counters.postings[0], counters.written[0] = 200, 100
    counters.postings[1], counters.written[1] = 100, 30
    assert progress(counters, sizes) == ("write", 5 + 3, 40)
    counters.written[0] = 200
    assert progress(counters, sizes) == ("write", 10 + 3, 40)
    counters.writing[0], counters.added[2] = 2, 1  # the first worker took the next batch
    assert progress(counters, sizes) == ("index", 21, 40)


def _slow_prepare(root: Path, found: PostFile) -> Prepared | PostProblem:
    time.sleep(0.02)  # in the workers: the build is still running when it is told to stop
    return prepare(root, found)


@pytest.mark.slow
def test_a_cancelled_bulk_build_keeps_what_was_written_and_the_next_update_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts = write_posts(tmp_path / "posts", 400)
    monkeypatch.setattr(indexing_module, "BULK_THRESHOLD", 5)
    monkeypatch.setattr(bulk_module, "prepare", _slow_prepare)  # forked workers inherit it
    corpus = Corpus.open(posts, tmp_path / "index")
    report = corpus.update(cancelled=lambda: True)
    assert report.cancelled and len(corpus) < 400
    engine = Engine(tmp_path / "index" / ENGINE_FOLDER)
    assert engine.doc_count() == len(corpus)  # the committed segments hold exactly the catalog's posts

    rest = Corpus.open(posts, tmp_path / "index").update()
    assert not rest.cancelled and rest.added == 400 - len(corpus)
    assert Engine(tmp_path / "index" / ENGINE_FOLDER).doc_count() == 400
    assert Corpus.open(posts, tmp_path / "index").search("*").total == 400


#: Posts the workers prepared, counted across the forked processes (shared memory made before they start).
_prepared_count: Any = None


def _counted_prepare(root: Path, found: PostFile) -> Prepared | PostProblem:
    with _prepared_count.get_lock():
        _prepared_count.value += 1
    return prepare(root, found)


@pytest.mark.slow
def test_a_tantivy_bulk_build_holds_few_converted_posts_and_stages_their_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent adds the posts the workers analysed while only a few tasks are out, however slowly it adds
    them, and the workers stage the catalog rows: none is held by the parent until the commit."""
    tantivy_engine = pytest.importorskip("index.engine.tantivy_engine")
    global _prepared_count
    _prepared_count = multiprocessing.Value("i", 0)
    posts = write_posts(tmp_path / "posts", 300)
    monkeypatch.setattr(indexing_module, "BULK_THRESHOLD", 5)
    monkeypatch.setattr(bulk_module, "CONVERT_POSTS", 10)
    monkeypatch.setattr(bulk_module, "CONVERT_AHEAD", 3)
    monkeypatch.setattr(bulk_module, "prepare", _counted_prepare)
    bound = (3 + 1) * 10  # the tasks out, and the one the parent adds from
    leads: list[int] = []
    staged_at_commit: list[int] = []
    writer_class = tantivy_engine.TantivyWriter
    add_converted, commit = writer_class.add_converted, writer_class.commit

    def slow_add(self: Any, made: Any, *, replace: bool = False) -> None:
        leads.append(_prepared_count.value - self.count)  # posts prepared but not yet added
        time.sleep(0.005)  # a slow parent: the workers must wait for it, not pile their posts up
        add_converted(self, made, replace=replace)

    def counting_commit(self: Any, then: Any = None) -> None:
        with closing(sqlite3.connect(tmp_path / "index" / CATALOG_NAME)) as db:
            staged_at_commit.append(db.execute("SELECT COUNT(*) FROM staged").fetchone()[0])
        commit(self, then)

    monkeypatch.setattr(writer_class, "add_converted", slow_add)
    monkeypatch.setattr(writer_class, "commit", counting_commit)
    corpus = Corpus.open(posts, tmp_path / "index", engine="tantivy")
    assert corpus.update().added == 300
    assert len(leads) == 300 and max(leads) <= bound
    assert staged_at_commit == [300]
    assert corpus.search("common").total == 300 and corpus.search("uniq7").ids == ["post-00007.md"]


@pytest.mark.slow
def test_a_tantivy_bulk_build_indexes_what_one_process_indexes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers' analysis gives the index and catalog the one-process path gives: same hits, same rows."""
    pytest.importorskip("tantivy")
    posts = write_posts(tmp_path / "posts", 120)
    one = Corpus.open(posts, tmp_path / "one", engine="tantivy")
    one.update()
    monkeypatch.setattr(indexing_module, "BULK_THRESHOLD", 5)
    monkeypatch.setattr(bulk_module, "CONVERT_POSTS", 7)
    many = Corpus.open(posts, tmp_path / "many", engine="tantivy")
    many.update()
    for query in ("*", "common", "uniq42", '"spear phishing"', "actor:apt28", "tag:t3", "ministr*", "date:2019-03"):
        assert many.search(query).ids == one.search(query).ids, query
    assert many.all_rows() == one.all_rows()


@pytest.mark.slow
def test_a_cancelled_tantivy_bulk_build_keeps_what_was_added_and_the_next_update_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows the workers staged for posts the parent never added are dropped: the catalog holds exactly
    the posts of the index."""
    tantivy_engine = pytest.importorskip("index.engine.tantivy_engine")
    posts = write_posts(tmp_path / "posts", 400)
    monkeypatch.setattr(indexing_module, "BULK_THRESHOLD", 5)
    monkeypatch.setattr(bulk_module, "CONVERT_POSTS", 20)
    monkeypatch.setattr(bulk_module, "prepare", _slow_prepare)
    corpus = Corpus.open(posts, tmp_path / "index", engine="tantivy")
    report = corpus.update(cancelled=lambda: True)
    assert report.cancelled and 0 < len(corpus) < 400
    folder = tmp_path / "index" / ENGINE_FOLDER
    assert tantivy_engine.TantivyEngine(folder).doc_count() == len(corpus) == corpus.search("common").total

    again = Corpus.open(posts, tmp_path / "index", engine="tantivy")
    rest = again.update()
    assert not rest.cancelled and rest.added == 400 - len(corpus)
    assert again.search("common").total == len(again) == 400

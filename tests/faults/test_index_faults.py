"""Index faults through the Corpus facade: disk full, unwritable index folder, posts changed behind the
index's back, junk queries with the real extractor and knowledge, and searching across updates."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import whoosh.writing
from whoosh.filedb.filestore import FileStorage

from index.corpus import Corpus
from index.posts import Post, PostProblem
from index.state import TriageState
from tests.faults.helpers import write_posts
from tests.helpers import FolderSnapshot

Snapshot = Callable[[Path], FolderSnapshot]
COUNT = 20


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    return write_posts(tmp_path / "posts", COUNT)


@pytest.fixture
def corpus(posts: Path, tmp_path: Path) -> Corpus:
    built = Corpus.open(posts, tmp_path / "index")
    assert built.update().added == COUNT
    return built


@pytest.fixture(scope="module")
def shared_corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """One built corpus for the read-only junk-query tests (own posts and index folders)."""
    root = tmp_path_factory.mktemp("junk")
    built = Corpus.open(write_posts(root / "posts", COUNT), root / "index")
    assert built.update().added == COUNT
    return built


def no_space(*_args: Any, **_kwargs: Any) -> Any:
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.slow
def test_search_update_search_in_one_thread(corpus: Corpus, posts: Path) -> None:
    """A searcher refreshed after a commit keeps working (it used to fail with ReaderClosed)."""
    for round_number in range(3):
        assert corpus.search("common").total == COUNT + round_number
        write_posts(posts, 1, start=COUNT + round_number)
        assert corpus.update().added == 1
        result = corpus.search(f"uniq{COUNT + round_number}")
        assert result.error is None and result.ids == [f"post-{COUNT + round_number:05d}.md"]


@pytest.mark.parametrize("where", ["opening the writer", "committing"])
def test_disk_full_degrades_search_keeps_triage_and_recovers(
    corpus: Corpus, posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snapshot_folder: Snapshot,
    where: str,
) -> None:
    write_posts(posts, 5, start=COUNT)
    before = snapshot_folder(posts)
    with monkeypatch.context() as patch:
        if where == "opening the writer":
            patch.setattr(FileStorage, "create_file", no_space)
        else:
            patch.setattr(whoosh.writing.SegmentWriter, "_commit_toc", no_space)
        report = corpus.update()
        assert report.read_only and corpus.read_only
        assert report.message == f"cannot write the index in {tmp_path / 'index'}: No space left on device"
        # Search degrades to the index as it was; it does not fail.
        result = corpus.search("common")
        assert result.error is None and result.total == COUNT
        # Triage lives elsewhere and is unaffected.
        with TriageState() as state:
            state.set_flag("post-00001.md", "starred", True)
    with TriageState() as state:
        assert state.ids_with("starred") == {"post-00001.md"}
    # Space is back: the same Corpus (same process) writes again; no lock was left behind.
    again = corpus.update()
    assert not again.read_only and again.message is None and again.added == 5
    assert corpus.search("common").total == COUNT + 5
    assert snapshot_folder(posts) == before


def test_unwritable_index_folder_reads_nothing_and_says_why(
    posts: Path, tmp_path: Path, snapshot_folder: Snapshot
) -> None:
    """The index folder cannot exist (its parent is a regular file): a message, no crash, triage fine."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    before = snapshot_folder(posts)
    corpus = Corpus.open(posts, blocker / "index")
    report = corpus.update()
    assert report.read_only
    assert report.message is not None and report.message.startswith(f"cannot write the index in {blocker / 'index'}:")
    assert len(corpus) == 0
    result = corpus.search("common")
    assert result.ids == [] and result.error == "the search index is not ready; it is rebuilt by the next update"
    assert corpus.search("").ids == []
    assert isinstance(corpus.load("post-00003.md"), Post)  # reading posts needs no index
    with TriageState() as state:
        state.set_flag("post-00003.md", "flagged", True)
    with TriageState() as state:
        assert state.ids_with("flagged") == {"post-00003.md"}
    assert snapshot_folder(posts) == before
    assert blocker.read_text(encoding="utf-8") == "x"


def test_post_edited_after_indexing(corpus: Corpus, posts: Path) -> None:
    path = posts / "post-00002.md"
    path.write_text("---\ntitle: Rewritten title\ndate: 2019-03-03\n---\nNow about zebras only.\n", encoding="utf-8")
    os.utime(path, ns=(1, path.stat().st_mtime_ns + 5_000_000_000))
    # Until the next update the list shows the indexed row, and the article the file as it is now.
    (row,) = corpus.rows(["post-00002.md"])
    assert row.title == "Report 2 on APT40"
    loaded = corpus.load("post-00002.md")
    assert isinstance(loaded, Post) and loaded.title == "Rewritten title"
    stale = corpus.search("uniq2")
    assert stale.error is None and stale.ids == ["post-00002.md"]
    assert "post-00002.md" not in stale.highlights  # no fragment from text that is gone
    report = corpus.update()
    assert report.changed == 1
    assert corpus.search("uniq2").ids == []
    assert corpus.search("zebras").ids == ["post-00002.md"]


def test_post_deleted_after_indexing(corpus: Corpus, posts: Path) -> None:
    (posts / "post-00004.md").unlink()
    (row,) = corpus.rows(["post-00004.md"])
    assert row.title == "Report 4 on Sandworm"
    assert corpus.load("post-00004.md") == PostProblem("post-00004.md", "file no longer exists")
    result = corpus.search("uniq4 OR uniq5")
    assert result.error is None and set(result.ids) == {"post-00004.md", "post-00005.md"}
    assert "post-00005.md" in result.highlights and "post-00004.md" not in result.highlights
    assert corpus.update().removed == 1
    assert corpus.search("uniq4").ids == []
    assert len(corpus) == COUNT - 1


JUNK = [
    "(", ")", '"x', "AND OR", "*", "x" * 10_000, "nosuchfield:x", "title:", ":", "actor:", "NOT *", "-", "--x",
    "?", "[", "]", "{x TO y}", "date:[2019 to 2018]", "(" * 999, "a OR " * 199, "*" * 999, "é∂ƒ©\x00\x1b[31m",
    "actor:(((", 'tag:"', "ioc:hxxp://[.]", "technique:", "cve:", "date:[zzz to]", "date:[to zzz]", "date:zzz",
]  # fmt: skip


@pytest.mark.parametrize("junk", JUNK, ids=lambda junk: repr(junk[:12]) + f"/{len(junk)}")
@pytest.mark.parametrize("sort", ["date", "relevance"])
def test_junk_query_never_raises_and_is_bounded(shared_corpus: Corpus, junk: str, sort: str) -> None:
    corpus = shared_corpus
    known = set(corpus.search("").ids)
    result = corpus.search(junk, sort="relevance" if sort == "relevance" else "date")
    assert 0 <= result.total <= COUNT
    assert len(result.ids) == result.total and set(result.ids) <= known
    assert result.error is None or (isinstance(result.error, str) and result.error.strip())
    if junk.startswith("date:") and junk != "date:[2019 to 2018]":
        assert result.error and "date" in result.error and result.ids == []
    if len(junk) > 1000:
        assert result.error == f"query too long ({len(junk):,} characters; the limit is 1,000)"
    limited = corpus.search(junk, limit=3)
    assert len(limited.ids) <= 3

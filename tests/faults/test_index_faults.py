"""Index faults through the Corpus facade: disk full, unwritable index folder, posts changed behind the
index's back, junk queries with the real extractor and knowledge, and searching across updates."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import whoosh.writing
from whoosh.filedb.filestore import FileStorage

import index.indexing as indexing_module
from index.catalog import CATALOG_NAME, Catalog
from index.corpus import ENGINE_FOLDER, Corpus, UpdateProgress
from index.engine import Engine, EngineUnavailable
from index.engine.store import DAMAGE_MARKER, LOCK_NAME, EngineWriter
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
    corpus: Corpus,
    posts: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    snapshot_folder: Snapshot,
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
    first = corpus.search(junk, limit=3, complete=False)
    assert "damaged" not in (result.error or "") + (limited.error or "") + (first.error or "")
    assert not (corpus.index_dir / ENGINE_FOLDER / DAMAGE_MARKER).exists()  # a bad query never costs a rebuild


@pytest.mark.parametrize("case", ["empty folder", "every post unreadable", "another Spyglass mid-first-build"])
def test_an_empty_index_means_no_hits(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An index without documents answers every query with no hits (exit 1), never "search failed"."""
    from tui.cli import main

    posts = tmp_path / "posts"
    posts.mkdir()
    index_dir = tmp_path / "index"
    lock = None
    if case == "every post unreadable":
        (posts / "junk.md").write_bytes(b"\x00\x01\x02\x03" * 100)
    elif case == "another Spyglass mid-first-build":
        write_posts(posts, 3)
        engine = Engine(index_dir / ENGINE_FOLDER)
        engine.recreate().cancel()  # what a first build does before it adds anything
        lock = FileStorage(str(engine.folder)).lock(LOCK_NAME)  # and the lock its writer holds
        assert lock.acquire(blocking=False)
    try:
        for query in ("uniq1", "uniq*", '"common marker"', "actor:APT28"):
            for sort in ("date", "relevance"):
                code = main(["search", str(posts), query, "--sort", sort, "--index-dir", str(index_dir), "--json"])
                captured = capsys.readouterr()
                assert code == 1, captured.err
                assert "search failed" not in captured.err and '"total": 0' in captured.out
            corpus = Corpus.open(posts, index_dir)
            first = corpus.search(query, limit=50, complete=False)
            assert first.error is None and first.ids == []
    finally:
        if lock is not None:
            lock.release()


def test_check_that_could_not_look_says_so(posts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An index folder that cannot be written: `check` used to print "0 posts, 0 problems" and exit 0."""
    from tui.cli import main

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    assert main(["check", str(posts), "--index-dir", str(blocker / "index")]) == 1
    captured = capsys.readouterr()
    assert f"could not check {posts}: cannot write the index in {blocker / 'index'}" in captured.err
    assert "0 posts" not in captured.err + captured.out
    assert main(["check", str(posts), "--index-dir", str(tmp_path / "index")]) == 0  # a writable one: all clear


@pytest.mark.parametrize("fault", ["unwritable folder", "disk full"])
def test_index_that_could_not_write_never_says_nothing_changed(
    posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fault: str
) -> None:
    from tui.cli import main

    index_dir = tmp_path / "index"
    if fault == "unwritable folder":
        index_dir = tmp_path / "not-a-folder" / "index"
        index_dir.parent.write_text("x", encoding="utf-8")
    else:
        monkeypatch.setattr(FileStorage, "create_file", no_space)
    assert main(["index", str(posts), "--index-dir", str(index_dir)]) == 1
    captured = capsys.readouterr()
    assert "cannot write the index" in captured.err
    assert "nothing changed" not in captured.out and captured.out.startswith("not updated (read-only)")


@pytest.mark.parametrize("part", [".id.col", ".pst"], ids=["id column", "postings"])
def test_damage_inside_a_segment_is_repaired_by_the_next_update(
    corpus: Corpus, posts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], part: str
) -> None:
    """Junk inside a segment passes every check at open; the search that meets it marks the index for repair
    (the next update used to say "nothing changed" and every search kept failing)."""
    from whoosh.filedb.compound import CompoundStorage

    from tui.cli import main

    folder = tmp_path / "index" / ENGINE_FOLDER
    (segment,) = folder.glob("*.seg")
    with open(segment, "rb") as handle:
        directory = CompoundStorage(FileStorage(str(folder)).open_file(segment.name), use_mmap=False)._dir
    (where,) = [info for name, info in directory.items() if name.endswith(part)]
    with open(segment, "r+b") as handle:
        handle.seek(where["offset"])
        handle.write((b"\xff\xfe junk \x00" * where["length"])[: where["length"]])

    damaged = Corpus.open(posts, tmp_path / "index")
    for complete in (True, False):
        result = damaged.search("common", limit=20, complete=complete)
        assert result.error is not None and result.error.startswith("the search index is damaged ("), result.error
        assert result.error.endswith("the next update rebuilds it")
    assert main(["index", str(posts), "--index-dir", str(tmp_path / "index")]) == 0
    assert capsys.readouterr().out.startswith("rebuilt: 20 posts")
    repaired = Corpus.open(posts, tmp_path / "index")
    result = repaired.search("common")
    assert result.error is None and result.total == COUNT
    assert repaired.update().rebuilt is False  # repaired once, not on every update


def test_a_file_name_that_is_not_utf8_indexes_searches_and_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One `junk-\\xff.md` used to fail index, search and check for the whole folder (surrogates not allowed)."""
    from tui.cli import main

    posts = write_posts(tmp_path / "posts", 3)
    try:
        with open(os.path.join(os.fsencode(posts), b"junk-\xff.md"), "wb") as handle:
            handle.write(b"---\ndate: 2020-01-01\n---\nA common post with a bad name: uniqjunk.\n")
    except OSError as error:
        pytest.skip(f"filesystem refuses non-UTF-8 names: {error}")
    index_dir = str(tmp_path / "index")
    assert main(["index", str(posts), "--index-dir", index_dir]) == 0
    assert "added 4" in capsys.readouterr().out
    assert main(["search", str(posts), "uniqjunk", "--index-dir", index_dir, "--json"]) == 0
    out = capsys.readouterr().out
    (hit,) = json.loads(out)["hits"]
    assert hit["title"] == "Junk \ufffd"
    assert main(["search", str(posts), "uniqjunk", "--index-dir", index_dir]) == 0
    assert "Junk \ufffd" in capsys.readouterr().out
    assert main(["check", str(posts), "--index-dir", index_dir]) == 0
    assert f"{posts}/junk-\ufffd.md: warning: no title" in capsys.readouterr().out
    corpus = Corpus.open(posts, Path(index_dir))
    loaded = corpus.load(hit["id"])  # the id from the JSON names the file
    assert isinstance(loaded, Post) and "uniqjunk" in loaded.body
    with TriageState() as state:
        state.set_flag(hit["id"], "starred", True)
    with TriageState(readonly=True) as state:
        assert corpus.search("is:starred", state=state).ids == [hit["id"]]


@pytest.mark.parametrize("back", [True, False], ids=["moved away and back", "moved away for good"])
def test_a_folder_moved_away_mid_build_is_never_a_lasting_problem(tmp_path: Path, back: bool) -> None:
    """Posts read while their folder was away used to be recorded as "file disappeared while being read"
    for good: their size and time had not changed, so no later run read them again."""
    posts = write_posts(tmp_path / "posts", 30)
    away = tmp_path / "away"

    def progress(update: UpdateProgress) -> None:
        if update.stage == "index" and update.done == 5:
            posts.rename(away)
        elif update.stage == "index" and update.done == 15 and back:
            away.rename(posts)

    corpus = Corpus.open(posts, tmp_path / "index")
    first = corpus.update(progress=progress)
    if back:
        assert not first.read_only
        gone = [problem for problem in first.problems if problem.reason == "file disappeared while being read"]
        assert len(gone) == 10
    else:
        assert first.read_only and first.message is not None and "disappeared during the update" in first.message
        assert len(corpus) == 0  # nothing committed: no post became a problem
        away.rename(posts)
    again = Corpus.open(posts, tmp_path / "index").update()
    assert not again.read_only and again.problems == []
    assert Corpus.open(posts, tmp_path / "index").search("common").total == 30


@pytest.mark.slow  # extracts 30,000 addresses
def test_mentions_per_post_are_capped_with_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A body that is a dump of IP addresses (330k in 4 MiB took 19 s and 364 MB to index, 62 s to print with
    `extract`): the finders stop at the cap and the post says so."""
    from index.extract import CAPPED_NOTE, MAX_MENTIONS, extract
    from index.posts import PostFile
    from index.preparing import Prepared, prepare
    from tui.cli import main

    addresses = [f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in range(MAX_MENTIONS * 3)]
    body = "APT28 used these hosts: " + " ".join(addresses) + "\n"
    mentions = extract(body)
    assert len(mentions) == MAX_MENTIONS
    assert mentions[0].canonical == "APT28" and mentions[-1].end < len(body) // 2  # the rest was never scanned
    posts = tmp_path / "posts"
    posts.mkdir()
    post = posts / "2020-01-01-dump.md"
    post.write_text("---\ntitle: Dump\n---\n" + body, encoding="utf-8")
    info = post.stat()
    prepared = prepare(posts, PostFile(post.name, info.st_size, info.st_mtime_ns))
    assert isinstance(prepared, Prepared) and CAPPED_NOTE in prepared.entry.warnings
    assert main(["extract", str(post), "--json"]) == 0
    captured = capsys.readouterr()
    assert CAPPED_NOTE in captured.err and len(json.loads(captured.out)) == MAX_MENTIONS


@pytest.mark.parametrize("how", ["chmod", "simulated"])
def test_is_filters_read_a_read_only_data_folder(
    posts: Path,
    tmp_path: Path,
    isolated_dirs: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    how: str,
) -> None:
    """`search 'is:starred'` used to match nothing when the data folder could not be written."""
    from tui.cli import main

    with TriageState() as state:
        state.set_flag("post-00003.md", "starred", True)
    data = isolated_dirs["SPYGLASS_DATA_DIR"]
    if how == "chmod":
        data.chmod(0o500)
        if os.access(data, os.W_OK):
            data.chmod(0o700)
            pytest.skip("running as root: chmod does not stop writes")
    else:
        real_access = os.access

        def access(path: Any, mode: int) -> bool:  # what a non-root user sees in a chmod 500 folder
            return Path(path) != data and real_access(path, mode)

        monkeypatch.setattr(os, "access", access)
    try:
        code = main(["search", str(posts), "is:starred", "--index-dir", str(tmp_path / "index"), "--json"])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        assert [hit["id"] for hit in json.loads(captured.out)["hits"]] == ["post-00003.md"]
        assert "match nothing" not in captured.err
    finally:
        data.chmod(0o700)


@pytest.mark.parametrize("what", ["a file where the index folder goes", "a folder where the catalog goes"])
def test_an_index_path_taken_by_something_else_repairs_itself(corpus: Corpus, posts: Path, what: str) -> None:
    """Every update used to say "cannot write the index …: File exists" (or "Is a directory") for good."""
    if what.startswith("a file"):
        taken = corpus.index_dir / ENGINE_FOLDER
        shutil.rmtree(taken)
        taken.write_text("not an index", encoding="utf-8")
    else:
        taken = corpus.index_dir / CATALOG_NAME
        taken.unlink()
        (taken / "inner").mkdir(parents=True)
    report = Corpus.open(posts, corpus.index_dir).update()
    assert not report.read_only and report.message is None and report.rebuilt
    assert Corpus.open(posts, corpus.index_dir).search("common").total == COUNT
    (displaced,) = corpus.index_dir.glob(f"{taken.name}.displaced-*")  # moved aside, never deleted
    assert displaced.is_file() if what.startswith("a file") else (displaced / "inner").is_dir()


def test_a_writer_on_an_index_another_process_just_emptied_means_read_only(tmp_path: Path) -> None:
    """Two first builds at once: one empties the folder to rebuild while the other holds the index open."""
    posts = write_posts(tmp_path / "posts", 3)
    corpus = Corpus.open(posts, tmp_path / "index")
    assert not corpus.update().read_only
    folder = tmp_path / "index" / ENGINE_FOLDER
    engine = Engine(folder)
    engine.index()  # opened, as the other update had it
    for toc in folder.glob("*.toc"):
        toc.unlink()  # what the rebuilding process does first
    with pytest.raises(EngineUnavailable, match="another Spyglass updated this index"):
        engine.writer()
    Engine(folder).recreate().cancel()  # the write lock was let go: this would raise EngineLocked


@pytest.mark.slow
@pytest.mark.parametrize("first", [True, False], ids=["first-build", "bulk-update"])
def test_a_bulk_build_failing_after_its_workers_staged_rows_leaves_the_catalog_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: bool
) -> None:
    """The workers stage their posts' catalog rows before the commit; a build that fails at its commit keeps
    them out of the catalog (which still matches the index it had), and the next update takes every post."""
    monkeypatch.setattr(indexing_module, "BULK_THRESHOLD", 5)
    posts = write_posts(tmp_path / "posts", COUNT)
    if not first:
        assert Corpus.open(posts, tmp_path / "index").update().added == COUNT
        write_posts(posts, COUNT, start=COUNT)  # enough new posts for the bulk path
    catalog = Catalog(tmp_path / "index" / CATALOG_NAME)
    before = catalog.count()
    staged: list[int] = []

    def fail_commit(_writer: Any, then: Any = None) -> None:
        with closing(sqlite3.connect(catalog.path)) as db:
            staged.append(db.execute("SELECT count(*) FROM staged").fetchone()[0])
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(EngineWriter, "commit", fail_commit)
        report = Corpus.open(posts, tmp_path / "index").update()
    assert report.read_only and staged == [COUNT]  # the rows were staged, then the commit failed
    assert catalog.count() == before == Engine(tmp_path / "index" / ENGINE_FOLDER).doc_count()
    assert Corpus.open(posts, tmp_path / "index").search("common").total == before

    again = Corpus.open(posts, tmp_path / "index")
    assert again.update().added == COUNT
    assert again.search("common").total == len(again) == catalog.count() == (COUNT if first else 2 * COUNT)

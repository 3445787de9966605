"""The whoosh layer: repair after damage, locks, bounded expansion and time limits."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

import index.engine.search as search_module
import index.engine.store as store_module
import index.indexing as indexing_module
from index.bulk import batch_sizes
from index.corpus import ENGINE_FOLDER, Corpus, UpdateProgress
from index.engine import Engine, EngineLocked, EngineUnavailable, IndexDoc, Searchers, highlight, run
from index.engine.schema import SCHEMA_VERSION, STAMP_NAME
from tests.index.helpers import hold_writer


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    folder = tmp_path / "posts"
    folder.mkdir()
    for number in range(12):
        (folder / f"2018-01-{number + 1:02d}-post{number}.md").write_text(
            f"---\ntitle: Post {number} alpha{number}\ndate: 2018-01-{number + 1:02d}\ntags: [t{number % 3}]\n---\n"
            f"Body {number} mentions alphaword{number} and phishing.\n",
            encoding="utf-8",
        )
    return folder


def build(posts: Path, tmp_path: Path) -> tuple[Corpus, Path]:
    corpus = Corpus.open(posts, tmp_path / "index")
    assert corpus.update().added == 12
    return corpus, tmp_path / "index" / ENGINE_FOLDER


def touch(path: Path) -> None:
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 5_000_000_000))


@pytest.mark.slow
def test_bulk_build_writes_one_segment_per_worker_batch_newest_first(
    posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each worker writes the segment of its batch; the parent lists them in batch order, so document
    order stays newest first across segments, and the workers' sort folders are gone."""
    monkeypatch.setattr(indexing_module, "BULK_THRESHOLD", 5)
    corpus, folder = build(posts, tmp_path)
    assert len(list(folder.glob("*.seg"))) == len(batch_sizes(12)) == 2
    assert [path.name for path in folder.iterdir() if path.is_dir()] == []
    assert corpus.search("phishing").total == 12
    with Engine(folder).index().reader() as reader:
        ids = [reader.stored_fields(number)["id"] for number in range(reader.doc_count_all())]
    assert ids == sorted(ids, key=lambda post_id: post_id.split("-post")[0], reverse=True)


@pytest.mark.slow
def test_bulk_progress_moves_from_adding_posts_to_writing_segments(
    posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers' segment writing is a stage of its own that counts up to every post, before the commit."""
    monkeypatch.setattr(indexing_module, "BULK_THRESHOLD", 5)
    seen: list[UpdateProgress] = []
    Corpus.open(posts, tmp_path / "index").update(progress=seen.append)
    order = ["scan", "index", "write", "commit"]
    stages = [step.stage for step in seen]
    assert stages == sorted(stages, key=order.index) and set(stages) == set(order)
    for stage in ("index", "write"):
        done = [step.done for step in seen if step.stage == stage]
        assert done == sorted(done) and {step.total for step in seen if step.stage == stage} == {12}
    assert done[-1] == 12


def test_bulk_update_leaves_existing_segments_alone(
    posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bulk update adds a segment; rewriting the existing ones (an optimising commit) costs minutes at 100k."""
    corpus, folder = build(posts, tmp_path)
    before = {path.name for path in folder.glob("*.seg")}
    monkeypatch.setattr(indexing_module, "BULK_THRESHOLD", 5)
    extra = posts / "more"
    extra.mkdir()
    for number in range(6):
        (extra / f"2019-02-{number + 1:02d}-extra{number}.md").write_text(
            f"---\ntitle: Extra {number}\ndate: 2019-02-{number + 1:02d}\n---\nMore phishing news.\n", encoding="utf-8"
        )
    assert corpus.update().added == 6
    after = {path.name for path in folder.glob("*.seg")}
    assert before < after
    result = corpus.search("phishing")
    assert result.total == 18
    assert result.ids[0] == "more/2019-02-06-extra5.md"


@pytest.mark.parametrize("version", [0, SCHEMA_VERSION - 1])
def test_schema_stamp_change_rebuilds(posts: Path, tmp_path: Path, version: int) -> None:
    """An index stamped by another version (the one before had no word pair fields) is rebuilt, never read."""
    _corpus, folder = build(posts, tmp_path)
    (folder / STAMP_NAME).write_text(f'{{"version": {version}, "engine": "whoosh"}}', encoding="utf-8")
    reopened = Corpus.open(posts, tmp_path / "index")
    assert reopened.search("phishing").error is not None
    report = reopened.update()
    assert report.rebuilt and report.added == 12
    assert json.loads((folder / STAMP_NAME).read_text(encoding="utf-8"))["version"] == SCHEMA_VERSION


@pytest.mark.parametrize("damage", ["truncated toc", "garbled segment", "empty folder", "missing folder"])
def test_damaged_index_is_rebuilt(posts: Path, tmp_path: Path, damage: str) -> None:
    _corpus, folder = build(posts, tmp_path)
    if damage == "truncated toc":
        toc = next(folder.glob("_MAIN_*.toc"))
        toc.write_bytes(toc.read_bytes()[: toc.stat().st_size // 2])
    elif damage == "garbled segment":
        segment = next(folder.glob("*.seg"))
        segment.write_bytes(b"\x00garbage" * 64)
    elif damage == "empty folder":
        for path in folder.iterdir():
            path.unlink()
    else:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    corpus = Corpus.open(posts, tmp_path / "index")
    assert not Engine(folder).healthy()
    assert corpus.search("phishing").error is not None or corpus.search("phishing").total == 0
    report = corpus.update()
    assert report.rebuilt and report.added == 12
    assert corpus.search("phishing").total == 12


@pytest.mark.slow
def test_stale_lock_from_killed_writer(posts: Path, tmp_path: Path) -> None:
    corpus, folder = build(posts, tmp_path)
    process = hold_writer(folder)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert (folder / store_module.LOCK_NAME).exists()  # left behind, and harmless
    touch(next(posts.glob("*.md")))
    report = corpus.update()
    assert report.changed == 1 and not report.read_only


@pytest.mark.slow
def test_another_writer_means_read_only(posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "WRITER_TIMEOUT", 0.1)
    corpus, folder = build(posts, tmp_path)
    process = hold_writer(folder)
    try:
        touch(next(posts.glob("*.md")))
        report = corpus.update()
        assert report.read_only and report.message and "another Spyglass" in report.message
        assert corpus.search("phishing").total == 12  # searching still works
        with pytest.raises(EngineLocked):
            Engine(folder).recreate()
    finally:
        process.kill()
        process.wait()
    assert corpus.update().changed == 1


def test_prefix_expansion_is_capped(posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, _folder = build(posts, tmp_path)
    monkeypatch.setattr(search_module, "MAX_EXPANSION", 3)
    result = corpus.search("alphaword*")
    assert result.partial and result.total == 3 and result.notes
    assert corpus.search("alphaword?").total == 3
    assert corpus.search("alphaword1*").total == 3


def test_wildcards_expand_without_cap(posts: Path, tmp_path: Path) -> None:
    corpus, _folder = build(posts, tmp_path)
    assert corpus.search("alphaword1*").total == 3  # 1, 10, 11
    assert corpus.search("*word1?").total == 2
    assert not corpus.search("alphaword*").partial


def test_time_limit_gives_partial_results(posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _corpus, folder = build(posts, tmp_path)
    monkeypatch.setattr(search_module, "CHECK_EVERY", 1)
    hits = run(Searchers(Engine(folder)), "phishing", time_limit=-1.0)
    assert hits.partial and len(hits.ids) < 12


def test_unavailable_index_raises_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable):
        Engine(tmp_path / "nothing").index()


def test_documents_and_highlights(tmp_path: Path) -> None:
    engine = Engine(tmp_path / "ix")
    writer = engine.recreate()
    writer.add(
        IndexDoc(
            "a.md",
            "Title",
            "The watering hole served ScanBox.",
            ("A, B",),
            None,
            "x.com",
            {"actor": ["apt40"], "technique": ["t1189"]},
        )
    )
    writer.commit()
    searchers = Searchers(engine)
    assert run(searchers, "actor:apt40").ids == ["a.md"]
    assert run(searchers, "tags:'a b'").ids == ["a.md"]
    hits = run(searchers, "watering")
    assert hits.terms == frozenset({"water"})
    assert highlight("The watering hole served ScanBox.", hits.terms).startswith("The watering hole served")
    assert highlight("nothing here", hits.terms) == ""
    searchers.close()

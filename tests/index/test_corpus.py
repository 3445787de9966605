"""The corpus facade: incremental updates, read-only folders, filters, facets and cancelling."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

import index.searching as searching_module
from index.catalog import CATALOG_NAME, Catalog
from index.corpus import Corpus, UpdateProgress
from index.engine import Engine
from index.posts import Post, PostProblem


def write_post(folder: Path, name: str, title: str, body: str, date: str = "2018-07-11", tags: str = "") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"---\ntitle: {title}\ndate: {date}\ntags: [{tags}]\ntourl: https://www.example.com/{name}\n---\n{body}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    folder = tmp_path / "posts"
    write_post(
        folder,
        "2018-07-11-a.md",
        "Chinese group breaches Cambodian bodies",
        "A watering hole attack.",
        "2018-07-11",
        "China, Attack",
    )
    write_post(
        folder,
        "2018-06-02-b.md",
        "North Korean hackers",
        "Spear phishing with CVE-2017-11882.",
        "2018-06-02",
        "china, NorthKorea",
    )
    write_post(
        folder,
        "2017-05-30-c.md",
        "Ransomware hits hospitals",
        "Water flows into a deep hole, not the phrase.",
        "2017-05-30",
        "CHINA, Ransomware",
    )
    return folder


def open_corpus(posts: Path, tmp_path: Path) -> Corpus:
    return Corpus.open(posts, tmp_path / "index")


def test_open_is_lazy(posts: Path, tmp_path: Path) -> None:
    corpus = open_corpus(posts, tmp_path)
    assert not (tmp_path / "index").exists()
    assert len(corpus) == 0
    assert corpus.search("").ids == []


def test_incremental_updates(posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = open_corpus(posts, tmp_path)
    first = corpus.update()
    assert (first.added, first.changed, first.removed, first.rebuilt) == (3, 0, 0, True)
    assert len(corpus) == 3

    def no_writer(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a writer was opened although nothing changed")

    with monkeypatch.context() as patch:
        patch.setattr(Engine, "writer", no_writer)
        second = Corpus.open(posts, tmp_path / "index").update()
    assert (second.added, second.changed, second.removed, second.unchanged, second.rebuilt) == (0, 0, 0, 3, False)

    touched = posts / "2018-06-02-b.md"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 1_000_000_000))
    third = corpus.update()
    assert (third.added, third.changed, third.unchanged) == (0, 1, 2)

    (posts / "2017-05-30-c.md").unlink()
    fourth = corpus.update()
    assert (fourth.removed, len(corpus)) == (1, 2)
    assert corpus.search("ransomware").ids == []


def test_changed_content_is_searchable(posts: Path, tmp_path: Path) -> None:
    corpus = open_corpus(posts, tmp_path)
    corpus.update()
    write_post(posts, "2018-06-02-b.md", "North Korean hackers", "Now about zebras.", "2018-06-02")
    os.utime(posts / "2018-06-02-b.md", ns=(1, 2_000_000_000_000_000_000))
    corpus.update()
    assert corpus.search("zebras").ids == ["2018-06-02-b.md"]
    assert corpus.search("phishing").ids == []


def test_read_only_posts_folder(posts: Path, tmp_path: Path) -> None:
    before = sorted(p.relative_to(posts) for p in posts.rglob("*"))
    for path in [*posts.rglob("*"), posts]:
        path.chmod(stat.S_IRUSR if path.is_file() else stat.S_IRUSR | stat.S_IXUSR)
    try:
        corpus = open_corpus(posts, tmp_path)
        report = corpus.update()
        assert report.added == 3 and not report.read_only
        assert corpus.search("phishing").ids == ["2018-06-02-b.md"]
    finally:
        for path in [posts, *posts.rglob("*")]:
            path.chmod(stat.S_IRWXU)
    assert sorted(p.relative_to(posts) for p in posts.rglob("*")) == before


def test_empty_query_is_every_post_by_date_without_the_engine(
    posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = open_corpus(posts, tmp_path)
    corpus.update()

    def no_engine(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("whoosh was asked for the plain list")

    monkeypatch.setattr(searching_module, "run", no_engine)
    result = corpus.search("")
    assert result.ids == ["2018-07-11-a.md", "2018-06-02-b.md", "2017-05-30-c.md"]
    assert result.total == 3 and result.error is None


class FakeState:
    def __init__(self, **flags: set[str]) -> None:
        self.flags = flags

    def ids_with(self, flag: str) -> set[str]:
        return set(self.flags.get(flag, set()))

    def version(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return tuple(sorted((flag, tuple(sorted(ids))) for flag, ids in self.flags.items()))

    def ids_with_any(self, flags: Sequence[str], among: Sequence[str]) -> set[str]:

        return {post_id for post_id in among for flag in flags if post_id in self.ids_with(flag)}

    def ids_tagged(self, tag: str) -> set[str]:
        return set()

    def ids_with_note_containing(self, text: str) -> set[str]:
        return set()


def test_is_filters_and_archived_hidden(posts: Path, tmp_path: Path) -> None:
    corpus = open_corpus(posts, tmp_path)
    corpus.update()
    state = FakeState(read={"2018-07-11-a.md"}, starred={"2018-06-02-b.md"}, archived={"2017-05-30-c.md"})
    assert corpus.search("", state=state).ids == ["2018-07-11-a.md", "2018-06-02-b.md"]
    assert corpus.search("is:unread", state=state).ids == ["2018-06-02-b.md"]
    assert corpus.search("is:starred", state=state).ids == ["2018-06-02-b.md"]
    assert corpus.search("is:archived", state=state).ids == ["2017-05-30-c.md"]
    assert corpus.search("is:read china", state=state).ids == ["2018-07-11-a.md"]
    assert corpus.search("is:bogus", state=state).error is not None


def test_tag_facets_are_case_folded(posts: Path, tmp_path: Path) -> None:
    corpus = open_corpus(posts, tmp_path)
    corpus.update()
    write_post(posts, "2018-01-01-d.md", "Fourth", "Body.", "2018-01-01", "China")
    corpus.update()
    facets = corpus.search("").facets["tag"]
    assert facets[0] == ("China", 4)
    assert corpus.search("tag:CHINA").total == 4
    assert dict(corpus.search("ransomware").facets["tag"]) == {"China": 1, "Ransomware": 1}


def test_relevance_first_page_then_date(posts: Path, tmp_path: Path) -> None:
    corpus = open_corpus(posts, tmp_path)
    corpus.update()
    result = corpus.search("china OR hospitals", sort="relevance", limit=10)
    assert set(result.ids) == {"2018-07-11-a.md", "2018-06-02-b.md", "2017-05-30-c.md"}
    assert result.scores and result.ids[0] in result.scores
    assert corpus.search("sort:date china").ids == ["2018-07-11-a.md", "2018-06-02-b.md", "2017-05-30-c.md"]


def test_highlights_and_terms(posts: Path, tmp_path: Path) -> None:
    corpus = open_corpus(posts, tmp_path)
    corpus.update()
    result = corpus.search('"watering hole"')
    assert result.ids == ["2018-07-11-a.md"]
    assert "watering hole" in result.highlights["2018-07-11-a.md"].lower()
    assert result.terms == ["watering hole"]


def test_ioc_query_pasted_as_the_post_prints_it(posts: Path, tmp_path: Path) -> None:
    """Reports defang indicators many ways; a query copied from the post must find the post."""
    write_post(posts, "2018-08-01-d.md", "Loader", "The loader fetched hxxp://bad(dot)example[.]com/gate hourly.")
    corpus = open_corpus(posts, tmp_path)
    corpus.update()
    for query in ("ioc:hxxp://bad(dot)example[.]com/gate", "ioc:http://bad.example.com/gate"):
        result = corpus.search(query)
        assert result.error is None and result.ids == ["2018-08-01-d.md"], query


def test_problem_posts_reported_and_remembered(posts: Path, tmp_path: Path) -> None:
    (posts / "bad.md").write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    corpus = open_corpus(posts, tmp_path)
    report = corpus.update()
    bad = [problem for problem in report.problems if problem.post_id == "bad.md"]
    assert bad and bad[0].skipped and bad[0].line is not None
    assert corpus.update().unchanged == 4
    assert any(problem.post_id == "bad.md" for problem in Corpus.open(posts, tmp_path / "index").problems)
    write_post(posts, "bad.md", "Fixed", "Now fine.")
    os.utime(posts / "bad.md", ns=(1, 2_000_000_000_000_000_000))
    fixed = corpus.update()
    assert fixed.changed == 1 and len(corpus) == 4
    assert not any(problem.post_id == "bad.md" for problem in fixed.problems)


def test_catalog_out_of_step_rebuilds(posts: Path, tmp_path: Path) -> None:
    corpus = open_corpus(posts, tmp_path)
    corpus.update()
    Catalog(tmp_path / "index" / CATALOG_NAME).apply([], [], [], generation=999)
    report = Corpus.open(posts, tmp_path / "index").update()
    assert report.rebuilt and report.added == 3


def test_cancel_keeps_what_was_done(posts: Path, tmp_path: Path) -> None:
    corpus = open_corpus(posts, tmp_path)
    seen: list[UpdateProgress] = []
    report = corpus.update(progress=seen.append, cancelled=lambda: True)
    assert report.cancelled and 0 < len(corpus) < 3
    assert any(step.stage == "index" for step in seen)
    rest = corpus.update()
    assert (len(corpus), rest.cancelled, rest.added, rest.unchanged) == (3, False, 2, 1)


def test_load_refuses_paths_outside(posts: Path, tmp_path: Path) -> None:
    corpus = open_corpus(posts, tmp_path)
    assert isinstance(corpus.load("../secret.md"), PostProblem)
    assert isinstance(corpus.load("missing.md"), PostProblem)
    assert isinstance(corpus.load("2018-07-11-a.md"), Post)


def test_missing_folder_is_reported_not_emptied(posts: Path, tmp_path: Path) -> None:
    corpus = open_corpus(posts, tmp_path)
    corpus.update()
    moved = posts.rename(tmp_path / "elsewhere")
    report = corpus.update()
    assert report.read_only and report.message
    moved.rename(posts)
    assert corpus.update().unchanged == 3


def _rows(corpus: Corpus) -> Iterator[str]:
    yield from (row.title for row in corpus.rows(corpus.search("").ids))


def test_rows_come_from_the_catalog(posts: Path, tmp_path: Path) -> None:
    corpus = open_corpus(posts, tmp_path)
    corpus.update()
    assert next(_rows(corpus)) == "Chinese group breaches Cambodian bodies"
    row = corpus.rows(["2018-06-02-b.md"])[0]
    assert row.source == "example.com" and row.tags == ("china", "NorthKorea") and len(row.content_hash) == 40


def test_update_carries_triage_state_over_to_a_renamed_post(posts: Path, tmp_path: Path) -> None:
    from index.state import TriageState

    corpus = open_corpus(posts, tmp_path)
    with TriageState(tmp_path / "state.sqlite3") as state:
        corpus.update(state=state)
        [row] = corpus.rows(["2018-06-02-b.md"])
        state.set_flag(row.post_id, "read", True, row.content_hash)
        (posts / "2018-06-02-b.md").rename(posts / "moved.md")
        report = corpus.update(state=state)
        assert (report.added, report.removed, report.reconciled, report.state_error) == (1, 1, 1, None)
        assert state.get("moved.md").read and not state.get("2018-06-02-b.md").read
        assert corpus.update(state=state).reconciled == 0  # nothing added or removed: nothing to do


def test_a_read_only_state_is_left_alone_and_a_failing_one_does_not_undo_the_update(
    posts: Path, tmp_path: Path
) -> None:
    from index.state import TriageState

    corpus = open_corpus(posts, tmp_path)
    path = tmp_path / "state.sqlite3"
    with TriageState(path) as state:
        corpus.update(state=state)
        [row] = corpus.rows(["2018-06-02-b.md"])
        state.set_flag(row.post_id, "starred", True, row.content_hash)
    (posts / "2018-06-02-b.md").rename(posts / "moved.md")
    with TriageState(path, readonly=True) as viewer:
        report = corpus.update(state=viewer)
        assert report.added == 1 and report.reconciled == 0 and report.state_error is None
    (posts / "moved.md").rename(posts / "again.md")
    broken = TriageState(path)
    broken.close()  # every call on a closed state fails with StateError
    report = corpus.update(state=broken)
    assert report.added == 1 and report.state_error is not None
    assert "again.md" in {row.post_id for row in corpus.rows(["again.md"])}


def test_each_post_file_is_opened_once_and_the_hash_is_of_the_bytes_parsed(
    posts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins
    import hashlib

    from index.posts import PostFile
    from index.preparing import Prepared, prepare

    path = posts / "2018-07-11-a.md"
    opened: list[str] = []
    real_os_open, real_open = os.open, builtins.open

    def counting_os_open(file: object, *args: object, **kwargs: object) -> int:
        opened.append(os.fsdecode(file))  # type: ignore[arg-type]
        return real_os_open(file, *args, **kwargs)  # type: ignore[arg-type]

    def counting_open(file: object, *args: object, **kwargs: object) -> object:
        opened.append(os.fsdecode(file))  # type: ignore[arg-type]
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "open", counting_os_open)
    monkeypatch.setattr(builtins, "open", counting_open)
    info = path.stat()
    result = prepare(posts, PostFile(path.name, info.st_size, info.st_mtime_ns))
    monkeypatch.undo()
    assert isinstance(result, Prepared)
    assert opened.count(str(path)) == 1
    assert result.entry.row.content_hash == hashlib.sha1(path.read_bytes(), usedforsecurity=False).hexdigest()

"""The no-change check trusts a record of the last scan found in step, and nothing else: any change to the
folder, and any write to the index, sends it back to the catalog's stat facts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from index import freshness
from index.catalog import Catalog
from index.corpus import Corpus


def write(folder: Path, day: int, body: str = "Ransomware at a port.") -> Path:
    path = folder / f"2020-06-{day:02d}-post{day}.md"
    path.write_text(f"---\ntitle: Post {day}\ndate: 2020-06-{day:02d}\n---\n{body}\n", encoding="utf-8")
    return path


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    folder = tmp_path / "posts"
    folder.mkdir()
    for day in range(1, 7):
        write(folder, day)
    return folder


@pytest.fixture
def stats_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the catalog's stat-fact reads (the no-change check without a record)."""
    counted: list[int] = []
    real = Catalog.stats

    def counting(self: Catalog) -> Any:
        counted.append(1)
        return real(self)

    monkeypatch.setattr(Catalog, "stats", counting)
    return counted


def check(posts: Path, index_dir: Path) -> tuple[int, int, int, int]:
    corpus = Corpus.open(posts, index_dir)
    report = corpus.update()
    corpus.close()
    return report.added, report.changed, report.removed, report.unchanged


def test_a_second_check_of_an_unchanged_folder_reads_no_stat_facts(
    posts: Path, tmp_path: Path, stats_reads: list[int]
) -> None:
    index_dir = tmp_path / "index"
    assert check(posts, index_dir) == (6, 0, 0, 0)
    assert not (index_dir / freshness.RECORD_NAME).exists()  # written posts: nothing recorded yet
    assert check(posts, index_dir) == (0, 0, 0, 6)
    assert (index_dir / freshness.RECORD_NAME).exists()
    stats_reads.clear()
    assert check(posts, index_dir) == (0, 0, 0, 6)
    assert stats_reads == []


def test_every_kind_of_change_is_still_seen(posts: Path, tmp_path: Path, stats_reads: list[int]) -> None:
    index_dir = tmp_path / "index"
    check(posts, index_dir)
    check(posts, index_dir)
    touched = posts / "2020-06-02-post2.md"
    info = touched.stat()
    os.utime(touched, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))  # same size, one ms later
    assert check(posts, index_dir) == (0, 1, 0, 5)
    check(posts, index_dir)
    write(posts, 3, "Ransomware at a port, again.")  # rewritten in place
    assert check(posts, index_dir) == (0, 1, 0, 5)
    check(posts, index_dir)
    (posts / "2020-06-04-post4.md").rename(posts / "2020-06-04-renamed.md")
    assert check(posts, index_dir) == (1, 0, 1, 5)
    check(posts, index_dir)
    (posts / "2020-06-05-post5.md").unlink()
    assert check(posts, index_dir) == (0, 0, 1, 5)
    check(posts, index_dir)
    write(posts, 9)
    assert check(posts, index_dir) == (1, 0, 0, 5)
    stats_reads.clear()
    check(posts, index_dir)
    assert check(posts, index_dir) == (0, 0, 0, 6)
    assert stats_reads == [1]  # the first check after the write read the catalog, the second trusted its record


def test_a_record_of_another_generation_is_not_trusted(posts: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    check(posts, index_dir)
    check(posts, index_dir)
    recorded = (index_dir / freshness.RECORD_NAME).read_text(encoding="utf-8")
    write(posts, 10)
    assert check(posts, index_dir) == (1, 0, 0, 6)
    (posts / "2020-06-10-post10.md").unlink()
    # The folder is back to what the old record saw, but the catalog moved on: a stale record (say, written late
    # by another process) must not vouch for it.
    (index_dir / freshness.RECORD_NAME).write_text(recorded, encoding="utf-8")
    assert check(posts, index_dir) == (0, 0, 1, 6)


def test_a_rebuild_drops_the_record(posts: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    check(posts, index_dir)
    check(posts, index_dir)
    corpus = Corpus.open(posts, index_dir)
    write(posts, 11)
    assert corpus.update(rebuild=True).added == 7
    corpus.close()
    assert not (index_dir / freshness.RECORD_NAME).exists()


def nested(posts: Path, name: str, body: str) -> Path:
    path = posts / "2021" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"---\ntitle: {name}\ndate: 2021-03-04\n---\n{body}\n", encoding="utf-8")
    return path


def search_ids(posts: Path, index_dir: Path, query: str) -> list[str]:
    corpus = Corpus.open(posts, index_dir)
    try:
        return corpus.search(query).ids
    finally:
        corpus.close()


def test_a_post_edited_in_place_is_seen_though_its_folder_did_not_change(posts: Path, tmp_path: Path) -> None:
    """Same size, older time, a folder whose own time does not move: only the post's stat facts show it."""
    index_dir = tmp_path / "index"
    edited = nested(posts, "a.md", "Lazarus watering hole.")
    nested(posts, "b.md", "Nothing to see.")
    check(posts, index_dir)
    assert check(posts, index_dir) == (0, 0, 0, 8)  # now trusted from the record
    folder_time = edited.parent.stat().st_mtime_ns
    before = edited.stat()
    with edited.open("r+b") as handle:  # rewritten in place, same size
        text = handle.read()
        handle.seek(0)
        handle.write(text.replace(b"watering", b"wateRING").replace(b"Lazarus", b"Sandfly"))
    os.utime(edited, ns=(before.st_atime_ns, before.st_mtime_ns - 10_000_000_000))  # and dated ten seconds back
    assert edited.stat().st_size == before.st_size and edited.parent.stat().st_mtime_ns == folder_time
    assert check(posts, index_dir) == (0, 1, 0, 7)
    assert search_ids(posts, index_dir, "sandfly") == ["2021/a.md"]
    assert search_ids(posts, index_dir, "lazarus") == []


def test_changes_in_a_subfolder_are_seen(posts: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    nested(posts, "a.md", "One.")
    check(posts, index_dir)
    check(posts, index_dir)
    nested(posts, "b.md", "Two.")  # added
    assert check(posts, index_dir) == (1, 0, 0, 7)
    check(posts, index_dir)
    (posts / "2021" / "a.md").rename(posts / "a-moved.md")  # renamed into another folder
    assert check(posts, index_dir) == (1, 0, 1, 7)
    check(posts, index_dir)
    (posts / "2021" / "b.md").unlink()  # deleted
    assert check(posts, index_dir) == (0, 0, 1, 7)
    assert check(posts, index_dir) == (0, 0, 0, 7)


def test_an_index_written_behind_the_record_is_not_trusted(posts: Path, tmp_path: Path) -> None:
    """The record vouches for the index folder it saw: a commit the catalog does not know of (a process that
    died between the two) changes the folder, and the check then finds the index out of step and rebuilds."""
    from index.corpus import ENGINE_FOLDER
    from index.engine import Engine, IndexDoc

    index_dir = tmp_path / "index"
    check(posts, index_dir)
    check(posts, index_dir)
    engine = Engine(index_dir / ENGINE_FOLDER)
    writer = engine.writer()
    writer.add(IndexDoc("stray.md", "Stray", "Not a post of the folder."))
    writer.commit()
    corpus = Corpus.open(posts, index_dir)
    report = corpus.update()
    assert report.rebuilt and report.added == 6
    assert corpus.search("stray").ids == []
    corpus.close()


def test_an_index_marked_damaged_behind_the_record_is_rebuilt(posts: Path, tmp_path: Path) -> None:
    from index.corpus import ENGINE_FOLDER
    from index.engine.store import DAMAGE_MARKER

    index_dir = tmp_path / "index"
    check(posts, index_dir)
    check(posts, index_dir)
    (index_dir / ENGINE_FOLDER / DAMAGE_MARKER).write_text("a search failed\n", encoding="utf-8")
    corpus = Corpus.open(posts, index_dir)
    assert corpus.update().rebuilt
    corpus.close()


def test_a_record_without_the_index_state_opens_the_index_once(
    posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record of an older version (no index state) or of another index state is checked by opening the
    index, then kept with the state: the check after that opens nothing."""
    from index.engine.store import Engine

    index_dir = tmp_path / "index"
    check(posts, index_dir)
    check(posts, index_dir)
    record = freshness.read(index_dir)
    assert record is not None and record.engine
    (index_dir / freshness.RECORD_NAME).write_text(
        f'{{"generation": {record.generation}, "digest": "{record.digest}"}}', encoding="utf-8"
    )
    opened: list[int] = []
    real = Engine.healthy

    def counting(self: Engine) -> bool:
        opened.append(1)
        return real(self)

    monkeypatch.setattr(Engine, "healthy", counting)
    assert check(posts, index_dir) == (0, 0, 0, 6)
    assert opened == [1]
    assert freshness.read(index_dir) == record
    assert check(posts, index_dir) == (0, 0, 0, 6)
    assert opened == [1]


def test_an_unchanged_folder_and_index_are_checked_without_whoosh_or_yaml(posts: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.helpers import source_env

    index_dir = tmp_path / "index"
    check(posts, index_dir)
    check(posts, index_dir)
    probe = (
        "import sys\nfrom pathlib import Path\nfrom index.corpus import Corpus\n"
        "report = Corpus.open(Path(sys.argv[1]), Path(sys.argv[2])).update()\n"
        "loaded = sorted({name.split('.')[0] for name in sys.modules} & {'whoosh', 'yaml', 'frontmatter'})\n"
        "print(report.unchanged, *loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(posts), str(index_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env=source_env(),
        check=False,
    )
    assert done.stdout == "6\n", done.stderr


def test_the_check_of_an_unchanged_folder_builds_no_tuple_per_post(
    posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan hands the check one line per post; a PostFile is made only once something changed."""
    import index.posts as posts_module

    built: list[str] = []
    real = posts_module.PostFile

    def counting(post_id: str, size: int, mtime_ns: int) -> Any:
        built.append(post_id)
        return real(post_id, size, mtime_ns)

    index_dir = tmp_path / "index"
    assert check(posts, index_dir) == (6, 0, 0, 0)
    assert check(posts, index_dir) == (0, 0, 0, 6)  # the record is written
    monkeypatch.setattr(posts_module, "PostFile", counting)
    assert check(posts, index_dir) == (0, 0, 0, 6)
    assert built == []
    write(posts, 7)
    assert check(posts, index_dir) == (1, 0, 0, 6)
    assert len(built) == 7

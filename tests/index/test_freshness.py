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

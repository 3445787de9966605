"""A segment written by a worker holds the same postings however many sort runs its posting pool wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from index.engine import Engine, IndexDoc
from index.engine.segments import SegmentBuilder

WORDS = ["phishing", "watering hole", "the", "APT28", "server", "command and control", "10.0.0.1", "hacked"]


def _docs(count: int) -> list[IndexDoc]:
    return [
        IndexDoc(f"p{number:03d}.md", f"Report {number} {WORDS[number % len(WORDS)]}",
                 " ".join(WORDS[(number * step) % len(WORDS)] for step in range(1, 12)), ("tag",),
                 terms={"actors": ["apt28"] if number % 3 else []})
        for number in range(count)
    ]


def _postings(folder: Path, docs: list[IndexDoc], pool_mb: int, runs: list[int]) -> list[Any]:
    folder.mkdir()
    engine = Engine(folder)
    writer = engine.recreate()
    builder = SegmentBuilder(folder, pool_mb=pool_mb)
    for doc in docs:
        builder.add(doc)
    runs.append(len(builder._writer.pool.runs))
    segment = builder.finish(lambda _done, _total: None)
    assert segment is not None
    writer.add_segments([segment])
    writer.commit()
    with engine.index().reader() as reader:
        return [(field, text, list(reader.postings(field, text).all_items())) for field, text in reader.all_terms()]


def test_postings_are_the_same_with_and_without_sort_runs(tmp_path: Path) -> None:
    docs = _docs(40)
    runs: list[int] = []
    in_memory = _postings(tmp_path / "memory", docs, 48, runs)
    # pool_mb=0: a run per posting, more than the 128 files whoosh merges at once, so runs are merged twice
    on_disk = _postings(tmp_path / "runs", docs, 0, runs)
    assert runs[0] == 0 and runs[1] > 128
    assert on_disk == in_memory and len(in_memory) > 100

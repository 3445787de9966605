"""A segment written by a worker holds what whoosh's own ``add_document`` writes, file for file, and the
same postings however many sort runs its posting pool wrote."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.engine import Engine, IndexDoc
from index.engine.segments import SegmentBuilder
from index.engine.store import INDEX_NAME, open_storage

WORDS = ["phishing", "watering hole", "the", "APT28", "server", "command and control", "10.0.0.1", "hacked"]


def _docs(count: int) -> list[IndexDoc]:
    return [
        IndexDoc(
            f"p{number:03d}.md",
            f"Report {number} {WORDS[number % len(WORDS)]}",
            " ".join(WORDS[(number * step) % len(WORDS)] for step in range(1, 12)),
            ("tag",),
            date=datetime(2024, 1 + number % 12, 1 + number % 28, tzinfo=UTC) if number % 5 else None,
            source="blog" if number % 2 else "",
            terms={"actor": ["apt28"] if number % 3 else [], "technique": [f"t{number % 7}"]},
        )
        for number in range(count)
    ]


def _postings(folder: Path, docs: list[IndexDoc], pool_mb: float, runs: list[int]) -> list[Any]:
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


def _segment_files(folder: Path) -> dict[str, bytes]:
    """The files of the index's one segment by kind (postings, terms, lengths, stored fields, columns)."""
    storage = open_storage(folder)
    (segment,) = storage.open_index(INDEX_NAME)._read_toc().segments
    files = segment.open_compound_file(storage) if segment.is_compound() else storage
    return {name.replace(segment.segment_id(), ""): files.open_file(name).read() for name in files.list()}


def _everything(folder: Path) -> list[Any]:
    with Engine(folder).index().reader() as reader:
        terms = [
            (field, text, reader.doc_frequency(field, text), list(reader.postings(field, text).all_items()))
            for field, text in reader.all_terms()
        ]
        fields = [name for name, field in reader.schema.items() if field.scorable]
        lengths = [[reader.doc_field_length(number, name) for name in fields] for number in reader.all_doc_ids()]
        return [terms, lengths, list(reader.all_stored_fields())]


def test_a_segment_holds_what_whoosh_writes_for_the_same_posts(tmp_path: Path) -> None:
    docs = _docs(60)
    stock = tmp_path / "stock"
    stock.mkdir()
    writer = Engine(stock).recreate()
    for doc in docs:
        writer.add(doc)  # whoosh's add_document and its own pool
    writer.commit()
    for pool_mb in (48, 0.01):  # the postings in memory, then in sort runs
        ours = tmp_path / f"ours-{pool_mb}"
        _postings(ours, docs, pool_mb, [])
        assert _segment_files(ours) == _segment_files(stock)
        assert _everything(ours) == _everything(stock)

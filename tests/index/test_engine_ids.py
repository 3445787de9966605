"""The docnum → id table read in one block per segment agrees with whoosh's own column reader."""

from __future__ import annotations

from pathlib import Path

from index.engine import Engine, IndexDoc
from index.engine.ids import read_ids


def _commit(engine: Engine, ids: list[str], *, delete: tuple[str, ...] = ()) -> None:
    writer = engine.writer()
    for post_id in delete:
        writer.delete(post_id)
    for post_id in ids:
        writer.add(IndexDoc(post_id, f"Title of {post_id}", "a body about ransomware"))
    writer.commit()


def _whoosh_ids(engine: Engine) -> list[str]:
    with engine.index().searcher() as searcher:
        return [str(value) for value in searcher.reader().column_reader("id")]


def test_ids_of_several_segments_with_deletions_and_non_ascii_names(tmp_path: Path) -> None:
    engine = Engine(tmp_path / "ix")
    engine.recreate().cancel()
    _commit(engine, ["2020-01-01-a.md", "b/2020-01-02-é.md", "2020-01-03-\uf8ff\uf7e9.md"])
    _commit(engine, ["2021-05-05-c.md", "d.markdown"], delete=("2020-01-01-a.md",))
    _commit(engine, ["e.md"])
    with engine.index().searcher() as searcher:
        reader = searcher.reader()
        assert len(list(reader.leaf_readers())) > 1  # the block read runs per segment
        ids = read_ids(reader)
    assert ids == _whoosh_ids(engine)
    assert {"b/2020-01-02-é.md", "2020-01-03-\uf8ff\uf7e9.md", "2021-05-05-c.md", "d.markdown", "e.md"} <= set(ids)


def test_ids_of_one_ascii_segment(tmp_path: Path) -> None:
    engine = Engine(tmp_path / "ix")
    engine.recreate().cancel()
    names = [f"2019-02-{day:02d}-post.md" for day in range(1, 29)]
    _commit(engine, names)
    with engine.index().searcher() as searcher:
        ids = read_ids(searcher.reader())
    assert ids == _whoosh_ids(engine) == names

"""The build profiler (bench/profile_build.py) times every part of a build, each field's analysis apart."""

from __future__ import annotations

from pathlib import Path

from bench.profile_build import main, parts
from index.engine import Engine
from index.engine.schema import build_schema
from index.posts import PostFile, scan_corpus
from tests.faults.helpers import write_posts


def test_every_part_is_timed_and_the_segment_is_written(tmp_path: Path) -> None:
    posts = write_posts(tmp_path / "posts", 6)
    folder = tmp_path / "index"
    folder.mkdir()
    Engine(folder).recreate().commit()
    files = [item for item in scan_corpus(posts) if isinstance(item, PostFile)]
    spent = parts(posts, files, folder)
    fields = {name.removeprefix("analysis ") for name in spent if name.startswith("analysis ")}
    assert {"title", "title_pairs", "body", "body_pairs", "tags", "id"} <= fields <= set(build_schema().names())
    assert {"parse", "extraction", "segment writing (sort and write postings)"} <= spent.keys()
    assert all(seconds >= 0 for seconds in spent.values())
    assert main(["--corpus", str(posts)]) == 0

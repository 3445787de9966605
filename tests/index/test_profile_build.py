"""The build profiler (bench/profile_build.py) times every part of a build, each field's analysis apart."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from index.engine import Engine
from index.engine.schema import build_schema
from index.posts import PostFile, scan_corpus
from tests.faults.helpers import write_posts

ROOT = Path(__file__).resolve().parents[2]


def _profiler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("profile_build", ROOT / "bench" / "profile_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PROFILER = _profiler()


def test_every_part_is_timed_and_the_segment_is_written(tmp_path: Path) -> None:
    posts = write_posts(tmp_path / "posts", 6)
    folder = tmp_path / "index"
    folder.mkdir()
    Engine(folder).recreate().commit()
    files = [item for item in scan_corpus(posts) if isinstance(item, PostFile)]
    spent = PROFILER.parts(posts, files, folder)
    fields = {name.removeprefix("analysis ") for name in spent if name.startswith("analysis ")}
    assert {"title", "title_pairs", "body", "body_pairs", "tags", "id"} <= fields <= set(build_schema().names())
    assert {"parse", "extraction", "segment writing (sort and write postings)"} <= spent.keys()
    assert all(seconds >= 0 for seconds in spent.values())
    assert PROFILER.main(["--corpus", str(posts)]) == 0

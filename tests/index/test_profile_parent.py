"""The parent profiler (bench/profile_parent.py) builds the index and names the parent's busiest functions."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.faults.helpers import write_posts

ROOT = Path(__file__).resolve().parents[2]


def test_a_profiled_build_reports_both_sides_and_the_functions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("tantivy")
    spec = importlib.util.spec_from_file_location("profile_parent", ROOT / "bench" / "profile_parent.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    posts = write_posts(tmp_path / "posts", 6)
    assert module.main(["--corpus", str(posts), "--index-dir", str(tmp_path / "index"), "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("6 posts, ") and "parent CPU " in out and " ms/post" in out and "tottime" in out
    assert (tmp_path / "index").is_dir()

"""Choosing the search engine on the command line and in the settings, and what a missing one says."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tui import cli
from tui.settings import Settings, load_settings, save_settings, settings_path


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "2018-07-11-a.md").write_text(
        "---\ntitle: Watering hole\ndate: 2018-07-11\ntags: [China]\n---\nA watering hole attack with phishing.\n",
        encoding="utf-8",
    )
    (folder / "2017-01-02-b.md").write_text(
        "---\ntitle: Other\ndate: 2017-01-02\n---\nNothing here.\n", encoding="utf-8"
    )
    return folder


def stamp_engine(index_dir: Path) -> str:
    stamp = json.loads(next(index_dir.rglob("spyglass-schema.json")).read_text(encoding="utf-8"))
    return str(stamp["engine"])


def search(posts: Path, index_dir: Path, *options: str) -> int:
    return cli.main(["search", str(posts), '"watering hole"', "--json", "--index-dir", str(index_dir), *options])


def test_engine_option_chooses_and_records_the_engine(
    posts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("tantivy")
    index_dir = tmp_path / "index"
    assert search(posts, index_dir, "--engine", "tantivy") == 0
    assert [hit["id"] for hit in json.loads(capsys.readouterr().out)["hits"]] == ["2018-07-11-a.md"]
    assert stamp_engine(index_dir) == "tantivy"
    assert search(posts, index_dir) == 0  # the default engine: the index is rebuilt for it
    assert [hit["id"] for hit in json.loads(capsys.readouterr().out)["hits"]] == ["2018-07-11-a.md"]
    assert stamp_engine(index_dir) == "whoosh"


def test_the_engine_setting_is_the_default(posts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tantivy")
    assert save_settings(Settings(engine="tantivy")) is None
    assert load_settings().engine == "tantivy" and 'engine = "tantivy"' in settings_path().read_text("utf-8")
    index_dir = tmp_path / "index"
    assert cli.main(["index", str(posts), "--index-dir", str(index_dir)]) == 0
    assert stamp_engine(index_dir) == "tantivy"
    assert cli.main(["index", str(posts), "--index-dir", str(index_dir), "--engine", "whoosh"]) == 0
    assert stamp_engine(index_dir) == "whoosh"  # the option wins over the setting
    capsys.readouterr()


@pytest.mark.parametrize("command", ["search", "index", "app"])
def test_an_engine_that_cannot_be_used_is_a_usage_error(
    posts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setitem(sys.modules, "tantivy", None)  # as if the fast extra were not installed
    words = {"search": ["search", str(posts), "x"], "index": ["index", str(posts)], "app": [str(posts)]}[command]
    assert cli.main([*words, "--engine", "tantivy"]) == 2
    error = capsys.readouterr().err
    assert "pip install 'spyglass[fast]'" in error and "Traceback" not in error
    assert cli.main([*words, "--engine", "lucene"]) == 2
    assert "unknown engine 'lucene'" in capsys.readouterr().err

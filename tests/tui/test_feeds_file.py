"""Feeds persist in feeds.json, written whole; keys.toml queries are feeds too and keys.toml is never written."""

from __future__ import annotations

import json
from pathlib import Path

from tui.feeds import Feed, delete_feed, load_feeds, rename_feed, save_feed

KEYS = '# my own comment\n[queries]\n"China" = "actor:APT40"  # keep me\n"Phish" = "technique:T1566"\n'


def test_keys_toml_queries_are_feeds_and_survive_renames_and_deletes_untouched(tmp_path: Path) -> None:
    feeds, keys = tmp_path / "feeds.json", tmp_path / "keys.toml"
    keys.write_text(KEYS, encoding="utf-8")
    assert load_feeds(feeds, keys) == [Feed("China", "actor:APT40"), Feed("Phish", "technique:T1566")]
    assert save_feed("Unread  wipers\n", "wiper is:unread", feeds, keys) is None
    assert rename_feed("China", "APT40 watch", feeds, keys) is None
    assert delete_feed("Phish", feeds) is None
    assert load_feeds(feeds, keys) == [Feed("Unread wipers", "wiper is:unread"), Feed("APT40 watch", "actor:APT40")]
    assert keys.read_text(encoding="utf-8") == KEYS
    assert not (tmp_path / "feeds.json.tmp").exists()


def test_names_are_unique_and_required(tmp_path: Path) -> None:
    feeds, keys = tmp_path / "feeds.json", tmp_path / "keys.toml"
    assert save_feed("a", "x", feeds, keys) is None
    assert save_feed("A", "y", feeds, keys) is None  # same name, any case: a new query
    assert load_feeds(feeds, keys) == [Feed("A", "y")]
    assert save_feed(" ", "x", feeds, keys) == "a feed needs a name"
    assert save_feed("b", "z", feeds, keys) is None
    assert rename_feed("b", "a", feeds, keys) == "a feed named a exists already"
    assert rename_feed("nope", "c", feeds, keys) == "no feed named nope"


def test_a_damaged_file_gives_the_keys_toml_feeds(tmp_path: Path) -> None:
    feeds, keys = tmp_path / "feeds.json", tmp_path / "keys.toml"
    keys.write_text(KEYS, encoding="utf-8")
    feeds.write_text('{"feeds": [{"name": 3}], ', encoding="utf-8")
    assert [feed.name for feed in load_feeds(feeds, keys)] == ["China", "Phish"]
    feeds.write_text(json.dumps({"feeds": [{"name": "ok", "query": "a"}, {"name": "", "query": "b"}]}), "utf-8")
    assert [feed.name for feed in load_feeds(feeds, keys)] == ["ok", "China", "Phish"]

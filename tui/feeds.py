"""Feeds: saved searches listed in the sidebar, kept in ``feeds.json`` in the config folder.

Spyglass writes this file itself (whole, then renamed into place, so a crash leaves the old or the
new file, never half of one). The ``[queries]`` of ``keys.toml`` are feeds too; that file is the
user's own, with their comments, so it is never written: renaming or deleting one of its queries
records the name under ``hidden`` here instead.

    {"feeds": [{"name": "Phishing", "query": "technique:T1566"}], "hidden": ["old name"]}

A missing or damaged file gives the ``keys.toml`` queries alone: feeds are a comfort, never a
reason to stop.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from index.paths import config_dir
from index.query import MAX_QUERY_CHARS
from tui.keymap import load_saved_queries

FILE_NAME = "feeds.json"
MAX_BYTES = 256 * 1024
MAX_NAME_CHARS = 100


@dataclass(frozen=True)
class Feed:
    name: str
    query: str


@dataclass(frozen=True)
class _Stored:
    feeds: list[Feed]
    hidden: list[str]


def feeds_path() -> Path:
    """``config_dir()/feeds.json``."""
    return config_dir() / FILE_NAME


def _read(path: Path) -> _Stored:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
        document = json.loads(raw.decode("utf-8")) if len(raw) <= MAX_BYTES else {}
    except (OSError, UnicodeDecodeError, ValueError):
        return _Stored([], [])
    if not isinstance(document, dict):
        return _Stored([], [])
    feeds = [
        Feed(entry["name"], entry["query"])
        for entry in document.get("feeds", [])
        if isinstance(entry, dict) and _valid(entry.get("name"), entry.get("query"))
    ]
    hidden = [name for name in document.get("hidden", []) if isinstance(name, str)]
    return _Stored(feeds, hidden)


def _valid(name: object, query: object) -> bool:
    return (
        isinstance(name, str) and 0 < len(name) <= MAX_NAME_CHARS and isinstance(query, str)
        and len(query) <= MAX_QUERY_CHARS
    )  # fmt: skip


def _write(stored: _Stored, path: Path) -> str | None:
    document = {"feeds": [{"name": f.name, "query": f.query} for f in stored.feeds], "hidden": stored.hidden}
    temporary = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump(document, handle, ensure_ascii=False, indent=1)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        return f"{path}: {error.strerror or error}"
    return None


def load_feeds(path: Path | None = None, keys: Path | None = None) -> list[Feed]:
    """Every feed: this file's, then the ``keys.toml`` queries it neither hides nor already names."""
    stored = _read(feeds_path() if path is None else path)
    names = {feed.name.casefold() for feed in stored.feeds} | {name.casefold() for name in stored.hidden}
    from_keys = [Feed(name, query) for name, query in load_saved_queries(keys) if name.casefold() not in names]
    return stored.feeds + from_keys


def clean_name(name: str) -> str:
    """A feed name as stored: one line, single spaces, at most ``MAX_NAME_CHARS``."""
    return " ".join("".join(c if c.isprintable() else " " for c in name).split())[:MAX_NAME_CHARS]


def save_feed(name: str, query: str, path: Path | None = None, keys: Path | None = None) -> str | None:
    """Add a feed, or give an existing name a new query. Returns a message when it was not saved."""
    name = clean_name(name)
    if not name:
        return "a feed needs a name"
    if len(query) > MAX_QUERY_CHARS:
        return f"the query is longer than {MAX_QUERY_CHARS:,} characters"
    path = feeds_path() if path is None else path
    stored = _read(path)
    feeds = [feed for feed in stored.feeds if feed.name.casefold() != name.casefold()]
    hidden = list(stored.hidden)
    if any(feed.name.casefold() == name.casefold() for feed in load_feeds(path, keys)) and name not in hidden:
        hidden.append(name)  # the same name in keys.toml: this one wins
    return _write(_Stored([*feeds, Feed(name, query)], hidden), path)


def rename_feed(old: str, new: str, path: Path | None = None, keys: Path | None = None) -> str | None:
    """Give a feed a new name (a ``keys.toml`` query is copied here under it and its old name hidden)."""
    new = clean_name(new)
    if not new:
        return "a feed needs a name"
    path = feeds_path() if path is None else path
    found = next((feed for feed in load_feeds(path, keys) if feed.name == old), None)
    if found is None:
        return f"no feed named {old}"
    if new.casefold() != old.casefold() and any(f.name.casefold() == new.casefold() for f in load_feeds(path, keys)):
        return f"a feed named {new} exists already"
    stored = _read(path)
    feeds = [Feed(new, feed.query) if feed.name == old else feed for feed in stored.feeds]
    if found not in stored.feeds:
        feeds.append(Feed(new, found.query))
    hidden = [*stored.hidden, old] if old not in stored.hidden else stored.hidden
    return _write(_Stored(feeds, hidden), path)


def delete_feed(name: str, path: Path | None = None) -> str | None:
    """Remove a feed (a ``keys.toml`` query is hidden, its file left as the user wrote it)."""
    path = feeds_path() if path is None else path
    stored = _read(path)
    feeds = [feed for feed in stored.feeds if feed.name != name]
    hidden = [*stored.hidden, name] if name not in stored.hidden else stored.hidden
    return _write(_Stored(feeds, hidden), path)

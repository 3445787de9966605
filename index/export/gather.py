"""What every export needs from a result set: catalog rows in order, safe text, and each post's indicators.

Actors, victims, techniques, malware and CVEs come from the catalog (the extractor wrote them at index
time), so most formats never open a post. Indicators are not in the catalog: :func:`with_indicators`
re-reads each post and runs the extractor, one post at a time (two worker processes for large sets), so
an export of 10k posts never holds more than a chunk of bodies.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

from index.catalog import PostRow
from index.extract import extract
from index.knowledge import get_knowledge
from index.posts import Post, PostFile, load_post
from index.sanitize import one_line

#: Posts at which re-extraction pays for two worker processes.
PARALLEL_AFTER = 200
#: Longest cell or name an export writes (titles are capped by the reader already).
MAX_TEXT = 500
#: Namespace of every deterministic id Spyglass writes (UUIDv5 of a stable key).
NAMESPACE = uuid.UUID("3f1d2a8e-5c1b-5b7e-9f0a-6c2d4e8b1a37")

Progress = Callable[[int, int], None]
T = TypeVar("T")


def text(value: str, limit: int = MAX_TEXT) -> str:
    """Post text made safe for any export: one line, controls, bidi and zero-width characters replaced."""
    return one_line(value, limit)


def stable_id(*parts: str) -> uuid.UUID:
    """A UUIDv5 from stable parts, so the same entity or post gets the same id in every export."""
    return uuid.uuid5(NAMESPACE, "\x1f".join(parts))


@dataclass(frozen=True, slots=True)
class Indicators:
    """The refanged indicators of one post, as (type, value) pairs in order of first mention."""

    row: PostRow
    values: tuple[tuple[str, str], ...]
    problem: str = ""  # why the post could not be re-read; its indicators are then missing


def indicators_of(root: Path, row: PostRow) -> Indicators:
    """One post's indicators, fresh from disk; runs in worker processes and never raises."""
    path = root / row.post_id
    try:
        info = path.stat()
    except OSError:
        return Indicators(row, (), "file no longer exists")
    loaded = load_post(root, PostFile(row.post_id, info.st_size, info.st_mtime_ns))
    if not isinstance(loaded, Post):
        return Indicators(row, (), loaded.reason)
    try:
        mentions = extract(loaded.body)
    except Exception as error:  # one bad post must not end an export
        return Indicators(row, (), f"entity extraction failed: {type(error).__name__}")
    return Indicators(row, tuple(dict.fromkeys((m.ref, m.canonical) for m in mentions if m.kind == "IOC")))


def map_posts(rows: Sequence[PostRow], work: Callable[[PostRow], T], progress: Progress | None = None) -> Iterator[T]:
    """``work(row)`` for every row, in order, in two worker processes from :data:`PARALLEL_AFTER` rows on
    (``work`` must then be picklable: a module-level function or a ``partial`` of one)."""
    total = len(rows)
    pool = None
    if total < PARALLEL_AFTER:
        results: Iterable[T] = map(work, rows)
    else:
        get_knowledge()  # loaded once here; forked workers share it
        pool = ProcessPoolExecutor(max_workers=2)
        results = pool.map(work, rows, chunksize=32)
    try:
        for done, result in enumerate(results, 1):
            if progress is not None:
                progress(done, total)
            yield result
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def with_indicators(root: Path, rows: Sequence[PostRow], progress: Progress | None = None) -> Iterator[Indicators]:
    """Each row with its indicators, in the order of ``rows``, re-extracted from the post files."""
    return map_posts(rows, partial(indicators_of, root), progress)


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts over a result set, for the brief's tables and the CLI's closing line."""

    posts: int
    first: str  # ISO date of the oldest dated post, or ""
    last: str
    actors: Counter[str]
    victims: Counter[str]
    techniques: Counter[str]
    malware: Counter[str]
    vulns: Counter[str]


def summarise(rows: Sequence[PostRow]) -> Summary:
    """Posts per entity (each post counts once per entity) and the date span."""
    counters: dict[str, Counter[str]] = {
        name: Counter() for name in ("actors", "victims", "techniques", "malware", "vulns")
    }
    for row in rows:
        for name, counter in counters.items():
            counter.update(getattr(row, name))
    dates = sorted(row.date.date().isoformat() for row in rows if row.date is not None)
    return Summary(len(rows), dates[0] if dates else "", dates[-1] if dates else "", **counters)


def content_digest(rows: Iterable[PostRow]) -> str:
    """A short digest of a result set's post ids, for the bundle id of a STIX export."""
    digest = hashlib.sha256()
    for post_id in sorted(row.post_id for row in rows):
        digest.update(post_id.encode("utf-8", "surrogateescape") + b"\0")
    return digest.hexdigest()

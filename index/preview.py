"""Rows for posts the catalog does not hold yet: what the list shows while a first build runs.

A first build commits the catalog only at its end (minutes at 10k posts). Until then the posts can still
be browsed: the scan lists them, the file names order them (Jekyll names start with the date) and the
front matter gives each its title, date and source. No entity is extracted, so a preview row carries no
actors, victims, techniques, malware or vulnerabilities; the catalog's row replaces it at commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from index.catalog import PostRow
from index.posts import Post, PostFile, load_post, scan_corpus


def name_order_key(post_id: str) -> str:
    """Sort key for newest first by file name (reverse order): Jekyll names start with the date."""
    return post_id.rsplit("/", 1)[-1]


def preview_files(root: Path) -> list[PostFile]:
    """The posts below ``root``, newest first by file name (files the scan cannot use are left out)."""
    files = [item for item in scan_corpus(root) if isinstance(item, PostFile)]
    return sorted(files, key=lambda found: name_order_key(found.post_id), reverse=True)


def preview_row(post: Post) -> PostRow:
    """The catalog row of ``post`` as far as its front matter tells, without entities."""
    return PostRow(
        post_id=post.post_id,
        title=post.title,
        date=post.date,
        url=post.url,
        source=post.source,
        tags=post.tags,
        actors=(),
        victims=(),
        techniques=(),
        content_hash=post.content_hash,
    )


def preview_rows(
    root: Path, files: Sequence[PostFile], batch: int, cancelled: Callable[[], bool]
) -> Iterator[list[PostRow]]:
    """Preview rows of ``files`` in their order, ``batch`` at a time; posts that cannot be read are skipped
    (the build records them as problems)."""
    rows: list[PostRow] = []
    for found in files:
        if cancelled():
            return
        post = load_post(root, found)
        if isinstance(post, Post):
            rows.append(preview_row(post))
        if len(rows) >= batch:
            yield rows
            rows = []
    if rows:
        yield rows

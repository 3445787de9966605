"""The IoC list of a result set: one indicator per line, by type then value, deduplicated.

Refanged by default; ``defang`` brackets them for pasting into chat or tickets. The JSON form lists, for each
indicator, the posts it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from index.catalog import PostRow
from index.export.gather import Progress, text, with_indicators
from index.extract.iocs import defang as defang_value
from index.sanitize import json_text


def collect(
    root: Path, rows: Sequence[PostRow], progress: Progress | None = None
) -> dict[tuple[str, str], list[PostRow]]:
    """(type, refanged value) → the posts that name it, sorted by type then value."""
    found: dict[tuple[str, str], list[PostRow]] = {}
    for post in with_indicators(root, rows, progress):
        for key in post.values:
            found.setdefault(key, []).append(post.row)
    return dict(sorted(found.items()))


def write_iocs(
    root: Path,
    rows: Sequence[PostRow],
    out: TextIO,
    *,
    defang: bool = False,
    as_json: bool = False,
    progress: Progress | None = None,
) -> int:
    """Write ``type<TAB>value`` lines (or JSON); returns the number of distinct indicators."""
    found = collect(root, rows, progress)
    if as_json:
        items: list[dict[str, Any]] = [
            {
                "type": kind,
                "value": text(defang_value(value, kind) if defang else value, 4000),
                "posts": [
                    {
                        "id": row.post_id,
                        "title": text(row.title),
                        "date": row.date.date().isoformat() if row.date else None,
                        "url": text(row.url, 2000),
                    }
                    for row in posts
                ],
            }
            for (kind, value), posts in found.items()
        ]
        out.write(json_text(items) + "\n")
    else:
        for kind, value in found:
            out.write(f"{kind}\t{text(defang_value(value, kind) if defang else value, 4000)}\n")
    return len(found)

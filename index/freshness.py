"""A record that the catalog matched the folder: the no-change check without reading the catalog.

Every command-line search first checks that the folder has not changed (``stat`` of every post, then a
comparison with the size and modification time the catalog recorded). At 100k posts reading those facts back
from the catalog costs as much again as the scan. So once a check found the catalog in step with the folder,
a digest of what the scan saw (every post id, size and modification time, in scan order) is kept beside the
index with the catalog generation it matched. The next check scans as before and compares digests: the same
digest at the same generation means the same files with the same stat facts. Any write to the index drops the
record first (a rebuild starts its generations again), so a stale record cannot vouch for a new catalog.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from index.posts import PostFile

RECORD_NAME = "in-step.json"


def digest(files: Sequence[PostFile]) -> str:
    """What the scan saw, as one value: any post added, removed, renamed, resized or touched changes it."""
    text = "\n".join(f"{found.post_id}\0{found.size}\0{found.mtime_ns}" for found in files)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def matches(index_dir: Path, generation: int | None, seen: str) -> bool:
    """The record says the catalog of ``generation`` matched a folder whose scan had digest ``seen``."""
    try:
        record = json.loads((index_dir / RECORD_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        generation is not None
        and isinstance(record, dict)
        and record.get("generation") == generation
        and record.get("digest") == seen
    )


def remember(index_dir: Path, generation: int, seen: str) -> None:
    """Record that the catalog of ``generation`` matches the scan with digest ``seen`` (best effort: a
    read-only index folder only makes the next check read the catalog)."""
    target = index_dir / RECORD_NAME
    temporary = target.with_name(f".{RECORD_NAME}.{os.getpid()}.tmp")
    with suppress(OSError):
        temporary.write_text(json.dumps({"generation": generation, "digest": seen}), encoding="utf-8")
        os.replace(temporary, target)
    with suppress(OSError):
        temporary.unlink(missing_ok=True)


def forget(index_dir: Path) -> None:
    """Drop the record before the index or the catalog is written."""
    with suppress(OSError):
        (index_dir / RECORD_NAME).unlink(missing_ok=True)

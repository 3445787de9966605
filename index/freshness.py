"""A record that the catalog and the index matched the folder: the no-change check without reading either.

Every command-line search first checks that the folder has not changed (``stat`` of every post, then a
comparison with the size and modification time the catalog recorded). At 100k posts reading those facts back
from the catalog costs as much again as the scan, and proving that the index is the one the catalog was
written with means opening it (importing whoosh, reading its table of contents and a segment). So once a
check found the catalog in step with the folder and the index, a record is kept beside the index: a digest of
what the scan saw (every post id, size and modification time, in scan order), the catalog generation it
matched, and the state of the index folder (every file's name, size and modification time) taken *before*
the index was found in step. The next check scans as before: the same digest at the same generation means the
same files with the same stat facts, and the same index folder means the same index, unopened. A post edited
in place changes its own size or time, not its folder's, which is why every post is looked at, never only
the folders.

Any write to the index drops the record first (a rebuild starts its generations again), so a stale record
cannot vouch for a new catalog; a commit, a rebuild or a damage mark changes the index folder, so it cannot
vouch for a changed index either.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

RECORD_NAME = "in-step.json"


@dataclass(frozen=True)
class Record:
    """What the last check that found everything in step saw."""

    generation: int
    digest: str  # of the folder's posts (see :func:`digest`)
    engine: str  # of the index folder (see :func:`engine_state`); "" when not known


def digest(lines: Sequence[str]) -> str:
    """What the scan saw, as one value: any post added, removed, renamed, resized or touched changes it.
    ``lines`` are the scan's (index.posts.Scan.lines: every post's id, size and modification time)."""
    text = "\n".join(lines)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def engine_state(folder: Path) -> str:
    """The index folder as the file system shows it: every file's name, size and modification time. A commit
    writes new files, a rebuild empties the folder and a damage mark adds one; "" when it cannot be listed."""
    try:
        with os.scandir(folder) as listing:
            facts = sorted(f"{entry.name}\0{_size_and_time(entry)}" for entry in listing)
    except OSError:
        return ""
    return hashlib.blake2b("\n".join(facts).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def _size_and_time(entry: os.DirEntry[str]) -> str:
    info = entry.stat(follow_symlinks=False)
    return f"{info.st_size}\0{info.st_mtime_ns}"


def read(index_dir: Path) -> Record | None:
    """The record beside the index, or ``None`` when there is none or it cannot be read."""
    try:
        data = json.loads((index_dir / RECORD_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    generation, seen, engine = data.get("generation"), data.get("digest"), data.get("engine", "")
    if not (isinstance(generation, int) and isinstance(seen, str) and isinstance(engine, str)):
        return None
    return Record(generation, seen, engine)


def remember(index_dir: Path, record: Record) -> None:
    """Keep ``record`` (best effort: a read-only index folder only makes the next check read the catalog)."""
    target = index_dir / RECORD_NAME
    temporary = target.with_name(f".{RECORD_NAME}.{os.getpid()}.tmp")
    with suppress(OSError):
        payload = {"generation": record.generation, "digest": record.digest, "engine": record.engine}
        temporary.write_text(json.dumps(payload), encoding="utf-8")
        os.replace(temporary, target)
    with suppress(OSError):
        temporary.unlink(missing_ok=True)


def forget(index_dir: Path) -> None:
    """Drop the record before the index or the catalog is written."""
    with suppress(OSError):
        (index_dir / RECORD_NAME).unlink(missing_ok=True)

"""Intel outputs of a result set: a STIX 2.1 bundle, an ATT&CK Navigator layer, CSV, a Markdown brief, IoCs.

``write_export(posts_dir, rows, fmt, out, ...)`` is the one entry point for the command line and the app;
``rows`` are catalog rows in result order (``Corpus.rows(result.ids)``). Everything written from a post is
untrusted text made safe for its format (see docs/exports.md).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO, get_args

if TYPE_CHECKING:
    from index.catalog import PostRow
    from index.export.gather import Progress

Format = Literal["stix", "navigator", "csv", "md", "iocs"]
FORMATS: tuple[Format, ...] = get_args(Format)
#: The file name suffix each format is usually saved with.
SUFFIXES: dict[str, str] = {"stix": ".json", "navigator": ".layer.json", "csv": ".csv", "md": ".md", "iocs": ".txt"}
#: What the count in :class:`Written` counts, per format.
UNITS: dict[str, str] = {"stix": "STIX objects", "navigator": "techniques", "csv": "rows", "md": "post paragraphs",
                         "iocs": "indicators"}  # fmt: skip
#: Formats that re-read every post (slow at 10k posts: show progress).
READS_POSTS: frozenset[str] = frozenset({"stix", "iocs"})


@dataclass(frozen=True, slots=True)
class Written:
    """What an export wrote: the format, the posts it covered and how many items (see :data:`UNITS`)."""

    fmt: str
    posts: int
    items: int

    def __str__(self) -> str:
        return f"{self.items} {UNITS[self.fmt]} from {self.posts} posts"


def write_export(
    posts_dir: Path,
    rows: Sequence[PostRow],
    fmt: str,
    out: TextIO,
    *,
    query: str = "",
    defang: bool = False,
    as_json: bool = False,
    progress: Progress | None = None,
) -> Written:
    """Write ``rows`` as ``fmt`` to ``out``; raises ValueError for an unknown format.

    Each writer is imported when it is used: the STIX library alone takes longer to import than a
    command-line search takes to run, and every ``spyglass`` command reads :data:`FORMATS`."""
    if fmt == "stix":
        from index.export.stix import write_stix

        items = write_stix(posts_dir, rows, out, progress)
    elif fmt == "navigator":
        from index.export.navigator import write_navigator

        items = write_navigator(rows, out, f"Spyglass: {query}" if query.strip() else "Spyglass: all posts")
    elif fmt == "csv":
        from index.export.table import write_csv

        items = write_csv(rows, out)
    elif fmt == "md":
        from index.export.brief import write_brief

        items = write_brief(rows, out, query)
    elif fmt == "iocs":
        from index.export.indicators import write_iocs

        items = write_iocs(posts_dir, rows, out, defang=defang, as_json=as_json, progress=progress)
    else:
        raise ValueError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
    return Written(fmt, len(rows), items)


@contextmanager
def open_atomic(path: Path) -> Iterator[TextIO]:
    """A text file that appears at ``path`` only once complete (temporary file beside it, then a rename), so
    an interrupted export never leaves half a file or damages the file it replaces. Callers ask before
    replacing an existing file; the new file gets ordinary permissions."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


__all__ = ["FORMATS", "READS_POSTS", "SUFFIXES", "Format", "Written", "open_atomic", "write_export"]

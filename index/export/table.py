"""The CSV export: one row per post (RFC 4180, CRLF line ends), safe to open in a spreadsheet.

A cell that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) gets a leading apostrophe, and every cell is one line of safe text first.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import TextIO

from index.catalog import PostRow
from index.export.gather import text
from index.knowledge import get_knowledge

HEADER = ("date", "title", "source", "url", "tags", "actors", "victims", "techniques", "malware", "cves")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SEPARATOR = "; "


def cell(value: str) -> str:
    """One safe cell: folded to one line without controls, and never the start of a formula."""
    safe = text(value, 5000)
    return "'" + safe if safe.startswith(_FORMULA_START) else safe


def _list(values: Iterable[str]) -> str:
    return cell(_SEPARATOR.join(text(value, 200) for value in values))


def write_csv(rows: Sequence[PostRow], out: TextIO) -> int:
    """Write the header and one row per post; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(
            (
                row.date.date().isoformat() if row.date else "",
                cell(row.title),
                cell(row.source),
                cell(row.url),
                _list(row.tags),
                _list(row.actors),
                _list(row.victims),
                _list(get_knowledge().technique_label(t) for t in row.techniques),
                _list(row.malware),
                _list(row.vulns),
            )
        )
    return len(rows)

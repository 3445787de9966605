"""The Markdown brief of a result set: the query, the date span, counts, top entities, then one paragraph per post.

Post text is escaped so it renders as the words it is: Markdown punctuation gets a backslash, ``<`` and ``&``
become entities, and the slashes of ``://`` and the dots of host names are written as entities, so no
renderer (CommonMark, GFM autolinks, fuzzy linkifiers) can turn a title into a link. The only
links are each post's own source URL, written as an autolink-free ``[host](<url>)`` when it is http(s).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TextIO
from urllib.parse import quote, urlsplit

from index.catalog import PostRow
from index.export.gather import summarise, text
from index.knowledge import get_knowledge

TOP = 10
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|~>])")
_HOST_DOT = re.compile(r"(?<=[\w-])\.(?=[^\W\d_])")  # "evil.test", "www.x": a dot a linkifier would follow


def escape(value: str, limit: int = 500) -> str:
    """Untrusted text as literal Markdown on one line."""
    safe = text(value, limit).replace("&", "&amp;").replace("<", "&lt;")
    safe = _SPECIAL.sub(r"\\\1", safe)
    return _HOST_DOT.sub("&#46;", safe.replace("://", ":&#47;&#47;"))


def link(url: str, label: str) -> str:
    """``[label](<url>)`` for an http(s) URL (percent-encoded so it cannot break out), else the escaped label."""
    safe = text(url, 2000)
    try:
        parts = urlsplit(safe)
    except ValueError:
        return escape(label)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return escape(label)
    target = quote(safe, safe=":/?#[]@!$&'*+,;=%~-._")
    return f"[{escape(label) or 'source'}](<{target}>)"


def _table(title: str, counts: Counter[str], label: str = "") -> list[str]:
    if not counts:
        return []
    lines = [f"### Top {title}", "", f"| {label or title.lower()} | posts |", "|---|---:|"]
    for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP]:
        lines.append(f"| {escape(name, 200)} | {count} |")
    return [*lines, ""]


def _names(values: Iterable[str]) -> str:
    return ", ".join(escape(value, 200) for value in values)


def _paragraph(row: PostRow) -> list[str]:
    date = row.date.date().isoformat() if row.date else "undated"
    head = f"### {date} — {escape(row.title) or escape(row.post_id)}"
    parts = []
    for label, values in (
        ("Actors", row.actors),
        ("Victims", row.victims),
        ("Techniques", [get_knowledge().technique_label(t) for t in row.techniques]),
        ("Malware", row.malware),
        ("CVEs", row.vulns),
    ):
        if values:
            parts.append(f"{label}: {_names(values)}.")
    summary = " ".join(parts) or "No entities found."
    source = link(row.url, row.source or "source") if row.url else escape(row.source)
    return [head, "", summary + (f" Source: {source}" if source else ""), ""]


def write_brief(rows: Sequence[PostRow], out: TextIO, query: str) -> int:
    """Write the brief; returns the number of posts in it."""
    summary = summarise(rows)
    span = f"{summary.first} to {summary.last}" if summary.first else "no dated posts"
    out.write("# Spyglass brief\n\n")
    out.write(f"- Query: `{text(query, 300).replace('`', chr(39))}`\n" if query.strip() else "- Query: all posts\n")
    out.write(f"- Dates: {span}\n")
    out.write(
        f"- Posts: {summary.posts}; actors: {len(summary.actors)}; victims: {len(summary.victims)}; "
        f"techniques: {len(summary.techniques)}; malware: {len(summary.malware)}; CVEs: {len(summary.vulns)}\n\n"
    )
    techniques = Counter({get_knowledge().technique_label(key): count for key, count in summary.techniques.items()})
    lines = [
        *_table("actors", summary.actors, "actor"),
        *_table("victims", summary.victims, "victim"),
        *_table("techniques", techniques, "technique"),
    ]
    lines += ["## Posts", ""]
    out.write("\n".join(lines) + "\n")
    for row in rows:
        out.write("\n".join(_paragraph(row)) + "\n")
    return len(rows)

"""``spyglass extract FILE|- [--json]``: the entities of one post (or of standard input), for people or scripts.

Post text reaches the terminal only as :class:`rich.text.Text` built from ``display_safe`` output, never
as markup, so a post cannot drive the terminal or inject styles.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.text import Text

from index.extract import Mention, extract
from index.knowledge import get_knowledge
from index.posts import Post, PostFile, decode_post, load_post
from index.sanitize import display_safe, json_text, one_line
from index.vocabulary import KINDS, STYLES
from tui.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE


def _read(source: str) -> tuple[str, str] | tuple[None, str]:
    """(body, label) for a post file or standard input; (None, reason) when the file is a problem post."""
    if source == "-":
        raw = sys.stdin.buffer.read()
        try:
            text, _warnings = decode_post(raw)
        except ValueError as error:
            return None, f"<stdin>: {error}"
        return text, "<stdin>"
    path = Path(source)
    try:
        info = os.stat(path)
    except OSError as error:
        return None, f"{source}: {error.strerror or error}"
    root = path.parent
    loaded = load_post(root, PostFile(path.name, path, info.st_size, info.st_mtime_ns))
    if isinstance(loaded, Post):
        return loaded.body, source
    return None, f"{source}: {loaded.reason}"


def mentions_json(mentions: Iterable[Mention]) -> str:
    """The mentions as a JSON list (offsets are Python character indices into the body)."""
    return json_text(
        [
            {
                "kind": m.kind,
                "start": m.start,
                "end": m.end,
                "text": m.text,
                "canonical": m.canonical,
                "ref": m.ref,
                "role": m.role,
            }
            for m in mentions
        ]
    )


def _summary(kind: str, mentions: list[Mention]) -> list[Text]:
    """One line per distinct canonical entity: name, IDs or aliases, role, and how it was written."""
    knowledge = get_knowledge()
    grouped: dict[tuple[str, str], list[Mention]] = {}
    for mention in mentions:
        grouped.setdefault((mention.canonical, mention.ref), []).append(mention)
    lines: list[Text] = []
    for (canonical, ref), group in grouped.items():
        line = Text("  ")
        line.append(one_line(canonical, 120), style=STYLES[kind])
        if kind == "TECHNIQUE" and ref:
            line.append(f"  {ref}", style=STYLES["TECHNIQUE"])
        elif kind == "ACTOR":
            aliases = knowledge.actor_aliases(canonical)[:6]
            if aliases:
                line.append("  aka " + one_line(", ".join(aliases), 160), style="dim")
        elif kind == "IOC" and ref:
            line.append(f"  {ref}", style="dim")
        roles = sorted({m.role for m in group if m.role})
        if roles:
            line.append("  (" + one_line(", ".join(roles), 60) + ")", style="italic")
        surfaces = sorted({m.text for m in group} - {canonical})
        if surfaces:
            line.append("  as " + one_line(", ".join(repr(s) for s in surfaces[:5]), 160), style="dim")
        line.append(f"  ×{len(group)}", style="dim")
        lines.append(line)
    return lines


def render(mentions: list[Mention], label: str, console: Console) -> None:
    """The readable listing, grouped by kind."""
    console.print(Text(one_line(label, 200), style="bold"))
    if not mentions:
        console.print(Text("  no entities found", style="dim"))
        return
    for info in KINDS:
        of_kind = [m for m in mentions if m.kind == info.kind]
        if of_kind:
            console.print(Text(f"{info.title} ({len(of_kind)})", style="bold underline"))
            for line in _summary(info.kind, of_kind):
                console.print(line)


def run_extract(source: str, as_json: bool, *, out: TextIO | None = None) -> int:
    """Print the entities of ``source`` (a post file, or ``-`` for stdin). Exit 0 ok, 1 problem post, 2 usage."""
    if not source:
        print("usage: spyglass extract FILE|- [--json]", file=sys.stderr)
        return EXIT_USAGE
    body, label = _read(source)
    if body is None:
        print(display_safe(one_line(label, 500)), file=sys.stderr)
        return EXIT_PROBLEMS
    mentions = extract(body)
    stream = out or sys.stdout
    if as_json:
        stream.write(mentions_json(mentions) + "\n")
        return EXIT_OK
    console = Console(file=stream, highlight=False, emoji=False, markup=False)
    render(mentions, display_safe(label), console)
    return EXIT_OK

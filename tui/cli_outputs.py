"""``spyglass export`` and ``spyglass dossier``: intel outputs of a query, and one entity's dossier.

Same conventions as the other sub-commands (exit 0 ok, 1 nothing found, 2 usage error or malformed query;
one line on stderr for errors). An export goes to standard output or, with ``-o``, to a file written through a
temporary file and a rename, and an existing file is only replaced with ``--force``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from tui import cli as base

COMMANDS = ("export", "dossier")


def add_commands(commands: Any) -> list[argparse.ArgumentParser]:
    """Add the sub-parsers to ``spyglass``'s sub-command set; returns them for the shared options."""
    from index.export import FORMATS

    export = commands.add_parser(
        "export",
        help="write a query's posts as STIX, a Navigator layer, CSV, a Markdown brief or IoCs",
        description='Export the posts a query finds (same language as search; "" for all posts).',
        epilog="Exit codes: 0 written, 1 no posts matched (an empty export is still written), 2 usage error.",
    )
    export.add_argument("posts_dir", type=Path, metavar="DIR", help="the posts folder")
    export.add_argument("query", metavar="QUERY", help="the query (quote it for the shell)")
    export.add_argument("--format", "-f", choices=FORMATS, required=True, dest="fmt", help="what to write")
    export.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of standard output")
    export.add_argument("--force", action="store_true", help="replace FILE if it exists")
    export.add_argument("--defang", action="store_true", help="iocs: defang the indicators (hxxp, [.])")
    export.add_argument("--json", action="store_true", help="iocs: JSON with the posts each indicator came from")

    dossier = commands.add_parser(
        "dossier",
        help="what the library and the knowledge base say about one entity",
        description="Aliases, country and description, first/last seen, posts per month, co-occurring entities "
        "and posts of an actor, victim, technique or malware family (a bare name is tried in that order).",
        epilog="Exit codes: 0 found, 1 unknown entity, 2 usage error.",
    )
    dossier.add_argument("posts_dir", type=Path, metavar="DIR", help="the posts folder")
    dossier.add_argument("name", metavar="NAME", help="an entity name, alias or ATT&CK ID")
    dossier.add_argument("--kind", choices=("actor", "victim", "technique", "malware"), help="only this kind")
    dossier.add_argument("--json", action="store_true", help="print JSON")
    dossier.add_argument("--limit", type=base._limit, default=20, metavar="N", help="list at most N posts (default 20)")
    return [export, dossier]


@contextmanager
def _target(path: Path | None, force: bool) -> Iterator[TextIO]:
    """Standard output, or ``path`` written atomically (replaced only with ``force``)."""
    from index.export import open_atomic

    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    if path.exists() and not force:
        raise base.UsageError(f"{path} exists; use --force to replace it")
    if not path.parent.is_dir():
        raise base.UsageError(f"no such folder: {path.parent}")
    with open_atomic(path) as handle:
        yield handle


def _progress_bar(enabled: bool) -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """A stderr progress callback drawn once the export has taken a moment (or nothing off a terminal)."""
    if not (enabled and sys.stderr.isatty()):
        return None, lambda: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    started = time.monotonic()
    bar = Progress(
        TextColumn("reading posts"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=base._stderr_console(),
        transient=True,
    )
    task: list[Any] = []

    def progress(done: int, total: int) -> None:
        if not task:
            if time.monotonic() - started < base.PROGRESS_AFTER:
                return
            bar.start()
            task.append(bar.add_task("read", total=total))
        bar.update(task[0], completed=done)

    return progress, bar.stop


def cmd_export(args: argparse.Namespace) -> int:
    from index.export import READS_POSTS, write_export

    if args.output is not None and args.output.exists() and not args.force:
        raise base.UsageError(f"{args.output} exists; use --force to replace it")
    corpus, _, state, reason = base._updated(args)
    if state is None and "is:" in args.query:
        base._error(f"triage state unavailable, is: filters match nothing ({reason})")
    try:
        result = corpus.search(args.query, sort="date", state=state, snippets=False)
    finally:
        base._closed(state)
    if result.error is not None:
        base._error(result.error)
        return base.EXIT_USAGE
    rows = corpus.rows(result.ids)
    progress, stop = _progress_bar(args.fmt in READS_POSTS)
    try:
        with _target(args.output, args.force) as out:
            written = write_export(
                corpus.posts_dir,
                rows,
                args.fmt,
                out,
                query=args.query,
                defang=args.defang,
                as_json=args.json,
                progress=progress,
            )
    finally:
        stop()
    where = f" to {args.output}" if args.output is not None else ""
    print(f"wrote {written}{where}", file=sys.stderr)
    return base.EXIT_OK if rows else base.EXIT_PROBLEMS


def cmd_dossier(args: argparse.Namespace) -> int:
    from index.dossier import build, describe, resolve
    from index.sanitize import json_text

    corpus, _, state, _ = base._updated(args)
    base._closed(state)
    rows = corpus.all_rows()
    found = resolve(args.name, rows, args.kind.upper() if args.kind else None)
    if found is None:
        base._error(f"no actor, victim, technique or malware known as {args.name!r}")
        return base.EXIT_PROBLEMS
    dossier = build(found[0], found[1], rows)
    by_id = {row.post_id: row for row in corpus.rows(list(dossier.posts))}
    if args.json:
        print(json_text(dossier.to_json(describe(dossier), by_id)))
    else:
        from tui.dossier_view import print_dossier

        print_dossier(dossier, describe(dossier), [by_id[p] for p in dossier.posts[: args.limit] if p in by_id])
    return base.EXIT_OK


HANDLERS: dict[str | None, Callable[[argparse.Namespace], int]] = {"export": cmd_export, "dossier": cmd_dossier}

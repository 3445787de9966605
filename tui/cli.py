"""The ``spyglass`` command: open the app, or index/search/check/extract for scripts.

Thin by design: every sub-command is a few calls on :class:`index.corpus.Corpus`. Errors are
one line on stderr with an exit code (0 ok, 1 problems found or nothing found, 2 usage error),
never a traceback. Post text is untrusted: it reaches the terminal only as rich ``Text``
built from :func:`index.sanitize.one_line`, never as markup.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from index.paths import POSTS_DIR_ENV
from index.sanitize import json_text
from tui import cli_outputs, query_help

PROG = "spyglass"
COMMANDS = ("index", "search", "check", "extract", *cli_outputs.COMMANDS)
#: The exit codes of every ``spyglass`` command, defined here only (``spyglass extract`` included).
EXIT_OK = 0  # done; for search: hits found
EXIT_PROBLEMS = 1  # problems found, nothing found, or the command could not do its work
EXIT_USAGE = 2  # a bad argument or a malformed query
EXIT_INTERRUPTED = 130  # Ctrl+C, as shells report SIGINT
PROGRESS_AFTER = 0.5  # seconds before a progress bar is worth drawing


class UsageError(Exception):
    """A bad argument the user can fix; exit code 2."""


def default_posts_dir() -> Path:
    """``$SPYGLASS_POSTS``, else the bundled ``sample_posts/`` beside the packages."""
    value = os.environ.get(POSTS_DIR_ENV, "").strip()
    return Path(value).expanduser() if value else Path(__file__).resolve().parents[1] / "sample_posts"


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _folder(path: Path) -> Path:
    if not path.exists():
        raise UsageError(f"no such folder: {path}")
    if not path.is_dir():
        raise UsageError(f"not a folder: {path}")
    return path


def _index_dir_option(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--index-dir",
        type=Path,
        default=default,
        metavar="DIR",
        help="this posts folder's index (default: a folder of its own under $SPYGLASS_CACHE_DIR, "
        "else under the user cache folder)",
    )


def _engine_option(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--engine",
        default=default,
        metavar="NAME",
        help="the search engine: whoosh (default) or tantivy (faster on big folders; pip install "
        "'spyglass[fast]'); default: the app's setting. Switching rebuilds the index",
    )


def engine_name(args: argparse.Namespace) -> str:
    """``--engine``, else the ``engine`` setting, else the default; a usage error when it cannot be used."""
    from index.engine.contract import DEFAULT_ENGINE, engine_problem
    from tui.settings import load_settings

    name = getattr(args, "engine", None) or load_settings().engine or DEFAULT_ENGINE
    if (problem := engine_problem(name)) is not None:
        raise UsageError(problem)
    return name


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A terminal reader for threat-intelligence posts. "
        "`spyglass [POSTS_DIR]` opens the app (default: $SPYGLASS_POSTS, else the bundled sample_posts/).",
        epilog="Exit codes: 0 ok, 1 problems found or nothing found, 2 usage error. "
        "A posts folder named like a sub-command can be given as ./index.",
    )
    _index_dir_option(parser, None)
    _engine_option(parser, None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    index = commands.add_parser(
        "index",
        help="build or update the search index of a folder",
        description="Index new and changed posts (by size and modification time).",
    )
    index.add_argument("posts_dir", type=Path, metavar="DIR", help="the posts folder")
    index.add_argument("--rebuild", action="store_true", help="throw the index away and build it again")

    search = commands.add_parser(
        "search",
        help="search a folder's posts",
        description="Search posts (the index is brought up to date first, unless --no-update).\n\nQuery language:\n"
        + query_help.plain_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit codes: 0 hits found, 1 no hits, 2 usage error or malformed query.",
    )
    search.add_argument("posts_dir", type=Path, metavar="DIR", help="the posts folder")
    search.add_argument("query", metavar="QUERY", help="the query (quote it for the shell)")
    search.add_argument("--json", action="store_true", help="print JSON instead of a table")
    search.add_argument("--limit", type=_limit, default=20, metavar="N", help="show at most N hits (default 20)")
    search.add_argument("--sort", choices=("date", "relevance"), default="relevance", help="order of hits")
    search.add_argument("--plain", action="store_true", help="treat the query as plain words, no operators")
    search.add_argument(
        "--no-update",
        action="store_true",
        help="answer from the index as last updated, without looking for new or changed posts (much faster on "
        "big folders; a folder never indexed is indexed first; `index` or the app brings it up to date)",
    )

    check = commands.add_parser(
        "check",
        help="list posts that cannot be read, and warnings",
        description="Report unreadable posts (file:line:col: reason) and warnings.",
        epilog="Exit codes: 0 no problems, 1 problems found (or warnings with --strict) "
        "or the folder could not be checked (the reason is on stderr).",
    )
    check.add_argument("posts_dir", type=Path, metavar="DIR", help="the posts folder")
    check.add_argument("--strict", action="store_true", help="warnings count as problems too")

    extract = commands.add_parser(
        "extract",
        help="list the entities in one post or text",
        description="Find actors, victims, techniques, malware, CVEs and IoCs, with offsets.",
    )
    extract.add_argument("source", metavar="FILE", help="a post or text file, or - for standard input")
    extract.add_argument("--json", action="store_true", help="print JSON")
    for sub in (index, search, check, extract, *cli_outputs.add_commands(commands)):
        _index_dir_option(sub, argparse.SUPPRESS)
        if sub is not extract:
            _engine_option(sub, argparse.SUPPRESS)
    return parser


def build_app_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Open the Spyglass app on a posts folder.")
    _index_dir_option(parser, None)
    _engine_option(parser, None)
    parser.add_argument("posts_dir", type=Path, nargs="?", metavar="POSTS_DIR", help="the posts folder")
    return parser


def _wants_command(argv: Sequence[str]) -> bool:
    """Sub-commands and a bare POSTS_DIR share the first position: look at the first word."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--index-dir", "--engine"):
            skip = True
        elif arg in ("-h", "--help"):
            return True
        elif not arg.startswith("-") or arg == "-":
            return arg in COMMANDS
    return False


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser() if _wants_command(args_list) else build_app_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as stop:  # argparse prints its own message
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    handlers: dict[str | None, Callable[[argparse.Namespace], int]] = {
        **cli_outputs.HANDLERS,
        None: _run_app,
        "index": _cmd_index,
        "search": _cmd_search,
        "check": _cmd_check,
        "extract": _cmd_extract,
    }
    try:
        return handlers[getattr(args, "command", None)](args)
    except UsageError as error:
        _error(str(error))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `spyglass search … | head`: the reader left; not an error worth a word
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not complain
        return EXIT_OK
    except Exception as error:  # the last resort: one clear line, never a traceback
        _error(f"{type(error).__name__}: {error}")
        return EXIT_PROBLEMS


def _run_app(args: argparse.Namespace) -> int:
    posts_dir = _folder(args.posts_dir or default_posts_dir())
    engine = engine_name(args)
    try:
        from tui.app import run_app
    except ImportError as error:
        _error(f"the app cannot start ({error}); the sub-commands still work: {PROG} --help")
        return EXIT_PROBLEMS
    return run_app(posts_dir, args.index_dir, engine)


def _open(args: argparse.Namespace) -> Any:
    from index.corpus import Corpus

    return Corpus.open(_folder(args.posts_dir), args.index_dir, engine=engine_name(args))


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _open_state() -> tuple[Any, str | None]:
    """The triage state (for is: filters, hiding archived posts and carrying state over renamed posts),
    or ``None`` with the reason: searching and indexing work without it. A state that cannot be written
    (a read-only data folder) is opened read-only, with the reason: filters read it, renames cannot follow."""
    from index.state import StateCorruptError, StateUnwritableError, TriageState

    try:
        return TriageState(), None
    except StateCorruptError as error:  # always said: a damaged file was moved aside (the app repeats it)
        _error(error.message)
        return None, error.message
    except StateUnwritableError as error:
        try:
            return TriageState(readonly=True), error.message
        except Exception:
            return None, error.message
    except Exception as error:
        return None, str(error)


def _update(corpus: Any, state: Any, *, rebuild: bool = False, show_progress: bool = False) -> Any:
    """Update the index (and reconcile ``state``), drawing a progress bar on a terminal once it takes a moment."""
    report = _run_update(corpus, state, rebuild, show_progress)
    if report.message:
        _error(report.message)
    if report.state_error is not None:
        _error(f"triage state not carried over to renamed posts: {report.state_error}")
    return report


def _run_update(corpus: Any, state: Any, rebuild: bool, show_progress: bool) -> Any:
    if not (show_progress and sys.stderr.isatty()):
        return corpus.update(rebuild=rebuild, state=state)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    started = time.monotonic()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=_stderr_console(),
        transient=True,
    )
    task: list[Any] = []

    def progress(step: Any) -> None:
        if not task:
            if time.monotonic() - started < PROGRESS_AFTER:
                return
            bar.start()
            task.append(bar.add_task(step.stage))
        bar.update(task[0], description=step.stage, completed=step.done, total=step.total or None)

    try:
        return corpus.update(rebuild=rebuild, progress=progress, state=state)
    finally:
        bar.stop()


def _updated(
    args: argparse.Namespace, *, rebuild: bool = False, show_progress: bool = False, update: bool = True
) -> tuple[Any, Any, Any, str | None]:
    """Open the corpus, bring it up to date and carry triage state over to renamed posts; with ``update``
    false, an index that holds posts is used as it is (the report is then ``None``).

    Returns (corpus, report, state, why the state is missing); the caller closes ``state``.
    """
    corpus = _open(args)
    state, reason = _open_state()
    if not update and len(corpus):
        return corpus, None, state, reason
    writable = None if state is None or state.readonly else state
    try:
        report = _update(corpus, writable, rebuild=rebuild, show_progress=show_progress)
    except BaseException:
        if state is not None:
            state.close()
        raise
    if writable is None and report.removed:  # a rename removes the old id; state on it was not carried over
        _error(f"triage state unavailable, not carried over to renamed posts ({reason})")
    return corpus, report, state, reason


def _closed(state: Any) -> None:
    if state is not None:
        state.close()


def _cmd_index(args: argparse.Namespace) -> int:
    corpus, report, state, _ = _updated(args, rebuild=args.rebuild, show_progress=True)
    _closed(state)
    skipped = sum(1 for problem in report.problems if problem.skipped)
    warned = len(report.problems) - skipped
    if report.read_only:  # nothing was written: "nothing changed" would hide that the folder was not looked at
        what = "not updated (read-only)"
    elif report.rebuilt:
        what = "rebuilt"
    else:
        what = "updated" if report.added or report.changed or report.removed else "nothing changed"
    print(
        f"{what}: {len(corpus)} posts indexed (added {report.added}, changed {report.changed}, "
        f"unchanged {report.unchanged}, removed {report.removed}); {skipped} problems, {warned} warnings; "
        f"{report.seconds:.1f} s" + (" (cancelled)" if report.cancelled else "")
    )
    if skipped:
        print(f"run `{PROG} check {args.posts_dir}` to list the problems")
    return EXIT_PROBLEMS if report.read_only else EXIT_OK


def _hit(corpus_row: Any, result: Any) -> dict[str, Any]:
    row = corpus_row
    return {
        "id": row.post_id,
        "title": row.title,
        "date": row.date.isoformat() if row.date else None,
        "url": row.url,
        "source": row.source,
        "tags": list(row.tags),
        "score": result.scores.get(row.post_id),
        "highlights": [result.highlights[row.post_id]] if row.post_id in result.highlights else [],
        "actors": list(row.actors),
        "victims": list(row.victims),
        "techniques": list(row.techniques),
    }


def _cmd_search(args: argparse.Namespace) -> int:
    corpus, _, state, reason = _updated(args, update=not args.no_update)
    if state is None and "is:" in args.query:
        _error(f"triage state unavailable, is: filters match nothing ({reason})")
    try:
        # One page and the count: the table and the JSON show no facets, so no catalog row is loaded (the
        # rows printed come straight from the catalog file), nor, when the scored page fills it, the ranking;
        # a query of filters alone reads their candidates from the catalog file, never whoosh.
        result = corpus.search_page(args.query, sort=args.sort, limit=args.limit, plain=args.plain, state=state)
    finally:
        _closed(state)
    rows = corpus.rows(result.ids)
    if args.json:
        payload = {
            "query": result.query,
            "total": result.total,
            "shown": len(rows),
            "partial": result.partial,
            "error": result.error,
            "elapsed": round(result.elapsed, 4),
            "hits": [_hit(row, result) for row in rows],
        }
        print(json_text(payload))
    elif result.error is None:
        _print_table(rows, result)
    if result.error is not None:
        _error(result.error)
        return EXIT_USAGE
    return EXIT_OK if result.total else EXIT_PROBLEMS


def _print_table(rows: Sequence[Any], result: Any) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from index.sanitize import one_line

    table = Table(show_lines=False, expand=False, highlight=False)
    table.add_column("date", no_wrap=True)
    table.add_column("title")
    table.add_column("source", no_wrap=True)
    table.add_column("tags")
    for row in rows:
        title = Text(one_line(row.title, 200), style="bold")
        if fragment := result.highlights.get(row.post_id):
            title.append("\n")
            title.append(Text(one_line(fragment, 160), style="dim"))
        table.add_row(
            Text(row.date.strftime("%Y-%m-%d") if row.date else ""),
            title,
            Text(one_line(row.source, 60)),
            Text(one_line(", ".join(row.tags), 120)),
        )
    console = Console(highlight=False)
    if rows:
        console.print(table)
    summary = f"{len(rows)} of {result.total} hits" + (" (partial: the search was cut short)" if result.partial else "")
    console.print(Text(summary + f" in {result.elapsed * 1000:.0f} ms", style="dim"))


def _cmd_check(args: argparse.Namespace) -> int:
    corpus, report, state, _ = _updated(args)
    _closed(state)
    if report.read_only:  # the folder was not looked at as it is now: saying "all clear" would be a lie
        _error(f"could not check {args.posts_dir}: {report.message or 'the index could not be updated'}")
        return EXIT_PROBLEMS
    skipped = [problem for problem in report.problems if problem.skipped]
    warnings = [problem for problem in report.problems if not problem.skipped]
    base = Path(args.posts_dir)
    for problem in skipped:
        print(_where(base, problem) + f": {problem.reason}")
    for problem in warnings:
        print(_where(base, problem) + f": warning: {problem.reason}")
    print(f"{len(corpus)} posts, {len(skipped)} problems, {len(warnings)} warnings", file=sys.stderr)
    failed = bool(skipped) or (args.strict and bool(warnings))
    return EXIT_PROBLEMS if failed else EXIT_OK


def _where(base: Path, problem: Any) -> str:
    from index.posts import display_id
    from index.sanitize import one_line

    where = one_line(str(base / display_id(problem.post_id)), 400)
    if problem.line is not None:
        where += f":{problem.line}" + (f":{problem.column}" if problem.column is not None else "")
    return where


def _cmd_extract(args: argparse.Namespace) -> int:
    if args.source != "-" and not Path(args.source).is_file():
        _error(f"no such file: {args.source}")
        return EXIT_PROBLEMS
    try:  # imported by name: the view is optional for every other command
        run_extract = importlib.import_module("tui.extract_view").run_extract
    except (ImportError, AttributeError) as error:
        _error(f"extraction view unavailable ({error})")
        return EXIT_PROBLEMS
    return int(run_extract(args.source, args.json))


if __name__ == "__main__":
    sys.exit(main())

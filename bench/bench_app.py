"""App benchmark: launch to a filled post list, and search latency through the real widgets.

    .venv/bin/python bench/bench_app.py --corpus /tmp/corpora/c10k --index-dir DIR [--launches N]
                                        [--repeat N] [--json OUT]

``--index-dir`` must hold an index already built for ``--corpus`` (bench/bench_engine.py builds one):
the launch figure is "nothing changed". Each launch is a fresh interpreter that imports tui.app,
builds the app for the corpus and runs it headless (``App.run_test``, 120x40) until the post list
holds rows ("list filled", noted in ``PostList.set_ids``) and the app's own first frame holding those
rows is out ("painted": the list drew its rows into a frame, and that frame was turned into the text a
terminal is sent, a step Textual skips headless and the benchmark does itself, so that its cost counts);
"settled" follows: every pending message handled, the process's CPU quiet (or a second gone: Textual's
``Pilot.pause``, which the start's background work keeps busy) and a screen update forced. Its
timestamps are CLOCK_MONOTONIC, so they are measured from just before the parent started the process.
Baselines in the same run: the same fresh-process scan-and-parse as bench_engine.py, and an empty
Textual app to its first screen.

Search latency: in one headless app, each query goes into the search box through SearchBar.set_query
(what enter does: no 150 ms type-ahead debounce); the time runs until MainScreen.result holds the
answer ("answered", polled every 2 ms on the app's loop) and then until every pending message is
handled and a screen update forced ("painted", Pilot.pause(0)). Pilot.press is not used for timing:
it waits for the whole process to go idle, which includes rendering the article pane afterwards.
The engine's own time for the same search (SearchResult.elapsed) is reported beside it, so the
app's overhead is visible.

Figures that load on the machine does not move are counted beside the times: the main thread's CPU
seconds per search (``time.thread_time`` from the query to the complete result painted, handling the
answers and painting them, the work that holds the GIL against the search thread; and on until the app
is idle, which adds the article pane showing the new first post), how many widget paints that took,
how many lines widgets had to draw again (not served from their line caches), and how many Strips were
built (each one allocates its caches). CPU time still moves somewhat with load (shared caches and
cores); the counts do not.
``--profile OUT`` writes a cProfile of the main thread over the searches (pstats format) and prints
its top entries.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import math
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench_engine import code_version, summary  # noqa: E402  (beside this script; shares its statistics)

RESULT_MARK = "BENCH-RESULT "
SIZE = (120, 40)
WAIT_LIMIT = 120.0
POLL = 0.002

QUERIES: tuple[str, ...] = (
    "ransomware",
    "credential",
    "ransomware hospital",
    "backdoor espionage",
    '"watering hole"',
    '"supply chain"',
    "crede*",
    "exfil*",
    "tag:phishing",
    "actor:APT40",
    "technique:T1566",
    "date:[2015-01 to 2016-06]",
    "ransomware date:2019",
    "backdoor sort:relevance",
    "is:unread",
    "",
)


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:,.0f} ms"


def _emit(payload: dict[str, Any]) -> None:
    print(RESULT_MARK + json.dumps(payload), flush=True)


def _maxrss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- children


async def _wait(condition: Callable[[], bool], what: str) -> None:
    """Poll on the app's loop without touching the screen (``Pilot.pause`` forces a screen update each time,
    every 2 ms here: far more drawing than a terminal's refresh, competing with the work being timed)."""
    deadline = time.monotonic() + WAIT_LIMIT
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        await asyncio.sleep(POLL)


def _indexing(app: Any) -> bool:
    """The start-up update is pending or running (it starts only after the first screen is painted)."""
    if getattr(app.screen, "indexing", ""):
        return True
    return any(worker.group == "index" and not worker.is_finished for worker in app.workers)


def _answered(screen: Any, previous: object, expected: str, *, complete: bool = False) -> Callable[[], bool]:
    """True once the screen holds a new result for ``expected`` (and, if asked, the complete one)."""

    def check() -> bool:
        result = screen.result
        if result is previous or result is None or result.query != expected:
            return False
        return not complete or bool(getattr(result, "complete", True))

    return check


def _first_frame_with_rows() -> dict[str, float]:
    """Fills in "list_filled" when the post list first holds rows, and "painted" (monotonic) and "cpu" (process
    time) at the first frame the app displays after the list drew rows, once that frame is turned into terminal
    text (headless, Textual does not). Noted as they happen: a poll would see them late."""
    from textual._compositor import CompositorUpdate
    from textual.app import App

    from tui.widgets.post_list import PostList

    seen: dict[str, float] = {}
    drawn = False
    render_lines = PostList.render_lines
    set_ids = PostList.set_ids
    display = App._display

    def fill(widget: PostList, ids: Any, **options: Any) -> None:
        set_ids(widget, ids, **options)
        if widget.ids:
            seen.setdefault("list_filled", time.monotonic())

    def render(widget: PostList, crop: Any) -> Any:
        nonlocal drawn
        drawn = drawn or bool(widget.ids)
        return render_lines(widget, crop)

    def shown(app: App[Any], screen: Any, renderable: Any) -> None:
        display(app, screen, renderable)
        if drawn and "painted" not in seen and isinstance(renderable, CompositorUpdate):
            renderable.render_segments(app.console)
            seen["painted"] = time.monotonic()
            seen["cpu"] = time.process_time()

    setattr(PostList, "set_ids", fill)  # noqa: B010  (probes in this child process only)
    setattr(PostList, "render_lines", render)  # noqa: B010
    setattr(App, "_display", shown)  # noqa: B010
    return seen


def child_launch(posts: Path, index_dir: Path) -> None:
    """Import, build, run headless until the list is filled; timestamps on CLOCK_MONOTONIC."""
    marks: dict[str, float] = {"interpreter_up": time.monotonic()}
    cpu: dict[str, float] = {}
    from tui.app import SpyglassApp
    from tui.screens.main import MainScreen

    marks["imported"] = time.monotonic()
    frame = _first_frame_with_rows()
    app = SpyglassApp.for_folder(posts, index_dir)
    marks["app_built"] = time.monotonic()
    rows = 0

    async def drive() -> None:
        nonlocal rows
        async with app.run_test(size=SIZE) as pilot:
            marks["running"] = time.monotonic()

            await _wait(lambda: "painted" in frame, "the filled list painted")
            marks["list_filled"] = frame["list_filled"]
            marks["painted"] = frame["painted"]
            cpu["painted"] = frame["cpu"]
            await pilot.pause(0)  # pending messages handled, the CPU quiet (at most 1 s), a screen update forced
            marks["settled"] = time.monotonic()
            screen = app.screen
            assert isinstance(screen, MainScreen)
            rows = len(screen.post_list.ids)
            await _wait(lambda: not _indexing(app), "the start-up update")
            marks["update_done"] = time.monotonic()

    asyncio.run(drive())
    marks["exited"] = time.monotonic()
    _emit({"marks": marks, "cpu_to_painted_s": cpu.get("painted", math.nan), "rows": rows, "maxrss_mib": _maxrss_mib()})


def child_empty_app() -> None:
    """Baseline: an empty Textual app (one Static) to its first screen, headless."""
    marks: dict[str, float] = {"interpreter_up": time.monotonic()}
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    marks["imported"] = time.monotonic()

    class Empty(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("ready", id="ready")

    async def drive() -> None:
        async with Empty().run_test(size=SIZE) as pilot:
            await pilot.pause(0)
            marks["painted"] = time.monotonic()

    asyncio.run(drive())
    marks["exited"] = time.monotonic()
    _emit({"marks": marks, "maxrss_mib": _maxrss_mib()})


class PaintCounter:
    """Counts widget paints, lines drawn and Strips built, by wrapping Textual's own entry points.

    A paint is the compositor asking a widget for lines; a line drawn is one the widget had to render
    again (not served from its line cache: what a refresh costs); Strips are Textual's line objects.
    """

    def __init__(self) -> None:
        self.paints = 0
        self.lines = 0
        self.strips = 0
        self.painting = ""
        self.lines_by_widget: dict[str, int] = {}

    def install(self) -> None:
        from textual._styles_cache import StylesCache  # the line cache every widget paints through
        from textual.strip import Strip
        from textual.widget import Widget

        counter = self
        render_lines = Widget.render_lines
        render_line = StylesCache.render_line
        strip_init = Strip.__init__

        def counted_render_lines(widget: Any, crop: Any) -> Any:
            counter.paints += 1
            counter.painting = type(widget).__name__
            return render_lines(widget, crop)

        def counted_render_line(cache: Any, *args: Any, **kwargs: Any) -> Any:
            counter.lines += 1
            counter.lines_by_widget[counter.painting] = counter.lines_by_widget.get(counter.painting, 0) + 1
            return render_line(cache, *args, **kwargs)

        def counted_strip_init(strip: Any, *args: Any, **kwargs: Any) -> None:
            counter.strips += 1
            strip_init(strip, *args, **kwargs)

        Widget.render_lines = counted_render_lines  # type: ignore[method-assign,assignment]
        StylesCache.render_line = counted_render_line  # type: ignore[method-assign,assignment]
        Strip.__init__ = counted_strip_init  # type: ignore[method-assign,assignment]

    def snapshot(self) -> tuple[int, int, int]:
        return self.paints, self.lines, self.strips


def child_search(posts: Path, index_dir: Path, repeat: int, profile: str = "") -> None:
    """Search latency through the search box, after start-up has settled."""
    from index.query import compose_query
    from tui.app import SpyglassApp
    from tui.screens.main import MainScreen

    app = SpyglassApp.for_folder(posts, index_dir)
    records: list[dict[str, Any]] = []
    counter = PaintCounter()
    counter.install()
    profiler = cProfile.Profile() if profile else None  # sys.setprofile is per thread: the main thread only

    async def drive() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await _wait(lambda: isinstance(app.screen, MainScreen) and bool(app.screen.result), "start")
            await _wait(lambda: not _indexing(app), "the start-up update")
            screen = app.screen
            assert isinstance(screen, MainScreen)
            bar = screen.search_bar
            order = [query for _ in range(repeat) for query in QUERIES]
            previous = screen.result
            await pilot.pause()
            counter.lines_by_widget.clear()
            for number, query in enumerate(order):
                expected = compose_query(query, screen.filters)
                answered = _answered(screen, previous, expected)
                finished = _answered(screen, previous, expected, complete=True)
                if profiler is not None:
                    profiler.enable()
                paints, lines, strips = counter.snapshot()
                cpu = time.thread_time()
                started = time.monotonic()
                # What enter in the box does, minus the key event: set the text and search now.
                bar.set_query(query)
                while not answered():
                    if time.monotonic() - started > WAIT_LIMIT:
                        raise TimeoutError(f"no answer to {query!r}")
                    await asyncio.sleep(POLL)  # not pilot.pause: that also waits for the CPU to go idle
                shown = time.monotonic()
                first = screen.result
                assert first is not None
                first_total, first_complete = first.total, bool(getattr(first, "complete", True))
                await pilot.pause(0)  # pending messages handled, then a screen update is forced
                painted = time.monotonic()
                while not finished():
                    if time.monotonic() - started > WAIT_LIMIT:
                        raise TimeoutError(f"no complete answer to {query!r}")
                    await asyncio.sleep(POLL)
                await pilot.pause(0)
                completed = time.monotonic()
                main_cpu = time.thread_time() - cpu
                await pilot.pause()  # the article pane settles (waits for idle): counted as the search's work
                settled_cpu = time.thread_time() - cpu
                if profiler is not None:
                    profiler.disable()
                result = screen.result
                assert result is not None
                previous = result
                records.append(
                    {
                        "query": query,
                        "round": number // len(QUERIES),
                        "answered_s": shown - started,
                        "painted_s": painted - started,
                        "complete_s": completed - started,
                        "first_total": first_total,
                        "first_was_complete": first_complete,
                        "engine_s": result.elapsed,
                        "total": result.total,
                        "rows_listed": len(screen.post_list.ids),
                        "error": result.error,
                        "partial": bool(getattr(result, "partial", False)),
                        "main_cpu_s": main_cpu,
                        "main_cpu_settled_s": settled_cpu,
                        "paints": counter.paints - paints,
                        "lines_drawn": counter.lines - lines,
                        "strips_built": counter.strips - strips,
                    }
                )

    asyncio.run(drive())
    if profiler is not None:
        profiler.dump_stats(profile)
    _emit({"records": records, "maxrss_mib": _maxrss_mib(), "lines_by_widget": counter.lines_by_widget})


# --------------------------------------------------------------------------- parent


def run_child(args: Sequence[str], scratch: Path) -> tuple[float, float, dict[str, Any]]:
    """(monotonic start, wall seconds, payload) of one fresh-interpreter child."""
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SPYGLASS_DATA_DIR": str(scratch / "data"),
        "SPYGLASS_CONFIG_DIR": str(scratch / "config"),
        "SPYGLASS_CACHE_DIR": str(scratch / "unused-index-root"),
    }
    script = args[0] if args[0].endswith(".py") else str(Path(__file__).resolve())
    rest = args[1:] if args[0].endswith(".py") else args
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, script, "--child", *rest], capture_output=True, text=True, env=environment, cwd=ROOT
    )
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"child {rest[0]} failed ({done.returncode}): {done.stderr[-3000:]}")
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if not lines:
        raise RuntimeError(f"child {rest[0]} printed no result: {done.stdout[-2000:]} {done.stderr[-2000:]}")
    return started, wall, json.loads(lines[-1][len(RESULT_MARK) :])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="the posts folder (never written to); required")
    parser.add_argument("--index-dir", type=Path, help="an index already built for --corpus; required")
    parser.add_argument("--launches", type=int, default=7, help="fresh-process launches (0: search latency only)")
    parser.add_argument("--repeat", type=int, default=2, help="rounds over the query list")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the main thread over the searches here")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, *rest = args.child
        if mode == "launch":
            child_launch(Path(rest[0]), Path(rest[1]))
        elif mode == "empty":
            child_empty_app()
        elif mode == "search":
            child_search(Path(rest[0]), Path(rest[1]), int(rest[2]), rest[3] if len(rest) > 3 else "")
        return 0
    if args.corpus is None or args.index_dir is None:
        parser.error("--corpus and --index-dir are required")
    posts, index_dir = args.corpus.resolve(), args.index_dir.resolve()
    if not (index_dir / "catalog.sqlite3").exists():
        parser.error(f"{index_dir} holds no index: run bench/bench_engine.py --index-dir {index_dir} first")
    data: dict[str, Any] = {"corpus": str(posts), "index_dir": str(index_dir), "loadavg_start": os.getloadavg()}
    data["code"] = code_version()
    with tempfile.TemporaryDirectory(prefix="spyglass-bench-app-") as folder:
        run_all(args, posts, index_dir, Path(folder), data)
    data["loadavg_end"] = os.getloadavg()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return 0


def run_all(args: argparse.Namespace, posts: Path, index_dir: Path, scratch: Path, data: dict[str, Any]) -> None:
    print(f"corpus {posts}  index {index_dir}  load {os.getloadavg()[0]:.2f}")
    if args.launches > 0:
        run_launches(args, posts, scratch, index_dir, data)
    run_searches(args, posts, index_dir, scratch, data)


def run_launches(args: argparse.Namespace, posts: Path, scratch: Path, index_dir: Path, data: dict[str, Any]) -> None:
    engine_script = str(ROOT / "bench" / "bench_engine.py")
    scans: list[float] = []
    empties: list[float] = []
    launches: list[dict[str, float]] = []
    memory: list[float] = []
    launch_cpu: list[float] = []
    rows = 0
    # Interleaved, so load from other work on the machine hits baseline and app alike.
    for _ in range(args.launches):
        _start, wall, _payload = run_child([engine_script, "scan", str(posts)], scratch)
        scans.append(wall)
        start, _wall, payload = run_child(["empty"], scratch)
        empties.append(payload["marks"]["painted"] - start)
        start, _wall, payload = run_child(["launch", str(posts), str(index_dir)], scratch)
        launches.append({key: value - start for key, value in payload["marks"].items()})
        memory.append(payload["maxrss_mib"])
        launch_cpu.append(payload["cpu_to_painted_s"])
        rows = payload["rows"]
    scan = summary(scans)
    empty = summary(empties)
    keys = ("imported", "app_built", "running", "list_filled", "painted", "settled", "update_done")
    launch = {key: summary([run[key] for run in launches]) for key in keys}
    data["baseline_scan_parse"] = scan
    data["baseline_empty_textual_app"] = empty
    data["launch"] = launch
    data["launch_rows"] = rows
    data["launch_maxrss_mib"] = max(memory)
    data["launch_cpu_to_painted"] = summary(launch_cpu)
    print(f"\nlaunch to a filled list, fresh process, nothing changed ({args.launches} runs, interleaved)")
    print(f"    {'milestone (from process start)':<34} {'median':>9} {'p95':>9} {'x scan':>7} {'x empty':>8}")
    for key in keys:
        row = launch[key]
        print(
            f"    {key:<34} {ms(row['median']):>9} {ms(row['p95']):>9} "
            f"{row['median'] / scan['median']:>7.2f} {row['median'] / empty['median']:>8.2f}"
        )
    print(f"    {'baseline: scan+parse all posts':<34} {ms(scan['median']):>9} {ms(scan['p95']):>9}")
    print(f"    {'baseline: empty Textual app':<34} {ms(empty['median']):>9} {ms(empty['p95']):>9}")
    print(f"    CPU seconds to painted (all threads; robust to load): median {statistics.median(launch_cpu):.2f} s")
    print(f"    rows listed {rows:,}; app peak RSS {max(memory):,.0f} MiB")


def run_searches(args: argparse.Namespace, posts: Path, index_dir: Path, scratch: Path, data: dict[str, Any]) -> None:
    child = ["search", str(posts), str(index_dir), str(args.repeat)]
    if args.profile:
        child.append(str(args.profile.resolve()))
    _start, _wall, payload = run_child(child, scratch)
    records: list[dict[str, Any]] = payload["records"]
    data["search_records"] = records
    data["search_maxrss_mib"] = payload["maxrss_mib"]
    answered = [record["answered_s"] for record in records]
    painted = [record["painted_s"] for record in records]
    engine = [record["engine_s"] for record in records]
    completed = [record.get("complete_s", record["painted_s"]) for record in records]
    overhead = [record.get("complete_s", record["painted_s"]) - record["engine_s"] for record in records]
    main_cpu = [record["main_cpu_s"] for record in records]
    data["search"] = {
        "answered": summary(answered),
        "painted": summary(painted),
        "complete": summary(completed),
        "engine": summary(engine),
        "app_overhead": summary(overhead),
        "main_thread_cpu": summary(main_cpu),
        "main_thread_cpu_settled": summary([record["main_cpu_settled_s"] for record in records]),
    }
    print(f"\nsearch in the app (enter in the search box → list and hit count refreshed), {len(records)} searches")
    by_query: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_query.setdefault(record["query"], []).append(record)
    print(
        f"    {'query':<30} {'hits':>7} {'1st page':>9} {'complete':>9} {'engine':>9} "
        f"{'main CPU':>9} {'paints':>7} {'lines':>6} {'strips':>7}"
    )
    for query, items in by_query.items():
        flag = " ERROR " + str(items[0]["error"]) if items[0]["error"] else (" PARTIAL" if items[0]["partial"] else "")

        def median(key: str, rows: list[dict[str, Any]] = items) -> float:
            return float(statistics.median(item[key] for item in rows))

        print(
            f"    {(query or '(all)')[:30]:<30} {items[0]['total']:>7,} "
            f"{ms(median('painted_s')):>9} {ms(median('complete_s')):>9} {ms(median('engine_s')):>9} "
            f"{ms(median('main_cpu_s')):>9} {median('paints'):>7.0f} {median('lines_drawn'):>6.0f} "
            f"{median('strips_built'):>7.0f}{flag}"
        )
    print(f"    {'':<36} {'median':>9} {'p95':>9} {'max':>9}")
    for label, key in (
        ("first answer in MainScreen.result", "answered"),
        ("first screen painted", "painted"),
        ("complete (count+facets) painted", "complete"),
        ("engine time of the complete result", "engine"),
        ("app overhead (complete-engine)", "app_overhead"),
        ("main-thread CPU to complete painted", "main_thread_cpu"),
        ("main-thread CPU to idle (article too)", "main_thread_cpu_settled"),
    ):
        row = data["search"][key]
        print(f"    {label:<36} {ms(row['median']):>9} {ms(row['p95']):>9} {ms(row['max']):>9}")
    print(f"    search app peak RSS {payload['maxrss_mib']:,.0f} MiB")
    by_widget = sorted(payload["lines_by_widget"].items(), key=lambda item: -item[1])
    data["lines_drawn_by_widget"] = dict(by_widget)
    print(
        "    lines drawn per search, by widget: "
        + ", ".join(f"{name} {lines / len(records):,.0f}" for name, lines in by_widget[:8])
    )
    print(
        "    main-thread CPU: time.thread_time from the query to the complete result painted, and on until the"
        " app is idle; paints, lines drawn and strips are counted to idle (counts do not move with load)"
    )
    if args.profile:
        print(f"\nmain thread under cProfile over the searches ({args.profile}), top by own time:")
        pstats.Stats(str(args.profile)).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    sys.exit(main())

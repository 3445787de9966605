"""Engine benchmark: build, start-up, one-change update and query latency, each beside a baseline.

    .venv/bin/python bench/bench_engine.py --corpus /tmp/corpora/c10k [--index-dir DIR] [--skip-build]
                                           [--queries N] [--repeat N] [--json OUT] [--engine tantivy]

Everything goes through ``index.corpus`` (never whoosh). Baselines are measured in the same run:
a single-process scan-and-parse of every post (index.posts.scan_corpus + load_post) for the
start-up figures, and ``rg -l -i`` over the same files for the query figures. The posts folder is
never written to: the one-change test works on a hard-link copy under /tmp in which the touched
file is first replaced by a real copy. See docs/benchmarks.md for the figures and how to read them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:  # imported lazily, so the scan-and-parse baseline child does not pay for the engine
    from index.corpus import Corpus, SearchResult
    from index.state import TriageState

RESULT_MARK = "BENCH-RESULT "
FIRST_SCREEN = 50
#: The search engine measured (``--engine``); fresh child processes are given the same one.
ENGINE = ["whoosh"]


def code_version() -> dict[str, str]:
    """The commit measured and any files changed on top of it (the code moves while we measure)."""

    def git(*words: str) -> str:
        done = subprocess.run(["git", *words], capture_output=True, text=True, cwd=ROOT, check=False)
        return done.stdout.strip()

    return {"head": git("rev-parse", "--short", "HEAD"), "dirty": git("status", "--short", "index", "tui")}


# --------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 50 values is the 48th smallest)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float]:
    """Median, p95, min and max of ``values`` (seconds)."""
    if not values:
        return {"n": 0, "median": math.nan, "p95": math.nan, "min": math.nan, "max": math.nan}
    return {
        "n": len(values),
        "median": statistics.median(values),
        "p95": percentile(values, 0.95),
        "min": min(values),
        "max": max(values),
    }


def ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline > 0 else math.nan


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


# --------------------------------------------------------------------------- memory sampling


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                text = handle.read()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def _tree(pid: int) -> list[int]:
    children = _children_map()
    found: list[int] = []
    stack = [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def _rollup(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in KiB; zeros when it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


class TreeMemory:
    """Samples the summed RSS and PSS of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_rss_kib = 0
        self.peak_pss_kib = 0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = _tree(self.pid)
            totals = [_rollup(pid) for pid in pids]
            self.peak_rss_kib = max(self.peak_rss_kib, sum(rss for rss, _ in totals))
            self.peak_pss_kib = max(self.peak_pss_kib, sum(pss for _, pss in totals))
            self.peak_processes = max(self.peak_processes, sum(1 for rss, _ in totals if rss))
            self._stop.wait(self.interval)


# --------------------------------------------------------------------------- child processes


def _maxrss_mib() -> dict[str, float]:
    """Peak RSS and CPU seconds of this process and of its reaped children (CPU time is robust to load)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "maxrss_self_mib": own.ru_maxrss / 1024,
        "maxrss_children_mib": children.ru_maxrss / 1024,
        "cpu_self_s": own.ru_utime + own.ru_stime,
        "cpu_children_s": children.ru_utime + children.ru_stime,
    }


def _rss_now_mib() -> dict[str, float]:
    """Current RSS split into anonymous memory (heap) and file pages (mostly the mmapped index)."""
    found: dict[str, float] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                    found[key] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return found


def _emit(payload: dict[str, Any]) -> None:
    print(RESULT_MARK + json.dumps(payload), flush=True)


def child_scan(posts: Path) -> None:
    """Baseline: a plain single-process scan-and-parse of every post."""
    started = time.perf_counter()
    from index.posts import PostFile, PostProblem, load_post, scan_corpus

    imported = time.perf_counter()
    files = [item for item in scan_corpus(posts) if isinstance(item, PostFile)]
    scanned = time.perf_counter()
    problems = sum(1 for found in files if isinstance(load_post(posts, found), PostProblem))
    parsed = time.perf_counter()
    _emit(
        {
            "import_s": imported - started,
            "scan_s": scanned - imported,
            "parse_s": parsed - scanned,
            "posts": len(files),
            "problems": problems,
            **_maxrss_mib(),
        }
    )


def child_build(posts: Path, index_dir: Path) -> None:
    """Full index build with extraction, progress on stderr."""
    from index.corpus import Corpus, UpdateProgress

    started = time.perf_counter()
    marks: dict[str, float] = {}
    last = [0.0]

    def progress(update: UpdateProgress) -> None:
        now = time.perf_counter()
        marks.setdefault(update.stage, now - started)
        if now - last[0] >= 10 or (update.total and update.done == update.total):
            last[0] = now
            print(f"  [{now - started:7.1f} s] {update.stage} {update.done:,}/{update.total:,}", file=sys.stderr)

    report = Corpus.open(posts, index_dir, engine=ENGINE[0]).update(rebuild=True, progress=progress)
    _emit(
        {
            "seconds": time.perf_counter() - started,
            "report_seconds": report.seconds,
            "added": report.added,
            "problems": len(report.problems),
            "rebuilt": report.rebuilt,
            "read_only": report.read_only,
            "stage_starts_s": marks,
            **_maxrss_mib(),
        }
    )


def child_start(posts: Path, index_dir: Path, update: bool) -> None:
    """What the app does at launch: open, (update), first search of everything."""
    from index.corpus import Corpus

    started = time.perf_counter()
    corpus = Corpus.open(posts, index_dir, engine=ENGINE[0])
    opened = time.perf_counter()
    changed = unchanged = -1
    if update:
        report = corpus.update()
        changed, unchanged = report.added + report.changed + report.removed, report.unchanged
    updated = time.perf_counter()
    result = corpus.search("", limit=FIRST_SCREEN)
    searched = time.perf_counter()
    _emit(
        {
            "open_s": opened - started,
            "update_s": updated - opened,
            "search_s": searched - updated,
            "total": result.total,
            "changed": changed,
            "unchanged": unchanged,
            "rss_at_end_mib": _rss_now_mib(),
            **_maxrss_mib(),
        }
    )


@dataclass
class ChildRun:
    wall_s: float
    payload: dict[str, Any]
    memory: dict[str, float] = field(default_factory=dict)


def run_child(args: Sequence[str], *, sample_memory: bool = False, show_progress: bool = False) -> ChildRun:
    """Run this script in a fresh interpreter; wall time is measured from just before the fork."""
    command = [sys.executable, str(Path(__file__).resolve()), "--engine", ENGINE[0], "--child", *args]
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=None if show_progress else subprocess.PIPE,
        text=True,
        env=environment,
        cwd=ROOT,
    )
    memory: dict[str, float] = {}
    if sample_memory:
        with TreeMemory(process.pid) as sampler:
            out, err = process.communicate()
        memory = {
            "peak_tree_rss_mib": sampler.peak_rss_kib / 1024,
            "peak_tree_pss_mib": sampler.peak_pss_kib / 1024,
            "peak_processes": float(sampler.peak_processes),
        }
    else:
        out, err = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed ({process.returncode}): {(err or '')[-2000:]}")
    lines = [line for line in out.splitlines() if line.startswith(RESULT_MARK)]
    if not lines:
        raise RuntimeError(f"child {args[0]} printed no result: {out[-2000:]}")
    payload = json.loads(lines[-1][len(RESULT_MARK) :])
    return ChildRun(wall, payload, memory)


# --------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class Probe:
    """One benchmark query and, where one exists, its ripgrep equivalent (one rg run per pattern)."""

    kind: str
    query: str
    sort: str = "date"
    rg: tuple[tuple[str, bool], ...] = ()  # (pattern, fixed string); files must match every pattern


def _w(word: str) -> tuple[str, bool]:
    return (word, True)


def _re(pattern: str) -> tuple[str, bool]:
    return (pattern, False)


QUERIES: tuple[Probe, ...] = (
    Probe("all", ""),
    Probe("term", "ransomware", rg=(_w("ransomware"),)),
    Probe("term", "backdoor", rg=(_w("backdoor"),)),
    Probe("term", "credential", rg=(_w("credential"),)),
    Probe("term", "hospital", rg=(_w("hospital"),)),
    Probe("term", "sharepoint", rg=(_w("sharepoint"),)),
    Probe("term", "wiper", rg=(_w("wiper"),)),
    Probe("term", "exfiltrated", rg=(_w("exfiltrated"),)),
    Probe("term", "ministry", rg=(_w("ministry"),)),
    Probe("and", "ransomware hospital", rg=(_w("ransomware"), _w("hospital"))),
    Probe("and", "backdoor espionage", rg=(_w("backdoor"), _w("espionage"))),
    Probe("and", "sharepoint exploited", rg=(_w("sharepoint"), _w("exploited"))),
    Probe("and", "wiper AND ministry", rg=(_w("wiper"), _w("ministry"))),
    Probe("and", "turla cobalt", rg=(_w("turla"), _w("cobalt"))),
    Probe("phrase", '"watering hole"', rg=(_w("watering hole"),)),
    Probe("phrase", '"supply chain"', rg=(_w("supply chain"),)),
    Probe("phrase", '"command-and-control server"', rg=(_w("command-and-control server"),)),
    Probe("phrase", '"no evidence"', rg=(_w("no evidence"),)),
    Probe("phrase", '"foreign affairs"', rg=(_w("foreign affairs"),)),
    Probe("prefix", "crede*", rg=(_re(r"\bcrede"),)),
    Probe("prefix", "exfil*", rg=(_re(r"\bexfil"),)),
    Probe("prefix", "ransom*", rg=(_re(r"\bransom"),)),
    Probe("prefix", "comp*", rg=(_re(r"\bcomp"),)),
    Probe("prefix", "spear*", rg=(_re(r"\bspear"),)),
    Probe("tag", "tag:phishing", rg=(_re(r"^tags:.*\bphishing\b"),)),
    Probe("tag", "tag:APT", rg=(_re(r"^tags:.*\bAPT\b"),)),
    Probe("tag", "tag:ICS", rg=(_re(r"^tags:.*\bICS\b"),)),
    Probe("actor", "actor:APT40", rg=(_re(r"\bAPT40\b"),)),
    Probe("actor", "actor:APT28", rg=(_re(r"\bAPT28\b"),)),
    Probe("actor", 'actor:"Lazarus Group"', rg=(_w("lazarus group"),)),
    Probe("actor", "actor:Turla", rg=(_re(r"\bturla\b"),)),
    Probe("technique", "technique:T1566", rg=(_re(r"T1566"),)),
    Probe("technique", "technique:T1059", rg=(_re(r"T1059"),)),
    Probe("technique", "technique:phishing"),
    Probe("victim", "victim:Croatia", rg=(_re(r"\bcroatia\b"),)),
    Probe("date", "date:2018", rg=(_re(r"^date: ?'?2018"),)),
    Probe("date", "date:2019-07", rg=(_re(r"^date: ?'?2019-07"),)),
    Probe("date", "date:[2015-01 to 2016-06]"),
    Probe("date", "date:[2021 to]"),
    Probe("term+date", "ransomware date:2019", rg=(_w("ransomware"), _re(r"^date: ?'?2019"))),
    Probe("term+date", "backdoor date:[2014 to 2016]"),
    Probe("term+date", '"watering hole" date:[2016-01 to 2016-12]'),
    Probe("relevance", "backdoor", sort="relevance", rg=(_w("backdoor"),)),
    Probe("relevance", "ransomware hospital", sort="relevance", rg=(_w("ransomware"), _w("hospital"))),
    Probe("relevance", '"supply chain"', sort="relevance", rg=(_w("supply chain"),)),
    Probe("relevance", "crede*", sort="relevance", rg=(_re(r"\bcrede"),)),
    Probe("relevance", "sharepoint sort:relevance", rg=(_w("sharepoint"),)),
    Probe("is:", "is:unread"),
    Probe("is:", "is:unread tag:APT"),
    Probe("is:", "is:starred"),
    Probe("combo", "actor:APT40 technique:T1566"),
    Probe("combo", "tag:ICS -ransomware"),
    Probe("combo", "ransomware OR wiper", rg=(_re(r"ransomware|wiper"),)),
)


@dataclass
class QueryFigures:
    probe: Probe
    total: int
    partial: bool
    error: str | None
    first_screen_s: list[float]
    complete_s: list[float]
    rg_s: list[float]
    rg_files: int
    repeated_s: list[float] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.probe.kind,
            "query": self.probe.query,
            "sort": self.probe.sort,
            "total": self.total,
            "partial": self.partial,
            "error": self.error,
            "first_screen_s": self.first_screen_s,
            "complete_s": self.complete_s,
            "repeated_s": self.repeated_s,
            "rg_s": self.rg_s,
            "rg_files": self.rg_files,
        }


def _rg_once(posts: Path, pattern: str, fixed: bool) -> tuple[float, set[str]]:
    command = ["rg", "-l", "-i", "--no-messages", "-g", "*.md", "-g", "*.markdown"]
    command += ["-F", "-e", pattern] if fixed else ["-e", pattern]
    started = time.perf_counter()
    done = subprocess.run([*command, str(posts)], capture_output=True, text=True, check=False)
    return time.perf_counter() - started, set(done.stdout.splitlines())


def time_rg(posts: Path, probe: Probe, repeat: int) -> tuple[list[float], int]:
    """rg -l -i per pattern, run one after another; files must match every pattern."""
    times: list[float] = []
    files: set[str] = set()
    for _ in range(repeat):
        total = 0.0
        matched: set[str] | None = None
        for pattern, fixed in probe.rg:
            seconds, found = _rg_once(posts, pattern, fixed)
            total += seconds
            matched = found if matched is None else matched & found
        times.append(total)
        files = matched or set()
    return times, len(files)


def _first_screen_call(corpus: Corpus) -> Callable[..., SearchResult]:
    """``search(limit=50, complete=False)`` when the corpus offers the first-screen path, else ``limit=50``."""
    import inspect

    if "complete" in inspect.signature(corpus.search).parameters:
        return lambda query, **options: corpus.search(query, limit=FIRST_SCREEN, complete=False, **options)
    return lambda query, **options: corpus.search(query, limit=FIRST_SCREEN, **options)


def time_query(corpus: Corpus, state: TriageState, probe: Probe, repeat: int) -> QueryFigures:
    sort: Any = probe.sort
    first: list[float] = []
    complete: list[float] = []
    result: SearchResult | None = None
    screen = _first_screen_call(corpus)
    repeated: list[float] = []
    forget = getattr(corpus, "forget_answers", lambda: None)  # complete answers are cached: time the work
    for _ in range(repeat):
        forget()
        started = time.perf_counter()
        screen(probe.query, sort=sort, state=state)
        first.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = corpus.search(probe.query, sort=sort, limit=None, state=state)
        complete.append(time.perf_counter() - started)
        started = time.perf_counter()  # the same search again: answered from the cache
        corpus.search(probe.query, sort=sort, limit=None, state=state)
        repeated.append(time.perf_counter() - started)
    assert result is not None
    return QueryFigures(probe, result.total, result.partial, result.error, first, complete, [], 0, repeated)


# --------------------------------------------------------------------------- the one-change test


def hardlink_copy(posts: Path, where: Path) -> Path:
    """A hard-link farm of ``posts`` (cheap, but every file shares its inode with the original)."""
    target = where / "posts"
    subprocess.run(["cp", "-al", str(posts), str(target)], check=True)
    return target


def unshare_and_append(path: Path, note: str) -> None:
    """Make ``path`` its own file (never write through a hard link to the original), then append."""
    data = path.read_bytes()
    temporary = path.with_name(path.name + ".bench-tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
    if path.stat().st_nlink != 1:
        raise RuntimeError(f"{path} is still shared; refusing to write")
    with open(path, "ab") as handle:
        handle.write(f"\n\n{note}\n".encode())


# --------------------------------------------------------------------------- the run


@dataclass
class Report:
    data: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def say(self, text: str = "") -> None:
        self.lines.append(text)
        print(text, flush=True)


def _start_figures(runs: Sequence[ChildRun]) -> dict[str, Any]:
    walls = [run.wall_s for run in runs]
    keys = ("open_s", "update_s", "search_s")
    keyed = [run.wall_s - sum(run.payload[key] for key in keys) for run in runs]
    return {
        "wall": summary(walls),
        "interpreter_and_imports_median": statistics.median(keyed),
        "phases_median": {key: statistics.median(run.payload[key] for run in runs) for key in keys},
        "maxrss_self_mib": max(run.payload["maxrss_self_mib"] for run in runs),
        "rss_at_end_mib": runs[-1].payload.get("rss_at_end_mib", {}),
        "changed": [run.payload["changed"] for run in runs],
        "total": runs[-1].payload["total"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="the posts folder (never written to); required")
    parser.add_argument("--index-dir", type=Path, help="index folder (default: a fresh temporary folder)")
    parser.add_argument("--queries", type=int, default=len(QUERIES), help="how many of the queries to run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per query (the first is cold)")
    parser.add_argument("--starts", type=int, default=7, help="fresh-process starts per start-up figure")
    parser.add_argument("--baseline-runs", type=int, default=3, help="scan-and-parse baseline runs")
    parser.add_argument("--skip-build", action="store_true", help="reuse the index in --index-dir")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--engine", default="whoosh", help="the search engine: whoosh (default) or tantivy")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    ENGINE[0] = args.engine

    if args.child:
        mode, *rest = args.child
        paths = [Path(item) for item in rest]
        children: dict[str, Callable[[], None]] = {
            "scan": lambda: child_scan(paths[0]),
            "build": lambda: child_build(paths[0], paths[1]),
            "start-update": lambda: child_start(paths[0], paths[1], update=True),
            "start-open": lambda: child_start(paths[0], paths[1], update=False),
        }
        children[mode]()
        return 0

    if args.corpus is None:
        parser.error("--corpus is required")
    posts: Path = args.corpus.resolve()
    if args.skip_build and args.index_dir is None:
        parser.error("--skip-build needs --index-dir")
    scratch = Path(tempfile.mkdtemp(prefix="spyglass-bench-", dir="/tmp"))
    index_dir: Path = (args.index_dir or scratch / "index").resolve()
    out = Report()
    data = out.data
    data["corpus"] = str(posts)
    data["index_dir"] = str(index_dir)
    data["machine"] = {"nproc": os.cpu_count(), "loadavg_start": os.getloadavg()}
    data["code"] = code_version()
    data["engine"] = args.engine
    try:
        run_all(args, posts, index_dir, scratch, out)
    finally:
        data["machine"]["loadavg_end"] = os.getloadavg()
        shutil.rmtree(scratch / "change", ignore_errors=True)
        if args.index_dir is None:
            print(f"(index kept in {index_dir} for --skip-build runs)", file=sys.stderr)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    return 0


def run_all(args: argparse.Namespace, posts: Path, index_dir: Path, scratch: Path, out: Report) -> None:
    data = out.data
    say = out.say
    say(f"corpus {posts}  index {index_dir}  engine {args.engine}  load {os.getloadavg()[0]:.2f}")

    # (a) baseline: scan and parse every post, single process, fresh interpreter
    scans = [run_child(["scan", str(posts)]) for _ in range(args.baseline_runs)]
    count = scans[0].payload["posts"]
    scan_wall = summary([run.wall_s for run in scans])
    parse_rate = count / statistics.median(run.payload["scan_s"] + run.payload["parse_s"] for run in scans)
    data["baseline_scan_parse"] = {
        "wall": scan_wall,
        "posts": count,
        "posts_per_s": parse_rate,
        "runs": [run.payload for run in scans],
    }
    say(f"\n(a) baseline scan+parse, fresh process, {count:,} posts, {args.baseline_runs} runs")
    say(f"    median {ms(scan_wall['median'])}  p95 {ms(scan_wall['p95'])}  ({parse_rate:,.0f} posts/s in-loop)")

    # (b) full build with extraction
    if not args.skip_build:
        say("\n(b) full build with extraction (Corpus.update(rebuild=True)) ...")
        build = run_child(["build", str(posts), str(index_dir)], sample_memory=True, show_progress=True)
        seconds = build.payload["seconds"]
        data["build"] = {"wall_s": build.wall_s, **build.payload, **build.memory, "posts_per_s": count / seconds}
        cpu = build.payload["cpu_self_s"] + build.payload["cpu_children_s"]
        data["build"]["cpu_s"] = cpu
        say(
            f"    {seconds:,.1f} s in-process ({build.wall_s:,.1f} s wall), {count / seconds:,.0f} posts/s; "
            f"x{ratio(seconds, scan_wall['median']):.1f} the scan+parse baseline"
        )
        say(
            f"    CPU {cpu:,.0f} s = {cpu / count * 1000:.1f} ms/post; {cpu / seconds:.2f} cores used on average "
            f"(2 idle cores would give >= {cpu / 2:,.0f} s)"
        )
        say(
            f"    peak RSS: builder {build.payload['maxrss_self_mib']:,.0f} MiB, largest child "
            f"{build.payload['maxrss_children_mib']:,.0f} MiB; whole tree RSS "
            f"{build.memory['peak_tree_rss_mib']:,.0f} MiB / PSS {build.memory['peak_tree_pss_mib']:,.0f} MiB "
            f"({build.memory['peak_processes']:.0f} processes)"
        )
    index_bytes = sum(path.stat().st_size for path in index_dir.rglob("*") if path.is_file())
    data["index_bytes"] = index_bytes
    say(f"    index size {index_bytes / 2**20:,.0f} MiB")

    # (c) fresh-process start with nothing changed
    starts_update = [run_child(["start-update", str(posts), str(index_dir)]) for _ in range(args.starts)]
    starts_open = [run_child(["start-open", str(posts), str(index_dir)]) for _ in range(args.starts)]
    data["start_update"] = _start_figures(starts_update)
    data["start_open"] = _start_figures(starts_open)
    say(f"\n(c) fresh process, nothing changed ({args.starts} runs each; baseline = (a) median)")
    for label, start in (("open+update+search('')", data["start_update"]), ("open+search('')", data["start_open"])):
        wall = start["wall"]
        phases = "  ".join(f"{key[:-2]} {ms(value)}" for key, value in start["phases_median"].items())
        say(
            f"    {label:<24} median {ms(wall['median'])}  p95 {ms(wall['p95'])}  "
            f"ratio {ratio(wall['median'], scan_wall['median']):.2f}  [{phases}]  "
            f"maxrss {start['maxrss_self_mib']:,.0f} MiB"
        )
        rss = start["rss_at_end_mib"]
        if rss:
            split = f"anon {rss['RssAnon']:,.0f} + file {rss['RssFile']:,.0f}"
            say(f"    {'':<24} at exit: RSS {rss['VmRSS']:,.0f} MiB = {split} MiB (peak {rss['VmHWM']:,.0f})")
    if any(changed for changed in data["start_update"]["changed"]):
        say(f"    WARNING: a no-change start re-indexed posts: {data['start_update']['changed']}")

    # (d) one changed post, on a hard-link copy with its own copy of the index
    change = scratch / "change"
    change.mkdir()
    copy_posts = hardlink_copy(posts, change)
    copy_index = change / "index"
    shutil.copytree(index_dir, copy_index)
    victim = sorted(copy_posts.glob("*.md"))[len(list(copy_posts.glob("*.md"))) // 2]
    changed_runs: list[ChildRun] = []
    for number in range(args.starts):
        unshare_and_append(victim, f"Bench edit {number}: ransomware hospital note.")
        changed_runs.append(run_child(["start-update", str(copy_posts), str(copy_index)]))
    data["start_one_change"] = _start_figures(changed_runs)
    wall = data["start_one_change"]["wall"]
    phases = "  ".join(f"{key[:-2]} {ms(value)}" for key, value in data["start_one_change"]["phases_median"].items())
    say(f"\n(d) fresh process, one changed post ({victim.name[:40]}…), open+update+search('')")
    say(
        f"    median {ms(wall['median'])}  p95 {ms(wall['p95'])}  "
        f"ratio {ratio(wall['median'], scan_wall['median']):.2f}  [{phases}]  "
        f"re-indexed per run {data['start_one_change']['changed']}"
    )
    shutil.rmtree(change, ignore_errors=True)

    # (e) query latency in-process, (f) rg over the same files
    from index.corpus import Corpus
    from index.state import TriageState

    probes = QUERIES[: args.queries]
    state_dir = scratch / "state"
    state_dir.mkdir(exist_ok=True)
    state = TriageState(state_dir / "state.sqlite3")
    corpus = Corpus.open(posts, index_dir, engine=ENGINE[0])
    started = time.perf_counter()
    everything = corpus.search("").ids
    first_load = time.perf_counter() - started
    state.set_flag_many(everything[::3], "read", True)  # a third read
    state.set_flag_many(everything[::97], "starred", True)
    data["first_search_in_process_s"] = first_load
    say(f"\n(e) queries in-process, {len(probes)} queries x {args.repeat} runs (first run cold); ")
    say(f"    catalog load + first search(''): {ms(first_load)}")
    figures: list[QueryFigures] = []
    for probe in probes:
        measured = time_query(corpus, state, probe, args.repeat)
        if probe.rg:
            measured.rg_s, measured.rg_files = time_rg(posts, probe, args.repeat)
        figures.append(measured)
    state.close()
    corpus.close()
    report_queries(figures, out)


def report_queries(figures: Sequence[QueryFigures], out: Report) -> None:
    say = out.say
    say(f"\n    {'kind':<10} {'query':<42} {'hits':>7} {'screen':>9} {'complete':>9} {'cold':>9} {'rg':>9} {'x rg':>6}")
    for item in figures:
        flag = " PARTIAL" if item.partial else (f" ERROR {item.error}" if item.error else "")
        rg_one = statistics.median(item.rg_s) if item.rg_s else math.nan
        complete_one = statistics.median(item.complete_s)
        rg_text = f"{ms(rg_one):>9} {ratio(complete_one, rg_one):>6.2f}" if item.rg_s else f"{'n/a':>9} {'':>6}"
        hits = f"{item.total:>7,}" + (f" (rg {item.rg_files:,})" if item.rg_s else "")
        say(
            f"    {item.probe.kind:<10} {(item.probe.query or '(all)')[:42]:<42} {hits} "
            f"{ms(statistics.median(item.first_screen_s)):>9} {ms(complete_one):>9} {ms(item.first_screen_s[0]):>9} "
            f"{rg_text}{flag}"
        )
    screen = [statistics.median(item.first_screen_s) for item in figures]
    complete = [statistics.median(item.complete_s) for item in figures]
    cold = [item.first_screen_s[0] for item in figures]
    with_rg = [item for item in figures if item.rg_s]
    engine_rg = [statistics.median(item.complete_s) for item in with_rg]
    rg = [statistics.median(item.rg_s) for item in with_rg]
    ratios = [ratio(a, b) for a, b in zip(engine_rg, rg, strict=True)]
    kinds: dict[str, list[float]] = {}
    for item in figures:
        kinds.setdefault(item.probe.kind, []).append(statistics.median(item.complete_s))
    data = out.data
    data["queries"] = [item.as_json() for item in figures]
    data["query_summary"] = {
        "first_screen": summary(screen),
        "complete": summary(complete),
        "repeated": summary([statistics.median(item.repeated_s) for item in figures if item.repeated_s]),
        "complete_cold": summary(cold),  # the very first call of each query (a limit=50 one)
        "engine_on_rg_subset": summary(engine_rg),
        "rg": summary(rg),
        "ratio_of_medians": ratio(statistics.median(engine_rg), statistics.median(rg)) if rg else math.nan,
        "ratio_of_p95": ratio(percentile(engine_rg, 0.95), percentile(rg, 0.95)) if rg else math.nan,
        "per_query_ratio": summary(ratios),
        "by_kind_median": {kind: statistics.median(values) for kind, values in kinds.items()},
        "partial": sum(1 for item in figures if item.partial),
        "errors": sum(1 for item in figures if item.error),
    }
    qs = data["query_summary"]
    say("\n    summary (seconds per query = median of its runs; p95 across queries)")
    say(f"    {'':<40} {'median':>9} {'p95':>9} {'max':>9}")
    for label, key in (
        ("first screen (limit=50, complete=False)", "first_screen"),
        ("complete (count+facets)", "complete"),
        ("the same complete search again (cached)", "repeated"),
        ("first call of each query (cold)", "complete_cold"),
        (f"engine on the {len(with_rg)} rg-able queries", "engine_on_rg_subset"),
        ("rg -l -i, same queries", "rg"),
    ):
        row = qs[key]
        say(f"    {label:<40} {ms(row['median']):>9} {ms(row['p95']):>9} {ms(row['max']):>9}")
    say(
        f"    engine/rg: ratio of medians {qs['ratio_of_medians']:.3f}, ratio of p95 {qs['ratio_of_p95']:.3f}, "
        f"per-query ratio median {qs['per_query_ratio']['median']:.3f} p95 {qs['per_query_ratio']['p95']:.3f}"
    )
    by_kind = "  ".join(f"{kind} {ms(value)}" for kind, value in qs["by_kind_median"].items())
    say(f"    by kind (median complete): {by_kind}")
    say(f"    partial results: {qs['partial']}  errors: {qs['errors']}")


if __name__ == "__main__":
    sys.exit(main())

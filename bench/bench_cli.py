"""`spyglass search` end to end against `rg -l -i … | head -N` on the same folder, in the same run.

    .venv/bin/python bench/bench_cli.py --corpus /tmp/c10k [--index-dir DIR] [--runs 10] [--limit 20] [--no-update]
                                        [--spyglass COMMAND]

The folder must be indexed already (``spyglass index DIR``): every run then does what a user's search does on
an unchanged folder, the no-change check included. Each query of the set is run ``--runs`` times as a fresh
process (``spyglass search DIR QUERY --limit N``, output to a pipe), alternating with ``rg`` on a text pattern
that finds about the same posts. Wall and CPU (user + system, from the child's resource usage) are given as
median and 95th percentile per query, with their ratio to rg, and the load average before and after the run,
since the machine may be shared. See docs/benchmarks.md for the figures.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SPYGLASS = Path(sys.executable).with_name("spyglass")
#: (spyglass query, rg pattern finding about the same posts); the last three need no text search.
QUERIES: tuple[tuple[str, str], ...] = (
    ("ransomware", "ransomware"),
    ('"watering hole"', "watering hole"),
    ("phish*", "phish"),
    ("ransomware date:2019", "ransomware"),
    ("tag:ransomware", "^tags:.*ransomware"),
    ("date:2019", "^date: 2019"),
)


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds
    cpu: float  # seconds, user + system of the process and the children it waited for


def timed(command: list[str]) -> Timing:
    """Run ``command`` with its output to a pipe that is read and dropped, as a terminal would take it."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert child.stdout is not None
    while child.stdout.read(65536):
        pass
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return Timing(time.perf_counter() - started, usage.ru_utime + usage.ru_stime)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="an indexed posts folder")
    parser.add_argument("--index-dir", type=Path, help="its index (default: the usual place)")
    parser.add_argument("--runs", type=int, default=10, help="runs per query (default 10)")
    parser.add_argument("--limit", type=int, default=20, help="hits shown, and rg's head (default 20)")
    parser.add_argument("--spyglass", type=Path, default=SPYGLASS, help="the command (default: this install's)")
    parser.add_argument("--no-update", action="store_true", help="time `search --no-update` (no check for changes)")
    args = parser.parse_args()
    rg = shutil.which("rg")
    if rg is None:
        print("rg (ripgrep) is not installed", file=sys.stderr)
        return 1
    extra = ["--index-dir", str(args.index_dir)] if args.index_dir else []
    extra += ["--no-update"] if args.no_update else []
    print(
        f"corpus {args.corpus}, {args.runs} runs per query, --limit {args.limit} {' '.join(extra[2:])}; "
        f"load before: {load()}"
    )
    print(
        f"{'query':24} {'wall median / p95':>20} {'CPU median / p95':>20} {'rg wall':>9} {'rg CPU':>8}"
        f" {'× rg wall':>9} {'× rg CPU':>8}"
    )
    all_wall: list[float] = []
    all_cpu: list[float] = []
    for query, pattern in QUERIES:
        ours: list[Timing] = []
        theirs: list[Timing] = []
        search = [str(args.spyglass), "search", str(args.corpus), query, "--limit", str(args.limit), *extra]
        grep = [
            "sh",
            "-c",
            f"{shlex.quote(rg)} -l -i {shlex.quote(pattern)} {shlex.quote(str(args.corpus))} | head -{args.limit}",
        ]
        timed(search)  # warm the page cache and the bytecode cache once
        for _ in range(args.runs):
            ours.append(timed(search))
            theirs.append(timed(grep))
        wall, cpu = [t.wall for t in ours], [t.cpu for t in ours]
        rg_wall = statistics.median(t.wall for t in theirs)
        rg_cpu = statistics.median(t.cpu for t in theirs)
        all_wall += wall
        all_cpu += cpu
        print(
            f"{query:24} {statistics.median(wall) * 1000:9.0f} / {p95(wall) * 1000:5.0f} ms"
            f" {statistics.median(cpu) * 1000:9.0f} / {p95(cpu) * 1000:5.0f} ms"
            f" {rg_wall * 1000:6.0f} ms {rg_cpu * 1000:5.0f} ms"
            f" {statistics.median(wall) / rg_wall:9.1f} {statistics.median(cpu) / max(rg_cpu, 1e-3):8.1f}"
        )
    print(
        f"{'all queries':24} {statistics.median(all_wall) * 1000:9.0f} / {p95(all_wall) * 1000:5.0f} ms"
        f" {statistics.median(all_cpu) * 1000:9.0f} / {p95(all_cpu) * 1000:5.0f} ms"
    )
    print(f"load after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where a bulk build's parent process spends its CPU: the build under cProfile, in this process.

    .venv/bin/python bench/profile_parent.py --corpus /tmp/c10k [--engine tantivy] [--index-dir DIR] [--top N]

Runs ``Corpus.update(rebuild=True)`` as the app does and prints the CPU seconds of this process (the parent:
for tantivy it adds the documents the workers analysed, and tantivy's indexing thread runs in it) and of the
worker processes, then the N functions with the most CPU time of their own in the parent's main thread (the
profile's clock is that thread's CPU time, so other load on the machine does not inflate it). The parent's
other threads (tantivy's indexing and merging) are its CPU seconds less the main thread's.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from index.corpus import Corpus


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="the posts folder (never written to)")
    parser.add_argument("--engine", default="tantivy", help="the search engine (default: tantivy)")
    parser.add_argument("--index-dir", type=Path, help="index folder (default: a fresh temporary folder)")
    parser.add_argument("--top", type=int, default=25, help="functions to list")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="spyglass-parent-"))
    try:
        corpus = Corpus.open(args.corpus, args.index_dir or scratch, engine=args.engine)
        profile = cProfile.Profile(time.thread_time)
        started = time.perf_counter()
        profile.enable()
        report = corpus.update(rebuild=True)
        profile.disable()
        wall = time.perf_counter() - started
        own = resource.getrusage(resource.RUSAGE_SELF)
        workers = resource.getrusage(resource.RUSAGE_CHILDREN)
        posts = max(1, report.added)
        parent_cpu, workers_cpu = own.ru_utime + own.ru_stime, workers.ru_utime + workers.ru_stime
        main_thread = time.thread_time()
        print(f"{report.added:,} posts, {wall:,.1f} s wall (under cProfile)")
        print(
            f"parent CPU {parent_cpu:,.1f} s = {parent_cpu / posts * 1000:.2f} ms/post (knowledge load included); "
            f"workers {workers_cpu:,.1f} s = {workers_cpu / posts * 1000:.2f} ms/post"
        )
        print(f"parent's main thread {main_thread:,.1f} s, its other threads {parent_cpu - main_thread:,.1f} s")
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""First screens of the queries the catalog's columns answer, in process, on an index already built.

    .venv/bin/python bench/bench_first_screens.py --corpus /tmp/bench/c100k --index-dir DIR [--engine tantivy]

Opens the corpus without an update (the index and the catalog are only read; the triage state is a fresh
one in a temporary folder, with a third of the posts read and one in 97 starred, as bench_engine.py marks
them), runs ``search("")`` once, then each query's first screen (``limit=50, complete=False``) ``--repeat``
times, each after forgetting the cached answers and followed by its complete answer, which it must begin.
Prints median / p95 per query and per kind, with the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from index.corpus import Corpus
from index.state import TriageState

#: (kind, query): every form of filters alone that bench_engine.py times, and a few of their combinations.
QUERIES: tuple[tuple[str, str], ...] = (
    ("all", ""),
    ("tag", "tag:phishing"), ("tag", "tag:APT"), ("tag", "tag:ICS"),
    ("actor", "actor:APT40"), ("actor", "actor:APT28"), ("actor", 'actor:"Lazarus Group"'), ("actor", "actor:Turla"),
    ("technique", "technique:T1566"), ("technique", "technique:T1059"), ("technique", "technique:phishing"),
    ("victim", "victim:Croatia"),
    ("date", "date:2018"), ("date", "date:2019-07"), ("date", "date:[2015-01 to 2016-06]"), ("date", "date:[2021 to]"),
    ("is:", "is:unread"), ("is:", "is:unread tag:APT"), ("is:", "is:starred"),
    ("combo", "actor:APT40 technique:T1566"), ("combo", "is:unread date:2018"), ("combo", "date:2019 tag:APT"),
)  # fmt: skip
FIRST_SCREEN = 50


def p95(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--engine", default="whoosh")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"load {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as scratch:
        state = TriageState(Path(scratch) / "state.sqlite3")
        corpus = Corpus.open(args.corpus, args.index_dir, engine=args.engine)
        everything = corpus.search("").ids
        state.set_flag_many(everything[::3], "read", True)
        state.set_flag_many(everything[::97], "starred", True)
        by_kind: dict[str, list[float]] = {}
        for kind, query in QUERIES:
            times: list[float] = []
            for _ in range(args.repeat):
                corpus.forget_answers()
                started = time.perf_counter()
                first = corpus.search(query, limit=FIRST_SCREEN, complete=False, state=state, snippets=False)
                times.append(time.perf_counter() - started)
                whole = corpus.search(query, state=state, snippets=False)
                if first.error or first.ids != whole.ids[:FIRST_SCREEN]:
                    raise SystemExit(f"{query!r}: the first screen is not the head of the complete answer")
            by_kind.setdefault(kind, []).extend(times)
            print(
                f"{query or '(all)':<32} {len(whole.ids):>7,} hits  first {times[0] * 1000:7.1f} ms  "
                f"median {statistics.median(times) * 1000:7.1f}  p95 {p95(times) * 1000:7.1f} ms"
            )
        state.close()
        corpus.close()
    print(
        "per kind, median / p95 ms: "
        + ", ".join(
            f"{kind} {statistics.median(times) * 1000:.1f} / {p95(times) * 1000:.1f}" for kind, times in by_kind.items()
        )
    )
    print(f"load {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

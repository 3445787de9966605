"""Exports and the dossier on a real corpus: seconds per export format, milliseconds per dossier.

    .venv/bin/python bench/bench_outputs.py --corpus /tmp/exp10k [--index-dir DIR] [--query Q] [--scale N]
                                            [--formats stix,navigator,csv,md,iocs]

The corpus must be indexed already (``spyglass index``). Each format is exported once for ``--query``
(default: every post) to a temporary file. The dossier is timed for the most frequent actor, victim,
technique and malware, as the app's dossier screen builds it (``all_rows`` + ``resolve`` + ``build`` +
``describe``; catalog loaded, knowledge warm), on the corpus as it is and on its rows repeated ``--scale``
times under new ids (10 by default: 10k posts stand in for 100k). See docs/exports.md for the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from index.catalog import PostRow  # noqa: E402
from index.corpus import Corpus  # noqa: E402
from index.dossier import build, describe, resolve  # noqa: E402
from index.export import FORMATS, open_atomic, write_export  # noqa: E402
from index.knowledge import get_knowledge  # noqa: E402
from index.vocabulary import Kind  # noqa: E402


def _top(rows: list[PostRow], attribute: str) -> str:
    counts: Counter[str] = Counter(value for row in rows for value in getattr(row, attribute))
    return counts.most_common(1)[0][0]


def _dossier_ms(rows: list[PostRow], name: str, kind: Kind, repeat: int = 5) -> tuple[float, float, int]:
    """Median wall and CPU milliseconds (CPU is the fairer figure on a busy machine), and the post count."""
    wall: list[float] = []
    cpu: list[float] = []
    posts = 0
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        found = resolve(name, rows, kind)
        assert found is not None, name
        dossier = build(*found, rows)
        describe(dossier)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        posts = len(dossier.posts)
    return statistics.median(wall), statistics.median(cpu), posts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--query", default="")
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated; empty for none")
    args = parser.parse_args()
    corpus = Corpus.open(args.corpus, args.index_dir)
    get_knowledge()
    started = time.perf_counter()
    rows = corpus.all_rows()
    print(f"catalog load: {len(rows)} rows in {time.perf_counter() - started:.2f} s")
    scaled = [dataclasses.replace(row, post_id=f"{copy}/{row.post_id}") for copy in range(args.scale) for row in rows]
    kinds: tuple[tuple[Kind, str], ...] = (
        ("ACTOR", "actors"),
        ("VICTIM", "victims"),
        ("TECHNIQUE", "techniques"),
        ("MALWARE", "malware"),
    )
    for kind, attribute in kinds:
        name = _top(rows, attribute)
        ms, cpu, posts = _dossier_ms(rows, name, kind)
        big_ms, big_cpu, big_posts = _dossier_ms(scaled, name, kind)
        print(
            f"dossier {kind.lower():9} {name[:20]:20} {posts:6} posts {ms:6.0f} ms (cpu {cpu:4.0f}) | "
            f"x{args.scale}: {len(scaled)} rows, {big_posts} posts {big_ms:6.0f} ms (cpu {big_cpu:4.0f})"
        )
    result = corpus.search(args.query, sort="date", snippets=False)
    export_rows = corpus.rows(result.ids)
    with tempfile.TemporaryDirectory() as folder:
        for fmt in filter(None, args.formats.split(",")):
            target = Path(folder) / f"out.{fmt}"
            started = time.perf_counter()
            with open_atomic(target) as out:
                written = write_export(corpus.posts_dir, export_rows, fmt, out, query=args.query)
            seconds = time.perf_counter() - started
            size = target.stat().st_size / 1e6
            print(f"export {fmt:9} {seconds:7.2f} s  {size:7.1f} MB  {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

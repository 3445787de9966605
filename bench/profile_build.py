"""Where a whoosh build's CPU goes, per post: parse, extraction, analysis per field, adding, segment writing.

    .venv/bin/python bench/profile_build.py --corpus /tmp/c2k [--index-dir DIR] [--cprofile N]

One process does what one bulk worker does for a batch (index/bulk.py): prepare every post, add it to a new
segment, then sort and write the segment's postings. Each part is timed on its own, in CPU seconds of this
process (robust to other load on the machine): reading and parsing (``load_post``), extraction (``extract``
of the parsed body, as ``prepare`` does), the field values (``doc_fields``, which analyses the title and body
once for each field and its twin), the analysis of each field value into postings as a segment's ``add`` asks for it
(``field_postings``), all of adding a post (analysis, the posting pool, per-document values), and writing the
segment. With
``--cprofile N`` it prints instead the N functions with the most time of their own over the whole build.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from index.engine import Engine, IndexDoc
from index.engine.schema import build_schema
from index.engine.segments import SegmentBuilder
from index.engine.store import doc_fields
from index.engine.words import field_postings
from index.extract import extract
from index.knowledge import get_knowledge
from index.posts import Post, PostFile, PostProblem, load_post, scan_corpus
from index.preparing import Prepared, prepare


def _quiet(_done: int, _total: int) -> None:
    return None


def _build(root: Path, files: Sequence[PostFile], folder: Path) -> None:
    builder = SegmentBuilder(folder)
    for found in files:
        result = prepare(root, found)
        if isinstance(result, Prepared):
            builder.add(result.doc)
    builder.finish(_quiet)


def parts(root: Path, files: Sequence[PostFile], folder: Path) -> dict[str, float]:
    """CPU seconds per part of a one-process build of ``files`` into ``folder``."""
    clock = time.process_time
    spent: dict[str, float] = defaultdict(float)
    docs: list[IndexDoc] = []
    for found in files:
        started = clock()
        loaded = load_post(root, found)
        spent["parse"] += clock() - started
        if isinstance(loaded, Post):
            started = clock()
            extract(loaded.body)
            spent["extraction"] += clock() - started
        result = prepare(root, found)  # the document, made of the two parts timed above
        if isinstance(result, Prepared):
            docs.append(result.doc)
    schema = build_schema()
    for doc in docs:
        started = clock()
        fields = doc_fields(doc)
        spent["doc_fields (the title and body analysed once for both fields)"] += clock() - started
        for name, value in fields.items():
            started = clock()
            for _posting in field_postings(schema[name], value):
                pass
            spent[f"analysis {name}"] += clock() - started
    builder = SegmentBuilder(folder)
    started = clock()
    for doc in docs:
        builder.add(doc)
    spent["add_document (analysis, pool, per-document values)"] = clock() - started
    started = clock()
    builder.finish(_quiet)
    spent["segment writing (sort and write postings)"] = clock() - started
    return dict(spent)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="the posts folder (only read)")
    parser.add_argument("--index-dir", type=Path, help="index folder, emptied first (default: a temporary one)")
    parser.add_argument("--cprofile", type=int, default=0, help="print the N functions with most own time")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="profile-build-") as scratch:
        folder = args.index_dir or Path(scratch) / "index"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        Engine(folder).recreate().commit()
        get_knowledge()
        files = [item for item in scan_corpus(args.corpus) if not isinstance(item, PostProblem)]
        if args.cprofile:
            profile = cProfile.Profile()
            profile.runcall(_build, args.corpus, files, folder)
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.cprofile)
            return 0
        spent = parts(args.corpus, files, folder)
    analysis = sum(seconds for name, seconds in spent.items() if name.startswith(("analysis ", "doc_fields")))
    adding = spent["add_document (analysis, pool, per-document values)"]
    spent["posting pool and per-document values (add_document - analysis)"] = adding - analysis
    print(f"{len(files):,} posts; CPU ms per post")
    for name, seconds in spent.items():
        print(f"  {name:66s} {1000 * seconds / len(files):7.2f}")
    total = spent["parse"] + spent["extraction"] + adding + spent["segment writing (sort and write postings)"]
    print(f"  {'build (parse + extraction + add_document + segment writing)':66s} {1000 * total / len(files):7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

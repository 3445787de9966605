"""The newest matches of a query, found without visiting every match.

whoosh's slow queries at scale (phrases, prefixes) are slow because they check every
candidate document. The first screen of a date-sorted list needs only the newest few. So
the index is cut into blocks of consecutive document numbers, each labelled with the best
(newest) date rank it holds; blocks are searched newest-label first, and the search stops
once no remaining block can hold anything newer than what was found. The answer is exact
whatever the document order; it is fast because bulk builds add posts newest first, so the
first block or two usually suffice.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from whoosh import query as wq
from whoosh.reading import TermNotFound

from index.engine.contract import RankSet
from index.engine.search import (
    EngineHits,
    Expander,
    Searchers,
    compile_query,
    guarded,
    postings_budget,
)

#: Documents per block: small enough that one block of a phrase query is a few milliseconds.
BLOCK = 1024


@dataclass(frozen=True, slots=True)
class _Block:
    best_rank: int
    worst_rank: int
    leaf: int
    start: int
    end: int


class BlockTables:
    """Block labels per (document id table, date ranking), built once and shared by every thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[int, int] | None = None
        self._blocks: list[_Block] = []
        self._held: tuple[object, object] = (None, None)  # keeps the keyed objects alive, so ids stay unique

    def get(self, searcher: Any, id_table: list[str], rank: Mapping[str, int]) -> list[_Block]:
        with self._lock:
            key = (id(id_table), id(rank))
            if key != self._key:
                self._blocks = _label_blocks(searcher, id_table, rank)
                self._key, self._held = key, (id_table, rank)
            return self._blocks


def _label_blocks(searcher: Any, id_table: list[str], rank: Mapping[str, int]) -> list[_Block]:
    blocks: list[_Block] = []
    for leaf_number, (leaf, offset) in enumerate(searcher.leaf_searchers()):
        size = leaf.doc_count_all()
        for start in range(0, size, BLOCK):
            end = min(size, start + BLOCK)
            known = [rank[post_id] for post_id in id_table[offset + start : offset + end] if post_id in rank]
            if known:
                blocks.append(_Block(min(known), max(known), leaf_number, start, end))
    blocks.sort(key=lambda block: block.best_rank)
    return blocks


@guarded
def newest(
    searchers: Searchers,
    tables: BlockTables,
    text: str,
    *,
    rank: Mapping[str, int],
    limit: int,
    expand: Expander,
    time_limit: float,
    allowed: RankSet | None = None,
) -> EngineHits:
    """The ``limit`` newest matches of ``text`` by ``rank`` (0 = newest), in that order; with ``allowed``,
    only matches whose rank is in it (blocks holding no rank in its span are not read).

    ``partial`` is set when the time limit stopped the search before the answer was proven.
    """
    deadline = time.monotonic() + time_limit
    searcher, id_table = searchers.get()
    node, rewriter = compile_query(
        searchers.engine, searcher, text, expand, deadline=deadline, postings=postings_budget(time_limit)
    )
    partial = rewriter.truncated
    found: list[tuple[int, str]] = []  # a max-heap of (-rank, id): the worst kept hit on top
    seen: set[str] = set()
    if node is not wq.NullQuery and limit > 0 and (allowed is None or len(allowed)):
        low, high = (allowed.min(), allowed.max()) if allowed is not None else (0, len(rank))
        leaves = searcher.leaf_searchers()
        # Matchers are costly to make (a date range expands into many terms), so one per leaf is reused
        # while blocks come in ascending document order, which is the usual case; else a fresh one.
        cursors: dict[int, tuple[Any, int]] = {}
        for block in tables.get(searcher, id_table, rank):
            if len(found) >= limit and block.best_rank > -found[0][0]:
                break
            if block.worst_rank < low or block.best_rank > high:
                continue
            if time.monotonic() > deadline:
                partial = True
                break
            leaf, offset = leaves[block.leaf]
            matcher, done_to = cursors.get(block.leaf, (None, 0))
            if matcher is None or block.start < done_to:
                matcher = _matcher(node, leaf)
            if matcher is not None:
                _collect(matcher, leaf, offset, block, id_table, rank, allowed, limit, found, seen)
                cursors[block.leaf] = (matcher, block.end)
    ordered = sorted(found, key=lambda item: -item[0])
    return EngineHits(
        ids=[post_id for _, post_id in ordered],
        partial=partial,
        terms=rewriter.terms,
        notes=tuple(rewriter.notes),
    )


def _matcher(node: Any, leaf: Any) -> Any:
    try:
        return node.matcher(leaf, leaf.boolean_context())
    except TermNotFound:  # a term absent from this segment; anything else is damage (see ``guarded``)
        return None


def _collect(
    matcher: Any,
    leaf: Any,
    offset: int,
    block: _Block,
    id_table: list[str],
    rank: Mapping[str, int],
    allowed: RankSet | None,
    limit: int,
    found: list[tuple[int, str]],
    seen: set[str],
) -> None:
    """Add the block's matches to ``found``, keeping only the ``limit`` newest; ``matcher`` stands at or
    before the block's first match and is left at or after its end."""
    if matcher.is_active() and matcher.id() < block.start:
        matcher.skip_to(block.start)
    reader = leaf.reader()
    has_deletions = reader.has_deletions()
    while matcher.is_active():
        docnum = matcher.id()
        if docnum >= block.end:
            break
        if not (has_deletions and reader.is_deleted(docnum)):
            post_id = id_table[offset + docnum]
            position = rank.get(post_id)
            if position is not None and post_id not in seen and (allowed is None or position in allowed):
                seen.add(post_id)
                if len(found) < limit:
                    heapq.heappush(found, (-position, post_id))
                elif position < -found[0][0]:
                    heapq.heapreplace(found, (-position, post_id))
        matcher.next()

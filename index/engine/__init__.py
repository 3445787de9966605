"""The full-text engine: the only package that imports whoosh (tests/test_boundaries.py checks)."""

from index.engine.contract import RankSet
from index.engine.first_page import BlockTables, newest
from index.engine.highlight import highlight, highlight_spans
from index.engine.schema import SCHEMA_VERSION
from index.engine.search import EngineHits, Expander, QuerySyntaxError, Searchers, run
from index.engine.segments import NewSegment, SegmentBuilder, remove_leftovers
from index.engine.store import (
    Engine,
    EngineDamaged,
    EngineError,
    EngineLocked,
    EngineUnavailable,
    EngineWriter,
    IndexDoc,
)

__all__ = [
    "SCHEMA_VERSION",
    "BlockTables",
    "Engine",
    "EngineDamaged",
    "EngineError",
    "EngineHits",
    "EngineLocked",
    "EngineUnavailable",
    "EngineWriter",
    "Expander",
    "IndexDoc",
    "NewSegment",
    "QuerySyntaxError",
    "RankSet",
    "Searchers",
    "SegmentBuilder",
    "highlight",
    "highlight_spans",
    "newest",
    "remove_leftovers",
    "run",
]

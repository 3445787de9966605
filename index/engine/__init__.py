"""The full-text engine: the only package that imports whoosh (tests/test_boundaries.py checks).

Names are imported on first use: a search answered from the catalog, or an index found unchanged, must not
pay for importing whoosh (a large share of a one-query process's start-up).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from index.engine.contract import RankSet
from index.engine.errors import EngineDamaged, EngineError, EngineLocked, EngineUnavailable

if TYPE_CHECKING:
    from index.engine.first_page import BlockTables, newest
    from index.engine.highlight import highlight, highlight_spans
    from index.engine.schema import SCHEMA_VERSION
    from index.engine.search import EngineHits, Expander, QuerySyntaxError, Searchers, run
    from index.engine.segments import NewSegment, SegmentBuilder, remove_leftovers
    from index.engine.store import Engine, EngineWriter, IndexDoc

#: Name -> the module that defines it, imported when the name is first asked for.
_LAZY = {
    "BlockTables": "first_page",
    "newest": "first_page",
    "highlight": "highlight",
    "highlight_spans": "highlight",
    "SCHEMA_VERSION": "schema",
    "EngineHits": "search",
    "Expander": "search",
    "QuerySyntaxError": "search",
    "Searchers": "search",
    "run": "search",
    "NewSegment": "segments",
    "SegmentBuilder": "segments",
    "remove_leftovers": "segments",
    "Engine": "store",
    "EngineWriter": "store",
    "IndexDoc": "store",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    loaded = importlib.import_module(f"{__name__}.{module}")
    # Every name of that module, bound here at once: importing a submodule binds its own name in the package
    # (``highlight`` is a module and a function), and the function must win, as with an eager import.
    globals().update({other: getattr(loaded, other) for other, where in _LAZY.items() if where == module})
    return globals()[name]


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

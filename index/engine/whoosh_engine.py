"""The whoosh engine behind the :class:`index.engine.contract.TextEngine` contract: the index folder
(store.py) with its per-thread searchers (search.py) and first-screen blocks (first_page.py)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from index.engine.contract import RankSet
from index.engine.first_page import BlockTables, newest
from index.engine.search import EngineHits, Expander, Searchers, run
from index.engine.store import Engine


class WhooshEngine(Engine):
    """:class:`Engine` plus searching."""

    name = "whoosh"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.searchers = Searchers(self)
        self._blocks = BlockTables()

    def run(
        self, text: str, *, expand: Expander, top: int = 0, every: bool = True, time_limit: float = 1.0
    ) -> EngineHits:
        return run(self.searchers, text, expand=expand, top=top, every=every, time_limit=time_limit)

    def newest(
        self,
        text: str,
        *,
        rank: Mapping[str, int],
        limit: int,
        expand: Expander,
        time_limit: float,
        allowed: RankSet | None = None,
    ) -> EngineHits:
        return newest(self.searchers, self._blocks, text, rank=rank, limit=limit, expand=expand,
                      time_limit=time_limit, allowed=allowed)

    def close(self) -> None:
        self.searchers.close()

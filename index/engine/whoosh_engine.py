"""The whoosh engine behind the :class:`index.engine.contract.TextEngine` contract: the index folder
(store.py) with its per-thread searchers (search.py) and first-screen blocks (first_page.py).

Opening it imports no whoosh: the searchers and the blocks are made on the first search, so a process that
finds the index unchanged and answers from the catalog never loads whoosh.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from index.engine.contract import RankSet, rank_numbers
from index.engine.store import Engine

if TYPE_CHECKING:
    from index.engine.first_page import BlockTables
    from index.engine.search import EngineHits, Expander, Searchers


class WhooshEngine(Engine):
    """:class:`Engine` plus searching."""

    name = "whoosh"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self._made: tuple[Searchers, BlockTables] | None = None
        self._making = threading.Lock()

    def _searching(self) -> tuple[Searchers, BlockTables]:
        """The searchers and the first-screen blocks, made (and whoosh imported) on first use."""
        made = self._made
        if made is None:
            from index.engine.first_page import BlockTables
            from index.engine.search import Searchers

            with self._making:
                if self._made is None:
                    self._made = (Searchers(self), BlockTables())
                made = self._made
        return made

    @property
    def searchers(self) -> Searchers:
        return self._searching()[0]

    def run(
        self,
        text: str,
        *,
        expand: Expander,
        top: int = 0,
        every: bool = True,
        time_limit: float = 1.0,
        rank: Mapping[str, int] | None = None,
    ) -> EngineHits:
        from index.engine.search import run

        self.index()  # opened outside the search's time limit, as it is when an update found it healthy
        hits = run(self.searchers, text, expand=expand, top=top, every=every, time_limit=time_limit)
        return hits if rank is None else replace(hits, numbers=rank_numbers(hits.ids, rank))

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
        from index.engine.first_page import newest

        self.index()
        return newest(
            *self._searching(), text, rank=rank, limit=limit, expand=expand, time_limit=time_limit, allowed=allowed
        )

    def close(self) -> None:
        if self._made is not None:  # nothing to close when no search was made
            self._made[0].close()

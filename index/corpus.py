"""The corpus facade: the one object the command line and the app use.

Opening is instant (nothing is scanned or parsed). :meth:`Corpus.update` brings the index, the
catalog and the triage state in step with the folder (index/indexing.py); :meth:`Corpus.search`
answers from the catalog when it can and from the engine when it must (index/searching.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from index.catalog import CATALOG_NAME, Catalog, CatalogView, PostRow, Ranking
from index.engine.contract import DEFAULT_ENGINE, open_engine
from index.indexing import Indexer, UpdateProgress, UpdateReport
from index.paths import index_dir_for
from index.posts import Post, PostProblem, load_by_id
from index.searching import CorpusSearch, FlagSource, SearchResult, Sort
from index.state import TriageState
from index.unread import UnreadFacets, unread_facets

__all__ = ["ENGINE_FOLDER", "Corpus", "PostRow", "SearchResult", "UpdateProgress", "UpdateReport"]

ENGINE_FOLDER = "whoosh"


class Corpus:
    """A posts folder with its index and catalog. Safe to search from several threads."""

    def __init__(self, posts_dir: Path, index_dir: Path, engine: str = DEFAULT_ENGINE) -> None:
        """``engine`` names the full-text engine (index.engine.contract.ENGINES); ``EngineMissing`` when it
        is not installed. An index folder built by the other engine is rebuilt by the next update."""
        self.posts_dir = Path(posts_dir)
        self.index_dir = Path(index_dir)
        self._engine = open_engine(engine, self.index_dir / ENGINE_FOLDER)
        view = CatalogView(Catalog(self.index_dir / CATALOG_NAME))
        self._view = view
        self._indexer = Indexer(self.posts_dir, self.index_dir, self._engine, view)
        self._search = CorpusSearch(self.posts_dir, self._engine, view)

    @classmethod
    def open(cls, posts_dir: Path, index_dir: Path | None = None, *, engine: str = DEFAULT_ENGINE) -> Corpus:
        """Fast: the catalog and the index are opened on first use."""
        return cls(Path(posts_dir), index_dir_for(Path(posts_dir), index_dir), engine)

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._view.count()

    @property
    def engine(self) -> str:
        """The name of the full-text engine this corpus searches with."""
        return self._engine.name

    @property
    def read_only(self) -> bool:
        """The last update could not write (another process holds the index, or the folder is unwritable)."""
        return self._indexer.read_only

    @property
    def updating(self) -> bool:
        """An update is running in this process (a thread is still writing the index or the catalog)."""
        return self._indexer.busy

    @property
    def problems(self) -> list[PostProblem]:
        return self._indexer.problems()

    def rows(self, ids: Sequence[str]) -> list[PostRow]:
        return self._view.rows(ids)

    def all_rows(self) -> list[PostRow]:
        """Every catalog row, newest first (loads the catalog)."""
        return self._view.all_rows()

    def ranking(self) -> Ranking:
        """The catalog's date order (post numbers, for counting over results; see index/unread.py)."""
        return self._view.ranking()

    def load(self, post_id: str) -> Post | PostProblem:
        """The post fresh from disk; ids that would leave the folder are refused."""
        return load_by_id(self.posts_dir, post_id)

    def close(self) -> None:
        self._engine.close()

    # -- searching -------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        sort: Sort = "date",
        limit: int | None = None,
        plain: bool = False,
        state: FlagSource | None = None,
        complete: bool = True,
        snippets: bool = True,
        labels: bool = False,
        facets: bool = True,
    ) -> SearchResult:
        """Hits in order with facets and highlights. Never raises: problems come back in ``error``.

        ``complete=False`` asks only for the first ``limit`` hits, as fast as possible: for a date-sorted
        text query the result then has ``complete=False``, a ``total`` that counts only those hits and no
        facets; ask again with ``complete=True`` for the count and facets. ``snippets=False`` skips the
        highlighted fragments (they read the top posts' files; the app does not show them). ``labels=True``
        names the facet values that have a name (technique IDs; loads the entity knowledge once).
        ``facets=False`` skips the facet counts, and with them reading the facet columns (the command line).
        Complete answers are cached (see :class:`index.searching.CorpusSearch`); the triage ``state`` tells
        when its flags changed through ``version()``.
        """
        return self._search.search(
            query,
            sort=sort,
            limit=limit,
            plain=plain,
            state=state,
            complete=complete,
            snippets=snippets,
            labels=labels,
            facets=facets,
        )

    def search_page(
        self, query: str, *, sort: Sort, limit: int, plain: bool = False, state: FlagSource | None = None
    ) -> SearchResult:
        """The first ``limit`` hits and the count, as ``search(..., facets=False)`` gives them, with as little
        read as that page needs: for a process that searches once (see :meth:`CorpusSearch.page`)."""
        return self._search.page(query, sort=sort, limit=limit, plain=plain, state=state)

    def unread_facets(self, result: SearchResult, state: FlagSource | None, top: int) -> UnreadFacets:
        """Unread hits per value of the first ``top`` values of each facet of the complete ``result``, as the
        triage ``state`` is now (see index/unread.py); cheap enough to ask again after every triage change."""
        return unread_facets(result, self._view.ranking(), state, top)

    def forget_answers(self) -> None:
        """Drop the cached complete answers (a benchmark measures the work, not the lookup)."""
        self._search.forget_answers()

    # -- updating --------------------------------------------------------------------------

    def update(
        self,
        *,
        rebuild: bool = False,
        progress: Callable[[UpdateProgress], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        state: TriageState | None = None,
    ) -> UpdateReport:
        """Bring index and catalog in step with the folder; only new and changed posts are read.

        With a writable ``state``, renamed or moved posts (same content) keep their triage state; a failure
        there comes back in ``UpdateReport.state_error``, the index update stands.
        """
        return self._indexer.update(rebuild=rebuild, progress=progress, cancelled=cancelled, state=state)

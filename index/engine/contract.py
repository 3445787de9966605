"""What the rest of Spyglass needs from a full-text engine, and how an engine is chosen by name.

Two engines satisfy it: whoosh (pure Python, always installed, the default) and tantivy (a Rust engine
behind the optional ``fast`` extra). Both parse the query language with the same whoosh parser and the
same bounded expansions, and index the same analysed terms, so a query means the same on either; the
engine a folder was built by is recorded in its stamp, and opening it with the other one rebuilds it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pyroaring import BitMap

from index.engine.errors import EngineDamaged, EngineError

if TYPE_CHECKING:  # the contract is read without whoosh; the engines import it when they are opened
    from index.engine.search import EngineHits, Expander
    from index.engine.store import IndexDoc

#: Engine names, the default first.
ENGINES = ("whoosh", "tantivy")
DEFAULT_ENGINE = "whoosh"
INSTALL_FAST = "the tantivy engine is not installed; install it with: pip install 'spyglass[fast]'"


class EngineMissing(EngineError):
    """The engine asked for is not installed (tantivy without the ``fast`` extra)."""


class RankSet(Protocol):
    """Date ranks a hit may have (a filter answered outside the engine, e.g. a ``pyroaring.BitMap``)."""

    def __contains__(self, rank: int, /) -> bool: ...
    def __len__(self) -> int: ...
    def min(self) -> int: ...
    def max(self) -> int: ...


class TextEngineWriter(Protocol):
    """One write session: adds and deletes, then one commit (or cancel) that releases the lock."""

    count: int

    @property
    def base_generation(self) -> int:
        """The generation this writer builds on (read once the lock was taken)."""
        ...

    def add(self, doc: IndexDoc, *, replace: bool = False) -> None: ...

    def delete(self, post_id: str) -> None: ...

    def delete_many(self, post_ids: Sequence[str]) -> None:
        """Delete several posts (those the index had when the writer opened)."""
        ...

    def commit(self, then: Callable[[int], None] | None = None) -> None:
        """Commit; ``then(generation)`` runs with the new generation before the lock is released, so what
        records the commit (the catalog) is written before another process may write or rebuild."""
        ...

    def cancel(self) -> None:
        """Drop what was written; never raises, always unlocks."""
        ...


@runtime_checkable
class ConvertingWriter(TextEngineWriter, Protocol):
    """A writer whose documents a bulk build's workers make: ``convert`` (a module-level function, pickled
    by name) turns a document into what :meth:`add_converted` takes, in a worker; the analysis is then
    spread over the workers, and the writing process receives no post bodies."""

    @staticmethod
    def convert(doc: IndexDoc) -> Any: ...

    def add_converted(self, made: Any, *, replace: bool = False) -> None: ...


class TextEngine(Protocol):
    """One index folder: opening and repair, writing, and the two kinds of search.

    Errors are :class:`EngineError` subclasses: ``EngineUnavailable`` (rebuild it), ``EngineLocked`` (another
    writer), ``EngineDamaged`` (a search found damage; the folder is marked and the next update rebuilds it).
    """

    name: str
    folder: Path
    #: Bumped whenever the index is recreated or dropped, so answers cached for it are dropped too.
    epoch: int

    def healthy(self) -> bool:
        """Open the index afresh; ``False`` when it must be rebuilt (missing, damaged, other engine)."""
        ...

    def generation(self) -> int:
        """Changes with every commit; the catalog records it to prove both were written together."""
        ...

    def doc_count(self) -> int: ...

    def damaged(self, error: Exception) -> EngineDamaged:
        """Mark the index as damaged (reading it failed with ``error``): not healthy until rebuilt."""
        ...

    def forget(self) -> None:
        """Drop what is open, so the next use opens the index again."""
        ...

    def recreate(self) -> TextEngineWriter:
        """Empty the folder, create a fresh index and return its writer, so the write lock is held from the
        emptying to the commit (``EngineLocked`` when another process writes)."""
        ...

    def writer(self, *, timeout: float | None = None) -> TextEngineWriter: ...

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
        """Every match of ``text`` (unless not ``every``) and the ``top`` best-scored ids; with ``rank`` (the
        catalog's post numbers), every match as a set of numbers (``EngineHits.numbers``, see
        :func:`rank_numbers`) in place of ids."""
        ...

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
        """The ``limit`` matches of ``text`` with the smallest ``rank`` (0 = newest), in that order; with
        ``allowed``, only matches whose rank it holds."""
        ...

    def close(self) -> None: ...


def rank_numbers(ids: Iterable[str], rank: Mapping[str, int]) -> BitMap:
    """The post numbers of ``ids`` under ``rank``; ids it does not know are dropped."""
    return BitMap([number for number in map(rank.get, ids) if number is not None])


def engine_problem(name: str) -> str | None:
    """Why the engine ``name`` cannot be used here, or ``None`` when it can."""
    if name not in ENGINES:
        return f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}"
    if name == "tantivy" and importlib.util.find_spec("tantivy") is None:
        return INSTALL_FAST
    return None


def open_engine(name: str, folder: Path) -> TextEngine:
    """The engine ``name`` on ``folder`` (nothing is read yet); :class:`EngineMissing` when not installed."""
    problem = engine_problem(name)
    if problem is not None:
        raise EngineMissing(problem)
    if name == "tantivy":
        from index.engine.tantivy_engine import TantivyEngine

        return TantivyEngine(folder)
    from index.engine.whoosh_engine import WhooshEngine

    return WhooshEngine(folder)

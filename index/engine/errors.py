"""The engine's errors, in a module of their own: the command line and the catalog name them without
importing whoosh, which costs a large share of a one-query process's start-up."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TypeVar

_Opened = TypeVar("_Opened")

DAMAGE_MARKER = "spyglass-needs-repair"
"""A file in the index folder: a search found the index damaged, and the next update rebuilds it."""


class EngineError(Exception):
    """Base of the engine's errors; ``str()`` is one clear line for the user."""


class EngineLocked(EngineError):
    """Another process (usually another Spyglass) holds the index writer."""


class EngineUnavailable(EngineError):
    """The index is missing, damaged or from another schema version; an update rebuilds it."""


class EngineDamaged(EngineError):
    """Reading the index failed part-way (a garbled segment); it is marked, and the next update rebuilds it."""


def mark_damaged(folder: Path, error: BaseException) -> EngineDamaged:
    """Record in ``folder`` that reading its index failed with ``error``; the error to raise to the search."""
    with suppress(OSError):  # an unwritable folder: the search still says what happened
        (folder / DAMAGE_MARKER).write_text(f"{type(error).__name__}: {error}\n", encoding="utf-8")
    return EngineDamaged(f"the search index is damaged ({type(error).__name__}); the next update rebuilds it")


def reopened(folder: Path, open_index: Callable[[], _Opened], forget: Callable[[], None]) -> _Opened | None:
    """The index in ``folder`` opened afresh (another process may have damaged or rebuilt it since), or
    ``None`` after ``forget`` when a search marked it damaged or it cannot be opened."""
    if (folder / DAMAGE_MARKER).exists():
        forget()
        return None
    try:
        return open_index()
    except EngineUnavailable:
        forget()
        return None

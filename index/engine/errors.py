"""The engine's errors, in a module of their own: the command line and the catalog name them without
importing whoosh, which costs a large share of a one-query process's start-up."""

from __future__ import annotations


class EngineError(Exception):
    """Base of the engine's errors; ``str()`` is one clear line for the user."""


class EngineLocked(EngineError):
    """Another process (usually another Spyglass) holds the index writer."""


class EngineUnavailable(EngineError):
    """The index is missing, damaged or from another schema version; an update rebuilds it."""


class EngineDamaged(EngineError):
    """Reading the index failed part-way (a garbled segment); it is marked, and the next update rebuilds it."""

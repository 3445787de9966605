"""Entity knowledge: MISP galaxies (via ``pymispgalaxies``) plus our curated tables in ``data/``.

``get_knowledge()`` returns one process-wide :class:`Knowledge`, loaded from an on-disk cache when
possible (see :mod:`index.knowledge.disk`).
"""

from __future__ import annotations

import threading

from index.knowledge.model import Actor, Entry, Knowledge, key_of, normalise

__all__ = ["Actor", "Entry", "Knowledge", "get_knowledge", "key_of", "knowledge_loaded", "normalise"]

_loaded: list[Knowledge] = []
_loading = threading.Lock()


def get_knowledge() -> Knowledge:
    """The process-wide knowledge, built or loaded once: threads asking together wait for one load. The
    loader is imported here, not above: the galaxies and the cache code are not needed by the commands that
    only search."""
    if not _loaded:
        with _loading:
            if not _loaded:
                from index.knowledge.disk import load_knowledge

                _loaded.append(load_knowledge())
    return _loaded[0]


def knowledge_loaded() -> bool:
    """Whether :func:`get_knowledge` returns at once; a first load can take seconds (building the cache)."""
    return bool(_loaded)

"""Entity knowledge: MISP galaxies (via ``pymispgalaxies``) plus our curated tables in ``data/``.

``get_knowledge()`` returns one process-wide :class:`Knowledge`, loaded from an on-disk cache when
possible (see :mod:`index.knowledge.disk`).
"""

from __future__ import annotations

import functools

from index.knowledge.model import Actor, Entry, Knowledge, key_of, normalise

__all__ = ["Actor", "Entry", "Knowledge", "get_knowledge", "key_of", "normalise"]


@functools.cache
def get_knowledge() -> Knowledge:
    """The process-wide knowledge, built or loaded once. The loader is imported here, not above: the
    galaxies and the cache code are not needed by the commands that only search."""
    from index.knowledge.disk import load_knowledge

    return load_knowledge()

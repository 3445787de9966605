"""Entity extraction: text → mentions (actors, victims, techniques, malware, CVEs, IoCs) with offsets.

The rules live here; the data they read (galaxies, curated tables) is loaded by :mod:`index.knowledge`.
``extractor`` runs one pass over a text; ``prose`` reads context (sentences, cues, roles), ``spans``
resolves overlapping candidates, ``techniques`` and ``victims`` hold the rules for those kinds, and
``iocs`` finds and refangs indicators.
"""

from index.extract.extractor import Mention, extract, index_terms

__all__ = ["Mention", "extract", "index_terms"]

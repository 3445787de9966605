"""Entity knowledge. (Scaffold: being replaced by the loaders over pymispgalaxies.)"""

from __future__ import annotations

from functools import cache


class Knowledge:
    """Lookups used by extraction and by the query language."""

    def canonical_actor(self, name: str) -> str | None:
        return None

    def actor_aliases(self, canonical: str) -> list[str]:
        return []

    def actor_country(self, canonical: str) -> str | None:
        return None

    def technique_ids(self, text: str) -> list[str]:
        return []

    def technique_name(self, technique_id: str) -> str:
        return technique_id

    def canonical_victim(self, name: str) -> str | None:
        return None

    def canonical_malware(self, name: str) -> str | None:
        return None


@cache
def get_knowledge() -> Knowledge:
    """The process-wide knowledge, built once."""
    return Knowledge()

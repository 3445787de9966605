"""Entity extraction: text → mentions with offsets. (Scaffold: being replaced by the full extractor.)"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["ACTOR", "VICTIM", "TECHNIQUE", "MALWARE", "VULN", "IOC"]
INDEX_FIELDS = ("actor", "victim", "technique", "malware", "vuln", "ioc")

_CVE = re.compile(r"\bCVE-\d{4}-\d{4,7}\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Mention:
    """One entity mention; ``start``/``end`` are character offsets into the extracted text."""

    kind: Kind
    start: int
    end: int
    text: str
    canonical: str
    ref: str = ""
    role: str = ""


def extract(text: str) -> list[Mention]:
    """All mentions in ``text``, sorted by start."""
    return [
        Mention("VULN", m.start(), m.end(), m.group(), m.group().upper(), m.group().upper())
        for m in _CVE.finditer(text)
    ]


def index_terms(mentions: list[Mention]) -> dict[str, list[str]]:
    """Lower-case index terms per entity field."""
    terms: dict[str, list[str]] = {name: [] for name in INDEX_FIELDS}
    for mention in mentions:
        if mention.kind == "VULN":
            terms["vuln"].append(mention.canonical.lower())
    return {name: sorted(set(values)) for name, values in terms.items()}

"""The one table of entity vocabulary: kinds, index fields, the ATT&CK-ID pattern, labels and colours.

Every layer that names an entity kind (extractor, engine schema, query parser, sidebar, article,
``spyglass extract``, exports) reads it from here, so a kind is spelled, coloured and indexed the same
way everywhere. Styles are Rich style strings in ANSI colour names, so they follow the terminal theme.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["ACTOR", "VICTIM", "TECHNIQUE", "MALWARE", "VULN", "IOC"]


@dataclass(frozen=True, slots=True)
class KindInfo:
    """How one entity kind is indexed, queried, named and shown."""

    kind: Kind
    field: str  # the index field that holds its canonical names (lower case)
    query_field: str  # what a user types before the colon
    label: str  # singular, lower case ("actor")
    title: str  # plural heading ("Actors")
    style: str  # Rich style in the article, the sidebar and the CLI


KINDS: tuple[KindInfo, ...] = (
    KindInfo("ACTOR", "actor", "actor", "actor", "Actors", "bold red"),
    KindInfo("VICTIM", "victim", "victim", "victim", "Victims", "bold yellow"),
    KindInfo("TECHNIQUE", "technique", "technique", "technique", "Techniques", "cyan"),
    KindInfo("MALWARE", "malware", "malware", "malware", "Malware", "magenta"),
    KindInfo("VULN", "vuln", "cve", "vulnerability", "CVEs", "dark_orange"),
    KindInfo("IOC", "ioc", "ioc", "indicator", "IoCs", "green"),
)
BY_KIND: dict[str, KindInfo] = {info.kind: info for info in KINDS}
#: Kinds in display order.
KIND_ORDER: tuple[Kind, ...] = tuple(info.kind for info in KINDS)
#: Index fields holding entity names, in display order.
ENTITY_FIELDS: tuple[str, ...] = tuple(info.field for info in KINDS)
#: Kind → Rich style.
STYLES: dict[str, str] = {info.kind: info.style for info in KINDS}
#: The kinds the catalog keeps per post for the list, facets and filters.
FACET_KINDS: tuple[Kind, ...] = ("ACTOR", "VICTIM", "TECHNIQUE")

#: What follows the "T" of an ATT&CK technique or sub-technique ID ("1566", "1566.001"), for patterns
#: that anchor it their own way.
TECHNIQUE_NUMBER = r"\d{4}(?:\.\d{3})?"
#: An ATT&CK technique or sub-technique ID anywhere in a string (``T1566``, ``T1566.001``); case as written.
TECHNIQUE_ID = re.compile(rf"\b[Tt]{TECHNIQUE_NUMBER}\b")
#: An ATT&CK tactic ID (``TA0001``): never an actor, never a technique.
TACTIC_ID = re.compile(r"\bTA00\d{2}\b")


def technique_id(text: str) -> str | None:
    """The ATT&CK ID that ``text`` starts with, upper-cased (``t1566.001 Spearphishing`` → ``T1566.001``)."""
    match = TECHNIQUE_ID.match(text.strip())
    return match.group().upper() if match else None


def is_technique_id(text: str) -> bool:
    """Whether ``text`` is exactly one ATT&CK technique ID, in any case."""
    return TECHNIQUE_ID.fullmatch(text.strip()) is not None

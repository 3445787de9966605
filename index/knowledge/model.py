"""The knowledge tables and their lookups. Everything here is plain data, so it pickles."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from index.vocabulary import is_technique_id

#: How a dictionary entry's surface must be written in the text.
CASE_ANY = 0  # any capitalisation ("spear-phishing", "Spear-Phishing")
CASE_CAP = 1  # first character as in the name, rest free ("Lazarus", "LAZARUS")
CASE_EXACT = 2  # exactly one of the listed forms ("APT40", "US")

_PUNCT = re.compile(r"[^\w ]|_")


def lower_same_length(text: str) -> str:
    """``text.lower()`` that keeps one character per character, so offsets survive."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(low := c.lower()) != 1 else low for c in text)


_ASCII_PUNCT = bytes(c for c in range(128) if not (chr(c).isalnum() or c == 32))
_ASCII_TABLE = bytes.maketrans(_ASCII_PUNCT, b" " * len(_ASCII_PUNCT))


def normalise(text: str) -> str:
    """Lower-case with every non-word character as a space; same length as ``text``."""
    if text.isascii():  # the common case: one C-speed byte translation
        return text.lower().encode("ascii").translate(_ASCII_TABLE).decode("ascii")
    return _PUNCT.sub(" ", lower_same_length(text))


@functools.lru_cache(maxsize=1 << 16)
def key_of(name: str) -> str:
    """The lookup key of a name: normalised, with runs of spaces folded and ends trimmed (memoised)."""
    return " ".join(normalise(name).split())


class Entry(NamedTuple):
    """One dictionary meaning of a key: what it is, its canonical name and how it must be written."""

    kind: str  # ACTOR, MALWARE, TECHNIQUE, COUNTRY, SECTOR, SOURCE
    canonical: str
    ref: str
    case: int
    forms: frozenset[str] = frozenset()


class ActionRule(NamedTuple):
    """One verb + object rule, compiled for the extractor: the technique it gives, the first and last words of
    its object phrases (a quick reject), and the phrases grouped by first and by last word, longest first (ties
    alphabetical: the same phrase wins under any hash seed)."""

    entry: Entry
    firsts: frozenset[str]
    lasts: frozenset[str]
    by_first: dict[str, tuple[str, ...]]
    by_last: dict[str, tuple[str, ...]]


class VerbRules(NamedTuple):
    """The rules of one verb, in file order, with the first and last words of all their objects."""

    firsts: frozenset[str]
    lasts: frozenset[str]
    rules: tuple[ActionRule, ...]


@dataclass(frozen=True, slots=True)
class Actor:
    """A threat actor with every name it goes by."""

    name: str
    uuid: str
    country: str | None
    aliases: tuple[str, ...]
    attack_id: str = ""


@dataclass
class Knowledge:
    """Lookups used by extraction and by the query language (see docs/architecture.md)."""

    actors: dict[str, Actor] = field(default_factory=dict)
    actor_index: dict[str, str] = field(default_factory=dict)  # key_of(alias) -> canonical
    techniques: dict[str, str] = field(default_factory=dict)  # T1566.001 -> Spearphishing Attachment
    technique_index: dict[str, tuple[str, ...]] = field(default_factory=dict)  # key_of(name/phrase) -> IDs
    refine: dict[str, tuple[tuple[frozenset[str], str], ...]] = field(default_factory=dict)
    actions: list[tuple[str, frozenset[str]]] = field(default_factory=list)  # (ID, object keys) per verb rule
    # per verb's rule list ("3,5"): its rules, compiled once (see VerbRules)
    action_rules: dict[str, VerbRules] = field(default_factory=dict)
    malware: dict[str, tuple[str, str]] = field(default_factory=dict)  # key_of(alias) -> (canonical, uuid)
    countries: dict[str, str] = field(default_factory=dict)  # key_of(name/demonym) -> country
    country_codes: dict[str, str] = field(default_factory=dict)  # ISO -> country
    sectors: dict[str, str] = field(default_factory=dict)  # key_of(noun) -> sector
    sector_modifiers: dict[str, str] = field(default_factory=dict)  # key_of("oil and gas") -> Energy
    sources: frozenset[str] = frozenset()  # key_of(vendor/official/media)
    cues: dict[str, frozenset[str]] = field(default_factory=dict)  # context word sets (context.yaml)
    org: dict[str, frozenset[str]] = field(default_factory=dict)  # heads, stop_left, connectors
    ioc: dict[str, frozenset[str]] = field(default_factory=dict)  # tlds, file_extensions, benign, version
    entries: list[Entry] = field(default_factory=list)
    # per automaton key: (padded length - 1, 1 when right-padded else 0, meanings (none for a targeting cue),
    # kind when one case-free non-name meaning); a hit ending at ``last`` of the padded text spans
    # [last - first, last - second) of the text
    key_entries: list[tuple[int, int, tuple[Entry, ...], str]] = field(default_factory=list)
    automaton: Any = None  # ahocorasick.Automaton over " key " -> index into key_entries

    def canonical_actor(self, name: str) -> str | None:
        """The canonical actor for any alias, case-insensitively."""
        return self.actor_index.get(key_of(name))

    def actor_aliases(self, canonical: str) -> list[str]:
        """Every other name of an actor (canonical name resolved first)."""
        actor = self.actors.get(self.canonical_actor(canonical) or canonical)
        return list(actor.aliases) if actor else []

    def actor_country(self, canonical: str) -> str | None:
        """The country the actor is attributed to, as a country name."""
        actor = self.actors.get(self.canonical_actor(canonical) or canonical)
        return actor.country if actor else None

    def actor_ref(self, canonical: str) -> str:
        """The MISP uuid of an actor, or ``""``."""
        actor = self.actors.get(canonical)
        return actor.uuid if actor else ""

    def technique_ids(self, text: str) -> list[str]:
        """IDs for an ATT&CK ID (``t1566`` → ``T1566``), an ATT&CK name or one of our prose phrases."""
        stripped = text.strip()
        if is_technique_id(stripped):
            upper = stripped.upper()
            return [upper] if upper in self.techniques else []
        return list(self.technique_index.get(key_of(stripped), ()))

    def technique_name(self, technique_id: str) -> str:
        """The ATT&CK name of an ID, or the ID itself when unknown."""
        return self.techniques.get(technique_id.upper(), technique_id)

    def technique_label(self, technique_id: str) -> str:
        """``T1566.001 Spearphishing Attachment``; the ID alone when unknown."""
        name = self.technique_name(technique_id)
        return technique_id if name == technique_id else f"{technique_id} {name}"

    def canonical_victim(self, name: str) -> str | None:
        """A country (from a name or demonym) or a sector (from a sector noun)."""
        key = key_of(name)
        if key in self.countries:
            return self.countries[key]
        if key in self.sectors:
            return self.sectors[key]
        for sector in set(self.sectors.values()):
            if key_of(sector) == key:
                return sector
        return None

    def canonical_malware(self, name: str) -> str | None:
        """The canonical malware or tool name for any alias."""
        found = self.malware.get(key_of(name))
        return found[0] if found else None

    def victim_role(self, canonical: str) -> str:
        """``"country"``, ``"sector"`` or ``"organisation"`` for a canonical victim name (as the catalog keeps it)."""
        if canonical in self._country_set:
            return "country"
        if canonical in self._sector_set:
            return "sector"
        return "organisation"

    def country_code(self, country: str) -> str:
        """The ISO 3166 code of a canonical country name, or ``""``."""
        return self._iso_by_country.get(country, "")

    @functools.cached_property
    def _country_set(self) -> frozenset[str]:
        return frozenset(self.countries.values())

    @functools.cached_property
    def _sector_set(self) -> frozenset[str]:
        return frozenset(self.sectors.values()) | frozenset(self.sector_modifiers.values())

    @functools.cached_property
    def _iso_by_country(self) -> dict[str, str]:
        return {name: iso for iso, name in sorted(self.country_codes.items(), reverse=True)}

    def is_source(self, name: str) -> bool:
        """Whether ``name`` is a vendor, official body or news outlet (a reporter, never a victim)."""
        return key_of(name) in self.sources

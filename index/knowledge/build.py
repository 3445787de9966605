"""Build :class:`Knowledge` from the galaxies and our tables (slow: seconds; the result is cached)."""

from __future__ import annotations

import re
from typing import Any

import ahocorasick

from index.knowledge import curated, galaxy
from index.knowledge.model import (
    CASE_ANY,
    CASE_CAP,
    CASE_EXACT,
    ActionRule,
    Entry,
    Knowledge,
    VerbRules,
    key_of,
    normalise,
)

_ACRONYM = re.compile(r"[A-Z0-9][A-Z0-9.&-]*")
_MIN_KEY = 3
_NAME_KINDS = frozenset({"ACTOR", "SOURCE", "MALWARE", "COUNTRY"})
_GROUP_SUFFIX = re.compile(r" (?:Group|Team|Gang)$")
_THE = re.compile(r"^The ")


def _plural(phrase: str) -> list[str]:
    """The phrase and, unless it already ends in s, its plural on the last word."""
    return [phrase] if phrase.endswith(("s", "S")) else [phrase, phrase + "s"]


def _case_of(name: str, common: frozenset[str]) -> int:
    """Acronyms and common-word names need their exact spelling; other names their first capital."""
    letters = [c for c in name if c.isalpha()]
    if not letters:
        return CASE_EXACT
    if _ACRONYM.fullmatch(name) and (len(letters) <= 5 or any(c.isdigit() for c in name)):
        return CASE_EXACT
    if " " not in name.strip() and name.lower() in common:
        return CASE_EXACT
    return CASE_CAP if name[0].isupper() else CASE_ANY


class _Builder:
    """Collects dictionary entries under their keys, then compiles the automaton."""

    def __init__(self, common: frozenset[str]) -> None:
        self.common = common
        self.entries: list[Entry] = []
        self.keys: dict[str, list[int]] = {}
        self.seen: dict[tuple[str, str, str], int] = {}

    def add(
        self, kind: str, surface: str, canonical: str, ref: str = "", case: int | None = None, *, prefix: bool = False
    ) -> None:
        """Add one name; a ``prefix`` entry matches at a word start but may end inside a word ("target…")."""
        key = key_of(surface)
        if len(key.replace(" ", "")) < (2 if case == CASE_EXACT else _MIN_KEY) or key.isdigit():
            return
        mode = _case_of(surface, self.common) if case is None else case
        forms: frozenset[str] = frozenset()
        if mode == CASE_EXACT:
            forms = frozenset({surface, surface.rstrip(".")})
            if any(c.islower() for c in surface):  # a common-word name: as written, Capitalised or SHOUTED
                forms |= {surface[:1].upper() + surface[1:].lower(), surface.upper()}
        for padded in dict.fromkeys(f" {k}" if prefix else f" {k} " for k in (key, normalise(surface).strip())):
            self._add_key(padded, kind, canonical, ref, mode, forms)

    def _add_key(self, padded: str, kind: str, canonical: str, ref: str, mode: int, forms: frozenset[str]) -> None:
        """One padded key; the text is never space-folded, so "cmd /c" is also keyed as written ("cmd  c")."""
        ident = (kind, canonical, padded)
        if ident in self.seen:
            index = self.seen[ident]
            old = self.entries[index]
            if old.case == CASE_EXACT and mode == CASE_EXACT:
                self.entries[index] = old._replace(forms=old.forms | forms)
            elif mode < old.case:
                self.entries[index] = old._replace(case=mode, forms=frozenset())
            return
        self.seen[ident] = len(self.entries)
        self.keys.setdefault(padded, []).append(len(self.entries))
        self.entries.append(Entry(kind, canonical, ref, mode, forms))

    def compile(self, knowledge: Knowledge) -> None:
        automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for index, (padded, ids) in enumerate(sorted(self.keys.items())):
            group = tuple(self.entries[i] for i in ids)
            cue_only = all(entry.kind == "CUE" for entry in group)
            single = group[0] if len(group) == 1 and group[0].case == CASE_ANY else None
            fast = single.kind if single is not None and single.kind not in _NAME_KINDS else ""
            knowledge.key_entries.append((len(padded) - 1, int(padded.endswith(" ")), () if cue_only else group, fast))
            automaton.add_word(padded, index)
        automaton.make_automaton()
        knowledge.entries = self.entries
        knowledge.automaton = automaton


def _countries(knowledge: Knowledge, builder: _Builder) -> None:
    data = curated.load("countries")
    overrides: dict[str, Any] = data.get("names") or {}
    exact = set(curated.words(data, "exact"))
    skip = {key_of(name) for name in curated.words(data, "skip")}
    for iso, (name, _tld) in galaxy.countries().items():
        canonical = str(overrides.get(iso, name))
        knowledge.country_codes[iso] = canonical
        for surface in dict.fromkeys((name, canonical)):  # ordered: the build is the same under any hash seed
            if key_of(surface) not in skip:
                knowledge.countries.setdefault(key_of(surface), canonical)
                builder.add("COUNTRY", surface, canonical, iso, CASE_CAP)
                if not surface.endswith("s"):  # a possessive whose apostrophe was lost in scraping
                    builder.add("COUNTRY", surface + "s", canonical, iso, CASE_CAP)
    regions: dict[str, Any] = data.get("regions") or {}
    for region, names in regions.items():
        for surface in names or []:
            knowledge.countries.setdefault(key_of(str(surface)), str(region))
            builder.add("COUNTRY", str(surface), str(region), "", CASE_EXACT if surface in exact else CASE_CAP)
    aliases: dict[str, Any] = data.get("aliases") or {}
    for iso, names in aliases.items():
        country = knowledge.country_codes.get(str(iso))
        if country is None:
            continue
        canonical = country
        for surface in names or []:
            knowledge.countries.setdefault(key_of(str(surface)), canonical)
            builder.add("COUNTRY", str(surface), canonical, str(iso), CASE_EXACT if surface in exact else CASE_CAP)


def _actors(knowledge: Knowledge, builder: _Builder, stop: set[str]) -> None:
    actors = galaxy.actors(knowledge.country_codes)
    for actor in sorted(actors, key=lambda a: (a.name.lower(), a.uuid)):
        if actor.name in knowledge.actors:
            continue
        knowledge.actors[actor.name] = actor
    # Canonical names claim their key first, then aliases in a stable order.
    for actor in knowledge.actors.values():
        knowledge.actor_index.setdefault(key_of(actor.name), actor.name)
    for actor in knowledge.actors.values():
        for alias in actor.aliases:
            knowledge.actor_index.setdefault(key_of(alias), actor.name)
    for actor in knowledge.actors.values():  # "Lazarus" for "Lazarus Group", "Dukes" for "The Dukes"
        for name in (actor.name, *actor.aliases):
            stem = _THE.sub("", _GROUP_SUFFIX.sub("", name))
            key = key_of(stem)
            usable = stem != name and len(stem) >= 4 and stem.lower() not in builder.common and key not in stop
            usable = usable and key not in knowledge.countries and key not in knowledge.sources  # not "Beijing"
            if usable and knowledge.actor_index.setdefault(key, actor.name) == actor.name:
                builder.add("ACTOR", stem, actor.name, actor.uuid)
    for actor in knowledge.actors.values():
        for surface in (actor.name, *actor.aliases):
            if key_of(surface) not in stop and knowledge.actor_index.get(key_of(surface)) == actor.name:
                builder.add("ACTOR", surface, actor.name, actor.uuid)


def _malware(knowledge: Knowledge, builder: _Builder, stop: set[str]) -> None:
    for name, uuid, aliases in galaxy.malware():
        for surface in (name, *aliases):
            key = key_of(surface)
            knowledge.malware.setdefault(key, (name, uuid))
            if key not in stop and key not in knowledge.sources and knowledge.malware[key][0] == name:
                builder.add("MALWARE", surface, name, uuid)


class KnowledgeError(ValueError):
    """Our tables name something the bundled data does not know: the build stops instead of dropping it."""


def _current_ids(data: dict[str, Any], known: dict[str, str], revoked: dict[str, str]) -> dict[str, str]:
    """Every ATT&CK ID our technique table uses → the ID to store: itself, or ATT&CK's replacement when it
    was revoked. Raises :class:`KnowledgeError` naming every ID that is neither current nor revoked."""
    used = [str(item.get("id", "")) for key in ("techniques", "actions") for item in data.get(key) or []]
    used += [str(rule.get("id", "")) for item in data.get("techniques") or [] for rule in item.get("refine") or []]
    current = {ident: ident if ident in known else revoked.get(ident, "") for ident in used}
    unknown = sorted(ident for ident, now in current.items() if now not in known)
    if unknown:
        raise KnowledgeError(f"technique tables name ATT&CK IDs the bundled galaxy does not know: {', '.join(unknown)}")
    return current


def _techniques(knowledge: Knowledge, builder: _Builder) -> None:
    data = curated.load("techniques")
    stop = {key_of(name) for name in curated.words(data, "name_stoplist")}
    skip_tactics = {"reconnaissance", "resource-development"}  # enterprise IDs that sit in PRE tactics too
    for technique in galaxy.techniques():
        knowledge.techniques[technique.attack_id] = technique.name
        if technique.domain != "enterprise":  # PRE and mobile: by ID only, their names shadow enterprise ones
            continue
        key = key_of(technique.name)
        knowledge.technique_index[key] = (*knowledge.technique_index.get(key, ()), technique.attack_id)
        if " " in key and key not in stop and not technique.tactics <= skip_tactics:
            builder.add("TECHNIQUE", technique.name, technique.name, technique.attack_id, CASE_ANY)
    mined = curated.load("procedures")  # generated from ATT&CK procedure examples: after our own phrases
    data = {**data, "techniques": [*(data.get("techniques") or []), *(mined.get("techniques") or [])]}
    current = _current_ids(data, knowledge.techniques, galaxy.revocations())
    rules_of: dict[str, list[str]] = {}  # verb -> indices of its rules, in file order
    for item in data.get("actions") or []:
        attack_id = current[str(item.get("id", ""))]
        objects = frozenset(key_of(str(o)) for o in item.get("objects") or [] if key_of(str(o)))
        if not objects:
            continue
        for verb in item.get("verbs") or []:
            rules_of.setdefault(str(verb), []).append(str(len(knowledge.actions)))
        knowledge.actions.append((attack_id, objects))
    for verb, indices in rules_of.items():  # one entry per verb: one hit per occurrence
        listed = ",".join(indices)
        builder.add("ACTION", verb, listed, "", CASE_ANY)
        compiled = tuple(_action_rule(knowledge, *knowledge.actions[int(index)]) for index in indices)
        firsts = frozenset().union(*(rule.firsts for rule in compiled))
        lasts = frozenset().union(*(rule.lasts for rule in compiled))
        knowledge.action_rules[listed] = VerbRules(firsts, lasts, compiled)
    for item in data.get("techniques") or []:
        attack_id = current[str(item.get("id", ""))]
        rules = tuple(
            (frozenset(str(cue).lower() for cue in rule.get("cues") or []), current[str(rule.get("id", ""))])
            for rule in item.get("refine") or []
        )
        if rules:
            knowledge.refine[attack_id] = rules
        for phrase in item.get("phrases") or []:
            for surface in _plural(str(phrase)):
                key = key_of(surface)
                knowledge.technique_index.setdefault(key, (attack_id,))
                mode = CASE_EXACT if _ACRONYM.fullmatch(surface) and len(surface) <= 5 else CASE_ANY
                builder.add("TECHNIQUE", surface, knowledge.techniques[attack_id], attack_id, mode)


def _action_rule(knowledge: Knowledge, attack_id: str, objects: frozenset[str]) -> ActionRule:
    by_first: dict[str, list[str]] = {}
    by_last: dict[str, list[str]] = {}
    for phrase in sorted(objects, key=lambda phrase: (-len(phrase), phrase)):
        by_first.setdefault(phrase.split(" ")[0], []).append(phrase)
        by_last.setdefault(phrase.split(" ")[-1], []).append(phrase)
    return ActionRule(
        Entry("TECHNIQUE", knowledge.technique_name(attack_id), attack_id, CASE_ANY),
        frozenset(by_first),
        frozenset(by_last),
        {word: tuple(phrases) for word, phrases in by_first.items()},
        {word: tuple(phrases) for word, phrases in by_last.items()},
    )


def _sectors(knowledge: Knowledge, builder: _Builder) -> None:
    data = curated.load("sectors")
    knowledge.cues["sector_heads"] = frozenset(key_of(w) for w in curated.words(data, "heads"))
    knowledge.cues["sector_list_heads"] = frozenset(key_of(w) for w in curated.words(data, "list_heads"))
    knowledge.cues["sector_not_before"] = frozenset(key_of(w) for w in curated.words(data, "not_before"))
    modifiers: dict[str, Any] = data.get("modifiers") or {}
    heads = curated.words(data, "heads")
    for sector, words in modifiers.items():
        for word in words or []:
            knowledge.sector_modifiers.setdefault(key_of(str(word)), str(sector))
            mode = CASE_EXACT if _ACRONYM.fullmatch(str(word)) else CASE_ANY
            for head in heads:  # "energy companies", "video game makers": matched whole by the automaton
                builder.add("SECTOR", f"{word} {head}", str(sector), "", mode)
    knowledge.cues["sector_modifier_lasts"] = frozenset(key.split(" ")[-1] for key in knowledge.sector_modifiers)
    # Single sector words that may start or continue a bare list; acronyms ("IT") are left out: lower-cased
    # they are common words ("it").
    acronyms = {key_of(str(w)) for words in modifiers.values() for w in words or [] if _ACRONYM.fullmatch(str(w))}
    knowledge.cues["sector_words"] = frozenset(k for k in knowledge.sector_modifiers if " " not in k) - acronyms
    for head in curated.words(data, "list_heads"):
        builder.add("LISTHEAD", head, head, "", CASE_ANY)
    table: dict[str, Any] = data.get("sectors") or {}
    for sector, phrases in table.items():
        for phrase in phrases or []:
            for surface in _plural(str(phrase)):
                knowledge.sectors.setdefault(key_of(surface), str(sector))
                if " " not in key_of(surface):
                    knowledge.cues["sector_words"] |= {key_of(surface)}
                mode = CASE_EXACT if _ACRONYM.fullmatch(surface) else CASE_ANY
                builder.add("SECTOR", surface, str(sector), "", mode)


def _sources(knowledge: Knowledge, builder: _Builder) -> None:
    data = curated.load("sources")
    names = [*curated.words(data, "vendors"), *curated.words(data, "officials"), *curated.words(data, "media")]
    knowledge.sources = frozenset(key_of(name) for name in names)
    for name in names:
        builder.add("SOURCE", name, name, "")


def _tables(knowledge: Knowledge, builder: _Builder) -> None:
    context = curated.load("context")
    knowledge.cues = {key: frozenset(key_of(w) for w in curated.words(context, key)) for key in context}
    for stem in sorted(knowledge.cues.get("targeting_stems", frozenset())):
        builder.add("CUE", stem, stem, "", CASE_ANY, prefix=True)
    for verb in sorted(knowledge.cues.get("exploit_verbs", frozenset())):
        builder.add("EXPLOIT", verb, verb, "", CASE_ANY)
    for kind in ("naming", "group"):
        for cue in sorted(knowledge.cues.get(f"{kind}_cues", frozenset())):
            builder.add("INTRO", cue, kind, "", CASE_ANY)
    for cue in sorted(knowledge.cues.get("object_cues", frozenset())):
        builder.add("OBJECT", cue, cue, "", CASE_ANY)
    for cue in sorted(knowledge.cues.get("subject_cues", frozenset())):
        builder.add("SUBJECT", cue, cue, "", CASE_ANY)
    orgs = curated.load("organisations")
    knowledge.org = {key: frozenset(curated.words(orgs, key)) for key in orgs}
    for noun in sorted(knowledge.org.get("possessed", frozenset())):
        builder.add("POSSESSED", f"s {noun}", noun, "", CASE_ANY)
    for noun in sorted(knowledge.org.get("descriptors", frozenset())):
        builder.add("DESCRIPTOR", noun, noun, "", CASE_ANY)
    for head in sorted(knowledge.org.get("heads", frozenset())):
        builder.add("HEAD", head, head, "", CASE_EXACT)
    iocs = curated.load("iocs")
    tlds = {tld for _, tld in galaxy.countries().values() if tld} | set(curated.words(iocs, "generic_tlds"))
    knowledge.ioc = {
        "tlds": frozenset(tlds),
        "file_extensions": frozenset(curated.words(iocs, "file_extensions")),
        "benign": frozenset(curated.words(iocs, "benign_domains")),
        "version": frozenset(curated.words(iocs, "version_words")),
    }


def build_knowledge() -> Knowledge:
    """Read every source and compile the matchers."""
    knowledge = Knowledge()
    builder = _Builder(galaxy.common_words())
    stop = curated.load("stoplist")
    _tables(knowledge, builder)
    _sources(knowledge, builder)
    _countries(knowledge, builder)
    _actors(knowledge, builder, {key_of(name) for name in curated.words(stop, "actors")})
    _malware(knowledge, builder, {key_of(name) for name in curated.words(stop, "malware")})
    _techniques(knowledge, builder)
    _sectors(knowledge, builder)
    builder.compile(knowledge)
    return knowledge

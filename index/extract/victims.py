"""Victim candidates: countries in a targeting role, organisations, sectors.

Each rule looks at a few words around a candidate, so the whole pass stays linear.
"""

from __future__ import annotations

import functools
import re

from index.extract.prose import Prose, capitalised_run, country_role, organisation_span
from index.extract.spans import Hit, disjoint, overlaps, select
from index.knowledge.model import CASE_ANY, Entry, key_of

_WORD = re.compile(r"\S+")
_AND_OR = frozenset({"and", "or"})
_LIST_GAP = re.compile(r"(?:,[ \n]?|[ \n](?:and|or)[ \n]|,[ \n](?:and|or)[ \n])(?:the[ \n])?")
_MAX_LIST = 12
_ARTICLES = (" the ", " a ", " an ", "\nthe ")


def victim_hits(
    prose: Prose, hits: dict[str, list[Hit]], names: dict[str, list[Hit]], blocked: list[tuple[int, int]]
) -> list[Hit]:
    """Every victim candidate, overlaps resolved (longest wins); entry kinds ORG, COUNTRY, SECTOR. ``names``
    holds the chosen names by kind (ACTOR, SOURCE, MALWARE, COUNTRY), each list in text order."""
    knowledge = prose.knowledge
    actors, malware = names.get("ACTOR", []), names.get("MALWARE", [])
    sources = [(h.start, h.end) for h in names.get("SOURCE", [])]
    candidates = _head_organisations(prose, hits.get("HEAD", []), sources)
    candidates += _named_objects(prose, hits.get("OBJECT", []), hits.get("SUBJECT", []))
    candidates += _named_around(prose, hits.get("POSSESSED", []), hits.get("DESCRIPTOR", []))
    candidates += _countries(prose, actors, names.get("COUNTRY", []))
    candidates += _sectors(prose, hits.get("SECTOR", []), hits.get("LISTHEAD", []))
    candidates += _headless_lists(prose)
    countries = {(h.start, h.end) for h in candidates if h.entry.kind == "COUNTRY"}
    named = {h.entry.canonical.lower() for h in actors + malware}
    products = knowledge.org.get("products", frozenset())
    sponsors = {h.start for h in candidates if h.entry.kind == "ORG" and _perpetrator(prose, h.start, h.end)}
    kept = [
        h
        for h in candidates
        if (
            h.entry.kind == "COUNTRY" and h.start not in sponsors and h.end + 1 not in sponsors
        )  # "Iranian Ministry of …"
        or h.entry.kind == "SECTOR"
        or (
            h.entry.kind == "ORG"
            and h.start not in sponsors
            and (h.start, h.end) not in countries
            and h.entry.canonical.lower() not in named
            and key_of(h.entry.canonical) not in knowledge.countries
            and h.entry.canonical not in products
        )
    ]
    return select(kept, blocked)


@functools.lru_cache(maxsize=4096)
def _sponsor_name(name: str, sponsors: frozenset[str]) -> bool:
    """Whether an organisation name holds a sponsor word ("Ministry of Intelligence")."""
    padded = f" {name} "
    return any(f" {word} " in padded for word in sponsors)


#: Words that may stand between an organisation and the verb that makes it the actor ("X has hacked").
_SUBJECT_GAP = frozenset({"has", "have", "had", "reportedly", "allegedly", "also", "then", "later", "previously"})


def _perpetrator(prose: Prose, start: int, end: int) -> bool:
    """ "officers of the … Department", "the Bureau hacked", "Ministry of Intelligence": the attacker's side."""
    org = prose.knowledge.org
    if _sponsor_name(prose.text[start:end], org.get("sponsor_words", frozenset())):
        return True
    before = [word for word in prose.words_before(start, 3) if word not in ("the", "of", "a", "an", "by", "for")]
    if before and before[-1] in org.get("perpetrator_before", frozenset()):
        return True
    for word in prose.words_after(end, 3):
        if word in org.get("perpetrator_verbs", frozenset()):
            return True
        if word not in _SUBJECT_GAP:
            return False
    return False


def _org(prose: Prose, start: int, end: int) -> Hit:
    return Hit(start, end, Entry("ORG", prose.text[start:end], "", CASE_ANY))


def _head_organisations(prose: Prose, heads: list[Hit], sources: list[tuple[int, int]]) -> list[Hit]:
    """Capitalised names around organisation heads in targeting context that are not sources."""
    knowledge = prose.knowledge
    reporters = knowledge.cues.get("reporter_verbs", frozenset())
    source_spans = disjoint(sources)
    found: list[Hit] = []
    last_end = -1
    for head in sorted(heads, key=lambda h: h.start):
        if head.start < last_end or not prose.cue_in_sentence(head.start):
            continue
        span = organisation_span(prose, head.start, head.end)
        if span is None:
            continue
        start, end = span
        last_end = end
        if knowledge.is_source(prose.text[start:end]) or overlaps(source_spans, start, end):
            continue
        following = prose.words_after(end, 1)
        if not (following and following[0] in reporters):
            found.append(_org(prose, start, end))
    return found


def _named_objects(prose: Prose, objects: list[Hit], subjects: list[Hit]) -> list[Hit]:
    """Names in victim position: "breached RSA", "victims included A, B and C", "Target was hacked"."""
    found: list[Hit] = []
    text = prose.text
    for cue in objects:
        position = cue.end
        for article in _ARTICLES:
            if text.startswith(article, position):
                position += len(article) - 1
                break
        following = text[position + 1 : position + 2]
        if not (following.isupper() or following.isdigit()):
            continue  # names start with a capital (or a digit: "3M")
        for _ in range(_MAX_LIST):
            span = capitalised_run(prose, position, forward=True)
            if span is None:
                break
            found.append(_org(prose, *span))
            gap = _LIST_GAP.match(prose.text, span[1])
            if gap is None:
                break
            position = gap.end() - 1
    for cue in subjects:
        span = capitalised_run(prose, cue.start, forward=False)
        if span is not None:
            found.append(_org(prose, *span))
    return found


def _named_around(prose: Prose, possessed: list[Hit], descriptors: list[Hit]) -> list[Hit]:
    """Names in a targeting sentence that own what was hit ("Uber's internal systems") or that a descriptor
    introduces ("shipping giant Maersk"); never a source, never before a reporting verb."""
    text, knowledge = prose.text, prose.knowledge
    reporters = knowledge.cues.get("reporter_verbs", frozenset())
    found: list[Hit] = []
    for cue in possessed:
        apostrophe = cue.start - 1
        if apostrophe < 1 or text[apostrophe] not in "'’" or not prose.cue_in_sentence(cue.start):
            continue
        span = _name_ending_at(prose, apostrophe)
        if span is not None and not knowledge.is_source(text[span[0] : span[1]]):
            found.append(_org(prose, *span))
    for cue in descriptors:
        if not text[cue.end + 1 : cue.end + 2].isupper() or not prose.cue_in_sentence(cue.start):
            continue
        span = capitalised_run(prose, cue.end, forward=True)
        if span is None or knowledge.is_source(text[span[0] : span[1]]):
            continue
        following = prose.words_after(span[1], 1)
        if not (following and following[0] in reporters):
            found.append(_org(prose, *span))
    return found


def _name_ending_at(prose: Prose, end: int) -> tuple[int, int] | None:
    """The run of up to five name-like words ending right at ``end`` ("Sky Mavis" before "'s")."""
    stop = prose.knowledge.org.get("stop_left", frozenset())
    words = prose.text[max(0, end - 60) : end].split(" ")
    start = end
    for word in reversed(words[-5:]):
        if not word or word in stop or not (word[0].isupper() or word[0].isdigit()) or not word[-1].isalnum():
            break
        if not all(c.isalnum() or c in "-.&" for c in word):
            break
        start -= len(word) + 1
    return (start + 1, end) if start < end else None


def _countries(prose: Prose, actors: list[Hit], country_hits: list[Hit]) -> list[Hit]:
    """Countries whose role is "victim"; a list ("the US, the UK and Japan") shares its first member's role."""
    knowledge = prose.knowledge
    actor_countries: dict[int, set[str]] = {}
    for hit in actors:
        if country := knowledge.actor_country(hit.entry.canonical):
            actor_countries.setdefault(prose.sentence(hit.start)[0], set()).add(country)
    found: list[Hit] = []
    previous: tuple[int, str] | None = None
    for hit in country_hits:
        role = ""
        if previous is not None:
            gap = _LIST_GAP.fullmatch(prose.text, previous[0], hit.start)
            role = previous[1] if gap else ""
        if not role:
            countries = actor_countries.get(prose.sentence(hit.start)[0], set())
            role = country_role(prose, hit.start, hit.end, hit.entry.canonical, countries)
        previous = (hit.end, role)
        if role == "victim":
            found.append(hit)
    return found


def _sectors(prose: Prose, phrases: list[Hit], list_heads: list[Hit]) -> list[Hit]:
    """Sector phrases ("energy companies"), and sector words listed before a sector noun ("the aviation,
    energy and government sectors"), in targeting context."""
    found = [
        h
        for h in phrases
        if prose.cue_in_sentence(h.start, spread=1) and not _after_security(prose, h) and not _modifier(prose, h)
    ]
    for head in list_heads:
        if prose.cue_in_sentence(head.start, spread=1):
            found.extend(_listed(prose, head))
    return found


_NORM_WORD = re.compile(r"[^ \n]+")


def _headless_lists(prose: Prose) -> list[Hit]:
    """Bare sector words listed together within a few words after a targeting cue, with no head noun:
    "targeting defense, technology and energy". Read forward from each cue: a bounded window, linear."""
    modifiers, sectors = prose.knowledge.sector_modifiers, prose.knowledge.sectors
    words = prose.knowledge.cues.get("sector_words", frozenset())
    norm = prose.norm
    found: list[Hit] = []
    last = -1
    for cue in prose.cues:
        if cue < last:
            continue
        ahead = norm[cue : cue + _LIST_WINDOW].split(None, _LIST_START + 3)[1 : _LIST_START + 3]
        if len(words.intersection(ahead)) < 2:
            continue  # no two sector words here: the common case, decided in C without match objects
        window = list(_NORM_WORD.finditer(norm, cue, min(len(norm), cue + _LIST_WINDOW)))[1 : _LIST_START + 1]
        for first in window:
            if first.group() in modifiers or first.group() in sectors:
                items = _list_items(prose, first.start(), modifiers, sectors)
                if len(items) >= 2:
                    last = items[-1][1]
                    found.extend(
                        hit
                        for start, end, sector in items
                        if not _modifier(prose, hit := Hit(start, end, Entry("SECTOR", sector, "", CASE_ANY)))
                    )
                break
    return found


_LIST_WINDOW = 64  # characters after a cue read for the start of a list
_LIST_START = 5  # words after a cue within which a list may start


def _list_items(
    prose: Prose, position: int, modifiers: dict[str, str], sectors: dict[str, str]
) -> list[tuple[int, int, str]]:
    """Sector words joined by list gaps from ``position``: (start, end, sector) each, longest phrase first."""
    norm = prose.norm
    sector_words = prose.knowledge.cues.get("sector_words", frozenset())
    items: list[tuple[int, int, str]] = []
    for _ in range(_MAX_LIST):
        words = list(_NORM_WORD.finditer(norm, position, min(len(norm), position + 48)))[:3]
        item = None
        for size in (3, 2, 1):
            if len(words) >= size:
                phrase = " ".join(m.group() for m in words[:size])
                sector = modifiers.get(phrase) or sectors.get(phrase)
                if sector and (size > 1 or phrase in sector_words):  # not "it" for "IT"
                    item = (words[0].start(), words[size - 1].end(), sector)
                    break
        if item is None:
            break
        items.append(item)
        gap = _LIST_GAP.match(prose.text, item[1])
        if gap is None:
            break
        position = gap.end()
    return items


def _listed(prose: Prose, head: Hit) -> list[Hit]:
    """The bare sector words of a list that ends in ``head``, nearest first; the one right before the
    head is already a sector phrase of its own."""
    lasts = prose.knowledge.cues.get("sector_modifier_lasts", frozenset())
    tail = prose.norm[max(0, head.start - 48) : head.start].rsplit(None, 2)[-2:]
    if len(tail) < 2 or not all(word in lasts or word in _AND_OR for word in tail):
        return []  # no list: "the energy sector" is a sector phrase of its own
    modifiers = prose.knowledge.sector_modifiers
    words = list(_WORD.finditer(prose.norm, max(prose.sentence(head.start)[0], head.start - 120), head.start))
    found: list[Hit] = []
    index, first = len(words) - 1, True
    while index >= 0:
        if words[index].group() in _AND_OR:
            index -= 1
            continue
        for size in (3, 2, 1):
            if index - size + 1 < 0:
                continue
            phrase = " ".join(match.group() for match in words[index - size + 1 : index + 1])
            if phrase in modifiers:
                start, end = words[index - size + 1].start(), words[index].end()
                if not first:
                    found.append(Hit(start, end, Entry("SECTOR", modifiers[phrase], "", CASE_ANY)))
                index, first = index - size, False
                break
        else:
            break
    return found


_SECURITY = frozenset({"security", "cybersecurity", "antivirus", "intelligence"})


def _after_security(prose: Prose, hit: Hit) -> bool:
    """ "security companies" and "intelligence agencies" are not sectors under attack."""
    before = prose.norm[max(0, hit.start - 16) : hit.start].rsplit(None, 1)
    return bool(before) and before[-1] in _SECURITY


def _modifier(prose: Prose, hit: Hit) -> bool:
    """ "banking trojan", "bank fraud module", "financial gain": a sector word modifying something else."""
    if prose.text[hit.end : hit.end + 1] not in (" ", "-"):
        return False  # end of sentence, a comma, a bracket: nothing to modify
    following = prose.norm[hit.end : hit.end + 24].split(None, 1)[:1]
    cues = prose.knowledge.cues
    return bool(following) and (
        following[0] in cues.get("sector_not_before", frozenset()) or following[0] in cues.get("malware_nouns", ())
    )

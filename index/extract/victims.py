"""Victim candidates: countries in a targeting role, organisations, sectors.

Each rule looks at a few words around a candidate, so the whole pass stays linear.
"""

from __future__ import annotations

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
    prose: Prose, hits: dict[str, list[Hit]], names: list[Hit], blocked: list[tuple[int, int]]
) -> list[Hit]:
    """Every victim candidate, overlaps resolved (longest wins); entry kinds ORG, COUNTRY, SECTOR."""
    knowledge = prose.knowledge
    sources = [(h.start, h.end) for h in names if h.entry.kind == "SOURCE"]
    candidates = _head_organisations(prose, hits.get("HEAD", []), sources)
    candidates += _named_objects(prose, hits.get("OBJECT", []), hits.get("SUBJECT", []))
    candidates += _countries(prose, names)
    candidates += _sectors(prose, hits.get("SECTOR", []), hits.get("LISTHEAD", []))
    countries = {(h.start, h.end) for h in candidates if h.entry.kind == "COUNTRY"}
    named = {h.entry.canonical.lower() for h in names if h.entry.kind in ("ACTOR", "MALWARE")}
    kept = [
        h
        for h in candidates
        if h.entry.kind != "ORG"
        or (
            (h.start, h.end) not in countries
            and h.entry.canonical.lower() not in named
            and key_of(h.entry.canonical) not in knowledge.countries
        )
    ]
    return select(kept, blocked)


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


def _countries(prose: Prose, names: list[Hit]) -> list[Hit]:
    """Countries whose role is "victim"; a list ("the US, the UK and Japan") shares its first member's role."""
    knowledge = prose.knowledge
    actor_countries: dict[int, set[str]] = {}
    for hit in names:
        if hit.entry.kind == "ACTOR" and (country := knowledge.actor_country(hit.entry.canonical)):
            actor_countries.setdefault(prose.sentence(hit.start)[0], set()).add(country)
    found: list[Hit] = []
    previous: tuple[int, str] | None = None
    for hit in names:
        if hit.entry.kind != "COUNTRY":
            continue
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
    found = [h for h in phrases if prose.cue_in_sentence(h.start, spread=1) and not _after_security(prose, h)]
    for head in list_heads:
        if prose.cue_in_sentence(head.start, spread=1):
            found.extend(_listed(prose, head))
    return found


def _listed(prose: Prose, head: Hit) -> list[Hit]:
    """The bare sector words of a list that ends in ``head``, nearest first; the one right before the
    head is already a sector phrase of its own."""
    lasts = prose.knowledge.cues.get("sector_modifier_lasts", frozenset())
    tail = prose.norm[max(0, head.start - 48) : head.start].split()[-2:]
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
    before = prose.norm[max(0, hit.start - 16) : hit.start].split()
    return bool(before) and before[-1] in _SECURITY

"""The extractor: text → mentions (actors, victims, techniques, malware, CVEs, IoCs) with offsets.

One Aho-Corasick pass over a normalised copy of the text (lower case, punctuation as spaces, same
length, so offsets carry over) finds every dictionary name, cue word and head noun on word
boundaries; a few regexes without nested repetition add naming schemes (APT + number,
"<Word> Panda"), CVEs, ATT&CK IDs and IoCs; local context decides roles. Pure after the knowledge is
loaded, and linear in the length of the text (see tests/index/test_extract.py).
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
from collections import defaultdict
from dataclasses import dataclass

from index.extract.actors import introduced_actors, vendors_sharing_an_alias
from index.extract.iocs import find_iocs
from index.extract.prose import Prose
from index.extract.scan import led_by, scan
from index.extract.spans import PRIORITY, Hit, select
from index.extract.techniques import action_hits, exploitation_hits, refined
from index.extract.victims import victim_hits
from index.knowledge import Knowledge, get_knowledge
from index.knowledge.model import CASE_ANY, CASE_EXACT, Entry, normalise
from index.vocabulary import BY_KIND, ENTITY_FIELDS, TACTIC_ID, TECHNIQUE_NUMBER, Kind

# Patterns start with literals (no leading \b) so the regex engine can skip ahead fast; the word
# boundary before a match is checked in Python.
_CVES = led_by(("CVE", "cve", "Cve"), r"[-‐–]\d{4}[-‐–]\d{4,7}\b")
_TECHNIQUE_ID = re.compile(rf"T{TECHNIQUE_NUMBER}\b")  # upper case, as the knowledge base spells IDs
_ACTOR_SCHEMES = (
    *led_by(("APT",), r" ?-?\d{1,3}\b"),
    *led_by(("FIN",), r"\d{1,3}\b"),
    *led_by(("UNC",), r"\d{2,5}\b"),
    *led_by(("TA",), r"\d{3,4}\b"),
    *led_by(("DEV-", "Storm-"), r"\d{4}\b"),
    *led_by(("TEMP.",), r"[A-Z][a-z]{2,}\b"),
)
# The space before is checked in Python: a leading space would make every space a candidate.
_ANIMALS = led_by(
    (
        "Panda",
        "Bear",
        "Kitten",
        "Chollima",
        "Spider",
        "Typhoon",
        "Blizzard",
        "Sandstorm",
        "Sleet",
        "Tempest",
        "Jackal",
        "Libra",
        "Tiger",
    ),
    r"\b",
)
_HYPHEN_IN_WORD = re.compile(r"-(?<=[^\W_]-)")  # after a letter or digit ([^\W_] is exactly str.isalnum)
_CAPITALISED = re.compile(r"[A-Z][a-z]{2,}")
_SCHEME_STOP = frozenset({"The", "This", "That", "Its", "Their", "Teddy", "Giant", "Paper", "Tamil", "Celtic", "Big"})
_NAMES = frozenset({"ACTOR", "SOURCE", "MALWARE", "COUNTRY"})
_ROLES = {"ORG": "organisation", "COUNTRY": "country", "SECTOR": "sector"}
_MENTION_ORDER = operator.attrgetter("start", "end", "kind")  # (start, end, kind), read in C

#: Mentions kept per text: a 4 MiB body of 330k IP addresses is a data dump, not prose, and listing every
#: one cost 19 s and 364 MB to index. The pattern finders stop once they have this many, and the result
#: keeps the first this many; :func:`capped` tells callers to say so.
MAX_MENTIONS = 10_000

# ``Hit(*fields)`` without the Python-level ``__new__`` of a named tuple: the hot path builds thousands.
_new_hit = functools.partial(tuple.__new__, Hit)


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


CAPPED_NOTE = f"more than {MAX_MENTIONS:,} entity mentions; only the first {MAX_MENTIONS:,} are listed"


def capped(mentions: list[Mention]) -> bool:
    """Whether :func:`extract` stopped at :data:`MAX_MENTIONS` (there may be more in the text); say
    :data:`CAPPED_NOTE` when it did."""
    return len(mentions) >= MAX_MENTIONS


def extract(text: str) -> list[Mention]:
    """The mentions in ``text`` (at most :data:`MAX_MENTIONS`), sorted by (start, end, kind); no two of
    one kind overlap."""
    if not text or not text.strip():
        return []
    knowledge = get_knowledge()
    norm = normalise(text)
    hits, cues = _dictionary_hits(text, norm, knowledge)
    prose = Prose(text, norm, knowledge, cues)
    mentions: list[Mention] = [*_cves(text), *_iocs(text, knowledge)]
    blocked = [(m.start, m.end) for m in mentions]

    names = vendors_sharing_an_alias(prose, select(hits.get("NAME", []) + _scheme_actors(text, knowledge), blocked))
    introduced = introduced_actors(prose, names, hits["INTRO"]) if "INTRO" in hits else []
    if introduced:
        names = select(names + introduced, blocked)
    actors: list[tuple[int, int]] = []  # actor and source spans: no technique inside them
    names_blocked: list[tuple[int, int]] = []  # actor and malware spans: no victim inside them
    by_kind: defaultdict[str, list[Hit]] = defaultdict(list)  # the chosen names of each kind, in text order
    for hit in names:
        start, end, entry = hit
        kind = entry.kind
        by_kind[kind].append(hit)
        if kind == "ACTOR":
            country = knowledge.actor_country(entry.canonical) or ""
            mentions.append(Mention("ACTOR", start, end, text[start:end], entry.canonical, entry.ref, country))
            actors.append((start, end))
            names_blocked.append((start, end))
        elif kind == "MALWARE":
            mentions.append(Mention("MALWARE", start, end, text[start:end], entry.canonical, entry.ref))
            names_blocked.append((start, end))
        elif kind == "SOURCE":
            actors.append((start, end))

    techniques = hits.get("TECHNIQUE", []) + _technique_ids(text, knowledge)
    techniques += exploitation_hits(hits.get("EXPLOIT", []), prose, knowledge)
    techniques += action_hits(hits.get("ACTION", []), prose, knowledge)
    technique_spans: list[tuple[int, int]] = []
    for start, end, entry in select(techniques, blocked + actors):
        attack_id = refined(entry.ref, start, prose, knowledge)
        name = knowledge.technique_name(attack_id)
        mentions.append(Mention("TECHNIQUE", start, end, text[start:end], name, attack_id))
        technique_spans.append((start, end))

    # A victim never sits inside a malware or actor name or a technique phrase ("Data from Local System").
    for start, end, entry in victim_hits(prose, hits, by_kind, blocked + names_blocked + technique_spans):
        surface = text[start:end]
        mentions.append(Mention("VICTIM", start, end, surface, entry.canonical, entry.ref, _ROLES[entry.kind]))
    return sorted(mentions, key=_MENTION_ORDER)[:MAX_MENTIONS]


def _dictionary_hits(text: str, norm: str, knowledge: Knowledge) -> tuple[dict[str, list[Hit]], list[int]]:
    """Every dictionary key on word boundaries whose surface passes its case rule, grouped by kind
    (names under "NAME", one meaning per span), and the start of every targeting cue."""
    found: defaultdict[str, list[Hit]] = defaultdict(list)  # callers read absent kinds with .get()
    named = found["NAME"]
    cues: list[int] = []
    add_cue = cues.append
    key_entries = knowledge.key_entries
    hyphenated = {match.end() for match in _HYPHEN_IN_WORD.finditer(text)}
    for last, index in knowledge.automaton.iter(f" {norm} "):
        back, trim, group, fast = key_entries[index]
        start = last - back
        if not group:  # a targeting cue: only its position matters
            add_cue(start)
            continue
        if start in hyphenated:
            continue  # "phishing" inside "spear-phishing" is not a match of its own
        if fast:  # one meaning, any case, not a name: no checks needed
            found[fast].append(_new_hit((start, last - trim, group[0])))
            continue
        end = last - trim
        if len(group) == 1:  # one meaning (most names): its case rule, then where it goes
            entry = group[0]
            stop = _case_stop(entry, text, start, end)
            if stop < 0:
                continue
            kind = entry.kind
            if kind not in _NAMES:
                found[kind].append(_new_hit((start, stop, entry)))
            elif kind == "ACTOR" or kind == "MALWARE":
                named.append(_meaning([_new_hit((start, stop, entry))], norm, knowledge))
            else:
                named.append(_new_hit((start, stop, entry)))
            continue
        names: list[Hit] = []
        for entry in group:
            stop = _case_stop(entry, text, start, end)
            if stop < 0:
                continue
            if entry.kind in _NAMES:
                names.append(_new_hit((start, stop, entry)))
            else:
                found[entry.kind].append(_new_hit((start, stop, entry)))
        if names:
            plain = len(names) == 1 and names[0].entry.kind not in ("ACTOR", "MALWARE")
            named.append(names[0] if plain else _meaning(names, norm, knowledge))
    return found, cues


def _case_stop(entry: Entry, text: str, start: int, end: int) -> int:
    """Where a hit of ``entry`` on [start, end) ends when the text's spelling passes its case rule ("U.S."
    takes its final full stop), or -1."""
    case = entry.case
    if case == CASE_EXACT:
        surface = text[start:end]
        if surface not in entry.forms:
            return -1
        if text[end : end + 1] == "." and surface + "." in entry.forms:
            return end + 1
    elif case and text[start].isalpha() and not text[start].isupper():
        return -1
    return end


def _meaning(options: list[Hit], norm: str, knowledge: Knowledge) -> Hit:
    """One meaning per span: "Conti ransomware" and "infected with SeaDuke" are malware, "the Conti gang" an
    actor."""
    best = options[0] if len(options) == 1 else min(options, key=lambda h: PRIORITY[h.entry.kind])
    following = [word for word in norm[best.end : best.end + 32].split(None, 2)[:2] if word != "s"]
    word = following[0] if following else ""  # "SeaDuke's author": the possessive is skipped
    cues = knowledge.cues
    if best.entry.kind == "MALWARE" and (word in cues.get("group_nouns", ()) or word in cues.get("agent_verbs", ())):
        canonical = knowledge.canonical_actor(best.entry.canonical) or best.entry.canonical
        return Hit(best.start, best.end, Entry("ACTOR", canonical, knowledge.actor_ref(canonical), CASE_ANY))
    if best.entry.kind != "ACTOR":
        return best
    malware_context = word in cues.get("malware_nouns", frozenset()) or word in cues.get("malware_after", frozenset())
    if not malware_context and any(hit.entry.kind == "MALWARE" for hit in options):
        before = norm[max(0, best.start - 32) : best.start].split()[-2:]
        after_cues = cues.get("malware_before", frozenset())
        malware_context = bool(before) and (before[-1] in after_cues or " ".join(before) in after_cues)
    if not malware_context:
        return best
    for hit in options:
        if hit.entry.kind == "MALWARE":
            return hit
    return Hit(best.start, best.end, Entry("MALWARE", best.entry.canonical, "", CASE_ANY))


def _word_start(text: str, position: int) -> bool:
    return position == 0 or not (text[position - 1].isalnum() or text[position - 1] in "_-.")


def _scheme_actors(text: str, knowledge: Knowledge) -> list[Hit]:
    """Actors named by a naming scheme even when the galaxy lacks them (APT 99, UNC1234, Foo Panda)."""
    spans: list[tuple[int, int]] = [
        (m.start(), m.end())
        for m in scan(_ACTOR_SCHEMES, text)
        if _word_start(text, m.start()) and not TACTIC_ID.fullmatch(m.group())  # TA0001 is an ATT&CK tactic
    ]
    for match in scan(_ANIMALS, text):
        space = match.start() - 1  # " Panda"
        if space < 0 or text[space] != " ":
            continue
        head = text[max(0, space - 30) : space].rsplit(" ", 1)[-1]
        start = space - len(head)
        if _CAPITALISED.fullmatch(head) and head not in _SCHEME_STOP and _word_start(text, start):
            spans.append((start, match.end()))
    hits: list[Hit] = []
    for start, end in spans:
        surface = text[start:end]
        compact = re.sub(r"^APT[ -]+", "APT", surface)
        canonical = knowledge.canonical_actor(surface) or knowledge.canonical_actor(compact) or compact
        hits.append(Hit(start, end, Entry("ACTOR", canonical, knowledge.actor_ref(canonical), 0)))
    return hits


def _cves(text: str) -> list[Mention]:
    found: list[Mention] = []
    for match in scan(_CVES, text):
        if _word_start(text, match.start()):
            value = re.sub(r"[‐–]", "-", match.group().upper())
            found.append(Mention("VULN", match.start(), match.end(), match.group(), value, value))
            if len(found) == MAX_MENTIONS:
                break
    return found


def _iocs(text: str, knowledge: Knowledge) -> list[Mention]:
    found = itertools.islice(find_iocs(text, knowledge.ioc), MAX_MENTIONS)
    return [Mention("IOC", s, e, text[s:e], value, kind) for s, e, value, kind in found]


def _technique_ids(text: str, knowledge: Knowledge) -> list[Hit]:
    if "T1" not in text:
        return []
    return [
        Hit(m.start(), m.end(), Entry("TECHNIQUE", knowledge.technique_name(m.group()), m.group(), CASE_EXACT))
        for m in _TECHNIQUE_ID.finditer(text)
        if m.group() in knowledge.techniques and _word_start(text, m.start())
    ]


def index_terms(mentions: list[Mention]) -> dict[str, list[str]]:
    """Lower-case index terms per entity field; techniques carry every parent ID."""
    terms: dict[str, set[str]] = {name: set() for name in ENTITY_FIELDS}
    for mention in mentions:
        field = terms[BY_KIND[mention.kind].field]
        if mention.kind == "TECHNIQUE":
            ident = (mention.ref or mention.canonical).lower()
            field.add(ident)
            if "." in ident:
                field.add(ident.split(".", 1)[0])
        else:
            field.add(mention.canonical.lower())
    return {name: sorted(values) for name, values in terms.items()}

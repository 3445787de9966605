"""Actor rules beyond the dictionary: names a report introduces with a cue, and vendors that share an alias.

"a cluster we track as Grimwhale", "an actor dubbed Grimwhale", "the Grimwhale gang": a capitalised name
the galaxies do not know becomes an actor at the cue and at every later bare use in the same text.
"Leviathan Security Group published…": an alias followed by a company word is the vendor, not the actor.
The cues come from the one automaton pass (kind INTRO); each is checked with a bounded regex next to it,
and at most ``_MAX_NAMES`` names are spread through the text, so the pass stays linear.
"""

from __future__ import annotations

import re

from index.extract.prose import Prose
from index.extract.spans import Hit
from index.knowledge.model import CASE_ANY, Entry, Knowledge, key_of

_NAME = r"([A-Z][A-Za-z0-9]{2,24}(?:[ -][A-Z][A-Za-z0-9]{2,24})?)"
_AFTER_NAMING = re.compile(r"[ \n](?:the )?" + _NAME + r"\b")  # "dubbed| Grimwhale"
_BEFORE_GROUP = re.compile(_NAME + r" (?:ransomware |hacking |threat |hacker )?$")  # "Grimwhale |gang"
_NOUN_WINDOW = 6  # words before a naming cue searched for the noun it names
_MAX_NAMES = 16


def introduced_actors(prose: Prose, names: list[Hit], cues: list[Hit]) -> list[Hit]:
    """Actors the text introduces with a cue (INTRO hits), at the cue and wherever the bare name recurs."""
    text, knowledge = prose.text, prose.knowledge
    introduced: dict[str, str] = {}
    for cue in cues:
        if len(introduced) >= _MAX_NAMES:
            break
        if cue.entry.canonical == "naming":
            match = _AFTER_NAMING.match(text, cue.end)
            if match and _names_an_actor(prose, cue.start):
                _introduce(introduced, match.group(1), knowledge)
        else:
            match = _BEFORE_GROUP.search(text, max(0, cue.start - 64), cue.start)
            if match and (match.start() == 0 or not text[match.start() - 1].isalnum()):
                _introduce(introduced, match.group(1), knowledge)
    if not introduced:
        return []
    taken = {(h.start, h.end) for h in names}
    malware_nouns = knowledge.cues.get("malware_nouns", frozenset())
    found: list[Hit] = []
    for name, canonical in introduced.items():
        entry = Entry("ACTOR", canonical, knowledge.actor_ref(canonical), CASE_ANY)
        start = text.find(name)
        while start >= 0:
            end = start + len(name)
            whole = (start == 0 or not (text[start - 1].isalnum() or text[start - 1] in "-_.@")) and (
                end == len(text) or not (text[end].isalnum() or text[end] == "_")
            )
            following = [word for word in prose.words_after(end, 2) if word != "s"][:1] if whole else []
            if whole and (start, end) not in taken and not (following and following[0] in malware_nouns):
                found.append(Hit(start, end, entry))  # not "the Grimwhale backdoor": its malware
            start = text.find(name, end)
    return found


def _names_an_actor(prose: Prose, cue: int) -> bool:
    """Whether the nearest noun before a naming cue is an actor noun ("an actor dubbed"), not malware."""
    cues = prose.knowledge.cues
    actor_nouns, malware_nouns = cues.get("naming_actor_nouns", frozenset()), cues.get("malware_nouns", frozenset())
    for word in reversed(prose.words_before(cue, _NOUN_WINDOW)):
        if word in malware_nouns:
            return False
        if word in actor_nouns:
            return True
    return False


def _introduce(introduced: dict[str, str], name: str, knowledge: Knowledge) -> None:
    """Keep a name the galaxies do not already cover that is not a country, source, sector or cue word."""
    stop = knowledge.cues.get("introduced_stop", frozenset())
    words = name.split(" ")
    while words and words[0].lower() in stop:  # "The Grimwhale" (sentence start) → "Grimwhale"
        words.pop(0)
    name = " ".join(words)
    key = key_of(name)
    if not key or key in stop or words[-1].lower() in stop:
        return
    if key in knowledge.malware or key in knowledge.countries or key in knowledge.sources or key in knowledge.sectors:
        return
    introduced.setdefault(name, knowledge.canonical_actor(name) or name)


def vendors_sharing_an_alias(prose: Prose, names: list[Hit]) -> list[Hit]:
    """ "Leviathan Security Group": an actor alias followed by a capitalised company word is a source."""
    suffixes = prose.knowledge.cues.get("company_suffixes", frozenset())
    text = prose.text
    result: list[Hit] = []
    for hit in names:
        if hit.entry.kind == "ACTOR":
            word = _COMPANY_WORD.match(text, hit.end)
            if word and word.group(1).lower() in suffixes:
                hit = Hit(hit.start, word.end(), Entry("SOURCE", text[hit.start : word.end()], "", CASE_ANY))
        result.append(hit)
    return result


_COMPANY_WORD = re.compile(r" ([A-Z][A-Za-z]{1,20})")

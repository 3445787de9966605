"""Actor rules beyond the dictionary: names a report introduces with a cue, and vendors that share an alias.

"a cluster we track as Grimwhale", "an actor dubbed Grimwhale", "the Grimwhale gang": a capitalised name
the galaxy does not know becomes an actor at the cue and at every later bare use in the same text.
"Leviathan Security Group published…": an alias followed by a company word is the vendor, not the actor.
Every rule is one regex scan or a few words of context, so the pass stays linear.
"""

from __future__ import annotations

import re

from index.extract.prose import Prose
from index.extract.spans import Hit
from index.knowledge.model import CASE_ANY, Entry, Knowledge, key_of

_NAME = r"([A-Z][A-Za-z0-9]{2,24}(?:[ -][A-Z][A-Za-z0-9]{2,24})?)"
# "tracked as X", "dubbed X": the name follows a naming cue (whose noun is checked in Python).
_NAMING = re.compile(
    r"\b(?:track(?:s|ed)? (?:it |them |this (?:activity|cluster|group|actor) )?as|dubbed|known as|nicknamed|"
    r"calls? (?:itself|themselves)|called|designated|self-styled|going by|goes by|under the name) (?:the )?" + _NAME
)
# "the X gang", "X affiliates": the name precedes a group noun.
_GROUP = re.compile(
    r"\b(?:[Tt]he )?" + _NAME + r" (?:ransomware |hacking |threat |hacker )?"
    r"(?:gang|crew|affiliates|cartel|syndicate|collective|hacking group|threat group|threat actor|APT group)\b"
)
_NOUN_WINDOW = 6  # words before a naming cue searched for the noun it names
_MAX_SAME_START = 4  # introduced names sharing a first word (keeps the spreading pass linear)


def introduced_actors(prose: Prose, names: list[Hit]) -> list[Hit]:
    """Actors the text introduces with a cue, at the cue and wherever the bare name recurs."""
    text, knowledge = prose.text, prose.knowledge
    if not _has_cue(prose.norm):
        return []
    introduced: dict[str, str] = {}
    for match in _NAMING.finditer(text):
        if _names_an_actor(prose, match.start()):
            _introduce(introduced, match.group(1), knowledge)
    for match in _GROUP.finditer(text):
        _introduce(introduced, match.group(1), knowledge)
    if not introduced:
        return []
    taken = {(h.start, h.end) for h in names}
    by_first: dict[str, list[str]] = {}
    for name in introduced:
        listed = by_first.setdefault(name.split(" ")[0].split("-")[0], [])
        if len(listed) < _MAX_SAME_START:
            listed.append(name)
    malware_nouns = knowledge.cues.get("malware_nouns", frozenset())
    found: list[Hit] = []
    for word in re.finditer(r"[A-Z][A-Za-z0-9]{2,24}", text):
        for name in sorted(by_first.get(word.group(), ()), key=len, reverse=True):
            start, end = word.start(), word.start() + len(name)
            if not text.startswith(name, start) or (end < len(text) and (text[end].isalnum() or text[end] == "_")):
                continue
            if (start, end) in taken or (start > 0 and text[start - 1] in "-_.@"):
                break
            following = [word for word in prose.words_after(end, 2) if word != "s"][:1]
            if following and following[0] in malware_nouns:
                break  # "Grimwhale backdoor": the group's malware carries its name
            canonical = introduced[name]
            found.append(Hit(start, end, Entry("ACTOR", canonical, knowledge.actor_ref(canonical), CASE_ANY)))
            break
    return found


_CUES = (
    "as",
    "dubbed",
    "known",
    "called",
    "named",
    "gang",
    "crew",
    "affiliates",
    "cartel",
    "syndicate",
    "collective",
    "group",
    "actor",
    "styled",
    "goes",
    "going",
    "itself",
    "themselves",
)


def _has_cue(norm: str) -> bool:
    """A cheap test before the regexes: most texts introduce no one."""
    return any(f" {cue} " in norm for cue in _CUES)


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
    key = key_of(name)
    stop = knowledge.cues.get("introduced_stop", frozenset())
    if key in knowledge.malware or key in knowledge.countries or key in knowledge.sources or key in knowledge.sectors:
        return
    if key.split(" ")[0] in stop or key in stop:
        return
    introduced.setdefault(name, knowledge.canonical_actor(name) or name)


def vendors_sharing_an_alias(prose: Prose, names: list[Hit]) -> list[Hit]:
    """ "Leviathan Security Group": an actor alias followed by a capitalised company word is a source."""
    suffixes = prose.knowledge.cues.get("company_suffixes", frozenset())
    text = prose.text
    result: list[Hit] = []
    for hit in names:
        if hit.entry.kind == "ACTOR":
            word = re.match(r" ([A-Z][A-Za-z]+)", text[hit.end : hit.end + 24])
            if word and word.group(1).lower() in suffixes:
                end = hit.end + word.end()
                hit = Hit(hit.start, end, Entry("SOURCE", text[hit.start : end], "", CASE_ANY))
        result.append(hit)
    return result

"""Technique candidates beyond plain phrases: verb + object rules, exploitation, sub-technique refinement."""

from __future__ import annotations

import functools
import re

from index.extract.prose import Prose
from index.extract.spans import Hit
from index.knowledge.model import CASE_ANY, Entry, Knowledge

_WORD = re.compile(r"\S+")
_AHEAD = 5  # words between a verb and its object
_BEHIND = 3  # words between an object and a passive verb ("computers were wiped")


@functools.cache
def _last_words(phrases: frozenset[str]) -> frozenset[str]:
    """ "zero day" → "day": the word that ends each (normalised) phrase."""
    return frozenset(phrase.split(" ")[-1] for phrase in phrases if phrase)


def _words(prose: Prose, start: int, end: int) -> list[re.Match[str]]:
    return list(_WORD.finditer(prose.norm, start, end))


#: A verb and its object never sit on both sides of one of these ("stolen credentials or stolen cookies").
_CONJUNCTIONS = frozenset({"and", "or", "but", "nor"})
#: What may stand between an object and the verb after it: "computers were wiped", not "implant that fetched".
_PASSIVE_GAP = frozenset(
    {"was", "were", "is", "are", "be", "been", "being", "has", "have", "had", "also", "then", "later", "all"}
)


def _object_after(prose: Prose, words: list[re.Match[str]], starting: dict[str, tuple[str, ...]]) -> int:
    """End offset of the longest object phrase (``starting``: by first word) starting at one of ``words``
    before any conjunction, or 0."""
    norm = prose.norm
    for word in words[:_AHEAD]:
        if word.group() in _CONJUNCTIONS:
            return 0
        if word.group() not in starting:
            continue
        tail = norm[word.start() : word.start() + 48]
        for phrase in starting[word.group()]:
            if tail.startswith(phrase) and (len(tail) == len(phrase) or tail[len(phrase)] == " "):
                return word.start() + len(phrase)
    return 0


def _object_before(prose: Prose, words: list[re.Match[str]], ending: dict[str, tuple[str, ...]]) -> int:
    """Start offset of the longest object phrase (``ending``: by last word) ending at one of ``words`` (nearest
    first) with only auxiliaries between it and the verb, or -1."""
    norm = prose.norm
    for word in reversed(words[-_BEHIND:]):
        if word.group() in ending:
            head = norm[max(0, word.end() - 48) : word.end()]
            for phrase in ending[word.group()]:
                if head.endswith(phrase) and (len(head) == len(phrase) or head[-len(phrase) - 1] == " "):
                    return word.end() - len(phrase)
        if word.group() not in _PASSIVE_GAP:
            return -1
    return -1


def action_hits(verbs: list[Hit], prose: Prose, knowledge: Knowledge) -> list[Hit]:
    """ "wiped thousands of computers", "credentials stolen": verb + object rules from techniques.yaml."""
    found: list[Hit] = []
    norm = prose.norm
    tables = knowledge.action_rules
    for start, end, verb in verbs:
        firsts, lasts, rules = tables[verb.canonical]
        ahead = norm[end : end + 80].split(None, _AHEAD)[:_AHEAD]  # maxsplit: no list of words never read
        behind = norm[max(0, start - 60) : start].rsplit(None, _BEHIND)[-_BEHIND:]
        if firsts.isdisjoint(ahead) and lasts.isdisjoint(behind):
            continue  # no object of any of the verb's rules nearby: most verbs, rejected in C
        candidates = [rule for rule in rules if not rule.firsts.isdisjoint(ahead) or not rule.lasts.isdisjoint(behind)]
        if not candidates:
            continue
        sentence = prose.sentence(start)
        after = _words(prose, end, min(sentence[1], end + 120))[:_AHEAD]
        before: list[re.Match[str]] | None = None
        for rule in candidates:
            span_end = _object_after(prose, after, rule.by_first)
            span_start = start
            if not span_end:
                if before is None:
                    before = _words(prose, max(sentence[0], start - 80), start)[-_BEHIND:]
                span_start, span_end = _object_before(prose, before, rule.by_last), end
                if span_start < 0:
                    continue
            found.append(Hit(span_start, span_end, rule.entry))
            break
    return found


def _ends_phrase(norm: str, end: int, phrases: frozenset[str]) -> bool:
    """Whether a whole phrase ends at ``end`` ("zero day", not just "day" of "within days")."""
    head = norm[max(0, end - 48) : end]
    return any(head.endswith(p) and (len(head) == len(p) or head[-len(p) - 1] == " ") for p in phrases if p)


def exploitation_hits(verbs: list[Hit], prose: Prose, knowledge: Knowledge) -> list[Hit]:
    """ "exploited a zero-day", "exploiting a flaw in Exchange": T1190 for servers, else T1203."""
    cues = knowledge.cues
    vuln_nouns = cues.get("vuln_nouns", frozenset())
    vuln_words = _last_words(vuln_nouns)
    found: list[Hit] = []
    for verb in verbs:
        sentence = prose.sentence(verb.start)
        end = 0
        for word in _words(prose, verb.end, min(sentence[1], verb.end + 80))[:6]:
            if word.group() in vuln_words and _ends_phrase(prose.norm, word.end(), vuln_nouns):
                end = verb.end if word.group() == "cve" else word.end()
                break
        if not end:
            continue
        server = prose.cue_words(sentence[0], sentence[1], cues.get("server_cues", frozenset()))
        attack_id = "T1190" if server else "T1203"
        found.append(Hit(verb.start, end, Entry("TECHNIQUE", knowledge.technique_name(attack_id), attack_id, CASE_ANY)))
    return found


def refined(attack_id: str, start: int, prose: Prose, knowledge: Knowledge) -> str:
    """A more specific ID when a cue word in the sentence supports it ("phishing" + "attachment")."""
    rules = knowledge.refine.get(attack_id)
    if rules:
        low, high = prose.sentence(start)
        for cues, better in rules:
            if prose.cue_words(low, high, cues):
                return better
    return attack_id

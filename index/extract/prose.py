"""Reading the context around a candidate: sentences, targeting cues, roles, organisation spans.

All work here is local (a few words either side) or one linear pass, so extraction stays linear.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from itertools import repeat

from index.knowledge.model import Knowledge, key_of

# A sentence ends at . ! ? followed by whitespace, after a lower-case letter, digit or closing quote
# (so "U.S. officials" holds together), or at a blank line. One pattern per stop character and one for blank
# lines, each starting with a literal (the look-behind sits after it), so the engine scans for the literal at
# C speed (a character class would be tested at every position); their matches never overlap, so merging the
# lists gives the same boundaries as one alternation.
_SENTENCE_STOPS = tuple(re.compile(rf"\{mark}(?<=[a-z0-9)\"”’]\{mark})(?=\s)") for mark in ".!?")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_WINDOW = 80
_NORM_WORD = re.compile(r"\S+")
_NAME_WORDS = 5
_ORG_WORDS = 8
_TRIM = ",.;:!?)]}\"'”’"


def sentence_starts(text: str) -> list[int]:
    """Offsets where sentences start (the first is 0)."""
    stops = [match.end() for pattern in _SENTENCE_STOPS for match in pattern.finditer(text)]
    if "\n" in text:
        stops += [match.end() for match in _BLANK_LINE.finditer(text)]
    stops.sort()
    return [0, *stops]


class Prose:
    """Sentence boundaries and targeting cues of one text, computed once per extraction."""

    def __init__(self, text: str, norm: str, knowledge: Knowledge, cues: list[int]) -> None:
        self.text = text
        self.norm = norm
        self.knowledge = knowledge
        self.starts = sentence_starts(text)
        self.ends = [*self.starts[1:], len(text)]
        self.cues = sorted(cues)
        self._fragments: dict[tuple[int, int], tuple[str, frozenset[str]]] = {}  # cue_words per sentence
        self.cued = [False] * len(self.starts)  # sentence index -> has a targeting cue
        for after in set(map(bisect_right, repeat(self.starts), self.cues)):  # one per cued sentence, found in C
            self.cued[after - 1] = True

    def sentence(self, pos: int) -> tuple[int, int]:
        """The sentence holding ``pos`` as (start, end)."""
        index = bisect_right(self.starts, pos) - 1
        return self.starts[index], self.ends[index]

    def has_cue(self, start: int, end: int) -> bool:
        """Whether a targeting cue starts within [start, end)."""
        index = bisect_left(self.cues, start)
        return index < len(self.cues) and self.cues[index] < end

    def cue_in_sentence(self, pos: int, spread: int = 0) -> bool:
        """A targeting cue in the sentence of ``pos`` (or up to ``spread`` sentences either side)."""
        index = bisect_right(self.starts, pos) - 1
        if not spread:
            return self.cued[index]
        return any(self.cued[max(0, index - spread) : index + spread + 1])

    def words_after(self, pos: int, count: int) -> list[str]:
        """The next ``count`` normalised words after ``pos`` (within the sentence)."""
        limit = self.ends[bisect_right(self.starts, pos) - 1] if pos < len(self.text) else pos
        return self.norm[pos : min(limit, pos + _WINDOW)].split(None, count)[:count]  # stop splitting early

    def word_matches_after(self, pos: int, count: int) -> list[re.Match[str]]:
        """Like :meth:`words_after`, with offsets."""
        limit = self.sentence(pos)[1] if pos < len(self.text) else pos
        return list(_NORM_WORD.finditer(self.norm, pos, min(limit, pos + _WINDOW)))[:count]

    def words_before(self, pos: int, count: int) -> list[str]:
        """The ``count`` normalised words before ``pos`` (within the sentence), nearest last."""
        if not count:
            return []
        limit = self.starts[bisect_right(self.starts, max(0, pos - 1)) - 1]
        return self.norm[max(limit, pos - _WINDOW) : pos].rsplit(None, count)[-count:]  # stop splitting early

    def cue_words(self, start: int, end: int, cues: frozenset[str]) -> bool:
        """Whether any cue word (or multi-word cue) occurs in the normalised text [start, end)."""
        found = self._fragments.get((start, end))
        if found is None:
            fragment = f" {self.norm[start:end]} "
            found = self._fragments[(start, end)] = (fragment, frozenset(fragment.split()))
        fragment, tokens = found
        if not tokens.isdisjoint(cues):
            return True
        return any(f" {cue} " in fragment for cue in cues if " " in cue)


_COPULA = frozenset({"is", "are", "was", "were", "be", "appear", "appeared", "seem", "seemed"})
_PRICE = re.compile(r" ?[$€£¥]| ?\d")
_FILLER = frozenset({"the", "a", "an", "on", "to", "with", "s"})


def country_role(prose: Prose, start: int, end: int, canonical: str, actor_countries: set[str]) -> str:
    """``origin``, ``victim`` or ``neutral`` for a country or demonym mention, from local context."""
    cues = prose.knowledge.cues
    text = prose.text
    if text[end : end + 1] in ("-", "‐"):
        suffix = prose.words_after(end, 1)
        if suffix and suffix[0] in cues["origin_suffixes"]:
            return "origin"
        if suffix and suffix[0] == "based":
            return "origin" if set(prose.words_after(end, 3)[1:]) & cues["actor_nouns"] else "neutral"
    if _PRICE.match(text, end):  # "sold for US $150", "US$2 million": a currency, not a place
        return "neutral"
    direct = _after(prose, end)
    if direct in ("origin", "neutral"):
        return direct
    before = [word for word in prose.words_before(start, 5) if word not in _FILLER][-3:]
    if before and before[-1] in cues["attribution"]:  # "blamed on Iran", "linked to Russia"
        return "origin"
    if len(before) >= 2 and before[-1] in _COPULA and before[-2] in cues["actor_nouns"]:
        return "origin"  # "the attackers were Chinese"
    if len(before) >= 2 and before[-1] in cues["origin_before"]:
        if before[-2] in cues["origin_before_heads"]:
            return "origin"
        if before[-2] in cues["neutral_before_heads"]:
            return "neutral"
    if direct in ("victim", "weak"):
        return "victim" if prose.cue_in_sentence(start, spread=1 if direct == "victim" else 0) else "neutral"
    if canonical in actor_countries:
        return "origin"
    return "victim" if prose.cue_in_sentence(start) else "neutral"


def _after(prose: Prose, end: int) -> str:
    """What the words right after a country say: origin (hackers), victim (ministries), weak (a victim noun
    that also names reporters: officials), neutral, or ''."""
    cues = prose.knowledge.cues
    for word in prose.words_after(end, 4):
        if word == "s":  # the possessive "'s" after normalisation
            continue
        if word in cues["actor_nouns"]:
            return "origin"
        if word in cues["origin_modifiers"]:
            continue
        if word in cues["victim_nouns"]:  # "US officials" can be either: only a same-sentence cue decides
            return "weak" if word in cues["neutral_after"] else "victim"
        if word in cues["neutral_after"]:
            return "neutral"
        break
    return ""


def organisation_span(prose: Prose, head_start: int, head_end: int) -> tuple[int, int] | None:
    """Grow a capitalised name around an organisation head word; ``None`` when it is a bare head."""
    org = prose.knowledge.org
    stop, connectors, heads = org["stop_left"], org["connectors"], org["heads"]
    countries = prose.knowledge.countries
    text = prose.text
    start = head_start
    for _ in range(_ORG_WORDS):  # leftwards: "National Election" + Commission
        word = _previous_word(text, start)
        if word is None or not _capitalised(word) or word in stop or not word[-1].isalnum():
            break
        if word.endswith(("'s", "’s")):
            break
        if countries.get(word.lower() if word.isalpha() else key_of(word)) not in (None, word):
            if start == head_start:  # "Cambodian Senate": the demonym is part of a bare head's name
                start -= len(word) + 1
            break  # "Cambodian National Election Commission": the demonym stays outside
        start -= len(word) + 1
    end = head_end if text[head_end - 1] == "." else _grow_right(text, head_end, connectors, heads, stop)
    if (start, end) == (head_start, head_end):
        return None
    return start, end


def _previous_word(text: str, pos: int) -> str | None:
    """The word ending one whitespace character before ``pos``, or ``None``."""
    window = text[max(0, pos - 40) : pos]
    if len(window) < 2 or window[-1] not in " \n" or window[-2].isspace():
        return None
    return window[:-1].split()[-1]


def _next_word(text: str, pos: int) -> tuple[str | None, bool]:
    """The word starting one whitespace character after ``pos`` without trailing punctuation,
    and whether punctuation was trimmed."""
    window = text[pos : pos + 40]
    if len(window) < 2 or window[0] not in " \n" or window[1].isspace():
        return None, False
    raw = window[1:].split(None, 1)[0]
    trimmed = raw.rstrip(_TRIM)
    return trimmed, trimmed != raw


def _grow_right(text: str, end: int, connectors: frozenset[str], heads: frozenset[str], stop: frozenset[str]) -> int:
    """Extend over capitalised words, and connectors followed by one: "Ministry" + "of Foreign Affairs"."""
    for _ in range(_ORG_WORDS):
        word, punctuated = _next_word(text, end)
        if not word:
            break
        if word in connectors and not punctuated:
            following, _ = _next_word(text, end + 1 + len(word))
            if not following or not _capitalised(following) or following in stop:
                break
            if word == "and" and following in heads:
                break
            end += 1 + len(word)
            continue
        if not _capitalised(word) or word in stop:
            break
        end += 1 + len(word)
        if punctuated:
            break
    return end


def _capitalised(word: str) -> bool:
    return len(word) > 1 and word[0].isupper()


def _name_like(word: str) -> bool:
    """A word that can be part of a proper name: capitalised or a digit-led brand ("3M", "TV5Monde")."""
    return len(word) > 1 and (word[0].isupper() or (word[0].isdigit() and any(c.isupper() for c in word)))


def capitalised_run(prose: Prose, pos: int, *, forward: bool) -> tuple[int, int] | None:
    """The run of capitalised words right after (or right before) ``pos``: "Sky Mavis", "AT&T"."""
    text, stop = prose.text, prose.knowledge.org["stop_left"]
    if forward:
        start, end = -1, pos
        for _ in range(_NAME_WORDS):
            word, punctuated = _next_word(text, end)
            if not word or word in stop:
                break
            possessive = word.endswith(("'s", "’s"))
            word = word[:-2] if possessive else word
            if not _name_like(word):
                break
            start = end + 1 if start < 0 else start
            end += 1 + len(word)
            if punctuated or possessive:
                break
        return (start, end) if start >= 0 else None
    begin = pos - 1 if pos > 0 and text[pos - 1] == " " else pos
    first = begin
    for _ in range(_NAME_WORDS):
        word = _previous_word(text, first + 1) if first < len(text) and text[first] == " " else None
        if word is None or word in stop or not _name_like(word) or not word[-1].isalnum():
            break
        first -= len(word) + 1
    return (first + 1, begin) if first != begin else None

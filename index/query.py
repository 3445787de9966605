"""The query language: whoosh syntax plus Spyglass fields, made safe before whoosh sees it.

This layer never imports whoosh. It pulls out what whoosh cannot do (``is:`` triage filters, ``note:``,
the user's own tags that ``tag:`` also matches, ``sort:``), checks dates so a typo gives a message
instead of silently matching nothing, refangs IoCs, quotes everything in "plain words" mode, and
supplies the expansions (actor aliases, technique names) that the engine applies to entity terms.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from index.vocabulary import BY_KIND, ENTITY_FIELDS, FACET_KINDS, KINDS, is_technique_id, technique_id

if TYPE_CHECKING:
    from index.knowledge import Knowledge

MAX_QUERY_CHARS = 1000
#: ``is:`` word → (state flag, wanted value).
IS_FILTERS: dict[str, tuple[str, bool]] = {
    "unread": ("read", False),
    "read": ("read", True),
    "starred": ("starred", True),
    "flagged": ("flagged", True),
    "archived": ("archived", True),
}
SORTS = ("date", "relevance")
OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})
#: Field names users may type (case-insensitive) → the name the engine knows.
FIELDS = {
    "title": "title", "body": "body", "tag": "tags", "tags": "tags", "source": "source", "date": "date",
    **{name: info.field for info in KINDS for name in (info.field, info.query_field)},
}  # fmt: skip
#: Fields whose values are highlighted in the text; a technique is searched by ID or name, rarely as written.
_HIGHLIGHTED_FIELDS = frozenset({"title", "body", "tags", *ENTITY_FIELDS}) - {"technique"}
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_RANGE = re.compile(r"[\[{]\s*(?:(\S+?)\s+)?to(?:\s+(\S+?))?\s*[\]}]", re.IGNORECASE)
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<paren>[()])
    | (?P<phrase>"[^"]*"?)
    | (?P<field>[A-Za-z]+):(?P<value>"[^"]*"?|'[^']*'?|[\[{][^\]}]*[\]}]?
        | (?:[^\s()] | (?<=[^\s(:])\((?:\.|(?i:dot|at))\))*)  # a defang "(dot)" inside a value is no group
    | (?P<word>[^\s()"]+|")
    """,
    re.VERBOSE,
)
DATE_HELP = "use date:2018, date:2018-07, date:2018-07-11 or date:[2018-01 to 2018-06]"
#: Fields whose top-level ANDed terms the catalog's columns can answer (besides ``tag:``, kept in ``tags``).
COLUMN_FIELDS = frozenset({"date", *(BY_KIND[kind].field for kind in FACET_KINDS)})
#: A value that the engine reads as exactly one keyword term: no pattern, range, boost, list or escape.
_KEYWORD_VALUE = re.compile(r'[^\s"\'()\[\]{}*?~^,\\:]+|"[^"*?,\\:]+"')


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A user's query split into what the engine parses and what Spyglass applies itself."""

    text: str  # whoosh syntax; "" means "every post"
    flags: tuple[tuple[str, bool], ...] = ()  # (state flag, wanted value) from is:
    show_archived: bool = False
    sort: str | None = None
    terms: tuple[str, ...] = ()  # words and phrases to highlight
    error: str | None = None
    notes: tuple[str, ...] = field(default=())
    #: ``tag:`` terms ANDed with the whole query, as (whoosh term, tag): a post matches one when its own
    #: front matter has the tag or the user tagged it so. A ``tag:`` under OR, NOT or parentheses stays in
    #: ``text`` and matches front-matter tags only.
    tags: tuple[tuple[str, str], ...] = ()
    #: ``note:`` words as (word, wanted): the note contains the word (any case, any part of a word).
    note_words: tuple[tuple[str, bool], ...] = ()
    #: ``date:`` and actor, victim and technique terms ANDed with the whole query, as (field, value): the
    #: checked date value, or the keyword term. They are not in ``text``; :meth:`engine_text` adds them back
    #: for a search that cannot answer them from the catalog's columns.
    filters: tuple[tuple[str, str], ...] = ()

    def engine_text(self, filters: Sequence[tuple[str, str]] | None = None) -> str:
        """``text`` ANDed with ``filters`` (default: all of ``self.filters``) in engine syntax."""
        terms = [
            f"date:{value}" if name == "date" else f'{name}:"{value}"'
            for name, value in (self.filters if filters is None else filters)
        ]
        if not terms:
            return self.text
        return " ".join([f"({self.text})", *terms] if self.text else terms)


def _valid_date(text: str) -> bool:
    match = _DATE.fullmatch(text)
    if match is None:
        return False
    year, month, day = (int(part) if part else None for part in match.groups())
    if month is not None and not 1 <= month <= 12:
        return False
    if day is not None and month is not None and year is not None:
        return 1 <= day <= calendar.monthrange(year, month)[1]
    return True


def _date_value(value: str) -> str | None:
    """The value of ``date:`` checked and normalised for whoosh; ``None`` when not understood."""
    value = value.strip("'\"")
    if match := _RANGE.fullmatch(value):
        start, end = match.groups()
        if not (start or end) or any(part and not _valid_date(part) for part in (start, end)):
            return None
        return f"[{start} to {end}]" if start and end else (f"[{start} to]" if start else f"[to {end}]")
    return value if _valid_date(value) else None


def date_bounds(value: str) -> tuple[datetime | None, datetime | None] | None:
    """The span of a checked ``date:`` value as the engine reads it: (first instant, the instant after the
    last), ``None`` for an open end; ``None`` when a bound is no date (year 0). A span ending after year
    9999 is open: no date lies beyond it."""

    def period(text: str) -> tuple[datetime, datetime | None]:
        match = _DATE.fullmatch(text)
        if match is None:
            raise ValueError(text)
        year, month, day = (int(part) if part else 0 for part in match.groups())
        start = datetime(year, month or 1, day or 1)
        if day:
            last = (year, month, day + 1) if day < calendar.monthrange(year, month)[1] else (year, month + 1, 1)
        else:
            last = (year, month + 1, 1) if month else (year + 1, 1, 1)
        if last[1] == 13:
            last = (last[0] + 1, 1, 1)
        return start, datetime(*last) if last[0] <= 9999 else None

    try:
        if match := _RANGE.fullmatch(value):
            first, last = match.groups()
            return (period(first)[0] if first else None), (period(last)[1] if last else None)
        return period(value)
    except ValueError:
        return None


def keyword_term(value: str) -> str | None:
    """The one keyword term the engine makes of a field's value (``"Lazarus Group"`` → ``lazarus group``);
    ``None`` for anything else (a pattern, a list, single quotes, a defanged or spaced-out value)."""
    if not _KEYWORD_VALUE.fullmatch(value):
        return None
    term = _unquote(value)
    return term.lower() if term and term == " ".join(term.split()) else None


def _unquote(value: str) -> str:
    return value.strip("\"'").strip()


def _single_quoted(value: str) -> str:
    """A whoosh single-quoted term: kept whole, one token, whatever punctuation it holds."""
    return "'" + value.replace("'", " ").strip() + "'"


def _top_level_or(tokens: Sequence[re.Match[str]]) -> bool:
    """Whether an ``OR`` joins terms outside parentheses (``(a OR b) tag:x`` still ANDs the tag)."""
    depth = 0
    for match in tokens:
        token = match.group()
        depth += 1 if token == "(" else -1 if token == ")" else 0
        if depth <= 0 and match.lastgroup == "word" and token == "OR":
            return True
    return False


def _drop_not(out: list[str]) -> None:
    """Take back the ``NOT`` already written for a term that is applied outside whoosh."""
    while out and not out[-1].strip():
        out.pop()
    if out and out[-1] in ("NOT", "ANDNOT"):
        out.pop()


def _binary_follows(tokens: Sequence[re.Match[str]], index: int) -> bool:
    """Whether the token after ``tokens[index]`` is an operator that takes it as its left operand."""
    following = next((match.group() for match in tokens[index + 1 :] if match.lastgroup != "space"), "")
    return following in ("ANDNOT", "ANDMAYBE")


def _drop_and(out: list[str]) -> None:
    """Take back an ``AND`` already written before a term that is applied outside whoosh."""
    while out and not out[-1].strip():
        out.pop()
    if out and out[-1] == "AND":
        out.pop()


def parse_query(query: str, *, plain: bool = False) -> ParsedQuery:
    """Split ``query``; never raises. Problems come back in ``error`` with nothing to search."""
    if len(query) > MAX_QUERY_CHARS:
        return ParsedQuery("", error=f"query too long ({len(query):,} characters; the limit is {MAX_QUERY_CHARS:,})")
    if plain:
        words = [word for word in query.replace('"', " ").split() if word]
        text = " ".join(f'"{word}"' for word in words)
        return ParsedQuery(text, terms=tuple(dict.fromkeys(words)))
    out: list[str] = []
    flags: list[tuple[str, bool]] = []
    terms: list[str] = []
    sort: str | None = None
    show_archived = False
    negate = False
    tags: list[tuple[str, str]] = []
    note_words: list[tuple[str, bool]] = []
    filters: list[tuple[str, str]] = []
    maybe = dangling_and = False
    tokens = list(_TOKEN.finditer(query))
    anded = not _top_level_or(tokens)  # own tags and notes apply to the whole query: an AND at the top only
    depth = 0
    for index, match in enumerate(tokens):
        kind = match.lastgroup
        token = match.group()
        if kind == "space" or kind == "paren":
            depth += 1 if token == "(" else -1 if token == ")" else 0
            out.append(token)
            continue
        was_negated, negate = negate, False
        was_maybe, maybe = maybe, False
        if dangling_and and token == "AND":  # the AND joined a term that went to the columns
            dangling_and = False
            continue
        dangling_and = False
        # A term ANDed with the whole query, not the left operand of ANDNOT/ANDMAYBE: the columns may answer it.
        columnable = anded and not depth and not was_negated and not was_maybe and not _binary_follows(tokens, index)
        if kind == "phrase":
            if not was_negated and _unquote(token):
                terms.append(_unquote(token))
            out.append(token if token.endswith('"') and len(token) > 1 else token + '"')
            continue
        if kind == "word":
            if token in OPERATORS:
                negate = token in ("NOT", "ANDNOT")
                maybe = token == "ANDMAYBE"
            elif token[:6].lower() == "-note:":  # "-note:x" is the same as "NOT note:x"
                word = _unquote(token[6:])
                if not word or depth or not anded:
                    return ParsedQuery("", error="note: needs a word and cannot sit under OR or ( )")
                note_words.append((word, False))
                continue
            elif token.startswith("-") and len(token) > 1:
                token, was_negated = token[1:], True  # "-word" means NOT word, as in most search boxes
                out.append("NOT ")
            elif not was_negated and token.strip("*?") and token != '"':
                terms.append(token.strip("*?"))
            out.append(token)
            continue
        name, value = match.group("field").lower(), match.group("value")
        if name == "is":
            word = _unquote(value).lower()
            if word not in IS_FILTERS:
                return ParsedQuery("", error=f"unknown filter is:{word} (use {', '.join(IS_FILTERS)})")
            flags.append(IS_FILTERS[word])
            show_archived = show_archived or word == "archived"
            continue
        if name == "note":
            word = _unquote(value)
            if not word:
                return ParsedQuery("", error="note: needs a word, e.g. note:follow-up")
            if depth or not anded:
                return ParsedQuery("", error="note: applies to the whole query; it cannot sit under OR or ( )")
            if was_negated:
                _drop_not(out)
            note_words.append((word, not was_negated))
            continue
        if name == "sort":
            word = _unquote(value).lower()
            if word not in SORTS:
                return ParsedQuery("", error=f"unknown sort:{word} (use sort:date or sort:relevance)")
            sort = word
            continue
        target = FIELDS.get(name)
        if target is None:
            out.append(token)  # not one of ours: whoosh searches it as text
            if not was_negated:
                terms.append(token)
            continue
        if target == "date":
            if not value:
                return ParsedQuery("", error=f"date: needs a value; {DATE_HELP}")
            checked = _date_value(value)
            if checked is None:
                return ParsedQuery("", error=f"date:{value} not understood; {DATE_HELP}")
            if columnable:
                _drop_and(out)
                filters.append(("date", checked))
                dangling_and = True
                continue
            out.append(f"date:{checked}")
            continue
        if target == "ioc" and value and value[0] not in "(":
            from index.extract.iocs import refang  # imported when used: parsing runs in every search process

            value = _single_quoted(refang(_unquote(value)).lower())
        elif value.startswith("'") and target != "title" and target != "body":
            value = _single_quoted(_unquote(value))
        if target == "tags" and anded and not depth and not was_negated and _unquote(value):
            tags.append((f"{target}:{value}", _unquote(value)))
            terms.append(_unquote(value))
            continue
        if target in _HIGHLIGHTED_FIELDS and not was_negated and _unquote(value):
            terms.append(_unquote(value))
        if target in COLUMN_FIELDS and columnable and (term := keyword_term(value)) is not None:
            _drop_and(out)
            filters.append((target, term))
            dangling_and = True
            continue
        out.append(f"{target}:{value}")
    text = "".join(out).strip()
    return ParsedQuery(
        text,
        tuple(flags),
        show_archived,
        sort,
        tuple(dict.fromkeys(term for term in terms if term)),
        tags=tuple(tags),
        note_words=tuple(note_words),
        filters=tuple(filters),
    )


def get_knowledge() -> Knowledge:
    """The entity knowledge, imported when a term first needs it: most searches parse a query and never do."""
    from index.knowledge import get_knowledge as loaded

    return loaded()


def expand_term(fieldname: str, value: str) -> Sequence[str]:
    """Index terms that an entity-field term should also match (aliases, IDs, refanged forms).

    Called by the engine for each term on an entity field; the raw value is always matched too.
    """
    from index.extract.iocs import refang

    knowledge = get_knowledge()
    value = value.strip()
    found: list[str | None] = []
    try:
        if fieldname == "actor":
            found.append(knowledge.canonical_actor(value))
        elif fieldname == "victim":
            found.append(knowledge.canonical_victim(value))
        elif fieldname == "malware":
            found.append(knowledge.canonical_malware(value))
        elif fieldname == "technique" and not is_technique_id(value):
            found.extend(knowledge.technique_ids(value))
        elif fieldname == "ioc":
            found.append(refang(value))
        elif fieldname == "source":
            found.append(value.removeprefix("www."))
    except Exception:  # knowledge is best effort; the raw term still matches
        found = []
    return [value.lower(), *(term.lower() for term in found if term)]


#: What a filter is keyed by → the field a user would type: catalog facets (``tag``, ``actor``, …) and entity
#: kinds (``ACTOR``, ``VULN``, …). Indicators are left out on purpose: they are searched as a quoted phrase.
FILTER_FIELDS: Mapping[str, str] = {
    "tag": "tag",
    "own_tag": "tag",  # the user's own tag: tag: matches own tags as well as the posts' tags
    **{BY_KIND[kind].field: BY_KIND[kind].query_field for kind in FACET_KINDS},
    **{info.kind: info.query_field for info in KINDS if info.kind != "IOC"},
}


def filter_term(kind: str, value: str) -> str:
    """One facet or entity as a query term: ``tag:"China"``, ``technique:T1566``; IoCs as a quoted phrase."""
    field_name = FILTER_FIELDS.get(kind)
    if field_name == "technique" and (found := technique_id(value)):
        return f"technique:{found}"
    cleaned = " ".join(value.replace('"', " ").split())
    if field_name is None:
        return f'"{cleaned}"'
    return f'{field_name}:"{cleaned}"'


def compose_query(text: str, filters: Sequence[tuple[str, str]]) -> str:
    """The user's query AND every active filter (``(kind, value)`` pairs, as :func:`filter_term` takes them)."""
    text = text.strip()
    terms = [filter_term(kind, value) for kind, value in filters]
    if not terms:
        return text
    if text:
        terms.insert(0, f"({text})")
    return " ".join(terms)

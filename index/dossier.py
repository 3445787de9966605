"""The entity dossier: what the knowledge base says about one actor, victim, technique or malware family, and
what this library says (first and last seen, posts per month, what it appears with, its posts).

Built from catalog rows alone (one pass, no post files), so it answers in tens of milliseconds at 100k
posts; the galaxy description is a separate call (:func:`describe`) because it reads a JSON file the first
time.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, compress, repeat
from operator import attrgetter, contains, not_
from typing import Any

from index.catalog import PostRow
from index.knowledge import Knowledge, galaxy, get_knowledge, key_of
from index.vocabulary import BY_KIND, Kind, is_technique_id

#: Kinds a dossier can be about, in the order a bare name is resolved.
DOSSIER_KINDS: tuple[Kind, ...] = ("ACTOR", "VICTIM", "TECHNIQUE", "MALWARE")
_FIELDS: dict[Kind, str] = {"ACTOR": "actors", "VICTIM": "victims", "TECHNIQUE": "techniques", "MALWARE": "malware"}
#: Co-occurring entities listed per kind.
TOP = 10


@dataclass(frozen=True, slots=True)
class Dossier:
    """One entity and its footprint in the library. ``posts`` are post ids, newest first."""

    kind: Kind
    name: str  # canonical name; a technique's ATT&CK ID
    label: str  # what to show: the name, or "T1566.001 Spearphishing Attachment"
    aliases: tuple[str, ...]
    country: str  # an actor's attributed country, or ""
    ref: str  # MISP uuid (actor, malware), ATT&CK ID (technique), or ""
    attack_id: str  # an actor's ATT&CK group ID, or ""
    first_seen: datetime | None
    last_seen: datetime | None
    months: tuple[tuple[str, int], ...]  # ("2018-07", posts), every month from first to last seen
    related: dict[Kind, tuple[tuple[str, int], ...]] = field(default_factory=dict)  # kind → (name, posts), most first
    posts: tuple[str, ...] = ()
    undated: int = 0

    def to_json(self, description: str = "", titles: dict[str, PostRow] | None = None) -> dict[str, Any]:
        """A JSON-ready dict (post rows give the posts their titles, dates and URLs)."""
        rows = titles or {}
        return {
            "kind": BY_KIND[self.kind].label,
            "name": self.name,
            "label": self.label,
            "aliases": list(self.aliases),
            "country": self.country or None,
            "ref": self.ref or None,
            "attack_id": self.attack_id or None,
            "description": description or None,
            "first_seen": self.first_seen.date().isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.date().isoformat() if self.last_seen else None,
            "posts_per_month": dict(self.months),
            "undated_posts": self.undated,
            "related": {
                BY_KIND[kind].label: [{"name": n, "posts": c} for n, c in items] for kind, items in self.related.items()
            },
            "posts": [_post_json(post_id, rows.get(post_id)) for post_id in self.posts],
        }


def _post_json(post_id: str, row: PostRow | None) -> dict[str, Any]:
    if row is None:
        return {"id": post_id}
    return {
        "id": post_id,
        "title": row.title,
        "date": row.date.date().isoformat() if row.date else None,
        "url": row.url,
    }


def _naming(kind: Kind, name: str, rows: Iterable[PostRow]) -> Iterator[bool]:
    """For each row, whether it names the entity; a technique also through its sub-techniques (as search
    does). Built from C-level maps and membership tests, so a pass over 100k rows runs no Python per row."""
    values = map(attrgetter(_FIELDS[kind]), rows)
    if kind == "TECHNIQUE":
        prefix = name + "."
        wanted = frozenset({name, *(t for t in get_knowledge().techniques if t.startswith(prefix))})
        return map(not_, map(wanted.isdisjoint, values))
    return map(contains, values, repeat(name))


def _in_library(kind: Kind, name: str, rows: Iterable[PostRow]) -> str | None:
    """The catalog's spelling of ``name`` for ``kind`` (case-insensitive), if any post names it."""
    wanted = key_of(name)
    attribute = _FIELDS[kind]
    for row in rows:
        for value in getattr(row, attribute):
            if key_of(value) == wanted:
                return str(value)
    return None


def _candidate(kind: Kind, name: str, knowledge: Knowledge) -> str | None:
    if kind == "ACTOR":
        return knowledge.canonical_actor(name)
    if kind == "VICTIM":
        return knowledge.canonical_victim(name)
    if kind == "TECHNIQUE":
        ids = knowledge.technique_ids(name)
        return ids[0] if ids else (name.strip().upper() if is_technique_id(name) else None)
    return knowledge.canonical_malware(name)


def resolve(name: str, rows: Sequence[PostRow], kind: Kind | None = None) -> tuple[Kind, str] | None:
    """(kind, canonical name) for what the user typed: actor first, then victim, technique, malware.

    A knowledge-base name that some post names wins over one no post names; a name the knowledge base does
    not know (an organisation, an unlisted actor) is found in the catalog as written.
    """
    knowledge = get_knowledge()
    kinds = (kind,) if kind else DOSSIER_KINDS
    known: list[tuple[Kind, str]] = []
    for each in kinds:
        candidate = _candidate(each, name, knowledge)
        if candidate is not None:
            known.append((each, candidate))
    for each, candidate in known:
        if any(_naming(each, candidate, rows)):
            return each, candidate
    for each in kinds:
        found = _in_library(each, name, rows)
        if found is not None:
            return each, found
    return known[0] if known else None


def _months(dates: Sequence[datetime]) -> tuple[tuple[str, int], ...]:
    if not dates:
        return ()
    counts = Counter(map(attrgetter("year", "month"), dates))
    first, last = min(counts), max(counts)
    return tuple(
        (f"{index // 12:04d}-{index % 12 + 1:02d}", counts.get((index // 12, index % 12 + 1), 0))
        for index in range(first[0] * 12 + first[1] - 1, last[0] * 12 + last[1])
    )


def build(kind: Kind, name: str, rows: Sequence[PostRow]) -> Dossier:
    """The dossier of ``name`` over ``rows`` (newest first, as the catalog keeps them)."""
    knowledge = get_knowledge()
    mine = list(compress(rows, _naming(kind, name, rows)))
    related: dict[Kind, tuple[tuple[str, int], ...]] = {}
    for each, attribute in _FIELDS.items():  # a row lists each entity once, so counts are posts
        counter = Counter(chain.from_iterable(map(attrgetter(attribute), mine)))
        if each == kind:  # the entity itself (and a technique's own sub-techniques) is not its own company
            for value in [v for v in counter if v == name or (kind == "TECHNIQUE" and v.startswith(name + "."))]:
                del counter[value]
        if counter:
            related[each] = tuple(heapq.nsmallest(TOP, counter.items(), key=lambda item: (-item[1], item[0])))
    dates: list[datetime] = list(filter(None, map(attrgetter("date"), mine)))
    aliases: tuple[str, ...] = ()
    country = ref = attack_id = ""
    label = name
    if kind == "ACTOR":
        actor = knowledge.actors.get(name)
        if actor is not None:
            aliases, country, ref, attack_id = actor.aliases, actor.country or "", actor.uuid, actor.attack_id
    elif kind == "TECHNIQUE":
        ref, label = name, knowledge.technique_label(name)
    elif kind == "MALWARE":
        found = knowledge.malware.get(key_of(name))
        ref = found[1] if found else ""
    return Dossier(
        kind=kind,
        name=name,
        label=label,
        aliases=aliases,
        country=country,
        ref=ref,
        attack_id=attack_id,
        first_seen=min(dates) if dates else None,
        last_seen=max(dates) if dates else None,
        months=_months(dates),
        related=related,
        posts=tuple(map(attrgetter("post_id"), mine)),
        undated=len(mine) - len(dates),
    )


def describe(dossier: Dossier) -> str:
    """The knowledge base's description: the MISP galaxy's for actors and malware, ATT&CK's for techniques."""
    if dossier.kind == "TECHNIQUE":
        return galaxy.technique_description(dossier.name)
    if dossier.kind in ("ACTOR", "MALWARE"):
        return galaxy.description(dossier.ref)
    return ""


def sparkline(counts: Sequence[int]) -> str:
    """Block characters, one per value, scaled to the largest (a zero is a space-like lowest block)."""
    blocks = " ▁▂▃▄▅▆▇█"
    top = max(counts, default=0)
    if top <= 0:
        return " " * len(counts)
    return "".join(blocks[0 if value <= 0 else max(1, round(value / top * 8))] for value in counts)

"""The entity dossier: what the knowledge base says about one actor, victim, technique or malware family, and
what this library says (first and last seen, posts per month, what it appears with, its posts).

Built from catalog rows alone (one pass, no post files), so it answers in tens of milliseconds at 100k
posts; the galaxy description is a separate call (:func:`describe`) because it reads a JSON file the first
time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
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
            "kind": BY_KIND[self.kind].label, "name": self.name, "label": self.label, "aliases": list(self.aliases),
            "country": self.country or None, "ref": self.ref or None, "attack_id": self.attack_id or None,
            "description": description or None,
            "first_seen": self.first_seen.date().isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.date().isoformat() if self.last_seen else None,
            "posts_per_month": dict(self.months), "undated_posts": self.undated,
            "related": {BY_KIND[kind].label: [{"name": n, "posts": c} for n, c in items]
                        for kind, items in self.related.items()},
            "posts": [_post_json(post_id, rows.get(post_id)) for post_id in self.posts],
        }


def _post_json(post_id: str, row: PostRow | None) -> dict[str, Any]:
    if row is None:
        return {"id": post_id}
    return {"id": post_id, "title": row.title, "date": row.date.date().isoformat() if row.date else None,
            "url": row.url}


def _matcher(kind: Kind, name: str) -> Callable[[PostRow], bool]:
    """Whether a row names the entity; a technique also matches through its sub-techniques (as search does)."""
    if kind == "TECHNIQUE":
        prefix = name + "."
        return lambda row: any(t == name or t.startswith(prefix) for t in row.techniques)
    attribute = _FIELDS[kind]
    return lambda row: name in getattr(row, attribute)


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
        match = _matcher(each, candidate)
        if any(match(row) for row in rows):
            return each, candidate
    for each in kinds:
        found = _in_library(each, name, rows)
        if found is not None:
            return each, found
    return known[0] if known else None


def _months(dates: Sequence[datetime]) -> tuple[tuple[str, int], ...]:
    if not dates:
        return ()
    counts = Counter(f"{d.year:04d}-{d.month:02d}" for d in dates)
    first, last = min(dates), max(dates)
    year, month = first.year, first.month
    months: list[tuple[str, int]] = []
    while (year, month) <= (last.year, last.month):
        key = f"{year:04d}-{month:02d}"
        months.append((key, counts.get(key, 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(months)


def build(kind: Kind, name: str, rows: Sequence[PostRow]) -> Dossier:
    """The dossier of ``name`` over ``rows`` (newest first, as the catalog keeps them)."""
    knowledge = get_knowledge()
    match = _matcher(kind, name)
    mine = [row for row in rows if match(row)]
    related: dict[Kind, Counter[str]] = {each: Counter() for each in DOSSIER_KINDS}
    for row in mine:
        for each, attribute in _FIELDS.items():
            values = set(getattr(row, attribute))
            if each == kind:
                values.discard(name)
                if kind == "TECHNIQUE":
                    values = {v for v in values if not v.startswith(name + ".")}
            related[each].update(values)
    dates = [row.date for row in mine if row.date is not None]
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
        kind=kind, name=name, label=label, aliases=aliases, country=country, ref=ref, attack_id=attack_id,
        first_seen=min(dates) if dates else None, last_seen=max(dates) if dates else None, months=_months(dates),
        related={each: tuple(sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:TOP])
                 for each, counter in related.items() if counter},
        posts=tuple(row.post_id for row in mine), undated=len(mine) - len(dates),
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

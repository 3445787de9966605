"""A STIX 2.1 bundle of a result set, built with the ``stix2`` library and written object by object.

One ``report`` per post; one object per entity however many posts name it: ``intrusion-set`` (aliases,
MISP uuid and ATT&CK group as external references), ``attack-pattern`` (ATT&CK reference), ``malware``,
``vulnerability``, ``location`` (countries) or ``identity`` (sectors, organisations, the post's source), an
``indicator`` per refanged IoC, and a ``targets`` relationship from each actor to each victim a post names
with it. Every id is a UUIDv5 of a stable key and every timestamp is fixed or the post's date, so exporting
the same posts again writes the same objects.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TextIO

import stix2

from index.catalog import PostRow
from index.export.gather import Indicators, Progress, content_digest, indicators_of, map_posts, stable_id, text
from index.knowledge import get_knowledge
from index.vocabulary import technique_id

#: ``created``/``modified`` of every object that is not a report: entity objects describe the knowledge base,
#: not a moment, and a fixed time keeps re-exports identical.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HASH_PATHS = {"md5": "file:hashes.MD5", "sha1": "file:hashes.'SHA-1'", "sha256": "file:hashes.'SHA-256'"}
_VALUE_PATHS = {"ipv4": "ipv4-addr:value", "ipv6": "ipv6-addr:value", "domain": "domain-name:value",
                "url": "url:value", "email": "email-addr:value"}  # fmt: skip


def pattern(kind: str, value: str) -> str | None:
    """The STIX pattern that matches one refanged indicator, or None for a type STIX cannot express."""
    path = _HASH_PATHS.get(kind) or _VALUE_PATHS.get(kind)
    if path is None:
        return None
    quoted = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"[{path} = '{quoted}']"


def _sid(kind: str, *key: str) -> str:
    return f"{kind}--{stable_id(kind, *key)}"


def _common() -> dict[str, Any]:
    return {"created": EPOCH, "modified": EPOCH, "allow_custom": False}


class _Objects:
    """Entity objects made once each, keyed by their deterministic id."""

    def __init__(self) -> None:
        self.knowledge = get_knowledge()
        self.made: set[str] = set()

    def _new(self, ident: str) -> bool:
        if ident in self.made:
            return False
        self.made.add(ident)
        return True

    def actor(self, name: str) -> tuple[str, Any | None]:
        ident = _sid("intrusion-set", name)
        if not self._new(ident):
            return ident, None
        info = self.knowledge.actors.get(name)
        references: list[dict[str, str]] = []
        aliases: list[str] = []
        if info is not None:
            aliases = [text(alias, 200) for alias in info.aliases if alias != info.attack_id]
            references.append(
                {
                    "source_name": "misp-galaxy",
                    "external_id": info.uuid,
                    "description": "MISP galaxy threat-actor cluster uuid",
                }
            )
            if info.attack_id:
                references.append(
                    {
                        "source_name": "mitre-attack",
                        "external_id": info.attack_id,
                        "url": f"https://attack.mitre.org/groups/{info.attack_id}/",
                    }
                )
        return ident, stix2.IntrusionSet(
            id=ident, name=text(name, 200), aliases=aliases or None, external_references=references or None, **_common()
        )

    def technique(self, attack_id: str) -> tuple[str, Any | None]:
        ident = _sid("attack-pattern", attack_id)
        if not self._new(ident):
            return ident, None
        url = "https://attack.mitre.org/techniques/" + attack_id.replace(".", "/") + "/"
        return ident, stix2.AttackPattern(
            id=ident,
            name=text(self.knowledge.technique_name(attack_id), 200),
            external_references=[{"source_name": "mitre-attack", "external_id": attack_id, "url": url}],
            **_common(),
        )

    def malware(self, name: str) -> tuple[str, Any | None]:
        ident = _sid("malware", name)
        if not self._new(ident):
            return ident, None
        return ident, stix2.Malware(id=ident, name=text(name, 200), is_family=True, **_common())

    def vulnerability(self, cve: str) -> tuple[str, Any | None]:
        ident = _sid("vulnerability", cve)
        if not self._new(ident):
            return ident, None
        return ident, stix2.Vulnerability(
            id=ident,
            name=text(cve, 40),
            external_references=[{"source_name": "cve", "external_id": text(cve, 40)}],
            **_common(),
        )

    def victim(self, name: str) -> tuple[str, Any | None]:
        role = self.knowledge.victim_role(name)
        if role == "country":
            ident = _sid("location", name)
            if not self._new(ident):
                return ident, None
            code = self.knowledge.country_code(name)
            extra = {"country": code} if code else {"region": "unknown"}
            return ident, stix2.Location(id=ident, name=text(name, 200), **extra, **_common())
        ident = _sid("identity", role, name)
        if not self._new(ident):
            return ident, None
        identity_class = "class" if role == "sector" else "organization"
        return ident, stix2.Identity(id=ident, name=text(name, 200), identity_class=identity_class, **_common())

    def source(self, host: str) -> tuple[str, Any | None]:
        ident = _sid("identity", "source", host)
        if not self._new(ident):
            return ident, None
        name = text(host, 200) or "unknown source"
        return ident, stix2.Identity(id=ident, name=name, identity_class="organization", **_common())

    def indicator(self, kind: str, value: str) -> tuple[str, Any | None]:
        ident = _sid("indicator", kind, value)
        if not self._new(ident):
            return ident, None
        found = pattern(kind, value)
        if found is None:
            return ident, None
        return ident, stix2.Indicator(
            id=ident,
            name=text(value, 300),
            pattern=found,
            pattern_type="stix",
            indicator_types=["malicious-activity"],
            valid_from=EPOCH,
            **_common(),
        )

    def targets(self, actor: str, actor_ref: str, victim: str, victim_ref: str) -> tuple[str, Any | None]:
        ident = _sid("relationship", "targets", actor, victim)
        if not self._new(ident):
            return ident, None
        return ident, stix2.Relationship(
            id=ident, relationship_type="targets", source_ref=actor_ref, target_ref=victim_ref, **_common()
        )


def post_objects(post: Indicators, objects: _Objects) -> Iterator[Any]:
    """The new entity objects of one post, then its report (which refers to every one of them)."""
    row = post.row
    refs: list[str] = []

    def add(made: tuple[str, Any | None]) -> Iterator[Any]:
        ident, obj = made
        refs.append(ident)
        if obj is not None:
            yield obj

    actor_refs = []
    for actor in row.actors:
        yield from add(objects.actor(actor))
        actor_refs.append((actor, refs[-1]))
    for technique in row.techniques:
        attack_id = technique_id(technique)
        if attack_id:
            yield from add(objects.technique(attack_id))
    for name in row.malware:
        yield from add(objects.malware(name))
    for cve in row.vulns:
        yield from add(objects.vulnerability(cve))
    for victim in row.victims:
        yield from add(objects.victim(victim))
        victim_ref = refs[-1]
        for actor, actor_ref in actor_refs:
            yield from add(objects.targets(actor, actor_ref, victim, victim_ref))
    for kind, value in post.values:
        if pattern(kind, value) is not None:
            yield from add(objects.indicator(kind, value))
    source_ref, source = objects.source(row.source)
    if source is not None:
        yield source
    published = row.date.replace(tzinfo=UTC) if row.date is not None else EPOCH
    references = [{"source_name": text(row.source, 200) or "source", "url": text(row.url, 2000)}] if row.url else None
    yield stix2.Report(
        id=_sid("report", row.post_id),
        name=text(row.title) or text(row.post_id),
        published=published,
        created=published,
        modified=published,
        report_types=["threat-report"],
        object_refs=list(dict.fromkeys(refs)) or [source_ref],
        created_by_ref=source_ref,
        external_references=references,
        allow_custom=False,
    )


#: Per export (keyed by a random token): the entity objects each process has made, so a worker builds each
#: entity once however many of its posts name it. The parent still drops a second copy made by the other worker.
_MADE: dict[str, _Objects] = {}


def _post_json(root: Path, token: str, row: PostRow) -> list[tuple[str, str]]:
    """(id, JSON) of one post's new objects and its report; runs in worker processes for large exports."""
    objects = _MADE.setdefault(token, _Objects())
    return [(obj.id, obj.serialize()) for obj in post_objects(indicators_of(root, row), objects)]


def write_stix(root: Path, rows: Sequence[PostRow], out: TextIO, progress: Progress | None = None) -> int:
    """Write the bundle for ``rows`` to ``out``, one object per line as its post is read; returns how many
    objects it holds. Reading, extraction and building run in two processes for large sets."""
    bundle_id = f"bundle--{stable_id('bundle', content_digest(rows))}"
    out.write('{"type": "bundle", "id": ' + json.dumps(bundle_id))
    token = uuid.uuid4().hex
    written: set[str] = set()
    try:
        for made in map_posts(rows, partial(_post_json, root, token), progress):
            for ident, serialised in made:
                if ident not in written:
                    out.write((', "objects": [\n' if not written else ",\n") + serialised)
                    written.add(ident)
    finally:
        _MADE.pop(token, None)
    out.write("\n]}\n" if written else "}\n")  # no posts: a bundle without "objects", as STIX allows
    return len(written)

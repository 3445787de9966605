"""Readers over the MISP galaxy clusters shipped by ``pymispgalaxies`` (offline JSON files)."""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from index.knowledge.model import Actor, key_of
from index.vocabulary import TECHNIQUE_NUMBER

_SUFFIX_ID = re.compile(rf"\s+-\s+([TGS]{TECHNIQUE_NUMBER})$")  # technique, group or software ID
_DEPRECATED = ("This object is deprecated", "**This technique has been deprecated")
_WORD = re.compile(r"\b[a-z][a-z-]{2,}\b")


def clusters_dir() -> Path:
    """The folder of galaxy cluster JSON files inside the installed package (found without importing it:
    the package pulls in jsonschema, which costs more than loading our cached knowledge)."""
    spec = importlib.util.find_spec("pymispgalaxies")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("pymispgalaxies is not installed")
    return Path(spec.origin).parent / "data" / "misp-galaxy" / "clusters"


def galaxy_version() -> str:
    """The installed pymispgalaxies version (part of the knowledge cache key)."""
    try:
        return metadata.version("pymispgalaxies")
    except metadata.PackageNotFoundError:
        return "unknown"


@cache
def _values(name: str) -> list[dict[str, Any]]:
    with (clusters_dir() / f"{name}.json").open(encoding="utf-8") as handle:
        values: list[dict[str, Any]] = json.load(handle)["values"]
    return values


def _split_id(value: str) -> tuple[str, str]:
    """``"Phishing - T1566"`` → ``("Phishing", "T1566")``."""
    match = _SUFFIX_ID.search(value)
    if match is None:
        return value.strip(), ""
    return value[: match.start()].strip(), match.group(1)


def _synonyms(value: dict[str, Any]) -> list[str]:
    meta = value.get("meta") or {}
    return [str(item).strip() for item in meta.get("synonyms") or [] if str(item).strip()]


@dataclass(frozen=True, slots=True)
class Technique:
    """One ATT&CK technique or sub-technique; ``domain`` is enterprise, pre (reconnaissance and resource
    development, part of enterprise ATT&CK) or mobile."""

    attack_id: str
    name: str
    tactics: frozenset[str]
    domain: str = "enterprise"


def countries() -> dict[str, tuple[str, str]]:
    """ISO code → (display name, top-level domain without the dot)."""
    table: dict[str, tuple[str, str]] = {}
    for value in _values("country"):
        meta = value.get("meta") or {}
        iso = str(meta.get("ISO", "")).upper()
        name = str(value.get("description") or value.get("value", "")).strip()
        if iso and name:
            table[iso] = (name, str(meta.get("tld", "")).lstrip(".").lower())
    return table


def _domain(chains: list[str]) -> str:
    """The ATT&CK domain of a technique from its kill-chain entries ("attack-Windows:…", "attack-PRE:…")."""
    domains = {str(chain).split(":")[0] for chain in chains}
    if any(domain.startswith("attack-") and domain != "attack-PRE" for domain in domains):
        return "enterprise"
    if "attack-PRE" in domains:
        return "pre"
    return "mobile" if any(domain.startswith("mobile-attack") for domain in domains) else ""


def _retired(value: dict[str, Any]) -> bool:
    return bool(value.get("revoked")) or str(value.get("description", "")).startswith(_DEPRECATED)


def techniques() -> list[Technique]:
    """Current ATT&CK techniques (enterprise, PRE and mobile); deprecated and revoked ones skipped."""
    found: list[Technique] = []
    for value in _values("mitre-attack-pattern"):
        if _retired(value):
            continue
        name, attack_id = _split_id(str(value["value"]))
        chains = (value.get("meta") or {}).get("kill_chain") or []
        domain = _domain(chains)
        if attack_id and domain:
            found.append(Technique(attack_id, name, frozenset(str(chain).split(":")[-1] for chain in chains), domain))
    return found


def revocations() -> dict[str, str]:
    """Revoked ATT&CK ID → the current ID ATT&CK replaced it with (chains of revocations followed)."""
    by_uuid = {str(value["uuid"]): value for value in _values("mitre-attack-pattern")}
    successor: dict[str, str] = {}
    for value in by_uuid.values():
        targets = [str(r.get("dest-uuid")) for r in value.get("related") or [] if r.get("type") == "revoked-by"]
        if value.get("revoked") and targets and targets[0] in by_uuid:
            successor[str(value["uuid"])] = targets[0]
    replaced: dict[str, str] = {}
    for uuid in sorted(successor):
        current, seen = successor[uuid], {uuid}
        while current in successor and current not in seen:
            seen.add(current)
            current = successor[current]
        old_id, new_id = _split_id(str(by_uuid[uuid]["value"]))[1], _split_id(str(by_uuid[current]["value"]))[1]
        if old_id and new_id and not _retired(by_uuid[current]):
            replaced.setdefault(old_id, new_id)
    return replaced


def actors(country_names: dict[str, str]) -> list[Actor]:
    """Threat actors from threat-actor.json, with ATT&CK groups merged in where names or links overlap."""
    merged: dict[str, dict[str, Any]] = {}
    by_key: dict[str, str] = {}
    for value in _values("threat-actor"):
        uuid = str(value["uuid"])
        meta = value.get("meta") or {}
        iso = str(meta.get("country") or "").upper()
        names = [str(value["value"]).strip(), *_synonyms(value)]
        merged[uuid] = {"name": names[0], "country": country_names.get(iso), "names": names, "id": ""}
        for name in names:
            by_key.setdefault(key_of(name), uuid)
    for value in _values("mitre-intrusion-set"):
        name, attack_id = _split_id(str(value["value"]))
        names = [name, *_synonyms(value), attack_id]
        linked = [str(r["dest-uuid"]) for r in value.get("related") or [] if str(r.get("dest-uuid")) in merged]
        target = next(iter(linked), None) or next((by_key[k] for n in names if (k := key_of(n)) in by_key), None)
        if target is None:
            target = str(value["uuid"])
            merged[target] = {"name": name, "country": None, "names": [], "id": attack_id}
        entry = merged[target]
        entry["id"] = entry["id"] or attack_id
        for alias in names:
            if alias and key_of(alias) not in {key_of(n) for n in entry["names"]}:
                entry["names"].append(alias)
            by_key.setdefault(key_of(alias), target)
    return [
        Actor(e["name"], uuid, e["country"], tuple(n for n in e["names"][1:] if n != e["name"]), e["id"])
        for uuid, e in merged.items()
    ]


def malware() -> list[tuple[str, str, list[str]]]:
    """(canonical name, uuid, aliases) from Malpedia and the ATT&CK software galaxies."""
    found: list[tuple[str, str, list[str]]] = []
    for galaxy in ("mitre-malware", "mitre-tool", "malpedia"):
        for value in _values(galaxy):
            name, _ = _split_id(str(value["value"]))
            found.append((name, str(value["uuid"]), _synonyms(value)))
    return found


def common_words() -> frozenset[str]:
    """Words the galaxy descriptions use in lower case: names equal to one of them are ambiguous."""
    counts: Counter[str] = Counter()
    for galaxy in ("threat-actor", "mitre-attack-pattern", "mitre-malware", "mitre-intrusion-set", "malpedia"):
        for value in _values(galaxy):
            counts.update(_WORD.findall(str(value.get("description", ""))))
    return frozenset(word for word, count in counts.items() if count >= 2)


_DESCRIBED = ("threat-actor", "mitre-intrusion-set", "malpedia", "mitre-malware", "mitre-tool")


@cache
def _descriptions() -> dict[str, str]:
    by_uuid: dict[str, str] = {}
    for galaxy in _DESCRIBED:
        for value in _values(galaxy):
            described = str(value.get("description") or "").strip()
            if described:
                by_uuid.setdefault(str(value["uuid"]), described)
    return by_uuid


@cache
def _technique_descriptions() -> dict[str, str]:
    found: dict[str, str] = {}
    for value in _values("mitre-attack-pattern"):
        _, attack_id = _split_id(str(value["value"]))
        described = str(value.get("description") or "").strip()
        if attack_id and described and not described.startswith(_DEPRECATED):
            found.setdefault(attack_id, described)
    return found


def description(uuid: str) -> str:
    """The galaxy description of an actor or a malware family by its MISP uuid, or ``""`` (reads the JSON once)."""
    return _descriptions().get(uuid, "") if uuid else ""


def technique_description(attack_id: str) -> str:
    """The ATT&CK description of a technique ID, or ``""``."""
    return _technique_descriptions().get(attack_id.upper(), "")

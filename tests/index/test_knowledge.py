"""Entity knowledge: galaxy loaders, curated tables, lookups and the on-disk cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ahocorasick
import pytest

from index.knowledge import Knowledge, curated, get_knowledge, key_of
from index.knowledge import disk as disk_module
from index.knowledge.build import KnowledgeError, build_knowledge
from index.knowledge.disk import cache_key, cache_path, load_knowledge


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return get_knowledge()


@pytest.mark.parametrize("alias", ["TEMP.Periscope", "Leviathan", "APT40", "apt40", "temp.periscope", "G0065"])
def test_aliases_resolve_to_one_actor(knowledge: Knowledge, alias: str) -> None:
    assert knowledge.canonical_actor(alias) == "APT40"


def test_actor_details(knowledge: Knowledge) -> None:
    assert knowledge.actor_country("APT40") == "China"
    assert knowledge.actor_country("TEMP.Periscope") == "China"
    assert "TEMP.Periscope" in knowledge.actor_aliases("APT40")
    assert knowledge.actor_ref("APT40") == "5b4b6980-3bc7-11e8-84d6-879aaac37dd9"
    assert knowledge.canonical_actor("Fancy Bear") == "APT28"
    assert knowledge.canonical_actor("Hidden Cobra") == "Lazarus Group"
    assert knowledge.canonical_actor("no such group") is None


def test_attack_groups_merge_into_galaxy_actors(knowledge: Knowledge) -> None:
    # ATT&CK lists "Threat Group-3390" with APT27 among its names: one actor, not two.
    assert knowledge.canonical_actor("Threat Group-3390") == knowledge.canonical_actor("APT27")


def test_technique_lookups(knowledge: Knowledge) -> None:
    assert knowledge.technique_ids("T1566.001") == ["T1566.001"]
    assert knowledge.technique_ids("t1566") == ["T1566"]
    assert knowledge.technique_ids("phishing") == ["T1566"]
    assert knowledge.technique_ids("watering hole") == ["T1189"]
    assert knowledge.technique_ids("Spearphishing Attachment") == ["T1566.001"]
    assert knowledge.technique_ids("password spraying") == ["T1110.003"]
    assert knowledge.technique_name("T1566.001") == "Spearphishing Attachment"
    assert knowledge.technique_name("T9999") == "T9999"


def test_deprecated_techniques_are_skipped(knowledge: Knowledge) -> None:
    assert "T1193" not in knowledge.techniques  # the old "Spearphishing Attachment"
    assert knowledge.technique_ids("T1193") == []


def test_curated_ids_follow_attack_revocations(knowledge: Knowledge) -> None:
    # techniques.yaml lists DLL side-loading under T1574.002, which ATT&CK revoked in favour of T1574.001
    assert knowledge.technique_ids("DLL side-loading") == ["T1574.001"]
    assert knowledge.technique_ids("typosquatting") == ["T1583.001"]  # PRE techniques are known by ID
    assert knowledge.technique_ids("smishing") == ["T1660"]  # mobile ones too
    assert knowledge.technique_ids("Phishing") == ["T1566"]  # mobile names never shadow enterprise ones


def test_unknown_curated_id_fails_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    real = curated.load

    def with_unknown(name: str) -> dict[str, Any]:
        data = real(name)
        if name == "techniques":
            data["techniques"] = [*data["techniques"], {"id": "T9998", "phrases": ["made-up technique"]}]
            data["actions"] = [*data["actions"], {"id": "T9997", "verbs": ["frobbed"], "objects": ["widgets"]}]
        return data

    monkeypatch.setattr(curated, "load", with_unknown)
    with pytest.raises(KnowledgeError, match="T9997, T9998"):
        build_knowledge()


def test_victim_and_malware_lookups(knowledge: Knowledge) -> None:
    assert knowledge.canonical_victim("Cambodian") == "Cambodia"
    assert knowledge.canonical_victim("U.S.") == "United States"
    assert knowledge.canonical_victim("North Korean") == "North Korea"
    assert knowledge.canonical_victim("banks") == "Finance"
    assert knowledge.canonical_victim("energy companies") == "Energy"
    assert knowledge.canonical_malware("Korplug") == "PlugX"
    assert knowledge.canonical_malware("mimikatz") == "Mimikatz"


def test_sources_are_known(knowledge: Knowledge) -> None:
    for name in ("FireEye", "Mandiant", "Unit 42", "Department of Justice", "CISA"):
        assert knowledge.is_source(name), name


def test_key_of_keeps_lookups_loose() -> None:
    assert key_of("TEMP.Periscope") == "temp periscope"
    assert key_of("  Spear-Phishing  ") == "spear phishing"


def _tiny() -> Knowledge:
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    automaton.add_word(" x ", 0)
    automaton.make_automaton()
    return Knowledge(automaton=automaton, techniques={"T0000": "tiny"})


def test_cache_is_written_then_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[int] = []

    def build() -> Knowledge:
        builds.append(1)
        return _tiny()

    monkeypatch.setattr(disk_module, "build_knowledge", build)
    first = load_knowledge(tmp_path)
    second = load_knowledge(tmp_path)
    assert builds == [1]
    assert cache_path(tmp_path).is_file()
    assert first.techniques == second.techniques == {"T0000": "tiny"}


def test_corrupt_cache_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disk_module, "build_knowledge", _tiny)
    path = cache_path(tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x80\x04not a pickle at all")
    loaded = load_knowledge(tmp_path)
    assert loaded.techniques == {"T0000": "tiny"}
    assert load_knowledge(tmp_path).techniques == {"T0000": "tiny"}  # the rewritten file loads


def test_stale_cache_files_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disk_module, "build_knowledge", _tiny)
    stale = tmp_path / "knowledge-old.pickle"
    stale.write_bytes(b"old")
    load_knowledge(tmp_path)
    assert not stale.exists()


def test_unwritable_cache_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disk_module, "build_knowledge", _tiny)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert load_knowledge(blocker / "sub").techniques == {"T0000": "tiny"}


def test_cache_key_depends_on_data_files(monkeypatch: pytest.MonkeyPatch) -> None:
    before = cache_key()
    monkeypatch.setattr(curated, "data_digest", lambda: "changed")
    assert cache_key() != before

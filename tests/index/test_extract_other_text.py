"""Extraction on prose written the way other people write reports: every sentence here is invented.

Each test pins one family of errors (tactic IDs as actors, revoked technique IDs, hash-seed dependence,
perpetrators as victims, malware aliases as actors, actor/victim/technique families that news-style
rules missed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from index.extract import extract
from index.knowledge import get_knowledge
from index.paths import CACHE_DIR_ENV

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def _knowledge_loaded() -> None:
    get_knowledge()


def _of(text: str, kind: str) -> list[tuple[str, str]]:
    """(surface, canonical or ID) of every mention of one kind."""
    return [(m.text, m.ref if kind == "TECHNIQUE" else m.canonical) for m in extract(text) if m.kind == kind]


def _surfaces(text: str, kind: str) -> list[str]:
    return [surface for surface, _ in _of(text, kind)]


# --- actors ---------------------------------------------------------------------------------------


def test_tactic_ids_are_not_actors() -> None:
    text = "Their playbook covers Initial Access [TA0001] and Execution (TA0002); TA505 ran the same steps."
    assert _of(text, "ACTOR") == [("TA505", "TA505")]


def test_alias_without_its_article_and_before_a_group_noun() -> None:
    assert _of("Dukes operators sent the lures that reached the ministry.", "ACTOR") == [("Dukes", "APT29")]


@pytest.mark.parametrize(
    "text",
    [
        "In a cluster we track as Grimwhale, the intruders breached two ministries. Later, Grimwhale moved on.",
        "An actor dubbed Grimwhale attacked banks in Peru. Grimwhale relied on phishing.",
        "The Grimwhale gang hit a hospital in March. Grimwhale then demanded money.",
    ],
)
def test_names_introduced_by_a_cue_are_actors_wherever_they_recur(text: str) -> None:
    assert _of(text, "ACTOR") == [("Grimwhale", "Grimwhale"), ("Grimwhale", "Grimwhale")]


def test_a_cue_naming_malware_introduces_no_actor() -> None:
    text = "A backdoor dubbed Slipknotter was found. Slipknotter beacons hourly. The Grimwhale backdoor is older."
    assert _of(text, "ACTOR") == []


def test_ransomware_brand_used_as_the_group_is_an_actor() -> None:
    surfaces = _surfaces("Akira affiliates encrypted the file servers of a clinic.", "ACTOR")
    assert surfaces == ["Akira"]


def test_vendor_sharing_an_alias_is_not_an_actor() -> None:
    text = "Leviathan Security Group published an advisory about the breach at a bank."
    assert _of(text, "ACTOR") == []
    assert "Leviathan Security Group" not in _surfaces(text, "VICTIM")


@pytest.mark.parametrize(
    "text",
    [
        "Responders found hosts infected with SeaDuke inside the breached ministry.",
        "The SeaDuke backdoor sat on servers of the breached ministry.",
        "SeaDuke's author reused code from older tools.",
    ],
)
def test_malware_names_that_are_actor_aliases_are_malware_in_malware_context(text: str) -> None:
    assert _of(text, "ACTOR") == []
    assert _surfaces(text, "MALWARE") == ["SeaDuke"]


def test_an_alias_shared_with_malware_is_still_the_actor_outside_malware_context() -> None:
    assert _of("APT29, also called SeaDuke by some, breached the ministry.", "ACTOR")[-1] == ("SeaDuke", "APT29")


# --- victims --------------------------------------------------------------------------------------


def test_regions_are_victim_locations() -> None:
    text = (
        "The campaign targeted telecom operators in Southeast Asia and the Middle East, and firms in Central Asia, "
        "Eastern Europe, APAC and the EU."
    )
    victims = _of(text, "VICTIM")
    for region in ("Southeast Asia", "Middle East", "Central Asia", "Eastern Europe", "APAC", "EU"):
        assert region in [surface for surface, _ in victims]
    assert ("APAC", "Asia-Pacific") in victims and ("EU", "European Union") in victims


def test_regions_as_origin_are_not_victims() -> None:
    assert _surfaces("Eastern European hackers breached a bank.", "VICTIM") == ["bank"]


def test_sector_list_whose_last_item_has_the_head_noun() -> None:
    victims = _of("The crew went after financial, energy, chemical and telecom targets.", "VICTIM")
    assert [canonical for _, canonical in victims] == ["Finance", "Energy", "Manufacturing", "Telecommunications"]


def test_bare_sector_nouns_in_targeting_context() -> None:
    assert _of("It targeted healthcare and manufacturing.", "VICTIM") == [
        ("healthcare", "Health"),
        ("manufacturing", "Manufacturing"),
    ]
    assert _of("The report covers healthcare and manufacturing trends.", "VICTIM") == []


def test_sector_lists_without_a_head_noun_right_after_a_targeting_cue() -> None:
    victims = _of("The crew has been targeting defense, technology and energy in Peru.", "VICTIM")
    assert victims == [("defense", "Defense"), ("technology", "Technology"), ("energy", "Energy"), ("Peru", "Peru")]
    assert _of("Energy prices rose while the crew targeted banks.", "VICTIM") == [("banks", "Finance")]


@pytest.mark.parametrize(
    "text",
    [
        "The banking trojan stole credentials from infected hosts.",
        "A bank fraud module was added to the implant that infected hosts.",
        "The intruders attacked hosts for financial gain.",
    ],
)
def test_sector_words_as_modifiers_are_not_victims(text: str) -> None:
    assert _of(text, "VICTIM") == []


def test_products_and_platforms_are_not_victim_organisations() -> None:
    text = "The attackers compromised Office 365 accounts and WordPress sites and stole AWS keys."
    assert [s for s, _ in _of(text, "VICTIM")] == []


def test_perpetrators_and_sponsors_are_not_victims() -> None:
    text = "Officers of the Hainan State Security Department directed contractors who hacked universities in Peru."
    victims = _surfaces(text, "VICTIM")
    assert "Hainan State Security Department" not in victims
    assert victims == ["universities", "Peru"]


def test_intelligence_and_military_bodies_are_sponsors_not_victims() -> None:
    text = "The Iranian Ministry of Intelligence tasked the crew that breached the Ministry of Energy."
    assert _surfaces(text, "VICTIM") == ["Ministry of Energy"]


def test_a_price_is_not_a_victim_country() -> None:
    assert _of("Access to the breached servers was sold for US $150, or US$2,000 in bulk.", "VICTIM") == []


def test_a_technique_name_holds_no_victim() -> None:
    text = "The implant gathers Data from Local System before it is used against Peru."
    assert ("Data from Local System", "T1005") in _of(text, "TECHNIQUE")
    assert _surfaces(text, "VICTIM") == ["Peru"]


def test_names_that_own_what_was_hit_or_follow_a_descriptor_are_victims() -> None:
    assert _of("Intruders breached Vantorra's internal systems last week.", "VICTIM") == [("Vantorra", "Vantorra")]
    victims = _surfaces("The worm crippled shipping giant Nordhavn and drugmaker Pellicor.", "VICTIM")
    assert "Nordhavn" in victims and "Pellicor" in victims


def test_descriptors_before_a_reporter_or_outside_targeting_are_not_victims() -> None:
    assert _of("Security company Mandiant said the attackers were Chinese after the breach.", "VICTIM") == []
    assert _of("Drugmaker Pellicor opened a new plant in Ohio.", "VICTIM") == []


# --- techniques -----------------------------------------------------------------------------------


def test_revoked_curated_ids_follow_attack() -> None:
    assert _of("The loader relies on DLL side-loading through a signed binary.", "TECHNIQUE") == [
        ("DLL side-loading", "T1574.001")
    ]


@pytest.mark.parametrize(
    ("text", "surface", "attack_id"),
    [
        ("The loader decrypts its payload before running it.", "decrypts its payload", "T1140"),
        ("It then injects the shellcode into explorer.exe.", "injects the shellcode", "T1055"),
        ("The installer side-loads a malicious DLL.", "side-loads a malicious DLL", "T1574.001"),
        ("The implant collects the hostname and uptime.", "collects the hostname", "T1082"),
        ("It records the OS version in a file.", "OS version", "T1082"),
        ("It then ran systeminfo on each host.", "systeminfo", "T1082"),
        ("The script lists running processes every minute.", "lists running processes", "T1057"),
        ("Operators ran ipconfig /all on the server.", "ipconfig /all", "T1016"),
        ("It spawns cmd /c with the argument.", "cmd /c", "T1059.003"),
        ("A batch file starts the loader.", "batch file", "T1059.003"),
        ("The stager downloads and executes the next stage.", "downloads and executes", "T1105"),
        ("The implant communicates with its C2 over HTTP.", "communicates with its C2 over HTTP", "T1071.001"),
        ("The tool sends DNS queries with encoded data.", "sends DNS queries", "T1071.004"),
        ("It disables Windows Defender first.", "disables Windows Defender", "T1562.001"),
        ("The dropper adds a Run key for persistence.", "adds a Run key", "T1547.001"),
        ("It creates a scheduled task named Updater.", "creates a scheduled task", "T1053.005"),
        ("The shellcode calls VirtualAlloc for a buffer.", "VirtualAlloc", "T1106"),
        ("They held a MitM position on the network.", "MitM", "T1557"),
        ("The ransomware encrypted the file servers.", "encrypted the file servers", "T1486"),
        ("Its loader was signed with certificates taken from a vendor.", "signed with certificates", "T1553.002"),
        ("Entry came from exploiting internet-facing gateways.", "exploiting internet-facing", "T1190"),
        ("Traffic is routed through compromised office routers.", "routed through compromised", "T1090"),
    ],
)
def test_procedure_text(text: str, surface: str, attack_id: str) -> None:
    assert (surface, attack_id) in _of(text, "TECHNIQUE")


def test_a_bare_exploited_it_is_not_a_technique() -> None:
    assert _of("The operators exploited it within days.", "TECHNIQUE") == []
    assert _of("The operators exploited a zero-day in days.", "TECHNIQUE")[0][1] in ("T1190", "T1203")


def test_spans_never_cross_a_coordinating_conjunction() -> None:
    text = "They gained access with stolen account credentials or stolen cookies."
    assert _of(text, "TECHNIQUE") == [("stolen account credentials", "T1078"), ("stolen cookies", "T1539")]


# --- determinism ----------------------------------------------------------------------------------

_DUMP = """
import json, sys
from pathlib import Path
from index.extract import extract
from index.posts import Post, PostFile, load_post
root = Path(sys.argv[1])
out = {}
for path in sorted(root.glob("*.md")):
    info = path.stat()
    post = load_post(root, PostFile(path.name, path, info.st_size, info.st_mtime_ns))
    if isinstance(post, Post):
        out[path.name] = [[m.kind, m.start, m.end, m.canonical, m.ref, m.role] for m in extract(post.body)]
out["invented"] = [[m.kind, m.start, m.end, m.ref] for m in extract(sys.argv[2])]
print(json.dumps(out))
"""


def _run_with_seed(seed: str, cache: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONHASHSEED": seed, CACHE_DIR_ENV: str(cache)}
    sentence = "They gained access with stolen account credentials or stolen cookies."
    done = subprocess.run(
        [sys.executable, "-c", _DUMP, str(ROOT / "sample_posts"), sentence],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.slow
def test_output_is_identical_under_any_hash_seed(tmp_path: Path) -> None:
    # Each process builds its own knowledge (a separate cache folder), so the build is compared too.
    first = _run_with_seed("1", tmp_path / "one")
    second = _run_with_seed("2", tmp_path / "two")
    assert len(first) > 10
    assert first == second
    assert [len(list((tmp_path / name / "knowledge").glob("*.pickle"))) for name in ("one", "two")] == [1, 1]
